"""Every example of the README (and of the public API's docstrings) runs against the sandbox
and does what its text says.

The blocks come from ``readme_examples.py`` (markdown-it-py; see there why not pytest-examples).
How they run is described for the README's readers in an HTML comment at its first Python
block; in short:

- A ``python`` block runs on its own, with top-level ``await``, against a sandbox served over
  loopback from a thread, in the namespace the README's prose implies (:func:`namespace`).
  Every expression statement's value is kept. A comment after one that reads as a Python value
  (``# '2016/01', datetime.date(2025, 11, 15)``; a parenthesised remark at its end left aside)
  must equal it; ``# PATCH /deals/{id}/close`` must be among the requests the block sent;
  ``# filter[status]=1`` among their query strings. A paginator an example builds but does not
  use is fetched once, so the query it would send is checked too. The claims in prose are
  checked by the test of the block's section (``CHECKS``), which also counts the generic claims
  so that none degrades into prose unnoticed.
- A ``pytest-file`` block is written to an empty directory and run with pytest in a subprocess,
  as a user's test file.
- A ``bash`` block runs command by command: ``export`` sets the sandbox's credentials for
  ``...`` values; ``productive-async`` runs in-process through click's ``CliRunner`` (the
  serving ``sandbox`` command as a subprocess, stopped with Ctrl-C) with ``PRODUCTIVE_BASE_URL``
  at the sandbox; ``python`` runs a script of the checkout in a subprocess (``smoke-args``
  appended). Each command must succeed; ``COMMAND_CHECKS`` says what its output must hold.
- ``ci`` blocks (the Quickstart: they install from the package index) are not run here:
  ``.ci/run`` runs them verbatim in a fresh copy of the checkout, the second being this suite.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import csv
import datetime as dt
import io
import json
import os
import queue
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import tokenize
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from aiohttp import web
from click.testing import CliRunner
from readme_examples import ROOT, Block, docstring_blocks, doctest_docstrings, readme_blocks

import productive_async as pa
from productive_async import sandbox, testing
from productive_async._cli import main
from productive_async.sandbox._server import MAX_LINE_SIZE

PUBLIC_MODULES = [pa, sandbox, testing]
README_BLOCKS = readme_blocks()
BLOCKS = README_BLOCKS + docstring_blocks(PUBLIC_MODULES)
TODAY = dt.date.today()


def blocks(kind: str) -> list[Any]:
    chosen = [b for b in BLOCKS if kind_of(b) == kind]
    return [pytest.param(b, id=b.id) for b in chosen]


def kind_of(block: Block) -> str:
    if block.marker in ("ci", "pytest-file"):
        return block.marker
    return block.language


# ----------------------------------------------------------------------------- the sandbox


class ServedSandbox:
    """A sandbox served over loopback from a thread with its own event loop (so that code
    calling ``asyncio.run``, like the CLI, can use it too), recording every request's method
    and path with query string (relative to ``/api/v2/``)."""

    def __init__(self, box: sandbox.Sandbox) -> None:
        self.box = box
        self.requests: list[tuple[str, str]] = []
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None

    async def _record(self, request: web.Request, response: web.StreamResponse) -> None:
        self.requests.append((request.method, request.path_qs.removeprefix("/api/v2/")))

    async def _start(self) -> None:
        app = self.box.make_app()
        app.on_response_prepare.append(self._record)
        self._runner = web.AppRunner(app, access_log=None, max_line_size=MAX_LINE_SIZE,
                                     max_field_size=MAX_LINE_SIZE)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}/api/v2/"

    def __enter__(self) -> ServedSandbox:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[ServedSandbox]:
    """A tenth of the demo data (the README's records are there at every scale), the documented
    rate limits, today's date; the environment points at it as the README's prose assumes."""
    with ServedSandbox(sandbox.Sandbox(scale=0.1)) as box:
        monkeypatch.setenv("PRODUCTIVE_BASE_URL", box.url)
        monkeypatch.setenv("PRODUCTIVE_API_TOKEN", sandbox.TOKEN)
        monkeypatch.setenv("PRODUCTIVE_ORGANIZATION_ID", sandbox.ORGANIZATION_ID)
        yield box


# ----------------------------------------------------------------------------- python blocks


@contextlib.asynccontextmanager
async def namespace(served: ServedSandbox) -> AsyncIterator[dict[str, Any]]:
    """What the README's prose implies its examples have at hand (documented in the README's
    HTML comment at its first Python block)."""
    async with pa.Productive(sandbox.TOKEN, sandbox.ORGANIZATION_ID, base_url=served.url) as c:
        yield {
            "__name__": "__readme__", "dt": dt, "pa": pa,
            "token": sandbox.TOKEN, "organization_id": sandbox.ORGANIZATION_ID, "client": c,
            "deal": await c.deals.get(685), "deal_id": 685, "invoice_id": 72,
            "contract_id": 20, "entry_id": 4, "me": pa.Ref("people", "24"),
            "service": pa.Ref("services", "2"), "company": pa.Ref("companies", "1809"),
            "day": dt.date(2026, 1, 16),
        }


_REMARK = re.compile(r"\s*\([^()]*\)\s*$")
_REQUEST = re.compile(r"^(GET|POST|PATCH|PUT|DELETE)\s+/(\S+)")
CLAIM_NAMES: dict[str, Any] = {
    "datetime": dt, "Decimal": Decimal, **{name: getattr(pa, name) for name in pa.__all__},
}


def value_claim(comment: str) -> tuple[bool, Any]:
    """``(True, value)`` if ``comment`` reads as a Python value (its final parenthesised
    remark left aside), else ``(False, None)``: prose."""
    for text in (comment, _REMARK.sub("", comment)):
        try:
            code = compile(text, "<claim>", "eval")
        except SyntaxError:
            continue
        try:
            return True, eval(code, {**CLAIM_NAMES})
        except NameError:
            return False, None
    return False, None


@dataclass
class Run:
    """What running a Python block left: its namespace, every expression statement's values by
    line, the requests it sent, and how many claims of each kind were checked."""

    namespace: dict[str, Any]
    values: dict[int, list[Any]]
    requests: list[tuple[str, str]]
    checked: dict[str, int] = field(default_factory=lambda: {"value": 0, "request": 0,
                                                              "filter": 0})

    def sent(self, method: str, pattern: str) -> list[str]:
        """Paths (no query) of the requests sent with ``method`` matching regex ``pattern``."""
        return [p.split("?")[0] for m, p in self.requests
                if m == method and re.fullmatch(pattern, p.split("?")[0])]


class _KeepValues(ast.NodeTransformer):
    """``expr`` -> ``__readme_value__(end_line, expr)`` for every expression statement."""

    def visit_Expr(self, node: ast.Expr) -> ast.Expr:
        call = ast.Call(ast.Name("__readme_value__", ast.Load()),
                        [ast.Constant(node.end_lineno), node.value], [])
        return ast.copy_location(ast.Expr(call), node)


async def run_python(block: Block, served: ServedSandbox) -> Run:
    source = block.source
    comments = {tok.start[0]: tok.string[1:].strip()
                for tok in tokenize.generate_tokens(io.StringIO(source).readline)
                if tok.type == tokenize.COMMENT}
    tree = ast.fix_missing_locations(_KeepValues().visit(ast.parse(source)))
    code = compile(tree, block.origin, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    values: dict[int, list[Any]] = {}

    def keep(line: int, value: Any) -> Any:
        values.setdefault(line, []).append(value)
        return value

    first_request = len(served.requests)
    async with namespace(served) as ns:
        ns["__readme_value__"] = keep
        result = eval(code, ns)
        if asyncio.iscoroutine(result):
            await result
        for line_values in values.values():  # built but never used: fetch it once
            for value in line_values:
                if isinstance(value, pa.Paginator):
                    await value.first()
    run = Run(ns, values, served.requests[first_request:])
    expression_ends = {node.end_lineno for node in ast.walk(tree) if isinstance(node, ast.Expr)}
    for line, comment in comments.items():
        if line in expression_ends:
            is_value, expected = value_claim(comment)
            if is_value:
                assert line in values, f"{block.origin}+{line}: never evaluated"
                assert values[line][-1] == expected, f"{block.origin}+{line}: # {comment}"
                run.checked["value"] += 1
        match = _REQUEST.match(comment)
        if match:
            pattern = re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(match[2]))
            assert run.sent(match[1], pattern), f"{block.origin}+{line}: # {comment} not sent"
            run.checked["request"] += 1
        if comment.startswith("filter["):
            sent = {part for _, path in run.requests
                    for part in unquote(urlsplit(path).query).split("&")}
            for claim in comment.split("&"):
                if "..." not in claim:
                    assert claim in sent, f"{block.origin}+{line}: {claim} not sent"
                    run.checked["filter"] += 1
    return run


Check = Callable[[Run, sandbox.Sandbox], None]
CHECKS: dict[str, Check] = {}


def checks(section: str) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        CHECKS[section] = check
        return check

    return register


@checks("The client")
def _client(run: Run, box: sandbox.Sandbox) -> None:
    assert run.checked == {"value": 3, "request": 1, "filter": 0}
    ns = run.namespace
    assert isinstance(ns["invoice"].company, pa.models.Company)  # the included record
    entry = ns["entry"]  # the loop ran; sorted by -date, the last is the earliest
    assert isinstance(entry, pa.models.TimeEntry) and entry.date == dt.date(2025, 12, 15)
    deal = ns["deal"]
    assert run.sent("POST", "deals") and run.sent("PATCH", f"deals/{deal.id}")
    assert run.sent("DELETE", f"deals/{deal.id}") and box.store.get("deals", deal.id) is None


@checks("Filters")
def _filters(run: Run, box: sandbox.Sandbox) -> None:
    assert run.checked == {"value": 0, "request": 0, "filter": 4}
    assert len(run.sent("GET", "invoices")) == 2  # both paginators' queries were accepted


@checks("Custom actions")
def _custom_actions(run: Run, box: sandbox.Sandbox) -> None:
    assert run.checked == {"value": 0, "request": 1, "filter": 0}
    line, attribution = run.namespace["items"]
    assert isinstance(line, pa.LineItemPreview) and line.quantity == Decimal("0.5")
    assert line.total == line.unit_price // 2 == 50_000  # half of budget 685's EUR 1,000.00
    assert isinstance(attribution, pa.InvoiceAttributionPreview)
    assert attribution.amount == 50_000
    invoice = box.store.get("invoices", "72")["attributes"]
    assert invoice["number"] and invoice["finalized_on"] == TODAY.isoformat()  # numbered
    assert invoice["amount"] == 50_000 and invoice["sent_on"] == TODAY.isoformat()
    deal = box.store.get("deals", "685")["attributes"]
    assert deal["delivered_on"] == "2026-03-14"
    assert box.store.get("contracts", "20")["attributes"]["next_occurrence_on"] == "2026-03-01"
    assert run.sent("POST", "contracts/20/generate")
    assert all(box.store.get("time_entries", str(i))["attributes"]["approved"]
               for i in (1, 2, 3, 4))


@checks("Bulk operations")
def _bulk(run: Run, box: sandbox.Sandbox) -> None:
    notes = {i: box.store.get("time_entries", i)["attributes"]["note"] for i in ("1", "2")}
    assert notes == {"1": "x", "2": "y"}
    assert all(box.store.get("deals", i) is None for i in ("10", "11", "12"))
    created = [e for e in box.store.table("time_entries").values()
               if e["attributes"]["date"] == "2026-01-16"
               and e["relationships"]["person"]["id"] == "24"]
    assert sorted(e["attributes"]["time"] for e in created) == [60, 90]
    result = run.namespace["result"]  # create_many's: one outcome per item, in input order
    assert [o.ok for o in result] == [True, True]
    assert [o.record.name for o in result] == ["A", "B"]
    assert [o.index for o in result] == [0, 1]


@checks("Custom fields")
def _custom_fields(run: Run, box: sandbox.Sandbox) -> None:
    assert run.checked == {"value": 1, "request": 0, "filter": 0}
    assert len(run.sent("GET", "custom_fields")) == 1  # fetched once per client
    values = next(v[-1] for v in run.values.values()
                  if isinstance(v[-1], dict) and "Lead source" in v[-1])  # fields.values(deal)
    assert values["Expected hours"] == 20 and values["Tier"] == "Gold"
    assert isinstance(values["Lead source"], pa.CustomFieldOption)
    fields, deal = run.namespace["fields"], run.namespace["deal"]
    stored = box.store.get("deals", deal.id)["attributes"]["custom_fields"]
    event = fields["Lead source"].encode("Event")
    assert stored[fields["Lead source"].id] == event
    assert stored[fields["Expected hours"].id] == 12


@checks("productive_async.sandbox")
def _sandbox_docstring(run: Run, box: sandbox.Sandbox) -> None:
    invoice = run.namespace["invoice"]  # the loop ran to the last EUR invoice
    assert isinstance(invoice, pa.models.Invoice) and invoice.currency == "EUR"


@pytest.mark.parametrize("block", blocks("python"))
async def test_python_example(block: Block, served: ServedSandbox) -> None:
    run = await run_python(block, served)
    check = CHECKS.get(block.section)
    if check is not None:
        check(run, served.box)


def test_every_section_check_has_its_block() -> None:
    sections = {b.section for b in BLOCKS if kind_of(b) == "python"}
    assert set(CHECKS) <= sections


# ----------------------------------------------------------------------------- pytest files


@pytest.mark.parametrize("block", blocks("pytest-file"))
def test_pytest_file_example(block: Block, tmp_path: Path) -> None:
    """Written to an empty directory as a user's test file and run as a user runs pytest: no
    configuration of theirs, this package installed (its plugin found through the entry
    point)."""
    (tmp_path / "test_example.py").write_text(block.source, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "test_example.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=50,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    tests = len(re.findall(r"^(?:async )?def test_", block.source, re.MULTILINE))
    assert re.search(rf"\b{tests} passed\b", done.stdout), done.stdout


# ----------------------------------------------------------------------------- shell blocks


def shell_commands(source: str) -> list[list[str]]:
    """Each command of a shell block as arguments (continuation lines joined, comments off)."""
    commands, current = [], ""
    for line in source.splitlines():
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        argv = shlex.split(current + line, comments=True)
        current = ""
        if argv:
            commands.append(argv)
    return commands


@dataclass
class Done:
    """A command's exit status and output (stdout, stderr); ``cwd`` where it wrote files."""

    argv: list[str]
    status: int
    stdout: str
    stderr: str
    cwd: Path


CommandCheck = Callable[[Done, sandbox.Sandbox], None]
COMMAND_CHECKS: dict[str, CommandCheck] = {}


def command_check(prefix: str) -> Callable[[CommandCheck], CommandCheck]:
    def register(check: CommandCheck) -> CommandCheck:
        COMMAND_CHECKS[prefix] = check
        return check

    return register


@command_check("productive-async pull invoices")
def _pull_invoices(done: Done, box: sandbox.Sandbox) -> None:
    with (done.cwd / "invoices.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows and all(r["currency"] == "EUR" for r in rows)
    dates = [r["invoiced_on"] for r in rows]
    assert min(dates) >= "2025-01-01" and dates == sorted(dates, reverse=True)
    expected = {i["id"]: i for i in box.store.table("invoices").values()
                if i["attributes"]["currency"] == "EUR"
                and i["attributes"]["invoiced_on"] >= "2025-01-01"}
    assert {r["id"] for r in rows} == set(expected)
    for row in rows:  # the company's id (none on some of the seed documents' invoices)
        company = expected[row["id"]]["relationships"]["company"]
        assert row["company"] == (company["id"] if company else "")
    assert any(r["company"] == "1809" for r in rows)


@command_check("productive-async pull time_entries")
def _pull_time_entries(done: Done, box: sandbox.Sandbox) -> None:
    entries = [json.loads(line) for line in (done.cwd / "entries.jsonl").read_text().splitlines()]
    theirs = {e["id"] for e in box.store.table("time_entries").values()
              if e["relationships"]["person"]["id"] in ("24", "25")}
    assert {e["id"] for e in entries} == theirs and len(entries) == 12


@command_check("productive-async pull reports/time_reports")
def _pull_time_reports(done: Done, box: sandbox.Sandbox) -> None:
    lines = (done.cwd / "by_person.jsonl").read_text().splitlines()
    objects = [json.loads(line) for line in lines]
    rows = [o for o in objects if o["type"] == "time_reports"]
    people = {o["id"] for o in objects if o["type"] == "people"}  # the groups, included
    assert rows and all(r["relationships"]["person"]["data"]["id"] in people for r in rows)
    assert sum(r["attributes"]["count"] for r in rows) == len(box.store.table("time_entries"))


@command_check("productive-async pull deals")
def _pull_gold_deals(done: Done, box: sandbox.Sandbox) -> None:
    deals = [json.loads(line) for line in done.stdout.splitlines()]
    assert sorted(d["id"] for d in deals) == ["10", "685"]
    assert all(d["attributes"]["custom_fields"]["42"] == "Gold" for d in deals)


@command_check("productive-async sandbox")
def _serve(done: Done, box: sandbox.Sandbox) -> None:
    assert "sandbox listening on http://127.0.0.1:8080/api/v2/" in done.stderr
    assert f"X-Auth-Token: {sandbox.TOKEN}" in done.stderr
    assert json.loads(done.stdout)["data"]["id"] == "27"  # what a request got meanwhile


@command_check("productive-async resources")
def _resources(done: Done, box: sandbox.Sandbox) -> None:
    listed = {tuple(line.split()[:2]) for line in done.stdout.splitlines()}
    reference = json.loads((ROOT / "spec" / "operations.json").read_text(encoding="utf-8"))
    operations = {(method, path) for path, methods in reference.items() for method in methods}
    assert len(operations) == 595 and operations <= listed  # every operation of the API
    lines = done.stdout.splitlines()
    assert any("/invoices/{id}/finalize" in line and "client.invoices.finalize" in line
               for line in lines)


@command_check("python examples/invoicing_workflow.py")
def _workflow(done: Done, box: sandbox.Sandbox) -> None:
    assert re.search(r"number: \d{4}/\d{4}", done.stdout), done.stdout
    assert f"sent_on: {TODAY.isoformat()}" in done.stdout


@command_check("python examples/bulk_update.py")
def _bulk_example(done: Done, box: sandbox.Sandbox) -> None:
    assert re.search(r"time_entries_updated: [1-9]", done.stdout), done.stdout
    assert "budgets_created: 6" in done.stdout


@command_check("python benchmarks/")
def _benchmark(done: Done, box: sandbox.Sandbox) -> None:
    assert "|---|" in done.stdout  # its table


def _port_taken(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp binds
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def serve_until_interrupted(args: list[str], env: dict[str, str], cwd: Path) -> Done:
    """``productive-async sandbox ...``: wait until it listens, ask it for invoice 27 (the
    answer is the result's stdout), then press Ctrl-C."""
    port = int(args[args.index("--port") + 1]) if "--port" in args else 8080
    if _port_taken(port):
        pytest.skip(f"port {port}, which the README's command serves on, is taken here")
    process = subprocess.Popen(
        [sys.executable, "-c", "from productive_async._cli import main; main()", *args],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in process.stderr or ()],
                     daemon=True).start()
    stderr = []
    try:
        while not any("X-Organization-Id" in line for line in stderr):
            stderr.append(lines.get(timeout=30))
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v2/invoices/27",
            headers={"X-Auth-Token": sandbox.TOKEN,
                     "X-Organization-Id": sandbox.ORGANIZATION_ID,
                     "Accept": "application/vnd.api+json",
                     "Content-Type": "application/vnd.api+json"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            body = answer.read().decode()
        process.send_signal(signal.SIGINT)
        status = process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    while not lines.empty():
        stderr.append(lines.get())
    return Done(["productive-async", *args], status, body, "".join(stderr), cwd)


def run_command(argv: list[str], block: Block, env: dict[str, str], cwd: Path) -> Done:
    if argv[0] == "productive-async" and argv[1:2] == ["sandbox"]:
        return serve_until_interrupted(argv[1:], env, cwd)
    if argv[0] == "productive-async":
        result = CliRunner().invoke(main, argv[1:], env=env, catch_exceptions=False)
        return Done(argv, result.exit_code, result.stdout, result.stderr, cwd)
    if argv[0] == "python":
        smoke = shlex.split(block.argument) if block.marker == "smoke-args" else []
        done = subprocess.run([sys.executable, *argv[1:], *smoke], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=50)
        return Done(argv, done.returncode, done.stdout, done.stderr, ROOT)
    raise AssertionError(f"{block.origin}: no runner for {argv[0]!r} (mark the block?)")


@pytest.mark.parametrize("block", blocks("bash"))
def test_shell_example(block: Block, served: ServedSandbox, tmp_path: Path,
                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # where the commands write their files
    env = dict(os.environ)
    placeholders = {"PRODUCTIVE_API_TOKEN": sandbox.TOKEN,
                    "PRODUCTIVE_ORGANIZATION_ID": sandbox.ORGANIZATION_ID}
    ran = 0
    for argv in shell_commands(block.source):
        if argv[0] == "export":
            for assignment in argv[1:]:
                name, _, value = assignment.partition("=")
                env[name] = placeholders.get(name, value) if value == "..." else value
            continue
        done = run_command(argv, block, env, tmp_path)
        assert done.status == 0, f"{shlex.join(argv)}:\n{done.stdout}\n{done.stderr}"
        command = shlex.join(argv)
        for prefix, check in COMMAND_CHECKS.items():
            if command.startswith(prefix):
                check(done, served.box)
        ran += 1
    assert ran, f"{block.origin}: no command"


# ----------------------------------------------------------------------------- coverage


def test_every_block_has_a_runner_and_ci_runs_the_quickstart() -> None:
    for block in BLOCKS:
        assert kind_of(block) in ("python", "bash", "pytest-file", "ci"), block.id
    ci = [b for b in README_BLOCKS if b.marker == "ci"]
    assert [b.section for b in ci] == ["Quickstart", "Quickstart"]
    assert "pip install -e \".[test]\" && python -m pytest" in ci[-1].source
    assert "tests/readme_examples.py --ci" in (ROOT / ".ci" / "run").read_text()


def test_every_command_check_has_its_command() -> None:
    commands = [shlex.join(argv) for b in BLOCKS if kind_of(b) == "bash"
                for argv in shell_commands(b.source)]
    for prefix in COMMAND_CHECKS:
        assert any(c.startswith(prefix) for c in commands), prefix


def test_the_public_api_has_no_doctest_examples_left_unrun() -> None:
    assert doctest_docstrings(PUBLIC_MODULES) == []
