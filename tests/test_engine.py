"""Engine behaviour: concurrent paging in order, bounded prefetch, drift, argument checks."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from aiohttp import web
from conftest import loopback

import productive_async as pa
from productive_async import sandbox


class PagedServer:
    """A tiny JSON:API server of ``total`` invoices that answers after ``delay`` seconds and
    records how many requests were in flight at once."""

    def __init__(self, total: int, delay: float) -> None:
        self.total = total
        self.delay = delay
        self.in_flight = 0
        self.max_in_flight = 0
        self.pages_served: list[int] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            number = int(request.query["page[number]"])
            size = int(request.query["page[size]"])
            # Later pages answer sooner, so completion order differs from page order.
            await asyncio.sleep(self.delay / number)
            self.pages_served.append(number)
            start = (number - 1) * size
            data = [
                {"id": str(i + 1), "type": "invoices", "attributes": {"number": f"N{i + 1}"}}
                for i in range(start, min(start + size, self.total))
            ]
            meta = {"current_page": number, "total_pages": -(-self.total // size),
                    "total_count": self.total, "page_size": size, "max_page_size": 200}
            return web.Response(body=orjson.dumps({"data": data, "meta": meta, "links": {}}),
                                content_type="application/vnd.api+json")
        finally:
            self.in_flight -= 1


@pytest.fixture
async def paged() -> AsyncIterator[tuple[PagedServer, pa.Productive]]:
    server = PagedServer(total=1000, delay=0.05)
    async with loopback(server.handle) as url, pa.Productive(
        "t", "1", base_url=url, rate_limits=pa.RateLimits.unlimited(),
    ) as client:
        yield server, client


async def test_pages_are_fetched_concurrently_and_yielded_in_order(
    paged: tuple[PagedServer, pa.Productive],
) -> None:
    server, client = paged
    records = [r async for r in client.invoices.list(page_size=50, prefetch=4)]
    assert [r.id for r in records] == [str(i) for i in range(1, 1001)]
    assert server.max_in_flight == 4  # concurrent, and never more than the prefetch window
    assert server.pages_served != sorted(server.pages_served)  # really out of order


async def test_max_items_stops_early_without_fetching_the_rest(
    paged: tuple[PagedServer, pa.Productive],
) -> None:
    server, client = paged
    records = [r async for r in client.invoices.list(page_size=50, max_items=120, prefetch=8)]
    assert len(records) == 120 and records[-1].id == "120"
    assert sorted(server.pages_served) == [1, 2, 3]


async def test_breaking_out_cancels_pending_pages(
    paged: tuple[PagedServer, pa.Productive],
) -> None:
    server, client = paged
    pages = client.invoices.list(page_size=10, prefetch=6).pages()
    async for _page in pages:
        break
    await pages.aclose()
    await asyncio.sleep(0.1)
    assert server.in_flight == 0
    assert len(server.pages_served) <= 7


async def test_drift_is_reported_not_silently_returned(fresh: pa.Productive) -> None:
    for day in range(1, 8):
        await fresh.invoices.create(currency="EUR", invoiced_on=dt.date(2026, 1, day),
                                    company=11)
    seen: list[str] = []
    with pytest.raises(pa.DriftError) as caught:
        async for invoice in fresh.invoices.list(page_size=2, prefetch=1):
            seen.append(invoice.id)
            if len(seen) == 1:
                await fresh.invoices.create(currency="EUR", invoiced_on="2026-01-09",
                                            company=11)
    assert caught.value.expected == 7 and caught.value.seen == 8
    assert "pagination='cursor'" in str(caught.value)


async def test_drift_can_be_ignored_and_cursor_mode_is_consistent(fresh: pa.Productive) -> None:
    for day in range(1, 6):
        await fresh.invoices.create(currency="EUR", invoiced_on=dt.date(2026, 1, day),
                                    company=11)
    seen = []
    async for invoice in fresh.invoices.list(page_size=2, pagination="cursor"):
        seen.append(invoice.id)
        if len(seen) == 1:
            first = await fresh.invoices.list().first()
            assert first is not None
            await fresh.invoices.delete(first.id)  # delete behind the cursor
    assert len(seen) == 5 and len(set(seen)) == 5  # nothing skipped, nothing twice


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"page_size": 0}, "page_size"),
        ({"page_size": 201}, "page_size"),
        ({"max_items": -1}, "max_items"),
        ({"prefetch": 0}, "prefetch"),
        ({"pagination": "offset"}, "pagination"),
        ({"filters": {"invoiced_on": {"gte": "2025-01-01"}}}, "unknown operator 'gte'"),
        ({"filters": {"invoiced_on][gt": "2025-01-01"}}, "brackets"),
        ({"filters": {"invoiced_onn": "2025-01-01"}}, "did you mean 'invoiced_on'"),
        ({"sort": "-numbr"}, "unknown sort key 'numbr'; did you mean 'number'"),
        ({"include": "company.nope"}, "companies has no relationship 'nope'"),
        ({"page": 3}, "unknown option"),
        ({"extra_query": {"page[number]": 2}}, "cannot set 'page\\[number\\]'"),
        ({"extra_query": {"filter[status]": 2}}, "cannot set"),
    ],
)
def test_bad_list_arguments_fail_before_sending(
    kwargs: dict[str, Any], message: str
) -> None:
    client = pa.Productive("t", "1")
    with pytest.raises(pa.InvalidRequestError, match=message):
        client.invoices.list(**kwargs)


def test_unsupported_operations_and_unknown_names() -> None:
    client = pa.Productive("t", "1")
    with pytest.raises(AttributeError):
        _ = client.no_such_collection
    with pytest.raises(pa.UnknownResourceError) as caught:
        client.resource("no_such_collection")
    assert "invoices" in caught.value.known
    with pytest.raises(AttributeError, match="fly"):
        _ = client.deals.fly  # type: ignore[attr-defined]
    with pytest.raises(AttributeError, match="no method 'fly'"):
        _ = client.resource("deals").fly
    with pytest.raises(pa.InvalidRequestError, match="no action 'fly'"):
        client.resource("deals").action("fly")
    assert "close" in dir(client.deals) and "invoices" in dir(client)
    assert "close" in dir(client.resource("deals"))
    assert "time_reports" in dir(client.reports)
    assert client.resource("reports/time_reports") is client.resource("time_reports")
    assert client.reports.time_reports is client.reports.time_reports
    assert client.resource("time_reports").spec is client.reports.time_reports.spec


async def test_operation_the_api_lacks_is_refused(fresh: pa.Productive) -> None:
    assert "delete" not in pa.default_registry()["people"].operations
    assert not hasattr(fresh.people, "delete")  # the typed facade has no such method
    with pytest.raises(pa.InvalidRequestError, match="people does not support delete"):
        await fresh.resource("people").delete(20)


async def test_member_action_needs_an_id(fresh: pa.Productive) -> None:
    with pytest.raises(pa.InvalidRequestError, match="record id"):
        await fresh.resource("invoices").finalize()
    with pytest.raises(pa.InvalidRequestError, match="invalid record id"):
        await fresh.invoices.get("1/../2")


async def test_count(fresh: pa.Productive, fresh_box: sandbox.Sandbox) -> None:
    assert await fresh.companies.count() == 2
    assert await fresh.companies.count(filters={"name": "ACME"}) == 1


async def test_a_closed_client_refuses_to_send(fresh_box: sandbox.Sandbox) -> None:
    async with fresh_box.serve() as url:
        client = pa.Productive(sandbox.TOKEN, sandbox.ORGANIZATION_ID, base_url=url,
                               rate_limits=pa.RateLimits.unlimited())
        await client.companies.count()
        await client.close()
        with pytest.raises(pa.InvalidRequestError, match="closed"):
            await client.companies.count()


async def test_start_page_and_start_after_continue_a_listing() -> None:
    """The options a resumed pull starts from: ``start_page`` (max_items still counted from
    page 1, so it stops where the whole pull would) and ``start_after`` (a cursor)."""
    records = [{"id": str(n), "type": "companies", "attributes": {"name": f"C{n}"},
                "relationships": {}} for n in range(1, 96)]
    box = sandbox.Sandbox(demo_data=False, rate_limits=None, records=records)
    async with box.serve() as url, pa.Productive(
        sandbox.TOKEN, sandbox.ORGANIZATION_ID, base_url=url,
        rate_limits=pa.RateLimits.unlimited(),
    ) as client:
        every = [c.id async for c in client.companies.list(page_size=10)]
        assert len(every) == 95
        from_4 = [c.id async for c in client.companies.list(page_size=10, start_page=4)]
        assert from_4 == every[30:]
        capped = [c.id async for c in client.companies.list(page_size=10, start_page=4,
                                                             max_items=45)]
        assert capped == every[30:45]
        sent = len(box.log.entries)
        past = [c async for c in client.companies.list(page_size=10, start_page=6,
                                                       max_items=45)]
        assert past == [] and len(box.log.entries) == sent  # no request at all
        pages = [p async for p in client.companies.list(page_size=10,
                                                        pagination="cursor").raw_pages()]
        after = pages[1].links["next"].split("page%5Bafter%5D=")[1].split("&")[0]
        rest = [c.id async for c in client.companies.list(page_size=10, pagination="cursor",
                                                           start_after=after)]
        assert rest == every[20:]
        first = await client.companies.list(page_size=10, start_page=4).first()
        assert first is not None and first.id == "1"
        for options in ({"start_page": 0}, {"start_page": 2, "pagination": "cursor"},
                        {"start_after": "abc"}, {"start_page": True}):
            with pytest.raises(pa.InvalidRequestError, match="start_"):
                client.companies.list(**options)  # type: ignore[arg-type]
