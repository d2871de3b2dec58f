"""The registry covers every operation of ``spec/operations.json`` and agrees with
``spec/schema.json`` on attribute kinds and units.

Reads only files of this repository: ``spec/`` and ``tools/overlay/exceptions.json`` (the
documented deviations from schema.json, each with its reason). The expected kinds below are
this test's own reading of schema.json, not the generator's code.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import productive_async as pa
from productive_async._engine import Action, ResourceClient
from productive_async._registry import ResourceSpec

ROOT = Path(__file__).resolve().parents[1]
OPS: dict[str, dict[str, Any]] = json.loads((ROOT / "spec" / "operations.json").read_text())
SCHEMA: dict[str, Any] = json.loads((ROOT / "spec" / "schema.json").read_text())
EXCEPTIONS: dict[str, dict[str, Any]] = json.loads(
    (ROOT / "tools" / "overlay" / "exceptions.json").read_text()
)["attributes"]
REGISTRY = pa.default_registry()
OPERATIONS = [(path, method, op) for path, methods in sorted(OPS.items())
              for method, op in sorted(methods.items())]
#: operations.json's only body field that is not an attribute: POST /integrations documents
#: its body as a single ``data`` field (tools/overlay/resources.json gives the real one).
NOT_BODY_FIELDS = {"data"}


@pytest.fixture(scope="module")
def client() -> pa.Productive:
    return pa.Productive("token", 1)


def test_the_sources_are_the_vendored_ones() -> None:
    assert len(OPS) == 352
    assert len(OPERATIONS) == 595
    assert len(SCHEMA["resources"]) == 92


def _spec(path: str) -> tuple[ResourceSpec, list[str]]:
    parts = path.strip("/").split("/")
    if parts[0] == "reports":
        spec = REGISTRY[parts[1]]
        assert spec.is_report and spec.path == f"reports/{parts[1]}"
        assert spec.rate_class == "reports" and not spec.cursor
        return spec, []
    spec = REGISTRY[parts[0]]
    assert spec.path == parts[0] and not spec.is_report
    return spec, parts[1:]


def _writes(spec: ResourceSpec, field: str, names: Any) -> bool:
    """Whether ``field`` can be written: itself, or as its relationship (``company_id``)."""
    base = field.removesuffix("_id")
    return field in names or (field != base and base in names and base in spec.relationships)


@pytest.mark.parametrize(
    ("path", "method", "op"), OPERATIONS, ids=[f"{m} {p}" for p, m, _ in OPERATIONS]
)
def test_every_operation_is_reachable(
    path: str, method: str, op: dict[str, Any], client: pa.Productive
) -> None:
    spec, rest = _spec(path)
    resource = client.resource(spec.path)
    assert isinstance(resource, ResourceClient) and resource.spec is spec
    fields = set(op.get("body_fields") or ()) - NOT_BODY_FIELDS
    if not rest and spec.is_report:
        assert method == "GET" and "list" in spec.operations
        assert set(op.get("query") or ()) <= set(spec.query)
    elif not rest:
        crud = {"GET": "list", "POST": "create", "PATCH": None, "DELETE": None}[method]
        if crud:
            assert crud in spec.operations
        bulk = {"PATCH": "update", "DELETE": "delete"}.get(method)
        if method == "POST" and op["operation_id"].endswith("-bulk"):
            bulk = "create"
        if bulk:
            assert bulk in spec.bulk
        if method == "POST":
            assert all(_writes(spec, f, spec.create) for f in fields), fields - set(spec.create)
        if method == "PATCH":
            assert all(_writes(spec, f, spec.update) for f in fields), fields - spec.update
        assert client.__getattr__(spec.name) is resource
    elif rest == ["{id}"]:
        crud = {"GET": "get", "PATCH": "update", "DELETE": "delete"}[method]
        assert crud in spec.operations
        if method == "PATCH":
            assert all(_writes(spec, f, spec.update) for f in fields), fields - spec.update
    else:
        scope = "member" if rest[0] == "{id}" else "collection"
        bulk_action = scope == "collection" and op["operation_id"].endswith("-bulk")
        name = f"bulk_{rest[-1]}" if bulk_action else rest[-1]
        action = spec.actions[name]
        assert (action.method, action.scope, action.segment) == (method, scope, rest[-1])
        assert (action.payload == "bulk") == bulk_action
        assert action.idempotent or method != "GET"
        assert fields <= set(action.params)
        bound = getattr(resource, name)
        assert isinstance(bound, Action) and bound.spec is action


@pytest.mark.parametrize("path", sorted(p for p, m in OPS.items() if "GET" in m))
def test_every_filter_and_sort_is_registered(path: str) -> None:
    spec, rest = _spec(path)
    listing = OPS[path]["GET"]
    if rest:
        assert not listing.get("filters") and not listing.get("sort")
        return
    filters = set(listing.get("filters") or ()) - {"$op"}  # $op: logical groups, not a filter
    assert filters <= set(spec.filters), filters - set(spec.filters)
    assert set(listing.get("sort") or ()) <= spec.sorts


def test_every_resource_is_one_registry_entry_with_its_own_class() -> None:
    collections = {p.split("/")[1] for p in OPS} - {"reports"}
    reports = {p.split("/")[2] for p in OPS if p.startswith("/reports/")}
    models = {n.replace("-", "_") for n in SCHEMA["resources"]} - collections
    assert {s.name for s in REGISTRY.collections} == collections
    assert {s.name for s in REGISTRY.reports} == reports
    assert {s.name for s in REGISTRY if not s.has_endpoint} == models
    assert len(REGISTRY) == len(collections) + len(reports) + len(models) == 147
    classes = [s.class_name for s in REGISTRY]
    assert len(set(classes)) == len(classes) and all(c.isidentifier() for c in classes)
    for name, raw in SCHEMA["resources"].items():
        assert REGISTRY.spec_for_type(raw["type"]) is REGISTRY[name.replace("-", "_")]


def test_endpoint_less_types_have_models_but_no_client_attribute(
    client: pa.Productive
) -> None:
    spec = REGISTRY["agents"]
    assert spec.operations == frozenset() and not spec.actions and spec.class_name == "Agent"
    assert "agents" not in dir(client)
    with pytest.raises(AttributeError):
        _ = client.agents


def test_enums_are_the_schemas() -> None:
    for name, raw in SCHEMA["enums"].items():
        enum = REGISTRY.enums[name]
        assert set(raw["values"]) <= set(enum.values)
        keys = list(enum.values)
        assert enum.kind == ("integer" if keys and all(k.isdigit() for k in keys) else "string")


# ----------------------------------------------------------------------------- schema.json


def _expected(field: dict[str, Any]) -> tuple[set[str], str | None]:
    """The kinds schema.json allows for an attribute field, and its unit."""
    type_, name, unit = field["type"], field["attribute"], field.get("unit")
    if field["typeCategory"] == "enum":
        keys = list(SCHEMA["enums"][type_]["values"])
        kinds = {"integer" if keys and all(k.isdigit() for k in keys) else "string"}
    elif type_ == "number":
        kinds, unit = {
            "money": ({"money"}, "cents"), "minutes": ({"integer"}, "minutes"),
            "percentage": ({"number"}, "percentage"), "hours": ({"number"}, "hours"),
        }.get(unit or "", ({"integer", "number"}, None))
    elif type_ in ("date", "datetime"):
        # A *_at name is a timestamp whatever the format says (created_at is "date").
        kinds = {"datetime" if name.endswith("_at") or type_ == "datetime" else "date"}
        unit = None
    else:
        kinds, unit = {{"hash": "object"}.get(type_, type_)}, None
    return kinds, unit


def _exception(resource: str, attr: str) -> dict[str, Any] | None:
    base = re.sub(r"_(default|normalized)$", "", attr)
    return EXCEPTIONS.get(resource, {}).get(attr) or EXCEPTIONS.get("*", {}).get(base)


def test_every_exception_says_why() -> None:
    for resource, entries in EXCEPTIONS.items():
        for attr, entry in entries.items():
            assert str(entry.get("why", "")).strip(), f"{resource}.{attr}: no reason"


@pytest.mark.parametrize("name", sorted(SCHEMA["resources"]))
def test_attribute_kinds_and_units_are_the_schemas(name: str) -> None:
    spec = REGISTRY[name.replace("-", "_")]
    # Of two fields naming one attribute, the one the API sends (not "serialize": false).
    fields = sorted(SCHEMA["resources"][name]["fields"].values(),
                    key=lambda f: f.get("serialize", True))
    for field in {f.get("attribute") or f["key"]: f for f in fields}.values():
        if "relationship" in field and field["typeCategory"] == "resource":
            rel = spec.relationships[field["relationship"]]
            assert (rel.type, rel.many) == (field["type"], bool(field.get("array"))), rel
        if "attribute" not in field:
            continue
        attr = spec.attributes[field["attribute"]]
        kinds, unit = _expected(field)
        kind = attr.items if field.get("array") else attr.kind
        if field.get("array"):
            assert attr.kind == "array", attr
        if field["typeCategory"] == "enum":
            assert attr.enum == field["type"], attr
        exception = _exception(name, attr.name)
        if exception is not None:
            assert kind == exception.get("kind", kind), attr
            assert attr.unit == exception.get("unit", unit), attr
        else:
            assert kind in kinds and attr.unit == unit, (attr, kinds, unit)
        assert attr.readonly == bool(field.get("readonly")), attr


def test_the_registry_is_generated_from_the_sources() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_registry.py"), "--check"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
