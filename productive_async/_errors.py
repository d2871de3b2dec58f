"""Every exception the SDK raises, in one place.

::

    ProductiveError                      base of everything below
    ├── APIError                         the API answered with an error status (.status, .errors)
    │   ├── BadRequestError              400 unsupported filter / sort / include / group
    │   ├── AuthenticationError          401 missing or invalid token (code invalid_auth_token)
    │   ├── PermissionDeniedError        403 access denied (e.g. restricted_email_in_trialing)
    │   ├── NotFoundError                404 record (or route) not found
    │   ├── ConflictError                409 archive/restore conflicts, approved time entries
    │   ├── ValidationError              422 invalid attribute, one error object per field
    │   ├── RateLimitError               429 too many requests / server time limit exceeded
    │   └── ServerError                  5xx
    ├── TransportError                   connection failures and timeouts (no answer)
    ├── RateBackendError                 the shared rate budget (Redis) could not be reached
    ├── InvalidRequestError              the call was rejected before sending (bad filter shape,
    │                                    unknown operator, unknown action ...); also a ValueError
    ├── UnknownResourceError             no such collection in the registry; also a KeyError
    ├── DecodeError                      the answer was not a JSON:API document we can read
    ├── DriftError                       a list() saw the collection change while paging
    ├── BatchRejectedError               a bulk item not applied because its batch was rejected
    │                                    for another item (.batch_error)
    ├── NotAttemptedError                a bulk item not sent because the run stopped early
    └── BulkError                        a bulk operation had failed items (.result has each
                                         item's outcome); raised by BulkResult.raise_for_errors

Error status codes and bodies follow ``shared/productive-api/README.md`` ("Errors", "Rate limits").
No exception ever carries the API token: requests are described by method and path only.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from multidict import CIMultiDict, CIMultiDictProxy


class ProductiveError(Exception):
    """Base class of every exception raised by productive-async."""


@attrs.frozen
class ErrorObject:
    """One JSON:API error object of an error document.

    ``status`` is always an ``int`` (the API sends a number or a string); ``pointer`` is
    ``source.pointer`` (e.g. ``data/attributes/currency``) or ``None``; ``meta`` keeps every
    other member the API sent (for a 429: ``limit`` and ``period`` in seconds).
    """

    status: int
    title: str | None = None
    detail: str | None = None
    code: str | None = None
    pointer: str | None = None
    meta: Mapping[str, Any] = attrs.field(factory=dict)

    @classmethod
    def from_json(cls, raw: Mapping[str, Any], default_status: int) -> ErrorObject:
        """Parse one member of ``errors``; tolerant of missing or odd members."""
        try:
            status = int(raw.get("status", default_status))
        except (TypeError, ValueError):
            status = default_status
        source = raw.get("source")
        pointer = source.get("pointer") if isinstance(source, Mapping) else None
        known = {"status", "title", "detail", "code", "source"}
        meta = {k: v for k, v in raw.items() if k not in known}
        return cls(
            status=status,
            title=_str_or_none(raw.get("title")),
            detail=_str_or_none(raw.get("detail")),
            code=_str_or_none(raw.get("code")),
            pointer=_str_or_none(pointer),
            meta=meta,
        )

    def __str__(self) -> str:
        title, detail = self.title, self.detail
        if title and detail and detail.lower().startswith(title.lower()):
            title = None  # "Unsupported filter: bogus" says it all
        parts = [p for p in (title, detail) if p]
        text = ": ".join(parts) if parts else f"status {self.status}"
        if self.pointer:
            text += f" ({self.pointer})"
        if self.code:
            text += f" [{self.code}]"
        return text


def _str_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def _number_or_none(value: object) -> float | None:
    """A finite number from a number or a numeric string (``10``, ``"10"``, ``"2.5"``), else
    None (booleans, other strings, containers, ``nan``, ``inf``)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


class APIError(ProductiveError):
    """The API answered with an error status.

    Attributes: ``status`` (HTTP status, int), ``errors`` (list of :class:`ErrorObject`, possibly
    empty when the body was not an error document), ``method`` and ``path`` of the request
    (path relative to the base URL, query string excluded), ``headers`` (response headers,
    case-insensitive), ``hint`` (what to check, for configuration mistakes such as a wrong
    organization id or base URL) and ``request_id`` (the ``X-Request-Id`` header Productive
    sends with every answer: quote it to Productive's support).
    """

    status: int

    def __init__(
        self,
        status: int,
        errors: Sequence[ErrorObject],
        *,
        method: str,
        path: str,
        headers: Mapping[str, str] | None = None,
        hint: str | None = None,
    ) -> None:
        self.status = status
        self.errors = list(errors)
        self.method = method
        self.path = path
        self.headers: Mapping[str, str] = CIMultiDictProxy(CIMultiDict(headers or {}))
        self.hint = hint
        summary = "; ".join(str(e) for e in self.errors) or "no error details"
        message = f"{method} {path} -> {status}: {summary}"
        if hint:
            message += f" ({hint})"
        if self.request_id:
            message += f" [request id {self.request_id}]"
        super().__init__(message)

    @property
    def request_id(self) -> str | None:
        """The answer's ``X-Request-Id`` header, or ``None``."""
        return self.headers.get("X-Request-Id")

    def pointers(self) -> list[str]:
        """The ``source.pointer`` of each error that has one (e.g. for 422 field errors)."""
        return [e.pointer for e in self.errors if e.pointer]


class BadRequestError(APIError):
    """400: unsupported filter, sort, include or group (``Unsupported Filter`` ...)."""


class AuthenticationError(APIError):
    """401: the token or organization id is missing or invalid."""


class PermissionDeniedError(APIError):
    """403: the token's user may not do this (also ``restricted_email_in_trialing``)."""


class NotFoundError(APIError):
    """404: no such record, or no such route (bulk without the ``ext=bulk`` Accept header)."""


class ConflictError(APIError):
    """409: the record's state forbids the change (archive/restore, approved time entries)."""


class ValidationError(APIError):
    """422: invalid attributes; one :class:`ErrorObject` per field, with its ``pointer``."""


class RateLimitError(APIError):
    """429 that was not (or could no longer be) waited out.

    ``retry_after`` is the number of seconds after which the API accepts requests again, from
    ``X-RateLimit-Reset`` (or ``Retry-After``; the client's ``RetryPolicy.default_reset`` when
    neither is readable), or ``None`` when unknown. ``limit`` (requests, int) and ``period``
    (seconds, int or float) come from the error body when present, as numbers or numeric
    strings; anything else is ``None`` (the raw values stay in ``errors[0].meta``).
    """

    def __init__(self, *args: Any, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.retry_after = retry_after
        first = self.errors[0].meta if self.errors else {}
        period = _number_or_none(first.get("period"))
        limit = _number_or_none(first.get("limit"))
        self.limit: int | None = int(limit) if limit is not None and limit.is_integer() else None
        self.period: float | None = period if period is not None and period > 0 else None

    @property
    def server_time_limit(self) -> bool:
        """True for the processing-time budget ("Server time limit exceeded")."""
        return any((e.title or "").lower().startswith("server time limit") for e in self.errors)


class ServerError(APIError):
    """5xx: the API failed; retried automatically only when the request is idempotent."""


class TransportError(ProductiveError):
    """No answer: connection refused or reset, DNS failure, or a timeout.

    ``method`` and ``path`` name the request; ``sent`` tells whether the request may have
    reached the server (False only when the connection could not be opened); ``retryable`` is
    False for failures a retry cannot mend (TLS certificate, answer too large).
    """

    def __init__(self, message: str, *, method: str, path: str, sent: bool,
                 retryable: bool = True) -> None:
        self.method = method
        self.path = path
        self.sent = sent
        self.retryable = retryable
        super().__init__(f"{method} {path}: {message}")


class RateBackendError(ProductiveError):
    """The shared rate budget (a :class:`~productive_async.RedisBackend`) could not be
    reached, and its ``on_unavailable`` policy says not to go on without it (``"raise"`` at
    once, ``"wait"`` after its bound). Nothing was sent. The message names the Redis address
    (without a password) and the cause."""


class InvalidRequestError(ProductiveError, ValueError):
    """The call was rejected before anything was sent; the message says what was wrong."""


class UnknownResourceError(ProductiveError, KeyError):
    """No collection of that name is registered. ``known`` lists the ones that are."""

    def __init__(self, name: str, known: Sequence[str]) -> None:
        self.name = name
        self.known = list(known)
        super().__init__(name)

    def __str__(self) -> str:
        close = difflib.get_close_matches(self.name, self.known, n=3, cutoff=0.6)
        hint = f"did you mean {' or '.join(repr(c) for c in close)}?" if close else (
            f"{len(self.known)} are known")
        return (f"unknown resource {self.name!r}; {hint} (`productive-async resources` lists "
                "them all)")


class DecodeError(ProductiveError):
    """The API answered 2xx with a body that is not the JSON (JSON:API) document expected."""


class DriftError(ProductiveError):
    """A page-number ``list()`` saw its pages stop adding up: the collection changed while it
    was paged (records created, deleted or re-sorted meanwhile) or the server's pages disagree
    with its own ``meta``.

    ``path`` is the collection; ``reason`` says what was seen (``total_count`` changed, a
    record on two pages, a short or empty page before the last); ``expected`` and ``seen``
    are the ``meta.total_count`` values of the first page and of the page where a count change
    showed (``None`` for the other reasons). Re-run the pull, or use ``pagination="cursor"``.
    """

    def __init__(self, path: str, reason: str, *, expected: int | None = None,
                 seen: int | None = None) -> None:
        self.path = path
        self.reason = reason
        self.expected = expected
        self.seen = seen
        super().__init__(
            f"{path}: {reason}; records may be missing or duplicated (re-run the pull, or use "
            "pagination='cursor' for a pull that stays consistent under writes)"
        )


class BatchRejectedError(ProductiveError):
    """A bulk item that was not applied because the API rejected its whole batch over other
    items; ``batch_error`` is the batch's :class:`APIError`."""

    def __init__(self, batch_error: APIError) -> None:
        self.batch_error = batch_error
        super().__init__(f"not applied: the batch was rejected ({batch_error})")


class NotAttemptedError(ProductiveError):
    """A bulk item whose fate the SDK cannot vouch for: never sent because the run stopped at
    an earlier item, or in a batch that failed with something other than an API answer."""


class BulkError(ProductiveError):
    """Some items of a bulk operation failed. ``result`` is the whole
    :class:`~productive_async.BulkResult` (every item's outcome, in input order)."""

    def __init__(self, result: Any, failed: int, total: int) -> None:
        self.result = result
        first = next((o for o in result if o.error is not None), None)
        detail = f"; first: item {first.index}: {first.error}" if first is not None else ""
        super().__init__(f"{failed} of {total} items failed{detail}")


_STATUS_CLASSES: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: ValidationError,
    429: RateLimitError,
}


def error_class_for(status: int) -> type[APIError]:
    """The :class:`APIError` subclass for an HTTP status."""
    if status >= 500:
        return ServerError
    return _STATUS_CLASSES.get(status, APIError)


def parse_error_document(body: object, status: int) -> list[ErrorObject]:
    """The error objects of an error document, or ``[]`` if ``body`` is not one."""
    if not isinstance(body, Mapping):
        return []
    errors = body.get("errors")
    if not isinstance(errors, list):
        return []
    return [ErrorObject.from_json(e, status) for e in errors if isinstance(e, Mapping)]
