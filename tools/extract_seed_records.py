"""Extract the resource objects of the seed responses into the sandbox's store format.

Reads the request/response examples of the seed documents (``003_*`` contracts and ``004_*``
invoices in ``spec/seeds``, parsed by ``tests/seeds.py``) and writes every distinct
resource object found in a response body (``data`` and ``included``; unique by ``(type, id)``,
the last occurrence wins) to ``productive_async/sandbox/_seed_records.json``.

Store format of one record::

    {"id": "27", "type": "invoices", "attributes": {...as in the response...},
     "relationships": {"organization": {"type": "organizations", "id": "660"},
                       "company": None, "invoice_attributions": []}}

A relationship with linkage data becomes a resource identifier (to-one), ``None`` or a list of
identifiers (to-many). A stub without linkage (``{"meta": {"included": false}}``) carries no id,
so it becomes ``None`` or ``[]``; whether it is to-many is taken from the registry
(``productive_async/_registry_data.json``) when it lists the relationship, else guessed from the
name (plural). Non-resource items (e.g. the invoice preview's line items) are skipped.

Output is deterministic: sorted by type then integer id, ``json.dumps(indent=1,
sort_keys=True)``. Usage::

    .venv/bin/python tools/extract_seed_records.py [--check]

``--check`` exits with status 1 if the file on disk is not up to date, without writing.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REGISTRY = ROOT / "productive_async" / "_registry_data.json"
OUTPUT = ROOT / "productive_async" / "sandbox" / "_seed_records.json"

sys.path.insert(0, str(ROOT / "tests"))
from seeds import load_examples  # noqa: E402

Record = dict[str, Any]


def _to_many_names() -> dict[str, set[str]]:
    """``{type: {to-many relationship names}}`` from the registry ({} if it does not exist)."""
    if not REGISTRY.exists():
        return {}
    data = json.loads(REGISTRY.read_text(encoding="utf-8"))
    result: dict[str, set[str]] = {}
    for name, spec in data["resources"].items():
        rels = spec.get("relationships", {})
        result.setdefault(spec.get("type", name), set()).update(
            rel_name for rel_name, rel in rels.items() if rel.get("many")
        )
    return result


def _looks_plural(name: str) -> bool:
    return name.endswith(("s", "people"))


def _identifier(data: dict[str, Any]) -> dict[str, str]:
    return {"type": str(data["type"]), "id": str(data["id"])}


def _relationship(name: str, value: dict[str, Any], many: bool | None) -> Any:
    if "data" in value:
        data = value["data"]
        if data is None:
            return None
        if isinstance(data, list):
            return [_identifier(item) for item in data]
        return _identifier(data)
    return [] if (many if many is not None else _looks_plural(name)) else None


def to_store(obj: dict[str, Any], to_many: dict[str, set[str]]) -> Record:
    """Convert one JSON:API resource object to the store format."""
    type_ = str(obj["type"])
    known = to_many.get(type_)
    relationships = {
        name: _relationship(name, value, None if known is None else name in known)
        for name, value in (obj.get("relationships") or {}).items()
    }
    return {
        "id": str(obj["id"]),
        "type": type_,
        "attributes": dict(obj.get("attributes") or {}),
        "relationships": relationships,
    }


def _resource_objects(body: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not body:
        return []
    data = body.get("data")
    objects = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
    objects = objects + list(body.get("included") or [])
    return [
        obj
        for obj in objects
        if isinstance(obj, dict) and "id" in obj and "type" in obj and "attributes" in obj
    ]


def extract() -> list[Record]:
    """Every distinct resource object of the seed responses, in store format, sorted."""
    to_many = _to_many_names()
    records: dict[tuple[str, str], Record] = {}
    for example in load_examples():
        for obj in _resource_objects(example.response_body):
            record = to_store(obj, to_many)
            records[(record["type"], record["id"])] = record
    return sorted(records.values(), key=lambda r: (r["type"], int(r["id"])))


def render(records: list[Record]) -> str:
    return json.dumps(records, indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="only check the file is current")
    args = parser.parse_args(argv)
    text = render(extract())
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else None
        if current != text:
            print(f"{OUTPUT.relative_to(ROOT)} is out of date", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    records = json.loads(text)
    print(f"wrote {len(records)} records to {OUTPUT.relative_to(ROOT)} ({len(text)} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
