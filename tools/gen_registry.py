#!/usr/bin/env python3
"""Generate ``productive_async/_registry_data.json`` from the shared API reference.

Run from anywhere::

    .venv/bin/python tools/gen_registry.py [--shared ../shared] [--output PATH] [--check]

Inputs (read-only):

* ``<shared>/productive-api/operations.json``: every operation of the API (paths, methods,
  filters, sorts, extra query parameters, body fields). Operations, filters, sorts, bulk
  operations, actions and writable attributes are derived from it.
* ``<shared>/seeds/003_*.txt`` (contracts) and ``004_*.txt`` (invoices): full JSON examples.
  Every attribute and relationship of the response examples is taken, kinds inferred from the
  values and names; the invoice filter list gives enum labels.
* ``<shared>/seeds/001_*.txt`` (integrations): attribute list with types, relationships, enum.

Everything the sources do not say (attribute kinds of the other resources, relationship targets,
action details) is curated knowledge and lives in the dictionaries at the top of this file:
edit those, rerun, and commit the regenerated JSON. The output is deterministic.

The JSON format is the contract of :func:`productive_async._registry.load_registry`.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SHARED = REPO_ROOT.parent / "shared"
DEFAULT_OUTPUT = REPO_ROOT / "productive_async" / "_registry_data.json"

Json = dict[str, Any]

# Attribute kinds (see ``productive_async/_registry.py``), as short aliases for the tables below.
STR, INT, NUM, BOOL = "string", "integer", "number", "boolean"
DATE, DATETIME, DECIMAL, MONEY = "date", "datetime", "decimal", "money"
OBJ, ARR, ANY = "object", "array", "any"
KINDS = frozenset({STR, INT, NUM, BOOL, DATE, DATETIME, DECIMAL, MONEY, OBJ, ARR, ANY})

# ---------------------------------------------------------------------------------------------
# Which collections to register
# ---------------------------------------------------------------------------------------------

#: Collections registered completely (curated attributes and relationships below).
CORE_COLLECTIONS: tuple[str, ...] = (
    "deals",
    "invoices",
    "contracts",
    "integrations",
    "line_items",
    "invoice_attributions",
    "companies",
    "projects",
    "people",
    "services",
    "time_entries",
    "bookings",
    "custom_fields",
    "custom_field_options",
)

#: Collections registered when operations.json has them, so relationships to them resolve.
SUPPORTING_COLLECTIONS: tuple[str, ...] = (
    "organizations",
    "subsidiaries",
    "document_types",
    "tax_rates",
    "service_types",
    "pipelines",
    "deal_statuses",
    "expenses",
    "payments",
    "salaries",
)

REPORTS_PREFIX = "reports"

# ---------------------------------------------------------------------------------------------
# Filters
# ---------------------------------------------------------------------------------------------

#: The operators of Productive's filtering guide, in documentation order.
FILTER_OPERATORS: tuple[str, ...] = (
    "eq",
    "not_eq",
    "contains",
    "not_contain",
    "gt",
    "gt_eq",
    "lt",
    "lt_eq",
)
#: Spellings some specs use for documented operators.
OPERATOR_ALIASES: Mapping[str, str] = {"gte": "gt_eq", "lte": "lt_eq"}
#: Filter kinds that always get the comparison operators (operations.json's lists omit them).
ORDERED_FILTER_KINDS = frozenset({INT, NUM, DATE, DATETIME})
COMPARISON_OPERATORS: tuple[str, ...] = ("gt", "gt_eq", "lt", "lt_eq")
#: Filter names that are syntax, not filters (logical groups).
IGNORED_FILTERS = frozenset({"$op"})

#: Enum labels the sources give outside operations.json. Seed 004's invoice filter list and seed
#: 001's ``integration_type_id`` enum are parsed; these come from elsewhere.
ENUM_LABELS: Mapping[str, Mapping[str, Mapping[str, str]]] = {
    # Seed 000 (FAQ): "deal_type_id": 1 is internal, 2 is client.
    "deals": {"deal_type_id": {"1": "internal", "2": "client"}},
}

# ---------------------------------------------------------------------------------------------
# Attribute kinds
# ---------------------------------------------------------------------------------------------


def triplet(base: str, kind: str = MONEY) -> dict[str, str]:
    """``x``, ``x_default`` and ``x_normalized`` (deal, organization, normalized currency)."""
    return {base: kind, f"{base}_default": kind, f"{base}_normalized": kind}


CURRENCIES = triplet("currency", STR)

#: Curated attributes (name -> kind) per collection. For invoices and contracts these only cover
#: what the seed examples leave open (attributes that are ``null`` in every example); everything
#: else of theirs comes from the examples. Integrations come from seed 001.
ATTRIBUTES: Mapping[str, Mapping[str, str]] = {
    "invoices": {
        "number": STR,
        "subject": STR,
        "sent_on": DATE,
        "delivery_on": DATE,
        "paid_on": DATE,
        "finalized_at": DATETIME,
        "discount": NUM,
        "tax1_name": STR,
        "tax1_value": NUM,
        "tax2_name": STR,
        "tax2_value": NUM,
        "deleted_at": DATETIME,
        "note": STR,
        "footer": STR,
        "exported_at": DATETIME,
        "export_integration_type_id": INT,
        "export_id": STR,
        "export_invoice_url": STR,
        # Sent as a string ("115") in seed 004's export example.
        "company_reference_id": STR,
        "note_interpolated": STR,
        "footer_interpolated": STR,
        "purchase_order_number": STR,
        "custom_fields": OBJ,
        "bank_account_details": OBJ,
        "invoice_template_id": INT,
        "creation_options": OBJ,
        # Write-only: accepted in create/update bodies, never in responses.
        "subscriber_ids": ARR,
    },
    "contracts": {},
    "integrations": {
        # Seed 001: "Whether events can be written back ... (read-only or read-write)": a status.
        "calendar_write_status": ANY,
    },
    # Seed 002 lists descriptions without names; the names below are matched to them (the
    # seed is in alphabetical order) and to operations.json's body fields, filters and sorts.
    # Filter-only and sort-only parameters of seed 002 (accessible_by_person, days_in_*,
    # forecasted_*, needs_*, ...) are not attributes.
    "deals": {
        "name": STR,
        "number": STR,
        "deal_number": STR,
        "suffix": STR,
        "date": DATE,
        "end_date": DATE,
        "budget": BOOL,
        "deal_type_id": INT,
        "sales_status_id": INT,
        "sales_status_updated_at": DATETIME,
        "sales_closed_at": DATETIME,
        "sales_closed_on": DATE,
        "probability": INT,
        "previous_probability": INT,
        **CURRENCIES,
        **triplet("revenue"),
        **triplet("services_revenue"),
        **triplet("budget_total"),
        **triplet("budget_used"),
        **triplet("projected_revenue"),
        **triplet("invoiced"),
        **triplet("pending_invoicing"),
        **triplet("manually_invoiced"),
        **triplet("draft_invoiced"),
        **triplet("amount_credited"),
        **triplet("expense"),
        **triplet("cost"),
        **triplet("profit"),
        **triplet("profit_margin", NUM),
        "actual_rate": MONEY,
        "budget_remaining": MONEY,
        "deal_value": MONEY,
        "deal_value_source": STR,
        "estimated_cost": MONEY,
        "delivered_on": DATE,
        "closed_at": DATETIME,
        "won_at": DATETIME,
        "lost_at": DATETIME,
        "created_at": DATETIME,
        "last_activity_at": DATETIME,
        "deleted_at": DATETIME,
        "time_approval": BOOL,
        "expense_approval": BOOL,
        "client_access": BOOL,
        "tag_list": ARR,
        "email_key": STR,
        "purchase_order_number": STR,
        "custom_fields": OBJ,
        "position": INT,
        "service_type_restricted_tracking": BOOL,
        "tracking_type_id": INT,
        "editor_config": OBJ,
        "discount": NUM,
        "man_day_minutes": INT,
        "rounding_interval_id": INT,
        "rounding_method_id": INT,
        "validate_expense_when_closing": BOOL,
        "destroy_future_bookings": BOOL,
        "billable_time": INT,
        "budget_warning": INT,
        "estimated_time": INT,
        "budgeted_time": INT,
        "worked_time": INT,
        "time_to_close": INT,
        "todo_count": INT,
        "todo_due_date": DATE,
        "note": STR,
        "note_interpolated": STR,
        "proposal_note": STR,
        "proposal_note_interpolated": STR,
        "footer": STR,
        "footer_interpolated": STR,
        "proposal_footer": STR,
        "proposal_footer_interpolated": STR,
        "lost_comment": STR,
        "exchange_rate": DECIMAL,
        "exchange_date": DATE,
        "sample_data": BOOL,
        "external_id": STR,
        "external_sync": BOOL,
        "manual_invoicing_status_id": INT,
        "manual_invoicing_reason": STR,
        "color_id": INT,
        # "Total open (untracked) hours": unit and type undocumented.
        "open_hours": ANY,
        "retainer_deal_value_type": STR,
        "retainer_interval": STR,
        "retainer_interval_count": INT,
        "revenue_distribution_method": STR,
        "revenue_distribution_type": STR,
        "subscriber_ids": ARR,
    },
    "line_items": {
        "description": STR,
        # Sent as a decimal string ("1.0").
        "quantity": DECIMAL,
        **triplet("unit_price"),
        **triplet("amount"),
        **triplet("amount_tax"),
        **triplet("amount_with_tax"),
        **CURRENCIES,
        "discount": NUM,
        "tax_name": STR,
        "tax_value": NUM,
        "position": INT,
        "unit_id": INT,
        "kpd_code_id": INT,
    },
    "invoice_attributions": {
        **triplet("amount"),
        **CURRENCIES,
        "date_from": DATE,
        "date_to": DATE,
    },
    "companies": {
        "name": STR,
        "billing_name": STR,
        "vat": STR,
        "default_currency": STR,
        "company_code": STR,
        "domain": STR,
        "description": STR,
        "due_days": INT,
        "tag_list": ARR,
        "avatar_url": STR,
        "invoice_email_recipients": ARR,
        "custom_fields": OBJ,
        "contact": OBJ,
        "settings": OBJ,
        "projectless_budgets": BOOL,
        "leitweg_id": STR,
        "buyer_reference": STR,
        "peppol_id": STR,
        "sample_data": BOOL,
        "external_id": STR,
        "external_sync": BOOL,
        "archived_at": DATETIME,
        "created_at": DATETIME,
        "last_activity_at": DATETIME,
        "subscriber_ids": ARR,
    },
    "projects": {
        "name": STR,
        "number": STR,
        "project_number": STR,
        "project_type_id": INT,
        "project_color_id": INT,
        "public_access": BOOL,
        "time_on_tasks": BOOL,
        "template": BOOL,
        "sample_data": BOOL,
        "custom_fields": OBJ,
        "preferences": OBJ,
        "tag_colors": OBJ,
        "task_custom_fields_ids": ARR,
        "task_custom_fields_positions": ANY,
        "page_custom_fields_ids": ARR,
        "page_custom_fields_positions": ANY,
        "archived_at": DATETIME,
        "created_at": DATETIME,
        "last_activity_at": DATETIME,
    },
    "people": {
        "first_name": STR,
        "last_name": STR,
        "nickname": STR,
        "email": STR,
        "title": STR,
        "role_id": INT,
        "status_id": INT,
        "hrm_type_id": INT,
        "account_id": INT,
        "user_id": INT,
        "is_user": BOOL,
        "virtual": BOOL,
        "placeholder": BOOL,
        "champion": BOOL,
        "autotracking": BOOL,
        "two_factor_auth": BOOL,
        "sample_data": BOOL,
        "external_id": STR,
        "external_sync": BOOL,
        "avatar_url": STR,
        "original_avatar_url": STR,
        "color_id": INT,
        "contact": OBJ,
        "custom_fields": OBJ,
        "granular_notification_preferences": OBJ,
        "tag_list": ARR,
        "availabilities": ANY,
        "status_emoji": STR,
        "status_text": STR,
        "status_expires_at": DATETIME,
        "time_off_status_sync": BOOL,
        "time_unlocked": BOOL,
        "time_unlocked_on": DATE,
        "time_unlocked_start_date": DATE,
        "time_unlocked_end_date": DATE,
        "time_unlocked_period_id": INT,
        "time_unlocked_interval": ANY,
        "timesheet_submission_disabled": BOOL,
        "archived_at": DATETIME,
        "deactivated_at": DATETIME,
        "invited_at": DATETIME,
        "joined_at": DATETIME,
        "last_seen_at": DATETIME,
        "last_activity_at": DATETIME,
        "created_at": DATETIME,
        "subscriber_ids": ARR,
    },
    "services": {
        "name": STR,
        "description": STR,
        "position": INT,
        "billable": BOOL,
        "tracking_enabled": BOOL,
        "time_tracking_enabled": BOOL,
        "expense_tracking_enabled": BOOL,
        "booking_tracking_enabled": BOOL,
        "budget_cap_enabled": BOOL,
        "pricing_type_id": INT,
        "billing_type_id": INT,
        "unit_id": INT,
        "limitation_type": STR,
        "origin_service_id": INT,
        "initial_service_id": INT,
        "editor_config": OBJ,
        "custom_fields": OBJ,
        # Sent as a decimal string ("1.0").
        "quantity": DECIMAL,
        "markup": NUM,
        "discount": NUM,
        "profit_margin": NUM,
        "worked_time": INT,
        "unapproved_time": INT,
        "billable_time": INT,
        "estimated_time": INT,
        "budgeted_time": INT,
        "booked_time": INT,
        "future_booked_time": INT,
        "rolled_over_time": INT,
        "estimated_cost": MONEY,
        **CURRENCIES,
        **triplet("hourly_rate"),
        **triplet("price"),
        **triplet("revenue"),
        **triplet("projected_revenue"),
        **triplet("cost"),
        **triplet("work_cost"),
        **triplet("expense_amount"),
        **triplet("expense_billable_amount"),
        **triplet("profit"),
        **triplet("budget_total"),
        **triplet("budget_used"),
        **triplet("future_revenue"),
        **triplet("future_budget_used"),
        **triplet("future_cost"),
        **triplet("discount_amount"),
        **triplet("markup_amount"),
        "deleted_at": DATETIME,
    },
    "time_entries": {
        "date": DATE,
        "time": INT,  # minutes
        "billable_time": INT,  # minutes
        "note": STR,
        "track_method_id": INT,
        "started_at": DATETIME,
        "timer_started_at": DATETIME,
        "timer_stopped_at": DATETIME,
        "approved": BOOL,
        "approved_at": DATETIME,
        "rejected": BOOL,
        "rejected_reason": STR,
        "rejected_at": DATETIME,
        "submitted": BOOL,
        "invoiced": BOOL,
        "overhead": BOOL,
        "calendar_event_id": INT,
        "jira_issue_id": STR,
        "jira_issue_status": STR,
        "jira_issue_summary": STR,
        "jira_organization": STR,
        "jira_worklog_id": STR,
        "use_salary_currency": BOOL,
        **CURRENCIES,
        "created_at": DATETIME,
        "updated_at": DATETIME,
        "last_activity_at": DATETIME,
    },
    "bookings": {
        "started_on": DATE,
        "ended_on": DATE,
        "time": INT,  # minutes per day
        "total_time": INT,  # minutes
        "hours": NUM,
        "percentage": NUM,
        "total_working_days": INT,
        "booking_method_id": INT,
        "note": STR,
        "draft": BOOL,
        "autotracking": BOOL,
        "approved": BOOL,
        "approved_at": DATETIME,
        "rejected": BOOL,
        "rejected_reason": STR,
        "rejected_at": DATETIME,
        "canceled": BOOL,
        "canceled_at": DATETIME,
        "stage_type": INT,
        "external_id": STR,
        "custom_fields": OBJ,
        "people_custom_fields": OBJ,
        "attachment_ids": ARR,
        "use_salary_currency": BOOL,
        "created_at": DATETIME,
        "updated_at": DATETIME,
        "last_activity_at": DATETIME,
    },
    "custom_fields": {
        "name": STR,
        "description": STR,
        "data_type_id": INT,
        "customizable_type": STR,
        "aggregation_type_id": INT,
        "formatting_type_id": INT,
        "required": BOOL,
        "global": BOOL,
        "sensitive": BOOL,
        "show_in_add_edit_views": BOOL,
        "quick_add_enabled": BOOL,
        "position": INT,
        "archived_at": DATETIME,
        "created_at": DATETIME,
        "updated_at": DATETIME,
    },
    "custom_field_options": {
        "name": STR,
        "position": INT,
        "color_id": INT,
        "archived_at": DATETIME,
    },
    # Supporting collections: a few curated kinds; their body fields fill in the rest by name.
    "salaries": {
        "cost": MONEY,
        "currency": STR,
        "started_on": DATE,
        "ended_on": DATE,
        "working_hours": ARR,
        "alternating_hours": ARR,
        "overhead": MONEY,
        "note": STR,
        "salary_type_id": INT,
        "holiday_calendar_id": INT,
        "created_at": DATETIME,
        "updated_at": DATETIME,
    },
    "organizations": {
        "name": STR,
        "currency": STR,
        "locale": STR,
        "time_zone": STR,
        "avatar_url": STR,
        "fiscal_year_start": ANY,
        "man_day_minutes": INT,
        "due_days": INT,
        # A time of day setting, not a timestamp.
        "time_reminder_at": ANY,
        "created_at": DATETIME,
    },
    "subsidiaries": {
        "name": STR,
        "invoice_number_format": STR,
        "invoice_number_scope": ANY,
        "invoice_logo_url": STR,
        "show_delivery_date": BOOL,
        "facility_costs": ANY,
        "facility_costs_breakdown": ANY,
        "archived_at": DATETIME,
    },
    "document_types": {
        "name": STR,
        "locale": STR,
        "note": STR,
        "footer": STR,
        "email_subject": STR,
        "email_template": STR,
        "email_data": OBJ,
        "exporter_options": OBJ,
        "template_options": OBJ,
        "filename_schema": STR,
        "dual_currency": BOOL,
        "exportable_type_id": INT,
        "document_template_id": INT,
        "tax1_name": STR,
        "tax1_value": NUM,
        "tax2_name": STR,
        "tax2_value": NUM,
        "attachment_ids": ARR,
        "archived_at": DATETIME,
    },
    "tax_rates": {
        "name": STR,
        "primary_component_name": STR,
        "primary_component_value": NUM,
        "secondary_component_name": STR,
        "secondary_component_value": NUM,
        "archived_at": DATETIME,
    },
    "service_types": {"name": STR, "description": STR, "archived_at": DATETIME},
    "pipelines": {"name": STR, "position": INT, "pipeline_type_id": INT, "icon_id": INT},
    "deal_statuses": {
        "name": STR,
        "position": INT,
        "color_id": INT,
        "probability": INT,
        "status_id": INT,
        "probability_enabled": BOOL,
        "lost_reason_enabled": BOOL,
        "time_tracking_enabled": BOOL,
        "expense_tracking_enabled": BOOL,
        "booking_tracking_enabled": BOOL,
        "archived_at": DATETIME,
    },
    "expenses": {
        "name": STR,
        "date": DATE,
        "pay_on": DATE,
        "paid_on": DATE,
        "reimbursed_on": DATE,
        "quantity": DECIMAL,
        "markup": NUM,
        "reimbursable": BOOL,
        "draft": BOOL,
        "approved": BOOL,
        "approved_at": DATETIME,
        "rejected": BOOL,
        "rejected_reason": STR,
        "rejected_at": DATETIME,
        "tax_inclusion": ANY,
        "position": INT,
        "custom_fields": OBJ,
        **CURRENCIES,
        **triplet("amount"),
        **triplet("amount_with_tax"),
        **triplet("billable_amount"),
        "created_at": DATETIME,
    },
    "payments": {
        **triplet("amount"),
        **CURRENCIES,
        "paid_on": DATE,
        "written_off_on": DATE,
        "note": STR,
        "external_id": STR,
        "created_at": DATETIME,
    },
}

#: Kinds by attribute name, for attributes no table above covers (body fields of the supporting
#: collections, attributes of seed examples that are ``null`` everywhere).
NAME_KINDS: Mapping[str, str] = {
    "name": STR,
    "title": STR,
    "description": STR,
    "note": STR,
    "email": STR,
    "locale": STR,
    "time_zone": STR,
    "footer": STR,
    "currency": STR,
    "position": INT,
    "color_id": INT,
    "probability": INT,
    "discount": NUM,
    "markup": NUM,
    "percentage": NUM,
    "quantity": DECIMAL,
    "exchange_rate": DECIMAL,
    "custom_fields": OBJ,
    "settings": OBJ,
    "tag_list": ARR,
    "addons": ANY,
    "overhead": ANY,
    "working_hours": ANY,
}

#: Money (integer cents) base names; ``<base>_default`` and ``<base>_normalized`` are money too.
MONEY_NAMES = frozenset(
    {
        "amount",
        "price",
        "unit_price",
        "revenue",
        "cost",
        "profit",
        "budget_total",
        "budget_used",
        "budget_remaining",
        "invoiced",
        "pending_invoicing",
        "manually_invoiced",
        "draft_invoiced",
        "expense",
        "projected_revenue",
        "services_revenue",
        "deal_value",
        "hourly_rate",
        "work_cost",
        "estimated_cost",
        "billable_amount",
        "actual_rate",
        "invoiced_rate",
        "credited",
    }
)
#: Name endings of money amounts (``forecasted_revenue``, ``overhead_cost``, ...).
MONEY_SUFFIXES: tuple[str, ...] = ("_amount", "_cost", "_revenue", "_profit", "_budget_used")

# ---------------------------------------------------------------------------------------------
# Relationships
# ---------------------------------------------------------------------------------------------

#: Singular JSON:API type names (seed 001 writes ``creator person``) -> collection types.
SINGULAR_TYPES: Mapping[str, str] = {
    "person": "people",
    "deal": "deals",
    "organization": "organizations",
    "project": "projects",
    "subsidiary": "subsidiaries",
    "company": "companies",
    "invoice": "invoices",
    "service": "services",
}


def to_one(type_: str) -> Json:
    return {"type": type_}


def to_many(type_: str) -> Json:
    return {"type": type_, "many": True}


CUSTOM_FIELD_RELATIONSHIPS: Mapping[str, Json] = {
    "custom_field_people": to_many("people"),
    "custom_field_attachments": to_many("attachments"),
}

#: Relationships per collection (name -> {"type", "many"?}). For invoices and contracts these
#: give the targets of relationships the seed examples show without data (``meta.included:
#: false``); relationships whose examples carry data take the type from there.
RELATIONSHIPS: Mapping[str, Mapping[str, Json]] = {
    "invoices": {
        "organization": to_one("organizations"),
        "bill_to": to_one("contact_entries"),
        "bill_from": to_one("contact_entries"),
        "company": to_one("companies"),
        "document_type": to_one("document_types"),
        "creator": to_one("people"),
        "subsidiary": to_one("subsidiaries"),
        "parent_invoice": to_one("invoices"),
        "issuer": to_one("people"),
        "bank_account": to_one("bank_accounts"),
        "invoice_attributions": to_many("invoice_attributions"),
        "attachment": to_one("attachments"),
        **CUSTOM_FIELD_RELATIONSHIPS,
    },
    "contracts": {
        "organization": to_one("organizations"),
        "template": to_one("deals"),
    },
    "integrations": {},  # seed 001
    "deals": {
        "organization": to_one("organizations"),
        "company": to_one("companies"),
        "responsible": to_one("people"),
        "creator": to_one("people"),
        "contact": to_one("people"),
        "designated_approver": to_one("people"),
        "project": to_one("projects"),
        "deal_status": to_one("deal_statuses"),
        "pipeline": to_one("pipelines"),
        "contract": to_one("contracts"),
        "subsidiary": to_one("subsidiaries"),
        "document_type": to_one("document_types"),
        "proposal_document_type": to_one("document_types"),
        "lost_reason": to_one("lost_reasons"),
        "tax_rate": to_one("tax_rates"),
        "origin_deal": to_one("deals"),
        "approval_policy": to_one("approval_policies"),
        "next_todo": to_one("todos"),
        "services": to_many("services"),
        **CUSTOM_FIELD_RELATIONSHIPS,
    },
    "line_items": {
        "organization": to_one("organizations"),
        "invoice": to_one("invoices"),
        "service": to_one("services"),
        "service_type": to_one("service_types"),
        "expense": to_one("expenses"),
        "tax_rate": to_one("tax_rates"),
    },
    "invoice_attributions": {
        "organization": to_one("organizations"),
        "invoice": to_one("invoices"),
        "budget": to_one("deals"),
    },
    "companies": {
        "organization": to_one("organizations"),
        "parent_company": to_one("companies"),
        "default_subsidiary": to_one("subsidiaries"),
        "default_tax_rate": to_one("tax_rates"),
        "default_document_type": to_one("document_types"),
        **CUSTOM_FIELD_RELATIONSHIPS,
    },
    "projects": {
        "organization": to_one("organizations"),
        "company": to_one("companies"),
        "project_manager": to_one("people"),
        "last_actor": to_one("people"),
        "workflow": to_one("workflows"),
        **CUSTOM_FIELD_RELATIONSHIPS,
    },
    "people": {
        "organization": to_one("organizations"),
        "company": to_one("companies"),
        "subsidiary": to_one("subsidiaries"),
        "manager": to_one("people"),
        "custom_role": to_one("custom_roles"),
        "time_tracking_policy": to_one("time_tracking_policies"),
        "holiday_calendar": to_one("holiday_calendars"),
        **CUSTOM_FIELD_RELATIONSHIPS,
    },
    "services": {
        "organization": to_one("organizations"),
        "deal": to_one("deals"),
        "service_type": to_one("service_types"),
        "person": to_one("people"),
        "section": to_one("sections"),
        **CUSTOM_FIELD_RELATIONSHIPS,
    },
    "time_entries": {
        "organization": to_one("organizations"),
        "person": to_one("people"),
        "service": to_one("services"),
        "task": to_one("tasks"),
        "approver": to_one("people"),
        "rejecter": to_one("people"),
        "creator": to_one("people"),
        "updater": to_one("people"),
        "last_actor": to_one("people"),
        "person_subsidiary": to_one("subsidiaries"),
        "deal_subsidiary": to_one("subsidiaries"),
        "timesheet": to_one("timesheets"),
        "invoice_attribution": to_one("invoice_attributions"),
    },
    "bookings": {
        "organization": to_one("organizations"),
        "person": to_one("people"),
        "service": to_one("services"),
        "event": to_one("events"),
        "task": to_one("tasks"),
        "approver": to_one("people"),
        "rejecter": to_one("people"),
        "canceler": to_one("people"),
        "creator": to_one("people"),
        "updater": to_one("people"),
        "origin": to_one("bookings"),
        "resource_request": to_one("resource_requests"),
        "attachment": to_one("attachments"),
        "approval_statuses": to_many("approval_statuses"),
    },
    "custom_fields": {
        "organization": to_one("organizations"),
        "project": to_one("projects"),
        "section": to_one("sections"),
        "survey": to_one("surveys"),
        "options": to_many("custom_field_options"),
    },
    "custom_field_options": {
        "organization": to_one("organizations"),
        "custom_field": to_one("custom_fields"),
    },
    "organizations": {"owner": to_one("people")},
    "subsidiaries": {
        "organization": to_one("organizations"),
        "default_bank_account": to_one("bank_accounts"),
        "default_tax_rate": to_one("tax_rates"),
        "default_document_type": to_one("document_types"),
        "custom_domain": to_one("custom_domains"),
    },
    "document_types": {
        "organization": to_one("organizations"),
        "subsidiary": to_one("subsidiaries"),
        "document_style": to_one("document_styles"),
    },
    "tax_rates": {"organization": to_one("organizations"), "subsidiary": to_one("subsidiaries")},
    "service_types": {"organization": to_one("organizations")},
    "pipelines": {"organization": to_one("organizations")},
    "deal_statuses": {"organization": to_one("organizations"), "pipeline": to_one("pipelines")},
    "expenses": {
        "organization": to_one("organizations"),
        "service": to_one("services"),
        "person": to_one("people"),
        "vendor": to_one("companies"),
        "tax_rate": to_one("tax_rates"),
        "purchase_order": to_one("purchase_orders"),
        "attachment": to_one("attachments"),
        "approver": to_one("people"),
        "creator": to_one("people"),
        **CUSTOM_FIELD_RELATIONSHIPS,
    },
    "payments": {"organization": to_one("organizations"), "invoice": to_one("invoices")},
    "salaries": {"person": to_one("people"), "organization": to_one("organizations")},
}

# ---------------------------------------------------------------------------------------------
# Writable attributes
# ---------------------------------------------------------------------------------------------

#: ``*_id`` body fields that are documented as attributes although a relationship of the same
#: name exists (contracts' ``template_id`` comes from seed 003's "Supported attributes").
DOCUMENTED_ID_ATTRIBUTES: Mapping[str, Mapping[str, str]] = {
    # Seed 004's create example sends it in ``data.attributes``.
    "invoices": {"bank_account_id": INT},
}

#: Attributes accepted in create/update bodies that operations.json's body fields omit.
EXTRA_WRITABLE: Mapping[str, tuple[str, ...]] = {
    # Line items are created with a description (seed 004 workflow, preview output).
    "line_items": ("description",),
    # operations.json gives only a degenerate ``data`` body field for POST /integrations.
    "integrations": ("integration_type_id",),
}

#: Body fields of operations.json that are not attribute names.
IGNORED_BODY_FIELDS = frozenset({"data"})

# ---------------------------------------------------------------------------------------------
# Bulk operations and actions
# ---------------------------------------------------------------------------------------------

#: Bulk operations the sources document beyond what operations.json shows.
BULK_OVERRIDES: Mapping[str, tuple[str, ...]] = {
    # Seed 000 (FAQ): bulk update and delete for deals/budgets, no bulk create.
    "deals": ("update", "delete"),
}

PREVIEW_PARAMS: tuple[str, ...] = (
    "budget_ids",
    "invoicing_method",
    "invoicing_by",
    "percentage",
    "display_format",
    "expense_display_format",
    "locale",
    "date_from",
    "date_to",
)

#: Per-action settings that override the derived defaults (keyed by collection, action name).
ACTION_OVERRIDES: Mapping[tuple[str, str], Json] = {
    ("invoices", "preview"): {
        "method": "GET",
        "payload": "query",
        "result": "items",
        "params": list(PREVIEW_PARAMS),
        "idempotent": True,
    },
    ("invoices", "send"): {"params": ["to", "cc", "bcc", "subject", "body", "e_invoice_url"]},
    # Seed 004: finalize accepts the invoice number, export the company reference id.
    ("invoices", "finalize"): {"params": ["number"]},
    ("invoices", "export"): {"params": ["company_reference_id"]},
    ("deals", "close"): {"params": ["delivered_on"]},
    ("contracts", "generate"): {
        "method": "POST",
        "scope": "member",
        "payload": "none",
        "rate_class": "contract_generation",
    },
    ("line_items", "generate"): {
        "method": "POST",
        "scope": "collection",
        "payload": "attributes",
        "result": "records",
        "params": ["invoice_id", *PREVIEW_PARAMS],
    },
    ("integrations", "check"): {"method": "GET", "payload": "none", "idempotent": True},
}

#: Rate classes of actions (README "Rate limits"); salaries are not registered.
ACTION_RATE_CLASSES: Mapping[str, str] = {"salaries": "salaries"}
#: Rate classes of plain CRUD operations (shared/productive-api/README.md, "Rate limits":
#: salary POST/PATCH 30 requests / 2 min); other operations are in the standard class only.
OPERATION_RATE_CLASSES: Mapping[str, Mapping[str, str]] = {
    "salaries": {"create": "salaries", "update": "salaries"},
}

# ---------------------------------------------------------------------------------------------
# Source readers
# ---------------------------------------------------------------------------------------------

OPERATION_ORDER: tuple[str, ...] = ("list", "get", "create", "update", "delete")
BULK_ORDER: tuple[str, ...] = ("create", "update", "delete")
BULLET = "\u2022"
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
DATETIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
DECIMAL_RE = re.compile(r"-?\d+\.\d+")


def seed_text(shared: Path, number: str) -> str:
    matches = sorted((shared / "seeds").glob(f"{number}_*.txt"))
    if not matches:
        raise SystemExit(f"gen_registry: no seed {number}_*.txt in {shared / 'seeds'}")
    return matches[0].read_text(encoding="utf-8")


def is_money(name: str) -> bool:
    base = re.sub(r"_(default|normalized)$", "", name)
    return base in MONEY_NAMES or base.startswith("amount_") or base.endswith(MONEY_SUFFIXES)


def kind_from_name(name: str) -> str:
    """A kind guessed from an attribute's name alone (``any`` when nothing fits)."""
    if name in NAME_KINDS:
        return NAME_KINDS[name]
    if is_money(name):
        return MONEY
    if re.search(r"_(default|normalized)$", name) and name.startswith("currency"):
        return STR
    rules: tuple[tuple[tuple[str, ...], tuple[str, ...], str], ...] = (
        # (prefixes, suffixes, kind)
        ((), ("_ids",), ARR),
        ((), ("_id",), INT),
        ((), ("_on", "_date"), DATE),
        ((), ("_at",), DATETIME),
        (("is_", "has_", "use_", "allow_", "show_", "copy_"), ("_enabled", "_disabled"), BOOL),
        ((), ("_mapping", "_options", "_settings", "_config", "_breakdown", "_preferences"), OBJ),
        ((), ("_name", "_url", "_format", "_text", "_schema", "_subject", "_template"), STR),
        ((), ("_time", "_count", "_minutes", "_days"), INT),
    )
    for prefixes, suffixes, kind in rules:
        if name.startswith(prefixes) or name.endswith(suffixes):
            return kind
    return ANY


def kind_from_value(name: str, value: Any) -> str | None:
    """The kind a JSON value of attribute ``name`` shows (``None`` for ``null``)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return MONEY if is_money(name) else INT
    if isinstance(value, float):
        return NUM
    if isinstance(value, dict):
        return OBJ
    if isinstance(value, list):
        return ARR
    text = str(value)
    if name.endswith("_at") or DATETIME_RE.fullmatch(text[:16]):
        return DATETIME
    if name.endswith("_on") or name.endswith("_date") or DATE_RE.fullmatch(text):
        return DATE
    if name == "exchange_rate" or DECIMAL_RE.fullmatch(text):
        return DECIMAL
    return STR


def json_documents(text: str) -> Iterator[Any]:
    """Every JSON object embedded in a seed document, outermost first."""
    decoder = json.JSONDecoder()
    index = 0
    while (start := text.find("{", index)) >= 0:
        try:
            document, end = decoder.raw_decode(text, start)
        except ValueError:
            index = start + 1
            continue
        yield document
        index = end


def resource_objects(node: Any, type_: str) -> Iterator[Json]:
    """Response resource objects of ``type_`` (with id, attributes and relationships)."""
    if isinstance(node, dict):
        if (
            node.get("type") == type_
            and "id" in node
            and isinstance(node.get("attributes"), dict)
            and isinstance(node.get("relationships"), dict)
        ):
            yield node
        for child in node.values():
            yield from resource_objects(child, type_)
    elif isinstance(node, list):
        for child in node:
            yield from resource_objects(child, type_)


class SeedResource:
    """What a seed document says about one resource."""

    def __init__(self) -> None:
        self.attributes: dict[str, str | None] = {}
        self.relationships: dict[str, Json] = {}
        self.enums: dict[str, dict[str, str]] = {}
        self.filters: set[str] = set()
        self.sorts: set[str] = set()

    def add_attribute(self, name: str, kind: str | None) -> None:
        if self.attributes.get(name) is None:
            self.attributes[name] = kind


def read_examples(text: str, type_: str, seed: SeedResource) -> None:
    """Attributes and relationships of every response example of ``type_``."""
    for document in json_documents(text):
        for obj in resource_objects(document, type_):
            for name, value in obj["attributes"].items():
                seed.add_attribute(name, kind_from_value(name, value))
            for name, rel in obj["relationships"].items():
                data = rel.get("data") if isinstance(rel, dict) else None
                if isinstance(data, list):
                    if data:
                        seed.relationships[name] = to_many(str(data[0]["type"]))
                    else:
                        seed.relationships.setdefault(name, {})
                elif isinstance(data, dict):
                    seed.relationships[name] = to_one(str(data["type"]))
                else:
                    seed.relationships.setdefault(name, {})


def section(text: str, start: str, end: str) -> str:
    _head, found, rest = text.partition(start)
    return rest.partition(end)[0] if found else ""


def read_contracts_seed(text: str) -> SeedResource:
    seed = SeedResource()
    read_examples(text, "contracts", seed)
    bullet = re.compile(rf"^\s*{BULLET}\s*([a-z_0-9]+) \(([a-z]+)\)\s*$", re.MULTILINE)
    kinds = {"integer": INT, "date": DATE, "boolean": BOOL, "string": STR}
    attrs = section(text, "Supported attributes", "The following interval_id")
    for name, kind in bullet.findall(attrs):
        seed.add_attribute(name, kinds.get(kind))
    for name, _kind in bullet.findall(section(text, "Supported filter params", "Filter oper")):
        seed.filters.add(name)
    return seed


def read_invoices_seed(text: str) -> SeedResource:
    seed = SeedResource()
    read_examples(text, "invoices", seed)
    entry = re.compile(r"([a-z_0-9]+)(?: \((.*)\))?")
    for line in section(text, "Supported filter params", "Supported sort params").splitlines():
        match = entry.fullmatch(line.strip())
        if not match:
            continue
        seed.filters.add(match[1])
        labels = dict(re.findall(r"(\d+): ([^,]+)", match[2] or ""))
        if labels:
            seed.enums[match[1]] = {value: label.strip() for value, label in labels.items()}
    for line in section(text, "Supported sort params", "Filter operations").splitlines():
        if match := entry.fullmatch(line.strip()):
            seed.sorts.add(match[1])
    return seed


def integration_object_kind(name: str, description: str) -> str:
    """Seed 001 types many scalar settings as ``object``; name and description tell what they are.

    Mappings and option hashes stay objects, "Whether ..." flags become booleans, "List of ..."
    arrays; the rest (account codes, URLs, ids typed ``object``) is left open as ``any``.
    """
    if name.endswith(("_mapping", "_options")) or description.startswith(
        ("Mapping", "A mapping", "Fixed value mappings", "Configuration")
    ):
        return OBJ
    if description.startswith(("Whether", "When true")):
        return BOOL
    if description.startswith("List of"):
        return ARR
    return ANY


def read_integrations_seed(text: str) -> SeedResource:
    seed = SeedResource()
    lines = [line.strip() for line in text.splitlines()]
    header = re.compile(r"([a-z_0-9]+) ([a-z_]+)")
    scalar = {"string": STR, "integer": INT, "boolean": BOOL, "object": OBJ}
    for index, line in enumerate(lines):
        match = header.fullmatch(line)
        if not match or index + 1 >= len(lines):
            continue
        name, type_name = match[1], match[2]
        usage = lines[index + 1]
        if not usage.startswith(("Response", "Parameter")):
            continue
        description = next((t for t in lines[index + 2 :] if t), "")
        if "`filter`" in usage:
            seed.filters.add(name)
        if "`sort`" in usage:
            seed.sorts.add(name)
        if name == "id":
            continue
        if type_name not in scalar:
            seed.relationships[name] = to_one(SINGULAR_TYPES.get(type_name, type_name + "s"))
            continue
        if "Response" not in usage and "`sort`" not in usage:
            continue  # filter-only parameters (deal_id, project_id, ...)
        kind = scalar[type_name]
        if name.endswith("_at"):
            kind = DATETIME
        elif kind == OBJ:
            kind = integration_object_kind(name, description)
        seed.add_attribute(name, kind)
        if "Enum" in usage:
            seed.enums[name] = read_enum(lines[index + 2 :])
    return seed


def read_enum(lines: list[str]) -> dict[str, str]:
    """``• 1`` / ``CPP`` pairs of a seed 001 enum block."""
    values: dict[str, str] = {}
    pending: str | None = None
    started = False
    for line in lines:
        if line.startswith("Enum Values"):
            started = True
            continue
        if not started or not line:
            continue
        if match := re.fullmatch(rf"{BULLET}\s*(\d+)", line):
            pending = match[1]
        elif pending is not None:
            values[pending] = line
            pending = None
        else:
            break
    return values


# ---------------------------------------------------------------------------------------------
# Building resources
# ---------------------------------------------------------------------------------------------


def filter_kind(name: str, raw: Mapping[str, Any], attribute_kind: str | None) -> str:
    """operations.json's filter type; untyped filters take the kind of the attribute."""
    type_ = raw.get("type")
    fmt = raw.get("format")
    if type_ == "string":
        return {"date": DATE, "date-time": DATETIME}.get(fmt or "", STR)
    if type_ in (INT, NUM, BOOL, OBJ):
        return str(type_)
    if type_ is not None:
        return ANY
    # operations.json leaves money amounts untyped; their values are integer cents.
    kind = attribute_kind or kind_from_name(name)
    return {
        MONEY: INT,
        DECIMAL: NUM,
        INT: INT,
        NUM: NUM,
        DATE: DATE,
        DATETIME: DATETIME,
        BOOL: BOOL,
        STR: STR,
    }.get(kind, ANY)


def filter_operators(raw: Iterable[str], kind: str) -> list[str]:
    operators = {OPERATOR_ALIASES.get(op, op) for op in raw}
    if kind in ORDERED_FILTER_KINDS:
        operators.update(COMPARISON_OPERATORS)
    return [op for op in FILTER_OPERATORS if op in operators]


def build_filters(
    raw_filters: Mapping[str, Mapping[str, Any]],
    attributes: Mapping[str, str],
    labels: Mapping[str, Mapping[str, str]],
    extra_names: Iterable[str] = (),
) -> Json:
    filters: Json = {}
    names = set(raw_filters) | set(extra_names)
    for name in sorted(names - IGNORED_FILTERS):
        raw = raw_filters.get(name, {})
        kind = filter_kind(name, raw, attributes.get(name))
        spec: Json = {"type": kind, "operators": filter_operators(raw.get("operators", ()), kind)}
        if name not in raw_filters:
            spec["operators"] = filter_operators(("eq", "not_eq"), kind)
        known = labels.get(name, {})
        values = [str(v) for v in raw.get("enum", ())]
        if values or known:
            enum = {value: known.get(value, value) for value in values}
            enum.update(known)
            spec["enum"] = dict(sorted(enum.items(), key=lambda item: sort_key(item[0])))
        filters[name] = spec
    return filters


def sort_key(value: str) -> tuple[int, str]:
    return (int(value), "") if value.isdigit() else (sys.maxsize, value)


def collection_paths(ops: Mapping[str, Any], name: str) -> Iterator[tuple[str, list[str]]]:
    """Paths under ``/<name>`` as (path, segments after the collection)."""
    prefix = f"/{name}"
    for path in sorted(ops):
        if path == prefix or path.startswith(prefix + "/"):
            yield path, [s for s in path[len(prefix) :].split("/") if s]


def build_operations(ops: Mapping[str, Any], name: str) -> tuple[list[str], list[str]]:
    operations: set[str] = set()
    bulk: set[str] = set(BULK_OVERRIDES.get(name, ()))
    collection = ops.get(f"/{name}", {})
    member = ops.get(f"/{name}/{{id}}", {})
    if "GET" in collection:
        operations.add("list")
    if "POST" in collection:
        operations.add("create")
        if str(collection["POST"].get("operation_id", "")).endswith("-bulk"):
            bulk.add("create")
    if "PATCH" in collection:
        bulk.add("update")
    if "DELETE" in collection:
        bulk.add("delete")
    for method, operation in (("GET", "get"), ("PATCH", "update"), ("DELETE", "delete")):
        if method in member:
            operations.add(operation)
    return (
        [op for op in OPERATION_ORDER if op in operations],
        [op for op in BULK_ORDER if op in bulk],
    )


def body_fields(ops: Mapping[str, Any], name: str) -> list[str]:
    fields: set[str] = set()
    for path, method in (
        (f"/{name}", "POST"),
        (f"/{name}", "PATCH"),
        (f"/{name}/{{id}}", "PATCH"),
    ):
        fields.update(ops.get(path, {}).get(method, {}).get("body_fields") or ())
    return sorted(fields - IGNORED_BODY_FIELDS)


def build_actions(ops: Mapping[str, Any], name: str) -> Json:
    actions: Json = {}
    for path, segments in collection_paths(ops, name):
        if segments in ([], ["{id}"]):
            continue
        if len(segments) == 2 and segments[0] == "{id}":
            scope, segment = "member", segments[1]
        elif len(segments) == 1:
            scope, segment = "collection", segments[0]
        else:
            continue  # nested sub-resources are not actions
        for method, operation in sorted(ops[path].items()):
            bulk = scope == "collection" and str(operation.get("operation_id", "")).endswith(
                "-bulk"
            )
            action_name = f"bulk_{segment}" if bulk else segment
            action: Json = {
                "method": method,
                "scope": scope,
                "segment": segment,
                "payload": "bulk" if bulk else ("query" if method == "GET" else "attributes"),
                "result": "records" if bulk else ("none" if method == "DELETE" else "record"),
                "params": list(operation.get("body_fields") or ()),
                "rate_class": ACTION_RATE_CLASSES.get(name),
                "idempotent": method == "GET",
            }
            action.update(ACTION_OVERRIDES.get((name, action_name), {}))
            actions[action_name] = action
    missing = {a for (n, a) in ACTION_OVERRIDES if n == name} - set(actions)
    if missing:
        raise SystemExit(
            f"gen_registry: {name}: overridden actions not in operations.json: {sorted(missing)}"
        )
    return actions


def build_resource(
    ops: Mapping[str, Any], name: str, seeds: Mapping[str, SeedResource], warnings: list[str]
) -> Json:
    seed = seeds.get(name, SeedResource())
    relationships: dict[str, Json] = {}
    for rel_name, rel in seed.relationships.items():
        relationships[rel_name] = rel or dict(RELATIONSHIPS.get(name, {}).get(rel_name, {}))
    for rel_name, rel in RELATIONSHIPS.get(name, {}).items():
        relationships.setdefault(rel_name, dict(rel))
    for rel_name, rel in relationships.items():
        if not rel.get("type"):
            raise SystemExit(f"gen_registry: {name}.{rel_name}: relationship target unknown")

    curated = ATTRIBUTES.get(name, {})
    attributes: dict[str, str] = {}
    for attr, kind in seed.attributes.items():
        attributes[attr] = curated.get(attr) or kind or kind_from_name(attr)
    for attr, kind in curated.items():
        attributes.setdefault(attr, kind)

    documented_ids = DOCUMENTED_ID_ATTRIBUTES.get(name, {})
    writable: set[str] = set(EXTRA_WRITABLE.get(name, ()))
    for field in body_fields(ops, name):
        if field in documented_ids:
            attributes.setdefault(field, documented_ids[field])
        elif field.endswith("_id") and field[:-3] in relationships and field not in seed.attributes:
            continue  # a relationship, written through ``relationships``
        elif field not in attributes:
            attributes[field] = kind_from_name(field)
        writable.add(field)
    for attr in sorted(writable - set(attributes)):
        attributes[attr] = kind_from_name(attr)

    for attr, kind in sorted(attributes.items()):
        if kind not in KINDS:
            raise SystemExit(f"gen_registry: {name}.{attr}: unknown kind {kind!r}")
        if kind == ANY:
            warnings.append(f"{name}.{attr}: kind unknown, registered as 'any'")

    listing = ops.get(f"/{name}", {}).get("GET", {})
    labels: dict[str, dict[str, str]] = {k: dict(v) for k, v in seed.enums.items()}
    for filter_name, extra in ENUM_LABELS.get(name, {}).items():
        labels.setdefault(filter_name, {}).update(extra)
    filters = build_filters(listing.get("filters") or {}, attributes, labels, seed.filters)
    operations, bulk = build_operations(ops, name)
    return {
        "path": name,
        "type": name,
        "operations": operations,
        "attributes": dict(sorted(attributes.items())),
        "writable": sorted(writable),
        "relationships": dict(sorted(relationships.items())),
        "filters": filters,
        "sorts": sorted(set(listing.get("sort") or ()) | seed.sorts),
        "includes": [],
        "bulk": bulk,
        "query": sorted(listing.get("query") or ()),
        "rate_class": None,
        "operation_rate_classes": dict(OPERATION_RATE_CLASSES.get(name, {})),
        "cursor": True,
        "report": False,
        "actions": build_actions(ops, name),
    }


def build_report(ops: Mapping[str, Any], path: str) -> tuple[str, Json]:
    name = path.rsplit("/", 1)[-1]
    listing = ops[path]["GET"]
    return name, {
        "path": path.lstrip("/"),
        "type": name,
        "operations": ["list"],
        "attributes": {},
        "writable": [],
        "relationships": {},
        "filters": build_filters(listing.get("filters") or {}, {}, {}),
        "sorts": sorted(listing.get("sort") or ()),
        "includes": [],
        "bulk": [],
        "query": sorted(set(listing.get("query") or ()) | {"group"}),
        "rate_class": "reports",
        "cursor": False,
        "report": True,
        "actions": {},
    }


def build_registry(shared: Path, warnings: list[str]) -> Json:
    ops_path = shared / "productive-api" / "operations.json"
    ops: Mapping[str, Any] = json.loads(ops_path.read_text(encoding="utf-8"))
    seeds = {
        "integrations": read_integrations_seed(seed_text(shared, "001")),
        "contracts": read_contracts_seed(seed_text(shared, "003")),
        "invoices": read_invoices_seed(seed_text(shared, "004")),
    }
    resources: Json = {}
    for name in CORE_COLLECTIONS:
        if f"/{name}" not in ops and f"/{name}/{{id}}" not in ops:
            raise SystemExit(f"gen_registry: {name} is not in {ops_path}")
        resources[name] = build_resource(ops, name, seeds, warnings)
    for name in SUPPORTING_COLLECTIONS:
        if f"/{name}" in ops or f"/{name}/{{id}}" in ops:
            resources[name] = build_resource(ops, name, seeds, warnings)
        else:
            warnings.append(f"{name}: not in operations.json, not registered")
    for path in sorted(ops):
        if path.startswith(f"/{REPORTS_PREFIX}/") and path.count("/") == 2 and "GET" in ops[path]:
            name, spec = build_report(ops, path)
            if name in resources:
                raise SystemExit(f"gen_registry: report {name} clashes with a collection")
            resources[name] = spec
    check_relationship_targets(resources, warnings)
    return {"resources": resources}


def check_relationship_targets(resources: Mapping[str, Json], warnings: list[str]) -> None:
    types = {spec["type"] for spec in resources.values()}
    unresolved: dict[str, set[str]] = {}
    for name, spec in resources.items():
        for rel in spec["relationships"].values():
            if rel["type"] not in types:
                unresolved.setdefault(rel["type"], set()).add(name)
    for type_, users in sorted(unresolved.items()):
        warnings.append(
            f"relationship target {type_!r} not registered (used by {', '.join(sorted(users))})"
        )


def render(registry: Json) -> str:
    return json.dumps(registry, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--shared",
        type=Path,
        default=DEFAULT_SHARED,
        help="the shared reference directory (default: ../shared next to the repository)",
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="the JSON to write")
    parser.add_argument(
        "--check",
        action="store_true",
        help="do not write; exit 1 if the output file is not up to date",
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="print the warnings")
    args = parser.parse_args(argv)

    shared: Path = args.shared
    if not shared.is_absolute() and (REPO_ROOT / shared).is_dir():
        shared = (REPO_ROOT / shared).resolve()  # relative paths are relative to the repository
    warnings: list[str] = []
    text = render(build_registry(shared, warnings))
    output: Path = args.output
    if args.verbose:
        for warning in warnings:
            print(f"warning: {warning}", file=sys.stderr)
    if args.check:
        current = output.read_text(encoding="utf-8") if output.exists() else ""
        if current != text:
            print(f"{output} is out of date; run tools/gen_registry.py", file=sys.stderr)
            return 1
        return 0
    output.write_text(text, encoding="utf-8")
    count = len(json.loads(text)["resources"])
    print(f"wrote {output} ({count} resources, {len(warnings)} warnings)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
