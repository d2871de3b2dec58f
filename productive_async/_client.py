"""The :class:`Productive` client: one per token and organization, shared by many tasks."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

import aiohttp
import attrs

from ._clock import Clock, LoopClock
from ._custom_fields import CustomFieldCache
from ._engine import Context, ResourceClient
from ._errors import InvalidRequestError
from ._jsonapi import Document, encode_params, parse_document
from ._ratelimit import Gate, RateGate, RateLimits
from ._redis import RedisBackend
from ._registry import Registry, default_registry
from ._transport import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_RESPONSE_BYTES,
    RetryPolicy,
    Timeouts,
    Transport,
    masked,
)
from .resources import Collections

_METHODS = frozenset({"GET", "POST", "PATCH", "PUT", "DELETE"})


class Productive(Collections):
    """An async client for Productive's API v2.

    ``token`` (sent as ``X-Auth-Token``) and ``organization_id`` (``X-Organization-Id``) are
    required (Productive API reference, "Authentication"). Every collection of the API is a
    typed attribute named as its path: ``client.invoices``, ``client.deals``,
    ``client.time_entries`` (see :mod:`productive_async.resources`); report endpoints are under
    ``client.reports`` (``client.reports.time_reports``); ``client.resource(name)`` looks one up
    by name at run time. All tasks using one client share its rate limits.

    ``token``, ``organization_id`` and ``base_url`` default to the environment variables
    ``PRODUCTIVE_API_TOKEN``, ``PRODUCTIVE_ORGANIZATION_ID`` and ``PRODUCTIVE_BASE_URL`` (then
    to ``https://api.productive.io/api/v2/``).

    Options: ``base_url``; ``rate_limits`` (:class:`RateLimits`, defaults = documented limits);
    ``retry`` (:class:`RetryPolicy`); ``timeouts`` (:class:`Timeouts`, seconds, per attempt);
    ``session`` (your own :class:`aiohttp.ClientSession`, not closed by the client; note that
    aiohttp re-sends an idempotent request once on a dropped kept-alive connection, outside
    the rate limiter, which the client switches off only on sessions it creates);
    ``feature_flags`` (sent as ``X-Feature-Flags``); ``clock`` (a :class:`FakeClock` in tests);
    ``registry`` (a custom registry); ``strict`` (default ``True``: a write field, action
    parameter, filter, operator, sort key, include path or report group the registry does not
    know raises :class:`InvalidRequestError` before sending; ``False`` sends such names anyway,
    for API additions newer than the SDK); ``max_response_bytes`` (default 64 MiB: a larger
    answer, counted after gzip inflation, raises :class:`TransportError` while it is read);
    ``rate_backend`` (a :class:`RedisBackend`: the rate budget is shared, through Redis, with
    every process and machine using the same backend, token and organization; without it the
    limits are kept in this process only).

    Use ``async with Productive(...) as client:`` or call :meth:`close`.
    Raises :class:`InvalidRequestError` for a missing token or organization id, one with
    whitespace or control characters, or a ``base_url`` that is not an http(s) URL.
    """

    def __init__(
        self,
        token: str | None = None,
        organization_id: str | int | None = None,
        *,
        base_url: str | None = None,
        rate_limits: RateLimits | None = None,
        retry: RetryPolicy | None = None,
        timeouts: Timeouts | None = None,
        session: aiohttp.ClientSession | None = None,
        feature_flags: Sequence[str] = (),
        clock: Clock | None = None,
        registry: Registry | None = None,
        strict: bool = True,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        rate_backend: RedisBackend | None = None,
    ) -> None:
        token = token or os.environ.get("PRODUCTIVE_API_TOKEN")
        if organization_id is None or str(organization_id) == "":
            organization_id = os.environ.get("PRODUCTIVE_ORGANIZATION_ID")
        base_url = base_url or os.environ.get("PRODUCTIVE_BASE_URL") or DEFAULT_BASE_URL
        if not token:
            raise InvalidRequestError(
                "an API token is required: pass token=... or set PRODUCTIVE_API_TOKEN")
        if organization_id is None or str(organization_id) == "":
            raise InvalidRequestError(
                "an organization id is required: pass organization_id=... or set "
                "PRODUCTIVE_ORGANIZATION_ID")
        self.registry = registry or default_registry()
        self.rate_limits = rate_limits or RateLimits()
        clock = clock or LoopClock()
        if rate_backend is not None and not isinstance(rate_backend, RedisBackend):
            raise InvalidRequestError(
                f"rate_backend must be a RedisBackend, not {type(rate_backend).__name__}")
        self.gate: Gate = (
            RateGate(self.rate_limits, clock) if rate_backend is None
            else rate_backend._gate(self.rate_limits, token, str(organization_id), clock))
        self._transport = Transport(
            base_url=base_url,
            token=token,
            organization_id=str(organization_id),
            gate=self.gate,
            clock=clock,
            retry=retry or RetryPolicy(),
            timeouts=timeouts or Timeouts(),
            session=session,
            feature_flags=feature_flags,
            max_response_bytes=max_response_bytes,
        )
        self._clients: dict[str, ResourceClient] = {}
        context = Context(self._transport, self.registry,
                          CustomFieldCache(self.resource), strict)
        self._bind(context, {})

    def with_options(
        self,
        *,
        timeouts: Timeouts | None = None,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        strict: bool | None = None,
    ) -> Productive:
        """A client for some calls with other settings, sharing this one's HTTP session,
        rate limits (one budget), counters and custom field cache:
        ``await client.with_options(timeouts=pa.Timeouts(total=300)).invoices.export(id)``.

        ``max_retries`` replaces :attr:`RetryPolicy.max_retries`; ``retry`` the whole policy.
        Closing either client closes the shared session. Raises
        :class:`~productive_async.InvalidRequestError` for a negative ``max_retries``."""
        policy = retry or self._transport.retry
        if max_retries is not None:
            if isinstance(max_retries, bool) or not isinstance(max_retries, int) \
                    or max_retries < 0:
                raise InvalidRequestError(f"max_retries must be an int >= 0, not {max_retries!r}")
            policy = attrs.evolve(policy, max_retries=max_retries)
        other = object.__new__(Productive)
        other.registry = self.registry
        other.rate_limits = self.rate_limits
        other.gate = self.gate
        other._transport = self._transport.derive(timeouts=timeouts, retry=policy)
        other._clients = {}
        context = Context(other._transport, self.registry, self._context.custom_fields,
                          self._context.strict if strict is None else strict)
        other._bind(context, {})
        return other

    @property
    def base_url(self) -> str:
        """The base URL in use (always ends with ``/``)."""
        return str(self._transport.base_url)

    @property
    def organization_id(self) -> str:
        """The organization id sent as ``X-Organization-Id``."""
        return self._transport.organization_id

    @property
    def strict(self) -> bool:
        """Whether names the registry does not know are refused before sending."""
        return self._context.strict

    @property
    def stats(self) -> dict[str, int]:
        """Request counters: ``attempts``, ``retries``, ``rate_limited`` (429s received)."""
        return self._transport.stats

    def __repr__(self) -> str:
        return (f"<Productive {masked(self._transport.base_url)} "
                f"organization={self.organization_id}>")

    def resource(self, name: str) -> ResourceClient:
        """The dynamic :class:`ResourceClient` of collection ``name`` (``"invoices"``,
        ``"reports/time_reports"`` or ``"time_reports"``): the same engine as
        ``client.<name>``, with signatures resolved at run time.

        Raises :class:`~productive_async.UnknownResourceError` for an unregistered name.
        """
        if name.startswith("reports/"):
            name = name.removeprefix("reports/")
        client = self._clients.get(name)
        if client is None:
            spec = self.registry[name]
            if not spec.has_endpoint:
                raise InvalidRequestError(f"{name} has no endpoint of its own in the API")
            client = ResourceClient(spec, self._context)
            self._clients[name] = client
        return client

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | Sequence[tuple[str, str]] | None = None,
        json: Any = None,
        rate_class: str | None = None,
        timeouts: Timeouts | None = None,
    ) -> Document:
        """Send any request through the client's transport (its rate limits, retries, errors
        and decoding): for endpoints newer than the registry.

        ``path`` is relative to the base URL (``"tasks/1/subtasks"``); ``params`` query
        parameters (a mapping, lists sent as repeated ``name[]=``; or pairs as they are);
        ``json`` the body (a JSON:API document); ``rate_class`` an extra rate-limit class
        (``"reports"``). POST and PATCH are not retried after a failure once sent. Returns the
        decoded :class:`~productive_async.Document` (records typed by their JSON:API type);
        an empty answer (204) is a document with ``data=None``. Raises
        :class:`~productive_async.InvalidRequestError` for an unknown method or a path that
        leaves the base URL, and the API's errors (:class:`~productive_async.APIError`).
        """
        method = method.upper()
        if method not in _METHODS:
            raise InvalidRequestError(f"method must be one of {sorted(_METHODS)}, not {method!r}")
        pairs: Sequence[tuple[str, str]]
        if params is None:
            pairs = ()
        elif isinstance(params, Mapping):
            pairs = encode_params(params)
        else:
            pairs = list(params)
        response = await self._transport.request(
            method, path, params=pairs, json=json, rate_class=rate_class, timeouts=timeouts
        )
        if response.body is None:
            return Document(None, {}, {}, response=response.info)
        return attrs.evolve(parse_document(response.body), response=response.info)

    if not TYPE_CHECKING:
        def __getattr__(self, name: str) -> ResourceClient:
            # Collections of a custom registry that the typed namespace does not know.
            if name.startswith("_"):
                raise AttributeError(name)
            registry = self.__dict__.get("registry")
            spec = registry.resources.get(name) if registry is not None else None
            if spec is None or spec.is_report or not spec.has_endpoint:
                raise AttributeError(f"Productive has no collection {name!r}")
            return self.resource(name)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | {s.name for s in self.registry.collections})

    async def close(self) -> None:
        """Close the HTTP session (if the client opened it). Calls waiting for a rate-limit
        slot fail at once with :class:`~productive_async.InvalidRequestError` ("the client is
        closed"), as does every later call."""
        await self._transport.close()

    async def __aenter__(self) -> Productive:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
