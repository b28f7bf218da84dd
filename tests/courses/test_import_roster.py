"""import_roster: the CSV, its refusals by line number, capacity, and an idempotent write."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from courses.models import Course, Enrollment, Section
from courses.services import RosterRefused, RosterReport, roster_import
from tests.factories import PASSWORD, CourseFactory, EnrollmentFactory, SectionFactory, UserFactory

pytestmark = pytest.mark.django_db

ROSTERS = Path(__file__).parent / "rosters"
HEADER = "username,email,first_name,last_name,section,role\n"
User = get_user_model()


@pytest.fixture
def dl() -> Course:
    course = CourseFactory(slug="cs7643-sp21")
    SectionFactory(course=course, code="CS4803", level="undergraduate", capacity=90)
    SectionFactory(course=course, code="CS7643", level="graduate", capacity=150)
    return course


def write(folder: Path, text: str, name: str = "roster.csv") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def problems_of(path: Path, course_slug: str = "cs7643-sp21") -> list[str]:
    with pytest.raises(RosterRefused) as refused:
        roster_import(course_slug=course_slug, path=path)
    return refused.value.problems


def writes(queries: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]


def roster(course: Course) -> list[tuple[str, str, str | None]]:
    return [
        (e.user.username, e.role, e.section.code if e.section else None)
        for e in Enrollment.objects.filter(course=course).select_related("user", "section")
    ]


def test_a_good_roster_is_imported(dl: Course) -> None:
    report = roster_import(course_slug=dl.slug, path=ROSTERS / "good.csv")

    assert (report.rows, report.created, report.updated, report.unchanged) == (6, 6, 0, 0)
    assert report.users_created == 6
    assert report.summary() == (
        "Roster cs7643-sp21: 6 rows (created 6, updated 0, unchanged 0; 6 new users)"
    )
    assert roster(dl) == [
        ("alice", "student", "CS4803"),
        ("bob", "student", "CS7643"),
        ("carol", "waitlisted", "CS7643"),
        ("dave", "sit_in", None),
        ("erin", "ta", "CS4803"),
        ("frank", "instructor", None),
    ]
    frank = User.objects.get(username="frank")
    assert (frank.email, frank.first_name, frank.last_name) == (
        "frank@example.edu",
        "Frank",
        "Fox, Jr.",
    )
    assert not frank.has_usable_password()


def test_a_second_identical_import_writes_nothing(dl: Course) -> None:
    roster_import(course_slug=dl.slug, path=ROSTERS / "good.csv")

    with CaptureQueriesContext(connection) as queries:
        report = roster_import(course_slug=dl.slug, path=ROSTERS / "good.csv")

    assert writes(queries) == []
    assert (report.created, report.updated, report.unchanged, report.users_created) == (0, 0, 6, 0)
    assert not report.changed


@dataclass
class Reimport:
    """A second import over people already there: alice (enrolled, waitlisted) gets a new name,
    email, role and section; bob is new; another student is enrolled but not in the file; alice
    is also a TA in another course."""

    report: RosterReport
    alice: AbstractUser
    absent: Enrollment
    other_course: Enrollment


@pytest.fixture
def reimport(dl: Course, tmp_path: Path) -> Reimport:
    sections = {s.code: s for s in dl.sections.all()}
    existing = UserFactory(username="alice", email="old@example.edu", first_name="Al")
    EnrollmentFactory(user=existing, section=sections["CS7643"], role="waitlisted")
    absent = EnrollmentFactory(section=sections["CS4803"], role="student")
    other_course = EnrollmentFactory(user=existing, role="ta")
    path = write(
        tmp_path,
        HEADER
        + "alice,alice@example.edu,Alice,Anders,CS4803,student\n"
        + "bob,bob@example.edu,Bob,Brown,CS7643,student\n",
    )
    report = roster_import(course_slug=dl.slug, path=path)
    return Reimport(report=report, alice=existing, absent=absent, other_course=other_course)


def test_a_reimport_counts_the_new_and_the_changed(reimport: Reimport) -> None:
    report = reimport.report
    assert (report.created, report.updated, report.unchanged, report.users_created) == (1, 1, 0, 1)


def test_an_existing_persons_name_and_email_are_updated(reimport: Reimport) -> None:
    existing = reimport.alice
    existing.refresh_from_db()
    assert (existing.email, existing.first_name, existing.last_name) == (
        "alice@example.edu",
        "Alice",
        "Anders",
    )


def test_an_existing_account_keeps_its_password(reimport: Reimport) -> None:
    existing = reimport.alice
    existing.refresh_from_db()
    assert existing.check_password(PASSWORD)


def test_enrollments_are_updated_and_people_absent_from_the_file_left_alone(
    dl: Course, reimport: Reimport
) -> None:
    assert roster(dl) == sorted(
        [
            ("alice", "student", "CS4803"),
            ("bob", "student", "CS7643"),
            (reimport.absent.user.username, "student", "CS4803"),
        ]
    )


def test_an_enrollment_in_another_course_is_left_alone(reimport: Reimport) -> None:
    other_course = reimport.other_course
    other_course.refresh_from_db()
    assert other_course.role == "ta"


def test_a_name_change_alone_counts_as_an_update(dl: Course, tmp_path: Path) -> None:
    roster_import(course_slug=dl.slug, path=ROSTERS / "good.csv")
    text = (ROSTERS / "good.csv").read_text(encoding="utf-8-sig").replace("Brown", "Braun")

    with CaptureQueriesContext(connection) as queries:
        report = roster_import(course_slug=dl.slug, path=write(tmp_path, text))

    assert (report.created, report.updated, report.unchanged) == (0, 1, 5)
    assert len(writes(queries)) == 1
    assert User.objects.get(username="bob").last_name == "Braun"


def test_bad_rows_are_reported_by_line_number_and_nothing_is_imported(dl: Course) -> None:
    problems = problems_of(ROSTERS / "bad.csv")

    assert problems == [
        "line 3: username 'bad user' is not valid (at most 150 letters, digits and @ . + - _)",
        "line 4: email 'not-an-email' is not a valid email address",
        "line 5: section 'CS9999' is not a section of cs7643-sp21 (CS4803, CS7643)",
        "line 6: section is required for role 'student'",
        "line 7: role 'auditor' is not one of student, waitlisted, sit_in, ta, instructor",
        "line 8: username 'alice' already appears on line 2",
        "line 9: expected 6 fields, found 5",
        "line 10: username is empty",
        "line 11: email is empty",
        "line 11: section is required for role 'waitlisted'",
    ]
    assert Enrollment.objects.count() == 0
    assert not User.objects.filter(username="alice").exists()


def test_a_bad_row_after_good_ones_leaves_nothing_half_written(dl: Course, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER
        + "alice,alice@example.edu,Alice,Anders,CS4803,student\n"
        + "bob,bob@example.edu,Bob,Brown,CS7643,student\n"
        + "carol,carol@example.edu,Carol,Chen,CS7643,teacher\n",
    )

    assert problems_of(path) == [
        "line 4: role 'teacher' is not one of student, waitlisted, sit_in, ta, instructor"
    ]
    assert User.objects.count() == 0
    assert Enrollment.objects.count() == 0


def test_line_numbers_count_lines_of_quoted_fields_and_blank_lines(
    dl: Course, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        HEADER
        + 'alice,alice@example.edu,"Alice\nMay",Anders,CS4803,student\n'
        + "\n"
        + "bob,bob@,Bob,Brown,CS7643,student\n",
    )

    assert problems_of(path) == ["line 5: email 'bob@' is not a valid email address"]


@pytest.mark.parametrize(
    "header, expected",
    [
        (
            "username,email,first_name,last_name,section",
            "line 1: the header must have the columns "
            "username,email,first_name,last_name,section,role (in any order); missing: role",
        ),
        (
            "username,email,first_name,last_name,section,role,nickname",
            "line 1: the header must have the columns "
            "username,email,first_name,last_name,section,role (in any order); unknown: nickname",
        ),
        (
            "username,email,email,first_name,last_name,section,role",
            "line 1: the header must have the columns "
            "username,email,first_name,last_name,section,role (in any order); twice: email",
        ),
    ],
    ids=["missing", "unknown", "twice"],
)
def test_a_bad_header_is_refused(dl: Course, tmp_path: Path, header: str, expected: str) -> None:
    path = write(tmp_path, header + "\nalice,alice@example.edu,Alice,Anders,CS4803,student\n")

    assert problems_of(path) == [expected]


def test_an_empty_file_is_refused(dl: Course, tmp_path: Path) -> None:
    assert problems_of(write(tmp_path, "")) == [
        "line 1: the file is empty; expected the header "
        "username,email,first_name,last_name,section,role"
    ]


def test_a_file_that_is_not_utf8_is_refused(dl: Course, tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes((HEADER + "zoë,zoe@example.edu,Zoë,Z,CS4803,student\n").encode("latin-1"))

    assert problems_of(path) == [f"{path}: not UTF-8 text (byte {len(HEADER) + 2})"]


def test_an_unknown_course_is_refused_by_name(dl: Course) -> None:
    assert problems_of(ROSTERS / "good.csv", course_slug="cs9999") == [
        "course 'cs9999' does not exist"
    ]


def test_capacity_exceeded_is_refused_naming_the_first_line_over(
    dl: Course, tmp_path: Path
) -> None:
    section = Section.objects.get(course=dl, code="CS4803")
    section.capacity = 3
    section.save()
    EnrollmentFactory(section=section, role="student")  # stays: not in the file
    moving = EnrollmentFactory(section=section, role="student")  # the file moves them away
    rows = [f"{moving.user.username},m@example.edu,M,M,CS7643,student"] + [
        f"s{n},s{n}@example.edu,S,N,CS4803,student" for n in range(3)
    ]
    path = write(tmp_path, HEADER + "\n".join(rows) + "\n")

    assert problems_of(path) == [
        "section CS4803: capacity 3 exceeded, 4 students after the import "
        "(line 5 is the first over it)"
    ]
    assert Enrollment.objects.count() == 2


def test_capacity_reached_exactly_is_fine(dl: Course, tmp_path: Path) -> None:
    section = Section.objects.get(course=dl, code="CS4803")
    section.capacity = 2
    section.save()
    EnrollmentFactory(section=section, role="student")
    path = write(tmp_path, HEADER + "s1,s1@example.edu,S,One,CS4803,student\n")

    report = roster_import(course_slug=dl.slug, path=path)

    assert report.created == 1


def test_waitlisted_and_staff_are_not_limited(dl: Course, tmp_path: Path) -> None:
    section = Section.objects.get(course=dl, code="CS4803")
    section.capacity = 1
    section.save()
    rows = [f"w{n},w{n}@example.edu,W,N,CS4803,waitlisted" for n in range(5)] + [
        "t1,t1@example.edu,T,One,CS4803,ta",
        "s1,s1@example.edu,S,One,CS4803,student",
    ]

    report = roster_import(course_slug=dl.slug, path=write(tmp_path, HEADER + "\n".join(rows)))

    assert report.created == 7
    assert Enrollment.objects.filter(section=section, role="waitlisted").count() == 5


def test_command_prints_a_summary(dl: Course, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("import_roster", dl.slug, str(ROSTERS / "good.csv"))
    call_command("import_roster", dl.slug, str(ROSTERS / "good.csv"))

    no_password = (
        "6 people have no password yet: run with --invite or have them use Forgot password."
    )
    assert capsys.readouterr().out.splitlines() == [
        "Roster cs7643-sp21: 6 rows (created 6, updated 0, unchanged 0; 6 new users)",
        no_password,
        "Roster cs7643-sp21: 6 rows (created 0, updated 0, unchanged 6; 0 new users)",
        no_password,
    ]


def test_command_refuses_a_bad_file_with_a_nonzero_exit(dl: Course) -> None:
    path = ROSTERS / "bad.csv"

    with pytest.raises(CommandError) as refused:
        call_command("import_roster", dl.slug, str(path))

    assert refused.value.returncode != 0
    lines = str(refused.value).splitlines()
    assert lines[0] == f"{path} refused, nothing was imported:"
    assert (
        "line 7: role 'auditor' is not one of student, waitlisted, sit_in, ta, instructor" in lines
    )
    assert Enrollment.objects.count() == 0
