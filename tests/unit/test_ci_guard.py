"""The CI guard on the suite's size: fewer collected tests than the committed floor fail."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.collection import (
    EXPECTED_COUNT_FILE,
    covers_whole_suite,
    expected_count,
    shortfall,
)

ROOT = Path(__file__).resolve().parents[2]


def test_a_run_with_enough_tests_passes_the_floor():
    assert shortfall(412, 412) is None
    assert shortfall(413, 412) is None


def test_a_run_with_fewer_tests_says_how_many_are_missing():
    assert shortfall(400, 412) == (
        "collected 400 tests but the suite holds 412 (.expected_count): 12 tests were not collected"
    )


def test_the_floor_file_must_hold_a_positive_count(tmp_path):
    path = tmp_path / ".expected_count"
    path.write_text("523\n")
    assert expected_count(path) == 523
    for bad in ("", "zero", "-3", "0", "12.5"):
        path.write_text(bad)
        with pytest.raises(ValueError, match="must hold the suite's test count"):
            expected_count(path)


def test_the_committed_floor_is_readable():
    assert expected_count(EXPECTED_COUNT_FILE) > 500


def test_only_a_run_of_the_whole_suite_is_held_to_the_floor():
    assert covers_whole_suite(["tests"], ROOT)
    assert covers_whole_suite(["."], ROOT)
    assert covers_whole_suite(["../tests/"], ROOT / "docs")
    assert not covers_whole_suite(["tests/unit"], ROOT)
    assert not covers_whole_suite(["tests", "tests/unit/test_heap.py"], ROOT)
    assert not covers_whole_suite([], ROOT)


def _collect_under_ci(*extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"} | {"CI": "true"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--collect-only", *extra],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_a_whole_suite_run_missing_a_file_fails_under_ci():
    """The suite as CI runs it (no paths: pytest's testpaths) with a directory that is
    not collected fails; without the gap the same run passes, so the floor is not above
    what the suite holds."""
    gap = _collect_under_ci("--ignore=tests/e2e")
    assert gap.returncode == pytest.ExitCode.TESTS_FAILED, gap.stdout[-2000:] + gap.stderr
    assert "tests were not collected; failing the run" in gap.stdout
    whole = _collect_under_ci()
    assert whole.returncode == pytest.ExitCode.OK, whole.stdout[-2000:] + whole.stderr
