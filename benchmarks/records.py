"""Records benchmark: the SDK's list() against bare aiohttp + orjson, over loopback.

    python benchmarks/records.py [--rounds 7] [--pages 40] [--prefetch 16]

A child process (its own event loop, as a real server has) serves ``--pages`` pages of 200
invoices at ``GET /api/v2/invoices?page[number]=N&page[size]=200`` from bodies encoded once at
start: JSON:API list documents (``meta.total_pages``, ``meta.total_count``, ``links``) whose
invoices have the shape of seed 004's ``GET invoices/27`` answer (70 attributes, 14
relationships) with id, number, amount and invoiced_on varied per record.

Two consumers pull every page and read the same four fields of every invoice (``id``,
``number``, ``amount``, ``invoiced_on`` as a :class:`datetime.date`):

- bare: one :class:`aiohttp.ClientSession`, page 1 first, then up to ``--prefetch`` pages in
  flight, consumed in page order; ``orjson.loads``, then the four fields from the dicts;
- SDK: ``client.invoices.list(prefetch=...)`` without rate limits (the same page-1-first,
  ``prefetch``-in-flight schedule), reading ``inv.id``, ``inv.number``, ``inv.amount``,
  ``inv.invoiced_on``.

They alternate for ``--rounds`` rounds (each once per round, which goes first alternating),
after one unmeasured warm-up round. Reported: median records/s and µs per record of each (from
session creation to the last record; "of which gc": the cyclic garbage collector's share,
large for both, as every page parses into thousands of containers while up to ``--prefetch``
pages are alive), and the SDK/bare ratio, both of the medians and the median of each round's
own ratio (machines are shared: ratios of neighbouring runs are what
to compare, not absolute figures). Both consumers must see every record with the same
checksum of the four fields, and the SDK must hand out ``invoiced_on`` as a date.
Target (the issue): the SDK at 0.8x the bare throughput or better.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import datetime as dt
import gc
import importlib
import multiprocessing
import statistics
import sys
import time
from collections.abc import Callable, Coroutine, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from aiohttp import web

import productive_async as pa

ROOT = Path(__file__).resolve().parents[1]
PAGE_SIZE = 200
JSONAPI = "application/vnd.api+json"
FIRST_DAY = dt.date(2024, 1, 1)


# --------------------------------------------------------------------------- the data


def seed_invoice() -> dict[str, Any]:
    """The resource object of seed 004's ``GET invoices/27`` answer."""
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        seeds = importlib.import_module("seeds")
    finally:
        sys.path.remove(str(ROOT / "tests"))
    example = next(e for e in seeds.load_examples()
                   if e.method == "GET" and e.path == "invoices/27")
    assert example.response_body is not None
    data: dict[str, Any] = example.response_body["data"]
    return data


def invoice(template: dict[str, Any], n: int) -> dict[str, Any]:
    """Invoice number ``n`` (1-based): the seed's shape with its own id, number, amount, date."""
    obj = copy.deepcopy(template)
    obj["id"] = str(n)
    attributes = obj["attributes"]
    attributes["number"] = f"{2024 + n // 5000}/{n:05d}"
    attributes["amount"] = (n * 7919) % 10_000_000
    attributes["invoiced_on"] = (FIRST_DAY + dt.timedelta(days=n % 731)).isoformat()
    return obj


def bodies(pages: int, size: int, base: str) -> list[bytes]:
    """Every page's JSON:API document, encoded once."""
    template = seed_invoice()
    out = []
    for number in range(1, pages + 1):
        first = (number - 1) * size + 1
        link = f"{base}invoices?page%5Bnumber%5D={{}}&page%5Bsize%5D={size}"
        links = {"first": link.format(1), "last": link.format(pages)}
        if number < pages:
            links["next"] = link.format(number + 1)
        if number > 1:
            links["prev"] = link.format(number - 1)
        out.append(orjson.dumps({
            "data": [invoice(template, n) for n in range(first, first + size)],
            "meta": {"current_page": number, "total_pages": pages,
                     "total_count": pages * size, "page_size": size, "max_page_size": 200},
            "links": links,
        }))
    return out


# --------------------------------------------------------------------------- the server


COMPANIES = 50


def _company(n: int) -> dict[str, Any]:
    return {
        "id": str(n), "type": "companies",
        "attributes": {
            "name": f"Company {n}", "billing_name": f"Company {n} Ltd", "vat": f"HR{n:011d}",
            "default_currency": "EUR", "created_at": "2024-01-01T10:00:00.000+01:00",
            "due_days": 30, "tag_list": ["client"], "company_code": f"C{n}",
            "domain": f"company{n}.example", "archived_at": None,
        },
        "relationships": {"organization": {"data": {"type": "organizations", "id": "660"}}},
    }


def with_companies(body: bytes) -> bytes:
    """A page with each invoice's company (one of 50) related and in ``included``."""
    document = orjson.loads(body)
    seen: dict[str, dict[str, Any]] = {}
    for invoice in document["data"]:
        number = int(invoice["id"]) % COMPANIES + 1
        invoice["relationships"]["company"] = {"data": {"type": "companies", "id": str(number)}}
        seen.setdefault(str(number), _company(number))
    document["included"] = list(seen.values())
    return orjson.dumps(document)


def _serve(pages: int, ready: Connection, include_companies: bool = False) -> None:
    """The server, in a child process: bodies encoded at start, sent as they are; with
    ``include_companies``, ``include=company`` gets pages with the companies included."""

    async def serve() -> None:
        encoded: list[bytes] = []
        included: list[bytes] = []

        async def invoices(request: web.Request) -> web.Response:
            try:
                number = int(request.query.get("page[number]", "1"))
                size = int(request.query.get("page[size]", "30"))
            except ValueError:
                raise web.HTTPBadRequest() from None
            if size != PAGE_SIZE or not 1 <= number <= len(encoded):
                raise web.HTTPBadRequest(text=f"page {number} of size {size}: not served")
            bodies = included if request.query.get("include") == "company" else encoded
            if not bodies:
                raise web.HTTPBadRequest(text="include=company: not served")
            return web.Response(body=bodies[number - 1], content_type=JSONAPI)

        app = web.Application()
        app.router.add_get("/api/v2/invoices", invoices)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        base = f"http://{host}:{port}/api/v2/"
        encoded.extend(bodies(pages, PAGE_SIZE, base))
        if include_companies:
            included.extend(with_companies(body) for body in encoded)
        ready.send(base)
        await asyncio.Event().wait()  # until the parent terminates the process

    asyncio.run(serve())


# --------------------------------------------------------------------------- the consumers

#: (records seen, checksum of the four fields, seconds from session creation to last record)
Result = tuple[int, int, float]
_MASK = (1 << 64) - 1


async def bare_pull(session: aiohttp.ClientSession, url: str, consume: Callable[[Any], None],
                    *, prefetch: int, pages: int | None = None,
                    params: dict[str, str] | None = None) -> None:
    """The bare consumers' schedule (what a hand-written client does): page 1, then up to
    ``prefetch`` pages in flight, each parsed with ``orjson.loads`` as it arrives and handed to
    ``consume`` in page order. ``pages``: how many (default: page 1's ``meta.total_pages``)."""

    async def fetch(number: int) -> Any:
        query = {**(params or {}), "page[number]": str(number), "page[size]": str(PAGE_SIZE)}
        async with session.get(url, params=query) as response:
            response.raise_for_status()
            return orjson.loads(await response.read())

    first = await fetch(1)
    consume(first)
    total = pages if pages is not None else int(first["meta"]["total_pages"])
    pending: dict[int, asyncio.Task[Any]] = {}
    following = 2
    for number in range(2, total + 1):
        while following <= total and len(pending) < prefetch:
            pending[following] = asyncio.create_task(fetch(following))
            following += 1
        consume(await pending.pop(number))


async def bare(base: str, prefetch: int) -> Result:
    """aiohttp + orjson: page 1, then ``prefetch`` pages in flight, read in page order."""
    started = time.perf_counter()
    url = f"{base}invoices"
    count = checksum = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as session:

        def consume(document: Any) -> None:
            nonlocal count, checksum
            for resource in document["data"]:
                attributes = resource["attributes"]
                invoiced_on = dt.date.fromisoformat(attributes["invoiced_on"])
                key = (resource["id"], attributes["number"], attributes["amount"], invoiced_on)
                checksum = (checksum + hash(key)) & _MASK
                count += 1

        await bare_pull(session, url, consume, prefetch=prefetch)
        elapsed = time.perf_counter() - started
    return count, checksum, elapsed


async def sdk(base: str, prefetch: int) -> Result:
    """``client.invoices.list()`` without rate limits, reading the same four fields."""
    count = checksum = 0
    last: Any = None
    async with pa.Productive("t", "1", base_url=base,
                             rate_limits=pa.RateLimits.unlimited()) as client:
        started = time.perf_counter()  # the session is made on the first request, as above
        async for inv in client.invoices.list(prefetch=prefetch):
            key = (inv.id, inv.number, inv.amount, inv.invoiced_on)
            checksum = (checksum + hash(key)) & _MASK
            count += 1
            last = inv
        elapsed = time.perf_counter() - started
    assert last is not None and isinstance(last.invoiced_on, dt.date), "invoiced_on not a date"
    assert isinstance(last, pa.models.Invoice), type(last)
    return count, checksum, elapsed


# --------------------------------------------------------------------------- the run


class GcClock:
    """Seconds the cyclic garbage collector ran (``gc.callbacks``) since :meth:`reset`."""

    def __init__(self) -> None:
        self.total = 0.0
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.total += time.perf_counter() - self._started

    def reset(self) -> None:
        self.total = 0.0


def measure(base: str, rounds: int, prefetch: int, expected: int
            ) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Seconds per run and seconds of garbage collection per run, by consumer."""
    consumers: dict[str, Callable[[str, int], Coroutine[Any, Any, Result]]] = {
        "bare": bare, "sdk": sdk,
    }
    times: dict[str, list[float]] = {"bare": [], "sdk": []}
    gc_times: dict[str, list[float]] = {"bare": [], "sdk": []}
    checksums: set[int] = set()
    gc_clock = GcClock()
    for index in range(rounds + 1):  # round 0 warms up (imports, record classes, sockets)
        order = ["bare", "sdk"] if index % 2 else ["sdk", "bare"]
        for name in order:
            gc_clock.reset()
            count, checksum, elapsed = asyncio.run(consumers[name](base, prefetch))
            assert count == expected, f"{name} saw {count} records, not {expected}"
            checksums.add(checksum)
            if index:
                times[name].append(elapsed)
                gc_times[name].append(gc_clock.total)
        if index:
            print(f"round {index}: " + ", ".join(
                f"{n} {expected / t[-1]:,.0f} records/s" for n, t in times.items()
            ), file=sys.stderr)
    assert len(checksums) == 1, f"the consumers disagree: checksums {checksums}"
    return times, gc_times


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7, help="measured rounds (each consumer "
                        "once per round, order alternating); one warm-up round comes first")
    parser.add_argument("--pages", type=int, default=40, help=f"pages of {PAGE_SIZE} invoices")
    parser.add_argument("--prefetch", type=int, default=16,
                        help="pages in flight (the SDK's default without rate limits: 16)")
    args = parser.parse_args(argv)
    expected = args.pages * PAGE_SIZE

    ctx = multiprocessing.get_context("spawn")
    ready_parent, ready_child = ctx.Pipe(duplex=False)
    server = ctx.Process(target=_serve, args=(args.pages, ready_child), daemon=True)
    server.start()
    try:
        deadline = time.monotonic() + 60
        while not ready_parent.poll(0.1):
            if not server.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start (exit code {server.exitcode})")
        base: str = ready_parent.recv()
        times, gc_times = measure(base, args.rounds, args.prefetch, expected)
    finally:
        server.terminate()
        server.join(timeout=10)
        if server.is_alive():
            server.kill()

    bare_s, sdk_s = statistics.median(times["bare"]), statistics.median(times["sdk"])
    paired = statistics.median(b / s for b, s in zip(times["bare"], times["sdk"], strict=True))
    bare_gc, sdk_gc = statistics.median(gc_times["bare"]), statistics.median(gc_times["sdk"])
    us = 1e6 / expected
    print(f"`python benchmarks/records.py --rounds {args.rounds} --pages {args.pages} "
          f"--prefetch {args.prefetch}`: {args.pages} pages x {PAGE_SIZE} invoices "
          f"({expected:,} records), median of {args.rounds} rounds\n")
    print("| consumer | records/s | µs per record | of which gc |")
    print("|---|---|---|---|")
    print(f"| bare aiohttp + orjson.loads | {expected / bare_s:,.0f} | {us * bare_s:.2f} | "
          f"{us * bare_gc:.2f} |")
    print(f"| SDK client.invoices.list() | {expected / sdk_s:,.0f} | {us * sdk_s:.2f} | "
          f"{us * sdk_gc:.2f} |")
    print(f"| SDK / bare (of medians) | {bare_s / sdk_s:.2f}x | {us * (sdk_s - bare_s):+.2f} | "
          f"{us * (sdk_gc - bare_gc):+.2f} |")
    print(f"| SDK / bare (median per round) | {paired:.2f}x | | |")
    print(f"\ntarget: SDK >= 0.80x bare: {'met' if bare_s / sdk_s >= 0.8 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
