"""Reading the query string the way Productive does: filters, sort, include, fields, pages.

Rules from ``shared/productive-api/README.md`` ("Filters", "Sort, include, sparse fieldsets",
"Pagination"): ``filter[name]=v`` (comma-separated lists match any), ``filter[name][op]=v``
with ``eq, not_eq, contains, not_contain, gt, gt_eq, lt, lt_eq``, logical groups
``filter[$op]=or&filter[0][...]&filter[1][...]`` (nestable), custom fields
``filter[custom_fields][<id>][<op>]=v``; unsupported filter/sort/include -> 400.

Every shape of query string is read here, and each one this module cannot read is a
:class:`QueryError` (400 and the API's error document), never an exception of another kind:
page numbers and sizes are ASCII whole numbers (sizes above the maximum are cut to it, page
numbers are at most :data:`MAX_PAGE_NUMBER`), bracketed keys are well formed and at most
:data:`MAX_FILTER_DEPTH` deep, filter values are text, include paths at most
:data:`MAX_INCLUDE_DEPTH` relationships long, and cursors are the server's own (signed).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .._registry import FILTER_OPERATORS, Registry, ResourceSpec
from ._errors import RequestError, clip, error, shown
from ._store import numeric

Record = dict[str, Any]
Predicate = Callable[[Record], bool]

_KEY = re.compile(r"\[([^\[\]]*)\]")
_WHOLE = re.compile(r"[0-9]+")

#: The documented page sizes (API conventions, "Pagination": default 30, max 200).
DEFAULT_PAGE_SIZE = 30
MAX_PAGE_SIZE = 200
#: The highest ``page[number]`` read (a page past the last one is empty, as the API's).
MAX_PAGE_NUMBER = 2**31 - 1
#: How many brackets a ``filter[...]`` key may have (logical groups nest one level each).
MAX_FILTER_DEPTH = 16
#: How many relationships one ``include`` path may chain.
MAX_INCLUDE_DEPTH = 8


class QueryError(RequestError):
    """A request the API would answer with 400; ``title`` and ``detail`` as the API words it."""

    def __init__(self, title: str, detail: str, code: str | None = None, status: int = 400):
        super().__init__(status, [error(status, title, detail, code=code)])
        self.title = title
        self.detail = detail
        self.code = code


def parse_brackets(pairs: Iterable[tuple[str, str]], root: str, *,
                   title: str = "Bad Request", max_depth: int = MAX_FILTER_DEPTH
                   ) -> dict[str, Any]:
    """``filter[a][b]=v`` pairs -> ``{"a": {"b": "v"}}`` (only keys starting with ``root[``).

    A key that is not ``root`` followed by non-empty ``[...]`` parts, or has more than
    ``max_depth`` of them, is a :class:`QueryError` titled ``title``."""
    tree: dict[str, Any] = {}
    prefix = root + "["
    for key, value in pairs:
        if not key.startswith(prefix):
            continue
        rest = key[len(root):]
        parts = _KEY.findall(rest)
        if not parts or "".join(f"[{p}]" for p in parts) != rest or "" in parts:
            raise QueryError(title, f"malformed parameter {shown(key)}")
        if len(parts) > max_depth:
            raise QueryError(title, f"{clip(key[:40])}: {root}[...] keys have at most "
                                    f"{max_depth} bracketed parts")
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


Matcher = Callable[[Any], bool]


def _matcher(op: str, raw: str) -> Matcher:
    """Whether a stored value satisfies ``[op]=raw``, compiled once per condition (a
    ``filter[id]=1,2,...`` of thousands of ids costs one set lookup per record). A list value
    matches ``eq``/``contains`` when an item equals ``raw``, ``not_eq``/``not_contain`` when
    none does, the other operators when an item does."""
    scalar = _scalar_matcher(op, raw)
    equal = scalar if op == "eq" else _scalar_matcher("eq", raw)

    def match(value: Any) -> bool:
        if isinstance(value, list):
            if op in ("eq", "contains"):
                return any(equal(v) for v in value)
            if op in ("not_eq", "not_contain"):
                return not any(equal(v) for v in value)
            return any(scalar(v) for v in value)
        return scalar(value)

    return match


def _scalar_matcher(op: str, raw: str) -> Matcher:
    if op in ("eq", "not_eq"):
        hit = _equals_any(raw.split(",") if "," in raw else [raw])
        return hit if op == "eq" else lambda value: not hit(value)
    if op in ("contains", "not_contain"):
        needle = raw.lower()
        if op == "contains":
            return lambda value: needle in _text(value).lower()
        return lambda value: needle not in _text(value).lower()
    return lambda value: _order(value, op, raw)


def _order(value: Any, op: str, raw: str) -> bool:
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


def _equals_any(options: list[str]) -> Matcher:
    """Whether a value equals one of ``options`` (text read as the value's type; a date
    matches a timestamp of that day; ``""``/``null`` match nothing set)."""
    texts = set(options)
    days = {o for o in options if len(o) == 10}
    nulls = bool(texts & {"", "null"})
    truths = {_coerce(True, o) for o in options}
    integers = {_coerce(0, o) for o in options} - texts
    floats = {_coerce(0.0, o) for o in options} - texts

    def equal(value: Any) -> bool:
        if value is None:
            return nulls
        if isinstance(value, bool):
            return value in truths
        if isinstance(value, int):
            return value in integers
        if isinstance(value, float):
            return value in floats
        text = str(value)
        return text in texts or (len(text) > 10 and text[:10] in days)

    return equal


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
        return lambda r: _id_value(r["id"])
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
        return [_id_value(i["id"]) for i in rel]
    return _id_value(rel["id"])


def _id_value(id_: Any) -> Any:
    """An id as filters compare it: a number if it is one, else the text."""
    number = numeric(str(id_))
    return id_ if number is None else number


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
            raise QueryError("Unsupported Filter", f"invalid logical operator {shown(op)}")
        for key in tree:
            if key != "$op" and not (key.isascii() and key.isdigit()):
                raise QueryError("Unsupported Filter",
                                 f"the operands of filter[$op] are numbered, not {shown(key)}")
        preds = [compile_filters(spec, o) if isinstance(o, Mapping) else _bad(o) for o in operands]
        if op == "or":
            return lambda r: any(p(r) for p in preds)
        return lambda r: all(p(r) for p in preds)
    conjuncts: list[Predicate] = []
    for name, value in tree.items():
        if numeric(name) is not None and isinstance(value, Mapping):
            conjuncts.append(compile_filters(spec, value))
        elif name == "custom_fields" and isinstance(value, Mapping):
            conjuncts.extend(_custom_field_pred(fid, cond) for fid, cond in value.items())
        else:
            conjuncts.append(_condition(spec, name, value))
    return lambda r: all(p(r) for p in conjuncts)


def _bad(operand: Any) -> Predicate:
    raise QueryError("Unsupported Filter", f"invalid filter operand {shown(operand)}")


def _index_key(item: tuple[str, Any]) -> tuple[int, int, str]:
    """Operands in numeric order (by length, then digits: no ``int`` of a huge key)."""
    key = item[0]
    if key.isascii() and key.isdigit():
        stripped = key.lstrip("0")
        return (0, len(stripped), stripped)
    return (1, 0, key)


def _conditions(name: str, value: Any) -> dict[str, str]:
    """``value`` of ``filter[name]`` as {operator: text}; 400 for unknown operators and for
    operands that are not text (``filter[id][eq][x]=1``)."""
    conditions = value if isinstance(value, Mapping) else {"eq": value}
    for op, raw in conditions.items():
        if op not in FILTER_OPERATORS:
            raise QueryError("Unsupported Filter",
                             f"Unsupported operator {shown(op)} for {shown(name)}")
        if not isinstance(raw, str):
            raise QueryError("Unsupported Filter",
                             f"the value of {shown(name)} [{op}] must be text")
    return dict(conditions)


def _condition(spec: ResourceSpec, name: str, value: Any) -> Predicate:
    if name not in spec.filters and name != "id":
        raise QueryError("Unsupported Filter", f"Unsupported filter: {clip(name)}")
    conditions = _conditions(name, value)
    if name in _SEARCH_FILTERS:
        return lambda r: all(_search(r, str(v)) for v in conditions.values())
    getter = field_getter(spec, name)
    if getter is None:
        # A documented filter the sandbox cannot evaluate (a computed one): it matches all.
        return lambda r: True
    matchers = [_matcher(op, raw) for op, raw in conditions.items()]
    return lambda r: all(match(getter(r)) for match in matchers)


def _custom_field_pred(field_id: str, cond: Any) -> Predicate:
    conditions = _conditions(f"custom_fields[{field_id}]", cond)
    matchers = [_matcher(op, raw) for op, raw in conditions.items()]

    def pred(record: Record) -> bool:
        values = (record.get("attributes") or {}).get("custom_fields") or {}
        value = values.get(str(field_id))
        return all(match(value) for match in matchers)

    return pred


# ----------------------------------------------------------------------------- sort


def sort_key(spec: ResourceSpec, sort: str) -> list[tuple[Callable[[Record], Any], bool]]:
    """``sort=a,-b`` -> [(getter, descending)]; 400 for keys the resource cannot sort by.
    A key named again is left out (the first one decides)."""
    keys = []
    seen: set[str] = set()
    for item in sort.split(","):
        item = item.strip()
        if not item:
            continue
        descending = item.startswith("-")
        name = item[1:] if descending else item
        if name not in spec.sorts and name != "id":
            raise QueryError("Unsupported Sort", f"Unsupported sort: {clip(name)}")
        if name in seen:
            continue
        seen.add(name)
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


# ----------------------------------------------------------------------------- pages


def page_size(query: Mapping[str, str]) -> int:
    """``page[size]``: a whole number from 1; above :data:`MAX_PAGE_SIZE` it is cut to it (the
    API's ``max_page_size``); :data:`DEFAULT_PAGE_SIZE` when absent or empty."""
    raw = query.get("page[size]", "")
    if raw == "":
        return DEFAULT_PAGE_SIZE
    if not _WHOLE.fullmatch(raw) or not raw.strip("0"):
        raise QueryError("Bad Request", "page[size] must be a whole number from 1")
    return MAX_PAGE_SIZE if len(raw.lstrip("0")) > 3 else min(int(raw), MAX_PAGE_SIZE)


def page_number(query: Mapping[str, str]) -> int:
    """``page[number]``: a whole number from 1 to :data:`MAX_PAGE_NUMBER` (1 when absent)."""
    raw = query.get("page[number]", "")
    if raw == "":
        return 1
    digits = raw.lstrip("0")
    if not _WHOLE.fullmatch(raw) or not digits or len(digits) > 10 or (
        int(digits) > MAX_PAGE_NUMBER
    ):
        raise QueryError("Bad Request",
                         f"page[number] must be a whole number from 1 to {MAX_PAGE_NUMBER}")
    return int(digits)


class Cursors:
    """The server's ``page[after]`` cursors: the last id of a page, signed with the server's
    ``key`` and bound to one collection, so a cursor that was not the server's own (made up,
    altered, cut, or another collection's) is a 400 ``keyset_invalid_cursor``."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, scope: str, payload: bytes) -> bytes:
        return hmac.new(self._key, scope.encode() + b"\0" + payload, hashlib.sha256).digest()[:12]

    def encode(self, scope: str, last_id: str) -> str:
        """The cursor of the page that ended with ``last_id`` in collection ``scope``."""
        payload = last_id.encode()
        return f"{_b64(payload)}.{_b64(self._mac(scope, payload))}"

    def decode(self, scope: str, cursor: str) -> str:
        """The last id a cursor of ``scope`` stands for; :class:`QueryError` if it is not one
        this server made for ``scope``."""
        try:
            text, _, mac = cursor.partition(".")
            payload = _unb64(text)
            valid = hmac.compare_digest(_unb64(mac), self._mac(scope, payload))
            last_id = payload.decode() if valid else ""
        except (ValueError, UnicodeError):
            last_id = ""
        if not last_id:
            raise QueryError("Bad Request", "page[after] is not a valid cursor",
                             code="keyset_invalid_cursor")
        return last_id


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    if not text.isascii() or len(text) > 512:
        raise ValueError("not a cursor")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as exc:
        raise ValueError("not base64") from exc


# ----------------------------------------------------------------------------- include, fields


def include_tree(registry: Registry, spec: ResourceSpec, include: str | None) -> dict[str, Any]:
    """``include=a,b.c`` as a tree ``{"a": {}, "b": {"c": {}}}``; 400 "Unsupported Include" for
    a path that is not a chain of relationships, or longer than :data:`MAX_INCLUDE_DEPTH`."""
    tree: dict[str, Any] = {}
    for path in (include or "").split(","):
        path = path.strip()
        if not path:
            continue
        parts = path.split(".")
        if len(parts) > MAX_INCLUDE_DEPTH:
            raise QueryError("Unsupported Include",
                             f"include paths are at most {MAX_INCLUDE_DEPTH} relationships long")
        node = tree
        current: ResourceSpec | None = spec
        for part in parts:
            if current is None or part not in current.relationships:
                raise QueryError("Unsupported Include", f"Unsupported include: {clip(path)}")
            node = node.setdefault(part, {})
            current = registry.spec_for_type(current.relationships[part].type)
    return tree


def fieldsets(pairs: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    """``fields[type]=a,b`` -> ``{"type": {"a", "b"}}``; 400 for a malformed ``fields`` key."""
    tree = parse_brackets(pairs, "fields", max_depth=1)
    return {type_: set(value.split(",")) for type_, value in tree.items()}
