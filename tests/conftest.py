"""Shared fixtures: the sandbox over loopback, clients, and aioresponses on aiohttp 3.14.

aioresponses 0.7.9 builds ``aiohttp.ClientResponse`` objects without the ``stream_writer``
argument that aiohttp 3.14 made mandatory (``ClientResponse.__init__() missing ...
'stream_writer'``). Rather than pinning aiohttp below 3.14 (3.14.0 is a security release), the
``mocked`` fixture hands aioresponses a ``ClientResponse`` subclass that supplies a finished
stream writer (``output_size = 0``). Nothing else about aioresponses changes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
from aiohttp import ClientResponse, web
from aioresponses import aioresponses

import productive_async as pa
from productive_async import sandbox

BASE_URL = "https://api.productive.io/api/v2/"
TOKEN = "secret-token-do-not-leak"
ORG = "4242"


class _SentWriter:
    """Stands in for the stream writer of a request that has already been sent."""

    output_size = 0


class CompatClientResponse(ClientResponse):
    """``ClientResponse`` accepting aioresponses 0.7.9's arguments on aiohttp >= 3.14."""

    def __init__(self, method: str, url: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", _SentWriter())
        super().__init__(method, url, **kwargs)


class CompatAioresponses(aioresponses):
    """aioresponses whose mocked answers are :class:`CompatClientResponse` by default."""

    def add(self, url: Any, method: str = "GET", *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("response_class", CompatClientResponse)
        super().add(url, method, *args, **kwargs)


@pytest.fixture
def mocked() -> Iterator[CompatAioresponses]:
    with CompatAioresponses() as m:
        yield m


def sent_requests(m: aioresponses) -> list[tuple[str, str, dict[str, Any]]]:
    """Every request aioresponses saw: (method, url, kwargs), in order."""
    out = []
    for (method, url), calls in m.requests.items():
        for call in calls:
            out.append((method, str(url), call.kwargs))
    return out


def sent_json(kwargs: dict[str, Any]) -> Any:
    data = kwargs.get("data")
    return None if data is None else json.loads(data)


@pytest.fixture
async def api() -> AsyncIterator[pa.Productive]:
    """A client for the (mocked) real base URL with no client-side limits and fast retries."""
    client = pa.Productive(
        TOKEN, ORG, base_url=BASE_URL, rate_limits=pa.RateLimits.unlimited(),
        retry=pa.RetryPolicy(max_retries=2, backoff_base=0.0, backoff_cap=0.0),
    )
    async with client:
        yield client


@pytest.fixture(scope="session")
def small_box() -> sandbox.Sandbox:
    """A shared sandbox with a tenth of the demo data, for read-only tests."""
    return sandbox.Sandbox(scale=0.1, rate_limits=None, today=dt.date(2026, 1, 15))


@pytest.fixture
async def box_url(small_box: sandbox.Sandbox) -> AsyncIterator[str]:
    async with small_box.serve() as url:
        yield url


@contextlib.asynccontextmanager
async def loopback(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                   ) -> AsyncIterator[str]:
    """Serve every request with ``handler`` on 127.0.0.1; yields the base URL
    (``http://127.0.0.1:<port>/api/v2/``)."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}/api/v2/"
    finally:
        await runner.cleanup()


def sandbox_client(base_url: str, **options: Any) -> pa.Productive:
    """A client of a sandbox at ``base_url`` with its token, no client-side limits."""
    return pa.Productive(sandbox.TOKEN, sandbox.ORGANIZATION_ID, base_url=base_url,
                         rate_limits=pa.RateLimits.unlimited(), **options)


@pytest.fixture
async def client(box_url: str) -> AsyncIterator[pa.Productive]:
    async with sandbox_client(box_url) as c:
        yield c


@pytest.fixture
def fresh_box() -> sandbox.Sandbox:
    """A sandbox of its own (for tests that write), no demo data but a few linked records."""
    return sandbox.Sandbox(
        demo_data=False, rate_limits=None, today=dt.date(2026, 1, 15),
        records=starter_records(),
    )


def starter_records() -> list[dict[str, Any]]:
    def rec(type_: str, id_: str, rels: dict[str, Any] | None = None, **attrs: Any
            ) -> dict[str, Any]:
        return {"id": id_, "type": type_, "attributes": attrs, "relationships": rels or {}}

    org = {"organization": {"type": "organizations", "id": "1"}}
    return [
        rec("organizations", "1", name="Org"),
        rec("companies", "10", org, name="Sandbox Agency (internal)"),
        rec("companies", "11", org, name="ACME", default_currency="EUR"),
        rec("people", "20", org, first_name="Ada", last_name="Lovelace", email="ada@x.test"),
        rec("deals", "30", {**org, "company": {"type": "companies", "id": "11"}},
            name="Website", budget=True, date="2025-12-01", deal_type_id=2),
    ]


@pytest.fixture
async def fresh(fresh_box: sandbox.Sandbox) -> AsyncIterator[pa.Productive]:
    async with fresh_box.serve() as url, sandbox_client(url) as c:
        yield c
