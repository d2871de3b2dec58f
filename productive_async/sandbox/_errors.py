"""The sandbox's refusals: an exception carrying the API's error document, and its error objects.

Error objects follow ``spec/API-CONVENTIONS.md`` ("Errors"): ``{"status", "code"?, "title",
"detail", "source": {"pointer"}?}``, statuses as strings, pointers without a leading slash
(``data/attributes/<name>``). Text the request sent that an error repeats is cut to
:data:`ECHO_LIMIT` characters, so a huge parameter is not sent back whole.
"""

from __future__ import annotations

from typing import Any

#: At most this many characters of request text are repeated in an error's detail.
ECHO_LIMIT = 80


def error(status: int, title: str, detail: str, *, code: str | None = None,
          pointer: str | None = None) -> dict[str, Any]:
    """One error object in the API's shape."""
    item: dict[str, Any] = {"status": str(status)}
    if code:
        item["code"] = code
    item["title"] = title
    item["detail"] = detail
    if pointer is not None:
        item["source"] = {"pointer": pointer}
    return item


def clip(value: Any) -> str:
    """``str(value)``, cut to at most :data:`ECHO_LIMIT` characters."""
    text = str(value)
    return text if len(text) <= ECHO_LIMIT else text[:ECHO_LIMIT - 3] + "..."


def shown(value: Any) -> str:
    """``value`` as an error detail quotes it: its ``repr``, cut to :data:`ECHO_LIMIT`."""
    return clip(repr(value))


class RequestError(Exception):
    """A request the API refuses: the HTTP ``status`` and the ``errors`` of its answer."""

    def __init__(self, status: int, errors: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(str(e.get("detail")) for e in errors))
        self.status = status
        self.errors = errors
