"""Deterministic demo data for the sandbox server: a small agency's year of work.

:func:`generate` returns ``{json:api type: [record, ...]}`` in the store format of
:mod:`._store` (``{"id", "type", "attributes", "relationships"}``, relationships as resource
identifiers, ``None`` or lists). Every record carries every attribute and relationship the
registry (``_registry_data.json``) lists for its type: unset attributes default by kind
(``boolean`` -> ``False``, ``money`` -> ``0``, ``array`` -> ``[]``, else ``None``), unset
relationships to ``None`` / ``[]``. Each call builds new objects: callers may mutate them.

Volumes at ``scale=1.0`` (the big ones scale linearly, the reference data does not), and the
records of the seed documents and of the README's examples ("seed", "README"), at every scale:

=====================  ======  ==========================================================
type                   count   notes
=====================  ======  ==========================================================
organizations          1       "Sandbox Agency" (id 1001); every ``organization`` points here
subsidiaries           2       EUR (25 % VAT) and UK (20 % VAT); USD clients are tax exempt
document_types         2       one per subsidiary
tax_rates              3
service_types          8
pipelines              2       sales (deals) and production (budgets)
deal_statuses          6
custom_fields          8       on Deal / Invoice / Person, data types 1-6 (+ 1 README)
custom_field_options   12      for the select and multi-select fields
integrations           5       Xero (connected, exports some invoices, maps the EUR VAT and
                               the exempt tax rate), QuickBooks (deactivated), Slack, Jira,
                               Google
companies              200     one internal ("Sandbox Agency (internal)"), EUR/USD/GBP clients
                               (+ 1 README)
people                 100     70 % employees, the rest client contacts of a company (+ 2
                               README)
projects               300     5 % internal
deals                  2,000   60 % of client deals are budgets; internal ones are budgets
                               (+ 4 README)
services               ~6,000  1-5 per deal (+ 2 README)
contracts              100     retainers on client budgets (+ 7 seed, 1 README)
time_entries           20,000  on budget services, 2025-01-01 .. 2026-02-28, weekdays
                               (+ 12 README)
bookings               ~3,000  8 % tentative (``draft``)
expenses               200
invoices               5,000   2 % credit notes, ~15 % drafts (+ 11 seed, 1 README)
line_items             ~10,000 1-3 per invoice
invoice_attributions   ~6,200  1-2 per invoice, on budgets of the invoice's company
payments               ~3,100  one per (partially) paid invoice
=====================  ======  ==========================================================

Consistency: an invoice's ``amount`` is the sum of its line items, ``amount_with_tax`` adds the
tax, ``amount_unpaid = amount_with_tax - amount_paid`` and its attributions add up to its
amount; finalized invoices are numbered ``2025/0001`` per year in date order (credit notes
``2025/CN001``), drafts have no number; a time entry's service belongs to a budget whose date
range contains the entry; deal and service totals (worked/billable time, budget used, cost,
revenue, profit, invoiced, expenses) are summed from the generated records. Money is integer
cents in the deal's currency with ``_default`` (organization currency EUR, via
``exchange_rate``) and ``_normalized`` (the record's own currency) variants.

The records of ``_seed_records.json`` (the seed documents' contracts and invoices, ids below
1000, written by ``tools/extract_seed_records.py``) are merged in with their ids, completed with
the registry's defaults and re-pointed at the sandbox organization; generated ids start at 1001
per type so the two never collide. So are the records the README's examples use (``_examples.py``:
company 1809 with invoice 27 linked to it, budget 685, deals 10-12, people 24 and 25 with time
entries 1-12, custom field 42, invoice 72, contract 20); the generator skips the one id of theirs
within its range (company 1809, reached from ``scale`` 4.05 on). Every type's records are in id
order.

Determinism: all randomness comes from one ``random.Random(seed)``; dates are offsets from the
fixed :data:`ANCHOR` (2026-01-01), timestamps are in the organization's time zone
(Europe/Zagreb, +01:00 / +02:00). Nothing reads the wall clock, so ``generate(seed, scale=s)``
always returns equal data.
"""

from __future__ import annotations

import gc
import json
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from importlib import resources
from typing import Any

from .._registry import Registry, default_registry
from ._examples import RESERVED, example_records, link_seed_records

__all__ = ["ANCHOR", "ORGANIZATION_ID", "generate", "seed_records"]

Record = dict[str, Any]

#: Day 0 of the generated data; every date is an offset from it.
ANCHOR = date(2026, 1, 1)
ORGANIZATION_ID = "1001"
FIRST_ID = 1001
DEFAULT_CURRENCY = "EUR"
#: Exchange rate of each currency to the organization's default currency (EUR), as sent.
EXCHANGE_RATES = {"EUR": "1.0", "USD": "0.8612", "GBP": "1.1734"}
_RATES = {code: float(rate) for code, rate in EXCHANGE_RATES.items()}
_KIND_DEFAULTS: dict[str, Any] = {"boolean": False, "money": 0}

# --------------------------------------------------------------------------- word lists


def _words(text: str, sep: str | None = None) -> tuple[str, ...]:
    return tuple(text.split(sep))


_NAME_A = _words(
    "Blue North Silver Bright Red Green Iron Golden Swift Clear Urban Nova Pixel Lunar Solar "
    "Cedar Maple Oak Stone River"
)
_NAME_B = _words("Harbor Peak Field Wave Bridge Forge Point Line Grove Crest Works Hive Path Spark")
_NAME_C = _words("Labs Media Group Studio Systems Digital Partners Foods Logistics Health Retail")
_LEGAL = {"EUR": ("GmbH", "d.o.o.", "B.V.", "S.A."), "USD": ("Inc.", "LLC"), "GBP": ("Ltd", "PLC")}
_VAT_PREFIX = {"EUR": "DE", "GBP": "GB"}
_FIRST = _words(
    "Ana Luka Marko Ivana Petra Tomislav Maja Ivan Sara Filip Nina Josip Lucija David Ema "
    "Oliver Emma Noah Mia Liam Sofia Lucas Hannah Leon Clara Jakob Laura Paul Julia Felix"
)
_LAST = _words(
    "Horvat Kovac Babic Maric Novak Juric Knezevic Vukovic Smith Jones Miller Brown Wilson "
    "Taylor Becker Schulz Weber Fischer Meyer Wagner Martin Bernard Dubois Rossi Russo Bianchi "
    "Jansen Visser Larsen Nielsen"
)
_TITLES = _words(
    "Designer|Senior Developer|Developer|Project Manager|Account Manager|QA Engineer|"
    "Copywriter|Strategist|Art Director|DevOps Engineer|Data Analyst|Finance Manager",
    "|",
)
_CONTACT_TITLES = _words("Marketing Manager|CEO|Head of Digital|Product Owner|CFO|Buyer", "|")
_PROJECTS = _words(
    "Website|Mobile App|Brand Identity|SEO|Retainer|E-commerce|CRM Integration|Campaign|"
    "Intranet|Data Platform",
    "|",
)
_INTERNAL_PROJECTS = _words("Internal Tools|Marketing Website|Training|Hiring|R&D|Presales", "|")
_PHASES = _words(
    "Discovery|Design|Build|Phase 2|Maintenance|Support|Campaign|Retainer|Audit|Launch", "|"
)
_SERVICE_TYPES = _words(
    "Design|Development|Project Management|Consulting|Quality Assurance|Copywriting|Strategy|"
    "Support",
    "|",
)
_NOTES = (
    None,
    "Weekly sync with the client",
    "Implementation",
    "Code review",
    "Bug fixing",
    "Wireframes",
    "Internal meeting",
    "Research",
    "Deployment",
    "Content updates",
    "Estimation",
    "QA round",
)
_MINUTES = (15, 30, 30, 45, 60, 60, 90, 120, 120, 180, 240, 240, 300, 360, 420, 480)
_EXPENSES = _words("Stock photos|Travel|Software license|Printing|Catering|Hosting|Courier", "|")
_LOST = (None, "Budget cut", "Went with a competitor", "Timing", "No response")
_MONTHS = _words("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec")
#: Contract ``interval_id`` -> deal ``retainer_interval``.
_RETAINER_INTERVALS = dict(
    enumerate(("month", "two_weeks", "week", "year", "half_year", "quarter"), 1)
)


# --------------------------------------------------------------------------- dates and money


def _last_sunday(year: int, month: int) -> date:
    last = date(year, month + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() + 1) % 7)


@cache
def _day_parts(offset: int) -> tuple[str, str]:
    """``(YYYY-MM-DD, UTC offset)`` of day ``offset`` (Europe/Zagreb: CEST from the last
    Sunday of March to the last Sunday of October)."""
    day = ANCHOR + timedelta(days=offset)
    summer = _last_sunday(day.year, 3) <= day < _last_sunday(day.year, 10)
    return day.isoformat(), "+02:00" if summer else "+01:00"


def _day(offset: int) -> str:
    return _day_parts(offset)[0]


@cache
def _month_bounds(offset: int) -> tuple[str, str]:
    """First and last day of the month containing day ``offset``."""
    day = ANCHOR + timedelta(days=offset)
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first.isoformat(), (following - timedelta(days=1)).isoformat()


def _weekday(offset: int) -> int:
    return (ANCHOR.weekday() + offset) % 7


def _currency(code: str) -> dict[str, str]:
    return {"currency": code, "currency_default": DEFAULT_CURRENCY, "currency_normalized": code}


def _money(code: str, **cents: int) -> dict[str, int]:
    """Money triplets: ``x`` and ``x_normalized`` in ``code``, ``x_default`` in EUR."""
    rate = _RATES[code]
    out: dict[str, int] = {}
    for name, value in cents.items():
        out[name] = value
        out[f"{name}_default"] = round(value * rate)
        out[f"{name}_normalized"] = value
    return out


def _margins(code: str, revenue: int, cost: int, *, variants: bool) -> dict[str, Any]:
    """``profit`` triplet and ``profit_margin`` (percent, 2 decimals; with ``variants``, also
    its ``_default``/``_normalized`` copies)."""
    margin = round((revenue - cost) * 100 / revenue, 2) if revenue else 0.0
    names = ("profit_margin", "profit_margin_default", "profit_margin_normalized")
    margins = dict.fromkeys(names if variants else names[:1], margin)
    return {**_money(code, profit=revenue - cost), **margins}


def _ref(record: Record) -> dict[str, str]:
    return {"type": record["type"], "id": record["id"]}


def _linkage(value: Any) -> Any:
    """A relationship value given as record(s) -> identifier(s)."""
    if value is None:
        return None
    if isinstance(value, list):
        return [_ref(item) for item in value]
    return _ref(value)


# --------------------------------------------------------------------------- registry shapes


@dataclass(slots=True)
class _Shape:
    """Defaults of one type: attributes (``fresh``: new ``[]`` each) and relationships."""

    attributes: dict[str, Any]
    fresh: tuple[str, ...]
    relationships: dict[str, Any]
    many: tuple[str, ...]
    organization: bool

    @classmethod
    def of(cls, registry: Registry, type_: str) -> _Shape:
        spec = registry.spec_for_type(type_)
        if spec is None:
            return cls({}, (), {}, (), False)
        attrs = spec.attributes.values()
        rels = spec.relationships.values()
        return cls(
            attributes={a.name: _KIND_DEFAULTS.get(a.kind) for a in attrs if a.kind != "array"},
            fresh=tuple(a.name for a in attrs if a.kind == "array"),
            relationships={r.name: None for r in rels if not r.many},
            many=tuple(r.name for r in rels if r.many),
            organization="organization" in spec.relationships,
        )

    def complete(self, record: Record) -> Record:
        """Fill the attributes and relationships ``record`` lacks with their defaults."""
        attributes = {**self.attributes, **{name: [] for name in self.fresh}}
        attributes.update(record.get("attributes") or {})
        relationships = {**self.relationships, **{name: [] for name in self.many}}
        relationships.update(record.get("relationships") or {})
        if self.organization:
            relationships["organization"] = {"type": "organizations", "id": ORGANIZATION_ID}
        return {**record, "attributes": attributes, "relationships": relationships}


# --------------------------------------------------------------------------- generator state


@dataclass(slots=True)
class _Deal:
    record: Record
    start: int
    end: int
    currency: str
    company: Record
    responsible: Record
    subsidiary: Record
    tax_rate: Record
    document_type: Record
    budget: bool
    client: bool
    probability: int
    services: list[_Service] = field(default_factory=list)
    invoiced: int = 0
    draft_invoiced: int = 0
    credited: int = 0


@dataclass(slots=True)
class _Service:
    record: Record
    deal: _Deal
    billable: bool
    fixed: bool
    hourly_rate: int
    budget_total: int
    budgeted_time: int
    worked: int = 0
    billable_time: int = 0
    unapproved: int = 0
    cost: int = 0
    booked: int = 0
    future_booked: int = 0
    expense: int = 0
    expense_billable: int = 0


class _Generator:
    def __init__(self, seed: int, scale: float, registry: Registry) -> None:
        self.rng = random.Random(seed)
        self.pick = self.rng.choice
        self.scale = scale
        self.registry = registry
        self.data: dict[str, list[Record]] = {}
        self.index: dict[tuple[str, str], Record] = {}
        self.shapes: dict[str, _Shape] = {}
        self.employees: list[Record] = []
        self.person_rate: dict[str, int] = {}
        self.person_subsidiary: dict[str, Record] = {}
        self.deals: list[_Deal] = []
        self.budgets_by_company: dict[str, list[_Deal]] = {}
        self.fields: dict[str, Record] = {}
        self.options: dict[str, list[str]] = {}
        self.skipped: dict[str, int] = {}

    # -- helpers

    def count(self, base: int, minimum: int = 1) -> int:
        return max(minimum, round(base * self.scale))

    def add(
        self, type_: str, attributes: dict[str, Any], relationships: dict[str, Any] | None = None
    ) -> Record:
        """Create a record of ``type_`` with the next id; relationship values are records."""
        shape = self.shapes.get(type_)
        if shape is None:
            shape = self.shapes[type_] = _Shape.of(self.registry, type_)
        table = self.data.setdefault(type_, [])
        attrs = shape.attributes.copy()
        for name in shape.fresh:
            attrs[name] = []
        attrs.update(attributes)
        rels = shape.relationships.copy()
        for name in shape.many:
            rels[name] = []
        if shape.organization:
            rels["organization"] = {"type": "organizations", "id": ORGANIZATION_ID}
        if relationships:
            for name, value in relationships.items():
                if type(value) is dict:  # inlined _linkage() for the common case: a record
                    rels[name] = {"type": value["type"], "id": value["id"]}
                else:
                    rels[name] = _linkage(value)
        number = FIRST_ID + len(table) + self.skipped.get(type_, 0)
        while (type_, number) in RESERVED:  # an id of the README's records (._examples)
            self.skipped[type_] = self.skipped.get(type_, 0) + 1
            number += 1
        id_ = str(number)
        record: Record = {"id": id_, "type": type_, "attributes": attrs, "relationships": rels}
        table.append(record)
        self.index[type_, id_] = record
        return record

    def follow(self, record: Record, name: str) -> Record:
        """The record a to-one relationship of ``record`` points to."""
        ref = record["relationships"][name]
        return self.index[ref["type"], ref["id"]]

    def ts(self, offset: int, first_hour: int = 8, hours: int = 11) -> str:
        """A timestamp on day ``offset`` between ``first_hour`` and ``first_hour + hours``."""
        day, tz = _day_parts(offset)
        millis = first_hour * 3_600_000 + self.rng.randrange(hours * 3_600_000)
        seconds, ms = divmod(millis, 1000)
        hour, minute, second = seconds // 3600, seconds // 60 % 60, seconds % 60
        return f"{day}T{hour:02d}:{minute:02d}:{second:02d}.{ms:03d}{tz}"

    def later(self, offset: int, earliest: str) -> str:
        """A timestamp on day ``offset`` that is not before timestamp ``earliest``."""
        return max(self.ts(offset), earliest)

    def workday(self, first: int, last: int) -> int:
        """A random day in ``[first, last]``, a weekday unless a few draws all hit weekends."""
        day = self.rng.randint(first, last)
        for _ in range(4):
            if _weekday(day) < 5:
                break
            day = self.rng.randint(first, last)
        return day

    def hex(self, bits: int = 128) -> str:
        return f"{self.rng.getrandbits(bits):0{bits // 4}x}"

    def chance(self, probability: float) -> bool:
        return self.rng.random() < probability

    # -- reference data

    def reference_data(self) -> None:
        self.org = self.add("organizations", {
            "name": "Sandbox Agency", "currency": DEFAULT_CURRENCY, "time_zone": "Europe/Zagreb",
            "locale": "en", "created_at": self.ts(-2000), "due_days": 30, "man_day_minutes": 480,
            "week_start_day_id": 1, "date_format_id": 1, "time_format_id": 1,
            "number_format_id": 1, "currency_format_id": 1, "decimal_places_id": 2,
        })  # fmt: skip
        subsidiaries = [
            self.add("subsidiaries", {"name": name, "invoice_number_format": "{YYYY}/{NNNN}"})
            for name in ("Sandbox Agency d.o.o.", "Sandbox Agency Ltd")
        ]
        self.document_types = [
            self.add(
                "document_types",
                {
                    "name": f"Invoice ({locale.upper()})",
                    "locale": locale,
                    "dual_currency": False,
                    "exportable_type_id": 1,
                    "email_subject": "Invoice {{invoice_number}}",
                },
                {"subsidiary": subsidiary},
            )
            for locale, subsidiary in zip(("hr", "en"), subsidiaries, strict=True)
        ]
        self.tax_rates = [
            self.add(
                "tax_rates",
                {"name": name, "primary_component_name": "VAT", "primary_component_value": value},
                {"subsidiary": subsidiary},
            )
            for name, value, subsidiary in (
                ("VAT 25%", 25.0, subsidiaries[0]),
                ("VAT 20% (UK)", 20.0, subsidiaries[1]),
                ("Exempt", 0.0, None),
            )
        ]
        for subsidiary, document_type, tax_rate in zip(
            subsidiaries, self.document_types, self.tax_rates, strict=False
        ):
            subsidiary["relationships"]["default_document_type"] = _ref(document_type)
            subsidiary["relationships"]["default_tax_rate"] = _ref(tax_rate)
        self.subsidiaries = subsidiaries
        self.service_types = [self.add("service_types", {"name": name}) for name in _SERVICE_TYPES]
        sales, production = (
            self.add("pipelines", dict(name=name, pipeline_type_id=i, icon_id=i, position=i))
            for i, name in ((1, "Sales"), (2, "Production"))
        )
        self.pipelines = {"sales": sales, "production": production}
        self.statuses: dict[str, Record] = {}
        for position, (key, name, pipeline, status_id, probability) in enumerate((
            ("lead", "Lead", sales, 1, 20),
            ("proposal", "Proposal sent", sales, 1, 60),
            ("won", "Won", sales, 2, 100),
            ("lost", "Lost", sales, 3, 0),
            ("in_progress", "In progress", production, 1, 100),
            ("delivered", "Delivered", production, 2, 100),
        ), 1):  # fmt: skip
            self.statuses[key] = self.add("deal_statuses", {
                "name": name, "status_id": status_id, "probability": probability,
                "position": position, "color_id": position, "probability_enabled": True,
                "time_tracking_enabled": True, "booking_tracking_enabled": True,
                "expense_tracking_enabled": True, "lost_reason_enabled": status_id == 3,
            }, {"pipeline": pipeline})  # fmt: skip

    def custom_fields(self) -> None:
        specs: tuple[tuple[str, str, str, int, tuple[str, ...]], ...] = (
            ("lead_source", "Deal", "Lead source", 3, ("Referral", "Website", "Event", "Outbound")),
            ("industries", "Deal", "Industries", 5,
             ("Retail", "Finance", "Healthcare", "Media", "Public sector")),
            ("expected_hours", "Deal", "Expected hours", 2, ()),
            ("kickoff", "Deal", "Kick-off date", 4, ()),
            ("account_manager", "Deal", "Account manager", 6, ()),
            ("cost_center", "Invoice", "Cost center", 1, ()),
            ("collection", "Invoice", "Collection status", 3,
             ("On track", "Reminded", "Escalated")),
            ("mentor", "Person", "Mentor", 6, ()),
        )  # fmt: skip
        for position, (key, owner, name, data_type, options) in enumerate(specs, 1):
            created = self.ts(-700 + position)
            record = self.add("custom_fields", {
                "name": name, "customizable_type": owner, "data_type_id": data_type,
                "position": position, "global": True, "show_in_add_edit_views": True,
                "created_at": created, "updated_at": created,
            })  # fmt: skip
            option_records = [
                self.add(
                    "custom_field_options",
                    {"name": option, "position": index, "color_id": index},
                    {"custom_field": record},
                )
                for index, option in enumerate(options, 1)
            ]
            record["relationships"]["options"] = _linkage(option_records)
            self.fields[key] = record
            self.options[key] = [option["id"] for option in option_records]

    def custom_values(
        self, keys: Iterable[str], chance: float, around: int = 0
    ) -> tuple[dict[str, Any], list[Record]]:
        """A ``custom_fields`` hash (each of ``keys`` set with ``chance``; dates up to two weeks
        before day ``around``) and the people it references (for ``custom_field_people``)."""
        values: dict[str, Any] = {}
        people: list[Record] = []
        for key in keys:
            if not self.chance(chance):
                continue
            record = self.fields[key]
            data_type = record["attributes"]["data_type_id"]
            value: Any
            if data_type == 1:
                value = f"CC-{self.rng.randint(100, 999)}"
            elif data_type == 2:
                value = self.rng.randrange(10, 500, 10)
            elif data_type == 3:
                value = self.pick(self.options[key])
            elif data_type == 4:
                value = _day(around - self.rng.randint(0, 14))
            elif data_type == 5:
                value = sorted(self.rng.sample(self.options[key], self.rng.randint(1, 2)))
            else:
                person = self.pick(self.employees)
                people.append(person)
                value = person["id"]
            values[record["id"]] = value
        return values, people

    # -- CRM

    def companies(self) -> None:
        rng = self.rng
        count = self.count(200, minimum=2) - 1
        self.internal = self.add("companies", {
            "name": "Sandbox Agency (internal)", "billing_name": "Sandbox Agency d.o.o.",
            "default_currency": DEFAULT_CURRENCY, "domain": "sandbox-agency.example",
            "company_code": "SBX", "due_days": 30, "created_at": self.ts(-2000),
        }, {"default_subsidiary": self.subsidiaries[0], "default_tax_rate": self.tax_rates[0],
            "default_document_type": self.document_types[0]})  # fmt: skip
        self.clients: list[Record] = []
        self.short_names: dict[str, str] = {self.internal["id"]: "Sandbox"}
        combos = len(_NAME_A) * len(_NAME_B) * len(_NAME_C)
        codes = rng.sample(range(combos), min(count, combos))
        for index in range(count):
            rest, c = divmod(codes[index % combos], len(_NAME_C))
            a, b = _NAME_A[rest // len(_NAME_B)], _NAME_B[rest % len(_NAME_B)]
            short = f"{a} {b}" + (f" {index // combos + 1}" if index >= combos else "")
            name = f"{short} {_NAME_C[c]}"
            currency = rng.choices(("EUR", "USD", "GBP"), (55, 30, 15))[0]
            domain = f"{short}{_NAME_C[c]}.com".replace(" ", "").lower()
            local = currency == "EUR"
            created = rng.randint(-1500, -30)
            created_at = self.ts(created)
            company = self.add("companies", {
                "name": name, "billing_name": f"{name} {self.pick(_LEGAL[currency])}",
                "default_currency": currency, "domain": domain,
                "company_code": f"{a[0]}{b[0]}{_NAME_C[c][0]}{index + 1:03d}",
                "due_days": self.pick((15, 30, 30, 45, 60)),
                "vat": f"{_VAT_PREFIX[currency]}{rng.randrange(10**8, 10**9)}"
                if currency in _VAT_PREFIX else None,
                "contact": {"emails": [{"name": "billing", "email": f"billing@{domain}"}],
                            "phones": [], "addresses": [],
                            "websites": [{"name": "web", "website": f"https://{domain}"}]},
                "invoice_email_recipients": [f"billing@{domain}"],
                "created_at": created_at,
                "last_activity_at": self.later(rng.randint(created, 0), created_at),
                "tag_list": ["key account"] if self.chance(0.1) else [],
            }, {
                "default_subsidiary": self.subsidiaries[0 if local else 1],
                "default_tax_rate": self.tax_rates[("EUR", "GBP", "USD").index(currency)],
                "default_document_type": self.document_types[0 if local else 1],
            })  # fmt: skip
            self.clients.append(company)
            self.short_names[company["id"]] = short
        for company in self.clients[: len(self.clients) // 20]:  # a few have a parent company
            parent = self.pick(self.clients)
            if parent is not company:
                company["relationships"]["parent_company"] = _ref(parent)

    def people(self) -> None:
        rng = self.rng
        total = self.count(100, minimum=2)
        employees = max(1, round(total * 0.7))
        self.contacts_by_company: dict[str, list[Record]] = {}
        emails: set[str] = set()
        for index in range(total):
            first, last = self.pick(_FIRST), self.pick(_LAST)
            employee = index < employees
            company = self.internal if employee or not self.clients else self.pick(self.clients)
            domain = company["attributes"]["domain"]
            email = f"{first}.{last}@{domain}".lower()
            if email in emails:
                email = f"{first}.{last}{index}@{domain}".lower()
            emails.add(email)
            joined = rng.randint(-1500, -30)
            subsidiary = self.subsidiaries[0] if index % 4 else self.subsidiaries[1]
            person = self.add("people", {
                "first_name": first, "last_name": last, "email": email,
                "title": self.pick(_TITLES if employee else _CONTACT_TITLES),
                "is_user": employee, "role_id": (1 if index == 0 else 2) if employee else None,
                "status_id": 1,
                "hrm_type_id": (2 if self.chance(0.15) else 1) if employee else None,
                "color_id": rng.randint(1, 12), "invited_at": self.ts(joined - 3),
                "joined_at": self.ts(joined) if employee else None,
                "created_at": self.ts(joined - 3),
                "last_seen_at": self.ts(-rng.randint(0, 10)) if employee else None,
                "last_activity_at": self.ts(-rng.randint(0, 30)),
                "contact": {"emails": [{"name": "work", "email": email}], "phones": []},
            }, {
                "company": company,
                "subsidiary": subsidiary if employee else None,
                "manager": (self.employees[index % min(5, index)] if employee and index else None),
            })  # fmt: skip
            if employee:
                self.employees.append(person)
                self.person_rate[person["id"]] = rng.randrange(2500, 7001, 250)
                self.person_subsidiary[person["id"]] = subsidiary
            else:
                self.contacts_by_company.setdefault(company["id"], []).append(person)
        for person in self.employees:
            values, referenced = self.custom_values(["mentor"], 0.3)
            if values:
                person["attributes"]["custom_fields"] = values
                person["relationships"]["custom_field_people"] = _linkage(referenced)
        self.org["relationships"]["owner"] = _ref(self.employees[0])

    def projects(self) -> None:
        rng = self.rng
        total = self.count(300, minimum=2)
        internal = max(1, round(total * 0.05))
        self.internal_projects: list[Record] = []
        self.client_projects: list[Record] = []
        for index in range(total):
            is_internal = index < internal or not self.clients
            company = self.internal if is_internal else self.pick(self.clients)
            name = (
                self.pick(_INTERNAL_PROJECTS)
                if is_internal
                else f"{self.short_names[company['id']]} {self.pick(_PROJECTS)}"
            )
            created = rng.randint(-900, -20)
            created_at = self.ts(created)
            project = self.add("projects", {
                "name": name, "number": str(index + 1), "project_number": str(index + 1),
                "project_type_id": 1 if is_internal else 2, "project_color_id": rng.randint(1, 12),
                "created_at": created_at,
                "last_activity_at": self.later(rng.randint(created, 0), created_at),
                "archived_at": self.later(rng.randint(created, 0), created_at)
                if self.chance(0.05) else None,
                "template": False, "public_access": False,
            }, {"company": company, "project_manager": self.pick(self.employees)})  # fmt: skip
            (self.internal_projects if is_internal else self.client_projects).append(project)

    # -- deals and services

    def deals_and_services(self) -> None:
        rng = self.rng
        for index in range(self.count(2000)):
            internal = not self.client_projects or self.chance(0.05)
            project = self.pick(self.internal_projects if internal else self.client_projects)
            company = self.follow(project, "company")
            currency = company["attributes"]["default_currency"]
            budget = internal or self.chance(0.6)
            start = rng.randint(-600, 45)
            end = start + self.pick((30, 60, 90, 90, 180, 365))
            created = min(start - rng.randint(0, 14), -1)
            responsible = (
                self.follow(project, "project_manager") if self.chance(0.7)
                else self.pick(self.employees)
            )  # fmt: skip
            attrs: dict[str, Any] = {
                "name": f"{project['attributes']['name']} - {self.pick(_PHASES)}",
                "number": str(index + 1), "deal_number": str(index + 1),
                "date": _day(start), "end_date": _day(end), "budget": budget,
                "deal_type_id": 1 if internal else 2, "created_at": self.ts(created),
                **_currency(currency), "exchange_rate": EXCHANGE_RATES[currency],
                "exchange_date": _day(start), "email_key": self.hex(),
                "color_id": rng.randint(1, 12), "position": index + 1,
                "budget_warning": 80 if budget and self.chance(0.3) else None,
                "time_approval": budget and self.chance(0.3), "tracking_type_id": 1,
                "man_day_minutes": 480, "deal_value_source": "from_services",
                "revenue_distribution_type": "default",
                "purchase_order_number": f"PO-{rng.randint(10000, 99999)}"
                if self.chance(0.15) else None,
            }  # fmt: skip
            contacts = self.contacts_by_company.get(company["id"])
            rels: dict[str, Any] = {
                "company": company, "project": project, "responsible": responsible,
                "creator": self.pick(self.employees),
                "contact": self.pick(contacts) if contacts else None,
                "subsidiary": self.follow(company, "default_subsidiary"),
                "tax_rate": self.follow(company, "default_tax_rate"),
                "document_type": self.follow(company, "default_document_type"),
            }  # fmt: skip
            probability, closed_on = self.sales_status(attrs, rels, budget, end, created)
            attrs["probability"] = attrs["previous_probability"] = probability
            if closed_on is not None and not budget:
                attrs["time_to_close"] = closed_on - created
            if not internal:
                values, referenced = self.custom_values(
                    ["lead_source", "industries", "expected_hours", "kickoff", "account_manager"],
                    0.2,
                    start,
                )
                if values:
                    attrs["custom_fields"] = values
                    rels["custom_field_people"] = referenced
            attrs["last_activity_at"] = self.later(max(min(end, 0), created), attrs["created_at"])
            record = self.add("deals", attrs, rels)
            deal = _Deal(
                record, start, end, currency, company, responsible, rels["subsidiary"],
                rels["tax_rate"], rels["document_type"], budget, not internal, probability,
            )  # fmt: skip
            self.deals.append(deal)
            if budget and not internal:
                self.budgets_by_company.setdefault(company["id"], []).append(deal)
            for position in range(1, self.pick((1, 2, 3, 3, 4, 5)) + 1):
                self.service(deal, position)
            record["relationships"]["services"] = [_ref(s.record) for s in deal.services]

    def sales_status(
        self,
        attrs: dict[str, Any],
        rels: dict[str, Any],
        budget: bool,
        end: int,
        created: int,
    ) -> tuple[int, int | None]:
        """Set the status attributes of a deal; returns its probability and closing day."""
        rng = self.rng
        if budget:
            status, sales_status = "in_progress", 2
            if end < -14 and self.chance(0.75):
                closed = min(end + rng.randint(0, 20), -1)
                attrs["closed_at"] = self.ts(closed)
                attrs["delivered_on"] = _day(closed)
                status = "delivered"
            closed_on: int | None = created
        else:
            roll = rng.random()
            status, sales_status = (
                (self.pick(("lead", "proposal")), 1) if roll < 0.45
                else ("won", 2) if roll < 0.8 else ("lost", 3)
            )  # fmt: skip
            closed_on = None if sales_status == 1 else min(created + rng.randint(3, 60), 0)
        rels["pipeline"] = self.pipelines["production" if budget else "sales"]
        rels["deal_status"] = self.statuses[status]
        attrs["sales_status_id"] = sales_status
        if closed_on is not None:
            closed_at = attrs["created_at"] if closed_on == created else self.ts(closed_on)
            attrs.update(sales_closed_at=closed_at, sales_closed_on=_day(closed_on))
            attrs["won_at" if sales_status == 2 else "lost_at"] = closed_at
            if sales_status == 3:
                attrs["lost_comment"] = self.pick(_LOST)
        attrs["sales_status_updated_at"] = attrs.get("sales_closed_at") or attrs["created_at"]
        probability: int = self.statuses[status]["attributes"]["probability"]
        return probability, closed_on

    def service(self, deal: _Deal, position: int) -> None:
        rng = self.rng
        service_type = self.pick(self.service_types)
        unit = rng.random()
        if unit < 0.7:  # hours
            unit_id, price = 1, rng.randrange(6000, 18001, 500)
            quantity = rng.randrange(8, 201, 4)
            budgeted, rate = quantity * 60, price
        elif unit < 0.85:  # days
            unit_id, price = 3, rng.randrange(48000, 120001, 4000)
            quantity = rng.randint(1, 20)
            budgeted, rate = quantity * 480, price // 8
        else:  # pieces (fixed deliverables)
            unit_id, price = 2, rng.randrange(50000, 500001, 10000)
            quantity = rng.randint(1, 4)
            budgeted = quantity * self.pick((480, 960, 2400))
            rate = price * quantity * 60 // budgeted
        billable = deal.client and not self.chance(0.1)
        fixed = billable and (unit_id == 2 or self.chance(0.3))
        if not billable:
            price = rate = 0
        total = price * quantity
        record = self.add("services", {
            "name": service_type["attributes"]["name"], "position": position,
            "unit_id": unit_id, "quantity": f"{quantity}.0", "billable": billable,
            "billing_type_id": 1 if fixed else 2 if billable else 3,
            "pricing_type_id": 2 if fixed else 1, "budgeted_time": budgeted,
            "estimated_time": budgeted, "estimated_cost": budgeted * 45 // 60 * 100,
            "time_tracking_enabled": True, "booking_tracking_enabled": True,
            "expense_tracking_enabled": deal.budget and self.chance(0.15),
            "tracking_enabled": True, "discount": None, **_currency(deal.currency),
            **_money(deal.currency, price=price, hourly_rate=rate, budget_total=total,
                     projected_revenue=total),
        }, {"deal": deal.record, "service_type": service_type})  # fmt: skip
        deal.services.append(_Service(record, deal, billable, fixed, rate, total, budgeted))

    def contracts(self) -> None:
        rng = self.rng
        candidates = [d for d in self.deals if d.budget and d.client and d.end > 0]
        for deal in rng.sample(candidates, min(len(candidates), self.count(100))):
            interval = rng.choices((1, 2, 3, 4, 5, 6), (60, 5, 5, 10, 5, 15))[0]
            next_on = rng.randint(max(1, deal.start + 1), 90)
            ends = next_on + rng.randint(90, 730) if self.chance(0.3) else None
            contract = self.add("contracts", {
                "interval_id": interval, "starts_on": _day(deal.start),
                "next_occurrence_on": _day(next_on),
                "ends_on": None if ends is None else _day(ends),
                "template_id": int(deal.record["id"]), "copy_expenses": self.chance(0.2),
                "copy_purchase_order_number": self.chance(0.3),
                "use_rollover_hours": self.chance(0.1),
            }, {"template": deal.record})  # fmt: skip
            deal.record["relationships"]["contract"] = _ref(contract)
            deal.record["attributes"].update(
                retainer_interval=_RETAINER_INTERVALS[interval],
                retainer_interval_count=1,
                retainer_deal_value_type="per_interval",
            )

    # -- work

    def tracked(self, first: int, last: int) -> list[tuple[_Service, int, int]]:
        """Budget services with the part of their deal's range within ``[first, last]``."""
        return [
            (service, max(deal.start, first), min(deal.end, last))
            for deal in self.deals
            if deal.budget and max(deal.start, first) <= min(deal.end, last)
            for service in deal.services
        ]

    def time_entries(self) -> None:
        rng, pick, employees = self.rng, self.pick, self.employees
        candidates = self.tracked(-365, 58)
        if not candidates:
            return
        for _ in range(self.count(20_000)):
            service, first, last = pick(candidates)
            deal = service.deal
            day = self.workday(first, last)
            person = pick(employees)
            minutes = pick(_MINUTES)
            billable = minutes if service.billable else 0
            approved = day <= 0 and rng.random() < (0.92 if day < -7 else 0.5)
            created = self.ts(day, 9, 10)
            approved_at = self.later(min(day + rng.randint(0, 5), 0), created) if approved else None
            updated = approved_at or created
            self.add("time_entries", {
                "date": _day(day), "time": minutes, "billable_time": billable,
                "note": pick(_NOTES), "approved": approved, "approved_at": approved_at,
                "submitted": approved, "invoiced": approved and billable > 0 and day < -30,
                "track_method_id": 1, "created_at": created, "updated_at": updated,
                "last_activity_at": updated, **_currency(deal.currency),
            }, {
                "person": person, "service": service.record, "creator": person,
                "updater": deal.responsible if approved else person,
                "last_actor": deal.responsible if approved else person,
                "approver": deal.responsible if approved else None,
                "deal_subsidiary": deal.subsidiary,
                "person_subsidiary": self.person_subsidiary[person["id"]],
            })  # fmt: skip
            service.worked += minutes
            service.billable_time += billable
            service.cost += minutes * self.person_rate[person["id"]] // 60
            if not approved:
                service.unapproved += minutes

    def bookings(self) -> None:
        rng, pick = self.rng, self.pick
        candidates = self.tracked(-120, 120)
        if not candidates:
            return
        for _ in range(self.count(3000)):
            service, first, last = pick(candidates)
            start = self.workday(first, last)
            end = start + pick((0, 0, 1, 2, 4, 4, 9, 13))
            days = sum(1 for day in range(start, end + 1) if _weekday(day) < 5)
            per_day = pick((60, 120, 240, 240, 360, 480))
            draft = self.chance(0.08)
            created = self.ts(min(start - rng.randint(1, 30), 0))
            self.add("bookings", {
                "started_on": _day(start), "ended_on": _day(end), "booking_method_id": 1,
                "time": per_day, "hours": per_day / 60, "total_time": per_day * days,
                "total_working_days": days, "draft": draft, "approved": not draft,
                "approved_at": None if draft else created, "note": None,
                "created_at": created, "updated_at": created, "last_activity_at": created,
            }, {
                "person": pick(self.employees), "service": service.record,
                "creator": service.deal.responsible, "updater": service.deal.responsible,
            })  # fmt: skip
            service.booked += per_day * days
            if start > 0:
                service.future_booked += per_day * days

    def expenses(self) -> None:
        rng = self.rng
        candidates = [(s, first, last) for s, first, last in self.tracked(-365, 0) if s.billable]
        for _ in range(self.count(200) if candidates else 0):
            service, first, last = self.pick(candidates)
            deal = service.deal
            day = rng.randint(first, last)
            amount = rng.randrange(2000, 200001, 100)
            markup = self.pick((None, 10.0, 15.0))
            billable_amount = round(amount * (1 + (markup or 0) / 100))
            tax = round(amount * deal.tax_rate["attributes"]["primary_component_value"] / 100)
            approved = self.chance(0.85)
            reimbursable = self.chance(0.3)
            person = self.pick(self.employees)
            created = self.ts(day)
            self.add("expenses", {
                "name": self.pick(_EXPENSES), "date": _day(day), "quantity": "1.0",
                "markup": markup, "approved": approved,
                "approved_at": self.later(min(day + 2, 0), created) if approved else None,
                "reimbursable": reimbursable,
                "reimbursed_on": _day(min(day + 14, 0)) if reimbursable and approved else None,
                "pay_on": _day(day + 30), "paid_on": _day(day) if self.chance(0.6) else None,
                "created_at": created, **_currency(deal.currency),
                **_money(deal.currency, amount=amount, amount_with_tax=amount + tax,
                         billable_amount=billable_amount),
            }, {
                "person": person, "creator": person, "service": service.record,
                "approver": deal.responsible if approved else None, "tax_rate": deal.tax_rate,
            })  # fmt: skip
            service.expense += amount
            service.expense_billable += billable_amount

    # -- invoicing

    def integrations(self) -> None:
        self.xero: Record | None = None
        # Xero maps the EUR VAT and the exempt rate, not the UK one: exporting an invoice with
        # UK VAT is the seed's 422 tax_rates_not_mapped (seed 004, PATCH invoices/40/export).
        vat, _, exempt = self.tax_rates
        mapping = {vat["id"]: "OUTPUT2", exempt["id"]: "NONE"}
        for name, type_id, connected, extra in (
            ("Xero", 3, -400, {"use_invoices_export": True, "export_number": True,
                               "tax_rate_mapping": mapping}),
            ("QuickBooks", 2, -900, {"deactivated_at": self.ts(-420)}),
            ("Slack", 11, -600, {"slack_options": {"notifications": True}}),
            ("Jira", 7, -300, {"jira_organization": "sandbox-agency"}),
            ("Google Calendar", 9, -200, {"calendars": ["primary"]}),
        ):
            created = self.ts(connected)
            record = self.add("integrations", {
                "name": name, "integration_type_id": type_id, "connected_at": created,
                "created_at": created, "last_synced_at": self.ts(-1), **extra,
            }, {"creator": self.employees[0],
                "subsidiary": self.subsidiaries[0] if type_id == 3 else None})  # fmt: skip
            if type_id == 3:
                self.xero = record

    def invoices(self) -> None:
        candidates = [d for d in self.deals if d.budget and d.client and d.start <= 30]
        if not candidates:
            return
        total = self.count(5000)
        credit_notes = round(total * 0.02)
        regular = [self.invoice(self.pick(candidates)) for _ in range(total - credit_notes)]
        self.number(regular, "{year}/{seq:04d}")
        parents = [inv for inv in regular if inv[0]["attributes"]["number"] and inv[1] <= -10]
        credits = [
            self.credit_note(*parent)
            for parent in self.rng.sample(parents, min(credit_notes, len(parents)))
        ]
        self.number(credits, "{year}/CN{seq:03d}")

    def number(self, invoices: list[tuple[Record, int, _Deal]], template: str) -> None:
        """Number the finalized ``invoices`` per year in order of their invoice date."""
        finalized = sorted(
            ((day, int(inv["id"]), inv) for inv, day, _ in invoices
             if inv["attributes"]["finalized_on"]),
            key=lambda item: item[:2],
        )  # fmt: skip
        seq: dict[str, int] = {}
        for _, _, invoice in finalized:
            year = invoice["attributes"]["invoiced_on"][:4]
            seq[year] = seq.get(year, 0) + 1
            invoice["attributes"]["number"] = template.format(year=year, seq=seq[year])

    def invoice(self, deal: _Deal) -> tuple[Record, int, _Deal]:
        rng = self.rng
        first = max(deal.start, -420)
        day = rng.randint(first, max(first, min(deal.end + 45, 30)))
        draft = day > 0 or (day > -10 and self.chance(0.5)) or self.chance(0.03)
        terms: int = deal.company["attributes"]["due_days"]
        invoice = self.add("invoices", {}, {
            "company": deal.company, "creator": self.pick(self.employees),
            "issuer": deal.responsible, "subsidiary": deal.subsidiary,
            "document_type": deal.document_type,
        })  # fmt: skip
        month = _MONTHS[int(_day(day)[5:7]) - 1]
        items = []
        for position in range(1, self.pick((1, 2, 2, 3)) + 1):
            service = self.pick(deal.services)
            attrs = service.record["attributes"]
            quantity = (
                rng.randrange(4, 161) / 4 if attrs["unit_id"] == 1
                else float(rng.randint(1, 10)) if attrs["unit_id"] == 3 else 1.0
            )  # fmt: skip
            items.append(self.line_item(
                invoice, deal, service, position, f"{attrs['name']} - {month} {_day(day)[:4]}",
                quantity, attrs["price"],
            ))  # fmt: skip
        amount = sum(item["attributes"]["amount"] for item in items)
        tax = sum(item["attributes"]["amount_tax"] for item in items)
        budgets = [deal]
        others = [b for b in self.budgets_by_company.get(deal.company["id"], ()) if b is not deal]
        if others and self.chance(0.25):
            budgets.append(self.pick(others))
        shares = [round(amount * rng.uniform(0.4, 0.8))] if len(budgets) == 2 else []
        shares.append(amount - sum(shares))
        self.attributions(invoice, day, budgets, shares, draft)
        sent = paid = None
        paid_amount = 0
        if not draft and day <= 0 and self.chance(0.9):
            sent = min(day + rng.randint(0, 2), 0)
            if self.chance(0.92 if day < -60 else 0.6 if day < -20 else 0.2):
                paid = max(min(day + rng.randint(3, terms + 20), 0), sent)
                paid_amount = amount + tax
                if self.chance(0.04):  # partially paid
                    paid_amount //= 2
        exported = not draft and day < -30 and self.xero is not None and self.chance(0.4)
        export_id = self.hex() if exported else None
        created = day - rng.randint(0, 3)
        created_at = self.ts(created)
        values, _ = self.custom_values(["cost_center", "collection"], 0.25)
        self.fill_invoice(invoice, {
            "invoiced_on": _day(day), "pay_on": _day(day + terms), "payment_terms": terms,
            "finalized_on": None if draft else _day(day),
            "finalized_at": None if draft else self.later(day, created_at),
            "sent_on": None if sent is None else _day(sent),
            "paid_on": None if paid is None or paid_amount < amount + tax else _day(paid),
            "invoice_type_id": 1, "email_key": self.hex(),
            "subject": f"Invoice for {deal.record['attributes']['name']}"
            if self.chance(0.5) else None,
            "purchase_order_number": deal.record["attributes"]["purchase_order_number"],
            "exported": exported, "exported_at": self.ts(day + 1) if exported else None,
            "export_integration_type_id": 3 if exported else None,
            "export_id": export_id,
            "export_invoice_url": "https://go.xero.com/AccRec/View.aspx?InvoiceID="
            f"{export_id}" if export_id else None,
            "custom_fields": values or None, "created_at": created_at,
        }, deal, (amount, tax, paid_amount),
            max(d for d in (created, day, sent, paid, day + 1 if exported else None)
                if d is not None))  # fmt: skip
        if paid_amount:
            self.add("payments", {
                "paid_on": _day(paid or 0), "created_at": self.ts(paid or 0),
                "external_id": export_id, **_currency(deal.currency),
                **_money(deal.currency, amount=paid_amount),
            }, {"invoice": invoice})  # fmt: skip
        return invoice, day, deal

    def fill_invoice(
        self,
        invoice: Record,
        attrs: dict[str, Any],
        deal: _Deal,
        amounts: tuple[int, int, int],
        last_day: int,
    ) -> None:
        """Set ``attrs`` and what invoices and credit notes share: money for ``amounts``
        (amount, tax, paid), currency, taxes, ``updated_at`` on ``last_day``."""
        amount, tax, paid = amounts
        updated = max(self.ts(last_day), attrs["created_at"], attrs["finalized_at"] or "")
        tax_rate = deal.tax_rate["attributes"]
        invoice["attributes"].update(
            attrs,
            **_currency(deal.currency),
            **_money(deal.currency, amount=amount, amount_tax=tax, amount_with_tax=amount + tax,
                     amount_paid=paid, amount_unpaid=amount + tax - paid),
            exchange_rate=EXCHANGE_RATES[deal.currency],
            exchange_date=attrs["invoiced_on"],
            tax1_name=tax_rate["primary_component_name"],
            tax1_value=tax_rate["primary_component_value"],
            creation_options={},
            updated_at=updated,
            last_activity_at=updated,
        )  # fmt: skip

    def line_item(
        self,
        invoice: Record,
        deal: _Deal,
        service: _Service | None,
        position: int,
        description: str,
        quantity: float,
        unit_price: int,
    ) -> Record:
        amount = round(quantity * unit_price)
        tax_rate, currency = deal.tax_rate, deal.currency
        tax_attrs = tax_rate["attributes"]
        tax = round(amount * tax_attrs["primary_component_value"] / 100)
        return self.add("line_items", {
            "description": description, "quantity": str(quantity), "position": position,
            "unit_id": service.record["attributes"]["unit_id"] if service else 2,
            "tax_name": tax_attrs["primary_component_name"],
            "tax_value": tax_attrs["primary_component_value"], **_currency(currency),
            **_money(currency, unit_price=unit_price, amount=amount, amount_tax=tax,
                     amount_with_tax=amount + tax),
        }, {
            "invoice": invoice, "service": service.record if service else None,
            "service_type": self.service_type_of(service), "tax_rate": tax_rate,
        })  # fmt: skip

    def service_type_of(self, service: _Service | None) -> Record | None:
        if service is None:
            return None
        return self.follow(service.record, "service_type")

    def attributions(
        self, invoice: Record, day: int, budgets: list[_Deal], shares: list[int], draft: bool
    ) -> None:
        date_from, date_to = _month_bounds(day)
        records = []
        for budget, share in zip(budgets, shares, strict=True):
            records.append(self.add("invoice_attributions", {
                "date_from": date_from, "date_to": date_to, **_currency(budget.currency),
                **_money(budget.currency, amount=share),
            }, {"invoice": invoice, "budget": budget.record}))  # fmt: skip
            if draft:
                budget.draft_invoiced += share
            else:
                budget.invoiced += share
        invoice["relationships"]["invoice_attributions"] = _linkage(records)

    def credit_note(
        self, parent: Record, parent_day: int, deal: _Deal
    ) -> tuple[Record, int, _Deal]:
        rng = self.rng
        parent_attrs = parent["attributes"]
        full = parent_attrs["amount"]
        credit = full if self.chance(0.5) else round(full * rng.uniform(0.1, 0.5))
        day = min(parent_day + rng.randint(5, 60), 0)
        created_at = self.ts(day)
        invoice = self.add("invoices", {}, {
            "company": deal.company, "creator": self.pick(self.employees),
            "issuer": deal.responsible, "subsidiary": deal.subsidiary,
            "document_type": deal.document_type,
            "parent_invoice": parent,
        })  # fmt: skip
        item = self.line_item(
            invoice,
            deal,
            None,
            1,
            f"Credit note for invoice {parent_attrs['number']}",
            -1.0,
            credit,
        )
        amount, tax = item["attributes"]["amount"], item["attributes"]["amount_tax"]
        self.attributions(invoice, day, [deal], [amount], False)
        deal.credited += credit
        settled = parent_attrs["amount_unpaid"] == 0
        self.fill_invoice(invoice, {
            "invoiced_on": _day(day), "pay_on": _day(day), "payment_terms": 0,
            "finalized_on": _day(day), "finalized_at": created_at, "sent_on": _day(day),
            "paid_on": _day(day) if settled else None, "invoice_type_id": 2,
            "email_key": self.hex(), "subject": f"Credit note for {parent_attrs['number']}",
            "created_at": created_at,
        }, deal, (amount, tax, amount + tax if settled else 0), day)  # fmt: skip
        parent_attrs["credited"] = True
        parent_attrs.update(_money(
            deal.currency, amount_credited=credit, amount_credited_with_tax=-(amount + tax)
        ))  # fmt: skip
        return invoice, day, deal

    # -- totals

    def totals(self) -> None:
        for deal in self.deals:
            code = deal.currency
            revenue = cost = used = billable = worked = budgeted = expense = 0
            for service in deal.services:
                s_used = service.billable_time * service.hourly_rate // 60
                done = min(1.0, service.worked / service.budgeted_time)
                s_revenue = round(service.budget_total * done) if service.fixed else s_used
                if not deal.budget:  # a sales deal: planned figures
                    s_revenue = service.budget_total
                s_cost = service.cost + service.expense
                future = service.future_booked * service.hourly_rate // 60
                future_cost = service.future_booked * 4500 // 60
                service.record["attributes"].update(
                    worked_time=service.worked, billable_time=service.billable_time,
                    unapproved_time=service.unapproved, booked_time=service.booked,
                    future_booked_time=service.future_booked,
                    **_money(code, budget_used=s_used, cost=s_cost, work_cost=service.cost,
                             revenue=s_revenue, expense_amount=service.expense,
                             expense_billable_amount=service.expense_billable,
                             future_revenue=future, future_cost=future_cost,
                             future_budget_used=s_used + future),
                    **_margins(code, s_revenue, s_cost, variants=False),
                )  # fmt: skip
                revenue += s_revenue
                cost += s_cost
                used += s_used
                billable += service.billable_time
                worked += service.worked
                budgeted += service.budgeted_time
                expense += service.expense
            total = sum(service.budget_total for service in deal.services)
            deal.record["attributes"].update(
                worked_time=worked, billable_time=billable, budgeted_time=budgeted,
                estimated_time=budgeted, deal_value=total, budget_remaining=total - used,
                estimated_cost=sum(s.record["attributes"]["estimated_cost"] for s in deal.services),
                actual_rate=revenue * 60 // billable if billable else 0,
                **_money(code, budget_total=total, budget_used=used, cost=cost, revenue=revenue,
                         services_revenue=revenue, expense=expense, invoiced=deal.invoiced,
                         draft_invoiced=deal.draft_invoiced, amount_credited=deal.credited,
                         pending_invoicing=max(0, revenue - deal.invoiced) if deal.budget else 0,
                         projected_revenue=total * deal.probability // 100),
                **_margins(code, revenue, cost, variants=True),
            )  # fmt: skip

    # -- tasks, pages, comments, timesheets, activity, webhooks (small, for every collection)

    def work_items(self) -> None:
        """A few of each project-work type, so every part of the surface has records: boards,
        folders, task lists, tasks (with subtasks), pages, comments, timesheets, activities,
        deleted items and webhooks. Volumes do not scale: they are for trying things out."""
        rng = self.rng
        projects = self.client_projects[:3] or self.internal_projects[:1]
        for p_index, project in enumerate(projects):
            created = -300 + p_index * 10
            board = self.add("boards", {"name": "Delivery", "position": 1, "hidden": False},
                             {"project": project})
            folder = self.add("folders", {"name": "Delivery"}, {"project": project})
            for l_index, name in enumerate(("Backlog", "In progress", "Done")):
                task_list = self.add("task_lists", {
                    "name": name, "position": l_index + 1, "placement": l_index + 1,
                    "archived_at": None,
                }, {"project": project, "folder": folder, "board": board})
                for t_index in range(3):
                    number = p_index * 100 + l_index * 10 + t_index + 1
                    created_at = self.ts(created + t_index)
                    closed = name == "Done"
                    task = self.add("tasks", {
                        "title": f"{self.pick(_TASK_VERBS)} {self.pick(_TASK_OBJECTS)}",
                        "task_number": str(number), "description": None,
                        "created_at": created_at, "last_activity_at": created_at,
                        "due_date": _day(created + 14 + t_index), "start_date": None,
                        "closed": closed, "closed_at": self.ts(created + 20) if closed else None,
                        "initial_estimate": 60 * rng.randint(1, 16), "worked_time": 0,
                        "remaining_time": None, "private": False, "tag_list": [],
                        "subtask_count": 0, "open_subtask_count": 0, "todo_count": 0,
                        "open_todo_count": 0, "type_id": 1,
                    }, {"project": project, "task_list": task_list,
                        "assignee": self.pick(self.employees),
                        "creator": self.pick(self.employees)})  # fmt: skip
                    self.add("comments", {
                        "body": "Looks good to me.", "created_at": self.later(created + 2,
                                                                               created_at),
                        "hidden": False,
                    }, {"task": task, "project": project, "creator": self.pick(self.employees)})
            root = self.add("pages", {
                "title": "Project handbook", "body": "How we work on this project.",
                "created_at": self.ts(created), "edited_at": self.ts(created + 5),
                "position": 1, "public": False, "public_access": False,
            }, {"project": project, "creator": self.pick(self.employees)})
            self.add("pages", {
                "title": "Meeting notes", "body": "Kick-off: scope and dates agreed.",
                "created_at": self.ts(created + 1), "edited_at": self.ts(created + 6),
                "position": 2, "public": False, "public_access": False,
            }, {"project": project, "parent_page": root, "root_page": root,
                "creator": self.pick(self.employees)})
        for person in self.employees[:5]:
            for week in range(4):
                self.add("timesheets", {"date": _day(-7 * (week + 1))}, {"person": person})
        for index, task in enumerate(self.data.get("tasks", [])[:10]):
            self.add("activities", {
                "event": "create", "item_type": "Task", "item_id": int(task["id"]),
                "item_name": task["attributes"]["title"], "changeset": [],
                "created_at": task["attributes"]["created_at"], "made_by_automation": False,
                "root_type": "Project", "root_id": int(task["relationships"]["project"]["id"]),
            }, {"creator": self.pick(self.employees)})
            if index < 3:
                self.add("deleted_items", {
                    "item_type": "Task", "item_id": 900_000 + index,
                    "name": f"Old draft {index + 1}", "created_at": self.ts(-30 + index),
                    "recovered_at": None, "location": "Delivery",
                }, {"deleter": self.pick(self.employees)})
        for event_id, name in ((2, "Invoice created"), (7, "Time entry created")):
            self.add("webhooks", {
                "name": name, "event_id": event_id, "type_id": 1,
                "target_url": "https://hooks.example.test/productive",
                "custom_headers": {}, "signature_token": self.hex(64),
            })

    def run(self) -> dict[str, list[Record]]:
        self.reference_data()
        self.custom_fields()
        self.companies()
        self.people()
        self.projects()
        self.deals_and_services()
        self.contracts()
        self.integrations()
        self.time_entries()
        self.bookings()
        self.expenses()
        self.invoices()
        self.totals()
        self.work_items()
        return self.data


_TASK_VERBS = ("Draft", "Review", "Design", "Build", "Test", "Ship", "Plan")
_TASK_OBJECTS = ("homepage", "checkout flow", "brand guide", "newsletter", "API client",
                 "sprint report", "onboarding emails")


def seed_records() -> list[Record]:
    """The seed documents' records (``_seed_records.json``), as stored (not completed)."""
    text = resources.files(__package__).joinpath("_seed_records.json").read_text("utf-8")
    records: list[Record] = json.loads(text)
    return records


def generate(seed: int = 0, *, scale: float = 1.0) -> dict[str, list[dict[str, Any]]]:
    """Demo data keyed by JSON:API type, in store format; equal for equal arguments.

    ``scale`` multiplies the volumes of the transactional types (see the module docstring);
    the seed documents' records and the README's (``_examples.py``) are merged in with their
    own ids, in id order.
    """
    registry = default_registry()
    generator = _Generator(seed, scale, registry)
    collecting = gc.isenabled()
    gc.disable()  # ~60k new container objects: cyclic GC passes would cost a third of the time
    try:
        data = generator.run()
    finally:
        if collecting:
            gc.enable()
    fixed: dict[str, list[Record]] = {}
    seeds = seed_records()
    link_seed_records(seeds)
    for record in [*seeds, *example_records(generator)]:
        type_ = record["type"]
        shape = generator.shapes.get(type_) or _Shape.of(registry, type_)
        fixed.setdefault(type_, []).append(shape.complete(record))
    for type_, records in fixed.items():
        data[type_] = sorted([*records, *data.get(type_, [])], key=lambda r: int(r["id"]))
    return data
