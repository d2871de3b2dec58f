"""pytest fixtures for your own tests: the sandbox on loopback and a client bound to it.

This is the plugin behind :mod:`productive_async.testing` (documented there too). The package
registers it as a pytest plugin (entry point ``pytest11``), so the fixtures are there as soon as
it is installed. It is a module of its own, outside the package, so that loading it costs pytest
nothing: ``productive_async`` (half a second to import) is imported only by a test that uses a
fixture. The fixtures need pytest-asyncio, which the ``testing`` extra brings: ``pip install
"productive-async[testing]"``. A test file::

    import pytest

    @pytest.mark.asyncio
    async def test_eur_invoices(productive_client):
        invoices = await productive_client.invoices.list(filters={"currency": "EUR"}).to_list()
        assert all(invoice.currency == "EUR" for invoice in invoices)

No configuration is needed (``asyncio_mode = "auto"`` makes ``@pytest.mark.asyncio``
unnecessary, as usual with pytest-asyncio).

Fixtures (each test gets its own sandbox, so writes never leak into another test):

``productive_sandbox``
    A running :class:`productive_async.sandbox.Sandbox`: ``base_url``, its data (``store``) and
    request log (``log``). By default a tenth of the demo data (``scale=0.1``: 20 companies, 200
    deals, 2,000 time entries, 500 invoices, plus the seed documents' and the README's records)
    and no rate limits.
``productive_client``
    A :class:`productive_async.Productive` for it (the sandbox's token and organization id),
    with the sandbox's rate limits on the client side too (none by default).
``productive_sandbox_options``
    The keyword arguments the sandbox is made with. Mark a test, class or module to change
    them, ``@pytest.mark.productive_sandbox(scale=1.0, rate_limits=pa.RateLimits(),
    today=datetime.date(2026, 1, 15))`` (the nearest mark wins, key by key), or override this
    fixture for a whole directory in a ``conftest.py``.

Without pytest-asyncio the plugin stays out of the way: tests that do not use these fixtures
run as before, and a test that does fails saying what to install.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from productive_async import Productive
    from productive_async.sandbox import Sandbox

__all__ = [
    "DEFAULT_SANDBOX_OPTIONS",
    "productive_client",
    "productive_sandbox",
    "productive_sandbox_options",
    "pytest_configure",
]

#: What ``productive_sandbox`` is made with unless a mark or an override says otherwise.
DEFAULT_SANDBOX_OPTIONS: dict[str, Any] = {"scale": 0.1, "rate_limits": None}

MARKER = "productive_sandbox"
MISSING = (
    "productive-async's pytest fixtures need pytest-asyncio: "
    'pip install "productive-async[testing]"'
)

try:
    import pytest_asyncio
except ImportError:  # the [testing] extra is not installed: see _async_fixture
    _asyncio_fixture: Callable[..., Any] | None = None
else:
    _asyncio_fixture = pytest_asyncio.fixture


def _async_fixture(function: Callable[..., Any]) -> Any:
    """``pytest_asyncio.fixture`` (function scope, the test's loop); without pytest-asyncio a
    fixture that fails the test saying what to install."""
    if _asyncio_fixture is not None:
        return _asyncio_fixture(function)

    @functools.wraps(function)  # the same name, arguments and documentation
    def unavailable(*args: Any, **kwargs: Any) -> Any:
        pytest.fail(MISSING, pytrace=False)

    return pytest.fixture(unavailable)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**options): keyword arguments for productive_async.sandbox.Sandbox in the "
        "productive_sandbox fixture (defaults: scale=0.1, rate_limits=None)",
    )


@pytest.fixture
def productive_sandbox_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Keyword arguments for :class:`~productive_async.sandbox.Sandbox`:
    :data:`DEFAULT_SANDBOX_OPTIONS` updated by the ``productive_sandbox`` marks of the test (a
    module's first, the test's own last)."""
    options = dict(DEFAULT_SANDBOX_OPTIONS)
    for mark in reversed(list(request.node.iter_markers(MARKER))):
        if mark.args:
            raise pytest.UsageError(
                f"@pytest.mark.{MARKER} takes keyword arguments only (Sandbox options)"
            )
        options.update(mark.kwargs)
    return options


@_async_fixture
async def productive_sandbox(productive_sandbox_options: dict[str, Any]) -> AsyncIterator[Sandbox]:
    """A new sandbox serving on loopback for the test (``.base_url``, ``.store``, ``.log``)."""
    from productive_async.sandbox import Sandbox

    box = Sandbox(**productive_sandbox_options)
    async with box.serve():
        yield box


@_async_fixture
async def productive_client(productive_sandbox: Sandbox) -> AsyncIterator[Productive]:
    """A client of ``productive_sandbox`` with the sandbox's rate limits (none by default)."""
    from productive_async import Productive, RateLimits
    from productive_async.sandbox import ORGANIZATION_ID, TOKEN

    limits = productive_sandbox.server.rate_limits
    async with Productive(
        TOKEN, ORGANIZATION_ID, base_url=productive_sandbox.base_url,
        rate_limits=limits if limits is not None else RateLimits.unlimited(),
    ) as client:
        yield client
