"""The ``productive-async`` command: pull any resource to JSON Lines or CSV (resumably),
export several collections at once, run the sandbox.

Built on click (arguments, help, exit codes) and rich (the live progress display on stderr);
the pull and export machinery (state files, progress, the export's shared budget) is in
:mod:`productive_async._pulls`. Exit codes: 0 done, 1 the API, the network or the file system
failed (an export: some collection failed), 2 bad usage (unknown resource, bad filter,
missing credentials, nothing to resume, other options than the interrupted pull), 130
interrupted (Ctrl-C; resumable with ``--resume``).
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import logging
import os
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import click
import orjson
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
from rich.text import Text

from ._errors import (
    DriftError,
    InvalidRequestError,
    ProductiveError,
    UnknownResourceError,
)
from ._models import Record
from ._output import csv_text, plain_text, terminal_text
from ._pulls import (
    DEFAULT_EXPORT,
    Connection,
    ExportReport,
    PageEncoder,
    PullSpec,
    ResumeError,
    check_export_resume,
    run_export,
    run_pull,
    state_path,
)
from ._redis import RedisBackend
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
    ``relationships``, and any other member), exactly as the API sent it."""

    columns = None

    def encode(self, objects: list[dict[str, Any]]) -> bytes:
        """The lines of one page."""
        dumps, newline = orjson.dumps, orjson.OPT_APPEND_NEWLINE
        return b"".join([dumps(obj, option=newline) for obj in objects])


class CsvWriter:
    """CSV with a header of ``id``, ``type``, the registry's attributes (then any others seen on
    the first page), and one column per relationship holding the related id(s); values that are
    objects or lists are JSON; attributes first seen after the header was written go to a
    final ``extra_attributes`` JSON column, so nothing is dropped.

    Text cells that a spreadsheet would run as a formula get a leading ``'`` (numbers never
    change; see :func:`~productive_async._output.csv_text`); written to a terminal, cells also
    lose their control sequences (``terminal``: whether ``out`` is one; default: ask it).

    ``columns`` (from :attr:`columns` of an earlier writer of the same file) continues that
    file: same columns, no second header."""

    def __init__(self, out: IO[bytes], spec: ResourceSpec, columns: Any = None,
                 terminal: bool | None = None) -> None:
        self._text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
        self._terminal = _isatty(out) if terminal is None else terminal
        self._spec = spec
        self._writer: Any = None
        self._attributes: list[str] = []
        self._relationships: list[str] = []
        if columns is not None:
            self._attributes = list(columns["attributes"])
            self._relationships = list(columns["relationships"])
            self._writer = csv.writer(self._text)

    @property
    def columns(self) -> dict[str, list[str]] | None:
        """The attribute and relationship columns, once the header is written."""
        if self._writer is None:
            return None
        return {"attributes": self._attributes, "relationships": self._relationships}

    def write_page(self, records: Sequence[Mapping[str, Any] | Record]) -> None:
        """Write the rows of one page's resource objects (or records: their ``raw``)."""
        if not records:
            return
        objects = [r.raw if isinstance(r, Record) else r for r in records]
        if self._writer is None:
            self._start(objects)
        known = set(self._attributes)
        for record in objects:
            attributes = record.get("attributes") or {}
            relationships = record.get("relationships") or {}
            row = [csv_text(str(record.get("id"))), csv_text(str(record.get("type")))]
            row.extend(_cell(attributes.get(name)) for name in self._attributes)
            row.extend(_rel_cell(relationships.get(name)) for name in self._relationships)
            extra = {k: v for k, v in attributes.items() if k not in known}
            row.append(orjson.dumps(extra).decode() if extra else "")
            self._writerow(row)

    def _writerow(self, row: list[str]) -> None:
        if self._terminal:
            row = [terminal_text(cell) for cell in row]
        self._writer.writerow(row)

    def _start(self, records: Sequence[Mapping[str, Any]]) -> None:
        names = list(self._spec.attributes)
        seen = set(names)
        relationships = list(self._spec.relationships)
        rel_seen = set(relationships)
        for record in records:
            for name in record.get("attributes") or {}:
                if name not in seen:
                    seen.add(name)
                    names.append(name)
            for name in record.get("relationships") or {}:
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


class _CsvPages:
    """A :class:`CsvWriter` whose rows are handed back as the bytes of each page."""

    def __init__(self, spec: ResourceSpec, columns: Any, terminal: bool) -> None:
        self._buffer = io.BytesIO()
        self._writer = CsvWriter(self._buffer, spec, columns, terminal)

    @property
    def columns(self) -> dict[str, list[str]] | None:
        return self._writer.columns

    def encode(self, objects: list[dict[str, Any]]) -> bytes:
        self._writer.write_page(objects)
        data = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return data


def make_encoder(spec: ResourceSpec, fmt: str, columns: Any, terminal: bool) -> PageEncoder:
    """The encoder of ``fmt`` (``"jsonl"`` or ``"csv"``) for ``spec``'s resource objects;
    ``columns`` continues a CSV file (see :class:`CsvWriter`), ``terminal`` says the output is
    a terminal (CSV cells lose their control sequences; JSON escapes them anyway)."""
    if fmt == "csv":
        return _CsvPages(spec, columns, terminal)
    return JsonLinesWriter()


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


def _connection_options(command: Any) -> Any:
    """``--sandbox``, ``--token``, ``--organization-id``, ``--base-url``, ``--redis``,
    ``--quiet``."""
    for option in reversed([
        click.option("--sandbox", "use_sandbox", is_flag=True,
                     help="Start the embedded sandbox in-process and pull from it."),
        click.option("--token", envvar="PRODUCTIVE_API_TOKEN", show_envvar=True,
                     help="API token."),
        click.option("--organization-id", envvar="PRODUCTIVE_ORGANIZATION_ID",
                     show_envvar=True, help="Organization id."),
        click.option("--base-url", envvar="PRODUCTIVE_BASE_URL", default=DEFAULT_BASE_URL,
                     show_default=True),
        click.option("--redis", "redis_url", envvar="PRODUCTIVE_REDIS_URL", show_envvar=True,
                     metavar="URL",
                     help="Share the token's rate budget through Redis with every other pull, "
                          "export and client using it (redis://, rediss:// or unix:// URL; "
                          "needs the [redis] extra)."),
        click.option("--quiet", "-q", is_flag=True, help="No progress display."),
    ]):
        command = option(command)
    return command


def _connection(use_sandbox: bool, token: str | None, organization_id: str | None,
                base_url: str, redis_url: str | None) -> Connection:
    if not use_sandbox and (not token or not organization_id):
        raise click.UsageError(
            "credentials missing: set PRODUCTIVE_API_TOKEN and PRODUCTIVE_ORGANIZATION_ID "
            "(or --token/--organization-id), or use --sandbox"
        )
    if redis_url:
        try:
            RedisBackend(redis_url)  # checks the URL and that redis-py is installed
        except InvalidRequestError as exc:
            raise click.BadParameter(str(exc), param_hint="--redis") from None
    return Connection(use_sandbox, token, organization_id, base_url, redis_url or None)


def _resource_spec(resource: str, pagination: str = "pages") -> ResourceSpec:
    registry = default_registry()
    name = resource.removeprefix("reports/")
    if name not in registry:
        raise click.UsageError(str(UnknownResourceError(resource, sorted(registry.resources))))
    spec = registry[name]
    if "list" not in spec.operations or not spec.has_endpoint:
        raise click.UsageError(f"{resource} cannot be listed")
    if pagination == "cursor" and not spec.cursor:
        raise click.UsageError(f"{resource} does not support --pagination cursor")
    return spec


@contextlib.contextmanager
def _logging_to(console: Console) -> Iterator[None]:
    """The SDK's warnings (retries, 429s) on ``console``, above the progress display."""
    logger = logging.getLogger("productive_async")
    handler = RichHandler(console=console, show_time=False, show_path=False,
                          markup=False, rich_tracebacks=False)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


def _changed(console: Console, exc: DriftError) -> None:
    console.print(Text.assemble(
        ("error: ", "red"), plain_text(f"{exc.path}: {exc.reason}"),
        ". The collection changed: start again (without --resume), or use --pagination "
        "cursor, whose position is saved.",
    ), soft_wrap=True)


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
@click.option("--resume", is_flag=True,
              help="Continue an interrupted pull into --out from its last complete page "
                   "(same options).")
@_connection_options
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
    resume: bool,
    use_sandbox: bool,
    token: str | None,
    organization_id: str | None,
    base_url: str,
    redis_url: str | None,
    quiet: bool,
) -> None:
    """Stream every record of RESOURCE (e.g. invoices, time_entries, reports/time_reports).

    Each resource object is written as received (JSON Lines), or flattened (CSV), a page at a
    time. With --out FILE the position is saved in FILE.state.json as pages are written
    (removed when the pull completes): after Ctrl-C, a crash or a lost network, the same
    command with --resume continues from the last complete page, neither losing nor repeating
    records. A
    page-number pull cannot be resumed if the collection changed meanwhile (it says so: start
    again, or use --pagination cursor, whose position is saved). --resume without a state file
    is an error (exit 2).

    Exit codes: 0 done, 1 the API, the network or the file system failed (or the collection
    changed), 2 bad usage or nothing to resume, 130 interrupted (resumable).
    """
    spec = _resource_spec(resource, pagination)
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
    connection = _connection(use_sandbox, token, organization_id, base_url, redis_url)
    to_file = out_path is not None and out_path != "-"
    if resume and not to_file:
        raise click.UsageError("--resume needs --out FILE (standard output cannot be resumed)")
    if max_items is not None:
        page_size = max(1, min(page_size, max_items))
    job = PullSpec(
        resource=spec.name, filters=parsed, sort=_split(sort), include=_split(include),
        params=extra, page_size=page_size, pagination=pagination, fmt=fmt,
        max_items=max_items, source=connection.source,
    )
    console = Console(stderr=True)
    out = Path(out_path) if to_file and out_path is not None else None
    if out is not None:
        _check_writable(out)  # before the sandbox starts or a request is sent
    try:
        with _logging_to(console):
            state = asyncio.run(run_pull(connection, job, out, make_encoder, resume=resume,
                                         console=None if quiet else console))
    except KeyboardInterrupt:
        resumable = out is not None and state_path(out).exists()
        console.print("interrupted; resume with --resume" if resumable else "interrupted",
                      highlight=False)
        sys.exit(130)
    except ResumeError as exc:
        raise click.UsageError(terminal_text(exc)) from None
    except InvalidRequestError as exc:
        raise click.UsageError(terminal_text(exc)) from None
    except DriftError as exc:
        _changed(console, exc)
        sys.exit(1)
    except ProductiveError as exc:
        # The API's titles and details, as text: no control sequences, markup or emoji codes.
        console.print(Text.assemble(("error: ", "red"), plain_text(exc)), soft_wrap=True)
        if to_file:
            console.print("the pages written so far are kept: resume with --resume",
                          highlight=False)
        sys.exit(1)
    except OSError as exc:
        console.print(Text.assemble(("error: ", "red"), plain_text(exc)), soft_wrap=True)
        sys.exit(1)
    if not quiet:
        where = out_path or "standard output"
        console.print(f"{state.records} {spec.name} written to {escape(where)}",
                      highlight=False, soft_wrap=True)


@main.command()
@click.argument("resources", nargs=-1, metavar="[RESOURCE]...")
@click.option("--out-dir", required=True, type=click.Path(file_okay=False),
              help="Directory of the output files (created if missing).")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl",
              show_default=True)
@click.option("--page-size", type=click.IntRange(1, 200), default=200, show_default=True)
@click.option("--pagination", type=click.Choice(["pages", "cursor"]), default="pages",
              show_default=True, help="pages: concurrent and fast; cursor: consistent.")
@click.option("--jobs", type=click.IntRange(1, 16), default=4, show_default=True,
              help="Collections pulled at once; they share one rate budget.")
@click.option("--resume", is_flag=True,
              help="Continue an interrupted export in --out-dir (same options).")
@_connection_options
def export(
    resources: tuple[str, ...],
    out_dir: str,
    fmt: str,
    page_size: int,
    pagination: str,
    jobs: int,
    resume: bool,
    use_sandbox: bool,
    token: str | None,
    organization_id: str | None,
    base_url: str,
    redis_url: str | None,
    quiet: bool,
) -> None:
    """Pull several collections into --out-dir, one file each (DIR/<resource>.jsonl).

    Default: the core collections a finance or operations team needs (companies, people,
    projects, deals, services, time_entries, bookings, invoices, line_items,
    invoice_attributions, expenses, tasks). Collections are pulled concurrently through one
    client, so one rate budget is shared; each file is resumable as `pull --out` is, and
    `export --resume` skips the collections already complete. A progress line per collection,
    then a summary (records, pages, seconds; requests, 429s and retries in total).

    Exit codes: 0 every collection done, 1 some failed (the others still complete; the
    summary says which), 2 bad usage or nothing to resume, 130 interrupted (resumable).
    """
    names = list(dict.fromkeys(resources or DEFAULT_EXPORT))
    specs = [_resource_spec(name, pagination) for name in names]
    connection = _connection(use_sandbox, token, organization_id, base_url, redis_url)
    jobs_specs = [
        PullSpec(resource=spec.name, page_size=page_size, pagination=pagination, fmt=fmt,
                 source=connection.source)
        for spec in specs
    ]
    directory = Path(out_dir)
    if resume:
        try:
            check_export_resume(directory, jobs_specs)
        except ResumeError as exc:
            raise click.UsageError(terminal_text(exc)) from None
    try:
        directory.mkdir(parents=True, exist_ok=True)  # the export's own directory
    except OSError as exc:
        raise click.UsageError(f"--out-dir {directory}: {exc.strerror}") from None
    console = Console(stderr=True)
    report = ExportReport(directory, jobs_specs)
    interrupted = False
    try:
        with _logging_to(console):
            asyncio.run(run_export(connection, report, make_encoder, resume=resume, jobs=jobs,
                                   console=None if quiet else console))
    except KeyboardInterrupt:
        interrupted = True
    except InvalidRequestError as exc:
        raise click.UsageError(terminal_text(exc)) from None
    except ProductiveError as exc:
        # The API's titles and details, as text: no control sequences, markup or emoji codes.
        console.print(Text.assemble(("error: ", "red"), plain_text(exc)), soft_wrap=True)
        sys.exit(1)
    if not quiet or report.failed:
        console.print(report.summary(), highlight=False, soft_wrap=True)
    if interrupted:
        resumable = any(state_path(o.path).exists() for o in report.outcomes)
        console.print("interrupted; resume with --resume" if resumable else "interrupted",
                      highlight=False)
        sys.exit(130)
    if report.failed:
        sys.exit(1)


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


def _check_writable(out: Path) -> None:
    """Exit 2 with one line when ``out`` cannot be written (no such directory, a directory,
    no permission)."""
    parent = out.parent if str(out.parent) else Path(".")
    if out.is_dir():
        raise click.UsageError(f"--out {out}: is a directory")
    if not parent.is_dir():
        raise click.UsageError(f"--out {out}: no directory {parent}")
    if not os.access(parent, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise click.UsageError(f"--out {out}: not writable")


@main.command()
@click.argument("resource")
def describe(resource: str) -> None:
    """Print what RESOURCE has: its endpoints, attributes (kind, unit, enum, read-only or
    required on create), relationships, filters with their operators, sorts, includes, report
    groups and actions, from the SDK's registry."""
    registry = default_registry()
    try:
        spec = registry[resource.removeprefix("reports/")]
    except UnknownResourceError as exc:
        raise click.UsageError(str(exc)) from None
    echo = click.echo
    echo(f"{spec.name}  (JSON:API type {spec.type}, class pa.models.{spec.class_name}, "
         f"rate class {spec.rate_class or 'standard'})")
    if spec.summary:
        echo(f"  {spec.summary}")
    echo("\nendpoints:")
    for method, path, call in spec.endpoints():
        echo(f"  {method:<7}{path:<48} {call}")
    required = {name for name, needed in spec.create.items() if needed}
    echo("\nattributes:")
    for attr in spec.attributes.values():
        notes = [attr.kind + (f" of {attr.items}" if attr.items else "")]
        if attr.unit:
            notes.append(attr.unit)
        if attr.enum:
            notes.append(f"enum {attr.enum}")
        if attr.readonly:
            notes.append("read-only")
        if attr.name in required:
            notes.append("required on create")
        echo(f"  {attr.name:<40} {', '.join(notes)}")
    if spec.relationships:
        echo("\nrelationships:")
        for rel in spec.relationships.values():
            echo(f"  {rel.name:<40} {'to-many ' if rel.many else ''}{rel.type}")
    if spec.filters:
        echo("\nfilters (operators):")
        for flt in spec.filters.values():
            echo(f"  {flt.name:<40} {flt.kind}: {', '.join(flt.operators)}")
    for title, names in (("sorts", spec.sorts), ("includes", spec.includes),
                         ("report groups", spec.groups)):
        if names:
            echo(f"\n{title}: {', '.join(sorted(names))}")
    if spec.actions:
        echo("\nactions:")
        for action in spec.actions.values():
            params = ", ".join(f"{k}: {v}" for k, v in action.params.items())
            echo(f"  {action.name:<30} {action.method} {action.segment} ({params})")


if __name__ == "__main__":  # python -m productive_async._cli
    main()
