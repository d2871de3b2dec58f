"""Resumable pulls, whole-organization exports and honest progress: the machinery behind
``productive-async pull`` and ``productive-async export``.

A pull reads :meth:`~productive_async.Paginator.raw_pages` (the resource objects as received,
no records built) and writes the output **a page at a time**: each page is encoded, written in
one piece and flushed. Then, in the background so the pull does not wait for the disk, and at
most every :data:`CHECKPOINT_INTERVAL` (0.2 s), the output is ``fsync``-ed and the *state
file* next to it (``OUT.state.json``) is replaced atomically (temporary file +
:func:`os.replace`) with the state as it was before that ``fsync``: so the state file never
counts a byte that is not on disk. The state says what
was asked (the query's fingerprint), how many pages and records are in the output, its length
in bytes after the last complete page and its last bytes, the first page's ``total_count``,
the ids of the last page written (page-number mode) or the cursor of the next page (cursor
mode). On Ctrl-C and on errors the state is brought up to date before the command exits; a
crash can leave the state up to 0.2 s of pages behind the output, and a page half written.
``--resume`` continues from the state:

* the fingerprint must match (else :class:`ResumeError`);
* the output must be at least as long as the state says and end with the same bytes (else
  :class:`ResumeError`: it was changed); it is cut back to the recorded length (dropping what
  a crash left after the last checkpoint);
* page-number mode fetches the last written page again and requires its ids and the
  ``total_count`` to be unchanged (else :class:`~productive_async.DriftError`: records were
  created or deleted meanwhile, so page numbers no longer line up; start again, or use cursor
  mode), then continues with the next page, with the engine's usual integrity checks;
* cursor mode continues from the saved cursor (consistent under writes).

The state file is removed when a pull completes (an export keeps its files, marked done, until
every collection is done).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import math
import os
import sys
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Protocol

import attrs
import orjson
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
)
from rich.table import Table
from yarl import URL

from ._client import Productive
from ._engine import DEFAULT_PREFETCH, MAX_PREFETCH, RawPage
from ._errors import DriftError, ProductiveError
from ._output import plain_text
from ._redis import RedisBackend
from ._registry import ResourceSpec

#: Appended to an output file's name to name its state file.
STATE_SUFFIX = ".state.json"
#: Format of the state file; another version is refused on resume.
STATE_VERSION = 1
#: The collections ``export`` pulls when none is named: what finance and operations need.
DEFAULT_EXPORT = (
    "companies", "people", "projects", "deals", "services", "time_entries", "bookings",
    "invoices", "line_items", "invoice_attributions", "expenses", "tasks",
)
#: Seconds between two checkpoints (``fsync`` of the output, then the state file) at most:
#: what a crash can cost in pages pulled again; Ctrl-C and errors checkpoint at once.
CHECKPOINT_INTERVAL = 0.2
#: Bytes of the output's end kept in the state, compared on resume (a replaced file).
_TAIL = 32


class ResumeError(Exception):
    """A pull cannot be resumed for a local reason (no state file, other options, an output
    that was changed or removed); the message says which and what to do."""


# ----------------------------------------------------------------------------- what is pulled


@attrs.frozen
class PullSpec:
    """One pull, as checked by the command line: ``resource`` (registry name), ``filters``
    (the SDK's filter mapping), ``sort``, ``include``, ``params`` (extra query parameters,
    ``group`` on reports), ``page_size`` (records per request, after ``max_items`` capped it),
    ``pagination`` (``"pages"`` or ``"cursor"``), ``fmt`` (``"jsonl"`` or ``"csv"``),
    ``max_items`` and ``source`` (where from: ``{"sandbox": True}`` or the base URL and
    organization id). All of it is the fingerprint a resumed pull must match."""

    resource: str
    filters: Mapping[str, Any] = attrs.field(factory=dict)
    sort: Sequence[str] = ()
    include: Sequence[str] = ()
    params: Mapping[str, str] = attrs.field(factory=dict)
    page_size: int = 200
    pagination: str = "pages"
    fmt: str = "jsonl"
    max_items: int | None = None
    source: Mapping[str, Any] = attrs.field(factory=dict)

    def fingerprint(self) -> dict[str, Any]:
        """The spec as plain JSON (keys sorted), as stored in the state file."""
        value = {
            "resource": self.resource, "filters": self.filters, "sort": list(self.sort),
            "include": list(self.include), "params": self.params, "page_size": self.page_size,
            "pagination": self.pagination, "format": self.fmt, "max_items": self.max_items,
            "source": self.source,
        }
        loaded: dict[str, Any] = orjson.loads(orjson.dumps(value, option=orjson.OPT_SORT_KEYS))
        return loaded


@attrs.define
class PullState:
    """Where a pull stands (the state file): ``pages`` and ``records`` in the output, its
    length in ``offset`` bytes after the last complete page and its last bytes (``tail``, hex),
    the first page's ``total_count``, the ids of the last page written (``last_ids``,
    page-number mode), the ``page[after]`` of the next page (``cursor``, cursor mode), the CSV
    columns (``columns``), and whether every page is written (``done``)."""

    query: dict[str, Any]
    pages: int = 0
    records: int = 0
    offset: int = 0
    tail: str = ""
    total_count: int | None = None
    last_ids: list[str] = attrs.field(factory=list)
    cursor: str | None = None
    columns: Any = None
    done: bool = False

    def to_json(self) -> bytes:
        return orjson.dumps({"version": STATE_VERSION, **attrs.asdict(self)},
                            option=orjson.OPT_INDENT_2)

    @classmethod
    def load(cls, path: Path) -> PullState | None:
        """The state in ``path``, ``None`` if there is none; :class:`ResumeError` if it
        cannot be read."""
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ResumeError(f"cannot read {path}: {exc.strerror}") from None
        try:
            value = orjson.loads(raw)
            if value.pop("version") != STATE_VERSION:
                raise ValueError("another version")
            return cls(**value)
        except (orjson.JSONDecodeError, ValueError, TypeError, KeyError, AttributeError):
            raise ResumeError(f"{path} is not a state file this version can read (damaged, "
                              "or from another version): start again without --resume"
                              ) from None

    def save(self, path: Path) -> None:
        """Replace ``path`` atomically (temporary file, then :func:`os.replace`)."""
        _replace(path, self.to_json())


def state_path(out: Path) -> Path:
    """The state file of output ``out``: ``OUT.state.json``."""
    return out.with_name(out.name + STATE_SUFFIX)


# ----------------------------------------------------------------------------- encoders


class PageEncoder(Protocol):
    """Turns the resource objects of one page into the bytes of the output format."""

    def encode(self, objects: list[dict[str, Any]]) -> bytes:
        """The page's bytes (complete lines/rows; the first non-empty page of a CSV also
        carries the header)."""
        ...

    @property
    def columns(self) -> Any:
        """What a resumed encoder needs to continue the same file (CSV: its columns), as
        JSON; ``None`` for none (or nothing written yet)."""
        ...


#: ``(spec, fmt, columns, terminal)`` -> a :class:`PageEncoder`; ``columns`` from a resumed
#: state, ``terminal``: whether the output is a terminal (standard output).
EncoderFactory = Callable[[ResourceSpec, str, Any, bool], PageEncoder]


# ----------------------------------------------------------------------------- output


class _Output:
    """Where the pages go: a file with its state file, or standard output (no state)."""

    def __init__(self, path: Path | None, spec: PullSpec, resume: bool) -> None:
        self.path = path
        self.state_file: Path | None = None
        self._stream: IO[bytes]
        self._syncer: asyncio.Task[None] | None = None
        self._dirty = False
        self._closed_state = False
        if path is None:
            if resume:
                raise ResumeError("--resume needs --out FILE (standard output cannot be resumed)")
            self.state = PullState(spec.fingerprint())
            self._stream = sys.stdout.buffer
            self._owned = False
            return
        self._owned = True
        self.state_file = state_path(path)
        if resume:
            self.state = self._resumable(path, self.state_file, spec)
            if not path.exists():
                raise ResumeError(f"{path} is missing: start again without --resume")
        else:
            self.state = PullState(spec.fingerprint())
        # Opened without truncating, locked, then cut: a second pull into the same file
        # (the same command run twice) is refused before it changes a byte.
        self._stream = os.fdopen(os.open(path, os.O_RDWR | os.O_CREAT, 0o666), "r+b")
        try:
            _lock(self._stream, path)
            if resume:
                self._cut_back(path)
            else:
                self._stream.truncate(0)
                self.state.save(self.state_file)
        except BaseException:
            self._stream.close()
            raise

    @property
    def terminal(self) -> bool:
        """Whether the output is a terminal."""
        try:
            return self._stream.isatty()
        except (AttributeError, ValueError):
            return False

    @staticmethod
    def _resumable(path: Path, state_file: Path, spec: PullSpec) -> PullState:
        state = PullState.load(state_file)
        if state is None:
            raise ResumeError(f"nothing to resume: {state_file} does not exist (the pull "
                              "finished, or never started); run without --resume")
        differences = _differences(state.query, spec.fingerprint())
        if differences:
            raise ResumeError(f"{path} was pulled with other options ({differences}): use the "
                              "same options to resume, or start again without --resume")
        return state

    def _cut_back(self, path: Path) -> None:
        stream, state = self._stream, self.state
        size = stream.seek(0, os.SEEK_END)
        if size < state.offset:
            raise ResumeError(f"{path} is shorter ({size} bytes) than its state says "
                              f"({state.offset}): it was changed, or the system stopped before "
                              "it reached the disk; start again without --resume")
        tail = bytes.fromhex(state.tail)
        if tail:
            stream.seek(state.offset - len(tail))
            if stream.read(len(tail)) != tail:
                raise ResumeError(f"{path} is not the file its state describes (changed since "
                                  "the interrupted pull?): start again without --resume")
        stream.truncate(state.offset)  # drops what a crash left of a page
        stream.seek(state.offset)

    def append(self, data: bytes, **changes: Any) -> None:
        """Write one page and apply ``changes`` (pages, records, ...) to the state; the
        checkpoint (``fsync``, then the state file) follows in the background, off the pull's
        path, at most every :data:`CHECKPOINT_INTERVAL` seconds. A checkpoint's state is taken
        before its ``fsync`` starts, so the state file never names bytes that are not on disk;
        a crash can leave pages after it (at most that interval's), which a resume cuts off and
        pulls again. Raises the :class:`OSError` of an earlier checkpoint."""
        self._raise_failure()
        stream, state = self._stream, self.state
        stream.write(data)
        stream.flush()
        # Synchronous: the state always matches the bytes written when the pull stops.
        for name, value in changes.items():
            setattr(state, name, value)
        if self.state_file is None:
            return
        state.offset += len(data)
        if data:
            state.tail = (bytes.fromhex(state.tail) + data)[-_TAIL:].hex()
        self._dirty = True
        if self._syncer is None or self._syncer.done():
            self._syncer = asyncio.create_task(self._checkpoints())

    async def _checkpoints(self) -> None:
        assert self.state_file is not None and self.path is not None
        while self._dirty:
            self._dirty = False
            snapshot = self.state.to_json()  # of bytes already written: fsync covers them
            await asyncio.to_thread(_fsync, self.path)
            _replace(self.state_file, snapshot)
            await asyncio.sleep(CHECKPOINT_INTERVAL)

    def _raise_failure(self) -> None:
        syncer = self._syncer
        if syncer is not None and syncer.done() and not syncer.cancelled() \
                and syncer.exception() is not None:
            raise syncer.exception()  # type: ignore[misc]

    async def finish(self, keep_state: bool) -> None:
        """Every page is written: make the output durable, then mark the state done (kept)
        or remove it. Raises the :class:`OSError` of an earlier checkpoint."""
        self._raise_failure()
        syncer = self._syncer
        if syncer is not None and not syncer.done():
            syncer.cancel()  # its pending checkpoint is this one
            with contextlib.suppress(asyncio.CancelledError):
                await syncer
        self.state.done = True
        self._closed_state = True
        if self.state_file is None or self.path is None:
            return
        await asyncio.to_thread(_fsync, self.path)
        if keep_state:
            self.state.save(self.state_file)
        else:
            with contextlib.suppress(FileNotFoundError):
                self.state_file.unlink()

    def close(self) -> None:
        """Close the output; unless finished, checkpoint what was written (synchronously:
        this runs on Ctrl-C and after errors too)."""
        if self._syncer is not None and not self._syncer.done():
            self._syncer.cancel()
        if not self._owned:
            with contextlib.suppress(OSError, ValueError):
                self._stream.flush()
            return
        try:
            if not self._closed_state and self.state_file is not None:
                self._stream.flush()
                os.fsync(self._stream.fileno())
                self.state.save(self.state_file)
        finally:
            self._stream.close()


def _fsync(path: Path) -> None:
    """``fsync`` the file at ``path`` through a descriptor of its own (it flushes the file,
    whichever descriptor wrote): a thread still in ``fsync`` when the pull closes its output
    then holds no reference to the output's locked descriptor, so the lock goes with it."""
    descriptor = os.open(path, os.O_RDWR)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _lock(stream: IO[bytes], path: Path) -> None:
    """Lock ``stream`` for this process (advisory, released on close); :class:`ResumeError`
    if another process holds it. Where ``fcntl`` is missing (Windows), nothing is locked."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return
    try:
        fcntl.flock(stream.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise ResumeError(f"{path} is being written by another pull (a second run of the "
                          "same command?)") from None


def _replace(path: Path, content: bytes) -> None:
    """Write ``path`` atomically: a temporary file next to it, then :func:`os.replace`."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(content)
    os.replace(temporary, path)


def _differences(saved: Mapping[str, Any], now: Mapping[str, Any]) -> str:
    keys = sorted(set(saved) | set(now))
    changed = [k for k in keys if saved.get(k) != now.get(k)]
    return "; ".join(
        f"{k}: {_short(saved.get(k))} then, {_short(now.get(k))} now" for k in changed
    )


def _short(value: Any) -> str:
    text = orjson.dumps(value).decode()
    return text if len(text) <= 60 else text[:57] + "..."


# ----------------------------------------------------------------------------- one pull

#: Called after each page is durable: ``(state, total)``; ``total`` is the records the whole
#: pull will have when known (``total_count``, capped by ``max_items``).
Listener = Callable[[PullState, "int | None"], None]


async def pull(
    client: Productive,
    spec: PullSpec,
    out: Path | None,
    encoder_factory: EncoderFactory,
    *,
    resume: bool = False,
    prefetch: int | None = None,
    keep_state: bool = False,
    listener: Listener | None = None,
    count_total: bool = False,
) -> PullState:
    """Pull ``spec`` into ``out`` (``None``: standard output), a page at a time, and return
    the final state (``records``, ``pages``).

    ``resume`` continues from ``out``'s state file (see the module docstring); ``prefetch``:
    pages in flight (default: the client's); ``keep_state``: keep the state file, marked
    done, when complete (exports); ``listener``: told after every page; ``count_total``: in
    cursor mode, spend one request on ``count()`` so progress has a total.

    Raises :class:`ResumeError` (nothing to resume, other options, a changed output),
    :class:`~productive_async.DriftError` (the collection changed: start again, or use cursor
    mode), the API's errors, and :class:`OSError` from the file system; the state file is
    left for ``--resume`` whatever stopped the pull.
    """
    resource = client.resource(spec.resource)
    target = _Output(out, spec, resume)
    try:
        state = target.state
        if state.done or _complete(spec, state):
            await target.finish(keep_state)
            return state
        options: dict[str, Any] = {"page_size": spec.page_size, "pagination": spec.pagination}
        params = dict(spec.params)
        group = params.pop("group", None)
        if params:
            options["extra_query"] = params
        if prefetch is not None:
            options["prefetch"] = prefetch
        boundary = False
        if spec.pagination == "pages":
            if spec.max_items is not None:
                options["max_items"] = spec.max_items
            if state.pages:
                options["start_page"] = state.pages  # fetched again: is it unchanged?
                boundary = True
        elif state.cursor:
            options["start_after"] = state.cursor
        include = list(spec.include)
        if resource.spec.is_report and group and not include:
            # A report row's relationships are stubs unless included: include the groups so
            # that each row says what it is grouped by (person, project, ...).
            include = [g for g in str(group).split(",") if g in resource.spec.includes]
        paginator = resource.list(
            filters=dict(spec.filters) or None, sort=list(spec.sort) or None,
            include=include or None, group=group, **options,
        )
        included_seen: set[tuple[Any, Any]] = set()
        total = _total(spec, state.total_count)
        if count_total and spec.pagination == "cursor":
            total = _total(spec, await resource.count(filters=dict(spec.filters) or None,
                                                      extra_query=params or None))
        encoder = encoder_factory(resource.spec, spec.fmt, state.columns, target.terminal)
        if listener is not None:
            listener(state, total)
        pages = paginator.raw_pages()
        async with contextlib.aclosing(pages):
            async for page in pages:
                if boundary:
                    boundary = False
                    _check_boundary(resource.spec.path, state, page)
                    continue
                data = page.data
                if spec.max_items is not None:
                    data = data[: max(0, spec.max_items - state.records)]
                if page.included and include:
                    data = with_included(data, page.included, spec.fmt, included_seen)
                chunk = encoder.encode(data)
                changes: dict[str, Any] = {
                    "pages": state.pages + 1, "records": state.records + len(data),
                    "last_ids": [str(obj.get("id")) for obj in page.data],
                }
                if state.pages == 0 and spec.pagination == "pages":
                    changes["total_count"] = page.total_count
                    total = _total(spec, page.total_count)
                if spec.pagination == "cursor":
                    changes["cursor"] = _next_cursor(page)
                if state.columns is None:
                    changes["columns"] = encoder.columns
                target.append(chunk, **changes)
                if listener is not None:
                    listener(state, total)
                if _complete(spec, state):
                    break
        await target.finish(keep_state)
        return state
    finally:
        target.close()


def with_included(data: list[dict[str, Any]], included: list[dict[str, Any]], fmt: str,
                  seen: set[tuple[Any, Any]]) -> list[dict[str, Any]]:
    """What ``--include`` adds to a page's output.

    JSON Lines: each included resource object once per pull (``seen``), as a line after the
    page's records, marked with ``"meta": {"included": true}`` (a resource object's own
    ``meta`` member, JSON:API 1.1 "Resource Objects"); a consumer tells the two apart by it.
    CSV: per record, a ``<relationship>.label`` column for each to-one relationship whose
    record is included, holding its name (``name``, else first and last name, ``title`` or
    ``number``)."""
    by_key = {(obj.get("type"), obj.get("id")): obj for obj in included
              if isinstance(obj, Mapping)}
    if fmt != "csv":
        extra = []
        for key, obj in by_key.items():
            if key not in seen:
                seen.add(key)
                extra.append({**obj, "meta": {**(obj.get("meta") or {}), "included": True}})
        return [*data, *extra]
    rows = []
    for obj in data:
        labels: dict[str, Any] = {}
        for name, rel in (obj.get("relationships") or {}).items():
            target = rel.get("data") if isinstance(rel, Mapping) else None
            if isinstance(target, Mapping):
                related = by_key.get((target.get("type"), target.get("id")))
                if related is not None:
                    labels[f"{name}.label"] = _label(related)
        if labels:
            obj = {**obj, "attributes": {**(obj.get("attributes") or {}), **labels}}
        rows.append(obj)
    return rows


def _label(obj: Mapping[str, Any]) -> Any:
    attributes = obj.get("attributes") or {}
    if attributes.get("name"):
        return attributes["name"]
    full = " ".join(str(attributes[k]) for k in ("first_name", "last_name") if attributes.get(k))
    return full or attributes.get("title") or attributes.get("number") or obj.get("id")


def _complete(spec: PullSpec, state: PullState) -> bool:
    """Whether the pages written are the whole pull (known without asking the server)."""
    if spec.max_items is not None and state.records >= spec.max_items:
        return True
    return spec.pagination == "cursor" and state.pages > 0 and not state.cursor


def _total(spec: PullSpec, count: int | None) -> int | None:
    if count is None or spec.max_items is None:
        return count
    return min(count, spec.max_items)


def _next_cursor(page: RawPage) -> str | None:
    link = page.links.get("next")
    if not link or not page.data:
        return None
    after = URL(str(link)).query.get("page[after]")
    return after or None


def _check_boundary(path: str, state: PullState, page: RawPage) -> None:
    """The last page written, fetched again on resume, must be as it was."""
    seen = page.total_count
    if state.total_count is not None and seen != state.total_count:
        raise DriftError(path, f"total_count is {seen}, it was {state.total_count} when the "
                         "pull was interrupted (records created or deleted since)",
                         expected=state.total_count, seen=seen)
    ids = [str(obj.get("id")) for obj in page.data]
    if ids != state.last_ids:
        raise DriftError(path, f"page {page.number}, the last one written, holds other "
                         "records now (records created, deleted or re-sorted since the "
                         "interruption)")


# ----------------------------------------------------------------------------- progress


def rate_limit_wait(client: Productive, rate_class: str | None = None) -> float | None:
    """Seconds until the client's rate gate lets the next request of ``rate_class`` through
    (0.0: now), from its windows and 429 pauses; ``None`` while every slot is in flight (the
    wait depends on answers still to come). Nothing is taken (:meth:`RateGate.free_in`)."""
    wait = client.gate.free_in(rate_class)
    return None if math.isinf(wait) else wait


class Meter:
    """The progress of one pull: records written, the total when known, a rate over the last
    ``window`` seconds (records/s, not since the start, so a stall shows at once), an ETA
    (seconds), and what it waits for when no record came for ``stall`` seconds.

    ``clock``: monotonic seconds (:func:`time.monotonic`); ``wait_probe``: seconds until the
    rate limiter lets the next request through (:func:`rate_limit_wait`)."""

    def __init__(
        self,
        name: str,
        *,
        wait_probe: Callable[[], float | None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        window: float = 10.0,
        stall: float = 1.0,
    ) -> None:
        self.name = name
        self.records = 0
        self.total: int | None = None
        self.pages = 0
        self.outcome: str | None = None  # "done", "failed", ... once over
        self.started: float | None = None
        self.finished: float | None = None
        #: Seconds until the rate limiter lets the next request through (or ``None``).
        self.wait_probe = wait_probe
        self._clock = clock
        self._window = window
        self._stall = stall
        self._samples: deque[tuple[float, int]] = deque()
        self._baseline = False

    def start(self) -> None:
        """The pull starts now (the time the rate counts from)."""
        if self.started is None:
            self.started = self._clock()
            self._samples.append((self.started, self.records))

    def update(self, state: PullState, total: int | None) -> None:
        """A :data:`Listener`: the pull's state before its first page (the baseline: records
        a resumed pull had already are not counted in the rate) and after each page."""
        self.start()
        now = self._clock()
        self.records, self.pages, self.total = state.records, state.pages, total
        if not self._baseline:
            self._baseline = True
            self._samples = deque([(now, state.records)])
            return
        self._samples.append((now, state.records))
        while len(self._samples) > 2 and self._samples[1][0] <= now - self._window:
            self._samples.popleft()

    def finish(self, outcome: str) -> None:
        self.outcome = outcome
        self.finished = self._clock()

    @property
    def seconds(self) -> float:
        """Seconds from start to finish (or to now)."""
        if self.started is None:
            return 0.0
        return (self.finished or self._clock()) - self.started

    def rate(self) -> float | None:
        """Records per second over the last ``window`` seconds (since the start if shorter);
        ``None`` before a second has passed."""
        if self.started is None:
            return None
        now = self._clock()
        since = max(self.started, now - self._window)
        if now - self.started < 1.0:
            return None
        base = self._samples[0][1]
        for at, records in self._samples:
            if at > since:
                break
            base = records
        return (self.records - base) / (now - since)

    def eta(self) -> float | None:
        """Seconds left at the recent rate; ``None`` when unknown."""
        rate = self.rate()
        if self.total is None or not rate:
            return None
        return max(0.0, (self.total - self.records) / rate)

    def status(self) -> str:
        """One line: the rate and ETA, or what the pull is waiting for."""
        if self.outcome is not None:
            return self.outcome
        if self.started is None:
            return "queued"
        now = self._clock()
        last = self._samples[-1][0] if self._samples else self.started
        if now - last > self._stall:
            wait = self.wait_probe() if self.wait_probe is not None else None
            if wait is not None and wait > 0.5:
                return f"waiting for rate-limit window: {duration(wait)}"
            return f"waiting for the API: {duration(now - last)}"
        rate, eta = self.rate(), self.eta()
        text = "-" if rate is None else f"{rate:,.0f} records/s"
        if eta is not None:
            text += f", ETA {duration(eta)}"
        return text


def duration(seconds: float) -> str:
    """``7 s``, ``4 min 05 s``, ``2 h 03 min`` (rounded up to the second)."""
    total = math.ceil(max(0.0, seconds))
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class Board:
    """A rich progress display on ``console`` (stderr): one line per meter, refreshed from
    the event loop every ``interval`` seconds, so the rate and the waiting message stay
    current while no page arrives."""

    def __init__(self, console: Console, meters: Sequence[Meter], interval: float = 0.25
                 ) -> None:
        self._meters = list(meters)
        self._interval = interval
        width = max(len(m.name) for m in self._meters)
        self._progress = Progress(
            TextColumn(f"[bold]{{task.description:<{width}}}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[status]}"),
            console=console,
            auto_refresh=False,
        )
        self._tasks: list[TaskID] = [
            self._progress.add_task(m.name, total=None, status="queued") for m in self._meters
        ]
        self._ticker: asyncio.Task[None] | None = None

    def refresh(self) -> None:
        for meter, task in zip(self._meters, self._tasks, strict=True):
            self._progress.update(task, completed=meter.records, total=meter.total,
                                  status=escape(meter.status()))
        self._progress.refresh()

    async def _tick(self) -> None:
        while True:
            self.refresh()
            await asyncio.sleep(self._interval)

    @contextlib.asynccontextmanager
    async def shown(self) -> AsyncIterator[Board]:
        """Show the board while the block runs (and once more, final, after it)."""
        self._progress.start()
        self._ticker = asyncio.create_task(self._tick())
        try:
            yield self
        finally:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self.refresh()
            self._progress.stop()


# ----------------------------------------------------------------------------- connections


@attrs.frozen
class Connection:
    """Where to pull from: the embedded sandbox (``sandbox``) or an API (``base_url``,
    ``token``, ``organization_id``); ``redis``: a Redis URL whose budget the pull shares with
    other processes (:class:`~productive_async.RedisBackend`), or None."""

    sandbox: bool
    token: str | None
    organization_id: str | None
    base_url: str
    redis: str | None = None

    @property
    def source(self) -> dict[str, Any]:
        """The fingerprint of the source (never the token)."""
        if self.sandbox:
            return {"sandbox": True}
        return {"base_url": self.base_url, "organization_id": self.organization_id}


@contextlib.asynccontextmanager
async def connect(connection: Connection, console: Console | None) -> AsyncIterator[Productive]:
    """A client of ``connection``; for the sandbox, the sandbox is started in-process first
    (and stopped after)."""
    async with contextlib.AsyncExitStack() as stack:
        token, organization_id = connection.token, connection.organization_id
        base_url = connection.base_url
        if connection.sandbox:
            from . import sandbox

            if console is not None:
                console.print("starting the sandbox ...", highlight=False)
            base_url = await stack.enter_async_context(sandbox.serve())
            token, organization_id = sandbox.TOKEN, sandbox.ORGANIZATION_ID
            # The demo data (a few hundred thousand objects) lives as long as the command:
            # out of the garbage collector's way, whose full collections would walk it all.
            gc.freeze()
            stack.callback(gc.unfreeze)
        assert token is not None and organization_id is not None
        backend = RedisBackend(connection.redis) if connection.redis else None
        yield await stack.enter_async_context(
            Productive(token, organization_id, base_url=base_url, rate_backend=backend)
        )


async def run_pull(
    connection: Connection,
    spec: PullSpec,
    out: Path | None,
    encoder_factory: EncoderFactory,
    *,
    resume: bool = False,
    console: Console | None = None,
) -> PullState:
    """``productive-async pull``: connect (starting the sandbox if asked), then :func:`pull`
    with a progress line on ``console`` (none when ``None``)."""
    async with connect(connection, console) as client:
        return await pull_shown(client, spec, out, encoder_factory, resume=resume,
                                console=console)


async def pull_shown(
    client: Productive,
    spec: PullSpec,
    out: Path | None,
    encoder_factory: EncoderFactory,
    *,
    resume: bool = False,
    console: Console | None = None,
) -> PullState:
    """:func:`pull` with its progress line on ``console`` (none when ``None``)."""
    if console is None:
        return await pull(client, spec, out, encoder_factory, resume=resume)
    rate_class = client.resource(spec.resource).spec.rate_class
    meter = Meter(spec.resource, wait_probe=lambda: rate_limit_wait(client, rate_class))
    async with Board(console, [meter]).shown():
        meter.start()
        try:
            state = await pull(client, spec, out, encoder_factory, resume=resume,
                               listener=meter.update, count_total=True)
        except BaseException:
            meter.finish("stopped")
            raise
        meter.finish("done")
    return state


# ----------------------------------------------------------------------------- export


@attrs.define
class Outcome:
    """How one collection of an export ended: ``status`` is ``"done"``, ``"done earlier"``
    (complete in the interrupted run), ``"failed"`` (``error`` says why) or ``"not run"``."""

    name: str
    path: Path
    meter: Meter
    status: str = "not run"
    error: str | None = None


def export_prefetch(client: Productive, jobs: int) -> int:
    """Pages in flight per collection when ``jobs`` collections run at once: the client's
    default window (the standard window's request count, at most 64) shared between them,
    so the export as a whole never has more requests out than one window allows."""
    standard = client.rate_limits.standard
    budget = min(MAX_PREFETCH, standard.requests) if standard else DEFAULT_PREFETCH
    return max(1, budget // max(1, jobs))


def export_paths(out_dir: Path, specs: Sequence[PullSpec]) -> dict[str, Path]:
    """The output file of each collection: ``DIR/<resource>.<format>``."""
    return {spec.resource: out_dir / f"{spec.resource}.{spec.fmt}" for spec in specs}


def check_export_resume(out_dir: Path, specs: Sequence[PullSpec]) -> None:
    """Before an ``export --resume`` starts: every saved state must be readable and match;
    at least one must exist. Raises :class:`ResumeError` naming each problem."""
    problems: list[str] = []
    found = 0
    for spec in specs:
        path = export_paths(out_dir, [spec])[spec.resource]
        try:
            state = PullState.load(state_path(path))
        except ResumeError as exc:
            problems.append(str(exc))
            continue
        if state is None:
            continue
        found += 1
        differences = _differences(state.query, spec.fingerprint())
        if differences:
            problems.append(f"{path} was pulled with other options ({differences})")
    if problems:
        raise ResumeError("; ".join(problems) + ": use the same options to resume, or start "
                          "again without --resume")
    if not found:
        raise ResumeError(f"nothing to resume in {out_dir}: no state files (the export "
                          "finished, or never started); run without --resume")


async def export(
    client: Productive,
    specs: Sequence[PullSpec],
    out_dir: Path,
    encoder_factory: EncoderFactory,
    outcomes: Sequence[Outcome],
    *,
    resume: bool = False,
    jobs: int = 4,
) -> None:
    """Pull every spec into ``out_dir`` (one file each, see :func:`export_paths`), ``jobs``
    collections at a time through ``client`` (one shared rate budget; see
    :func:`export_prefetch`), each resumable as a pull is. ``outcomes`` (one per spec, same
    order) are filled in as collections end: a failed collection (API, network, drift, file
    system) is recorded and the others go on. When every collection is done, the state files
    are removed; otherwise they stay for ``--resume`` (completed collections marked done and
    skipped then). Cancelling (Ctrl-C) stops every pull with its state saved."""
    gate = asyncio.Semaphore(max(1, jobs))
    prefetch = export_prefetch(client, min(jobs, len(specs)))

    async def one(spec: PullSpec, outcome: Outcome) -> None:
        path = outcome.path
        meter = outcome.meter
        resumed = resume
        if resume:
            state = PullState.load(state_path(path))
            if state is None:
                resumed = False  # not started in the interrupted run
            elif state.done:
                meter.records, meter.total, meter.pages = state.records, state.records, \
                    state.pages
                outcome.status = "done earlier"
                meter.finish("done earlier")
                return
        async with gate:
            meter.start()
            try:
                await pull(client, spec, path, encoder_factory, resume=resumed,
                           prefetch=prefetch, keep_state=True, listener=meter.update)
            except (ProductiveError, ResumeError, OSError) as exc:
                outcome.status, outcome.error = "failed", str(exc)
                meter.finish("failed")
                return
            except asyncio.CancelledError:
                meter.finish("interrupted")
                raise
            outcome.status = "done"
            meter.finish("done")

    async with asyncio.TaskGroup() as group:
        for spec, outcome in zip(specs, outcomes, strict=True):
            group.create_task(one(spec, outcome))
    if all(o.status in ("done", "done earlier") for o in outcomes):
        for outcome in outcomes:
            with contextlib.suppress(FileNotFoundError):
                state_path(outcome.path).unlink()


def summary(outcomes: Sequence[Outcome], stats: Mapping[str, int], seconds: float) -> Table:
    """The export's summary: per collection its records, pages (one request each), seconds and
    status; then the totals, with the requests sent (retries included), 429s and retries."""
    table = Table(title="export summary", title_justify="left")
    table.add_column("collection")
    table.add_column("records", justify="right")
    table.add_column("pages", justify="right")
    table.add_column("seconds", justify="right")
    table.add_column("status")
    for outcome in outcomes:
        meter = outcome.meter
        status = outcome.status if outcome.error is None else f"failed: {outcome.error}"
        table.add_row(outcome.name, f"{meter.records:,}", f"{meter.pages:,}",
                      f"{meter.seconds:.1f}", plain_text(status))  # the API's words, as text
    failed = sum(1 for o in outcomes if o.status == "failed")
    table.add_section()
    table.add_row(
        "total", f"{sum(o.meter.records for o in outcomes):,}",
        f"{stats.get('attempts', 0):,} requests", f"{seconds:.1f}",
        f"{stats.get('rate_limited', 0)} 429s, {stats.get('retries', 0)} retries"
        + (f", {failed} failed" if failed else ""),
    )
    return table


class ExportReport:
    """What an export did, filled in while it runs (so it is there after Ctrl-C too): one
    :class:`Outcome` per collection, the client's request counters (``stats``: ``attempts``,
    ``retries``, ``rate_limited``) and the seconds from the first request to the end."""

    def __init__(self, out_dir: Path, specs: Sequence[PullSpec]) -> None:
        self.out_dir = out_dir
        self.specs = list(specs)
        paths = export_paths(out_dir, self.specs)
        self.outcomes = [Outcome(s.resource, paths[s.resource], Meter(s.resource))
                         for s in self.specs]
        self.stats: dict[str, int] = {}
        self.seconds = 0.0

    @property
    def failed(self) -> list[Outcome]:
        """The collections that failed."""
        return [o for o in self.outcomes if o.status == "failed"]

    def summary(self) -> Table:
        """The summary table (see :func:`summary`)."""
        return summary(self.outcomes, self.stats, self.seconds)


async def run_export(
    connection: Connection,
    report: ExportReport,
    encoder_factory: EncoderFactory,
    *,
    resume: bool = False,
    jobs: int = 4,
    console: Console | None = None,
) -> None:
    """``productive-async export``: connect (starting the sandbox if asked), then
    :func:`export` with a progress line per collection on ``console`` (none when ``None``);
    ``report`` is filled in as it goes."""
    async with connect(connection, console) as client:
        for outcome in report.outcomes:
            rate_class = client.resource(outcome.name).spec.rate_class
            outcome.meter.wait_probe = functools.partial(rate_limit_wait, client, rate_class)
        started = time.monotonic()
        try:
            run = export(client, report.specs, report.out_dir, encoder_factory,
                         report.outcomes, resume=resume, jobs=jobs)
            if console is None:
                await run
            else:
                async with Board(console, [o.meter for o in report.outcomes]).shown():
                    await run
        finally:
            report.stats = dict(client.stats)
            report.seconds = time.monotonic() - started
