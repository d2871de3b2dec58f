"""The sandbox under hostile requests, over loopback HTTP: every malformed query string, body,
relationship, bulk body, action parameter, id or route gets the API's error document (400 for
query and paging shapes, 404 for unknown routes and records, 409 for a type conflict, 413 for a
body over the limit, 422 for invalid bodies and attributes) and never a 500 or a traceback;
cursors the server did not make are ``400 keyset_invalid_cursor``; the request log is bounded.

The last test, parametrized over every registered collection, sends a fixed catalogue of
hostile shapes to each (list, get, create, update, bulk and every custom action), so a
collection added to the registry is probed without a line here.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest
from yarl import URL

import productive_async as pa
from productive_async import sandbox

REGISTRY = pa.default_registry()
JSONAPI = "application/vnd.api+json"
HEADERS = {"X-Auth-Token": sandbox.TOKEN, "X-Organization-Id": sandbox.ORGANIZATION_ID,
           "Content-Type": JSONAPI}
BULK_HEADERS = {**HEADERS, "Content-Type": f"{JSONAPI}; ext=bulk", "Accept": f"{JSONAPI}; ext=bulk"}
#: Every test here finishes within this many seconds, or fails.
TIME_LIMIT = 60.0

Params = list[tuple[str, str]]


def is_error_document(document: Any, status: int) -> bool:
    """``{"errors": [{"status", "title", "detail", "source": {"pointer"}?}, ...]}`` with the
    answer's status in every error (conventions, "Errors")."""
    if not isinstance(document, dict) or not isinstance(document.get("errors"), list):
        return False
    for item in document["errors"]:
        if not isinstance(item, dict) or not {"status", "title", "detail"} <= set(item):
            return False
        if not all(isinstance(item[k], str) for k in ("title", "detail")):
            return False
        if "source" in item and not isinstance(item["source"].get("pointer"), str):
            return False
    return bool(document["errors"])


class Api:
    """Raw HTTP to one sandbox: answers as (status, parsed JSON or None, raw text)."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        self.session = session
        self.base_url = base_url

    async def send(self, method: str, path: str, *, params: Params | None = None,
                   body: Any = None, raw: bytes | None = None,
                   headers: dict[str, str] | None = None) -> tuple[int, Any, str]:
        data = raw if raw is not None else None if body is None else orjson.dumps(body)
        async with self.session.request(method, self.base_url + path, params=params, data=data,
                                        headers=headers or HEADERS) as response:
            text = await response.text()
            try:
                document = orjson.loads(text)
            except orjson.JSONDecodeError:
                document = None
            return response.status, document, text

    async def refused(self, status: int, method: str, path: str, **kwargs: Any
                      ) -> list[dict[str, Any]]:
        """Send, assert the answer is ``status`` with an error document; its errors."""
        got, document, text = await self.send(method, path, **kwargs)
        assert got == status, (method, path, kwargs, got, text[:500])
        assert is_error_document(document, status), text[:500]
        assert "Traceback" not in text
        assert all(str(e["status"]) == str(status) for e in document["errors"]), text[:500]
        return list(document["errors"])


@pytest.fixture
def box() -> sandbox.Sandbox:
    """A small sandbox of its own (the hostile writes that succeed change its data)."""
    return sandbox.Sandbox(scale=0.02, rate_limits=None, today=dt.date(2026, 1, 15))


@pytest.fixture
async def api(box: sandbox.Sandbox) -> AsyncIterator[Api]:
    async with box.serve() as url, aiohttp.ClientSession() as session:
        async with asyncio.timeout(TIME_LIMIT):
            yield Api(session, url)


def first_id(box: sandbox.Sandbox, type_: str) -> str:
    return next(iter(box.store.table(type_)))


# ----------------------------------------------------------------------------- query strings

DEEP_FILTER = "filter" + "".join(f"[{'a' if i % 2 else 'b'}]" for i in range(1000))

QUERY_400: list[tuple[str, Params, str]] = [
    ("huge page number", [("page[number]", str(10**30))], "Bad Request"),
    ("page number zero", [("page[number]", "0")], "Bad Request"),
    ("negative page number", [("page[number]", "-5")], "Bad Request"),
    ("page number text", [("page[number]", "abc")], "Bad Request"),
    ("page number float", [("page[number]", "1e3")], "Bad Request"),
    ("page number unicode digit", [("page[number]", "\u0663")], "Bad Request"),
    ("page number 5,000 digits", [("page[number]", "9" * 5000)], "Bad Request"),
    ("negative page size", [("page[size]", "-1")], "Bad Request"),
    ("page size text", [("page[size]", "abc")], "Bad Request"),
    ("page size float", [("page[size]", "1e3")], "Bad Request"),
    ("page size zero", [("page[size]", "0")], "Bad Request"),
    ("filter 1,000 deep", [(DEEP_FILTER, "1")], "Unsupported Filter"),
    ("operand groups 1,000 deep", [("filter" + "[0]" * 1000 + "[id]", "1")],
     "Unsupported Filter"),
    ("empty bracket", [("filter[id][eq][]", "")], "Unsupported Filter"),
    ("operand not text", [("filter[id][eq][x]", "1")], "Unsupported Filter"),
    ("unknown operator", [("filter[id][bogus]", "1")], "Unsupported Filter"),
    ("unknown filter", [("filter[nope]", "1")], "Unsupported Filter"),
    ("unclosed bracket", [("filter[id", "1")], "Unsupported Filter"),
    ("trailing text", [("filter[id]x", "1")], "Unsupported Filter"),
    ("bad logical operator", [("filter[$op]", "xor"), ("filter[0][id]", "1")],
     "Unsupported Filter"),
    ("logical operator without operands", [("filter[$op]", "or")], "Unsupported Filter"),
    ("logical operator object", [("filter[$op][x]", "or")], "Unsupported Filter"),
    ("operand not a group", [("filter[$op]", "or"), ("filter[0]", "1")],
     "Unsupported Filter"),
    ("superscript index", [("filter[$op]", "or"), ("filter[\u00b2][id]", "1")],
     "Unsupported Filter"),
    ("custom field operator", [("filter[custom_fields][1][bad]", "1")], "Unsupported Filter"),
    ("custom field operand object", [("filter[custom_fields][1][eq][x]", "1")],
     "Unsupported Filter"),
    ("unknown sort", [("sort", "zzz")], "Unsupported Sort"),
    ("double minus sort", [("sort", "--id")], "Unsupported Sort"),
    ("lone minus sort", [("sort", "-")], "Unsupported Sort"),
    ("NUL sort", [("sort", "\x00")], "Unsupported Sort"),
    ("include with ..", [("include", "company..x")], "Unsupported Include"),
    ("include dot", [("include", ".")], "Unsupported Include"),
    ("include 2,000 deep", [("include", ".".join(["company"] * 2000))], "Unsupported Include"),
    ("include 9 deep", [("include", ".".join(["company"] * 9))], "Unsupported Include"),
    ("unknown include", [("include", "x" * 3000)], "Unsupported Include"),
    ("fields nested", [("fields[invoices][x]", "y")], "Bad Request"),
    ("fields empty type", [("fields[]", "y")], "Bad Request"),
]

QUERY_OK: list[tuple[str, Params]] = [
    ("page size over the maximum is cut", [("page[size]", str(10**30))]),
    ("repeated page number: the first counts", [("page[number]", "1"), ("page[number]", "x")]),
    ("repeated filter: the last counts", [("filter[id]", "1"), ("filter[id][eq]", "2")]),
    ("empty sort items", [("sort", ",,,")]),
    ("sort key repeated 2,000 times", [("sort", ",".join(["id"] * 2000))]),
    ("empty fieldset", [("fields[invoices]", "")]),
    ("fieldset of an unknown type", [("fields[x]", "a")]),
    ("unknown page parameter", [("page[foo]", "1")]),
    ("unknown parameter", [("\x00", "\x00"), ("a" * 5000, "b")]),
    ("page far past the last", [("page[number]", "2147483647")]),
]


@pytest.mark.parametrize(("case", "params", "title"), QUERY_400,
                         ids=[case for case, _, _ in QUERY_400])
async def test_a_bad_query_string_is_a_400_error_document(
    api: Api, case: str, params: Params, title: str
) -> None:
    errors = await api.refused(400, "GET", "invoices", params=params)
    assert errors[0]["title"] == title, errors
    assert len(errors[0]["detail"]) < 200  # a huge parameter is not sent back whole


@pytest.mark.parametrize(("case", "params"), QUERY_OK, ids=[case for case, _ in QUERY_OK])
async def test_odd_but_readable_query_strings_are_answered(
    api: Api, case: str, params: Params
) -> None:
    status, document, text = await api.send("GET", "invoices", params=params)
    assert status == 200, text[:500]
    assert isinstance(document["data"], list)


async def test_an_oversized_page_size_is_cut_to_the_maximum(api: Api) -> None:
    _, document, _ = await api.send("GET", "invoices", params=[("page[size]", "1000")])
    assert document["meta"]["page_size"] == 200
    assert len(document["data"]) == min(200, document["meta"]["total_count"])


async def test_a_query_on_a_member_or_a_report_is_checked_too(
    api: Api, box: sandbox.Sandbox
) -> None:
    invoice = first_id(box, "invoices")
    await api.refused(400, "GET", f"invoices/{invoice}", params=[("include", "nope")])
    await api.refused(400, "GET", "reports/time_reports", params=[("group", "nope")])
    await api.refused(400, "GET", "reports/time_reports", params=[("page[number]", "x")])
    await api.refused(400, "GET", "reports/time_reports", params=[("page[after]", "")])


# ----------------------------------------------------------------------------- cursors


async def test_cursor_pages_follow_the_servers_own_cursors(api: Api) -> None:
    params: Params = [("page[size]", "20"), ("page[after]", "")]
    seen: list[str] = []
    for _ in range(100):
        status, document, text = await api.send("GET", "invoices", params=params)
        assert status == 200, text
        seen.extend(r["id"] for r in document["data"])
        following = document["links"].get("next")
        if not following:
            break
        after = dict(URL(following).query)["page[after]"]
        params = [("page[size]", "20"), ("page[after]", after)]
    assert len(seen) == len(set(seen)) > 20


@pytest.mark.parametrize("cursor", [
    "MQ",  # base64 of "1": a cursor anyone could make
    "!!!", "a" * 5000, "\u00e9", "%%", ".", "MQ.", "MQ.AAAAAAAAAAAAAAAA", "////",
])
async def test_a_made_up_cursor_is_keyset_invalid_cursor(api: Api, cursor: str) -> None:
    errors = await api.refused(400, "GET", "invoices", params=[("page[after]", cursor)])
    assert errors[0]["code"] == "keyset_invalid_cursor"


async def test_a_tampered_or_borrowed_cursor_is_keyset_invalid_cursor(api: Api) -> None:
    _, document, _ = await api.send("GET", "invoices", params=[("page[size]", "5"),
                                                               ("page[after]", "")])
    cursor = dict(URL(document["links"]["next"]).query)["page[after]"]
    status, _, _ = await api.send("GET", "invoices", params=[("page[after]", cursor)])
    assert status == 200
    payload, _, mac = cursor.partition(".")
    for tampered in (f"{payload}.{mac[:-1]}{'A' if mac[-1] != 'A' else 'B'}",
                     f"{'Mg' if payload != 'Mg' else 'Mw'}.{mac}", payload, cursor[:-3]):
        errors = await api.refused(400, "GET", "invoices", params=[("page[after]", tampered)])
        assert errors[0]["code"] == "keyset_invalid_cursor"
    errors = await api.refused(400, "GET", "companies", params=[("page[after]", cursor)])
    assert errors[0]["code"] == "keyset_invalid_cursor"  # another collection's cursor


# ----------------------------------------------------------------------------- bodies

BODY_SHAPES: list[tuple[str, bytes, int, str | None]] = [
    # (case, raw body, status, pointer of the first error)
    ("not JSON", b"not json", 400, None),
    ("cut JSON", b'{"data": {', 400, None),
    ("not UTF-8", b"\xff\xfe", 400, None),
    ("JSON 2,000 deep", b"[" * 2000 + b"]" * 2000, 400, None),
    ("a list", b"[1, 2]", 422, None),
    ("a string", b'"x"', 422, None),
    ("null", b"null", 422, None),
    ("a number", b"5", 422, None),
    ("no data", b"{}", 422, "data"),
    ("data null", b'{"data": null}', 422, "data"),
    ("data a string", b'{"data": "x"}', 422, "data"),
    ("data a number", b'{"data": 5}', 422, "data"),
    ("type a number", b'{"data": {"type": 1}}', 422, "data/type"),
    ("type a list", b'{"data": {"type": ["invoices"]}}', 422, "data/type"),
    ("id an object", b'{"data": {"id": {"a": 1}}}', 422, "data/id"),
    ("id true", b'{"data": {"id": true}}', 422, "data/id"),
    ("attributes a list", b'{"data": {"attributes": [1, 2]}}', 422, "data/attributes"),
    ("attributes a string", b'{"data": {"attributes": "x"}}', 422, "data/attributes"),
    ("attributes a number", b'{"data": {"attributes": 5}}', 422, "data/attributes"),
    ("relationships a list", b'{"data": {"relationships": [1]}}', 422,
     "data/relationships"),
    ("relationships a string", b'{"data": {"relationships": "x"}}', 422,
     "data/relationships"),
]

ATTRIBUTE_SHAPES: list[tuple[str, dict[str, Any], str]] = [
    # invoices: payment_terms integer, invoiced_on date, number string, custom_fields object
    ("integer given text", {"payment_terms": "abc"}, "payment_terms"),
    ("integer given an object", {"payment_terms": {"a": 1}}, "payment_terms"),
    ("integer given true", {"payment_terms": True}, "payment_terms"),
    ("integer too big for JSON readers", {"payment_terms": 2**60}, "payment_terms"),
    ("integer given a fraction", {"payment_terms": 1.5}, "payment_terms"),
    ("date given a number", {"invoiced_on": 5}, "invoiced_on"),
    ("date that is no date", {"invoiced_on": "9999-99-99"}, "invoiced_on"),
    ("string given an object", {"number": {"a": 1}}, "number"),
    ("string given a list", {"number": [1]}, "number"),
    ("custom fields a list", {"custom_fields": [1]}, "custom_fields"),
    ("relationship id attribute an object", {"company_id": {"a": 1}}, "company_id"),
    ("relationship id attribute true", {"company_id": True}, "company_id"),
]

RELATIONSHIP_SHAPES: list[tuple[str, Any, str]] = [
    # invoices.company is to-one; (case, relationships member, pointer of the error)
    ("a number", {"company": 5}, "data/relationships/company"),
    ("a string", {"company": "x"}, "data/relationships/company"),
    ("no data", {"company": {}}, "data/relationships/company"),
    ("data a string", {"company": {"data": "x"}}, "data/relationships/company/data"),
    ("data a number", {"company": {"data": 5}}, "data/relationships/company/data"),
    ("type a number", {"company": {"data": {"type": 1, "id": "1"}}},
     "data/relationships/company/data/type"),
    ("type missing", {"company": {"data": {"id": "1"}}},
     "data/relationships/company/data/type"),
    ("type not a type name", {"company": {"data": {"type": "../x", "id": "1"}}},
     "data/relationships/company/data/type"),
    ("id missing", {"company": {"data": {"type": "companies"}}},
     "data/relationships/company/data/id"),
    ("id an object", {"company": {"data": {"type": "companies", "id": {"a": 1}}}},
     "data/relationships/company/data/id"),
    ("id a list", {"company": {"data": {"type": "companies", "id": [1]}}},
     "data/relationships/company/data/id"),
    ("id true", {"company": {"data": {"type": "companies", "id": True}}},
     "data/relationships/company/data/id"),
    ("id a fraction", {"company": {"data": {"type": "companies", "id": 1.5}}},
     "data/relationships/company/data/id"),
    ("id empty", {"company": {"data": {"type": "companies", "id": ""}}},
     "data/relationships/company/data/id"),
    ("id with control characters", {"company": {"data": {"type": "companies", "id": "1\x1b"}}},
     "data/relationships/company/data/id"),
    ("to-one given a list", {"company": {"data": [{"type": "companies", "id": "1"}]}},
     "data/relationships/company/data"),
    ("company_id given a list", {"company_id": {"data": [1, 2]}},
     "data/relationships/company_id/data"),
]


@pytest.mark.parametrize(("case", "raw", "status", "pointer"), BODY_SHAPES,
                         ids=[c for c, *_ in BODY_SHAPES])
async def test_a_malformed_body_is_refused_on_create_and_update(
    api: Api, box: sandbox.Sandbox, case: str, raw: bytes, status: int, pointer: str | None
) -> None:
    invoice = first_id(box, "invoices")
    before = box.store.snapshot()
    for method, path in (("POST", "invoices"), ("PATCH", f"invoices/{invoice}")):
        errors = await api.refused(status, method, path, raw=raw)
        if pointer is not None:
            assert errors[0]["source"]["pointer"] == pointer, errors
    assert box.store.snapshot() == before


@pytest.mark.parametrize(("case", "attributes", "name"), ATTRIBUTE_SHAPES,
                         ids=[c for c, *_ in ATTRIBUTE_SHAPES])
async def test_an_attribute_of_the_wrong_kind_is_a_422_naming_it(
    api: Api, box: sandbox.Sandbox, case: str, attributes: dict[str, Any], name: str
) -> None:
    invoice = first_id(box, "invoices")
    before = box.store.snapshot()
    body = {"data": {"type": "invoices", "id": invoice, "attributes": attributes}}
    errors = await api.refused(422, "PATCH", f"invoices/{invoice}", body=body)
    assert errors[0]["source"]["pointer"] == f"data/attributes/{name}"
    assert errors[0]["code"] == "invalid_attribute"
    assert box.store.snapshot() == before


@pytest.mark.parametrize(("case", "relationships", "pointer"), RELATIONSHIP_SHAPES,
                         ids=[c for c, *_ in RELATIONSHIP_SHAPES])
async def test_a_malformed_relationship_is_a_422_pointing_at_it(
    api: Api, box: sandbox.Sandbox, case: str, relationships: Any, pointer: str
) -> None:
    invoice = first_id(box, "invoices")
    before = box.store.snapshot()
    for method, path in (("POST", "invoices"), ("PATCH", f"invoices/{invoice}")):
        body = {"data": {"type": "invoices", "relationships": relationships}}
        errors = await api.refused(422, method, path, body=body)
        assert errors[0]["source"]["pointer"] == pointer, errors
    assert box.store.snapshot() == before


async def test_to_many_relationships_need_a_list_of_identifiers(
    api: Api, box: sandbox.Sandbox
) -> None:
    spec = next(s for s in REGISTRY.collections if "update" in s.operations
                and any(r.many for r in s.relationships.values()) and box.store.tables.get(s.type))
    name = next(n for n, r in spec.relationships.items() if r.many)
    record = first_id(box, spec.type)
    for data in ({"type": "people", "id": "1"}, None, [1], ["x"], [{"type": "people"}]):
        body = {"data": {"type": spec.type, "relationships": {name: {"data": data}}}}
        errors = await api.refused(422, "PATCH", f"{spec.name}/{record}", body=body)
        assert errors[0]["source"]["pointer"].startswith(f"data/relationships/{name}/data")
    body = {"data": {"type": spec.type, "attributes": {name[:-1] + "_ids": 5}}}
    if name.endswith("s") and spec.relationships.get(name):
        await api.refused(422, "PATCH", f"{spec.name}/{record}", body=body)


async def test_a_body_of_another_type_is_a_409_conflict(api: Api) -> None:
    errors = await api.refused(409, "POST", "invoices", body={"data": {"type": "deals"}})
    assert errors[0]["source"]["pointer"] == "data/type"


async def test_values_no_json_reader_keeps_are_refused_and_the_store_stays_readable(
    api: Api, box: sandbox.Sandbox
) -> None:
    invoice = first_id(box, "invoices")
    raw = b'{"data": {"type": "invoices", "attributes": {"payment_terms": %d}}}' % (10**30)
    await api.refused(422, "PATCH", f"invoices/{invoice}", raw=raw)
    await api.refused(422, "PATCH", f"invoices/{invoice}",
                      body={"data": {"attributes": {"exchange_rate": "1e400"}}})
    status, _, text = await api.send("GET", f"invoices/{invoice}")
    assert status == 200, text


async def test_attribute_values_nested_too_deep_are_refused(
    api: Api, box: sandbox.Sandbox
) -> None:
    invoice = first_id(box, "invoices")
    deep = b'{"a":' * 300 + b"1" + b"}" * 300  # orjson reads 1,024 levels, writes 254
    raw = b'{"data": {"attributes": {"custom_fields": {"1": %s}}}}' % deep
    errors = await api.refused(422, "PATCH", f"invoices/{invoice}", raw=raw)
    assert errors[0]["source"]["pointer"] == "data/attributes/custom_fields"
    deep = b'{"a":' * 1000 + b"1" + b"}" * 1000  # a handler's str() of it recursed too deep
    raw = b'{"data": {"attributes": {"company_reference_id": %s}}}' % deep
    errors = await api.refused(422, "PATCH", f"invoices/{invoice}/export", raw=raw)
    assert errors[0]["source"]["pointer"] == "data/attributes/company_reference_id"
    status, _, text = await api.send("GET", f"invoices/{invoice}")
    assert status == 200, text


async def test_actions_write_only_values_of_the_registered_kinds(
    api: Api, box: sandbox.Sandbox
) -> None:
    deal = first_id(box, "deals")
    deals = len(box.store.table("deals"))
    body = {"data": {"attributes": {"template_id": deal, "budget_total": "abc"}}}
    errors = await api.refused(422, "POST", "deals/copy", body=body)
    assert errors[0]["source"]["pointer"] == "data/attributes/budget_total"
    assert len(box.store.table("deals")) == deals


async def test_unknown_relationships_and_attributes_are_ignored(
    api: Api, box: sandbox.Sandbox
) -> None:
    invoice = first_id(box, "invoices")
    body = {"data": {"type": "invoices", "attributes": {"no_such_thing": 1},
                     "relationships": {"no_such_thing": {"data": {"type": "people", "id": "1"}}}}}
    status, _, text = await api.send("PATCH", f"invoices/{invoice}", body=body)
    assert status == 200, text
    stored = box.store.get("invoices", invoice)
    assert stored is not None and "no_such_thing" not in stored["relationships"]
    assert "no_such_thing" not in stored["attributes"]


async def test_a_relationship_to_an_unknown_type_makes_no_table(
    api: Api, box: sandbox.Sandbox
) -> None:
    invoice = first_id(box, "invoices")
    tables = set(box.store.tables)
    for index in range(5):
        body = {"data": {"relationships": {"company": {"data": {"type": f"made_up_{index}",
                                                                 "id": "1"}}}}}
        await api.send("PATCH", f"invoices/{invoice}", body=body)
    assert set(box.store.tables) == tables


async def test_a_body_over_the_size_limit_is_a_413_error_document() -> None:
    small = sandbox.Sandbox(demo_data=False, rate_limits=None, max_body_size=1024)
    async with small.serve() as url, aiohttp.ClientSession() as session:
        api = Api(session, url)
        big = {"data": {"type": "companies", "attributes": {"name": "x" * 4096}}}
        await api.refused(413, "POST", "companies", body=big)


# ----------------------------------------------------------------------------- bulk, actions

BULK_SHAPES: list[tuple[str, Any, str]] = [
    ("data an object", {"data": {"id": "1"}}, "data"),
    ("data a string", {"data": "x"}, "data"),
    ("no data", {}, "data"),
    ("items not objects", {"data": [5, "x", None, [1]]}, "data/0"),
    ("item id an object", {"data": [{"type": "time_entries", "id": {"a": 1}}]}, "data/0/id"),
    ("item id missing", {"data": [{"type": "time_entries", "attributes": {}}]}, "data/0/id"),
    ("item attributes a list", {"data": [{"type": "time_entries", "id": "1",
                                          "attributes": [1]}]}, "data/0/attributes"),
    ("item relationships a number", {"data": [{"type": "time_entries", "id": "1",
                                               "relationships": 5}]}, "data/0/relationships"),
]


@pytest.mark.parametrize(("case", "body", "pointer"), BULK_SHAPES,
                         ids=[c for c, *_ in BULK_SHAPES])
async def test_a_malformed_bulk_body_is_a_422(
    api: Api, box: sandbox.Sandbox, case: str, body: Any, pointer: str
) -> None:
    before = box.store.snapshot()
    for method in ("PATCH", "DELETE"):
        errors = await api.refused(422, method, "time_entries", body=body, headers=BULK_HEADERS)
        assert errors[0]["source"]["pointer"] == pointer, errors
    assert box.store.snapshot() == before


async def test_action_parameters_of_the_wrong_type_are_refused_not_crashed(
    api: Api, box: sandbox.Sandbox
) -> None:
    invoice = first_id(box, "invoices")
    for attributes in ([1, 2], "x", 5):
        body = {"data": {"type": "invoices", "attributes": attributes}}
        errors = await api.refused(422, "PATCH", f"invoices/{invoice}/finalize", body=body)
        assert errors[0]["source"]["pointer"] == "data/attributes"
    for data in ("x", 5, True):
        await api.refused(422, "PATCH", f"invoices/{invoice}/send", body={"data": data})
    for value in ({"a": 1}, [1, {"b": 2}], -1, True, None, [[1]]):
        body = {"data": {"type": "invoices", "attributes": {"to": value, "subject": value,
                                                            "body": value}}}
        status, document, text = await api.send("PATCH", f"invoices/{invoice}/send", body=body)
        assert status < 500 and (status < 400 or is_error_document(document, status)), text
    for query in ([("percentage", "nan"), ("invoicing_method", "percentage"),
                   ("invoicing_by", "budget"), ("budget_ids", "1")],
                  [("budget_ids[]", "x"), ("date_from", "0000-00-00")]):
        await api.refused(422, "GET", f"invoices/{invoice}/preview", params=query)


async def test_dates_at_the_end_of_the_calendar_do_not_overflow(
    api: Api, box: sandbox.Sandbox
) -> None:
    invoice = first_id(box, "invoices")
    body = {"data": {"attributes": {"invoiced_on": "9999-12-31", "pay_on": None,
                                    "payment_terms": 2**53 - 1}}}
    status, document, text = await api.send("PATCH", f"invoices/{invoice}", body=body)
    assert status == 200, text
    assert document["data"]["attributes"]["pay_on"] == "9999-12-31"


@pytest.mark.parametrize("path", [
    "invoices/%00", "invoices/..", "invoices/" + "9" * 5000, "invoices/\u00e9", "invoices/-1",
    "invoices/1.0", "invoices/1/2/3/4", "nope", "reports/nope",
    "reports/time_reports/1", "invoices/1/no_such_action",
])
async def test_odd_ids_and_unknown_routes_are_404_error_documents(api: Api, path: str) -> None:
    errors = await api.refused(404, "GET", path)
    assert errors[0]["title"] == "Not Found"


async def test_a_path_outside_the_api_is_a_404_error_document(api: Api) -> None:
    api.base_url = api.base_url.replace("/api/v2/", "/")
    for path in ("", "api/v1/invoices", "favicon.ico"):
        await api.refused(404, "GET", path)


# ----------------------------------------------------------------------------- last resort


async def test_a_handler_failure_is_a_logged_500_error_document_without_a_traceback(
    api: Api, box: sandbox.Sandbox, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    listing = box.server._list

    def broken(request: Any, spec: Any) -> Any:
        if spec.name == "invoices":
            raise RuntimeError("secret internals")
        return listing(request, spec)

    monkeypatch.setattr(box.server, "_list", broken)
    with caplog.at_level(logging.ERROR, logger="productive_async.sandbox"):
        errors = await api.refused(500, "GET", "invoices")
    assert errors[0]["title"] == "Internal Server Error"
    assert "secret internals" not in str(errors)
    assert any(r.exc_info and "secret internals" in str(r.exc_info[1]) for r in caplog.records)
    assert box.log.entries[-1][1:] == ("GET", "invoices", 500)
    status, _, _ = await api.send("GET", "companies")  # the server goes on answering
    assert status == 200


# ----------------------------------------------------------------------------- request log


async def test_the_request_log_keeps_the_newest_entries_only() -> None:
    small = sandbox.Sandbox(demo_data=False, rate_limits=None, log_size=5)
    assert small.log.maxlen == 5
    async with small.serve() as url, aiohttp.ClientSession() as session:
        api = Api(session, url)
        for index in range(12):
            await api.send("GET", f"companies/{index}")
        await api.send("GET", "x" * 10_000)
    assert len(small.log.entries) == 5 and small.log.total == 13
    assert [e[2] for e in small.log.entries][:4] == [f"companies/{i}" for i in range(8, 12)]
    assert len(small.log.entries[-1][2]) <= 256  # a long path is kept short


def test_the_request_log_is_bounded_by_default() -> None:
    box = sandbox.Sandbox(demo_data=False)
    assert box.log.maxlen is not None and box.log.maxlen <= 1_000_000
    assert sandbox.RequestLog([(0.0, "GET", "x", 200)] * 3, maxlen=2).count() == 2


# ----------------------------------------------------------------------------- every collection

COLLECTIONS = sorted(REGISTRY.resources)

HOSTILE_QUERIES: list[Params] = [
    [("page[number]", str(10**30))], [("page[size]", "-1")], [("page[size]", "abc")],
    [("page[size]", "1e3")], [(DEEP_FILTER, "1")], [("filter" + "[0]" * 1000 + "[x]", "1")],
    [("filter[id][eq][]", "")], [("filter[id][eq][x]", "1")], [("filter[id][nope]", "1")],
    [("filter[$op]", "or"), ("filter[0]", "x")], [("sort", "--id")], [("sort", "\u00b2")],
    [("include", "..")], [("include", ".".join(["organization"] * 1000))],
    [("fields[a][b]", "c")], [("page[after]", "!!")], [("page[after]", "MQ")],
    [("page[after]", "MQ"), ("sort", "-id")], [("group", "..")],
]
HOSTILE_DATA: list[Any] = [
    None, "x", 5, [1, None], {"type": 1}, {"id": {"a": 1}}, {"attributes": [1]},
    {"attributes": "x"}, {"relationships": [1]}, {"relationships": {"x": 5}},
]
HOSTILE_VALUES: list[Any] = [{"a": 1}, [1, {"b": 2}], "abc", 2**60, True, "9999-99-99"]


def hostile_bodies(spec: Any) -> list[Any]:
    """Bodies for a create or update of ``spec``: malformed documents, each relationship
    malformed, attributes of every kind given values of other kinds."""
    bodies: list[Any] = [{"data": data} for data in HOSTILE_DATA]
    for name, rel in list(spec.relationships.items())[:3]:
        for value in (5, {"data": "x"}, {"data": {"type": 1}}, {"data": [1]},
                      {"data": {"type": rel.type, "id": {"a": 1}}},
                      {"data": {"type": rel.type, "id": "1"} if rel.many else
                       [{"type": rel.type, "id": "1"}]}):
            bodies.append({"data": {"type": spec.type, "relationships": {name: value}}})
        bodies.append({"data": {"type": spec.type, "attributes": {f"{name}_id": [1]}}})
    for name in list(spec.attributes)[:25]:
        for value in HOSTILE_VALUES:
            bodies.append({"data": {"type": spec.type, "attributes": {name: value}}})
    return bodies


def ensure_record(box: sandbox.Sandbox, spec: Any) -> str:
    """The id of a record of ``spec`` (a blank one stored if the demo data has none)."""
    table = box.store.tables.get(spec.type)
    if table:
        return next(iter(table))
    record = box.server.rules.blank(spec)
    record["id"] = box.store.new_id(spec.type)
    return str(box.store.put(record)["id"])


@pytest.fixture(scope="module")
def shared_box() -> sandbox.Sandbox:
    """One sandbox for the whole catalogue (its data changes as hostile writes succeed)."""
    return sandbox.Sandbox(scale=0.02, rate_limits=None, today=dt.date(2026, 1, 15))


@pytest.mark.parametrize("name", COLLECTIONS)
async def test_every_collection_answers_hostile_requests_with_error_documents(
    shared_box: sandbox.Sandbox, name: str
) -> None:
    spec = REGISTRY.resources[name]
    box = shared_box
    path = f"reports/{name}" if spec.is_report else name
    record = ensure_record(box, spec) if not spec.is_report else None
    # Every path gets the hostile queries (a collection without a list: 404s).
    requests: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", path, {"params": q}) for q in HOSTILE_QUERIES
    ]
    if "get" in spec.operations:
        requests += [("GET", f"{path}/{record}", {"params": q}) for q in HOSTILE_QUERIES[-8:]]
    bodies = hostile_bodies(spec)
    if "create" in spec.operations:
        requests += [("POST", path, {"body": b}) for b in bodies]
    if "update" in spec.operations:
        requests += [("PATCH", f"{path}/{record}", {"body": b}) for b in bodies]
    for op in sorted(spec.bulk):
        method = {"create": "POST", "update": "PATCH", "delete": "DELETE"}[op]
        requests += [(method, path, {"body": {"data": [data]}, "headers": BULK_HEADERS})
                     for data in HOSTILE_DATA]
    for action in spec.actions.values():
        if action.scope == "member":
            action_path = f"{path}/{record}/{action.segment}"
        else:
            action_path = f"{path}/{action.segment}" if action.segment else path
        headers = BULK_HEADERS if action.payload == "bulk" else HEADERS
        requests += [(action.method, action_path, {"body": {"data": data}, "headers": headers})
                     for data in HOSTILE_DATA]
        for param in list(action.params)[:10]:
            requests += [(action.method, action_path,
                          {"body": {"data": {"attributes": {param: value}}}, "headers": headers})
                         for value in HOSTILE_VALUES]
            if action.payload == "query":
                requests.append((action.method, action_path, {"params": [(param, "\u00b2")]}))
    failures: list[str] = []
    async with box.serve() as url, aiohttp.ClientSession() as session:
        api = Api(session, url)
        async with asyncio.timeout(TIME_LIMIT):
            for method, target, options in requests:
                status, document, text = await api.send(method, target, **options)
                if status >= 500 or (status >= 400 and not is_error_document(document, status)):
                    failures.append(f"{method} {target} {options} -> {status} {text[:200]}")
            if not spec.is_report and "get" in spec.operations:
                status, _, text = await api.send("GET", f"{path}/{record}")
                assert status == 200, f"the record no longer reads: {text[:300]}"
            if "list" in spec.operations or spec.is_report:
                status, _, text = await api.send("GET", path, params=[("page[size]", "200")])
                assert status == 200, f"the collection no longer reads: {text[:300]}"
    assert not failures, "\n".join(failures[:20])
