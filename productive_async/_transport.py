"""HTTP transport: one aiohttp session, auth headers, timeouts, rate limits, retries, errors.

Protocol rules encoded here (``shared/productive-api/README.md``): every request sends
``X-Auth-Token`` and ``X-Organization-Id`` and ``Content-Type: application/vnd.api+json``
("Base URL and auth", "Media type"); bulk requests set ``Content-Type`` and ``Accept`` to
``application/vnd.api+json; ext=bulk`` ("Bulk"); a 429 carries ``X-RateLimit-Reset`` in seconds
and is rejected before any work is done ("Rate limits").

Retry table (:class:`RetryPolicy`):

=============================================  ==================================================
failure                                        retried for
=============================================  ==================================================
429 Too many requests                          every method, if the reset is within
                                               ``max_rate_limit_wait`` (after the reset; pauses
                                               the class); else RateLimitError at once
429 Server time limit exceeded                 every method, if the reset is within
                                               ``max_server_time_wait``; else RateLimitError
connection not opened (refused, DNS, connect   every method
timeout)
5xx, read timeout, connection reset/dropped    GET, HEAD, DELETE and actions the registry marks
after sending                                  idempotent; never POST/PATCH otherwise
=============================================  ==================================================

Backoff is exponential with full jitter (``uniform(0, min(cap, base * 2**attempt))``).
The reset of a 429 is read from ``X-RateLimit-Reset``, else ``Retry-After`` (see
:func:`_retry_after`: seconds, an epoch timestamp or an HTTP-date). The token is never logged,
put in an exception or shown in a repr.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import datetime as dt
import email.utils
import importlib.metadata
import logging
import math
import platform
import random
import time
from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp
import attrs
import orjson
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from ._clock import Clock
from ._errors import (
    APIError,
    DecodeError,
    InvalidRequestError,
    ProductiveError,
    RateLimitError,
    TransportError,
    error_class_for,
    parse_error_document,
)
from ._ratelimit import Gate

log = logging.getLogger("productive_async")


def _version() -> str:
    try:
        return importlib.metadata.version("productive-async")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


JSONAPI = "application/vnd.api+json"
JSONAPI_BULK = "application/vnd.api+json; ext=bulk"
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "DELETE", "OPTIONS"})
DEFAULT_BASE_URL = "https://api.productive.io/api/v2/"
USER_AGENT = (f"productive-async/{_version()} Python/{platform.python_version()} "
              f"aiohttp/{aiohttp.__version__}")
#: Largest answer body read (after gzip inflation), in bytes, unless the client says otherwise.
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024


def _positive_or_none(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 \
            or value == float("inf"):
        raise InvalidRequestError(
            f"Timeouts.{attribute.name} must be a finite number of seconds > 0 or None (no "
            f"limit), not {value!r}"
        )


@attrs.frozen
class Timeouts:
    """Per-attempt timeouts in seconds: ``total`` for one request/response, ``connect`` for
    opening a connection; ``None`` for no limit. Zero, negative or infinite values raise
    :class:`~productive_async.InvalidRequestError` (aiohttp would read 0 as "no limit").

    Neither includes the time spent waiting for a rate-limit slot, nor (on the sessions the
    client creates) the time spent waiting for a free pooled connection."""

    total: float | None = attrs.field(default=60.0, validator=_positive_or_none)
    connect: float | None = attrs.field(default=10.0, validator=_positive_or_none)

    def client_timeout(self) -> aiohttp.ClientTimeout:
        """The part aiohttp enforces: opening the socket (``sock_connect``). ``total`` is
        enforced by the transport from the moment a connection is in hand."""
        return aiohttp.ClientTimeout(total=None, connect=None, sock_connect=self.connect)


@attrs.frozen
class RetryPolicy:
    """When and how often to retry (see the module's retry table).

    ``max_retries``: retries after the first attempt (0 disables retrying). ``backoff_base`` and
    ``backoff_cap`` (seconds) shape the full-jitter backoff. ``max_rate_limit_wait`` (seconds,
    15 minutes by default): the longest "Too many requests" reset the client waits out (and
    pauses its rate class for); a 429 whose reset is further away raises
    :class:`~productive_async.RateLimitError` at once, with ``retry_after`` in seconds.
    ``max_server_time_wait`` (seconds): the same for "Server time limit exceeded".
    ``default_reset`` (seconds): the pause after a 429 that names no (readable) reset time.
    """

    max_retries: int = 5
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    max_server_time_wait: float = 60.0
    default_reset: float = 10.0
    max_rate_limit_wait: float = 900.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Seconds to sleep before retry number ``attempt`` (1-based): full jitter."""
        return rng.uniform(0.0, min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1)))


@attrs.frozen
class ResponseInfo:
    """The answer behind a result: ``status``, ``headers`` (case-insensitive), the ``method``
    and ``path`` of the request, and :attr:`request_id`. On pages (``Page.response``),
    documents (``Document.response``) and single-record results (``pa.response_of(record)``)."""

    status: int
    headers: Mapping[str, str] = attrs.field(repr=False)
    method: str
    path: str

    @property
    def request_id(self) -> str | None:
        """The ``X-Request-Id`` header (what Productive's support asks for), or ``None``."""
        return self.headers.get("X-Request-Id")


class Response:
    """One answer as received: ``status``, ``headers`` (case-insensitive, so
    ``headers["x-request-id"]`` and ``headers["X-Request-Id"]`` are the same), ``content`` (the
    body's bytes), ``content_type``, and the ``method`` and ``path`` of the request.

    The JSON body is parsed on first use of :attr:`body` (prefetched pages stay bytes until the
    consumer reaches them). A 2xx body is never trusted blindly: an ``errors`` document raises.
    """

    __slots__ = ("_body", "_parsed", "content", "content_type", "headers", "method", "path",
                 "status")

    def __init__(self, status: int, headers: Mapping[str, str], content: bytes,
                 content_type: str = "", *, method: str = "", path: str = "") -> None:
        self.status = status
        self.headers: Mapping[str, str] = (
            headers if isinstance(headers, CIMultiDictProxy) else CIMultiDictProxy(
                CIMultiDict(headers))
        )
        self.content = content
        self.content_type = content_type
        self.method = method
        self.path = path
        self._body: Any = None
        self._parsed = False

    @property
    def info(self) -> ResponseInfo:
        """What a caller may keep of this answer: status, headers, request id."""
        return ResponseInfo(self.status, CIMultiDict(self.headers), self.method, self.path)

    def __repr__(self) -> str:
        return (f"<Response {self.method} {self.path} -> {self.status} "
                f"({len(self.content)} bytes)>")

    @property
    def body(self) -> Any:
        """The JSON body (``None`` when empty), parsed once.

        Raises :class:`~productive_async.DecodeError` for a 2xx body that is not JSON, and the
        :class:`~productive_async.APIError` it describes for a 2xx ``errors`` document (an
        error document is never a success; JSON:API 1.1, "Top Level": ``data`` and ``errors``
        never coexist)."""
        if not self._parsed:
            self._body = self._parse()
            self._parsed = True
        return self._body

    def raise_for_errors(self) -> None:
        """For answers whose body the SDK does not read (DELETE, actions answering nothing):
        a success whatever the body is, unless it is an ``errors`` document."""
        if self.content[:1] in (b"{", b" ", b"\n", b"\r", b"\t"):
            with contextlib.suppress(DecodeError):  # not JSON: a success all the same
                self.body  # noqa: B018  # parsing raises for an errors document

    def _parse(self) -> Any:
        if not self.content:
            return None
        try:
            body = orjson.loads(self.content)
        except orjson.JSONDecodeError:
            if self.status < 400:
                raise DecodeError(
                    f"{self.method} {self.path} -> {self.status}: body is not JSON "
                    f"({self.content_type or 'no content type'})"
                ) from None
            return None
        if self.status < 400 and isinstance(body, Mapping) and "errors" in body \
                and "data" not in body:
            errors = parse_error_document(body, 400)
            status = max((e.status for e in errors), default=400)
            raise error_class_for(status if status >= 400 else 400)(
                self.status, errors, method=self.method, path=self.path, headers=self.headers)
        return body


class _Secret:
    """Holds the token; its repr never shows it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "<secret>"

    __str__ = __repr__


#: A reset this large (in seconds) is an absolute epoch time (2001-09-09 on), not a delay...
_EPOCH_SECONDS = 1e9
#: ... and this large, an epoch time in milliseconds.
_EPOCH_MILLISECONDS = 1e11


def _retry_after(
    headers: Mapping[str, str], default: float, *, wall_time: float | None = None
) -> float:
    """Seconds until the API takes requests again: ``X-RateLimit-Reset``, else ``Retry-After``,
    else ``default``.

    Each header may hold seconds to wait, an absolute epoch time (in seconds from 1e9, in
    milliseconds from 1e11) or an HTTP-date (``Wed, 21 Oct 2026 07:28:00 GMT``); absolute times
    are turned into seconds from ``wall_time`` (default: now, ``time.time()``). The result is
    finite and >= 0 (a time in the past is 0); a header that is not a number or a date, or is
    not finite (``inf``, ``nan``), is skipped. Whether the wait is acceptable is the caller's
    decision (:attr:`RetryPolicy.max_rate_limit_wait`).
    """
    for name in ("X-RateLimit-Reset", "Retry-After"):
        value = headers.get(name)
        if value is None:
            continue
        seconds = _reset_seconds(value, time.time() if wall_time is None else wall_time)
        if seconds is not None:
            return seconds
    return default


def _reset_seconds(value: str, wall_time: float) -> float | None:
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        number = when.timestamp() - wall_time
    else:
        if not math.isfinite(number):
            return None
        if number >= _EPOCH_MILLISECONDS:
            number /= 1000.0
        if number >= _EPOCH_SECONDS:
            number -= wall_time
    return max(0.0, number)


class Transport:
    """Sends requests for a client. One per :class:`~productive_async.Productive`."""

    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        organization_id: str,
        gate: Gate,
        clock: Clock,
        retry: RetryPolicy,
        timeouts: Timeouts,
        session: aiohttp.ClientSession | None = None,
        feature_flags: Sequence[str] = (),
        user_agent: str | None = None,
        rng: random.Random | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self.base_url = _checked_base_url(base_url)
        _check_header_value("the API token", token)
        _check_header_value("the organization id", str(organization_id))
        if isinstance(max_response_bytes, bool) or not isinstance(max_response_bytes, int) \
                or max_response_bytes < 1:
            raise InvalidRequestError(
                f"max_response_bytes must be an int >= 1, not {max_response_bytes!r}")
        self.max_response_bytes = max_response_bytes
        self._token = _Secret(token)
        self.organization_id = str(organization_id)
        self.gate = gate
        self.clock = clock
        self.retry = retry
        self.timeouts = timeouts
        self._session = session
        self._owns_session = session is None
        self._loop: asyncio.AbstractEventLoop | None = None
        #: The transport that owns the HTTP session (``self`` unless made by :meth:`derive`).
        self._root = self
        self._closed = False
        self._headers = {
            "X-Organization-Id": self.organization_id,
            "Accept": JSONAPI,
            "Content-Type": JSONAPI,
            "User-Agent": user_agent or USER_AGENT,
        }
        if feature_flags:
            self._headers["X-Feature-Flags"] = ",".join(feature_flags)
        self._rng = rng or random.Random()
        #: Counters for diagnostics and benchmarks: attempts, retries, 429s received.
        self.stats: dict[str, int] = {"attempts": 0, "retries": 0, "rate_limited": 0}

    def __repr__(self) -> str:
        return f"<Transport {masked(self.base_url)} organization={self.organization_id}>"

    def derive(self, *, timeouts: Timeouts | None = None, retry: RetryPolicy | None = None
               ) -> Transport:
        """A transport with other ``timeouts``/``retry`` sharing this one's HTTP session, rate
        gate, counters and token (``Productive.with_options``)."""
        other = copy.copy(self)
        other.timeouts = timeouts or self.timeouts
        other.retry = retry or self.retry
        other._root = self._root
        return other

    def _get_session(self) -> aiohttp.ClientSession:
        if self._root is not self:
            return self._root._get_session()
        if self._closed:
            raise InvalidRequestError("the client is closed; open a new Productive client")
        loop = asyncio.get_running_loop()
        if self._session is not None and not self._session.closed \
                and self._loop not in (None, loop):
            if not self._owns_session:
                raise ProductiveError(
                    "the aiohttp session passed to the client belongs to another event loop; "
                    "create the session (and the client) in the loop that uses them")
            if self._loop is not None and not self._loop.is_closed() \
                    and self._loop.is_running():
                raise ProductiveError(
                    "this client is in use by another running event loop (another thread); "
                    "give each thread or event loop its own Productive client")
            # The loop that opened the session has ended (a second asyncio.run): its
            # connections died with it, so start afresh in this loop.
            self._session = None
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=100, ttl_dns_cache=300)
            trace = aiohttp.TraceConfig()
            trace.on_connection_queued_start.append(_queued_start)
            trace.on_connection_queued_end.append(_queued_end)
            self._session = aiohttp.ClientSession(connector=connector, trace_configs=[trace])
            self._owns_session = True
            # aiohttp re-sends an idempotent request once, silently, when a kept-alive
            # connection turns out closed. That attempt would bypass the rate gate (the server
            # would count a request the limiter never saw); our retry policy does the same job
            # through the gate. aiohttp has no public switch: its own test client sets this.
            if hasattr(self._session, "_retry_connection"):
                self._session._retry_connection = False
        self._loop = loop
        return self._session

    async def close(self) -> None:
        """Close the HTTP session if this transport opened it. Requests waiting in the rate
        gate fail at once, and later requests, with
        :class:`~productive_async.InvalidRequestError` ("the client is closed")."""
        if self._root is not self:
            await self._root.close()
            return
        self._closed = True
        self.gate.close()
        await self.gate.wait_closed()
        if self._session is not None and self._owns_session and not self._session.closed:
            await self._session.close()
        self._session = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] = (),
        json: Any = None,
        rate_class: str | None = None,
        idempotent: bool | None = None,
        bulk: bool = False,
        timeouts: Timeouts | None = None,
    ) -> Response:
        """Send ``method path`` (path relative to the base URL), retrying per the policy.

        Returns the 2xx :class:`Response`. Raises an :class:`~productive_async.APIError`
        subclass for an error status, :class:`~productive_async.TransportError` when no answer
        came, :class:`~productive_async.DecodeError` for a 2xx body that is not JSON.
        """
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        url = self._url(method, path)
        if params:
            url = url.with_query(list(params))
        headers = dict(self._headers)  # the token is added in _send, never kept in a variable
        if bulk:
            headers["Content-Type"] = headers["Accept"] = JSONAPI_BULK
        try:
            data = orjson.dumps(json) if json is not None else None
        except TypeError as exc:
            raise InvalidRequestError(f"{method} {path}: the body cannot be sent as JSON: {exc}"
                                      ) from None
        classes = self.gate.classes_for(rate_class)
        timeouts = timeouts or self.timeouts
        attempt = 0
        while True:
            attempt += 1
            slot = await self.gate.acquire(classes)
            self.stats["attempts"] += 1
            try:
                try:
                    response = await self._send(method, url, path, headers, data, timeouts)
                finally:
                    # The answer, the failure or the cancellation is here: the server has seen
                    # the request by now if it ever will (bar one abandoned in flight, which
                    # the window's margin covers), so its slot counts from this moment.
                    self.gate.release(slot)
            except TransportError as exc:
                if not exc.retryable or attempt > self.retry.max_retries \
                        or (exc.sent and not idempotent):
                    raise
                await self._backoff(method, path, attempt, str(exc))
                continue
            if response.status < 300:
                return response
            if response.status < 400:
                raise self._redirect(method, path, response)
            error = self._error(method, path, response)
            if response.status == 429:
                self.stats["rate_limited"] += 1
                assert isinstance(error, RateLimitError)
                wait = error.retry_after if error.retry_after is not None else 0.0
                if error.server_time_limit:
                    if wait > self.retry.max_server_time_wait:
                        raise error
                    tripped = classes
                else:
                    if wait > self.retry.max_rate_limit_wait:
                        # An absurd or far reset: waiting would hang every call of the class.
                        raise error
                    matched = self.gate.class_matching(error.limit, error.period)
                    tripped = (matched,) if matched else classes
                self.gate.pause(tripped, self.clock.time() + wait)
                if attempt > self.retry.max_retries:
                    raise error
                self.stats["retries"] += 1
                log.warning(
                    "retrying %s %s (attempt %d of %d): 429 %s; classes %s paused %.2f s",
                    method, path, attempt + 1, self.retry.max_retries + 1,
                    error.errors[0].title if error.errors else "", ",".join(tripped), wait,
                )
                continue
            if response.status >= 500 and idempotent and attempt <= self.retry.max_retries:
                await self._backoff(method, path, attempt, f"{response.status} from server")
                continue
            raise error

    async def _backoff(self, method: str, path: str, attempt: int, reason: str) -> None:
        delay = self.retry.backoff(attempt, self._rng)
        self.stats["retries"] += 1
        log.warning(
            "retrying %s %s (attempt %d of %d) in %.2f s: %s",
            method, path, attempt + 1, self.retry.max_retries + 1, delay, reason,
        )
        await self.clock.sleep(delay)

    def _error(self, method: str, path: str, response: Response) -> APIError:
        errors = parse_error_document(response.body, response.status)
        cls = error_class_for(response.status)
        if cls is RateLimitError:
            return RateLimitError(
                response.status, errors, method=method, path=path, headers=response.headers,
                retry_after=_retry_after(response.headers, self.retry.default_reset),
            )
        return cls(response.status, errors, method=method, path=path, headers=response.headers,
                   hint=self._hint(response.status, errors))

    def _hint(self, status: int, errors: Sequence[Any]) -> str | None:
        """What to check, for the failures whose cause is the client's configuration."""
        if status == 401:
            return (f"the API refused the token or the organization id "
                    f"(X-Organization-Id: {self.organization_id}); a token belongs to one "
                    "organization: check both (Productive API reference, 'Authentication')")
        if status == 404 and not self.base_url.path.rstrip("/").endswith("/api/v2"):
            return (f"the base URL {masked(self.base_url)} does not end with /api/v2/; the "
                    f"API's is {DEFAULT_BASE_URL}")
        return None

    def _url(self, method: str, path: str) -> URL:
        """``path`` resolved against the base URL; it must stay under it (the token goes only
        where the client was pointed)."""
        url = self.base_url.join(URL(path))
        base = self.base_url
        if (url.scheme, url.host, url.port) != (base.scheme, base.host, base.port) \
                or not url.path.startswith(base.path):
            raise InvalidRequestError(
                f"{method} {path}: resolves outside the base URL {masked(base)}; give a path "
                "relative to it")
        return url

    def _redirect(self, method: str, path: str, response: Response) -> APIError:
        location = response.headers.get("Location", "")
        target = masked(URL(location)) if location else "no Location"
        error = APIError(response.status, [], method=method, path=path,
                         headers=response.headers)
        error.args = (
            f"{method} {path} -> {response.status}: redirected to {target}; not followed (the "
            "API does not redirect, and the token is only sent to the base URL): check "
            "base_url",
        )
        return error

    async def _send(
        self,
        method: str,
        url: URL,
        path: str,
        headers: Mapping[str, str],
        data: bytes | None,
        timeouts: Timeouts,
    ) -> Response:
        session = self._get_session()
        started = time.perf_counter()
        failure: TransportError | None = None
        deadline = _Deadline()
        try:
            async with asyncio.timeout(timeouts.total) as deadline.timeout, session.request(
                method, url, headers={**headers, "X-Auth-Token": self._token.reveal()},
                data=data, timeout=timeouts.client_timeout(), allow_redirects=False,
                raise_for_status=False, trace_request_ctx=deadline,
            ) as resp:
                raw = await self._read(resp, method, path)
                status = resp.status
                content_type = resp.headers.get("Content-Type", "")
                resp_headers = CIMultiDictProxy(resp.headers.copy())
        except TransportError as exc:
            failure = exc
        except aiohttp.ClientConnectorCertificateError as exc:
            failure = TransportError(
                f"TLS certificate verification failed for {exc.host}: "
                f"{type(exc.certificate_error).__name__}", method=method, path=path,
                sent=False, retryable=False)
        except aiohttp.ClientSSLError as exc:
            failure = TransportError(f"TLS failed ({type(exc).__name__})", method=method,
                                     path=path, sent=False, retryable=False)
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            failure = TransportError(
                f"could not connect to {url.host}:{url.port} ({_cause(exc)})", method=method,
                path=path, sent=False)
        except TimeoutError:
            failure = TransportError(
                f"no answer within {timeouts.total} s (Timeouts.total)", method=method,
                path=path, sent=True)
        except aiohttp.InvalidURL as exc:
            failure = TransportError(f"invalid URL ({type(exc).__name__})", method=method,
                                     path=path, sent=False, retryable=False)
        except aiohttp.ClientError as exc:
            failure = TransportError(
                f"connection to {url.host}:{url.port} failed ({_cause(exc)})", method=method,
                path=path, sent=True)
        if failure is not None:
            # Raised here, outside the except blocks: aiohttp's exception (whose request info
            # holds the request headers, the token among them) is not chained as __context__.
            raise failure
        log.debug(
            "%s %s -> %d in %.0f ms", method, path, status, (time.perf_counter() - started) * 1e3
        )
        return Response(status, resp_headers, raw, content_type, method=method, path=path)

    async def _read(self, resp: aiohttp.ClientResponse, method: str, path: str) -> bytes:
        """The body, inflated, refused past :attr:`max_response_bytes` while reading."""
        limit = self.max_response_bytes
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_chunked(1 << 16):
            size += len(chunk)
            if size > limit:
                raise TransportError(
                    f"answer larger than max_response_bytes ({limit:,} bytes); not read further",
                    method=method, path=path, sent=True, retryable=False)
            chunks.append(chunk)
        return b"".join(chunks)


class _Deadline:
    """The ``Timeouts.total`` of one attempt; pushed back by the time spent queued for a
    pooled connection (aiohttp trace hooks, sessions the client creates)."""

    __slots__ = ("queued_at", "timeout")

    def __init__(self) -> None:
        self.timeout: asyncio.Timeout | None = None
        self.queued_at = 0.0

    def __deepcopy__(self, memo: Any) -> _Deadline:
        return self  # it holds the event loop (request recorders such as aioresponses copy)


async def _queued_start(session: aiohttp.ClientSession, context: Any, params: Any) -> None:
    deadline = context.trace_request_ctx
    if isinstance(deadline, _Deadline):
        deadline.queued_at = asyncio.get_running_loop().time()


async def _queued_end(session: aiohttp.ClientSession, context: Any, params: Any) -> None:
    deadline = context.trace_request_ctx
    if isinstance(deadline, _Deadline) and deadline.timeout is not None:
        when = deadline.timeout.when()
        if when is not None:
            waited = asyncio.get_running_loop().time() - deadline.queued_at
            deadline.timeout.reschedule(when + waited)


def _cause(exc: BaseException) -> str:
    """The kind of a connection failure and its OS reason, without request details."""
    reason = getattr(exc, "os_error", None) or exc.__cause__
    text = type(exc).__name__
    if isinstance(reason, OSError) and reason.strerror:
        text += f": {reason.strerror}"
    return text


def masked(url: URL) -> str:
    """``url`` without its userinfo's password (a URL may carry credentials)."""
    if url.password is not None:
        url = url.with_password("***")
    return str(url)


def _checked_base_url(base_url: str) -> URL:
    if not isinstance(base_url, str):
        raise InvalidRequestError(f"base_url must be a string, not {type(base_url).__name__}")
    url = URL(base_url if base_url.endswith("/") else base_url + "/")
    if url.scheme not in ("http", "https") or not url.host:
        raise InvalidRequestError(
            f"base_url must be an http(s) URL such as {DEFAULT_BASE_URL}, not {masked(url)!r}")
    if url.query_string or url.fragment:
        raise InvalidRequestError(
            f"base_url must not carry a query or fragment: {masked(url)!r}")
    return url


def _check_header_value(what: str, value: str) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidRequestError(f"{what} is required")
    bad = next((c for c in value if not "!" <= c <= "~"), None)
    if bad is not None:
        raise InvalidRequestError(
            f"{what} contains {'whitespace' if bad.isspace() else 'a non-printable character'} "
            f"({bad!r} at position {value.index(bad)}); a trailing newline from a file or an "
            "environment variable?")
