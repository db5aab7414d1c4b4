"""Server memory across WebSocket connect/disconnect cycles (issue: 500 sockets opened
in bursts raised a server from 167 to 332 MB; does it come back down?).

Starts `agentgraph serve` (SQLite, offline model) on a free port, then runs cycles:
open `--sockets` WebSockets to the attendee signal endpoint in bursts of `--burst`,
send each one frame, hold them all open, close them all, and read the server's RSS
(from /proc) after the close settles. A leak shows as RSS that keeps climbing cycle
after cycle; a healthy server rises in the first cycles (allocator arenas, caches)
and then stays on a plateau. Prints one row per cycle.

    python bench/ws_memory.py --cycles 8 --sockets 500 --burst 100
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import websockets

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    """Resident memory of `pid` and its children (uvicorn runs the app in-process)."""
    total = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            total += int(line.split()[1])
    return total / 1024


def wait_ready(port: int, process: subprocess.Popen[bytes]) -> None:
    import urllib.request

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("server exited")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("server did not become ready")


SESSIONS = {"same": lambda n, i: f"s{i}", "new": lambda n, i: f"s{n}-{i}"}
session = SESSIONS["same"]


async def cycle(port: int, sockets: int, burst: int, n: int) -> None:
    opened = []
    for start in range(0, sockets, burst):
        batch = [
            websockets.connect(
                f"ws://127.0.0.1:{port}/v1/events/bench/sessions/{session(n, i)}/signals",
                open_timeout=30,
            )
            for i in range(start, min(start + burst, sockets))
        ]
        conns = await asyncio.gather(*batch)
        frame = json.dumps({"type": "join", "user": "u", "ts": time.time()})
        await asyncio.gather(*(c.send(frame) for c in conns))
        opened += conns
    await asyncio.gather(*(c.close() for c in opened))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cycles", type=int, default=8)
    parser.add_argument("--sockets", type=int, default=500)
    parser.add_argument("--burst", type=int, default=100)
    parser.add_argument(
        "--sessions",
        choices=sorted(SESSIONS),
        default="same",
        help="'same': every cycle reconnects to the same sessions (connection memory "
        "alone); 'new': each cycle opens new sessions, which the conductor tracks until "
        "ENGAGEMENT_SESSION_IDLE_SECONDS passes",
    )
    parser.add_argument(
        "--tick-seconds",
        type=float,
        default=5.0,
        help="ENGAGEMENT_TICK_SECONDS of the server; 300 keeps the conductor from scoring "
        "during the run, so only connection memory is measured",
    )
    parser.add_argument(
        "--loop",
        choices=["serve", "asyncio", "uvloop"],
        default="serve",
        help="'serve': `agentgraph serve` as shipped; 'asyncio'/'uvloop': uvicorn with that "
        "event loop, to tell the loop's memory from the app's",
    )
    args = parser.parse_args()
    global session
    session = SESSIONS[args.sessions]
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTGRAPH_")}
        env.update(AGENTGRAPH_OFFLINE="1", AGENTGRAPH_DATA_DIR=data, LANGSMITH_TRACING="false")
        env["ENGAGEMENT_TICK_SECONDS"] = str(args.tick_seconds)
        log = open(Path(data) / "serve.log", "wb")  # noqa: SIM115, ASYNC230 (start-up only)
        command = [sys.executable, "-m", "agentgraph.cli", "serve", "--port", str(port)]
        if args.loop != "serve":
            command = [sys.executable, "-m", "uvicorn", "--factory", "server.app:create_app",
                       "--port", str(port), "--loop", args.loop, "--no-access-log"]  # fmt: skip
        process = subprocess.Popen(  # noqa: ASYNC220 (the server runs beside the loop)
            command,
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_ready(port, process)
            start = rss_mb(process.pid)
            print(f"server RSS at start: {start:.1f} MB")
            print(f"{'cycle':>5} {'sockets':>8} {'seconds':>8} {'RSS MB after close':>19}")
            for n in range(1, args.cycles + 1):
                began = time.perf_counter()
                await cycle(port, args.sockets, args.burst, n)
                await asyncio.sleep(2.0)  # let the server finish closing
                seconds = time.perf_counter() - began
                print(f"{n:>5} {args.sockets:>8} {seconds:>8.1f} {rss_mb(process.pid):>19.1f}")
        finally:
            process.terminate()
            process.wait(timeout=30)
            log.close()


if __name__ == "__main__":
    asyncio.run(main())
