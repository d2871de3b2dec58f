"""The SDK against the sandbox over real loopback HTTP: reads, queries, writes, errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

import aiohttp
import pytest
from conftest import sandbox_client

import productive_async as pa
from productive_async import sandbox
from productive_async.sandbox._demo import generate


def stored(box: sandbox.Sandbox, type_: str) -> list[dict[str, Any]]:
    return list(box.store.table(type_).values())


async def ids(iterator: Any) -> list[str]:
    return [r.id async for r in iterator]


# ----------------------------------------------------------------------------- demo data


def test_demo_data_has_the_promised_volumes_and_is_deterministic() -> None:
    data = generate(0)
    assert len(data["invoices"]) >= 5000
    assert len(data["deals"]) >= 2000
    assert len(data["time_entries"]) >= 20000
    for type_ in ("companies", "people", "projects", "services"):
        assert data[type_], type_
    again = generate(0)
    assert data["invoices"][:50] == again["invoices"][:50]
    assert data["time_entries"][-50:] == again["time_entries"][-50:]


def test_demo_data_is_consistently_linked(small_box: sandbox.Sandbox) -> None:
    store = small_box.store
    for entry in stored(small_box, "time_entries"):
        service = entry["relationships"]["service"]
        assert store.get("services", service["id"]) is not None
        assert store.get("people", entry["relationships"]["person"]["id"]) is not None
    for invoice in stored(small_box, "invoices"):
        company = invoice["relationships"]["company"]
        if company is not None:
            assert store.get("companies", company["id"]) is not None


def test_seed_records_are_served_with_their_ids(small_box: sandbox.Sandbox) -> None:
    invoice = small_box.store.get("invoices", "27")
    assert invoice is not None
    assert invoice["attributes"]["email_key"] == "b7056f559dce3b0ef2d4c1e899154c23"
    assert small_box.store.get("contracts", "4") is not None


def test_the_readmes_records_are_there_at_every_scale_and_linked() -> None:
    for scale in (0.01, 1.0):
        data = generate(0, scale=scale)
        by_id = {(r["type"], r["id"]): r for records in data.values() for r in records}
        invoice = by_id["invoices", "27"]
        assert invoice["relationships"]["company"] == {"type": "companies", "id": "1809"}
        assert by_id["companies", "1809"]["attributes"]["name"] == "Lighthouse Media"
        readme = [("companies", "1809"), ("people", "24"), ("people", "25"),
                  ("custom_fields", "42"), ("deals", "685"), ("deals", "10"), ("deals", "11"),
                  ("deals", "12"), ("services", "1"), ("services", "2"), ("invoices", "72"),
                  ("contracts", "20"), *(("time_entries", str(i)) for i in range(1, 13))]
        for key in readme:  # there, and every relationship of theirs points at a record
            for value in by_id[key]["relationships"].values():
                for ref in value if isinstance(value, list) else [value]:
                    assert ref is None or (ref["type"], ref["id"]) in by_id, (key, ref)
        people = {by_id["time_entries", str(i)]["relationships"]["person"]["id"]
                  for i in range(1, 13)}
        assert people == {"24", "25"}
        for records in data.values():  # in id order, no id twice
            ids = [int(r["id"]) for r in records]
            assert ids == sorted(set(ids))


def test_the_generator_skips_the_ids_the_readmes_records_take(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from productive_async.sandbox import _demo

    before = [r["id"] for r in generate(0, scale=0.05)["companies"]]
    monkeypatch.setattr(_demo, "RESERVED", frozenset({("companies", 1003)}))
    after = generate(0, scale=0.05)["companies"]
    ids = [r["id"] for r in after]
    assert "1003" not in ids and len(ids) == len(before)
    assert ids[:2] == ["1001", "1002"] and ids[2] == "1004"  # the next record moves up one


# ----------------------------------------------------------------------------- reads


async def test_list_pulls_every_record_once(
    client: pa.Productive, small_box: sandbox.Sandbox
) -> None:
    got = await ids(client.invoices.list(page_size=37))
    assert len(got) == len(set(got)) == len(stored(small_box, "invoices"))


async def test_page_meta_and_links_are_the_documented_ones(client: pa.Productive) -> None:
    pages = client.invoices.list(page_size=50).pages()
    first = await pages.__anext__()
    await pages.aclose()
    meta = first.meta
    assert meta["current_page"] == 1 and meta["page_size"] == 50
    assert meta["max_page_size"] == 200
    assert meta["total_pages"] == -(-meta["total_count"] // 50)
    assert "page%5Bnumber%5D=2" in first.links["next"] or "page[number]=2" in first.links["next"]
    assert "prev" not in first.links and {"first", "last"} <= set(first.links)


async def test_cursor_pagination_yields_the_same_set(client: pa.Productive) -> None:
    by_page = await ids(client.deals.list(page_size=200))
    by_cursor = await ids(client.deals.list(page_size=150, pagination="cursor"))
    assert by_cursor == sorted(by_page, key=int)


async def test_filters_with_operators(client: pa.Productive, small_box: sandbox.Sandbox) -> None:
    invoices = stored(small_box, "invoices")
    day = "2025-06-01"
    expected = {i["id"] for i in invoices
                if i["attributes"]["currency"] == "EUR"
                and (i["attributes"]["invoiced_on"] or "") >= day}
    got = await ids(client.invoices.list(
        filters={"currency": "EUR", "invoiced_on": {"gt_eq": dt.date(2025, 6, 1)}}
    ))
    assert set(got) == expected and expected
    not_eur = await ids(client.invoices.list(filters={"currency": {"not_eq": "EUR"}}))
    assert set(not_eur) == {i["id"] for i in invoices if i["attributes"]["currency"] != "EUR"}


async def test_list_values_match_any(client: pa.Productive, small_box: sandbox.Sandbox) -> None:
    invoices = stored(small_box, "invoices")
    companies = sorted({i["relationships"]["company"]["id"] for i in invoices
                        if i["relationships"].get("company")}, key=int)[:3]
    got = await ids(client.invoices.list(filters={"company_id": companies}))
    expected = {i["id"] for i in invoices
                if i["relationships"].get("company")
                and i["relationships"]["company"]["id"] in companies}
    assert set(got) == expected and expected


async def test_logical_groups_nest(client: pa.Productive, small_box: sandbox.Sandbox) -> None:
    invoices = stored(small_box, "invoices")
    got = await ids(client.invoices.list(filters=pa.any_of(
        {"currency": "GBP"},
        pa.all_of({"currency": "USD"}, {"amount": {"gt": 500000}}),
    )))
    expected = {
        i["id"] for i in invoices
        if i["attributes"]["currency"] == "GBP"
        or (i["attributes"]["currency"] == "USD" and i["attributes"]["amount"] > 500000)
    }
    assert set(got) == expected and expected


async def test_contains_filter(client: pa.Productive, small_box: sandbox.Sandbox) -> None:
    companies = stored(small_box, "companies")
    needle = companies[3]["attributes"]["name"][:4].lower()
    got = await ids(client.companies.list(filters={"name": {"contains": needle}}))
    assert set(got) == {c["id"] for c in companies
                        if needle in (c["attributes"]["name"] or "").lower()}


async def test_custom_field_filter(client: pa.Productive, small_box: sandbox.Sandbox) -> None:
    deals = [d for d in stored(small_box, "deals") if d["attributes"].get("custom_fields")]
    assert deals, "demo data should set custom fields on some deals"
    field_id, value = next(
        (k, v) for d in deals for k, v in d["attributes"]["custom_fields"].items()
        if isinstance(v, (int, str))
    )
    got = await ids(client.deals.list(filters={"custom_fields": {field_id: {"eq": value}}}))
    expected = {d["id"] for d in deals
                if str((d["attributes"]["custom_fields"] or {}).get(field_id)) == str(value)}
    assert set(got) == expected


async def test_sort_descending_then_ascending(client: pa.Productive) -> None:
    records = [r async for r in client.invoices.list(sort=["-invoiced_on", "number"],
                                                     max_items=300)]
    keys = [r.invoiced_on for r in records]
    assert keys == sorted(keys, reverse=True)


async def test_include_resolves_nested_relationships(client: pa.Productive) -> None:
    async for invoice in client.invoices.list(
        include=["company", "invoice_attributions.budget"], max_items=20,
        filters={"id": {"gt": 1000}},
    ):
        assert isinstance(invoice.company, pa.Record) and invoice.company.name
        for attribution in invoice.invoice_attributions:
            assert isinstance(attribution, pa.Record)
            assert isinstance(attribution.budget, pa.Record) and attribution.budget.budget


async def test_get_with_include_and_sparse_fieldsets(client: pa.Productive) -> None:
    first = await anext(aiter(client.time_entries.list(max_items=1)))
    entry = await client.time_entries.get(first.id, include="person",
                                          fields={"time_entries": ["time", "person"],
                                                  "people": ["first_name"]})
    assert set(entry.raw["attributes"]) == {"time"}
    assert set(entry.person.raw["attributes"]) == {"first_name"}
    assert entry.time == first.time


async def test_stub_relationships_without_include(client: pa.Productive) -> None:
    invoice = await client.invoices.get(27)
    assert invoice.company is None  # stub: {"meta": {"included": false}}
    assert invoice.raw["relationships"]["company"] == {"meta": {"included": False}}


@pytest.mark.parametrize(
    ("kwargs", "title"),
    [
        ({"filters": {"no_such_filter": 1}}, "Unsupported Filter"),
        ({"sort": "no_such_sort"}, "Unsupported Sort"),
        ({"include": "no_such_relationship"}, "Unsupported Include"),
    ],
)
async def test_unsupported_query_is_a_400(
    box_url: str, kwargs: dict[str, Any], title: str
) -> None:
    # The SDK refuses these names before sending; strict=False sends them to show the
    # sandbox answers as the API does.
    async with sandbox_client(box_url, strict=False) as lax:
        with pytest.raises(pa.BadRequestError) as caught:
            await ids(lax.invoices.list(**kwargs))
    assert caught.value.status == 400 and caught.value.errors[0].title == title


async def test_not_found(client: pa.Productive) -> None:
    with pytest.raises(pa.NotFoundError):
        await client.invoices.get(99999999)


async def test_bad_token_is_a_401(box_url: str) -> None:
    async with pa.Productive("wrong", sandbox.ORGANIZATION_ID, base_url=box_url) as c:
        with pytest.raises(pa.AuthenticationError) as caught:
            await c.invoices.get(27)
    assert caught.value.errors[0].code == "invalid_auth_token"


async def test_wrong_media_type_is_a_415(box_url: str) -> None:
    headers = {"X-Auth-Token": sandbox.TOKEN, "X-Organization-Id": sandbox.ORGANIZATION_ID,
               "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as session, session.get(
        box_url + "invoices", headers=headers
    ) as resp:
        assert resp.status == 415


async def test_reports_group_and_refuse_cursors(
    client: pa.Productive, small_box: sandbox.Sandbox
) -> None:
    rows = [r async for r in client.reports.time_reports.list(group="person")]
    entries = stored(small_box, "time_entries")
    assert sum(r.count for r in rows) == len(entries)
    assert sum(r.time for r in rows) == sum(e["attributes"]["time"] for e in entries)
    assert all(isinstance(r.person, pa.Ref) or r.person is None for r in rows)
    with pytest.raises(pa.InvalidRequestError):
        client.reports.time_reports.list(pagination="cursor")


# ----------------------------------------------------------------------------- writes


async def test_create_update_delete_round_trip(fresh: pa.Productive) -> None:
    invoice = await fresh.invoices.create(
        currency="EUR", invoiced_on=dt.date(2026, 2, 1), pay_on=dt.date(2026, 2, 15),
        company=pa.Ref("companies", 11),
    )
    assert invoice.invoiced_on == dt.date(2026, 2, 1)
    assert invoice.pay_on == dt.date(2026, 2, 15)
    again = await fresh.invoices.get(invoice.id, include="company")
    assert again.company.name == "ACME"
    updated = await fresh.invoices.update(invoice.id, subject="Retainer", note=None)
    assert updated.subject == "Retainer" and updated.currency == "EUR"
    await fresh.invoices.delete(invoice.id)
    with pytest.raises(pa.NotFoundError):
        await fresh.invoices.get(invoice.id)


async def test_invoice_validations_are_the_seeds(fresh: pa.Productive) -> None:
    with pytest.raises(pa.ValidationError) as caught:
        await fresh.invoices.create(invoiced_on="")
    assert caught.value.pointers() == [
        "data/attributes/currency", "data/attributes/invoiced_on", "data/attributes/company",
    ]
    assert {e.detail for e in caught.value.errors} == {"can't be blank"}
    invoice = await fresh.invoices.create(currency="EUR", invoiced_on="2026-02-01", company=11)
    with pytest.raises(pa.ValidationError) as caught:
        await fresh.invoices.update(invoice.id, invoiced_on="")
    assert caught.value.pointers() == ["data/attributes/invoiced_on"]


async def test_contract_validations_are_the_seeds(fresh: pa.Productive) -> None:
    # The sandbox's today is 2026-01-15; deal 30 (the template) is dated 2025-12-01.
    contract = await fresh.contracts.create(
        interval_id=1, next_occurrence_on="Feb  1, 2026", template=30
    )
    assert contract.next_occurrence_on == dt.date(2026, 2, 1)
    with pytest.raises(pa.ValidationError) as caught:
        await fresh.contracts.create(interval_id=1, next_occurrence_on=dt.date(2026, 3, 1),
                                     template=pa.Ref("deals", 0))
    assert [(e.pointer, e.detail) for e in caught.value.errors] == [
        ("data/attributes/template", "attribute is invalid")
    ]
    with pytest.raises(pa.ValidationError) as caught:
        await fresh.contracts.update(contract.id, next_occurrence_on="Jan  1, 2026")
    assert [e.detail for e in caught.value.errors] == ["must be after today"]
    with pytest.raises(pa.ValidationError) as caught:
        await fresh.contracts.update(contract.id, ends_on=dt.date(2026, 1, 20))
    assert caught.value.pointers() == ["data/attributes/ends_on"]


async def test_client_deal_cannot_use_the_internal_company(fresh: pa.Productive) -> None:
    with pytest.raises(pa.ValidationError) as caught:
        await fresh.deals.create(name="Oops", deal_type_id=2, company=10)
    assert caught.value.errors[0].detail == "can not be internal company"
    internal = await fresh.deals.create(name="Internal", deal_type_id=1, company=11)
    again = await fresh.deals.get(internal.id, include="company")
    assert again.company.id == "10"
