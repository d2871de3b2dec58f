"""Bulk operations, create_many, custom fields and action request shapes."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from conftest import CompatAioresponses, sent_json, sent_requests

import productive_async as pa
from productive_async import sandbox

ANY = re.compile(r"https://api\.productive\.io/.*")
BULK = "application/vnd.api+json; ext=bulk"


def answer(m: CompatAioresponses, method: str, body: Any = None, status: int = 200) -> None:
    m.add(ANY, method, status=status, body=b"" if body is None else orjson.dumps(body),
          content_type="application/vnd.api+json")


def entry(id_: str, **attributes: Any) -> dict[str, Any]:
    return {"id": id_, "type": "time_entries", "attributes": attributes}


# ----------------------------------------------------------------------------- request shapes


async def test_bulk_update_sends_the_bulk_extension_in_chunks(
    api: pa.Productive, mocked: CompatAioresponses
) -> None:
    answer(mocked, "PATCH", {"data": [entry("2", note="b"), entry("1", note="a")]})
    answer(mocked, "PATCH", {"data": [entry("3", note="c")]})
    result = await api.time_entries.bulk_update(
        [{"id": 1, "note": "a"}, {"id": "2", "note": "b"}, {"id": 3, "note": "c"}], chunk_size=2
    )
    assert result.ok and [o.record.id for o in result] == ["1", "2", "3"]  # input order
    requests = sent_requests(mocked)
    assert [(m, u.split("?")[0]) for m, u, _ in requests] == [
        ("PATCH", "https://api.productive.io/api/v2/time_entries")
    ] * 2
    headers = requests[0][2]["headers"]
    assert headers["Content-Type"] == BULK and headers["Accept"] == BULK
    assert sent_json(requests[0][2]) == {"data": [
        {"type": "time_entries", "id": "1", "attributes": {"note": "a"}},
        {"type": "time_entries", "id": "2", "attributes": {"note": "b"}},
    ]}


async def test_bulk_delete_and_bulk_create_shapes(
    api: pa.Productive, mocked: CompatAioresponses
) -> None:
    answer(mocked, "DELETE", status=204)
    answer(mocked, "POST", {"data": [entry("7", time=60)]}, status=201)
    deleted = await api.time_entries.bulk_delete(["4", 5])
    created = await api.time_entries.bulk_create(
        [{"date": dt.date(2026, 1, 2), "time": 60, "person": pa.Ref("people", 9)}]
    )
    assert deleted.ok and [o.record for o in deleted] == [None, None]
    assert created.records[0].id == "7"
    (_, _, delete), (_, _, create) = sent_requests(mocked)
    assert sent_json(delete) == {"data": [{"type": "time_entries", "id": "4"},
                                          {"type": "time_entries", "id": "5"}]}
    assert sent_json(create) == {"data": [{
        "type": "time_entries", "attributes": {"date": "2026-01-02", "time": 60},
        "relationships": {"person": {"data": {"type": "people", "id": "9"}}},
    }]}
    assert create["headers"]["Accept"] == BULK


async def test_a_rejected_batch_reports_every_item(
    api: pa.Productive, mocked: CompatAioresponses
) -> None:
    answer(mocked, "PATCH", {"data": [entry("1"), entry("2")]})
    answer(mocked, "PATCH", {"errors": [{
        "status": "422", "code": "invalid_attribute", "title": "Invalid Attribute",
        "detail": "can't be blank", "source": {"pointer": "data/1/attributes/date"},
    }]}, status=422)
    result = await api.time_entries.bulk_update(
        [{"id": i, "date": ""} for i in (1, 2, 3, 4)], chunk_size=2
    )
    assert [o.ok for o in result] == [True, True, False, False]
    assert isinstance(result[2].error, pa.BatchRejectedError)  # not applied, not invalid
    assert isinstance(result[3].error, pa.ValidationError)
    assert result[3].error.pointers() == ["data/1/attributes/date"]
    with pytest.raises(pa.BulkError, match="2 of 4 items failed"):
        result.raise_for_errors()


async def test_bulk_methods_refuse_what_the_api_lacks(api: pa.Productive) -> None:
    with pytest.raises(pa.InvalidRequestError, match="create_many"):
        await api.resource("deals").bulk_create([{"name": "x"}])
    with pytest.raises(pa.InvalidRequestError, match="no bulk update"):
        await api.resource("invoices").bulk_update([{"id": 1, "note": "x"}])
    with pytest.raises(pa.InvalidRequestError, match="'id'"):
        await api.time_entries.bulk_update([{"note": "x"}])


@pytest.mark.parametrize(
    ("call", "method", "path", "body"),
    [
        (lambda c: c.deals.close(5, delivered_on=dt.date(2024, 3, 14)), "PATCH",
         "deals/5/close", {"data": {"type": "deals",
                                    "attributes": {"delivered_on": "2024-03-14"}}}),
        (lambda c: c.deals.open(5), "PATCH", "deals/5/open", None),
        (lambda c: c.time_entries.approve(8), "PATCH", "time_entries/8/approve", None),
        (lambda c: c.time_entries.reject(8, rejected_reason="typo"), "PATCH",
         "time_entries/8/reject",
         {"data": {"type": "time_entries", "attributes": {"rejected_reason": "typo"}}}),
        (lambda c: c.integrations.check(3), "GET", "integrations/3/check", None),
        (lambda c: c.contracts.generate(19), "POST", "contracts/19/generate", None),
        (lambda c: c.line_items.generate(invoice_id=72, budget_ids=[685],
                                         invoicing_method="percentage", percentage=50),
         "POST", "line_items/generate",
         {"data": {"type": "line_items", "attributes": {
             "invoice_id": 72, "budget_ids": [685], "invoicing_method": "percentage",
             "percentage": 50}}}),
    ],
)
async def test_action_request_shapes(
    api: pa.Productive, mocked: CompatAioresponses, call: Any, method: str, path: str,
    body: Any,
) -> None:
    # Each action answers what the registry says it does: the record, or a list for generate.
    answer(mocked, method, {"data": [] if path == "line_items/generate" else
                                     {"type": path.split("/")[0], "id": "1"}})
    await call(api)
    [(sent_method, url, kwargs)] = sent_requests(mocked)
    assert sent_method == method
    assert url.split("?")[0] == "https://api.productive.io/api/v2/" + path
    assert sent_json(kwargs) == body


async def test_bulk_approve_is_a_bulk_request(
    api: pa.Productive, mocked: CompatAioresponses
) -> None:
    answer(mocked, "PATCH", {"data": [entry("1", approved=True)]})
    records = await api.time_entries.bulk_approve(items=[1, "2"])
    assert [r.id for r in records] == ["1"]
    [(_, url, kwargs)] = sent_requests(mocked)
    assert url.endswith("/time_entries/approve")
    assert kwargs["headers"]["Content-Type"] == BULK
    assert sent_json(kwargs) == {"data": [{"type": "time_entries", "id": "1"},
                                          {"type": "time_entries", "id": "2"}]}


# ----------------------------------------------------------------------------- create_many


@pytest.fixture
async def demo() -> AsyncIterator[tuple[sandbox.Sandbox, pa.Productive]]:
    box = sandbox.Sandbox(scale=0.02, rate_limits=None, today=dt.date(2026, 1, 15))
    async with box.serve() as url, pa.Productive(
        sandbox.TOKEN, sandbox.ORGANIZATION_ID, base_url=url,
        rate_limits=pa.RateLimits.unlimited(),
    ) as client:
        yield box, client


async def test_create_many_reports_each_item_in_input_order(
    demo: tuple[sandbox.Sandbox, pa.Productive],
) -> None:
    box, client = demo
    company = next(c for c in box.store.table("companies").values()
                   if not c["attributes"]["name"].endswith("(internal)"))
    items: list[Any] = [
        {"name": f"Budget {i}", "deal_type_id": 2, "budget": True, "company": company["id"]}
        for i in range(12)
    ]
    items[4] = {"deal_type_id": 2, "company": company["id"]}  # no name: 422
    items[9] = "not a mapping"
    result = await client.deals.create_many(items, concurrency=3)
    assert [o.index for o in result] == list(range(12))
    assert [o.ok for o in result].count(False) == 2
    assert isinstance(result[4].error, pa.ValidationError)
    assert isinstance(result[9].error, pa.InvalidRequestError)
    assert [o.record.name for o in result if o.ok] == [
        f"Budget {i}" for i in range(12) if i not in (4, 9)
    ]
    for outcome in result.records:
        assert box.store.get("deals", outcome.id) is not None


async def test_create_many_keeps_to_its_concurrency() -> None:
    box = sandbox.Sandbox(demo_data=False, rate_limits=None, latency=0.05)
    in_flight = peak = 0
    original = box.server._handle

    async def counting(*args: Any) -> Any:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            return await original(*args)
        finally:
            in_flight -= 1

    box.server._handle = counting  # type: ignore[method-assign]
    async with box.serve() as url, pa.Productive(
        sandbox.TOKEN, sandbox.ORGANIZATION_ID, base_url=url,
        rate_limits=pa.RateLimits.unlimited(),
    ) as client:
        result = await client.companies.create_many([{"name": f"C{i}"} for i in range(20)],
                                                    concurrency=4)
    assert result.ok and peak == 4


# ----------------------------------------------------------------------------- custom fields


async def test_custom_field_definitions_are_typed_and_cached(
    demo: tuple[sandbox.Sandbox, pa.Productive],
) -> None:
    box, client = demo
    fields = await client.deals.custom_field_definitions()
    requests_after_first = len(box.log.entries)
    again = await client.deals.custom_field_definitions()
    assert again is fields and len(box.log.entries) == requests_after_first
    assert {"Lead source", "Industries", "Expected hours", "Kick-off date",
            "Account manager"} <= set(fields.by_name)
    assert fields["Lead source"].data_type == "select"
    assert {o.name for o in fields["Lead source"].options.values()} >= {"Referral", "Event"}
    refreshed = await client.deals.custom_field_definitions(refresh=True)
    assert refreshed is not fields and len(box.log.entries) > requests_after_first
    invoice_fields = await client.invoices.custom_field_definitions()
    assert "Lead source" not in invoice_fields and "Collection status" in invoice_fields


async def test_read_and_filter_by_field_name(demo: tuple[sandbox.Sandbox, pa.Productive]) -> None:
    box, client = demo
    fields = await client.deals.custom_field_definitions()
    source = fields["Lead source"]
    option = next(iter(source.options.values()))
    matching = [d async for d in client.deals.list(filters=fields.filters({"Lead source":
                                                                           option.name}))]
    expected = {d["id"] for d in box.store.table("deals").values()
                if (d["attributes"]["custom_fields"] or {}).get(source.id) == option.id}
    assert {d.id for d in matching} == expected and expected
    assert all(fields.get(d, "Lead source") == option for d in matching)
    since = dt.date(2024, 1, 1)
    kicked_off = [d async for d in client.deals.list(
        filters=fields.filters({"Kick-off date": {"gt_eq": since}}))]
    assert kicked_off
    assert all(fields.get(d, "Kick-off date") >= since for d in kicked_off)


async def test_update_custom_fields_reads_modifies_and_writes_the_whole_hash(
    demo: tuple[sandbox.Sandbox, pa.Productive],
) -> None:
    box, client = demo
    fields = await client.deals.custom_field_definitions()
    deal = next(d for d in box.store.table("deals").values()
                if len(d["attributes"]["custom_fields"] or {}) >= 1)
    before = dict(deal["attributes"]["custom_fields"])
    person = next(iter(box.store.table("people").values()))
    industries = list(fields["Industries"].options.values())[:2]
    updated = await client.deals.update_custom_fields(deal["id"], {
        "Industries": [o.name for o in industries],
        "Expected hours": 12.5,
        "Account manager": pa.Ref("people", person["id"]),
        "Kick-off date": dt.date(2026, 2, 2),
    })
    stored = box.store.get("deals", deal["id"])["attributes"]["custom_fields"]  # type: ignore[index]
    for field_id, value in before.items():
        if field_id not in {fields[n].id for n in ("Industries", "Expected hours",
                                                    "Account manager", "Kick-off date")}:
            assert stored[field_id] == value  # untouched fields survive the PATCH
    assert stored[fields["Industries"].id] == [o.id for o in industries]
    assert fields.get(updated, "Industries") == industries
    assert fields.get(updated, "Expected hours") == 12.5
    assert fields.get(updated, "Account manager") == pa.Ref("people", person["id"])
    assert fields.get(updated, "Kick-off date") == dt.date(2026, 2, 2)
    cleared = await client.deals.update_custom_fields(deal["id"], {"Expected hours": None})
    assert fields.get(cleared, "Expected hours") is None


async def test_bad_custom_field_names_and_values_fail_before_writing(
    demo: tuple[sandbox.Sandbox, pa.Productive],
) -> None:
    box, client = demo
    deal_id = next(iter(box.store.table("deals")))
    writes = sum(1 for e in box.log.entries if e[1] == "PATCH")
    with pytest.raises(pa.InvalidRequestError, match="no custom field 'Colour'"):
        await client.deals.update_custom_fields(deal_id, {"Colour": "red"})
    with pytest.raises(pa.InvalidRequestError, match="has no option 'Telepathy'"):
        await client.deals.update_custom_fields(deal_id, {"Lead source": "Telepathy"})
    with pytest.raises(pa.InvalidRequestError, match="takes a number"):
        await client.deals.update_custom_fields(deal_id, {"Expected hours": "lots"})
    assert sum(1 for e in box.log.entries if e[1] == "PATCH") == writes


async def test_update_custom_fields_sends_the_merged_hash(
    api: pa.Productive, mocked: CompatAioresponses
) -> None:
    definitions = {"data": [{"id": "42", "type": "custom_fields", "attributes": {
        "name": "Tier", "data_type_id": 3, "customizable_type": "Deal"},
        "relationships": {"options": {"data": [{"type": "custom_field_options", "id": "7"}]}}}],
        "included": [{"id": "7", "type": "custom_field_options", "attributes": {"name": "Gold"}}],
        "meta": {"total_pages": 1, "total_count": 1}}
    answer(mocked, "GET", definitions)
    answer(mocked, "GET", {"data": {"id": "5", "type": "deals", "attributes": {
        "custom_fields": {"41": "keep me", "42": "6"}}}})
    answer(mocked, "PATCH", {"data": {"id": "5", "type": "deals", "attributes": {
        "custom_fields": {"41": "keep me", "42": "7"}}}})
    await api.deals.update_custom_fields(5, {"Tier": "Gold"})
    (_, list_url, _), (_, get_url, _), (_, _, patch) = sent_requests(mocked)
    assert "filter%5Bcustomizable_type%5D=Deal" in list_url or (
        "filter[customizable_type]=Deal" in list_url)
    assert "fields" in get_url
    assert sent_json(patch) == {"data": {"type": "deals", "id": "5", "attributes": {
        "custom_fields": {"41": "keep me", "42": "7"}}}}


async def test_definitions_are_fetched_once_under_concurrency(
    demo: tuple[sandbox.Sandbox, pa.Productive],
) -> None:
    box, client = demo
    before = sum(1 for e in box.log.entries if e[2] == "custom_fields")
    results = await asyncio.gather(*(client.deals.custom_field_definitions() for _ in range(5)))
    assert all(r is results[0] for r in results)
    assert sum(1 for e in box.log.entries if e[2] == "custom_fields") == before + 1
