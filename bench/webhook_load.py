"""Load test of the WhatsApp webhook server: throughput, latencies, exactly-once, order.

Starts the real server as a subprocess (uvicorn, `--server-workers` processes on
Postgres + Redis, a zero-latency echo model, debounce off) and a local Graph API
sink, then runs N simulated users concurrently; each sends M messages one after
another, waiting for the reply to the previous one (a closed loop, like a person),
and re-posts `--redeliver` of its webhooks a second time, as Meta does. Prints
messages/s, webhook acknowledgement p50/p99, end-to-end p50/p99 (POST sent to reply
received at the sink), and duplicates, order violations and lost messages (all
three must be 0).

    python bench/webhook_load.py --users 100 --messages 10
    python bench/webhook_load.py --users 1000 --messages 3 [--server-workers 2] [--workers 2]

Needs PostgreSQL (TEST_DATABASE_ADMIN_URL, default postgresql://postgres@127.0.0.1:5432/postgres;
the script creates and drops its own database) and Redis (REDIS_URL, default
redis://127.0.0.1:6379/0; keys under a fresh prefix, deleted afterwards).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

import httpx
import psycopg
import redis
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from agentgraph.whatsapp.signature import sign  # noqa: E402
from tests.support.live_server import free_port  # noqa: E402
from tests.support.whatsapp import webhook  # noqa: E402

SECRET = "bench-secret"
NUMBER = "1122334455667"

SERVER = """
import sys, uvicorn
sys.path.insert(0, {repo!r})
from server.app import create_app
from tests.support.echo_model import EchoChatModel
uvicorn.run(lambda: create_app(model=EchoChatModel()), factory=True, host="127.0.0.1",
            port={port}, workers=1, log_level="warning")
"""

WORKER = """
import sys, uvloop
sys.path.insert(0, {repo!r})
from agentgraph.config import load_settings
from agentgraph.runtime.worker import serve_worker
from tests.support.echo_model import EchoChatModel
uvloop.run(serve_worker(load_settings(), model=EchoChatModel()))
"""

# uvicorn re-raises SIGTERM after its graceful shutdown, which would kill the process
# before the profile is written; profiled runs swallow that re-raise.
PROFILED = """
import cProfile, signal
signal.raise_signal = lambda sig: None
import time
profiler = cProfile.Profile(time.process_time)
profiler.enable()
try:
    exec({script!r})
finally:
    profiler.disable()
    profiler.dump_stats({out!r})
"""


class Sink:
    """Graph API stand-in recording when each reply arrives."""

    def __init__(self) -> None:
        self.arrivals: dict[str, list[float]] = defaultdict(list)
        self.order: dict[str, list[int]] = defaultdict(list)
        self.waiters: dict[str, asyncio.Future[float]] = {}
        self.ids = 0
        self.app = Starlette(
            routes=[Route("/{v}/{pnid}/messages", self.messages, methods=["POST"])]
        )

    async def messages(self, request: Request) -> JSONResponse:
        body = await request.json()
        if body.get("status") == "read":
            return JSONResponse({"success": True})
        now = time.perf_counter()
        text = body["text"]["body"].removeprefix("echo: ")
        self.arrivals[text].append(now)
        user, _, seq = text.rpartition("-m")
        self.order[user].append(int(seq))
        waiter = self.waiters.pop(text, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(now)
        self.ids += 1
        return JSONResponse({"messages": [{"id": f"wamid.bench.{self.ids}"}]})


async def server_ack_buckets(http: httpx.AsyncClient) -> str:
    """The server's own ack-latency histogram (cumulative counts per bucket)."""
    text = (await http.get("/metrics")).text
    buckets = []
    for line in text.splitlines():
        if line.startswith("agentgraph_webhook_ack_seconds_bucket"):
            bound = line.split('le="')[1].split('"')[0]
            buckets.append(f"<={bound}s:{int(float(line.rsplit(' ', 1)[1]))}")
    return " ".join(buckets)


def ms(values: list[float], q: float) -> str:
    return f"{pct(values, q) * 1000:.1f}"


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "agentgraph.cli", "db", "upgrade"], env=env, cwd=REPO, check=True
    )


def spawn_servers(
    env: dict[str, str],
    ports: list[int],
    workers: int,
    log_path: Path,
    profile_dir: Path | None = None,
) -> list[subprocess.Popen]:
    """One server process per port, plus `workers` turn-only worker processes.

    With `profile_dir`, each process runs under cProfile and writes `proc-N.prof`
    there when it exits (SIGTERM shuts uvicorn and the worker down cleanly)."""
    scripts = [SERVER.format(repo=str(REPO), port=port) for port in ports]
    scripts += [WORKER.format(repo=str(REPO))] * workers
    commands: list[list[str]] = []
    for n, script in enumerate(scripts):
        if profile_dir is None:
            commands.append([sys.executable, "-c", script])
            continue
        out = profile_dir / f"proc-{n}.prof"
        commands.append([sys.executable, "-c", PROFILED.format(script=script, out=str(out))])
    with log_path.open("wb") as log:
        return [
            subprocess.Popen(command, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
            for command in commands
        ]


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU a live process has used so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def service_cpu_seconds(names: tuple[str, ...] = ("postgres", "redis-server")) -> dict[int, float]:
    """CPU used so far by every live Postgres and Redis process, by pid."""
    seen: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if comm in names:
            seen[int(entry.name)] = process_cpu_seconds(int(entry.name))
    return seen


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy since boot (everything on the machine)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def post_with_retry(
    http: httpx.AsyncClient, raw: bytes, headers: dict[str, str]
) -> httpx.Response:
    """POST like Meta does: a dropped connection is retried (dedup absorbs repeats)."""
    for attempt in range(3):
        try:
            return await http.post("/webhooks/whatsapp", content=raw, headers=headers)
        except httpx.TransportError:
            if attempt == 2:
                raise
            await asyncio.sleep(0.2)
    raise AssertionError("unreachable")


async def run_user(
    http: httpx.AsyncClient,
    sink: Sink,
    user: int,
    messages: int,
    redeliver: float,
    acks: list[float],
    e2e: list[float],
    lost: list[str],
    reply_timeout: float,
) -> None:
    wa_id = f"97250{user:07d}"
    for n in range(messages):
        text = f"{wa_id}-m{n}"
        raw = webhook(
            [
                {
                    "from": wa_id,
                    "id": f"wamid.{wa_id}.{n}",
                    "timestamp": str(int(time.time())),
                    "type": "text",
                    "text": {"body": text},
                }
            ],
            phone_number_id=NUMBER,
        )
        headers = {"X-Hub-Signature-256": sign(raw, SECRET), "Content-Type": "application/json"}
        waiter: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        sink.waiters[text] = waiter
        started = time.perf_counter()
        response = await post_with_retry(http, raw, headers)
        acks.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"webhook answered {response.status_code}: {response.text}")
        if random.random() < redeliver:
            await post_with_retry(http, raw, headers)
        try:
            arrived = await asyncio.wait_for(asyncio.shield(waiter), reply_timeout)
            e2e.append(arrived - started)
        except TimeoutError:
            lost.append(text)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--server-workers", type=int, default=1, help="HTTP server processes")
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="turn-only worker processes; with any, the HTTP servers only acknowledge",
    )
    parser.add_argument("--redeliver", type=float, default=0.05)
    parser.add_argument("--connections", type=int, default=256)
    parser.add_argument(
        "--profile", type=Path, default=None, help="cProfile every server process into this dir"
    )
    args = parser.parse_args()

    admin = os.environ.get(
        "TEST_DATABASE_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
    )
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    dbname = f"agentgraph_bench_{uuid.uuid4().hex[:8]}"
    prefix = f"bench:{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"')
    db_url = admin.rsplit("/", 1)[0] + "/" + dbname

    sink = Sink()
    sink_port = free_port()
    sink_server = uvicorn.Server(
        uvicorn.Config(sink.app, host="127.0.0.1", port=sink_port, log_level="warning")
    )
    sink_task = asyncio.create_task(sink_server.serve())
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AGENTGRAPH_", "WHATSAPP_"))},
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "AGENTGRAPH_REDIS_PREFIX": prefix,
        "AGENTGRAPH_OFFLINE": "1",
        "AGENTGRAPH_DEBOUNCE_SECONDS": "0",
        "AGENTGRAPH_RATE_LIMIT_PER_MINUTE": "100000",
        "AGENTGRAPH_RATE_LIMIT_PER_DAY": "100000",
        "AGENTGRAPH_WORKER_CONCURRENCY": os.environ.get("AGENTGRAPH_WORKER_CONCURRENCY", "6"),
        "WHATSAPP_APP_SECRET": SECRET,
        "WHATSAPP_PHONE_NUMBER_ID": NUMBER,
        "WHATSAPP_ACCESS_TOKEN": "bench-token",
        "WHATSAPP_API_BASE_URL": f"http://127.0.0.1:{sink_port}/v21.0",
        "LANGSMITH_TRACING": "false",
    }
    data_dir = tempfile.mkdtemp(prefix="agentgraph-bench-")
    env["AGENTGRAPH_DATA_DIR"] = data_dir
    ports = [free_port() for _ in range(args.server_workers)]
    log_path = Path(data_dir) / "server.log"
    if args.workers:
        env["AGENTGRAPH_SERVER_CONSUMES_QUEUE"] = "false"
    # Schema first, once: several processes setting up a fresh database at the same time
    # can block each other (the store's CREATE INDEX CONCURRENTLY waits on the others).
    migrate(env)
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    servers = spawn_servers(env, ports, args.workers, log_path, args.profile)
    try:
        async with httpx.AsyncClient(timeout=30) as probe:
            for p in ports:
                for _ in range(600):
                    try:
                        if (await probe.get(f"http://127.0.0.1:{p}/health")).status_code == 200:
                            break
                    except httpx.TransportError:
                        await asyncio.sleep(0.1)
                else:
                    raise RuntimeError(f"server did not start; see {log_path}")
        limits = httpx.Limits(
            max_connections=args.connections, max_keepalive_connections=args.connections
        )
        clients = [
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{p}", limits=limits, timeout=60)
            for p in ports
        ]
        acks: list[float] = []
        e2e: list[float] = []
        lost: list[str] = []
        cpu_before = [process_cpu_seconds(s.pid) for s in servers]
        own_before = own_cpu_seconds()
        services_before = service_cpu_seconds()
        busy_before = machine_busy_seconds()
        started = time.perf_counter()
        await asyncio.gather(
            *(
                run_user(
                    clients[u % len(clients)],
                    sink,
                    u,
                    args.messages,
                    args.redeliver,
                    acks,
                    e2e,
                    lost,
                    60.0,
                )
                for u in range(args.users)
            )
        )
        elapsed = time.perf_counter() - started
        busy = machine_busy_seconds() - busy_before
        own_cpu = own_cpu_seconds() - own_before
        services_cpu = sum(
            cpu - services_before.get(pid, 0.0) for pid, cpu in service_cpu_seconds().items()
        )
        server_cpu = sum(process_cpu_seconds(s.pid) for s in servers) - sum(cpu_before)
        await asyncio.sleep(1.0)  # late duplicates would land now
        server_acks = await server_ack_buckets(clients[0])
        for client in clients:
            await client.aclose()
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)
        sink_server.should_exit = True
        await sink_task
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        keys_client = redis.Redis.from_url(redis_url)
        keys = list(keys_client.scan_iter(f"{prefix}:*"))
        if keys:
            keys_client.delete(*keys)

    total = args.users * args.messages
    duplicates = sum(len(times) - 1 for times in sink.arrivals.values() if len(times) > 1)
    violations = sum(
        sum(1 for a, b in itertools.pairwise(seqs) if b < a) for seqs in sink.order.values()
    )
    counts = Counter(len(t) for t in sink.arrivals.values())
    print(
        f"users={args.users} messages/user={args.messages} total={total} "
        f"server processes={args.server_workers} worker processes={args.workers}"
    )
    print("| metric | value |\n|---|---|")
    print(f"| messages/s | {total / elapsed:.0f} |")
    print(f"| webhook ack p50 / p99 (ms) | {ms(acks, 0.5)} / {ms(acks, 0.99)} |")
    print(f"| end-to-end p50 / p99 (ms) | {ms(e2e, 0.5)} / {ms(e2e, 0.99)} |")
    print(f"| mean end-to-end (ms) | {statistics.fmean(e2e) * 1000 if e2e else float('nan'):.1f} |")
    print(f"| server-side ack histogram (first server) | {server_acks} |")
    per = 1000 / total
    print(
        "| CPU ms per message: server processes / load generator / Postgres+Redis "
        f"/ whole machine | {server_cpu * per:.1f} / {own_cpu * per:.1f} / "
        f"{services_cpu * per:.1f} / {busy * per:.1f} |"
    )
    print(f"| duplicates | {duplicates} |")
    print(f"| order violations | {violations} |")
    print(f"| lost | {len(lost) + (total - sum(counts.values()) - len(lost))} |")


if __name__ == "__main__":
    asyncio.run(main())
