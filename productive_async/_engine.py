"""The engine: every request of every resource is performed here, from its registry entry.

:class:`ResourceBase` holds the request logic (CRUD, custom actions, bulk operations, paging)
as private methods driven by a :class:`~productive_async.ResourceSpec`; nothing in it is
specific to a resource. Two thin layers expose it:

* the generated typed facades of :mod:`productive_async.resources` (``client.invoices``:
  precise signatures for mypy and IDEs, each method one call into this module), and
* :class:`ResourceClient`, the dynamic form (``client.resource("invoices")``), whose custom
  actions are looked up by name at run time (:class:`Action`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, Literal, TypedDict, TypeVar

import attrs

from . import _validate as validate
from ._bulk import DEFAULT_CHUNK_SIZE, BulkResult, create_many, order_by_ids, run_bulk
from ._custom_fields import CustomFieldCache, CustomFields, update_custom_fields
from ._errors import DecodeError, DriftError, InvalidRequestError
from ._jsonapi import (
    Document,
    Filters,
    QueryParams,
    build_query,
    encode_params,
    parse_document,
    resource_document,
)
from ._models import PreviewItem, Record, structure_preview_item
from ._registry import ActionSpec, Registry, ResourceSpec, rate_class_for
from ._transport import Response, ResponseInfo, Timeouts, Transport

if TYPE_CHECKING:
    from ._models import InvoiceAttributionPreview, LineItemPreview

log = logging.getLogger("productive_async")

R = TypeVar("R", bound=Record)
T = TypeVar("T", bound=Record)

MAX_PAGE_SIZE = 200
#: Upper bound of the default prefetch window (pages in flight or buffered).
MAX_PREFETCH = 64
#: The default prefetch window when the client has no standard rate limit.
DEFAULT_PREFETCH = 16
Pagination = Literal["pages", "cursor"]
#: A record id: its string form, a number, or the record itself.
Id = str | int | Record
Include = str | Sequence[str]
Fields = Mapping[str, str | Sequence[str]]
#: Query parameters the list arguments own: raw parameters cannot override them.
_RESERVED_QUERY = ("filter", "page", "sort", "include", "fields", "group")
#: Characters of a record id that travel in a URL path unescaped.
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:~-]*")


class ListOptions(TypedDict, total=False):
    """Options of every ``list()``.

    ``fields``: sparse fieldsets, ``{type: names}``; ``page_size``: records per request,
    1..200 (Productive API reference, "Pagination": default 30, max 200; the SDK asks for 200);
    ``max_items``: stop after that many records, sending no more requests than they need;
    ``pagination``: ``"pages"`` (page numbers, concurrent prefetch) or ``"cursor"``;
    ``prefetch``: pages in flight or buffered at once; ``on_drift``: ``"raise"`` or
    ``"ignore"`` a changed ``total_count``; ``timeouts``: per-attempt
    :class:`~productive_async.Timeouts` (seconds); ``extra_query``: query parameters the
    registry does not know (never ``filter``, ``page``, ``sort``, ``include``, ``fields``).

    To continue an interrupted pull: ``start_page`` (page-number pagination, >= 1, default 1)
    is the first page fetched, and ``max_items`` still counts from the first record of page 1,
    so the pull stops where the whole one would; ``start_after`` (cursor pagination) is the
    ``page[after]`` cursor of the first request (the value in the last page's
    ``links.next``). Both raise :class:`~productive_async.InvalidRequestError` in the other
    mode.
    """

    fields: Fields
    page_size: int
    max_items: int
    pagination: Pagination
    prefetch: int
    on_drift: Literal["raise", "ignore"]
    timeouts: Timeouts
    extra_query: Mapping[str, Any]
    start_page: int
    start_after: str


@attrs.frozen
class Page(Generic[R]):
    """One page of a list: its records, the ``included`` records, ``meta`` and ``links`` as
    sent, and its number (1-based; ``None`` in cursor mode)."""

    records: list[R]
    meta: Mapping[str, Any]
    links: Mapping[str, Any]
    number: int | None = None
    included: list[Record] = attrs.field(factory=list)
    #: The answer the page came in: status, headers, request id.
    response: ResponseInfo | None = None

    @property
    def total_count(self) -> int | None:
        """``meta.total_count`` (page-number pagination only)."""
        return _count_of(self.meta)


@attrs.frozen
class RawPage:
    """One page as received, without records: ``data`` and ``included`` are the resource
    objects as plain JSON (``dict``), ``meta`` and ``links`` as sent, ``number`` 1-based
    (``None`` in cursor mode). For consumers that forward JSON (``Paginator.raw_pages()``)."""

    data: list[dict[str, Any]]
    meta: Mapping[str, Any]
    links: Mapping[str, Any]
    number: int | None = None
    included: list[dict[str, Any]] = attrs.field(factory=list)
    #: The answer the page came in: status, headers, request id.
    response: ResponseInfo | None = None

    @property
    def total_count(self) -> int | None:
        """``meta.total_count`` (page-number pagination only)."""
        return _count_of(self.meta)


@attrs.frozen
class Context:
    """What every resource of one client shares: its transport, registry, custom field cache
    and whether unknown names are refused (``strict``)."""

    transport: Transport
    registry: Registry
    custom_fields: CustomFieldCache | None = None
    strict: bool = True


@attrs.frozen
class _ListQuery:
    """A checked listing: the query pairs and paging settings."""

    query: QueryParams
    page_size: int
    max_items: int | None
    pagination: Pagination
    prefetch: int
    on_drift: str
    timeouts: Timeouts | None
    start_page: int = 1
    start_after: str = ""


class Paginator(Generic[R]):
    """The records of ``GET /<path>`` over all pages: ``async for record in paginator``.

    Made by ``list()``, which checks every argument before any request; nothing is sent until
    it is iterated. ``.pages()`` gives :class:`Page` objects (records, ``included``, ``meta``,
    ``links``); ``await .to_list()`` collects every record; ``await .first()`` sends one
    request for one record. Each iteration starts the listing again from the first page.

    Page-number pagination (the default) fetches up to ``prefetch`` later pages concurrently
    and still yields in order, so a pull runs at the rate limit even with slow responses; the
    default is the request count of the client's ``standard`` window, capped at 64 (16 without
    limits). If ``meta.total_count`` changes during the pull (records created or deleted
    meanwhile), :class:`~productive_async.DriftError` is raised rather than silently yielding a
    shifted set (``on_drift="ignore"`` accepts that). Cursor pagination follows ``links.next``
    from ``page[after]=``, one request at a time, consistent under concurrent writes; reports
    do not support it (Productive API reference, "Pagination").
    """

    def __init__(self, resource: ResourceBase[R], listing: _ListQuery) -> None:
        self._resource = resource
        self._listing = listing

    def __repr__(self) -> str:
        return f"<Paginator {self._resource.spec.name} {self._listing.query!r}>"

    def __aiter__(self) -> AsyncIterator[R]:
        return self._resource._record_stream(self._listing)

    def pages(self) -> AsyncGenerator[Page[R], None]:
        """The pages, in order, each a :class:`Page` (stop early with ``aclose()``)."""
        return self._resource._page_stream(self._listing)

    def raw_pages(self) -> AsyncGenerator[RawPage, None]:
        """The pages as received, in order, each a :class:`RawPage` whose ``data`` and
        ``included`` are the resource objects as plain JSON: no records are built, for
        consumers that forward JSON. Same requests, order and checks as iterating."""
        return self._resource._raw_pages(self._listing)

    async def to_list(self) -> list[R]:
        """Every record (at most ``max_items``) in one list."""
        return [record async for record in self]

    async def first(self) -> R | None:
        """The first record, or ``None`` when there is none (one request, page size 1)."""
        listing = attrs.evolve(self._listing, page_size=1, max_items=1, prefetch=1,
                               start_page=1, start_after="")
        async for record in self._resource._record_stream(listing):
            return record
        return None


class ResourceBase(Generic[R]):
    """The request logic of one collection, from its registry entry (see the module docstring).

    Its methods are private: the typed facades of :mod:`productive_async.resources` and
    :class:`ResourceClient` are the public faces.
    """

    def __init__(self, spec: ResourceSpec, context: Context) -> None:
        self.spec = spec
        self._context = context
        self._transport = context.transport

    def __repr__(self) -> str:
        return f"<{type(self).__name__} /{self.spec.path}>"

    # ----------------------------------------------------------------- plumbing

    def _require(self, operation: str) -> None:
        if operation not in self.spec.operations:
            raise InvalidRequestError(
                f"{self.spec.name} does not support {operation} "
                f"(supported: {', '.join(sorted(self.spec.operations)) or 'none'})"
            )

    def _member_path(self, id: Id) -> str:
        return f"{self.spec.path}/{record_id(id)}"

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] = (),
        json: Any = None,
        rate_class: str | None = None,
        idempotent: bool | None = None,
        bulk: bool = False,
        timeouts: Timeouts | None = None,
    ) -> Response:
        return await self._transport.request(
            method, path, params=params, json=json,
            rate_class=rate_class or self.spec.rate_class, idempotent=idempotent, bulk=bulk,
            timeouts=timeouts,
        )

    def _one(self, response: Response) -> R:
        data = _document(response).data
        if not isinstance(data, Record):
            raise DecodeError(f"{response.method} {response.path} -> {response.status}: "
                              "expected one resource object")
        data.__dict__["_response"] = response.info
        return data  # type: ignore[return-value]  # the class of its type (models.MODELS)

    def _records(self, response: Response) -> list[Record]:
        if response.body is None:
            return []
        data = _document(response).data
        if isinstance(data, list):
            return data
        return [] if data is None else [data]

    def _check_writes(self, operation: str, items: Sequence[Any]) -> None:
        """Check the names of each mapping in ``items`` (before any request is sent)."""
        for item in items:
            if isinstance(item, Mapping):
                values = {k: v for k, v in item.items() if k != "id"}
                validate.check_write(self.spec, operation, values, self._context.strict)

    # ----------------------------------------------------------------- CRUD

    async def _get(self, id: Id, include: Include | None, fields: Fields | None,
                   timeouts: Timeouts | None) -> R:
        self._require("get")
        strict, registry = self._context.strict, self._context.registry
        validate.check_include(registry, self.spec, include, strict)
        validate.check_fields(registry, fields, strict)
        params = build_query(include=include, fields=fields)
        response = await self._send("GET", self._member_path(id), params=params,
                                    timeouts=timeouts)
        return self._one(response)

    async def _create(self, values: Mapping[str, Any], timeouts: Timeouts | None,
                      checked: bool = False) -> R:
        self._require("create")
        if not checked:
            self._check_writes("create", [values])
        body = resource_document(self.spec, self.spec.type, values)
        return self._one(await self._send(
            "POST", self.spec.path, json=body, rate_class=rate_class_for(self.spec, "create"),
            timeouts=timeouts,
        ))

    async def _update(self, id: Id, values: Mapping[str, Any], timeouts: Timeouts | None) -> R:
        self._require("update")
        self._check_writes("update", [values])
        # JSON:API 1.0 ("Updating Resources") requires data.id; Productive accepts both.
        body = resource_document(self.spec, self.spec.type, values, id=record_id(id))
        return self._one(await self._send(
            "PATCH", self._member_path(id), json=body,
            rate_class=rate_class_for(self.spec, "update"), timeouts=timeouts,
        ))

    async def _delete(self, id: Id, timeouts: Timeouts | None) -> None:
        self._require("delete")
        response = await self._send("DELETE", self._member_path(id),
                                    rate_class=rate_class_for(self.spec, "delete"),
                                    timeouts=timeouts)
        response.raise_for_errors()

    # ----------------------------------------------------------------- actions

    def _action_spec(self, name: str) -> ActionSpec:
        try:
            return self.spec.actions[name]
        except KeyError:
            raise InvalidRequestError(
                f"{self.spec.name} has no action {name!r}; "
                f"{validate.accepted(name, self.spec.actions)}"
            ) from None

    async def _call(self, name: str, id: Id | None, params: Mapping[str, Any],
                    timeouts: Timeouts | None) -> Response:
        spec = self._action_spec(name)
        validate.check_action(self.spec, spec, params, self._context.strict)
        if spec.scope == "member":
            if id is None:
                raise InvalidRequestError(f"{self.spec.name}.{name}() needs the record id")
            path = f"{self._member_path(id)}/{spec.segment}"
        else:
            path = f"{self.spec.path}/{spec.segment}"
        query: QueryParams = []
        body: Any = None
        if spec.payload == "query":
            query = encode_params(params)
        elif spec.payload == "attributes" and params:
            # Called without arguments, an action sends no body (seed 004: PATCH
            # invoices/40/export, .../45/export_update; seed 003: POST contracts/19/generate).
            body = resource_document(self.spec, self.spec.type, params)
        elif spec.payload == "bulk":
            items = params.get("items")
            if items is None:
                raise InvalidRequestError(f"{self.spec.name}.{name}() takes items=[...]")
            body = {"data": [bulk_item(self.spec, item) for item in items]}
        return await self._send(
            spec.method, path, params=query, json=body, rate_class=spec.rate_class,
            idempotent=spec.idempotent or None, bulk=spec.payload == "bulk", timeouts=timeouts,
        )

    async def _act_one(self, model: type[T], name: str, id: Id | None,
                       params: Mapping[str, Any], timeouts: Timeouts | None) -> T:
        """An action answering one resource object of ``model``'s type."""
        response = await self._call(name, id, params, timeouts)
        record = _document(response).data
        if not isinstance(record, Record):
            raise DecodeError(f"{response.method} {response.path} -> {response.status}: "
                              "expected one resource object")
        record.__dict__["_response"] = response.info
        if not isinstance(record, model):
            log.warning("%s.%s answered a %s, not the documented %s", self.spec.name, name,
                        record.type, model.__jsonapi_type__)
        return record  # type: ignore[return-value]

    async def _act_many(self, model: type[T], name: str, id: Id | None,
                        params: Mapping[str, Any], timeouts: Timeouts | None) -> list[T]:
        """An action answering several resource objects (or none)."""
        response = await self._call(name, id, params, timeouts)
        return self._records(response)  # type: ignore[return-value]

    async def _act_items(
        self, name: str, id: Id | None, params: Mapping[str, Any], timeouts: Timeouts | None
    ) -> list[LineItemPreview | InvoiceAttributionPreview | PreviewItem]:
        """An action answering plain JSON items (invoice preview)."""
        response = await self._call(name, id, params, timeouts)
        body = response.body
        data = body.get("data") if isinstance(body, Mapping) else None
        if not isinstance(data, list):
            raise DecodeError(f"{self.spec.name}.{name}: expected a list of items in 'data'")
        return [structure_preview_item(item) for item in data if isinstance(item, Mapping)]

    async def _act_none(self, name: str, id: Id | None, params: Mapping[str, Any],
                        timeouts: Timeouts | None) -> None:
        """An action answering nothing the SDK reads."""
        (await self._call(name, id, params, timeouts)).raise_for_errors()

    # ----------------------------------------------------------------- custom fields

    async def _custom_field_definitions(self, refresh: bool) -> CustomFields:
        if self._context.custom_fields is None:
            raise InvalidRequestError("custom fields need a client (Productive) to fetch them")
        return await self._context.custom_fields.for_type(self.spec.type, refresh=refresh)

    async def _update_custom_fields(self, id: Id, values: Mapping[str | int, Any]) -> R:
        fields = await self._custom_field_definitions(False)
        fields.encode(values)  # validate names and values before reading
        record = await update_custom_fields(
            lambda merged: self._update(id, {"custom_fields": merged}, None),
            values, fields,
            lambda: self._get(id, None, {self.spec.type: ["custom_fields"]}, None),
        )
        return record  # type: ignore[return-value]

    # ----------------------------------------------------------------- bulk

    async def _bulk_create(self, items: Sequence[Mapping[str, Any]], chunk_size: int
                           ) -> BulkResult:
        self._check_writes("create", items)

        async def send(chunk: Sequence[Any]) -> list[Record] | None:
            body = {"data": [bulk_item(self.spec, dict(item)) for item in chunk]}
            response = await self._send("POST", self.spec.path, json=body, bulk=True,
                                        rate_class=rate_class_for(self.spec, "create"))
            return self._records(response)

        return await run_bulk(self.spec, "create", items, chunk_size, send)

    async def _bulk_update(self, items: Sequence[Mapping[str, Any]], chunk_size: int
                           ) -> BulkResult:
        for index, item in enumerate(items):
            if not isinstance(item, Mapping) or item.get("id") in (None, ""):
                raise InvalidRequestError(f"bulk_update item {index}: a mapping with 'id'")
        self._check_writes("update", items)

        async def send(chunk: Sequence[Any]) -> Sequence[Record | None] | None:
            body = {"data": [bulk_item(self.spec, dict(item)) for item in chunk]}
            response = await self._send("PATCH", self.spec.path, json=body, bulk=True,
                                        rate_class=rate_class_for(self.spec, "update"))
            ids = [record_id(item["id"]) for item in chunk]
            return order_by_ids(self._records(response), ids)

        return await run_bulk(self.spec, "update", items, chunk_size, send)

    async def _bulk_delete(self, ids: Sequence[Id], chunk_size: int) -> BulkResult:
        async def send(chunk: Sequence[Any]) -> list[Record] | None:
            body = {"data": [bulk_item(self.spec, item) for item in chunk]}
            response = await self._send("DELETE", self.spec.path, json=body, bulk=True,
                                        rate_class=rate_class_for(self.spec, "delete"))
            response.raise_for_errors()
            return None

        return await run_bulk(self.spec, "delete", ids, chunk_size, send)

    async def _create_many(self, items: Sequence[Mapping[str, Any]], concurrency: int
                           ) -> BulkResult:
        self._require("create")
        self._check_writes("create", items)  # every item before the first request
        return await create_many(lambda item: self._create(item, None, checked=True), items,
                                 concurrency)

    # ----------------------------------------------------------------- listing

    def _list(
        self,
        filters: Filters | None,
        sort: str | Sequence[str] | None,
        include: Include | None,
        options: Mapping[str, Any],
        group: str | Sequence[str] | None = None,
    ) -> Paginator[R]:
        """Check a listing's arguments (before any request) and return its paginator."""
        return Paginator(self, self._list_query(filters, sort, include, options, group))

    def _list_query(
        self,
        filters: Filters | None,
        sort: str | Sequence[str] | None,
        include: Include | None,
        options: Mapping[str, Any],
        group: str | Sequence[str] | None,
    ) -> _ListQuery:
        self._require("list")
        unknown = set(options) - set(ListOptions.__annotations__)
        if unknown:
            raise InvalidRequestError(
                f"{self.spec.name}.list(): unknown option(s) {', '.join(sorted(unknown))}; "
                f"{validate.accepted(sorted(unknown)[0], ListOptions.__annotations__)}"
            )
        page_size = options.get("page_size", MAX_PAGE_SIZE)
        max_items = options.get("max_items")
        pagination = options.get("pagination", "pages")
        on_drift = options.get("on_drift", "raise")
        fields = options.get("fields")
        extra = dict(options.get("extra_query") or {})
        if not isinstance(page_size, int) or not 1 <= page_size <= MAX_PAGE_SIZE:
            raise InvalidRequestError(f"page_size must be 1..{MAX_PAGE_SIZE}, not {page_size}")
        if max_items is not None and (not isinstance(max_items, int) or max_items < 0):
            raise InvalidRequestError("max_items must be an int >= 0")
        if pagination not in ("pages", "cursor"):
            raise InvalidRequestError(f"pagination must be 'pages' or 'cursor', not {pagination!r}")
        if pagination == "cursor" and not self.spec.cursor:
            raise InvalidRequestError(f"{self.spec.name} does not support cursor pagination")
        if on_drift not in ("raise", "ignore"):
            raise InvalidRequestError(f"on_drift must be 'raise' or 'ignore', not {on_drift!r}")
        start_page = options.get("start_page", 1)
        start_after = options.get("start_after", "")
        if isinstance(start_page, bool) or not isinstance(start_page, int) or start_page < 1:
            raise InvalidRequestError(f"start_page must be an int >= 1, not {start_page!r}")
        if start_page != 1 and pagination != "pages":
            raise InvalidRequestError("start_page needs pagination='pages'")
        if not isinstance(start_after, str):
            raise InvalidRequestError(f"start_after must be a cursor string, not {start_after!r}")
        if start_after and pagination != "cursor":
            raise InvalidRequestError("start_after needs pagination='cursor'")
        for name in extra:
            base = str(name).split("[", 1)[0]
            if base in _RESERVED_QUERY:
                raise InvalidRequestError(
                    f"extra_query cannot set {name!r}: use the {base!r} argument"
                )
        strict, registry = self._context.strict, self._context.registry
        validate.check_filters(self.spec, filters, strict)
        validate.check_sort(self.spec, sort, strict)
        validate.check_include(registry, self.spec, include, strict)
        validate.check_fields(registry, fields, strict)
        validate.check_group(self.spec, group, strict)
        if group is not None:
            extra["group"] = group if isinstance(group, str) else ",".join(group)
        prefetch = self._prefetch(options.get("prefetch"))
        if max_items is not None:
            page_size = max(1, min(page_size, max_items))
        query = build_query(filters=filters, sort=sort, include=include, fields=fields,
                            params=extra)
        return _ListQuery(query, page_size, max_items, pagination, prefetch, on_drift,
                          options.get("timeouts"), start_page, start_after)

    def _prefetch(self, prefetch: int | None) -> int:
        if prefetch is None:
            standard = self._transport.gate.limits.standard
            return min(MAX_PREFETCH, standard.requests) if standard else DEFAULT_PREFETCH
        if not isinstance(prefetch, int) or prefetch < 1:
            raise InvalidRequestError("prefetch must be an int >= 1")
        return prefetch

    async def _count(self, filters: Filters | None, extra_query: Mapping[str, Any] | None) -> int:
        self._require("list")
        validate.check_filters(self.spec, filters, self._context.strict)
        query = build_query(filters=filters, params=extra_query)
        page = await self._fetch_page(query, 1, 1, None)
        return page.total_count or 0

    def _page_stream(self, listing: _ListQuery) -> AsyncGenerator[Page[R], None]:
        return self._typed_pages(listing)

    async def _typed_pages(self, listing: _ListQuery) -> AsyncGenerator[Page[R], None]:
        raw_pages = self._raw_pages(listing)
        try:
            async for raw in raw_pages:
                document = parse_document({"data": raw.data, "included": raw.included})
                yield Page(document.data, raw.meta, raw.links, raw.number,  # type: ignore[arg-type]
                           document.included, raw.response)
        finally:
            await raw_pages.aclose()

    async def _record_stream(self, listing: _ListQuery) -> AsyncGenerator[R, None]:
        remaining = listing.max_items
        if remaining is not None:  # max_items counts from page 1 (see ListOptions.start_page)
            remaining -= (listing.start_page - 1) * listing.page_size
        pages = self._page_stream(listing)
        try:
            async for page in pages:
                for record in page.records:
                    if remaining is not None:
                        if remaining <= 0:
                            return
                        remaining -= 1
                    yield record
                if remaining is not None and remaining <= 0:
                    return
        finally:
            await pages.aclose()

    def _raw_pages(self, listing: _ListQuery) -> AsyncGenerator[RawPage, None]:
        if listing.pagination == "cursor":
            return self._cursor_pages(listing)
        return self._numbered_pages(listing)

    def _raw_page(self, response: Response, number: int | None) -> RawPage:
        """The page of one answer; parsed here, when the consumer reaches it, not on arrival."""
        body = response.body
        data = body.get("data") if isinstance(body, Mapping) else None
        if not isinstance(data, list):
            raise DecodeError(f"GET {self.spec.path} -> {response.status}: expected a JSON:API "
                              "document whose 'data' is a list")
        meta = body.get("meta") or {}
        links = body.get("links") or {}
        included = body.get("included") or []
        if not isinstance(meta, Mapping) or not isinstance(links, Mapping) \
                or not isinstance(included, list):
            raise DecodeError(f"GET {self.spec.path}: 'meta' and 'links' must be JSON objects "
                              "and 'included' a list")
        return RawPage(data, meta, links, number, included, response.info)

    async def _fetch(self, query: QueryParams, number: int, size: int,
                     timeouts: Timeouts | None) -> Response:
        params = [*query, ("page[number]", str(number)), ("page[size]", str(size))]
        return await self._send("GET", self.spec.path, params=params, timeouts=timeouts)

    async def _fetch_page(self, query: QueryParams, number: int, size: int,
                          timeouts: Timeouts | None) -> RawPage:
        return self._raw_page(await self._fetch(query, number, size, timeouts), number)

    async def _numbered_pages(self, listing: _ListQuery) -> AsyncGenerator[RawPage, None]:
        """Page 1 (``start_page``), then up to ``prefetch`` later pages in flight, in order.

        Answers stay bytes until the consumer reaches their page, and the loop gets control
        between pages, so a burst of arrived pages never blocks it for more than one page's
        decoding. Checks (``on_drift="raise"``): every page's ``total_count`` equals the first
        page's, every page before the last is full, the last holds the rest, and no record is
        on two neighbouring pages (what a shift by records created or deleted meanwhile looks
        like); any failure raises :class:`DriftError`."""
        query, size, timeouts = listing.query, listing.page_size, listing.timeouts
        start = listing.start_page
        if listing.max_items is not None and start > -(-listing.max_items // size):
            return  # the pages max_items allows were all before start_page
        first = await self._fetch_page(query, start, size, timeouts)
        expected = first.total_count
        total_pages = _pages_of(first.meta, expected, size, self.spec.path)
        if listing.max_items is not None:
            total_pages = min(total_pages, -(-listing.max_items // size))
        check = listing.on_drift == "raise"
        previous_ids: set[tuple[Any, Any]] = set()
        if check:
            previous_ids = self._check_page(first, None, set(), expected, total_pages, size)
        yield first
        del first  # not kept for the rest of the pull (memory, and work for the gc)
        if total_pages <= start:
            return
        pending: dict[int, asyncio.Task[Response]] = {}
        next_number = start + 1
        try:
            for number in range(start + 1, total_pages + 1):
                while next_number <= total_pages and len(pending) < listing.prefetch:
                    pending[next_number] = asyncio.create_task(
                        self._fetch(query, next_number, size, timeouts)
                    )
                    next_number += 1
                task = pending.pop(number)
                if task.done():
                    await asyncio.sleep(0)  # let the loop run between pages that have arrived
                page = self._raw_page(await task, number)
                if check:
                    previous_ids = self._check_page(page, expected, previous_ids, expected,
                                                    total_pages, size)
                yield page
        finally:
            for task in pending.values():
                task.cancel()
            for task in pending.values():
                with contextlib.suppress(BaseException):
                    await task

    def _check_page(self, page: RawPage, first_count: int | None,
                    previous_ids: set[tuple[Any, Any]], expected: int | None,
                    total_pages: int, size: int) -> set[tuple[Any, Any]]:
        """Raise :class:`DriftError` unless ``page`` fits the pull; its record keys."""
        path, number = self.spec.path, page.number or 1
        seen = page.total_count
        if first_count is not None and seen is not None and seen != first_count:
            raise DriftError(path, f"total_count changed from {first_count} to {seen} at page "
                             f"{number}", expected=first_count, seen=seen)
        count = len(page.data)
        if number < total_pages and count != size:
            raise DriftError(path, f"page {number} of {total_pages} holds {count} records, not "
                             f"{size}")
        if number == total_pages and expected is not None and total_pages > 1:
            rest = expected - (total_pages - 1) * size
            if 0 < rest <= size and count != rest:
                raise DriftError(path, f"the last page ({number}) holds {count} records, not the "
                                 f"{rest} that total_count {expected} leaves for it")
        ids = {(r.get("type"), r.get("id")) for r in page.data if isinstance(r, Mapping)}
        if len(ids) != count:
            raise DriftError(path, f"page {number} holds a record twice")
        twice = ids & previous_ids
        if twice:
            type_, id_ = next(iter(twice))
            raise DriftError(path, f"record {type_}/{id_} is on pages {number - 1} and {number} "
                             "(records created or re-sorted meanwhile)")
        return ids

    async def _cursor_pages(self, listing: _ListQuery) -> AsyncGenerator[RawPage, None]:
        """``page[after]`` from ``links.next``, one request at a time, until a page without a
        next link or without records. A cursor the server hands out twice raises
        :class:`DecodeError` (the pull would never end)."""
        query, size = listing.query, listing.page_size
        params: QueryParams = [*query, ("page[size]", str(size)),
                               ("page[after]", listing.start_after)]
        cursors: set[str] = set()
        while True:
            response = await self._send("GET", self.spec.path, params=params,
                                        timeouts=listing.timeouts)
            page = self._raw_page(response, None)
            yield page
            next_link = page.links.get("next")
            if not next_link or not page.data:
                return
            after = _query_value(str(next_link), "page[after]")
            if after is None:
                return
            if after in cursors:
                raise DecodeError(f"GET {self.spec.path}: the server gave cursor {after!r} twice; "
                                  "the pull would never end")
            cursors.add(after)
            params = [*query, ("page[size]", str(size)), ("page[after]", after)]
            await asyncio.sleep(0)


def response_of(record: Record) -> ResponseInfo | None:
    """The answer a record came in (status, headers, ``request_id``) when it is the result of
    ``get``, ``create``, ``update`` or a custom action; ``None`` for records of a list (see
    ``Page.response``) or of an ``included`` member."""
    info = record.__dict__.get("_response")
    return info if isinstance(info, ResponseInfo) else None


def _document(response: Response) -> Document:
    """The JSON:API document of a 2xx answer; a :class:`DecodeError` names the request."""
    try:
        return parse_document(response.body)
    except DecodeError as exc:
        raise DecodeError(f"{response.method} {response.path} -> {response.status}: {exc}"
                          ) from None


def _count_of(meta: Mapping[str, Any]) -> int | None:
    value = meta.get("total_count")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _pages_of(meta: Mapping[str, Any], total_count: int | None, size: int, path: str) -> int:
    """``meta.total_pages``, checked against ``total_count`` when both are sent (a server
    declaring a million pages for a few records would keep a pull going for ever)."""
    declared = _int(meta.get("total_pages"), -1)
    if total_count is not None:
        needed = -(-total_count // size)
        if declared not in (-1, needed, max(1, needed)):  # an empty list: 0 or 1 pages
            raise DecodeError(f"GET {path}: meta.total_pages is {declared} but total_count "
                              f"{total_count} at page size {size} makes {needed}")
        return max(1, needed)
    return declared if declared >= 1 else 1


def _int(value: Any, default: int) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return default


def _query_value(link: str, name: str) -> str | None:
    from yarl import URL

    return URL(link).query.get(name)


def record_id(value: Any) -> str:
    """The id of a record (or an id) as it goes into a URL path.

    Raises :class:`~productive_async.InvalidRequestError` for anything that is not a plain
    id: ``None``, booleans, empty strings, ``.``/``..``, and characters that would change the
    URL (``/``, ``?``, ``#``, ``%``, spaces, control characters)."""
    if isinstance(value, Record):
        value = value.id
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidRequestError(f"expected a record id, not {value!r}")
    text = str(value)
    if not _ID.fullmatch(text) or text.strip(".") == "":
        raise InvalidRequestError(f"invalid record id {text!r}")
    return text


def bulk_item(spec: ResourceSpec, item: Any) -> dict[str, Any]:
    """One resource object of a bulk body: a mapping of values (with ``id`` for updates) or,
    for deletes and approvals, a bare id or record (``{"type", "id"}``)."""
    if isinstance(item, Mapping):
        values = dict(item)
        id_ = values.pop("id", None)
        data: dict[str, Any] = resource_document(
            spec, spec.type, values, id=None if id_ is None else record_id(id_)
        )["data"]
        return data
    return {"type": spec.type, "id": record_id(item)}


# --------------------------------------------------------------------------- dynamic client


class ResourceClient(ResourceBase[Record]):
    """One collection by name, resolved at run time: ``client.resource("invoices")``.

    The same engine as the typed ``client.<collection>`` facades, with untyped signatures: for
    a custom registry, for tools that take a resource name from their input (the command line),
    and for code written against names known only at run time. Custom actions are attributes
    (``client.resource("deals").close(id, delivered_on=...)``, see :class:`Action`).
    """

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self.spec.actions))

    if not TYPE_CHECKING:
        def __getattr__(self, name: str) -> Action:
            spec = self.__dict__.get("spec")
            if spec is not None and name in spec.actions:
                action = Action(self, spec.actions[name])
                self.__dict__[name] = action
                return action
            raise AttributeError(
                f"{type(self).__name__} {spec.name if spec else '?'!r} has no method {name!r}"
            )

    def action(self, name: str) -> Action:
        """The custom action ``name`` (``"close"``, ``"finalize"``, ...). Raises
        :class:`~productive_async.InvalidRequestError` for an unknown one."""
        return Action(self, self._action_spec(name))

    async def get(self, id: Id, *, include: Include | None = None, fields: Fields | None = None,
                  timeouts: Timeouts | None = None) -> Record:
        """``GET /<path>/{id}`` -> the record, with included relationships resolvable.

        Raises :class:`~productive_async.NotFoundError` (404) and the other API errors.
        """
        return await self._get(id, include, fields, timeouts)

    async def create(self, *, timeouts: Timeouts | None = None, **values: Any) -> Record:
        """``POST /<path>`` with ``{"data": {"type", "attributes", "relationships"}}`` -> the
        new record (201). ``values``: attributes and relationships by API name (see the typed
        ``client.<collection>.create``). Raises :class:`~productive_async.InvalidRequestError`
        for a name the API does not accept, :class:`~productive_async.ValidationError` (422)."""
        return await self._create(values, timeouts)

    async def update(self, id: Id, *, timeouts: Timeouts | None = None, **values: Any) -> Record:
        """``PATCH /<path>/{id}`` with ``{"data": {"type", "id", ...}}`` holding only what is
        given -> the record. Raises :class:`~productive_async.InvalidRequestError`,
        :class:`~productive_async.ValidationError` (422), :class:`~productive_async.NotFoundError`
        (404)."""
        return await self._update(id, values, timeouts)

    async def delete(self, id: Id, *, timeouts: Timeouts | None = None) -> None:
        """``DELETE /<path>/{id}`` (204). Raises :class:`~productive_async.NotFoundError`."""
        await self._delete(id, timeouts)

    def list(
        self,
        *,
        filters: Filters | None = None,
        sort: str | Sequence[str] | None = None,
        include: Include | None = None,
        group: str | Sequence[str] | None = None,
        **options: Any,
    ) -> Paginator[Record]:
        """``GET /<path>`` over all pages, as a :class:`Paginator` (``options``: see
        :class:`ListOptions`; ``group`` on reports). Raises
        :class:`~productive_async.InvalidRequestError` for an unknown filter, operator, sort
        key, include path, group or option, before any request."""
        return self._list(filters, sort, include, options, group)

    async def count(self, *, filters: Filters | None = None,
                    extra_query: Mapping[str, Any] | None = None) -> int:
        """``meta.total_count`` of ``GET /<path>`` with ``filters`` (one request, page size 1)."""
        return await self._count(filters, extra_query)

    async def custom_field_definitions(self, *, refresh: bool = False) -> CustomFields:
        """The custom fields of this resource (see :class:`~productive_async.CustomFields`)."""
        return await self._custom_field_definitions(refresh)

    async def update_custom_fields(self, id: Id, values: Mapping[str | int, Any]) -> Record:
        """Change custom field values by field name or id (read, merge, write back)."""
        return await self._update_custom_fields(id, values)

    async def bulk_create(self, items: Sequence[Mapping[str, Any]], *,
                          chunk_size: int = DEFAULT_CHUNK_SIZE) -> BulkResult:
        """``POST /<path>`` with the bulk extension (see the typed facades)."""
        return await self._bulk_create(items, chunk_size)

    async def bulk_update(self, items: Sequence[Mapping[str, Any]], *,
                          chunk_size: int = DEFAULT_CHUNK_SIZE) -> BulkResult:
        """``PATCH /<path>`` with the bulk extension (see the typed facades)."""
        return await self._bulk_update(items, chunk_size)

    async def bulk_delete(self, ids: Sequence[Id], *,
                          chunk_size: int = DEFAULT_CHUNK_SIZE) -> BulkResult:
        """``DELETE /<path>`` with the bulk extension (see the typed facades)."""
        return await self._bulk_delete(ids, chunk_size)

    async def create_many(self, items: Sequence[Mapping[str, Any]], *,
                          concurrency: int = 16) -> BulkResult:
        """One ``POST /<path>`` per item, ``concurrency`` at once (see the typed facades)."""
        return await self._create_many(items, concurrency)


class Action:
    """A custom action of the registry, called by name: ``client.resource("invoices")
    .finalize(id)``.

    Sends the action's HTTP method to ``/<path>/{id}/<segment>`` (member actions, id first)
    or ``/<path>/<segment>`` (collection actions). Keyword arguments become body attributes
    (``payload="attributes"``) or query parameters (``payload="query"``; lists repeat as
    ``name[]=``); a bulk action takes ``items=[...]``. Returns a record, a list of records, a
    list of typed preview items or ``None``, as the registry says.
    """

    def __init__(self, owner: ResourceBase[Any], spec: ActionSpec) -> None:
        self._owner = owner
        self.spec = spec
        self.__doc__ = (
            f"{spec.method} /{owner.spec.path}/"
            f"{'{id}/' if spec.scope == 'member' else ''}{spec.segment}"
            f" (rate class: {spec.rate_class or 'standard'})"
        )

    def __repr__(self) -> str:
        return f"<Action {self._owner.spec.name}.{self.spec.name}: {self.__doc__}>"

    async def __call__(self, *args: Any, timeouts: Timeouts | None = None, **kwargs: Any) -> Any:
        owner, spec = self._owner, self.spec
        if spec.scope == "member" and len(args) != 1:
            raise InvalidRequestError(
                f"{owner.spec.name}.{spec.name}() takes the record id as its only positional "
                "argument"
            )
        if spec.scope == "collection" and args:
            raise InvalidRequestError(
                f"{owner.spec.name}.{spec.name}() takes keyword arguments only"
            )
        id_ = args[0] if args else None
        if spec.payload == "bulk" and set(kwargs) - {"items"}:
            raise InvalidRequestError(f"{owner.spec.name}.{spec.name}() takes items=[...] only")
        if spec.result == "items":
            return await owner._act_items(spec.name, id_, kwargs, timeouts)
        if spec.result == "none":
            return await owner._act_none(spec.name, id_, kwargs, timeouts)
        if spec.result == "records":
            return await owner._act_many(Record, spec.name, id_, kwargs, timeouts)
        return await owner._act_one(Record, spec.name, id_, kwargs, timeouts)
