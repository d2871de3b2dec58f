"""Shared-budget benchmark: N processes spending one token's rate budget, alone or through Redis.

    python benchmarks/shared_budget.py                       # every mode, a Markdown table
    python benchmarks/shared_budget.py --repeat 3
    python benchmarks/shared_budget.py --modes redis,redis-outage --workers 8 --rate 100/10
    python benchmarks/shared_budget.py --modes redis,redis-skew --repeat 5 --latency 0.2

``--workers`` processes (4 by default, each started with ``spawn``, so each has its own
interpreter, event loop and clock) share one token against a sandbox in another child process
(as in ``bulk_pull.py``) that enforces one scaled-down limit, ``--rate`` N/T (40 / 2 s by
default), as a strict sliding window and answers after ``--latency`` seconds (0.05 by default).
Each worker builds its client with ``rate_limits=RateLimits.only(standard=Rate(N, T))`` (the
whole budget: a worker does not know how many others there are) and a ``RetryPolicy`` generous
enough that nothing is lost (``max_retries=20``), waits at a barrier with the others, then gets
its part of ``--requests`` time entries (400 in all by default) the way a job-queue worker does:
``--concurrency`` tasks (20 by default) each taking the next id and awaiting
``client.time_entries.get(id)``, so a worker keeps 20 requests in flight while its part lasts.
A fresh ``redis-server`` (``/usr/bin/redis-server`` or the one on ``PATH``) is started for each
run on a unix socket in a temporary directory (no TCP port, no persistence) and stopped by its
PID afterwards; no other Redis is ever used.

Modes (one table row per run, ``--modes`` to pick some):

1. ``alone``: no backend; every process limits only itself, so together they send N x the
   budget and the server refuses the excess (the baseline).
2. ``redis``: every worker has ``rate_backend=pa.RedisBackend("unix://.../redis.sock")``.
3. ``redis-skew``: as ``redis``, but worker 0's wall clock (``time.time``, ``time.time_ns``)
   runs 250 ms fast, patched before its client exists. The budget lives on Redis's clock and the
   SDK measures only durations locally (the event loop's monotonic clock), so this must change
   nothing.
4. ``redis-outage``: as ``redis`` with ``local_share=1/N``; at ``--outage-at`` (0.4) of the ideal
   time the benchmark terminates redis-server, waits ``--outage`` seconds (5), and starts a new
   one on the same socket: the logs are lost, which is the point (each process's fallback
   writes the requests it sent meanwhile back into the new server when it is back).

Reported per run: the time from the common start (the barrier) to the last worker's last
answer; the ideal (the burst ideal of ``bulk_pull.ideal_seconds``: every window filled from
time 0, plus one answer's latency); the 429s the server sent and the most requests it let in
within one window of T (refused ones aside) against N; the requests lost (not answered with
their record in the end: must be 0); Redis round trips per request (``backend.stats["calls"]``
summed over the workers); the settle calls among them (answers stamped in Redis, those of one
event-loop turn in one call, and lease renewals); the fallback grants and
outages (``redis-outage``); and the 429s that arrived outside the fallback period (from Redis's
stop to one window after the last worker saw it back: must be 0).

Targets: ``redis`` and ``redis-skew``: 0 429s in every run and at least 95% of the ideal.
``redis-outage``: nothing lost, 429s only while the fallback runs (a bounded number).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

from bulk_pull import Scenario, ideal_seconds, served, table

import productive_async as pa
from productive_async import sandbox

MODES = ("alone", "redis", "redis-skew", "redis-outage")
#: How far worker 0's wall clock runs ahead in ``redis-skew``, in seconds.
SKEW = 0.25


@dataclass
class Options:
    workers: int
    requests: int
    rate: pa.Rate
    latency: float
    concurrency: int
    outage_at: float
    outage: float


# ----------------------------------------------------------------------------- redis-server


def _redis_server() -> str:
    found = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None)
    if found is None:
        sys.exit("benchmarks/shared_budget.py needs redis-server (Debian: apt-get install "
                 "redis-server)")
    return found


class RedisServer:
    """A private redis-server on a unix socket in ``directory``: no TCP port, no persistence."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.socket = directory / "redis.sock"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self) -> None:
        import redis

        self.process = subprocess.Popen(
            [_redis_server(), "--port", "0", "--unixsocket", str(self.socket),
             "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
             "--daemonize", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}")
            try:
                with redis.Redis(unix_socket_path=str(self.socket), socket_timeout=0.5) as probe:
                    probe.ping()
                return
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError,
                    redis.exceptions.BusyLoadingError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def stop(self) -> None:
        """Terminate the process started here (by its PID), killing it if it lingers."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def redis_server() -> Iterator[RedisServer]:
    with tempfile.TemporaryDirectory(prefix="shared-budget-") as directory:
        server = RedisServer(Path(directory))
        try:
            server.start()
            yield server
        finally:
            server.stop()


# ----------------------------------------------------------------------------- the workers


class _Events(logging.Handler):
    """Keeps the monotonic time of the SDK's "Redis is unavailable" / "is back" warnings."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.events: list[tuple[float, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("Redis ("):
            self.events.append((time.monotonic(),
                                "back" if " is back " in message else "down"))


def _skew_wall_clock(seconds: float) -> None:
    wall, wall_ns = time.time, time.time_ns
    time.time = lambda: wall() + seconds  # type: ignore[assignment]
    time.time_ns = lambda: wall_ns() + round(seconds * 1e9)  # type: ignore[assignment]


async def _work(base_url: str, redis_url: str | None, local_share: float, ids: list[int],
                options: Options, barrier: Barrier) -> dict[str, Any]:
    backend = pa.RedisBackend(redis_url, local_share=local_share) if redis_url else None
    retry = pa.RetryPolicy(max_retries=20, backoff_base=0.2, backoff_cap=2.0)
    answered = 0
    failures: list[str] = []
    async with pa.Productive(
        sandbox.TOKEN, sandbox.ORGANIZATION_ID, base_url=base_url,
        rate_limits=pa.RateLimits.only(standard=options.rate), retry=retry,
        rate_backend=backend,
    ) as client:
        await asyncio.get_running_loop().run_in_executor(None, barrier.wait)
        pending = iter(ids)

        async def one_task() -> None:
            nonlocal answered
            for entry_id in pending:
                try:
                    record = await client.time_entries.get(entry_id)
                except Exception as exc:
                    failures.append(f"{entry_id}: {type(exc).__name__}: {exc}")
                else:
                    if record.id == str(entry_id):
                        answered += 1
                    else:
                        failures.append(f"{entry_id}: got record {record.id}")

        await asyncio.gather(*(one_task() for _ in range(min(options.concurrency, len(ids)))))
        finished = time.monotonic()
        client_stats = dict(client.stats)
    return {"finished": finished, "answered": answered, "failures": failures,
            "client": client_stats, "backend": dict(backend.stats) if backend else None}


def _worker(index: int, mode: str, base_url: str, redis_url: str | None, local_share: float,
            ids: list[int], options: Options, barrier: Barrier,
            results: multiprocessing.Queue[dict[str, Any]]) -> None:
    if mode == "redis-skew" and index == 0:
        _skew_wall_clock(SKEW)  # before any client, loop or connection exists
    events = _Events()
    logger = logging.getLogger("productive_async")
    logger.addHandler(events)
    logger.setLevel(logging.WARNING)
    logger.propagate = False  # the 429 and outage warnings of N processes: kept off stderr
    try:
        result = asyncio.run(_work(base_url, redis_url, local_share, ids, options, barrier))
    except BaseException as exc:
        result = {"finished": time.monotonic(), "answered": 0, "client": {}, "backend": None,
                  "failures": [f"worker {index}: {type(exc).__name__}: {exc}"]}
    result.update(index=index, events=events.events)
    results.put(result)


def _parts(requests: int, workers: int) -> list[list[int]]:
    """Ids 1..requests in ``workers`` contiguous parts as equal as can be."""
    ids = list(range(1, requests + 1))
    size, extra = divmod(requests, workers)
    parts, start = [], 0
    for index in range(workers):
        end = start + size + (index < extra)
        parts.append(ids[start:end])
        start = end
    return parts


def _run_workers(base_url: str, mode: str, options: Options, ideal: float) -> dict[str, Any]:
    """Start the workers together; stop Redis mid-run for ``redis-outage``."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(options.workers + 1)
    results: multiprocessing.Queue[dict[str, Any]] = context.Queue()
    local_share = 1 / options.workers if mode == "redis-outage" else 0.25
    with redis_server() if mode != "alone" else _nothing() as server:
        processes = [
            context.Process(target=_worker, daemon=True, args=(
                index, mode, base_url, server.url if server else None, local_share, part,
                options, barrier, results))
            for index, part in enumerate(_parts(options.requests, options.workers))
        ]
        for process in processes:
            process.start()
        outage: tuple[float, float] | None = None
        try:
            barrier.wait(timeout=120)
            started = time.monotonic()
            if mode == "redis-outage" and server is not None:
                time.sleep(max(0.0, started + options.outage_at * ideal - time.monotonic()))
                server.stop()
                stopped = time.monotonic()
                time.sleep(options.outage)
                server.start()
                outage = (stopped, time.monotonic())
            collected = []
            for _ in processes:
                try:
                    collected.append(results.get(timeout=60 + 20 * ideal))
                except queue.Empty:
                    break
        finally:
            for process in processes:
                process.join(timeout=10)
                if process.is_alive():
                    process.kill()
                    process.join()
    return {"started": started, "results": collected, "outage": outage}


@contextmanager
def _nothing() -> Iterator[None]:
    yield None


# ----------------------------------------------------------------------------- a run


def run(mode: str, options: Options) -> dict[str, str]:
    rate = options.rate
    ideal = ideal_seconds(options.requests, [rate], options.latency, first_alone=False)
    scenario = Scenario(mode, {"standard": rate})
    done, log = served(scenario, options.requests, options.latency,
                       lambda url: _run_workers(url, mode, options, ideal))
    results = done["results"]
    elapsed = max(r["finished"] for r in results) - done["started"] if results else float("nan")
    answered = sum(r["answered"] for r in results)
    for result in results:
        for failure in result["failures"][:5]:
            print(f"{mode}: worker {result['index']}: {failure}", file=sys.stderr)
    backends = [r["backend"] for r in results if r["backend"] is not None]

    def summed(key: str) -> str:
        return str(sum(b[key] for b in backends)) if backends else "-"

    start = done["started"]
    refused = sorted(e[0] for e in log.entries if e[3] == 429)
    if refused and mode != "alone":
        owner = {entry_id: index
                 for index, part in enumerate(_parts(options.requests, options.workers))
                 for entry_id in part}
        seen = sorted((e[0], owner.get(int(e[2].rsplit("/", 1)[-1]), -1))
                      for e in log.entries if e[3] == 429)
        print(f"{mode}: 429s at (s from the start, worker) "
              f"{', '.join(f'{at - start:.2f} {index}' for at, index in seen[:20])}",
              file=sys.stderr)
    after_fallback = "-"
    if done["outage"] is not None:
        stopped, restarted = done["outage"]
        # The fallback runs in a worker from its first failed Redis call to its "is back";
        # a worker still in it when it finished ends it there.
        ends = [restarted]
        for result in results:
            kinds = [kind for _, kind in result["events"]]
            backs = [at for at, kind in result["events"] if kind == "back"]
            if backs:
                ends.append(max(backs))
            elif "down" in kinds:
                ends.append(result["finished"])
        until = max(ends) + rate.seconds + rate.effective_margin
        after_fallback = str(sum(1 for at in refused if not stopped <= at <= until))
        print(f"{mode}: Redis stopped at {stopped - start:.2f} s, started again at "
              f"{restarted - start:.2f} s; last worker back at {max(ends) - start:.2f} s",
              file=sys.stderr)
    return {
        "mode": mode,
        "workers": str(options.workers),
        "requests": str(options.requests),
        "time s": f"{elapsed:.2f}",
        "ideal s": f"{ideal:.2f}",
        "of ideal": f"{100 * ideal / elapsed:.1f}%",
        "429s": str(log.count(429)),
        "most in a server window": f"{log.max_in_window(rate.seconds)}/{rate.requests}",
        "lost": str(options.requests - answered),
        "Redis calls/request": (f"{sum(b['calls'] for b in backends) / options.requests:.2f}"
                                if backends else "-"),
        "settles": summed("settles"),
        "fallback grants": summed("fallback_grants") if mode == "redis-outage" else "-",
        "outages": summed("outages") if mode == "redis-outage" else "-",
        "429s after fallback": after_fallback,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=4, help="processes sharing the token")
    parser.add_argument("--requests", type=int, default=400, help="gets in all (400)")
    parser.add_argument("--rate", default="40/2", metavar="N/T", help="the limit (40/2)")
    parser.add_argument("--margin", type=float, default=None,
                        help="the Rate's margin in seconds (default: the SDK's, 1%% of T)")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per answer")
    parser.add_argument("--concurrency", type=int, default=20,
                        help="requests in flight per worker (20)")
    parser.add_argument("--modes", default=",".join(MODES),
                        help=f"comma-separated, of {', '.join(MODES)} (all)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each mode (1)")
    parser.add_argument("--outage-at", type=float, default=0.4,
                        help="redis-outage: when Redis stops, as a fraction of the ideal time")
    parser.add_argument("--outage", type=float, default=5.0,
                        help="redis-outage: seconds Redis stays down (5)")
    args = parser.parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so every redis-server started here is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = set(modes) - set(MODES)
    if unknown:
        parser.error(f"unknown mode(s): {', '.join(sorted(unknown))}")
    if any(m != "alone" for m in modes):
        _redis_server()
    requests, seconds = args.rate.split("/")
    options = Options(workers=args.workers, requests=args.requests,
                      rate=pa.Rate(int(requests), float(seconds), margin=args.margin),
                      latency=args.latency,
                      concurrency=args.concurrency, outage_at=args.outage_at,
                      outage=args.outage)
    rows = []
    for _ in range(args.repeat):  # the modes alternate, so a slow spell hits them all
        for mode in modes:
            row = run(mode, options)
            print(" | ".join(f"{k}: {v}" for k, v in row.items()), file=sys.stderr)
            rows.append(row)
    rows.sort(key=lambda row: modes.index(row["mode"]))
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
