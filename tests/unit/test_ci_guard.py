"""The CI guard on the suite's size: fewer collected tests than the committed floor fail."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.collection import EXPECTED_COUNT_FILE, expected_count, shortfall

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


def test_a_partial_run_under_ci_fails_although_its_tests_pass():
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"} | {"CI": "true"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/unit/test_heap.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == pytest.ExitCode.TESTS_FAILED, done.stdout + done.stderr
    assert " passed" in done.stdout and " failed" not in done.stdout
    assert "tests were not collected" in done.stdout
