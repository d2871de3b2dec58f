"""The :class:`Productive` client: one per token and organization, shared by many tasks."""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType

import aiohttp

from ._clock import Clock, LoopClock
from ._custom_fields import CustomFieldCache
from ._engine import ResourceClient
from ._errors import InvalidRequestError
from ._models import ModelFactory
from ._ratelimit import RateGate, RateLimits
from ._registry import Registry, default_registry
from ._transport import RetryPolicy, Timeouts, Transport

DEFAULT_BASE_URL = "https://api.productive.io/api/v2/"


class Productive:
    """An async client for Productive's API v2.

    ``token`` (sent as ``X-Auth-Token``) and ``organization_id`` (``X-Organization-Id``) are
    required (``shared/productive-api/README.md``, "Base URL and auth"). Every collection of
    the registry is an attribute named as its path: ``client.invoices``, ``client.deals``,
    ``client.time_entries``; report endpoints are under ``client.reports``
    (``client.reports.time_reports``). All tasks using one client share its rate limits.

    Options: ``base_url``; ``rate_limits`` (:class:`RateLimits`, defaults = documented limits);
    ``retry`` (:class:`RetryPolicy`); ``timeouts`` (:class:`Timeouts`, seconds, per attempt);
    ``session`` (your own :class:`aiohttp.ClientSession`, not closed by the client; note that
    aiohttp re-sends an idempotent request once on a dropped kept-alive connection, outside
    the rate limiter, which the client switches off only on sessions it creates);
    ``feature_flags`` (sent as ``X-Feature-Flags``); ``clock`` (a :class:`FakeClock` in tests);
    ``registry`` (a custom registry).

    Use ``async with Productive(...) as client:`` or call :meth:`close`.
    Raises :class:`ValueError` for an empty token or organization id.
    """

    def __init__(
        self,
        token: str,
        organization_id: str | int,
        *,
        base_url: str = DEFAULT_BASE_URL,
        rate_limits: RateLimits | None = None,
        retry: RetryPolicy | None = None,
        timeouts: Timeouts | None = None,
        session: aiohttp.ClientSession | None = None,
        feature_flags: Sequence[str] = (),
        clock: Clock | None = None,
        registry: Registry | None = None,
    ) -> None:
        if not token:
            raise InvalidRequestError("an API token is required (PRODUCTIVE_API_TOKEN)")
        if organization_id is None or str(organization_id) == "":
            raise InvalidRequestError(
                "an organization id is required (PRODUCTIVE_ORGANIZATION_ID)"
            )
        self.registry = registry or default_registry()
        self.rate_limits = rate_limits or RateLimits()
        clock = clock or LoopClock()
        self.gate = RateGate(self.rate_limits, clock)
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
        )
        self._models = ModelFactory(self.registry)
        self._clients: dict[str, ResourceClient] = {}
        self._custom_fields = CustomFieldCache(self.resource)
        self.reports = _Reports(self)

    @property
    def base_url(self) -> str:
        """The base URL in use (always ends with ``/``)."""
        return str(self._transport.base_url)

    @property
    def organization_id(self) -> str:
        """The organization id sent as ``X-Organization-Id``."""
        return self._transport.organization_id

    @property
    def stats(self) -> dict[str, int]:
        """Request counters: ``attempts``, ``retries``, ``rate_limited`` (429s received)."""
        return self._transport.stats

    def __repr__(self) -> str:
        return f"<Productive {self.base_url} organization={self.organization_id}>"

    def resource(self, name: str) -> ResourceClient:
        """The :class:`ResourceClient` of collection ``name`` (``"invoices"``,
        ``"reports/time_reports"`` or ``"time_reports"``).

        Raises :class:`~productive_async.UnknownResourceError` for an unregistered name.
        """
        if name.startswith("reports/"):
            name = name.removeprefix("reports/")
        client = self._clients.get(name)
        if client is None:
            spec = self.registry[name]
            client = ResourceClient(
                spec, self._transport, self._models, self.registry, self._custom_fields
            )
            self._clients[name] = client
        return client

    def __getattr__(self, name: str) -> ResourceClient:
        if name.startswith("_"):
            raise AttributeError(name)
        registry = self.__dict__.get("registry")
        if registry is None or name not in registry or registry[name].is_report:
            raise AttributeError(f"Productive has no collection {name!r}")
        return self.resource(name)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | {s.name for s in self.registry.collections})

    async def close(self) -> None:
        """Close the HTTP session (if the client opened it)."""
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


class _Reports:
    """``client.reports.<name>``: the report endpoints (rate class ``reports``, 10 / 30 s)."""

    def __init__(self, client: Productive) -> None:
        self._client = client

    def __getattr__(self, name: str) -> ResourceClient:
        if name.startswith("_"):
            raise AttributeError(name)
        registry = self._client.registry
        if name not in registry or not registry[name].is_report:
            raise AttributeError(f"no report endpoint {name!r}")
        return self._client.resource(name)

    def __dir__(self) -> list[str]:
        return sorted(s.name for s in self._client.registry.reports)

    def __repr__(self) -> str:
        return f"<reports: {', '.join(self.__dir__())}>"

