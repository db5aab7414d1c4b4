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
