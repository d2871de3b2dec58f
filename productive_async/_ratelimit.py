"""Client-side rate limiting: strict sliding windows, shared by every task of a client.

Productive's limits (``shared/productive-api/README.md``, "Rate limits"): 100 requests / 10 s
per token, 4,000 / 30 min per organization, ``/reports/*`` 10 / 30 s, ``POST
/contracts/{id}/generate`` 50 / min (seed 003), salary writes 30 / 2 min.

Every request takes a slot from ``standard`` and ``organization`` and from its own class where
it has one. Each class is a *sliding-window log*: the send times of its last N requests. A new
request may go when the oldest of them is more than ``T + margin`` seconds old, so no window of
T seconds ever holds more than N requests, even after up to ``margin`` seconds of network jitter
between send and arrival. This is also the fastest schedule that keeps that property (the
"ideal schedule" of ``benchmarks/``). A token bucket such as ``aiolimiter.AsyncLimiter(N, T)``
lets up to 2N through in one window, which is why it is not used here.

Waiters are served first come, first served per class: a request blocked on one class (say,
``reports``) does not hold up requests that do not use that class, but no later request may
take a slot of a class that an earlier waiter is blocked on. A cancelled waiter takes no slot.
A 429 closes its class (:meth:`RateGate.pause`) for every task until the reset time.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections import deque
from collections.abc import Iterable, Mapping

import attrs

from ._clock import Clock, LoopClock, TimerHandle


@attrs.frozen
class Rate:
    """At most ``requests`` requests in any window of ``seconds`` seconds.

    ``margin`` (seconds) is added to the window to absorb send-to-arrival jitter; by default
    ``min(0.25, 2% of seconds)``, which keeps a steady pull at >= 98% of the nominal rate.
    """

    requests: int
    seconds: float
    margin: float | None = None

    def __attrs_post_init__(self) -> None:
        if self.requests < 1:
            raise ValueError(f"Rate.requests must be >= 1, not {self.requests}")
        if not self.seconds > 0:
            raise ValueError(f"Rate.seconds must be > 0, not {self.seconds}")
        if self.margin is not None and self.margin < 0:
            raise ValueError(f"Rate.margin must be >= 0, not {self.margin}")

    @property
    def effective_margin(self) -> float:
        """The margin in use, in seconds."""
        if self.margin is not None:
            return self.margin
        return min(0.25, 0.02 * self.seconds)


_CLASSES = ("standard", "organization", "reports", "contract_generation", "salaries")


@attrs.frozen
class RateLimits:
    """The limits a client keeps to; defaults are Productive's documented limits.

    ``standard``: per token, every request. ``organization``: per organization, every request.
    ``reports``: ``/reports/*``. ``contract_generation``: ``POST /contracts/{id}/generate``.
    ``salaries``: salary writes. ``None`` switches a class off (e.g. for a mock server).
    """

    standard: Rate | None = Rate(100, 10)
    organization: Rate | None = Rate(4000, 1800)
    reports: Rate | None = Rate(10, 30)
    contract_generation: Rate | None = Rate(50, 60)
    salaries: Rate | None = Rate(30, 120)

    @classmethod
    def only(cls, **classes: Rate) -> RateLimits:
        """Limits for the named classes only, every other class off:
        ``RateLimits.only(standard=Rate(40, 2))`` (e.g. a sandbox with scaled-down limits).
        Raises :class:`TypeError` for an unknown class name."""
        return cls(**{**dict.fromkeys(_CLASSES), **classes})

    @classmethod
    def unlimited(cls) -> RateLimits:
        """No client-side limits at all (for tests against a fake server)."""
        return cls.only()

    def as_dict(self) -> dict[str, Rate]:
        """The active classes by name."""
        return {
            name: rate for name in _CLASSES if (rate := getattr(self, name)) is not None
        }


class SlidingWindow:
    """The send-time log of one rate class."""

    __slots__ = ("margin", "name", "rate", "sent")

    def __init__(self, name: str, rate: Rate) -> None:
        self.name = name
        self.rate = rate
        self.margin = rate.effective_margin
        self.sent: deque[float] = deque()

    def free_at(self, now: float) -> float:
        """Earliest time (monotonic seconds) at which one more request may be sent."""
        span = self.rate.seconds + self.margin
        sent = self.sent
        while sent and sent[0] <= now - span:
            sent.popleft()
        if len(sent) >= self.rate.requests:
            return sent[-self.rate.requests] + span
        return -math.inf


class _Waiter:
    __slots__ = ("classes", "future", "windows")

    def __init__(
        self,
        classes: tuple[str, ...],
        windows: tuple[SlidingWindow, ...],
        future: asyncio.Future[float],
    ) -> None:
        self.classes = classes
        self.windows = windows
        self.future = future


class RateGate:
    """All the rate classes of one client, and the queue of requests waiting for a slot."""

    def __init__(self, limits: RateLimits, clock: Clock | None = None) -> None:
        self.limits = limits
        self.clock: Clock = clock or LoopClock()
        self.windows: dict[str, SlidingWindow] = {
            name: SlidingWindow(name, rate) for name, rate in limits.as_dict().items()
        }
        #: Monotonic time (seconds) until which a class is closed after a 429, per class name;
        #: kept whether or not the class has a window of its own (limits switched off).
        self.paused_until: dict[str, float] = {}
        self._waiters: deque[_Waiter] = deque()
        self._timer: TimerHandle | None = None
        self._timer_at = math.inf

    def classes_for(self, rate_class: str | None) -> tuple[str, ...]:
        """The classes a request of ``rate_class`` belongs to: ``standard``, ``organization``
        and its own class if any. A class without a configured :class:`Rate` takes no slot but
        can still be paused by a 429."""
        names = ("standard", "organization")
        return (*names, rate_class) if rate_class else names

    async def acquire(self, classes: Iterable[str]) -> float:
        """Wait for a slot in every class of ``classes``; returns the send time (seconds).

        The time spent here is not part of any request timeout. If the waiting task is
        cancelled, no slot is taken (or the slot just granted is given back).
        """
        classes = tuple(classes)
        windows = tuple(self.windows[c] for c in classes if c in self.windows)
        if not windows and not self._waiters and self._paused_at(classes) <= self.clock.time():
            return self.clock.time()
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        waiter = _Waiter(classes, windows, future)
        self._waiters.append(waiter)
        self._dispatch()
        try:
            return await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self._give_back(windows, future.result())
            else:
                self._remove(waiter)
            self._dispatch()
            raise

    def pause(self, classes: Iterable[str], until: float) -> None:
        """Close ``classes`` until monotonic time ``until`` (seconds) for every task: a 429."""
        for name in classes:
            self.paused_until[name] = max(self.paused_until.get(name, -math.inf), until)
        self._dispatch()

    def class_matching(self, limit: int | None, period: float | None) -> str | None:
        """The class whose rate is ``limit`` requests per ``period`` seconds (a 429 body)."""
        if limit is None or period is None:
            return None
        for name, window in self.windows.items():
            if window.rate.requests == limit and math.isclose(window.rate.seconds, period):
                return name
        return None

    # ------------------------------------------------------------------ internals

    def _paused_at(self, classes: tuple[str, ...]) -> float:
        return max((self.paused_until.get(c, -math.inf) for c in classes), default=-math.inf)

    def _remove(self, waiter: _Waiter) -> None:
        with contextlib.suppress(ValueError):
            self._waiters.remove(waiter)

    def _give_back(self, windows: tuple[SlidingWindow, ...], sent_at: float) -> None:
        for window in windows:
            with contextlib.suppress(ValueError):
                window.sent.remove(sent_at)

    def _dispatch(self) -> None:
        # Waiters are looked at in arrival order and every class's capacity is the same for all
        # of them at this instant, so a later waiter can never take a slot of a class an earlier
        # one is waiting on, while waiters on other classes go ahead (first come, first served
        # per class).
        now = self.clock.time()
        wake_at = math.inf
        remaining: deque[_Waiter] = deque()
        for waiter in self._waiters:
            if waiter.future.done():
                continue
            free_at = max(
                self._paused_at(waiter.classes),
                max((w.free_at(now) for w in waiter.windows), default=-math.inf),
            )
            if free_at <= now:
                for window in waiter.windows:
                    window.sent.append(now)
                waiter.future.set_result(now)
            else:
                remaining.append(waiter)
                wake_at = min(wake_at, free_at)
        self._waiters = remaining
        self._schedule(wake_at)

    def _schedule(self, when: float) -> None:
        if when == self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timer_at = when
        if when < math.inf:
            self._timer = self.clock.call_at(when, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = math.inf
        self._dispatch()

    def snapshot(self) -> Mapping[str, int]:
        """Requests in each class's current log (for diagnostics)."""
        return {name: len(w.sent) for name, w in self.windows.items()}
