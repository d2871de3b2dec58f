"""The JSON:API codec as a user relies on it: query strings, request documents, parsed documents
and the typing policy of records (``shared/productive-api/README.md``: "Filters", "Sort,
include, sparse fieldsets", "Documents"). No I/O."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

import pytest

import productive_async as pa
from productive_async import _models
from productive_async._jsonapi import (
    QueryParams,
    build_query,
    encode_filters,
    encode_params,
    parse_document,
    resource_document,
)
from productive_async._models import build_record, converter

REGISTRY = pa.default_registry()

D = dt.date(2025, 1, 1)
PLUS_2 = dt.timezone(dt.timedelta(hours=2))
STUB: dict[str, Any] = {"meta": {"included": False}}
OPERATORS = ["eq", "not_eq", "contains", "not_contain", "gt", "gt_eq", "lt", "lt_eq"]


# --------------------------------------------------------------------------- helpers


def ident(type_: str, id_: str | int) -> dict[str, str]:
    """A resource identifier object."""
    return {"type": type_, "id": str(id_)}


def to(data: Any) -> dict[str, Any]:
    """A relationship object with linkage ``data``."""
    return {"data": data}


def resource(
    type_: str,
    id_: str | int,
    attributes: Mapping[str, Any] | None = None,
    **relationships: Any,
) -> dict[str, Any]:
    """A resource object; keyword arguments are relationship objects by name."""
    obj: dict[str, Any] = {"type": type_, "id": str(id_)}
    if attributes is not None:
        obj["attributes"] = dict(attributes)
    if relationships:
        obj["relationships"] = relationships
    return obj


def document(data: Any, *included: dict[str, Any], **members: Any) -> dict[str, Any]:
    """A top-level document: primary ``data``, ``included`` objects, other members."""
    body: dict[str, Any] = {"data": data, **members}
    if included:
        body["included"] = list(included)
    return body


def parse(body: Any) -> Any:
    """The primary data of a parsed document."""
    return parse_document(body).data


def record(type_: str, id_: str | int, **attributes: Any) -> pa.Record:
    return build_record(resource(type_, id_, attributes))


def message(exc_info: pytest.ExceptionInfo[BaseException]) -> str:
    return str(exc_info.value)


@pytest.fixture
def fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Misfit warnings are logged once per (type, attribute): start from none."""
    monkeypatch.setattr(_models, "_WARNED", set())
    yield


# --------------------------------------------------------------------------- 1. filters


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        pytest.param({"status": 1}, [("filter[status]", "1")], id="int"),
        pytest.param({"name": "Acme"}, [("filter[name]", "Acme")], id="str"),
        pytest.param({"project_id": [1, 2, 3]}, [("filter[project_id]", "1,2,3")], id="list"),
        pytest.param({"project_id": (1, "2")}, [("filter[project_id]", "1,2")], id="tuple"),
        pytest.param({"date": {"gt_eq": D}}, [("filter[date][gt_eq]", "2025-01-01")], id="date"),
        pytest.param(
            {"archived": True, "billable": False},
            [("filter[archived]", "true"), ("filter[billable]", "false")],
            id="booleans",
        ),
        pytest.param(
            {"after": dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=PLUS_2)},
            [("filter[after]", "2025-01-02T03:04:05+02:00")],
            id="datetime",
        ),
        pytest.param({"person_id": pa.Ref("people", 24)}, [("filter[person_id]", "24")], id="ref"),
        pytest.param(
            {"person_id": [pa.Ref("people", 24), record("people", 25)]},
            [("filter[person_id]", "24,25")],
            id="refs-and-records",
        ),
        pytest.param(
            {"company_id": record("companies", 7)}, [("filter[company_id]", "7")], id="record"
        ),
        pytest.param({"amount": Decimal("12.50")}, [("filter[amount]", "12.50")], id="decimal"),
        pytest.param({"status": {3, 1, 2}}, [("filter[status]", "1,2,3")], id="int-set"),
        pytest.param(
            {"tags": frozenset({"b", "c", "a"})}, [("filter[tags]", "a,b,c")], id="str-frozenset"
        ),
        pytest.param(
            {"person_id": 24, "date": {"gt": D, "lt": dt.date(2025, 2, 1)}},
            [
                ("filter[person_id]", "24"),
                ("filter[date][gt]", "2025-01-01"),
                ("filter[date][lt]", "2025-02-01"),
            ],
            id="several-in-order",
        ),
    ],
)
def test_filter_values_become_query_pairs(filters: Any, expected: QueryParams) -> None:
    assert encode_filters(filters) == expected


@pytest.mark.parametrize("op", OPERATORS)
def test_every_documented_operator_is_accepted(op: str) -> None:
    assert encode_filters({"date": {op: D}}) == [(f"filter[date][{op}]", "2025-01-01")]


@pytest.mark.parametrize("op", ["gte", "lte", "neq", "EQ"])
def test_unknown_operator_is_rejected_naming_filter_and_operator(op: str) -> None:
    with pytest.raises(pa.InvalidRequestError) as exc_info:
        encode_filters({"status": 1, "date": {op: D}})
    assert "date" in message(exc_info)
    assert repr(op) in message(exc_info)


@pytest.mark.parametrize(
    ("filters", "name"),
    [
        pytest.param({"status": None}, "status", id="plain"),
        pytest.param({"date": {"gt": None}}, "date", id="operator"),
        pytest.param({"project_id": [1, None]}, "project_id", id="in-list"),
        pytest.param({"custom_fields": {42: None}}, "42", id="custom-field"),
    ],
)
def test_none_filter_value_is_rejected(filters: Any, name: str) -> None:
    with pytest.raises(pa.InvalidRequestError, match="None") as exc_info:
        encode_filters(filters)
    assert name in message(exc_info)


def test_unsendable_filter_value_is_rejected() -> None:
    with pytest.raises(pa.InvalidRequestError, match="status"):
        encode_filters({"status": object()})


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        pytest.param(
            {"custom_fields": {42: {"eq": "x"}}},
            [("filter[custom_fields][42][eq]", "x")],
            id="operator",
        ),
        pytest.param(
            {"custom_fields": {"42": "x"}}, [("filter[custom_fields][42]", "x")], id="plain"
        ),
        pytest.param(
            {"custom_fields": {42: [1, 2], 43: {"gt": D}}},
            [("filter[custom_fields][42]", "1,2"), ("filter[custom_fields][43][gt]", "2025-01-01")],
            id="several",
        ),
    ],
)
def test_custom_field_filters(filters: Any, expected: QueryParams) -> None:
    assert encode_filters(filters) == expected


def test_custom_field_unknown_operator_names_the_field() -> None:
    with pytest.raises(pa.InvalidRequestError) as exc_info:
        encode_filters({"custom_fields": {42: {"gte": 1}}})
    assert "42" in message(exc_info)
    assert "'gte'" in message(exc_info)


def test_any_of_numbers_its_operands() -> None:
    group = pa.any_of({"name": {"eq": "X"}}, {"date": {"gt": D}})
    assert encode_filters(group) == [
        ("filter[$op]", "or"),
        ("filter[0][name][eq]", "X"),
        ("filter[1][date][gt]", "2025-01-01"),
    ]


def test_all_of_sends_and() -> None:
    assert encode_filters(pa.all_of({"status": 1}, {"person_id": 24})) == [
        ("filter[$op]", "and"),
        ("filter[0][status]", "1"),
        ("filter[1][person_id]", "24"),
    ]


def test_nested_group_is_prefixed_by_its_index() -> None:
    group = pa.any_of(
        {"status": 1},
        pa.all_of({"person_id": 24}, {"custom_fields": {42: {"eq": "x"}}}),
    )
    assert encode_filters(group) == [
        ("filter[$op]", "or"),
        ("filter[0][status]", "1"),
        ("filter[1][$op]", "and"),
        ("filter[1][0][person_id]", "24"),
        ("filter[1][1][custom_fields][42][eq]", "x"),
    ]


@pytest.mark.parametrize("make_group", [pa.any_of, pa.all_of])
def test_empty_group_is_rejected(make_group: Any) -> None:
    with pytest.raises(pa.InvalidRequestError):
        make_group()


@pytest.mark.parametrize("operand", [[("status", 1)], "status", 1, None])
def test_non_mapping_group_operand_is_rejected(operand: Any) -> None:
    with pytest.raises(pa.InvalidRequestError):
        pa.any_of({"status": 1}, operand)


def test_group_is_not_a_filter_value() -> None:
    with pytest.raises(pa.InvalidRequestError, match="status"):
        encode_filters({"status": pa.any_of({"a": 1})})


def test_no_filters_and_non_mapping_filters() -> None:
    assert encode_filters(None) == []
    with pytest.raises(pa.InvalidRequestError):
        encode_filters([("status", 1)])  # type: ignore[arg-type]


# --------------------------------------------------------------------------- 2. build_query


def test_build_query_puts_everything_in_order() -> None:
    query = build_query(
        filters={"person_id": 24},
        sort=["-created_at", "name"],
        include=["creator", "project.project_manager"],
        fields={"tasks": ["title", "creator"], "people": "first_name"},
        params={"group": "person"},
    )
    assert query == [
        ("filter[person_id]", "24"),
        ("sort", "-created_at,name"),
        ("include", "creator,project.project_manager"),
        ("fields[tasks]", "title,creator"),
        ("fields[people]", "first_name"),
        ("group", "person"),
    ]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        pytest.param({"sort": "-date"}, [("sort", "-date")], id="sort-str"),
        pytest.param({"include": "creator"}, [("include", "creator")], id="include-str"),
        pytest.param({"include": ("a", "b.c")}, [("include", "a,b.c")], id="include-tuple"),
        pytest.param(
            {"filters": pa.any_of({"status": 1})},
            [("filter[$op]", "or"), ("filter[0][status]", "1")],
            id="group",
        ),
        pytest.param({"params": {"budget_ids": [685]}}, [("budget_ids[]", "685")], id="params"),
        pytest.param({}, [], id="nothing"),
    ],
)
def test_build_query_pieces(kwargs: dict[str, Any], expected: QueryParams) -> None:
    assert build_query(**kwargs) == expected


def test_encode_params_repeats_lists_and_omits_none() -> None:
    params = {"budget_ids": [685, 686], "skip": None, "draft": True, "on": D}
    assert encode_params(params) == [
        ("budget_ids[]", "685"),
        ("budget_ids[]", "686"),
        ("draft", "true"),
        ("on", "2025-01-01"),
    ]


# --------------------------------------------------------------------------- 3. resource_document

INVOICES = REGISTRY["invoices"]
CONTRACTS = REGISTRY["contracts"]
TIME_ENTRIES = REGISTRY["time_entries"]


def test_attributes_are_json_ready_and_refs_are_relationships() -> None:
    body = resource_document(
        INVOICES,
        "invoices",
        {
            "invoiced_on": D,
            "finalized_at": dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=PLUS_2),
            "exchange_rate": Decimal("1.25"),
            "payment_terms": 30,
            "note": "hi",
            "custom_fields": {"42": dt.date(2025, 3, 1)},
            "company": pa.Ref("companies", 7),
            "creator": record("people", 3, first_name="Ana"),
        },
    )
    assert body == {
        "data": {
            "type": "invoices",
            "attributes": {
                "invoiced_on": "2025-01-01",
                "finalized_at": "2025-01-02T03:04:05+02:00",
                "exchange_rate": "1.25",
                "payment_terms": 30,
                "note": "hi",
                "custom_fields": {"42": "2025-03-01"},
            },
            "relationships": {
                "company": {"data": {"type": "companies", "id": "7"}},
                "creator": {"data": {"type": "people", "id": "3"}},
            },
        }
    }


@pytest.mark.parametrize("template", ["142", 142])
def test_bare_id_for_registered_relationship_gets_its_type(template: str | int) -> None:
    body = resource_document(CONTRACTS, "contracts", {"interval_id": 1, "template": template})
    assert body["data"]["attributes"] == {"interval_id": 1}
    assert body["data"]["relationships"] == {"template": {"data": {"type": "deals", "id": "142"}}}


@pytest.mark.parametrize(
    ("spec", "name"),
    [(INVOICES, "bank_account_id"), (INVOICES, "brand_new_thing"), (None, "owner")],
)
def test_bare_id_for_unknown_relationship_is_an_attribute(spec: Any, name: str) -> None:
    body = resource_document(spec, "invoices", {name: 1})
    assert body == {"data": {"type": "invoices", "attributes": {name: 1}}}


def test_bad_bare_id_for_relationship_is_rejected() -> None:
    with pytest.raises(pa.InvalidRequestError, match="template"):
        resource_document(CONTRACTS, "contracts", {"template": True})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(
            [pa.Ref("people", 1), record("people", 2)],
            [ident("people", 1), ident("people", 2)],
            id="refs-and-records",
        ),
        pytest.param(["1", 2], [ident("people", 1), ident("people", 2)], id="bare-ids"),
        pytest.param(pa.Ref("people", 1), [ident("people", 1)], id="one-ref"),
        pytest.param([], [], id="empty"),
    ],
)
def test_to_many_relationship(value: Any, expected: list[dict[str, str]]) -> None:
    body = resource_document(INVOICES, "invoices", {"custom_field_people": value})
    assert body["data"]["relationships"] == {"custom_field_people": {"data": expected}}


def test_list_of_refs_is_a_relationship_even_when_unregistered() -> None:
    body = resource_document(None, "gizmos", {"parts": [pa.Ref("parts", 1)]})
    assert body == {
        "data": {"type": "gizmos", "relationships": {"parts": {"data": [ident("parts", 1)]}}}
    }


def test_only_relationships_means_no_attributes_member() -> None:
    body = resource_document(CONTRACTS, "contracts", {"template": None}, id="15")
    assert body == {
        "data": {"type": "contracts", "id": "15", "relationships": {"template": {"data": None}}}
    }


def test_none_attribute_is_sent_as_null() -> None:
    body = resource_document(TIME_ENTRIES, "time_entries", {"note": None, "task": None})
    assert body["data"]["attributes"] == {"note": None}
    assert body["data"]["relationships"] == {"task": {"data": None}}


@pytest.mark.parametrize(("id_", "expected"), [(None, None), ("69", "69")])
def test_empty_document(id_: str | None, expected: str | None) -> None:
    data = resource_document(INVOICES, "invoices", {}, id=id_)["data"]
    assert data.get("id") == expected
    assert data["type"] == "invoices"
    assert data["attributes"] == {}
    assert "relationships" not in data


def test_time_entry_document() -> None:
    body = resource_document(
        TIME_ENTRIES,
        "time_entries",
        {"date": D, "time": 90, "person": "24", "service": pa.Ref("services", 5)},
        id="8",
    )
    assert body == {
        "data": {
            "type": "time_entries",
            "id": "8",
            "attributes": {"date": "2025-01-01", "time": 90},
            "relationships": {
                "person": {"data": ident("people", 24)},
                "service": {"data": ident("services", 5)},
            },
        }
    }


# --------------------------------------------------------------------------- 4. parse_document


def compound() -> dict[str, Any]:
    """Invoice 1 with included company 2 (parent company 5, whose parent is 2: a cycle) and
    creator 3 (whose company is 2); person 4 and issuer 9 not included; a stub and a null."""
    return document(
        resource(
            "invoices",
            1,
            {"number": "2025-1", "invoiced_on": "2025-01-01"},
            company=to(ident("companies", 2)),
            creator=to(ident("people", 3)),
            custom_field_people=to([ident("people", 3), ident("people", 4)]),
            issuer=to(ident("people", 9)),
            bank_account=STUB,
            parent_invoice=to(None),
        ),
        resource("companies", 2, {"name": "Acme"}, parent_company=to(ident("companies", 5))),
        resource("people", 3, {"first_name": "Ana"}, company=to(ident("companies", 2))),
        resource("companies", 5, {"name": "Parent"}, parent_company=to(ident("companies", 2))),
        meta={"request_id": "r1"},
    )


def test_to_one_relationship_resolves_to_included_record() -> None:
    invoice = parse(compound())
    assert type(invoice.company).__name__ == "Company"
    assert invoice.company.ref == pa.Ref("companies", 2)
    assert invoice.company.name == "Acme"
    assert invoice.creator.first_name == "Ana"


def test_to_many_relationship_mixes_included_records_and_refs() -> None:
    invoice = parse(compound())
    first, second = invoice.custom_field_people
    assert first is invoice.creator
    assert second == pa.Ref("people", "4")


def test_nested_includes_are_resolved_and_shared() -> None:
    invoice = parse(compound())
    assert invoice.company.parent_company.name == "Parent"
    assert invoice.creator.company is invoice.company


def test_cycle_between_included_records() -> None:
    invoice = parse(compound())
    company = invoice.company
    assert company.parent_company.parent_company is company


def test_identifier_without_included_object_stays_ref() -> None:
    invoice = parse(compound())
    assert invoice.issuer == pa.Ref("people", "9")
    assert isinstance(invoice.issuer, pa.Ref)


def test_stub_and_null_become_none() -> None:
    invoice = parse(compound())
    assert invoice.bank_account is None
    assert invoice.parent_invoice is None
    assert invoice.relationships["bank_account"] is None
    assert "parent_invoice" in invoice.relationships


def test_records_of_a_list_share_included_records() -> None:
    body = document(
        [
            resource("invoices", 1, company=to(ident("companies", 2))),
            resource("invoices", 2, company=to(ident("companies", 2))),
        ],
        resource("companies", 2, {"name": "Acme"}),
    )
    first, second = parse(body)
    assert first.company.name == "Acme"
    assert first.company is second.company


def test_unknown_attributes_and_relationships_are_kept() -> None:
    body = document(
        resource(
            "invoices",
            1,
            {"invoiced_on": "2025-01-01", "brand_new_field": {"a": 1}},
            brand_new_rel=to(ident("gizmos", 9)),
            another_rel=to(ident("gadgets", 3)),
        ),
        resource("gizmos", 9, {"size": 3}),
    )
    invoice = parse(body)
    assert invoice.brand_new_field == {"a": 1}
    assert invoice.get("brand_new_field") == {"a": 1}
    assert invoice.raw["attributes"]["brand_new_field"] == {"a": 1}
    assert invoice.raw == body["data"]
    assert invoice.brand_new_rel.size == 3
    assert invoice.another_rel == pa.Ref("gadgets", "3")
    assert invoice.raw["relationships"]["another_rel"] == to(ident("gadgets", 3))


def test_missing_attribute_raises_attribute_error_and_get_defaults() -> None:
    invoice = parse(document(resource("invoices", 1, {"number": "1"})))
    with pytest.raises(AttributeError, match="nope"):
        _ = invoice.nope
    assert invoice.get("nope", "default") == "default"
    assert invoice.invoiced_on is None  # registered but not sent


def test_attributes_property_is_typed_for_registered_attributes() -> None:
    invoice = parse(
        document(
            resource(
                "invoices",
                1,
                {
                    "invoiced_on": "2025-01-01",
                    "exchange_rate": "1.25",
                    "amount": 10000,
                    "number": None,
                    "brand_new_field": "2025-01-01",
                },
            )
        )
    )
    assert invoice.attributes == {
        "invoiced_on": D,
        "exchange_rate": Decimal("1.25"),
        "amount": 10000,
        "number": None,
        "brand_new_field": "2025-01-01",
    }


def test_unregistered_type_is_a_plain_record() -> None:
    gizmo = parse(document(resource("gizmos", 1, {"size": 3}, owner=to(ident("people", 2)))))
    assert type(gizmo) is pa.Record
    assert (gizmo.type, gizmo.id) == ("gizmos", "1")
    assert gizmo.size == 3
    assert gizmo.attributes == {"size": 3}
    assert gizmo.owner == pa.Ref("people", "2")


def test_numeric_ids_become_strings() -> None:
    body = document(
        {
            "type": "invoices",
            "id": 1,
            "relationships": {"company": to({"type": "companies", "id": 2})},
        },
        {"type": "companies", "id": 2, "attributes": {"name": "Acme"}},
    )
    invoice = parse(body)
    assert invoice.id == "1"
    assert invoice.company.name == "Acme"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="empty"),
        pytest.param({"meta": {}}, id="meta-only"),
        pytest.param({"errors": [{"status": "404"}]}, id="errors"),
        pytest.param([], id="list"),
        pytest.param("text", id="str"),
        pytest.param(None, id="none"),
    ],
)
def test_body_without_data_is_a_decode_error(body: Any) -> None:
    with pytest.raises(pa.DecodeError):
        parse_document(body)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"data": {"type": "invoices"}}, id="primary"),
        pytest.param({"data": [resource("invoices", 1), {"type": "invoices"}]}, id="in-list"),
        pytest.param(document(resource("invoices", 1), {"type": "companies"}), id="included"),
        pytest.param({"data": {"id": "1"}}, id="no-type"),
        pytest.param({"data": ["invoices/1"]}, id="not-an-object"),
    ],
)
def test_resource_object_without_id_is_a_decode_error(body: Any) -> None:
    with pytest.raises(pa.DecodeError):
        parse_document(body)


def test_malformed_relationship_identifier_is_a_decode_error() -> None:
    # Relationships resolve on first read: the error names the record and relationship then.
    invoice = parse(document(resource("invoices", 1, company=to({"id": "2"}))))
    with pytest.raises(pa.DecodeError, match="invoices 1: malformed relationship 'company'"):
        _ = invoice.company


@pytest.mark.parametrize("bad", [{"type": "invoices", "id": None}, {"type": 5, "id": "1"},
                                 {"id": "1"}, "invoices/1"])
def test_resource_object_without_type_or_id_is_a_decode_error(bad: Any) -> None:
    with pytest.raises(pa.DecodeError, match="malformed resource object"):
        parse_document(document([bad]))


def test_primary_data_none_and_members_kept() -> None:
    links = {"first": "https://x/invoices?page[number]=1"}
    doc = parse_document({"data": None, "meta": {"total_count": 0}, "links": links})
    assert doc.data is None
    assert doc.meta == {"total_count": 0}
    assert doc.links == links


def test_list_document_meta_and_links() -> None:
    doc = parse_document(
        document([resource("invoices", 1)], meta={"page_size": 30}, links={"next": "n"})
    )
    assert isinstance(doc.data, list)
    assert [r.id for r in doc.data] == ["1"]
    assert doc.meta == {"page_size": 30}
    assert doc.links == {"next": "n"}


def test_missing_meta_and_links_are_empty() -> None:
    doc = parse_document({"data": []})
    assert (doc.data, doc.meta, doc.links) == ([], {}, {})


def test_records_from_cyclic_documents_compare_and_hash() -> None:
    first, second = parse(compound()), parse(compound())
    assert first == second and hash(first) == hash(second)
    assert len({first, second}) == 1


# --------------------------------------------------------------------------- 5. typing policy


@pytest.mark.parametrize(
    ("name", "sent", "expected"),
    [
        pytest.param("invoiced_on", "2025-01-01", D, id="date"),
        pytest.param(
            "finalized_at",
            "2025-01-02T03:04:05.120+02:00",
            dt.datetime(2025, 1, 2, 3, 4, 5, 120000, tzinfo=PLUS_2),
            id="datetime",
        ),
        pytest.param("exchange_rate", "1.25", Decimal("1.25"), id="decimal-str"),
        pytest.param("exchange_rate", 1.25, Decimal("1.25"), id="decimal-float"),
        pytest.param("amount", 123456, 123456, id="money"),
        pytest.param("payment_terms", 30, 30, id="integer"),
        pytest.param("discount", 10.5, 10.5, id="number"),
        pytest.param("discount", 10, 10, id="number-int-kept"),
        pytest.param("credited", True, True, id="boolean"),
        pytest.param("note", "hi", "hi", id="string"),
        pytest.param("custom_fields", {"42": 1}, {"42": 1}, id="object"),
        pytest.param("tag_list", ["a"], ["a"], id="array"),
    ],
)
def test_registered_attributes_are_typed(name: str, sent: Any, expected: Any) -> None:
    value = getattr(record("invoices", 1, **{name: sent}), name)
    assert value == expected
    assert type(value) is type(expected)


def test_timestamps_are_aware_and_keep_their_offset() -> None:
    value = record("invoices", 1, created_at="2025-01-02T03:04:05+02:00").created_at
    assert value.utcoffset() == dt.timedelta(hours=2)
    assert value.hour == 3


def test_money_stays_integer_cents() -> None:
    invoice = record("invoices", 1, amount=1999, amount_default=2100)
    assert (invoice.amount, invoice.amount_default) == (1999, 2100)
    assert type(invoice.amount) is int


@pytest.mark.parametrize(
    ("py_type", "sent", "expected"),
    [
        (dt.date, "2025-01-01", D),
        (dt.datetime, "2025-01-01T00:00:00Z", dt.datetime(2025, 1, 1, tzinfo=dt.UTC)),
        (Decimal, "0.10", Decimal("0.10")),
        (int, 7, 7),
    ],
)
def test_converter_structures_the_policy(py_type: Any, sent: Any, expected: Any) -> None:
    value = converter.structure(sent, py_type)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.usefixtures("fresh_warnings")
@pytest.mark.parametrize(
    ("name", "sent"),
    [
        pytest.param("invoiced_on", "not a date", id="date"),
        pytest.param("finalized_at", "yesterday", id="datetime"),
        pytest.param("payment_terms", 0.5, id="integer-fraction"),
        pytest.param("amount", 12.5, id="money-fraction"),
        pytest.param("exchange_rate", "abc", id="decimal"),
        pytest.param("credited", "yes", id="boolean"),
        pytest.param("custom_fields", [1], id="object"),
    ],
)
def test_misfit_value_is_kept_as_sent_and_logged(
    name: str, sent: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="productive_async"):
        invoice = record("invoices", 1, **{name: sent})
    value = getattr(invoice, name)
    assert value == sent
    assert type(value) is type(sent)
    assert invoice.attributes[name] == sent
    warnings = [r for r in caplog.records if r.name == "productive_async"]
    assert [r.levelno for r in warnings] == [logging.WARNING]
    assert f"invoices.{name}" in warnings[0].getMessage()


@pytest.mark.usefixtures("fresh_warnings")
def test_misfits_are_logged_once_per_attribute(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="productive_async"):
        first = record("invoices", 1, invoiced_on="soon", pay_on="later")
        assert (first.invoiced_on, first.pay_on) == ("soon", "later")  # read: converted
        assert record("invoices", 2, invoiced_on="never").invoiced_on == "never"
    messages = [r.getMessage() for r in caplog.records if r.name == "productive_async"]
    assert len(messages) == 2
    assert any("invoices.invoiced_on" in m for m in messages)
    assert any("invoices.pay_on" in m for m in messages)


@pytest.mark.usefixtures("fresh_warnings")
@pytest.mark.parametrize(
    ("name", "sent"),
    [
        ("created_at", "2025-11-15T05:06:06"),  # a timestamp without its offset
        ("created_at", "2025-11-15"),  # a date where a timestamp belongs
        ("invoiced_on", "2025-11-15T05:06:06+01:00"),  # a timestamp where a date belongs
        ("invoiced_on", "2025-01-01garbage"),
    ],
)
def test_dates_and_timestamps_are_parsed_strictly(name: str, sent: str) -> None:
    assert getattr(record("invoices", 1, **{name: sent}), name) == sent


@pytest.mark.usefixtures("fresh_warnings")
def test_null_and_fitting_values_log_nothing(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="productive_async"):
        invoice = record("invoices", 1, invoiced_on=None, payment_terms=2.0, amount=5)
    assert invoice.invoiced_on is None
    assert invoice.payment_terms == 2
    assert type(invoice.payment_terms) is int
    assert not [r for r in caplog.records if r.name == "productive_async"]


def test_ref_ids_are_strings() -> None:
    ref = pa.Ref("invoices", 5)
    assert ref.id == "5"
    assert ref == pa.Ref("invoices", "5")
    assert ref.to_json() == {"type": "invoices", "id": "5"}


@pytest.mark.parametrize(
    ("type_", "class_name"),
    [
        ("invoices", "Invoice"),
        ("time_entries", "TimeEntry"),
        ("people", "Person"),
        ("companies", "Company"),
        ("deal_statuses", "DealStatus"),
    ],
)
def test_record_classes_are_singular(type_: str, class_name: str) -> None:
    rec = record(type_, 1)
    assert type(rec).__name__ == class_name
    assert isinstance(rec, pa.Record)


def test_repr_shows_type_and_id_only() -> None:
    invoice = record("invoices", 69, number="2025-7", note="secret note")
    assert repr(invoice) == "<Invoice type='invoices' id='69'>"
    assert repr(record("gizmos", 1, size=3)) == "<Record type='gizmos' id='1'>"


@pytest.mark.parametrize("name", ["note", "id", "company", "brand_new"])
def test_records_are_immutable(name: str) -> None:
    invoice = parse(
        document(resource("invoices", 1, {"note": "n"}, company=to(ident("companies", 2))))
    )
    before = invoice.get(name)
    with pytest.raises(AttributeError):
        setattr(invoice, name, "changed")
    assert invoice.get(name) == before


def test_plain_records_are_immutable() -> None:
    gizmo = record("gizmos", 1, size=3)
    with pytest.raises(AttributeError):
        gizmo.size = 4  # type: ignore[attr-defined]
    assert gizmo.size == 3


def test_a_dropped_compound_document_leaves_no_reference_cycles() -> None:
    # Included records are held weakly by the document's index: a page of records is freed
    # by reference counting alone, not by the cyclic garbage collector (bulk pulls).
    import gc

    gc.collect()
    gc.disable()
    try:
        invoice = parse(compound())
        assert invoice.creator.company is invoice.company  # resolved, and shared
        del invoice
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_records_pickle_with_their_included_records() -> None:
    import pickle

    invoice = parse(compound())
    again = pickle.loads(pickle.dumps(invoice))
    assert type(again) is type(invoice) and again == invoice
    assert again.company.parent_company.name == "Parent"
