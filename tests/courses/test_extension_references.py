"""``[course] extension_reference_pattern``: what a Dean of Students extension's reference may
be (a regex the whole reference must match; by default capital letters and digits such as
DOS-2021-0042). Other references are ``400 invalid_reference`` on the API, the page and the
admin, saying what a reference looks like; the key loads, exports and is checked at load."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from courses import references
from courses.models import Course, Extension
from courses.services import course_export, course_load
from tests.courses.test_load_course import GOOD, edit, problems_of, workdir, write

pytestmark = pytest.mark.django_db

__all__ = ["workdir"]  # the fixture, used by name

DEFAULT_RULE = "capital letters and digits in groups joined by '-', '/' or '.'"
CASE_NUMBERS = ["DOS-2021-0042", "12345", "ODS/21/0042", "DOS.2021.7", "A1", "2021-0042-B"]
NOT_REFERENCES = [
    "flu",
    "SICK",  # a word, no number
    "DOS-TBD",
    "dos-2021-0042",  # lower case
    "Dr-Who-2021",
    "DOS 2021",  # a space
    "DOS--2021",  # an empty group
    "-2021",
    "2021-",
    "DOS_2021",  # a token, but not the default's separators
    "A" * 39 + "12",  # the default's shape, but over the 40 characters of any reference
]


# --- the rule --------------------------------------------------------------------------------


@pytest.mark.parametrize("reference", CASE_NUMBERS)
def test_the_default_takes_case_numbers(reference: str) -> None:
    assert references.reference_problem(reference, references.DEFAULT_PATTERN) is None


@pytest.mark.parametrize("reference", NOT_REFERENCES)
def test_the_default_refuses_words_spaces_and_lower_case(reference: str) -> None:
    problem = references.reference_problem(reference, references.DEFAULT_PATTERN)
    assert problem is not None
    assert DEFAULT_RULE in problem and "such as DOS-2021-0042" in problem
    assert "Never send or store medical information." in problem


def test_a_course_pattern_is_matched_whole_and_named_in_the_refusal() -> None:
    pattern = r"GT-[0-9]{6}"
    assert references.reference_problem("GT-123456", pattern) is None
    for other in ("GT-1234567", "xGT-123456", "GT-12345"):
        problem = references.reference_problem(other, pattern)
        assert problem is not None and pattern in problem
    # A pattern wider than a token still never lets a sentence in.
    assert references.reference_problem("flu note", r".*") is not None


# --- the API -----------------------------------------------------------------------------------


def grant(api_client: Any, course: Any, instructor: Any, student: Any, reference: str) -> Any:
    api_client.force_authenticate(instructor.user)
    return api_client.post(
        f"/api/v1/courses/{course.slug}/extensions/",
        {
            "student": student.user.username,
            "assignment": "hw1",
            "due_at": "2030-03-12T23:59:00",
            "reference": reference,
        },
        format="json",
    )


@pytest.mark.parametrize("reference", ["flu", "SICK", "dos-2021-0042", "DOS_2021"])
def test_the_api_refuses_what_is_not_a_case_number(
    api_client, course, instructor, student, assignment, reference
):
    r = grant(api_client, course, instructor, student, reference)
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "invalid_reference"
    assert error["message"] == (
        "Give only the Dean of Students confirmation number. A reference is capital letters "
        "and digits in groups joined by '-', '/' or '.', with at least one digit, such as "
        "DOS-2021-0042: no spaces, no words, nothing else. Never send or store medical "
        "information."
    )
    assert not Extension.objects.exists()


def test_the_api_follows_the_courses_own_pattern(
    api_client, course, instructor, student, assignment
):
    Course.objects.filter(pk=course.pk).update(extension_reference_pattern=r"GT-[0-9]{6}")
    r = grant(api_client, course, instructor, student, "DOS-2021-0042")
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_reference"
    assert "this course's pattern GT-[0-9]{6}" in r.json()["error"]["message"]
    r = grant(api_client, course, instructor, student, "GT-123456")
    assert r.status_code == 201, r.content
    assert Extension.objects.get().reference == "GT-123456"


# --- the page ----------------------------------------------------------------------------------


def test_the_page_says_what_a_reference_looks_like(client, course, instructor, assignment):
    client.force_login(instructor.user)
    html = client.get(f"/courses/{course.slug}/extensions/").content.decode()
    help_text = re.search(r'<p id="reference-help" class="help">(.*?)</p>', html)
    assert help_text is not None
    assert help_text[1] == (
        "The confirmation number only. A reference is capital letters and digits in groups "
        "joined by &#x27;-&#x27;, &#x27;/&#x27; or &#x27;.&#x27;, with at least one digit, such "
        "as DOS-2021-0042. Enter nothing else: no reason, no note, no medical information."
    )
    assert "Never send or store medical information." in html


def test_the_page_refuses_a_word_and_keeps_nothing(client, course, instructor, student, assignment):
    client.force_login(instructor.user)
    r = client.post(
        f"/courses/{course.slug}/extensions/",
        {
            "action": "grant",
            "student": student.user.username,
            "assignment": "hw1",
            "due_at": "2030-03-12T23:59",
            "reference": "FLU",
        },
    )
    assert r.status_code == 400
    html = r.content.decode()
    assert 'data-code="invalid_reference"' in html
    assert "such as DOS-2021-0042: no spaces, no words, nothing else." in html
    assert not Extension.objects.exists()


def test_the_page_shows_the_courses_own_pattern(client, course, instructor, assignment):
    Course.objects.filter(pk=course.pk).update(extension_reference_pattern=r"GT-[0-9]{6}")
    client.force_login(instructor.user)
    html = client.get(f"/courses/{course.slug}/extensions/").content.decode()
    assert "A reference is what this course&#x27;s pattern GT-[0-9]{6} matches" in html


# --- the admin ---------------------------------------------------------------------------------


def test_the_admin_holds_to_the_courses_pattern(admin_client, course, student, assignment):
    Course.objects.filter(pk=course.pk).update(extension_reference_pattern=r"GT-[0-9]{6}")
    form = {
        "assignment": assignment.pk,
        "student": student.user.pk,
        "due_at_0": "2030-03-12",
        "due_at_1": "23:59:00",
        "reference": "DOS-2021-0042",
    }
    r = admin_client.post("/admin/courses/extension/add/", form)
    assert r.status_code == 200
    assert "this course&#x27;s pattern GT-[0-9]{6}" in r.content.decode()
    assert not Extension.objects.exists()
    r = admin_client.post("/admin/courses/extension/add/", {**form, "reference": "GT-123456"})
    assert r.status_code == 302
    assert Extension.objects.get().reference == "GT-123456"


# --- the config --------------------------------------------------------------------------------

PATTERN_LINE = "regrade_days = 7\nextension_reference_pattern = 'GT-[0-9]{6}'"


def test_a_course_without_the_key_gets_the_default() -> None:
    course_load(path=GOOD)
    assert Course.objects.get().extension_reference_pattern == references.DEFAULT_PATTERN


def test_the_key_loads_and_exports(workdir: Path) -> None:
    path = write(workdir, edit(("regrade_days = 7", PATTERN_LINE)))
    course_load(path=path)
    course = Course.objects.get()
    assert course.extension_reference_pattern == "GT-[0-9]{6}"
    exported = course_export(course=course)
    assert 'extension_reference_pattern = "GT-[0-9]{6}"\n' in exported
    # The export loads back into the same course.
    again = write(workdir, exported, "again.toml")
    Course.objects.filter(pk=course.pk).update(extension_reference_pattern="X")
    course_load(path=again, force=True)
    assert Course.objects.get().extension_reference_pattern == "GT-[0-9]{6}"


def test_the_default_is_not_written_so_an_older_load_shows_no_drift(workdir: Path) -> None:
    """A course loaded before the key existed recorded an export without it: the export
    leaves the default out, so the next load finds nothing changed in the portal."""
    path = write(workdir, GOOD.read_text())
    course_load(path=path)
    course = Course.objects.get()
    assert "extension_reference_pattern" not in course.loaded_toml
    assert course_export(course=course) == course.loaded_toml
    # Written out in the file, the default loads the same and exports the same.
    explicit = f'regrade_days = 7\nextension_reference_pattern = "{references.DEFAULT_PATTERN}"'
    course_load(path=write(workdir, edit(("regrade_days = 7", explicit)), "explicit.toml"))
    assert Course.objects.get().extension_reference_pattern == references.DEFAULT_PATTERN


def test_export_course_prints_the_key(workdir: Path, capsys: Any) -> None:
    course_load(path=write(workdir, edit(("regrade_days = 7", PATTERN_LINE))))
    call_command("export_course", Course.objects.get().slug)
    assert 'extension_reference_pattern = "GT-[0-9]{6}"' in capsys.readouterr().out


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("'DOS-(['", "course.extension_reference_pattern: is not a regular expression ("),
        ("'[A-Z'", "course.extension_reference_pattern: is not a regular expression ("),
        ("''", "course.extension_reference_pattern: must be a regular expression of 1 to 200"),
        (f"'{'A' * 201}'", "course.extension_reference_pattern: must be a regular expression"),
        ("42", "course.extension_reference_pattern: "),
    ],
)
def test_a_bad_pattern_is_refused_at_load_naming_the_key(
    workdir: Path, value: str, problem: str
) -> None:
    line = f"regrade_days = 7\nextension_reference_pattern = {value}"
    problems = problems_of(write(workdir, edit(("regrade_days = 7", line))))
    assert any(p.startswith(problem) for p in problems), problems
    assert not Course.objects.exists()
