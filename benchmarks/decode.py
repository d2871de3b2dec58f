"""Decoding benchmark: JSON:API pages of 200 invoices into typed records, per second.

    python benchmarks/decode.py [--pages 200]

The page is seed 004's invoice (every attribute and relationship of a real answer) repeated 200
times with distinct ids, with ``included`` companies for half of them. Reported, per record: JSON
parsing alone (orjson); parsing plus building the records (lazy: nothing converted yet); and
parsing, building and reading every attribute and the company relationship once (each field
converted and cached: the most a consumer can make the SDK do). The
API's own limit is 100 pages of 200 records per 10 s: 2,000 records/s.
"""

from __future__ import annotations

import argparse
import copy
import time
from pathlib import Path
from typing import Any

import attrs
import orjson

import productive_async as pa
from productive_async._jsonapi import parse_document

SEED = Path(__file__).resolve().parents[1] / "productive_async" / "sandbox" / "_seed_records.json"


def page(size: int = 200) -> bytes:
    records = orjson.loads(SEED.read_bytes())
    invoice = next(r for r in records if r["type"] == "invoices" and r["id"] == "27")
    data, included = [], []
    for i in range(size):
        obj = copy.deepcopy(invoice)
        obj["id"] = str(1000 + i)
        rels: dict[str, Any] = {name: {"meta": {"included": False}}
                                for name in obj["relationships"]}
        rels["organization"] = {"data": {"type": "organizations", "id": "1"}}
        if i % 2 == 0:
            company = {"type": "companies", "id": str(i)}
            rels["company"] = {"data": company}
            included.append({**company, "attributes": {"name": f"Company {i}"},
                             "relationships": {}})
        obj["relationships"] = rels
        data.append(obj)
    return orjson.dumps({"data": data, "included": included,
                         "meta": {"total_count": size, "total_pages": 1}})


def read_everything(records: list[pa.Record]) -> None:
    """Read every declared field of every record once (converting and caching each)."""
    for record in records:
        for field in attrs.fields(type(record)):
            getattr(record, field.name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=200)
    args = parser.parse_args()
    body = page()
    rows: list[tuple[str, float]] = []

    started = time.perf_counter()
    for _ in range(args.pages):
        orjson.loads(body)
    rows.append(("orjson.loads only", time.perf_counter() - started))

    started = time.perf_counter()
    for _ in range(args.pages):
        document = parse_document(orjson.loads(body))
    rows.append(("+ records built (SDK, lazy)", time.perf_counter() - started))
    assert isinstance(document.data, list) and len(document.data) == 200

    started = time.perf_counter()
    for _ in range(args.pages):
        data = parse_document(orjson.loads(body)).data
        assert isinstance(data, list)
        read_everything(data)
    rows.append(("+ every field read once (SDK)", time.perf_counter() - started))
    first = data[0]
    assert isinstance(first, pa.models.Invoice) and first.company is not None

    records = args.pages * 200
    print("| step | records/s | µs per record |")
    print("|---|---|---|")
    for label, seconds in rows:
        print(f"| {label} | {records / seconds:,.0f} | {1e6 * seconds / records:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
