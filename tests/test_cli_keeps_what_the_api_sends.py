"""The command line keeps what the API sends (issue 10): included records, report groups,
``describe``, and a "did you mean" for a misspelled resource."""

from __future__ import annotations

import csv
from pathlib import Path

import orjson
from click.testing import CliRunner

from productive_async._cli import main


def lines(path: Path) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_include_writes_each_included_record_once_marked_as_included(tmp_path: Path) -> None:
    out = tmp_path / "invoices.jsonl"
    result = CliRunner().invoke(main, ["pull", "invoices", "--include", "company", "--sandbox",
                                       "--quiet", "--out", str(out)])
    assert result.exit_code == 0, result.output
    objects = lines(out)
    invoices = [o for o in objects if o["type"] == "invoices"]
    companies = [o for o in objects if o["type"] == "companies"]
    assert invoices and companies
    assert all(o.get("meta") == {"included": True} for o in companies)
    assert all("meta" not in o for o in invoices)
    keys = [(o["type"], o["id"]) for o in companies]
    assert len(keys) == len(set(keys))  # once per pull
    referenced = {o["relationships"]["company"]["data"]["id"]  # type: ignore[index]
                  for o in invoices if o["relationships"]["company"].get("data")}  # type: ignore[union-attr]
    assert referenced == {o["id"] for o in companies}


def test_include_in_csv_adds_a_label_column_per_included_relationship(tmp_path: Path) -> None:
    out = tmp_path / "entries.csv"
    result = CliRunner().invoke(main, [
        "pull", "time_entries", "--filter", "person_id=24", "--include", "person,service",
        "--sandbox", "--quiet", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(newline="")))
    assert rows and {row["person.label"] for row in rows} == {"Dora Kralj"}
    assert all(row["service.label"] for row in rows)


def test_report_rows_carry_what_they_are_grouped_by(tmp_path: Path) -> None:
    out = tmp_path / "by_person.jsonl"
    result = CliRunner().invoke(main, ["pull", "reports/time_reports", "--param", "group=person",
                                       "--sandbox", "--quiet", "--out", str(out)])
    assert result.exit_code == 0, result.output
    objects = lines(out)
    rows = [o for o in objects if o["type"] == "time_reports"]
    people = {o["id"] for o in objects if o["type"] == "people"}
    assert rows and all(
        r["relationships"]["person"]["data"]["id"] in people for r in rows)  # type: ignore[index]


def test_describe_prints_attributes_filters_and_actions() -> None:
    result = CliRunner().invoke(main, ["describe", "invoices"])
    assert result.exit_code == 0, result.output
    text = result.output
    assert "PATCH  /invoices/{id}/finalize" in text
    assert "amount" in text and "money, cents" in text
    assert "currency" in text and "required on create" in text
    assert "invoiced_on" in text and "gt_eq" in text
    assert "company" in text and "companies" in text


def test_a_misspelled_resource_gets_a_did_you_mean_and_exit_2() -> None:
    for command in (["pull", "invoicez", "--sandbox"], ["describe", "invoicez"]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 2
        assert "did you mean 'invoices'" in result.output
        assert "time_entries" not in result.output  # not the whole list


def test_an_output_that_cannot_be_written_is_one_line_and_exit_2_before_anything(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "no" / "such" / "x.jsonl"
    result = CliRunner().invoke(main, ["pull", "invoices", "--sandbox", "--out", str(missing)])
    assert result.exit_code == 2
    assert f"no directory {missing.parent}" in result.output
    assert "starting the sandbox" not in result.output and not missing.parent.exists()
    result = CliRunner().invoke(main, ["pull", "invoices", "--sandbox", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "is a directory" in result.output
