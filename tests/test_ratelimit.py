"""The rate gate under a controllable clock: no real sleeps, exact times."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence

import pytest

import productive_async as pa
from productive_async._ratelimit import RateGate, Slot
from productive_async.sandbox import max_in_window


def most_a_server_can_see(requests: Sequence[tuple[float, float]], seconds: float) -> int:
    """The most requests a server could count in one window of ``seconds``, over every way
    the requests could arrive: request i (granted at ``g``, answered at ``a``) reaches the
    server at some time in [g, a]. A window [t, t + seconds) can hold every request with
    ``g < t + seconds`` and ``a >= t``; the worst t is one of the answer times."""
    return max(
        sum(1 for g, a in requests if a >= t and g < t + seconds) for _, t in requests
    )


async def send(gate: RateGate, clock: pa.FakeClock, classes: tuple[str, ...] = ("standard",),
               latency: float = 0.0) -> tuple[float, float]:
    """One request through the gate: (granted, answered) after ``latency`` seconds."""
    slot = await gate.acquire(classes)
    if latency:
        await clock.sleep(latency)
    answered = clock.time()
    gate.release(slot)
    return slot.granted_at, answered


async def acquire_all(
    gate: RateGate, clock: pa.FakeClock, n: int, classes: tuple[str, ...] = ("standard",),
    until: float = 1000.0, latency: float = 0.0,
) -> list[float]:
    """Grant times of ``n`` concurrent requests answered ``latency`` seconds after the grant."""
    tasks = [asyncio.create_task(send(gate, clock, classes, latency)) for _ in range(n)]
    async with asyncio.timeout(10):
        while not all(t.done() for t in tasks) and clock.time() < until:
            await clock.advance(0.5)
    assert all(t.done() for t in tasks), "some waiters were never served"
    return [t.result()[0] for t in tasks]


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


async def test_default_margin_keeps_a_steady_pull_at_99_percent_of_the_rate() -> None:
    rate = pa.Rate(100, 10)
    assert rate.effective_margin == pytest.approx(0.1)
    assert pa.Rate(40, 2).effective_margin == pytest.approx(0.02)
    assert pa.Rate(4000, 1800).effective_margin == 0.1
    clock = pa.FakeClock()
    gate = RateGate(pa.RateLimits.only(standard=rate), clock)
    times = sorted(await acquire_all(gate, clock, 1001))
    assert max_in_window(times, 10) == 100
    achieved = 1000 / (times[-1] - times[0])
    assert achieved >= 0.99 * 100 / 10


async def test_a_slot_is_held_until_its_answer_and_counts_from_the_answer() -> None:
    clock = pa.FakeClock()
    gate = RateGate(pa.RateLimits.only(standard=pa.Rate(2, 10, margin=0)), clock)
    first = await gate.acquire(("standard",))
    second = await gate.acquire(("standard",))
    third = asyncio.create_task(gate.acquire(("standard",)))
    await clock.advance(25)  # both still in flight: a window's length is no reason to go on
    assert not third.done()
    gate.release(first)  # answered at 25: it counts until 35
    await clock.advance(9.9)
    assert not third.done()
    await clock.advance(0.1)
    assert third.result().granted_at == 35.0
    gate.release(second, at=-5.0)  # a time before the grant is taken as the grant
    assert second.released_at == 0.0


async def test_releasing_twice_frees_nothing_more() -> None:
    clock = pa.FakeClock()
    gate = RateGate(pa.RateLimits.only(standard=pa.Rate(1, 10, margin=0)), clock)
    slot = await gate.acquire(("standard",))
    gate.release(slot)
    gate.release(slot, at=5.0)
    assert slot.released_at == 0.0
    waiting = asyncio.create_task(gate.acquire(("standard",)))
    await clock.advance(9.9)
    assert not waiting.done()
    await clock.advance(0.1)
    assert waiting.result().granted_at == 10.0


@pytest.mark.parametrize("seed", range(5))
async def test_no_server_window_can_hold_more_than_the_limit_whatever_the_delays(
    seed: int,
) -> None:
    # Every request takes a random time, up to 30% of the window, between its grant and its
    # answer: the server may see it at any moment in between. Not even the worst placement of
    # every arrival puts more than N in one window.
    rng = random.Random(seed)
    clock = pa.FakeClock()
    rate = pa.Rate(10, 2, margin=0)
    gate = RateGate(pa.RateLimits.only(standard=rate), clock)

    async def request() -> tuple[float, float]:
        return await send(gate, clock, latency=rng.uniform(0.0, 0.6))

    tasks = [asyncio.create_task(request()) for _ in range(200)]
    async with asyncio.timeout(10):
        while not all(t.done() for t in tasks):
            await clock.advance(0.05)
    requests = [t.result() for t in tasks]
    assert most_a_server_can_see(requests, rate.seconds) <= rate.requests
    # ... and the gate waits no longer than that needs: every request goes as soon as the
    # N-th latest answer before it is T old (or at once when fewer than N are recent).
    for granted, _ in requests:
        earlier = sorted((a for g, a in requests if g < granted), reverse=True)
        assert len(earlier) < rate.requests or granted <= (
            earlier[rate.requests - 1] + rate.seconds + 0.05
        )


async def test_a_steady_pull_loses_one_answer_latency_per_window_and_no_more() -> None:
    # 0.2 s between grant and answer, 100 / 10 s: a window every 10.3 s (latency + margin).
    clock = pa.FakeClock()
    rate = pa.Rate(100, 10)
    gate = RateGate(pa.RateLimits.only(standard=rate), clock)
    times = sorted(await acquire_all(gate, clock, 1001, latency=0.2, until=200.0))
    assert times[-1] - times[0] == pytest.approx(10 * (10 + 0.2 + 0.1))


async def test_waiters_are_served_first_come_first_served() -> None:
    clock = pa.FakeClock()
    gate = RateGate(pa.RateLimits.only(standard=pa.Rate(1, 1, margin=0)), clock)
    order: list[int] = []

    async def worker(i: int) -> None:
        gate.release(await gate.acquire(("standard",)))
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
    gate.release(await gate.acquire(("standard", "reports")))
    report = asyncio.create_task(gate.acquire(("standard", "reports")))
    await clock.settle()
    plain = asyncio.create_task(gate.acquire(("standard",)))
    await clock.settle()
    assert plain.done() and plain.result().granted_at == 0.0
    assert not report.done()
    await clock.advance(30)
    assert report.result().granted_at == 30.0


async def test_a_later_request_cannot_take_the_slot_an_earlier_waiter_waits_for() -> None:
    clock = pa.FakeClock()
    gate = RateGate(pa.RateLimits.only(standard=pa.Rate(2, 10, margin=0)), clock)
    await acquire_all(gate, clock, 2)
    first = asyncio.create_task(gate.acquire(("standard",)))
    await clock.settle()
    second = asyncio.create_task(gate.acquire(("standard",)))
    await clock.advance(10)
    assert first.result().granted_at == 10.0 and second.result().granted_at == 10.0


async def test_a_cancelled_waiter_takes_no_slot() -> None:
    clock = pa.FakeClock()
    gate = RateGate(pa.RateLimits.only(standard=pa.Rate(1, 10, margin=0)), clock)
    gate.release(await gate.acquire(("standard",)))
    doomed = asyncio.create_task(gate.acquire(("standard",)))
    await clock.settle()
    survivor = asyncio.create_task(gate.acquire(("standard",)))
    await clock.settle()
    doomed.cancel()
    await clock.advance(10)
    assert doomed.cancelled()
    # Not held for ever: the cancelled waiter left no slot behind.
    assert survivor.result().granted_at == 10.0


async def test_a_slot_granted_to_a_task_cancelled_before_it_ran_is_given_back() -> None:
    clock = pa.FakeClock()
    gate = RateGate(pa.RateLimits.only(standard=pa.Rate(1, 10, margin=0)), clock)
    task = asyncio.create_task(gate.acquire(("standard",)))
    task.cancel()  # cancelled after the grant, before the task resumed
    with pytest.raises(asyncio.CancelledError):
        await task
    assert gate.snapshot()["standard"] == 0
    assert (await gate.acquire(("standard",))).granted_at == 0.0


async def test_pause_closes_a_class_for_every_task_until_the_reset() -> None:
    clock = pa.FakeClock()
    gate = RateGate(pa.RateLimits.only(standard=pa.Rate(100, 10), reports=pa.Rate(10, 30)), clock)
    gate.pause(["reports"], until=7.0)
    report = asyncio.create_task(gate.acquire(("standard", "reports")))
    plain = asyncio.create_task(gate.acquire(("standard",)))
    await clock.advance(6.9)
    assert plain.done() and not report.done()
    await clock.advance(0.1)
    assert report.result().granted_at == 7.0


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
    assert (await gate.acquire(("standard",))).granted_at == 0.0  # nothing to wait for
    gate.pause(["standard"], until=3.0)
    waiting = asyncio.create_task(gate.acquire(("standard", "organization")))
    await clock.advance(2.9)
    assert not waiting.done()
    await clock.advance(0.1)
    assert waiting.result().granted_at == 3.0


async def test_close_fails_every_waiter_at_once_and_every_later_acquire() -> None:
    clock = pa.FakeClock()
    gate = RateGate(pa.RateLimits.only(standard=pa.Rate(1, 10), reports=pa.Rate(1, 30)), clock)
    held = await gate.acquire(("standard",))
    gate.pause(["reports"], until=3600.0)
    waiting = [asyncio.create_task(gate.acquire(("standard",))),
               asyncio.create_task(gate.acquire(("standard", "reports")))]
    await clock.settle()
    assert not any(t.done() for t in waiting)
    gate.close()
    async with asyncio.timeout(5):  # no time passes on the fake clock: "at once"
        for task in waiting:
            with pytest.raises(pa.InvalidRequestError, match="closed"):
                await task
    with pytest.raises(pa.InvalidRequestError, match="closed"):
        await gate.acquire(("organization",))
    gate.release(held)  # a request answered after close is harmless
    assert gate.closed and clock.time() == 0.0


async def test_a_waiter_cancelled_as_the_gate_closes_leaves_nothing_behind() -> None:
    clock = pa.FakeClock()
    gate = RateGate(pa.RateLimits.only(standard=pa.Rate(1, 10)), clock)
    await gate.acquire(("standard",))
    task = asyncio.create_task(gate.acquire(("standard",)))
    await clock.settle()
    gate.close()
    task.cancel()
    with pytest.raises((asyncio.CancelledError, pa.InvalidRequestError)):
        await task
    assert gate.snapshot()["standard"] == 1


def test_slots_say_what_they_hold() -> None:
    assert "in flight" in repr(Slot((), 1.0))


@pytest.mark.parametrize(
    ("args", "message"),
    [((0, 10), "requests"), ((10, 0), "seconds"), ((10, 10, -1.0), "margin"),
     ((10, 10, float("nan")), "margin")],
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
