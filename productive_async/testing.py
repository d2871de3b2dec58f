"""pytest fixtures for your own tests: the sandbox on loopback and a client bound to it.

Installing the package registers them with pytest (plugin ``productive_async``, entry point
``pytest11``); they need pytest-asyncio: ``pip install "productive-async[testing]"``. A test
file, with no configuration::

    import pytest

    @pytest.mark.asyncio
    async def test_eur_invoices(productive_client):
        invoices = await productive_client.invoices.list(filters={"currency": "EUR"}).to_list()
        assert all(invoice.currency == "EUR" for invoice in invoices)

``productive_sandbox`` is a running :class:`productive_async.sandbox.Sandbox` (``base_url``,
``store``, ``log``), new for each test: a tenth of the demo data (``scale=0.1``) with the seed
documents' and the README's records, no rate limits. ``productive_client`` is a
:class:`productive_async.Productive` bound to it. ``@pytest.mark.productive_sandbox(**options)``
on a test, class or module changes the sandbox's options (``scale``, ``rate_limits``, ``today``,
``latency``, ``faults``, ...; the nearest mark wins, key by key), and so does overriding the
``productive_sandbox_options`` fixture in a ``conftest.py``.

The plugin itself is the top-level module ``_productive_async_pytest`` (so that pytest loads it
without importing this package); this module re-exports it. Where plugin autoloading is off
(``PYTEST_DISABLE_PLUGIN_AUTOLOAD``), load it with ``-p productive_async.testing`` or
``pytest_plugins = ["productive_async.testing"]``.
"""

from __future__ import annotations

from _productive_async_pytest import (
    DEFAULT_SANDBOX_OPTIONS,
    productive_client,
    productive_sandbox,
    productive_sandbox_options,
    pytest_configure,
)

__all__ = [
    "DEFAULT_SANDBOX_OPTIONS",
    "productive_client",
    "productive_sandbox",
    "productive_sandbox_options",
    "pytest_configure",
]
