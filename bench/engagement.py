"""Engagement conductor at scale: ingest rate, tick time, detection quality.

1. Load: `--sessions` (1,000) sessions of `--attendees` (50) attendees each send
   generated signals (steady HIGH rates) for `--minutes` of simulated time. Frames
   are JSON-encoded up front; the timed part is exactly what the signal WebSocket
   does per frame (`parse_frame` + `SignalCollector.ingest`). Every 5 s of
   simulated time the collector ticks over all sessions (score + detector), timed.
2. Detection: generated traces (agentgraph.engagement.detection.simulation) on `--traces`
   seeds per scenario: false alarms per session-hour on steady traces and the delay
   from the change to the first matching anomaly on drop, decline, spike and mass
   exit traces.
3. WebSocket: `--ws-clients` concurrent attendee sockets against the real app under
   uvicorn (one process), each sending `--ws-frames` frames of 10 signals.

    python bench/engagement.py [--sessions 1000] [--attendees 50] [--minutes 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agentgraph.clock import ManualClock
from agentgraph.config import Settings
from agentgraph.engagement.detection.anomaly import DetectorConfig
from agentgraph.engagement.detection.collector import SignalCollector
from agentgraph.engagement.detection.simulation import (
    CHANGE_AT,
    HIGH,
    SCENARIOS,
    AudienceSimulator,
    run_trace,
)
from agentgraph.engagement.signals.parsing import parse_frame

TICK = 5.0


def pct(values: list[float], q: float) -> float:
    """The `q` quantile of `values` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def load(sessions: int, attendees: int, minutes: float) -> None:
    """Time ingest and ticks for `sessions` sessions over `minutes` of simulated time."""
    clock = ManualClock(0.0)
    collector = SignalCollector(
        clock=clock, window_seconds=60, idle_seconds=600, detector_config=DetectorConfig()
    )
    sims = [AudienceSimulator(attendees, seed=i, prefix=f"s{i}u") for i in range(sessions)]
    for i, sim in enumerate(sims):
        frame = json.dumps([{"type": "join", "user": s.user} for _, s in sim.joins(0)])
        signals, _ = parse_frame(frame)
        collector.ingest("bench", f"s{i}", signals, "bench")
    ingest_seconds, signals_total, ticks, alarms = 0.0, 0, [], 0
    for _ in range(int(minutes * 60 / TICK)):
        frames = []
        for i, sim in enumerate(sims):
            batch = sim.step(clock.time(), TICK, HIGH)
            # One frame per attendee action burst: ~1 s of a session's signals.
            for start in range(0, len(batch), 2):
                chunk = batch[start : start + 2]
                frames.append(
                    (
                        f"s{i}",
                        json.dumps([{"type": s.type, "user": s.user, "ts": at} for at, s in chunk]),
                    )
                )
        started = time.perf_counter()
        for session_id, frame in frames:
            signals, _ = parse_frame(frame)
            collector.ingest("bench", session_id, signals, "bench")
            signals_total += len(signals)
        ingest_seconds += time.perf_counter() - started
        clock.advance(TICK)
        started = time.perf_counter()
        results = collector.tick()
        ticks.append(time.perf_counter() - started)
        alarms += sum(len(r.anomalies) for r in results)
    hours = sessions * minutes / 60
    print(f"## Load: {sessions} sessions x {attendees} attendees, {minutes:g} simulated min\n")
    print("| metric | value |\n|---|---|")
    print(f"| signals ingested | {signals_total:,} |")
    print(f"| ingest rate (parse + windows), signals/s | {signals_total / ingest_seconds:,.0f} |")
    print(
        f"| tick over all sessions, p50 / p95 / max ms | {statistics.median(ticks) * 1000:.1f}"
        f" / {pct(ticks, 0.95) * 1000:.1f} / {max(ticks) * 1000:.1f} |"
    )
    print(f"| tick budget used at 5 s ticks (p95) | {pct(ticks, 0.95) / TICK:.1%} |")
    print(
        f"| anomalies on these steady sessions (incl. warm-up) | {alarms} "
        f"({alarms / hours:.3f} per session-hour) |\n"
    )


def detection(traces: int) -> None:
    """False alarms and detection delays on generated traces, `traces` seeds per scenario."""
    print(
        f"## Detection on generated traces ({traces} seeds per scenario, 50 attendees, "
        "5 s ticks, 60 s windows)\n"
    )
    print("| scenario | false alarms / session-hour | detected | delay p50 / p90 / max s |")
    print("|---|---|---|---|")
    for name in ("steady_high", "steady_medium"):
        alarms = sum(
            len(run_trace(SCENARIOS[name], minutes=60, seed=s).anomalies) for s in range(traces)
        )
        print(f"| {name} (60 min) | {alarms / traces:.3f} | - | - |")
    wanted = {
        "drop": ("sudden_drop", "sustained_low"),
        "decline": ("gradual_decline", "sudden_drop", "sustained_low"),
        "spike": ("spike",),
        "mass_exit": ("mass_exit",),
    }
    for name, kinds in wanted.items():
        delays, early = [], 0
        for seed in range(traces):
            trace = run_trace(SCENARIOS[name], minutes=25, seed=seed)
            early += sum(1 for a in trace.anomalies if a.detected_at < CHANGE_AT)
            hit = [a for a in trace.anomalies if a.detected_at >= CHANGE_AT and a.type in kinds]
            if hit:
                delays.append(hit[0].detected_at - CHANGE_AT)
        fa = early / (traces * CHANGE_AT / 3600)
        summary = (
            f"{statistics.median(delays):.0f} / {pct(delays, 0.9):.0f} / {max(delays):.0f}"
            if delays
            else "-"
        )
        print(
            f"| {name} (change at {CHANGE_AT:.0f} s) | {fa:.3f} (before the change) | "
            f"{len(delays)}/{traces} | {summary} |"
        )
    print()


async def websocket_ingest(clients: int, frames_per_client: int) -> None:
    """Signal frames per second through the real app's WebSocket under uvicorn."""
    from websockets.asyncio.client import connect

    from server.app import create_app
    from tests.support.live_server import live_server

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(AGENTGRAPH_DATA_DIR=Path(tmp), AGENTGRAPH_OFFLINE=True)
        app = create_app(settings)
        async with live_server(app) as base:
            url = base.replace("http://", "ws://")
            frame = json.dumps([{"type": "chat", "user": f"u{i}"} for i in range(10)])
            per_client = int(frames_per_client)

            async def attendee(index: int) -> None:
                async with connect(f"{url}/v1/events/bench/sessions/s{index}/signals") as ws:
                    for _ in range(per_client):
                        await ws.send(frame)
                    # Frames are handled in order: the error reply to a bad frame means
                    # every frame before it has been recorded.
                    await ws.send("barrier")
                    await ws.recv()

            started = time.monotonic()
            await asyncio.gather(*(attendee(i) for i in range(clients)))
            elapsed = time.monotonic() - started
            seen = sum(
                s.windows.signals_total for s in app.state.engagement.collector._sessions.values()
            )
    print(f"## WebSocket ingest: {clients} sockets, one uvicorn process\n")
    print("| metric | value |\n|---|---|")
    print(f"| signals recorded | {seen:,} in {elapsed:.2f} s |")
    print(f"| signals/s recorded (10 per frame) | {seen / elapsed:,.0f} |\n")


def main() -> None:
    """Parse the arguments and print each table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--attendees", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--traces", type=int, default=100)
    parser.add_argument("--ws-clients", type=int, default=50)
    parser.add_argument("--ws-frames", type=int, default=2000, help="frames per socket")
    args = parser.parse_args()
    load(args.sessions, args.attendees, args.minutes)
    detection(args.traces)
    asyncio.run(websocket_ingest(args.ws_clients, args.ws_frames))


if __name__ == "__main__":
    main()
