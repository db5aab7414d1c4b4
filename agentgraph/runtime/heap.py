"""Garbage-collector settings for long-running server and worker processes.

Every message allocates many short-lived objects (LangGraph state and tasks,
messages, pydantic models, SQL rows). CPython's cyclic collector runs a young pass
every 700 net allocations, and from time to time a full pass over every tracked
object, including the hundreds of thousands that start-up created and that live
until exit (modules, the compiled graph, pydantic schemas, the app). In a serving
process under load that was about 2.5% of its CPU (timed with `gc.callbacks`).

`settle_heap()`, called once a process has started (the server's lifespan, the
worker's start-up):

- `gc.freeze()` moves every object alive at that point into the permanent
  generation, so later passes no longer walk them;
- the young-generation threshold goes from 700 to `GEN0_THRESHOLD`, so young passes
  run that many times less often. Cycles are still collected; what waits for a pass
  is at most the garbage of a few messages.

It acts once per process (a test process that starts many apps freezes once).

A closed connection leaves the server's objects for it (uvicorn's protocol, the
asyncio transport, the socket, parser buffers: about 7,000 objects per 500
WebSockets) in reference cycles, which only a full pass frees. Connections live long
enough to reach the oldest generation, whose passes CPython runs rarely, so a server
taking bursts of WebSocket connections grew from 145 to 306 MB over 16 bursts of 500
before a full pass ran (`bench/ws_memory.py`). `ConnectionSweeper.closed()` counts
closed connections and runs a full pass after every `SWEEP_EVERY`; with the start-up
heap frozen such a pass only walks what came after it (10 to 15 ms for 500 sockets'
garbage), and memory stays on a plateau.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable

GEN0_THRESHOLD = 10_000
SWEEP_EVERY = 256

_settled = False


def settle_heap(gen0_threshold: int = GEN0_THRESHOLD) -> bool:
    """Freeze the start-up heap and space out young collections; False if already done."""
    global _settled
    if _settled:
        return False
    _settled = True
    gc.collect()  # start-up garbage is freed, not frozen
    gc.freeze()
    young, middle, old = gc.get_threshold()
    gc.set_threshold(max(young, gen0_threshold), middle, old)
    return True


class ConnectionSweeper:
    """Runs a full garbage collection after every `every` closed connections."""

    def __init__(self, every: int = SWEEP_EVERY, collect: Callable[[], int] = gc.collect) -> None:
        if every < 1:
            raise ValueError("every must be at least 1")
        self.every = every
        self.sweeps = 0
        self._collect = collect
        self._closed = 0

    def closed(self) -> None:
        """Count one closed connection; every `every`th schedules a full pass on the
        running loop (after the closing task's step, so it never runs inside a handler)."""
        self._closed += 1
        if self._closed < self.every:
            return
        self._closed = 0
        asyncio.get_running_loop().call_soon(self._sweep)

    def _sweep(self) -> None:
        self.sweeps += 1
        self._collect()
