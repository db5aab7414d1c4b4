"""agentgraph installed from its wheel (no source tree) still has its prompts.

The prompts live in the top-level prompts/ folder of the repository; a wheel ships
them as the package data `agentgraph.bundled_prompts`. The test builds the wheel,
installs it into a fresh virtualenv that borrows the dependencies of the test
environment, and talks to the assistant from a directory far from the repository.
"""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=600, **kwargs)  # type: ignore[call-overload]


def test_an_installed_wheel_answers_with_its_shipped_prompts(tmp_path):
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"),
         str(REPO_ROOT)]
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("agentgraph-*.whl")

    venv = tmp_path / "venv"
    assert _run([sys.executable, "-m", "venv", str(venv)]).returncode == 0
    python = venv / "bin" / "python"
    # The test environment's packages serve as dependencies; the wheel is the only
    # agentgraph the new interpreter can import (a path in a .pth file adds no
    # editable-install hooks).
    purelib = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
        ).stdout.strip()
    )
    (purelib / "borrowed.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    installed = _run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(wheel)])
    assert installed.returncode == 0, installed.stderr

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTGRAPH_", "PYTHON"))}
    env.update(AGENTGRAPH_OFFLINE="1", LANGSMITH_TRACING="false")
    where = _run(
        [str(python), "-c", "import agentgraph.prompts as p; print(p.DEFAULT_PROMPTS_DIR)"],
        cwd=elsewhere,
        env=env,
    )
    assert where.returncode == 0, where.stderr
    prompts_dir = Path(where.stdout.strip())
    assert str(prompts_dir).startswith(str(venv)), prompts_dir
    assert (prompts_dir / "triage.md").is_file() and (prompts_dir / "intents.json").is_file()

    agentgraph = venv / "bin" / "agentgraph"
    assert _run([str(agentgraph), "demo", "seed"], cwd=elsewhere, env=env).returncode == 0
    chat = _run(
        [str(agentgraph), "chat", "--user", "+250788000001", "--jsonl"],
        cwd=elsewhere,
        env=env,
        input="what's my balance\n",
    )
    assert chat.returncode == 0, chat.stderr
    answer = json.loads(chat.stdout.splitlines()[0])
    assert answer["replies"] == ["Your wallet balance is 50,000 RWF."]
