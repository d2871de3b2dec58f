"""Custom actions of the sandbox: one handler per (JSON:API type, action name).

A handler gets the :class:`~._rules.Rules` (store, today, trial flag, helpers), the resource and
action specs, the record for member actions (``None`` for collection actions), the request
body's ``data.attributes`` (``{}`` when there is no body) and the query string, and returns an
:class:`~._rules.Outcome`. Actions without a handler fall back to the generic behaviour in
``Rules.action`` (apply the attributes, answer the record).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .._registry import ActionSpec, ResourceSpec
from ._store import Record

if TYPE_CHECKING:
    from ._rules import Outcome, Rules

ActionHandler = Callable[
    ["Rules", ResourceSpec, ActionSpec, "Record | None", dict[str, Any], Mapping[str, str]],
    "Outcome",
]

#: Handlers by (JSON:API type, action name).
HANDLERS: dict[tuple[str, str], ActionHandler] = {}
