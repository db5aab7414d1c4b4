"""What OpenTelemetry export costs a WhatsApp turn: the same messages with export off
and on (to a local OTLP/HTTP receiver standing in for a collector).

Runs the real app in this process (SQLite, the offline model, demo data, dev outbox),
posts `--turns` signed "what is my balance" webhooks one after another (ten seeded
users in turn; each message is webhook -> queue -> turn -> two tool calls -> send,
seven spans when export is on) and waits for each reply, after `--warmup` messages
that count in nothing. Prints p50/p95 end-to-end latency and process CPU per message
(the exporter's thread included), export off then on, `--rounds` times.

    python bench/otel_overhead.py [--turns 50] [--warmup 5] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agentgraph.config import Settings
from agentgraph.domain.seed import seed_demo
from tests.support.otlp_receiver import OtlpReceiver
from tests.support.whatsapp import (
    channel_settings,
    post_signed,
    running_app,
    settle,
    text_message,
    webhook,
)


async def run(turns: int, warmup: int, endpoint: str | None) -> tuple[list[float], float]:
    with tempfile.TemporaryDirectory() as data:
        base = Settings(AGENTGRAPH_DATA_DIR=Path(data), AGENTGRAPH_OFFLINE=True)
        settings = channel_settings(base, None, otel_exporter_otlp_endpoint=endpoint)
        latencies: list[float] = []
        async with running_app(settings, model=None) as (http, channel):
            await seed_demo(channel.assistant.persistence.domain)
            cpu = 0.0
            for n in range(warmup + turns):
                user = f"2507880000{n % 10 + 1:02d}"
                raw = webhook([text_message("what is my balance", wa_id=user)])
                started, cpu_started = time.perf_counter(), time.process_time()
                response = await post_signed(http, raw)
                assert response.status_code == 200
                await settle(channel)
                if n >= warmup:
                    latencies.append((time.perf_counter() - started) * 1000)
                    cpu += time.process_time() - cpu_started
        return latencies, cpu * 1000 / turns


def row(label: str, latencies: list[float], cpu_ms: float) -> str:
    p50 = statistics.median(latencies)
    p95 = statistics.quantiles(latencies, n=20)[-1]
    return f"| {label} | {len(latencies)} | {p50:.1f} | {p95:.1f} | {cpu_ms:.1f} |"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--turns", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    print("| round | export | messages | p50 ms | p95 ms | CPU ms / message |")
    print("|---|---|---|---|---|---|")
    # Alternating, so what the first run in a process pays (imports, first graph
    # compile, caches) is not charged to one side; compare the later rounds.
    for n in range(1, args.rounds + 1):
        print(row(f"{n} | off", *await run(args.turns, args.warmup, None)), flush=True)
        with OtlpReceiver() as receiver:
            on = await run(args.turns, args.warmup, receiver.url)
            spans = len(receiver.snapshot())
        print(row(f"{n} | on ({spans} spans received)", *on), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
