"""Bulk pulls at scale from the command line (issue 9): raw JSON Lines, resumable pulls, the
whole-organization export, honest progress, and the engine options resuming relies on.

Most tests serve a sandbox over loopback: in the test's own event loop for the pull machinery
(``_pulls.pull``/``_pulls.export`` with a client without rate limits, so hundreds of pages take
a second), or in a thread of its own for the command line (``CliRunner``), or for a child
process (Ctrl-C). No test sleeps for timing: rate-limit waits run on a ``FakeClock``.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import os
import random
import shutil
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from click.testing import CliRunner
from rich.console import Console

import productive_async as pa
from productive_async import _pulls, sandbox
from productive_async._cli import main, make_encoder
from productive_async._pulls import Meter, PullSpec, PullState, state_path

JSONAPI = "application/vnd.api+json"


# --------------------------------------------------------------------------- helpers


def companies(count: int, start: int = 1) -> list[dict[str, Any]]:
    """``count`` companies with ids ``start``.., each with a few attributes of its own."""
    return [
        {"id": str(n), "type": "companies",
         "attributes": {"name": f"Company {n}", "billing_name": f"Company {n} Ltd",
                        "vat": f"VAT{n * 7919 % 100000:05d}", "default_currency": "EUR",
                        "tag_list": ["a", f"t{n % 7}"]},
         "relationships": {}}
        for n in range(start, start + count)
    ]


def box_of(count: int) -> sandbox.Sandbox:
    return sandbox.Sandbox(demo_data=False, rate_limits=None, records=companies(count))


def client_of(url: str, **options: Any) -> pa.Productive:
    options.setdefault("rate_limits", pa.RateLimits.unlimited())
    return pa.Productive(sandbox.TOKEN, sandbox.ORGANIZATION_ID, base_url=url, **options)


def spec_of(**values: Any) -> PullSpec:
    values.setdefault("resource", "companies")
    values.setdefault("source", {"sandbox": True})
    return PullSpec(**values)


def ids_in(path: Path) -> list[str]:
    return [json.loads(line)["id"] for line in path.read_bytes().splitlines()]


class Control:
    """What the threaded server does beyond the sandbox: refuse (403) every GET of ``path``
    whose page number is ``fail_from`` or later, and count requests in flight."""

    def __init__(self) -> None:
        self.fail_path: str | None = None
        self.fail_from = 1
        self.in_flight = 0
        self.most_in_flight = 0

    @web.middleware
    async def middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0)
            path = request.match_info.get("tail", "").strip("/")
            number = int(request.query.get("page[number]", "1"))
            if path == self.fail_path and number >= self.fail_from:
                body = {"errors": [{"status": "403", "title": "Forbidden",
                                    "detail": "not allowed today"}]}
                return web.json_response(body, status=403, content_type=JSONAPI)
            response: web.StreamResponse = await handler(request)
            return response
        finally:
            self.in_flight -= 1


@contextlib.contextmanager
def threaded(box: sandbox.Sandbox, control: Control | None = None) -> Iterator[str]:
    """Serve ``box`` from a thread with its own event loop (for ``CliRunner``, whose command
    runs ``asyncio.run`` in the test's thread); yields the base URL."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    holder: dict[str, Any] = {}

    async def serve() -> None:
        app = box.make_app()
        if control is not None:
            app.middlewares.append(control.middleware)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        holder["url"] = f"http://{host}:{port}/api/v2/"
        holder["stop"] = stop = asyncio.Event()
        started.set()
        await stop.wait()
        await runner.cleanup()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    assert started.wait(30), "the sandbox thread did not start"
    try:
        yield holder["url"]
    finally:
        loop.call_soon_threadsafe(holder["stop"].set)
        thread.join(30)
        loop.close()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    def point_at(url: str) -> None:
        monkeypatch.setenv("PRODUCTIVE_API_TOKEN", sandbox.TOKEN)
        monkeypatch.setenv("PRODUCTIVE_ORGANIZATION_ID", sandbox.ORGANIZATION_ID)
        monkeypatch.setenv("PRODUCTIVE_BASE_URL", url)

    return point_at


class Interrupt(Exception):
    """Stands in for whatever stops a pull (a crash, a lost network)."""


async def served_objects(url: str, path: str, size: int) -> list[dict[str, Any]]:
    """The resource objects of every page, as the server sends them (bare aiohttp)."""
    headers = {"X-Auth-Token": sandbox.TOKEN, "X-Organization-Id": sandbox.ORGANIZATION_ID,
               "Content-Type": JSONAPI}
    out: list[dict[str, Any]] = []
    async with aiohttp.ClientSession(headers=headers) as session:
        number = 1
        while True:
            params = {"page[number]": str(number), "page[size]": str(size)}
            async with session.get(f"{url}{path}", params=params) as response:
                document = await response.json(content_type=None)
            out.extend(document["data"])
            if number >= document["meta"]["total_pages"]:
                return out
            number += 1


# --------------------------------------------------------------------------- the raw path


def test_jsonl_lines_are_the_resource_objects_as_served(
    tmp_path: Path, env: Callable[[str], None]
) -> None:
    box = box_of(450)
    out = tmp_path / "companies.jsonl"
    with threaded(box) as url:
        env(url)
        result = CliRunner().invoke(main, ["pull", "companies", "--page-size", "100",
                                           "--out", str(out)])
        served = asyncio.run(served_objects(url, "companies", 100))
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_bytes().splitlines()]
    assert lines == served and len(lines) == 450
    assert "450 companies written to" in result.output
    assert not state_path(out).exists()  # removed when the pull completes


def test_csv_flattens_the_objects_and_a_resumed_csv_has_one_header(tmp_path: Path) -> None:
    async def run() -> tuple[bytes, bytes]:
        box = box_of(300)
        async with box.serve() as url, client_of(url) as client:
            reference, out = tmp_path / "ref.csv", tmp_path / "out.csv"
            spec = spec_of(page_size=20, fmt="csv")
            await _pulls.pull(client, spec, reference, make_encoder)

            def stop(state: PullState, total: int | None) -> None:
                if state.pages == 4:
                    raise Interrupt

            with pytest.raises(Interrupt):
                await _pulls.pull(client, spec, out, make_encoder, listener=stop)
            await _pulls.pull(client, spec, out, make_encoder, resume=True)
            return reference.read_bytes(), out.read_bytes()

    reference, resumed = asyncio.run(run())
    assert resumed == reference
    rows = list(csv.DictReader(io.StringIO(resumed.decode())))
    assert len(rows) == 300 and rows[0]["name"] == "Company 1"
    assert rows[0]["tag_list"] == '["a","t1"]'
    assert resumed.count(b"id,type,") == 1


def test_csv_pages_for_a_terminal_lose_control_sequences() -> None:
    spec = pa.default_registry()["companies"]
    hostile = {"id": "1", "type": "companies",
               "attributes": {"name": "=cmd\x1b]0;owned\x07 \x1b[2J"}, "relationships": {}}
    for terminal in (True, False):
        text = make_encoder(spec, "csv", None, terminal).encode([hostile]).decode()
        assert ("\x1b" in text) is not terminal
        assert "'=cmd" in text  # a formula cell, neutralised either way


# --------------------------------------------------------------------------- resuming


class Stopper:
    """A listener that stops a pull once ``target`` pages are written: raising ``Interrupt``
    (``"error"``, ``"crash"``) or cancelling its task as Ctrl-C does (``"cancel"``); for a
    crash it also copies the state file two pages before (an earlier checkpoint) to
    ``older``."""

    def __init__(self, kind: str, target: int, out: Path, older: Path) -> None:
        self.kind, self.target, self.out, self.older = kind, target, out, older
        self.task: asyncio.Task[PullState] | None = None

    def __call__(self, state: PullState, total: int | None) -> None:
        if self.kind == "crash" and state.pages == self.target - 2:
            shutil.copyfile(state_path(self.out), self.older)
        if state.pages < self.target:
            return
        if self.kind == "cancel":
            assert self.task is not None
            asyncio.get_running_loop().call_soon(self.task.cancel)
        else:
            raise Interrupt


@pytest.mark.parametrize("pagination", ["pages", "cursor"])
async def test_twenty_interruptions_of_a_240_page_pull_end_with_exactly_its_records(
    tmp_path: Path, pagination: str
) -> None:
    """Interrupted at random points (an error raised after a page, the task cancelled as
    Ctrl-C does, a crash whose checkpoint lagged and left a page and a half after it), each
    time resumed: the output ends byte for byte as one uninterrupted pull."""
    rng = random.Random(f"issue-9-{pagination}")
    spec = spec_of(page_size=5, pagination=pagination)
    box = box_of(1200)  # 240 pages of 5
    reference, out = tmp_path / "reference.jsonl", tmp_path / "out.jsonl"
    async with box.serve() as url, client_of(url) as client:
        whole = await _pulls.pull(client, spec, reference, make_encoder)
        assert whole.pages == 240 and whole.records == 1200
        interruptions = 0
        kinds = ["error", "cancel", "crash"]
        while interruptions < 20:
            kind = kinds[interruptions % 3]
            before = PullState.load(state_path(out))
            start = before.pages if before is not None else 0
            target = start + rng.randint(1, 10)
            older = tmp_path / "older.state.json"
            stopper = Stopper(kind, target, out, older)
            task = stopper.task = asyncio.create_task(_pulls.pull(
                client, spec, out, make_encoder, resume=before is not None, listener=stopper
            ))
            with pytest.raises((Interrupt, asyncio.CancelledError)):
                await task
            interruptions += 1
            state = PullState.load(state_path(out))
            assert state is not None and not state.done
            assert state.pages >= target and state.offset == out.stat().st_size
            if kind == "crash":
                if older.exists():
                    os.replace(older, state_path(out))
                with out.open("ab") as handle:  # what the crash left after the checkpoint
                    handle.write(b'{"id":"999999","type":"companies"}\n{"id":"99')
        final = await _pulls.pull(client, spec, out, make_encoder, resume=True)
    assert interruptions == 20
    assert final.records == 1200 and final.pages == 240
    assert out.read_bytes() == reference.read_bytes()
    assert ids_in(out) == [str(n) for n in range(1, 1201)]
    assert not state_path(out).exists()


async def test_cursor_resume_continues_from_the_saved_cursor_under_writes(
    tmp_path: Path,
) -> None:
    box = box_of(100)
    out = tmp_path / "out.jsonl"
    spec = spec_of(page_size=10, pagination="cursor")
    async with box.serve() as url, client_of(url) as client:

        def stop(state: PullState, total: int | None) -> None:
            if state.pages == 3:
                raise Interrupt

        with pytest.raises(Interrupt):
            await _pulls.pull(client, spec, out, make_encoder, listener=stop)
        saved = PullState.load(state_path(out))
        assert saved is not None and saved.cursor and saved.records == 30
        box.store.delete("companies", "5")  # written already: stays in the output
        box.store.delete("companies", "50")  # not yet written: must not appear
        box.store.put(companies(1, start=101)[0])  # created meanwhile: appears at the end
        final = await _pulls.pull(client, spec, out, make_encoder, resume=True)
    expected = [str(n) for n in range(1, 102) if n != 50]
    assert ids_in(out) == expected and final.records == 100


def test_resume_refuses_a_changed_collection_and_continues_an_unchanged_one(
    tmp_path: Path, env: Callable[[str], None]
) -> None:
    runner = CliRunner()
    control = Control()
    box = box_of(600)
    out, reference = tmp_path / "out.jsonl", tmp_path / "reference.jsonl"
    args = ["pull", "companies", "--page-size", "10", "--out", str(out)]
    with threaded(box, control) as url:
        env(url)
        assert runner.invoke(main, [*args[:-1], str(reference)]).exit_code == 0
        # A network failure part way: exit 1, the pages so far kept with their state.
        control.fail_path, control.fail_from = "companies", 31
        failed = runner.invoke(main, args)
        assert failed.exit_code == 1, failed.output
        assert "403" in failed.output and "resume with --resume" in failed.output
        saved = PullState.load(state_path(out))
        assert saved is not None and 1 <= saved.pages <= 30
        control.fail_path = None

        # Resuming with other options is refused before any request.
        other = runner.invoke(main, [*args, "--resume", "--page-size", "20"])
        assert other.exit_code == 2 and "other options" in other.output
        assert "page_size: 10 then, 20 now" in other.output

        # A record deleted before the position, one created after: same count, but the
        # last page written now holds other records.
        removed = box.store.table("companies").pop("3")
        box.store.put(companies(1, start=601)[0])
        box.store.touch()
        changed = runner.invoke(main, [*args, "--resume"])
        assert changed.exit_code == 1, changed.output
        assert "changed" in changed.output and "--pagination cursor" in changed.output
        assert state_path(out).exists()

        # A record deleted: total_count differs.
        box.store.delete("companies", "601")
        changed = runner.invoke(main, [*args, "--resume"])
        assert changed.exit_code == 1 and "total_count is 599, it was 600" in changed.output

        # As it was: the resume completes and the file equals the uninterrupted pull.
        box.store.put(removed)
        resumed = runner.invoke(main, [*args, "--resume"])
    assert resumed.exit_code == 0, resumed.output
    assert "600 companies written to" in resumed.output
    assert out.read_bytes() == reference.read_bytes()
    assert not state_path(out).exists()


@pytest.mark.parametrize(
    ("prepare", "args", "message"),
    [
        (None, ["--resume"], "nothing to resume"),
        (None, ["--resume", "--out", "-"], "--resume needs --out FILE"),
        ("truncate", ["--resume"], "is shorter"),
        ("replace", ["--resume"], "is not the file its state describes"),
        ("garble", ["--resume"], "not a state file this version can read"),
    ],
)
def test_resume_says_why_it_cannot(
    tmp_path: Path, env: Callable[[str], None], prepare: str | None, args: list[str],
    message: str,
) -> None:
    out = tmp_path / "out.jsonl"
    with threaded(box_of(50)) as url:
        env(url)
        if prepare is not None:
            async def interrupted() -> None:
                async with client_of(url) as client:
                    def stop(state: PullState, total: int | None) -> None:
                        if state.pages == 3:
                            raise Interrupt

                    with pytest.raises(Interrupt):
                        await _pulls.pull(client, spec_of(page_size=10, source={
                            "base_url": url, "organization_id": sandbox.ORGANIZATION_ID,
                        }), out, make_encoder, listener=stop)

            asyncio.run(interrupted())
            content = out.read_bytes()
            if prepare == "truncate":
                out.write_bytes(content[:-10])
            elif prepare == "replace":
                out.write_bytes(content[:-6] + b'"X"}}\n')  # its last line edited
            else:
                state_path(out).write_text("{not json")
        result = CliRunner().invoke(
            main, ["pull", "companies", "--page-size", "10", "--out", str(out), *args]
        )
    assert result.exit_code == 2, result.output
    assert message in result.output


async def _wait_for(predicate: Callable[[], bool], what: str) -> None:
    for _ in range(3000):  # at most 30 s
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


async def test_ctrl_c_exits_130_with_the_state_saved_and_resume_completes(
    tmp_path: Path,
) -> None:
    """A real SIGINT to the command. 120 pages of 10: with the documented 100 requests /
    10 s, the command cannot be done before the signal comes (at 50 pages or more), and the
    resumed one needs no more than one window."""
    box = box_of(1200)
    out = tmp_path / "out.jsonl"
    async with box.serve() as url:
        env = {**os.environ, "PRODUCTIVE_API_TOKEN": sandbox.TOKEN,
               "PRODUCTIVE_ORGANIZATION_ID": sandbox.ORGANIZATION_ID,
               "PRODUCTIVE_BASE_URL": url}
        command = [sys.executable, "-m", "productive_async._cli", "pull", "companies",
                   "--page-size", "10", "--out", str(out)]
        process = await asyncio.create_subprocess_exec(
            *command, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        pages = 0

        def far_enough() -> bool:
            nonlocal pages
            with contextlib.suppress(_pulls.ResumeError):
                state = PullState.load(state_path(out))
                pages = state.pages if state is not None else 0
            return pages >= 50

        await _wait_for(far_enough, "50 pages")
        process.send_signal(signal.SIGINT)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
        assert process.returncode == 130, stderr.decode()
        assert "interrupted; resume with --resume" in stderr.decode()
        state = PullState.load(state_path(out))
        assert state is not None and 50 <= state.pages < 120
        assert state.offset == out.stat().st_size  # the file ends on a page boundary

        resumed = await asyncio.create_subprocess_exec(
            *command, "--resume", "--quiet", env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        _, stderr = await asyncio.wait_for(resumed.communicate(), 30)
        assert resumed.returncode == 0, stderr.decode()
    assert ids_in(out) == [str(n) for n in range(1, 1201)]
    assert not state_path(out).exists()


async def test_a_second_pull_into_the_same_file_is_refused_while_the_first_runs(
    tmp_path: Path,
) -> None:
    clock = pa.FakeClock()
    box = box_of(30)
    out = tmp_path / "out.jsonl"
    async with box.serve() as url, client_of(
        url, clock=clock, rate_limits=pa.RateLimits.only(standard=pa.Rate(2, 10, margin=0))
    ) as client:
        seen: list[int] = []
        first = asyncio.create_task(_pulls.pull(
            client, spec_of(page_size=5), out, make_encoder,
            listener=lambda state, total: seen.append(state.pages), prefetch=1,
        ))
        await _wait_for(lambda: 2 in seen, "two pages")  # then held by the rate limiter
        for resume in (False, True):
            with pytest.raises(_pulls.ResumeError, match="being written by another pull"):
                await _pulls.pull(client, spec_of(page_size=5), out, make_encoder,
                                  resume=resume)
        assert len(ids_in(out)) == 10  # untouched by the refused pulls
        for _ in range(3):
            await clock.advance(10)
        state = await asyncio.wait_for(first, 10)
    assert state.records == 30 and ids_in(out) == [str(n) for n in range(1, 31)]


async def test_ctrl_c_during_an_export_exits_130_and_export_resume_completes(
    tmp_path: Path,
) -> None:
    box = box_of(1200)
    out_dir = tmp_path / "export"
    async with box.serve() as url:
        env = {**os.environ, "PRODUCTIVE_API_TOKEN": sandbox.TOKEN,
               "PRODUCTIVE_ORGANIZATION_ID": sandbox.ORGANIZATION_ID,
               "PRODUCTIVE_BASE_URL": url}
        command = [sys.executable, "-m", "productive_async._cli", "export", "--out-dir",
                   str(out_dir), "--page-size", "10", "companies", "people"]
        process = await asyncio.create_subprocess_exec(
            *command, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        companies_state = state_path(out_dir / "companies.jsonl")

        def far_enough() -> bool:
            with contextlib.suppress(_pulls.ResumeError):
                state = PullState.load(companies_state)
                return state is not None and state.pages >= 50
            return False

        await _wait_for(far_enough, "50 pages")
        process.send_signal(signal.SIGINT)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
        text = stderr.decode()
        assert process.returncode == 130, text
        assert "export summary" in text and "interrupted; resume with --resume" in text
        resumed = await asyncio.create_subprocess_exec(
            *command, "--resume", env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        _, stderr = await asyncio.wait_for(resumed.communicate(), 30)
        assert resumed.returncode == 0, stderr.decode()
    assert ids_in(out_dir / "companies.jsonl") == [str(n) for n in range(1, 1201)]
    assert (out_dir / "people.jsonl").read_bytes() == b""  # the sandbox has none
    assert not companies_state.exists()


# --------------------------------------------------------------------------- export


async def test_export_pulls_each_collection_into_its_file_within_one_budget(
    tmp_path: Path, small_box: sandbox.Sandbox
) -> None:
    names = ["companies", "people", "deals", "invoices"]
    specs = [spec_of(resource=name) for name in names]
    report = _pulls.ExportReport(tmp_path, specs)
    async with small_box.serve() as url, client_of(url) as client:
        await _pulls.export(client, specs, tmp_path, make_encoder, report.outcomes, jobs=2)
        for name in names:
            expected = [r.id async for r in client.resource(name).list()]
            assert ids_in(tmp_path / f"{name}.jsonl") == expected, name
            assert not state_path(tmp_path / f"{name}.jsonl").exists()
    assert [o.status for o in report.outcomes] == ["done"] * 4
    assert all(o.meter.records > 0 for o in report.outcomes)


def test_export_prefetch_shares_one_window() -> None:
    client = pa.Productive("t", "1")
    assert _pulls.export_prefetch(client, 4) * 4 <= 64
    assert _pulls.export_prefetch(client, 1) == 64
    assert _pulls.export_prefetch(client, 100) == 1
    small = pa.Productive("t", "1", rate_limits=pa.RateLimits.only(standard=pa.Rate(10, 1)))
    assert _pulls.export_prefetch(small, 3) == 3


def test_export_from_the_cli_one_failure_then_resume(
    tmp_path: Path, env: Callable[[str], None]
) -> None:
    """Exit 1 when a collection fails (the others complete, the summary says which), then
    ``export --resume`` pulls only what is missing; never more requests in flight than the
    client's window (64)."""
    box = sandbox.Sandbox(scale=0.1, rate_limits=None)
    control = Control()
    control.fail_path, control.fail_from = "deals", 1
    runner = CliRunner()
    names = ["companies", "deals", "people", "expenses"]
    out_dir = tmp_path / "export"
    with threaded(box, control) as url:
        env(url)
        first = runner.invoke(main, ["export", "--out-dir", str(out_dir), "--page-size", "20",
                                     *names])
        assert first.exit_code == 1, first.output
        assert "failed" in first.output and "403" in first.output
        summary = first.output[first.output.index("export summary"):]
        for name in names:
            assert name in summary
        assert "requests" in summary and "429s" in summary and "retries" in summary
        assert (out_dir / "companies.jsonl").exists()
        assert PullState.load(state_path(out_dir / "companies.jsonl")).done  # type: ignore[union-attr]
        assert not PullState.load(state_path(out_dir / "deals.jsonl")).done  # type: ignore[union-attr]
        companies_before = (out_dir / "companies.jsonl").read_bytes()

        other = runner.invoke(main, ["export", "--out-dir", str(out_dir), "--resume", *names])
        assert other.exit_code == 2 and "other options" in other.output

        control.fail_path = None
        second = runner.invoke(main, ["export", "--out-dir", str(out_dir), "--page-size", "20",
                                      "--resume", *names])
        assert second.exit_code == 0, second.output
        assert "done earlier" in second.output
        again = runner.invoke(main, ["export", "--out-dir", str(out_dir), "--page-size", "20",
                                     "--resume", *names])
        assert again.exit_code == 2 and "nothing to resume" in again.output

        async def expected(name: str) -> list[str]:
            async with client_of(url) as client:
                return [r.id async for r in client.resource(name).list()]

        for name in names:
            assert ids_in(out_dir / f"{name}.jsonl") == asyncio.run(expected(name)), name
            assert not state_path(out_dir / f"{name}.jsonl").exists()
    assert (out_dir / "companies.jsonl").read_bytes() == companies_before
    assert control.most_in_flight <= 64


def test_export_sandbox_default_collections_are_the_core_ones(runner_help: str) -> None:
    for name in _pulls.DEFAULT_EXPORT:
        assert name in runner_help.replace("\n", " ")
    assert len(_pulls.DEFAULT_EXPORT) == 12


@pytest.fixture
def runner_help() -> str:
    result = CliRunner().invoke(main, ["export", "--help"])
    assert result.exit_code == 0
    return result.output


def test_export_sandbox_from_the_cli(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["export", "--sandbox", "--out-dir", str(tmp_path),
                                       "companies", "people", "expenses", "tasks"])
    assert result.exit_code == 0, result.output
    counts = {name: len(ids_in(tmp_path / f"{name}.jsonl"))
              for name in ("companies", "people", "expenses", "tasks")}
    box = sandbox.Sandbox()  # what --sandbox serves: the default demo data
    expected = {name: len(box.store.table(name)) for name in counts}
    assert counts == expected and min(counts.values()) > 0
    assert "export summary" in result.output and f"{sum(expected.values())}" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["export", "--sandbox", "--out-dir", "{dir}", "gizmos"], "unknown resource 'gizmos'"),
        (["export", "--sandbox", "--out-dir", "{dir}", "--resume"], "nothing to resume"),
        (["export", "--out-dir", "{dir}"], "credentials missing"),
        (["export", "--sandbox", "--out-dir", "{dir}", "--pagination", "cursor",
          "reports/time_reports"], "does not support --pagination cursor"),
    ],
)
def test_export_usage_errors_exit_2(
    tmp_path: Path, args: list[str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PRODUCTIVE_API_TOKEN", raising=False)
    monkeypatch.delenv("PRODUCTIVE_ORGANIZATION_ID", raising=False)
    result = CliRunner().invoke(main, [a.format(dir=tmp_path) for a in args])
    assert result.exit_code == 2, result.output
    assert message in result.output


async def test_export_interrupted_keeps_every_state_and_resumes(
    tmp_path: Path, small_box: sandbox.Sandbox
) -> None:
    names = ["companies", "deals", "time_entries", "invoices"]
    specs = [spec_of(resource=name, page_size=20) for name in names]
    async with small_box.serve() as url, client_of(url) as client:
        report = _pulls.ExportReport(tmp_path, specs)
        run = asyncio.create_task(_pulls.export(client, specs, tmp_path, make_encoder,
                                                report.outcomes, jobs=2))
        await _wait_for(lambda: sum(o.meter.pages for o in report.outcomes) >= 10, "pages")
        run.cancel()
        with pytest.raises(asyncio.CancelledError):
            await run
        states = [PullState.load(state_path(o.path)) for o in report.outcomes]
        assert any(s is not None and not s.done for s in states)
        _pulls.check_export_resume(tmp_path, specs)
        report = _pulls.ExportReport(tmp_path, specs)
        await _pulls.export(client, specs, tmp_path, make_encoder, report.outcomes,
                            resume=True, jobs=2)
        assert {o.status for o in report.outcomes} <= {"done", "done earlier"}
        for name in names:
            expected = [r.id async for r in client.resource(name).list()]
            assert ids_in(tmp_path / f"{name}.jsonl") == expected, name
            assert not state_path(tmp_path / f"{name}.jsonl").exists()


# --------------------------------------------------------------------------- progress


class Ticks:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_meter_rate_is_recent_and_eta_follows_it() -> None:
    clock = Ticks()
    meter = Meter("invoices", clock=clock, window=10.0)
    meter.start()
    assert meter.rate() is None and meter.eta() is None
    meter.update(PullState({}, records=500), 5_500)  # resumed with 500 already written
    for _ in range(10):  # 200 records/s
        clock.now += 1
        meter.update(PullState({}, records=meter.records + 200), 5_500)
    assert meter.rate() == pytest.approx(200)
    assert meter.eta() == pytest.approx((5_500 - 2_500) / 200)
    assert meter.status() == "200 records/s, ETA 15 s"
    for _ in range(10):  # then 50 records/s: the rate is of the last 10 s only
        clock.now += 1
        meter.update(PullState({}, records=meter.records + 50), 5_500)
    assert meter.rate() == pytest.approx(50)


def test_meter_says_what_a_stalled_pull_waits_for() -> None:
    clock = Ticks()
    wait: list[float | None] = [None]
    meter = Meter("deals", clock=clock, wait_probe=lambda: wait[0])
    assert meter.status() == "queued"
    meter.start()
    meter.update(PullState({}, records=0), 1000)
    clock.now += 2
    meter.update(PullState({}, records=200, pages=1), 1000)
    clock.now += 0.5
    assert "records/s" in meter.status()
    clock.now += 1.0  # no page for 1.5 s
    wait[0] = 25.2
    assert meter.status() == "waiting for rate-limit window: 26 s"
    wait[0] = 0.0
    assert meter.status() == "waiting for the API: 2 s"
    wait[0] = 125.0
    assert meter.status() == "waiting for rate-limit window: 2 min 05 s"
    meter.finish("done")
    assert meter.status() == "done"


async def test_progress_shows_the_rate_limit_wait_while_the_pull_is_held(
    tmp_path: Path,
) -> None:
    """A pull held by the client's rate limiter (3 requests / 10 s, on a FakeClock) shows
    "waiting for rate-limit window" with the seconds left, and completes when time moves."""
    clock = pa.FakeClock()
    box = box_of(30)
    async with box.serve() as url, client_of(
        url, clock=clock, rate_limits=pa.RateLimits.only(standard=pa.Rate(3, 10, margin=0))
    ) as client:
        meter = Meter("companies", clock=clock.time,
                      wait_probe=lambda: _pulls.rate_limit_wait(client))
        console = Console(file=io.StringIO(), force_terminal=True, width=150)
        board = _pulls.Board(console, [meter])
        meter.start()
        async with board.shown():
            run = asyncio.create_task(_pulls.pull(
                client, spec_of(page_size=5, pagination="cursor"), tmp_path / "out.jsonl",
                make_encoder,
                listener=meter.update, prefetch=1,
            ))
            for _ in range(100):
                await asyncio.sleep(0.01)
                if meter.pages == 3:
                    break
            assert meter.pages == 3
            await clock.advance(2)
            assert meter.status() == "waiting for rate-limit window: 8 s"
            board.refresh()
            shown = console.file.getvalue()  # type: ignore[attr-defined]
            assert "waiting for rate-limit window: 8 s" in shown and "15/" in shown
            await clock.advance(8)
            for _ in range(100):
                await asyncio.sleep(0.01)
                if meter.pages == 6:
                    break
            assert meter.pages == 6
            await clock.advance(10)
            state = await asyncio.wait_for(run, 10)
    assert state.records == 30


async def test_rate_limit_wait_reads_windows_and_429_pauses() -> None:
    clock = pa.FakeClock()
    client = pa.Productive("t", "1", clock=clock, rate_limits=pa.RateLimits.only(
        standard=pa.Rate(2, 10, margin=0)))
    assert _pulls.rate_limit_wait(client) == 0.0
    slots = [await client.gate.acquire(("standard",)) for _ in range(2)]
    assert _pulls.rate_limit_wait(client) is None  # both in flight: it depends on the answers
    for slot in slots:
        client.gate.release(slot)
    assert _pulls.rate_limit_wait(client) == pytest.approx(10)
    await clock.advance(4)
    assert _pulls.rate_limit_wait(client) == pytest.approx(6)
    client.gate.pause(("standard",), clock.time() + 30)
    assert _pulls.rate_limit_wait(client) == pytest.approx(30)
    assert client.gate.snapshot() == {"standard": 2}  # nothing taken by looking
