"""grading.results: Gradescope's results.json, validated, and what a student may see.

Pure: no database. The compatibility bundle in gradescope_compat/ is run in a temporary folder.
"""

from __future__ import annotations

import itertools
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grading.results import (
    MAX_EXTRA_DATA_DEPTH,
    MAX_OUTPUT_BYTES,
    MAX_RESULTS_BYTES,
    MAX_TESTS,
    STUDENT_MESSAGE,
    VISIBILITIES,
    LeaderboardEntry,
    Results,
    ResultsInvalid,
    TestResult,
    parse_results,
    staff_view,
    student_view,
    visible_to_student,
)

COMPAT = Path(__file__).parent / "gradescope_compat"
BUNDLE = COMPAT / "bundle"


def parse(data: Any) -> Results:
    return parse_results(json.dumps(data))


def invalid(raw: bytes | str) -> ResultsInvalid:
    with pytest.raises(ResultsInvalid) as info:
        parse_results(raw)
    exc = info.value
    assert exc.student_message and exc.detail
    assert str(exc) == exc.detail
    assert isinstance(exc, ValueError)
    return exc


# --- valid files ------------------------------------------------------------------------------


def test_minimal_top_level_score() -> None:
    results = parse({"score": 5})
    assert results == Results(score=5.0)
    assert results.visibility == "visible"
    assert results.stdout_visibility == "hidden"  # specs.md: stdout is for instructors
    assert results.max_score is None
    assert results.tests == [] and results.leaderboard == []


def test_minimal_scores_on_tests_only() -> None:
    results = parse({"tests": [{"score": 1, "max_score": 2}, {"score": 2.5, "max_score": 2.5}]})
    assert results.score == 3.5
    assert results.max_score == 4.5
    assert [t.name for t in results.tests] == ["Test 1", "Test 2"]
    assert [t.status for t in results.tests] == ["failed", "passed"]
    assert [t.number for t in results.tests] == [None, None]


FULL_FILE = json.dumps(
    {
        "score": 44.0,
        "execution_time": 136,
        "output": "Text relevant to the entire submission",
        "output_format": "md",
        "test_output_format": "ansi",
        "test_name_format": "html",
        "visibility": "after_due_date",
        "stdout_visibility": "visible",
        "extra_data": {"seed": 7, "nested": {"a": [1, 2]}},
        "tests": [
            {
                "score": 2.0,
                "max_score": 2.0,
                "status": "passed",
                "name": "Your name here",
                "name_format": "text",
                "number": "1.1",
                "output": "Giant multiline string\nline 2",
                "output_format": "text",
                "tags": ["tag1", "tag2", "tag3"],
                "visibility": "visible",
                "extra_data": {"k": "v"},
            },
            {"score": 0, "max_score": 3, "name": "Second", "number": "1.2"},
        ],
        "leaderboard": [
            {"name": "Accuracy", "value": 0.926},
            {"name": "Time", "value": 15.1, "order": "asc"},
            {"name": "Stars", "value": "*****"},
        ],
    }
).encode()


def test_full_file_top_level() -> None:
    results = parse_results(FULL_FILE)
    assert results.score == 44.0  # the top-level score overrides the tests' total (2)
    assert results.max_score == 5.0
    assert results.execution_time == 136.0
    assert results.output == "Text relevant to the entire submission"
    assert (results.output_format, results.test_output_format, results.test_name_format) == (
        "md",
        "ansi",
        "html",
    )
    assert results.visibility == "after_due_date"
    assert results.stdout_visibility == "visible"
    assert results.extra_data == {"seed": 7, "nested": {"a": [1, 2]}}


def test_full_file_tests() -> None:
    first, second = parse_results(FULL_FILE).tests
    assert first == TestResult(
        name="Your name here",
        number="1.1",
        score=2.0,
        max_score=2.0,
        status="passed",
        output="Giant multiline string\nline 2",
        tags=["tag1", "tag2", "tag3"],
        visibility="visible",
        extra_data={"k": "v"},
        output_format="text",
        name_format="text",
    )
    assert second.visibility == "after_due_date"  # inherited from the top level
    assert second.status == "failed"


def test_full_file_leaderboard() -> None:
    assert parse_results(FULL_FILE).leaderboard == [
        LeaderboardEntry("Accuracy", 0.926, "desc"),
        LeaderboardEntry("Time", 15.1, "asc"),
        LeaderboardEntry("Stars", "*****", "desc"),
    ]


@pytest.mark.parametrize(
    "raw",
    [
        '{"score": 1}',
        b'{"score": 1}',
        b'\xef\xbb\xbf{"score": 1}',
        '\ufeff{"score": 1}',
    ],
    ids=["text", "bytes", "bytes-with-bom", "text-with-bom"],
)
def test_bytes_str_and_byte_order_mark_are_all_read(raw: bytes | str) -> None:
    assert parse_results(raw).score == 1.0


def test_top_level_score_zero_is_a_score() -> None:
    results = parse({"score": 0, "tests": [{"name": "info", "status": "passed"}]})
    assert results.score == 0.0
    assert results.max_score is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("0.02", 0.02), (" 12.50 ", 12.5), ("3", 3.0), (7, 7.0), (1.5, 1.5), (None, None)],
)
def test_execution_time_number_or_numeric_string(raw: Any, expected: float | None) -> None:
    assert parse({"score": 1, "execution_time": raw}).execution_time == expected


@pytest.mark.parametrize(("raw", "expected"), [(3, "3"), (1.2, "1.2"), ("2.10", "2.10")])
def test_number_as_int_or_float_becomes_a_string(raw: Any, expected: str) -> None:
    assert parse({"tests": [{"score": 1, "number": raw}]}).tests[0].number == expected


# specs.md "Test case status": status overrides; otherwise full marks pass.


def test_status_as_written_wins() -> None:
    tests = parse(
        {
            "tests": [
                {"name": "Compilation check", "status": "passed"},
                {"name": "Style check", "status": "failed"},
                {"name": "Test 3", "score": 5, "max_score": 10, "status": "passed"},
            ]
        }
    ).tests
    assert [t.status for t in tests] == ["passed", "failed", "passed"]


def test_status_else_comes_from_the_score() -> None:
    tests = parse(
        {
            "tests": [
                {"name": "full", "score": 10, "max_score": 10},
                {"name": "part", "score": 9.5, "max_score": 10},
                {"name": "bonus", "score": 11, "max_score": 10},
                {"name": "no max", "score": 1},
            ]
        }
    ).tests
    assert [t.status for t in tests] == ["passed", "failed", "passed", None]


def test_null_means_absent() -> None:
    results = parse(
        {
            "score": None,
            "execution_time": None,
            "output": None,
            "visibility": None,
            "stdout_visibility": None,
            "extra_data": None,
            "leaderboard": None,
            "output_format": None,
            "tests": [
                {
                    "score": 1,
                    "max_score": None,
                    "name": None,
                    "number": None,
                    "status": None,
                    "output": None,
                    "tags": None,
                    "visibility": None,
                    "extra_data": None,
                }
            ],
        }
    )
    assert results.score == 1.0
    assert results.visibility == "visible" and results.stdout_visibility == "hidden"
    assert results.tests == [TestResult(name="Test 1", score=1.0)]


def test_blank_name_gets_the_default() -> None:
    tests = parse({"tests": [{"score": 1, "name": "  "}, {"score": 1, "name": "ok"}]}).tests
    assert [t.name for t in tests] == ["Test 1", "ok"]


def test_unknown_keys_are_ignored_never_an_error() -> None:
    results = parse(
        {
            "score": 1,
            "grader_version": {"any": ["thing"]},
            "tests": [{"score": 1, "merge_subtests": "True", "weight": "x", "hint": None}],
            "leaderboard": [{"name": "n", "value": 1, "rank": 3}],
        }
    )
    assert results.score == 1.0
    assert results.tests[0] == TestResult(name="Test 1", score=1.0)
    assert results.leaderboard == [LeaderboardEntry("n", 1.0, "desc")]


FORMATS_FILE = {
    "score": 1,
    "output_format": "rtf",
    "tests": [{"output_format": "html", "name_format": "blink"}],
}


def test_formats_known_kept_unknown_dropped() -> None:
    results = parse(FORMATS_FILE)
    assert results.output_format is None
    assert results.tests[0].output_format == "html"
    assert results.tests[0].name_format is None


def test_unknown_formats_fall_back_to_the_default_in_the_view() -> None:
    view = student_view(parse(FORMATS_FILE), after_due_date=False, grades_released=False)
    assert view["output_format"] == "simple_format"  # specs.md default for the top level
    assert view["tests"][0]["name_format"] == "text"  # and "text" for tests


def test_test_visibility_defaults_to_top_level_and_can_override() -> None:
    # specs.md: "If an assignment level visibility setting is set, a test can override this
    # setting with its own visibility setting."
    results = parse(
        {
            "visibility": "after_published",
            "tests": [{"score": 1}, {"score": 1, "visibility": "visible"}],
        }
    )
    assert [t.visibility for t in results.tests] == ["after_published", "visible"]


def test_test_visibility_defaults_to_visible_without_a_top_level_one() -> None:
    assert [t.visibility for t in parse({"tests": [{"score": 1}]}).tests] == ["visible"]


def test_leaderboard_order_defaults_to_desc_and_value_may_be_null() -> None:
    board = parse(
        {
            "score": 1,
            "leaderboard": [
                {"name": "Accuracy", "value": 0.9},
                {"name": "Time", "value": 3, "order": "asc"},
                {"name": "Unset", "value": None, "order": None},
                {"name": "Stars", "value": "***", "order": "desc"},
            ],
        }
    ).leaderboard
    assert [(e.name, e.value, e.order) for e in board] == [
        ("Accuracy", 0.9, "desc"),
        ("Time", 3.0, "asc"),
        ("Unset", None, "desc"),
        ("Stars", "***", "desc"),
    ]


# --- output caps and text hygiene -------------------------------------------------------------


def test_short_output_is_unchanged() -> None:
    text = "x" * MAX_OUTPUT_BYTES
    assert parse({"score": 1, "output": text}).output == text


@pytest.mark.parametrize("char", ["x", "é", "€", "😀"])
def test_long_output_is_truncated_with_a_marker(char: str) -> None:
    text = char * (MAX_OUTPUT_BYTES * 2 // len(char.encode()) + 3)
    results = parse({"score": 1, "output": text, "tests": [{"score": 1, "output": text}]})
    for output in (results.output, results.tests[0].output):
        assert len(output.encode()) <= MAX_OUTPUT_BYTES
        head, marker = output.split("\n\n[output truncated by the course portal: ")
        assert set(head) == {char}
        omitted = int(marker.removesuffix(" more bytes]"))
        assert len(head.encode()) + omitted == len(text.encode())


def test_nul_and_lone_surrogates_become_replacement_characters() -> None:
    raw = (
        '{"score": 1, "output": "a\\u0000b\\ud800c", '
        '"extra_data": {"k\\u0000": ["\\udfff", {"x": "\\u0000"}], "ok": "\\ud83d\\ude00"},'
        '"tests": [{"score": 1, "name": "n\\u0000", "tags": ["t\\ud800"]}]}'
    )
    results = parse_results(raw)
    assert results.output == "a\ufffdb\ufffdc"
    assert results.extra_data == {"k\ufffd": ["\ufffd", {"x": "\ufffd"}], "ok": "😀"}
    assert results.tests[0].name == "n\ufffd"
    assert results.tests[0].tags == ["t\ufffd"]
    json.dumps(staff_view(results), ensure_ascii=False).encode()  # storable as UTF-8


def nested(levels: int) -> Any:
    """An object nested ``levels`` containers deep."""
    value: Any = "leaf"
    for i in range(levels - 1):
        value = {"d": value} if i % 2 else [value]
    return {"d": value}


# The portal copies and serialises extra_data recursively: 32 levels are kept, 33 refused.


def test_extra_data_nested_to_the_cap_is_kept() -> None:
    assert parse({"score": 1, "extra_data": nested(MAX_EXTRA_DATA_DEPTH)}).extra_data == nested(
        MAX_EXTRA_DATA_DEPTH
    )


def test_extra_data_nested_past_the_cap_is_refused() -> None:
    exc = invalid(json.dumps({"tests": [{"score": 1, "extra_data": nested(33)}]}))
    assert exc.field == "tests[0].extra_data"
    assert "nested more than 32 levels" in exc.detail


# --- invalid files ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        (b"", "empty"),
        ("  \n\t", "empty"),
        (b"not json", "not valid JSON"),
        ('{"score": 1', "not valid JSON"),
        ('{"score": 1} trailing', "not valid JSON"),
        (b"\xff\xfe{}", "UTF-8"),
        ("[]", "JSON object, not a list"),
        ('"text"', "JSON object, not a string"),
        ("3", "JSON object, not a number"),
        ("null", "JSON object, not null"),
        ('{"score": NaN}', "NaN"),
        ('{"score": Infinity}', "Infinity"),
        ('{"score": -Infinity}', "-Infinity"),
        ('{"score": 1e999}', "1e999"),
        ('{"extra_data": {"x": NaN}, "score": 1}', "NaN"),
        ('{"score": 1' + "0" * 400 + "}", "score"),
        ('{"score": 1' + "0" * 5000 + "}", "not valid JSON"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ],
)
def test_unreadable_files(raw: bytes | str, needle: str) -> None:
    exc = invalid(raw)
    assert needle in exc.detail
    assert exc.student_message == STUDENT_MESSAGE


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"tests": []},
        {"tests": [{"name": "Compiles", "status": "passed", "max_score": 1}]},
        {"score": None, "output": "hi"},
    ],
)
def test_no_score_anywhere(data: dict[str, Any]) -> None:
    exc = invalid(json.dumps(data))
    assert "no score" in exc.detail
    assert exc.field == "score"


@pytest.mark.parametrize(
    ("data", "field", "shown"),
    [
        ({"score": "5"}, "score", '"5"'),
        ({"score": True}, "score", "true"),
        ({"score": [5]}, "score", "[5]"),
        ({"score": 1, "tests": {"a": 1}}, "tests", "an object"),
        ({"score": 1, "tests": [3]}, "tests[0]", "3"),
        ({"tests": [{"score": "1"}]}, "tests[0].score", '"1"'),
        ({"tests": [{"score": 1, "max_score": [2]}]}, "tests[0].max_score", "[2]"),
        ({"tests": [{"score": 1}, {"score": 1, "name": 7}]}, "tests[1].name", "7"),
        ({"tests": [{"score": 1, "number": True}]}, "tests[0].number", "true"),
        ({"tests": [{"score": 1, "number": [1]}]}, "tests[0].number", "[1]"),
        ({"tests": [{"score": 1, "visibility": "public"}]}, "tests[0].visibility", "public"),
        ({"tests": [{"score": 1, "visibility": 1}]}, "tests[0].visibility", "1"),
        ({"score": 1, "visibility": "students"}, "visibility", "students"),
        ({"score": 1, "stdout_visibility": "always"}, "stdout_visibility", "always"),
        ({"tests": [{"score": 1, "status": "ok"}]}, "tests[0].status", "ok"),
        ({"tests": [{"score": 1, "tags": "a,b"}]}, "tests[0].tags", "a,b"),
        ({"tests": [{"score": 1, "tags": ["a", 1]}]}, "tests[0].tags", '["a", 1]'),
        ({"tests": [{"score": 1, "extra_data": []}]}, "tests[0].extra_data", "[]"),
        ({"tests": [{"score": 1, "output": 42}]}, "tests[0].output", "42"),
        ({"tests": [{"score": 1, "output_format": 1}]}, "tests[0].output_format", "1"),
        ({"score": 1, "output": ["a"]}, "output", '["a"]'),
        ({"score": 1, "extra_data": "x"}, "extra_data", '"x"'),
        ({"score": 1, "leaderboard": {"name": "a"}}, "leaderboard", "an object"),
        ({"score": 1, "leaderboard": ["a"]}, "leaderboard[0]", '"a"'),
        ({"score": 1, "leaderboard": [{"value": 1}]}, "leaderboard[0].name", "null"),
        ({"score": 1, "leaderboard": [{"name": "a", "value": True}]}, "leaderboard[0].value", ""),
        ({"score": 1, "leaderboard": [{"name": "a", "order": "up"}]}, "leaderboard[0].order", ""),
        ({"score": 1, "execution_time": "fast"}, "execution_time", '"fast"'),
        ({"score": 1, "execution_time": "nan"}, "execution_time", '"nan"'),
        ({"score": 1, "execution_time": True}, "execution_time", "true"),
        ({"score": 1, "execution_time": -1}, "execution_time", "-1"),
    ],
)
def test_bad_types_and_values(data: dict[str, Any], field: str, shown: str) -> None:
    exc = invalid(json.dumps(data))
    assert exc.field == field
    assert f"field {field} must be" in exc.detail
    assert shown in exc.detail
    assert exc.student_message == STUDENT_MESSAGE


@pytest.mark.parametrize("key", ["score", "max_score"])
def test_scores_adding_up_past_a_float(key: str) -> None:
    exc = invalid(json.dumps({"tests": [{"score": 1, key: 1e308}] * 2}))
    assert f"{key} values add up" in exc.detail


def test_a_top_level_score_makes_an_overflowing_total_harmless() -> None:
    # the top-level score overrides the tests' total, so that total is never needed
    assert parse({"score": 1, "tests": [{"score": 1e308}] * 2}).score == 1


def test_one_huge_max_score_is_kept() -> None:
    assert parse({"score": 5, "tests": [{"max_score": 1e308}]}).max_score == 1e308


@pytest.mark.parametrize("as_bytes", [True, False], ids=["bytes", "text"])
def test_too_large(as_bytes: bool) -> None:
    text = '{"score": 1}' + " " * MAX_RESULTS_BYTES
    exc = invalid(text.encode() if as_bytes else text)
    assert "bytes; at most" in exc.detail
    assert "too large" in exc.student_message


def test_too_large_is_measured_in_utf8_bytes_not_characters() -> None:
    exc = invalid('{"score": 1, "output": "' + "é" * (MAX_RESULTS_BYTES // 2 + 1) + '"}')
    assert "bytes; at most" in exc.detail


def test_a_file_of_exactly_the_cap_is_read() -> None:
    assert parse_results(('{"score": 1}' + " " * (MAX_RESULTS_BYTES - 12)).encode()).score == 1


def test_too_many_tests() -> None:
    exc = invalid(json.dumps({"tests": [{"score": 1}] * (MAX_TESTS + 1)}))
    assert f"{MAX_TESTS + 1} tests" in exc.detail
    assert exc.field == "tests"


def test_as_many_tests_as_the_cap_are_read() -> None:
    assert len(parse({"tests": [{"score": 1}] * MAX_TESTS}).tests) == MAX_TESTS


def test_huge_values_are_shortened_in_the_detail() -> None:
    exc = invalid(json.dumps({"score": "x" * 100_000}))
    assert len(exc.detail) < 300


# --- student and staff views ------------------------------------------------------------------

EXPECTED_SHOWN = {
    # (visibility, after_due_date, grades_released) -> shown?
    (v, due, released): {
        "hidden": False,
        "after_due_date": due,
        "after_published": released,
        "visible": True,
    }[v]
    for v, due, released in itertools.product(VISIBILITIES, (False, True), (False, True))
}


@pytest.mark.parametrize(("visibility", "after_due_date", "grades_released"), EXPECTED_SHOWN)
def test_visibility_matrix(visibility: str, after_due_date: bool, grades_released: bool) -> None:
    results = parse(
        {
            "tests": [
                {"name": "always", "score": 1, "max_score": 1, "visibility": "visible"},
                {"name": "checked", "score": 2, "max_score": 3, "visibility": visibility},
            ],
            "leaderboard": [{"name": "Time", "value": 1.5, "order": "asc"}],
        }
    )
    view = student_view(results, after_due_date=after_due_date, grades_released=grades_released)
    shown = EXPECTED_SHOWN[(visibility, after_due_date, grades_released)]
    assert (
        visible_to_student(
            visibility, after_due_date=after_due_date, grades_released=grades_released
        )
        is shown
    )
    assert [t["name"] for t in view["tests"]] == (["always", "checked"] if shown else ["always"])
    assert view["hidden_tests"] == (0 if shown else 1)
    # specs.md: "If test cases are hidden, students will not be able to see their total score."
    if shown:
        assert (view["score"], view["max_score"]) == (3.0, 4.0)
    else:
        assert (view["score"], view["max_score"]) == (None, None)
    assert view["leaderboard"] == [{"name": "Time", "value": 1.5, "order": "asc"}]


def test_student_view_shape() -> None:
    results = parse(
        {
            "score": 3,
            "output": "Well done",
            "tests": [
                {
                    "name": "t",
                    "number": "1",
                    "score": 3,
                    "max_score": 3,
                    "output": "ok",
                    "tags": ["a"],
                    "extra_data": {"secret": 1},
                }
            ],
            "extra_data": {"secret": 2},
        }
    )
    view = student_view(results, after_due_date=False, grades_released=False)
    assert view == {
        "score": 3.0,
        "max_score": 3.0,
        "tests": [
            {
                "name": "t",
                "number": "1",
                "score": 3.0,
                "max_score": 3.0,
                "status": "passed",
                "output": "ok",
                "tags": ["a"],
                "output_format": "text",
                "name_format": "text",
            }
        ],
        "output": "Well done",
        "output_format": "simple_format",
        "stdout_visible": False,
        "leaderboard": [],
        "hidden_tests": 0,
    }
    assert "secret" not in json.dumps(view)


WITH_A_HIDDEN_TEST = {
    "score": 5,
    "tests": [
        {"name": "a", "score": 5, "max_score": 5},
        {"name": "b", "status": "passed", "visibility": "hidden"},
    ],
}


@pytest.mark.parametrize(("due", "released"), list(itertools.product((False, True), (False, True))))
def test_any_hidden_test_hides_the_total_even_without_points(due: bool, released: bool) -> None:
    results = parse(WITH_A_HIDDEN_TEST)
    view = student_view(results, after_due_date=due, grades_released=released)
    assert view["score"] is None and view["max_score"] is None
    assert view["hidden_tests"] == 1
    assert [t["name"] for t in view["tests"]] == ["a"]


def test_staff_see_the_total_despite_a_hidden_test() -> None:
    assert staff_view(parse(WITH_A_HIDDEN_TEST))["score"] == 5.0


NO_TESTS_AFTER_DUE_DATE = {"score": 7, "output": "msg", "visibility": "after_due_date"}


def test_top_level_visibility_withholds_total_and_output_before_it_is_reached() -> None:
    results = parse(NO_TESTS_AFTER_DUE_DATE)
    before = student_view(results, after_due_date=False, grades_released=True)
    assert (before["score"], before["output"], before["hidden_tests"]) == (None, None, 0)


def test_top_level_visibility_shows_total_and_output_once_reached() -> None:
    results = parse(NO_TESTS_AFTER_DUE_DATE)
    after = student_view(results, after_due_date=True, grades_released=False)
    assert (after["score"], after["output"]) == (7.0, "msg")


INHERITED_VISIBILITY = {
    "visibility": "after_due_date",
    "tests": [
        {"name": "compiles", "score": 0, "max_score": 0, "visibility": "visible"},
        {"name": "graded", "score": 4, "max_score": 5},
    ],
}


def test_tests_inheriting_the_top_level_visibility_are_withheld_before_it() -> None:
    before = student_view(parse(INHERITED_VISIBILITY), after_due_date=False, grades_released=False)
    assert [t["name"] for t in before["tests"]] == ["compiles"]
    assert before["score"] is None


def test_tests_inheriting_the_top_level_visibility_are_shown_after_it() -> None:
    after = student_view(parse(INHERITED_VISIBILITY), after_due_date=True, grades_released=False)
    assert [t["name"] for t in after["tests"]] == ["compiles", "graded"]
    assert (after["score"], after["max_score"]) == (4.0, 5.0)


@pytest.mark.parametrize(("visibility", "after_due_date", "grades_released"), EXPECTED_SHOWN)
def test_stdout_visibility(visibility: str, after_due_date: bool, grades_released: bool) -> None:
    results = parse({"score": 1, "stdout_visibility": visibility})
    view = student_view(results, after_due_date=after_due_date, grades_released=grades_released)
    assert view["stdout_visible"] is EXPECTED_SHOWN[(visibility, after_due_date, grades_released)]


def test_unknown_visibility_is_never_shown() -> None:
    assert not visible_to_student("public", after_due_date=True, grades_released=True)


def test_staff_view_has_everything_and_reads_back_the_same() -> None:
    results = parse(
        {
            "execution_time": "1.25",
            "visibility": "after_published",
            "stdout_visibility": "after_due_date",
            "output": "o" * (MAX_OUTPUT_BYTES + 10),
            "extra_data": {"x": [1, {"y": None}]},
            "tests": [
                {"score": 1, "max_score": 2, "visibility": "hidden", "tags": ["t"]},
                {"name": "b", "number": 2, "status": "passed", "extra_data": {"z": 1}},
            ],
            "leaderboard": [{"name": "Acc", "value": 0.5}],
        }
    )
    view = staff_view(results)
    text = json.dumps(view, allow_nan=False)
    assert view["tests"][0]["visibility"] == "hidden"
    assert view["tests"][1]["extra_data"] == {"z": 1}
    assert view["extra_data"] == {"x": [1, {"y": None}]}
    assert view["execution_time"] == 1.25
    assert parse_results(text) == results


# --- properties -------------------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=30,
)


def mostly(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Usually a valid value for the field, now and then any JSON value at all."""
    return st.integers(0, 19).flatmap(lambda i: json_values if i == 0 else valid)


numbers = st.integers(-100, 100) | st.floats(-1e6, 1e6, allow_nan=False)
visibilities = st.sampled_from(VISIBILITIES)
formats = st.sampled_from(["text", "html", "simple_format", "md", "ansi", "rtf"])
small_objects = st.dictionaries(st.text(max_size=5), json_values, max_size=3)
test_like = st.fixed_dictionaries(
    {},
    optional={
        "score": mostly(numbers),
        "max_score": mostly(numbers),
        "status": mostly(st.sampled_from(["passed", "failed"])),
        "name": mostly(st.text(max_size=10)),
        "name_format": mostly(formats),
        "number": mostly(st.text(max_size=4) | numbers),
        "output": mostly(st.text(max_size=30)),
        "output_format": mostly(formats),
        "tags": mostly(st.lists(st.text(max_size=5), max_size=3)),
        "visibility": mostly(visibilities),
        "extra_data": mostly(small_objects),
        "merge_subtests": json_values,
    },
)
leader_like = st.fixed_dictionaries(
    {"name": mostly(st.text(max_size=5))},
    optional={
        "value": mostly(numbers | st.text(max_size=5) | st.none()),
        "order": mostly(st.sampled_from(["asc", "desc"])),
    },
)
results_like = st.fixed_dictionaries(
    {},
    optional={
        "score": mostly(numbers),
        "execution_time": mostly(st.floats(0, 1e4) | st.sampled_from(["0.02", " 3 ", "1e3"])),
        "output": mostly(st.text(max_size=30)),
        "output_format": mostly(formats),
        "test_output_format": mostly(formats),
        "test_name_format": mostly(formats),
        "visibility": mostly(visibilities),
        "stdout_visibility": mostly(visibilities),
        "extra_data": mostly(small_objects),
        "tests": mostly(st.lists(test_like, max_size=6)),
        "leaderboard": mostly(st.lists(leader_like, max_size=3)),
        "grader_version": json_values,
    },
)


def parses_or_refuses(raw: bytes | str) -> None:
    try:
        results = parse_results(raw)
    except ResultsInvalid as exc:
        assert exc.detail and exc.student_message
        return
    for due, released in itertools.product((False, True), (False, True)):
        json.dumps(student_view(results, after_due_date=due, grades_released=released))
    json.dumps(staff_view(results), allow_nan=False)
    assert results.score is not None and math.isfinite(results.score)


@given(json_values)
def test_any_json_value_parses_or_is_refused(value: Any) -> None:
    parses_or_refuses(json.dumps(value))


@given(results_like)
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_any_results_like_object_parses_or_is_refused(value: dict[str, Any]) -> None:
    parses_or_refuses(json.dumps(value))


@given(st.binary(max_size=200) | st.text(max_size=200))
def test_any_bytes_or_text_parse_or_are_refused(raw: bytes | str) -> None:
    parses_or_refuses(raw)


@given(
    top=st.sampled_from([None, *VISIBILITIES]),
    visibilities=st.lists(st.sampled_from([None, *VISIBILITIES]), min_size=0, max_size=8),
    after_due_date=st.booleans(),
    grades_released=st.booleans(),
)
def test_student_view_never_shows_a_forbidden_test(
    top: str | None, visibilities: list[str | None], after_due_date: bool, grades_released: bool
) -> None:
    data: dict[str, Any] = {
        "score": 1,
        "tests": [
            {"name": f"t{i}", "score": 1, "max_score": 1, "visibility": v}
            for i, v in enumerate(visibilities)
        ],
    }
    if top is not None:
        data["visibility"] = top
    results = parse(data)
    view = student_view(results, after_due_date=after_due_date, grades_released=grades_released)
    effective = {f"t{i}": v or top or "visible" for i, v in enumerate(visibilities)}
    allowed = {
        name
        for name, v in effective.items()
        if EXPECTED_SHOWN[(v, after_due_date, grades_released)]
    }
    shown = [t["name"] for t in view["tests"]]
    assert set(shown) == allowed
    assert view["hidden_tests"] == len(visibilities) - len(allowed)
    if (
        view["hidden_tests"]
        or not EXPECTED_SHOWN[(top or "visible", after_due_date, grades_released)]
    ):
        assert view["score"] is None and view["max_score"] is None
    else:
        assert view["score"] == 1.0


# --- the Gradescope-style bundle --------------------------------------------------------------

RUN_TESTS_ELSEWHERE = """
import builtins, runpy, sys
real_open, target = builtins.open, sys.argv[1]
def redirected(path, *args, **kwargs):
    if path == "/autograder/results/results.json":
        path = target
    return real_open(path, *args, **kwargs)
builtins.open = redirected
runpy.run_path("run_tests.py", run_name="__main__")
"""


def run_bundle_tests(tmp_path: Path, submission: str) -> bytes:
    """Run the bundle's own run_tests.py, unchanged, in a copy of the bundle: only the path it
    writes results.json to is redirected (real bundles hardcode /autograder)."""
    source = tmp_path / "source"
    shutil.copytree(BUNDLE, source, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(COMPAT / "submissions" / submission / "calculator.py", source)
    results_file = tmp_path / "results.json"
    subprocess.run(
        [sys.executable, "-c", RUN_TESTS_ELSEWHERE, str(results_file)],
        cwd=source,
        env={"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"},
        check=True,
        timeout=60,
        capture_output=True,
    )
    return results_file.read_bytes()


EXPECTED_TESTS = {
    # number: (name, max_score, visibility, tags)
    "1.1": ("Adds two numbers", 2.0, "visible", ["arithmetic"]),
    "1.2": ("Subtracts two numbers", 2.0, "after_due_date", []),
    "1.3": ("Multiplies two numbers", 3.0, "after_published", ["arithmetic", "product"]),
    "2.1": ("Divides, with partial credit", 2.0, "visible", []),
    "2.2": ("Refuses division by zero", 1.0, "hidden", []),
    "3.1": ("Module has a docstring", None, "visible", []),
}


def check_correct_submission(raw: bytes) -> Results:
    written = json.loads(raw)
    assert isinstance(written["execution_time"], str)  # as gradescope-utils writes it
    assert written["score"] == 10
    results = parse_results(raw)
    assert results.score == 10.0
    assert results.max_score == 10.0
    assert results.execution_time is not None and results.execution_time >= 0
    assert results.visibility == "after_due_date"
    assert results.stdout_visibility == "visible"
    by_number = {t.number: t for t in results.tests}
    assert set(by_number) == set(EXPECTED_TESTS)
    for num, (name, max_score, visibility, tags) in EXPECTED_TESTS.items():
        test = by_number[num]
        assert (test.name, test.max_score, test.visibility, test.tags) == (
            name,
            max_score,
            visibility,
            tags,
        )
        assert test.status == "passed"
        assert test.score == max_score
    assert by_number["1.1"].output == "Checking add(2, 3)\n"
    (entry,) = results.leaderboard
    assert (entry.name, entry.order) == ("Operations per second", "desc")
    assert isinstance(entry.value, float) and entry.value > 0
    return results


def test_compat_bundle_correct_submission(tmp_path: Path) -> None:
    check_correct_submission(run_bundle_tests(tmp_path, "correct"))


@pytest.fixture(scope="module")
def wrong_submission_results(tmp_path_factory: pytest.TempPathFactory) -> Results:
    return parse_results(run_bundle_tests(tmp_path_factory.mktemp("wrong"), "wrong"))


def test_compat_bundle_wrong_submission_scores(wrong_submission_results: Results) -> None:
    results = wrong_submission_results
    assert results.score == 3.0
    assert results.max_score == 10.0
    by_number = {t.number: t for t in results.tests}
    assert {n: (t.score, t.status) for n, t in by_number.items()} == {
        "1.1": (2.0, "passed"),
        "1.2": (0.0, "failed"),
        "1.3": (0.0, "failed"),
        "2.1": (1.0, "failed"),  # partial credit: 2 of 4 cases
        "2.2": (0.0, "failed"),
        "3.1": (None, "failed"),
    }
    assert by_number["1.2"].output == "Test Failed: -2 != 2\n"
    assert "divide(7, 2) should be 3.5" in by_number["2.1"].output


def test_compat_bundle_wrong_submission_before_the_due_date(
    wrong_submission_results: Results,
) -> None:
    before = student_view(wrong_submission_results, after_due_date=False, grades_released=False)
    assert [t["number"] for t in before["tests"]] == ["1.1", "2.1", "3.1"]
    assert before["hidden_tests"] == 3
    assert before["score"] is None and before["max_score"] is None
    assert before["stdout_visible"] is True


def test_compat_bundle_wrong_submission_once_published(
    wrong_submission_results: Results,
) -> None:
    results = wrong_submission_results
    published = student_view(results, after_due_date=True, grades_released=True)
    assert sorted(t["number"] for t in published["tests"]) == ["1.1", "1.2", "1.3", "2.1", "3.1"]
    assert published["hidden_tests"] == 1  # 2.2 is hidden for good, and so is the total
    assert published["score"] is None
    assert staff_view(results)["score"] == 3.0


def _bubblewrap_works() -> bool:
    if shutil.which("bwrap") is None:
        return False
    probe = subprocess.run(
        ["bwrap", "--unshare-all", "--ro-bind", "/", "/", "--", "/bin/true"],
        capture_output=True,
        timeout=30,
    )
    return probe.returncode == 0


@pytest.mark.skipif(not _bubblewrap_works(), reason="bubblewrap cannot run here")
def test_compat_bundle_runs_unchanged_at_slash_autograder(tmp_path: Path) -> None:
    """setup.sh and run_autograder as Gradescope runs them: the bundle at /autograder/source,
    run_autograder copied to /autograder, the submission in /autograder/submission, the
    harness-made /autograder/results, and /autograder as the working directory."""
    root = tmp_path / "autograder"
    shutil.copytree(BUNDLE, root / "source", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(BUNDLE / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    (root / "results").mkdir()
    shutil.copy(COMPAT / "submissions" / "correct" / "calculator.py", root / "submission")
    sandbox = [
        "bwrap",
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--ro-bind", "/usr", "/usr",
        "--symlink", "usr/bin", "/bin",
        "--symlink", "usr/lib", "/lib",
        "--symlink", "usr/lib64", "/lib64",
        "--ro-bind", "/etc", "/etc",
        "--proc", "/proc",
        "--dev", "/dev",
        "--tmpfs", "/tmp",
        "--bind", str(root), "/autograder",
        "--chdir", "/autograder",
        "--clearenv",
        "--setenv", "PATH", "/usr/bin:/bin",
        "--setenv", "HOME", "/tmp",
    ]  # fmt: skip
    for command in (["bash", "/autograder/source/setup.sh"], ["/autograder/run_autograder"]):
        done = subprocess.run([*sandbox, *command], capture_output=True, timeout=120)
        assert done.returncode == 0, done.stderr.decode(errors="replace")
    check_correct_submission((root / "results" / "results.json").read_bytes())
