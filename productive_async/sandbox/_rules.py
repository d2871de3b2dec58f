"""What the sandbox does on writes and actions: defaults, validations, side effects.

Generic rules apply to every resource (attributes by the registry, relationships must point to
existing records, ``*_id`` attributes set the relationship). Resource-specific rules are the
documented ones, each with its source:

- invoices: ``currency``, ``invoiced_on`` and ``company`` are required on create, and
  ``invoiced_on`` may not be blanked on update (seed 004, "Create an invoice" / update 422s);
  ``pay_on`` defaults to ``invoiced_on + payment_terms`` days.
- contracts: ``interval_id`` and ``template`` required (``next_occurrence_on`` on create only);
  ``template`` must be an existing budget ("attribute is invalid"); ``next_occurrence_on`` must
  be after today and after the template's date; ``ends_on`` on or after ``next_occurrence_on``
  (seed 003).
- deals: ``deal_type_id`` 1 internal / 2 client; a client deal cannot use the internal company
  ("can not be internal company", seed 000 FAQ).
- line items: ``amount`` = quantity x unit price less the discount, tax from the line item's
  tax rate; creating, updating or deleting one updates its invoice's amounts (seed 000 FAQ,
  "Use line_items to add invoice amount").
- time entries: an approved entry can be neither updated nor deleted (409, README "Errors").

Custom actions (``PATCH /invoices/{id}/finalize`` ...) are in :mod:`._actions`; the token's user
is :meth:`Rules.current_user`.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs
from multidict import MultiMapping

from .._registry import ActionSpec, Registry, ResourceSpec
from ._documents import check_attributes, parse_date
from ._query import Predicate, QueryError
from ._store import Record, Store

ErrorList = list[dict[str, Any]]


@attrs.define
class Outcome:
    """The result of an action: a record, records, plain JSON, or errors with a status."""

    status: int = 200
    record: Record | None = None
    records: list[Record] | None = None
    plain: Any = None
    errors: ErrorList = attrs.field(factory=list)


def invalid(name: str, detail: str, *, code: str = "invalid_attribute",
            title: str = "Invalid Attribute", status: int = 422) -> dict[str, Any]:
    """One 422 error object in the API's shape (pointer ``data/attributes/<name>``)."""
    return {"status": str(status), "code": code, "title": title, "detail": detail,
            "source": {"pointer": f"data/attributes/{name}"}}


def conflict(detail: str, *, pointer: str | None = None) -> dict[str, Any]:
    """One 409 error object (README "Errors": archive/restore, approved time entries)."""
    error: dict[str, Any] = {"status": "409", "title": "Conflict", "detail": detail}
    if pointer is not None:
        error["source"] = {"pointer": pointer}
    return error


def status_of(errors: ErrorList, default: int = 422) -> int:
    """The HTTP status for ``errors``: theirs if they all share one, else ``default``."""
    statuses = {str(e.get("status")) for e in errors}
    if len(statuses) == 1:
        only = statuses.pop()
        if only.isdigit():
            return int(only)
    return default


def money(attributes: dict[str, Any], name: str, cents: int, rate: float) -> None:
    """Set the money triplet ``name``, ``name_default`` (x ``rate``), ``name_normalized``."""
    attributes[name] = cents
    attributes[f"{name}_default"] = round(cents * rate)
    attributes[f"{name}_normalized"] = cents


def number(value: Any, default: float = 0.0) -> float:
    """A decimal as stored (``"0.5"``, ``2``, ``None``) as a float."""
    if value is None or value == "" or isinstance(value, bool):
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def rel_id(record: Record, name: str) -> str | None:
    """The id a to-one relationship of ``record`` points to, or None."""
    value = (record.get("relationships") or {}).get(name)
    return str(value["id"]) if isinstance(value, Mapping) and "id" in value else None


def add_days(day: dt.date, days: int) -> dt.date:
    """``day`` + ``days``, kept within the calendar (``date.min`` .. ``date.max``)."""
    try:
        return day + dt.timedelta(days=days)
    except OverflowError:
        return dt.date.max if days > 0 else dt.date.min


class Rules:
    """Write and action behaviour of the sandbox, over its :class:`Store`."""

    def __init__(self, registry: Registry, store: Store, *, today: dt.date | None,
                 trial: bool) -> None:
        self.registry = registry
        self.store = store
        self._today = today
        self.trial = trial
        #: The person the API token belongs to (None: see :meth:`current_user`).
        self.user_id: str | None = None
        self._validators: dict[str, Callable[[ResourceSpec, Record, Record | None], ErrorList]]
        self._validators = {
            "invoices": self._validate_invoice,
            "contracts": self._validate_contract,
            "deals": self._validate_deal,
        }

    @property
    def today(self) -> dt.date:
        return self._today or dt.date.today()

    def now(self) -> str:
        """The current timestamp (ISO 8601 with offset), on :attr:`today` if that is fixed."""
        stamp = dt.datetime.now(dt.UTC).astimezone()
        if self._today is not None:
            stamp = stamp.replace(year=self._today.year, month=self._today.month,
                                  day=self._today.day)
        return stamp.isoformat(timespec="milliseconds")

    def current_user(self) -> Record | None:
        """The person the sandbox's API token belongs to: :attr:`user_id` if set, else the
        organization's ``owner`` (demo data: person 1001, the first employee), else the first
        person who is a user, else the first person."""
        people = self.store.table("people")
        if self.user_id is not None:
            return people.get(str(self.user_id))
        for organization in self.store.table("organizations").values():
            owner = rel_id(organization, "owner")
            if owner is not None and owner in people:
                return people[owner]
        ordered = sorted(people.values(), key=lambda p: (len(p["id"]), p["id"]))
        users = [p for p in ordered if p["attributes"].get("is_user")] or ordered
        return users[0] if users else None

    # ------------------------------------------------------------------ generic writes

    def _apply(self, spec: ResourceSpec, record: Record, data: Mapping[str, Any]) -> ErrorList:
        """Copy a request's attributes and relationships onto ``record``; reference errors.
        ``data`` is a resource object as :mod:`._documents` leaves it (shapes checked)."""
        attributes = data.get("attributes") or {}
        if not isinstance(attributes, Mapping):
            return [invalid("attributes", "must be an object")]
        # Every write comes here (bodies, bulk items, actions' attributes, copies): the
        # values are checked by kind here too, so no rule stores what another cannot read.
        attributes, errors = check_attributes(spec, attributes, "data/attributes")
        rels = record.setdefault("relationships", {})
        for name, value in attributes.items():
            if name.endswith("_id") and name[:-3] in spec.relationships:
                rel = spec.relationships[name[:-3]]
                if value in (None, ""):
                    rels[rel.name] = None
                else:
                    errors.extend(self._link(rels, rel.name, rel.type, value))
                continue
            if name.endswith("_ids") and name[:-4] + "s" in spec.relationships:
                rel = spec.relationships[name[:-4] + "s"]
                rels[rel.name] = [{"type": rel.type, "id": str(v)} for v in value or []]
                continue
            if name in spec.attributes or name in ("custom_fields",):
                record["attributes"][name] = value
        for name, wrapper in (data.get("relationships") or {}).items():
            target = name[:-3] if name.endswith("_id") and name[:-3] in spec.relationships else (
                name
            )
            if not isinstance(wrapper, Mapping) or "data" not in wrapper:
                errors.append(invalid(target, "relationship must have 'data'"))
                continue
            value = wrapper["data"]
            if value is None:
                rels[target] = None
            elif isinstance(value, list):
                rels[target] = [{"type": v["type"], "id": str(v["id"])} for v in value]
            else:
                errors.extend(self._link(rels, target, value.get("type"), value.get("id")))
        return errors

    def _link(self, rels: dict[str, Any], name: str, type_: str | None, id_: Any) -> ErrorList:
        if type_ is None or self.store.get(type_, str(id_)) is None:
            if type_ is not None and not self.store.tables.get(type_):
                rels[name] = {"type": type_, "id": str(id_)}  # a type the sandbox does not hold
                return []
            return [invalid(name, "attribute is invalid")]
        rels[name] = {"type": type_, "id": str(id_)}
        return []

    def blank(self, spec: ResourceSpec) -> Record:
        """A new record of ``spec`` with every registered attribute (null; money 0, booleans
        false and arrays empty, as seed 004's created invoice and the demo data)."""
        attributes: dict[str, Any] = {}
        for name, attr in spec.attributes.items():
            attributes[name] = {"money": 0, "boolean": False}.get(attr.kind) if (
                attr.kind != "array") else []
        now = self.now()
        for name in ("created_at", "updated_at", "last_activity_at"):
            if name in attributes:
                attributes[name] = now
        relationships: dict[str, Any] = {
            name: [] if rel.many else None for name, rel in spec.relationships.items()
        }
        if "organization" in relationships:
            orgs = self.store.table("organizations")
            if orgs:
                relationships["organization"] = {"type": "organizations", "id": next(iter(orgs))}
        return {"id": "", "type": spec.type, "attributes": attributes,
                "relationships": relationships}

    def create(self, spec: ResourceSpec, data: Mapping[str, Any]
               ) -> tuple[Record | None, ErrorList]:
        return self.insert(spec, self.blank(spec), data)

    def insert(self, spec: ResourceSpec, record: Record, data: Mapping[str, Any]
               ) -> tuple[Record | None, ErrorList]:
        """Store ``record`` (a new one, e.g. :meth:`blank` or a copy) with ``data`` applied and
        validated as on create; it gets the next id."""
        errors = self._apply(spec, record, data)
        errors.extend(self._validate(spec, record, None, errors))
        if errors:
            return None, _dedupe(errors)
        record["id"] = self.store.new_id(spec.type)
        self._after_write(spec, record)
        self.store.put(record)
        self._after_store(spec, record, None)
        return record, []

    def _locked(self, spec: ResourceSpec, record: Record) -> ErrorList:
        """README "Errors": 409 for approved time entries."""
        if spec.type == "time_entries" and record["attributes"].get("approved"):
            return [conflict("approved time entries can't be changed")]
        return []

    def update(self, spec: ResourceSpec, record: Record, data: Mapping[str, Any]) -> ErrorList:
        locked = self._locked(spec, record)
        if locked:
            return locked
        old = {"relationships": dict(record.get("relationships") or {})}
        candidate = {
            "id": record["id"], "type": record["type"],
            "attributes": dict(record.get("attributes") or {}),
            "relationships": dict(record.get("relationships") or {}),
        }
        errors = self._apply(spec, candidate, data)
        errors.extend(self._validate(spec, candidate, record, errors))
        if errors:
            return _dedupe(errors)
        if "updated_at" in candidate["attributes"]:
            candidate["attributes"]["updated_at"] = self.now()
        self._after_write(spec, candidate)
        record.update(candidate)
        self.store.touch()
        self._after_store(spec, record, old)
        return []

    def delete(self, spec: ResourceSpec, id_: str) -> tuple[int, ErrorList]:
        """Delete a record: 204, 404 if there is none, 409 if it is locked."""
        record = self.store.get(spec.type, id_)
        if record is None:
            return 404, [{"status": "404", "title": "Not Found", "detail": "Record not found"}]
        locked = self._locked(spec, record)
        if locked:
            return 409, locked
        self.store.delete(spec.type, id_)
        self._after_store(spec, None, record)
        return 204, []

    def _validate(self, spec: ResourceSpec, record: Record, old: Record | None,
                  found: ErrorList) -> ErrorList:
        """The resource's own validations, less fields that already have an error."""
        validator = self._validators.get(spec.type)
        if validator is None:
            return []
        flagged = {str(e.get("source")) for e in found}
        return [e for e in validator(spec, record, old) if str(e.get("source")) not in flagged]

    def _after_write(self, spec: ResourceSpec, record: Record) -> None:
        attrs_ = record["attributes"]
        if spec.type == "line_items":
            if record["attributes"].get("position") is None:
                invoice = rel_id(record, "invoice")
                record["attributes"]["position"] = 1 + max(
                    (int(i["attributes"].get("position") or 0)
                     for i in self.store.table("line_items").values()
                     if invoice and rel_id(i, "invoice") == invoice and i["id"] != record["id"]),
                    default=0)
            self.price_line_item(record)
        if spec.type == "invoices":
            invoiced = parse_date(attrs_.get("invoiced_on"))
            if invoiced is not None:
                attrs_["invoiced_on"] = invoiced.isoformat()
                if attrs_.get("pay_on") in (None, ""):
                    terms = attrs_.get("payment_terms") or 0
                    attrs_["pay_on"] = add_days(invoiced, int(terms)).isoformat()
            if not attrs_.get("email_key"):
                seed = f"{record['id']}-{attrs_.get('created_at')}".encode()
                attrs_["email_key"] = hashlib.md5(seed, usedforsecurity=False).hexdigest()
        for name, attr in spec.attributes.items():
            if attr.kind == "date" and isinstance(attrs_.get(name), str):
                parsed = parse_date(attrs_[name])
                if parsed is not None:
                    attrs_[name] = parsed.isoformat()

    def _after_store(self, spec: ResourceSpec, record: Record | None, old: Record | None
                     ) -> None:
        """Side effects on other records once ``record`` (None: deleted) replaced ``old``."""
        if spec.type == "line_items":
            invoices = {rel_id(r, "invoice") for r in (record, old) if r is not None}
            self.refresh_invoices(i for i in invoices if i is not None)

    # ------------------------------------------------------------------ invoicing

    def price_line_item(self, record: Record) -> None:
        """A line item's money from its quantity, unit price, discount (percent) and tax rate
        (primary + secondary component), in its invoice's currency (seed 004 "Tax changes":
        the tax comes from the line item's ``tax_rate``)."""
        a = record["attributes"]
        if a.get("quantity") is None:
            a["quantity"] = "1.0"
        price = int(number(a.get("unit_price")))
        amount = round(number(a.get("quantity")) * price * (1 - number(a.get("discount")) / 100))
        tax_rate_id = rel_id(record, "tax_rate")
        tax_rate = self.store.get("tax_rates", tax_rate_id) if tax_rate_id else None
        if tax_rate is not None:
            rate_attrs = tax_rate["attributes"]
            a["tax_name"] = rate_attrs.get("primary_component_name")
            a["tax_value"] = number(rate_attrs.get("primary_component_value")) + number(
                rate_attrs.get("secondary_component_value"))
        tax = round(amount * number(a.get("tax_value")) / 100)
        invoice_id = rel_id(record, "invoice")
        invoice = self.store.get("invoices", invoice_id) if invoice_id else None
        rate = 1.0
        if invoice is not None:
            invoice_attrs = invoice["attributes"]
            rate = number(invoice_attrs.get("exchange_rate"), 1.0)
            for name in ("currency", "currency_default"):
                if invoice_attrs.get(name):
                    a[name] = invoice_attrs[name]
            a["currency_normalized"] = a.get("currency")
        for name, cents in (("unit_price", price), ("amount", amount), ("amount_tax", tax),
                            ("amount_with_tax", amount + tax)):
            money(a, name, cents, rate)

    def refresh_invoices(self, invoice_ids: Iterable[str]) -> None:
        """Recompute the amounts of invoices from their line items: ``amount``,
        ``amount_tax``, ``amount_with_tax`` and ``amount_unpaid`` (with tax, less paid and
        written off), each with its ``_default``/``_normalized`` variants."""
        wanted = {str(i) for i in invoice_ids}
        wanted = {i for i in wanted if self.store.get("invoices", i) is not None}
        if not wanted:
            return
        sums = {i: [0, 0] for i in wanted}
        for item in self.store.table("line_items").values():
            invoice_id = rel_id(item, "invoice")
            if invoice_id in sums:
                sums[invoice_id][0] += int(item["attributes"].get("amount") or 0)
                sums[invoice_id][1] += int(item["attributes"].get("amount_tax") or 0)
        for invoice_id, (amount, tax) in sums.items():
            invoice = self.store.tables["invoices"][invoice_id]
            a = invoice["attributes"]
            rate = number(a.get("exchange_rate"), 1.0)
            settled = int(a.get("amount_paid") or 0) + int(a.get("amount_written_off") or 0)
            for name, cents in (("amount", amount), ("amount_tax", tax),
                                ("amount_with_tax", amount + tax),
                                ("amount_unpaid", amount + tax - settled)):
                money(a, name, cents, rate)
        self.store.touch()

    # ------------------------------------------------------------------ validations

    def _validate_invoice(self, spec: ResourceSpec, record: Record, old: Record | None
                          ) -> ErrorList:
        a, rels = record["attributes"], record["relationships"]
        errors: ErrorList = []
        if old is None and not a.get("currency"):
            errors.append(invalid("currency", "can't be blank"))
        if a.get("invoiced_on") in (None, ""):
            errors.append(invalid("invoiced_on", "can't be blank"))
        if old is None and not rels.get("company"):
            errors.append(invalid("company", "can't be blank"))
        return errors

    def _validate_contract(self, spec: ResourceSpec, record: Record, old: Record | None
                           ) -> ErrorList:
        a, rels = record["attributes"], record["relationships"]
        errors: ErrorList = []
        if a.get("interval_id") in (None, ""):
            errors.append(invalid("interval_id", "can't be blank"))
        template = rels.get("template")
        budget = self.store.get("deals", template["id"]) if template else None
        if template is None:
            errors.append(invalid("template", "can't be blank"))
        elif budget is None:
            errors.append(invalid("template", "attribute is invalid"))
        next_on = parse_date(a.get("next_occurrence_on"))
        if old is None and next_on is None:
            errors.append(invalid("next_occurrence_on", "can't be blank"))
        if next_on is not None and (old is None or a.get("next_occurrence_on") != (
            old["attributes"].get("next_occurrence_on")
        ) or template != old["relationships"].get("template")):
            if next_on <= self.today:
                errors.append(invalid("next_occurrence_on", "must be after today"))
            budget_date = parse_date((budget or {}).get("attributes", {}).get("date"))
            if budget_date is not None and next_on <= budget_date:
                errors.append(invalid("next_occurrence_on", "must be after budget date"))
        ends_on = parse_date(a.get("ends_on"))
        if ends_on is not None and next_on is not None and ends_on < next_on:
            errors.append(invalid("ends_on", "must be on or after next occurrence"))
        if not errors and old is None and not a.get("starts_on"):
            a["starts_on"] = self.today.isoformat()
        return errors

    def _validate_deal(self, spec: ResourceSpec, record: Record, old: Record | None
                       ) -> ErrorList:
        a, rels = record["attributes"], record["relationships"]
        errors: ErrorList = []
        if old is None and not a.get("name"):
            errors.append(invalid("name", "can't be blank"))
        deal_type = a.get("deal_type_id")
        internal = self._internal_company()
        if deal_type in (1, "1") and internal is not None:
            rels["company"] = {"type": "companies", "id": internal["id"]}
        company = rels.get("company")
        if deal_type in (2, "2", None) and company and internal is not None and (
            str(company["id"]) == internal["id"]
        ):
            errors.append(invalid("company", "can not be internal company"))
        if old is not None and a.get("delivered_on") != old["attributes"].get("delivered_on") and (
            not old["attributes"].get("closed_at")
        ):
            # seed 000 FAQ: delivered_on is set through PATCH /deals/{id}/close only.
            a["delivered_on"] = old["attributes"].get("delivered_on")
        return errors

    def _internal_company(self) -> Record | None:
        for company in self.store.table("companies").values():
            name = str(company["attributes"].get("name") or "")
            if company["attributes"].get("internal") or name.endswith("(internal)"):
                return company
        return None

    # ------------------------------------------------------------------ bulk

    def bulk(self, spec: ResourceSpec, op: str, items: list[Any]) -> tuple[int, dict[str, Any]]:
        """Bulk create/update/delete: all or nothing; errors point at ``data/<index>/...``."""
        errors: ErrorList = []
        if op == "delete":
            for index, item in enumerate(items):
                record = self.store.get(spec.type, str(item.get("id"))) if isinstance(
                    item, Mapping) else None
                if record is None:
                    errors.append({"status": "404", "title": "Not Found",
                                   "detail": "Record not found",
                                   "source": {"pointer": f"data/{index}"}})
                    continue
                errors.extend(dict(e, source={"pointer": f"data/{index}"})
                              for e in self._locked(spec, record))
            if errors:
                return status_of(errors, 404), {"errors": errors}
            for item in items:
                self.delete(spec, str(item["id"]))
            return 204, {}
        results: list[Record] = []
        saved: list[tuple[Record, Record]] = []  # (record, its state before), to roll back
        for index, item in enumerate(items):
            if not isinstance(item, Mapping):
                errors.append(invalid(f"{index}", "must be a resource object"))
                continue
            if op == "create":
                record, item_errors = self.create(spec, item)
                if record is not None:
                    results.append(record)
            else:
                existing = self.store.get(spec.type, str(item.get("id")))
                if existing is None:
                    errors.append({"status": "404", "title": "Not Found",
                                   "detail": "Record not found",
                                   "source": {"pointer": f"data/{index}"}})
                    continue
                saved.append((existing, copy.deepcopy(existing)))
                item_errors = self.update(spec, existing, item)
                results.append(existing)
            for error in item_errors:
                pointer = (error.get("source") or {}).get("pointer") or "data"
                error = dict(error, source={"pointer": f"data/{index}{pointer[4:]}"})
                errors.append(error)
        if errors:
            if op == "create":
                for record in results:
                    self.store.delete(spec.type, record["id"])
            for record, before in reversed(saved):
                record.clear()
                record.update(before)
            self.store.touch()
            return status_of(errors), {"errors": errors}
        return (201 if op == "create" else 200), {"data": results}

    # ------------------------------------------------------------------ actions

    def action(self, spec: ResourceSpec, action: ActionSpec, record: Record | None,
               body: Mapping[str, Any], query: MultiMapping[str]) -> Outcome:
        """Run a custom action: its handler in :mod:`._actions` if it has one. Without one:
        member actions apply the body's attributes and answer the record; collection actions
        answering a record create one from the body (POST: copy) or ask for what is missing
        (422: merge without ids); others answer an empty list. Relationships in the body reach
        the handler as ``<name>_id`` attributes; a bulk body's ``data`` list as ``items``."""
        from ._actions import HANDLERS, ActionCall  # _actions builds on this module

        data = body.get("data")
        items = list(data) if isinstance(data, list) else []
        attributes: dict[str, Any] = {}
        if isinstance(data, Mapping):
            attributes = dict(data.get("attributes") or {})
            for name, wrapper in (data.get("relationships") or {}).items():
                linked = wrapper.get("data") if isinstance(wrapper, Mapping) else None
                if isinstance(linked, Mapping) and "id" in linked:
                    key = name if name.endswith("_id") else f"{name}_id"
                    attributes.setdefault(key, str(linked["id"]))
        handler = HANDLERS.get((spec.type, action.name)) or HANDLERS.get(("*", action.name))
        if handler is not None:
            outcome = handler(self, ActionCall(spec, action, record, attributes, items, query))
            if outcome is not None:
                if outcome.status < 400 and action.method != "GET":
                    self.store.touch()
                return outcome
        if record is not None:
            if attributes:
                errors = self.update(spec, record, {"attributes": attributes})
                if errors:
                    return Outcome(422, errors=errors)
            return Outcome(200, record=record)
        if action.result == "record" and action.method == "POST":
            # A collection action answering one record (copy, machine ...): a new record made
            # from the body, validated as a create.
            created, errors = self.create(spec, {"attributes": attributes})
            if created is None:
                return Outcome(422, errors=errors)
            return Outcome(201, record=created)
        if action.result == "record":
            # Answering one record without making one (merge): the API names what is missing.
            return Outcome(422, errors=[invalid("id", "can't be blank")])
        return Outcome(200, records=[])

    # ------------------------------------------------------------------ reports

    def report(self, spec: ResourceSpec, query: Mapping[str, str],
               predicate_for: Callable[[ResourceSpec, Mapping[str, Any]], Predicate]
               ) -> list[Record]:
        """Report rows: the source collection grouped by ``group`` (comma-separated
        relationship names), with ``count`` and sums of its integer and money attributes."""
        source_type = REPORT_SOURCES.get(spec.name)
        source = self.registry.spec_for_type(source_type) if source_type else None
        if source is None:
            return []
        groups = [g for g in (query.get("group") or "").split(",") if g]
        for group in groups:
            if group not in source.relationships and group not in source.attributes:
                raise QueryError("Unsupported Group", f"Unsupported group: {group}")
        numeric = [n for n, a in source.attributes.items() if a.kind in ("integer", "money")
                   and not n.endswith("_id")]
        rows: dict[tuple[str, ...], Record] = {}
        for item in self.store.table(source.type).values():
            key_parts: list[str] = []
            rels: dict[str, Any] = {}
            for group in groups:
                value = (item["relationships"] or {}).get(group) if group in (
                    source.relationships) else item["attributes"].get(group)
                if isinstance(value, Mapping):
                    key_parts.append(str(value.get("id")))
                    rels[group] = dict(value)
                else:
                    key_parts.append(str(value))
            key = tuple(key_parts)
            row = rows.get(key)
            if row is None:
                row_id = "-".join(key) if key else "total"
                row = {"id": row_id, "type": spec.type,
                       "attributes": {"count": 0, **{n: 0 for n in numeric}},
                       "relationships": rels}
                rows[key] = row
            row["attributes"]["count"] += 1
            for name in numeric:
                value = item["attributes"].get(name)
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    row["attributes"][name] += value
        return list(rows.values())


REPORT_SOURCES: dict[str, str] = {
    "time_reports": "time_entries",
    "time_entry_reports": "time_entries",
    "invoice_reports": "invoices",
    "deal_reports": "deals",
    "budget_reports": "deals",
    "service_reports": "services",
    "booking_reports": "bookings",
    "project_reports": "projects",
    "company_reports": "companies",
    "person_reports": "people",
    "line_item_reports": "line_items",
}


def _dedupe(errors: ErrorList) -> ErrorList:
    seen: set[tuple[Any, ...]] = set()
    out: ErrorList = []
    for error in errors:
        key = (error.get("detail"), str(error.get("source")))
        if key not in seen:
            seen.add(key)
            out.append(error)
    return out
