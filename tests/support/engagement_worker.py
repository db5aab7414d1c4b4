"""One conductor process for multi-process tests, stepped by its parent over stdin.

Run as `python -m tests.support.engagement_worker EVENT_ID SEED` with `DATABASE_URL`
and `REDIS_URL` set (a migrated database). It opens the conductor on a `ManualClock`
(no background ticks), simulates the session `s1` of 50 attendees with a fixed seed
(so every worker sees the same signals, as Redis would deliver them to all), prints
`ready`, then answers one line per command:

- `HIGH` / `LOW`: feed one 5-second step at those rates, advance the clock 5 s, tick,
  wait for the graph runs this tick started; prints `done`.
- `dump`: prints the organizer messages this process published, as one JSON list.
- `quit`: stops the conductor and exits.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from agentgraph.clock import ManualClock
from agentgraph.config import Settings
from agentgraph.engagement.detection.simulation import HIGH, LOW, AudienceSimulator
from agentgraph.persistence import open_persistence
from tests.support.engagement import hand_ticked

STEP = 5.0
SIGNAL_SEED = 5


async def main(event_id: str, seed: int) -> None:
    settings = Settings()
    clock = ManualClock()
    async with (
        open_persistence(settings) as persistence,
        hand_ticked(settings, persistence, clock, seed=seed) as service,
    ):
        feed = service.hub.subscribe(event_id)
        seen: list[dict[str, Any]] = []
        sim = AudienceSimulator(50, SIGNAL_SEED)
        service.collector.ingest(event_id, "s1", [s for _, s in sim.joins(0)], "redis")
        print("ready", flush=True)
        loop = asyncio.get_running_loop()
        while True:
            command = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
            if command in ("HIGH", "LOW"):
                rates = HIGH if command == "HIGH" else LOW
                batch = [s for _, s in sim.step(clock.time(), STEP, rates)]
                service.collector.ingest(event_id, "s1", batch, "redis")
                clock.advance(STEP)
                await service.tick()
                await service.drain()
                print("done", flush=True)
            elif command == "dump":
                while not feed.empty():
                    seen.append(feed.get_nowait())
                print(json.dumps(seen), flush=True)
            else:
                return


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
