"""The suite's size floor: CI fails when fewer tests are collected than the suite holds.

A test file that silently stops being collected (renamed out of `test_*.py`, a class
without the `Test` prefix, an import guard that empties a module) would otherwise
leave CI green with less tested. `tests/.expected_count` holds the number of tests
the whole suite collects; under CI a run of the whole suite (no paths given, or the
`tests` directory itself, as `.ci/run` runs it) that collects fewer fails. A run of
chosen files is not held to the floor. Raise the number in the same commit that adds
tests (`python -m pytest --collect-only -q | tail -1` prints the count); lower it only
in a commit that says which tests were removed and why.
"""

from __future__ import annotations

from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parents[1]
EXPECTED_COUNT_FILE = TESTS_DIR / ".expected_count"


def covers_whole_suite(args: list[str], invoked_in: Path) -> bool:
    """True when the run's path arguments (pytest's `config.args`, which are the
    `testpaths` when none were given) name the tests directory or the repository."""
    roots = {TESTS_DIR, TESTS_DIR.parent}
    paths = [a for a in args if not a.startswith("-")]
    return bool(paths) and all((invoked_in / a).resolve() in roots for a in paths)


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
