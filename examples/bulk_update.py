"""Bulk updates with the JSON:API bulk extension, and creates where the API has no bulk create.

    python examples/bulk_update.py --sandbox

1. Tag every time entry of one person in a month with a note: one ``PATCH /time_entries`` per
   100 entries (``ext=bulk``), each entry's outcome reported.
2. Raise the probability of open sales deals of one company: deals have bulk update too.
3. Create several budgets: deals have no bulk create (seed 000 FAQ), so ``create_many`` sends
   them one by one, concurrently, within the rate limits.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
from typing import Any

import productive_async as pa
from productive_async import sandbox


async def bulk_examples(client: pa.Productive) -> dict[str, Any]:
    """Run the three examples; returns counts of what happened."""
    # 1. Notes on a person's time entries for a month (approved entries are locked: 409): the
    #    person who tracked the month's first entry.
    october = {"gt_eq": dt.date(2025, 10, 1), "lt": dt.date(2025, 11, 1)}
    first = await client.time_entries.list(filters={"date": october}, include=["person"]).first()
    person = first.person if first is not None else None
    entries = [] if person is None else [
        e async for e in client.time_entries.list(filters={"date": october, "person_id": person.id})
        if not e.approved
    ]
    notes = await client.time_entries.bulk_update(
        [{"id": e.id, "note": f"Reviewed: {e.note or ''}".strip()} for e in entries]
    )
    for outcome in notes.failed:
        print(f"time entry {outcome.item['id']}: {outcome.error}")

    # 2. Probability of open deals of one company.
    company = await anext(aiter(client.companies.list(filters={"name": {"not_contain":
                                                                        "internal"}},
                                                      max_items=1)))
    deals = [d async for d in client.deals.list(filters={"company_id": company.id, "type": 1})]
    raised = await client.deals.bulk_update(
        [{"id": d.id, "probability": min(100, (d.probability or 0) + 10)} for d in deals]
    )

    # 3. Budgets, created concurrently (no bulk create for deals).
    created = await client.deals.create_many([
        {"name": f"Retainer {month:%B %Y}", "budget": True, "deal_type_id": 2,
         "company": company, "date": month, "currency": "EUR"}
        for month in (dt.date(2026, m, 1) for m in range(1, 7))
    ])
    created.raise_for_errors()

    return {
        "time_entries_updated": len(notes.records),
        "time_entries_failed": len(notes.failed),
        "deals_updated": len(raised.records),
        "budgets_created": len(created.records),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sandbox", action="store_true", help="use the embedded sandbox")
    args = parser.parse_args()
    async with contextlib.AsyncExitStack() as stack:
        if args.sandbox:
            base_url = await stack.enter_async_context(sandbox.serve())
            token, organization = sandbox.TOKEN, sandbox.ORGANIZATION_ID
        else:
            base_url = pa.DEFAULT_BASE_URL
            token = os.environ["PRODUCTIVE_API_TOKEN"]
            organization = os.environ["PRODUCTIVE_ORGANIZATION_ID"]
        client = await stack.enter_async_context(
            pa.Productive(token, organization, base_url=base_url)
        )
        for name, value in (await bulk_examples(client)).items():
            print(f"{name:>22}: {value}")


if __name__ == "__main__":
    asyncio.run(main())
