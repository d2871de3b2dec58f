"""An embedded sandbox server that speaks Productive's API v2, in memory.

Use it in your own tests (with pytest, the fixtures of :mod:`productive_async.testing` do
this for you)::

    from productive_async import Productive, sandbox

    async with sandbox.serve() as base_url:
        async with Productive(sandbox.TOKEN, sandbox.ORGANIZATION_ID, base_url=base_url) as c:
            async for invoice in c.invoices.list(filters={"currency": "EUR"}):
                ...

or from a shell: ``productive-async sandbox --port 8080``.

It serves every resource of the registry with seeded, consistently linked demo data (see
``_demo.py``): page-number and cursor pagination, filters with operators and logical groups,
sort, include, sparse fieldsets, writes with the documented validation errors, bulk requests,
rate limits (429 with ``X-RateLimit-Reset``), and optional latency and injected faults.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

from aiohttp import web

from .._ratelimit import RateLimits
from .._registry import Registry, default_registry
from ._server import (
    DEFAULT_LOG_SIZE,
    DEFAULT_MAX_BODY_SIZE,
    MAX_LINE_SIZE,
    Faults,
    RequestLog,
    SandboxServer,
    max_in_window,
)
from ._store import Record, Store

__all__ = [
    "ORGANIZATION_ID",
    "TOKEN",
    "Faults",
    "RequestLog",
    "Sandbox",
    "Store",
    "max_in_window",
    "serve",
]

#: The API token the sandbox accepts by default (``X-Auth-Token``).
TOKEN = "sandbox-token"
#: The organization id the sandbox accepts by default (``X-Organization-Id``).
ORGANIZATION_ID = "1001"

_DEFAULT_LIMITS = RateLimits()


class Sandbox:
    """A sandbox server: its data (:attr:`store`), its request log (:attr:`log`) and options.

    ``seed``/``scale``: the demo data (deterministic for a seed; ``scale=0.1`` makes a tenth;
    ``demo_data=False`` starts empty but for ``records``). ``records``: extra records in store
    format. ``tokens``: token -> organization id accepted (default ``{TOKEN:
    ORGANIZATION_ID}``). ``rate_limits``: the limits enforced as strict sliding windows
    (default: the documented ones; ``None`` disables them). ``latency``: seconds added to every
    answer. ``faults``: injected 5xx and dropped connections. ``today``: the date validations
    compare with (default: the real today). ``trial``: behave as a trial account (invoice
    e-mails only to yourself). ``log_size``: how many requests :attr:`log` keeps (the newest;
    ``None``: all of them, for short tests only). ``max_body_size``: the largest request body
    read, in bytes (413 beyond it).

    Every request gets the API's answer: a malformed one its 400/404/409/413/422 error
    document; a handler's own failure is logged (logger ``productive_async.sandbox``) and
    answered with a 500 error document, never a traceback.
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        scale: float = 1.0,
        demo_data: bool = True,
        records: Iterable[Record] = (),
        tokens: Mapping[str, str] | None = None,
        rate_limits: RateLimits | None = _DEFAULT_LIMITS,
        latency: float = 0.0,
        faults: Faults | None = None,
        today: dt.date | None = None,
        trial: bool = False,
        registry: Registry | None = None,
        log_size: int | None = DEFAULT_LOG_SIZE,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    ) -> None:
        self.registry = registry or default_registry()
        #: The base URL :meth:`serve` is serving on (the latest, while it runs), else None.
        self.base_url: str | None = None
        initial: list[Record] = []
        if demo_data:
            from ._demo import generate

            for items in generate(seed, scale=scale).values():
                initial.extend(items)
        initial.extend(records)
        self.store = Store(self.registry, initial)
        self.server = SandboxServer(
            self.registry,
            self.store,
            tokens=tokens or {TOKEN: ORGANIZATION_ID},
            rate_limits=rate_limits,
            latency=latency,
            faults=faults or Faults(),
            today=today,
            trial=trial,
            log_size=log_size,
            max_body_size=max_body_size,
        )

    def make_app(self) -> web.Application:
        """A new aiohttp application over this sandbox's state (for your own runner)."""
        return self.server.make_app()

    @property
    def current_user_id(self) -> str | None:
        """The id of the person the API token belongs to: the approver of approvals, the one
        address a ``trial`` sandbox sends invoices to. By default the organization's owner
        (demo data: person ``1001``, the first employee), else the first user; assign a person
        id to change it."""
        user = self.server.rules.current_user()
        return None if user is None else str(user["id"])

    @current_user_id.setter
    def current_user_id(self, value: str | int | None) -> None:
        self.server.rules.user_id = None if value is None else str(value)

    @property
    def log(self) -> RequestLog:
        """The requests the server answered (time, method, path, status): the newest
        ``log_size`` of them."""
        return self.server.log

    @contextlib.asynccontextmanager
    async def serve(self, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
        """Run the server on ``host:port`` (port 0: any free port) and yield its base URL
        (``http://127.0.0.1:<port>/api/v2/``, also :attr:`base_url` meanwhile); stops when the
        block exits."""
        runner = web.AppRunner(self.server.make_app(), access_log=None,
                               max_line_size=MAX_LINE_SIZE, max_field_size=MAX_LINE_SIZE)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        url = None
        try:
            address = runner.addresses[0]
            url = self.base_url = f"http://{address[0]}:{address[1]}/api/v2/"
            yield url
        finally:
            if url is not None and self.base_url == url:
                self.base_url = None
            await runner.cleanup()

    async def run_forever(self, host: str = "127.0.0.1", port: int = 8080) -> None:
        """Serve until cancelled (``productive-async sandbox``)."""
        async with self.serve(host, port):
            await asyncio.Event().wait()


@contextlib.asynccontextmanager
async def serve(host: str = "127.0.0.1", port: int = 0, **options: Any) -> AsyncIterator[str]:
    """``async with sandbox.serve() as base_url:`` a new :class:`Sandbox` (options as there)."""
    async with Sandbox(**options).serve(host, port) as base_url:
        yield base_url
