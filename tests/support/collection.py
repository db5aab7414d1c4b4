"""The suite's size floor: CI fails when fewer tests are collected than the suite holds.

A test file that silently stops being collected (renamed out of `test_*.py`, a class
without the `Test` prefix, an import guard that empties a module) would otherwise
leave CI green with less tested. `tests/.expected_count` holds the number of tests
the whole suite collects; under CI a run of the whole suite that collects fewer
fails. Raise the number in the same commit that adds tests (`python -m pytest
--collect-only -q | tail -1` prints the count); lower it only in a commit that says
which tests were removed and why.
"""

from __future__ import annotations

from pathlib import Path

EXPECTED_COUNT_FILE = Path(__file__).resolve().parents[1] / ".expected_count"


def expected_count(path: Path = EXPECTED_COUNT_FILE) -> int:
    """The committed floor; raises ValueError when the file holds no positive integer."""
    text = path.read_text(encoding="utf-8").strip()
    if not text.isdigit() or int(text) <= 0:
        raise ValueError(f"{path} must hold the suite's test count, found {text!r}")
    return int(text)


def shortfall(collected: int, expected: int) -> str | None:
    """Why a run that collected `collected` tests fails, or None when it holds enough."""
    if collected >= expected:
        return None
    return (
        f"collected {collected} tests but the suite holds {expected} "
        f"({EXPECTED_COUNT_FILE.name}): {expected - collected} tests were not collected"
    )
