"""Fault injection: a scriptable JSON:API server on loopback answers what each test needs.

Every test is bounded in time (pytest-timeout, ``timeout`` in pyproject.toml), so a hang fails
instead of stalling CI.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
import pytest
from aiohttp import web
from conftest import loopback, sandbox_client

import productive_async as pa

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
JSONAPI = "application/vnd.api+json"


class FaultServer:
    """Routes every request to ``handler``; counts requests."""

    def __init__(self) -> None:
        self.handler: Handler | None = None
        self.requests: list[web.Request] = []

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(request)
        assert self.handler is not None
        return await self.handler(request)


@pytest.fixture
async def faulty() -> AsyncIterator[tuple[FaultServer, pa.Productive]]:
    server = FaultServer()
    async with loopback(server.dispatch) as url, pa.Productive(
        "t", "1", base_url=url, rate_limits=pa.RateLimits.unlimited(),
    ) as client:
        yield server, client


def document(body: Any, status: int = 200, **headers: str) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type=JSONAPI,
                        headers=headers)


def invoices(ids: range | list[int]) -> list[dict[str, Any]]:
    return [{"id": str(i), "type": "invoices", "attributes": {"number": f"N{i}"}} for i in ids]


def pages_of(pages: dict[int, list[int]], total_count: int, size: int) -> Handler:
    """A list endpoint whose page N holds the invoices ``pages[N]`` (``meta`` as given)."""

    async def handle(request: web.Request) -> web.Response:
        assert int(request.query["page[size]"]) == size
        number = int(request.query["page[number]"])
        meta = {"total_count": total_count, "total_pages": -(-total_count // size)}
        return document({"data": invoices(pages.get(number, [])), "meta": meta, "links": {}})

    return handle


# --------------------------------------------------------------------------- false successes


async def test_an_errors_document_with_a_success_status_is_an_error(
    faulty: tuple[FaultServer, pa.Productive],
) -> None:
    server, client = faulty

    async def handle(request: web.Request) -> web.Response:
        return document({"errors": [{"status": "422", "title": "Invalid", "detail": "nope"}]})

    server.handler = handle
    with pytest.raises(pa.ValidationError, match="Invalid: nope"):
        await client.invoices.get(1)
    with pytest.raises(pa.ValidationError):
        await client.invoices.delete(1)
    with pytest.raises(pa.APIError):
        await client.invoices.list().to_list()


async def test_a_delete_answered_with_any_success_body_is_a_success(
    faulty: tuple[FaultServer, pa.Productive],
) -> None:
    server, client = faulty

    async def handle(request: web.Request) -> web.Response:
        return web.Response(text="<html>deleted</html>", content_type="text/html")

    server.handler = handle
    await client.invoices.delete(1)  # no DecodeError
    assert [r.method for r in server.requests] == ["DELETE"]


async def test_a_record_action_answered_with_nothing_is_a_decode_error_naming_the_request(
    faulty: tuple[FaultServer, pa.Productive],
) -> None:
    server, client = faulty

    async def handle(request: web.Request) -> web.Response:
        return web.Response(status=200)

    server.handler = handle
    with pytest.raises(pa.DecodeError, match=r"PATCH invoices/7/finalize -> 200"):
        await client.invoices.finalize(7)
    with pytest.raises(pa.DecodeError, match=r"PATCH invoices/7/finalize -> 200"):
        await client.resource("invoices").finalize(7)


async def test_error_headers_are_case_insensitive_and_carry_the_request_id(
    faulty: tuple[FaultServer, pa.Productive],
) -> None:
    server, client = faulty

    async def handle(request: web.Request) -> web.Response:
        return document({"errors": [{"status": "404", "title": "Not found"}]}, status=404,
                        **{"X-Request-Id": "req-123"})

    server.handler = handle
    with pytest.raises(pa.NotFoundError) as caught:
        await client.invoices.get(1)
    assert caught.value.request_id == "req-123"
    assert caught.value.headers["x-request-id"] == caught.value.headers["X-REQUEST-ID"]


# --------------------------------------------------------------------------- paging integrity


async def test_raw_pages_hand_out_the_resource_objects_as_received(
    faulty: tuple[FaultServer, pa.Productive],
) -> None:
    server, client = faulty
    server.handler = pages_of({1: [1, 2], 2: [3]}, total_count=3, size=2)
    pages = [page async for page in client.invoices.list(page_size=2).raw_pages()]
    assert [page.number for page in pages] == [1, 2]
    assert pages[0].data == invoices([1, 2]) and pages[1].data == invoices([3])
    assert pages[0].total_count == 3


@pytest.mark.parametrize(
    ("pages", "total", "message"),
    [
        ({1: [1, 2], 2: [3], 3: [4, 5]}, 5, "page 2 of 3 holds 1 records, not 2"),
        ({1: [1, 2], 2: [], 3: [4, 5]}, 5, "page 2 of 3 holds 0 records"),
        ({1: [1, 2], 2: [2, 3], 3: [4]}, 5, "record invoices/2 is on pages 1 and 2"),
        ({1: [1, 2], 2: [3, 4], 3: [5, 6]}, 5, r"the last page \(3\) holds 2 records, not the 1"),
        ({1: [1, 1], 2: [3, 4], 3: [5]}, 5, "page 1 holds a record twice"),
    ],
    ids=["short", "empty", "shifted", "long-last", "twice"],
)
async def test_pages_that_do_not_add_up_raise_drift_error(
    faulty: tuple[FaultServer, pa.Productive], pages: dict[int, list[int]], total: int,
    message: str,
) -> None:
    server, client = faulty
    server.handler = pages_of(pages, total_count=total, size=2)
    with pytest.raises(pa.DriftError, match=message):
        await client.invoices.list(page_size=2, prefetch=1).to_list()
    # on_drift="ignore" delivers what came
    got = await client.invoices.list(page_size=2, on_drift="ignore").to_list()
    assert len(got) == sum(len(v) for v in pages.values())


async def test_a_declared_page_count_that_contradicts_total_count_is_refused(
    faulty: tuple[FaultServer, pa.Productive],
) -> None:
    server, client = faulty

    async def handle(request: web.Request) -> web.Response:
        meta = {"total_count": 3, "total_pages": 1_000_000}
        return document({"data": invoices([1, 2]), "meta": meta})

    server.handler = handle
    with pytest.raises(pa.DecodeError, match="total_pages is 1000000 but total_count 3"):
        await client.invoices.list(page_size=2).to_list()
    assert len(server.requests) == 1


@pytest.mark.parametrize("meta", [{"total_pages": "abc"}, {"total_count": [1]}, "x", None])
async def test_malformed_paging_meta_never_raises_a_python_error(
    faulty: tuple[FaultServer, pa.Productive], meta: Any,
) -> None:
    server, client = faulty

    async def handle(request: web.Request) -> web.Response:
        return document({"data": invoices([1]), "meta": meta})

    server.handler = handle
    try:
        got = await client.invoices.list().to_list()
    except pa.ProductiveError:
        return
    assert [r.id for r in got] == ["1"]


async def test_a_repeating_cursor_is_detected(
    faulty: tuple[FaultServer, pa.Productive],
) -> None:
    server, client = faulty

    async def handle(request: web.Request) -> web.Response:
        after = request.query["page[after]"]
        following = "a" if after in ("", "b") else "b"  # a, b, a, ...
        return document({"data": invoices([len(server.requests)]),
                         "links": {"next": f"http://x/invoices?page%5Bafter%5D={following}"}})

    server.handler = handle
    with pytest.raises(pa.DecodeError, match="gave cursor 'a' twice"):
        await client.invoices.list(pagination="cursor").to_list()
    assert len(server.requests) == 3


# --------------------------------------------------------------------------- redirects, size


async def test_a_redirect_is_an_error_and_is_never_followed(
    faulty: tuple[FaultServer, pa.Productive],
) -> None:
    server, client = faulty

    async def handle(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": "https://elsewhere.example/x"})

    server.handler = handle
    for call in (client.invoices.delete(1), client.invoices.finalize(1),
                 client.invoices.get(1)):
        with pytest.raises(pa.APIError, match=r"302: redirected to https://elsewhere\.example/x"):
            await call
    assert len(server.requests) == 3  # one each, nothing followed
    result = await client.time_entries.bulk_delete([1, 2])
    assert not result.ok and all(isinstance(o.error, pa.APIError) for o in result)


async def test_an_answer_past_the_size_cap_is_refused_while_read_even_gzipped(
    faulty: tuple[FaultServer, pa.Productive],
) -> None:
    import gzip

    server, client = faulty
    bomb = gzip.compress(b'{"data": [' + b" " * (8 << 20) + b"]}")  # 8 MiB inflated

    async def handle(request: web.Request) -> web.Response:
        return web.Response(body=bomb, content_type=JSONAPI,
                            headers={"Content-Encoding": "gzip"})

    server.handler = handle
    small = pa.Productive("t", "1", base_url=client.base_url, max_response_bytes=1 << 20,
                          rate_limits=pa.RateLimits.unlimited())
    async with small:
        with pytest.raises(pa.TransportError, match="larger than max_response_bytes"):
            await small.invoices.list().to_list()
    assert len(server.requests) == 1  # not retried
    assert len(await client.invoices.list().to_list()) == 0  # the default cap (64 MiB) reads it


# --------------------------------------------------------------------------- configuration


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"token": "secret-token\n"}, "API token contains whitespace"),
        ({"token": "secret\x00token"}, "non-printable"),
        ({"organization_id": "1 "}, "organization id contains whitespace"),
        ({"base_url": "ftp://api.productive.io/api/v2/"}, "must be an http"),
        ({"base_url": "api.productive.io/api/v2"}, "must be an http"),
        ({"base_url": "https://api.productive.io/api/v2/?x=1"}, "query or fragment"),
        ({"timeouts": "zero"}, "Timeouts.total"),
        ({"max_response_bytes": 0}, "max_response_bytes"),
    ],
)
def test_configuration_errors_are_reported_at_once(kwargs: dict[str, Any], message: str) -> None:
    options: dict[str, Any] = {"token": "secret-token", "organization_id": "1", **kwargs}
    if options.get("timeouts") == "zero":
        with pytest.raises(pa.InvalidRequestError, match=message):
            pa.Timeouts(total=0)
        with pytest.raises(pa.InvalidRequestError, match=r"Timeouts\.connect"):
            pa.Timeouts(connect=-1)
        return
    with pytest.raises(pa.InvalidRequestError, match=message) as caught:
        pa.Productive(options.pop("token"), options.pop("organization_id"), **options)
    assert "secret" not in str(caught.value)


def test_userinfo_in_the_base_url_is_masked() -> None:
    client = pa.Productive("t", "1", base_url="https://user:hunter2@proxy.example/api/v2/")
    assert "hunter2" not in repr(client) and "***" in repr(client)


async def test_a_path_cannot_point_the_token_at_another_host(
    faulty: tuple[FaultServer, pa.Productive],
) -> None:
    server, client = faulty
    for path in ("https://elsewhere.example/api/v2/invoices", "//elsewhere.example/x",
                 "/other/prefix"):
        with pytest.raises(pa.InvalidRequestError, match="base URL"):
            await client.request("GET", path)
    assert server.requests == []


async def test_a_caller_session_that_raises_for_status_still_gets_typed_errors(
    faulty: tuple[FaultServer, pa.Productive],
) -> None:
    import aiohttp

    server, client = faulty

    async def handle(request: web.Request) -> web.Response:
        return document({"errors": [{"status": "404", "title": "Not found"}]}, status=404)

    server.handler = handle
    async with aiohttp.ClientSession(raise_for_status=True) as session:
        own = pa.Productive("t", "1", base_url=client.base_url, session=session,
                            rate_limits=pa.RateLimits.unlimited())
        with pytest.raises(pa.NotFoundError):
            await own.invoices.get(1)
    assert len(server.requests) == 1  # not retried as a network failure


# --------------------------------------------------------------------------- token hygiene


def _everything_reachable(exc: BaseException) -> str:
    """The text of an exception chain and of every local of the SDK's frames in its
    tracebacks (what an error tracker such as Sentry records)."""
    out = []
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        out.append(repr(current))
        out.append(repr(vars(current)) if hasattr(current, "__dict__") else "")
        tb = current.__traceback__
        while tb is not None:
            if "productive_async" in tb.tb_frame.f_code.co_filename:
                out.extend(f"{k}={v!r}" for k, v in tb.tb_frame.f_locals.items())
            tb = tb.tb_next
        stack.extend([current.__cause__, current.__context__])
    return "\n".join(out)


async def test_the_token_is_in_no_exception_chain_or_frame_local() -> None:
    token = "tok-SECRET-1234"
    client = pa.Productive(token, "1", base_url="http://127.0.0.1:9/api/v2/",
                           retry=pa.RetryPolicy(max_retries=0),
                           rate_limits=pa.RateLimits.unlimited())
    async with client:
        with pytest.raises(pa.TransportError) as caught:
            await client.invoices.get(1)
    assert caught.value.__context__ is None and caught.value.__cause__ is None
    assert "127.0.0.1:9" in str(caught.value)  # host and port named
    assert token not in _everything_reachable(caught.value)


async def test_the_token_is_not_reachable_from_an_api_error(
    faulty: tuple[FaultServer, pa.Productive],
) -> None:
    server, _ = faulty
    token = "tok-SECRET-5678"

    async def handle(request: web.Request) -> web.Response:
        return document({"errors": [{"status": "401", "title": "Invalid token"}]}, status=401)

    server.handler = handle
    async with pa.Productive(token, "1", base_url=_.base_url) as client:
        with pytest.raises(pa.AuthenticationError) as caught:
            await client.invoices.get(1)
    assert token not in _everything_reachable(caught.value)


# --------------------------------------------------------------------------- loops, pools


def test_a_client_works_across_two_asyncio_runs() -> None:
    import asyncio
    import threading

    from productive_async import sandbox

    box = sandbox.Sandbox(scale=0.05, rate_limits=None)
    ready = threading.Event()
    stop = threading.Event()
    urls: list[str] = []

    async def serve() -> None:
        async with box.serve() as url:
            urls.append(url)
            ready.set()
            await asyncio.to_thread(stop.wait)

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    assert ready.wait(10)
    client = sandbox_client(urls[0])

    async def first_id() -> str:
        record = await client.invoices.list().first()
        assert record is not None
        return record.id

    try:
        assert asyncio.run(first_id()) == asyncio.run(first_id())  # no "Event loop is closed"
        asyncio.run(client.close())
    finally:
        stop.set()
        thread.join(10)


async def test_time_queued_for_a_pooled_connection_is_not_charged_to_the_timeout(
    faulty: tuple[FaultServer, pa.Productive],
) -> None:
    import asyncio

    server, _ = faulty

    async def handle(request: web.Request) -> web.Response:
        await asyncio.sleep(0.3)
        return document({"data": invoices([1])[0]})

    server.handler = handle
    async with pa.Productive("t", "1", base_url=_.base_url, timeouts=pa.Timeouts(total=0.5),
                             rate_limits=pa.RateLimits.unlimited()) as client:
        # 100 pooled connections: the last 50 wait ~0.3 s for one, then ~0.3 s for the answer
        got = await asyncio.gather(*(client.invoices.get(1) for _ in range(150)))
        assert client.stats["retries"] == 0  # no attempt timed out
    assert len(got) == 150


# --------------------------------------------------------------------------- bulk outcomes


async def test_create_many_stops_on_an_unexpected_failure_and_reports_every_item() -> None:
    import asyncio

    from productive_async._bulk import create_many

    started: list[int] = []

    async def create(item: Any) -> Any:
        started.append(item["n"])
        await asyncio.sleep(0.01 * item["n"])
        if item["n"] == 1:
            raise RuntimeError("boom")
        return pa.Record.from_resource({"id": str(item["n"]), "type": "invoices"})

    with pytest.raises(pa.BulkError) as caught:
        await create_many(create, [{"n": n} for n in range(6)], concurrency=2)
    result = caught.value.result
    assert isinstance(caught.value.__cause__, RuntimeError)
    assert len(result) == 6 and [o.index for o in result] == list(range(6))
    assert result[0].ok and isinstance(result[1].error, pa.NotAttemptedError)
    assert "RuntimeError: boom" in str(result[1].error)
    # items 2.. were either finished before the failure or never started; none after it
    await asyncio.sleep(0.1)
    assert len(started) == len([o for o in result if o.ok]) + 1
    assert all(isinstance(o.error, pa.NotAttemptedError) for o in result if not o.ok)


async def test_a_value_that_cannot_be_sent_is_that_items_error(
    faulty: tuple[FaultServer, pa.Productive],
) -> None:
    server, client = faulty

    async def handle(request: web.Request) -> web.Response:
        return document({"data": invoices([1])[0]}, status=201)

    server.handler = handle
    result = await client.invoices.create_many(
        [{"currency": "EUR"}, {"currency": object()}], concurrency=1)
    assert result[0].ok
    assert isinstance(result[1].error, pa.InvalidRequestError)
    assert "cannot be sent as JSON" in str(result[1].error)
