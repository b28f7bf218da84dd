"""Grades imported from a CSV (participation): the header, every bad line named, all or
nothing, the grades set as the one truth computes them with the history saying where they
came from; instructor only; the page form and the API."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from grading.grade_import import parse_grades_csv
from grading.models import Grade, GradeChange
from tests.factories import AssignmentFactory, CategoryFactory, EnrollmentFactory, QuestionFactory

D = Decimal


# --- reading the file -----------------------------------------------------------------------------


def test_a_good_file_is_read_with_a_bom_spaces_and_blank_lines() -> None:
    parsed = parse_grades_csv("\ufeffUsername , Points\nada, 3\n\nbob,2.5\n".encode())
    assert parsed.problems == []
    assert [(r.line, r.username, r.points, r.question) for r in parsed.rows] == [
        (2, "ada", D(3), ""),
        (4, "bob", D("2.5"), ""),
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("user,score\nada,3\n", "line 1: the header must be username,points"),
        ("username,points\nada,three\n", "line 2: 'three' is not a number of points"),
        ("username,points\nada,-1\n", "line 2: '-1' is not a number of points"),
        ("username,points\nada,1.234\n", "line 2: '1.234' is not a number of points"),
        ("username,points\nada,NaN\n", "line 2: 'NaN' is not a number of points"),
        ("username,points\n,3\n", "line 2: no username"),
        ("username,points\nada,3,q1\n", "line 2: 3 values, the header names 2"),
        ("username,points\nada,3\nada,4\n", "line 3: ada is already on line 2"),
        ("username,points\n", "the file has no grades under its header"),
    ],
)
def test_a_bad_line_is_named(text: str, problem: str) -> None:
    assert any(p.startswith(problem) for p in parse_grades_csv(text.encode()).problems)


def test_binary_and_huge_files_are_refused() -> None:
    assert parse_grades_csv(b"\x00\x01").problems[0].startswith("the file is not UTF-8")
    assert parse_grades_csv(b"\xff\xfe").problems[0].startswith("the file is not UTF-8")
    big = b"username,points\n" + b"a,1\n" * 600_000
    assert parse_grades_csv(big).problems == ["the file is over 2 MB"]


# --- importing --------------------------------------------------------------------------------------


@pytest.fixture
def participation(course: Any) -> Any:
    category = CategoryFactory(course=course, slug="participation", weight=3, bonus=True)
    return AssignmentFactory(
        course=course, category=category, slug="participation", title="Participation", points=3
    )


def url(assignment: Any) -> str:
    return f"/api/v1/courses/{assignment.course.slug}/assignments/{assignment.slug}/grades/import/"


def upload(api_client: Any, who: Any, assignment: Any, text: str) -> Any:
    api_client.force_authenticate(who.user)
    f = SimpleUploadedFile("participation.csv", text.encode(), content_type="text/csv")
    return api_client.post(url(assignment), {"file": f}, format="multipart")


@pytest.mark.django_db
def test_the_instructor_imports_participation(
    api_client: Any, instructor: Any, student: Any, grad_student: Any, participation: Any
) -> None:
    text = f"username,points\n{student.user.username},3\n{grad_student.user.username},1.5\n"
    r = upload(api_client, instructor, participation, text)
    assert r.status_code == 200, r.content
    assert r.json() == {"imported": 2, "students": 2}
    grade = Grade.objects.get(assignment=participation, student=student.user)
    assert grade.points == D(3) and grade.override == D(3)
    change = GradeChange.objects.get(grade=grade)
    assert change.changed_by == instructor.user and change.detail == (
        "imported from participation.csv"
    )
    # Importing again replaces the points (history kept).
    text = f"username,points\n{student.user.username},2\n"
    assert upload(api_client, instructor, participation, text).status_code == 200
    grade.refresh_from_db()
    assert grade.points == D(2) and grade.changes.count() == 2


@pytest.mark.django_db
def test_a_file_with_bad_lines_imports_nothing_and_names_each_line(
    api_client: Any, instructor: Any, student: Any, ta: Any, participation: Any
) -> None:
    text = (
        "username,points\n"
        f"{student.user.username},2\n"
        "nobody,1\n"
        f"{ta.user.username},1\n"
        f"{student.user.username}x,5\n"
    )
    r = upload(api_client, instructor, participation, text)
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid"
    message = r.json()["error"]["message"]
    assert message.startswith("Nothing was imported: line 3: 'nobody' is not a student")
    assert "line 4:" in message and "line 5:" in message
    assert len(r.json()["error"]["fields"]["file"]) == 3
    assert not Grade.objects.exists()
    too_many = f"username,points\n{student.user.username},4\n"
    r = upload(api_client, instructor, participation, too_many)
    assert "line 2: 4 is above Participation's 3 points" in r.json()["error"]["message"]
    assert not Grade.objects.exists()


@pytest.mark.django_db
def test_questions_are_named_on_an_assignment_graded_by_question(
    api_client: Any, instructor: Any, student: Any, assignment: Any
) -> None:
    QuestionFactory(assignment=assignment, slug="q1", points=5, position=0)
    QuestionFactory(assignment=assignment, slug="q2", points=5, position=1)
    name = student.user.username
    r = upload(api_client, instructor, assignment, f"username,points\n{name},3\n")
    assert "line 2: HW" in r.json()["error"]["message"]
    assert "is graded by question" in r.json()["error"]["message"]
    r = upload(api_client, instructor, assignment, f"username,points,question\n{name},3,q9\n")
    assert "line 2: 'q9' is not a question of" in r.json()["error"]["message"]
    r = upload(
        api_client,
        instructor,
        assignment,
        f"username,points,question\n{name},3,q1\n{name},4.5,q2\n",
    )
    assert r.status_code == 200 and r.json() == {"imported": 2, "students": 1}
    assert {g.question: g.points for g in Grade.objects.filter(student=student.user)} == {
        "q1": D(3),
        "q2": D("4.5"),
    }


@pytest.mark.django_db
def test_tas_are_refused_and_students_get_404(
    api_client: Any, ta: Any, student: Any, participation: Any
) -> None:
    text = f"username,points\n{student.user.username},1\n"
    r = upload(api_client, ta, participation, text)
    assert r.status_code == 403 and r.json()["error"]["code"] == "permission_denied"
    assert upload(api_client, student, participation, text).status_code == 404
    assert not Grade.objects.exists()


@pytest.mark.django_db
def test_the_assignment_page_imports_and_shows_a_refusal(
    client: Any, instructor: Any, student: Any, participation: Any, sections: Any
) -> None:
    client.force_login(instructor.user)
    page_url = f"/courses/{participation.course.slug}/assignments/{participation.slug}/"
    assert "Import grades (CSV)" in client.get(page_url).content.decode()
    many = [EnrollmentFactory(section=sections["CS4803"]) for _ in range(3)]
    text = "username,points\n" + "".join(f"{e.user.username},1\n" for e in many)
    f = SimpleUploadedFile("p.csv", text.encode(), content_type="text/csv")
    r = client.post(f"{page_url}grades/import/", {"file": f}, follow=True)
    assert "Imported 3 grades of 3 students into Participation." in r.content.decode()
    bad = SimpleUploadedFile("p.csv", b"username,points\nghost,1\n", content_type="text/csv")
    r = client.post(f"{page_url}grades/import/", {"file": bad}, follow=True)
    assert "Nothing was imported: line 2: &#x27;ghost&#x27; is not a student" in (
        r.content.decode()
    )
    assert Grade.objects.count() == 3
