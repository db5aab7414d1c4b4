"""The house rules a review would otherwise check by hand: layers, sizes, dependencies.

- Imports run one way (the import-linter contracts in pyproject.toml, run here so a
  test run catches a back-import, not only CI's lint step).
- No library module is longer than 400 lines.
- Every declared dependency is used: a runtime dependency is imported by the library
  or the server, a dev dependency by the tests or benchmarks, or it is a tool whose
  use is named below and found where it is said to be used.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import tomllib
from functools import cache
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ("agentgraph", "server", "graphs")
MAX_MODULE_LINES = 400

# Dev dependencies that are run, not imported, and where each one is run.
TOOLS = {
    "ruff": ".ci/run",
    "mypy": ".ci/run",
    "import-linter": "tests/unit/test_house_rules.py",
    "pytest-asyncio": "pyproject.toml",
    "pytest-cov": "pyproject.toml",
    "langgraph-cli": "tests/e2e/test_langgraph_dev.py",
}


def _python_files(*roots: str) -> list[Path]:
    return [p for root in roots for p in (ROOT / root).rglob("*.py") if ".venv" not in p.parts]


def test_import_layers_run_one_way():
    lint = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run(
        [str(lint), "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_no_library_module_is_over_400_lines():
    long = {
        str(p.relative_to(ROOT)): n
        for p in _python_files(*LIBRARY)
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}


@cache
def _imported(roots: tuple[str, ...]) -> frozenset[str]:
    names: set[str] = set()
    for path in _python_files(*roots):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return frozenset(names)


def _modules_of(distribution: str) -> set[str]:
    """Dotted names of the modules and packages a distribution installs."""
    modules: set[str] = set()
    for file in metadata.distribution(distribution).files or []:
        parts = Path(str(file)).parts
        if not parts or not parts[-1].endswith(".py") or ".." in parts[0]:
            continue
        if parts[0].endswith((".dist-info", ".data")):
            continue
        dotted = [*parts[:-1], parts[-1].removesuffix(".py")]
        if dotted[-1] == "__init__":
            dotted = dotted[:-1]
        if dotted:
            modules.add(".".join(dotted))
    return modules


def _requirement_name(spec: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", spec)
    assert match, spec
    return match.group(0)


def _unused(requirements: list[str], roots: tuple[str, ...]) -> list[str]:
    imported = _imported(roots)
    unused = []
    for spec in requirements:
        name = _requirement_name(spec)
        if name in TOOLS:
            continue
        if not _modules_of(name) & imported:
            unused.append(name)
    return unused


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_every_runtime_dependency_is_imported_by_the_library():
    assert _unused(_project()["dependencies"], LIBRARY) == []


def test_every_dev_dependency_is_imported_or_run_where_it_says():
    dev = _project()["optional-dependencies"]["dev"]
    assert _unused(dev, (*LIBRARY, "tests", "bench")) == []
    declared = {_requirement_name(spec) for spec in dev}
    for tool, where in TOOLS.items():
        assert tool in declared, f"{tool} is listed as a tool but not declared"
        text = (ROOT / where).read_text(encoding="utf-8")
        command = {"import-linter": "lint-imports", "langgraph-cli": "langgraph"}.get(tool, tool)
        assert command.replace("-", "_") in text.replace("-", "_"), f"{tool} not used in {where}"


def test_ci_fails_a_run_that_deselects_tests():
    """With CI set, `-k` (or PYTEST_ADDOPTS doing the same) cannot make a narrow run pass."""
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    target = "tests/unit/test_confirm.py"
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    narrowed = subprocess.run(
        [*args, target, "-k", "yes_words"],
        cwd=ROOT,
        env={**env, "CI": "true"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert narrowed.returncode == 1, narrowed.stdout
    assert "deselected; failing the run" in narrowed.stdout
    whole = subprocess.run(
        [*args, target], cwd=ROOT, env={**env, "CI": "true"}, capture_output=True, text=True
    )
    assert whole.returncode == 0, whole.stdout


def test_the_wheel_lists_every_package_and_the_prompts():
    """pyproject lists packages by hand (the prompts are mapped into the wheel), so a
    new package must be added there: this test says which."""
    from setuptools import find_packages

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]
    listed = set(config["setuptools"]["packages"])
    found = set(find_packages(where=str(ROOT), include=["agentgraph*", "server*"]))
    assert listed == found | {"agentgraph.bundled_prompts"}
    assert config["setuptools"]["package-dir"] == {"agentgraph.bundled_prompts": "prompts"}
