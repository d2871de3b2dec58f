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

import datetime as dt
import email.utils
import logging
import math
import random
import time
from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp
import attrs
import orjson
from yarl import URL

from ._clock import Clock
from ._errors import (
    APIError,
    DecodeError,
    InvalidRequestError,
    RateLimitError,
    TransportError,
    error_class_for,
    parse_error_document,
)
from ._ratelimit import RateGate

log = logging.getLogger("productive_async")

JSONAPI = "application/vnd.api+json"
JSONAPI_BULK = "application/vnd.api+json; ext=bulk"
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "DELETE", "OPTIONS"})


@attrs.frozen
class Timeouts:
    """Per-attempt timeouts in seconds: ``total`` for one request/response, ``connect`` for
    opening a connection. Time spent waiting for a rate-limit slot is not included."""

    total: float | None = 60.0
    connect: float | None = 10.0

    def client_timeout(self) -> aiohttp.ClientTimeout:
        """These timeouts as aiohttp's."""
        return aiohttp.ClientTimeout(total=self.total, connect=self.connect)


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
class Response:
    """A decoded answer: status, headers, JSON body (``None`` when empty), content type."""

    status: int
    headers: Mapping[str, str]
    body: Any
    content_type: str


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
        gate: RateGate,
        clock: Clock,
        retry: RetryPolicy,
        timeouts: Timeouts,
        session: aiohttp.ClientSession | None = None,
        feature_flags: Sequence[str] = (),
        user_agent: str = "productive-async",
        rng: random.Random | None = None,
    ) -> None:
        if not base_url.endswith("/"):
            base_url += "/"
        self.base_url = URL(base_url)
        self._token = _Secret(token)
        self.organization_id = str(organization_id)
        self.gate = gate
        self.clock = clock
        self.retry = retry
        self.timeouts = timeouts
        self._session = session
        self._owns_session = session is None
        self._closed = False
        self._headers = {
            "X-Organization-Id": self.organization_id,
            "Accept": JSONAPI,
            "Content-Type": JSONAPI,
            "User-Agent": user_agent,
        }
        if feature_flags:
            self._headers["X-Feature-Flags"] = ",".join(feature_flags)
        self._rng = rng or random.Random()
        #: Counters for diagnostics and benchmarks: attempts, retries, 429s received.
        self.stats: dict[str, int] = {"attempts": 0, "retries": 0, "rate_limited": 0}

    def __repr__(self) -> str:
        return f"<Transport {self.base_url} organization={self.organization_id}>"

    def _get_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise InvalidRequestError("the client is closed; open a new Productive client")
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=100, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(connector=connector)
            self._owns_session = True
            # aiohttp re-sends an idempotent request once, silently, when a kept-alive
            # connection turns out closed. That attempt would bypass the rate gate (the server
            # would count a request the limiter never saw); our retry policy does the same job
            # through the gate. aiohttp has no public switch: its own test client sets this.
            if hasattr(self._session, "_retry_connection"):
                self._session._retry_connection = False
        return self._session

    async def close(self) -> None:
        """Close the HTTP session if this transport opened it. Requests waiting in the rate
        gate fail at once, and later requests, with
        :class:`~productive_async.InvalidRequestError` ("the client is closed")."""
        self._closed = True
        self.gate.close()
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
        url = self.base_url.join(URL(path))
        if params:
            url = url.with_query(list(params))
        headers = dict(self._headers)
        headers["X-Auth-Token"] = self._token.reveal()
        if bulk:
            headers["Content-Type"] = headers["Accept"] = JSONAPI_BULK
        data = orjson.dumps(json) if json is not None else None
        classes = self.gate.classes_for(rate_class)
        timeout = (timeouts or self.timeouts).client_timeout()
        attempt = 0
        while True:
            attempt += 1
            slot = await self.gate.acquire(classes)
            self.stats["attempts"] += 1
            try:
                try:
                    response = await self._send(method, url, path, headers, data, timeout)
                finally:
                    # The answer, the failure or the cancellation is here: the server has seen
                    # the request by now if it ever will (bar one abandoned in flight, which
                    # the window's margin covers), so its slot counts from this moment.
                    self.gate.release(slot)
            except TransportError as exc:
                if attempt > self.retry.max_retries or (exc.sent and not idempotent):
                    raise
                await self._backoff(method, path, attempt, str(exc))
                continue
            if response.status < 400:
                return response
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
        return cls(response.status, errors, method=method, path=path, headers=response.headers)

    async def _send(
        self,
        method: str,
        url: URL,
        path: str,
        headers: Mapping[str, str],
        data: bytes | None,
        client_timeout: aiohttp.ClientTimeout,
    ) -> Response:
        session = self._get_session()
        started = time.perf_counter()
        try:
            async with session.request(
                method, url, headers=headers, data=data, timeout=client_timeout,
                allow_redirects=False,
            ) as resp:
                raw = await resp.read()
                status = resp.status
                content_type = resp.headers.get("Content-Type", "")
                resp_headers = {k: v for k, v in resp.headers.items()}
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            raise TransportError(
                f"could not connect ({type(exc).__name__})", method=method, path=path, sent=False
            ) from None
        except TimeoutError:
            raise TransportError(
                "timed out waiting for the answer", method=method, path=path, sent=True
            ) from None
        except aiohttp.ClientError as exc:
            raise TransportError(
                f"connection failed ({type(exc).__name__})", method=method, path=path, sent=True
            ) from None
        log.debug(
            "%s %s -> %d in %.0f ms", method, path, status, (time.perf_counter() - started) * 1e3
        )
        body: Any = None
        if raw:
            try:
                body = orjson.loads(raw)
            except orjson.JSONDecodeError:
                if status < 400:
                    raise DecodeError(
                        f"{method} {path} -> {status}: body is not JSON ({content_type})"
                    ) from None
                body = None
        return Response(status, resp_headers, body, content_type)
