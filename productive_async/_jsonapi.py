"""The JSON:API codec: query strings, request documents and compound documents. No I/O.

Query rules follow ``shared/productive-api/README.md`` ("Filters", "Sort, include, sparse
fieldsets", "Pagination"); documents follow JSON:API 1.0 as Productive uses it ("Documents").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import attrs

from ._errors import DecodeError, InvalidRequestError
from ._models import Included, Record, Ref, build_record, converter
from ._registry import FILTER_OPERATORS, ResourceSpec

if TYPE_CHECKING:
    from ._transport import ResponseInfo

QueryParams: TypeAlias = list[tuple[str, str]]


# --------------------------------------------------------------------------- filters


@attrs.frozen
class FilterGroup:
    """A logical group of filter operands: ``filter[$op]=or&filter[0][...]&filter[1][...]``.

    Build one with :func:`any_of` / :func:`all_of`; operands are filter mappings or groups and
    may nest (``shared/productive-api/README.md``, "Filters": logical groups).
    """

    op: Literal["and", "or"]
    operands: tuple[Filters, ...]


Filters: TypeAlias = "Mapping[str, Any] | FilterGroup"


def any_of(*operands: Filters) -> FilterGroup:
    """Records matching at least one operand (``filter[$op]=or``).

    ``any_of({"status": 1}, {"date": {"gt": d}})`` sends
    ``filter[$op]=or&filter[0][status]=1&filter[1][date][gt]=<d>``.
    """
    return _group("or", operands)


def all_of(*operands: Filters) -> FilterGroup:
    """Records matching every operand (``filter[$op]=and``); useful inside :func:`any_of`."""
    return _group("and", operands)


def _group(op: Literal["and", "or"], operands: Sequence[Filters]) -> FilterGroup:
    if not operands:
        raise InvalidRequestError(f"a filter group ({op}) needs at least one operand")
    for operand in operands:
        if not isinstance(operand, (Mapping, FilterGroup)):
            raise InvalidRequestError(
                f"filter group operands are mappings or groups, not {type(operand).__name__}"
            )
    return FilterGroup(op, tuple(operands))


def format_value(value: Any) -> str:
    """One query-string value: lists comma-joined, dates ISO 8601, booleans ``true``/``false``,
    records and refs by id."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (Ref, Record)):
        return value.id
    if isinstance(value, (list, tuple, set, frozenset)):
        if not value:
            raise InvalidRequestError("an empty list matches nothing; leave the filter out")
        items = _ordered(value) if isinstance(value, (set, frozenset)) else value
        return ",".join(format_value(v) for v in items)
    if value is None:
        raise InvalidRequestError("a filter value cannot be None")
    raise InvalidRequestError(f"cannot send a {type(value).__name__} as a query value")


def _ordered(values: set[Any] | frozenset[Any]) -> list[Any]:
    """A set in a stable order: numbers numerically, anything else by text."""
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=str)


def encode_filters(filters: Filters | None, prefix: str = "filter") -> QueryParams:
    """``filter[...]`` query pairs for a filter mapping or group.

    Mapping values: a plain value (``filter[name]=v``), a mapping of operators
    (``filter[name][op]=v``, operators ``eq, not_eq, contains, not_contain, gt, gt_eq, lt,
    lt_eq``), or for ``custom_fields`` a mapping of field id to value or operator mapping
    (``filter[custom_fields][<id>][<op>]=v``). Raises :class:`InvalidRequestError` for an
    unknown operator or an unsendable value, naming the filter.
    """
    if filters is None:
        return []
    out: QueryParams = []
    if isinstance(filters, FilterGroup):
        out.append((f"{prefix}[$op]", filters.op))
        for index, operand in enumerate(filters.operands):
            out.extend(encode_filters(operand, f"{prefix}[{index}]"))
        return out
    if not isinstance(filters, Mapping):
        raise InvalidRequestError(
            f"filters must be a mapping or a group, not {type(filters).__name__}"
        )
    for name, value in filters.items():
        key = f"{prefix}[{name}]"
        if name == "custom_fields" and isinstance(value, Mapping):
            if not value:
                raise InvalidRequestError("filter 'custom_fields': no field given")
            for field_id, condition in value.items():
                out.extend(_encode_condition(f"{key}[{field_id}]", f"custom field {field_id}",
                                             condition))
        else:
            out.extend(_encode_condition(key, str(name), value))
    return out


def _encode_condition(key: str, label: str, value: Any) -> QueryParams:
    if isinstance(value, FilterGroup):
        raise InvalidRequestError(f"filter {label!r}: a group cannot be a filter's value")
    if isinstance(value, Mapping):
        if not value:
            raise InvalidRequestError(f"filter {label!r}: no operator given")
        out: QueryParams = []
        for op, operand in value.items():
            if op not in FILTER_OPERATORS:
                raise InvalidRequestError(
                    f"filter {label!r}: unknown operator {op!r} "
                    f"(use one of {', '.join(sorted(FILTER_OPERATORS))})"
                )
            try:
                out.append((f"{key}[{op}]", format_value(operand)))
            except InvalidRequestError as exc:
                raise InvalidRequestError(f"filter {label!r}[{op}]: {exc}") from None
        return out
    try:
        return [(key, format_value(value))]
    except InvalidRequestError as exc:
        raise InvalidRequestError(f"filter {label!r}: {exc}") from None


def filter_names(filters: Filters | None) -> set[str]:
    """Every filter name used anywhere in ``filters`` (groups included)."""
    if filters is None:
        return set()
    if isinstance(filters, FilterGroup):
        names: set[str] = set()
        for operand in filters.operands:
            names |= filter_names(operand)
        return names
    return {str(k) for k in filters}


def _join(value: str | Iterable[str]) -> str:
    if isinstance(value, str):
        return value
    return ",".join(value)


def build_query(
    *,
    filters: Filters | None = None,
    sort: str | Sequence[str] | None = None,
    include: str | Sequence[str] | None = None,
    fields: Mapping[str, str | Sequence[str]] | None = None,
    params: Mapping[str, Any] | None = None,
) -> QueryParams:
    """Query pairs for a read: filters, ``sort=a,-b``, ``include=a,b.c``, ``fields[type]=a,b``,
    then extra parameters (lists sent as repeated ``name[]=`` pairs)."""
    out = encode_filters(filters)
    if sort:
        out.append(("sort", _join(sort)))
    if include:
        out.append(("include", _join(include)))
    for type_, names in (fields or {}).items():
        out.append((f"fields[{type_}]", _join(names)))
    out.extend(encode_params(params or {}))
    return out


def encode_params(params: Mapping[str, Any]) -> QueryParams:
    """Plain query parameters; a list value becomes repeated ``name[]=`` pairs (as the invoice
    preview's ``budget_ids[]=685``); ``None`` values are left out."""
    out: QueryParams = []
    for name, value in params.items():
        if value is None:
            continue
        if isinstance(value, (set, frozenset)):
            value = _ordered(value)
        if isinstance(value, (list, tuple)):
            out.extend((f"{name}[]", format_value(v)) for v in value)
        else:
            out.append((name, format_value(value)))
    return out


# --------------------------------------------------------------------------- request documents


def _identifier(spec: ResourceSpec | None, name: str, value: Any) -> Any:
    if isinstance(value, Ref):
        return value.to_json()
    if isinstance(value, Record):
        return value.ref.to_json()
    rel = spec.relationships.get(name) if spec is not None else None
    if rel is None:
        raise InvalidRequestError(f"relationship {name!r}: give a pa.Ref or a record")
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return {"type": rel.type, "id": str(value)}
    raise InvalidRequestError(
        f"relationship {name!r}: expected a pa.Ref, a record or an id, not {type(value).__name__}"
    )


def _is_relationship_value(spec: ResourceSpec | None, name: str, value: Any) -> bool:
    if isinstance(value, (Ref, Record)):
        return True
    if isinstance(value, (list, tuple)) and value and all(
        isinstance(v, (Ref, Record)) for v in value
    ):
        return True
    return spec is not None and name in spec.relationships and name not in spec.attributes


def resource_document(
    spec: ResourceSpec | None,
    type_: str,
    values: Mapping[str, Any],
    *,
    id: str | None = None,
) -> dict[str, Any]:
    """``{"data": {"type", ["id"], "attributes", ["relationships"]}}`` for a create or update.

    Attributes are sent under their API names with dates/datetimes as ISO 8601 and decimals as
    strings; a value that is a :class:`Ref` or a record (or a bare id for a relationship the
    registry knows) goes to ``relationships`` as ``{"data": {"type", "id"}}``; lists of them make
    to-many relationships; ``None`` for a relationship sends ``{"data": null}``.
    """
    data: dict[str, Any] = {"type": type_}
    if id is not None:
        data["id"] = str(id)
    attributes: dict[str, Any] = {}
    relationships: dict[str, Any] = {}
    for name, value in values.items():
        if _is_relationship_value(spec, name, value):
            rel = spec.relationships.get(name) if spec is not None else None
            if value is None:
                relationships[name] = {"data": None}
            elif isinstance(value, (list, tuple)) or (rel is not None and rel.many):
                items = value if isinstance(value, (list, tuple)) else [value]
                relationships[name] = {"data": [_identifier(spec, name, v) for v in items]}
            else:
                relationships[name] = {"data": _identifier(spec, name, value)}
        else:
            attributes[name] = converter.unstructure(value)
    if attributes or not relationships:
        # Seeds: an update that only changes a relationship has no "attributes" member
        # (PATCH contracts/15); anything else sends it, empty or not (PATCH invoices/69/finalize).
        data["attributes"] = attributes
    if relationships:
        data["relationships"] = relationships
    return {"data": data}


# --------------------------------------------------------------------------- documents


@attrs.frozen
class Document:
    """A parsed top-level document: primary ``data`` (a record, a list, or None), the
    ``included`` records, ``meta`` and ``links`` as sent, and the ``response`` it came in
    (status, headers, request id; ``None`` for a document parsed from a body)."""

    data: Record | list[Record] | None
    meta: Mapping[str, Any]
    links: Mapping[str, Any]
    included: list[Record] = attrs.field(factory=list)
    response: ResponseInfo | None = None


def parse_document(body: Any) -> Document:
    """Parse a JSON:API (compound) document into records of the model classes.

    Relationships resolve lazily, on first read, against the document's ``included`` resource
    objects (nested includes and cycles too); an identifier without an included object is a
    :class:`Ref`; a stub ``{"meta": {"included": false}}`` or ``"data": null`` is ``None``.
    Raises :class:`DecodeError` when ``body`` is not a document with ``data``, or a resource
    object has no string ``type`` or a null ``id``.
    """
    if not isinstance(body, Mapping) or "data" not in body:
        raise DecodeError("expected a JSON:API document with a 'data' member")
    raw_data = body["data"]
    index = Included()
    try:
        included = [index.add(resource) for resource in body.get("included") or ()]
        primary: Record | list[Record] | None
        if isinstance(raw_data, list):
            primary = [build_record(resource, index) for resource in raw_data]
        elif raw_data is None:
            primary = None
        else:
            primary = build_record(raw_data, index)
    except (KeyError, TypeError, AttributeError) as exc:
        raise DecodeError(f"malformed resource object: {exc}") from None
    meta = body.get("meta") or {}
    links = body.get("links") or {}
    if not isinstance(meta, Mapping) or not isinstance(links, Mapping):
        raise DecodeError("'meta' and 'links' must be JSON objects")
    return Document(primary, meta, links, included)
