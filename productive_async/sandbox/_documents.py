"""Reading request bodies: every JSON:API document is checked here before a rule sees it.

What the rules in :mod:`._rules` and :mod:`._actions` may then rely on:

- the body is a JSON object (400 when it is not JSON at all, 422 when it is JSON of another
  kind);
- ``data`` of a create or update is a resource object: ``type`` a string (409 Conflict when it
  names another type, as JSON:API says), ``id`` a string or integer, ``attributes`` and
  ``relationships`` objects;
- each relationship is ``{"data": null | identifier | [identifiers]}`` with identifiers
  ``{"type": <string>, "id": <string or integer>}``, to-one given one, to-many given a list;
- each attribute of the resource holds a value of its registered kind (integers and money up
  to :data:`MAX_INTEGER`, numbers up to :data:`MAX_NUMBER`, dates the API reads, objects,
  lists ...); integers and numbers sent as text, and
  numbers for text attributes, are converted as Rails does; ``*_id`` / ``*_ids`` attributes
  that set a relationship hold ids;
- a bulk body's ``data`` is a list of such objects (``{type, id}`` for deletes); an action's
  ``data`` an object (attributes and relationships as above), a list (bulk actions) or null;
- no attribute value nests deeper than :data:`MAX_NESTING` levels.

:func:`check_attributes` is also what :meth:`~._rules.Rules` applies to every write it makes
(custom actions' attributes, copies), so nothing stored is of another kind than registered.

Everything else is a 422 with one error per problem, each with its ``source.pointer``
(``data/attributes/<name>``, ``data/relationships/<name>``, ``data/<index>/...``).
Ids come out as strings.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from typing import Any

import orjson

from .._registry import AttributeSpec, ResourceSpec
from ._errors import RequestError, error, shown

ErrorList = list[dict[str, Any]]

#: The longest id accepted in a body.
MAX_ID_LENGTH = 255
#: The largest integer or money amount (cents) an attribute may hold: 2**53 - 1, the largest
#: integer every JSON reader keeps exactly; so sums and products stay finite.
MAX_INTEGER = 2**53 - 1
#: The largest magnitude of a number or decimal attribute (quantities, rates, percentages).
MAX_NUMBER = 1e15
#: How deep objects and lists may nest in an attribute's value (custom fields, settings).
MAX_NESTING = 32
_INTEGER_TEXT = re.compile(r"-?[0-9]{1,16}")
_NUMBER_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_TYPE_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


def load(raw: bytes) -> dict[str, Any]:
    """The request body as a JSON object (``{}`` for an empty body)."""
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise RequestError(400, [error(400, "Bad Request", "request body is not valid JSON")]
                           ) from None
    if not isinstance(body, dict):
        raise RequestError(422, [error(422, "Invalid Attribute", "request body must be a JSON "
                                       "object", code="invalid_attribute")])
    return body


def _invalid(pointer: str, detail: str) -> dict[str, Any]:
    return error(422, "Invalid Attribute", detail, code="invalid_attribute", pointer=pointer)


def _raise(errors: ErrorList) -> None:
    if errors:
        status = 409 if all(e["status"] == "409" for e in errors) else 422
        raise RequestError(status, errors)


def parse_date(value: Any) -> dt.date | None:
    """A date as the API accepts it: ISO ``2025-09-01`` or Rails-style ``Sep  1, 2025``."""
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        pass
    for fmt in ("%b %d, %Y", "%B %d, %Y", "%d.%m.%Y", "%Y/%m/%d"):
        try:
            return dt.datetime.strptime(" ".join(text.split()), fmt).date()
        except ValueError:
            continue
    return None


# ----------------------------------------------------------------------------- resource objects


def resource(spec: ResourceSpec, body: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` of a create or update body, checked and normalized (see module docstring)."""
    if "data" not in body:
        raise RequestError(422, [_invalid("data", "request body must have a 'data' object")])
    errors: ErrorList = []
    data = resource_object(spec, body["data"], "data", errors)
    _raise(errors)
    assert data is not None
    return data


def bulk_items(spec: ResourceSpec, op: str, body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``data`` of a bulk body: a list of resource objects (deletes: ``{type, id}``), each
    checked as :func:`resource` does, with pointers ``data/<index>/...``; update and delete
    items need an ``id``."""
    items = body.get("data")
    if not isinstance(items, list):
        raise RequestError(422, [_invalid("data", "a bulk request needs 'data': [...]")])
    errors: ErrorList = []
    out: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        pointer = f"data/{index}"
        checked = resource_object(spec, item, pointer, errors)
        if checked is None:
            continue
        if op != "create" and "id" not in checked and not any(
            str((e.get("source") or {}).get("pointer", "")).startswith(pointer + "/id")
            for e in errors
        ):
            errors.append(_invalid(f"{pointer}/id", "can't be blank"))
        out.append(checked)
    _raise(errors)
    return out


def resource_object(spec: ResourceSpec | None, data: Any, pointer: str, errors: ErrorList
                    ) -> dict[str, Any] | None:
    """``data`` (a resource object at ``pointer``) normalized, its problems added to
    ``errors``. With ``spec`` None (custom actions) attributes are not checked by kind and
    relationships by name."""
    if not isinstance(data, Mapping):
        errors.append(_invalid(pointer, "must be a resource object"))
        return None
    out: dict[str, Any] = {}
    type_ = data.get("type")
    if type_ is not None:
        if not isinstance(type_, str):
            errors.append(_invalid(f"{pointer}/type", "must be a string"))
        elif spec is not None and type_ != spec.type:
            errors.append(error(409, "Conflict", f"type must be {spec.type!r}",
                                pointer=f"{pointer}/type"))
        else:
            out["type"] = type_
    if "id" in data and data["id"] is not None:
        id_ = _id(data["id"])
        if id_ is None:
            errors.append(_invalid(f"{pointer}/id", "must be a string"))
        else:
            out["id"] = id_
    attributes = data.get("attributes")
    if attributes is None:
        attributes = {}
    if not isinstance(attributes, Mapping):
        errors.append(_invalid(f"{pointer}/attributes", "must be an object"))
        attributes = {}
    if spec is None:
        out["attributes"] = {}
        for name, value in attributes.items():
            if _shallow(value):
                out["attributes"][name] = value
            else:
                errors.append(_invalid(f"{pointer}/attributes/{name}",
                                       f"is nested deeper than {MAX_NESTING} levels"))
    else:
        out["attributes"], found = check_attributes(spec, attributes, f"{pointer}/attributes")
        errors.extend(found)
    out["relationships"] = _relationships(spec, data.get("relationships"),
                                          f"{pointer}/relationships", errors)
    return out


def action_data(body: Mapping[str, Any]) -> dict[str, Any] | list[Any] | None:
    """``data`` of a custom action's body: an object (checked as a resource object of no
    particular resource), a list (the items of a bulk action) or None."""
    data = body.get("data")
    if data is None or isinstance(data, list):
        return data
    errors: ErrorList = []
    checked = resource_object(None, data, "data", errors)
    _raise(errors)
    return checked


def _id(value: Any) -> str | None:
    """An id as sent (a string or an integer) as a string, or None if it is not an id."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and 0 < len(value) <= MAX_ID_LENGTH and value.isprintable():
        return value
    return None


# ----------------------------------------------------------------------------- relationships


def _relationships(spec: ResourceSpec | None, value: Any, pointer: str, errors: ErrorList
                   ) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        errors.append(_invalid(pointer, "must be an object"))
        return {}
    out: dict[str, Any] = {}
    for name, wrapper in value.items():
        where = f"{pointer}/{name}"
        if not isinstance(wrapper, Mapping) or "data" not in wrapper:
            errors.append(_invalid(where, "relationship must have 'data'"))
            continue
        many = _many(spec, name)
        linkage = wrapper["data"]
        checked: Any
        if linkage is None:
            if many:
                errors.append(_invalid(f"{where}/data", "must be an array"))
                continue
            checked = None
        elif isinstance(linkage, list):
            if many is False:
                errors.append(_invalid(f"{where}/data", "must be one resource identifier"))
                continue
            idents = [_identifier(item, f"{where}/data/{i}", errors)
                      for i, item in enumerate(linkage)]
            checked = [i for i in idents if i is not None]
        else:
            if many:
                errors.append(_invalid(f"{where}/data", "must be an array"))
                continue
            checked = _identifier(linkage, f"{where}/data", errors)
            if checked is None:
                continue
        if spec is None or many is not None:
            out[name] = {"data": checked}  # one the resource does not have is ignored
    return out


def _many(spec: ResourceSpec | None, name: str) -> bool | None:
    """Whether relationship ``name`` (or ``<name>_id``) of ``spec`` is to-many; None when the
    resource does not have it, or for an action (``spec`` None)."""
    if spec is None:
        return None
    rel = spec.relationships.get(name)
    if rel is None and name.endswith("_id"):
        rel = spec.relationships.get(name[:-3])
    return None if rel is None else rel.many


def _identifier(value: Any, pointer: str, errors: ErrorList) -> dict[str, str] | None:
    if not isinstance(value, Mapping):
        errors.append(_invalid(pointer, "must be a resource identifier {type, id}"))
        return None
    type_, id_ = value.get("type"), _id(value.get("id"))
    if not isinstance(type_, str) or not _TYPE_NAME.fullmatch(type_):
        errors.append(_invalid(f"{pointer}/type", f"{shown(type_)} is not a resource type"))
        return None
    if id_ is None:
        errors.append(_invalid(f"{pointer}/id", "must be a string"))
        return None
    return {"type": type_, "id": id_}


# ----------------------------------------------------------------------------- attributes


def check_attributes(spec: ResourceSpec, attributes: Mapping[str, Any], pointer: str
                     ) -> tuple[dict[str, Any], ErrorList]:
    """``attributes`` of ``spec`` checked by kind and converted, and an error (at
    ``<pointer>/<name>``) for each that is not of its kind or nests deeper than
    :data:`MAX_NESTING`; names the resource does not have pass unchecked."""
    out: dict[str, Any] = {}
    errors: ErrorList = []
    for name, value in attributes.items():
        where = f"{pointer}/{name}"
        if not _shallow(value):
            errors.append(_invalid(where, f"is nested deeper than {MAX_NESTING} levels"))
            continue
        if name.endswith("_id") and name[:-3] in spec.relationships:
            if value not in (None, "") and _id(value) is None:
                errors.append(_invalid(where, "attribute is invalid"))
                continue
            out[name] = value if value in (None, "") else _id(value)
            continue
        if name.endswith("_ids") and name[:-4] + "s" in spec.relationships:
            ids = [_id(v) for v in value] if isinstance(value, list) else None
            if value is not None and (ids is None or None in ids):
                errors.append(_invalid(where, "must be a list of ids"))
                continue
            out[name] = ids or []
            continue
        attr = spec.attributes.get(name)
        if attr is not None:
            ok, converted = _kind(attr, value)
            if not ok:
                errors.append(_invalid(where, _KIND_ERRORS.get(attr.kind, "is invalid")))
                continue
            value = converted
        elif name == "custom_fields" and value is not None and not isinstance(value, Mapping):
            errors.append(_invalid(where, "must be an object"))
            continue
        out[name] = value
    return out, errors


def _shallow(value: Any) -> bool:
    """Whether ``value`` nests at most :data:`MAX_NESTING` objects and lists deep (orjson
    writes no deeper than 254 levels; it reads up to 1,024)."""
    level: list[Any] = [value]
    for _ in range(MAX_NESTING + 1):
        children: list[Any] = []
        for item in level:
            if isinstance(item, Mapping):
                children.extend(item.values())
            elif isinstance(item, list):
                children.extend(item)
        if not children:
            return True
        level = children
    return False


_KIND_ERRORS = {
    "integer": "is not a number", "money": "is not a number", "number": "is not a number",
    "decimal": "is not a number", "boolean": "is not a boolean", "string": "is not a string",
    "date": "is not a date", "datetime": "is not a date and time",
    "object": "must be an object", "array": "must be a list",
}


def _kind(attr: AttributeSpec, value: Any) -> tuple[bool, Any]:
    """Whether ``value`` fits ``attr``'s kind, and the value to store (converted as Rails
    casts: ``"30"`` -> 30 for integers, ``5`` -> ``"5"`` for strings, ``""`` -> null for
    numbers and dates)."""
    if value is None:
        return True, None
    if attr.kind == "array":
        if not isinstance(value, list):
            return False, value
        item_kind = attr.items
        if item_kind in (None, "any"):
            return True, value
        item = AttributeSpec(name=attr.name, kind=item_kind)
        checked = [_kind(item, v) for v in value]
        return all(ok for ok, _ in checked), [v for _, v in checked]
    return _scalar(attr.kind, value)


def _scalar(kind: str, value: Any) -> tuple[bool, Any]:
    if kind in ("integer", "money"):
        if isinstance(value, bool):
            return False, value
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, str):
            if value == "":
                return True, None
            if _INTEGER_TEXT.fullmatch(value):
                value = int(value)
        return isinstance(value, int) and abs(value) <= MAX_INTEGER, value
    if kind in ("number", "decimal"):
        if isinstance(value, bool):
            return False, value
        if isinstance(value, str):
            if value == "":
                return True, None
            return bool(_NUMBER_TEXT.fullmatch(value)) and abs(float(value)) <= MAX_NUMBER, value
        if isinstance(value, (int, float)):
            return math.isfinite(value) and abs(value) <= MAX_NUMBER, value
        return False, value
    if kind == "boolean":
        if isinstance(value, bool):
            return True, value
        if value in ("true", "false", "1", "0", 0, 1):
            return True, value in ("true", "1", 1)
        return False, value
    if kind == "string":
        if isinstance(value, str):
            return True, value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return True, str(value)
        return False, value
    if kind == "date":
        if value == "":
            return True, None
        return isinstance(value, str) and parse_date(value) is not None, value
    if kind == "datetime":
        if value == "":
            return True, None
        return isinstance(value, str) and _datetime(value), value
    if kind == "object":
        return isinstance(value, Mapping), value
    return True, value  # "any"


def _datetime(text: str) -> bool:
    try:
        dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return parse_date(text) is not None
    return True
