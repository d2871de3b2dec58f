"""``productive-async``: the pull command end to end, its output formats and its errors."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import productive_async as pa
from productive_async import sandbox
from productive_async._cli import main
from productive_async.sandbox._demo import generate


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_pull_invoices_from_the_sandbox_writes_every_invoice(
    runner: CliRunner, tmp_path: Path
) -> None:
    out = tmp_path / "invoices.jsonl"
    result = runner.invoke(main, ["pull", "invoices", "--sandbox", "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    assert len(lines) >= 5000
    objects = [json.loads(line) for line in lines]
    assert len({o["id"] for o in objects}) == len(objects)
    for obj in objects[:50]:
        assert set(obj) == {"id", "type", "attributes", "relationships"}
        assert obj["type"] == "invoices" and "currency" in obj["attributes"]
    assert f"{len(lines)} invoices written to {out}" in result.output


def test_pull_with_filter_sort_and_csv(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "deals.csv"
    result = runner.invoke(main, [
        "pull", "deals", "--sandbox", "--quiet", "--out", str(out),
        "--filter", "type=2", "--filter", "date[gt_eq]=2025-06-01", "--sort=-date",
        "--include", "company",
    ])
    assert result.exit_code == 0, result.output
    with out.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows
    assert all(r["budget"] == "true" and r["date"] >= "2025-06-01" for r in rows)
    dates = [r["date"] for r in rows]
    assert dates == sorted(dates, reverse=True)
    assert all(r["company"] for r in rows)  # the included company's id
    assert result.output == ""  # --quiet: nothing on stderr either


def test_pull_report_with_a_group_param(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "report.jsonl"
    result = runner.invoke(main, ["pull", "reports/time_reports", "--sandbox", "-q",
                                  "--param", "group=person", "--out", str(out)])
    assert result.exit_code == 0, result.output
    objects = [json.loads(line) for line in out.read_text().splitlines()]
    rows = [o for o in objects if o["type"] == "time_reports"]
    assert rows and all(o["type"] == "people" for o in objects if o not in rows)  # included
    # every time entry of the demo data (20,000 generated + the README's) counted once
    assert sum(r["attributes"]["count"] for r in rows) == len(generate(0)["time_entries"])


def test_max_items(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "t.jsonl"
    result = runner.invoke(main, ["pull", "time_entries", "--sandbox", "-q", "--max-items",
                                  "250", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert len(out.read_text().splitlines()) == 250


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["pull", "gizmos", "--sandbox"], "unknown resource 'gizmos'"),
        (["pull", "invoices", "--sandbox", "--filter", "amount[gte]=1"], "unknown operator"),
        (["pull", "invoices", "--sandbox", "--filter", "no-equals-sign"], "NAME=VALUE"),
        (["pull", "invoices", "--sandbox", "--param", "group"], "NAME=VALUE"),
        (["pull", "invoices"], "credentials missing"),
    ],
)
def test_bad_usage_is_one_clear_line_and_exit_2(
    runner: CliRunner, args: list[str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PRODUCTIVE_API_TOKEN", raising=False)
    monkeypatch.delenv("PRODUCTIVE_ORGANIZATION_ID", raising=False)
    result = runner.invoke(main, args)
    assert result.exit_code == 2
    assert message in result.output


def test_unknown_filter_is_refused_before_sending(runner: CliRunner) -> None:
    result = runner.invoke(main, ["pull", "invoices", "--sandbox", "-q",
                                  "--filter", "no_such_filter=1"])
    assert result.exit_code == 2
    assert "unknown filter 'no_such_filter'" in result.output


async def test_bad_credentials_exit_1_without_echoing_the_token(tmp_path: Path) -> None:
    box = sandbox.Sandbox(demo_data=False, rate_limits=None)
    async with box.serve() as url:
        env = {**os.environ, "PRODUCTIVE_API_TOKEN": "not-the-token-123",
               "PRODUCTIVE_ORGANIZATION_ID": "1001", "PRODUCTIVE_BASE_URL": url}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "productive_async._cli", "pull", "invoices",
            "--out", str(tmp_path / "x.jsonl"), env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await process.communicate()
    assert process.returncode == 1
    text = stderr.decode()
    assert "401" in text and "invalid_auth_token" in text
    assert "not-the-token-123" not in text + stdout.decode()


def test_resources_lists_every_operation_with_its_call(runner: CliRunner) -> None:
    result = runner.invoke(main, ["resources"])
    assert result.exit_code == 0
    rows = {tuple(line.split()) for line in result.output.splitlines()}
    assert ("PATCH", "/invoices/{id}/finalize", "client.invoices.finalize(id,", "...)") in rows
    assert ("GET", "/reports/time_reports", "client.reports.time_reports.list(...)") in rows
    expected = sum(len(spec.endpoints()) for spec in pa.default_registry())
    assert len(rows) == expected
