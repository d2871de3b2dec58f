"""Custom fields by name: definitions, typed values, read-modify-write, filters.

Rules (``shared/productive-api/README.md``, "Custom fields"; seed 000 FAQ): a record's
``custom_fields`` attribute is a hash keyed by custom field id; numbers are numbers, a select
holds an option id, a multi-select a list of option ids, a person field a person id, a date
``YYYY-MM-DD``. Definitions live at ``/custom_fields`` (``data_type_id`` 1 text, 2 number,
3 select, 4 date, 5 multi-select, 6 person, 7 attachment; ``customizable_type`` names the
resource, e.g. ``Deal``) and their options at ``/custom_field_options``. A PATCH replaces the
whole hash, so a change must read, modify and write it back. Filters take
``filter[custom_fields][<id>][<op>]=value``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from ._errors import InvalidRequestError
from ._models import Record, Ref, class_name_for

if TYPE_CHECKING:
    from ._engine import ResourceClient

DATA_TYPES: dict[int, str] = {
    1: "text", 2: "number", 3: "select", 4: "date", 5: "multi_select", 6: "person",
    7: "attachment",
}


@attrs.frozen
class CustomFieldOption:
    """One option of a select or multi-select field."""

    id: str
    name: str


@attrs.frozen
class CustomFieldDefinition:
    """One custom field: its id, name, data type and (for selects) options by id."""

    id: str
    name: str
    data_type_id: int
    customizable_type: str
    options: Mapping[str, CustomFieldOption] = attrs.field(factory=dict)

    @property
    def data_type(self) -> str:
        """``text``, ``number``, ``select``, ``date``, ``multi_select``, ``person``,
        ``attachment`` (or ``unknown``)."""
        return DATA_TYPES.get(self.data_type_id, "unknown")

    def decode(self, raw: Any) -> Any:
        """The typed value of a raw hash value: ``date`` for dates, a
        :class:`CustomFieldOption` for a select (a list for multi-select), a
        ``Ref("people", id)`` for a person; numbers and text as sent."""
        if raw is None:
            return None
        kind = self.data_type
        if kind == "date" and isinstance(raw, str):
            try:
                return dt.date.fromisoformat(raw)
            except ValueError:
                return raw
        if kind == "select":
            return self._option(raw)
        if kind == "multi_select":
            return [self._option(v) for v in (raw if isinstance(raw, list) else [raw])]
        if kind == "person":
            return Ref("people", str(raw))
        return raw

    def _option(self, raw: Any) -> Any:
        return self.options.get(str(raw), CustomFieldOption(str(raw), str(raw)))

    def encode(self, value: Any) -> Any:
        """The raw hash value for ``value``: option names, ids or options for selects, a
        date or ISO string for dates, a record / Ref / id for people. Raises
        :class:`~productive_async.InvalidRequestError` for an unknown option or a bad value."""
        if value is None:
            return None
        kind = self.data_type
        if kind == "select":
            return self._option_id(value)
        if kind == "multi_select":
            values = value if isinstance(value, (list, tuple, set, frozenset)) else [value]
            return [self._option_id(v) for v in values]
        if kind == "date":
            if isinstance(value, dt.date):
                return value.isoformat()
            if isinstance(value, str):
                return value
        if kind == "person":
            if isinstance(value, (Record, Ref)):
                return value.id
            if isinstance(value, (str, int)) and not isinstance(value, bool):
                return str(value)
        if kind == "number":
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return value
            raise InvalidRequestError(f"custom field {self.name!r} takes a number")
        if kind in ("date", "person"):
            raise InvalidRequestError(
                f"custom field {self.name!r} ({kind}) cannot take {type(value).__name__}"
            )
        return value

    def _option_id(self, value: Any) -> str:
        if isinstance(value, CustomFieldOption):
            return value.id
        text = str(value)
        if text in self.options:
            return text
        for option in self.options.values():
            if option.name == text:
                return option.id
        names = ", ".join(o.name for o in self.options.values())
        raise InvalidRequestError(
            f"custom field {self.name!r} has no option {text!r} (options: {names})"
        )


class CustomFields:
    """The custom field definitions of one resource type, by name and by id.

    ``fields.get(record, "Lead source")`` reads a typed value; ``fields.encode({...})`` makes a
    ``custom_fields`` hash; ``fields.filters({"Lead source": {"eq": "Referral"}})`` makes the
    ``filters`` for :meth:`~productive_async.ResourceClient.list`.
    """

    def __init__(self, customizable_type: str, definitions: list[CustomFieldDefinition]):
        self.customizable_type = customizable_type
        self.by_id = {d.id: d for d in definitions}
        self.by_name = {d.name: d for d in definitions}

    def __repr__(self) -> str:
        return f"<CustomFields {self.customizable_type}: {', '.join(self.by_name)}>"

    def __len__(self) -> int:
        return len(self.by_id)

    def __contains__(self, key: object) -> bool:
        return str(key) in self.by_id or key in self.by_name

    def __getitem__(self, key: str | int) -> CustomFieldDefinition:
        """The definition by name or id. Raises
        :class:`~productive_async.InvalidRequestError` naming the known fields."""
        found = self.by_id.get(str(key)) or self.by_name.get(str(key))
        if found is None:
            raise InvalidRequestError(
                f"no custom field {key!r} on {self.customizable_type} "
                f"(known: {', '.join(self.by_name) or 'none'})"
            )
        return found

    def get(self, record: Record, key: str | int, default: Any = None) -> Any:
        """The typed value of field ``key`` (name or id) on ``record``, or ``default``."""
        definition = self[key]
        values = record.raw.get("attributes", {}).get("custom_fields") or {}
        if definition.id not in values:
            return default
        return definition.decode(values[definition.id])

    def values(self, record: Record) -> dict[str, Any]:
        """Every custom field value of ``record`` by field name (typed)."""
        raw = record.raw.get("attributes", {}).get("custom_fields") or {}
        out: dict[str, Any] = {}
        for field_id, value in raw.items():
            definition = self.by_id.get(str(field_id))
            out[definition.name if definition else str(field_id)] = (
                definition.decode(value) if definition else value
            )
        return out

    def encode(self, values: Mapping[str | int, Any]) -> dict[str, Any]:
        """A ``custom_fields`` hash (keyed by id, raw values) from values by name or id."""
        return {self[key].id: self[key].encode(value) for key, value in values.items()}

    def filters(self, conditions: Mapping[str | int, Any]) -> dict[str, Any]:
        """``{"custom_fields": {<id>: ...}}`` for ``list(filters=...)`` from conditions by
        name: a plain value or ``{op: value}``; select option names become option ids."""
        out: dict[str, Any] = {}
        for key, condition in conditions.items():
            definition = self[key]
            if isinstance(condition, Mapping):
                out[definition.id] = {op: _filter_value(definition, v)
                                      for op, v in condition.items()}
            else:
                out[definition.id] = _filter_value(definition, condition)
        return {"custom_fields": out}


def _filter_value(definition: CustomFieldDefinition, value: Any) -> Any:
    if definition.data_type in ("select", "multi_select"):
        if isinstance(value, (list, tuple)):
            return [definition._option_id(v) for v in value]
        return definition._option_id(value)
    return definition.encode(value)


class CustomFieldCache:
    """Definitions per ``customizable_type``, fetched once per client (``refresh=True`` to
    fetch again). ``resource`` looks up a collection of the same client."""

    def __init__(self, resource: Callable[[str], ResourceClient]) -> None:
        self._resource = resource
        self._cache: dict[str, CustomFields] = {}
        self._lock = asyncio.Lock()

    async def for_type(self, type_: str, *, refresh: bool = False) -> CustomFields:
        customizable = class_name_for(type_)
        async with self._lock:
            cached = self._cache.get(customizable)
            if cached is None or refresh:
                cached = await self._fetch(customizable)
                self._cache[customizable] = cached
            return cached

    async def _fetch(self, customizable: str) -> CustomFields:
        definitions = []
        fields = self._resource("custom_fields").list(
            filters={"customizable_type": customizable}, include=["options"]
        )
        async for field in fields:
            options = {
                o.id: CustomFieldOption(o.id, str(o.get("name") or o.id))
                for o in (field.get("options") or [])
                if isinstance(o, Record)
            }
            definitions.append(CustomFieldDefinition(
                id=field.id, name=str(field.get("name")),
                data_type_id=int(field.get("data_type_id") or 0),
                customizable_type=str(field.get("customizable_type") or customizable),
                options=options,
            ))
        return CustomFields(customizable, definitions)


async def update_custom_fields(
    update: Callable[[dict[str, Any]], Awaitable[Record]],
    values: Mapping[str | int, Any],
    fields: CustomFields,
    get: Callable[[], Awaitable[Record]],
) -> Record:
    """Read the record's ``custom_fields``, merge ``values`` (by name or id; ``None`` clears a
    field), and write the whole hash back (a PATCH replaces it)."""
    current = await get()
    merged = dict(current.raw.get("attributes", {}).get("custom_fields") or {})
    for field_id, raw in fields.encode(values).items():
        if raw is None:
            merged.pop(field_id, None)
        else:
            merged[field_id] = raw
    return await update(merged)
