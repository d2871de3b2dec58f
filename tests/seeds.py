"""Request/response examples extracted from the seed API documents.

The seed documents ``003_*.txt`` (contracts) and ``004_*.txt`` (invoices) in
``spec/seeds`` are text dumps of Productive.io's API documentation.  They contain
full HTTP examples captured from Productive's API test environment, which this module turns
into :class:`SeedExample` objects so that tests can use them as fixtures.

The two files are laid out differently:

* **003** is indented and line based.  Each example starts with a request line such as
  ``GET\\xa0\\xa0/api/v2/contracts/4`` followed by ``Headers``, the request headers, an optional
  ``Body`` with JSON, then an explicit status marker (``Responses200``, ``Responses422``,
  ...), and the response ``Headers``/``Body`` (or ``This response has no content.``).
* **004** is flattened: there is no status marker and the markers are glued to neighbouring
  text, e.g. ``Content-Type: application/vnd.api+jsonBody``, ``}Headers`` (a response header
  block directly after the request body) or ``}PATCH /api/v2/invoices/36`` (the next example
  starting right after the previous response body).  The status is inferred, see
  :func:`infer_status`.

Both layouts are handled by one cursor based parser: a request line is a method, whitespace
(spaces or non-breaking spaces) and an ``/api/v2/...`` target *followed by a ``Headers``
line*.  That last condition filters out the documentation's headings ("GET /api/v2/contracts/1"
followed by "Requests...") and prose ("POST /api/v2/line_items -").  Within each example the
parser then expects, in order and each optional after the request headers: a request
``Body``, a status marker, a "no content" note, response ``Headers`` and a response ``Body``.
Anything after the response body (endpoint summaries, URI parameter lists) is ignored.  JSON
is read with :meth:`json.JSONDecoder.raw_decode` from the first ``{`` after ``Body``, so text
glued to the closing brace does not matter.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl

import attrs

__all__ = [
    "SEEDS_DIR",
    "SEED_RESOURCES",
    "Method",
    "SeedExample",
    "SeedParseError",
    "examples_for",
    "infer_status",
    "load_examples",
    "parse_seed",
]

Method = Literal["GET", "POST", "PATCH", "DELETE"]

#: Directory holding the seed documents; ``PRODUCTIVE_SEEDS_DIR`` overrides the default.
SEEDS_DIR: Path = Path(
    os.environ.get("PRODUCTIVE_SEEDS_DIR")
    or Path(__file__).resolve().parents[1] / "spec" / "seeds"
)

#: Seed file stems that carry HTTP examples, and the resource each one documents.
SEED_RESOURCES: dict[str, str] = {
    "003_6e34b0af897a9ef1": "contracts",
    "004_e917122e90c5e9c2": "invoices",
}

_API_PREFIX = "/api/v2/"

# A request line: method, at least one space/NBSP, an /api/v2/ target, then (possibly after
# blank lines) a line starting with "Headers".  No anchor before the method on purpose: in 004
# it can be glued to a preceding "}" or header value ("application/vnd.api+jsonPATCH /api...").
_REQUEST_LINE = re.compile(
    r"(?P<method>GET|POST|PATCH|PUT|DELETE)[ \t\u00a0]+/api/v2/(?P<target>[^\s]+)[ \t\u00a0]*"
    r"(?=\n\s*Headers)"
)
_WS = re.compile(r"\s*")
_STATUS_MARKER = re.compile(r"Responses(?P<status>\d{3})")
_NO_CONTENT = "This response has no content."
# One header line; the value may have a section marker glued to its end.
_HEADER_LINE = re.compile(
    r"(?P<name>[A-Za-z][A-Za-z0-9-]*):[ \t]*(?P<value>[^\n]*?)[ \t]*"
    r"(?=(?:Headers|Body|Responses\d{3})?(?:\n|$))"
)
_DECODER = json.JSONDecoder()


class SeedParseError(ValueError):
    """A seed document does not have the expected example structure."""


@attrs.frozen(kw_only=True)
class SeedExample:
    """One HTTP request/response example from a seed document."""

    #: Seed file stem, e.g. ``"003_6e34b0af897a9ef1"``.
    seed: str
    #: Documented resource: ``"contracts"`` or ``"invoices"``.
    resource: str
    #: HTTP method of the request.
    method: Method
    #: Request path relative to ``/api/v2/``, without query, e.g. ``"invoices/72/preview"``.
    path: str
    #: Decoded query string pairs, in order (``[]`` when the request has no query).
    query: list[tuple[str, str]]
    #: Parsed JSON request body, or ``None`` when the request has none.
    request_body: dict[str, Any] | None
    #: Response status: given in 003, inferred in 004 (see :func:`infer_status`).
    status: int
    #: Parsed JSON response body, or ``None`` (e.g. for 204 responses).
    response_body: dict[str, Any] | None
    #: Value of the response ``Content-Type`` header, or ``None`` when absent.
    response_content_type: str | None
    #: Short unique id such as ``"PATCH invoices/47/send"`` or ``"POST contracts #2"``.
    title: str
    #: Request headers as written in the seed (name -> value).
    request_headers: dict[str, str] = attrs.field(factory=dict)
    #: Response headers as written in the seed (name -> value).
    response_headers: dict[str, str] = attrs.field(factory=dict)
    #: 1-based line number of the request line in the seed file.
    line: int = 0

    @property
    def is_error(self) -> bool:
        """Whether the example documents an error response (status >= 400)."""
        return self.status >= 400


def infer_status(method: str, path: str, response_body: dict[str, Any] | None) -> int:
    """Infer the response status of an example that has no explicit status marker.

    * a body with ``errors`` -> the ``status`` of the first error;
    * no body -> 204;
    * ``POST`` to a collection (the path is just the resource name) -> 201;
    * otherwise -> 200.
    """
    if response_body is not None and response_body.get("errors"):
        return int(response_body["errors"][0]["status"])
    if response_body is None:
        return 204
    if method == "POST" and "/" not in path:
        return 201
    return 200


class _Cursor:
    """Tiny scanner over one example's text."""

    def __init__(self, text: str, pos: int = 0) -> None:
        self.text = text
        self.pos = pos

    def skip_ws(self) -> None:
        match = _WS.match(self.text, self.pos)
        assert match is not None  # r"\s*" always matches
        self.pos = match.end()

    def accept(self, literal: str) -> bool:
        """Consume ``literal`` (after whitespace) if it comes next."""
        self.skip_ws()
        if self.text.startswith(literal, self.pos):
            self.pos += len(literal)
            return True
        return False

    def accept_re(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        self.skip_ws()
        match = pattern.match(self.text, self.pos)
        if match is not None:
            self.pos = match.end()
        return match

    def headers(self) -> dict[str, str]:
        """Read ``Name: value`` lines until something else comes."""
        result: dict[str, str] = {}
        while (match := self.accept_re(_HEADER_LINE)) is not None:
            result[match["name"]] = match["value"]
        return result

    def json_object(self) -> dict[str, Any]:
        """Decode the JSON object starting at the first ``{`` from the cursor."""
        start = self.text.find("{", self.pos)
        if start < 0:
            raise SeedParseError("'Body' marker without a JSON object")
        try:
            value, end = _DECODER.raw_decode(self.text, start)
        except json.JSONDecodeError as exc:
            raise SeedParseError(f"invalid JSON body: {exc}") from exc
        self.pos = end
        return value  # type: ignore[no-any-return]  # decoding from "{" gives a dict


def _header(headers: dict[str, str], name: str) -> str | None:
    lowered = name.lower()
    return next((value for key, value in headers.items() if key.lower() == lowered), None)


def parse_seed(text: str, seed: str, resource: str | None = None) -> list[SeedExample]:
    """Extract every request/response example of one seed document.

    ``seed`` is stored on the examples and used in error messages.  When ``resource`` is
    given, every example path must belong to it (``SeedParseError`` otherwise); when omitted
    it is taken from the first path segment of each example.
    """
    text = text.replace("\r\n", "\n")
    matches = list(_REQUEST_LINE.finditer(text))
    raw: list[dict[str, Any]] = []
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        line = text.count("\n", 0, match.start()) + 1
        where = f"{seed}:{line}"
        method = match["method"]
        if method == "PUT":
            raise SeedParseError(f"{where}: unexpected method PUT")
        target = match["target"]
        path, _, query_string = target.partition("?")
        path = path.strip("/")
        example_resource = path.split("/", 1)[0]
        if resource is not None and example_resource != resource:
            raise SeedParseError(f"{where}: {path!r} is not a {resource!r} path")

        cursor = _Cursor(text[:end], match.end())
        if not cursor.accept("Headers"):
            raise SeedParseError(f"{where}: request line not followed by 'Headers'")
        request_headers = cursor.headers()
        request_body = cursor.json_object() if cursor.accept("Body") else None
        marker = cursor.accept_re(_STATUS_MARKER)
        response_headers: dict[str, str] = {}
        response_body: dict[str, Any] | None = None
        if not cursor.accept(_NO_CONTENT):
            if cursor.accept("Headers"):
                response_headers = cursor.headers()
            if cursor.accept("Body"):
                response_body = cursor.json_object()
        if marker is not None:
            status = int(marker["status"])
        else:
            status = infer_status(method, path, response_body)

        raw.append(
            {
                "seed": seed,
                "resource": example_resource,
                "method": method,
                "path": path,
                "query": parse_qsl(query_string, keep_blank_values=True),
                "request_body": request_body,
                "status": status,
                "response_body": response_body,
                "response_content_type": _header(response_headers, "Content-Type"),
                "request_headers": request_headers,
                "response_headers": response_headers,
                "line": line,
            }
        )

    seen: Counter[str] = Counter()
    examples: list[SeedExample] = []
    for fields in raw:
        base = f"{fields['method']} {fields['path']}"
        seen[base] += 1
        title = base if seen[base] == 1 else f"{base} #{seen[base]}"
        examples.append(SeedExample(title=title, **fields))
    return examples


@functools.cache
def _load(seeds_dir: Path) -> tuple[SeedExample, ...]:
    examples: list[SeedExample] = []
    for stem, resource in SEED_RESOURCES.items():
        path = seeds_dir / f"{stem}.txt"
        examples.extend(parse_seed(path.read_text(encoding="utf-8"), stem, resource))
    return tuple(examples)


def load_examples(seeds_dir: Path | None = None) -> list[SeedExample]:
    """All examples of the seed documents, in file order (parsed once, then cached).

    ``seeds_dir`` defaults to :data:`SEEDS_DIR`.  A new list is returned on each call, so
    callers may modify it freely.
    """
    return list(_load((seeds_dir or SEEDS_DIR).resolve()))


def examples_for(
    resource: str,
    method: str | None = None,
    path_suffix: str | None = None,
) -> list[SeedExample]:
    """Examples of ``resource``, optionally only those with ``method`` (case-insensitive)
    and whose path ends with ``path_suffix`` (e.g. ``"/send"`` or ``"preview"``)."""
    return [
        example
        for example in load_examples()
        if example.resource == resource
        and (method is None or example.method == method.upper())
        and (path_suffix is None or example.path.endswith(path_suffix))
    ]
