"""Static checks of the public surface, run by ``mypy --strict`` in ``.ci/run`` (never executed).

Each ``assert_type`` states the exact type a user's type checker must see; each
``# type: ignore[...]`` line is a mistake that must be an error (mypy's ``warn_unused_ignores``,
part of ``--strict``, fails the run if one of them stops being an error).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import assert_type

import productive_async as pa
from productive_async import models
from productive_async.resources import InvoicesResource, TimeReportsResource


async def collections(client: pa.Productive) -> None:
    assert_type(client.invoices, InvoicesResource)
    assert_type(client.reports.time_reports, TimeReportsResource)
    _ = client.invoicez  # type: ignore[attr-defined]


async def records(client: pa.Productive) -> None:
    invoice = await client.invoices.get("1")
    assert_type(invoice, models.Invoice)
    assert_type(invoice.id, str)
    assert_type(invoice.invoiced_on, dt.date | None)
    assert_type(invoice.created_at, dt.datetime | None)
    assert_type(invoice.amount, int | None)
    assert_type(invoice.company, models.Company | pa.Ref | None)
    _ = invoice.numbr  # type: ignore[attr-defined]
    deal = await client.deals.get(1, include=["company"])
    assert_type(deal, models.Deal)
    assert_type(deal.exchange_rate, Decimal | None)
    entry = await client.time_entries.get(3)
    assert_type(entry.time, int | None)


async def listing(client: pa.Productive) -> None:
    paginator = client.invoices.list(filters={"status": 1}, sort=["-invoiced_on"], max_items=5)
    assert_type(paginator, pa.Paginator[models.Invoice])
    async for invoice in paginator:
        assert_type(invoice, models.Invoice)
    async for page in paginator.pages():
        assert_type(page, pa.Page[models.Invoice])
        assert_type(page.records, list[models.Invoice])
    assert_type(await paginator.to_list(), list[models.Invoice])
    assert_type(await paginator.first(), models.Invoice | None)
    client.invoices.list(filters={"no_such_filter": 1})  # type: ignore[arg-type]
    client.invoices.list(sort="-numbr")  # type: ignore[arg-type]
    client.invoices.list(page_sise=10)  # type: ignore[call-arg]
    rows = client.reports.time_reports.list(group="person")
    assert_type(rows, pa.Paginator[models.TimeReport])
    client.reports.time_reports.list(group="persn")  # type: ignore[arg-type]


async def writes(client: pa.Productive) -> None:
    created = await client.invoices.create(
        invoiced_on=dt.date(2026, 1, 1), currency="EUR", company=pa.Ref("companies", 1),
        document_type=pa.Ref("document_types", 1),
    )
    assert_type(created, models.Invoice)
    assert_type(await client.invoices.finalize("1"), models.Invoice)
    assert_type(await client.deals.close(1, delivered_on=dt.date(2026, 1, 2)), models.Deal)
    await client.deals.update(1, nmae="x")  # type: ignore[call-arg]
    await client.deals.close(1, deliverd_on=dt.date(2026, 1, 2))  # type: ignore[call-arg]
    await client.invoices.create(  # type: ignore[call-arg]  # currency, company ... missing
        invoiced_on=dt.date(2026, 1, 1)
    )
    await client.people.delete(1)  # type: ignore[attr-defined]
    preview = await client.invoices.preview("1", budget_ids=[685])
    assert_type(
        preview, list[pa.LineItemPreview | pa.InvoiceAttributionPreview | pa.PreviewItem]
    )
    document = await client.request("GET", "tasks", params={"filter[project_id]": 1})
    assert_type(document, pa.Document)


async def shared_budget() -> None:
    import redis.asyncio

    backend = pa.RedisBackend("redis://localhost:6379/0", on_unavailable="wait", max_wait=5)
    mine = pa.RedisBackend(redis.asyncio.Redis(), local_share=0.5)
    pa.RedisBackend("redis://localhost", on_unavailable="retry")  # type: ignore[arg-type]
    async with pa.Productive("token", 1, rate_backend=backend) as client:
        assert_type(client.rate_limits, pa.RateLimits)
    pa.Productive("token", 1, rate_backend="redis://x")  # type: ignore[arg-type]
    assert_type(mine.stats, dict[str, int])
    try:
        pass
    except pa.RateBackendError as exc:
        assert_type(exc, pa.RateBackendError)
