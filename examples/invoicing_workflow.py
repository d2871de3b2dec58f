"""The invoicing workflow with the line item generator (seed 004, "Invoicing flow"):

draft invoice -> preview -> generate line items -> finalize -> send -> export to accounting.

    python examples/invoicing_workflow.py --sandbox  # against the embedded sandbox
    python examples/invoicing_workflow.py            # a real account: PRODUCTIVE_API_TOKEN etc.

Against a real account it bills 50% of the first open EUR budget and sends the invoice to
``--to``: try it on a test organization.
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

ACCOUNTING = {2, 3, 4, 13, 15, 19, 21, 26, 27, 29}  # integration_type_id (seed 001)


async def invoice_budget(client: pa.Productive, *, to: str, percentage: int = 50
                         ) -> dict[str, Any]:
    """Bill ``percentage`` % of a budget; returns what each step produced."""
    # A budget (deals with filter[type]=2) in EUR, with its company.
    budget = await anext(aiter(client.deals.list(
        filters={"type": 2, "currency": "EUR"}, include=["company"], max_items=1,
    )))

    # 1. Draft invoice: currency, invoiced_on and company are required.
    invoice = await client.invoices.create(
        currency="EUR", invoiced_on=dt.date.today(), company=budget.company,
    )

    # 2. Preview what the generator would create (nothing is saved).
    options: dict[str, Any] = dict(
        budget_ids=[budget.id], invoicing_method="percentage", invoicing_by="budget",
        percentage=percentage, display_format="{budget}",
    )
    preview = await client.invoices.preview(invoice.id, **options)
    previewed = sum(i.total or 0 for i in preview if isinstance(i, pa.LineItemPreview))

    # 3. Generate the line items and invoice attributions in one call.
    line_items = await client.line_items.generate(invoice_id=invoice.id, **options)
    invoice = await client.invoices.get(invoice.id)

    # 4. Finalize: the invoice gets its number.
    invoice = await client.invoices.finalize(invoice.id)

    # 5. Send it.
    invoice = await client.invoices.send(
        invoice.id, to=[to], subject=f"Invoice {invoice.number}",
        body=f"Please find invoice {invoice.number} attached.",
    )

    # 6. Copy it to the accounting integration: check the integration, then export.
    exported = None
    async for integration in client.integrations.list():
        if integration.integration_type_id in ACCOUNTING and integration.connected_at:
            await client.integrations.check(integration.id)
            with contextlib.suppress(pa.ValidationError):  # e.g. tax_rates_not_mapped
                exported = await client.invoices.export(invoice.id)
            break

    return {
        "budget": budget.name,
        "previewed_cents": previewed,
        "line_items": len(line_items),
        "amount_cents": invoice.amount,
        "number": invoice.number,
        "sent_on": invoice.sent_on,
        "exported": bool(exported and exported.exported),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sandbox", action="store_true", help="use the embedded sandbox")
    parser.add_argument("--to", default="billing@example.com", help="recipient")
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
        for step, value in (await invoice_budget(client, to=args.to)).items():
            print(f"{step:>16}: {value}")


if __name__ == "__main__":
    asyncio.run(main())
