"""A pytest fork server: third-party imports paid once, every test run in a fresh fork.

Mutation testing runs the same few test files hundreds of times, and importing
LangGraph, LangChain, pydantic and the database drivers costs more than most of those
runs. The server imports them once (never `agentgraph`, `server` or `tests`: the code
under test is imported afresh by each run, so a mutated file is always the one read),
then forks one child per request to run `pytest.main(args)`.

    python bench/pytest_forkserver.py serve SOCKET ROOT TIMEOUT
    python bench/pytest_forkserver.py run SOCKET PYTEST_ARG...   # exits with pytest's code

Requests are served one at a time; a child still running after TIMEOUT seconds is
killed (its run counts as failed).
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import socket
import sys

PRELOAD = (
    "pytest",
    "pytest_asyncio",
    "pytest_cov",
    "hypothesis",
    "pydantic",
    "pydantic_settings",
    "psycopg",
    "psycopg_pool",
    "aiosqlite",
    "redis.asyncio",
    "httpx",
    "fastapi",
    "blockbuster",
    "prometheus_client",
    "langchain_core.messages",
    "langchain_openai",
    "langgraph.graph",
    "langgraph.types",
    "langgraph.checkpoint.memory",
    "langgraph.checkpoint.sqlite.aio",
    "langgraph.checkpoint.postgres.aio",
)
OURS = ("agentgraph", "server", "graphs", "tests")


def _read(conn: socket.socket) -> bytes:
    chunks = []
    while chunk := conn.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def _child(root: str, args: list[str], timeout: int) -> None:
    code = 3
    try:
        signal.alarm(timeout)  # the default action ends the process
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.chdir(root)
        sys.path.insert(0, root)  # as `python -m pytest` does: the tree under test first
        sys.dont_write_bytecode = True

        import pytest

        code = int(pytest.main(args))
    finally:
        os._exit(code)


def serve(path: str, root: str, timeout: int) -> None:
    """Preload, listen on the Unix socket `path`, and run each request in a fork."""
    for name in PRELOAD:
        importlib.import_module(name)
    loaded = [m for m in sys.modules if m.split(".")[0] in OURS]
    if loaded:
        sys.exit(f"the fork server must not import the code under test: {loaded}")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(path)
        server.listen(8)
        while True:
            conn, _ = server.accept()
            with conn:
                request = json.loads(_read(conn))
                pid = os.fork()
                if pid == 0:
                    server.close()
                    _child(root, request["args"], timeout)
                _, status = os.waitpid(pid, 0)
                conn.sendall(str(os.waitstatus_to_exitcode(status)).encode())


def run(path: str, args: list[str]) -> int:
    """Ask the server at `path` to run pytest with `args`; pytest's exit code (1 if killed)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.connect(path)
        client.sendall(json.dumps({"args": args}).encode())
        client.shutdown(socket.SHUT_WR)
        code = int(_read(client) or b"1")
    return code if code >= 0 else 1


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        sys.exit(run(sys.argv[2], sys.argv[3:]))
