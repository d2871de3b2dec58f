"""Checks of a request's names against the registry, before anything is sent.

Each check raises :class:`~productive_async.InvalidRequestError` naming what was wrong, the
accepted values (or the closest ones: "did you mean"), and where the rule comes from. They
cover write attributes and relationships, action parameters, filter names and operators
(Productive API reference, "Filtering"), sort keys ("Sorting"), include paths ("Including
related resources"), sparse fieldsets and a report's ``group``.

A client made with ``strict=False`` lets names the registry does not know through (the API
keeps growing); operators outside the filtering guide's list are refused either way, since
they cannot be sent in a well-formed query.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from ._errors import InvalidRequestError
from ._jsonapi import FilterGroup, Filters
from ._registry import FILTER_OPERATORS, ActionSpec, Registry, ResourceSpec

log = logging.getLogger("productive_async")

#: How many accepted names an error lists before it only gives the closest ones.
_LIST_AT_MOST = 12


def accepted(name: str, choices: Collection[str]) -> str:
    """``did you mean 'x'?`` and/or the accepted names, for an error message."""
    close = difflib.get_close_matches(name, list(choices), n=3, cutoff=0.6)
    hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
    if not choices:
        return hint + "it accepts none"
    if len(choices) <= _LIST_AT_MOST:
        return hint + "accepted: " + ", ".join(sorted(choices))
    return hint + f"{len(choices)} accepted, see `productive-async describe`"


def _unknown(strict: bool, message: str) -> None:
    if strict:
        raise InvalidRequestError(message + " (pass strict=False to the client to send it anyway)")
    log.debug("sent anyway (strict=False): %s", message)


def check_write(spec: ResourceSpec, operation: str, values: Mapping[str, Any],
                strict: bool) -> None:
    """The names of a create or update body: attributes or relationships the API accepts in
    that operation (API reference, the operation's body fields)."""
    allowed = spec.create.keys() if operation == "create" else spec.update
    for name in values:
        if name not in allowed:
            _unknown(strict, f"{spec.name}.{operation}(): unknown field {name!r}; "
                             f"{accepted(name, allowed)}")


def check_action(resource: ResourceSpec, action: ActionSpec, params: Mapping[str, Any],
                 strict: bool) -> None:
    """The keyword arguments of a custom action: its documented body attributes or query
    parameters."""
    if action.payload == "bulk":
        if set(params) - {"items"}:
            raise InvalidRequestError(f"{resource.name}.{action.name}() takes items=[...] only")
        return
    if action.payload == "none" and params:
        raise InvalidRequestError(
            f"{resource.name}.{action.name}() takes no arguments besides the id: "
            f"got {', '.join(params)}"
        )
    for name in params:
        if name not in action.params:
            _unknown(strict, f"{resource.name}.{action.name}(): unknown parameter {name!r}; "
                             f"{accepted(name, action.params)}")


def check_filters(spec: ResourceSpec, filters: Filters | None, strict: bool) -> None:
    """Every filter name (groups included) and operator (API reference, "Filtering": filters
    per endpoint; operators ``eq, not_eq, contains, not_contain, gt, gt_eq, lt, lt_eq``)."""
    if filters is None:
        return
    if isinstance(filters, FilterGroup):
        for operand in filters.operands:
            check_filters(spec, operand, strict)
        return
    if not isinstance(filters, Mapping):
        raise InvalidRequestError(
            f"filters must be a mapping or a group, not {type(filters).__name__}"
        )
    for name, value in filters.items():
        name = str(name)
        if "[" in name or "]" in name:
            raise InvalidRequestError(
                f"filter {name!r}: brackets are not part of a filter name; give operators as "
                f"a mapping: {{'status': {{'gt': 5}}}}"
            )
        if name == "custom_fields" and "custom_fields" in spec.attributes:
            continue  # filter[custom_fields][<id>][<op>]: ids are the organization's own
        known = spec.filters.get(name)
        if known is None:
            _unknown(strict, f"{spec.name}: unknown filter {name!r}; "
                             f"{accepted(name, spec.filters)}")
            continue
        if isinstance(value, Mapping):
            for op in value:
                if op not in FILTER_OPERATORS:
                    raise InvalidRequestError(
                        f"filter {name!r}: unknown operator {op!r} "
                        f"(use one of {', '.join(sorted(FILTER_OPERATORS))})"
                    )
                if known.operators and op not in known.operators:
                    _unknown(strict, f"filter {name!r} does not take operator {op!r}; "
                                     f"accepted: {', '.join(known.operators)}")


def _names(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    out = []
    for item in items:
        if not isinstance(item, str):
            raise InvalidRequestError(f"expected names as strings, not {item!r}")
        item = item.strip()
        if not item:
            raise InvalidRequestError("an empty name in a sort or include list")
        out.append(item)
    return out


def check_sort(spec: ResourceSpec, sort: str | Sequence[str] | None, strict: bool) -> None:
    """Sort keys, each optionally prefixed with ``-`` (API reference, "Sorting")."""
    for key in _names(sort):
        bare = key.removeprefix("-")
        if bare not in spec.sorts:
            _unknown(strict, f"{spec.name}: unknown sort key {bare!r}; "
                             f"{accepted(bare, spec.sorts)}")


def check_include(registry: Registry, spec: ResourceSpec,
                  include: str | Sequence[str] | None, strict: bool) -> None:
    """Include paths (``project.company``): each segment a relationship of the type before it
    (API reference, "Including related resources")."""
    for path in _names(include):
        if path in spec.includes:
            continue
        current: ResourceSpec | None = spec
        for segment in path.split("."):
            if current is None:
                break  # a type the registry has no resource for: nothing to check against
            rel = current.relationships.get(segment)
            if rel is None:
                _unknown(strict, f"{spec.name}: include {path!r}: {current.type} has no "
                                 f"relationship {segment!r}; "
                                 f"{accepted(segment, current.relationships)}")
                break
            current = registry.spec_for_type(rel.type)


def check_fields(registry: Registry, fields: Mapping[str, Any] | None, strict: bool) -> None:
    """Sparse fieldsets: ``{type: names}``; known types' names are attributes or
    relationships (API reference, "Sparse fieldsets")."""
    for type_, names in (fields or {}).items():
        target = registry.spec_for_type(type_)
        if target is None:
            _unknown(strict, f"fields: unknown type {type_!r}; "
                             f"{accepted(type_, registry.by_type)}")
            continue
        known = set(target.attributes) | set(target.relationships)
        for name in _names(names):
            if name not in known:
                _unknown(strict, f"fields[{type_}]: unknown field {name!r}; "
                                 f"{accepted(name, known)}")


def check_group(spec: ResourceSpec, group: str | Sequence[str] | None, strict: bool) -> None:
    """A report's ``group`` (one dimension or several, comma-separated)."""
    if group is None:
        return
    if not spec.is_report:
        raise InvalidRequestError(f"{spec.name} is not a report: it takes no group")
    for name in _names(group):
        if spec.groups and name not in spec.groups:
            _unknown(strict, f"{spec.name}: unknown group {name!r}; "
                             f"{accepted(name, spec.groups)}")
