"""`settle_heap`: the start-up heap is frozen and young collections spaced out, once
per process (run in a fresh interpreter, since the test process has started apps)."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import gc
from agentgraph.runtime.heap import GEN0_THRESHOLD, settle_heap

assert gc.get_freeze_count() == 0
before = gc.get_threshold()
assert settle_heap() is True
frozen = gc.get_freeze_count()
assert frozen > 10_000, frozen  # the imported modules' objects at least
assert gc.get_threshold() == (GEN0_THRESHOLD, before[1], before[2]), gc.get_threshold()
assert settle_heap() is False  # once per process
assert gc.get_freeze_count() == frozen
# cycles made afterwards are still collected
class Node:
    pass
a, b = Node(), Node()
a.other, b.other = b, a
del a, b
assert gc.collect() >= 2
print("ok")
"""


def test_settle_heap_freezes_once_and_spaces_out_young_collections():
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


async def test_the_sweeper_collects_once_per_batch_of_closed_connections():
    import asyncio

    from agentgraph.runtime.heap import ConnectionSweeper

    passes: list[int] = []
    sweeper = ConnectionSweeper(every=3, collect=lambda: passes.append(1) or 0)
    for _ in range(8):
        sweeper.closed()
    # Scheduled on the loop, not run inside the closing handler.
    assert passes == []
    await asyncio.sleep(0)
    assert (len(passes), sweeper.sweeps) == (2, 2)
    sweeper.closed()  # the ninth closes the third batch
    await asyncio.sleep(0)
    assert sweeper.sweeps == 3


def test_a_sweeper_needs_a_positive_batch():
    import pytest

    from agentgraph.runtime.heap import ConnectionSweeper

    with pytest.raises(ValueError, match="at least 1"):
        ConnectionSweeper(every=0)
