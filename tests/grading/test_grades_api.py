"""Grades and their history: grade_set (one change row per real change), the autograder hook
(the counting submission's score, for every group member, never over a person's grade), the
staff grade rows with their history, a student's own grades through grading.gradebook, and
the gradebook export in Canvas's layout; query counts that do not grow with the rows."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from courses.models import Assignment, Enrollment, Question
from grading import selectors, services
from grading.models import Grade, GradeChange, GradingJob, GradingResult
from portal.errors import ApplicationError
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
from tests.grading.conftest import autograde

pytestmark = pytest.mark.django_db

D = Decimal


def make_submission(enrollment: Any, assignment: Any, group: Any = None, number: int = 1) -> Any:
    now = timezone.now()
    return Submission.objects.create(
        course=assignment.course,
        assignment=assignment,
        student=enrollment.user,
        group=group,
        number=number,
        submitted_at=now,
        timing="on_time",
        due_at=assignment.due_at,
        grace_ends_at=assignment.due_at,
    )


def release(assignment: Any, at: Any = None) -> None:
    Assignment.objects.filter(pk=assignment.pk).update(
        grades_released_at=at or timezone.now() - timedelta(minutes=1)
    )
    assignment.refresh_from_db()


def code_of(response: Any) -> str:
    return response.json()["error"]["code"]


def history(grade: Grade) -> list[tuple[Any, ...]]:
    return list(
        grade.changes.order_by("changed_at", "pk").values_list("old_points", "new_points", "source")
    )


@pytest.fixture
def outsider(db: Any) -> Any:
    """A TA of another course."""
    return EnrollmentFactory(section=SectionFactory(course=CourseFactory()), role="ta")


@pytest.fixture
def waitlisted(sections: Any) -> Any:
    return EnrollmentFactory(section=sections["CS4803"], role="waitlisted")


@pytest.fixture
def sit_in(sections: Any) -> Any:
    return EnrollmentFactory(section=sections["CS4803"], role="sit_in")


# --- grade_set -------------------------------------------------------------------------------


def test_grade_set_keeps_one_change_per_real_change(ta: Any, student: Any, assignment: Any) -> None:
    def put(points: Any) -> Grade:
        return services.grade_set(
            by=ta, assignment=assignment, student=student.user, points=points, source="staff"
        )

    grade = put(D("7.5"))
    assert grade.points == D("7.50") and grade.question == ""
    assert put(D("7.50")).pk == grade.pk  # the same points: no change row
    put(D(9))
    put(None)  # cleared: ungraded again, and the history says so
    grade.refresh_from_db()
    assert grade.points is None
    assert history(grade) == [
        (None, D("7.50"), "staff"),
        (D("7.50"), D(9), "staff"),
        (D(9), None, "staff"),
    ]
    assert set(grade.changes.values_list("changed_by", flat=True)) == {ta.user_id}
    assert Grade.objects.count() == 1


def test_grade_set_rounds_to_cents(ta: Any, student: Any, assignment: Any) -> None:
    grade = services.grade_set(
        by=ta, assignment=assignment, student=student.user, points=D("1.005"), source="staff"
    )
    assert grade.points == D("1.01")
    grade = services.grade_set(
        by=None, assignment=assignment, student=student.user, points=3, source="staff"
    )
    assert grade.points == D(3)


@pytest.mark.parametrize("points", [D(-1), D("1000000"), D("NaN"), D("Infinity")])
def test_grade_set_refuses_points_out_of_range(
    ta: Any, student: Any, assignment: Any, points: Decimal
) -> None:
    with pytest.raises(ApplicationError) as exc:
        services.grade_set(
            by=ta, assignment=assignment, student=student.user, points=points, source="staff"
        )
    assert exc.value.code == "points_out_of_range" and "points" in exc.value.extra["fields"]
    assert not Grade.objects.exists()


def test_grade_set_refuses_points_above_the_questions_maximum(
    ta: Any, student: Any, assignment: Any
) -> None:
    QuestionFactory(assignment=assignment, slug="q1", points=D(10))
    with pytest.raises(ApplicationError) as exc:
        services.grade_set(
            by=ta, assignment=assignment, student=student.user, question="q1", points=D("10.01")
        )
    assert exc.value.code == "points_out_of_range" and "from 0 to 10" in exc.value.message
    with pytest.raises(ApplicationError) as exc:
        services.grade_set(
            by=ta, assignment=assignment, student=student.user, question="q1", adjustment=D(-11)
        )
    assert exc.value.code == "points_out_of_range"
    assert not Grade.objects.exists()


def test_grade_set_checks_the_question_and_the_people(
    ta: Any, student: Any, assignment: Any, outsider: Any, sit_in: Any
) -> None:
    QuestionFactory(assignment=assignment, slug="q1")
    grade = services.grade_set(
        by=ta, assignment=assignment, student=student.user, question="q1", points=1, source="staff"
    )
    assert grade.question == "q1"
    with pytest.raises(ApplicationError) as exc:
        services.grade_set(
            by=ta,
            assignment=assignment,
            student=student.user,
            question="q2",
            points=1,
            source="staff",
        )
    assert exc.value.code == "invalid" and "'q2'" in exc.value.message
    for by in (student, outsider):  # a student, and staff of another course
        with pytest.raises(ApplicationError) as exc:
            services.grade_set(
                by=by, assignment=assignment, student=student.user, points=1, source="staff"
            )
        assert exc.value.code == "permission_denied"
    with pytest.raises(ApplicationError) as exc:  # a sit-in has no grades
        services.grade_set(
            by=ta, assignment=assignment, student=sit_in.user, points=1, source="staff"
        )
    assert exc.value.code == "unknown_student"
    with pytest.raises(ValueError):
        services.grade_set(
            by=ta, assignment=assignment, student=student.user, points=1, source="whim"
        )
    assert Grade.objects.count() == 1


def test_question_grades_add_to_the_autograders_instead_of_replacing_it(
    ta: Any, student: Any, assignment: Any, make_bundle: Any, published: list[int]
) -> None:
    """The reported bug: a TA grading one question made HW1 25/110, dropping the autograder's
    points. Now the autograder feeds its questions and staff grade the others."""
    QuestionFactory(assignment=assignment, slug="q1", points=D(60), tests=["q1 *"], position=1)
    QuestionFactory(assignment=assignment, slug="ps1", points=D(50), position=2)
    make_bundle(assignment)
    sub = make_submission(student, assignment)
    enqueue(sub)
    raw = json.dumps({"tests": [{"name": "q1 shapes", "score": 50, "max_score": 60}]})
    job = services.job_claim(queue="cpu", worker="w", now=timezone.now())
    assert job is not None
    services.job_finish(job_id=job.pk, worker="w", score=50, max_score=60, data={"raw": raw})

    def points() -> tuple[Decimal | None, bool]:
        return selectors.student_points(Grade.objects.filter(student=student.user))

    assert points() == (D(50), False)
    services.grade_set(
        by=ta, assignment=assignment, student=student.user, question="ps1", points=25
    )
    assert points() == (D(75), False)
    services.grade_set(by=ta, assignment=assignment, student=student.user, excused=True)
    assert points() == (D(75), True)


# --- the autograder hook ---------------------------------------------------------------------


@pytest.fixture
def published(monkeypatch: Any) -> list[int]:
    sent: list[int] = []
    monkeypatch.setattr(services, "publish", lambda job: sent.append(job.pk))
    return sent


def results_json(score: float | None) -> str:
    if score is None:  # the tests ran, none with a score
        return json.dumps({"tests": [{"name": "t", "max_score": 10}]})
    return json.dumps({"score": score, "tests": [{"name": "t", "score": score, "max_score": 10}]})


def grade_job(submission: Any, score: float | None, worker: str = "w") -> GradingJob:
    """Runs the submission's queued job to the end with this score, as a worker would."""
    job = services.job_claim(queue="cpu", worker=worker, now=timezone.now())
    assert job is not None and job.submission_id == submission.pk
    raw = results_json(score)
    assert services.job_finish(
        job_id=job.pk, worker=worker, score=score, max_score=10, data={"raw": raw}
    )
    return job


def enqueue(submission: Any) -> GradingJob:
    job = services.job_enqueue(submission=submission, now=timezone.now())
    assert job is not None
    return job


def test_the_autograder_sets_the_grade_of_the_counting_submission(
    student: Any, instructor: Any, assignment: Any, make_bundle: Any, published: list[int]
) -> None:
    make_bundle(assignment)
    sub = make_submission(student, assignment)
    enqueue(sub)
    job = grade_job(sub, 7.5)
    grade = Grade.objects.get(assignment=assignment, student=student.user, question="")
    assert grade.points == D("7.50")
    change = grade.changes.get()
    assert (change.source, change.job_id, change.changed_by_id) == ("autograder", job.pk, None)
    # A re-run with the same score adds nothing; a different one is a new change.
    services.job_rerun(enrollment=instructor, submission=sub)
    grade_job(sub, 7.5)
    services.job_rerun(enrollment=instructor, submission=sub)
    grade_job(sub, 9)
    grade.refresh_from_db()
    assert grade.points == D(9)
    assert history(grade) == [(None, D("7.50"), "autograder"), (D("7.50"), D(9), "autograder")]


def test_a_result_for_a_submission_that_no_longer_counts_sets_no_grade(
    student: Any, assignment: Any, make_bundle: Any, published: list[int]
) -> None:
    make_bundle(assignment)
    first = make_submission(student, assignment, number=1)
    enqueue(first)
    job = services.job_claim(queue="cpu", worker="w", now=timezone.now())
    assert job is not None and job.submission_id == first.pk
    second = make_submission(student, assignment, number=2)  # handed in while #1 runs
    enqueue(second)
    assert services.job_finish(
        job_id=job.pk, worker="w", score=3, max_score=10, data={"raw": results_json(3)}
    )
    assert GradingResult.objects.get(job=job).score == 3  # the result is kept…
    assert not Grade.objects.exists()  # …but it is not the grade
    grade_job(second, 8)
    assert Grade.objects.get().points == D(8)


def test_a_chosen_submission_counts(
    student: Any, ta: Any, assignment: Any, make_bundle: Any, published: list[int]
) -> None:
    from submissions.services import submission_choose

    make_bundle(assignment)
    first = make_submission(student, assignment, number=1)
    make_submission(student, assignment, number=2)
    submission_choose(enrollment=ta, submission=first)
    services.job_rerun(enrollment=ta, submission=first)
    grade_job(first, 6)
    assert Grade.objects.get().points == D(6)


def test_a_group_submission_grades_every_member(
    course: Any, homework: Any, student: Any, sections: Any, make_bundle: Any, published: list[int]
) -> None:
    project = AssignmentFactory(
        course=course, category=homework, slug="project", group=True, group_min=1, group_max=4
    )
    group = ProjectGroupFactory(course=course)
    members = [student] + [
        EnrollmentFactory(section=sections["CS4803"], role="student") for _ in range(2)
    ]
    for m in members:
        GroupMembershipFactory(group=group, user=m.user)
    make_bundle(project)
    sub = make_submission(members[1], project, group=group)
    enqueue(sub)
    grade_job(sub, 10)
    grades = {g.student_id: g.points for g in Grade.objects.filter(assignment=project)}
    assert grades == {m.user_id: D(10) for m in members}


def test_no_score_no_grade_and_a_negative_score_is_zero(
    student: Any, instructor: Any, assignment: Any, make_bundle: Any, published: list[int]
) -> None:
    make_bundle(assignment)
    sub = make_submission(student, assignment)
    enqueue(sub)
    grade_job(sub, None)
    assert not Grade.objects.exists()
    services.job_rerun(enrollment=instructor, submission=sub)
    grade_job(sub, -2)
    assert Grade.objects.get().points == D(0)


def test_a_persons_grade_is_never_overwritten_by_the_autograder_and_history_is_kept(
    api_client: Any,
    student: Any,
    ta: Any,
    assignment: Any,
    make_bundle: Any,
    published: list[int],
) -> None:
    make_bundle(assignment)
    sub = make_submission(student, assignment)
    enqueue(sub)
    grade_job(sub, 7)
    release(assignment)
    api_client.force_authenticate(student.user)
    r = api_client.post(f"/api/v1/submissions/{sub.pk}/regrade-requests/", {"message": "T3?"})
    assert r.status_code == 201
    api_client.force_authenticate(ta.user)
    r = api_client.post(
        f"/api/v1/regrade-requests/{r.json()['id']}/resolve/", {"response": "Yes.", "score": 9}
    )
    assert r.status_code == 200
    # The autograder runs again (a fixed bundle): its result is stored, the grade stays.
    job = services.job_rerun(enrollment=ta, submission=sub)
    assert job is not None
    grade_job(sub, 5)
    assert GradingResult.objects.get(job=job).score == 5
    grade = Grade.objects.get()
    assert grade.points == D(9)
    assert history(grade) == [(None, D(7), "autograder"), (D(7), D(9), "regrade")]
    # Staff read the history through the API.
    r = api_client.get(
        f"/api/v1/courses/{assignment.course.slug}/assignments/hw1/grades/"
        f"?student={student.user.username}"
    )
    assert r.status_code == 200
    [row] = r.json()
    assert row["points"] == 9.0 and row["student"] == student.user.username
    changes = row["changes"]
    assert [(c["old_points"], c["new_points"], c["source"]) for c in changes] == [
        (None, 7.0, "autograder"),
        (7.0, 9.0, "regrade"),
    ]
    assert changes[0]["job"] is not None and changes[0]["changed_by"] is None
    assert changes[1]["changed_by"] == ta.user.username and changes[1]["regrade_request"]


def test_a_staff_grade_is_kept_too(
    student: Any, ta: Any, assignment: Any, make_bundle: Any, published: list[int]
) -> None:
    services.grade_set(
        by=ta, assignment=assignment, student=student.user, points=D(4), source="staff"
    )
    make_bundle(assignment)
    sub = make_submission(student, assignment)
    enqueue(sub)
    grade_job(sub, 10)
    grade = Grade.objects.get()
    assert grade.points == D(4) and history(grade) == [(None, D(4), "staff")]


# --- staff: an assignment's grade rows -------------------------------------------------------


def grades_url(assignment: Any, query: str = "") -> str:
    return f"/api/v1/courses/{assignment.course.slug}/assignments/{assignment.slug}/grades/{query}"


def test_staff_set_and_read_grades(
    api_client: Any, ta: Any, instructor: Any, student: Any, grad_student: Any, assignment: Any
) -> None:
    api_client.force_authenticate(ta.user)
    r = api_client.post(grades_url(assignment), {"student": student.user.username, "points": "80"})
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["points"] == 80.0 and body["question"] == ""
    assert [
        (c["old_points"], c["new_points"], c["source"], c["changed_by"]) for c in body["changes"]
    ] == [(None, 80.0, "staff", ta.user.username)]
    assert (body["override"], body["autograded"], body["adjustment"]) == (80.0, None, 0.0)
    QuestionFactory(assignment=assignment, slug="q1")  # from now on graded by question
    api_client.force_authenticate(instructor.user)
    r = api_client.post(
        grades_url(assignment),
        {"student": grad_student.user.username, "question": "q1", "points": 3},
    )
    assert r.status_code == 200, r.json()
    assert r.json()["question"] == "q1"
    rows = api_client.get(grades_url(assignment)).json()
    assert [(row["student"], row["question"]) for row in rows] == sorted(
        [(student.user.username, ""), (grad_student.user.username, "q1")]
    )
    only = api_client.get(grades_url(assignment, f"?student={grad_student.user.username}")).json()
    assert [row["student"] for row in only] == [grad_student.user.username]
    assert api_client.get(grades_url(assignment, "?student=nobody")).json() == []


@pytest.mark.parametrize(
    "payload, code",
    [
        ({"student": "nobody", "points": 1}, "unknown_student"),
        ({"points": 1}, "invalid"),
        ({"student": "STUDENT", "points": -1}, "invalid"),
        ({"student": "STUDENT", "points": "1.234"}, "invalid"),
        ({"student": "STUDENT"}, "invalid"),
        ({"student": "STUDENT", "question": "q9", "points": 1}, "invalid"),
    ],
)
def test_staff_grade_input_is_checked(
    api_client: Any, ta: Any, student: Any, assignment: Any, payload: dict[str, Any], code: str
) -> None:
    if payload.get("student") == "STUDENT":
        payload = {**payload, "student": student.user.username}
    api_client.force_authenticate(ta.user)
    r = api_client.post(grades_url(assignment), payload, format="json")
    assert r.status_code == 400 and code_of(r) == code
    assert not Grade.objects.exists()


def test_students_do_not_see_or_set_grade_rows(
    api_client: Any, student: Any, outsider: Any, assignment: Any
) -> None:
    for who in (student, outsider):
        api_client.force_authenticate(who.user)
        assert api_client.get(grades_url(assignment)).status_code == 404
        r = api_client.post(
            grades_url(assignment), {"student": student.user.username, "points": 100}
        )
        assert r.status_code == 404
    assert not Grade.objects.exists()


def test_the_grade_rows_query_count_is_flat(
    api_client: Any, course: Any, sections: Any, ta: Any, assignment: Any
) -> None:
    user_model = get_user_model()
    api_client.force_authenticate(ta.user)
    counts = []
    for n in (5, 50):
        have = Grade.objects.count()
        users = user_model.objects.bulk_create(
            [user_model(username=f"g-{n}-{i}") for i in range(n - have)]
        )
        grades = Grade.objects.bulk_create(
            [Grade(assignment=assignment, student=u, points=D(i)) for i, u in enumerate(users)]
        )
        GradeChange.objects.bulk_create(
            [
                GradeChange(
                    grade=g,
                    old_points=None,
                    new_points=g.points,
                    source="staff",
                    changed_by=ta.user,
                )
                for g in grades
            ]
            + [
                GradeChange(grade=g, old_points=g.points, new_points=g.points, source="regrade")
                for g in grades
            ]
        )
        with CaptureQueriesContext(connection) as ctx:
            r = api_client.get(grades_url(assignment))
        counts.append((len(r.json()), len(ctx)))
    assert [c[0] for c in counts] == [5, 50]
    assert counts[0][1] == counts[1][1], counts


# --- a student's own grades ------------------------------------------------------------------


def my_url(course: Any) -> str:
    return f"/api/v1/courses/{course.slug}/grades/"


@pytest.fixture
def syllabus(course: Any, homework: Any) -> dict[str, Any]:
    """The syllabus's course: homework 80%, project 20%, participation a 3% bonus, PS0 0%
    with a readiness threshold of 75%."""
    project = CategoryFactory(course=course, slug="project", weight=20)
    participation = CategoryFactory(course=course, slug="participation", weight=3, bonus=True)
    ps0_cat = CategoryFactory(course=course, slug="ps0", weight=0)
    for position, category in enumerate((homework, project, participation, ps0_cat)):
        category.position = position
        category.save()
    ps0 = AssignmentFactory(
        course=course, category=ps0_cat, slug="ps0", position=0, readiness_threshold=75
    )
    hw1 = AssignmentFactory(course=course, category=homework, slug="hw1", position=1)
    QuestionFactory(assignment=hw1, slug="q1", points=60, position=0)
    QuestionFactory(assignment=hw1, slug="q2", points=40, position=1)
    QuestionFactory(
        assignment=hw1,
        slug="ec1",
        points=10,
        position=2,
        undergraduate="extra_credit",
        graduate="required",
    )
    hw2 = AssignmentFactory(course=course, category=homework, slug="hw2", position=2)
    proj = AssignmentFactory(course=course, category=project, slug="project", position=3)
    part = AssignmentFactory(
        course=course, category=participation, slug="participation", position=4
    )
    return {"ps0": ps0, "hw1": hw1, "hw2": hw2, "project": proj, "participation": part}


def put(ta: Any, assignment: Any, who: Any, points: Any, question: str = "") -> None:
    services.grade_set(
        by=ta,
        assignment=assignment,
        student=who.user,
        question=question,
        points=D(points),
        source="staff",
    )


def test_a_student_sees_released_grades_per_category_with_the_final_percent(
    api_client: Any, course: Any, ta: Any, student: Any, syllabus: dict[str, Any]
) -> None:
    put(ta, syllabus["ps0"], student, 75)
    put(ta, syllabus["hw1"], student, 55, "q1")
    put(ta, syllabus["hw1"], student, 35, "q2")
    put(ta, syllabus["hw1"], student, 5, "ec1")  # extra credit at the undergraduate level
    put(ta, syllabus["hw2"], student, 99)  # not released: neither shown nor counted
    put(ta, syllabus["project"], student, 80)
    put(ta, syllabus["participation"], student, 100)
    for slug in ("ps0", "hw1", "project", "participation"):
        release(syllabus[slug])
    api_client.force_authenticate(student.user)
    r = api_client.get(my_url(course))
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["student"] == student.user.username and body["course"] == course.slug
    rows = {a["slug"]: a for a in body["assignments"]}
    assert list(rows) == ["ps0", "hw1", "project", "participation"]
    hw1 = rows["hw1"]
    assert (hw1["points"], hw1["max_points"], hw1["extra_credit_points"]) == (95.0, 100.0, 10.0)
    assert hw1["percent"] == 95.0 and not hw1["missing"] and not hw1["excused"]
    assert [(q["slug"], q["points"], q["max_points"]) for q in hw1["questions"]] == [
        ("q1", 55.0, 60.0),
        ("q2", 35.0, 40.0),
        ("ec1", 5.0, 10.0),
    ]
    assert all(q["overridden"] for q in hw1["questions"])  # staff set them by hand
    assert hw1["grades_released_at"] and hw1["regrade_window_closes_at"]
    cats = {c["slug"]: c for c in body["categories"]}
    assert cats["homework"]["percent"] == 95.0 and cats["homework"]["counted"]
    assert cats["project"]["percent"] == 80.0
    assert cats["participation"]["bonus"] and cats["participation"]["percent"] == 100.0
    assert cats["ps0"]["percent"] == 75.0 and not cats["ps0"]["counted"]
    # (80 * 95 + 20 * 80) / 100 = 92, plus the 3-point bonus.
    assert body["base_percent"] == 92.0 and body["bonus_percent"] == 3.0
    assert body["final_percent"] == 95.0
    assert body["readiness_flag"] is True  # 75% is at the threshold: flagged


def test_levels_decide_the_maximum(
    api_client: Any, course: Any, ta: Any, grad_student: Any, syllabus: dict[str, Any]
) -> None:
    put(ta, syllabus["hw1"], grad_student, 55, "q1")
    put(ta, syllabus["hw1"], grad_student, 35, "q2")
    put(ta, syllabus["hw1"], grad_student, 5, "ec1")  # required at the graduate level
    release(syllabus["hw1"])
    api_client.force_authenticate(grad_student.user)
    body = api_client.get(my_url(course)).json()
    [hw1] = body["assignments"]
    assert (hw1["points"], hw1["max_points"], hw1["extra_credit_points"]) == (95.0, 110.0, 0.0)
    assert hw1["percent"] == 86.36
    assert body["final_percent"] == 86.36 and body["readiness_flag"] is None


def test_nothing_released_yet(
    api_client: Any, course: Any, ta: Any, waitlisted: Any, syllabus: dict[str, Any]
) -> None:
    put(ta, syllabus["ps0"], waitlisted, 10)
    api_client.force_authenticate(waitlisted.user)  # the waitlisted do PS0: they have grades
    r = api_client.get(my_url(course))
    assert r.status_code == 200
    body = r.json()
    assert body["assignments"] == [] and body["final_percent"] is None
    assert body["readiness_flag"] is None
    # Released with no grade: a waitlisted student is not charged a missing zero, and has no
    # final percent until enrolled (the syllabus's roster rules).
    release(syllabus["hw2"])
    body = api_client.get(my_url(course)).json()
    assert not body["assignments"][0]["missing"] and body["assignments"][0]["points"] is None
    assert body["final_percent"] is None


def test_staff_sit_ins_and_outsiders_have_no_grades_here(
    api_client: Any, course: Any, ta: Any, instructor: Any, sit_in: Any, outsider: Any
) -> None:
    for who in (ta, instructor, sit_in):
        api_client.force_authenticate(who.user)
        r = api_client.get(my_url(course))
        assert r.status_code == 404 and code_of(r) == "not_found"
        assert "gradebook" in r.json()["error"]["message"]
    api_client.force_authenticate(outsider.user)
    r = api_client.get(my_url(course))
    assert r.status_code == 404 and code_of(r) == "not_enrolled"
    api_client.force_authenticate(None)
    assert api_client.get(my_url(course)).status_code == 401


def test_my_grades_query_count_is_flat(
    api_client: Any, course: Any, homework: Any, ta: Any, student: Any
) -> None:
    api_client.force_authenticate(student.user)
    counts = []
    for n in (5, 50):
        have = Assignment.objects.filter(course=course).count()
        made = [
            AssignmentFactory(
                course=course,
                category=homework,
                slug=f"a{n}-{i}",
                grades_released_at=timezone.now() - timedelta(days=1),
            )
            for i in range(n - have)
        ]
        Question.objects.bulk_create(
            [Question(assignment=a, slug="q1", points=D(10)) for a in made]
        )
        Grade.objects.bulk_create(
            [Grade(assignment=a, student=student.user, question="q1", points=D(7)) for a in made]
            + [Grade(assignment=a, student=student.user, points=D(1)) for a in made]
        )
        with CaptureQueriesContext(connection) as ctx:
            r = api_client.get(my_url(course))
        assert r.status_code == 200
        counts.append((len(r.json()["assignments"]), len(ctx), r.json()["final_percent"]))
    assert [c[0] for c in counts] == [5, 50] and counts[1][2] == 70.0
    assert counts[0][1] == counts[1][1], counts


# --- the gradebook export --------------------------------------------------------------------


def csv_url(course: Any) -> str:
    return f"/api/v1/courses/{course.slug}/gradebook.csv"


def read_csv(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8"))))


def test_the_gradebook_in_canvas_layout(
    api_client: Any,
    course: Any,
    ta: Any,
    instructor: Any,
    student: Any,
    grad_student: Any,
    waitlisted: Any,
    sit_in: Any,
    syllabus: dict[str, Any],
) -> None:
    for who, last, first in (
        (student, "Zhou", "Ann"),
        (grad_student, "=Adams", "Bea"),
        (waitlisted, "Moreno", "Luis"),
    ):
        who.user.last_name, who.user.first_name = last, first
        who.user.save()
    put(ta, syllabus["ps0"], student, 80)
    put(ta, syllabus["hw1"], student, 55, "q1")
    put(ta, syllabus["hw1"], student, D("35.5"), "q2")
    put(ta, syllabus["hw2"], student, 99)  # not released: exported, not in the final percent
    services.grade_set(by=ta, assignment=syllabus["hw1"], student=grad_student.user, excused=True)
    put(ta, syllabus["ps0"], waitlisted, 50)
    release(syllabus["ps0"])
    release(syllabus["hw1"])
    for who in (ta, instructor):
        api_client.force_authenticate(who.user)
        r = api_client.get(csv_url(course))
        assert r.status_code == 200
        assert r["Content-Type"] == "text/csv; charset=utf-8"
        assert r["Content-Disposition"] == f'attachment; filename="{course.slug}-gradebook.csv"'
    header, possible, *rows = read_csv(r)
    assert header == [
        "Student",
        "ID",
        "SIS User ID",
        "SIS Login ID",
        "Section",
        "PS0",
        "HW1",
        "HW2",
        "PROJECT",
        "PARTICIPATION",
        "Current Score",
    ]
    # HW1: 100 for undergraduates, 110 for graduates (ec1 is required there): the larger.
    assert possible == [
        "    Points Possible",
        "",
        "",
        "",
        "",
        "100.00",
        "110.00",
        "100.00",
        "100.00",
        "100.00",
        "(read only)",
    ]
    by_name = {row[0]: row for row in rows}
    # Students and waitlisted students, by last name; no sit-ins, no staff.
    assert list(by_name) == ["'=Adams, Bea", "Moreno, Luis", "Zhou, Ann"]
    zhou = by_name["Zhou, Ann"]
    assert zhou[1:5] == [
        "",  # no Canvas user id: Canvas matches by the SIS columns
        student.user.username,
        student.user.username,
        "CS4803",
    ]
    assert zhou[5:10] == ["80.00", "90.50", "99.00", "", ""]
    assert zhou[10] == "90.50"  # homework is the only counted category so far
    adams = by_name["'=Adams, Bea"]
    assert adams[4] == "CS7643" and adams[5:10] == ["", "EX", "", "", ""]
    assert adams[10] == ""  # nothing counted yet: no final percent
    moreno = by_name["Moreno, Luis"]
    assert moreno[5:10] == ["50.00", "", "", "", ""]
    assert moreno[10] == ""  # waitlisted: no missing zero for HW1, no final percent yet


def test_the_gradebook_ignores_accept_and_refuses_in_json(
    api_client: Any, course: Any, ta: Any, student: Any, outsider: Any
) -> None:
    api_client.force_authenticate(ta.user)
    r = api_client.get(csv_url(course), HTTP_ACCEPT="text/csv")
    assert r.status_code == 200 and read_csv(r)[0][0] == "Student"
    for who, code in ((student, "not_found"), (outsider, "not_enrolled")):
        api_client.force_authenticate(who.user)
        r = api_client.get(csv_url(course), HTTP_ACCEPT="text/csv")
        assert r.status_code == 404 and code_of(r) == code
    api_client.force_authenticate(None)
    assert api_client.get(csv_url(course)).status_code == 401


def test_an_empty_course_exports_its_header(api_client: Any, course: Any, ta: Any) -> None:
    api_client.force_authenticate(ta.user)
    header, possible = read_csv(api_client.get(csv_url(course)))
    assert header[-1] == "Current Score" and possible[0] == "    Points Possible"


def test_the_gradebook_query_count_is_flat(
    api_client: Any, course: Any, sections: Any, ta: Any, syllabus: dict[str, Any]
) -> None:
    user_model = get_user_model()
    release(syllabus["hw1"])
    api_client.force_authenticate(ta.user)
    counts = []
    for n in (5, 200):
        have = Enrollment.objects.filter(course=course, role="student").count()
        users = user_model.objects.bulk_create(
            [user_model(username=f"gb-{n}-{i}", last_name=f"L{i:03d}") for i in range(n - have)]
        )
        Enrollment.objects.bulk_create(
            [
                Enrollment(
                    course=course,
                    user=u,
                    section=sections["CS4803" if i % 2 else "CS7643"],
                    role="student",
                )
                for i, u in enumerate(users)
            ]
        )
        Grade.objects.bulk_create(
            [
                Grade(assignment=a, student=u, question=q, points=D(5))
                for u in users
                for a, q in (
                    (syllabus["hw1"], "q1"),
                    (syllabus["hw1"], "q2"),
                    (syllabus["hw2"], ""),
                )
            ]
        )
        with CaptureQueriesContext(connection) as ctx:
            r = api_client.get(csv_url(course))
        assert r.status_code == 200
        counts.append((len(read_csv(r)) - 2, len(ctx)))
    assert [c[0] for c in counts] == [5, 200]
    assert counts[0][1] == counts[1][1], counts


def test_a_config_change_of_the_questions_rescores_the_grades(
    student: Any, assignment: Any, media: Any, published: list[int]
) -> None:
    from courses.hooks import assignments_changed

    q1 = QuestionFactory(assignment=assignment, slug="q1", points=D(10), tests=["q1*"])
    old = QuestionFactory(assignment=assignment, slug="old", points=D(5))
    autograde(assignment, student, {"q1": "8"})
    services.grade_set(
        by=None, assignment=assignment, student=student.user, question="old", points=3
    )
    q1.points = D(6)  # the config now gives q1 6 points, and drops "old"
    q1.save()
    old.delete()
    assignments_changed.send(sender=Assignment, assignment_ids=[assignment.pk])
    rows = {g.question: g for g in Grade.objects.filter(student=student.user)}
    assert set(rows) == {"q1"}
    assert rows["q1"].points == D(6) and rows["q1"].autograded == D(8)
    assert (
        rows["q1"].changes.last().detail == "the course's configuration of this assignment changed"
    )


def test_a_question_not_offered_at_the_students_level_counts_nothing(
    api_client: Any, course: Any, student: Any, grad_student: Any, assignment: Any, media: Any
) -> None:
    QuestionFactory(assignment=assignment, slug="q1", points=D(10), position=1)
    QuestionFactory(
        assignment=assignment, slug="q2", points=D(5), position=2, undergraduate="not_offered"
    )
    for who in (student, grad_student):
        autograde(assignment, who, {"q1": "4", "q2": "5"})
    release(assignment)
    seen = {}
    for who in (student, grad_student):
        api_client.force_authenticate(who.user)
        [hw1] = api_client.get(my_url(course)).json()["assignments"]
        seen[who.section.level] = (
            hw1["points"],
            hw1["max_points"],
            [q["slug"] for q in hw1["questions"]],
        )
    assert seen == {"undergraduate": (4.0, 10.0, ["q1"]), "graduate": (9.0, 15.0, ["q1", "q2"])}
