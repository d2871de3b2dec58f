"""``productive-async pull`` shows server-supplied text safely: error titles and details
without terminal control sequences, rich markup or emoji codes; CSV cells that a spreadsheet
would run as formulas neutralised (numbers untouched); JSON Lines exactly as the API sent it.

The API is mocked with aioresponses serving hostile strings; the command runs in click's
CliRunner.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import CompatAioresponses

import productive_async as pa
from productive_async._cli import CsvWriter, main
from productive_async._models import Record
from productive_async._output import csv_text, plain_text, terminal_text

COMPANIES = re.compile(r"^https://api\.productive\.io/api/v2/companies(\?.*)?$")
CREDENTIALS = ["--token", "t0ken", "--organization-id", "42"]

#: Terminal control sequences a hostile server might send: colours, a window title, the
#: clipboard (OSC 52), a disguised link (OSC 8), 8-bit CSI, bell, backspace, carriage return,
#: a DCS string, a lone escape, NUL, DEL, a C1 control and a right-to-left override.
HOSTILE = ("\x1b[2J\x1b[31mred\x1b[0m \x1b]0;pwned\x07 \x1b]52;c;ZXZpbA==\x1b\\ "
           "\x1b]8;;https://evil.test\x1b\\link\x1b]8;;\x1b\\ \x9b31m \x07\x08\r "
           "\x1bPq#0\x1b\\ \x1b \x00\x7f\x85 \u202eevil")
#: Code points that must never reach the terminal.
FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def hostile_company(id_: str = "1", **attributes: Any) -> dict[str, Any]:
    return {"id": id_, "type": "companies", "attributes": attributes,
            "relationships": {"parent_company": {"data": {"type": "companies", "id": "=2+3"}}}}


def page(*records: dict[str, Any]) -> dict[str, Any]:
    return {"data": list(records), "links": {},
            "meta": {"current_page": 1, "total_pages": 1, "total_count": len(records),
                     "page_size": 200, "max_page_size": 200}}


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


# ----------------------------------------------------------------------------- the helpers


@pytest.mark.parametrize(("text", "shown"), [
    ("ok\x1b[31mred\x1b[0m", "okred"),
    ("title\x1b]0;pwned\x07.", "title."),
    ("clip\x1b]52;c;ZXZpbA==\x1b\\.", "clip."),
    ("a \x1b]8;;https://evil.test\x1b\\link\x1b]8;;\x1b\\", "a link"),
    ("8-bit\x9b31m CSI", "8-bit CSI"),
    ("cut\x1b[", "cut"),
    ("lone\x1b", "lone"),
    ("dcs\x1bPq#0;2\x1b\\.", "dcs."),
    ("charset\x1b(B.", "charset."),
    ("bell\x07 bs\x08 cr\r nul\x00 del\x7f nel\x85.", "bell bs cr nul del nel."),
    ("bidi \u202eevil\u202c \u2066x\u2069", "bidi evil x"),
    ("tab\tnewline\nkept, crlf\r\n", "tab\tnewline\nkept, crlf\n"),
    ("Fakturë ünïcödé ✓ 日本", "Fakturë ünïcödé ✓ 日本"),
])
def test_terminal_text_removes_control_sequences_and_keeps_text(text: str, shown: str) -> None:
    assert terminal_text(text) == shown
    assert terminal_text(text, single_line=True) == shown.replace("\t", " ").replace("\n", " ")


def test_plain_text_is_not_read_as_markup_or_emoji() -> None:
    text = plain_text("[bold red]x[/] :warning: [link=https://evil.test]y[/link]\x1b[1m")
    assert text.plain == "[bold red]x[/] :warning: [link=https://evil.test]y[/link]"
    assert not text.spans


@pytest.mark.parametrize(("cell", "written"), [
    ("=1+1", "'=1+1"), ("+cmd", "'+cmd"), ("-cmd", "'-cmd"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("=HYPERLINK(\"https://evil.test\")",
                                           "'=HYPERLINK(\"https://evil.test\")"),
    ("-", "'-"), ("- a list item", "'- a list item"), ("+-1", "'+-1"),
    # plain numbers, even as text (the API's decimals, negative amounts), stay numbers
    ("-12", "-12"), ("+1.5", "+1.5"), ("-2.5e3", "-2.5e3"), ("-.5", "-.5"),
    ("plain", "plain"), ("1-2", "1-2"), ("a=b", "a=b"), ("", ""),
])
def test_csv_text_neutralises_formulas_only(cell: str, written: str) -> None:
    assert csv_text(cell) == written


# ----------------------------------------------------------------------------- pull


def test_server_error_text_is_printed_without_control_sequences_or_markup(
    runner: CliRunner, mocked: CompatAioresponses
) -> None:
    error = {"status": "400", "code": f"code{HOSTILE}",
             "title": f"[bold red]Unsupported Filter[/] :warning: {HOSTILE}",
             "detail": f"detail {HOSTILE}\nsecond line",
             "source": {"pointer": f"data/{HOSTILE}"}}
    mocked.get(COMPANIES, status=400, payload={"errors": [error]})
    result = runner.invoke(main, ["pull", "companies", *CREDENTIALS, "-q"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert not FORBIDDEN.search(result.output), ascii(result.output)
    assert "[bold red]Unsupported Filter[/] :warning: red" in result.output  # literal
    assert "link" in result.output and "evil" in result.output  # text kept, sequences gone
    assert "\u26a0" not in result.output  # no emoji made from ':warning:'
    assert "second line" in result.output


def test_csv_output_neutralises_formula_cells_and_keeps_numbers(
    runner: CliRunner, mocked: CompatAioresponses, tmp_path: Path
) -> None:
    company = hostile_company(
        "=1", name="=cmd|' /C calc'!A0", description="+1+cmd", company_code="@SUM(A1)",
        billing_name="-12.5", external_id="+3", vat="\t=1", domain="-", due_days=-30,
        settings={"x": "=1"}, tag_list=["=a"], **{"=evil": "x"},
    )
    mocked.get(COMPANIES, payload=page(company))
    out = tmp_path / "companies.csv"
    result = runner.invoke(main, ["pull", "companies", *CREDENTIALS, "-q", "--out", str(out)])
    assert result.exit_code == 0, result.output
    with out.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    row = rows[0]
    assert row["id"] == "'=1"
    assert row["name"] == "'=cmd|' /C calc'!A0"
    assert row["description"] == "'+1+cmd"
    assert row["company_code"] == "'@SUM(A1)"
    assert row["vat"] == "'\t=1"
    assert row["domain"] == "'-"
    assert row["billing_name"] == "-12.5" and row["external_id"] == "+3"  # plain numbers
    assert row["due_days"] == "-30"  # a number: never changed
    assert json.loads(row["settings"]) == {"x": "=1"}  # JSON cells start with { or [
    assert json.loads(row["tag_list"]) == ["=a"]
    assert row["parent_company"] == "'=2+3"
    assert row["'=evil"] == "x"  # an attribute name from the server is a header cell too
    for cells in rows:
        for value in cells.values():
            assert not value.startswith(("=", "+", "@", "\t", "\r")) or re.fullmatch(
                r"[+-][0-9.]+", value), value


def test_json_lines_output_is_the_api_data_unchanged(
    runner: CliRunner, mocked: CompatAioresponses, tmp_path: Path
) -> None:
    company = hostile_company("=1", name="=cmd", description=HOSTILE, due_days=-30)
    mocked.get(COMPANIES, payload=page(company))
    out = tmp_path / "companies.jsonl"
    result = runner.invoke(main, ["pull", "companies", *CREDENTIALS, "-q", "--out", str(out)])
    assert result.exit_code == 0, result.output
    obj = json.loads(out.read_text(encoding="utf-8"))
    assert obj["id"] == "=1"
    assert obj["attributes"] == company["attributes"]
    assert obj["relationships"] == company["relationships"]


class _Terminal(io.BytesIO):
    def isatty(self) -> bool:
        return True


def test_csv_written_to_a_terminal_has_no_control_sequences() -> None:
    spec = pa.default_registry()["companies"]
    record = Record.from_resource(hostile_company("1", name=f"=x{HOSTILE}", description=HOSTILE))
    for stream, cleaned in ((_Terminal(), True), (io.BytesIO(), False)):
        writer = CsvWriter(stream, spec)
        writer.write_page([record])
        writer.close()
        text = stream.getvalue().decode().replace("\r\n", "\n")  # the CSV line ends
        assert bool(FORBIDDEN.search(text)) is not cleaned
        assert "'=x" in text
