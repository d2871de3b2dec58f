"""The sandbox's in-memory data: resource objects by type and id, with cached query results.

A stored record is ``{"id", "type", "attributes": {...JSON values}, "relationships": {name:
identifier | [identifiers] | None}}``; the server adds the JSON:API relationship wrapping
(``{"data": ...}`` or the stub ``{"meta": {"included": false}}``) when it answers.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from typing import Any

from .._registry import Registry

Record = dict[str, Any]

_NUMERIC = re.compile(r"[0-9]{1,18}")


def numeric(text: str) -> int | None:
    """``text`` as a number if it is one of at most 18 ASCII digits (ids, operand indexes),
    else None (``"²"`` and ``"٣"`` are digits to ``str.isdigit`` but not ids)."""
    return int(text) if _NUMERIC.fullmatch(text) else None


class Store:
    """Tables of records by JSON:API type; ids are allocated per type, never reused."""

    def __init__(self, registry: Registry, records: Iterable[Record] = ()) -> None:
        self.registry = registry
        self.tables: dict[str, dict[str, Record]] = {}
        self._next_id: dict[str, int] = {}
        self.version = 0
        self._cache: dict[Any, list[Record]] = {}
        for record in records:
            self.put(record)

    def table(self, type_: str) -> dict[str, Record]:
        """Every record of ``type_`` by id (created empty on first use)."""
        return self.tables.setdefault(type_, {})

    def get(self, type_: str, id_: str) -> Record | None:
        """The record of ``type_`` with ``id_``, or ``None``."""
        return self.tables.get(type_, {}).get(str(id_))

    def put(self, record: Record) -> Record:
        """Insert or replace ``record`` (its id kept)."""
        type_, id_ = record["type"], str(record["id"])
        record["id"] = id_
        record.setdefault("attributes", {})
        record.setdefault("relationships", {})
        self.table(type_)[id_] = record
        number = numeric(id_)
        if number is not None:
            self._next_id[type_] = max(self._next_id.get(type_, 1), number + 1)
        self.touch()
        return record

    def new_id(self, type_: str) -> str:
        """A fresh id for ``type_`` (one above the highest numeric id seen)."""
        value = self._next_id.get(type_, 1)
        self._next_id[type_] = value + 1
        return str(value)

    def delete(self, type_: str, id_: str) -> bool:
        """Remove a record; ``False`` if there was none."""
        found = self.tables.get(type_, {}).pop(str(id_), None) is not None
        if found:
            self.touch()
        return found

    def touch(self) -> None:
        """Note a write: cached query results are dropped."""
        self.version += 1
        self._cache.clear()

    def cached(self, key: Any) -> list[Record] | None:
        """A remembered query result (dropped on every write), or ``None``."""
        return self._cache.get(key)

    def remember(self, key: Any, records: list[Record]) -> None:
        """Remember a query result until the next write (at most 256 are kept)."""
        if len(self._cache) > 256:
            self._cache.clear()
        self._cache[key] = records

    def snapshot(self) -> dict[str, dict[str, Record]]:
        """A deep copy of every table (for tests that compare before/after)."""
        return copy.deepcopy(self.tables)
