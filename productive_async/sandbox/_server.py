"""The sandbox HTTP server: Productive's API v2, in memory, for every registered resource.

Behaviour follows ``shared/productive-api/README.md`` and the seeds: auth headers (401
``invalid_auth_token``), media type (415), JSON:API documents with relationship stubs
``{"meta": {"included": false}}``, page-number and cursor pagination with the documented
``meta``/``links``, filters/sort/include/sparse fieldsets (400 when unsupported), create /
update / delete with the seeds' validation errors, bulk requests (``ext=bulk``), strict
sliding-window rate limits per token, organization and class (429 with ``X-RateLimit-Reset``),
and optional latency and injected faults for tests and benchmarks.

Every answer is the API's: query strings are read by :mod:`._query` and bodies by
:mod:`._documents` before any rule runs, each refusal is a :class:`~._errors.RequestError`
with its error document, and the :meth:`SandboxServer._guard` middleware turns whatever else
a handler raises into a logged 500 error document (never a traceback). What aiohttp refuses
before any handler runs (a request line over 64 KiB, a method that is not an HTTP token) it
answers itself, with a plain-text 400.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import math
import random
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import attrs
import orjson
from aiohttp import web
from yarl import URL

from .._ratelimit import RateLimits
from .._registry import Registry, ResourceSpec, rate_class_for
from . import _documents as documents
from ._errors import RequestError, error
from ._query import (
    MAX_PAGE_SIZE,
    Cursors,
    QueryError,
    apply_sort,
    compile_filters,
    fieldsets,
    include_tree,
    page_number,
    page_size,
    parse_brackets,
    sort_key,
)
from ._rules import Rules, status_of
from ._store import Record, Store, numeric

JSONAPI = "application/vnd.api+json"
#: Requests the :class:`RequestLog` keeps by default (the oldest are dropped first).
DEFAULT_LOG_SIZE = 100_000
#: The longest request line and header the server reads (aiohttp's default is 8,190 bytes;
#: deeply nested filters are longer). Longer ones are refused before any handler runs.
MAX_LINE_SIZE = 65_536
#: The largest request body read by default (413 beyond it).
DEFAULT_MAX_BODY_SIZE = 32 * 1024 * 1024
#: Characters of a request path the log keeps.
_LOGGED_PATH = 256

logger = logging.getLogger("productive_async.sandbox")
_ARRIVED = web.RequestKey("arrived", float)

Handler = Callable[[web.Request], Any]
#: The CRUD operation of a (route kind, method) pair, for per-operation rate classes.
_OPERATIONS = {
    ("collection", "GET"): "list", ("collection", "POST"): "create", ("member", "GET"): "get",
    ("member", "PATCH"): "update", ("member", "DELETE"): "delete",
}


@attrs.define
class Faults:
    """Injected failures: ``server_error_rate`` of answers become 500/503 error documents,
    ``drop_rate`` of requests lose their connection without an answer. Drawn from
    ``random.Random(seed)`` so a run is repeatable."""

    server_error_rate: float = 0.0
    drop_rate: float = 0.0
    seed: int = 0


class RequestLog:
    """What the server saw: one ``(arrival time, method, path, status)`` per request, times
    in monotonic seconds, the newest ``maxlen`` of them (``None``: every one; a long-running
    sandbox should keep a bound). :attr:`total` counts every request ever added."""

    def __init__(self, entries: Iterable[tuple[float, str, str, int]] = (), *,
                 maxlen: int | None = DEFAULT_LOG_SIZE) -> None:
        self.entries: deque[tuple[float, str, str, int]] = deque(entries, maxlen=maxlen)
        self.total = len(self.entries)

    @property
    def maxlen(self) -> int | None:
        """How many requests are kept (``None``: no bound)."""
        return self.entries.maxlen

    def add(self, arrived: float, method: str, path: str, status: int) -> None:
        """One request: its arrival (monotonic seconds), method, path and answer status
        (0 when the connection was dropped without an answer)."""
        self.entries.append((arrived, method, path[:_LOGGED_PATH], status))
        self.total += 1

    def count(self, status: int | None = None) -> int:
        """Requests kept answered with ``status`` (0: dropped), or all of them with ``None``."""
        return sum(1 for e in self.entries if status is None or e[3] == status)

    def max_in_window(self, seconds: float, path_prefix: str = "") -> int:
        """The most requests kept (any status but 429) that arrived within any ``seconds``
        window."""
        return max_in_window(
            [e[0] for e in self.entries if e[2].startswith(path_prefix) and e[3] != 429],
            seconds)


def max_in_window(times: Iterable[float], seconds: float) -> int:
    """The most of ``times`` (seconds, any order) within any half-open window
    ``[t, t + seconds)``: what a server enforcing "N per ``seconds``" would count."""
    ordered = sorted(times)
    best = start = 0
    for end in range(len(ordered)):
        while ordered[end] - ordered[start] >= seconds:
            start += 1
        best = max(best, end - start + 1)
    return best


class _Window:
    __slots__ = ("arrivals", "rate_requests", "rate_seconds")

    def __init__(self, requests: int, seconds: float) -> None:
        self.rate_requests = requests
        self.rate_seconds = seconds
        self.arrivals: deque[float] = deque()

    def check(self, now: float) -> float | None:
        """None if one more request fits now, else seconds until it would."""
        arrivals = self.arrivals
        while arrivals and arrivals[0] <= now - self.rate_seconds:
            arrivals.popleft()
        if len(arrivals) < self.rate_requests:
            return None
        return arrivals[0] + self.rate_seconds - now


class SandboxServer:
    """The aiohttp application and its state. Build it through :class:`~.Sandbox`."""

    def __init__(
        self,
        registry: Registry,
        store: Store,
        *,
        tokens: Mapping[str, str],
        rate_limits: RateLimits | None,
        latency: float,
        faults: Faults,
        today: dt.date | None,
        trial: bool,
        log_size: int | None = DEFAULT_LOG_SIZE,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    ) -> None:
        self.registry = registry
        self.store = store
        self.tokens = dict(tokens)
        self.rate_limits = rate_limits
        self.latency = latency
        self.faults = faults
        self.max_body_size = max_body_size
        self._fault_rng = random.Random(faults.seed)
        self.log = RequestLog(maxlen=log_size)
        self._windows: dict[tuple[str, str], _Window] = {}
        self._cursors = Cursors(secrets.token_bytes(16))
        self.rules = Rules(registry, store, today=today, trial=trial)

    # ------------------------------------------------------------------ app

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=self.max_body_size, middlewares=[self._guard])
        app.router.add_route("*", "/api/v2/{tail:.*}", self._entry)
        return app

    @web.middleware
    async def _guard(self, request: web.Request,
                     handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                     ) -> web.StreamResponse:
        """Every answer is the API's: a refusal (:class:`RequestError`) becomes its error
        document, as do aiohttp's own (404 for a path outside ``/api/v2/``, 413 for a body over
        the limit); anything else a handler raises is a bug, logged with its traceback and
        answered with a 500 error document that shows none of it. Each request is logged."""
        arrived = request[_ARRIVED] = time.monotonic()
        path = str(request.match_info.get("tail", request.path)).strip("/")
        try:
            response = await handler(request)
        except RequestError as exc:
            response = self._errors(exc.status, exc.errors)
        except _Dropped:
            self.log.add(arrived, request.method, path, 0)
            raise
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            detail = "Route Not Found" if exc.status == 404 else exc.reason
            response = self._errors(exc.status, [error(exc.status, exc.reason, detail)])
        except Exception:
            logger.exception("sandbox: %s %s failed", request.method, request.path_qs[:200])
            response = self._errors(500, [error(500, "Internal Server Error",
                                                "the sandbox failed to answer this request")])
        self.log.add(arrived, request.method, path, response.status)
        return response

    async def _entry(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["tail"].strip("/")
        return await self._handle(request, path, request[_ARRIVED])

    async def _handle(self, request: web.Request, path: str, arrived: float
                      ) -> web.StreamResponse:
        token = request.headers.get("X-Auth-Token")
        org = request.headers.get("X-Organization-Id")
        if not token or not org or self.tokens.get(token) != org:
            return self._errors(401, [error(401, "Unauthorized", "Invalid authentication token",
                                             code="invalid_auth_token")])
        content_type = request.headers.get("Content-Type", "")
        if not content_type.startswith(JSONAPI):
            return self._errors(415, [error(415, "Unsupported Media Type",
                                             f"Content-Type must be {JSONAPI}")])
        route = self._route(request.method, path)
        if route is None:
            return self._errors(404, [error(404, "Not Found", "Route Not Found")])
        spec, kind, member_id, action = route
        limited = self._rate_limit(token, org, spec, kind, action, request.method, arrived)
        if limited is not None:
            return limited
        if self.faults.drop_rate and self._fault_rng.random() < self.faults.drop_rate:
            if request.transport is not None:
                request.transport.abort()
            raise _Dropped()
        if self.latency:
            await asyncio.sleep(self.latency)
        if self.faults.server_error_rate and (
            self._fault_rng.random() < self.faults.server_error_rate
        ):
            return self._errors(503, [error(503, "Service Unavailable", "injected fault")])
        bulk = "ext=bulk" in content_type
        if bulk and "ext=bulk" not in request.headers.get("Accept", ""):
            return self._errors(404, [error(404, "Not Found", "Route Not Found")])
        # Query parameters every route reads, checked before any work (400s).
        include_tree(self.registry, spec, request.query.get("include"))
        fieldsets(request.query.items())
        body = await self._body(request)
        if kind == "collection":
            if request.method == "GET":
                return self._list(request, spec)
            if request.method == "POST":
                if isinstance(body.get("data"), list):
                    return self._bulk(spec, "create", body, bulk)
                return self._create(request, spec, body)
            if request.method in ("PATCH", "DELETE"):
                op = "update" if request.method == "PATCH" else "delete"
                return self._bulk(spec, op, body, bulk)
        elif kind == "member":
            assert member_id is not None
            if request.method == "GET":
                return self._show(request, spec, member_id)
            if request.method == "PATCH":
                return self._update(request, spec, member_id, body)
            if request.method == "DELETE":
                return self._delete(spec, member_id)
        elif kind == "action":
            assert action is not None
            return self._action(request, spec, member_id, action, body)
        return self._errors(404, [error(404, "Not Found", "Route Not Found")])

    def _route(
        self, method: str, path: str
    ) -> tuple[ResourceSpec, str, str | None, str | None] | None:
        parts = path.split("/")
        if parts[0] == "reports" and len(parts) == 2:
            spec = self.registry.resources.get(parts[1])
            if spec is not None and spec.is_report and method == "GET":
                return spec, "collection", None, None
            return None
        spec = self.registry.resources.get(parts[0])
        if spec is None or spec.is_report:
            return None
        ops = spec.operations
        if len(parts) == 1:
            for action in spec.actions.values():
                if action.scope == "collection" and action.segment == "" and (
                    action.method == method
                ):
                    return spec, "action", None, action.name
            allowed = {"GET": "list", "POST": "create"}.get(method)
            if allowed in ops or (method in ("PATCH", "DELETE", "POST") and spec.bulk):
                return spec, "collection", None, None
            return None
        if len(parts) == 2:
            for action in spec.actions.values():
                if action.scope == "collection" and action.segment == parts[1] and (
                    action.method == method
                ):
                    return spec, "action", None, action.name
            allowed = {"GET": "get", "PATCH": "update", "DELETE": "delete"}.get(method)
            if allowed in ops:
                return spec, "member", parts[1], None
            return None
        if len(parts) == 3:
            for action in spec.actions.values():
                if action.scope == "member" and action.segment == parts[2] and (
                    action.method == method
                ):
                    return spec, "action", parts[1], action.name
        return None

    # ------------------------------------------------------------------ rate limits

    def _rate_limit(
        self, token: str, org: str, spec: ResourceSpec, kind: str, action: str | None,
        method: str,
        now: float,
    ) -> web.Response | None:
        limits = self.rate_limits
        if limits is None:
            return None
        rate_class = rate_class_for(spec, _OPERATIONS.get((kind, method), ""))
        if action is not None:
            rate_class = spec.actions[action].rate_class or rate_class
        scopes: list[tuple[str, str, Any]] = [
            ("standard", token, limits.standard),
            ("organization", org, limits.organization),
        ]
        if rate_class:
            scopes.append((rate_class, token, getattr(limits, rate_class, None)))
        windows = []
        for name, key, rate in scopes:
            if rate is None:
                continue
            window = self._windows.get((name, key))
            if window is None:
                window = self._windows[(name, key)] = _Window(rate.requests, rate.seconds)
            wait = window.check(now)
            if wait is not None:
                refusal = error(429, "Too many requests", "Rate limit reached. Try again later")
                refusal["limit"] = rate.requests
                refusal["period"] = int(rate.seconds) if float(rate.seconds).is_integer() else (
                    rate.seconds
                )
                response = self._errors(429, [refusal])
                response.headers["X-RateLimit-Reset"] = str(max(1, math.ceil(wait)))
                return response
            windows.append(window)
        for window in windows:
            window.arrivals.append(now)
        return None

    # ------------------------------------------------------------------ documents

    def _json(self, status: int, document: Any, content_type: str = JSONAPI) -> web.Response:
        try:
            body = orjson.dumps(document)
        except TypeError:  # an integer beyond 64 bits (a sum, a product): exact in JSON too
            body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
        return web.Response(status=status, body=body, content_type=content_type,
                            charset="utf-8")

    def _errors(self, status: int, errors: list[dict[str, Any]]) -> web.Response:
        return self._json(status, {"errors": errors})

    async def _body(self, request: web.Request) -> dict[str, Any]:
        if not request.can_read_body:
            return {}
        return documents.load(await request.read())

    def serialize(
        self,
        record: Record,
        include_tree: Mapping[str, Any] | None = None,
        fields: Mapping[str, set[str]] | None = None,
    ) -> dict[str, Any]:
        """A stored record as a JSON:API resource object (stubs for relationships not
        included, ``data`` for included ones and for ``organization``)."""
        type_ = record["type"]
        wanted = (fields or {}).get(type_)
        attributes = record.get("attributes") or {}
        if wanted is not None:
            attributes = {k: v for k, v in attributes.items() if k in wanted}
        relationships: dict[str, Any] = {}
        for name, value in (record.get("relationships") or {}).items():
            if wanted is not None and name not in wanted:
                continue
            if (include_tree is not None and name in include_tree) or name == "organization":
                relationships[name] = {"data": value}
            else:
                relationships[name] = {"meta": {"included": False}}
        return {"id": record["id"], "type": type_, "attributes": attributes,
                "relationships": relationships}

    def _included(
        self, spec: ResourceSpec, records: list[Record], include: str | None
    ) -> tuple[dict[str, Any], list[Record], dict[tuple[str, str], dict[str, Any]]]:
        """The include tree, the included records, and each included record's subtree."""
        tree = include_tree(self.registry, spec, include)
        if not tree:
            return tree, [], {}
        included: dict[tuple[str, str], Record] = {}
        subtrees: dict[tuple[str, str], dict[str, Any]] = {}
        walked: set[tuple[str, str, int]] = set()

        def walk(record: Record, node: Mapping[str, Any]) -> None:
            for name, child in node.items():
                value = (record.get("relationships") or {}).get(name)
                idents = value if isinstance(value, list) else [value] if value else []
                for ident in idents:
                    key = (ident["type"], str(ident["id"]))
                    target = self.store.get(*key)
                    if target is None or (*key, id(child)) in walked:
                        continue
                    walked.add((*key, id(child)))
                    if key not in included:
                        included[key] = target
                        subtrees[key] = {}
                    _merge(subtrees[key], child)
                    walk(target, child)

        for record in records:
            walk(record, tree)
        return tree, list(included.values()), subtrees

    def _compound(
        self,
        request: web.Request,
        spec: ResourceSpec,
        primary: list[Record] | Record,
        *,
        meta: dict[str, Any] | None = None,
        links: dict[str, Any] | None = None,
        status: int = 200,
    ) -> web.Response:
        records = primary if isinstance(primary, list) else [primary]
        tree, included, subtrees = self._included(spec, records, request.query.get("include"))
        fields = fieldsets(request.query.items())
        data: Any = [self.serialize(r, tree, fields) for r in records]
        if not isinstance(primary, list):
            data = data[0]
        document: dict[str, Any] = {"data": data}
        if included:
            document["included"] = [
                self.serialize(r, subtrees[(r["type"], r["id"])], fields) for r in included
            ]
        if links is not None:
            document["links"] = links
        document["meta"] = meta or {}
        return self._json(status, document)

    # ------------------------------------------------------------------ reads

    def _matching(self, request: web.Request, spec: ResourceSpec) -> list[Record]:
        pairs = list(request.query.items())
        key = (spec.name, tuple(p for p in pairs if not p[0].startswith(("page[", "include",
                                                                          "fields["))))
        cached = self.store.cached(key)
        if cached is not None:
            return cached
        predicate = compile_filters(spec, parse_brackets(pairs, "filter",
                                                         title="Unsupported Filter"))
        sort = request.query.get("sort")
        keys = sort_key(spec, sort) if sort else []
        if spec.is_report:
            records = self.rules.report(spec, request.query, predicate_for=compile_filters)
        else:
            records = [r for r in self.store.table(spec.type).values() if predicate(r)]
            records.sort(key=_id_key)
        if keys:
            records = apply_sort(records, keys)
        self.store.remember(key, records)
        return records

    def _list(self, request: web.Request, spec: ResourceSpec) -> web.Response:
        query = request.query
        size = page_size(query)
        if "page[after]" in query:
            return self._list_cursor(request, spec, size)
        number = page_number(query)
        records = self._matching(request, spec)
        total = len(records)
        pages = max(1, math.ceil(total / size))
        chunk = records[(number - 1) * size:number * size]
        links = {"first": self._link(request, 1, size), "last": self._link(request, pages, size)}
        if number < pages:
            links["next"] = self._link(request, number + 1, size)
        if number > 1:
            links["prev"] = self._link(request, min(number - 1, pages), size)
        meta = {"current_page": number, "total_pages": pages, "total_count": total,
                "page_size": size, "max_page_size": MAX_PAGE_SIZE}
        return self._compound(request, spec, chunk, meta=meta, links=links)

    def _list_cursor(self, request: web.Request, spec: ResourceSpec, size: int) -> web.Response:
        if spec.is_report or not spec.cursor:
            raise QueryError("Bad Request", "cursor pagination is not supported here",
                             code="keyset_unsupported")
        sort = request.query.get("sort")
        if sort and sort.strip() not in ("id",):
            raise QueryError("Bad Request", "cursor pagination supports sorting by id only",
                             code="keyset_unsupported_sort")
        after = request.query.get("page[after]", "")
        last = self._cursors.decode(spec.name, after) if after else None
        records = self._matching(request, spec)
        start = 0
        if last is not None:
            last_key = _id_key({"id": last})
            start = len(records)
            for index, record in enumerate(records):
                if _id_key(record) > last_key:
                    start = index
                    break
        chunk = records[start:start + size]
        links: dict[str, Any] = {}
        if chunk and start + size < len(records):
            cursor = self._cursors.encode(spec.name, chunk[-1]["id"])
            links["next"] = str(
                request.url.update_query({"page[after]": cursor, "page[size]": str(size)})
            )
        meta = {"page_size": size, "max_page_size": MAX_PAGE_SIZE}
        return self._compound(request, spec, chunk, meta=meta, links=links)

    def _link(self, request: web.Request, number: int, size: int) -> str:
        url: URL = request.url.update_query({"page[number]": str(number), "page[size]": str(size)})
        return str(url)

    def _show(self, request: web.Request, spec: ResourceSpec, id_: str) -> web.Response:
        record = self.store.get(spec.type, id_)
        if record is None:
            return self._not_found()
        return self._compound(request, spec, record)

    def _not_found(self) -> web.Response:
        return self._errors(404, [error(404, "Not Found", "Record not found")])

    # ------------------------------------------------------------------ writes

    def _create(self, request: web.Request, spec: ResourceSpec, body: Mapping[str, Any]
                ) -> web.Response:
        if "create" not in spec.operations:
            return self._errors(404, [error(404, "Not Found", "Route Not Found")])
        data = documents.resource(spec, body)
        record, errors = self.rules.create(spec, data)
        if errors:
            return self._errors(status_of(errors), errors)
        assert record is not None
        return self._compound(request, spec, record, status=201)

    def _update(self, request: web.Request, spec: ResourceSpec, id_: str,
                body: Mapping[str, Any]) -> web.Response:
        record = self.store.get(spec.type, id_)
        if record is None:
            return self._not_found()
        data = documents.resource(spec, body)
        errors = self.rules.update(spec, record, data)
        if errors:
            return self._errors(status_of(errors), errors)
        return self._compound(request, spec, record)

    def _delete(self, spec: ResourceSpec, id_: str) -> web.Response:
        status, errors = self.rules.delete(spec, id_)
        if errors:
            return self._errors(status, errors)
        return web.Response(status=204)

    def _bulk(self, spec: ResourceSpec, op: str, body: Mapping[str, Any], bulk: bool
              ) -> web.Response:
        if op not in spec.bulk or not bulk:
            return self._errors(404, [error(404, "Not Found", "Route Not Found")])
        items = documents.bulk_items(spec, op, body)
        status, document = self.rules.bulk(spec, op, items)
        if status == 204:
            return web.Response(status=204)
        payload = {"data": [self.serialize(r) for r in document.get("data", [])]}
        if "errors" in document:
            return self._errors(status, document["errors"])
        return self._json(status, payload)

    def _action(self, request: web.Request, spec: ResourceSpec, id_: str | None, name: str,
                body: Mapping[str, Any]) -> web.Response:
        record = None
        if id_ is not None:
            record = self.store.get(spec.type, id_)
            if record is None:
                return self._not_found()
        data = documents.action_data(body)
        outcome = self.rules.action(spec, spec.actions[name], record, {"data": data},
                                    request.query)
        if outcome.errors:
            return self._errors(outcome.status, outcome.errors)
        if outcome.plain is not None:
            return self._json(outcome.status, outcome.plain, content_type="application/json")
        if outcome.records is not None:
            return self._compound(request, spec, outcome.records, status=outcome.status)
        if outcome.record is not None:
            return self._compound(request, spec, outcome.record, status=outcome.status)
        return web.Response(status=204)


class _Dropped(Exception):
    """The injected fault closed the connection: no answer."""


def _merge(into: dict[str, Any], tree: Mapping[str, Any]) -> None:
    for key, child in tree.items():
        _merge(into.setdefault(key, {}), child)


def _id_key(record: Mapping[str, Any]) -> tuple[int, int, str]:
    id_ = str(record["id"])
    number = numeric(id_)
    return (0, number, "") if number is not None else (1, 0, id_)
