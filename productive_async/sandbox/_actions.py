"""Custom actions of the sandbox: one handler per (JSON:API type, action name).

A handler gets the :class:`~._rules.Rules` (store, today, trial flag, current user, helpers) and
an :class:`ActionCall` (resource and action specs, the record of a member action, the body's
``data.attributes`` -- ``{}`` when there is no body --, a bulk body's ``data`` list and the query
string) and returns an :class:`~._rules.Outcome`, or None to fall back to the generic behaviour
of ``Rules.action`` (apply the attributes, answer the record). ``("*", name)`` handles the action
``name`` of every resource without a handler of its own (archive/restore).

Each handler's docstring names the documented rule it follows (seed file and section, or the
API reference README). Where the documentation says nothing the behaviour is the sandbox's own
choice, said so in the docstring. Timestamps come from ``Rules.now()``, dates from
``Rules.today``; "the current user" is ``Rules.current_user()`` (the token's person).

Invoicing arithmetic (``GET /invoices/{id}/preview`` and ``POST /line_items/generate``, one
computation for both, see :func:`_plan_lines`), all money in cents of the budget's currency:

- a budget's or service's *value* is its ``budget_total`` (services' price x quantity, the
  planned revenue), or its ``revenue`` when that is not set;
- ``percentage``: quantity ``percentage / 100``, unit price the value (per budget, or per service
  of the budget), unit "Piece";
- ``uninvoiced_amount``: quantity 1, unit price the value less what is already invoiced
  (budget: the sum of its invoice attributions; service: the sum of its line items), drafts
  included; nothing when that is not positive;
- ``uninvoiced_time_and_expenses``: the budget's time entries not yet invoiced with billable
  time (within ``date_from``..``date_to``), per service ``quantity`` = hours (2 decimals) at the
  service's ``hourly_rate`` (unit "Hour"), or per budget one "Piece" of the total; plus one line
  item per approved expense of the budget's services not yet on a line item, at its
  ``billable_amount``. Generating marks those time entries ``invoiced``;
- a line item's ``amount`` is ``round(quantity x unit_price)``; items worth nothing are left out;
  one invoice attribution per budget carries the sum of that budget's items.
"""

from __future__ import annotations

import calendar
import copy
import datetime as dt
import hashlib
import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs
from multidict import MultiMapping

from .._registry import ActionSpec, ResourceSpec
from ._documents import parse_date
from ._rules import (
    ErrorList,
    Outcome,
    Rules,
    add_days,
    conflict,
    invalid,
    money,
    number,
    rel_id,
    status_of,
)
from ._store import Record, numeric


@attrs.frozen
class ActionCall:
    """One custom action request, as the handler sees it."""

    spec: ResourceSpec
    action: ActionSpec
    record: Record | None
    attributes: dict[str, Any]
    items: list[Any]
    query: MultiMapping[str]

    @property
    def member(self) -> Record:
        """The record of a member action (the server answered 404 when there is none)."""
        assert self.record is not None, f"{self.action.name} is a member action"
        return self.record


ActionHandler = Callable[[Rules, ActionCall], "Outcome | None"]

#: Handlers by (JSON:API type, action name); type ``"*"``: any type without its own handler.
HANDLERS: dict[tuple[str, str], ActionHandler] = {}


def handles(type_: str, *actions: str) -> Callable[[ActionHandler], ActionHandler]:
    """Register the decorated function for ``type_``'s ``actions``."""

    def register(handler: ActionHandler) -> ActionHandler:
        for action in actions:
            HANDLERS[(type_, action)] = handler
        return handler

    return register


def _fail(status: int, *errors: dict[str, Any]) -> Outcome:
    return Outcome(status, errors=list(errors))


def _touch(rules: Rules, record: Record) -> None:
    """Note a change on ``record``: its ``updated_at`` and ``last_activity_at``."""
    now = rules.now()
    for name in ("updated_at", "last_activity_at"):
        if name in record["attributes"]:
            record["attributes"][name] = now


def _person(record: Record | None) -> dict[str, str] | None:
    return None if record is None else {"type": "people", "id": record["id"]}


def _ids(value: Any) -> list[str]:
    """Ids given as a list, a single id or a comma-separated string."""
    if value is None or value == "":
        return []
    values = value if isinstance(value, (list, tuple)) else str(value).split(",")
    return [str(v).strip() for v in values if str(v).strip()]


def _by_id(records: Iterable[Record]) -> list[Record]:
    return sorted(records, key=lambda r: (len(r["id"]), r["id"]))


# =============================================================================== invoices


@handles("invoices", "finalize")
def finalize_invoice(rules: Rules, call: ActionCall) -> Outcome:
    """Seed 004 "Finalizes an invoice": a draft gets ``finalized_on`` (today),
    ``finalized_at`` and its number -- the ``number`` attribute if given, else the next in
    sequence (see :func:`_next_number`). An invoice needs ``invoiced_on`` and ``currency``;
    finalizing a finalized invoice is a 422 (sandbox's wording: "already finalized")."""
    invoice = call.member
    a = invoice["attributes"]
    if a.get("finalized_on"):
        return _fail(422, invalid("base", "already finalized"))
    errors = [invalid(name, "can't be blank") for name in ("invoiced_on", "currency")
              if not a.get(name)]
    if errors:
        return _fail(422, *errors)
    given = call.attributes.get("number")
    a["number"] = str(given) if given not in (None, "") else _next_number(rules, invoice)
    a["finalized_on"] = rules.today.isoformat()
    a["finalized_at"] = rules.now()
    _touch(rules, invoice)
    _refresh_budgets(rules, _attributed_budgets(rules, invoice["id"]))
    return Outcome(200, record=invoice)


_NUMBER = re.compile(r"([0-9]{4})/(CN)?([0-9]{1,18})")


def _next_number(rules: Rules, invoice: Record) -> str:
    """The demo data's numbering: ``YYYY/NNNN`` per year of ``invoiced_on`` (credit notes,
    ``invoice_type_id`` 2: ``YYYY/CNNNN``), one more than the highest of that year, as wide."""
    year = str(invoice["attributes"].get("invoiced_on") or rules.today.isoformat())[:4]
    credit = invoice["attributes"].get("invoice_type_id") in (2, "2")
    highest, width = 0, 3 if credit else 4
    for other in rules.store.table("invoices").values():
        match = _NUMBER.fullmatch(str(other["attributes"].get("number") or ""))
        if match and match[1] == year and bool(match[2]) == credit and (
            int(match[3]) >= highest
        ):
            highest, width = int(match[3]), len(match[3])
    return f"{year}/{'CN' if credit else ''}{highest + 1:0{width}d}"


_EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")
_RECIPIENTS = ("to", "cc", "bcc")


def _addresses(value: Any) -> list[str]:
    if value is None:
        return []
    values = value if isinstance(value, (list, tuple)) else str(value).split(",")
    return [str(v).strip() for v in values if str(v).strip()]


@handles("invoices", "send")
def send_invoice(rules: Rules, call: ActionCall) -> Outcome:
    """Seed 004 "Sends an invoice": ``to``, ``subject`` and ``body`` can't be blank and every
    address of ``to``/``cc``/``bcc`` must be an e-mail (422s in that order, example 53); then,
    in a trial account, only the current user's own address may receive it (403
    ``restricted_email_in_trialing``, example 54). Sets ``sent_on`` to today (example 55)."""
    invoice = call.member
    recipients = {name: _addresses(call.attributes.get(name)) for name in _RECIPIENTS}
    errors: ErrorList = []
    if not recipients["to"]:
        errors.append(invalid("to", "can't be blank"))
    for name in _RECIPIENTS:
        errors.extend(invalid(name, f"{address} is not an email")
                      for address in recipients[name] if not _EMAIL.match(address))
    errors.extend(invalid(name, "can't be blank") for name in ("subject", "body")
                  if not str(call.attributes.get(name) or "").strip())
    if errors:
        return _fail(422, *errors)
    if rules.trial:
        user = rules.current_user()
        own = str((user or {}).get("attributes", {}).get("email") or "").lower()
        if any(a.lower() != own for name in _RECIPIENTS for a in recipients[name]):
            return _fail(403, {"status": "403", "code": "restricted_email_in_trialing",
                               "title": "Access Denied",
                               "detail": "When in trial you can send emails only to yourself",
                               "source": {}})
    invoice["attributes"]["sent_on"] = rules.today.isoformat()
    _touch(rules, invoice)
    return Outcome(200, record=invoice)


@handles("invoices", "send_einvoice")
def send_einvoice(rules: Rules, call: ActionCall) -> Outcome:
    """Not in the seeds; the sandbox's choice: an e-invoice can only be sent once finalized
    (422 on ``base`` otherwise); sets ``sent_on`` to today."""
    invoice = call.member
    if not invoice["attributes"].get("finalized_on"):
        return _fail(422, invalid("base", "invoice must be finalized"))
    invoice["attributes"]["sent_on"] = rules.today.isoformat()
    _touch(rules, invoice)
    return Outcome(200, record=invoice)


#: ``integration_type_id`` of accounting integrations (seed 001): QuickBooks 2, Xero 3,
#: Exact 4, e-conomic 13, Fortnox 15, Twinfield 19, Sage 21, NetSuite 26, Sage Intacct 27,
#: DATEV 29.
ACCOUNTING_TYPES = frozenset({2, 3, 4, 13, 15, 19, 21, 26, 27, 29})
_EXPORT_URLS = {
    2: "https://app.qbo.intuit.com/app/invoice?txnId={id}",
    3: "https://go.xero.com/AccRec/View.aspx?InvoiceID={id}",
}


def _connected(integration: Record) -> bool:
    a = integration["attributes"]
    return bool(a.get("connected_at")) and not a.get("deactivated_at")


def _accounting_integration(rules: Rules, invoice: Record) -> Record | None:
    """The connected accounting integration an invoice is copied to: the one of the invoice's
    subsidiary if there is one, else the first."""
    candidates = [i for i in _by_id(rules.store.table("integrations").values())
                  if _connected(i) and i["attributes"].get("integration_type_id") in (
                      ACCOUNTING_TYPES)]
    subsidiary = rel_id(invoice, "subsidiary")
    own = [i for i in candidates if subsidiary and rel_id(i, "subsidiary") == subsidiary]
    found = own or candidates
    return found[0] if found else None


def _feature_unavailable() -> Outcome:
    return _fail(422, invalid("export_to_accounting", "feature unavailable"))


@handles("invoices", "export")
def export_invoice(rules: Rules, call: ActionCall) -> Outcome:
    """Seed 000 FAQ "Copy to accounting" and seed 004 "Exports an invoice": needs a connected
    accounting integration (else 422 "feature unavailable", as export_update's example); every
    tax rate of the invoice's line items must be in the integration's ``tax_rate_mapping``
    (keyed by tax rate id; else 422 ``tax_rates_not_mapped``, example 40). Sets ``exported``,
    ``exported_at``, ``export_id``, ``export_invoice_url``, ``export_integration_type_id`` and
    the ``company_reference_id`` attribute when sent (examples 41-43)."""
    invoice = call.member
    integration = _accounting_integration(rules, invoice)
    if integration is None:
        return _feature_unavailable()
    mapping = integration["attributes"].get("tax_rate_mapping") or {}
    mapped = {str(k) for k, v in mapping.items() if v not in (None, "")}
    used = {rel_id(item, "tax_rate") for item in _line_items(rules, invoice["id"])}
    if used - mapped - {None}:
        return _fail(422, invalid("tax_rate", "Tax rates not mapped",
                                  code="tax_rates_not_mapped"))
    a = invoice["attributes"]
    if "company_reference_id" in call.attributes:
        reference = call.attributes["company_reference_id"]
        a["company_reference_id"] = None if reference is None else str(reference)
    type_id = integration["attributes"]["integration_type_id"]
    seed = f"{integration['id']}-{invoice['id']}".encode()
    export_id = a.get("export_id") or hashlib.md5(seed, usedforsecurity=False).hexdigest()
    a.update(exported=True, exported_at=rules.now(), export_id=export_id,
             export_integration_type_id=type_id,
             export_invoice_url=_EXPORT_URLS.get(
                 type_id, "https://accounting.example/invoices/{id}").format(id=export_id))
    _touch(rules, invoice)
    return Outcome(200, record=invoice)


@handles("invoices", "export_update")
def update_exported_invoice(rules: Rules, call: ActionCall) -> Outcome:
    """Seed 004 "Updates an exported invoice": an invoice never exported is a 422 "feature
    unavailable" on ``export_to_accounting`` (example 45); else ``exported_at`` is refreshed."""
    invoice = call.member
    if not invoice["attributes"].get("exported"):
        return _feature_unavailable()
    invoice["attributes"]["exported_at"] = rules.now()
    _touch(rules, invoice)
    return Outcome(200, record=invoice)


# -------------------------------------------------------------------- line item generator

_METHODS = ("uninvoiced_time_and_expenses", "uninvoiced_amount", "percentage")
_UNITS = {1: "Hour", 2: "Piece", 3: "Day"}


@attrs.define
class _Plan:
    """What the line item generator was asked for, validated."""

    invoice: Record
    budgets: list[Record]
    method: str
    by: str
    percentage: float
    display_format: str
    expense_format: str
    date_from: dt.date | None
    date_to: dt.date | None


@attrs.define
class _Line:
    """One line item the generator makes (not stored yet)."""

    budget: Record
    service: Record | None
    service_type: Record | None
    description: str
    unit_id: int
    quantity: float
    unit_price: int
    time_entries: list[Record] = attrs.field(factory=list)
    expense: Record | None = None

    @property
    def amount(self) -> int:
        return round(self.quantity * self.unit_price)


def _query_options(query: MultiMapping[str]) -> dict[str, Any]:
    """The generator's options from a query string (``budget_ids[]=1&budget_ids[]=2``)."""
    options: dict[str, Any] = {k: v for k, v in query.items() if not k.endswith("[]")}
    options["budget_ids"] = [*query.getall("budget_ids[]", []),
                             *_ids(query.get("budget_ids"))]
    return options


def _plan(rules: Rules, invoice: Record | None, options: Mapping[str, Any]
          ) -> tuple[_Plan | None, ErrorList]:
    """Validate the generator's options (seed 004 "Preview invoice" parameters and example 74):
    ``budget_ids`` and ``invoicing_method`` required, ``invoicing_by`` (service|budget) for
    uninvoiced_amount and percentage, ``percentage`` a number for percentage, ``locale`` for
    uninvoiced_time_and_expenses; budgets must exist, be budgets and share the invoice's
    currency (seed 004 "Invoicing flow"). ``display_format`` defaults to ``{budget}`` or
    ``{service}`` (the sandbox's choice)."""
    errors: ErrorList = []
    ids = _ids(options.get("budget_ids"))
    if not ids:
        errors.append(invalid("budget_ids", "can't be blank"))
    method = str(options.get("invoicing_method") or "")
    if not method:
        errors.append(invalid("invoicing_method", "can't be blank"))
    elif method not in _METHODS:
        errors.append(invalid("invoicing_method", "is not included in the list"))
    by = str(options.get("invoicing_by") or "")
    if not by and method in ("uninvoiced_amount", "percentage"):
        errors.append(invalid("invoicing_by", "can't be blank"))
    elif by and by not in ("service", "budget"):
        errors.append(invalid("invoicing_by", "is not included in the list"))
    percentage = 0.0
    if method == "percentage":
        raw: Any = options.get("percentage")
        if raw in (None, ""):
            errors.append(invalid("percentage", "can't be blank"))
        try:
            percentage = float(raw)
        except (TypeError, ValueError):
            percentage = math.nan
        if not math.isfinite(percentage):
            errors.append(invalid("percentage", "is not a number"))
        elif percentage <= 0:
            errors.append(invalid("percentage", "must be greater than 0"))
    if method == "uninvoiced_time_and_expenses" and not options.get("locale"):
        errors.append(invalid("locale", "can't be blank"))
    dates: dict[str, dt.date | None] = {}
    for name in ("date_from", "date_to"):
        raw = options.get(name)
        dates[name] = parse_date(raw)
        if raw not in (None, "") and dates[name] is None:
            errors.append(invalid(name, "is not a date"))
    budgets: list[Record] = []
    currency = (invoice or {}).get("attributes", {}).get("currency")
    for id_ in ids:
        budget = rules.store.get("deals", id_)
        if budget is None:
            errors.append(invalid("budget_ids", "attribute is invalid"))
        elif not budget["attributes"].get("budget"):
            errors.append(invalid("budget_ids", f"{id_} is not a budget"))
        elif currency and budget["attributes"].get("currency") not in (None, currency):
            errors.append(invalid("budget_ids", "must have the same currency as the invoice"))
        else:
            budgets.append(budget)
    if errors or invoice is None:
        return None, errors
    by = by or "service"
    return _Plan(
        invoice, budgets, method, by, percentage,
        str(options.get("display_format") or ("{budget}" if by == "budget" else "{service}")),
        str(options.get("expense_display_format") or "{expense}"),
        dates["date_from"], dates["date_to"],
    ), []


def _value(record: Record) -> int:
    """A budget's or service's value: its planned revenue ``budget_total``, else ``revenue``."""
    a = record["attributes"]
    return int(a.get("budget_total") or a.get("revenue") or 0)


def _services(rules: Rules, budget: Record) -> list[Record]:
    services = [s for s in rules.store.table("services").values()
                if rel_id(s, "deal") == budget["id"]]
    return sorted(services, key=lambda s: (s["attributes"].get("position") or 0,
                                           len(s["id"]), s["id"]))


def _line_items(rules: Rules, invoice_id: str) -> list[Record]:
    return [i for i in rules.store.table("line_items").values()
            if rel_id(i, "invoice") == invoice_id]


def _invoiced(rules: Rules, type_: str, link: str, id_: str) -> int:
    """What is already invoiced: the amounts of ``type_`` records whose ``link`` is ``id_``."""
    return sum(int(r["attributes"].get("amount") or 0)
               for r in rules.store.table(type_).values() if rel_id(r, link) == id_)


def _describe(template: str, **names: Any) -> str:
    text = template
    for key, value in names.items():
        text = text.replace("{" + key + "}", str(value or ""))
    return text


def _in_range(plan: _Plan, day: Any) -> bool:
    date = parse_date(day)
    if date is None:
        return plan.date_from is None and plan.date_to is None
    return (plan.date_from is None or date >= plan.date_from) and (
        plan.date_to is None or date <= plan.date_to)


@attrs.define
class _LineMaker:
    """Makes the :class:`_Line` objects of one budget."""

    rules: Rules
    plan: _Plan
    budget: Record
    services: list[Record]

    def __call__(self, service: Record | None, unit_id: int, quantity: float,
                 unit_price: int, **extra: Any) -> _Line:
        """A line of ``service`` (None: of the whole budget, typed as its first service)."""
        first = service or (self.services[0] if self.services else None)
        type_id = rel_id(first, "service_type") if first else None
        service_type = self.rules.store.get("service_types", type_id) if type_id else None
        description = _describe(
            self.plan.display_format, budget=self.budget["attributes"].get("name"),
            service=(service or {}).get("attributes", {}).get("name"),
            service_type=(service_type or {}).get("attributes", {}).get("name"))
        return _Line(self.budget, service, service_type, description, unit_id, quantity,
                     unit_price, **extra)


def _plan_lines(rules: Rules, plan: _Plan) -> list[_Line]:
    """The line items for ``plan`` (module docstring: "Invoicing arithmetic")."""
    lines: list[_Line] = []
    for budget in plan.budgets:
        services = _services(rules, budget)
        line = _LineMaker(rules, plan, budget, services)
        if plan.method == "percentage":
            share = plan.percentage / 100
            if plan.by == "budget":
                lines.append(line(None, 2, share, _value(budget)))
            else:
                lines.extend(line(s, 2, share, _value(s)) for s in services)
        elif plan.method == "uninvoiced_amount":
            if plan.by == "budget":
                rest = _value(budget) - _invoiced(rules, "invoice_attributions", "budget",
                                                  budget["id"])
                lines.append(line(None, 2, 1.0, rest))
            else:
                lines.extend(line(s, 2, 1.0, _value(s) - _invoiced(rules, "line_items",
                                                                  "service", s["id"]))
                             for s in services)
        else:
            lines.extend(_time_and_expense_lines(rules, plan, services, line))
    return [item for item in lines if item.amount > 0]


def _time_and_expense_lines(rules: Rules, plan: _Plan, services: list[Record],
                            line: _LineMaker) -> list[_Line]:
    """``uninvoiced_time_and_expenses`` for one budget's ``services``."""
    by_service = {s["id"]: s for s in services}
    entries: dict[str, list[Record]] = {}
    for entry in rules.store.table("time_entries").values():
        service_id = rel_id(entry, "service") or ""
        a = entry["attributes"]
        if service_id in by_service and not a.get("invoiced") and (
            a.get("billable_time") or 0
        ) > 0 and _in_range(plan, a.get("date")):
            entries.setdefault(service_id, []).append(entry)
    lines: list[_Line] = []
    for service_id, group in entries.items():
        service = by_service[service_id]
        minutes = sum(int(e["attributes"]["billable_time"]) for e in group)
        rate = int(service["attributes"].get("hourly_rate") or 0)
        lines.append(line(service, 1, round(minutes / 60, 2), rate, time_entries=group))
    if plan.by == "budget" and lines:
        total = sum(item.amount for item in lines)
        merged = [e for item in lines for e in item.time_entries]
        lines = [line(None, 2, 1.0, total, time_entries=merged)]
    billed = {rel_id(i, "expense") for i in rules.store.table("line_items").values()}
    for expense in _by_id(rules.store.table("expenses").values()):
        a = expense["attributes"]
        if rel_id(expense, "service") in by_service and a.get("approved") and (
            expense["id"] not in billed
        ) and _in_range(plan, a.get("date")):
            item = line(by_service[str(rel_id(expense, "service"))], 2, 1.0,
                        int(a.get("billable_amount") or a.get("amount") or 0), expense=expense)
            item.description = _describe(plan.expense_format, expense=a.get("name"))
            lines.append(item)
    return lines


def _next_position(rules: Rules, invoice_id: str) -> int:
    positions = [int(i["attributes"].get("position") or 0) for i in _line_items(rules, invoice_id)]
    return max(positions, default=0) + 1


def _attributions(plan: _Plan, lines: list[_Line]) -> list[tuple[Record, int]]:
    """One (budget, amount) per budget of the plan, in the plan's order."""
    return [(budget, sum(item.amount for item in lines if item.budget is budget))
            for budget in plan.budgets]


def _ref_id(record: Record | None) -> str | None:
    return None if record is None else str(record["id"])


@handles("invoices", "preview")
def preview_invoice(rules: Rules, call: ActionCall) -> Outcome:
    """Seed 004 "Preview invoice": the line items and invoice attributions the generator would
    create, as plain JSON in the shape of example 72 (ids as strings, money in cents), nothing
    stored. Validation as :func:`_plan`."""
    invoice = call.member
    plan, errors = _plan(rules, invoice, _query_options(call.query))
    if plan is None:
        return _fail(422, *errors)
    lines = _plan_lines(rules, plan)
    position = _next_position(rules, invoice["id"])
    data: list[dict[str, Any]] = []
    for offset, item in enumerate(lines):
        entry = {
            "budget_id": item.budget["id"], "service_id": _ref_id(item.service),
            "service_type_id": _ref_id(item.service_type),
            "service_type_name": (item.service_type or {}).get("attributes", {}).get("name"),
            "description": item.description, "type": "regular",
            "currency": item.budget["attributes"].get("currency"), "discount": None,
            "amount": item.amount, "amount_rounded": item.amount,
            "object_type": "line_item", "invoice_id": invoice["id"],
            "unit_id": str(item.unit_id), "unit_name": _UNITS[item.unit_id],
            "quantity": item.quantity, "unit_price": item.unit_price,
            "position": position + offset,
        }
        if item.expense is not None:
            entry["expense_id"] = item.expense["id"]
        data.append(entry)
    for budget, amount in _attributions(plan, lines):
        data.append({
            "object_type": "invoice_attribution", "invoice_id": invoice["id"],
            "budget_id": budget["id"], "amount": amount,
            "date_from": plan.date_from.isoformat() if plan.date_from else None,
            "date_to": plan.date_to.isoformat() if plan.date_to else None,
        })
    return Outcome(200, plain={"data": data})


@handles("line_items", "generate")
def generate_line_items(rules: Rules, call: ActionCall) -> Outcome:
    """Seed 004 "Workflow using line item generator", step 3: stores what the preview shows --
    the line items (linked to invoice, service, service type, the budget's tax rate, expense)
    and one invoice attribution per budget (linked to invoice and budget, the invoice's
    ``invoice_attributions`` grows) -- marks the time entries invoiced and linked to their
    attribution, updates the invoice's amounts and the budgets' (draft) invoiced totals.
    Answers 201 with the line items. ``invoice_id`` is required."""
    invoice_id = str(call.attributes.get("invoice_id") or "")
    invoice = rules.store.get("invoices", invoice_id) if invoice_id else None
    plan, errors = _plan(rules, invoice, call.attributes)
    if invoice is None:
        errors.insert(0, invalid("invoice", "attribute is invalid" if invoice_id
                                 else "can't be blank"))
    if plan is None:
        return _fail(422, *errors)
    lines = _plan_lines(rules, plan)
    position = _next_position(rules, invoice_id)
    attributions: dict[str, Record] = {}
    for budget, amount in _attributions(plan, lines):
        attributions[budget["id"]] = _store_attribution(rules, plan, budget, amount)
    created: list[Record] = []
    for offset, item in enumerate(lines):
        created.append(_store_line(rules, plan, item, position + offset))
        for entry in item.time_entries:
            entry["attributes"]["invoiced"] = True
            entry["relationships"]["invoice_attribution"] = {
                "type": "invoice_attributions", "id": attributions[item.budget["id"]]["id"]}
    links = plan.invoice["relationships"].get("invoice_attributions") or []
    plan.invoice["relationships"]["invoice_attributions"] = [
        *links, *({"type": "invoice_attributions", "id": a["id"]} for a in attributions.values())]
    rules.refresh_invoices([invoice_id])
    _touch(rules, plan.invoice)
    _refresh_budgets(rules, plan.budgets)
    return Outcome(201, records=created)


def _store_attribution(rules: Rules, plan: _Plan, budget: Record, amount: int) -> Record:
    spec = rules.registry.spec_for_type("invoice_attributions")
    assert spec is not None
    record = rules.blank(spec)
    a = budget["attributes"]
    record["id"] = rules.store.new_id(spec.type)
    record["attributes"].update(
        date_from=plan.date_from.isoformat() if plan.date_from else None,
        date_to=plan.date_to.isoformat() if plan.date_to else None,
        currency=a.get("currency"), currency_default=a.get("currency_default"),
        currency_normalized=a.get("currency"))
    money(record["attributes"], "amount", amount, number(a.get("exchange_rate"), 1.0))
    record["relationships"].update(
        invoice={"type": "invoices", "id": plan.invoice["id"]},
        budget={"type": "deals", "id": budget["id"]})
    return rules.store.put(record)


def _store_line(rules: Rules, plan: _Plan, item: _Line, position: int) -> Record:
    spec = rules.registry.spec_for_type("line_items")
    assert spec is not None
    record = rules.blank(spec)
    record["id"] = rules.store.new_id(spec.type)
    record["attributes"].update(description=item.description, quantity=str(item.quantity),
                                unit_price=item.unit_price, unit_id=item.unit_id,
                                position=position)
    rels = record["relationships"]
    rels["invoice"] = {"type": "invoices", "id": plan.invoice["id"]}
    for name, target in (("service", item.service), ("service_type", item.service_type),
                         ("expense", item.expense)):
        if target is not None:
            rels[name] = {"type": target["type"], "id": target["id"]}
    tax_rate = rel_id(item.budget, "tax_rate")
    if tax_rate is not None and rules.store.get("tax_rates", tax_rate) is not None:
        rels["tax_rate"] = {"type": "tax_rates", "id": tax_rate}
    rules.price_line_item(record)
    return rules.store.put(record)


def _attributed_budgets(rules: Rules, invoice_id: str) -> list[Record]:
    ids = {rel_id(a, "budget") for a in rules.store.table("invoice_attributions").values()
           if rel_id(a, "invoice") == invoice_id}
    return [b for b in (rules.store.get("deals", i) for i in ids if i) if b is not None]


def _refresh_budgets(rules: Rules, budgets: Iterable[Record]) -> None:
    """A budget's ``invoiced`` (finalized invoices) and ``draft_invoiced`` (drafts) are the sums
    of its invoice attributions, ``pending_invoicing`` its revenue less ``invoiced`` (as the
    demo data computes them)."""
    wanted = {b["id"]: b for b in budgets}
    if not wanted:
        return
    sums = {id_: [0, 0] for id_ in wanted}
    for attribution in rules.store.table("invoice_attributions").values():
        budget_id = rel_id(attribution, "budget") or ""
        invoice = rules.store.get("invoices", rel_id(attribution, "invoice") or "")
        if budget_id in sums and invoice is not None:
            is_draft = not invoice["attributes"].get("finalized_on")
            sums[budget_id][int(is_draft)] += int(attribution["attributes"].get("amount") or 0)
    for budget_id, (invoiced, drafts) in sums.items():
        a = wanted[budget_id]["attributes"]
        rate = number(a.get("exchange_rate"), 1.0)
        money(a, "invoiced", invoiced, rate)
        money(a, "draft_invoiced", drafts, rate)
        money(a, "pending_invoicing", max(0, int(a.get("revenue") or 0) - invoiced), rate)


# =============================================================================== contracts

#: Contract ``interval_id`` (seed 003) -> (months, days) to the next occurrence.
_INTERVALS = {1: (1, 0), 2: (0, 14), 3: (0, 7), 4: (12, 0), 5: (6, 0), 6: (3, 0)}


def _advance(day: dt.date, interval: int) -> dt.date:
    """The occurrence after ``day`` (at the end of the calendar: ``date.max``)."""
    months, days = _INTERVALS.get(interval, (1, 0))
    if days:
        return add_days(day, days)
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    if year > dt.MAXYEAR:
        return dt.date.max
    return day.replace(year=year, month=month,
                       day=min(day.day, calendar.monthrange(year, month)[1]))


def _period(start: dt.date, interval: int) -> str:
    """A readable label of the period starting ``start``: "Feb 2026", "Q1 2026", "H1 2026",
    "2026", or "2026-02-01 - 2026-02-14" for weekly and bi-weekly contracts."""
    if interval == 1:
        return start.strftime("%b %Y")
    if interval == 6:
        return f"Q{(start.month - 1) // 3 + 1} {start.year}"
    if interval == 5:
        return f"H{(start.month - 1) // 6 + 1} {start.year}"
    if interval == 4:
        return str(start.year)
    end = add_days(_advance(start, interval), -1)
    return f"{start.isoformat()} - {end.isoformat()}"


@handles("contracts", "generate")
def generate_budget(rules: Rules, call: ActionCall) -> Outcome:
    """Seed 003 "Generates new budget": a new budget copied from the contract's template
    (services too, their tracked figures zeroed), named "<template> (<period>)", dated
    ``next_occurrence_on`` to the day before the following occurrence, linked to the contract
    (``contract``) and its template (``origin_deal``); the purchase order number only with
    ``copy_purchase_order_number``. The contract's ``next_occurrence_on`` advances by its
    interval (1 monthly, 2 bi-weekly, 3 weekly, 4 annual, 5 semiannual, 6 quarterly); answers
    the contract. A missing template is a 422 like seed 003's; so is generating past
    ``ends_on``."""
    contract = call.member
    a = contract["attributes"]
    template = rules.store.get("deals", rel_id(contract, "template") or "")
    if template is None:
        return _fail(422, invalid("template", "attribute is invalid"))
    start = parse_date(a.get("next_occurrence_on")) or rules.today
    ends_on = parse_date(a.get("ends_on"))
    if ends_on is not None and start > ends_on:
        return _fail(422, invalid("next_occurrence_on", "is after the contract's end"))
    interval = int(a.get("interval_id") or 1)
    following = _advance(start, interval)
    overrides: dict[str, Any] = {
        "name": f"{template['attributes'].get('name')} ({_period(start, interval)})",
        "date": start.isoformat(), "end_date": add_days(following, -1).isoformat(),
        "budget": True,
    }
    if not a.get("copy_purchase_order_number"):
        overrides["purchase_order_number"] = None
    budget, errors = _copy_deal(rules, template, overrides, contract=contract,
                                origin_deal=template)
    if budget is None:
        return _fail(status_of(errors), *errors)
    a["next_occurrence_on"] = following.isoformat()
    return Outcome(200, record=contract)


# =============================================================================== deals

#: Figures a copied deal or service starts from zero (each with its money variants).
_DEAL_TRACKED = ("worked_time", "billable_time", "budget_used", "cost", "revenue",
                 "services_revenue", "invoiced", "draft_invoiced", "amount_credited",
                 "pending_invoicing", "expense", "profit", "profit_margin", "manually_invoiced",
                 "actual_rate", "todo_count")
_SERVICE_TRACKED = ("worked_time", "billable_time", "unapproved_time", "booked_time",
                    "future_booked_time", "rolled_over_time", "budget_used", "cost", "work_cost",
                    "revenue", "expense_amount", "expense_billable_amount", "future_revenue",
                    "future_cost", "future_budget_used", "profit", "profit_margin")


def _reset(record: Record, names: Iterable[str], now: str) -> None:
    a = record["attributes"]
    for name in names:
        for key in (name, f"{name}_default", f"{name}_normalized"):
            if key in a:
                a[key] = 0
    for key in ("created_at", "updated_at", "last_activity_at"):
        if key in a:
            a[key] = now


def _copy_deal(rules: Rules, source: Record, overrides: Mapping[str, Any],
               **links: Record) -> tuple[Record | None, ErrorList]:
    """A new deal copied from ``source`` with its services: open, tracked figures zeroed, the
    next number, ``overrides`` applied and validated as a create; ``links`` set to-one
    relationships (e.g. ``contract``)."""
    spec = rules.registry.spec_for_type("deals")
    assert spec is not None
    now = rules.now()
    record: Record = {"id": "", "type": "deals",
                      "attributes": copy.deepcopy(source["attributes"]),
                      "relationships": copy.deepcopy(source["relationships"])}
    _reset(record, _DEAL_TRACKED, now)
    a = record["attributes"]
    a.update(closed_at=None, delivered_on=None, budget_remaining=a.get("budget_total"))
    numbers = [numeric(str(d["attributes"].get("number") or "")) or 0
               for d in rules.store.table("deals").values()]
    a["number"] = a["deal_number"] = str(max(numbers, default=0) + 1)
    rels = record["relationships"]
    rels.update(contract=None, services=[])
    for name, target in links.items():
        rels[name] = {"type": target["type"], "id": target["id"]}
    deal, errors = rules.insert(spec, record, {"attributes": dict(overrides)})
    if deal is None:
        return None, errors
    services = []
    for service in _services(rules, source):
        copied: Record = {"id": rules.store.new_id("services"), "type": "services",
                          "attributes": copy.deepcopy(service["attributes"]),
                          "relationships": copy.deepcopy(service["relationships"])}
        _reset(copied, _SERVICE_TRACKED, now)
        copied["relationships"]["deal"] = {"type": "deals", "id": deal["id"]}
        rules.store.put(copied)
        services.append({"type": "services", "id": copied["id"]})
    deal["relationships"]["services"] = services
    return deal, []


@handles("deals", "close")
def close_deal(rules: Rules, call: ActionCall) -> Outcome:
    """Seed 000 FAQ "Can't update budget to delivered": ``PATCH /deals/{id}/close`` sets
    ``delivered_on`` (the body's, else today) and ``closed_at``; a closed deal can't be closed
    again (422, the sandbox's wording)."""
    deal = call.member
    a = deal["attributes"]
    if a.get("closed_at"):
        return _fail(422, invalid("base", "deal is already closed"))
    raw = call.attributes.get("delivered_on")
    delivered = parse_date(raw) if raw not in (None, "") else rules.today
    if delivered is None:
        return _fail(422, invalid("delivered_on", "is not a date"))
    a.update(closed_at=rules.now(), delivered_on=delivered.isoformat())
    _touch(rules, deal)
    return Outcome(200, record=deal)


@handles("deals", "open")
def open_deal(rules: Rules, call: ActionCall) -> Outcome:
    """The reverse of close (seed 000 FAQ): clears ``closed_at`` and ``delivered_on``; a deal
    that is not closed is a 422 (the sandbox's choice)."""
    deal = call.member
    a = deal["attributes"]
    if not a.get("closed_at"):
        return _fail(422, invalid("base", "deal is not closed"))
    a.update(closed_at=None, delivered_on=None)
    _touch(rules, deal)
    return Outcome(200, record=deal)


def _source_deal(rules: Rules, attributes: dict[str, Any], *names: str
                 ) -> tuple[Record | None, ErrorList]:
    """The deal the first of ``names`` given points to (popped from ``attributes``)."""
    given = [(n, attributes.pop(n)) for n in names if attributes.get(n) not in (None, "")]
    for name in names:
        attributes.pop(name, None)
    if not given:
        return None, [invalid(names[0], "can't be blank")]
    name, id_ = given[0]
    source = rules.store.get("deals", str(id_))
    return source, [] if source is not None else [invalid(name, "attribute is invalid")]


@handles("deals", "copy")
def copy_deal(rules: Rules, call: ActionCall) -> Outcome:
    """``POST /deals/copy`` (API reference, operations.json): a copy of the deal
    ``template_id`` (or ``deal_id``) with its services; the other attributes override the
    copy's (e.g. ``name``; default "<name> (copy)"). 201 with the new deal."""
    attributes = dict(call.attributes)
    source, errors = _source_deal(rules, attributes, "template_id", "deal_id")
    if source is None:
        return _fail(422, *errors)
    attributes.setdefault("name", f"{source['attributes'].get('name')} (copy)")
    deal, errors = _copy_deal(rules, source, attributes)
    if deal is None:
        return _fail(status_of(errors), *errors)
    return Outcome(201, record=deal)


@handles("deals", "create_from_origin")
def create_from_origin(rules: Rules, call: ActionCall) -> Outcome:
    """``POST /deals/create_from_origin``: a budget made from the deal ``origin_id`` (or
    ``origin_deal_id``/``deal_id``) -- a copy linked to it as ``origin_deal``, ``budget`` true
    unless overridden. 201 with the new deal."""
    attributes = dict(call.attributes)
    origin, errors = _source_deal(rules, attributes, "origin_id", "origin_deal_id", "deal_id")
    if origin is None:
        return _fail(422, *errors)
    attributes.setdefault("budget", True)
    deal, errors = _copy_deal(rules, origin, attributes, origin_deal=origin)
    if deal is None:
        return _fail(status_of(errors), *errors)
    return Outcome(201, record=deal)


# =============================================================================== integrations


@handles("integrations", "check")
def check_integration(rules: Rules, call: ActionCall) -> Outcome:
    """Seed 000 FAQ "Copy to accounting": ``GET /integrations/{id}/check`` validates the
    integration and refreshes its export options (here: ``last_synced_at``). One that is not
    connected (no ``connected_at``, or ``deactivated_at`` set) is a 422 (sandbox's wording)."""
    integration = call.member
    if not _connected(integration):
        return _fail(422, invalid("base", "integration is not connected"))
    integration["attributes"]["last_synced_at"] = rules.now()
    return Outcome(200, record=integration)


@handles("integrations", "connect")
def connect_integration(rules: Rules, call: ActionCall) -> Outcome:
    """Connects the integration: ``connected_at`` now, ``deactivated_at`` cleared, and the
    body's attributes applied (e.g. ``tax_rate_mapping``)."""
    integration = call.member
    if call.attributes:
        errors = rules.update(call.spec, integration, {"attributes": call.attributes})
        if errors:
            return _fail(status_of(errors), *errors)
    integration["attributes"].update(connected_at=rules.now(), deactivated_at=None)
    return Outcome(200, record=integration)


# =============================================================================== approvals

_TRANSITIONS: dict[str, tuple[str, bool, str]] = {
    # action: (flag, required current value, conflict detail)
    "approve": ("approved", False, "is already approved"),
    "unapprove": ("approved", True, "is not approved"),
    "reject": ("rejected", False, "is already rejected"),
    "unreject": ("rejected", True, "is not rejected"),
}


def _transition(rules: Rules, record: Record, action: str, attributes: Mapping[str, Any],
                pointer: str | None = None) -> dict[str, Any] | None:
    """Approve/unapprove/reject/unreject ``record``, or the 409 error saying why not (an
    approved entry must be unapproved before it is rejected)."""
    flag, required, detail = _TRANSITIONS[action]
    a, rels = record["attributes"], record["relationships"]
    label = {"time_entries": "time entry", "expenses": "expense"}.get(record["type"], "record")
    if bool(a.get(flag)) != required:
        return conflict(f"{label} {detail}", pointer=pointer)
    if action == "reject" and a.get("approved"):
        return conflict(f"{label} is approved", pointer=pointer)
    now, user = rules.now(), _person(rules.current_user())
    if action == "approve":
        a.update(approved=True, approved_at=now, rejected=False, rejected_at=None)
        rels["approver"] = user
    elif action == "unapprove":
        a.update(approved=False, approved_at=None)
        rels["approver"] = None
    elif action == "reject":
        a.update(rejected=True, rejected_at=now,
                 rejected_reason=attributes.get("rejected_reason"))
        rels["rejecter"] = user
    else:
        a.update(rejected=False, rejected_at=None, rejected_reason=None)
        if "rejecter" in rels:
            rels["rejecter"] = None
    _touch(rules, record)
    return None


@handles("time_entries", "approve", "unapprove", "reject", "unreject")
@handles("expenses", "approve", "unapprove")
def change_approval(rules: Rules, call: ActionCall) -> Outcome:
    """README "Errors" (409 for approved time entries): ``approve`` sets ``approved``,
    ``approved_at`` and ``approver`` (the current user), ``unapprove`` clears them; ``reject``
    sets ``rejected``, ``rejected_at``, ``rejected_reason`` (from the body) and ``rejecter``,
    ``unreject`` clears them. An action that does not fit the record's state (approving an
    approved entry, rejecting an approved one, ...) is a 409 Conflict."""
    record = call.member
    error = _transition(rules, record, call.action.name, call.attributes)
    if error is not None:
        return _fail(409, error)
    return Outcome(200, record=record)


@handles("time_entries", "bulk_approve", "bulk_unapprove")
def change_approvals(rules: Rules, call: ActionCall) -> Outcome:
    """Bulk approve/unapprove (README "Bulk": ``ext=bulk``, ``data: [{type, id}, ...]``): all
    or nothing -- an unknown id is a 404, a state conflict a 409, each pointing at
    ``data/<index>``; else every listed entry changes and the answer lists them."""
    action = call.action.name.removeprefix("bulk_")
    records: list[Record] = []
    errors: ErrorList = []
    for index, item in enumerate(call.items):
        id_ = item.get("id") if isinstance(item, Mapping) else item
        record = rules.store.get(call.spec.type, str(id_)) if id_ is not None else None
        if record is None:
            errors.append({"status": "404", "title": "Not Found", "detail": "Record not found",
                           "source": {"pointer": f"data/{index}"}})
            continue
        flag, required, detail = _TRANSITIONS[action]
        if bool(record["attributes"].get(flag)) != required:
            errors.append(conflict(f"time entry {detail}", pointer=f"data/{index}"))
        records.append(record)
    if not call.items:
        errors.append(invalid("data", "can't be blank"))
    if errors:
        return _fail(status_of(errors), *errors)
    for record in records:
        _transition(rules, record, action, {})
    return Outcome(200, records=records)


# =============================================================================== archive

_ARCHIVED = {"archive": ("archived_at", True), "restore": ("archived_at", False),
             "deactivate": ("deactivated_at", True), "activate": ("deactivated_at", False)}


@handles("*", "archive", "restore")
@handles("people", "deactivate", "activate")
def archive(rules: Rules, call: ActionCall) -> Outcome | None:
    """README "Errors" (409 conflict for archive/restore): ``archive`` sets ``archived_at``,
    ``restore`` clears it (people: ``deactivate``/``activate`` and ``deactivated_at`` alike);
    archiving an archived record or restoring an active one is a 409. Resources without the
    attribute get the generic behaviour."""
    field, archiving = _ARCHIVED[call.action.name]
    if call.record is None or field not in call.spec.attributes:
        return None
    record = call.record
    if bool(record["attributes"].get(field)) == archiving:
        state = "archived" if field == "archived_at" else "deactivated"
        return _fail(409, conflict(f"is {'already' if archiving else 'not'} {state}"))
    record["attributes"][field] = rules.now() if archiving else None
    _touch(rules, record)
    return Outcome(200, record=record)
