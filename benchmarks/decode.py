"""Decoding benchmark: JSON:API pages of 200 invoices into typed records, per second.

    python benchmarks/decode.py [--pages 200]

The page is seed 004's invoice (every attribute and relationship of a real answer) repeated 200
times with distinct ids, with ``included`` companies for half of them. Reported: records decoded
per second (JSON parsing with orjson, then records with typed attributes and resolved
relationships), and the same for JSON parsing alone, so the SDK's own share is visible. The
API's own limit is 100 pages of 200 records per 10 s: 2,000 records/s.
"""

from __future__ import annotations

import argparse
import copy
import time
from pathlib import Path
from typing import Any

import orjson

import productive_async as pa
from productive_async._jsonapi import parse_document
from productive_async._models import ModelFactory

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=200)
    args = parser.parse_args()
    body = page()
    models = ModelFactory(pa.default_registry())
    parse_document(orjson.loads(body), models)  # warm up: record classes are made once

    started = time.perf_counter()
    for _ in range(args.pages):
        orjson.loads(body)
    json_only = time.perf_counter() - started

    started = time.perf_counter()
    for _ in range(args.pages):
        document = parse_document(orjson.loads(body), models)
    full = time.perf_counter() - started
    assert isinstance(document.data, list) and len(document.data) == 200

    records = args.pages * 200
    print("| step | records/s | µs per record |")
    print("|---|---|---|")
    print(f"| orjson.loads only | {records / json_only:,.0f} | {1e6 * json_only / records:.1f} |")
    print(f"| typed records (SDK) | {records / full:,.0f} | {1e6 * full / records:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
