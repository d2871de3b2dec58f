"""Rate limits and faults end to end: the sandbox enforces them, the client stays within them.

These run over loopback with small scaled-down limits (a few requests per fraction of a
second), so they take about a second each (the burst about five); speed targets live in
``benchmarks/``.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import aiohttp
import pytest
from aiohttp import web

import productive_async as pa
from productive_async import sandbox

HEADERS = {"X-Auth-Token": sandbox.TOKEN, "X-Organization-Id": sandbox.ORGANIZATION_ID,
           "Content-Type": "application/vnd.api+json"}


def entries(n: int) -> list[dict[str, Any]]:
    return [{"id": str(i), "type": "time_entries", "attributes": {"time": 60},
             "relationships": {}} for i in range(1, n + 1)]


async def test_sandbox_answers_the_documented_429_past_the_limit() -> None:
    box = sandbox.Sandbox(demo_data=False, records=entries(3),
                          rate_limits=pa.RateLimits.only(standard=pa.Rate(3, 30)))
    async with box.serve() as url, aiohttp.ClientSession() as session:
        statuses = []
        for _ in range(4):
            async with session.get(url + "time_entries", headers=HEADERS) as resp:
                statuses.append(resp.status)
                body = await resp.json(content_type=None)
                headers = resp.headers
        assert statuses == [200, 200, 200, 429]
        assert body == {"errors": [{"status": "429", "title": "Too many requests",
                                    "detail": "Rate limit reached. Try again later",
                                    "limit": 3, "period": 30}]}
        assert 29 <= int(headers["X-RateLimit-Reset"]) <= 30


async def test_sandbox_limits_reports_per_class() -> None:
    box = sandbox.Sandbox(demo_data=False, records=entries(3),
                          rate_limits=pa.RateLimits.only(standard=pa.Rate(100, 10),
                                                         reports=pa.Rate(2, 30)))
    async with box.serve() as url, aiohttp.ClientSession() as session:
        report_statuses, plain_statuses = [], []
        for _ in range(3):
            async with session.get(url + "reports/time_reports", headers=HEADERS) as resp:
                report_statuses.append(resp.status)
            async with session.get(url + "time_entries", headers=HEADERS) as resp:
                plain_statuses.append(resp.status)
        assert report_statuses == [200, 200, 429]
        assert plain_statuses == [200, 200, 200]


async def test_client_pull_stays_within_the_sandbox_limits_and_loses_nothing() -> None:
    rate = pa.Rate(8, 0.5)
    box = sandbox.Sandbox(demo_data=False, records=entries(600),
                          rate_limits=pa.RateLimits.only(standard=rate))
    async with box.serve() as url, pa.Productive(
        sandbox.TOKEN, sandbox.ORGANIZATION_ID, base_url=url,
        rate_limits=pa.RateLimits.only(standard=pa.Rate(8, 0.5, margin=0.1)),
    ) as client:
        ids = [r.id async for r in client.time_entries.list(page_size=20, prefetch=8)]
    assert ids == [str(i) for i in range(1, 601)]
    assert client.stats["rate_limited"] == 0 and box.log.count(429) == 0
    assert box.log.max_in_window(0.5) <= 8


async def test_two_pulls_on_one_client_share_the_budget() -> None:
    box = sandbox.Sandbox(demo_data=False, records=entries(300),
                          rate_limits=pa.RateLimits.only(standard=pa.Rate(6, 0.5)))
    async with box.serve() as url, pa.Productive(
        sandbox.TOKEN, sandbox.ORGANIZATION_ID, base_url=url,
        rate_limits=pa.RateLimits.only(standard=pa.Rate(6, 0.5, margin=0.1)),
    ) as client:
        async def pull() -> list[str]:
            return [r.id async for r in client.time_entries.list(page_size=20)]

        first, second = await asyncio.gather(pull(), pull())
    assert first == second == [str(i) for i in range(1, 301)]
    assert box.log.count(429) == 0 and box.log.max_in_window(0.5) <= 6


async def test_a_client_without_limits_is_told_429_and_recovers() -> None:
    box = sandbox.Sandbox(demo_data=False, records=entries(100),
                          rate_limits=pa.RateLimits.only(standard=pa.Rate(4, 1)))
    async with box.serve() as url, pa.Productive(
        sandbox.TOKEN, sandbox.ORGANIZATION_ID, base_url=url,
        rate_limits=pa.RateLimits.unlimited(), retry=pa.RetryPolicy(max_retries=10),
    ) as client:
        ids = [r.id async for r in client.time_entries.list(page_size=10, prefetch=4)]
    assert ids == [str(i) for i in range(1, 101)]
    assert client.stats["rate_limited"] >= 1  # it ran into the limit, paused, and went on


async def test_pull_through_injected_faults_loses_and_duplicates_nothing() -> None:
    faults = sandbox.Faults(server_error_rate=0.1, drop_rate=0.05, seed=7)
    box = sandbox.Sandbox(demo_data=False, records=entries(2000), rate_limits=None,
                          faults=faults)
    async with box.serve() as url, pa.Productive(
        sandbox.TOKEN, sandbox.ORGANIZATION_ID, base_url=url,
        rate_limits=pa.RateLimits.unlimited(),
        retry=pa.RetryPolicy(max_retries=8, backoff_base=0.01, backoff_cap=0.05),
    ) as client:
        ids = [r.id async for r in client.time_entries.list(page_size=20)]
    assert ids == [str(i) for i in range(1, 2001)]
    assert client.stats["retries"] >= 1
    assert box.log.count(503) >= 1 and box.log.count(0) >= 1  # 0: dropped without an answer


async def test_post_is_not_replayed_after_a_dropped_connection() -> None:
    box = sandbox.Sandbox(demo_data=False, rate_limits=None,
                          faults=sandbox.Faults(drop_rate=1.0),
                          records=[{"id": "1", "type": "companies", "attributes": {"name": "A"},
                                    "relationships": {}}])
    async with box.serve() as url, pa.Productive(
        sandbox.TOKEN, sandbox.ORGANIZATION_ID, base_url=url,
        rate_limits=pa.RateLimits.unlimited(),
        retry=pa.RetryPolicy(max_retries=3, backoff_base=0.0),
    ) as client:
        with pytest.raises(pa.TransportError) as caught:
            await client.companies.create(name="B")
    assert caught.value.sent
    assert len(box.log.entries) == 1


async def test_salary_writes_take_the_salaries_class() -> None:
    box = sandbox.Sandbox(demo_data=False,
                          rate_limits=pa.RateLimits.only(standard=pa.Rate(100, 10),
                                                         salaries=pa.Rate(1, 60)))
    async with box.serve() as url, aiohttp.ClientSession() as session:
        body = b'{"data": {"type": "salaries", "attributes": {"cost": 100}}}'
        statuses = []
        for _ in range(2):
            async with session.post(url + "salaries", headers=HEADERS, data=body) as resp:
                statuses.append(resp.status)
        async with session.get(url + "salaries", headers=HEADERS) as resp:
            statuses.append(resp.status)
    assert statuses == [201, 429, 200]
    client = pa.Productive("t", "1")
    assert pa.default_registry()["salaries"].operation_rate_classes["create"] == "salaries"
    assert client.gate.classes_for("salaries") == ("standard", "organization", "salaries")


async def test_every_attempt_goes_through_the_gate_even_after_a_dropped_connection() -> None:
    # aiohttp would silently re-send a GET once on a dropped kept-alive connection; the server
    # must see exactly the attempts the client's limiter counted.
    box = sandbox.Sandbox(demo_data=False, records=entries(1), rate_limits=None)
    async with box.serve() as url, pa.Productive(
        sandbox.TOKEN, sandbox.ORGANIZATION_ID, base_url=url,
        rate_limits=pa.RateLimits.unlimited(),
        retry=pa.RetryPolicy(max_retries=2, backoff_base=0.0),
    ) as client:
        await client.companies.count()  # opens a kept-alive connection first
        box.server.faults.drop_rate = 1.0
        with pytest.raises(pa.TransportError):
            await client.time_entries.get(1)
    assert client.stats["attempts"] == len(box.log.entries)


async def test_a_burst_on_cold_connections_and_a_busy_loop_is_never_refused() -> None:
    # 300 concurrent gets at 60 / 0.5 s. Every request reaches the server's limiter 0-250 ms
    # after the client let it go (a stand-in for new connections being opened and a slow
    # network: far more than the window's margin of 5 ms), and the event loop, shared by client
    # and server here, is blocked for 20 ms out of every 50 (a stand-in for decoding).
    rate = pa.Rate(60, 0.5)
    jitter = random.Random(11)

    @web.middleware
    async def late_arrival(request: web.Request, handler: Any) -> web.StreamResponse:
        await asyncio.sleep(jitter.uniform(0.0, 0.25))
        response: web.StreamResponse = await handler(request)
        return response

    box = sandbox.Sandbox(demo_data=False, records=entries(300),
                          rate_limits=pa.RateLimits.only(standard=rate))
    app = box.make_app()
    app.middlewares.append(late_arrival)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]

    async def busy_loop() -> None:
        while True:
            time.sleep(0.02)  # noqa: ASYNC251 (blocks the loop on purpose)
            await asyncio.sleep(0.03)

    busy = asyncio.create_task(busy_loop())
    try:
        async with asyncio.timeout(60), pa.Productive(
            sandbox.TOKEN, sandbox.ORGANIZATION_ID, base_url=f"http://{host}:{port}/api/v2/",
            rate_limits=pa.RateLimits.only(standard=rate),
        ) as client:
            records = await asyncio.gather(
                *(client.time_entries.get(i) for i in range(1, 301))
            )
    finally:
        busy.cancel()
        await runner.cleanup()
    assert [r.id for r in records] == [str(i) for i in range(1, 301)]
    assert box.log.count(429) == 0 and client.stats["rate_limited"] == 0
    assert box.log.max_in_window(rate.seconds) <= rate.requests
    assert client.stats["attempts"] == len(box.log.entries) == 300
