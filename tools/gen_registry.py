#!/usr/bin/env python3
"""Generate ``productive_async/_registry_data.json`` (format version 2: the contract in
``productive_async/_registry.py``) from the API sources in ``spec/`` and the curated overlay in
``tools/overlay/``. Deterministic; ``--check`` writes nothing and exits 1 if the file is stale::

    python tools/gen_registry.py [--spec DIR] [--overlay DIR] [--output PATH] [--check] [-v]

Which source wins (``spec/README.md``): ``operations.json`` alone says what exists (paths,
methods, filters, sorts, query parameters, body fields); ``schema.json`` gives kinds, units,
enums, required/read-only flags, relationships, summaries, class names (``itemName``); the seeds
(001 integrations, 003 contracts, 004 invoices; HTTP examples parsed by ``tests/seeds.py``)
override both where they show something: a response value that does not fit the schema's kind
(it must be listed in ``exceptions.json``), required flags, parameter kinds, which ``*_id``
fields a request sends as attributes, enum labels; their attribute lists only add what the
schema lacks. ``tools/overlay/*.json`` holds the curated rest, each file saying what it holds
and each entry why; ``exceptions.json`` lists every deviation from schema.json's kinds/units.

Rules:

* Each first path segment ``x`` is a collection (path ``x``, type from the schema else ``x``),
  each ``/reports/x`` a report, each schema type without an endpoint a model
  (``"operations": []``; ``-`` in its name becomes ``_``).
* ``GET /x`` list, ``POST /x`` create, ``GET|PATCH|DELETE /x/{id}`` get/update/delete;
  ``PATCH|DELETE /x``, and ``POST /x`` whose operation_id ends ``-bulk``, are bulk operations.
* ``/x/{id}/seg`` is member action ``seg``, ``/x/seg`` collection action ``seg`` (``bulk_seg``
  when its operation_id ends ``-bulk``). Any other clash (two actions of one name, an action
  named like a CRUD operation) stops the generation.
* Kinds from schema.json: string, boolean, hash -> object, datetime; date -> date, datetime
  for a ``*_at`` name; number with unit money -> money (cents), minutes -> integer,
  percentage/hours -> number, else integer if names.json calls the name so, else number;
  enums -> integer or string + ``enum``; ``array`` -> array + ``items``.
* A ``*_id`` body field whose base name is a relationship is written as that relationship,
  unless a seed request sends it as an attribute. A filter or report column without a schema
  enum but named like one (``billing_type``, ``unit_id``) gets that enum.
* Class names: ``itemName`` CamelCased, else the singular of the name (``TimeReport``); a
  duplicate stops the generation. Report groups: the sort keys that are not measures.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
OUTPUT = REPO / "productive_async" / "_registry_data.json"
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "tools"))
from _package import registry_module  # noqa: E402
from seeds import parse_seed  # noqa: E402  (the tested parser of the seeds' HTTP examples)

_registry = registry_module()
singular, camel = _registry.singular, _registry.camel

Json = dict[str, Any]
KINDS = _registry.ATTRIBUTE_KINDS
OPERATORS = ("eq", "not_eq", "contains", "not_contain", "gt", "gt_eq", "lt", "lt_eq")
UNITS = {"money": {"kind": "money", "unit": "cents"},
         "minutes": {"kind": "integer", "unit": "minutes"},
         "percentage": {"kind": "number", "unit": "percentage"},
         "hours": {"kind": "number", "unit": "hours"}}
PRIMITIVES = {"string": "string", "boolean": "boolean", "hash": "object", "datetime": "datetime"}
CRUD = ("list", "get", "create", "update", "delete")
BULLET = "\u2022"
VARIANT = re.compile(r"_(default|normalized)$")  # amount triplets: x, x_default, x_normalized


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def clean(value: Any) -> Any:
    """Overlay data without its documentation (``why`` and ``_``-prefixed keys)."""
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items() if k != "why" and not k.startswith("_")}
    return [clean(v) for v in value] if isinstance(value, list) else value


def first_sentence(text: str | None) -> str:
    text = " ".join((text or "").split())
    return re.split(r"(?<!e\.g)(?<!i\.e)(?<=[a-z0-9)])\. ", text, maxsplit=1)[0].rstrip(".")


def order(value: str) -> tuple[int, str]:
    return (int(value), "") if value.isdigit() else (sys.maxsize, value)


def fits(kind: str, value: Any) -> bool:
    """Whether a response example's JSON value is a value of ``kind``."""
    if value is None or kind == "any" or isinstance(value, bool):
        return value is None or kind in ("any", "boolean")
    return {"string": isinstance(value, str), "integer": isinstance(value, int),
            "money": isinstance(value, int), "number": isinstance(value, int | float),
            "decimal": isinstance(value, str | int | float), "object": isinstance(value, dict),
            "array": isinstance(value, list), "date": isinstance(value, str) and len(value) == 10,
            "datetime": isinstance(value, str) and len(value) > 10}.get(kind, False)


def matcher(rules: Iterable[Json]) -> list[tuple[re.Pattern[str], Json]]:
    return [(re.compile(r["match"]), {k: v for k, v in r.items() if k != "match"}) for r in rules]


class Names:
    """Kinds by attribute name (``overlay/names.json``), for names no source types."""

    def __init__(self, data: Json) -> None:
        self.kinds: Json = data["kinds"]
        self.money, self.suffixes = set(data["money"]), tuple(data["money_suffixes"])
        self.rules = matcher(data["rules"])

    def spec(self, name: str) -> Json:
        base = VARIANT.sub("", name)
        found = self.kinds.get(name, self.kinds.get(base))
        if found:
            return dict(found) if isinstance(found, dict) else {"kind": found}
        if base in self.money or base.startswith("amount_") or base.endswith(self.suffixes):
            return dict(UNITS["money"])
        return next((dict(s) for p, s in self.rules if p.search(name)), {"kind": "any"})

    def shown(self, name: str, value: Any) -> Json | None:
        """The kind a JSON value of ``name`` shows (``None`` for ``null``)."""
        guess = self.spec(name)
        if value is None or (guess["kind"] != "any" and fits(guess["kind"], value)):
            return None if value is None else guess
        if isinstance(value, bool | int | float | dict | list):
            kinds = {bool: "boolean", int: "integer", float: "number", dict: "object"}
            return {"kind": kinds.get(type(value), "array")}
        if re.fullmatch(r"-?\d+\.\d+", value):
            return {"kind": "decimal"}
        return {"kind": "date" if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) else "datetime"
                if re.match(r"\d{4}-\d{2}-\d{2}T", value) else "string"}


class Seed:
    """What the seed documents say about one resource."""

    def __init__(self) -> None:
        self.values: Json = {}  # attribute -> a value of a response example (non-null if any)
        self.listed: dict[str, Json] = {}  # attribute -> kind (and doc) of an attribute list
        self.relationships: dict[str, str] = {}  # name -> target type ("" if not shown)
        self.enums: dict[str, dict[str, str]] = {}  # attribute -> value labels
        self.filter_labels: dict[str, dict[str, str]] = {}
        self.filters: set[str] = set()
        self.sorts: set[str] = set()
        self.no_sorts = False
        self.required: dict[str, bool] = {}  # create body field -> required
        self.required_complete = False  # ... and every field not listed is optional
        self.sent: Json = {}  # attributes of create/update requests
        self.params: dict[str, Json] = {}  # action segment -> parameter -> example value
        self.param_kinds: dict[str, dict[str, str]] = {}  # action segment -> documented kinds


def section(text: str, start: str, end: str) -> str:
    return text.partition(start)[2].partition(end)[0]


def read_examples(text: str, stem: str, type_: str, seed: Seed) -> None:
    for example in parse_seed(text, stem, type_):
        segments = example.path.split("/")
        data = (example.request_body or {}).get("data")
        attributes = data.get("attributes") or {} if isinstance(data, dict) else {}
        if len(segments) == 3:  # an action: its body attributes and query are parameters
            query = {k.removesuffix("[]"): v for k, v in example.query}
            seed.params.setdefault(segments[2], {}).update(attributes, **query)
        else:
            seed.sent.update(attributes)
        body = example.response_body or {}
        objects = body.get("data"), *(body.get("included") or ())
        for obj in [o for d in objects for o in (d if isinstance(d, list) else [d])]:
            if not isinstance(obj, dict) or obj.get("type") != type_:
                continue
            for name, value in obj.get("attributes", {}).items():
                if value is not None or name not in seed.values:
                    seed.values[name] = value
            for name, rel in obj.get("relationships", {}).items():
                linkage = rel.get("data")
                linkage = (linkage or [None])[0] if isinstance(linkage, list) else linkage
                if linkage or name not in seed.relationships:
                    seed.relationships[name] = linkage["type"] if linkage else ""


def read_contracts(text: str, stem: str) -> Seed:
    seed = Seed()
    read_examples(text, stem, "contracts", seed)
    bullet = re.compile(rf"^\s*{BULLET}\s*([a-z_0-9]+) \(([a-z -]+)\)\s*$", re.MULTILINE)
    for name, kind in bullet.findall(section(text, "Supported attributes", "The following")):
        seed.listed[name], seed.required[name] = {"kind": kind}, False
    labels = section(text, "interval_id values are available", "The following attributes")
    seed.enums["interval_id"] = dict(bullet.findall(labels))
    mandatory = section(text, "attributes are mandatory", "In addition")
    seed.required.update(dict.fromkeys(re.findall(rf"{BULLET}\s*([a-z_0-9]+)", mandatory), True))
    seed.required_complete = True
    seed.filters = {n for n, _ in bullet.findall(section(text, "filter params", "Filter oper"))}
    seed.no_sorts = "No sorting is supported" in text
    return seed


def read_invoices(text: str, stem: str) -> Seed:
    seed = Seed()
    read_examples(text, stem, "invoices", seed)
    entry = re.compile(r"([a-z_0-9]+)(?: \((.*)\))?")
    for line in section(text, "Supported filter params", "Supported sort params").splitlines():
        if match := entry.fullmatch(line.strip()):
            seed.filters.add(match[1])
            if labels := re.findall(r"(\d+): ([^,]+)", match[2] or ""):
                seed.filter_labels[match[1]] = {k: v.strip() for k, v in labels}
    sorts = section(text, "Supported sort params", "Filter operations").splitlines()
    seed.sorts = {m[1] for line in sorts if (m := entry.fullmatch(line.strip()))}
    # Parameter lists after an endpoint heading: "- name\n<type>(required|optional) ...".
    headings = list(re.finditer(r"(?:GET|POST|PATCH|DELETE)/api/v2/(\S+)$", text, re.MULTILINE))
    for heading, after in zip(headings, [*headings[1:], None], strict=True):
        block = text[heading.end(): after.start() if after else None]
        params = re.findall(r"^- (\w+)\n(\w+)\((required|optional)\)", block, re.MULTILINE)
        segments = heading[1].split("/")
        if segments == ["invoices"]:
            seed.required.update({name: flag == "required" for name, _t, flag in params})
        elif len(segments) == 3:
            seed.param_kinds[segments[2]] = {n: t for n, t, _f in params if n != "id"}
    return seed


def read_integrations(text: str, types: Mapping[str, str]) -> Seed:
    """Seed 001: ``name type`` / usage / description blocks. It types many scalar settings as
    ``object``: "Whether ..." ones are booleans, "List of ..." arrays, mappings and options
    objects, the rest (account codes, ids, URLs) is left ``any``."""
    seed = Seed()
    lines = [line.strip() for line in text.splitlines()]
    for index, line in enumerate(lines[:-1]):
        match, usage = re.fullmatch(r"([a-z_0-9]+) ([a-z_]+)", line), lines[index + 1]
        if not match or not usage.startswith(("Response", "Parameter")):
            continue
        name, type_name = match[1], match[2]
        description = next((t for t in lines[index + 2:] if t), "")
        seed.filters |= {name} if "`filter`" in usage else set()
        seed.sorts |= {name} if "`sort`" in usage else set()
        if name == "id" or ("Response" not in usage and "`sort`" not in usage):
            continue  # filter-only parameters (deal_id, project_id, ...)
        if type_name not in KINDS:
            seed.relationships[name] = types.get(type_name, type_name + "s")
            continue
        kind = "datetime" if name.endswith("_at") else type_name
        if kind == "object" and not name.endswith(("_mapping", "_options")) and not (
                description.startswith(("Mapping", "A mapping", "Fixed value", "Configuration"))):
            kind = "boolean" if description.startswith(("Whether", "When true")) else (
                "array" if description.startswith("List of") else "any")
        seed.listed[name] = {"kind": kind, "doc": first_sentence(description)}
        if "Enum" in usage:
            block = "\n".join(lines[index + 2:]).partition("Enum Values")[2].split("\n\n\n")[0]
            pairs = re.findall(rf"{BULLET}\s*(\d+)\n+([^\n{BULLET}]+)", block)
            seed.enums[name] = {value: label.strip() for value, label in pairs}
    return seed


class Builder:
    def __init__(self, spec_dir: Path, overlay_dir: Path, warnings: list[str]) -> None:
        self.ops, schema = load(spec_dir / "operations.json"), load(spec_dir / "schema.json")
        self.schema: Json = schema["resources"]
        self.overlay = {p.stem: clean(load(p)) for p in sorted(overlay_dir.glob("*.json"))}
        self.names = Names(self.overlay["names"])
        self.exceptions: Json = self.overlay["exceptions"]["attributes"]
        self.warnings, self.errors = warnings, list[str]()
        self.collections = sorted({p.split("/")[1] for p in self.ops} - {"reports"})
        self.reports = sorted(p.split("/")[2] for p in self.ops if p.startswith("/reports/"))
        self.models = sorted(set(self.schema) - set(self.collections))
        self.types = {n: self.schema.get(n, {}).get("type", n) for n in self.collections}
        self.types.update({n.replace("-", "_"): self.schema[n]["type"] for n in self.models})
        self.registered = set(self.types.values())
        self.by_singular = {singular(t): t for t in sorted(self.registered)}
        seeds = {p.name[:3]: p for p in sorted((spec_dir / "seeds").glob("*.txt"))}
        text = {n: seeds[n].read_text(encoding="utf-8") for n in ("001", "003", "004")}
        self.seeds = {"integrations": read_integrations(text["001"], self.by_singular),
                      "contracts": read_contracts(text["003"], seeds["003"].stem),
                      "invoices": read_invoices(text["004"], seeds["004"].stem)}
        self.enums = self.build_enums(schema["enums"])

    def fields(self, name: str) -> list[Json]:
        """Of two fields naming one attribute, the one the API sends comes last and wins."""
        fields = self.schema.get(name, {}).get("fields", {}).values()
        return sorted(fields, key=lambda f: f.get("serialize", True))

    def build_enums(self, raw_enums: Json) -> Json:
        self.enums = {name: {"doc": first_sentence(raw.get("description")), "values": {
            k: str(v.get("label", k)) for k, v in raw["values"].items()}}
            for name, raw in raw_enums.items()}
        for res, seed in self.seeds.items():  # seed labels override the schema's
            for key, labels in {**seed.filter_labels, **seed.enums}.items():
                if enum := self.enum_of(res, key):
                    self.enums[enum]["values"].update(labels)
                elif key in seed.enums:
                    self.errors.append(f"seed enum {res}.{key} has no schema enum")
        for enum in self.enums.values():
            values = enum["values"]
            enum["kind"] = "integer" if values and all(k.isdigit() for k in values) else "string"
            enum["values"] = {k: values[k] for k in sorted(values, key=order)}
        return self.enums

    def enum_of(self, name: str, key: str) -> str | None:
        """The enum of attribute or filter ``key`` of ``name``, or the enum named like it."""
        for f in self.fields(name):
            if key in (f.get("attribute"), f.get("filter")) and f["typeCategory"] == "enum":
                return str(f["type"])
        return next((n for n in (key, key.removesuffix("_id")) if n in self.enums), None)

    def schema_spec(self, field: Json) -> Json:
        name, type_ = field["attribute"], field["type"]
        if field["typeCategory"] == "enum":
            spec = {"kind": self.enums[type_]["kind"], "enum": type_}
        elif type_ == "number":
            guess = "integer" if self.names.spec(name)["kind"] == "integer" else "number"
            spec = dict(UNITS.get(field.get("unit", ""), {"kind": guess}))
        elif type_ == "date":
            spec = {"kind": "datetime" if name.endswith("_at") else "date"}
        else:
            spec = {"kind": PRIMITIVES[type_]}
        return {**spec, "kind": "array", "items": spec["kind"]} if field.get("array") else spec

    def attributes(self, name: str, seed: Seed) -> Json:
        attributes = {f["attribute"]: {**self.schema_spec(f), "schema": True,
                                       "readonly": bool(f.get("readonly")),
                                       "doc": first_sentence(f.get("description"))}
                      for f in self.fields(name) if "attribute" in f}
        for attr, value in seed.values.items():
            spec, shown = attributes.get(attr), self.names.shown(attr, value)
            if spec is None:
                attributes[attr] = shown or seed.listed.get(attr) or self.names.spec(attr)
            elif shown and not fits(spec["kind"], value):
                attributes[attr] = {**spec, **shown, "seed": True}
        for attr, spec in seed.listed.items():
            entry = attributes.setdefault(attr, dict(spec))
            entry["doc"] = entry.get("doc") or spec.get("doc")
        for key, value in self.overlay["attributes"].get(name, {}).items():
            listed = {a: dict(UNITS.get(key, {"kind": key})) for a in value} if isinstance(
                value, list) else {key: {"kind": value} if isinstance(value, str) else value}
            for attr, spec in listed.items():
                if attributes.get(attr, {}).get("schema"):
                    self.errors.append(f"attributes.json: schema.json types {name}.{attr} "
                                       "(a deviation goes to exceptions.json)")
                attributes[attr] = dict(spec)
        return attributes

    def apply_exceptions(self, name: str, attributes: Json) -> None:
        """Apply exceptions.json; any other deviation from schema.json stops the generation."""
        specific, common = self.exceptions.get(name, {}), self.exceptions.get("*", {})
        for attr, spec in attributes.items():
            exception = specific.get(attr) or common.get(VARIANT.sub("", attr))
            if attr in specific and all(spec.get(k) == v for k, v in exception.items()):
                self.errors.append(f"exceptions.json: {name}.{attr} deviates from nothing")
            elif exception:
                spec.update(exception, seed=False)
            elif spec.get("seed"):
                self.errors.append(f"a seed shows {name}.{attr} as {spec['kind']}, schema.json "
                                   "does not: list it in exceptions.json with the reason")
        for attr in sorted(set(specific) - set(attributes)):
            self.errors.append(f"exceptions.json: {name} has no attribute {attr}")

    def relationships(self, name: str, seed: Seed) -> Json:
        rels = {f["relationship"]: {"type": f["type"], "many": bool(f.get("array")),
                                    "doc": first_sentence(f.get("description"))}
                for f in self.fields(name)
                if "relationship" in f and f["typeCategory"] == "resource"}
        for rel, type_ in seed.relationships.items():
            if type_ or rel not in rels:
                rels[rel] = {**rels.get(rel, {}), "type": type_}
        for rel, spec in self.overlay["relationships"].get(name, {}).items():
            rels[rel] = {**rels.get(rel, {}), **({"type": spec} if isinstance(spec, str) else spec)}
        return rels

    def writes(self, name: str, attributes: Json, rels: Json, seed: Seed) -> tuple[Json, list[str]]:
        col, member = self.ops.get(f"/{name}", {}), self.ops.get(f"/{name}/{{id}}", {})
        override = self.overlay["resources"].get(name, {})

        def write_names(fields: Iterable[str]) -> set[str]:
            return {f[:-3] if f.endswith("_id") and f[:-3] in rels and f not in seed.sent else f
                    for f in fields if f != "data"}

        required = {} if seed.required_complete else {
            str(f.get("attribute") or f.get("relationship")): True for f in self.fields(name)
            if f.get("required") and not f.get("readonly")}
        required.update({next(iter(write_names([f]))): v for f, v in seed.required.items()})
        create: Json = {}
        if "POST" in col:
            names = write_names([*(col["POST"].get("body_fields") or ()), *seed.required])
            names |= set(override.get("create", ()))
            create = {n: required.get(n, False) for n in sorted(names)} | override.get(
                "create", {})
            for key in sorted(set(required) - names):
                self.warnings.append(f"{name}: schema.json requires {key}, no create body field")
        update = set(override.get("update", ()))
        for op in (member.get("PATCH"), col.get("PATCH")):
            update |= write_names((op or {}).get("body_fields") or ())
        for write in sorted((set(create) | update) - set(rels) - set(attributes)):
            attributes[write] = self.names.shown(write, seed.sent.get(write)) or (
                self.names.spec(write))
        return create, sorted(update)

    def filters(self, path: str, name: str, attributes: Json, seed: Seed) -> Json:
        raw_filters = self.ops.get(path, {}).get("GET", {}).get("filters") or {}
        filters: Json = {}
        for fname in sorted((set(raw_filters) | seed.filters) - {"$op"}):
            raw = raw_filters.get(fname, {"operators": ["eq", "not_eq"]})
            kind = filter_kind(raw, attributes.get(fname) or self.names.spec(fname))
            ops = {{"gte": "gt_eq", "lte": "lt_eq"}.get(op, op) for op in raw.get("operators", ())}
            ordered = kind in ("integer", "number", "date", "datetime")
            ops |= {"gt", "gt_eq", "lt", "lt_eq"} if ordered else set()
            spec: Json = {"type": kind, "operators": [o for o in OPERATORS if o in ops]}
            enum = attributes.get(fname, {}).get("enum") or self.enum_of(name, fname)
            labels = {**(self.enums[enum]["values"] if enum else {}),
                      **seed.filter_labels.get(fname, {})}
            values = {str(v) for v in raw.get("enum", ())} or set(labels)
            values |= set(seed.filter_labels.get(fname, {}))
            if values:
                spec["enum"] = {v: labels.get(v, v) for v in sorted(values, key=order)}
            filters[fname] = spec
        return filters

    def actions(self, name: str, attributes: Json, seed: Seed) -> Json:
        actions: Json = {}
        overrides = self.overlay["actions"].get(name, {})
        custom = self.schema.get(name, {}).get("customActions", {})
        for path in sorted(self.ops):
            segments = path.split("/")[1:]
            if segments[0] != name or segments[1:] in ([], ["{id}"]):
                continue
            scope, segment = "member" if segments[1] == "{id}" else "collection", segments[-1]
            for method, op in sorted(self.ops[path].items()):
                bulk = scope == "collection" and op["operation_id"].endswith("-bulk")
                action_name = f"bulk_{segment}" if bulk else segment
                if action_name in actions or action_name in CRUD:
                    self.errors.append(f"{name}.{action_name}: action name clash")
                override = overrides.get(action_name, {})
                params = {p: self.param_kind(p, seed, segment, attributes) for p in [
                    *(op.get("body_fields") or ()), *seed.params.get(segment, {}),
                    *seed.param_kinds.get(segment, {})]}
                actions[action_name] = {
                    "method": method, "scope": scope, "segment": segment,
                    "payload": "bulk" if bulk else "query" if method == "GET" else "attributes",
                    "result": "records" if bulk else "none" if method == "DELETE" else "record",
                    "idempotent": method == "GET",
                    "summary": first_sentence(custom.get(segment, {}).get("description")),
                    **override, "params": dict(sorted({**params, **override.get("params",
                                                                                {})}.items()))}
        for unknown in sorted(set(overrides) - set(actions)):
            self.errors.append(f"actions.json: {name} has no action {unknown}")
        return actions

    def param_kind(self, param: str, seed: Seed, segment: str, attributes: Json) -> str:
        documented = seed.param_kinds.get(segment, {}).get(param)
        shown = self.names.shown(param, seed.params.get(segment, {}).get(param))
        spec = attributes.get(param) or shown or self.names.spec(param)
        return str(documented or spec["kind"])

    def resource(self, key: str) -> Json:
        """A collection, or a model (a schema type without an endpoint: ``operations: []``)."""
        name, seed = key.replace("-", "_"), self.seeds.get(key, Seed())
        col, member = self.ops.get(f"/{name}", {}), self.ops.get(f"/{name}/{{id}}", {})
        override = self.overlay["resources"].get(name, {})
        attributes, rels = self.attributes(key, seed), self.relationships(key, seed)
        create, update = self.writes(name, attributes, rels, seed)
        self.apply_exceptions(key, attributes)
        operations = {"list": "GET" in col, "create": "POST" in col, "get": "GET" in member,
                      "update": "PATCH" in member, "delete": "DELETE" in member}
        bulk = {"create": col.get("POST", {}).get("operation_id", "").endswith("-bulk"),
                "update": "PATCH" in col, "delete": "DELETE" in col,
                **dict.fromkeys(override.get("bulk", ()), True)}
        sorts = set(col.get("GET", {}).get("sort") or ()) | seed.sorts
        if "GET" in col and not seed.no_sorts:
            sorts |= {f["sort"] for f in self.fields(name) if "sort" in f}
        return {
            "path": name, "type": self.types[name],
            "class": override.get("class") or camel(self.schema.get(key, {}).get("itemName")
                                                    or singular(name)),
            "summary": first_sentence(self.schema.get(key, {}).get("description")),
            "operations": [op for op in CRUD if operations[op]],
            "bulk": [op for op in ("create", "update", "delete") if bulk[op]],
            "attributes": attributes, "relationships": rels, "create": create, "update": update,
            "filters": self.filters(f"/{name}", name, attributes, seed), "sorts": sorted(sorts),
            "query": {q: "string" for q in col.get("GET", {}).get("query") or ()},
            "actions": self.actions(name, attributes, seed),
            "operation_rate_classes": override.get("operation_rate_classes"),
        }

    def report(self, name: str) -> Json:
        listing, conf = self.ops[f"/reports/{name}"]["GET"], self.overlay["reports"]
        kinds, attributes, rels, groups = matcher(conf["kinds"]), {}, {}, []
        for key in listing.get("sort") or ():
            if not re.search(conf["measures"], key):
                groups.append(key)
                target = conf["dimension_types"].get(key) or self.by_singular.get(key)
                if target:
                    rels[key] = {"type": target}
                    continue
            enum, matched = self.enum_of("", key), [dict(s) for p, s in kinds if p.search(key)]
            by_enum = {"kind": self.enums[enum]["kind"], "enum": enum} if enum else None
            attributes[key] = (matched or [by_enum or self.names.spec(key)])[0]
        return {
            "path": f"reports/{name}", "type": name, "class": camel(singular(name)),
            "operations": ["list"], "report": True, "cursor": False,
            "rate_class": conf["rate_class"], "attributes": attributes, "relationships": rels,
            "filters": self.filters(f"/reports/{name}", "", attributes, Seed()),
            "sorts": sorted(listing.get("sort") or ()), "groups": groups,
            "query": {q: "string" for q in listing.get("query") or ()},
        }

    def build(self) -> Json:
        resources = {n.replace("-", "_"): self.resource(n) for n in self.collections + self.models}
        reports = {n: self.report(n) for n in self.reports}
        self.errors += [f"report {n} clashes with a collection" for n in reports if n in resources]
        resources |= reports
        classes = Counter(spec["class"] for spec in resources.values())
        self.errors += [f"class {c}: not unique or not a name (resources.json 'class')"
                        for c, n in sorted(classes.items()) if n > 1 or not c.isidentifier()]
        for name, spec in sorted(resources.items()):
            for rel, target in spec["relationships"].items():
                if target["type"] not in self.registered:
                    self.errors.append(f"{name}.{rel}: target {target['type']!r} is not a "
                                       "registered type (relationships.json, reports.json)")
            for attr, kind in spec["attributes"].items():
                if kind["kind"] not in KINDS:
                    self.errors.append(f"{name}.{attr}: unknown kind {kind['kind']!r}")
                elif kind["kind"] == "any" and "report" not in spec:
                    self.warnings.append(f"{name}.{attr}: kind unknown, registered as 'any'")
        if self.errors:
            raise SystemExit("gen_registry: " + "\ngen_registry: ".join(self.errors))
        return {"version": 2, "enums": self.enums,
                "resources": {n: prune(s) for n, s in sorted(resources.items())}}


def filter_kind(raw: Mapping[str, Any], attribute: Mapping[str, Any]) -> str:
    """operations.json's filter type; an untyped filter takes its attribute's kind."""
    type_, kind = raw.get("type"), str(attribute.get("kind", "any"))
    if type_ == "string":
        return {"date": "date", "date-time": "datetime"}.get(raw.get("format", ""), "string")
    if type_ in ("integer", "number", "boolean", "object"):
        return str(type_)
    if type_ is not None or kind in ("array", "object"):
        return "any"
    return {"money": "integer", "decimal": "number"}.get(kind, kind)


def tidy(spec: Json) -> Json:
    """Without provenance marks and empty or false values (the loader's defaults)."""
    return {k: v for k, v in spec.items()
            if k not in ("schema", "seed") and v not in ("", None, False, {}, [])}


def prune(spec: Json) -> Json:
    """A resource as stored (``operations`` and a report's ``cursor: false`` are kept)."""
    out: Json = {**tidy(spec), **{k: spec[k] for k in ("operations", "cursor") if k in spec}}
    for key in {"attributes", "relationships", "actions"} & set(out):
        out[key] = {n: tidy(v) for n, v in sorted(out[key].items())}
    return out


def render(registry: Json) -> str:
    return json.dumps(registry, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--spec", type=Path, default=REPO / "spec")
    parser.add_argument("--overlay", type=Path, default=REPO / "tools" / "overlay")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--check", action="store_true", help="exit 1 if the output is stale")
    parser.add_argument("-v", "--verbose", action="store_true", help="print the warnings")
    args = parser.parse_args(None if argv is None else list(argv))
    warnings: list[str] = []
    text = render(Builder(args.spec, args.overlay, warnings).build())
    for warning in warnings if args.verbose else ():
        print(f"warning: {warning}", file=sys.stderr)
    output: Path = args.output
    if args.check:
        stale = not output.exists() or output.read_text(encoding="utf-8") != text
        if stale:
            print(f"{output} is out of date: run tools/gen_registry.py", file=sys.stderr)
        return int(stale)
    output.write_text(text, encoding="utf-8")
    print(f"wrote {output} ({text.count(chr(10))} lines, {len(warnings)} warnings)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
