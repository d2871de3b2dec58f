"""Client-side rate limiting: exact sliding windows, shared by every task of a client.

Productive's limits (``shared/productive-api/README.md``, "Rate limits"): 100 requests / 10 s
per token, 4,000 / 30 min per organization, ``/reports/*`` 10 / 30 s, ``POST
/contracts/{id}/generate`` 50 / min (seed 003), salary writes 30 / 2 min.

Every request takes a :class:`Slot` in ``standard`` and ``organization`` and in its own class
where it has one. Each class is a *sliding-window log* of its last N requests. A slot is
occupied from the moment it is granted until the request's answer (or its failure) arrives,
and only then is it stamped, with that arrival time: a new request may go when fewer than N
slots are in flight or were answered within the last ``T + margin`` seconds.

Why this is exact whatever happens between grant and arrival (a new connection being opened,
an event loop busy decoding, a slow network): the server receives a request after the client
was granted its slot and before the client receives its answer. If request ``k`` is granted at
``g_k`` and an earlier request ``j`` is answered at ``a_j``, the server saw ``j`` at some
``r_j <= a_j`` and sees ``k`` at ``r_k >= g_k``; the gate grants ``k`` only when ``j``'s slot
has expired, ``g_k >= a_j + T + margin``, so ``r_k - r_j >= T``: no window of T seconds on the
server holds more than N requests. ``margin`` covers what the client cannot see: the clocks'
rates, and a request abandoned in flight (cancelled or timed out) that reaches the server after
it was given up. The cost of exactness is one answer's latency per window: a steady pull runs
at ``N / (T + latency + margin)`` requests per second, and no limiter that must hold the windows
whatever the delay can do better (the server may see ``j`` as late as ``a_j``).

A token bucket such as ``aiolimiter.AsyncLimiter(N, T)`` lets up to 2N through in one window
(``benchmarks/limiters.py`` measures it), which is why it is not used here.

Waiters are served first come, first served per class: a request blocked on one class (say,
``reports``) does not hold up requests that do not use that class, but no later request may
take a slot of a class that an earlier waiter is blocked on. A cancelled waiter takes no slot.
A 429 closes its class (:meth:`RateGate.pause`) for every task until the reset time.
:meth:`RateGate.close` fails every waiter at once.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import math
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Protocol

import attrs

from ._clock import Clock, LoopClock, TimerHandle
from ._errors import InvalidRequestError


@attrs.frozen
class Rate:
    """At most ``requests`` requests in any window of ``seconds`` seconds.

    ``margin`` (seconds) is added to the window after each answer, for what the client cannot
    see (the clocks' rates, a request abandoned in flight reaching the server late); by default
    ``min(0.1, 1% of seconds)``.
    """

    requests: int
    seconds: float
    margin: float | None = None

    def __attrs_post_init__(self) -> None:
        if self.requests < 1:
            raise ValueError(f"Rate.requests must be >= 1, not {self.requests}")
        if not self.seconds > 0:
            raise ValueError(f"Rate.seconds must be > 0, not {self.seconds}")
        if self.margin is not None and not self.margin >= 0:
            raise ValueError(f"Rate.margin must be >= 0, not {self.margin}")

    @property
    def effective_margin(self) -> float:
        """The margin in use, in seconds."""
        if self.margin is not None:
            return self.margin
        return min(0.1, 0.01 * self.seconds)


_CLASSES = ("standard", "organization", "reports", "contract_generation", "salaries")

#: The classes Productive counts per API token; the others are counted per organization
#: (``organization`` by definition; contract generation and salary writes are not documented
#: as per token, so they are shared by all tokens of an organization, the safe reading).
PER_TOKEN_CLASSES = frozenset({"standard", "reports"})


@attrs.frozen
class RateLimits:
    """The limits a client keeps to; defaults are Productive's documented limits.

    ``standard``: per token, every request. ``organization``: per organization, every request.
    ``reports``: ``/reports/*``. ``contract_generation``: ``POST /contracts/{id}/generate``.
    ``salaries``: salary writes. ``None`` switches a class off (e.g. for a mock server).
    ``standard`` and ``reports`` are counted per token, the others per organization (what
    matters when several tokens share a :class:`~productive_async.RedisBackend`).
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

    def scaled(self, share: float) -> RateLimits:
        """These limits with ``share`` (0 < share <= 1) of each class's requests, at least
        one per window (a process's part of a shared budget)."""
        return RateLimits(**{
            name: None if (rate := getattr(self, name)) is None
            else attrs.evolve(rate, requests=max(1, math.floor(rate.requests * share)))
            for name in _CLASSES
        })


def classes_for(rate_class: str | None) -> tuple[str, ...]:
    """The classes a request of ``rate_class`` belongs to: ``standard``, ``organization`` and
    its own class if any."""
    names = ("standard", "organization")
    return (*names, rate_class) if rate_class else names


def class_matching(limits: RateLimits, limit: int | None, period: float | None) -> str | None:
    """The class of ``limits`` whose rate is ``limit`` requests per ``period`` seconds (the
    ``limit``/``period`` members of a 429 body), or None."""
    if limit is None or period is None:
        return None
    for name, rate in limits.as_dict().items():
        if rate.requests == limit and math.isclose(rate.seconds, period):
            return name
    return None


class Gate(Protocol):
    """What the transport needs of a rate gate: :class:`RateGate` (one process) or the gate
    of a :class:`~productive_async.RedisBackend` (shared by processes)."""

    limits: RateLimits

    def classes_for(self, rate_class: str | None) -> tuple[str, ...]: ...

    async def acquire(self, classes: Iterable[str]) -> Slot: ...

    def release(self, slot: Slot, at: float | None = None) -> None: ...

    def pause(self, classes: Iterable[str], until: float) -> None: ...

    def class_matching(self, limit: int | None, period: float | None) -> str | None: ...

    def free_in(self, rate_class: str | None = None) -> float: ...

    def close(self) -> None: ...

    async def wait_closed(self) -> None: ...


class SlidingWindow:
    """The log of one rate class: slots in flight, and the answer times of the others."""

    __slots__ = ("answered", "in_flight", "margin", "name", "rate")

    def __init__(self, name: str, rate: Rate) -> None:
        self.name = name
        self.rate = rate
        self.margin = rate.effective_margin
        #: Slots granted and not yet released (their requests may reach the server any time).
        self.in_flight = 0
        #: Release (answer arrival) times of the slots still within the window, in order.
        self.answered: deque[float] = deque()

    def free_at(self, now: float) -> float:
        """Earliest time (monotonic seconds) at which one more slot may be granted: ``inf``
        while the N slots are all in flight (a release wakes the gate)."""
        span = self.rate.seconds + self.margin
        answered = self.answered
        while answered and answered[0] <= now - span:
            answered.popleft()
        free = self.rate.requests - self.in_flight
        if free <= 0:
            return math.inf
        if len(answered) < free:
            return -math.inf
        return answered[-free] + span

    def settle(self, at: float) -> None:
        """One slot in flight was answered at ``at``."""
        self.in_flight -= 1
        answered = self.answered
        if not answered or at >= answered[-1]:
            answered.append(at)
        else:
            bisect.insort(answered, at)


class Slot:
    """A granted request: it occupies its place in each window of its classes from
    ``granted_at`` until :meth:`RateGate.release` (monotonic seconds)."""

    __slots__ = ("granted_at", "released_at", "windows")

    def __init__(self, windows: tuple[SlidingWindow, ...], granted_at: float) -> None:
        self.windows = windows
        self.granted_at = granted_at
        #: When the slot was released (its answer arrived), or None while in flight.
        self.released_at: float | None = None

    def __repr__(self) -> str:
        classes = ",".join(w.name for w in self.windows) or "-"
        state = "in flight" if self.released_at is None else f"released {self.released_at:.3f}"
        return f"<Slot {classes} granted {self.granted_at:.3f} {state}>"


class _Waiter:
    __slots__ = ("classes", "future", "windows")

    def __init__(
        self,
        classes: tuple[str, ...],
        windows: tuple[SlidingWindow, ...],
        future: asyncio.Future[Slot],
    ) -> None:
        self.classes = classes
        self.windows = windows
        self.future = future


def _closed_error() -> InvalidRequestError:
    return InvalidRequestError("the client is closed; open a new Productive client")


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
        self._closed = False

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._closed

    def classes_for(self, rate_class: str | None) -> tuple[str, ...]:
        """The classes a request of ``rate_class`` belongs to: ``standard``, ``organization``
        and its own class if any. A class without a configured :class:`Rate` takes no slot but
        can still be paused by a 429."""
        return classes_for(rate_class)

    async def acquire(self, classes: Iterable[str]) -> Slot:
        """Wait for a slot in every class of ``classes``; returns the :class:`Slot`, which the
        caller must :meth:`release` when the request's answer (or failure) arrives.

        The time spent here is not part of any request timeout. If the waiting task is
        cancelled, no slot is taken (or the slot just granted is given back). Raises
        :class:`~productive_async.InvalidRequestError` once the gate is closed.
        """
        if self._closed:
            raise _closed_error()
        classes = tuple(classes)
        windows = tuple(self.windows[c] for c in classes if c in self.windows)
        if not windows and not self._waiters and self._paused_at(classes) <= self.clock.time():
            return Slot((), self.clock.time())
        future: asyncio.Future[Slot] = asyncio.get_running_loop().create_future()
        waiter = _Waiter(classes, windows, future)
        self._waiters.append(waiter)
        self._dispatch()
        try:
            return await future
        except asyncio.CancelledError:
            if not future.done() or future.cancelled():
                self._remove(waiter)
            elif future.exception() is None:
                self.give_back(future.result())
            self._dispatch()
            raise

    def release(self, slot: Slot, at: float | None = None) -> None:
        """The answer to ``slot``'s request (or its failure) arrived at ``at`` (default: now):
        the slot counts in its windows from then on, for ``T + margin`` seconds. Releasing a
        slot twice does nothing."""
        if slot.released_at is not None:
            return
        stamp = max(self.clock.time() if at is None else at, slot.granted_at)
        slot.released_at = stamp
        for window in slot.windows:
            window.settle(stamp)
        if slot.windows:
            self._dispatch()

    def pause(self, classes: Iterable[str], until: float) -> None:
        """Close ``classes`` until monotonic time ``until`` (seconds) for every task: a 429."""
        for name in classes:
            self.paused_until[name] = max(self.paused_until.get(name, -math.inf), until)
        self._dispatch()

    def note(self, classes: Iterable[str], at: float) -> None:
        """Count a request answered at monotonic time ``at`` (seconds) that was not granted
        here (by a shared budget this gate may take over from) in ``classes``' windows."""
        for name in classes:
            window = self.windows.get(name)
            if window is None:
                continue
            answered = window.answered
            span = window.rate.seconds + window.margin
            while answered and answered[0] <= at - span:
                answered.popleft()
            if not answered or at >= answered[-1]:
                answered.append(at)
            else:
                bisect.insort(answered, at)

    def close(self) -> None:
        """Fail every waiting :meth:`acquire` at once, and every later one, with
        :class:`~productive_async.InvalidRequestError` ("the client is closed")."""
        self._closed = True
        waiters, self._waiters = self._waiters, deque()
        for waiter in waiters:
            if not waiter.future.done():
                waiter.future.set_exception(_closed_error())
        self._schedule(math.inf)

    def class_matching(self, limit: int | None, period: float | None) -> str | None:
        """The class whose rate is ``limit`` requests per ``period`` seconds (a 429 body)."""
        return class_matching(self.limits, limit, period)

    async def wait_closed(self) -> None:
        """Nothing to wait for: the gate holds no connection (see :meth:`close`)."""

    # ------------------------------------------------------------------ internals

    def _paused_at(self, classes: tuple[str, ...]) -> float:
        return max((self.paused_until.get(c, -math.inf) for c in classes), default=-math.inf)

    def _remove(self, waiter: _Waiter) -> None:
        with contextlib.suppress(ValueError):
            self._waiters.remove(waiter)

    def give_back(self, slot: Slot) -> None:
        """``slot`` was granted but its request never sent (its task was cancelled, or it
        will go through another gate): it leaves its windows without counting."""
        if slot.released_at is None:
            slot.released_at = slot.granted_at
            for window in slot.windows:
                window.in_flight -= 1
            if slot.windows:
                self._dispatch()

    def _dispatch(self) -> None:
        # Waiters are looked at in arrival order and every class's capacity is the same for all
        # of them at this instant, so a later waiter can never take a slot of a class an earlier
        # one is waiting on, while waiters on other classes go ahead (first come, first served
        # per class).
        if self._closed:
            return
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
                    window.in_flight += 1
                waiter.future.set_result(Slot(waiter.windows, now))
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

    def free_in(self, rate_class: str | None = None) -> float:
        """Seconds until a request of ``rate_class`` could be granted (0.0: now; ``inf`` while
        every slot of one of its classes is in flight, waiting for answers), from the windows
        and 429 pauses. For progress displays; nothing is taken."""
        classes = self.classes_for(rate_class)
        now = self.clock.time()
        free = self._paused_at(classes)
        for name in classes:
            window = self.windows.get(name)
            if window is not None:
                free = max(free, window.free_at(now))
        return max(0.0, free - now)

    def snapshot(self) -> Mapping[str, int]:
        """Slots in each class's current log, in flight or answered (for diagnostics)."""
        return {name: w.in_flight + len(w.answered) for name, w in self.windows.items()}
