"""The engine: one generic :class:`ResourceClient` serves every registered resource.

Methods come from the registry entry (``_registry.py``): CRUD operations, custom actions
(``client.deals.close(id, ...)``), reports, and paging. Nothing here is specific to a resource.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import attrs

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
from ._models import ModelFactory, Record, structure_preview_item
from ._registry import ActionSpec, ResourceSpec, rate_class_for
from ._transport import Response, Timeouts, Transport

if TYPE_CHECKING:
    from ._registry import Registry

MAX_PAGE_SIZE = 200
#: Upper bound of the default prefetch window (pages in flight or buffered).
MAX_PREFETCH = 64
#: The default prefetch window when the client has no standard rate limit.
DEFAULT_PREFETCH = 16
Pagination = Literal["pages", "cursor"]


@attrs.frozen
class Page:
    """One page of a list: its records, ``meta`` and ``links`` as sent, and its number (1-based;
    ``None`` in cursor mode)."""

    records: list[Record]
    meta: Mapping[str, Any]
    links: Mapping[str, Any]
    number: int | None = None

    @property
    def total_count(self) -> int | None:
        """``meta.total_count`` (page-number pagination only)."""
        value = self.meta.get("total_count")
        return int(value) if value is not None else None


class ResourceClient:
    """Methods for one collection of the API (``client.invoices``, ``client.reports.time_reports``).

    Built from a registry entry; its custom actions are methods too (``client.deals.close``).
    """

    def __init__(
        self,
        spec: ResourceSpec,
        transport: Transport,
        models: ModelFactory,
        registry: Registry,
        custom_fields: CustomFieldCache | None = None,
    ) -> None:
        self.spec = spec
        self._transport = transport
        self._models = models
        self._registry = registry
        self._custom_fields = custom_fields

    def __repr__(self) -> str:
        return f"<ResourceClient {self.spec.name} /{self.spec.path}>"

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self.spec.actions))

    def __getattr__(self, name: str) -> Action:
        spec = self.__dict__.get("spec")
        if spec is not None and name in spec.actions:
            action = Action(self, spec.actions[name])
            self.__dict__[name] = action
            return action
        raise AttributeError(
            f"{type(self).__name__} {spec.name if spec else '?'!r} has no method {name!r}"
        )

    # ----------------------------------------------------------------- helpers

    def _require(self, operation: str) -> None:
        if operation not in self.spec.operations:
            raise InvalidRequestError(
                f"{self.spec.name} does not support {operation} "
                f"(supported: {', '.join(sorted(self.spec.operations)) or 'none'})"
            )

    def _member_path(self, id: Any) -> str:
        return f"{self.spec.path}/{_id(id)}"

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

    def _document(self, response: Response) -> Document:
        return parse_document(response.body, self._models)

    def _one(self, response: Response) -> Record:
        data = self._document(response).data
        if not isinstance(data, Record):
            raise DecodeError(f"{self.spec.path}: expected one resource object")
        return data

    # ----------------------------------------------------------------- CRUD

    async def get(
        self,
        id: str | int,
        *,
        include: str | Sequence[str] | None = None,
        fields: Mapping[str, str | Sequence[str]] | None = None,
        timeouts: Timeouts | None = None,
    ) -> Record:
        """``GET /<path>/{id}`` -> the record, with included relationships resolved.

        Raises :class:`~productive_async.NotFoundError` (404) and the other API errors.
        """
        self._require("get")
        params = build_query(include=include, fields=fields)
        response = await self._send("GET", self._member_path(id), params=params,
                                    timeouts=timeouts)
        return self._one(response)

    async def create(self, **values: Any) -> Record:
        """``POST /<path>`` with ``{"data": {"type", "attributes", "relationships"}}`` -> the new
        record (201).

        ``values``: attributes by API name (dates as :class:`datetime.date`, sent ISO 8601) and
        relationships by API name as a :class:`~productive_async.Ref`, a record, or a bare id
        when the registry knows the relationship; ``timeouts=`` overrides the client's
        :class:`~productive_async.Timeouts` for this call. Raises
        :class:`~productive_async.ValidationError` (422, one error per invalid field).
        """
        self._require("create")
        timeouts = values.pop("timeouts", None)
        body = resource_document(self.spec, self.spec.type, values)
        return self._one(await self._send(
            "POST", self.spec.path, json=body, rate_class=rate_class_for(self.spec, "create"),
            timeouts=timeouts,
        ))

    async def update(self, id: str | int, **values: Any) -> Record:
        """``PATCH /<path>/{id}`` with the changed attributes/relationships -> the record.

        Only what is given is sent; ``timeouts=`` (a :class:`~productive_async.Timeouts`)
        overrides the client's for this call. Raises
        :class:`~productive_async.ValidationError` (422), :class:`~productive_async.NotFoundError`
        (404).
        """
        self._require("update")
        timeouts = values.pop("timeouts", None)
        body = resource_document(self.spec, self.spec.type, values)
        return self._one(await self._send(
            "PATCH", self._member_path(id), json=body,
            rate_class=rate_class_for(self.spec, "update"), timeouts=timeouts,
        ))

    async def delete(self, id: str | int, *, timeouts: Timeouts | None = None) -> None:
        """``DELETE /<path>/{id}`` (204). Raises :class:`~productive_async.NotFoundError`."""
        self._require("delete")
        await self._send("DELETE", self._member_path(id),
                         rate_class=rate_class_for(self.spec, "delete"), timeouts=timeouts)

    # ----------------------------------------------------------------- custom fields

    async def custom_field_definitions(self, *, refresh: bool = False) -> CustomFields:
        """The custom fields of this resource (``GET /custom_fields`` with
        ``filter[customizable_type]`` and the options included), fetched once per client and
        cached; ``refresh=True`` fetches again. See :class:`~productive_async.CustomFields`."""
        if self._custom_fields is None:
            raise InvalidRequestError("custom fields need a client (Productive) to fetch them")
        return await self._custom_fields.for_type(self.spec.type, refresh=refresh)

    async def update_custom_fields(
        self, id: str | int, values: Mapping[str | int, Any]
    ) -> Record:
        """Change custom field values by field name or id (``None`` clears one): reads the
        record's ``custom_fields`` (``GET /<path>/{id}`` with a sparse fieldset), merges, and
        sends the whole hash back (``PATCH /<path>/{id}``), since a PATCH replaces it
        (``shared/productive-api/README.md``, "Custom fields"). Returns the updated record.

        Raises :class:`~productive_async.InvalidRequestError` for an unknown field or option
        (before any write), and the API errors of the GET and the PATCH. Not atomic: a
        concurrent writer between the read and the write loses its change.
        """
        fields = await self.custom_field_definitions()
        fields.encode(values)  # validate names and values before reading
        return await update_custom_fields(
            self, id, values, fields,
            lambda: self.get(id, fields={self.spec.type: ["custom_fields"]}),
        )

    # ----------------------------------------------------------------- bulk

    async def bulk_create(
        self, items: Sequence[Mapping[str, Any]], *, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> BulkResult:
        """``POST /<path>`` with the bulk extension, ``{"data": [...]}``, ``chunk_size`` items
        per request -> a :class:`~productive_async.BulkResult` (each item's record or error, in
        input order). Items are mappings of values as for :meth:`create`.

        Only where the API has bulk create (time entries); otherwise raises
        :class:`~productive_async.InvalidRequestError` (use :meth:`create_many`).
        """

        async def send(chunk: Sequence[Any]) -> list[Record] | None:
            body = {"data": [_bulk_item(self.spec, dict(item)) for item in chunk]}
            response = await self._send("POST", self.spec.path, json=body, bulk=True,
                                        rate_class=rate_class_for(self.spec, "create"))
            return self._records(response)

        return await run_bulk(self, "create", items, chunk_size, send)

    async def bulk_update(
        self, items: Sequence[Mapping[str, Any]], *, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> BulkResult:
        """``PATCH /<path>`` with the bulk extension: each item is a mapping with ``id`` and the
        values to change (as for :meth:`update`), sent as ``{"id", "type", "attributes"}``;
        ``chunk_size`` items per request -> a :class:`~productive_async.BulkResult`.

        Raises :class:`~productive_async.InvalidRequestError` where the API has no bulk update
        or an item has no ``id``.
        """
        for index, item in enumerate(items):
            if not isinstance(item, Mapping) or item.get("id") in (None, ""):
                raise InvalidRequestError(f"bulk_update item {index}: a mapping with 'id'")

        async def send(chunk: Sequence[Any]) -> Sequence[Record | None] | None:
            body = {"data": [_bulk_item(self.spec, dict(item)) for item in chunk]}
            response = await self._send("PATCH", self.spec.path, json=body, bulk=True,
                                        rate_class=rate_class_for(self.spec, "update"))
            ids = [_id(item["id"]) for item in chunk]
            return order_by_ids(self._records(response), ids)

        return await run_bulk(self, "update", items, chunk_size, send)

    async def bulk_delete(
        self, ids: Sequence[str | int | Record], *, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> BulkResult:
        """``DELETE /<path>`` with the bulk extension, ``{"data": [{"type", "id"}, ...]}``
        (204), ``chunk_size`` ids per request -> a :class:`~productive_async.BulkResult` whose
        successful outcomes have ``record=None``."""

        async def send(chunk: Sequence[Any]) -> list[Record] | None:
            body = {"data": [_bulk_item(self.spec, item) for item in chunk]}
            await self._send("DELETE", self.spec.path, json=body, bulk=True,
                             rate_class=rate_class_for(self.spec, "delete"))
            return None

        return await run_bulk(self, "delete", ids, chunk_size, send)

    async def create_many(
        self, items: Sequence[Mapping[str, Any]], *, concurrency: int = 16
    ) -> BulkResult:
        """Create every item with its own ``POST /<path>``, up to ``concurrency`` at once and
        within the client's rate limits -> a :class:`~productive_async.BulkResult` in input
        order (each created record, or the error that item got). For collections without bulk
        create, such as deals/budgets (seed 000 FAQ)."""
        self._require("create")
        return await create_many(self, items, concurrency)

    def _records(self, response: Response) -> list[Record]:
        if response.body is None:
            return []
        data = self._document(response).data
        if isinstance(data, list):
            return data
        return [] if data is None else [data]

    # ----------------------------------------------------------------- listing

    def list(
        self,
        *,
        filters: Filters | None = None,
        sort: str | Sequence[str] | None = None,
        include: str | Sequence[str] | None = None,
        fields: Mapping[str, str | Sequence[str]] | None = None,
        page_size: int = MAX_PAGE_SIZE,
        max_items: int | None = None,
        pagination: Pagination = "pages",
        prefetch: int | None = None,
        on_drift: Literal["raise", "ignore"] = "raise",
        timeouts: Timeouts | None = None,
        **params: Any,
    ) -> AsyncGenerator[Record, None]:
        """Every record of ``GET /<path>`` over all pages, as an async iterator.

        ``filters``: see :func:`~productive_async.any_of` and the README ("Filters");
        ``sort``: ``["-created_at", "name"]``; ``include``: relationship paths
        (``"project.company"``); ``fields``: sparse fieldsets by type; ``page_size``: 1..200
        records per request; ``max_items``: stop after that many records; extra keyword
        ``params`` go to the query string (e.g. ``group="person"`` on reports); ``timeouts``
        overrides the client's per-attempt :class:`~productive_async.Timeouts` (seconds).

        ``pagination="pages"`` (default, page-number pagination): after the first page, up to
        ``prefetch`` later pages are fetched concurrently and records are still yielded in
        order, so a pull runs at the rate limit even with slow responses; at most ``prefetch``
        pages are held in memory. The default is the request count of the client's
        ``standard`` window, capped at 64 (16 without limits): enough to send a whole window
        at once, which is the fastest schedule the limit allows. If ``meta.total_count``
        changes during the pull (records created or deleted meanwhile),
        :class:`~productive_async.DriftError` is raised rather than silently yielding a shifted
        set (``on_drift="ignore"`` to accept that).
        ``pagination="cursor"`` follows ``links.next`` one page at a time from
        ``page[after]=``: consistent under concurrent writes, but sequential (one request in
        flight). Reports do not support cursors (``shared/productive-api/README.md``,
        "Pagination").

        Raises :class:`~productive_async.InvalidRequestError` for bad arguments (before any
        request), :class:`~productive_async.BadRequestError` for filters, sorts or includes
        the API does not support.
        """
        pages = self._page_stream(
            filters, sort, include, fields, page_size, max_items, pagination, prefetch,
            on_drift, timeouts, params,
        )
        return _records(pages, max_items)

    def pages(
        self,
        *,
        filters: Filters | None = None,
        sort: str | Sequence[str] | None = None,
        include: str | Sequence[str] | None = None,
        fields: Mapping[str, str | Sequence[str]] | None = None,
        page_size: int = MAX_PAGE_SIZE,
        pagination: Pagination = "pages",
        prefetch: int | None = None,
        on_drift: Literal["raise", "ignore"] = "raise",
        timeouts: Timeouts | None = None,
        **params: Any,
    ) -> AsyncGenerator[Page, None]:
        """Like :meth:`list`, page by page (:class:`Page` with records, ``meta``, ``links``)."""
        return self._page_stream(
            filters, sort, include, fields, page_size, None, pagination, prefetch, on_drift,
            timeouts, params,
        )

    def _page_stream(
        self,
        filters: Filters | None,
        sort: str | Sequence[str] | None,
        include: str | Sequence[str] | None,
        fields: Mapping[str, str | Sequence[str]] | None,
        page_size: int,
        max_items: int | None,
        pagination: Pagination,
        prefetch: int | None,
        on_drift: Literal["raise", "ignore"],
        timeouts: Timeouts | None,
        params: Mapping[str, Any],
    ) -> AsyncGenerator[Page, None]:
        """Check a listing's arguments (before any request) and start its page stream."""
        self._require("list")
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise InvalidRequestError(f"page_size must be 1..{MAX_PAGE_SIZE}, not {page_size}")
        if max_items is not None and max_items < 0:
            raise InvalidRequestError("max_items must be >= 0")
        if pagination not in ("pages", "cursor"):
            raise InvalidRequestError(f"pagination must be 'pages' or 'cursor', not {pagination!r}")
        if pagination == "cursor" and not self.spec.cursor:
            raise InvalidRequestError(f"{self.spec.name} does not support cursor pagination")
        for name in params:
            if name in ("filter", "page", "sort", "include", "fields", "timeouts"):
                raise InvalidRequestError(f"use the {name!r} argument, not a raw query parameter")
        window = self._prefetch(prefetch)
        if max_items is not None:
            page_size = max(1, min(page_size, max_items))
        query = build_query(filters=filters, sort=sort, include=include, fields=fields,
                            params=params)
        if pagination == "cursor":
            return self._cursor_pages(query, page_size, timeouts)
        return self._numbered_pages(query, page_size, window, on_drift, max_items, timeouts)

    def _prefetch(self, prefetch: int | None) -> int:
        if prefetch is None:
            standard = self._transport.gate.limits.standard
            return min(MAX_PREFETCH, standard.requests) if standard else DEFAULT_PREFETCH
        if prefetch < 1:
            raise InvalidRequestError("prefetch must be >= 1")
        return prefetch

    async def count(self, *, filters: Filters | None = None, **params: Any) -> int:
        """``meta.total_count`` of ``GET /<path>`` with ``filters`` (one request, page size 1)."""
        self._require("list")
        query = build_query(filters=filters, params=params)
        page = await self._fetch_page(query, 1, 1)
        return page.total_count or 0

    async def _fetch_page(
        self, query: QueryParams, number: int, size: int, timeouts: Timeouts | None = None
    ) -> Page:
        params = [*query, ("page[number]", str(number)), ("page[size]", str(size))]
        response = await self._send("GET", self.spec.path, params=params, timeouts=timeouts)
        document = self._document(response)
        records = document.data if isinstance(document.data, list) else []
        return Page(records, document.meta, document.links, number)

    async def _numbered_pages(
        self,
        query: QueryParams,
        size: int,
        prefetch: int,
        on_drift: str,
        max_items: int | None,
        timeouts: Timeouts | None,
    ) -> AsyncGenerator[Page, None]:
        first = await self._fetch_page(query, 1, size, timeouts)
        yield first
        total_pages = int(first.meta.get("total_pages") or 1)
        expected = first.total_count
        if max_items is not None:
            total_pages = min(total_pages, -(-max_items // size))
        if total_pages <= 1:
            return
        pending: dict[int, asyncio.Task[Page]] = {}
        next_number = 2
        try:
            for number in range(2, total_pages + 1):
                while next_number <= total_pages and len(pending) < prefetch:
                    pending[next_number] = asyncio.create_task(
                        self._fetch_page(query, next_number, size, timeouts)
                    )
                    next_number += 1
                page = await pending.pop(number)
                seen = page.total_count
                if (
                    on_drift == "raise" and expected is not None and seen is not None
                    and seen != expected
                ):
                    raise DriftError(self.spec.path, expected, seen)
                yield page
        finally:
            for task in pending.values():
                task.cancel()
            for task in pending.values():
                with contextlib.suppress(BaseException):
                    await task

    async def _cursor_pages(
        self, query: QueryParams, size: int, timeouts: Timeouts | None
    ) -> AsyncGenerator[Page, None]:
        params: QueryParams = [*query, ("page[size]", str(size)), ("page[after]", "")]
        while True:
            response = await self._send("GET", self.spec.path, params=params, timeouts=timeouts)
            document = self._document(response)
            records = document.data if isinstance(document.data, list) else []
            yield Page(records, document.meta, document.links, None)
            next_link = document.links.get("next")
            if not next_link or not records:
                return
            after = _query_value(str(next_link), "page[after]")
            if after is None:
                return
            params = [*query, ("page[size]", str(size)), ("page[after]", after)]


async def _records(
    pages: AsyncGenerator[Page, None], max_items: int | None
) -> AsyncGenerator[Record, None]:
    remaining = max_items
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


def _query_value(link: str, name: str) -> str | None:
    from yarl import URL

    return URL(link).query.get(name)


def _id(value: Any) -> str:
    if isinstance(value, Record):
        return value.id
    if isinstance(value, bool) or value is None:
        raise InvalidRequestError(f"expected a record id, not {value!r}")
    text = str(value)
    if not text or "/" in text:
        raise InvalidRequestError(f"invalid record id {text!r}")
    return text


class Action:
    """A custom action of the registry, e.g. ``client.invoices.finalize(id)``.

    Calling it sends the action's HTTP method to ``/<path>/{id}/<segment>`` (member actions,
    id first) or ``/<path>/<segment>`` (collection actions). Keyword arguments become body
    attributes (``payload="attributes"``) or query parameters (``payload="query"``; lists
    repeat as ``name[]=``). Returns a record, a list of records, a list of typed items for
    plain-JSON answers (:class:`~productive_async.LineItemPreview`,
    :class:`~productive_async.InvoiceAttributionPreview`, else
    :class:`~productive_async.PreviewItem`) or ``None``, as the registry says.
    """

    def __init__(self, owner: ResourceClient, spec: ActionSpec) -> None:
        self._owner = owner
        self.spec = spec
        self.__doc__ = (
            f"{spec.method} /{owner.spec.path}/"
            f"{'{id}/' if spec.scope == 'member' else ''}{spec.segment}"
            f" (rate class: {spec.rate_class or 'standard'})"
        )

    def __repr__(self) -> str:
        return f"<Action {self._owner.spec.name}.{self.spec.name}: {self.__doc__}>"

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        owner, spec = self._owner, self.spec
        if spec.scope == "member":
            if len(args) != 1:
                raise InvalidRequestError(
                    f"{owner.spec.name}.{spec.name}() takes the record id as its only "
                    "positional argument"
                )
            path = f"{owner.spec.path}/{_id(args[0])}/{spec.segment}"
        else:
            if args:
                raise InvalidRequestError(
                    f"{owner.spec.name}.{spec.name}() takes keyword arguments only"
                )
            path = f"{owner.spec.path}/{spec.segment}"
        timeouts = kwargs.pop("timeouts", None)
        params: QueryParams = []
        body: Any = None
        if spec.payload == "query":
            params = encode_params(kwargs)
        elif spec.payload == "attributes" and kwargs:
            # Called without arguments, an action sends no body (seed 004: PATCH
            # invoices/40/export, .../45/export_update; seed 003: POST contracts/19/generate).
            body = resource_document(owner.spec, owner.spec.type, kwargs)
        elif spec.payload == "bulk":
            items = kwargs.pop("items", None)
            if items is None or kwargs:
                raise InvalidRequestError(
                    f"{owner.spec.name}.{spec.name}() takes items=[...] only"
                )
            body = {"data": [_bulk_item(owner.spec, item) for item in items]}
        elif kwargs and spec.payload == "none":
            raise InvalidRequestError(
                f"{owner.spec.name}.{spec.name}() takes no arguments besides the id: "
                f"got {', '.join(kwargs)}"
            )
        response = await owner._send(
            spec.method, path, params=params, json=body, rate_class=spec.rate_class,
            idempotent=spec.idempotent or None, bulk=spec.payload == "bulk", timeouts=timeouts,
        )
        return self._result(response)

    def _result(self, response: Response) -> Any:
        result = self.spec.result
        if result == "none" or response.body is None:
            return None
        if result == "items":
            data = response.body.get("data") if isinstance(response.body, Mapping) else None
            if not isinstance(data, list):
                raise DecodeError(f"{self.spec.name}: expected a list of items in 'data'")
            return [structure_preview_item(item) for item in data if isinstance(item, Mapping)]
        document = self._owner._document(response)
        if result == "records":
            if isinstance(document.data, list):
                return document.data
            return [] if document.data is None else [document.data]
        return document.data


def _bulk_item(spec: ResourceSpec, item: Any) -> dict[str, Any]:
    """One resource object of a bulk body: a mapping of values (with ``id`` for updates) or,
    for deletes and approvals, a bare id or record (``{"type", "id"}``)."""
    if isinstance(item, Mapping):
        values = dict(item)
        id_ = values.pop("id", None)
        data: dict[str, Any] = resource_document(
            spec, spec.type, values, id=None if id_ is None else _id(id_)
        )["data"]
        return data
    return {"type": spec.type, "id": _id(item)}
