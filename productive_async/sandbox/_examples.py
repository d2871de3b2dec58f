"""The records the README's examples use, with the ids the README names.

The README's examples (run by ``tests/test_readme.py``) use ids from Productive's own
documentation (seed 004): invoice 27, company 1809, budget 685 previewed on invoice 72. The
demo data holds what each example needs, so every example runs verbatim against the sandbox:

================  ==========  ==============================================================
type              ids         what for
================  ==========  ==============================================================
companies         1809        "Lighthouse Media", an EUR client: invoice 27's company (the
                              seed record's ``company`` now points here), ``pa.Ref("companies",
                              1809)`` in ``deals.create``
people            24, 25      employees with time entries (``filter[person_id]=24,25``)
custom_fields     42          "Tier", a text field on deals; "Gold" on deals 685 and 10
                              (``filter[custom_fields][42][eq]=Gold``)
deals             685         a budget of company 1809 worth EUR 1,000.00 (``budget_ids=[685]``
                              in ``invoices.preview`` and ``line_items.generate``)
deals             10, 11, 12  open sales deals of company 1809 (``deals.bulk_delete``)
services          1, 2        budget 685's services, fixed price: EUR 400.00 and EUR 600.00
time_entries      1 .. 12     on budget 685: 1-8 person 24's (1-6 not approved yet, for
                              ``bulk_update``, ``approve`` and ``bulk_approve``), 9-12 person 25's
invoices          72          a draft invoice of company 1809 in EUR (``preview``, ``finalize``,
                              ``send``)
contracts         20          a monthly retainer on budget 685 (``contracts.generate``)
================  ==========  ==============================================================

Ids below 1000 never meet the generated ones (those start at 1001 per type); company 1809 is
within reach of the generated companies only from ``scale`` 4.05 on, and the generator skips
the ids this module takes (:data:`RESERVED`), so the two never collide at any scale. Nothing
here draws from the generator's random numbers: the rest of the demo data is the same with or
without these records. They link only to reference data that exists at every scale (the
organization, the internal company, subsidiary, tax rate and document type 1001, the custom
fields and their options, the pipelines and deal statuses).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._demo import _Generator

Record = dict[str, Any]

#: ``(type, id)`` of the records here that are within the generator's id range: it skips them.
RESERVED = frozenset({("companies", 1809)})

COMPANY_ID = "1809"
BUDGET_ID = "685"


def _ref(type_: str, id_: str) -> dict[str, str]:
    return {"type": type_, "id": id_}


def example_records(gen: _Generator) -> list[Record]:
    """The README's records, in store format (incomplete: :func:`generate` completes them
    with the registry's defaults, like the seed records), linked to ``gen``'s reference data.
    Invoice 27 (a seed record) is linked to company 1809 by :func:`link_seed_records`."""
    from ._demo import EXCHANGE_RATES, _currency, _money

    def ref(record: Record) -> dict[str, str]:
        return _ref(record["type"], record["id"])

    subsidiary, tax_rate, document_type = (
        gen.subsidiaries[0], gen.tax_rates[0], gen.document_types[0])
    owner = gen.employees[0]
    eur = {**_currency("EUR"), "exchange_rate": EXCHANGE_RATES["EUR"]}
    company = {"id": COMPANY_ID, "type": "companies", "attributes": {
        "name": "Lighthouse Media", "billing_name": "Lighthouse Media GmbH",
        "default_currency": "EUR", "domain": "lighthouse-media.example",
        "company_code": "LHM1809", "due_days": 30, "vat": "DE180918091",
        "contact": {"emails": [{"name": "billing", "email": "ap@lighthouse-media.example"}],
                    "phones": [], "addresses": [],
                    "websites": [{"name": "web", "website": "https://lighthouse-media.example"}]},
        "invoice_email_recipients": ["ap@lighthouse-media.example"],
        "created_at": "2024-03-04T10:12:00.000+01:00",
        "last_activity_at": "2026-01-14T16:40:00.000+01:00", "tag_list": ["key account"],
    }, "relationships": {
        "default_subsidiary": ref(subsidiary), "default_tax_rate": ref(tax_rate),
        "default_document_type": ref(document_type),
    }}  # fmt: skip
    people = [
        {"id": id_, "type": "people", "attributes": {
            "first_name": first, "last_name": last, "title": title,
            "email": f"{first}.{last}@sandbox-agency.example".lower(), "is_user": True,
            "role_id": 2, "status_id": 1, "hrm_type_id": 1, "color_id": 3,
            "invited_at": "2024-01-08T09:00:00.000+01:00",
            "joined_at": "2024-01-10T09:00:00.000+01:00",
            "created_at": "2024-01-08T09:00:00.000+01:00",
            "last_seen_at": "2026-01-15T17:30:00.000+01:00",
            "last_activity_at": "2026-01-15T17:30:00.000+01:00",
            "contact": {"emails": [{"name": "work",
                                   "email": f"{first}.{last}@sandbox-agency.example".lower()}],
                        "phones": []},
        }, "relationships": {
            "company": ref(gen.internal), "subsidiary": ref(subsidiary), "manager": ref(owner),
        }}
        for id_, first, last, title in (("24", "Dora", "Kralj", "Senior Developer"),
                                        ("25", "Leo", "Matic", "Designer"))
    ]  # fmt: skip
    tier = {"id": "42", "type": "custom_fields", "attributes": {
        "name": "Tier", "customizable_type": "Deal", "data_type_id": 1,
        "position": len(gen.fields) + 1, "global": True, "show_in_add_edit_views": True,
        "created_at": "2025-01-20T09:00:00.000+01:00",
        "updated_at": "2025-01-20T09:00:00.000+01:00",
    }, "relationships": {"options": []}}  # fmt: skip
    lead_source = gen.fields["lead_source"]["id"]
    referral = gen.options["lead_source"][0]
    expected_hours = gen.fields["expected_hours"]["id"]
    deal_rels = {
        "company": _ref("companies", COMPANY_ID), "responsible": ref(owner),
        "creator": ref(owner), "subsidiary": ref(subsidiary), "tax_rate": ref(tax_rate),
        "document_type": ref(document_type),
    }
    services = [
        {"id": id_, "type": "services", "attributes": {
            "name": name, "position": position, "unit_id": 2, "quantity": "1.0",
            "billable": True, "billing_type_id": 1, "pricing_type_id": 2,
            "budgeted_time": minutes, "estimated_time": minutes,
            "time_tracking_enabled": True, "booking_tracking_enabled": True,
            "tracking_enabled": True, **_currency("EUR"),
            **_money("EUR", price=price, budget_total=price, projected_revenue=price,
                     hourly_rate=price * 60 // minutes),
        }, "relationships": {
            "deal": _ref("deals", BUDGET_ID), "service_type": ref(gen.service_types[type_]),
        }}
        for id_, position, name, type_, price, minutes in (
            ("1", 1, "Design", 0, 40_000, 480), ("2", 2, "Development", 1, 60_000, 720))
    ]  # fmt: skip
    entries: list[Record] = []
    for index, (day, minutes, note) in enumerate((
        ("2026-01-12", 120, "Wireframes"), ("2026-01-12", 240, "Implementation"),
        ("2026-01-13", 180, "Implementation"), ("2026-01-13", 60, "Code review"),
        ("2026-01-14", 240, "Implementation"), ("2026-01-15", 90, "Bug fixing"),
        ("2025-12-15", 120, "Estimation"), ("2025-12-16", 60, "Weekly sync with the client"),
        ("2026-01-12", 240, "Wireframes"), ("2026-01-13", 180, "Wireframes"),
        ("2025-12-17", 120, "Research"), ("2025-12-18", 60, "Internal meeting"),
    ), 1):  # fmt: skip
        person = people[0] if index <= 8 else people[1]
        service = services[0] if person is people[1] or index in (1, 7) else services[1]
        approved = index in (7, 8, 11, 12)
        created = f"{day}T17:00:00.000+01:00"
        approved_at = f"{day[:8]}{int(day[8:]) + 1:02d}T09:00:00.000+01:00" if approved else None
        entries.append({"id": str(index), "type": "time_entries", "attributes": {
            "date": day, "time": minutes, "billable_time": minutes, "note": note,
            "approved": approved, "approved_at": approved_at, "submitted": approved,
            "invoiced": False, "track_method_id": 1, "created_at": created,
            "updated_at": approved_at or created, "last_activity_at": approved_at or created,
            **_currency("EUR"),
        }, "relationships": {
            "person": ref(person), "creator": ref(person), "service": ref(service),
            "updater": ref(owner) if approved else ref(person),
            "last_actor": ref(owner) if approved else ref(person),
            "approver": ref(owner) if approved else None,
            "deal_subsidiary": ref(subsidiary), "person_subsidiary": ref(subsidiary),
        }})  # fmt: skip
    worked = sum(e["attributes"]["time"] for e in entries)
    budget = {"id": BUDGET_ID, "type": "deals", "attributes": {
        "name": "Lighthouse Media Website - Build", "number": "685", "deal_number": "685",
        "date": "2025-10-01", "end_date": "2026-03-31", "budget": True, "deal_type_id": 2,
        "created_at": "2025-09-22T11:00:00.000+02:00", **eur, "exchange_date": "2025-10-01",
        "probability": 100, "previous_probability": 100, "sales_status_id": 2,
        "sales_closed_on": "2025-09-22", "sales_closed_at": "2025-09-22T11:00:00.000+02:00",
        "won_at": "2025-09-22T11:00:00.000+02:00",
        "sales_status_updated_at": "2025-09-22T11:00:00.000+02:00",
        "tracking_type_id": 1, "man_day_minutes": 480, "deal_value_source": "from_services",
        "revenue_distribution_type": "default", "retainer_interval": "month",
        "retainer_interval_count": 1, "retainer_deal_value_type": "per_interval",
        "worked_time": worked, "billable_time": worked, "budgeted_time": 1200,
        "estimated_time": 1200, "deal_value": 100_000, "budget_remaining": 100_000,
        **_money("EUR", budget_total=100_000, projected_revenue=100_000),
        "custom_fields": {lead_source: referral, expected_hours: 20, "42": "Gold"},
        "last_activity_at": "2026-01-15T17:00:00.000+01:00",
    }, "relationships": {
        **deal_rels, "pipeline": ref(gen.pipelines["production"]),
        "deal_status": ref(gen.statuses["in_progress"]),
        "services": [ref(s) for s in services], "contract": _ref("contracts", "20"),
    }}  # fmt: skip
    leads = [
        {"id": id_, "type": "deals", "attributes": {
            "name": f"Lighthouse Media {name}", "number": id_, "deal_number": id_,
            "date": "2026-02-01", "end_date": "2026-04-30", "budget": False,
            "deal_type_id": 2, "created_at": "2026-01-08T10:00:00.000+01:00", **eur,
            "exchange_date": "2026-02-01", "probability": 20, "previous_probability": 20,
            "sales_status_id": 1, "sales_status_updated_at": "2026-01-08T10:00:00.000+01:00",
            "tracking_type_id": 1, "man_day_minutes": 480,
            "deal_value_source": "from_services", "revenue_distribution_type": "default",
            "custom_fields": {"42": tier_value} if tier_value else None,
            "last_activity_at": "2026-01-08T10:00:00.000+01:00",
        }, "relationships": {
            **deal_rels, "pipeline": ref(gen.pipelines["sales"]),
            "deal_status": ref(gen.statuses["lead"]),
        }}
        for id_, name, tier_value in (("10", "Campaign", "Gold"), ("11", "SEO", "Silver"),
                                      ("12", "Intranet", None))
    ]  # fmt: skip
    invoice = {"id": "72", "type": "invoices", "attributes": {
        "invoiced_on": "2026-01-15", "pay_on": "2026-02-14", "payment_terms": 30,
        "invoice_type_id": 1, "number": None, "finalized_on": None, **eur,
        "exchange_date": "2026-01-15", "email_key": "72" * 16,
        "creation_options": {}, "created_at": "2026-01-15T09:30:00.000+01:00",
        "updated_at": "2026-01-15T09:30:00.000+01:00",
        "last_activity_at": "2026-01-15T09:30:00.000+01:00",
    }, "relationships": {
        "company": _ref("companies", COMPANY_ID), "creator": ref(owner), "issuer": ref(owner),
        "subsidiary": ref(subsidiary), "document_type": ref(document_type),
    }}  # fmt: skip
    contract = {"id": "20", "type": "contracts", "attributes": {
        "interval_id": 1, "starts_on": "2025-10-01", "next_occurrence_on": "2026-02-01",
        "ends_on": None, "template_id": int(BUDGET_ID), "copy_expenses": False,
        "copy_purchase_order_number": False, "use_rollover_hours": False,
    }, "relationships": {"template": _ref("deals", BUDGET_ID)}}  # fmt: skip
    return [company, *people, tier, budget, *leads, *services, *entries, invoice, contract]


def link_seed_records(records: list[Record]) -> None:
    """Give seed invoice 27 (no company in the seed) the README's company 1809."""
    for record in records:
        if record["type"] == "invoices" and record["id"] == "27":
            record["relationships"]["company"] = _ref("companies", COMPANY_ID)
