"""The README's worked examples run against the sandbox and do what they say."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import productive_async as pa
from productive_async import sandbox

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))

import bulk_update
import invoicing_workflow


@pytest.fixture
async def demo() -> AsyncIterator[tuple[sandbox.Sandbox, pa.Productive]]:
    box = sandbox.Sandbox(scale=0.05, rate_limits=None, today=dt.date.today())
    async with box.serve() as url, pa.Productive(
        sandbox.TOKEN, sandbox.ORGANIZATION_ID, base_url=url,
        rate_limits=pa.RateLimits.unlimited(),
    ) as client:
        yield box, client


async def test_invoicing_workflow(demo: tuple[sandbox.Sandbox, pa.Productive]) -> None:
    box, client = demo
    summary = await invoicing_workflow.invoice_budget(client, to="billing@example.com")
    assert summary["line_items"] >= 1
    assert summary["amount_cents"] == summary["previewed_cents"] > 0
    assert summary["number"]
    assert summary["sent_on"] == dt.date.today()
    invoices = [i for i in box.store.table("invoices").values()
                if i["attributes"]["number"] == summary["number"]]
    assert len(invoices) == 1
    assert invoices[0]["attributes"]["sent_on"] == dt.date.today().isoformat()


async def test_bulk_update_examples(demo: tuple[sandbox.Sandbox, pa.Productive]) -> None:
    box, client = demo
    deals_before = len(box.store.table("deals"))
    summary = await bulk_update.bulk_examples(client)
    assert summary["time_entries_failed"] == 0
    assert summary["time_entries_updated"] > 0
    assert summary["budgets_created"] == 6
    assert len(box.store.table("deals")) == deals_before + 6
    noted = [e for e in box.store.table("time_entries").values()
             if (e["attributes"]["note"] or "").startswith("Reviewed:")]
    assert len(noted) == summary["time_entries_updated"]
