"""The ``productive-async`` command: pull any resource to JSON Lines or CSV, run the sandbox.

Built on click (arguments, help, exit codes) and rich (the live progress display on stderr).
Exit codes: 0 done, 1 the API or the network failed, 2 bad usage (unknown resource, bad
filter, missing credentials).
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import re
import sys
from collections.abc import Iterator
from typing import IO, Any

import attrs
import click
import orjson
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from ._client import Productive
from ._errors import InvalidRequestError, ProductiveError, UnknownResourceError
from ._models import Record
from ._output import csv_text, plain_text, terminal_text
from ._registry import FILTER_OPERATORS, ResourceSpec, default_registry
from ._transport import DEFAULT_BASE_URL

_FILTER = re.compile(r"^(?P<name>[A-Za-z0-9_$]+)(?P<path>(\[[^\]=]*\])*)=(?P<value>.*)$",
                     re.DOTALL)


def parse_filter(text: str, filters: dict[str, Any]) -> None:
    """Add one ``--filter`` (``NAME=VALUE``, ``NAME[OP]=VALUE`` or
    ``custom_fields[ID][OP]=VALUE``) to ``filters``; raises :class:`click.BadParameter`."""
    match = _FILTER.match(text)
    if not match:
        raise click.BadParameter(
            f"{text!r}: expected NAME=VALUE or NAME[OP]=VALUE", param_hint="--filter"
        )
    name, value = match["name"], match["value"]
    path = re.findall(r"\[([^\]]*)\]", match["path"] or "")
    if name == "custom_fields":
        if not path or len(path) > 2:
            raise click.BadParameter(
                f"{text!r}: expected custom_fields[ID]=VALUE or custom_fields[ID][OP]=VALUE",
                param_hint="--filter",
            )
        node = filters.setdefault("custom_fields", {})
        if len(path) == 1:
            node[path[0]] = value
        else:
            _check_op(text, path[1])
            node.setdefault(path[0], {})[path[1]] = value
        return
    if len(path) > 1:
        raise click.BadParameter(f"{text!r}: one [OP] at most", param_hint="--filter")
    if path:
        _check_op(text, path[0])
        existing = filters.get(name)
        if not isinstance(existing, dict):
            existing = {} if existing is None else {"eq": existing}
        existing[path[0]] = value
        filters[name] = existing
    else:
        filters[name] = value


def _check_op(text: str, op: str) -> None:
    if op not in FILTER_OPERATORS:
        raise click.BadParameter(
            f"{text!r}: unknown operator {op!r} (use one of {', '.join(sorted(FILTER_OPERATORS))})",
            param_hint="--filter",
        )


def _split(values: tuple[str, ...]) -> list[str]:
    return [item for value in values for item in value.split(",") if item]


# ----------------------------------------------------------------------------- writers


class JsonLinesWriter:
    """One JSON:API resource object per line (``id``, ``type``, ``attributes``,
    ``relationships``), exactly as the API sent it."""

    def __init__(self, out: IO[bytes]) -> None:
        self._out = out

    def write_page(self, records: list[Record]) -> None:
        dumps = orjson.dumps
        self._out.write(b"".join(
            dumps(_resource_object(r), option=orjson.OPT_APPEND_NEWLINE) for r in records
        ))


def _resource_object(record: Record) -> dict[str, Any]:
    raw = record.raw
    return {
        "id": record.id,
        "type": record.type,
        "attributes": raw.get("attributes") or {},
        "relationships": raw.get("relationships") or {},
    }


class CsvWriter:
    """CSV with a header of ``id``, ``type``, the registry's attributes (then any others seen on
    the first page), and one column per relationship holding the related id(s); values that are
    objects or lists are JSON; attributes first seen after the header was written go to a
    final ``extra_attributes`` JSON column, so nothing is dropped.

    Text cells that a spreadsheet would run as a formula get a leading ``'`` (numbers never
    change; see :func:`~productive_async._output.csv_text`); written to a terminal, cells also
    lose their control sequences."""

    def __init__(self, out: IO[bytes], spec: ResourceSpec) -> None:
        self._text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
        self._terminal = _isatty(out)
        self._spec = spec
        self._writer: Any = None
        self._attributes: list[str] = []
        self._relationships: list[str] = []

    def write_page(self, records: list[Record]) -> None:
        if not records:
            return
        if self._writer is None:
            self._start(records)
        known = set(self._attributes)
        for record in records:
            attributes = record.raw.get("attributes") or {}
            relationships = record.raw.get("relationships") or {}
            row = [csv_text(record.id), csv_text(record.type)]
            row.extend(_cell(attributes.get(name)) for name in self._attributes)
            row.extend(_rel_cell(relationships.get(name)) for name in self._relationships)
            extra = {k: v for k, v in attributes.items() if k not in known}
            row.append(orjson.dumps(extra).decode() if extra else "")
            self._writerow(row)

    def _writerow(self, row: list[str]) -> None:
        if self._terminal:
            row = [terminal_text(cell) for cell in row]
        self._writer.writerow(row)

    def _start(self, records: list[Record]) -> None:
        names = list(self._spec.attributes)
        seen = set(names)
        relationships = list(self._spec.relationships)
        rel_seen = set(relationships)
        for record in records:
            for name in record.raw.get("attributes") or {}:
                if name not in seen:
                    seen.add(name)
                    names.append(name)
            for name in record.raw.get("relationships") or {}:
                if name not in rel_seen:
                    rel_seen.add(name)
                    relationships.append(name)
        self._attributes = names
        self._relationships = relationships
        self._writer = csv.writer(self._text)
        header = ["id", "type", *names, *relationships, "extra_attributes"]
        self._writerow([csv_text(name) for name in header])

    def close(self) -> None:
        self._text.detach()


def _isatty(out: IO[bytes]) -> bool:
    try:
        return out.isatty()
    except (AttributeError, ValueError):  # a closed or unusual stream
        return False


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return orjson.dumps(value).decode()
    if isinstance(value, str):
        return csv_text(value)
    return str(value)  # a number: never changed


def _rel_cell(value: Any) -> str:
    if not isinstance(value, dict) or "data" not in value or value["data"] is None:
        return ""
    data = value["data"]
    if isinstance(data, list):
        return csv_text(",".join(str(d.get("id")) for d in data))
    return csv_text(str(data.get("id")))


# ----------------------------------------------------------------------------- commands


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="productive-async")
def main() -> None:
    """Pull Productive.io data at the API's rate limits, or run the embedded sandbox."""


@main.command()
@click.argument("resource")
@click.option("--filter", "filters", multiple=True, metavar="NAME[OP]=VALUE",
              help="Filter, e.g. status=1, invoiced_on[gt_eq]=2025-01-01, "
                   "custom_fields[42][eq]=x. Repeatable.")
@click.option("--sort", multiple=True, help="Sort keys, e.g. -created_at,number.")
@click.option("--include", multiple=True, help="Relationships to include, e.g. company.")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="Extra query parameter, e.g. group=person on reports.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, writable=True),
              help="Output file (default: standard output).")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default=None,
              help="Output format (default: from --out's extension, else jsonl).")
@click.option("--page-size", type=click.IntRange(1, 200), default=200, show_default=True)
@click.option("--max-items", type=click.IntRange(0), default=None)
@click.option("--pagination", type=click.Choice(["pages", "cursor"]), default="pages",
              show_default=True, help="pages: concurrent and fast; cursor: consistent.")
@click.option("--sandbox", "use_sandbox", is_flag=True,
              help="Start the embedded sandbox in-process and pull from it.")
@click.option("--token", envvar="PRODUCTIVE_API_TOKEN", show_envvar=True,
              help="API token.")
@click.option("--organization-id", envvar="PRODUCTIVE_ORGANIZATION_ID", show_envvar=True,
              help="Organization id.")
@click.option("--base-url", envvar="PRODUCTIVE_BASE_URL", default=DEFAULT_BASE_URL,
              show_default=True)
@click.option("--quiet", "-q", is_flag=True, help="No progress display.")
def pull(
    resource: str,
    filters: tuple[str, ...],
    sort: tuple[str, ...],
    include: tuple[str, ...],
    params: tuple[str, ...],
    out_path: str | None,
    fmt: str | None,
    page_size: int,
    max_items: int | None,
    pagination: str,
    use_sandbox: bool,
    token: str | None,
    organization_id: str | None,
    base_url: str,
    quiet: bool,
) -> None:
    """Stream every record of RESOURCE (e.g. invoices, time_entries, reports/time_reports)."""
    registry = default_registry()
    name = resource.removeprefix("reports/")
    if name not in registry:
        raise click.UsageError(str(UnknownResourceError(resource, sorted(registry.resources))))
    spec = registry[name]
    parsed: dict[str, Any] = {}
    for text in filters:
        parse_filter(text, parsed)
    extra: dict[str, str] = {}
    for text in params:
        key, sep, value = text.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{text!r}: expected NAME=VALUE", param_hint="--param")
        extra[key] = value
    if fmt is None:
        fmt = "csv" if out_path and out_path.lower().endswith(".csv") else "jsonl"
    if not use_sandbox and (not token or not organization_id):
        raise click.UsageError(
            "credentials missing: set PRODUCTIVE_API_TOKEN and PRODUCTIVE_ORGANIZATION_ID "
            "(or --token/--organization-id), or use --sandbox"
        )
    console = Console(stderr=True)
    try:
        job = PullJob(
            spec=spec, filters=parsed, sort=_split(sort), include=_split(include), params=extra,
            out_path=out_path, fmt=fmt, page_size=page_size, max_items=max_items,
            pagination=pagination, use_sandbox=use_sandbox, token=token,
            organization_id=organization_id, base_url=base_url,
        )
        count = asyncio.run(_pull(job, None if quiet else console))
    except KeyboardInterrupt:
        raise click.Abort() from None
    except InvalidRequestError as exc:
        raise click.UsageError(terminal_text(exc)) from None
    except ProductiveError as exc:
        # The API's titles and details, as text: no control sequences, markup or emoji codes.
        console.print(Text.assemble(("error: ", "red"), plain_text(exc)), soft_wrap=True)
        sys.exit(1)
    if not quiet:
        where = out_path or "standard output"
        console.print(f"{count} {spec.name} written to {escape(where)}", highlight=False,
                      soft_wrap=True)


@attrs.frozen
class PullJob:
    """What ``pull`` was asked to do, parsed and checked."""

    spec: ResourceSpec
    filters: dict[str, Any]
    sort: list[str]
    include: list[str]
    params: dict[str, str]
    out_path: str | None
    fmt: str
    page_size: int
    max_items: int | None
    pagination: str
    use_sandbox: bool
    token: str | None
    organization_id: str | None
    base_url: str


async def _pull(job: PullJob, console: Console | None) -> int:
    spec, max_items = job.spec, job.max_items
    token, organization_id, base_url = job.token, job.organization_id, job.base_url
    async with contextlib.AsyncExitStack() as stack:
        if job.use_sandbox:
            from . import sandbox

            if console is not None:
                console.print("starting the sandbox ...", highlight=False)
            base_url = await stack.enter_async_context(sandbox.serve())
            token, organization_id = sandbox.TOKEN, sandbox.ORGANIZATION_ID
        assert token is not None and organization_id is not None
        client = await stack.enter_async_context(
            Productive(token, organization_id, base_url=base_url)
        )
        rc = client.resource(spec.name)
        out = stack.enter_context(_open(job.out_path))
        writer: JsonLinesWriter | CsvWriter = (
            CsvWriter(out, spec) if job.fmt == "csv" else JsonLinesWriter(out)
        )
        written = 0
        display = _ProgressDisplay(console, spec.name) if console is not None else None
        if display is not None:
            stack.callback(display.stop)
        extra = dict(job.params)
        group = extra.pop("group", None)
        paginator = rc.list(
            filters=job.filters or None, sort=job.sort or None, include=job.include or None,
            group=group, page_size=job.page_size, pagination=job.pagination,
            max_items=max_items, extra_query=extra,
        )
        pages = paginator.pages()
        await stack.enter_async_context(contextlib.aclosing(pages))
        async for page in pages:
            records = page.records
            if max_items is not None:
                records = records[: max(0, max_items - written)]
            writer.write_page(records)
            written += len(records)
            if display is not None:
                total = page.total_count
                if max_items is not None and total is not None:
                    total = min(total, max_items)
                display.update(written, total)
            if max_items is not None and written >= max_items:
                break
        if isinstance(writer, CsvWriter):
            writer.close()
        return written


class _ProgressDisplay:
    """Records written, of how many, and how fast: a rich progress bar on stderr."""

    def __init__(self, console: Console, name: str) -> None:
        self._console = console
        self._name = name
        self._progress: Progress | None = None
        self._task: Any = None

    def update(self, written: int, total: int | None) -> None:
        if self._progress is None:
            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TaskProgressColumn(),
                TextColumn("{task.fields[rate]} records/s"),
                TimeElapsedColumn(),
                console=self._console,
            )
            self._progress.start()
            self._task = self._progress.add_task(self._name, total=total, rate="-")
        elapsed = self._progress.tasks[0].elapsed or 0.0
        rate = f"{written / elapsed:,.0f}" if elapsed > 0 else "-"
        self._progress.update(self._task, completed=written, total=total, rate=rate)

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()


@contextlib.contextmanager
def _open(path: str | None) -> Iterator[IO[bytes]]:
    if path is None or path == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    with open(path, "wb") as handle:
        yield handle


@main.command(name="sandbox")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Demo data seed.")
@click.option("--latency", type=float, default=0.0, show_default=True,
              help="Seconds added to every answer.")
@click.option("--no-rate-limits", is_flag=True, help="Do not enforce rate limits.")
def sandbox_command(host: str, port: int, seed: int, latency: float,
                    no_rate_limits: bool) -> None:
    """Run the sandbox server until interrupted."""
    from . import sandbox

    console = Console(stderr=True)
    console.print("generating demo data ...", highlight=False)
    box = (
        sandbox.Sandbox(seed=seed, latency=latency, rate_limits=None)
        if no_rate_limits
        else sandbox.Sandbox(seed=seed, latency=latency)
    )

    async def run() -> None:
        async with box.serve(host, port) as url:
            console.print(
                f"sandbox listening on {url}\n"
                f"  X-Auth-Token: {sandbox.TOKEN}\n  X-Organization-Id: {sandbox.ORGANIZATION_ID}",
                highlight=False,
            )
            await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


@main.command()
def resources() -> None:
    """List every operation of the API: HTTP method, path, and the SDK call that sends it."""
    for spec in sorted(default_registry(), key=lambda s: s.path):
        for method, path, call in spec.endpoints():
            click.echo(f"{method:<7}{path:<52} {call}")


if __name__ == "__main__":  # python -m productive_async._cli
    main()
