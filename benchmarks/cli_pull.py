"""CLI pull benchmark: ``productive-async pull invoices --sandbox`` against bare aiohttp + orjson.

    python benchmarks/cli_pull.py [--rounds 7] [--server inprocess|child]

Both consumers pull every invoice of the sandbox's demo data (seed 0: 5,011 invoices, 26 pages
of 200) and write the same JSON Lines file, one resource object per line as received; the
files must be byte for byte equal. Timed: from making the client (or session) to the output
file closed, i.e. a pull "after the sandbox is up"; generating the demo data (about 2 s) is
done once, before any round, and not timed.

- bare: one :class:`aiohttp.ClientSession`, page 1 first, then up to ``--prefetch`` pages in
  flight (64, the SDK's default under the documented limits), consumed in page order:
  ``orjson.loads``, then ``orjson.dumps`` of each resource object plus a newline, written and
  flushed a page at a time;
- CLI: what ``productive-async pull invoices --sandbox --out FILE`` runs once the sandbox is
  up (``_pulls.pull_shown``): a client with the documented rate limits, ``raw_pages()``, the
  page-by-page output with ``fsync`` and the state file (in the background), and the progress
  display (rendered to a terminal console that writes to memory).

``--server inprocess`` (the default) serves the sandbox in the consumers' own event loop, as
``--sandbox`` does, so the server's work is part of both timings; ``--server child`` serves it
from a child process (its own loop), which leaves only the client side in the timings. The
sandbox enforces no rate limits here (the rounds would trip its windows); the CLI's client
keeps its own (26 requests stay well inside them).

Rounds alternate which consumer goes first, after one unmeasured warm-up round. Reported:
median records/s of each, the ratio of the medians and the median of each round's own ratio.
Target (issue 9): CLI >= 0.8x bare.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import io
import multiprocessing
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import records  # the bare consumers' schedule (benchmarks/records.py)
from rich.console import Console

import productive_async as pa
from productive_async import _pulls, sandbox
from productive_async._cli import make_encoder

PAGE_SIZE = 200
HEADERS = {"X-Auth-Token": sandbox.TOKEN, "X-Organization-Id": sandbox.ORGANIZATION_ID,
           "Accept": "application/vnd.api+json", "Content-Type": "application/vnd.api+json"}


async def bare(base: str, out: Path, prefetch: int) -> int:
    """aiohttp + orjson: page 1, then ``prefetch`` pages in flight, written in page order."""
    url = f"{base}invoices"
    count = 0
    dumps, newline = orjson.dumps, orjson.OPT_APPEND_NEWLINE
    async with aiohttp.ClientSession(headers=HEADERS,
                                     connector=aiohttp.TCPConnector(limit=100)) as session:

        with out.open("wb") as handle:

            def write(document: Any) -> None:
                nonlocal count
                data = document["data"]
                handle.write(b"".join([dumps(obj, option=newline) for obj in data]))
                handle.flush()
                count += len(data)

            await records.bare_pull(session, url, write, prefetch=prefetch)
    return count


async def cli(base: str, out: Path, prefetch: int) -> int:
    """What ``productive-async pull invoices --sandbox --out OUT`` runs after the sandbox is
    up: default rate limits, page-by-page durable output, progress display."""
    spec = _pulls.PullSpec(resource="invoices", source={"sandbox": True})
    console = Console(file=io.StringIO(), force_terminal=True, width=120)
    async with pa.Productive(sandbox.TOKEN, sandbox.ORGANIZATION_ID, base_url=base) as client:
        state = await _pulls.pull_shown(client, spec, out, make_encoder, console=console)
    return state.records


Consumer = Callable[[str, Path, int], Coroutine[Any, Any, int]]
CONSUMERS: dict[str, Consumer] = {"bare": bare, "cli": cli}


@contextlib.asynccontextmanager
async def in_process(box: sandbox.Sandbox) -> AsyncIterator[str]:
    async with box.serve() as url:
        yield url


def _serve(ready: Connection) -> None:
    """The sandbox in a child process: demo data generated once, served until terminated."""
    box = sandbox.Sandbox(rate_limits=None)
    gc.freeze()

    async def serve() -> None:
        async with box.serve() as url:
            ready.send(url)
            await asyncio.Event().wait()

    asyncio.run(serve())


def run_round(base: str | None, box: sandbox.Sandbox | None, name: str, out: Path,
              prefetch: int) -> tuple[int, float]:
    async def go() -> tuple[int, float]:
        if box is not None:
            async with in_process(box) as url:
                started = time.perf_counter()
                count = await CONSUMERS[name](url, out, prefetch)
                return count, time.perf_counter() - started
        assert base is not None
        started = time.perf_counter()
        count = await CONSUMERS[name](base, out, prefetch)
        return count, time.perf_counter() - started

    return asyncio.run(go())


def measure(rounds: int, server: str, prefetch: int, work: Path) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"bare": [], "cli": []}
    records = 0
    child = None
    base: str | None = None
    box: sandbox.Sandbox | None = None
    if server == "child":
        ctx = multiprocessing.get_context("spawn")
        ready_parent, ready_child = ctx.Pipe(duplex=False)
        child = ctx.Process(target=_serve, args=(ready_child,), daemon=True)
        child.start()
        if not ready_parent.poll(120):
            raise RuntimeError("the sandbox did not start")
        base = ready_parent.recv()
    else:
        box = sandbox.Sandbox(rate_limits=None)
        gc.freeze()  # the demo data out of the collector's way, as `pull --sandbox` does
    try:
        for index in range(rounds + 1):  # round 0 warms up
            order = ["bare", "cli"] if index % 2 else ["cli", "bare"]
            outputs = {}
            for name in order:
                out = work / f"{name}.jsonl"
                count, elapsed = run_round(base, box, name, out, prefetch)
                outputs[name] = out.read_bytes()
                records = count
                if index:
                    times[name].append(elapsed)
            assert outputs["bare"] == outputs["cli"], "the two files differ"
            if index:
                print(f"round {index}: " + ", ".join(
                    f"{n} {records / t[-1]:,.0f} records/s" for n, t in times.items()
                ), file=sys.stderr)
    finally:
        if child is not None:
            child.terminate()
            child.join(timeout=10)
    times["records"] = [float(records)]
    return times


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--server", choices=["inprocess", "child"], default="inprocess")
    parser.add_argument("--prefetch", type=int, default=64,
                        help="pages in flight of the bare consumer (the SDK's default: 64)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as work:
        times = measure(args.rounds, args.server, args.prefetch, Path(work))
    records = times.pop("records")[0]
    bare_s, cli_s = statistics.median(times["bare"]), statistics.median(times["cli"])
    paired = statistics.median(b / c for b, c in zip(times["bare"], times["cli"], strict=True))
    print(f"`python benchmarks/cli_pull.py --rounds {args.rounds} --server {args.server}`: "
          f"{records:,.0f} invoices, median of {args.rounds} rounds\n")
    print("| consumer | records/s | seconds |")
    print("|---|---|---|")
    print(f"| bare aiohttp + orjson, JSON Lines | {records / bare_s:,.0f} | {bare_s:.3f} |")
    print(f"| `productive-async pull invoices` | {records / cli_s:,.0f} | {cli_s:.3f} |")
    print(f"| CLI / bare (of medians) | {bare_s / cli_s:.2f}x | |")
    print(f"| CLI / bare (median per round) | {paired:.2f}x | |")
    print(f"\ntarget: CLI >= 0.80x bare: {'met' if bare_s / cli_s >= 0.8 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
