"""The retry table, the 429 gate, timeouts and secrecy of the token (controllable clock)."""

from __future__ import annotations

import asyncio
import logging
import random
import re
from collections.abc import AsyncIterator, Awaitable
from typing import Any
from unittest import mock

import aiohttp
import orjson
import pytest
from conftest import BASE_URL, ORG, TOKEN, CompatAioresponses, sent_requests

import productive_async as pa

ANY = re.compile(r"https://api\.productive\.io/.*")
INVOICE = {"data": {"id": "1", "type": "invoices", "attributes": {"number": "1"}}}


@pytest.fixture
def clock() -> pa.FakeClock:
    return pa.FakeClock()


@pytest.fixture
async def client(clock: pa.FakeClock) -> AsyncIterator[pa.Productive]:
    async with pa.Productive(
        TOKEN, ORG, base_url=BASE_URL, clock=clock,
        rate_limits=pa.RateLimits(standard=pa.Rate(100, 10), organization=None),
        retry=pa.RetryPolicy(max_retries=3, backoff_base=1.0, backoff_cap=8.0),
    ) as c:
        yield c


def ok(m: CompatAioresponses, method: str = "GET", body: Any = INVOICE, status: int = 200
       ) -> None:
    m.add(ANY, method, status=status, body=orjson.dumps(body),
          content_type="application/vnd.api+json")


def fail(m: CompatAioresponses, method: str, status: int, body: Any = None,
         headers: dict[str, str] | None = None) -> None:
    m.add(ANY, method, status=status, headers=headers,
          body=orjson.dumps(body or {"errors": [{"status": status, "title": "Boom"}]}),
          content_type="application/vnd.api+json")


async def run(clock: pa.FakeClock, coro: Awaitable[Any], *, seconds: float = 60.0) -> Any:
    task = asyncio.ensure_future(coro)
    waited = 0.0
    while not task.done() and waited < seconds:
        await clock.advance(0.25)
        waited += 0.25
    return await task


def too_many(limit: int = 100, period: int = 10) -> dict[str, Any]:
    return {"errors": [{"status": 429, "title": "Too many requests",
                        "detail": "Rate limit reached. Try again later",
                        "limit": limit, "period": period}]}


async def test_429_is_retried_after_the_reset_even_for_post(
    client: pa.Productive, mocked: CompatAioresponses, clock: pa.FakeClock
) -> None:
    fail(mocked, "POST", 429, too_many(), headers={"X-RateLimit-Reset": "4"})
    ok(mocked, "POST", status=201)
    record = await run(clock, client.invoices.create(currency="EUR"))
    assert record.id == "1"
    assert client.stats["rate_limited"] == 1 and client.stats["attempts"] == 2
    assert clock.time() >= 4.0


async def test_429_pauses_the_matching_class_for_every_task(
    client: pa.Productive, mocked: CompatAioresponses, clock: pa.FakeClock
) -> None:
    fail(mocked, "GET", 429, too_many(100, 10), headers={"X-RateLimit-Reset": "5"})
    ok(mocked)
    ok(mocked)
    first = asyncio.ensure_future(client.invoices.get(1))
    await clock.advance(0.1)
    other = asyncio.ensure_future(client.invoices.get(2))  # a different task, same class
    await clock.advance(4.0)
    assert not first.done() and not other.done()
    await clock.advance(1.5)
    assert (await first).id == "1" and (await other).id == "1"


async def test_429_honours_retry_after_when_no_reset_header(
    client: pa.Productive, mocked: CompatAioresponses, clock: pa.FakeClock
) -> None:
    fail(mocked, "GET", 429, too_many(), headers={"Retry-After": "3"})
    ok(mocked)
    await run(clock, client.invoices.get(1))
    assert clock.time() >= 3.0


async def test_server_time_limit_beyond_the_maximum_wait_raises_with_retry_time(
    client: pa.Productive, mocked: CompatAioresponses, clock: pa.FakeClock
) -> None:
    body = {"errors": [{"status": 429, "title": "Server time limit exceeded",
                        "limit": 1800, "period": 3600}]}
    fail(mocked, "GET", 429, body, headers={"X-RateLimit-Reset": "1200"})
    with pytest.raises(pa.RateLimitError) as caught:
        await run(clock, client.invoices.get(1))
    assert caught.value.retry_after == 1200.0
    assert caught.value.server_time_limit
    assert len(sent_requests(mocked)) == 1


async def test_server_time_limit_within_the_maximum_wait_is_waited_out(
    client: pa.Productive, mocked: CompatAioresponses, clock: pa.FakeClock
) -> None:
    body = {"errors": [{"status": 429, "title": "Server time limit exceeded"}]}
    fail(mocked, "GET", 429, body, headers={"X-RateLimit-Reset": "30"})
    ok(mocked)
    assert (await run(clock, client.invoices.get(1))).id == "1"
    assert clock.time() >= 30.0


async def test_5xx_is_retried_for_get(
    client: pa.Productive, mocked: CompatAioresponses, clock: pa.FakeClock
) -> None:
    fail(mocked, "GET", 503)
    fail(mocked, "GET", 500)
    ok(mocked)
    assert (await run(clock, client.invoices.get(1))).id == "1"
    assert client.stats["attempts"] == 3


@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_5xx_is_not_retried_for_post_or_patch(
    client: pa.Productive, mocked: CompatAioresponses, clock: pa.FakeClock, method: str
) -> None:
    fail(mocked, method, 502)
    call = client.invoices.create(currency="EUR") if method == "POST" else (
        client.invoices.update(1, number="2")
    )
    with pytest.raises(pa.ServerError) as caught:
        await run(clock, call)
    assert caught.value.status == 502
    assert len(sent_requests(mocked)) == 1


async def test_5xx_is_retried_for_an_action_the_registry_marks_idempotent(
    client: pa.Productive, mocked: CompatAioresponses, clock: pa.FakeClock
) -> None:
    fail(mocked, "GET", 500)
    mocked.add(ANY, "GET", status=200, body=b'{"data": []}', content_type="application/json")
    assert await run(clock, client.invoices.preview(1, budget_ids=[1])) == []


async def test_delete_is_retried_after_a_5xx(
    client: pa.Productive, mocked: CompatAioresponses, clock: pa.FakeClock
) -> None:
    fail(mocked, "DELETE", 500)
    mocked.add(ANY, "DELETE", status=204)
    assert await run(clock, client.invoices.delete(1)) is None


def refused() -> aiohttp.ClientConnectorError:
    return aiohttp.ClientConnectorError(mock.Mock(ssl=False), OSError(111, "refused"))


async def test_connection_refused_is_retried_for_any_method(
    client: pa.Productive, mocked: CompatAioresponses, clock: pa.FakeClock
) -> None:
    mocked.add(ANY, "POST", exception=refused())
    ok(mocked, "POST", status=201)
    assert (await run(clock, client.invoices.create(currency="EUR"))).id == "1"


@pytest.mark.parametrize(
    "exc", [TimeoutError(), aiohttp.ServerDisconnectedError()], ids=["timeout", "drop"]
)
async def test_failure_after_sending_is_not_retried_for_post(
    client: pa.Productive, mocked: CompatAioresponses, clock: pa.FakeClock, exc: Exception
) -> None:
    mocked.add(ANY, "POST", exception=exc)
    with pytest.raises(pa.TransportError) as caught:
        await run(clock, client.invoices.create(currency="EUR"))
    assert caught.value.sent and caught.value.method == "POST"
    assert len(sent_requests(mocked)) == 1


@pytest.mark.parametrize(
    "exc", [TimeoutError(), aiohttp.ServerDisconnectedError()], ids=["timeout", "drop"]
)
async def test_failure_after_sending_is_retried_for_get(
    client: pa.Productive, mocked: CompatAioresponses, clock: pa.FakeClock, exc: Exception
) -> None:
    mocked.add(ANY, "GET", exception=exc)
    ok(mocked)
    assert (await run(clock, client.invoices.get(1))).id == "1"


async def test_retries_stop_at_max_retries_with_the_last_error(
    client: pa.Productive, mocked: CompatAioresponses, clock: pa.FakeClock
) -> None:
    for _ in range(4):
        fail(mocked, "GET", 503)
    with pytest.raises(pa.ServerError):
        await run(clock, client.invoices.get(1))
    assert client.stats["attempts"] == 4  # 1 + max_retries


async def test_retries_are_logged_without_the_token(
    client: pa.Productive, mocked: CompatAioresponses, clock: pa.FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="productive_async")
    fail(mocked, "GET", 503)
    ok(mocked)
    await run(clock, client.invoices.get(7))
    retry_lines = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
    assert len(retry_lines) == 1
    assert "GET invoices/7 (attempt 2 of 4)" in retry_lines[0] and "503" in retry_lines[0]
    assert all(TOKEN not in r.getMessage() for r in caplog.records)


def test_backoff_is_full_jitter_and_capped() -> None:
    policy = pa.RetryPolicy(backoff_base=0.5, backoff_cap=4.0)
    rng = random.Random(1)
    for attempt in range(1, 10):
        ceiling = min(4.0, 0.5 * 2 ** (attempt - 1))
        samples = [policy.backoff(attempt, rng) for _ in range(200)]
        assert all(0.0 <= s <= ceiling for s in samples)
        assert max(samples) > 0.8 * ceiling  # spread over the whole range, not fixed


async def test_waiting_for_a_slot_does_not_count_against_the_request_timeout(
    mocked: CompatAioresponses,
) -> None:
    # A real clock and a 0.2 s request timeout; the limiter makes the second request wait
    # 0.5 s for its slot: it must still succeed.
    async with pa.Productive(
        TOKEN, ORG, rate_limits=pa.RateLimits(standard=pa.Rate(1, 0.5, margin=0),
                                              organization=None),
        timeouts=pa.Timeouts(total=0.2, connect=0.2),
    ) as client:
        ok(mocked)
        ok(mocked)
        await client.invoices.get(1)
        assert (await client.invoices.get(2)).id == "1"


def test_token_never_appears_in_reprs() -> None:
    client = pa.Productive(TOKEN, ORG)
    assert TOKEN not in repr(client)
    assert TOKEN not in repr(client._transport) and TOKEN not in str(vars(client._transport))
    assert TOKEN not in repr(client.invoices)


async def test_token_never_appears_in_errors(
    client: pa.Productive, mocked: CompatAioresponses, clock: pa.FakeClock
) -> None:
    fail(mocked, "GET", 401, {"errors": [{"status": "401", "code": "invalid_auth_token",
                                          "title": "Unauthorized"}]})
    with pytest.raises(pa.AuthenticationError) as caught:
        await run(clock, client.invoices.get(1))
    text = f"{caught.value!s} {caught.value!r} {caught.value.headers} {vars(caught.value)}"
    assert TOKEN not in text
    assert caught.value.errors[0].code == "invalid_auth_token"


def test_missing_credentials_are_rejected() -> None:
    with pytest.raises(pa.InvalidRequestError, match="token"):
        pa.Productive("", ORG)
    with pytest.raises(pa.InvalidRequestError, match="organization"):
        pa.Productive(TOKEN, "")


def slow(m: CompatAioresponses, clock: pa.FakeClock, seconds: float) -> None:
    """One GET answered ``seconds`` (fake clock) after it was sent. (aioresponses keeps a mock
    whose answer was cancelled: a later request gets it too, answered at once.)"""
    calls = []

    async def answer(url: Any, **kwargs: Any) -> None:
        calls.append(url)
        if len(calls) == 1:
            await clock.sleep(seconds)

    m.add(ANY, "GET", status=200, body=orjson.dumps(INVOICE),
          content_type="application/vnd.api+json", callback=answer)


@pytest.fixture
async def one_per_10s(clock: pa.FakeClock) -> AsyncIterator[pa.Productive]:
    async with pa.Productive(
        TOKEN, ORG, base_url=BASE_URL, clock=clock,
        rate_limits=pa.RateLimits.only(standard=pa.Rate(1, 10, margin=0)),
    ) as c:
        yield c


async def test_the_next_request_waits_for_the_answer_plus_the_window(
    one_per_10s: pa.Productive, mocked: CompatAioresponses, clock: pa.FakeClock
) -> None:
    # 1 / 10 s and an answer that takes 30 s: the server may have seen the first request as
    # late as 30 s, so the second goes at 40 s, not at 10 s.
    slow(mocked, clock, 30.0)
    ok(mocked)
    async with asyncio.timeout(5):
        first = asyncio.ensure_future(one_per_10s.invoices.get(1))
        await clock.advance(1.0)
        second = asyncio.ensure_future(one_per_10s.invoices.get(2))
        await clock.advance(38.5)
        assert first.done() and not second.done() and len(sent_requests(mocked)) == 1
        await clock.advance(0.5)
        assert (await second).id == "1" and clock.time() == 40.0


async def test_a_request_cancelled_in_flight_gives_its_slot_up_at_cancellation(
    one_per_10s: pa.Productive, mocked: CompatAioresponses, clock: pa.FakeClock
) -> None:
    slow(mocked, clock, 1000.0)
    async with asyncio.timeout(5):
        doomed = asyncio.ensure_future(one_per_10s.invoices.get(1))
        await clock.advance(2.0)
        doomed.cancel()  # the server may have seen it: it counts from now (2 s) to 12 s
        with pytest.raises(asyncio.CancelledError):
            await doomed
        waiting = asyncio.ensure_future(one_per_10s.invoices.get(2))
        await clock.advance(9.9)
        assert not waiting.done()
        await clock.advance(0.1)
        assert (await waiting).id == "1"


@pytest.mark.parametrize(
    ("limit", "period", "expected"),
    [(100, 10, (100, 10)), ("100", "10", (100, 10)), ("100", "2.5", (100, 2.5)),
     (100.0, 10.0, (100, 10)), ("many", "soon", (None, None)), (True, [10], (None, None)),
     (None, "inf", (None, None)), ("1.5", "-3", (None, None))],
)
def test_rate_limit_error_reads_limit_and_period_tolerantly(
    limit: Any, period: Any, expected: tuple[int | None, float | None]
) -> None:
    error = pa.RateLimitError(
        429, [pa.ErrorObject.from_json({"status": "429", "limit": limit, "period": period},
                                       429)],
        method="GET", path="invoices",
    )
    assert (error.limit, error.period) == expected
    assert error.errors[0].meta == {"limit": limit, "period": period}  # raw values kept


async def test_429_with_the_period_as_a_string_pauses_the_matching_class(
    client: pa.Productive, mocked: CompatAioresponses, clock: pa.FakeClock
) -> None:
    body = {"errors": [{"status": "429", "title": "Too many requests", "limit": 100,
                        "period": "10"}]}
    fail(mocked, "GET", 429, body, headers={"X-RateLimit-Reset": "2"})
    ok(mocked)
    assert (await run(clock, client.invoices.get(1))).id == "1"
    assert client.gate.paused_until == {"standard": pytest.approx(2.0)}


WALL = 1_800_000_000.0  # 2027-01-15 08:00:00 UTC


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"X-RateLimit-Reset": "4"}, 4.0),
        ({"X-RateLimit-Reset": " 2.5 "}, 2.5),
        ({"X-RateLimit-Reset": "-3"}, 0.0),
        ({"Retry-After": "3"}, 3.0),
        ({"X-RateLimit-Reset": "7", "Retry-After": "3"}, 7.0),
        ({"X-RateLimit-Reset": str(WALL + 42)}, 42.0),  # an epoch timestamp
        ({"X-RateLimit-Reset": str(int((WALL + 42) * 1000))}, 42.0),  # ... in milliseconds
        ({"X-RateLimit-Reset": str(WALL - 100)}, 0.0),  # one in the past
        ({"X-RateLimit-Reset": "32503680000"}, 32503680000 - WALL),  # 3000-01-01
        ({"Retry-After": "Fri, 15 Jan 2027 08:01:30 GMT"}, 90.0),  # an HTTP-date
        ({"Retry-After": "Fri, 15 Jan 2027 07:00:00 GMT"}, 0.0),
        ({"X-RateLimit-Reset": "inf", "Retry-After": "5"}, 5.0),  # unreadable: the next one
        ({"X-RateLimit-Reset": "nan"}, 10.0),  # ... or the default
        ({"X-RateLimit-Reset": "soon"}, 10.0),
        ({}, 10.0),
    ],
)
def test_reset_headers_are_read_as_seconds_to_wait(
    headers: dict[str, str], expected: float
) -> None:
    from productive_async._transport import _retry_after

    assert _retry_after(headers, 10.0, wall_time=WALL) == pytest.approx(expected)


@pytest.mark.parametrize(
    "reset", ["32503680000", "99999999999999", "Wed, 01 Jan 3000 00:00:00 GMT", "86400"],
    ids=["epoch-3000", "epoch-ms-5138", "http-date-3000", "a-day"],
)
async def test_a_429_reset_beyond_the_cap_raises_at_once_and_pauses_nothing(
    client: pa.Productive, mocked: CompatAioresponses, clock: pa.FakeClock, reset: str
) -> None:
    fail(mocked, "GET", 429, too_many(), headers={"X-RateLimit-Reset": reset})
    ok(mocked)
    async with asyncio.timeout(5):
        with pytest.raises(pa.RateLimitError) as caught:
            await client.invoices.get(1)  # no time passes on the fake clock
        assert caught.value.retry_after is not None and caught.value.retry_after > 900
        assert client.gate.paused_until == {}  # later calls are not held up
        assert (await client.invoices.get(2)).id == "1"
    assert clock.time() == 0.0


async def test_a_429_reset_within_the_cap_is_waited_out(
    mocked: CompatAioresponses, clock: pa.FakeClock
) -> None:
    async with pa.Productive(
        TOKEN, ORG, base_url=BASE_URL, clock=clock, rate_limits=pa.RateLimits.unlimited(),
        retry=pa.RetryPolicy(max_rate_limit_wait=120.0),
    ) as client:
        fail(mocked, "GET", 429, too_many(), headers={"Retry-After": "120"})
        ok(mocked)
        assert (await run(clock, client.invoices.get(1), seconds=200)).id == "1"
        assert 120.0 <= clock.time() < 121.0
        fail(mocked, "GET", 429, too_many(), headers={"Retry-After": "121"})
        with pytest.raises(pa.RateLimitError):
            await run(clock, client.invoices.get(1))


def test_default_rate_limit_wait_cap_is_15_minutes() -> None:
    assert pa.RetryPolicy().max_rate_limit_wait == 900.0


async def test_close_fails_the_calls_waiting_for_a_slot_at_once(
    mocked: CompatAioresponses, clock: pa.FakeClock
) -> None:
    client = pa.Productive(TOKEN, ORG, base_url=BASE_URL, clock=clock,
                           rate_limits=pa.RateLimits.only(standard=pa.Rate(1, 10)))
    ok(mocked)
    async with asyncio.timeout(5):  # and no time passes on the fake clock
        await client.invoices.get(1)
        waiting = [asyncio.ensure_future(client.invoices.get(i)) for i in range(2, 6)]
        await clock.settle()
        assert not any(t.done() for t in waiting)
        await client.close()
        for task in waiting:
            with pytest.raises(pa.InvalidRequestError, match="client is closed"):
                await task
        with pytest.raises(pa.InvalidRequestError, match="client is closed"):
            await client.invoices.get(7)
    assert clock.time() == 0.0 and len(sent_requests(mocked)) == 1


async def test_close_fails_the_calls_paused_by_a_429_at_once(
    client: pa.Productive, mocked: CompatAioresponses, clock: pa.FakeClock
) -> None:
    fail(mocked, "GET", 429, too_many(), headers={"X-RateLimit-Reset": "600"})
    async with asyncio.timeout(5):
        paused = asyncio.ensure_future(client.invoices.get(1))
        await clock.advance(1.0)
        assert not paused.done()
        await client.close()
        with pytest.raises(pa.InvalidRequestError, match="client is closed"):
            await paused
    assert clock.time() == 1.0
