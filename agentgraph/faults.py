"""Fault injection for crash tests: die (or raise) at a named point of a turn.

Exactly-once delivery and money movement are claims about crashes, so the tests
crash the code at each point where something becomes durable: right after a money
movement commits (`after_effect`), after a turn's final checkpoint and before its
replies are committed (`after_checkpoint`), after the outbox commit and before any
send (`after_commit`), and after Meta accepted a send and before it is recorded
(`after_send`). `Faults.point(name)` does nothing unless `AGENTGRAPH_CRASH_AT` names
that point; then the process SIGKILLs itself, as a power cut would, or, with
`AGENTGRAPH_CRASH_MODE=raise`, raises `SimulatedCrash` (a `BaseException`, so no
handler meant for ordinary errors swallows it) for in-process tests. Both settings
are for tests only and unset in operation.
"""

from __future__ import annotations

import os
import signal
from typing import Literal, get_args

from agentgraph.config import CrashPoint, Settings

__all__ = ["NO_FAULTS", "CrashPoint", "Faults", "SimulatedCrash"]

CRASH_POINTS: tuple[str, ...] = get_args(CrashPoint)


class SimulatedCrash(BaseException):
    """Raised at a crash point in `raise` mode: the process 'died' there."""


class Faults:
    """Where this process is set to crash, if anywhere."""

    def __init__(
        self, at: CrashPoint | None = None, mode: Literal["kill", "raise"] = "kill"
    ) -> None:
        self.at = at
        self.mode = mode

    @classmethod
    def from_settings(cls, settings: Settings) -> Faults:
        """The faults `AGENTGRAPH_CRASH_AT` and `AGENTGRAPH_CRASH_MODE` ask for."""
        return cls(settings.crash_at, settings.crash_mode)

    def point(self, name: CrashPoint) -> None:
        """Crash here when this is the configured point; otherwise do nothing."""
        if self.at != name:
            return
        if self.mode == "raise":
            raise SimulatedCrash(name)
        os.kill(os.getpid(), signal.SIGKILL)


NO_FAULTS = Faults()
