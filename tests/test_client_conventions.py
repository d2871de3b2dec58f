"""The conventions users bring from the best SDKs: environment variables, per-call options,
the response behind a result, request ids and hints in error messages, a versioned User-Agent."""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from aiohttp import web
from conftest import loopback

import productive_async as pa

JSONAPI = "application/vnd.api+json"


class Server:
    def __init__(self) -> None:
        self.requests: list[web.Request] = []
        self.delay = 0.0
        self.status = 200
        self.errors: list[dict[str, Any]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append(request)
        await asyncio.sleep(self.delay)
        headers = {"X-Request-Id": f"req-{len(self.requests)}"}
        if self.status >= 400:
            body: Any = {"errors": self.errors}
        elif request.match_info["tail"].endswith("invoices"):
            body = {"data": [{"id": "1", "type": "invoices", "attributes": {}}],
                    "meta": {"total_count": 1, "total_pages": 1}}
        else:
            body = {"data": {"id": "1", "type": "invoices", "attributes": {"number": "1"}}}
        return web.Response(body=orjson.dumps(body), status=self.status, content_type=JSONAPI,
                            headers=headers)


@pytest.fixture
async def server() -> AsyncIterator[tuple[Server, str]]:
    state = Server()
    async with loopback(state.handle) as url:
        yield state, url


async def test_the_client_reads_its_settings_from_the_environment(
    server: tuple[Server, str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    state, base = server
    monkeypatch.setenv("PRODUCTIVE_API_TOKEN", "env-token")
    monkeypatch.setenv("PRODUCTIVE_ORGANIZATION_ID", "77")
    monkeypatch.setenv("PRODUCTIVE_BASE_URL", base)
    async with pa.Productive() as client:
        await client.invoices.get(1)
    sent = state.requests[0].headers
    assert sent["X-Auth-Token"] == "env-token" and sent["X-Organization-Id"] == "77"
    assert sent["User-Agent"].startswith(f"productive-async/{pa.__version__} Python/3.")


def test_missing_settings_name_the_environment_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PRODUCTIVE_API_TOKEN", raising=False)
    monkeypatch.delenv("PRODUCTIVE_ORGANIZATION_ID", raising=False)
    with pytest.raises(pa.InvalidRequestError, match="PRODUCTIVE_API_TOKEN"):
        pa.Productive()
    with pytest.raises(pa.InvalidRequestError, match="PRODUCTIVE_ORGANIZATION_ID"):
        pa.Productive("t")


async def test_with_options_changes_timeouts_and_retries_for_some_calls_only(
    server: tuple[Server, str],
) -> None:
    state, base = server
    state.delay = 0.3
    async with pa.Productive("t", "1", base_url=base) as client:
        hasty = client.with_options(timeouts=pa.Timeouts(total=0.1), max_retries=0)
        with pytest.raises(pa.TransportError, match=r"no answer within 0\.1 s"):
            await hasty.invoices.get(1)
        assert (await client.invoices.get(1)).id == "1"  # the original keeps its settings
        assert hasty.gate is client.gate  # one rate budget
        assert client.stats is hasty.stats and client.stats["attempts"] == 2
    with pytest.raises(pa.InvalidRequestError, match="max_retries"):
        client.with_options(max_retries=-1)


async def test_with_options_shares_one_session_and_closing_either_closes_it(
    server: tuple[Server, str],
) -> None:
    _, base = server
    client = pa.Productive("t", "1", base_url=base)
    other = client.with_options(strict=False)
    await client.invoices.get(1)
    await other.invoices.get(1)
    assert other._transport._get_session() is client._transport._get_session()
    await other.close()
    with pytest.raises(pa.InvalidRequestError, match="closed"):
        await client.invoices.get(1)


async def test_the_answer_behind_a_result_is_reachable(server: tuple[Server, str]) -> None:
    _, base = server
    async with pa.Productive("t", "1", base_url=base) as client:
        invoice = await client.invoices.get(1)
        info = pa.response_of(invoice)
        assert info is not None and info.status == 200 and info.request_id == "req-1"
        assert info.headers["x-request-id"] == "req-1"
        assert pa.response_of(pickle.loads(pickle.dumps(invoice))) == info
        async for page in client.invoices.list().pages():
            assert page.response is not None and page.response.request_id == "req-2"
            assert pa.response_of(page.records[0]) is None
        document = await client.request("GET", "invoices/1")
        assert document.response is not None and document.response.request_id == "req-3"


async def test_error_messages_carry_the_request_id_and_say_the_detail_once(
    server: tuple[Server, str],
) -> None:
    state, base = server
    state.status = 400
    state.errors = [{"status": "400", "title": "Unsupported Filter",
                     "detail": "Unsupported filter: bogus"}]
    async with pa.Productive("t", "1", base_url=base, strict=False) as client:
        with pytest.raises(pa.BadRequestError) as caught:
            await client.invoices.list(filters={"bogus": 1}).to_list()
    message = str(caught.value)
    assert message == "GET invoices -> 400: Unsupported filter: bogus [request id req-1]"
    assert caught.value.request_id == "req-1"


async def test_a_401_names_the_token_and_the_organization_id(
    server: tuple[Server, str],
) -> None:
    state, base = server
    state.status = 401
    state.errors = [{"status": "401", "title": "Unauthorized",
                     "detail": "Invalid authentication token", "code": "invalid_auth_token"}]
    async with pa.Productive("secret-tok", "999", base_url=base) as client:
        with pytest.raises(pa.AuthenticationError) as caught:
            await client.invoices.get(1)
    assert "organization id (X-Organization-Id: 999)" in str(caught.value)
    assert "secret-tok" not in str(caught.value)


async def test_a_404_from_a_base_url_without_api_v2_says_so(
    server: tuple[Server, str],
) -> None:
    state, base = server
    state.status = 404
    state.errors = [{"status": "404", "title": "Not Found", "detail": "Route Not Found"}]
    async with pa.Productive("t", "1", base_url=base.removesuffix("api/v2/")) as client:
        with pytest.raises(pa.NotFoundError, match="does not end with /api/v2/"):
            await client.invoices.get(1)
    async with pa.Productive("t", "1", base_url=base) as client:
        with pytest.raises(pa.NotFoundError) as caught:
            await client.invoices.get(1)
    assert "api/v2" not in str(caught.value).split("->")[1]
