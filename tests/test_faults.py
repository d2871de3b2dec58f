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
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.dispatch)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    async with pa.Productive("t", "1", base_url=f"http://{host}:{port}/api/v2/",
                             rate_limits=pa.RateLimits.unlimited()) as client:
        yield server, client
    await runner.cleanup()


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
