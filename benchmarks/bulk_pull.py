"""Bulk-pull benchmark: the SDK against the sandbox at scaled-down rate limits.

    python benchmarks/bulk_pull.py                 # every scenario, a Markdown table
    python benchmarks/bulk_pull.py --scenario two-windows --prefetch 16
    python benchmarks/bulk_pull.py --scenario burst --rate 100/10   # the documented limit

Each scenario pulls ``--pages`` pages of 200 time entries (240 by default: 48,000 records) from
a sandbox in a child process (its own clock and event loop, as a real server has) that answers
after ``--latency`` seconds (0.2 by default) and enforces its limits as strict sliding windows.
The client is configured with the same limits (and its default safety margin). Reported:

- time: from the first request to the last record, in seconds;
- ideal: the earliest schedule that never breaks a window (page 1 first, since its answer says
  how many pages there are; then every page at the earliest moment all windows allow), plus
  the latency of the last answer, if every request reached the server the moment it was sent;
- exact ideal: the same for a client that keeps every window whatever the delay between send
  and arrival (it can only know a request has arrived when the answer is back, so a window's
  N+1-th request waits for the answer to the first plus T): no such client can beat it. The
  SDK's limiter is one of these, so "of exact" is its own overhead and "of ideal" adds the
  price of exactness (one answer's latency per window);
- 429s the server sent, requests per page (retries included), records lost and duplicated;
- the most requests the server saw in any window of each limit (must not exceed the limit).

A pull sends page 1 first (its answer says how many pages there are). A burst sends ``--calls``
concurrent ``get``s at once on a new client (cold connections), ``--repeat`` times, each run on
a new sandbox; its ideal is every window filled from time 0.

Scenarios:
1. ``single``: 40 requests / 2 s.
2. ``two-windows``: 40 / 2 s and 100 / 10 s at once.
3. ``faults``: 40 / 2 s with 3% of answers 5xx and 1% of connections dropped.
4. ``sequential``: 40 / 2 s, one page at a time (``prefetch=1``), for comparison.
5. ``burst``: 500 concurrent ``get``s at 50 / 2 s, 5 runs (``--rate`` changes the limit).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from typing import TypeVar

import productive_async as pa
from productive_async import sandbox

PAGE_SIZE = 200
T = TypeVar("T")


@dataclass
class Scenario:
    name: str
    rates: dict[str, pa.Rate]
    faults: sandbox.Faults | None = None
    prefetch: int | None = None
    #: Concurrent ``get``s sent at once instead of a pull (a burst), and the runs of it.
    burst: int | None = None
    repeat: int = 1


SCENARIOS = {
    "single": Scenario("single", {"standard": pa.Rate(40, 2)}),
    "two-windows": Scenario(
        "two-windows", {"standard": pa.Rate(40, 2), "organization": pa.Rate(100, 10)}
    ),
    "faults": Scenario(
        "faults", {"standard": pa.Rate(40, 2)},
        faults=sandbox.Faults(server_error_rate=0.03, drop_rate=0.01, seed=3),
    ),
    "sequential": Scenario("sequential", {"standard": pa.Rate(40, 2)}, prefetch=1),
    "burst": Scenario("burst", {"standard": pa.Rate(50, 2)}, burst=500, repeat=5),
}


def ideal_seconds(requests: int, rates: Sequence[pa.Rate], latency: float,
                  first_alone: bool = True, exact: bool = False) -> float:
    """Finish time of the earliest schedule that keeps every window (no margin).

    ``first_alone``: the first request goes alone and the others only after its answer (a
    pull); otherwise all may go at once (a burst). ``exact``: a window counts each request
    from its answer (send + latency) rather than from its send."""
    logs = [deque[float]() for _ in rates]
    counted_after = latency if exact else 0.0
    last_send = 0.0
    for index in range(requests):
        t = 0.0 if index == 0 or not first_alone else max(latency, last_send)
        for rate, log in zip(rates, logs, strict=True):
            if len(log) >= rate.requests:
                t = max(t, log[-rate.requests] + rate.seconds)
        for log in logs:
            log.append(t + counted_after)
        last_send = t
    return last_send + latency


def _serve(scenario: Scenario, total: int, latency: float, port: int,
           ready: Connection, done: Connection) -> None:
    """The sandbox in a child process, so its clock and event loop are its own (as a real
    server's are); sends back its request log when told the pull is over."""
    records = [
        {"id": str(i), "type": "time_entries", "attributes": {"time": 60, "note": f"entry {i}"},
         "relationships": {}}
        for i in range(1, total + 1)
    ]
    box = sandbox.Sandbox(demo_data=False, records=records, latency=latency,
                          rate_limits=pa.RateLimits.only(**scenario.rates), faults=scenario.faults)

    async def serve() -> None:
        async with box.serve(port=port) as url:
            ready.send(url)
            await asyncio.get_running_loop().run_in_executor(None, done.recv)
        done.send(box.log.entries)

    asyncio.run(serve())


async def pull(url: str, scenario: Scenario, prefetch: int | None
               ) -> tuple[float, list[str], int | None]:
    retry = pa.RetryPolicy(max_retries=8, backoff_base=0.2, backoff_cap=2.0)
    async with pa.Productive(
        sandbox.TOKEN, sandbox.ORGANIZATION_ID, base_url=url,
        rate_limits=pa.RateLimits.only(**scenario.rates), retry=retry,
    ) as client:
        started = time.perf_counter()
        if scenario.burst:
            records = await asyncio.gather(
                *(client.time_entries.get(i) for i in range(1, scenario.burst + 1))
            )
            return time.perf_counter() - started, [r.id for r in records], None
        ids = [r.id async for r in client.time_entries.list(page_size=PAGE_SIZE,
                                                            prefetch=prefetch)]
        return time.perf_counter() - started, ids, client.time_entries._prefetch(prefetch)


def served(scenario: Scenario, total: int, latency: float, work: Callable[[str], T]
           ) -> tuple[T, sandbox.RequestLog]:
    """Run ``work(base_url)`` against a sandbox of ``total`` records in a child process with
    ``scenario``'s limits and ``latency`` seconds per answer; its result and the server's
    request log."""
    ready_parent, ready_child = multiprocessing.Pipe()
    done_parent, done_child = multiprocessing.Pipe()
    server = multiprocessing.Process(
        target=_serve, args=(scenario, total, latency, 0, ready_child, done_child), daemon=True
    )
    server.start()
    try:
        result = work(ready_parent.recv())
        done_parent.send("done")
        log = sandbox.RequestLog(done_parent.recv())
    finally:
        server.join(timeout=10)
        if server.is_alive():
            server.kill()
    return result, log


def run(scenario: Scenario, pages: int, latency: float, prefetch: int | None
        ) -> dict[str, str]:
    if scenario.burst:
        pages = scenario.burst
    total = pages if scenario.burst else pages * PAGE_SIZE
    (elapsed, ids, used), log = served(
        scenario, total, latency,
        lambda url: asyncio.run(pull(url, scenario, scenario.prefetch or prefetch)))
    rates = list(scenario.rates.values())
    ideal = ideal_seconds(pages, rates, latency, first_alone=not scenario.burst)
    exact = ideal_seconds(pages, rates, latency, first_alone=not scenario.burst, exact=True)
    unique = set(ids)
    expected = {str(i) for i in range(1, total + 1)}
    windows = ", ".join(
        f"{log.max_in_window(rate.seconds)}/{rate.requests} per {rate.seconds:g} s"
        for rate in scenario.rates.values()
    )
    return {
        "scenario": scenario.name,
        "limits": " + ".join(f"{r.requests}/{r.seconds:g} s" for r in scenario.rates.values()),
        "prefetch": str(used) if used is not None else f"{pages} at once",
        "time s": f"{elapsed:.2f}",
        "ideal s": f"{ideal:.2f}",
        "of ideal": f"{100 * ideal / elapsed:.1f}%",
        "exact ideal s": f"{exact:.2f}",
        "of exact": f"{100 * exact / elapsed:.1f}%",
        "429s": str(log.count(429)),
        "requests/call": f"{len(log.entries) / pages:.3f}",
        "lost": str(len(expected - unique)),
        "duplicated": str(len(ids) - len(unique)),
        "most in a server window": windows,
    }


def table(rows: list[dict[str, str]]) -> str:
    headers = list(rows[0])
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row[h] for h in headers) + " |" for row in rows]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="all")
    parser.add_argument("--pages", type=int, default=240)
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per answer")
    parser.add_argument("--prefetch", type=int, default=None,
                        help="pages in flight (default: the SDK's default, the window size)")
    parser.add_argument("--calls", type=int, default=None,
                        help="concurrent gets of the burst scenario (default 500)")
    parser.add_argument("--repeat", type=int, default=None,
                        help="runs of each scenario (default: 5 for burst, else 1)")
    parser.add_argument("--rate", default=None, metavar="N/T",
                        help="the standard limit instead of the scenario's (e.g. 100/10)")
    args = parser.parse_args(argv)
    names = list(SCENARIOS) if args.scenario == "all" else [args.scenario]
    rows = []
    for name in names:
        scenario = SCENARIOS[name]
        if args.rate:
            requests, seconds = args.rate.split("/")
            scenario = replace(scenario, rates={**scenario.rates,
                                                "standard": pa.Rate(int(requests), float(seconds))})
        if scenario.burst and args.calls:
            scenario = replace(scenario, burst=args.calls)
        for _ in range(args.repeat or scenario.repeat):
            row = run(scenario, args.pages, args.latency, args.prefetch)
            print(" | ".join(f"{k}: {v}" for k, v in row.items()), file=sys.stderr)
            rows.append(row)
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

