"""RedisBackend: one rate budget shared by clients, processes and tasks, on a real redis-server.

The server is Debian's ``redis-server`` on a unix socket in a temporary directory (see
``tests/redis_server.py``: these tests fail rather than skip where ``.ci/run`` requires it).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio
from click.testing import CliRunner
from redis_server import RedisServer

import productive_async as pa
import productive_async._redis
from productive_async import sandbox
from productive_async._cli import main
from productive_async._redis import RedisSlot, SharedGate

TOKEN = "secret-token-do-not-leak"
ORG = "4242"


@pytest.fixture(scope="module")
def server() -> Iterator[RedisServer]:
    # A short directory: a unix socket path has at most 107 bytes.
    directory = Path(tempfile.mkdtemp(prefix="pa-redis-"))
    redis_server = RedisServer(directory)
    redis_server.start()
    yield redis_server
    redis_server.stop()


@pytest.fixture
def own_server() -> Iterator[RedisServer]:
    """A server of the test's own, to stop and start."""
    redis_server = RedisServer(Path(tempfile.mkdtemp(prefix="pa-redis-")))
    redis_server.start()
    yield redis_server
    redis_server.stop()


@pytest.fixture
def prefix() -> str:
    """Keys of one test only."""
    return f"t{uuid.uuid4().hex[:10]}:"


@pytest.fixture
async def inspect(server: RedisServer) -> AsyncIterator[redis.asyncio.Redis]:
    conn = redis.asyncio.Redis.from_url(server.url, decode_responses=True)
    yield conn
    await conn.aclose()


def gate_of(client: pa.Productive) -> SharedGate:
    assert isinstance(client.gate, SharedGate)
    return client.gate


def limits(**rates: pa.Rate) -> pa.RateLimits:
    return pa.RateLimits.only(**rates)


# ---------------------------------------------------------------- construction and options


def test_without_redis_py_the_backend_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "redis.asyncio", None)
    with pytest.raises(pa.InvalidRequestError, match=r"productive-async\[redis\]"):
        pa.RedisBackend("redis://localhost:6379/0")


@pytest.mark.parametrize(("options", "message"), [
    ({"on_unavailable": "retry"}, "on_unavailable"),
    ({"local_share": 0}, "local_share"),
    ({"local_share": 1.5}, "local_share"),
    ({"timeout": 0}, "timeout"),
    ({"max_wait": float("inf")}, "max_wait"),
    ({"probe_interval": -1}, "probe_interval"),
    ({"key_prefix": "a{b}"}, "key_prefix"),
])
def test_bad_options_are_named(options: dict[str, Any], message: str) -> None:
    with pytest.raises(pa.InvalidRequestError, match=message):
        pa.RedisBackend("redis://localhost:6379/0", **options)


def test_bad_connections_are_refused_and_passwords_masked() -> None:
    with pytest.raises(pa.InvalidRequestError, match="redis://") as info:
        pa.RedisBackend("http://user:hunter2@localhost:6379")
    assert "hunter2" not in str(info.value)
    with pytest.raises(pa.InvalidRequestError, match=r"redis\.asyncio client"):
        pa.RedisBackend(42)  # type: ignore[arg-type]
    backend = pa.RedisBackend("redis://:hunter2@localhost:6379/0?password=hunter2")
    assert "hunter2" not in repr(backend) and "hunter2" not in backend.address
    with pytest.raises(pa.InvalidRequestError, match="rate_backend"):
        pa.Productive(TOKEN, ORG, rate_backend="redis://localhost")  # type: ignore[arg-type]


# ---------------------------------------------------------------- keys


async def test_keys_are_org_tagged_expiring_and_never_hold_the_token(
    server: RedisServer, prefix: str, inspect: redis.asyncio.Redis
) -> None:
    backend = pa.RedisBackend(server.url, key_prefix=prefix)
    client = pa.Productive(TOKEN, ORG, rate_backend=backend,
                           rate_limits=limits(standard=pa.Rate(5, 1),
                                              organization=pa.Rate(50, 10),
                                              reports=pa.Rate(2, 3)))
    gate = gate_of(client)
    slot = await gate.acquire(gate.classes_for("reports"))
    gate.pause(("reports",), gate.clock.time() + 5)
    await client.close()
    assert isinstance(slot, RedisSlot)
    keys = sorted([key async for key in inspect.scan_iter(f"{prefix}*")])
    assert keys, "nothing written"
    digests = {key.split(":token:")[1].split(":")[0] for key in keys if ":token:" in key}
    for key in keys:
        assert key.startswith(f"{prefix}{{org:{ORG}}}:"), key
        assert TOKEN not in key
        ttl = await inspect.pttl(key)
        # the lease of a request in flight, plus the window and margin, plus a second
        assert 0 < ttl <= (productive_async._redis.LEASE + 10.1 + 1) * 1000, (key, ttl)
        value = await (inspect.zrange(key, 0, -1) if await inspect.type(key) == "zset"
                       else inspect.get(key))
        assert TOKEN not in str(value)
    assert {k.rsplit(":", 1)[1] for k in keys} == {"standard", "organization", "reports",
                                                  "pause"}
    # The organization's log is shared by tokens; the per-token classes carry a digest.
    assert f"{prefix}{{org:{ORG}}}:org:organization" in keys
    (digest,) = digests
    assert len(digest) == 16
    assert f"{prefix}{{org:{ORG}}}:token:{digest}:standard" in keys


# ---------------------------------------------------------------- sharing the budget


async def test_two_clients_share_one_budget_with_no_429(server: RedisServer, prefix: str
                                                        ) -> None:
    rate = limits(standard=pa.Rate(10, 1))
    box = sandbox.Sandbox(rate_limits=rate, latency=0.01)
    async with box.serve() as url:
        clients = [pa.Productive(sandbox.TOKEN, sandbox.ORGANIZATION_ID, base_url=url,
                                 rate_limits=rate,
                                 rate_backend=pa.RedisBackend(server.url, key_prefix=prefix))
                   for _ in range(2)]
        started = time.monotonic()
        await asyncio.gather(*(c.projects.list(page_size=1).first()
                               for c in clients for _ in range(25)))
        elapsed = time.monotonic() - started
        for c in clients:
            await c.close()
    assert box.log.count(429) == 0
    assert box.log.max_in_window(1) <= 10
    # 50 requests at 10 per second: the fifth window opens after 4 windows of 1 s + margin.
    assert elapsed >= 4.0


async def test_organization_log_is_shared_by_tokens(server: RedisServer, prefix: str) -> None:
    rate = limits(organization=pa.Rate(8, 1))
    box = sandbox.Sandbox(rate_limits=rate, tokens={"token-a": "77", "token-b": "77"})
    async with box.serve() as url:
        backend = pa.RedisBackend(server.url, key_prefix=prefix)
        clients = [pa.Productive(token, "77", base_url=url, rate_limits=rate,
                                 rate_backend=backend) for token in ("token-a", "token-b")]
        await asyncio.gather(*(c.projects.list(page_size=1).first()
                               for c in clients for _ in range(12)))
        for c in clients:
            await c.close()
    assert box.log.count(429) == 0
    assert box.log.max_in_window(1) <= 8
    assert backend.stats["grants"] == 24


async def test_a_429_pauses_the_class_in_every_client(server: RedisServer, prefix: str
                                                      ) -> None:
    rate = limits(standard=pa.Rate(100, 10))
    a = pa.Productive(TOKEN, ORG, rate_limits=rate,
                      rate_backend=pa.RedisBackend(server.url, key_prefix=prefix))
    b = pa.Productive(TOKEN, ORG, rate_limits=rate,
                      rate_backend=pa.RedisBackend(server.url, key_prefix=prefix))
    gate_a, gate_b = gate_of(a), gate_of(b)
    gate_a.pause(("standard",), gate_a.clock.time() + 0.6)
    gate_a.pause(("standard",), gate_a.clock.time() + 0.1)  # never shortens the pause
    await asyncio.sleep(0.05)  # the pause is written in the background
    started = time.monotonic()
    await gate_b.acquire(gate_b.classes_for(None))
    assert time.monotonic() - started >= 0.45
    await a.close()
    await b.close()


async def test_a_429_from_the_server_reaches_other_clients(server: RedisServer, prefix: str
                                                           ) -> None:
    # The client believes in 20 / s; the server allows 3 / 2 s: the first 429 pauses both.
    box = sandbox.Sandbox(rate_limits=limits(standard=pa.Rate(3, 2)))
    async with box.serve() as url:
        clients = [pa.Productive(sandbox.TOKEN, sandbox.ORGANIZATION_ID, base_url=url,
                                 rate_limits=limits(standard=pa.Rate(20, 1)),
                                 retry=pa.RetryPolicy(max_retries=10),
                                 rate_backend=pa.RedisBackend(server.url, key_prefix=prefix))
                   for _ in range(2)]
        await asyncio.gather(*(c.projects.list(page_size=1).first()
                               for c in clients for _ in range(4)))
        for c in clients:
            await c.close()
    arrivals = sorted(entry[0] for entry in box.log.entries)
    first_429 = min(entry[0] for entry in box.log.entries if entry[3] == 429)
    # Both clients sent their 8 at once; the first 429 (reset 2 s) paused both: nothing more
    # reached the server until the reset.
    early = [t for t in arrivals if first_429 + 0.1 < t < first_429 + 1.9]
    assert early == []
    assert len(arrivals) > 8


# ---------------------------------------------------------------- the property


def _worker(url: str, prefix: str, seed: int, tasks: int, per_task: int,
            out: Any, start: Any) -> None:
    async def run() -> list[tuple[tuple[str, ...], int]]:
        rng = random.Random(seed)
        backend = pa.RedisBackend(url, key_prefix=prefix)
        client = pa.Productive(TOKEN, ORG, rate_backend=backend, rate_limits=LIMITS)
        gate = gate_of(client)
        taken: list[tuple[tuple[str, ...], int]] = []

        async def task() -> None:
            for _ in range(per_task):
                rate_class = rng.choice([None, None, "reports", "contract_generation"])
                slot = await gate.acquire(gate.classes_for(rate_class))
                assert isinstance(slot, RedisSlot)
                taken.append((slot.classes, slot.stamp))
                await asyncio.sleep(rng.random() * 0.01)
                gate.release(slot)

        await asyncio.gather(*(task() for _ in range(tasks)))
        await client.close()
        return taken

    start.wait()
    out.put(asyncio.run(run()))


LIMITS = pa.RateLimits.only(standard=pa.Rate(12, 0.5), organization=pa.Rate(30, 2),
                            reports=pa.Rate(3, 0.4), contract_generation=pa.Rate(4, 0.3))


@pytest.mark.timeout(120)
def test_property_no_window_of_any_class_ever_holds_more_than_its_limit(
    server: RedisServer, prefix: str
) -> None:
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    start = context.Event()
    workers = [context.Process(target=_worker, args=(server.url, prefix, seed, 4, 12, out,
                                                     start)) for seed in range(4)]
    for worker in workers:
        worker.start()
    start.set()
    taken = [item for _ in workers for item in out.get(timeout=100)]
    for worker in workers:
        worker.join(timeout=10)
    assert len(taken) == 4 * 4 * 12
    for name, rate in LIMITS.as_dict().items():
        stamps = sorted(stamp for classes, stamp in taken if name in classes)
        assert stamps, name
        window = int(rate.seconds * 1_000_000)
        for first, later in zip(stamps, stamps[rate.requests:], strict=False):
            assert later - first >= window, (name, first, later)


# ---------------------------------------------------------------- counting from the answer


async def test_a_slot_counts_from_its_answer_not_its_grant(server: RedisServer, prefix: str,
                                                          inspect: redis.asyncio.Redis) -> None:
    # However late a request reaches the server after its grant, it reached it before its
    # answer: the next slot waits a window from the answer (the exact rule, as in one process).
    rate = limits(standard=pa.Rate(1, 0.5))
    a = pa.Productive(TOKEN, ORG, rate_limits=rate,
                      rate_backend=pa.RedisBackend(server.url, key_prefix=prefix))
    b = pa.Productive(TOKEN, ORG, rate_limits=rate,
                      rate_backend=pa.RedisBackend(server.url, key_prefix=prefix))
    slot = await gate_of(a).acquire(("standard",))
    started = time.monotonic()
    waiter = asyncio.create_task(gate_of(b).acquire(("standard",)))
    await asyncio.sleep(1.0)  # the request is still in flight after two windows
    assert not waiter.done()
    gate_of(a).release(slot)
    answered = time.monotonic()
    await asyncio.wait_for(waiter, 3)
    assert time.monotonic() - answered >= 0.5
    assert time.monotonic() - started >= 1.5
    # A's answered entry left its window; B's is in flight: its score (microseconds of Redis's
    # TIME) lies a lease ahead.
    key = f"{prefix}{{org:{ORG}}}:{gate_of(a)._token_scope}:standard"
    seconds, micros = await inspect.time()
    entries = await inspect.zrange(key, 0, -1, withscores=True)
    assert [member for member, _ in entries] == [waiter.result().member]  # type: ignore
    assert entries[0][1] > seconds * 1_000_000 + micros
    await a.close()
    await b.close()


# ---------------------------------------------------------------- cancellation, death, close


async def test_a_cancelled_waiter_takes_nothing(server: RedisServer, prefix: str,
                                                inspect: redis.asyncio.Redis) -> None:
    client = pa.Productive(TOKEN, ORG, rate_limits=limits(standard=pa.Rate(1, 5)),
                           rate_backend=pa.RedisBackend(server.url, key_prefix=prefix))
    gate = gate_of(client)
    await gate.acquire(gate.classes_for(None))
    waiter = asyncio.create_task(gate.acquire(gate.classes_for(None)))
    await asyncio.sleep(0.1)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    key = f"{prefix}{{org:{ORG}}}:{gate._token_scope}:standard"
    assert await inspect.zcard(key) == 1
    await client.close()


async def test_a_slot_taken_as_the_waiter_is_cancelled_is_given_back(
    server: RedisServer, prefix: str, inspect: redis.asyncio.Redis
) -> None:
    backend = pa.RedisBackend(server.url, key_prefix=prefix)
    client = pa.Productive(TOKEN, ORG, rate_limits=limits(standard=pa.Rate(5, 5)),
                           rate_backend=backend)
    gate = gate_of(client)
    run = backend._run
    stamped = asyncio.Event()

    async def slow_answer(*args: Any) -> Any:
        answer = await run(*args)
        stamped.set()
        await asyncio.sleep(0.3)  # the answer is on its way when the waiter is cancelled
        return answer

    backend._run = slow_answer  # type: ignore[method-assign]
    waiter = asyncio.create_task(gate.acquire(gate.classes_for(None)))
    await stamped.wait()
    key = f"{prefix}{{org:{ORG}}}:{gate._token_scope}:standard"
    assert await inspect.zcard(key) == 1
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    for _ in range(100):
        if await inspect.zcard(key) == 0:
            break
        await asyncio.sleep(0.02)
    assert await inspect.zcard(key) == 0
    await client.close()


async def test_a_process_that_dies_holding_a_slot_costs_its_lease_and_a_window(
    server: RedisServer, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(productive_async._redis, "LEASE", 0.6)
    rate = limits(standard=pa.Rate(1, 0.5))
    dead = pa.Productive(TOKEN, ORG, rate_limits=rate,
                         rate_backend=pa.RedisBackend(server.url, key_prefix=prefix))
    gate = gate_of(dead)
    await gate.acquire(("standard",))
    # ... and dies: no answer, no lease renewal.
    assert gate._settler is not None
    gate._settler.cancel()
    gate._in_flight.clear()
    alive = pa.Productive(TOKEN, ORG, rate_limits=rate,
                          rate_backend=pa.RedisBackend(server.url, key_prefix=prefix))
    started = time.monotonic()
    await gate_of(alive).acquire(("standard",))
    waited = time.monotonic() - started
    assert 0.6 + 0.5 - 0.05 <= waited < 2.5
    await alive.close()


async def test_close_fails_waiting_requests_at_once(server: RedisServer, prefix: str) -> None:
    client = pa.Productive(TOKEN, ORG, rate_limits=limits(standard=pa.Rate(1, 30)),
                           rate_backend=pa.RedisBackend(server.url, key_prefix=prefix))
    gate = gate_of(client)
    await gate.acquire(gate.classes_for(None))
    waiters = [asyncio.create_task(gate.acquire(gate.classes_for(None))) for _ in range(3)]
    await asyncio.sleep(0.1)
    started = time.monotonic()
    await client.close()
    for waiter in waiters:
        with pytest.raises(pa.InvalidRequestError, match="closed"):
            await waiter
    assert time.monotonic() - started < 1
    with pytest.raises(pa.InvalidRequestError, match="closed"):
        await gate.acquire(gate.classes_for(None))


# ---------------------------------------------------------------- connections


async def test_a_connection_passed_in_stays_open_one_opened_is_closed(
    server: RedisServer, prefix: str
) -> None:
    mine = redis.asyncio.Redis.from_url(server.url)
    client = pa.Productive(TOKEN, ORG, rate_backend=pa.RedisBackend(mine, key_prefix=prefix))
    await client.gate.acquire(client.gate.classes_for(None))
    await client.close()
    assert await mine.ping()
    await mine.aclose()

    backend = pa.RedisBackend(server.url, key_prefix=prefix)
    first = pa.Productive(TOKEN, ORG, rate_backend=backend)
    second = pa.Productive(TOKEN, ORG, rate_backend=backend)
    await first.gate.acquire(first.gate.classes_for(None))
    await first.close()
    await first.close()  # twice: still one client fewer, not two
    assert backend._client is not None  # still used by the second client
    await second.gate.acquire(second.gate.classes_for(None))
    await second.close()
    assert backend._client is None


# ---------------------------------------------------------------- Redis unavailable


async def test_raise_policy_raises_at_once_and_sends_nothing(tmp_path: Path) -> None:
    box = sandbox.Sandbox()
    async with box.serve() as url:
        backend = pa.RedisBackend(f"unix://{tmp_path}/absent.sock", on_unavailable="raise")
        async with pa.Productive(TOKEN, sandbox.ORGANIZATION_ID, base_url=url,
                                 rate_backend=backend) as client:
            started = time.monotonic()
            with pytest.raises(pa.RateBackendError) as info:
                await client.projects.list().first()
            assert time.monotonic() - started < 1
    assert "absent.sock" in str(info.value) and "raise" in str(info.value)
    text = repr(info.value) + str(info.value.__cause__) + str(info.value.__context__)
    assert TOKEN not in text
    assert box.log.count() == 0


async def test_a_redis_that_never_answers_is_bounded_by_the_timeout(tmp_path: Path) -> None:
    # Accepts connections, reads, never answers: a hung Redis.
    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1 << 16)
        await asyncio.sleep(60)

    path = tmp_path / "hung.sock"
    hung = await asyncio.start_unix_server(hang, path=str(path))
    async with hung:
        client = pa.Productive(TOKEN, ORG, rate_backend=pa.RedisBackend(
            f"unix://{path}", on_unavailable="raise", timeout=0.2))
        started = time.monotonic()
        with pytest.raises(pa.RateBackendError, match="Timeout"):
            await client.gate.acquire(client.gate.classes_for(None))
        assert time.monotonic() - started < 1.0
        await client.close()


async def test_wait_policy_waits_for_redis_then_raises(own_server: RedisServer,
                                                       prefix: str) -> None:
    own_server.stop()
    backend = pa.RedisBackend(own_server.url, key_prefix=prefix, on_unavailable="wait",
                              max_wait=0.5, probe_interval=0.1)
    client = pa.Productive(TOKEN, ORG, rate_backend=backend)
    started = time.monotonic()
    with pytest.raises(pa.RateBackendError, match=r"not back after 0\.5 s"):
        await client.gate.acquire(client.gate.classes_for(None))
    assert 0.45 <= time.monotonic() - started < 1.5
    await client.close()


async def test_wait_policy_goes_on_when_redis_is_back(own_server: RedisServer,
                                                      prefix: str) -> None:
    own_server.stop()
    backend = pa.RedisBackend(own_server.url, key_prefix=prefix, on_unavailable="wait",
                              max_wait=10, probe_interval=0.1)
    client = pa.Productive(TOKEN, ORG, rate_backend=backend)
    waiter = asyncio.create_task(client.gate.acquire(client.gate.classes_for(None)))
    await asyncio.sleep(0.4)
    assert not waiter.done()
    await asyncio.to_thread(own_server.start)
    slot = await asyncio.wait_for(waiter, 5)
    assert isinstance(slot, RedisSlot)
    await client.close()


async def test_local_policy_falls_back_warns_once_and_writes_back(
    own_server: RedisServer, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    rate = limits(standard=pa.Rate(8, 0.5))
    backend = pa.RedisBackend(own_server.url, key_prefix=prefix, local_share=0.5,
                              probe_interval=0.1)
    client = pa.Productive(TOKEN, ORG, rate_backend=backend, rate_limits=rate)
    gate = gate_of(client)
    gate.release(await gate.acquire(gate.classes_for(None)))  # through Redis
    started = time.monotonic()
    own_server.stop()
    caplog.set_level(logging.WARNING, logger="productive_async")
    for _ in range(8):
        slot = await gate.acquire(gate.classes_for(None))
        assert not isinstance(slot, RedisSlot)
        gate.release(slot)
    elapsed = time.monotonic() - started
    # Half of 8 per 0.5 s, counting the one this process sent through Redis: 9 take two
    # windows.
    assert elapsed >= 1.0
    assert backend.stats["fallback_grants"] == 8 and backend.stats["outages"] == 1
    warnings = [r for r in caplog.records if "unavailable" in r.getMessage()]
    assert len(warnings) == 1 and "0.5 of each rate" in warnings[0].getMessage()
    await asyncio.to_thread(own_server.start)
    for _ in range(50):
        if gate.outage_since is None:
            break
        await asyncio.sleep(0.05)
    assert gate.outage_since is None
    assert any("is back" in r.getMessage() for r in caplog.records)
    conn = redis.asyncio.Redis.from_url(own_server.url)
    key = f"{prefix}{{org:{ORG}}}:{gate._token_scope}:standard"
    recent = await conn.zcard(key)
    await conn.aclose()
    assert 1 <= recent == backend.stats["recorded"] <= 8  # those still within their window
    slot = await gate.acquire(gate.classes_for(None))
    assert isinstance(slot, RedisSlot)
    await client.close()


# ---------------------------------------------------------------- the command line


@pytest.mark.timeout(90)
async def test_two_pulls_in_two_processes_share_the_budget(server: RedisServer, prefix: str,
                                                           tmp_path: Path) -> None:
    # Two `pull`s of 75 pages each against the documented 100 / 10 s: alone, each would send
    # its 75 at once (150 in a window); sharing Redis they keep to 100 and finish.
    records = [{"id": str(i), "type": "companies", "attributes": {"name": f"c{i}"},
                "relationships": {}} for i in range(1, 301)]
    box = sandbox.Sandbox(demo_data=False, records=records, latency=0.01)
    async with box.serve() as url:
        env = {**os.environ, "PRODUCTIVE_API_TOKEN": sandbox.TOKEN,
               "PRODUCTIVE_ORGANIZATION_ID": sandbox.ORGANIZATION_ID,
               "PRODUCTIVE_BASE_URL": url, "PRODUCTIVE_REDIS_URL": server.url}
        processes = [
            await asyncio.create_subprocess_exec(
                sys.executable, "-m", "productive_async._cli", "pull", "companies", "-q",
                "--page-size", "4", "--out", str(tmp_path / f"{n}.jsonl"), env=env,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            for n in range(2)
        ]
        outcomes = [await asyncio.wait_for(p.communicate(), 60) for p in processes]
    for process, (_, stderr) in zip(processes, outcomes, strict=True):
        assert process.returncode == 0, stderr.decode()
    for n in range(2):
        assert len((tmp_path / f"{n}.jsonl").read_text().splitlines()) == 300
    assert box.log.count(429) == 0
    assert box.log.max_in_window(10) <= 100
    assert len(box.log.entries) == 150


def test_a_bad_redis_url_is_bad_usage() -> None:
    result = CliRunner().invoke(main, ["pull", "projects", "--sandbox", "--redis",
                                       "http://user:hunter2@host"])
    assert result.exit_code == 2
    assert "--redis" in result.output and "hunter2" not in result.output


def test_a_pull_goes_on_when_redis_is_down(tmp_path: Path) -> None:
    out = tmp_path / "projects.jsonl"
    result = CliRunner().invoke(main, [
        "pull", "projects", "--sandbox", "-q", "--max-items", "40", "--page-size", "20",
        "--redis", f"unix://{tmp_path}/absent.sock", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert len(out.read_text().splitlines()) == 40


async def test_no_wall_clock_is_read_only_durations(server: RedisServer, prefix: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # Stamps are Redis's TIME: a process's wall clock (250 ms off, or any) plays no part.
    def no_wall_clock() -> float:
        raise AssertionError("the wall clock was read")

    client = pa.Productive(TOKEN, ORG, rate_limits=limits(standard=pa.Rate(2, 0.3)),
                           rate_backend=pa.RedisBackend(server.url, key_prefix=prefix))
    gate = gate_of(client)
    gate.release(await gate.acquire(gate.classes_for(None)))  # connected, scripts loaded
    monkeypatch.setattr(time, "time", no_wall_clock)
    for _ in range(5):
        gate.release(await gate.acquire(gate.classes_for(None)))
    gate.pause(("standard",), gate.clock.time() + 0.1)
    gate.release(await gate.acquire(gate.classes_for(None)))
    monkeypatch.undo()
    await client.close()
