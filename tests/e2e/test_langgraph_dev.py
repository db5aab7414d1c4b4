"""`langgraph dev` serves the assistant offline and the SDK can run a turn on it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from langgraph_sdk import get_client

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def dev_server(tmp_path):
    data_dir = tmp_path / "data"
    env = {
        **os.environ,
        "LANGGRAPH_CLI_NO_ANALYTICS": "1",
        "LANGGRAPH_NO_VERSION_CHECK": "1",
        "LANGSMITH_TRACING": "false",
        "AGENTGRAPH_OFFLINE": "1",
        "AGENTGRAPH_DATA_DIR": str(data_dir),
    }
    env.pop("DATABASE_URL", None)
    seed = subprocess.run(
        [sys.executable, "-m", "agentgraph.cli", "demo", "seed"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert seed.returncode == 0, seed.stderr
    # The server writes its own state into the working directory: run it from a copy
    # of the config outside the project tree so the reloader and git never see it.
    workdir = tmp_path / "studio"
    workdir.mkdir()
    shutil.copy(ROOT / "langgraph.json", workdir / "langgraph.json")
    config = (workdir / "langgraph.json").read_text()
    config = config.replace('"./graphs/', f'"{ROOT}/graphs/')
    config = config.replace('"dependencies": ["."]', f'"dependencies": ["{ROOT}"]')
    config = config.replace('"env": ".env.example"', f'"env": "{ROOT}/.env.example"')
    (workdir / "langgraph.json").write_text(config)
    port = _free_port()
    langgraph = Path(sys.executable).parent / "langgraph"
    log = (tmp_path / "langgraph-dev.log").open("w")
    proc = subprocess.Popen(
        [
            str(langgraph),
            "dev",
            "--no-browser",
            "--no-reload",
            "--port",
            str(port),
            "--config",
            "langgraph.json",
        ],
        cwd=workdir,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(
                    "langgraph dev exited:\n" + (tmp_path / "langgraph-dev.log").read_text()[-3000:]
                )
            try:
                if httpx.get(f"{url}/ok", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            pytest.fail(
                "langgraph dev did not start:\n"
                + (tmp_path / "langgraph-dev.log").read_text()[-3000:]
            )
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.mark.slow
async def test_sdk_runs_a_turn_and_a_confirmation_on_langgraph_dev(dev_server):
    client = get_client(url=dev_server)
    assistants = await client.assistants.search(graph_id="assistant")
    assert assistants, "graph 'assistant' is not registered"
    thread = await client.threads.create()
    context = {"tenant_id": "easymo", "user_id": "+250788000002", "channel": "studio"}
    state = await client.runs.wait(
        thread["thread_id"],
        "assistant",
        input={"messages": [{"role": "user", "content": "what is my balance?"}]},
        context=context,
    )
    last = state["messages"][-1]
    assert last["type"] == "ai" and "50,000 RWF" in last["content"]
    assert state["active_agent"] == "payment"

    await client.runs.wait(
        thread["thread_id"],
        "assistant",
        input={"messages": [{"role": "user", "content": "send 2000 to 0788000003"}]},
        context=context,
    )
    paused = await client.threads.get_state(thread["thread_id"])
    prompts = [i["value"] for i in paused.get("interrupts", [])]
    assert prompts and prompts[0]["type"] == "confirmation"
    final = await client.runs.wait(
        thread["thread_id"], "assistant", command={"resume": "yes"}, context=context
    )
    assert "48,000 RWF" in final["messages"][-1]["content"]
