"""Tests of the seed example parser in ``tests/seeds.py``.

The expected numbers and titles below were counted by hand from the seed documents
``003_6e34b0af897a9ef1.txt`` (contracts) and ``004_e917122e90c5e9c2.txt`` (invoices).
"""

from __future__ import annotations

import importlib.util
import shutil
from collections import Counter
from pathlib import Path

import pytest
from seeds import (
    SEED_RESOURCES,
    SEEDS_DIR,
    SeedExample,
    SeedParseError,
    examples_for,
    infer_status,
    load_examples,
    parse_seed,
)

CONTRACTS = "003_6e34b0af897a9ef1"
INVOICES = "004_e917122e90c5e9c2"

needs_seeds = pytest.mark.skipif(
    not all((SEEDS_DIR / f"{stem}.txt").is_file() for stem in SEED_RESOURCES),
    reason=f"seed documents not found in {SEEDS_DIR} (set PRODUCTIVE_SEEDS_DIR)",
)

# Title -> status, in file order.
EXPECTED_CONTRACTS: dict[str, int] = {
    "GET contracts": 200,
    "GET contracts/4": 200,
    "POST contracts": 201,
    "POST contracts #2": 422,
    "PATCH contracts/10": 200,
    "PATCH contracts/11": 422,
    "PATCH contracts/12": 422,
    "PATCH contracts/13": 422,
    "PATCH contracts/15": 422,
    "DELETE contracts/16": 204,
    "POST contracts/19/generate": 200,
}
EXPECTED_INVOICES: dict[str, int] = {
    "GET invoices": 200,
    "GET invoices/27": 200,
    "POST invoices": 201,
    "POST invoices #2": 422,
    "PATCH invoices/34": 200,
    "PATCH invoices/36": 422,
    "DELETE invoices/37": 204,
    "PATCH invoices/40/export": 422,
    "PATCH invoices/41/export": 200,
    "PATCH invoices/42/export": 200,
    "PATCH invoices/43/export": 200,
    "PATCH invoices/45/export_update": 422,
    "PATCH invoices/47/send": 200,
    "PATCH invoices/53/send": 422,
    "PATCH invoices/54/send": 403,
    "PATCH invoices/55/send": 200,
    "PATCH invoices/67/finalize": 200,
    "PATCH invoices/69/finalize": 200,
    "GET invoices/72/preview": 200,
    "GET invoices/74/preview": 422,
}
# Requests that carry no JSON body although they are not GET/DELETE.
PATCH_WITHOUT_BODY = {"PATCH invoices/40/export", "PATCH invoices/45/export_update"}


def by_title() -> dict[str, SeedExample]:
    return {example.title: example for example in load_examples()}


def one(title: str) -> SeedExample:
    return by_title()[title]


# --------------------------------------------------------------------------- real seeds


@needs_seeds
def test_example_counts_per_file() -> None:
    counts = Counter(example.seed for example in load_examples())
    assert counts == {CONTRACTS: 11, INVOICES: 20}
    assert len(load_examples()) == 31


@needs_seeds
@pytest.mark.parametrize(
    ("seed", "expected"), [(CONTRACTS, EXPECTED_CONTRACTS), (INVOICES, EXPECTED_INVOICES)]
)
def test_titles_and_statuses_in_file_order(seed: str, expected: dict[str, int]) -> None:
    examples = [example for example in load_examples() if example.seed == seed]
    assert [(example.title, example.status) for example in examples] == list(expected.items())


@needs_seeds
def test_every_example_has_method_path_and_resource() -> None:
    examples = load_examples()
    assert len({example.title for example in examples}) == len(examples)
    for example in examples:
        assert example.method in {"GET", "POST", "PATCH", "DELETE"}, example
        assert example.path, example
        assert not example.path.startswith("/") and "?" not in example.path, example
        assert example.resource == SEED_RESOURCES[example.seed]
        assert example.path.split("/")[0] == example.resource
        assert example.title.split(" #")[0] == f"{example.method} {example.path}"
        assert example.line > 0
        assert example.request_headers.get("Content-Type") == "application/vnd.api+json"


@needs_seeds
def test_request_bodies() -> None:
    for example in load_examples():
        if example.method in {"GET", "DELETE"} or example.title in PATCH_WITHOUT_BODY:
            assert example.request_body is None, example.title
        elif example.title != "POST contracts/19/generate":
            assert isinstance(example.request_body, dict), example.title
            assert example.request_body["data"]["type"] == example.resource
    assert one("POST contracts/19/generate").request_body is None
    assert one("PATCH invoices/69/finalize").request_body == {
        "data": {"type": "invoices", "attributes": {}}
    }
    # "next_occurrence_on" keeps the odd date format (with two spaces) exactly as written.
    created = one("POST contracts").request_body
    assert created is not None
    assert created["data"]["attributes"]["next_occurrence_on"] == "Sep  1, 2025"


@needs_seeds
def test_error_examples_are_consistent() -> None:
    for example in load_examples():
        body = example.response_body
        if example.status >= 400:
            assert example.is_error
            assert body is not None and body["errors"], example.title
            assert {int(error["status"]) for error in body["errors"]} == {example.status}
        else:
            assert body is None or "errors" not in body, example.title


@needs_seeds
def test_single_object_responses_match_the_path_id() -> None:
    for example in load_examples():
        body = example.response_body
        parts = example.path.split("/")
        if body is None or not isinstance(body.get("data"), dict) or len(parts) < 2:
            continue
        assert body["data"]["id"] == parts[1], example.title
        assert body["data"]["type"] == example.resource


@needs_seeds
def test_contracts_create_422_points_at_template() -> None:
    example = one("POST contracts #2")
    assert example.status == 422
    assert example.response_body is not None
    errors = example.response_body["errors"]
    assert len(errors) == 1
    assert errors[0]["source"]["pointer"] == "data/attributes/template"
    assert errors[0]["code"] == "invalid_attribute"


@needs_seeds
def test_list_examples_meta() -> None:
    invoices = one("GET invoices").response_body
    assert invoices is not None
    assert invoices["meta"]["total_count"] == 1
    assert len(invoices["data"]) == 1
    contracts = one("GET contracts").response_body
    assert contracts is not None
    assert contracts["meta"]["total_count"] == 3
    assert [item["id"] for item in contracts["data"]] == ["1", "2", "3"]


@needs_seeds
def test_preview_query_and_content_type() -> None:
    example = one("GET invoices/72/preview")
    assert example.path == "invoices/72/preview"
    assert ("budget_ids[]", "685") in example.query
    assert ("percentage", "50") in example.query
    assert example.query == [
        ("budget_ids[]", "685"),
        ("display_format", "{budget}"),
        ("invoicing_by", "budget"),
        ("invoicing_method", "percentage"),
        ("percentage", "50"),
    ]
    assert example.response_content_type == "application/json; charset=utf-8"
    assert example.response_body is not None
    kinds = [item["object_type"] for item in example.response_body["data"]]
    assert kinds == ["line_item", "invoice_attribution"]

    failed = one("GET invoices/74/preview")
    assert ("percentage", "50") not in failed.query
    assert failed.response_content_type == "application/vnd.api+json; charset=utf-8"
    # Only the preview example answers with plain JSON.
    others = [e for e in load_examples() if e.title != example.title and e.status != 204]
    assert {e.response_content_type for e in others} == {"application/vnd.api+json; charset=utf-8"}
    assert all(e.query == [] for e in load_examples() if not e.path.endswith("/preview"))


@needs_seeds
def test_send_403_restricted_email_in_trialing() -> None:
    example = one("PATCH invoices/54/send")
    assert example.status == 403
    assert example.response_body is not None
    errors = example.response_body["errors"]
    assert [error["code"] for error in errors] == ["restricted_email_in_trialing"]
    assert errors[0]["title"] == "Access Denied"


@needs_seeds
def test_204_examples_have_no_body() -> None:
    no_content = [example for example in load_examples() if example.status == 204]
    assert [example.title for example in no_content] == [
        "DELETE contracts/16",
        "DELETE invoices/37",
    ]
    for example in no_content:
        assert example.response_body is None
        assert example.request_body is None
        assert example.response_content_type is None
    # ...and every other example has a response body.
    assert all(e.response_body is not None for e in load_examples() if e.status != 204)


@needs_seeds
def test_examples_for_filters() -> None:
    assert len(examples_for("contracts")) == 11
    assert len(examples_for("invoices")) == 20
    assert [e.title for e in examples_for("invoices", "patch", "/send")] == [
        "PATCH invoices/47/send",
        "PATCH invoices/53/send",
        "PATCH invoices/54/send",
        "PATCH invoices/55/send",
    ]
    assert [e.title for e in examples_for("contracts", "POST")] == [
        "POST contracts",
        "POST contracts #2",
        "POST contracts/19/generate",
    ]
    assert len(examples_for("invoices", path_suffix="/export")) == 4
    assert examples_for("deals") == []


@needs_seeds
def test_load_examples_is_cached_and_returns_fresh_lists(tmp_path: Path) -> None:
    first, second = load_examples(), load_examples()
    assert first == second and first is not second
    assert all(a is b for a, b in zip(first, second, strict=True))
    for stem in SEED_RESOURCES:
        shutil.copy(SEEDS_DIR / f"{stem}.txt", tmp_path / f"{stem}.txt")
    assert load_examples(tmp_path) == first


def test_seeds_dir_default_and_env_override(monkeypatch: pytest.MonkeyPatch) -> None:
    module_file = Path(__file__).with_name("seeds.py")

    def fresh_seeds_dir() -> Path:
        spec = importlib.util.spec_from_file_location("_seeds_copy", module_file)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        result: Path = module.SEEDS_DIR
        return result

    monkeypatch.delenv("PRODUCTIVE_SEEDS_DIR", raising=False)
    assert fresh_seeds_dir() == module_file.resolve().parents[1] / "spec" / "seeds"
    monkeypatch.setenv("PRODUCTIVE_SEEDS_DIR", "/somewhere/else")
    assert fresh_seeds_dir() == Path("/somewhere/else")


# ------------------------------------------------------------------ synthetic documents

FLAT = """\
Intro mentioning POST /api/v2/widgets - in prose
GET /api/v2/widgets/1
Requestsreturns widget
Get widgetsGET/api/v2/widgets
PATCH /api/v2/widgets/5/touch?a%5B%5D=1&b=x+y&c={c}&d=
Headers
Accept: */*
Content-Type: application/vnd.api+jsonBody
{
"data": {"type": "widgets"}
}Headers
Content-Type: application/vnd.api+json; charset=utf-8Body
{
"errors": [{"status": "409", "code": "conflict"}]
}DELETE /api/v2/widgets/6
Headers
Content-Type: application/vnd.api+jsonPOST /api/v2/widgets
Headers
Content-Type: application/vnd.api+jsonHeaders
Content-Type: application/vnd.api+json; charset=utf-8Body
{"data": {"id": "7", "type": "widgets"}}Create a widgetPOST/api/v2/widgets
POST /api/v2/widgets
Headers
Content-Type: application/vnd.api+jsonHeaders
Content-Type: application/json; charset=utf-8Body
{"data": {"id": "8", "type": "widgets"}}"""

INDENTED = """\
DELETE\u00a0/api/v2/widgets/1
Requestsdeletes widget

DELETE\u00a0\u00a0/api/v2/widgets/9

Headers
Content-Type: application/vnd.api+json
Responses204
This response has no content.

Deletes a widget
DELETE/api/v2/widgets/{id}

POST\u00a0\u00a0/api/v2/widgets/2/generate

Headers
Content-Type: application/vnd.api+json
Responses200
Headers
Content-Type: application/vnd.api+json; charset=utf-8
Body
{
  "data": {"id": "2", "type": "widgets"}
}

Generates
"""


def test_parse_flattened_document() -> None:
    examples = parse_seed(FLAT, "flat", "widgets")
    assert [(e.title, e.status) for e in examples] == [
        ("PATCH widgets/5/touch", 409),
        ("DELETE widgets/6", 204),
        ("POST widgets", 201),
        ("POST widgets #2", 201),
    ]
    patch, delete, post, post2 = examples
    assert patch.query == [("a[]", "1"), ("b", "x y"), ("c", "{c}"), ("d", "")]
    assert patch.request_body == {"data": {"type": "widgets"}}
    assert patch.request_headers == {"Accept": "*/*", "Content-Type": "application/vnd.api+json"}
    assert patch.response_content_type == "application/vnd.api+json; charset=utf-8"
    assert delete.request_headers == {"Content-Type": "application/vnd.api+json"}
    assert delete.response_body is None and delete.response_content_type is None
    assert post.request_body is None and post.response_body == {
        "data": {"id": "7", "type": "widgets"}
    }
    assert post2.response_content_type == "application/json; charset=utf-8"
    assert [e.line for e in examples] == [5, 15, 17, 22]


def test_parse_indented_document() -> None:
    examples = parse_seed(INDENTED, "indented")
    assert [(e.title, e.status, e.resource) for e in examples] == [
        ("DELETE widgets/9", 204, "widgets"),
        ("POST widgets/2/generate", 200, "widgets"),
    ]
    assert examples[0].response_body is None
    assert examples[1].response_body == {"data": {"id": "2", "type": "widgets"}}


def test_parse_errors() -> None:
    with pytest.raises(SeedParseError, match="not a 'invoices' path"):
        parse_seed(INDENTED, "indented", "invoices")
    with pytest.raises(SeedParseError, match="without a JSON object"):
        parse_seed("GET /api/v2/x\nHeaders\nA: b\nBody\n[1]", "bad")
    with pytest.raises(SeedParseError, match="invalid JSON body"):
        parse_seed("GET /api/v2/x\nHeaders\nA: b\nBody\n{'a': 1}", "bad")


def test_infer_status() -> None:
    assert infer_status("GET", "invoices", {"errors": [{"status": "422"}]}) == 422
    assert infer_status("DELETE", "invoices/1", None) == 204
    assert infer_status("POST", "invoices", {"data": {}}) == 201
    assert infer_status("POST", "contracts/1/generate", {"data": {}}) == 200
    assert infer_status("PATCH", "invoices/1", {"data": {}}) == 200
