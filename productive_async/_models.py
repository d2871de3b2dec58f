"""Records: typed views of JSON:API resource objects, and the converter that types them.

Each registered JSON:API type gets an ``attrs`` class made from the registry (one field per
attribute and per relationship); the typing policy lives in one ``cattrs`` converter
(:data:`converter`), not in the classes: dates (``YYYY-MM-DD``) become :class:`datetime.date`,
timestamps aware :class:`datetime.datetime`, decimal strings (``"exchange_rate": "1.25"``)
:class:`decimal.Decimal`, money stays integer cents (``shared/productive-api/README.md``,
"Documents"). A value that does not fit its declared kind is kept as sent (and logged once), so
a pull never breaks on an API change; attributes the registry does not know are kept too and
read like the others (``record.some_new_attribute``).
"""

from __future__ import annotations

import datetime as dt
import keyword
import logging
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

import attrs
import cattrs

from ._registry import AttributeKind, Registry, ResourceSpec

log = logging.getLogger("productive_async")


def _to_str(value: Any) -> str:
    return str(value)


@attrs.frozen
class Ref:
    """A resource identifier: ``{"type": ..., "id": ...}`` (JSON:API "resource identifier object").

    ``id`` is always a string (ids are strings in JSON:API); ints are converted.
    """

    type: str
    id: str = attrs.field(converter=_to_str)

    def to_json(self) -> dict[str, str]:
        """The resource identifier object, as sent in ``relationships.<name>.data``."""
        return {"type": self.type, "id": self.id}


_BASE_NAMES = frozenset({"id", "type", "raw", "relationships", "ref", "attributes", "get"})


@attrs.define(slots=True, eq=False, repr=False, frozen=True, weakref_slot=False)
class Record:
    """One resource object, typed.

    ``id`` (str) and ``type`` (str); every attribute and relationship the registry knows is an
    attribute of the record (``invoice.invoiced_on``, ``invoice.company``); any other attribute
    or relationship the API sent is read the same way through ``__getattr__``. A relationship is
    the included :class:`Record` when the document included it, a :class:`Ref` when only the
    identifier was sent, ``None`` for a stub (``{"meta": {"included": false}}``) or ``null``
    data, and a list of those for to-many relationships. ``raw`` is the resource object exactly
    as received (JSON types).
    """

    id: str
    type: str
    raw: Mapping[str, Any]
    relationships: dict[str, Any] = attrs.field(factory=dict)

    _spec: ClassVar[ResourceSpec | None] = None

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: unknown attributes and relationships.
        if name.startswith("__"):
            raise AttributeError(name)
        rels = object.__getattribute__(self, "relationships")
        if name in rels:
            return rels[name]
        raw = object.__getattribute__(self, "raw")
        attributes = raw.get("attributes") or {}
        if name in attributes:
            return attributes[name]
        raise AttributeError(
            f"{type(self).__name__} {object.__getattribute__(self, 'id')!r} has no attribute "
            f"or relationship {name!r}"
        )

    @property
    def ref(self) -> Ref:
        """This record's resource identifier."""
        return Ref(self.type, self.id)

    @property
    def attributes(self) -> dict[str, Any]:
        """Every attribute by API name: typed when registered, as sent otherwise."""
        out = dict(self.raw.get("attributes") or {})
        spec = self._spec
        if spec is not None:
            for name in spec.attributes:
                if name in out and name not in _BASE_NAMES:
                    out[name] = getattr(self, _field_name(name))
        return out

    def get(self, name: str, default: Any = None) -> Any:
        """An attribute or relationship by API name, or ``default``."""
        try:
            return getattr(self, name)
        except AttributeError:
            return default

    def __repr__(self) -> str:
        return f"<{type(self).__name__} type={self.type!r} id={self.id!r}>"

    def __eq__(self, other: object) -> bool:
        # By identity and content as sent; relationships are not followed (they may cycle).
        if not isinstance(other, Record):
            return NotImplemented
        return self.type == other.type and self.id == other.id and self.raw == other.raw

    def __hash__(self) -> int:
        return hash((self.type, self.id))


def _singular(type_: str) -> str:
    """``time_entries`` -> ``time_entry``, ``people`` -> ``person`` (record class names)."""
    if type_.endswith("people"):
        return type_[: -len("people")] + "person"
    if type_.endswith("ies"):
        return type_[:-3] + "y"
    if type_.endswith(("uses", "sses", "xes")):
        return type_[:-2]
    return type_[:-1] if type_.endswith("s") else type_


def class_name_for(type_: str) -> str:
    """The class-style name of a JSON:API type: ``time_entries`` -> ``TimeEntry`` (record
    classes, and Productive's ``customizable_type`` of custom fields)."""
    return "".join(part.capitalize() for part in _singular(type_).split("_"))


def _field_name(api_name: str) -> str:
    return api_name + "_" if keyword.iskeyword(api_name) else api_name


_KIND_TYPES: dict[str, Any] = {
    "string": str,
    "integer": int,
    "money": int,
    "number": float,
    "boolean": bool,
    "date": dt.date,
    "datetime": dt.datetime,
    "decimal": Decimal,
    "object": dict,
    "array": list,
    "any": Any,
}

class Misfit(ValueError):
    """A value that does not fit its attribute's kind (raised by the converter's hooks)."""


def _parse_date(value: Any) -> dt.date:
    if isinstance(value, str) and len(value) == 10:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise Misfit


def _parse_datetime(value: Any) -> dt.datetime:
    if isinstance(value, str) and len(value) > 10:
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            raise Misfit from None
        if parsed.tzinfo is not None:
            return parsed
    raise Misfit  # timestamps carry an offset ("Documents"): a naive one is not what we expect


def _parse_decimal(value: Any) -> Decimal:
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        try:
            return Decimal(value)
        except InvalidOperation:
            raise Misfit from None
    if isinstance(value, float):
        return Decimal(repr(value))
    raise Misfit


def _parse_int(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise Misfit


def _parse_float(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise Misfit from None
    raise Misfit


def _same_type(expected: type) -> Any:
    def parse(value: Any) -> Any:
        if isinstance(value, expected):
            return value
        raise Misfit

    return parse


def _hook(parse: Any) -> Any:
    def structure(value: Any, _type: Any) -> Any:
        return parse(value)

    return structure


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter()
    parsers: list[tuple[Any, Any]] = [
        (dt.date, _parse_date),
        (dt.datetime, _parse_datetime),
        (Decimal, _parse_decimal),
        (int, _parse_int),
        (float, _parse_float),
        (bool, _same_type(bool)),
        (str, _same_type(str)),
        (dict, _same_type(dict)),
        (list, _same_type(list)),
    ]
    for py_type, parse in parsers:
        conv.register_structure_hook(py_type, _hook(parse))
    # Outgoing values (request bodies and query strings): JSON-ready types.
    conv.register_unstructure_hook(dt.datetime, lambda v: v.isoformat())
    conv.register_unstructure_hook(dt.date, lambda v: v.isoformat())
    conv.register_unstructure_hook(Decimal, str)
    conv.register_unstructure_hook(Ref, Ref.to_json)
    return conv


#: The one converter holding the SDK's typing policy (see module docstring). Its structure
#: hooks raise :class:`Misfit` for a value that does not fit; records then keep it as sent.
converter: cattrs.Converter = _make_converter()


def kind_type(kind: AttributeKind) -> Any:
    """The Python type an attribute kind is structured into (``None`` always allowed)."""
    return _KIND_TYPES[kind]


#: Kinds whose JSON value needs no conversion when it already has this exact type.
_EXACT: dict[str, type] = {
    "string": str, "integer": int, "money": int, "boolean": bool, "object": dict, "array": list,
}


class ModelFactory:
    """Makes (and caches) one record class per JSON:API type, and structures resource objects."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._classes: dict[str, type[Record]] = {}
        self._plans: dict[str, tuple[tuple[str, str, Any], ...]] = {}
        self._warned: set[tuple[str, str]] = set()
        self._relationship_fields: dict[str, dict[str, str]] = {}

    def record_class(self, type_: str) -> type[Record]:
        """The :class:`Record` subclass for ``type_`` (plain :class:`Record` if unregistered)."""
        cls = self._classes.get(type_)
        if cls is None:
            cls = self._make_class(type_)
            self._classes[type_] = cls
        return cls

    def _make_class(self, type_: str) -> type[Record]:
        spec = self._registry.spec_for_type(type_)
        if spec is None:
            self._plans[type_] = ()
            return Record
        fields: dict[str, Any] = {}
        plan: list[tuple[str, str, Any]] = []
        for name, attr in spec.attributes.items():
            if name in _BASE_NAMES:
                continue
            py_type = kind_type(attr.kind)
            field = _field_name(name)
            fields[field] = attrs.field(default=None, type=py_type | None)
            hook = None if py_type is Any else converter.get_structure_hook(py_type)
            plan.append((name, field, (_EXACT.get(attr.kind), hook, py_type)))
        for name in spec.relationships:
            field = _field_name(name)
            if name in _BASE_NAMES or field in fields:
                continue
            fields[field] = attrs.field(default=None, type=Any)
        class_name = class_name_for(spec.type)
        cls = attrs.make_class(
            class_name,
            fields,
            bases=(Record,),
            slots=True,
            frozen=True,
            repr=False,
            eq=False,
            weakref_slot=False,
        )
        cls._spec = spec  # type: ignore[attr-defined]
        cls.__module__ = "productive_async.models"
        self._plans[type_] = tuple(plan)
        return cls

    def structure(self, resource: Mapping[str, Any]) -> Record:
        """A record from one resource object (relationships not yet resolved).

        Raises :class:`KeyError`/:class:`TypeError` only for a resource object without ``id``
        or ``type`` (callers turn that into :class:`~productive_async.DecodeError`).
        """
        type_ = resource["type"]
        cls = self.record_class(type_)
        plan = self._plans[type_]
        attributes = resource.get("attributes") or {}
        values: dict[str, Any] = {}
        for api_name, field, (exact, hook, py_type) in plan:
            value = attributes.get(api_name)
            if value is None:
                continue
            if hook is None or type(value) is exact:  # already the right type: no conversion
                values[field] = value
                continue
            try:
                values[field] = hook(value, py_type)
            except Misfit:
                values[field] = value
                self._misfit(type_, api_name, value)
        return cls(id=str(resource["id"]), type=type_, raw=resource, **values)

    def _misfit(self, type_: str, name: str, value: Any) -> None:
        if (type_, name) in self._warned:
            return
        self._warned.add((type_, name))
        spec = self._registry.spec_for_type(type_)
        kind = spec.attributes[name].kind if spec is not None else "?"
        log.warning(
            "%s.%s: kept %s value %.60r as sent (registry kind: %s); further misfits of this "
            "attribute are not logged", type_, name, type(value).__name__, value, kind,
        )

    def set_relationships(self, record: Record, relationships: dict[str, Any]) -> None:
        """Attach resolved relationships (second phase of building a compound document)."""
        object.__setattr__(record, "relationships", relationships)
        fields = self._relationship_fields.get(record.type)
        if fields is None:
            spec = record._spec
            fields = {} if spec is None else {
                name: _field_name(name) for name in spec.relationships
                if name not in _BASE_NAMES and _field_name(name) not in spec.attributes
            }
            self._relationship_fields[record.type] = fields
        for name, value in relationships.items():
            field = fields.get(name)
            if field is not None:
                object.__setattr__(record, field, value)


# --------------------------------------------------------------------------- preview items


@attrs.frozen
class PreviewItem:
    """An item of a plain-JSON action answer whose ``object_type`` is not one of the typed
    ones below; every member is in ``data`` and readable as an attribute."""

    object_type: str | None
    data: Mapping[str, Any]

    def __getattr__(self, name: str) -> Any:
        data = object.__getattribute__(self, "data")
        if name in data:
            return data[name]
        raise AttributeError(name)


@attrs.frozen
class LineItemPreview:
    """A line item the invoice's line item generator would create (``GET
    /invoices/{id}/preview``, seed 004). Money in cents; ``quantity`` a :class:`Decimal`; ids
    as strings. ``data`` keeps every member as sent."""

    object_type: str
    data: Mapping[str, Any]
    invoice_id: str | None = None
    budget_id: str | None = None
    service_id: str | None = None
    service_type_id: str | None = None
    service_type_name: str | None = None
    description: str | None = None
    type: str | None = None
    unit_id: str | None = None
    unit_name: str | None = None
    quantity: Decimal | None = None
    unit_price: int | None = None
    amount: int | None = None
    position: int | None = None

    @property
    def total(self) -> int | None:
        """``quantity * unit_price`` in cents, rounded half-up (or ``amount`` if sent)."""
        if self.amount is not None:
            return self.amount
        if self.quantity is None or self.unit_price is None:
            return None
        return int((self.quantity * self.unit_price).to_integral_value("ROUND_HALF_UP"))


@attrs.frozen
class InvoiceAttributionPreview:
    """An invoice attribution the generator would create: which budget the invoice bills,
    for which dates; ``amount`` in cents when sent."""

    object_type: str
    data: Mapping[str, Any]
    invoice_id: str | None = None
    budget_id: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    amount: int | None = None


_PREVIEW_CLASSES: dict[str, type[Any]] = {
    "line_item": LineItemPreview,
    "invoice_attribution": InvoiceAttributionPreview,
}
_ID_FIELDS = frozenset({"invoice_id", "budget_id", "service_id", "service_type_id", "unit_id"})


def structure_preview_item(item: Mapping[str, Any]) -> Any:
    """A typed preview item for one member of a plain-JSON ``data`` list (kept as sent where
    a value does not fit its type)."""
    object_type = item.get("object_type")
    cls = _PREVIEW_CLASSES.get(str(object_type))
    if cls is None:
        return PreviewItem(object_type, item)
    values: dict[str, Any] = {}
    for field in attrs.fields(cls):
        if field.name in ("object_type", "data") or field.name not in item:
            continue
        value = item[field.name]
        if value is None:
            continue
        if field.name in _ID_FIELDS:
            values[field.name] = str(value)
            continue
        target = {"quantity": Decimal, "unit_price": int, "amount": int, "position": int,
                  "date_from": dt.date, "date_to": dt.date}.get(field.name, str)
        try:
            values[field.name] = converter.structure(value, target)
        except Misfit:
            values[field.name] = value
    return cls(object_type=object_type, data=item, **values)
