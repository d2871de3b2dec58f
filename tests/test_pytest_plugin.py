"""The pytest plugin (``productive_async.testing``): fixtures users' own tests rely on.

Its fixtures are used here directly (the plugin is loaded in this suite as in any environment
the package is installed in), and in pytest subprocesses run as a user would: no configuration,
pytest-asyncio in strict mode, or pytest-asyncio missing altogether.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import productive_async as pa
from productive_async import sandbox


async def test_the_client_is_bound_to_a_running_sandbox_with_the_readmes_data(
    productive_sandbox: sandbox.Sandbox, productive_client: pa.Productive
) -> None:
    assert productive_sandbox.base_url is not None
    assert productive_sandbox.base_url.startswith("http://127.0.0.1:")
    invoice = await productive_client.invoices.get(27, include=["company"])
    assert isinstance(invoice.company, pa.models.Company)
    assert invoice.company.name == "Lighthouse Media"
    # a tenth of the demo data, and no rate limits on either side
    assert len(productive_sandbox.store.table("companies")) == 20 + 1
    assert productive_sandbox.server.rate_limits is None
    deal = await productive_client.deals.create(name="Mine", deal_type_id=2, company=pa.Ref(
        "companies", 1809))
    assert productive_sandbox.store.get("deals", deal.id) is not None


async def test_each_test_gets_a_sandbox_of_its_own(
    productive_sandbox: sandbox.Sandbox, productive_client: pa.Productive
) -> None:
    assert [d for d in productive_sandbox.store.table("deals").values()
            if d["attributes"]["name"] == "Mine"] == []  # the previous test's deal is not here


@pytest.mark.productive_sandbox(scale=0.01, rate_limits=pa.RateLimits(),
                                today=dt.date(2026, 1, 15))
async def test_a_mark_sets_the_sandboxs_options_and_the_client_keeps_its_limits(
    productive_sandbox: sandbox.Sandbox, productive_client: pa.Productive,
    productive_sandbox_options: dict[str, Any],
) -> None:
    assert productive_sandbox_options == {
        "scale": 0.01, "rate_limits": pa.RateLimits(), "today": dt.date(2026, 1, 15)}
    assert productive_sandbox.server.rate_limits == pa.RateLimits()
    assert len(productive_sandbox.store.table("companies")) == 2 + 1
    await productive_client.invoices.get(72)
    assert productive_client.rate_limits == pa.RateLimits()


def test_the_public_module_is_the_plugin() -> None:
    import _productive_async_pytest as plugin
    from productive_async import testing

    for name in testing.__all__:
        assert getattr(testing, name) is getattr(plugin, name)
    assert testing.DEFAULT_SANDBOX_OPTIONS == {"scale": 0.1, "rate_limits": None}


def run_pytest(directory: Path, *args: str, env: dict[str, str] | None = None
               ) -> subprocess.CompletedProcess[str]:
    """pytest in ``directory`` as a user runs it: their files only, no configuration."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", *args],
        cwd=directory, capture_output=True, text=True, timeout=50,
        env={**os.environ, **(env or {})},
    )


USER_TEST = textwrap.dedent('''
    import pytest

    def test_unrelated():
        assert True

    @pytest.mark.asyncio
    async def test_eur_invoices(productive_client):
        invoices = await productive_client.invoices.list(filters={"currency": "EUR"}).to_list()
        assert invoices and all(invoice.currency == "EUR" for invoice in invoices)
''')


def test_a_users_test_runs_without_any_configuration(tmp_path: Path) -> None:
    (tmp_path / "test_mine.py").write_text(USER_TEST)
    done = run_pytest(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout


def test_without_pytest_asyncio_the_plugin_stays_out_of_the_way(tmp_path: Path) -> None:
    """The package installed without its [testing] extra: other tests run, and a test using a
    fixture fails saying what to install."""
    blocker = tmp_path / "blocker"
    (blocker / "pytest_asyncio").mkdir(parents=True)
    (blocker / "pytest_asyncio" / "__init__.py").write_text(
        "raise ImportError('No module named pytest_asyncio (simulated)')\n")
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test_mine.py").write_text(USER_TEST)
    done = run_pytest(tests, "-p", "no:asyncio", env={"PYTHONPATH": str(blocker)})
    assert done.returncode == 1, done.stdout + done.stderr
    assert "PASSED test_mine.py::test_unrelated" in done.stdout, done.stdout
    assert "ERROR test_mine.py::test_eur_invoices" in done.stdout
    assert 'pip install "productive-async[testing]"' in done.stdout


def test_with_autoloading_off_the_public_module_loads_the_plugin(tmp_path: Path) -> None:
    (tmp_path / "test_mine.py").write_text(USER_TEST)
    done = run_pytest(tmp_path, "-p", "pytest_asyncio.plugin", "-p", "productive_async.testing",
                      env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout


def test_a_mark_with_positional_arguments_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "test_mine.py").write_text(textwrap.dedent('''
        import pytest

        @pytest.mark.asyncio
        @pytest.mark.productive_sandbox(0.5)
        async def test_it(productive_client):
            pass
    '''))
    done = run_pytest(tmp_path)
    assert done.returncode == 1
    assert "takes keyword arguments only" in done.stdout + done.stderr
