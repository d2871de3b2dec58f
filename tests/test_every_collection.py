"""Every collection of the registry, end to end over loopback against the sandbox: list, get,
create, update, delete and each custom action, through the typed ``client.<collection>``
facades (the same engine as every other call).

Values for writes are made from the registry (each write field's kind), so a collection added
to the registry is covered without a line here. What the API may refuse (an action's
documented validations: finalize an invoice without lines, approve twice ...) is accepted as a
4xx :class:`~productive_async.APIError`; a 404 for a record just made, a 5xx, a decode error or
a wrong result type fails the test.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from conftest import sandbox_client

import productive_async as pa
from productive_async import sandbox
from productive_async._models import MODELS
from productive_async._registry import AttributeSpec, ResourceSpec

REGISTRY = pa.default_registry()
COLLECTIONS = sorted(s.name for s in REGISTRY.collections)
#: The new core types of the project-work side: the sandbox's demo data has records of each.
WITH_DEMO_DATA = ("boards", "folders", "task_lists", "tasks", "pages", "comments", "timesheets",
                  "activities", "deleted_items", "webhooks")


@pytest.fixture(scope="module")
def box() -> sandbox.Sandbox:
    return sandbox.Sandbox(scale=0.05, rate_limits=None, today=dt.date(2026, 1, 15))


@pytest.fixture
async def client(box: sandbox.Sandbox) -> AsyncIterator[pa.Productive]:
    async with box.serve() as url, sandbox_client(url) as c:
        yield c


_SAMPLES: dict[str, Any] = {
    "string": "sandbox test", "integer": 1, "money": 1000, "number": 1.5, "boolean": True,
    "date": dt.date(2026, 1, 15), "datetime": dt.datetime(2026, 1, 15, 9, tzinfo=dt.UTC),
    "decimal": Decimal("1.5"), "object": {}, "array": [], "any": "sandbox test",
}


def sample(attr: AttributeSpec) -> Any:
    """A value of the attribute's kind (an enum's first documented value where it has one)."""
    if attr.enum and REGISTRY.enums[attr.enum].values:
        enum = REGISTRY.enums[attr.enum]
        first = sorted(enum.values)[0]
        return int(first) if enum.kind == "integer" else first
    return _SAMPLES[attr.kind]


async def some_id(client: pa.Productive, type_: str) -> str | None:
    spec = REGISTRY.spec_for_type(type_)
    if spec is None or "list" not in spec.operations:
        return None
    first = await client.resource(spec.name).list().first()
    return None if first is None else first.id


async def write_values(client: pa.Productive, spec: ResourceSpec, names: Any,
                       required_only: bool) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in sorted(names):
        if required_only and not spec.create.get(name):
            continue
        if name in spec.attributes:
            values[name] = sample(spec.attributes[name])
        elif name in spec.relationships:
            rel = spec.relationships[name]
            target = await some_id(client, rel.type)
            if target is not None:
                values[name] = [pa.Ref(rel.type, target)] if rel.many else pa.Ref(rel.type, target)
    return values


def check_record(spec: ResourceSpec, record: Any) -> None:
    assert isinstance(record, pa.Record)
    expected = MODELS.get(spec.type)
    if expected is not None:
        assert isinstance(record, expected), (spec.name, type(record))


def acceptable(exc: pa.APIError) -> bool:
    """A documented refusal (400/403/409/422), not a missing route or a crash."""
    return exc.status in (400, 403, 409, 422)


@pytest.mark.parametrize("name", COLLECTIONS)
async def test_collection_end_to_end(client: pa.Productive, name: str) -> None:
    spec = REGISTRY[name]
    facade = getattr(client, name)
    record_id: str | None = None
    if "list" in spec.operations:
        records = await facade.list(max_items=3).to_list()
        for record in records:
            check_record(spec, record)
        if records:
            record_id = records[0].id
    if "create" in spec.operations:
        values = await write_values(client, spec, spec.create, required_only=True)
        try:
            created = await facade.create(**values)
        except pa.APIError as exc:
            assert acceptable(exc), (name, exc)
        else:
            check_record(spec, created)
            record_id = created.id
    if record_id is None:
        return
    if "get" in spec.operations:
        check_record(spec, await facade.get(record_id))
    if "update" in spec.operations and spec.update:
        values = await write_values(client, spec, sorted(spec.update)[:1], required_only=False)
        try:
            check_record(spec, await facade.update(record_id, **values))
        except pa.APIError as exc:
            assert acceptable(exc), (name, exc)
    for action in sorted(spec.actions.values(), key=lambda a: a.name):
        method = getattr(facade, action.name)
        args: list[Any] = [record_id] if action.scope == "member" else []
        if action.payload == "bulk":
            args.append([record_id])
        try:
            result = await method(*args)
        except pa.APIError as exc:
            assert acceptable(exc), (name, action.name, exc)
            continue
        if action.result == "record":
            assert isinstance(result, pa.Record), (name, action.name)
        elif action.result in ("records", "items"):
            assert isinstance(result, list), (name, action.name)
        else:
            assert result is None
    if "delete" in spec.operations:
        try:
            await facade.delete(record_id)
        except pa.APIError as exc:
            assert acceptable(exc), (name, exc)


@pytest.mark.parametrize("name", [n for n in WITH_DEMO_DATA if n in REGISTRY])
async def test_new_core_types_have_demo_records(client: pa.Productive, name: str) -> None:
    records = await client.resource(name).list().to_list()
    assert records, name
    expected = MODELS.get(REGISTRY[name].type, pa.Record)
    assert all(isinstance(r, expected) for r in records)
