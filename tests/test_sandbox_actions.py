"""The sandbox's custom actions, end to end through the SDK over loopback.

Most tests run on a small hand-made data set (:func:`records`) whose numbers make the invoicing
arithmetic checkable by hand; the full invoicing workflow runs on a sandbox of its own with a
twentieth of the demo data. The sandbox's today is 2026-01-15 throughout.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

import productive_async as pa
from productive_async import sandbox

TODAY = dt.date(2026, 1, 15)
R = pa.Ref


def rec(type_: str, id_: str, rels: dict[str, Any] | None = None, **attrs: Any
        ) -> dict[str, Any]:
    links = {name: ({"type": t, "id": i} if isinstance(t, str) else t)
             for name, (t, i) in (rels or {}).items()}
    return {"id": id_, "type": type_, "attributes": attrs, "relationships": links}


def records() -> list[dict[str, Any]]:
    """Budget 30 "Website" (EUR, 25 % VAT, worth 10,000.00: Design 4,000.00 at 100.00/h and
    Development 6,000.00 at 120.00/h) with uninvoiced time and an expense; budget 33 "Support"
    (EUR, 10 % VAT that Xero does not map); a GBP budget, a sales deal, Xero connected,
    QuickBooks deactivated, a few numbered invoices and two contracts."""
    company = ("companies", "11")
    return [
        rec("organizations", "1", name="Org"),
        rec("companies", "10", name="Sandbox Agency (internal)"),
        rec("companies", "11", name="ACME", default_currency="EUR", archived_at=None),
        rec("companies", "12", name="Globex", default_currency="GBP"),
        rec("people", "20", {"company": ("companies", "10")}, first_name="Ada",
            last_name="Lovelace", email="ada@x.test", is_user=True, archived_at=None,
            deactivated_at=None),
        rec("people", "21", first_name="Bob", last_name="Client", email="bob@acme.test",
            is_user=False, archived_at=None),
        rec("projects", "25", {"company": company}, name="ACME Website", archived_at=None),
        rec("custom_fields", "26", name="Cost center", data_type_id=1, archived_at=None),
        rec("tax_rates", "40", name="VAT 25%", primary_component_name="VAT",
            primary_component_value=25.0),
        rec("tax_rates", "41", name="VAT 10%", primary_component_name="VAT",
            primary_component_value=10.0),
        rec("service_types", "50", name="Design"),
        rec("service_types", "51", name="Development"),
        rec("deals", "30", {"company": company, "tax_rate": ("tax_rates", "40")},
            name="Website", budget=True, deal_type_id=2, date="2025-12-01", currency="EUR",
            exchange_rate="1.0", budget_total=1_000_000, revenue=300_000, number="7",
            closed_at=None, delivered_on=None, purchase_order_number="PO-1"),
        rec("deals", "31", {"company": ("companies", "12")}, name="UK site", budget=True,
            deal_type_id=2, currency="GBP", budget_total=500_000),
        rec("deals", "32", {"company": company}, name="Redesign (sales)", budget=False,
            deal_type_id=2, currency="EUR", budget_total=800_000, number="8"),
        rec("deals", "33", {"company": company, "tax_rate": ("tax_rates", "41")},
            name="Support", budget=True, deal_type_id=2, currency="EUR", budget_total=200_000),
        rec("services", "60", {"deal": ("deals", "30"), "service_type": ("service_types", "50")},
            name="Design", position=1, unit_id=1, budget_total=400_000, hourly_rate=10_000,
            worked_time=900, revenue=100_000),
        rec("services", "61", {"deal": ("deals", "30"), "service_type": ("service_types", "51")},
            name="Development", position=2, unit_id=1, budget_total=600_000,
            hourly_rate=12_000, worked_time=1200),
        rec("services", "62", {"deal": ("deals", "33"), "service_type": ("service_types", "50")},
            name="Support", position=1, unit_id=1, budget_total=200_000, hourly_rate=8_000),
        *(rec("time_entries", id_, {"service": ("services", service),
                                    "person": ("people", "20")},
              date=day, time=minutes, billable_time=billable, invoiced=invoiced,
              approved=False, rejected=False, note=None)
          for id_, service, day, minutes, billable, invoiced in (
              ("70", "60", "2026-01-05", 90, 90, False),
              ("71", "60", "2026-01-06", 30, 30, False),
              ("72", "60", "2026-01-07", 60, 60, True),  # already invoiced
              ("73", "60", "2026-01-08", 45, 0, False),  # not billable
              ("74", "61", "2025-12-20", 120, 120, False),
          )),
        rec("expenses", "80", {"service": ("services", "60")}, name="Stock photos",
            date="2026-01-07", approved=True, billable_amount=5_000, amount=4_000),
        rec("expenses", "81", {"service": ("services", "60")}, name="Travel",
            date="2026-01-08", approved=False, billable_amount=9_000, amount=9_000),
        rec("integrations", "90", name="Xero", integration_type_id=3,
            connected_at="2025-01-01T10:00:00.000+01:00", tax_rate_mapping={"40": "OUTPUT2"}),
        rec("integrations", "91", name="QuickBooks", integration_type_id=2,
            connected_at="2024-01-01T10:00:00.000+01:00",
            deactivated_at="2025-01-01T10:00:00.000+01:00"),
        rec("invoices", "100", {"company": company}, number="2026/0007",
            invoiced_on="2026-01-02", finalized_on="2026-01-02", currency="EUR"),
        rec("invoices", "101", {"company": company}, number="2025/0042",
            invoiced_on="2025-12-30", finalized_on="2025-12-30", currency="EUR"),
        rec("invoices", "102", {"company": company}, number="2026/CN002", invoice_type_id=2,
            invoiced_on="2026-01-03", finalized_on="2026-01-03", currency="EUR"),
        rec("invoices", "103", {"company": company}, number=None, invoiced_on=None,
            finalized_on=None, currency=None),
        rec("contracts", "95", {"template": ("deals", "30")}, interval_id=1,
            next_occurrence_on="2026-02-01", copy_purchase_order_number=False),
        rec("contracts", "96", {"template": ("deals", "30")}, interval_id=6,
            next_occurrence_on="2026-03-31", copy_purchase_order_number=True),
        rec("contracts", "97", {"template": ("deals", "999")}, interval_id=1,
            next_occurrence_on="2026-02-01"),
        rec("contracts", "98", {"template": ("deals", "30")}, interval_id=1,
            next_occurrence_on="2026-02-01", ends_on="2026-01-31"),
    ]


def make_box(*, trial: bool = False, demo: bool = False) -> sandbox.Sandbox:
    if demo:
        return sandbox.Sandbox(scale=0.05, rate_limits=None, today=TODAY, trial=trial)
    return sandbox.Sandbox(demo_data=False, records=records(), rate_limits=None, today=TODAY,
                           trial=trial)


async def connect(box: sandbox.Sandbox) -> AsyncIterator[pa.Productive]:
    async with box.serve() as url, pa.Productive(
        sandbox.TOKEN, sandbox.ORGANIZATION_ID, base_url=url,
        rate_limits=pa.RateLimits.unlimited(),
    ) as client:
        yield client


@pytest.fixture
def box() -> sandbox.Sandbox:
    return make_box()


@pytest.fixture
async def sdk(box: sandbox.Sandbox) -> AsyncIterator[pa.Productive]:
    async for client in connect(box):
        yield client


def errors_of(exc: pa.APIError) -> list[tuple[str | None, str | None]]:
    return [(e.pointer, e.detail) for e in exc.errors]


async def draft(sdk: pa.Productive, **values: Any) -> pa.Record:
    return await sdk.invoices.create(**{"currency": "EUR", "invoiced_on": TODAY,
                                        "company": R("companies", "11"), **values})


PERCENT = dict(budget_ids=[30], invoicing_method="percentage", invoicing_by="budget",
               percentage=50, display_format="{budget}")


# ============================================================================ the workflow


async def test_invoicing_workflow_end_to_end() -> None:
    """Seed 004 "Workflow using line item generator" and seed 000 "Copy to accounting", on
    demo data: draft -> preview -> generate -> amounts -> finalize -> send -> check -> export."""
    box = make_box(demo=True)
    async for sdk in connect(box):
        budget = await anext(aiter(sdk.deals.list(
            filters={"type": 2, "currency": "EUR", "deal_type_id": 2}, include=["company"],
            max_items=1)))
        invoice = await sdk.invoices.create(currency="EUR", invoiced_on=TODAY,
                                            company=budget.company)
        assert invoice.amount == 0 and invoice.number is None
        options = dict(budget_ids=[budget.id], invoicing_method="percentage",
                       invoicing_by="budget", percentage=40, display_format="{budget}")

        preview = await sdk.invoices.preview(invoice.id, **options)
        line, attribution = preview
        assert isinstance(line, pa.LineItemPreview)
        assert isinstance(attribution, pa.InvoiceAttributionPreview)
        assert line.quantity == Decimal("0.4") and line.unit_price == budget.budget_total
        assert line.description == budget.name and line.budget_id == budget.id
        assert attribution.budget_id == budget.id and attribution.data["amount"] == line.total
        assert (await sdk.invoices.get(invoice.id)).amount == 0  # nothing stored

        items = await sdk.line_items.generate(invoice_id=invoice.id, **options)
        assert [i.amount for i in items] == [line.total]
        invoice = await sdk.invoices.get(invoice.id, include="invoice_attributions")
        assert invoice.amount == line.total > 0
        assert invoice.amount_with_tax == invoice.amount + invoice.amount_tax
        assert invoice.amount_tax == round(line.total * 0.25)  # EUR budgets: VAT 25 %
        assert [a.amount for a in invoice.invoice_attributions] == [line.total]

        year_numbers = [int(i["attributes"]["number"][5:])
                        for i in box.store.table("invoices").values()
                        if str(i["attributes"]["number"] or "").startswith("2026/")
                        and i["attributes"]["number"][5:].isdigit()]
        invoice = await sdk.invoices.finalize(invoice.id)
        assert invoice.number == f"2026/{max(year_numbers, default=0) + 1:04d}"
        assert invoice.finalized_on == TODAY and invoice.finalized_at is not None

        invoice = await sdk.invoices.send(invoice.id, to=["billing@example.com"],
                                          subject=f"Invoice {invoice.number}", body="Thanks")
        assert invoice.sent_on == TODAY

        xero = [i async for i in sdk.integrations.list() if i.integration_type_id == 3]
        checked = await sdk.integrations.check(xero[0].id)
        assert checked.id == xero[0].id
        exported = await sdk.invoices.export(invoice.id, company_reference_id="115")
        assert exported.exported is True and exported.export_integration_type_id == 3
        assert exported.export_invoice_url.endswith(exported.export_id)
        assert exported.company_reference_id == "115"
        assert (await sdk.deals.get(budget.id)).invoiced >= invoice.amount


# ============================================================================ finalize


async def test_finalize_numbers_in_sequence_and_only_once(sdk: pa.Productive) -> None:
    invoice = await draft(sdk)
    finalized = await sdk.invoices.finalize(invoice.id)
    assert finalized.number == "2026/0008"  # after 2026/0007; 2025 and credit notes apart
    assert finalized.finalized_on == TODAY and finalized.finalized_at.date() == TODAY
    with pytest.raises(pa.ValidationError) as caught:
        await sdk.invoices.finalize(invoice.id)
    assert errors_of(caught.value) == [("data/attributes/base", "already finalized")]
    assert caught.value.status == 422 and caught.value.errors[0].code == "invalid_attribute"
    credit = await draft(sdk, invoice_type_id=2)
    assert (await sdk.invoices.finalize(credit.id)).number == "2026/CN003"
    last_year = await draft(sdk, invoiced_on=dt.date(2025, 12, 31))
    assert (await sdk.invoices.finalize(last_year.id)).number == "2025/0043"


async def test_finalize_with_an_explicit_number(sdk: pa.Productive) -> None:
    invoice = await draft(sdk)
    assert (await sdk.invoices.finalize(invoice.id, number="05/2021")).number == "05/2021"


async def test_finalize_needs_a_date_and_a_currency(sdk: pa.Productive) -> None:
    with pytest.raises(pa.ValidationError) as caught:
        await sdk.invoices.finalize(103)
    assert errors_of(caught.value) == [("data/attributes/invoiced_on", "can't be blank"),
                                       ("data/attributes/currency", "can't be blank")]
    assert (await sdk.invoices.get(103)).number is None


# ============================================================================ send


async def test_send_validations_are_the_seeds(sdk: pa.Productive) -> None:
    invoice = await draft(sdk)
    with pytest.raises(pa.ValidationError) as caught:
        await sdk.invoices.send(invoice.id, to=["invalid mail"])
    assert errors_of(caught.value) == [
        ("data/attributes/to", "invalid mail is not an email"),
        ("data/attributes/subject", "can't be blank"),
        ("data/attributes/body", "can't be blank"),
    ]
    with pytest.raises(pa.ValidationError) as caught:
        await sdk.invoices.send(invoice.id)
    assert caught.value.pointers() == [
        "data/attributes/to", "data/attributes/subject", "data/attributes/body"]
    with pytest.raises(pa.ValidationError) as caught:
        await sdk.invoices.send(invoice.id, to=["a@b.test"], cc=["nope"], bcc=["x@y"],
                                subject="S", body="B")
    assert errors_of(caught.value) == [("data/attributes/cc", "nope is not an email"),
                                       ("data/attributes/bcc", "x@y is not an email")]
    assert (await sdk.invoices.get(invoice.id)).sent_on is None


async def test_send_sets_sent_on(sdk: pa.Productive) -> None:
    invoice = await draft(sdk)
    sent = await sdk.invoices.send(invoice.id, to=["test@email.com"],
                                   cc=["test@productive.io"], subject="Mail title",
                                   body="Lorem ipsum")
    assert sent.sent_on == TODAY


async def test_trial_accounts_send_only_to_the_current_user() -> None:
    box = make_box(trial=True)
    assert box.current_user_id == "20"  # the first person who is a user
    async for sdk in connect(box):
        invoice = await draft(sdk)
        with pytest.raises(pa.PermissionDeniedError) as caught:
            await sdk.invoices.send(invoice.id, to=["random_email@mail.com"],
                                    subject="Test Email", body="This is a test email")
        assert caught.value.status == 403
        [error] = caught.value.errors
        assert (error.status, error.code, error.title, error.detail, error.pointer) == (
            403, "restricted_email_in_trialing", "Access Denied",
            "When in trial you can send emails only to yourself", None)
        with pytest.raises(pa.PermissionDeniedError):  # cc counts too
            await sdk.invoices.send(invoice.id, to=["ada@x.test"], cc=["bob@acme.test"],
                                    subject="S", body="B")
        with pytest.raises(pa.ValidationError):  # field errors come first (seed example 53)
            await sdk.invoices.send(invoice.id, to=["invalid mail"])
        sent = await sdk.invoices.send(invoice.id, to=["ADA@x.test"], subject="S", body="B")
        assert sent.sent_on == TODAY
        box.current_user_id = "21"
        again = await sdk.invoices.send(invoice.id, to=["bob@acme.test"], subject="S", body="B")
        assert again.sent_on == TODAY


def test_the_demo_token_belongs_to_the_organization_owner() -> None:
    box = make_box(demo=True)
    assert box.current_user_id == "1001"
    owner = box.store.get("people", "1001")
    assert owner is not None and owner["attributes"]["is_user"]


async def test_send_einvoice_needs_a_finalized_invoice(sdk: pa.Productive) -> None:
    invoice = await draft(sdk)
    with pytest.raises(pa.ValidationError) as caught:
        await sdk.invoices.send_einvoice(invoice.id)
    assert caught.value.pointers() == ["data/attributes/base"]
    await sdk.invoices.finalize(invoice.id)
    assert (await sdk.invoices.send_einvoice(invoice.id)).sent_on == TODAY


# ============================================================================ accounting


async def test_integration_check_and_connect(sdk: pa.Productive) -> None:
    checked = await sdk.integrations.check(90)
    assert checked.last_synced_at is not None and checked.last_synced_at.date() == TODAY
    with pytest.raises(pa.ValidationError) as caught:
        await sdk.integrations.check(91)
    assert errors_of(caught.value) == [("data/attributes/base", "integration is not connected")]
    connected = await sdk.integrations.connect(91)
    assert connected.deactivated_at is None and connected.connected_at.date() == TODAY
    assert (await sdk.integrations.check(91)).id == "91"
    with pytest.raises(pa.NotFoundError):
        await sdk.integrations.check(12345)


async def test_export_requires_mapped_tax_rates(sdk: pa.Productive) -> None:
    invoice = await draft(sdk)
    await sdk.line_items.generate(invoice_id=invoice.id, **{**PERCENT, "budget_ids": [33]})
    with pytest.raises(pa.ValidationError) as caught:
        await sdk.invoices.export(invoice.id)
    [error] = caught.value.errors
    assert (error.status, error.code, error.title, error.detail, error.pointer) == (
        422, "tax_rates_not_mapped", "Invalid Attribute", "Tax rates not mapped",
        "data/attributes/tax_rate")
    assert (await sdk.invoices.get(invoice.id)).exported is False


async def test_export_and_export_update(sdk: pa.Productive) -> None:
    invoice = await draft(sdk)
    await sdk.line_items.generate(invoice_id=invoice.id, **PERCENT)
    await sdk.invoices.finalize(invoice.id)
    with pytest.raises(pa.ValidationError) as caught:
        await sdk.invoices.export_update(invoice.id)
    [error] = caught.value.errors
    assert (error.code, error.title, error.detail, error.pointer) == (
        "invalid_attribute", "Invalid Attribute", "feature unavailable",
        "data/attributes/export_to_accounting")
    exported = await sdk.invoices.export(invoice.id, company_reference_id="115")
    assert exported.exported is True and exported.exported_at.date() == TODAY
    assert exported.export_integration_type_id == 3 and exported.export_id
    assert exported.export_invoice_url == (
        f"https://go.xero.com/AccRec/View.aspx?InvoiceID={exported.export_id}")
    assert exported.company_reference_id == "115"
    updated = await sdk.invoices.export_update(invoice.id)
    assert updated.exported_at >= exported.exported_at
    assert updated.export_id == exported.export_id
    cleared = await sdk.invoices.export(invoice.id, company_reference_id=None)
    assert cleared.company_reference_id is None and cleared.export_id == exported.export_id


async def test_export_without_an_accounting_integration(fresh: pa.Productive) -> None:
    invoice = await fresh.invoices.create(currency="EUR", invoiced_on=TODAY, company=11)
    with pytest.raises(pa.ValidationError) as caught:
        await fresh.invoices.export(invoice.id)
    assert errors_of(caught.value) == [
        ("data/attributes/export_to_accounting", "feature unavailable")]


async def test_demo_xero_maps_some_tax_rates_but_not_all() -> None:
    box = make_box(demo=True)
    store = box.store
    [xero] = [i for i in store.table("integrations").values()
              if i["attributes"]["integration_type_id"] == 3]
    mapped = set(xero["attributes"]["tax_rate_mapping"])
    assert xero["attributes"]["connected_at"] and mapped
    assert mapped < set(store.table("tax_rates"))
    by_invoice: dict[str, set[str]] = {}
    for item in store.table("line_items").values():
        by_invoice.setdefault(item["relationships"]["invoice"]["id"], set()).add(
            item["relationships"]["tax_rate"]["id"])
    unmapped = next(i for i, rates in by_invoice.items() if rates - mapped)
    covered = next(i for i, rates in by_invoice.items() if rates <= mapped)
    async for sdk in connect(box):
        with pytest.raises(pa.ValidationError) as caught:
            await sdk.invoices.export(unmapped)
        assert caught.value.errors[0].code == "tax_rates_not_mapped"
        assert (await sdk.invoices.export(covered)).exported is True


# ============================================================================ preview


async def test_preview_percentage_by_budget_is_the_seeds_shape(sdk: pa.Productive) -> None:
    invoice = await draft(sdk)
    items = await sdk.invoices.preview(invoice.id, **PERCENT)
    assert [i.data for i in items] == [
        {"budget_id": "30", "service_id": None, "service_type_id": "50",
         "service_type_name": "Design", "description": "Website", "type": "regular",
         "currency": "EUR", "discount": None, "amount": 500_000, "amount_rounded": 500_000,
         "object_type": "line_item", "invoice_id": invoice.id, "unit_id": "2",
         "unit_name": "Piece", "quantity": 0.5, "unit_price": 1_000_000, "position": 1},
        {"object_type": "invoice_attribution", "invoice_id": invoice.id, "budget_id": "30",
         "amount": 500_000, "date_from": None, "date_to": None},
    ]
    stored = await sdk.invoices.get(invoice.id)
    assert stored.amount == 0 and not [i async for i in sdk.line_items.list()]


async def test_preview_percentage_by_service(sdk: pa.Productive) -> None:
    invoice = await draft(sdk)
    items = await sdk.invoices.preview(invoice.id, budget_ids=[30], invoicing_by="service",
                                       invoicing_method="percentage", percentage=50,
                                       display_format="{service} for {budget}")
    lines = [i for i in items if isinstance(i, pa.LineItemPreview)]
    assert [(i.service_id, i.description, i.unit_price, i.total, i.position) for i in lines] == [
        ("60", "Design for Website", 400_000, 200_000, 1),
        ("61", "Development for Website", 600_000, 300_000, 2),
    ]
    assert items[-1].data["amount"] == 500_000


async def test_preview_uninvoiced_amount_counts_what_is_invoiced(sdk: pa.Productive) -> None:
    first = await draft(sdk)
    await sdk.line_items.generate(invoice_id=first.id, **{**PERCENT, "percentage": 30})
    second = await draft(sdk)
    by_budget = await sdk.invoices.preview(second.id, budget_ids=[30], invoicing_by="budget",
                                           invoicing_method="uninvoiced_amount")
    assert [(i.quantity, i.unit_price) for i in by_budget[:-1]] == [(1, 700_000)]
    by_service = await sdk.invoices.preview(second.id, budget_ids=[30],
                                            invoicing_by="service",
                                            invoicing_method="uninvoiced_amount")
    # by budget, nothing was invoiced per service yet
    assert [i.unit_price for i in by_service[:-1]] == [400_000, 600_000]


async def test_preview_uninvoiced_time_and_expenses(sdk: pa.Productive) -> None:
    invoice = await draft(sdk)
    items = await sdk.invoices.preview(
        invoice.id, budget_ids=[30], invoicing_method="uninvoiced_time_and_expenses",
        locale="en_US", display_format="{service}", expense_display_format="Expense: {expense}")
    lines = [(i.service_id, i.description, i.unit_name, i.quantity, i.unit_price, i.total)
             for i in items if isinstance(i, pa.LineItemPreview)]
    assert lines == [
        ("60", "Design", "Hour", Decimal("2.0"), 10_000, 20_000),  # 90 + 30 billable minutes
        ("61", "Development", "Hour", Decimal("2.0"), 12_000, 24_000),
        ("60", "Expense: Stock photos", "Piece", Decimal("1.0"), 5_000, 5_000),
    ]
    assert items[2].data["expense_id"] == "80"
    january = await sdk.invoices.preview(
        invoice.id, budget_ids=[30], invoicing_method="uninvoiced_time_and_expenses",
        locale="en_US", date_from=dt.date(2026, 1, 1), date_to=dt.date(2026, 1, 31))
    assert [i.data["amount"] for i in january] == [20_000, 5_000, 25_000]
    assert january[-1].date_from == dt.date(2026, 1, 1)
    by_budget = await sdk.invoices.preview(
        invoice.id, budget_ids=[30], invoicing_method="uninvoiced_time_and_expenses",
        invoicing_by="budget", locale="en")
    assert [i.data["amount"] for i in by_budget] == [44_000, 5_000, 49_000]


async def test_preview_validations(sdk: pa.Productive) -> None:
    invoice = await draft(sdk)
    with pytest.raises(pa.ValidationError) as caught:  # seed 004, preview example 74
        await sdk.invoices.preview(invoice.id, budget_ids=["30"], display_format="{budget}",
                                   invoicing_by="budget", invoicing_method="percentage")
    assert [(e.status, e.code, e.title, e.pointer, e.detail) for e in caught.value.errors] == [
        (422, "invalid_attribute", "Invalid Attribute", "data/attributes/percentage",
         "can't be blank"),
        (422, "invalid_attribute", "Invalid Attribute", "data/attributes/percentage",
         "is not a number"),
    ]
    with pytest.raises(pa.ValidationError) as caught:
        await sdk.invoices.preview(invoice.id)
    assert caught.value.pointers() == [
        "data/attributes/budget_ids", "data/attributes/invoicing_method"]
    with pytest.raises(pa.ValidationError) as caught:
        await sdk.invoices.preview(invoice.id, budget_ids=[30],
                                   invoicing_method="uninvoiced_amount")
    assert errors_of(caught.value) == [("data/attributes/invoicing_by", "can't be blank")]
    with pytest.raises(pa.ValidationError) as caught:
        await sdk.invoices.preview(invoice.id, budget_ids=[30], invoicing_method="magic")
    assert errors_of(caught.value) == [
        ("data/attributes/invoicing_method", "is not included in the list")]
    with pytest.raises(pa.ValidationError) as caught:
        await sdk.invoices.preview(invoice.id, **{**PERCENT, "percentage": "half"})
    assert errors_of(caught.value) == [("data/attributes/percentage", "is not a number")]
    with pytest.raises(pa.ValidationError) as caught:
        await sdk.invoices.preview(invoice.id, budget_ids=[30],
                                   invoicing_method="uninvoiced_time_and_expenses")
    assert errors_of(caught.value) == [("data/attributes/locale", "can't be blank")]
    with pytest.raises(pa.ValidationError) as caught:
        await sdk.invoices.preview(invoice.id, **{**PERCENT, "budget_ids": [999, 32, 31]})
    assert errors_of(caught.value) == [
        ("data/attributes/budget_ids", "attribute is invalid"),
        ("data/attributes/budget_ids", "32 is not a budget"),
        ("data/attributes/budget_ids", "must have the same currency as the invoice"),
    ]


# ============================================================================ generate


async def test_generate_stores_line_items_and_attributions(
    sdk: pa.Productive, box: sandbox.Sandbox
) -> None:
    invoice = await draft(sdk)
    await sdk.line_items.create(invoice=invoice, description="Setup", quantity="1",
                                unit_price=10_000, tax_rate=R("tax_rates", "40"))
    items = await sdk.line_items.generate(
        invoice_id=invoice.id, budget_ids=[30], invoicing_method="uninvoiced_time_and_expenses",
        locale="en", display_format="{service}")
    assert [(i.description, i.quantity, i.unit_price, i.amount, i.amount_tax, i.position)
            for i in items] == [
        ("Design", Decimal("2.0"), 10_000, 20_000, 5_000, 2),
        ("Development", Decimal("2.0"), 12_000, 24_000, 6_000, 3),
        ("Stock photos", Decimal("1.0"), 5_000, 5_000, 1_250, 4),
    ]
    full = await sdk.line_items.get(items[0].id, include="invoice,service,tax_rate")
    assert full.invoice.id == invoice.id and full.service.id == "60"
    assert full.tax_rate.id == "40" and full.currency == "EUR"
    stored = await sdk.invoices.get(invoice.id, include="invoice_attributions.budget")
    assert (stored.amount, stored.amount_tax, stored.amount_with_tax, stored.amount_unpaid) == (
        59_000, 14_750, 73_750, 73_750)
    assert (stored.amount_default, stored.amount_normalized) == (59_000, 59_000)
    [attribution] = stored.invoice_attributions
    assert attribution.amount == 49_000 and attribution.budget.id == "30"
    entries = {e.id: e async for e in sdk.time_entries.list(include="invoice_attribution")}
    assert {i for i, e in entries.items() if e.invoiced} == {"70", "71", "72", "74"}
    assert entries["70"].invoice_attribution.id == attribution.id
    assert (await sdk.deals.get(30)).draft_invoiced == 49_000
    again = await sdk.invoices.preview(invoice.id, budget_ids=[30], locale="en",
                                       invoicing_method="uninvoiced_time_and_expenses")
    assert [i.object_type for i in again] == ["invoice_attribution"]  # nothing left to bill
    assert len(box.store.table("line_items")) == 4


async def test_generate_validations(sdk: pa.Productive) -> None:
    with pytest.raises(pa.ValidationError) as caught:
        await sdk.line_items.generate(budget_ids=[30], invoicing_method="percentage",
                                      invoicing_by="budget", percentage=10)
    assert errors_of(caught.value) == [("data/attributes/invoice", "can't be blank")]
    with pytest.raises(pa.ValidationError) as caught:
        await sdk.line_items.generate(invoice_id=9999, **PERCENT)
    assert errors_of(caught.value) == [("data/attributes/invoice", "attribute is invalid")]
    invoice = await draft(sdk, currency="GBP")
    with pytest.raises(pa.ValidationError) as caught:
        await sdk.line_items.generate(invoice_id=invoice.id, **{**PERCENT, "percentage": None})
    assert caught.value.pointers() == [
        "data/attributes/percentage", "data/attributes/percentage",
        "data/attributes/budget_ids"]


# ============================================================================ line items


async def test_line_item_writes_update_the_invoice_amount(sdk: pa.Productive) -> None:
    """Seed 000 FAQ: "when you create a line item that belongs to an invoice, we will
    automatically update the amount on the invoice"."""
    invoice = await draft(sdk)
    item = await sdk.line_items.create(invoice=invoice, description="Consulting",
                                       quantity="2", unit_price=10_000, tax_rate=40)
    assert (item.amount, item.amount_tax, item.amount_with_tax) == (20_000, 5_000, 25_000)
    assert item.tax_name == "VAT" and item.tax_value == 25.0
    current = await sdk.invoices.get(invoice.id)
    assert (current.amount, current.amount_tax, current.amount_with_tax) == (
        20_000, 5_000, 25_000)
    await sdk.line_items.update(item.id, quantity="3", discount=10)
    assert (await sdk.invoices.get(invoice.id)).amount == 27_000
    other = await draft(sdk)
    await sdk.line_items.update(item.id, invoice=other)  # moved: both invoices change
    assert (await sdk.invoices.get(invoice.id)).amount == 0
    assert (await sdk.invoices.get(other.id)).amount_unpaid == 27_000 + 6_750
    await sdk.line_items.delete(item.id)
    assert (await sdk.invoices.get(other.id)).amount_with_tax == 0


# ============================================================================ contracts


async def test_contract_generate_makes_the_next_budget(
    sdk: pa.Productive, box: sandbox.Sandbox
) -> None:
    contract = await sdk.contracts.generate(95)
    assert contract.next_occurrence_on == dt.date(2026, 3, 1)
    [budget] = [d for d in box.store.table("deals").values()
                if (d["relationships"].get("contract") or {}).get("id") == "95"]
    made = await sdk.deals.get(budget["id"], include="contract,services,origin_deal")
    assert made.name == "Website (Feb 2026)" and made.budget is True
    assert (made.date, made.end_date) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert made.contract.id == "95" and made.origin_deal.id == "30"
    assert made.purchase_order_number is None and made.number == "9"
    assert made.revenue == 0 and made.budget_total == 1_000_000
    assert [(s.name, s.worked_time, s.budget_total) for s in made.services] == [
        ("Design", 0, 400_000), ("Development", 0, 600_000)]
    assert {s.deal.id for s in made.services if s.deal} <= {made.id}
    quarterly = await sdk.contracts.generate(96)
    assert quarterly.next_occurrence_on == dt.date(2026, 6, 30)
    names = {d["attributes"]["name"] for d in box.store.table("deals").values()}
    assert "Website (Q1 2026)" in names


async def test_contract_generate_errors(sdk: pa.Productive) -> None:
    with pytest.raises(pa.ValidationError) as caught:
        await sdk.contracts.generate(97)
    assert errors_of(caught.value) == [("data/attributes/template", "attribute is invalid")]
    with pytest.raises(pa.ValidationError) as caught:
        await sdk.contracts.generate(98)
    assert caught.value.pointers() == ["data/attributes/next_occurrence_on"]


# ============================================================================ deals


async def test_close_and_open_a_deal(sdk: pa.Productive) -> None:
    await sdk.deals.update(30, delivered_on=dt.date(2026, 1, 1))  # open: ignored (seed 000)
    assert (await sdk.deals.get(30)).delivered_on is None
    closed = await sdk.deals.close(30, delivered_on=dt.date(2024, 3, 14))
    assert closed.delivered_on == dt.date(2024, 3, 14) and closed.closed_at.date() == TODAY
    with pytest.raises(pa.ValidationError) as caught:
        await sdk.deals.close(30)
    assert errors_of(caught.value) == [("data/attributes/base", "deal is already closed")]
    moved = await sdk.deals.update(30, delivered_on=dt.date(2024, 3, 15))  # closed: allowed
    assert moved.delivered_on == dt.date(2024, 3, 15)
    reopened = await sdk.deals.open(30)
    assert reopened.closed_at is None and reopened.delivered_on is None
    with pytest.raises(pa.ValidationError):
        await sdk.deals.open(30)
    assert (await sdk.deals.close(30)).delivered_on == TODAY
    with pytest.raises(pa.ValidationError) as caught:
        await sdk.deals.close(33, delivered_on="someday")
    assert errors_of(caught.value) == [("data/attributes/delivered_on", "is not a date")]


async def test_copy_a_deal(sdk: pa.Productive, box: sandbox.Sandbox) -> None:
    copied = await sdk.deals.copy(template_id=30, name="Website v2")
    assert copied.name == "Website v2" and copied.id not in ("30",)
    assert copied.budget_total == 1_000_000 and copied.revenue == 0
    services = [s for s in box.store.table("services").values()
                if s["relationships"]["deal"]["id"] == copied.id]
    assert [s["attributes"]["name"] for s in services] == ["Design", "Development"]
    default_name = await sdk.deals.copy(deal_id=32)
    assert default_name.name == "Redesign (sales) (copy)" and default_name.budget is False
    with pytest.raises(pa.ValidationError) as caught:
        await sdk.deals.copy(name="No template")
    assert errors_of(caught.value) == [("data/attributes/template_id", "can't be blank")]
    with pytest.raises(pa.ValidationError) as caught:
        await sdk.deals.copy(template_id=12345)
    assert errors_of(caught.value) == [("data/attributes/template_id", "attribute is invalid")]


async def test_create_a_budget_from_a_deal(sdk: pa.Productive) -> None:
    budget = await sdk.deals.create_from_origin(origin_id=32)
    again = await sdk.deals.get(budget.id, include="origin_deal")
    assert again.budget is True and again.origin_deal.id == "32"
    assert again.name == "Redesign (sales)"
    with pytest.raises(pa.ValidationError) as caught:
        await sdk.deals.create_from_origin()
    assert caught.value.pointers() == ["data/attributes/origin_id"]


# ============================================================================ approvals


async def test_approve_and_unapprove_a_time_entry(sdk: pa.Productive) -> None:
    approved = await sdk.time_entries.approve(70)
    assert approved.approved is True and approved.approved_at.date() == TODAY
    again = await sdk.time_entries.get(70, include="approver")
    assert again.approver.id == "20"  # the current user
    with pytest.raises(pa.ConflictError) as caught:
        await sdk.time_entries.approve(70)
    [error] = caught.value.errors
    assert (error.status, error.title, error.detail) == (
        409, "Conflict", "time entry is already approved")
    with pytest.raises(pa.ConflictError):
        await sdk.time_entries.update(70, note="too late")
    with pytest.raises(pa.ConflictError):
        await sdk.time_entries.delete(70)
    with pytest.raises(pa.ConflictError):
        await sdk.time_entries.reject(70)
    unapproved = await sdk.time_entries.unapprove(70)
    assert unapproved.approved is False and unapproved.approved_at is None
    assert (await sdk.time_entries.update(70, note="fixed")).note == "fixed"
    with pytest.raises(pa.ConflictError):
        await sdk.time_entries.unapprove(70)
    await sdk.time_entries.delete(70)


async def test_reject_and_unreject_a_time_entry(sdk: pa.Productive) -> None:
    rejected = await sdk.time_entries.reject(71, rejected_reason="wrong project")
    assert rejected.rejected is True and rejected.rejected_reason == "wrong project"
    assert rejected.rejected_at.date() == TODAY
    assert (await sdk.time_entries.get(71, include="rejecter")).rejecter.id == "20"
    with pytest.raises(pa.ConflictError):
        await sdk.time_entries.reject(71)
    unrejected = await sdk.time_entries.unreject(71)
    assert unrejected.rejected is False and unrejected.rejected_reason is None
    with pytest.raises(pa.ConflictError) as caught:
        await sdk.time_entries.unreject(71)
    assert caught.value.errors[0].detail == "time entry is not rejected"


async def test_bulk_approve_is_all_or_nothing(sdk: pa.Productive) -> None:
    with pytest.raises(pa.NotFoundError) as caught:
        await sdk.time_entries.bulk_approve(items=[70, "12345"])
    assert errors_of(caught.value) == [("data/1", "Record not found")]
    assert (await sdk.time_entries.get(70)).approved is False
    records = await sdk.time_entries.bulk_approve(items=[70, {"id": "71"}])
    assert [(r.id, r.approved) for r in records] == [("70", True), ("71", True)]
    with pytest.raises(pa.ConflictError) as caught:
        await sdk.time_entries.bulk_approve(items=[74, 71])
    assert errors_of(caught.value) == [("data/1", "time entry is already approved")]
    assert (await sdk.time_entries.get(74)).approved is False
    records = await sdk.time_entries.bulk_unapprove(items=[70, 71])
    assert [r.approved for r in records] == [False, False]


async def test_bulk_update_and_delete_refuse_approved_entries(sdk: pa.Productive) -> None:
    await sdk.time_entries.approve(70)
    updated = await sdk.time_entries.bulk_update([{"id": 71, "note": "y"},
                                                  {"id": 70, "note": "x"}])
    assert not updated.records
    assert isinstance(updated[0].error, pa.BatchRejectedError)  # all or nothing
    assert isinstance(updated[1].error, pa.ConflictError)
    assert updated[1].error.errors[0].pointer == "data/1"
    assert (await sdk.time_entries.get(71)).note is None
    deleted = await sdk.time_entries.bulk_delete([71, 70])
    assert isinstance(deleted[1].error, pa.ConflictError)
    assert (await sdk.time_entries.get(71)).id == "71"


async def test_approve_expenses(sdk: pa.Productive) -> None:
    approved = await sdk.expenses.approve(81)
    assert approved.approved is True and approved.approved_at.date() == TODAY
    with pytest.raises(pa.ConflictError) as caught:
        await sdk.expenses.approve(81)
    assert caught.value.errors[0].detail == "expense is already approved"
    assert (await sdk.expenses.unapprove(81)).approved is False
    with pytest.raises(pa.ConflictError):
        await sdk.expenses.unapprove(81)


# ============================================================================ archive


@pytest.mark.parametrize(("resource", "id_"), [
    ("companies", "11"), ("people", "21"), ("projects", "25"), ("tax_rates", "40"),
])
async def test_archive_and_restore(sdk: pa.Productive, resource: str, id_: str) -> None:
    client = sdk.resource(resource)
    archived = await client.archive(id_)
    assert archived.archived_at is not None and archived.archived_at.date() == TODAY
    with pytest.raises(pa.ConflictError) as caught:
        await client.archive(id_)
    assert caught.value.status == 409 and caught.value.errors[0].title == "Conflict"
    assert caught.value.errors[0].detail == "is already archived"
    restored = await client.restore(id_)
    assert restored.archived_at is None
    with pytest.raises(pa.ConflictError) as caught:
        await client.restore(id_)
    assert caught.value.errors[0].detail == "is not archived"


async def test_archive_only_resources_and_people_activation(sdk: pa.Productive) -> None:
    assert (await sdk.custom_fields.archive(26)).archived_at is not None
    with pytest.raises(pa.ConflictError):
        await sdk.custom_fields.archive(26)
    deactivated = await sdk.people.deactivate(20)
    assert deactivated.deactivated_at is not None
    with pytest.raises(pa.ConflictError):
        await sdk.people.deactivate(20)
    assert (await sdk.people.activate(20)).deactivated_at is None


async def test_other_actions_keep_the_generic_behaviour(sdk: pa.Productive) -> None:
    project = await sdk.projects.subscribe(25)
    assert project.id == "25" and project.name == "ACME Website"
    changed = await sdk.projects.change_workflow(25)  # no documented parameters
    assert changed.id == "25" and changed.name == "ACME Website"
