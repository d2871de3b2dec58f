"""The SDK's sliding-window log against aiolimiter's leaky bucket, side by side in one run.

    pip install -e ".[bench]"        # aiolimiter, for this benchmark only
    python benchmarks/limiters.py
    python benchmarks/limiters.py --rate 100/10 --calls 500

Both clients send the same calls to the same kind of sandbox: a child process (its own clock
and event loop) that enforces one limit, ``--rate`` N/T (50 / 2 s by default), as a strict
sliding window and answers after ``--latency`` seconds (0.2 by default):

- ``sliding-window log``: ``pa.Productive(rate_limits=RateLimits.only(standard=Rate(N, T)))``;
- ``aiolimiter``: ``pa.Productive`` with no limits of its own, every call inside
  ``async with aiolimiter.AsyncLimiter(N, T)``, the way that library is meant to be used; a 429
  is waited out and retried by the SDK as usual.

Workloads: ``alone`` (the limiter by itself, no server: ``3N`` slots asked for at once, each
request taking no time), then, each on a new sandbox and a new client, ``burst`` (``--calls``
concurrent ``get``s at once) and ``pull`` (``--pages`` pages of 200 records, ``N`` pages in
flight). Reported: the 429s the server sent, the most requests in one window of T (the
server's arrivals, refused ones included; alone, the slots the limiter handed out), the time,
and the time of the earliest schedule that never breaks the window (as in ``bulk_pull.py``,
if every request arrived the moment it was sent).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Sequence
from typing import Any

from bulk_pull import PAGE_SIZE, Scenario, ideal_seconds, served, table

import productive_async as pa
from productive_async import sandbox
from productive_async._ratelimit import RateGate

try:
    import aiolimiter
except ImportError:  # pragma: no cover - a message instead of a traceback
    sys.exit('benchmarks/limiters.py needs aiolimiter: pip install -e ".[bench]"')


async def work(url: str, limiter_name: str, rate: pa.Rate, workload: str, size: int
               ) -> tuple[float, int]:
    """Run one workload; returns (seconds, records received)."""
    sdk = limiter_name == "sliding-window log"
    limits = pa.RateLimits.only(standard=rate) if sdk else pa.RateLimits.unlimited()
    retry = pa.RetryPolicy(max_retries=20, backoff_base=0.2, backoff_cap=2.0)
    async with pa.Productive(sandbox.TOKEN, sandbox.ORGANIZATION_ID, base_url=url,
                             rate_limits=limits, retry=retry) as client:
        if not sdk:
            bucket = aiolimiter.AsyncLimiter(rate.requests, rate.seconds)
            send = client._transport.request

            async def limited(*args: Any, **kwargs: Any) -> Any:
                async with bucket:
                    return await send(*args, **kwargs)

            client._transport.request = limited  # type: ignore[method-assign]
        started = time.perf_counter()
        if workload == "burst":
            calls: list[Awaitable[Any]] = [client.time_entries.get(i) for i in range(1, size + 1)]
            received = len(await asyncio.gather(*calls))
        else:
            received = len(await client.time_entries.list(
                page_size=PAGE_SIZE, prefetch=rate.requests).to_list())
        return time.perf_counter() - started, received


async def alone(limiter_name: str, rate: pa.Rate, size: int) -> tuple[float, list[float]]:
    """The limiter by itself: ``size`` slots asked for at once; (seconds, grant times)."""
    loop = asyncio.get_running_loop()
    granted: list[float] = []
    if limiter_name == "sliding-window log":
        gate = RateGate(pa.RateLimits.only(standard=rate))

        async def one() -> None:
            slot = await gate.acquire(("standard",))
            granted.append(loop.time())
            gate.release(slot)  # the answer: at once
    else:
        bucket = aiolimiter.AsyncLimiter(rate.requests, rate.seconds)

        async def one() -> None:
            async with bucket:
                granted.append(loop.time())

    started = loop.time()
    await asyncio.gather(*(one() for _ in range(size)))
    return loop.time() - started, granted


def run_alone(limiter_name: str, rate: pa.Rate, size: int) -> dict[str, str]:
    elapsed, granted = asyncio.run(alone(limiter_name, rate, size))
    ideal = ideal_seconds(size, [rate], 0.0, first_alone=False)
    return {
        "workload": f"alone ({size} slots at once)",
        "limiter": limiter_name,
        "limit": f"{rate.requests}/{rate.seconds:g} s",
        "429s": "-",
        "most in one window": str(sandbox.max_in_window(granted, rate.seconds)),
        "records": "-",
        "time s": f"{elapsed:.2f}",
        "ideal s": f"{ideal:.2f}",
        "of ideal": f"{100 * ideal / elapsed:.1f}%" if elapsed else "-",
    }


def run(limiter_name: str, rate: pa.Rate, workload: str, size: int, latency: float
        ) -> dict[str, str]:
    total = size if workload == "burst" else size * PAGE_SIZE
    scenario = Scenario(workload, {"standard": rate})
    (elapsed, received), log = served(
        scenario, total, latency,
        lambda url: asyncio.run(work(url, limiter_name, rate, workload, size)))
    ideal = ideal_seconds(size, [rate], latency, first_alone=workload == "pull")
    return {
        "workload": f"{workload} ({size} {'calls at once' if workload == 'burst' else 'pages'})",
        "limiter": limiter_name,
        "limit": f"{rate.requests}/{rate.seconds:g} s",
        "429s": str(log.count(429)),
        "most in one window": str(sandbox.max_in_window([e[0] for e in log.entries],
                                                             rate.seconds)),
        "records": str(received),
        "time s": f"{elapsed:.2f}",
        "ideal s": f"{ideal:.2f}",
        "of ideal": f"{100 * ideal / elapsed:.1f}%",
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", default="50/2", metavar="N/T", help="the limit (50/2)")
    parser.add_argument("--calls", type=int, default=300, help="gets in the burst (300)")
    parser.add_argument("--pages", type=int, default=120, help="pages in the pull (120)")
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per answer")
    args = parser.parse_args(argv)
    requests, seconds = args.rate.split("/")
    rate = pa.Rate(int(requests), float(seconds))
    rows = []
    for limiter_name in ("sliding-window log", "aiolimiter"):
        rows.append(run_alone(limiter_name, rate, 3 * rate.requests))
    runs: list[tuple[str, int]] = [("burst", args.calls), ("pull", args.pages)]
    for workload, size in runs:
        for limiter_name in ("sliding-window log", "aiolimiter"):
            row = run(limiter_name, rate, workload, size, args.latency)
            print(" | ".join(f"{k}: {v}" for k, v in row.items()), file=sys.stderr)
            rows.append(row)
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
