"""The rate gate under a controllable clock: no real sleeps, exact times."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import pytest

import productive_async as pa
from productive_async._ratelimit import RateGate


def max_in_window(times: Iterable[float], seconds: float) -> int:
    """The most events within any half-open window [t, t + seconds)."""
    ordered = sorted(times)
    best = start = 0
    for end in range(len(ordered)):
        while ordered[end] - ordered[start] >= seconds:
            start += 1
        best = max(best, end - start + 1)
    return best


async def acquire_all(
    gate: RateGate, clock: pa.FakeClock, n: int, classes: tuple[str, ...] = ("standard",),
    until: float = 1000.0,
) -> list[float]:
    tasks = [asyncio.create_task(gate.acquire(classes)) for _ in range(n)]
    while not all(t.done() for t in tasks) and clock.time() < until:
        await clock.advance(0.5)
    assert all(t.done() for t in tasks), "some waiters were never served"
    return [t.result() for t in tasks]


async def test_burst_never_exceeds_the_window_and_follows_the_ideal_schedule() -> None:
    clock = pa.FakeClock()
    gate = RateGate(pa.RateLimits.only(standard=pa.Rate(5, 10, margin=0)), clock)
    times = await acquire_all(gate, clock, 20)
    assert max_in_window(times, 10) == 5
    assert sorted(times) == [0.0] * 5 + [10.0] * 5 + [20.0] * 5 + [30.0] * 5


async def test_margin_delays_each_new_window_by_the_margin() -> None:
    clock = pa.FakeClock()
    gate = RateGate(pa.RateLimits.only(standard=pa.Rate(3, 10, margin=0.5)), clock)
    times = await acquire_all(gate, clock, 7)
    assert sorted(times) == [0.0] * 3 + [10.5] * 3 + [21.0]
    # Even with 0.5 s of jitter between send and arrival, no server window holds more than N.
    shifted = [t + (0.5 if i % 2 else 0.0) for i, t in enumerate(sorted(times))]
    assert max_in_window(shifted, 10) <= 3


async def test_two_windows_at_once_hold_both_properties() -> None:
    clock = pa.FakeClock()
    gate = RateGate(
        pa.RateLimits.only(standard=pa.Rate(4, 2, margin=0),
                           organization=pa.Rate(10, 10, margin=0)),
        clock,
    )
    times = await acquire_all(gate, clock, 30, ("standard", "organization"))
    assert max_in_window(times, 2) <= 4
    assert max_in_window(times, 10) <= 10
    # Earliest schedule: 4 at 0, 4 at 2, 2 at 4 (organization full), 4 at 10, 4 at 12, ...
    assert sorted(times)[:14] == [0.0] * 4 + [2.0] * 4 + [4.0] * 2 + [10.0] * 4


async def test_default_margin_keeps_a_steady_pull_at_97_percent_or_more() -> None:
    rate = pa.Rate(100, 10)
    assert rate.effective_margin == pytest.approx(0.2)
    assert pa.Rate(4000, 1800).effective_margin == 0.25
    clock = pa.FakeClock()
    gate = RateGate(pa.RateLimits.only(standard=rate), clock)
    times = sorted(await acquire_all(gate, clock, 1001))
    assert max_in_window(times, 10) == 100
    achieved = 1000 / (times[-1] - times[0])
    assert achieved >= 0.97 * 100 / 10


async def test_waiters_are_served_first_come_first_served() -> None:
    clock = pa.FakeClock()
    gate = RateGate(pa.RateLimits.only(standard=pa.Rate(1, 1, margin=0)), clock)
    order: list[int] = []

    async def worker(i: int) -> None:
        await gate.acquire(("standard",))
        order.append(i)

    tasks = []
    for i in range(6):
        tasks.append(asyncio.create_task(worker(i)))
        await clock.settle()
    await clock.advance(10)
    await asyncio.gather(*tasks)
    assert order == list(range(6))


async def test_a_waiter_blocked_on_its_own_class_does_not_hold_up_others() -> None:
    clock = pa.FakeClock()
    gate = RateGate(
        pa.RateLimits.only(standard=pa.Rate(100, 10, margin=0),
                           reports=pa.Rate(1, 30, margin=0)),
        clock,
    )
    await gate.acquire(("standard", "reports"))
    report = asyncio.create_task(gate.acquire(("standard", "reports")))
    await clock.settle()
    plain = asyncio.create_task(gate.acquire(("standard",)))
    await clock.settle()
    assert plain.done() and plain.result() == 0.0
    assert not report.done()
    await clock.advance(30)
    assert report.result() == 30.0


async def test_a_later_request_cannot_take_the_slot_an_earlier_waiter_waits_for() -> None:
    clock = pa.FakeClock()
    gate = RateGate(pa.RateLimits.only(standard=pa.Rate(2, 10, margin=0)), clock)
    await acquire_all(gate, clock, 2)
    first = asyncio.create_task(gate.acquire(("standard",)))
    await clock.settle()
    second = asyncio.create_task(gate.acquire(("standard",)))
    await clock.advance(10)
    assert first.result() == 10.0 and second.result() == 10.0


async def test_a_cancelled_waiter_takes_no_slot() -> None:
    clock = pa.FakeClock()
    gate = RateGate(pa.RateLimits.only(standard=pa.Rate(1, 10, margin=0)), clock)
    await gate.acquire(("standard",))
    doomed = asyncio.create_task(gate.acquire(("standard",)))
    await clock.settle()
    survivor = asyncio.create_task(gate.acquire(("standard",)))
    await clock.settle()
    doomed.cancel()
    await clock.advance(10)
    assert doomed.cancelled()
    assert survivor.result() == 10.0  # not 20.0: the cancelled waiter left no slot behind


async def test_a_slot_granted_to_a_task_cancelled_before_it_ran_is_given_back() -> None:
    clock = pa.FakeClock()
    gate = RateGate(pa.RateLimits.only(standard=pa.Rate(1, 10, margin=0)), clock)
    task = asyncio.create_task(gate.acquire(("standard",)))
    task.cancel()  # cancelled after the grant, before the task resumed
    with pytest.raises(asyncio.CancelledError):
        await task
    assert gate.snapshot()["standard"] == 0
    assert await gate.acquire(("standard",)) == 0.0


async def test_pause_closes_a_class_for_every_task_until_the_reset() -> None:
    clock = pa.FakeClock()
    gate = RateGate(pa.RateLimits.only(standard=pa.Rate(100, 10), reports=pa.Rate(10, 30)), clock)
    gate.pause(["reports"], until=7.0)
    report = asyncio.create_task(gate.acquire(("standard", "reports")))
    plain = asyncio.create_task(gate.acquire(("standard",)))
    await clock.advance(6.9)
    assert plain.done() and not report.done()
    await clock.advance(0.1)
    assert report.result() == 7.0


def test_class_matching_reads_a_429_body() -> None:
    gate = RateGate(pa.RateLimits())
    assert gate.class_matching(10, 30) == "reports"
    assert gate.class_matching(100, 10) == "standard"
    assert gate.class_matching(50, 60) == "contract_generation"
    assert gate.class_matching(7, 7) is None
    assert gate.class_matching(None, None) is None


def test_classes_for_a_request() -> None:
    gate = RateGate(pa.RateLimits())
    assert gate.classes_for(None) == ("standard", "organization")
    assert gate.classes_for("reports") == ("standard", "organization", "reports")
    # Without configured rates nothing takes a slot, but the classes can still be paused.
    assert RateGate(pa.RateLimits.unlimited()).classes_for("reports") == (
        "standard", "organization", "reports",
    )


async def test_pause_works_without_configured_rates() -> None:
    clock = pa.FakeClock()
    gate = RateGate(pa.RateLimits.unlimited(), clock)
    assert await gate.acquire(("standard",)) == 0.0  # nothing to wait for
    gate.pause(["standard"], until=3.0)
    waiting = asyncio.create_task(gate.acquire(("standard", "organization")))
    await clock.advance(2.9)
    assert not waiting.done()
    await clock.advance(0.1)
    assert waiting.result() == 3.0


@pytest.mark.parametrize(
    ("args", "message"),
    [((0, 10), "requests"), ((10, 0), "seconds"), ((10, 10, -1.0), "margin")],
)
def test_bad_rates_are_rejected(args: tuple[float, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        pa.Rate(*args)  # type: ignore[arg-type]


def test_default_limits_are_the_documented_ones() -> None:
    limits_ = pa.RateLimits()
    assert limits_.standard == pa.Rate(100, 10)
    assert limits_.organization == pa.Rate(4000, 1800)
    assert limits_.reports == pa.Rate(10, 30)
    assert limits_.contract_generation == pa.Rate(50, 60)
    assert limits_.salaries == pa.Rate(30, 120)


def test_only_limits_the_named_classes() -> None:
    limits_ = pa.RateLimits.only(standard=pa.Rate(40, 2))
    assert limits_.as_dict() == {"standard": pa.Rate(40, 2)}
    assert pa.RateLimits.unlimited().as_dict() == {}
    with pytest.raises(TypeError):
        pa.RateLimits.only(bogus=pa.Rate(1, 1))
