"""Builders for the one-grade-truth tests (``test_one_grade_truth.py``).

- :class:`Klass`: a course with its two sections (undergraduate CS4803, graduate CS7643), two
  categories, an instructor, a TA and three students; :func:`make_klass` builds it and
  :func:`make_assignment` adds an assignment (with questions, fed by autograder tests, when
  asked) and its active autograder bundle.
- Actions, each the way a person or a worker does it: :func:`hand_in` (the API, multipart
  ``files``), :func:`deliver` (a ``results.json`` through ``grading.services.job_claim`` /
  ``job_finish``), :func:`choose`, :func:`grade`, :func:`ask_regrade`, :func:`resolve`,
  :func:`accept`, :func:`release`, :func:`unrelease`, :func:`extend`.
- :func:`surfaces` reads every surface that shows one student's grade on one assignment, and
  :func:`assert_agree` checks that they tell the same story (see its docstring).
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from html import unescape
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from courses.models import Assignment, Course, Enrollment, Section
from grading import services
from grading.models import GradingJob, JobState
from grading.results import parse_results
from submissions.models import Submission
from tests.factories import (
    AssignmentFactory,
    CategoryFactory,
    CourseFactory,
    EnrollmentFactory,
    GroupMembershipFactory,
    ProjectGroupFactory,
    QuestionFactory,
    SectionFactory,
)
from tests.grading.conftest import bundle_zip

D = Decimal
CENT = D("0.01")
WORKER = "truth-worker"


def cents(value: Any) -> Decimal | None:
    """A number from any surface (JSON float, Decimal, text) as a Decimal in cents."""
    if value is None:
        return None
    return D(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


# --- the course ------------------------------------------------------------------------------


@dataclass
class Klass:
    course: Course
    undergrad: Section
    grad: Section
    instructor: Enrollment
    ta: Enrollment
    alice: Enrollment  # undergraduate
    bob: Enrollment  # graduate
    carol: Enrollment  # undergraduate

    @property
    def students(self) -> list[Enrollment]:
        return [self.alice, self.bob, self.carol]


def make_klass() -> Klass:
    course = CourseFactory()
    CategoryFactory(course=course, slug="homework", weight=80)
    CategoryFactory(course=course, slug="project", weight=20)
    undergrad = SectionFactory(course=course, code="CS4803", level="undergraduate")
    grad = SectionFactory(course=course, code="CS7643", level="graduate")
    return Klass(
        course=course,
        undergrad=undergrad,
        grad=grad,
        instructor=EnrollmentFactory(course=course, section=None, role="instructor"),
        ta=EnrollmentFactory(section=undergrad, role="ta"),
        alice=EnrollmentFactory(section=undergrad, role="student"),
        bob=EnrollmentFactory(section=grad, role="student"),
        carol=EnrollmentFactory(section=undergrad, role="student"),
    )


@dataclass(frozen=True)
class Q:
    """A question to make: its points, the autograder tests that feed it (none: staff grade
    it) and its requirement for undergraduates (graduates always must answer it)."""

    slug: str
    points: str
    tests: tuple[str, ...] = ()
    undergraduate: str = "required"


def make_assignment(
    klass: Klass,
    slug: str,
    *,
    questions: tuple[Q, ...] = (),
    points: str = "100",
    category: str = "homework",
    due_in: timedelta = timedelta(days=3),
    **fields: Any,
) -> Assignment:
    """An assignment with an active autograder (so a hand-in queues a job)."""
    course = klass.course
    assignment = AssignmentFactory(
        course=course,
        category=CategoryFactory(course=course, slug=category),
        slug=slug,
        title=slug.upper(),
        points=D(points),
        release_at=timezone.now() - timedelta(days=7),
        due_at=timezone.now() + due_in,
        **fields,
    )
    for position, q in enumerate(questions):
        QuestionFactory(
            assignment=assignment,
            slug=q.slug,
            points=D(q.points),
            tests=list(q.tests),
            undergraduate=q.undergraduate,
            position=position,
        )
    services.bundle_upload(
        enrollment=klass.instructor, assignment=assignment, fileobj=io.BytesIO(bundle_zip())
    )
    return assignment


def pass_deadline(assignment: Assignment) -> None:
    """The due date (and, with no grace days, the grace period) is now behind us."""
    Assignment.objects.filter(pk=assignment.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    assignment.refresh_from_db()


def make_group(klass: Klass, *members: Enrollment) -> None:
    group = ProjectGroupFactory(course=klass.course)
    for m in members:
        GroupMembershipFactory(group=group, user=m.user)


# --- actions ---------------------------------------------------------------------------------


def api(enrollment: Enrollment) -> APIClient:
    client = APIClient()
    client.force_authenticate(enrollment.user)
    return client


def page(enrollment: Enrollment) -> Client:
    client = Client()
    client.force_login(enrollment.user)
    return client


def assignment_url(a: Assignment, rest: str = "") -> str:
    return f"/api/v1/courses/{a.course.slug}/assignments/{a.slug}/{rest}"


def code_of(response: Any) -> str:
    return str(response.json()["error"]["code"])


def hand_in(student: Enrollment, assignment: Assignment) -> dict[str, Any]:
    """The student hands in through the API; the created submission as the API shows it."""
    upload = SimpleUploadedFile("solution.py", b"print('hi')\n", "application/octet-stream")
    r = api(student).post(
        assignment_url(assignment, "submissions/"), {"files": [upload]}, format="multipart"
    )
    assert r.status_code == 201, r.content
    body: dict[str, Any] = r.json()
    return body


def results_json(**scores: tuple[float, float]) -> dict[str, Any]:
    """A results.json of tests named ``<question> test`` (``_`` in a keyword is a space)."""
    return {
        "tests": [
            {"name": name.replace("_", " "), "score": score, "max_score": most}
            for name, (score, most) in scores.items()
        ]
    }


def deliver(submission_id: int, raw: dict[str, Any]) -> GradingJob:
    """A worker finishes a job of the submission with this ``results.json``: its queued job
    (claimed through ``job_claim``), else a re-run of it. Returns the job."""
    now = timezone.now()
    submission = Submission.objects.select_related("assignment").get(pk=submission_id)
    queued = GradingJob.objects.filter(submission=submission, state=JobState.QUEUED).first()
    if queued is not None:
        job = services.job_claim(queue=queued.queue, worker=WORKER, now=now)
        assert job is not None and job.pk == queued.pk, "another job was claimed first"
    else:
        job = GradingJob.objects.create(
            submission=submission,
            bundle=services.active_bundle(assignment=submission.assignment),
            queue=submission.assignment.autograder_queue,
            state=JobState.RUNNING,
            worker=WORKER,
            queued_at=now,
            started_at=now,
            heartbeat_at=now,
        )
    text = json.dumps(raw)
    parsed = parse_results(text)
    assert services.job_finish(
        job_id=job.pk,
        worker=WORKER,
        score=parsed.score,
        max_score=parsed.max_score,
        data={"raw": text},
    )
    return job


def two_graded(student: Enrollment, assignment: Assignment, *scores: float) -> list[int]:
    """The student hands in twice; each submission gets its score. Their ids, in order."""
    ids = []
    for score in scores:
        ids.append(hand_in(student, assignment)["id"])
        deliver(ids[-1], {"score": score})
    return ids


def choose(by: Enrollment, submission_id: int) -> Any:
    return api(by).post(f"/api/v1/submissions/{submission_id}/choose/")


def grade(staff: Enrollment, student: Enrollment, assignment: Assignment, **body: Any) -> Any:
    """Staff POST a grade: ``question``, ``points`` (an override; None removes it),
    ``adjustment``, ``excused``."""
    body = {"student": student.user.username, **body}
    return api(staff).post(assignment_url(assignment, "grades/"), body, format="json")


def ask_regrade(student: Enrollment, submission_id: int, question: str = "") -> int:
    r = api(student).post(
        f"/api/v1/submissions/{submission_id}/regrade-requests/",
        {"question": question, "message": "Please look again."},
        format="json",
    )
    assert r.status_code == 201, r.content
    return int(r.json()["id"])


def resolve(staff: Enrollment, request_id: int, score: Any = None) -> Any:
    body = {"response": "Looked again."}
    if score is not None:
        body["score"] = str(score)
    return api(staff).post(f"/api/v1/regrade-requests/{request_id}/resolve/", body, format="json")


def accept(staff: Enrollment, job_id: int) -> Any:
    r = api(staff).post(f"/api/v1/jobs/{job_id}/accept/")
    assert r.status_code == 200, r.content
    return r.json()


def release(instructor: Enrollment, assignment: Assignment, action: str = "release") -> Any:
    """The instructor releases the grades (``action="unrelease"``: hides them again)."""
    r = api(instructor).post(assignment_url(assignment, f"{action}/"))
    assert r.status_code == 200, r.content
    assignment.refresh_from_db()
    return r.json()


def unrelease(instructor: Enrollment, assignment: Assignment) -> Any:
    return release(instructor, assignment, "unrelease")


def extend(
    instructor: Enrollment, student: Enrollment, assignment: Assignment, due_at: datetime
) -> Any:
    """A Dean of Students confirmed extension, granted through the API."""
    return api(instructor).post(
        f"/api/v1/courses/{assignment.course.slug}/extensions/",
        {
            "student": student.user.username,
            "assignment": assignment.slug,
            "due_at": due_at.isoformat(),
            "reference": "DOS-1234",
        },
        format="json",
    )


# --- reading every surface -------------------------------------------------------------------


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def _element(html: str, opening: str, tag: str) -> str | None:
    """The text of the first ``<tag ...opening...>…</tag>`` (no nesting of that tag inside)."""
    found = re.search(rf"<{tag}\b[^>]*{re.escape(opening)}[^>]*>(.*?)</{tag}>", html, re.S)
    return _text(found.group(1)) if found else None


def _csv_cell(text: str, assignment: Assignment, username: str) -> tuple[str, str]:
    """The student's cell in the assignment's column, and the column's Points Possible."""
    rows = list(csv.reader(io.StringIO(text)))
    column = rows[0].index(assignment.title)
    assert rows[1][0] == "    Points Possible"
    mine = [r for r in rows[2:] if r[2] == username]
    assert len(mine) == 1, f"{username} is in the CSV {len(mine)} times"
    return mine[0][column], rows[1][column]


def _one(rows: list[dict[str, Any]], key: str, value: Any) -> dict[str, Any] | None:
    found = [r for r in rows if r[key] == value]
    assert len(found) <= 1, f"{value} appears {len(found)} times"
    return found[0] if found else None


@dataclass
class Surfaces:
    """What every surface says about one student's grade on one assignment."""

    username: str
    released: bool
    list_row: dict[str, Any]  # the student's assignment list API row (my_grade, maxima)
    counts: dict[int, bool]  # submission id: counts, from GET submissions/{id}/
    listed_counts: dict[int, bool]  # the same from the student's submission list
    my_grades: dict[str, Any] | None  # the assignment in GET courses/{c}/grades/
    window_closes_at: str | None  # its regrade_window_closes_at there
    gradebook: dict[str, Any]  # the staff gradebook's cell
    csv_cell: str
    csv_points_possible: str
    grade_rows: dict[str, dict[str, Any]]  # the staff's grade rows, by question
    regrades: dict[int, tuple[str, float | None]]  # request id: (question, current_points)
    grades_page_row: str  # the text of tr#grade-<slug> on "My grades"
    list_page_cell: str  # the text of the my-grade cell on the assignment list page

    @property
    def points(self) -> Decimal | None:
        """The staff's number (the gradebook's)."""
        return cents(self.gradebook["points"])

    @property
    def counting(self) -> int | None:
        """The id of the submission that counts (None before any)."""
        ids = [i for i, counts in self.counts.items() if counts]
        return ids[0] if len(ids) == 1 else None

    @property
    def excused(self) -> bool:
        return bool(self.gradebook["excused"])

    @property
    def needs_review(self) -> bool:
        return bool(self.gradebook["needs_review"])


def surfaces(
    student: Enrollment, staff: Enrollment, course: Course, assignment: Assignment
) -> Surfaces:
    """Reads, as the student and as staff, every surface that shows the student's grade on
    the assignment."""
    c, a, username = course.slug, assignment.slug, student.user.username
    mine, staffs = api(student), api(staff)
    assignment.refresh_from_db()
    released = assignment.grades_released_at is not None

    list_row = _one(mine.get(f"/api/v1/courses/{c}/assignments/").json(), "slug", a)
    assert list_row is not None, f"{a} is not on {username}'s assignment list"
    listed = mine.get(assignment_url(assignment, "submissions/")).json()
    counts = {}
    for s in listed:
        detail = mine.get(f"/api/v1/submissions/{s['id']}/")
        assert detail.status_code == 200, detail.content
        counts[s["id"]] = detail.json()["counts"]
    grades = mine.get(f"/api/v1/courses/{c}/grades/").json()
    my_grades = _one(grades["assignments"], "slug", a)

    book = staffs.get(f"/api/v1/courses/{c}/gradebook/", {"search": username}).json()
    row = _one(book["results"], "username", username)
    assert row is not None, f"{username} is not in the gradebook"
    section = student.section.code if student.section is not None else ""
    csv_response = staffs.get(f"/api/v1/courses/{c}/gradebook.csv", {"section": section})
    assert csv_response.status_code == 200, csv_response.content
    csv_cell, possible = _csv_cell(csv_response.content.decode(), assignment, username)
    rows = staffs.get(assignment_url(assignment, "grades/"), {"student": username}).json()
    regrades = staffs.get(f"/api/v1/courses/{c}/regrade-requests/", {"assignment": a}).json()

    grades_page = page(student).get(f"/courses/{c}/grades/").content.decode()
    list_page = page(student).get(f"/courses/{c}/assignments/").content.decode()
    row_html = re.search(rf'<tr id="assignment-{a}"[^>]*>(.*?)</tr>', list_page, re.S)
    assert row_html is not None, f"{a} is not on the assignment list page"
    return Surfaces(
        username=username,
        released=released,
        list_row=list_row,
        counts=counts,
        listed_counts={s["id"]: s["counts"] for s in listed},
        my_grades=my_grades,
        window_closes_at=my_grades["regrade_window_closes_at"] if my_grades else None,
        gradebook=row["assignments"][a],
        csv_cell=csv_cell,
        csv_points_possible=possible,
        grade_rows={g["question"]: g for g in rows},
        regrades={
            r["id"]: (r["question"], r["current_points"])
            for r in regrades
            if r["student"] == username
        },
        grades_page_row=_element(grades_page, f'id="grade-{a}"', "tr") or "",
        list_page_cell=_element(row_html.group(1), 'class="num my-grade"', "td") or "",
    )


# --- agreeing --------------------------------------------------------------------------------


def shown(value: Decimal) -> str:
    """A number as the pages write it (Django's ``floatformat:"-2"``)."""
    value = value.quantize(CENT, rounding=ROUND_HALF_UP)
    return f"{value:.0f}" if value == value.to_integral_value() else f"{value:.2f}"


def _page_says(text: str, cell: dict[str, Any], where: str) -> None:
    """A page's grade text says what the cell holds."""
    if cell["excused"]:
        assert "Excused" in text, f"{where}: {text!r} does not say Excused"
        return
    expected = f"{shown(cents(cell['points']) or D(0))} / {shown(cents(cell['max_points']))}"
    assert expected in text, f"{where}: {text!r} does not say {expected}"
    assert ("Missing" in text) == cell["missing"], f"{where}: {text!r} on Missing"


def _staff_sum(rows: dict[str, dict[str, Any]]) -> Decimal | None:
    """The assignment's points from the staff's grade rows: the sum over the questions, or
    the whole ("") row's (grading.selectors.student_points' rule)."""
    per_question = [cents(g["points"]) for q, g in rows.items() if q and g["points"] is not None]
    if per_question:
        return sum((p for p in per_question if p is not None), D(0))
    whole = rows.get("")
    return cents(whole["points"]) if whole is not None else None


def _counts_agree(s: Surfaces) -> None:
    assert s.counts == s.listed_counts, f"counts: detail {s.counts} != list {s.listed_counts}"
    if s.counts:
        assert sum(s.counts.values()) == 1, f"{s.username}: {s.counts} (exactly one counts)"


def _staff_agree(s: Surfaces, top: Decimal) -> None:
    """Staff's surfaces: the gradebook, the CSV, the grade rows and the regrade list."""
    cell, points = s.gradebook, s.points
    assert cents(cell["max_points"]) == cents(s.list_row["max_points"]), "levels' maxima differ"
    assert cents(s.csv_points_possible) == cents(cell["max_points"]), "CSV Points Possible"
    if cell["excused"]:
        assert (points, s.csv_cell) == (None, "EX"), (points, s.csv_cell)
    elif points is None or cell["missing"]:
        assert s.csv_cell == "", f"CSV {s.csv_cell!r} for an ungraded cell"
    else:
        assert s.csv_cell == f"{points:.2f}", f"CSV {s.csv_cell!r} != gradebook {points}"
    summed = _staff_sum(s.grade_rows)
    if not cell["excused"]:
        clamped = None if summed is None else min(max(summed, D(0)), top)
        expected = D(0) if clamped is None and cell["missing"] else clamped
        assert points == expected, f"gradebook {points} != grade rows {summed} (clamped)"
    review = any(g["needs_review"] for g in s.grade_rows.values())
    assert cell["needs_review"] == review, "needs_review: gradebook != grade rows"
    assert cell["missing"] == (s.released and summed is None and not cell["excused"])
    for question, current in s.regrades.values():
        if question:
            row = s.grade_rows.get(question)
            assert cents(current) == (cents(row["points"]) if row else None), (question, current)
        else:
            assert cents(current) == points, f"regrade current_points {current} != {points}"


def _student_agree(s: Surfaces) -> None:
    """The student's surfaces: released, the staff's numbers; not released, nothing."""
    cell = s.gradebook
    if not s.released:
        assert s.list_row["my_grade"] is None, f"my_grade before release: {s.list_row}"
        assert s.my_grades is None, "grades API lists an unreleased assignment"
        assert "Not released yet" in s.grades_page_row, s.grades_page_row
        assert s.list_page_cell == "Not released", s.list_page_cell
        assert not cell["missing"], "missing before the release"
        return
    assert s.list_row["my_grade"] == {
        "points": cell["points"],
        "max_points": cell["max_points"],
        "excused": cell["excused"],
    }, f"my_grade {s.list_row['my_grade']} != gradebook {cell}"
    assert s.my_grades is not None, "grades API leaves out a released assignment"
    for key in ("points", "max_points", "excused", "missing", "needs_review"):
        assert s.my_grades[key] == cell[key], f"grades API {key}: {s.my_grades} != {cell}"
    for q in s.my_grades["questions"]:
        row = s.grade_rows.get(q["slug"])
        assert cents(q["points"]) == (cents(row["points"]) if row else None), q
    for q in s.my_grades["questions"]:
        said = "—" if q["points"] is None else shown(cents(q["points"]) or D(0))
        expected = f"{q['title']}: {said} / {shown(cents(q['max_points']) or D(0))}"
        assert expected in s.grades_page_row, f"{s.grades_page_row!r} lacks {expected!r}"
    _page_says(s.grades_page_row, cell, "My grades page")
    _page_says(s.list_page_cell, cell, "assignment list page")
    assert ("Result under review" in s.grades_page_row) == cell["needs_review"]


def _within_bounds(s: Surfaces, top: Decimal) -> None:
    numbers = [s.points, cents(s.list_row["my_grade"] and s.list_row["my_grade"]["points"])]
    numbers += [cents(s.my_grades["points"])] if s.my_grades else []
    numbers += [cents(p) for q, p in s.regrades.values() if not q]
    for n in numbers:
        assert n is None or D(0) <= n <= top, f"{n} is outside 0..{top}"
    maxima = {q["slug"]: cents(q["points"]) for q in s.list_row["questions"]}
    for question, g in s.grade_rows.items():
        most = maxima.get(question, cents(s.list_row["max_points"]))
        p = cents(g["points"])
        assert p is None or (most is not None and D(0) <= p <= most), f"{question}: {p} > {most}"


def assert_agree(s: Surfaces) -> Surfaces:
    """Every surface tells the same story: staff's numbers (gradebook JSON, CSV, grade rows,
    regrade list) are one number; released, the student sees exactly it (assignment list API
    and page, grades API and page), unreleased nothing; one submission counts, the same in
    the list and in each submission; no number above ``max_points`` + extra credit."""
    top = (cents(s.list_row["max_points"]) or D(0)) + (
        cents(s.list_row["extra_credit_points"]) or D(0)
    )
    _counts_agree(s)
    _staff_agree(s, top)
    _student_agree(s)
    _within_bounds(s, top)
    return s


def check(
    klass: Klass, assignment: Assignment, *students: Enrollment, staff: Enrollment | None = None
) -> list[Surfaces]:
    """:func:`assert_agree` for each of these students (default: all three)."""
    return [
        assert_agree(surfaces(st, staff or klass.ta, klass.course, assignment))
        for st in students or klass.students
    ]
