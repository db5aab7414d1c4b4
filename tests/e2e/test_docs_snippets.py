"""Every snippet in README.md and docs/ runs as written.

Python blocks run as scripts in a fresh directory (the embedded default: SQLite,
offline model), exactly as a reader would paste them. Shell blocks that talk to a
running server (the webhook signing example) run against the real app with the
settings the README starts it with. Every `agentgraph ...` command in a shell block
must parse with the CLI's own argument parser, so a renamed command or flag fails
here before a reader finds it.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from agentgraph.cli import _parser
from agentgraph.domain import seed_demo
from agentgraph.persistence import open_domain
from server.app import create_app
from tests.support.live_server import live_server

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)


def _blocks(language: str) -> list[tuple[str, str]]:
    found = []
    for doc in DOCUMENTS:
        text = doc.read_text(encoding="utf-8")
        for n, match in enumerate(FENCE.finditer(text)):
            if match.group(1) == language:
                found.append((f"{doc.name}#{n}", match.group(2)))
    return found


def _clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AGENTGRAPH_", "WHATSAPP_", "OPENAI_", "DATABASE_URL", "REDIS_URL"))
    }
    env.update({"AGENTGRAPH_OFFLINE": "1", "LANGSMITH_TRACING": "false", **extra})
    return env


PYTHON = _blocks("python")
SHELL = _blocks("bash")


@pytest.mark.parametrize(("where", "code"), _blocks("json"), ids=[w for w, _ in _blocks("json")])
def test_json_snippet_parses(where, code):
    json.loads(code)


def test_the_documents_hold_the_snippets_this_test_expects():
    # Guards against the fence pattern silently matching nothing.
    assert len(PYTHON) >= 2
    assert any("openssl" in code for _, code in SHELL)


@pytest.mark.slow
@pytest.mark.parametrize(("where", "code"), PYTHON, ids=[w for w, _ in PYTHON])
def test_python_snippet_runs_as_written(where, code, tmp_path):
    script = tmp_path / "snippet.py"
    script.write_text(code, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, f"{where}:\n{done.stdout}\n{done.stderr}"


def _agentgraph_commands(code: str) -> list[list[str]]:
    commands = []
    for line in code.replace("\\\n", " ").splitlines():
        for part in re.split(r"&&|\|\||;|\|", line):
            words = shlex.split(part, comments=True)
            while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
                words = words[1:]  # environment assignments before the command
            if words[:1] == ["nice"]:
                words = words[3:] if words[1:2] == ["-n"] else words[1:]
            if words[:1] == ["agentgraph"]:
                commands.append(words[1:])
    return commands


def test_every_agentgraph_command_in_the_documents_parses():
    commands = [c for _, code in SHELL for c in _agentgraph_commands(code)]
    assert commands, "no agentgraph command found in the documents"
    parser = _parser()
    for args in commands:
        parser.parse_args(args)


async def test_the_webhook_signing_example_gets_an_answer(sqlite_settings):
    (code,) = [code for _, code in SHELL if "openssl" in code]
    settings = sqlite_settings.model_copy(
        update={
            "whatsapp_app_secret": SecretStr("change-me"),
            "whatsapp_verify_token": SecretStr("change-me"),
        }
    )
    async with open_domain(settings) as domain:
        await seed_demo(domain)
    async with live_server(create_app(settings)) as base:
        port = base.rsplit(":", 1)[1]
        done = await asyncio.to_thread(
            subprocess.run,
            ["bash", "-c", code],
            env=_clean_env(PORT=port),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 0, done.stderr
    assert '{"status":"ok"}' in done.stdout
    assert "Your wallet balance is 50,000 RWF." in done.stdout
