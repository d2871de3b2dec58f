"""Reading the query string the way Productive does: filters, sort, include, fields, pages.

Rules from ``shared/productive-api/README.md`` ("Filters", "Sort, include, sparse fieldsets",
"Pagination"): ``filter[name]=v`` (comma-separated lists match any), ``filter[name][op]=v``
with ``eq, not_eq, contains, not_contain, gt, gt_eq, lt, lt_eq``, logical groups
``filter[$op]=or&filter[0][...]&filter[1][...]`` (nestable), custom fields
``filter[custom_fields][<id>][<op>]=v``; unsupported filter/sort/include -> 400.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .._registry import FILTER_OPERATORS, ResourceSpec

Record = dict[str, Any]
Predicate = Callable[[Record], bool]

_KEY = re.compile(r"\[([^\]]*)\]")


class QueryError(Exception):
    """A request the API would answer with 400; ``title`` and ``detail`` as the API words it."""

    def __init__(self, title: str, detail: str, code: str | None = None, status: int = 400):
        super().__init__(detail)
        self.title = title
        self.detail = detail
        self.code = code
        self.status = status


def parse_brackets(pairs: Iterable[tuple[str, str]], root: str) -> dict[str, Any]:
    """``filter[a][b]=v`` pairs -> ``{"a": {"b": "v"}}`` (only keys starting with ``root[``)."""
    tree: dict[str, Any] = {}
    prefix = root + "["
    for key, value in pairs:
        if not key.startswith(prefix):
            continue
        parts = _KEY.findall(key[len(root):])
        if not parts:
            continue
        node = tree
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        node[parts[-1]] = value
    return tree


# ----------------------------------------------------------------------------- values


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _coerce(sample: Any, raw: str) -> Any:
    """The filter text ``raw`` as the type of the stored ``sample`` (for comparisons)."""
    if isinstance(sample, bool):
        return raw.lower() in ("true", "1", "t", "yes")
    if isinstance(sample, int):
        try:
            return int(raw)
        except ValueError:
            try:
                return float(raw)
            except ValueError:
                return raw
    if isinstance(sample, float):
        try:
            return float(raw)
        except ValueError:
            return raw
    return raw


def _compare(value: Any, op: str, raw: str) -> bool:
    if isinstance(value, list):
        if op in ("eq", "contains"):
            return any(_compare(v, "eq", raw) for v in value)
        if op in ("not_eq", "not_contain"):
            return not any(_compare(v, "eq", raw) for v in value)
        return any(_compare(v, op, raw) for v in value)
    if op in ("eq", "not_eq"):
        options = raw.split(",") if "," in raw else [raw]
        hit = any(_equal(value, option) for option in options)
        return hit if op == "eq" else not hit
    if op in ("contains", "not_contain"):
        hit = raw.lower() in _text(value).lower()
        return hit if op == "contains" else not hit
    if value is None:
        return False
    target = _coerce(value, raw)
    try:
        if isinstance(value, str) and isinstance(target, str) and len(target) == 10:
            value = value[:10]  # a date filter against a timestamp compares dates
        if op == "gt":
            return bool(value > target)
        if op == "gt_eq":
            return bool(value >= target)
        if op == "lt":
            return bool(value < target)
        if op == "lt_eq":
            return bool(value <= target)
    except TypeError:
        return False
    return False


def _equal(value: Any, raw: str) -> bool:
    if value is None:
        return raw in ("", "null")
    if isinstance(value, (bool, int, float)):
        return bool(_coerce(value, raw) == value)
    text = str(value)
    if text == raw:
        return True
    return len(raw) == 10 and text[:10] == raw and len(text) > 10


# ----------------------------------------------------------------------------- filters

_SEARCH_FILTERS = frozenset({"query", "full_query", "jump_query", "quick_query"})


def _attr(record: Record, name: str) -> Any:
    return (record.get("attributes") or {}).get(name)


#: Filters computed from attributes, as the API documents them (seed 004's invoice filter list;
#: deals ``type``: 1 deal, 2 budget).
COMPUTED: dict[tuple[str, str], Callable[[Record], Any]] = {
    ("deals", "type"): lambda r: 2 if _attr(r, "budget") else 1,
    ("invoices", "invoice_state"): lambda r: 2 if _attr(r, "finalized_on") else 1,
    ("invoices", "sent_status"): lambda r: 1 if _attr(r, "sent_on") else 2,
    ("invoices", "invoice_type"): lambda r: _attr(r, "invoice_type_id"),
    ("invoices", "export_status"): lambda r: 1 if _attr(r, "exported") else 2,
    ("invoices", "payment_status"): lambda r: (
        1 if (_attr(r, "amount_unpaid") or 0) <= 0 < (_attr(r, "amount_paid") or 0)
        else 3 if (_attr(r, "amount_paid") or 0) > 0 else 2
    ),
}


def field_getter(spec: ResourceSpec, name: str) -> Callable[[Record], Any] | None:
    """How to read filter/sort ``name`` off a stored record, or None if it cannot be read."""
    computed = COMPUTED.get((spec.type, name))
    if computed is not None:
        return computed
    if name == "id":
        return lambda r: int(r["id"]) if str(r["id"]).isdigit() else r["id"]
    if name in spec.attributes:
        return lambda r: (r.get("attributes") or {}).get(name)
    rel_name = None
    if name.endswith("_ids"):
        rel_name = name[:-4] + "s"
        if rel_name not in spec.relationships:
            rel_name = name[:-4]
    elif name.endswith("_id"):
        rel_name = name[:-3]
    if rel_name and rel_name in spec.relationships:
        return lambda r: _rel_ids(r, rel_name)
    if name in spec.relationships:
        return lambda r: _rel_ids(r, name)
    return None


def _rel_ids(record: Record, name: str) -> Any:
    rel = (record.get("relationships") or {}).get(name)
    if rel is None:
        return None
    if isinstance(rel, list):
        return [int(i["id"]) if str(i["id"]).isdigit() else i["id"] for i in rel]
    rid = rel["id"]
    return int(rid) if str(rid).isdigit() else rid


def _search(record: Record, raw: str) -> bool:
    needle = raw.lower()
    for value in (record.get("attributes") or {}).values():
        if isinstance(value, str) and needle in value.lower():
            return True
    return False


def compile_filters(spec: ResourceSpec, tree: Mapping[str, Any]) -> Predicate:
    """A predicate for a parsed ``filter[...]`` tree; raises :class:`QueryError` (400) for a
    filter the resource does not support or an unknown operator."""
    if not tree:
        return lambda r: True
    op = tree.get("$op")
    if op is not None:
        operands = [v for k, v in sorted(tree.items(), key=_index_key) if k != "$op"]
        if op not in ("and", "or") or not operands:
            raise QueryError("Unsupported Filter", f"invalid logical operator {op!r}")
        preds = [compile_filters(spec, o) if isinstance(o, Mapping) else _bad(o) for o in operands]
        if op == "or":
            return lambda r: any(p(r) for p in preds)
        return lambda r: all(p(r) for p in preds)
    conjuncts: list[Predicate] = []
    for name, value in tree.items():
        if name.isdigit() and isinstance(value, Mapping):
            conjuncts.append(compile_filters(spec, value))
        elif name == "custom_fields" and isinstance(value, Mapping):
            conjuncts.extend(_custom_field_pred(fid, cond) for fid, cond in value.items())
        else:
            conjuncts.append(_condition(spec, name, value))
    return lambda r: all(p(r) for p in conjuncts)


def _bad(operand: Any) -> Predicate:
    raise QueryError("Unsupported Filter", f"invalid filter operand {operand!r}")


def _index_key(item: tuple[str, Any]) -> tuple[int, str]:
    key = item[0]
    return (int(key), "") if key.isdigit() else (1 << 30, key)


def _condition(spec: ResourceSpec, name: str, value: Any) -> Predicate:
    if name not in spec.filters and name != "id":
        raise QueryError("Unsupported Filter", f"Unsupported filter: {name}")
    conditions = value if isinstance(value, Mapping) else {"eq": value}
    for op in conditions:
        if op not in FILTER_OPERATORS:
            raise QueryError("Unsupported Filter", f"Unsupported operator {op!r} for {name}")
    if name in _SEARCH_FILTERS:
        return lambda r: all(_search(r, str(v)) for v in conditions.values())
    getter = field_getter(spec, name)
    if getter is None:
        # A documented filter the sandbox cannot evaluate (a computed one): it matches all.
        return lambda r: True
    items = [(op, str(raw)) for op, raw in conditions.items()]
    return lambda r: all(_compare(getter(r), op, raw) for op, raw in items)


def _custom_field_pred(field_id: str, cond: Any) -> Predicate:
    conditions = cond if isinstance(cond, Mapping) else {"eq": cond}
    for op in conditions:
        if op not in FILTER_OPERATORS:
            raise QueryError("Unsupported Filter", f"Unsupported operator {op!r}")
    items = [(op, str(raw)) for op, raw in conditions.items()]

    def pred(record: Record) -> bool:
        values = (record.get("attributes") or {}).get("custom_fields") or {}
        value = values.get(str(field_id))
        return all(_compare(value, op, raw) for op, raw in items)

    return pred


# ----------------------------------------------------------------------------- sort


def sort_key(spec: ResourceSpec, sort: str) -> list[tuple[Callable[[Record], Any], bool]]:
    """``sort=a,-b`` -> [(getter, descending)]; 400 for keys the resource cannot sort by."""
    keys = []
    for item in sort.split(","):
        item = item.strip()
        if not item:
            continue
        descending = item.startswith("-")
        name = item.lstrip("-")
        if name not in spec.sorts and name != "id":
            raise QueryError("Unsupported Sort", f"Unsupported sort: {name}")
        getter = field_getter(spec, name)
        if getter is None:
            getter = _none
        keys.append((getter, descending))
    return keys


def _none(_: Record) -> Any:
    return None


def apply_sort(
    records: list[Record], keys: list[tuple[Callable[[Record], Any], bool]]
) -> list[Record]:
    """Stable multi-key sort; ``None`` sorts first ascending, last descending."""
    out = records
    for getter, descending in reversed(keys):
        out = sorted(out, key=_sort_by(getter), reverse=descending)
    return out


def _sort_by(getter: Callable[[Record], Any]) -> Callable[[Record], tuple[int, Any]]:
    return lambda record: _sortable(getter(record))


def _sortable(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, (int, float)):
        return (1, value)
    if isinstance(value, list):
        return (2, str(value))
    return (2, str(value))
