"""Time, behind a small interface so limiters and retries can be tested without sleeping.

:class:`LoopClock` is the real one (the running event loop's monotonic clock).
:class:`FakeClock` is a user-facing test double: time stands still until ``advance()`` moves it,
running every timer that falls due on the way (like stamina's testing switches).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable
from typing import Protocol


class TimerHandle(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    """What the limiter and the retry loop need of time. Units: seconds (float)."""

    def time(self) -> float:
        """Monotonic time now, in seconds."""
        ...

    def call_at(self, when: float, callback: Callable[[], None]) -> TimerHandle:
        """Run ``callback`` at monotonic time ``when`` (seconds)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Suspend the calling task for ``seconds``."""
        ...


class LoopClock:
    """The running event loop's clock (``loop.time()``)."""

    def time(self) -> float:
        """The event loop's monotonic time, in seconds."""
        return asyncio.get_running_loop().time()

    def call_at(self, when: float, callback: Callable[[], None]) -> TimerHandle:
        """Run ``callback`` at loop time ``when`` (seconds)."""
        return asyncio.get_running_loop().call_at(when, callback)

    async def sleep(self, seconds: float) -> None:
        """``asyncio.sleep`` (negative values sleep 0)."""
        await asyncio.sleep(max(0.0, seconds))


class _FakeHandle:
    __slots__ = ("callback", "cancelled", "when")

    def __init__(self, when: float, callback: Callable[[], None]) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class FakeClock:
    """A controllable clock for tests: ``await clock.advance(2.5)`` moves time by 2.5 s.

    Timers fire in time order while advancing, and the event loop gets to run the woken tasks
    between timers, so code under test sees exactly the times it would see for real.
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._timers: list[tuple[float, int, _FakeHandle]] = []
        self._seq = itertools.count()

    def time(self) -> float:
        """The fake time, in seconds; moves only with :meth:`advance`."""
        return self._now

    def call_at(self, when: float, callback: Callable[[], None]) -> TimerHandle:
        """Run ``callback`` when :meth:`advance` reaches ``when`` (seconds)."""
        handle = _FakeHandle(when, callback)
        heapq.heappush(self._timers, (when, next(self._seq), handle))
        return handle

    async def sleep(self, seconds: float) -> None:
        """Suspend until :meth:`advance` has moved time ``seconds`` further."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def wake() -> None:
            if not future.done():
                future.set_result(None)

        handle = self.call_at(self._now + max(0.0, seconds), wake)
        try:
            await future
        finally:
            handle.cancel()

    async def settle(self) -> None:
        """Let every runnable task run until none is runnable (time does not move)."""
        for _ in range(200):
            await asyncio.sleep(0)

    async def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``, firing due timers in order."""
        target = self._now + seconds
        await self.settle()
        while self._timers and self._timers[0][0] <= target:
            when, _, handle = heapq.heappop(self._timers)
            if handle.cancelled:
                continue
            self._now = max(self._now, when)
            handle.callback()
            await self.settle()
        self._now = target
        await self.settle()
