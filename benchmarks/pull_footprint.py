"""Footprint of a bulk pull: event-loop lag and peak memory, the SDK against bare aiohttp + orjson.

    python benchmarks/pull_footprint.py [--rounds 5] [--lag-pages 40] [--memory-pages 200]

A child process (its own event loop, as a real server has) serves pages of 200 invoices with
the shape of seed 004's ``GET invoices/27`` answer, encoded once at start (see
``benchmarks/records.py``); with ``include=company`` each page also carries the companies of
its invoices in ``included`` (50 companies over the whole collection).

**Lag.** While a consumer pulls ``--lag-pages`` pages (no rate limit, 16 pages in flight), a
ticker task on the same event loop sleeps 1 ms at a time and records how late it wakes up. A
late wake-up is time during which nothing else on the loop (another request of a web backend,
the rate gate's timers) could run. Bare: ``orjson.loads`` of each page as it arrives, then the
four fields of every record (what a hand-written client does). SDK: ``client.invoices.list()``
reading the same four fields. Reported per consumer: the median over ``--rounds`` rounds of the
p50, p99 and maximum lag in ms, and the SDK/bare ratios of p99 and maximum (target: <= 1.5x).

**Memory.** In a fresh process per consumer, the highest resident set size (sampled every
millisecond from ``/proc/self/statm``, so Linux only) while streaming ``--memory-pages`` pages
(40,000 invoices by default), minus the resident set size just before the pull (after the
imports and a one-page warm-up). Consumers: bare (all pages in flight parsed on
arrival, as above), the SDK with its defaults (its default prefetch for Productive's documented
limits, rate limits off so that the pull is not slowed), and the SDK with
``include=["company"]``. Targets: < 40 MB, and < 60 MB with the include.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import multiprocessing
import resource
import statistics
import sys
import threading
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
import records  # the seed invoice and its pages

import productive_async as pa

PAGE_SIZE = records.PAGE_SIZE
def _fields(resource: dict[str, Any]) -> int:
    attributes = resource["attributes"]
    key = (resource["id"], attributes["number"], attributes["amount"],
           dt.date.fromisoformat(attributes["invoiced_on"]))
    return hash(key)


async def _bare(base: str, pages: int, prefetch: int, include: bool = False) -> int:
    """Page 1, then ``prefetch`` pages in flight, each parsed as it arrives."""
    count = 0
    async with aiohttp.ClientSession() as session:

        def consume(document: Any) -> None:
            nonlocal count
            for resource_object in document["data"]:
                _fields(resource_object)
                count += 1

        await records.bare_pull(session, f"{base}invoices", consume, prefetch=prefetch,
                                pages=pages, params={"include": "company"} if include else None)
    return count


async def _sdk(base: str, prefetch: int, include: bool = False,
               max_items: int = PAGE_SIZE) -> int:
    count = 0
    async with pa.Productive("t", "1", base_url=base,
                             rate_limits=pa.RateLimits.unlimited()) as client:
        listing = client.invoices.list(include=["company"] if include else None,
                                       prefetch=prefetch, max_items=max_items)
        async for invoice in listing:
            hash((invoice.id, invoice.number, invoice.amount, invoice.invoiced_on))
            if include:
                invoice.company  # noqa: B018  # resolve the relationship, as a reader would
            count += 1
    return count


# --------------------------------------------------------------------------- lag


async def _with_ticker(work: Any) -> tuple[int, list[float]]:
    loop = asyncio.get_running_loop()
    lags: list[float] = []
    done = False

    async def tick() -> None:
        while not done:
            started = loop.time()
            await asyncio.sleep(0.001)
            lags.append(max(0.0, loop.time() - started - 0.001))

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0.01)
    try:
        count = await work
    finally:
        done = True
        await ticker
    return count, lags


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure_lag(base: str, rounds: int, pages: int) -> dict[str, dict[str, float]]:
    """Median over rounds of p50/p99/max lag (ms) per consumer."""
    results: dict[str, dict[str, list[float]]] = {
        name: {"p50": [], "p99": [], "max": []} for name in ("bare", "sdk")}
    for index in range(rounds + 1):  # round 0 warms up
        order = ["bare", "sdk"] if index % 2 else ["sdk", "bare"]
        for name in order:
            work = (_bare(base, pages, 16) if name == "bare"
                    else _sdk(base, 16, max_items=pages * PAGE_SIZE))
            count, lags = asyncio.run(_with_ticker(work))
            assert count == pages * PAGE_SIZE, f"{name} saw {count} records"
            if index:
                results[name]["p50"].append(_percentile(lags, 0.5) * 1e3)
                results[name]["p99"].append(_percentile(lags, 0.99) * 1e3)
                results[name]["max"].append(max(lags) * 1e3)
        if index:
            print(f"lag round {index}: " + ", ".join(
                f"{n} p99 {r['p99'][-1]:.1f} ms max {r['max'][-1]:.1f} ms"
                for n, r in results.items()), file=sys.stderr)
    return {name: {k: statistics.median(v) for k, v in r.items()}
            for name, r in results.items()}


# --------------------------------------------------------------------------- memory


def _rss_mb() -> float:
    """The resident set size now, in MB (Linux: ``/proc/self/statm``)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


class _PeakRss:
    """The highest resident set size seen by a thread sampling every millisecond."""

    def __init__(self) -> None:
        self.peak = _rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.001):
            self.peak = max(self.peak, _rss_mb())

    def __enter__(self) -> _PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mb())


def _memory_child(name: str, base: str, pages: int, out: Connection) -> None:
    async def run() -> int:
        if name == "bare":
            return await _bare(base, pages, 16)
        # The defaults of a client with Productive's limits: prefetch = the standard window.
        prefetch = min(64, pa.RateLimits().standard.requests)  # type: ignore[union-attr]
        return await _sdk(base, prefetch, include=name == "sdk include company",
                          max_items=pages * PAGE_SIZE)

    asyncio.run(_sdk(base, 1, max_items=PAGE_SIZE))  # warm-up: imports, record classes
    gc.collect()
    before = _rss_mb()
    with _PeakRss() as sampler:
        count = asyncio.run(run())
    out.send((count, sampler.peak - before))


def measure_memory(base: str, pages: int) -> dict[str, float]:
    ctx = multiprocessing.get_context("spawn")
    peaks: dict[str, float] = {}
    for name in ("bare", "sdk", "sdk include company"):
        parent, child = ctx.Pipe(duplex=False)
        process = ctx.Process(target=_memory_child, args=(name, base, pages, child))
        process.start()
        count, peak = parent.recv()
        process.join()
        assert count == pages * PAGE_SIZE, f"{name} saw {count} records"
        peaks[name] = peak
        print(f"memory {name}: +{peak:.1f} MB", file=sys.stderr)
    return peaks


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--lag-pages", type=int, default=40)
    parser.add_argument("--memory-pages", type=int, default=200)
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args(argv)

    ctx = multiprocessing.get_context("spawn")
    ready_parent, ready_child = ctx.Pipe(duplex=False)
    pages = max(args.lag_pages, args.memory_pages)
    server = ctx.Process(target=records._serve, args=(pages, ready_child, True), daemon=True)
    server.start()
    try:
        deadline = time.monotonic() + 120
        while not ready_parent.poll(0.1):
            if not server.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start (exit code {server.exitcode})")
        base: str = ready_parent.recv()
        lag = measure_lag(base, args.rounds, args.lag_pages)
        memory = {} if args.skip_memory else measure_memory(base, args.memory_pages)
    finally:
        server.terminate()
        server.join(timeout=10)

    print(f"`python benchmarks/pull_footprint.py --rounds {args.rounds} --lag-pages "
          f"{args.lag_pages} --memory-pages {args.memory_pages}`\n")
    print(f"Event-loop lag while pulling {args.lag_pages} pages of {PAGE_SIZE} invoices "
          f"(median of {args.rounds} rounds):\n")
    print("| consumer | p50 ms | p99 ms | max ms |")
    print("|---|---|---|---|")
    for name, label in (("bare", "bare aiohttp + orjson"), ("sdk", "SDK client.invoices.list()")):
        r = lag[name]
        print(f"| {label} | {r['p50']:.2f} | {r['p99']:.1f} | {r['max']:.1f} |")
    p99 = lag["sdk"]["p99"] / lag["bare"]["p99"]
    worst = lag["sdk"]["max"] / lag["bare"]["max"]
    print(f"| SDK / bare | | {p99:.2f}x | {worst:.2f}x |")
    print(f"\ntarget: p99 and max <= 1.5x bare: {'met' if max(p99, worst) <= 1.5 else 'NOT met'}")
    if memory:
        records_count = args.memory_pages * PAGE_SIZE
        print(f"\nPeak RSS added while streaming {records_count:,} invoices:\n")
        print("| consumer | MB | target |")
        print("|---|---|---|")
        print(f"| bare aiohttp + orjson (16 pages in flight) | {memory['bare']:.1f} | |")
        print(f"| SDK, defaults | {memory['sdk']:.1f} | < 40 |")
        print(f"| SDK, include=[\"company\"] | {memory['sdk include company']:.1f} | < 60 |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
