"""Bulk operations: the JSON:API bulk extension, and concurrent creates where it is missing.

Rules (``shared/productive-api/README.md``, "Bulk"; seed 000 FAQ): bulk requests set both
``Content-Type`` and ``Accept`` to ``application/vnd.api+json; ext=bulk`` and send
``{"data": [...]}``: ``POST`` to create (time entries), ``PATCH`` with ``{id, type, attributes}``
to update, ``DELETE`` with ``{id, type}`` to delete. Deals/budgets have bulk update and delete
but no bulk create: :meth:`~productive_async.ResourceClient.create_many` creates one by one,
concurrently within the rate limits.

Every bulk call returns a :class:`BulkResult` with one :class:`ItemOutcome` per input item, in
input order: the record (or ``None`` for deletes) or the error. A batch the API rejects is
all-or-nothing: items the API named (``source.pointer`` ``data/<index>/...``) carry their own
errors, the others a :class:`~productive_async.BatchRejectedError` (not applied), and when the
API named no item every item carries the batch's error. Nothing is dropped silently.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from ._errors import (
    APIError,
    BatchRejectedError,
    BulkError,
    ErrorObject,
    InvalidRequestError,
    NotAttemptedError,
    ProductiveError,
)
from ._models import Record

if TYPE_CHECKING:
    from ._registry import ResourceSpec

#: Items per bulk request unless the call says otherwise.
DEFAULT_CHUNK_SIZE = 100


@attrs.frozen
class ItemOutcome:
    """What happened to one input item: ``record`` on success (``None`` for a delete),
    ``error`` on failure. ``index`` is its position in the input."""

    index: int
    item: Any
    record: Record | None = None
    error: ProductiveError | None = None

    @property
    def ok(self) -> bool:
        """True when the item succeeded."""
        return self.error is None


@attrs.frozen
class BulkResult(Sequence[ItemOutcome]):
    """Every item's outcome, in input order."""

    outcomes: tuple[ItemOutcome, ...]

    def __len__(self) -> int:
        return len(self.outcomes)

    def __getitem__(self, index: int) -> ItemOutcome:  # type: ignore[override]
        return self.outcomes[index]

    def __iter__(self) -> Iterator[ItemOutcome]:
        return iter(self.outcomes)

    @property
    def ok(self) -> bool:
        """True when every item succeeded."""
        return all(o.ok for o in self.outcomes)

    @property
    def records(self) -> list[Record]:
        """The records of the items that succeeded (creates and updates)."""
        return [o.record for o in self.outcomes if o.ok and o.record is not None]

    @property
    def failed(self) -> list[ItemOutcome]:
        """The outcomes that carry an error."""
        return [o for o in self.outcomes if not o.ok]

    def raise_for_errors(self) -> BulkResult:
        """Raise :class:`~productive_async.BulkError` if any item failed; else return self."""
        failed = self.failed
        if failed:
            raise BulkError(self, len(failed), len(self.outcomes))
        return self


def _chunks(items: Sequence[Any], size: int) -> Iterator[tuple[int, Sequence[Any]]]:
    if size < 1:
        raise InvalidRequestError(f"chunk_size must be >= 1, not {size}")
    for start in range(0, len(items), size):
        yield start, items[start:start + size]


def _item_errors(error: APIError, count: int) -> dict[int, APIError]:
    """Split a rejected batch's error objects by ``data/<index>`` pointer."""
    by_index: dict[int, list[ErrorObject]] = {}
    for obj in error.errors:
        pointer = obj.pointer or ""
        parts = pointer.split("/")
        if len(parts) >= 2 and parts[0] == "data" and parts[1].isdigit():
            index = int(parts[1])
            if index < count:
                by_index.setdefault(index, []).append(obj)
    return {
        index: type(error)(error.status, objs, method=error.method, path=error.path,
                           headers=error.headers)
        for index, objs in by_index.items()
    }


async def run_bulk(
    spec: ResourceSpec,
    operation: str,
    items: Sequence[Any],
    chunk_size: int,
    send: Callable[[Sequence[Any]], Awaitable[Sequence[Record | None] | None]],
) -> BulkResult:
    """Send ``items`` in chunks with ``send`` (one bulk request each, in order) and collect one
    outcome per item. ``send`` returns the records in item order (``None`` for deletes)."""
    if operation not in spec.bulk:
        hint = " (use create_many() to create concurrently)" if operation == "create" else ""
        raise InvalidRequestError(
            f"{spec.name} has no bulk {operation} in the API{hint}"
        )
    items = list(items)
    outcomes: list[ItemOutcome] = []
    for start, chunk in _chunks(items, chunk_size):
        try:
            records = await send(chunk)
        except APIError as exc:
            per_item = _item_errors(exc, len(chunk))
            fallback: ProductiveError = BatchRejectedError(exc) if per_item else exc
            for offset, item in enumerate(chunk):
                outcomes.append(ItemOutcome(start + offset, item,
                                            error=per_item.get(offset, fallback)))
            continue
        except ProductiveError as exc:
            outcomes.extend(ItemOutcome(start + offset, item, error=exc)
                            for offset, item in enumerate(chunk))
            continue
        except Exception as exc:
            # Not an answer of the API: stop, and report what happened to every item.
            for offset, item in enumerate(items[start:]):
                outcomes.append(ItemOutcome(start + offset, item, error=NotAttemptedError(
                    f"item {start + offset}: "
                    + (f"unknown: its batch failed with {type(exc).__name__}: {exc}"
                       if offset < len(chunk) else "not sent, an earlier batch failed"))))
            result = BulkResult(tuple(outcomes))
            raise BulkError(result, len(result.failed), len(result)) from exc
        if records is None:
            outcomes.extend(ItemOutcome(start + offset, item)
                            for offset, item in enumerate(chunk))
            continue
        for offset, item in enumerate(chunk):
            record = records[offset] if offset < len(records) else None
            outcomes.append(ItemOutcome(start + offset, item, record=record))
    return BulkResult(tuple(outcomes))


def order_by_ids(records: list[Record], ids: Sequence[str]) -> list[Record | None]:
    """The records of a bulk update answer, in the order of the ids sent."""
    by_id = {r.id: r for r in records}
    return [by_id.get(i) for i in ids]


async def create_many(
    create: Callable[[Mapping[str, Any]], Awaitable[Record]],
    items: Sequence[Mapping[str, Any]],
    concurrency: int,
) -> BulkResult:
    """Create each item with its own ``POST`` (at most ``concurrency`` in flight; the client's
    rate limits apply to each); outcomes in input order.

    An API or transport failure is that item's outcome and the others go on. Anything else
    (a bug, a value that cannot be sent) stops the run: no further item is started, the ones
    in flight finish, and :class:`~productive_async.BulkError` is raised (chained to the
    cause) whose ``result`` has every item's outcome, the items never sent carrying
    :class:`~productive_async.NotAttemptedError`. Cancelling the call cancels the items in
    flight and starts no more."""
    if concurrency < 1:
        raise InvalidRequestError(f"concurrency must be >= 1, not {concurrency}")
    items = list(items)
    outcomes: list[ItemOutcome | None] = [None] * len(items)
    stopped: list[BaseException] = []
    semaphore = asyncio.Semaphore(concurrency)

    async def one(index: int, item: Mapping[str, Any]) -> None:
        if not isinstance(item, Mapping):
            error = InvalidRequestError(f"item {index}: expected a mapping of values")
            outcomes[index] = ItemOutcome(index, item, error=error)
            return
        async with semaphore:
            if stopped:
                return  # left as not attempted
            try:
                outcomes[index] = ItemOutcome(index, item, record=await create(item))
            except ProductiveError as exc:
                outcomes[index] = ItemOutcome(index, item, error=exc)
            except Exception as exc:
                stopped.append(exc)
                outcomes[index] = ItemOutcome(index, item, error=NotAttemptedError(
                    f"item {index}: the run stopped here: {type(exc).__name__}: {exc}"))

    await asyncio.gather(*(one(i, item) for i, item in enumerate(items)))
    result = BulkResult(tuple(
        outcome if outcome is not None else ItemOutcome(index, items[index], error=(
            NotAttemptedError(f"item {index}: not sent, the run stopped at an earlier item")))
        for index, outcome in enumerate(outcomes)
    ))
    if stopped:
        raise BulkError(result, len(result.failed), len(result)) from stopped[0]
    return result
