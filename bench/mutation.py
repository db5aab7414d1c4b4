"""Mutation testing of the modules where a silent bug costs money or messages.

    python bench/mutation.py                      # the money modules
    python bench/mutation.py --modules all        # every module in TARGETS
    python bench/mutation.py --modules outbox,delivery --fail-under 85
    python bench/mutation.py --modules ledger --survivors   # list what survived

Each module is mutated by cosmic-ray (one mutant at a time, in place, restored
afterwards) and every mutant runs the fast tests that cover that module, stopping
at the first failure. A mutant the tests notice is killed; one they pass with has
survived. The score is killed / (killed + survived); docs/testing.md lists every
survivor with the reason it is accepted.

Mutants that cannot change behaviour are not run, so they do not dilute the score:
operators inside type annotations (never evaluated: every module uses
`from __future__ import annotations`), and the replacements listed in SKIPPED_OPERATORS
(see docs/testing.md for why each one is left out).
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cosmic_ray.work_db import WorkDB, use_db
from cosmic_ray.work_item import TestOutcome, WorkerOutcome, WorkResult

ROOT = Path(__file__).resolve().parents[1]
FORKSERVER = Path(__file__).resolve().parent / "pytest_forkserver.py"
PYTEST_ARGS = ["-x", "-q", "-p", "no:cacheprovider", "--no-cov"]


@dataclass(frozen=True)
class Target:
    """A module to mutate and the tests that judge its mutants."""

    path: str
    tests: tuple[str, ...]
    # A pytest -k expression narrowing the tests (e.g. SQLite only, for speed).
    select: str | None = None


SQLITE_ONLY = "not postgres"

TARGETS: dict[str, Target] = {
    "ledger": Target(
        "agentgraph/domain/ledger.py",
        ("tests/integration/test_wallet_edges.py", "tests/integration/test_domain.py"),
        SQLITE_ONLY,
    ),
    "wallets": Target(
        "agentgraph/domain/wallets.py",
        (
            "tests/integration/test_wallet_edges.py",
            "tests/integration/test_domain.py",
            "tests/integration/test_transfer_rules.py",
        ),
        SQLITE_ONLY,
    ),
    "confirm": Target(
        "agentgraph/tools/confirm.py",
        ("tests/unit/test_confirm_edges.py", "tests/unit/test_confirm.py"),
    ),
    "bookings": Target(
        "agentgraph/domain/bookings.py",
        ("tests/integration/test_booking_edges.py", "tests/integration/test_domain_bookings.py"),
        SQLITE_ONLY,
    ),
    "inbox": Target(
        "agentgraph/runtime/inbox.py",
        ("tests/integration/test_inbox_rules.py", "tests/integration/test_whatsapp_outbox.py"),
    ),
    # test_whatsapp_outbox.py runs the one-statement Postgres commit.
    "outbox": Target(
        "agentgraph/runtime/outbox.py",
        ("tests/integration/test_outbox_rules.py", "tests/integration/test_whatsapp_outbox.py"),
    ),
    "statuses": Target(
        "agentgraph/runtime/statuses.py",
        ("tests/integration/test_outbox_rules.py",),
    ),
    "delivery": Target(
        "agentgraph/runtime/delivery.py",
        ("tests/integration/test_delivery_rules.py",),
    ),
    # test_durability.py runs the Postgres statements.
    "retention": Target(
        "agentgraph/checkpoints/retention.py",
        ("tests/integration/test_retention_rules.py", "tests/integration/test_durability.py"),
    ),
    "signature": Target(
        "agentgraph/whatsapp/signature.py",
        ("tests/unit/test_signature_edges.py", "tests/unit/test_whatsapp_formatting.py"),
    ),
    "ratelimit": Target(
        "agentgraph/runtime/ratelimit.py",
        ("tests/unit/test_ratelimit_windows.py", "tests/integration/test_ratelimit_redis.py"),
    ),
}
GROUPS = {
    "money": ("ledger", "wallets", "confirm", "bookings"),
    "messages": ("inbox", "outbox", "statuses", "delivery", "retention", "signature", "ratelimit"),
    "all": tuple(TARGETS),
}

# cosmic-ray replaces each arithmetic operator by every other one (10 mutants per `+`)
# and each comparison by identity tests too. We keep, per arithmetic operator, the
# mutants a reviewer would fear (its inverse and the int/float mix-ups) and drop
# `==` -> `is` style swaps, whose outcome depends on CPython's small-int and string
# interning rather than on our code.
_KEEP_BINARY = {
    "Add": ("Sub", "Mul"),
    "Sub": ("Add", "Mul"),
    "Mul": ("Div", "Add"),
    "Div": ("Mul", "FloorDiv"),
    "FloorDiv": ("Div", "Mul"),
    "Mod": ("FloorDiv", "Mul"),
    "Pow": ("Mul", "Add"),
}
SKIPPED_OPERATORS = re.compile(
    r"core/ReplaceComparisonOperator_(Eq|NotEq|Lt|LtE|Gt|GtE)_(Is|IsNot)$"
    r"|core/ReplaceComparisonOperator_(Is|IsNot)_(Eq|NotEq|Lt|LtE|Gt|GtE)$"
)


def _skipped_binary(operator: str) -> bool:
    match = re.fullmatch(r"core/ReplaceBinaryOperator_(\w+?)_(\w+)", operator)
    if match is None:
        return False
    source, target = match.groups()
    return target not in _KEEP_BINARY.get(source, ())


def _annotation_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) positions, as (line, column), of every type annotation in `source`."""
    spans = []
    for node in ast.walk(ast.parse(source)):
        annotation: ast.expr | None = None
        if isinstance(node, ast.AnnAssign | ast.arg):
            annotation = node.annotation
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            annotation = node.returns
        if annotation is not None and annotation.end_lineno is not None:
            start = (annotation.lineno, annotation.col_offset)
            end = (annotation.end_lineno, annotation.end_col_offset or 0)
            spans.append((start, end))
    return spans


def _skip_reason(operator: str, at: tuple[int, int], annotations: list) -> str | None:
    if any(start <= at < end for start, end in annotations):
        return "type annotation"
    if SKIPPED_OPERATORS.match(operator) or _skipped_binary(operator):
        return "operator not in the kept set"
    return None


@dataclass
class Score:
    module: str
    mutants: int
    killed: int
    survived: int
    skipped: int
    survivors: list[str]
    seconds: float

    @property
    def score(self) -> float:
        judged = self.killed + self.survived
        return 100.0 * self.killed / judged if judged else 100.0


def _pytest_args(target: Target) -> list[str]:
    args = [*PYTEST_ARGS, *target.tests]
    if target.select:
        args += ["-k", target.select]
    return args


@contextmanager
def _forkserver(socket_path: Path, timeout: float) -> Iterator[None]:
    """A bench/pytest_forkserver.py server on `socket_path` for the duration."""
    server = subprocess.Popen(
        [sys.executable, str(FORKSERVER), "serve", str(socket_path), str(ROOT), str(int(timeout))],
        cwd=ROOT,
        env=_env(),
    )
    try:
        deadline = time.monotonic() + 120
        while not socket_path.exists():
            if server.poll() is not None or time.monotonic() > deadline:
                sys.exit("the pytest fork server did not start")
            time.sleep(0.1)
        yield
    finally:
        server.terminate()
        server.wait()


def _env() -> dict[str, str]:
    # The CI guard (tests/conftest.py) fails any run that deselects tests; a mutant's
    # run is a deliberate subset, so it runs without CI set.
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_ADDOPTS")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run_module(name: str, verbose: bool) -> Score:
    target = TARGETS[name]
    module = ROOT / target.path
    original = module.read_bytes()
    args = _pytest_args(target)
    started = time.monotonic()
    baseline = subprocess.run(
        [sys.executable, "-m", "pytest", *args],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
    )
    if baseline.returncode != 0:
        sys.exit(f"{name}: the tests fail before any mutation:\n{baseline.stdout[-3000:]}")
    # A mutant that makes the tests hang (a loop that never ends) is killed at this.
    timeout = 3 * (time.monotonic() - started) + 10
    with tempfile.TemporaryDirectory(prefix=f"mutation-{name}-") as tmp:
        config = Path(tmp) / "config.toml"
        session = Path(tmp) / "session.sqlite"
        socket_path = Path(tmp) / "pytest.sock"
        command = [sys.executable, str(FORKSERVER), "run", str(socket_path), *args]
        quoted = " ".join(f"'{part}'" for part in command)
        config.write_text(
            "[cosmic-ray]\n"
            f'module-path = "{target.path}"\n'
            f"timeout = {timeout + 5:.0f}\n"
            "excluded-modules = []\n"
            f'test-command = "{quoted}"\n'
            "[cosmic-ray.distributor]\n"
            'name = "local"\n',
            encoding="utf-8",
        )
        cosmic = [str(Path(sys.executable).parent / "cosmic-ray")]
        subprocess.run(
            [*cosmic, "init", str(config), str(session)], cwd=ROOT, check=True, capture_output=True
        )
        spots = _annotation_spans(original.decode("utf-8"))
        with use_db(str(session), WorkDB.Mode.open) as db:
            for item in list(db.pending_work_items):
                mutation = item.mutations[0]
                reason = _skip_reason(mutation.operator_name, mutation.start_pos, spots)
                if reason:
                    db.set_result(
                        item.job_id,
                        WorkResult(worker_outcome=WorkerOutcome.SKIPPED, output=reason),
                    )
        try:
            with _forkserver(socket_path, timeout):
                subprocess.run(
                    [*cosmic, "exec", str(config), str(session)],
                    cwd=ROOT,
                    env=_env(),
                    check=True,
                    capture_output=not verbose,
                )
        finally:
            if module.read_bytes() != original:
                module.write_bytes(original)
        return _score(name, session, time.monotonic() - started)


def _score(name: str, session: Path, seconds: float) -> Score:
    killed = survived = skipped = 0
    survivors: list[str] = []
    with use_db(str(session), WorkDB.Mode.open) as db:
        for item, result in db.completed_work_items:
            mutation = item.mutations[0]
            if result.worker_outcome == WorkerOutcome.SKIPPED:
                skipped += 1
            elif result.test_outcome == TestOutcome.SURVIVED:
                survived += 1
                changed = [
                    line[1:].strip()
                    for line in (result.diff or "").splitlines()
                    if line.startswith("+") and not line.startswith("+++")
                ]
                operator = mutation.operator_name.removeprefix("core/")
                survivors.append(
                    f"{TARGETS[name].path}:{mutation.start_pos[0]} {operator}: "
                    f"{changed[0] if changed else ''}"
                )
            else:
                killed += 1  # includes timeouts and mutants the interpreter refuses
    total = killed + survived + skipped
    return Score(name, total, killed, survived, skipped, sorted(survivors), seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", default="money", help="money, messages, all, or names")
    parser.add_argument("--fail-under", type=float, default=None, help="minimum score (%%)")
    parser.add_argument("--survivors", action="store_true", help="list surviving mutants")
    parser.add_argument("--verbose", action="store_true", help="show cosmic-ray's output")
    args = parser.parse_args()
    names: list[str] = []
    for part in args.modules.split(","):
        names += GROUPS.get(part, (part,))
    unknown = [n for n in names if n not in TARGETS]
    if unknown:
        parser.error(f"unknown modules {unknown}; choose from {', '.join([*GROUPS, *TARGETS])}")
    scores = []
    for name in names:
        score = run_module(name, args.verbose)
        scores.append(score)
        print(
            f"{name}: {score.mutants} mutants, {score.skipped} skipped, {score.killed} killed, "
            f"{score.survived} survived: {score.score:.1f}% ({score.seconds:.0f} s)",
            file=sys.stderr,
            flush=True,
        )
        if args.survivors:
            for survivor in score.survivors:
                print(f"  survived: {survivor}", file=sys.stderr, flush=True)
    print("| module | mutants | skipped | killed | survived | score |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for s in scores:
        print(
            f"| {s.module} | {s.mutants} | {s.skipped} | {s.killed} | {s.survived} "
            f"| {s.score:.1f}% |"
        )
    if args.survivors:
        for s in scores:
            for survivor in s.survivors:
                print(f"survived: {survivor}")
    low = [s.module for s in scores if args.fail_under is not None and s.score < args.fail_under]
    if low:
        print(f"below {args.fail_under:.0f}%: {', '.join(low)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
