"""A Redis pub/sub listener that survives Redis going away.

`ReconnectingListener` is the loop the signal bridge and the organizer relay share:
`_listen()` (the subclass's) subscribes, sets `connected` and handles messages until
it returns or fails; a failure is logged (a Redis or network error as a warning once
per outage, anything else with its traceback), counted in `reconnects` and through
`_lost()`, and followed by a wait of 0.2 s doubling to 5 s (cut short by `stop()`),
forever, until `stop()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod

from redis.exceptions import RedisError

__all__ = ["ReconnectingListener"]


class ReconnectingListener(ABC):
    """Subclasses set `what` (how logs name the feed) and define `_listen()`."""

    what = "Redis listener"

    def __init__(self) -> None:
        self.connected = False
        self.reconnects = 0
        self._stopping = asyncio.Event()
        self._log = logging.getLogger(type(self).__module__)

    @abstractmethod
    async def _listen(self) -> None:
        """Subscribe, set `connected`, and handle messages until stopping or a failure."""

    @abstractmethod
    def _lost(self) -> None:
        """Called once per failure of `_listen` (to count it in a metric)."""

    async def _pause(self, seconds: float) -> None:
        """Wait `seconds`, or less if `stop()` comes first."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    async def _listen_until_stopped(self) -> None:
        delay = 0.2
        while not self._stopping.is_set():
            try:
                await self._listen()
                delay = 0.2
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not isinstance(exc, RedisError | OSError):
                    self._log.exception("%s failed; reconnecting", self.what)
                elif self.connected:
                    self._log.warning("%s lost (%s); reconnecting", self.what, type(exc).__name__)
                self._lost()
                self.connected = False
                self.reconnects += 1
                await self._pause(delay)
                delay = min(delay * 2, 5.0)
