"""Load test of the WhatsApp webhook server: throughput, latencies, exactly-once, order.

Starts the real server as subprocesses (uvicorn, `--server-workers` HTTP processes on
Postgres + Redis, a zero-latency echo model, debounce off; plus `--workers` turn-only
worker processes, which leave the HTTP servers only acknowledging) and a local Graph
API sink standing in for Meta, which receives the server's read receipts and replies.
Simulated users then POST signed webhooks and wait for the replies at the sink; each
user re-posts `--redeliver` of its webhooks a second time, as Meta does, and a POST
that fails at the transport level is retried.

Two ways to drive the load:

* closed loop (default): `--users` users each send `--messages` messages one after
  another, waiting for the reply to the previous one before sending the next (like a
  person). Throughput is whatever the server sustains at that concurrency.
* open loop (`--rate R`): sends happen at fixed times so the offered rate over all
  users is R messages/s (user u's k-th message at t0 + (k*users + u + jitter)/R, the
  jitter uniform within that slot). A user still sends its messages in order and one
  POST at a time (POST n+1 never starts before POST n returned; a slow acknowledgement
  therefore delays that user's next send), but it does not wait for the reply: it
  records the end-to-end time when the reply arrives. This shows latency at a given
  load instead of the load the server can push.

`--warmup N` (default 200 with `--rate`, 0 without) first sends N messages from
separate warm-up users, in the same mode, and waits for their replies; they count in
no statistic (nor in the CPU accounting or the server-side histogram) but are checked
for duplicates and loss like the rest. That keeps connection set-up and first-use
costs out of the numbers.

Reading the output:

* messages/s: timed messages / time from the first timed send to the last reply.
  In open loop also: the offered rate, the rate sends actually went out, and the
  achieved rate (replies/s over the same window); achieved well below offered means
  the server (or the machine) is saturated.
* webhook ack: POST sent to HTTP answer received; end-to-end: POST sent to reply
  received at the sink (both from the real send time, not the scheduled one).
* send lateness (open loop): how late sends started versus the schedule. A large p99
  means either a user was held up by its own slow acknowledgement or the load
  generator itself could not keep up; both make the offered rate a lie.
* CPU ms per message over the timed window: the server processes, this load generator
  (client + sink; it simulates Meta, so it should be small), every Postgres and Redis
  process, and the whole machine (everything, including other people's processes).
* host speed, host wake-up, CPU stolen: this VM's host is shared, and the same code
  has spent twice the CPU per message on different hours. Host speed times a fixed
  pure-Python loop (best of five), before and after the run; host wake-up times a
  byte sent to another process and back (best of three), the exchange the server
  makes with Postgres, Redis and its clients many times per message; CPU stolen is
  the hypervisor's own count of time this VM's cores waited for the host. None of
  them measures the server's slowdown in proportion (on 2026-12-03 the loop read
  27 to 28 ms while CPU per message doubled, and 18 to 19 ms after a reboot with
  CPU per message back at 9 ms), but a run is only comparable to one made on
  similar figures.
* duplicates, order violations and lost must all be 0.

    python bench/webhook_load.py --users 100 --messages 10
    python bench/webhook_load.py --users 1000 --messages 3 [--server-workers 2] [--workers 2]
    python bench/webhook_load.py --users 100 --messages 20 --server-workers 2 --rate 60
    python bench/webhook_load.py --users 200 --messages 20 --workers 1 --server-nice 10 --rate 150

`--server-nice N` starts the `--workers` processes (not the HTTP servers) at niceness
N, so acknowledging a webhook gets the CPU before running turns.

Needs PostgreSQL (TEST_DATABASE_ADMIN_URL, default postgresql://postgres@127.0.0.1:5432/postgres;
the script creates and drops its own database) and Redis (REDIS_URL, default
redis://127.0.0.1:6379/0; keys under a fresh prefix, deleted afterwards). The load
generator runs on uvloop, with aiohttp as the client and a bare asyncio protocol
(httptools parser) as the sink.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import httptools
import orjson
import psycopg
import redis
import uvloop

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from agentgraph.whatsapp.signature import sign  # noqa: E402
from tests.support.live_server import free_port  # noqa: E402
from tests.support.whatsapp import webhook  # noqa: E402

SECRET = "bench-secret"
NUMBER = "1122334455667"
REPLY_TIMEOUT = 60.0

# uvicorn logs its lifecycle (not each request) so a slow shutdown shows where it hung.
SERVER = """
import sys, uvicorn
sys.path.insert(0, {repo!r})
from server.app import create_app
from tests.support.echo_model import EchoChatModel
uvicorn.run(lambda: create_app(model=EchoChatModel()), factory=True, host="127.0.0.1",
            port={port}, workers=1, log_level="info", access_log=False)
"""

WORKER = """
import os, sys, uvloop
if {nice}:
    os.nice({nice})
sys.path.insert(0, {repo!r})
from agentgraph.config import load_settings
from agentgraph.cli import serve_worker
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

READ_OK = b'{"success":true}'


def http_response(status: bytes, body: bytes, keep_alive: bool) -> bytes:
    connection = b"" if keep_alive else b"Connection: close\r\n"
    return b"HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s" % (
        status,
        len(body),
        connection,
        body,
    )


class Sink:
    """Graph API stand-in recording when each reply arrives."""

    def __init__(self) -> None:
        self.arrivals: dict[str, list[float]] = defaultdict(list)
        self.order: dict[str, list[int]] = defaultdict(list)
        self.waiters: dict[str, asyncio.Future[float]] = {}
        self.ids = 0
        self.errors = 0
        self.connections: set[SinkProtocol] = set()

    def handle(self, body: bytes) -> bytes:
        """The answer to one POST `/{version}/{phone_number_id}/messages`."""
        payload = orjson.loads(body)
        if payload.get("status") == "read":
            return READ_OK
        now = time.perf_counter()
        text = payload["text"]["body"].removeprefix("echo: ")
        self.arrivals[text].append(now)
        user, _, seq = text.rpartition("-m")
        self.order[user].append(int(seq))
        waiter = self.waiters.pop(text, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(now)
        self.ids += 1
        return b'{"messages":[{"id":"wamid.bench.%d"}]}' % self.ids


class SinkProtocol(asyncio.Protocol):
    """Minimal HTTP/1.1 server (keep-alive, pipelining) in front of `Sink.handle`."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.url = b""
        self.body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass
        self.sink.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.sink.connections.discard(self)
        self.transport = None

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as error:
            print(f"sink: bad request: {error!r}", file=sys.stderr)
            if self.transport is not None:
                self.transport.close()

    # httptools callbacks; several requests in one `feed_data` each get their own round.
    def on_message_begin(self) -> None:
        self.url = b""
        self.body = []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        keep_alive = self.parser.should_keep_alive()
        if self.parser.get_method() != b"POST" or not self.url.endswith(b"/messages"):
            status, body = b"404 Not Found", b'{"error":"not found"}'
        else:
            try:
                status, body = b"200 OK", self.sink.handle(b"".join(self.body))
            except Exception as error:  # a malformed send: answer 500 like a server would
                self.sink.errors += 1
                print(f"sink: {error!r} for {b''.join(self.body)[:200]!r}", file=sys.stderr)
                status, body = b"500 Internal Server Error", b"{}"
        if self.transport is None:
            return
        self.transport.write(http_response(status, body, keep_alive))
        if not keep_alive:
            self.transport.close()


@dataclass
class Phase:
    """What one group of users (warm-up or timed) measured."""

    acks: list[float] = field(default_factory=list)
    e2e: list[float] = field(default_factory=list)
    lateness: list[float] = field(default_factory=list)
    sends: list[float] = field(default_factory=list)
    replies: list[float] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)


# One prepared message: its text, signed body and headers, and its global send index.
Message = tuple[str, bytes, dict[str, str], int]


def build_plan(prefix: str, users: int, total: int) -> list[list[Message]]:
    """`total` messages over `users` users, message i going to user i % users as its
    (i // users)-th; bodies are built and signed up front, outside any measurement."""
    plan: list[list[Message]] = [[] for _ in range(users)]
    for i in range(total):
        u, k = i % users, i // users
        wa_id = f"{prefix}{u:07d}"
        text = f"{wa_id}-m{k}"
        raw = webhook(
            [
                {
                    "from": wa_id,
                    "id": f"wamid.{wa_id}.{k}",
                    "timestamp": str(int(time.time())),
                    "type": "text",
                    "text": {"body": text},
                }
            ],
            phone_number_id=NUMBER,
        )
        headers = {"X-Hub-Signature-256": sign(raw, SECRET), "Content-Type": "application/json"}
        plan[u].append((text, raw, headers, i))
    return plan


def parse_buckets(text: str) -> list[tuple[str, int]]:
    buckets = []
    for line in text.splitlines():
        if line.startswith("agentgraph_webhook_ack_seconds_bucket"):
            bound = line.split('le="')[1].split('"')[0]
            buckets.append((bound, int(float(line.rsplit(" ", 1)[1]))))
    return buckets


async def server_ack_buckets(http: aiohttp.ClientSession) -> list[tuple[str, int]]:
    """The server's own ack-latency histogram (cumulative counts per bucket)."""
    async with http.get("/metrics") as response:
        return parse_buckets(await response.text())


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
    worker_nice: int = 0,
) -> list[subprocess.Popen]:
    """One server process per port, plus `workers` turn-only worker processes (those
    at niceness `worker_nice`).

    With `profile_dir`, each process runs under cProfile and writes `proc-N.prof`
    there when it exits (SIGTERM shuts uvicorn and the worker down cleanly)."""
    scripts = [SERVER.format(repo=str(REPO), port=port) for port in ports]
    scripts += [WORKER.format(repo=str(REPO), nice=int(worker_nice))] * workers
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


def cpu_seconds_since_boot() -> list[float]:
    """The machine's `cpu` line of /proc/stat in seconds (user, nice, system, idle,
    iowait, irq, softirq, steal, ...), summed over all cores."""
    ticks = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    return [int(v) / os.sysconf("SC_CLK_TCK") for v in ticks]


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy since boot (everything on the machine)."""
    values = cpu_seconds_since_boot()
    return sum(values[:8]) - values[3] - values[4]


def steal_seconds() -> float:
    """CPU seconds the hypervisor gave to others while this VM wanted them (all cores)."""
    return cpu_seconds_since_boot()[7]


def host_speed_ms() -> float:
    """Milliseconds for a fixed pure-Python workload, best of five: how fast one core
    runs Python right now. A host that is slow here is slow for the server too, by
    more than this shows (see the docstring's note on 2026-12-03)."""

    def work() -> int:
        table: dict[int, str] = {}
        for i in range(200_000):
            table[i % 1000] = str(i)
        return len(orjson.dumps(list(table.values())))

    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best * 1000


def round_trip_us(trips: int = 5000) -> float:
    """Microseconds for one byte to go to another process and back over a socket
    pair, best of three: what waking another process costs on this host right now.
    The server pays it many times per message (Postgres, Redis, HTTP)."""
    best = float("inf")
    for _ in range(3):
        ours, theirs = socket.socketpair()
        child = os.fork()
        if child == 0:
            ours.close()
            for _ in range(trips):
                theirs.sendall(theirs.recv(1))
            os._exit(0)
        theirs.close()
        started = time.perf_counter()
        for _ in range(trips):
            ours.sendall(b"x")
            ours.recv(1)
        best = min(best, (time.perf_counter() - started) / trips)
        os.waitpid(child, 0)
        ours.close()
    return best * 1e6


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def post_with_retry(http: aiohttp.ClientSession, raw: bytes, headers: dict[str, str]) -> int:
    """POST like Meta does: a dropped connection is retried (dedup absorbs repeats).
    Returns the HTTP status; a non-200 answer raises."""
    for attempt in range(3):
        try:
            async with http.post("/webhooks/whatsapp", data=raw, headers=headers) as response:
                body = await response.read()
                if response.status != 200:
                    raise RuntimeError(f"webhook answered {response.status}: {body[:500]!r}")
                return response.status
        except (aiohttp.ClientConnectionError, TimeoutError):
            if attempt == 2:
                raise
            await asyncio.sleep(0.2)
    raise AssertionError("unreachable")


async def run_user(
    http: aiohttp.ClientSession,
    sink: Sink,
    messages: list[Message],
    redeliver: float,
    phase: Phase,
    rate: float | None,
    t0: float,
) -> None:
    """Send one user's messages in order, one POST at a time. Closed loop (`rate` None):
    wait for each reply before the next send. Open loop: send message i at
    t0 + (i + jitter)/rate (or as soon as the previous POST returned, if later) and
    collect the replies as they come."""
    loop = asyncio.get_running_loop()
    pending: list[tuple[str, float, asyncio.Future[float]]] = []
    for text, raw, headers, index in messages:
        if rate is not None:
            due = t0 + (index + random.random()) / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        waiter: asyncio.Future[float] = loop.create_future()
        sink.waiters[text] = waiter
        started = time.perf_counter()
        if rate is not None:
            phase.lateness.append(started - due)
        phase.sends.append(started)
        await post_with_retry(http, raw, headers)
        phase.acks.append(time.perf_counter() - started)
        if random.random() < redeliver:
            await post_with_retry(http, raw, headers)
        if rate is None:
            try:
                arrived = await asyncio.wait_for(asyncio.shield(waiter), REPLY_TIMEOUT)
            except TimeoutError:
                sink.waiters.pop(text, None)
                phase.lost.append(text)
            else:
                phase.e2e.append(arrived - started)
                phase.replies.append(arrived)
        else:
            pending.append((text, started, waiter))
    if pending:
        await asyncio.wait([w for _, _, w in pending], timeout=REPLY_TIMEOUT)
        for text, started, waiter in pending:
            if waiter.done():
                phase.e2e.append(waiter.result() - started)
                phase.replies.append(waiter.result())
            else:
                sink.waiters.pop(text, None)
                phase.lost.append(text)


async def run_phase(
    clients: list[aiohttp.ClientSession],
    sink: Sink,
    plan: list[list[Message]],
    redeliver: float,
    rate: float | None,
) -> Phase:
    phase = Phase(texts=[m[0] for user in plan for m in user])
    t0 = time.perf_counter() + 0.05  # room to start every user task before the first send
    await asyncio.gather(
        *(
            run_user(clients[u % len(clients)], sink, messages, redeliver, phase, rate, t0)
            for u, messages in enumerate(plan)
        )
    )
    return phase


async def wait_healthy(ports: list[int], log_path: Path) -> None:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as probe:
        for p in ports:
            for _ in range(600):
                try:
                    async with probe.get(f"http://127.0.0.1:{p}/health") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError(f"server did not start; see {log_path}")


async def stop_servers(servers: list[subprocess.Popen], log_path: Path) -> None:
    """SIGTERM every server process and give them 30 s together to shut down cleanly
    (the sink keeps answering meanwhile); whatever is still running then is killed,
    reported on stderr, so the database and Redis clean-up still happens."""
    for server in servers:
        server.terminate()
    deadline = time.monotonic() + 30
    for n, server in enumerate(servers):
        try:  # in a thread: the sink must keep answering while the servers drain
            await asyncio.to_thread(server.wait, max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(
                f"process {n} (pid {server.pid}) did not exit 30 s after SIGTERM; killed it "
                f"(its profile, if any, is lost); see {log_path}",
                file=sys.stderr,
            )
            server.kill()
            server.wait()


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
    parser.add_argument(
        "--connections", type=int, default=100, help="client connections per server port, at most"
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=None,
        help="open loop: offered messages/s over all users (default: closed loop)",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=None,
        help="untimed messages from separate users first (default 200 with --rate, else 0)",
    )
    parser.add_argument(
        "--server-nice", type=int, default=0, help="niceness of the --workers processes"
    )
    parser.add_argument(
        "--profile", type=Path, default=None, help="cProfile every server process into this dir"
    )
    args = parser.parse_args()
    warmup = args.warmup if args.warmup is not None else (200 if args.rate else 0)
    speed_before, trip_before = host_speed_ms(), round_trip_us()

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
    sink_server = await asyncio.get_running_loop().create_server(
        lambda: SinkProtocol(sink), "127.0.0.1", sink_port, backlog=1024
    )
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
    # Bodies are built and signed before anything is measured (Meta's cost, not ours).
    warm_plan = build_plan("97259", min(args.users, warmup), warmup) if warmup else []
    plan = build_plan("97250", args.users, args.users * args.messages)
    # Schema first, once: several processes setting up a fresh database at the same time
    # can block each other (the store's CREATE INDEX CONCURRENTLY waits on the others).
    migrate(env)
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    servers = spawn_servers(env, ports, args.workers, log_path, args.profile, args.server_nice)
    clients: list[aiohttp.ClientSession] = []
    try:
        await wait_healthy(ports, log_path)
        clients = [
            aiohttp.ClientSession(
                base_url=f"http://127.0.0.1:{p}",
                connector=aiohttp.TCPConnector(
                    limit=args.connections, limit_per_host=args.connections
                ),
                timeout=aiohttp.ClientTimeout(total=60),
                cookie_jar=aiohttp.DummyCookieJar(),
            )
            for p in ports
        ]
        warm = await run_phase(clients, sink, warm_plan, args.redeliver, args.rate)
        acks_before = await server_ack_buckets(clients[0])
        cpu_before = [process_cpu_seconds(s.pid) for s in servers]
        own_before = own_cpu_seconds()
        services_before = service_cpu_seconds()
        busy_before = machine_busy_seconds()
        steal_before = steal_seconds()
        timed = await run_phase(clients, sink, plan, args.redeliver, args.rate)
        busy = machine_busy_seconds() - busy_before
        steal = steal_seconds() - steal_before
        own_cpu = own_cpu_seconds() - own_before
        services_cpu = sum(
            cpu - services_before.get(pid, 0.0) for pid, cpu in service_cpu_seconds().items()
        )
        server_cpu = sum(process_cpu_seconds(s.pid) for s in servers) - sum(cpu_before)
        await asyncio.sleep(1.0)  # late duplicates would land now
        before = dict(acks_before)
        server_acks = " ".join(
            f"<={bound}s:{count - before.get(bound, 0)}"
            for bound, count in await server_ack_buckets(clients[0])
        )
    finally:
        for client in clients:
            await client.close()
        await stop_servers(servers, log_path)
        sink_server.close()
        for connection in list(sink.connections):
            if connection.transport is not None:
                connection.transport.close()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        keys_client = redis.Redis.from_url(redis_url)
        keys = list(keys_client.scan_iter(f"{prefix}:*"))
        if keys:
            keys_client.delete(*keys)
    speed_after, trip_after = host_speed_ms(), round_trip_us()

    total = args.users * args.messages
    duplicates = sum(len(times) - 1 for times in sink.arrivals.values() if len(times) > 1)
    violations = sum(
        sum(1 for a, b in itertools.pairwise(seqs) if b < a) for seqs in sink.order.values()
    )
    # Lost: never arrived at all, including the 1 s grace after the run (a reply that
    # came after its user stopped waiting is late, not lost).
    lost = sum(1 for text in itertools.chain(warm.texts, timed.texts) if text not in sink.arrivals)
    late = len(timed.lost) + len(warm.lost) - lost
    first_send = min(timed.sends) if timed.sends else float("nan")
    last_reply = max(timed.replies) if timed.replies else float("nan")
    window = max(last_reply - first_send, 1e-9)
    print(
        f"users={args.users} messages/user={args.messages} total={total} "
        f"server processes={args.server_workers} worker processes={args.workers} "
        f"worker nice={args.server_nice} warm-up={warmup} "
        + (f"open loop at {args.rate:g}/s" if args.rate else "closed loop")
    )
    print("| metric | value |\n|---|---|")
    print(f"| messages/s | {len(timed.replies) / window:.0f} |")
    if args.rate:
        sends = timed.sends
        send_window = max(sends) - min(sends) if len(sends) > 1 else float("nan")
        print(f"| offered rate (messages/s) | {args.rate:g} |")
        print(f"| sent rate (messages/s) | {(len(sends) - 1) / send_window:.1f} |")
        print(
            "| achieved rate (replies/s, first send to last reply) | "
            f"{len(timed.replies) / window:.1f} |"
        )
        lateness = timed.lateness
        print(
            "| send lateness p50 / p99 / max (ms) | "
            f"{ms(lateness, 0.5)} / {ms(lateness, 0.99)} / {max(lateness) * 1000:.1f} |"
        )
    acks, e2e = timed.acks, timed.e2e
    print(
        f"| webhook ack p50 / p99 / max (ms) | {ms(acks, 0.5)} / {ms(acks, 0.99)} / "
        f"{ms(acks, 1.0)} |"
    )
    print(
        f"| end-to-end p50 / p99 / max (ms) | {ms(e2e, 0.5)} / {ms(e2e, 0.99)} / {ms(e2e, 1.0)} |"
    )
    print(f"| mean end-to-end (ms) | {statistics.fmean(e2e) * 1000 if e2e else float('nan'):.1f} |")
    print(f"| server-side ack histogram (first server, timed) | {server_acks} |")
    per = 1000 / total
    print(
        "| CPU ms per message: server processes / load generator / Postgres+Redis "
        f"/ whole machine | {server_cpu * per:.1f} / {own_cpu * per:.1f} / "
        f"{services_cpu * per:.1f} / {busy * per:.1f} |"
    )
    cores = os.cpu_count() or 1
    print(
        "| host speed: fixed Python loop before / after the run (ms, lower is faster) | "
        f"{speed_before:.1f} / {speed_after:.1f} |"
    )
    print(
        "| host wake-up: process round trip over a socket before / after (us) | "
        f"{trip_before:.1f} / {trip_after:.1f} |"
    )
    print(
        "| CPU stolen by the hypervisor in the window (% of all cores) | "
        f"{100 * steal / (window * cores):.1f} |"
    )
    print(f"| duplicates | {duplicates} |")
    print(f"| order violations | {violations} |")
    print(f"| lost | {lost} |")
    if late:
        print(f"| replies later than {REPLY_TIMEOUT:.0f} s (not lost) | {late} |")
    if sink.errors:
        print(f"| sends the sink could not parse | {sink.errors} |")


if __name__ == "__main__":
    uvloop.run(main())
