"""Splitting the grading work: the instructor names graders and their shares (sections,
questions); the grading queue shows what is graded and what is left; ``next`` hands a grader
the next ungraded submission of their share with a soft lock, never the same one to two
graders at once; a new regrade request goes to the grader whose share covers it; query
counts that do not grow with the submissions."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from courses.models import Enrollment
from grading import services
from grading.models import Grade, GraderAssignment, GradingLock, RegradeRequest
from grading.selectors.regrades import regrade_assignee
from submissions.models import Submission
from tests.factories import AssignmentFactory, EnrollmentFactory, QuestionFactory

pytestmark = pytest.mark.django_db

D = Decimal


def submit(enrollment: Any, assignment: Any, number: int = 1) -> Submission:
    now = timezone.now()
    return Submission.objects.create(
        course=assignment.course,
        assignment=assignment,
        student=enrollment.user,
        number=number,
        submitted_at=now,
        timing="on_time",
        due_at=assignment.due_at,
        grace_ends_at=assignment.due_at,
    )


def grade(enrollment: Any, assignment: Any, question: str, points: str | None) -> None:
    Grade.objects.update_or_create(
        assignment=assignment,
        student=enrollment.user,
        question=question,
        defaults={"points": None if points is None else D(points)},
    )


def base(assignment: Any) -> str:
    return f"/api/v1/courses/{assignment.course.slug}/assignments/{assignment.slug}"


def code_of(response: Any) -> str:
    return response.json()["error"]["code"]


@pytest.fixture
def hw(course: Any, homework: Any) -> Any:
    """An assignment with two questions, q1 and written."""
    assignment = AssignmentFactory(course=course, category=homework, slug="hw2", title="HW2")
    QuestionFactory(assignment=assignment, slug="q1", title="Shapes", points=10, position=0)
    QuestionFactory(assignment=assignment, slug="written", points=5, position=1)
    return assignment


@pytest.fixture
def ta2(sections: Any) -> Any:
    return EnrollmentFactory(section=sections["CS7643"], role="ta")


@pytest.fixture
def two(student: Any, grad_student: Any, hw: Any) -> dict[str, Submission]:
    """student (CS4803) and grad_student (CS7643) each submitted hw2."""
    return {"ug": submit(student, hw), "grad": submit(grad_student, hw)}


def assign(api_client: Any, who: Any, hw: Any, body: dict[str, Any]) -> Any:
    api_client.force_authenticate(who.user)
    return api_client.post(f"{base(hw)}/graders/", body, format="json")


def take(api_client: Any, who: Any, hw: Any, body: dict[str, Any] | None = None) -> Any:
    api_client.force_authenticate(who.user)
    return api_client.post(f"{base(hw)}/grading-queue/next/", body or {}, format="json")


def queue(api_client: Any, who: Any, hw: Any, query: str = "") -> Any:
    api_client.force_authenticate(who.user)
    return api_client.get(f"{base(hw)}/grading-queue/{query}")


# --- graders ---------------------------------------------------------------------------------


def test_the_instructor_names_a_grader_and_staff_list_them(
    api_client: Any, instructor: Any, ta: Any, hw: Any
) -> None:
    body = {"grader": ta.user.username, "sections": ["CS7643"], "questions": ["written"]}
    r = assign(api_client, instructor, hw, body)
    assert r.status_code == 201, r.content
    assert r.json() == body
    api_client.force_authenticate(ta.user)
    assert api_client.get(f"{base(hw)}/graders/").json() == [body]


def test_naming_a_grader_again_replaces_their_share(
    api_client: Any, instructor: Any, ta: Any, hw: Any
) -> None:
    assign(api_client, instructor, hw, {"grader": ta.user.username, "sections": ["CS4803"]})
    r = assign(api_client, instructor, hw, {"grader": ta.user.username, "questions": ["q1"]})
    assert r.status_code == 200
    assert r.json() == {"grader": ta.user.username, "sections": [], "questions": ["q1"]}
    assert GraderAssignment.objects.count() == 1


def test_a_ta_may_not_name_graders(api_client: Any, ta: Any, hw: Any) -> None:
    r = assign(api_client, ta, hw, {"grader": ta.user.username})
    assert r.status_code == 403 and code_of(r) == "permission_denied"
    assert not GraderAssignment.objects.exists()


def test_a_grader_who_is_not_staff_is_unknown(
    api_client: Any, instructor: Any, student: Any, hw: Any
) -> None:
    for name in (student.user.username, "nobody"):
        r = assign(api_client, instructor, hw, {"grader": name})
        assert r.status_code == 400 and code_of(r) == "unknown_grader"
    assert not GraderAssignment.objects.exists()


def test_an_unknown_section_or_question_is_invalid(
    api_client: Any, instructor: Any, ta: Any, hw: Any
) -> None:
    r = assign(api_client, instructor, hw, {"grader": ta.user.username, "sections": ["CS9999"]})
    assert r.status_code == 400 and code_of(r) == "invalid"
    r = assign(api_client, instructor, hw, {"grader": ta.user.username, "questions": ["q9"]})
    assert r.status_code == 400 and code_of(r) == "invalid"
    assert not GraderAssignment.objects.exists()


def test_students_see_neither_graders_nor_the_queue(api_client: Any, student: Any, hw: Any) -> None:
    api_client.force_authenticate(student.user)
    assert api_client.get(f"{base(hw)}/graders/").status_code == 404
    assert api_client.get(f"{base(hw)}/grading-queue/").status_code == 404
    assert take(api_client, student, hw).status_code == 404
    assert assign(api_client, student, hw, {"grader": "x"}).status_code == 404


# --- the queue -------------------------------------------------------------------------------


def test_the_queue_shows_counting_submissions_and_progress(
    api_client: Any, ta: Any, student: Any, grad_student: Any, hw: Any, two: Any
) -> None:
    later = submit(student, hw, number=2)
    grade(student, hw, "q1", "7")
    grade(student, hw, "written", None)
    grade(grad_student, hw, "q1", "3")
    grade(grad_student, hw, "written", "5")
    r = queue(api_client, ta, hw)
    assert r.status_code == 200
    body = r.json()
    assert (body["graded"], body["total"]) == (1, 2)
    assert body["questions"] == [
        {"slug": "q1", "title": "Shapes", "graded": 2, "total": 2},
        {"slug": "written", "title": "written", "graded": 1, "total": 2},
    ]
    rows = {row["student"]: row for row in body["results"]}
    assert rows[student.user.username] == {
        "submission": later.pk,
        "student": student.user.username,
        "section": "CS4803",
        "questions": {
            "q1": {"graded": True, "points": 7.0},
            "written": {"graded": False, "points": None},
        },
        "locked_by": None,
    }
    assert rows[grad_student.user.username]["submission"] == two["grad"].pk


def test_mine_is_the_callers_share(
    api_client: Any, instructor: Any, ta: Any, student: Any, hw: Any, two: Any
) -> None:
    assign(
        api_client,
        instructor,
        hw,
        {"grader": ta.user.username, "sections": ["CS4803"], "questions": ["written"]},
    )
    body = queue(api_client, ta, hw, "?mine=1").json()
    assert [r["student"] for r in body["results"]] == [student.user.username]
    assert [q["slug"] for q in body["questions"]] == ["written"]
    assert list(body["results"][0]["questions"]) == ["written"]
    assert queue(api_client, ta, hw).json()["total"] == 2


def test_mine_without_a_share_is_everything(api_client: Any, ta: Any, hw: Any, two: Any) -> None:
    body = queue(api_client, ta, hw, "?mine=1").json()
    assert body["total"] == 2 and [q["slug"] for q in body["questions"]] == ["q1", "written"]


def test_the_queue_of_one_question(
    api_client: Any, ta: Any, student: Any, hw: Any, two: Any
) -> None:
    grade(student, hw, "q1", "1")
    body = queue(api_client, ta, hw, "?question=q1").json()
    assert body["questions"] == [{"slug": "q1", "title": "Shapes", "graded": 1, "total": 2}]
    assert body["graded"] == 1
    r = queue(api_client, ta, hw, "?question=q9")
    assert r.status_code == 400 and code_of(r) == "invalid"


def test_the_queue_shows_who_holds_a_submission(
    api_client: Any, ta: Any, student: Any, grad_student: Any, hw: Any, two: Any
) -> None:
    handed = take(api_client, ta, hw).json()
    rows = {r["student"]: r for r in queue(api_client, ta, hw).json()["results"]}
    assert rows[handed["student"]]["locked_by"] == ta.user.username
    other = ({student.user.username, grad_student.user.username} - {handed["student"]}).pop()
    assert rows[other]["locked_by"] is None


def test_the_implicit_question_is_queued(
    api_client: Any, ta: Any, student: Any, assignment: Any
) -> None:
    submit(student, assignment)
    body = queue(api_client, ta, assignment).json()
    assert body["questions"] == [{"slug": "", "title": "HW1", "graded": 0, "total": 1}]
    assert take(api_client, ta, assignment).json()["question"] == ""
    grade(student, assignment, "", "90")
    GradingLock.objects.all().delete()
    assert take(api_client, ta, assignment).status_code == 204


# --- next ------------------------------------------------------------------------------------


def test_next_hands_an_ungraded_submission_with_a_lock(
    api_client: Any, ta: Any, student: Any, hw: Any, two: Any, settings: Any
) -> None:
    settings.GRADING_LOCK_MINUTES = 7
    grade(student, hw, "q1", "1")
    grade(student, hw, "written", "1")
    before = timezone.now()
    r = take(api_client, ta, hw)
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["submission"] == two["grad"].pk and body["question"] == ""
    assert body["locked_by"] == ta.user.username
    lock = GradingLock.objects.get()
    assert (lock.grader, lock.student, lock.question) == (ta.user, two["grad"].student, "")
    assert before + timedelta(minutes=7) <= lock.expires_at <= timezone.now() + timedelta(minutes=7)


def test_two_graders_get_different_submissions(
    api_client: Any, ta: Any, ta2: Any, hw: Any, two: Any
) -> None:
    first = take(api_client, ta, hw).json()
    second = take(api_client, ta2, hw).json()
    assert first["submission"] != second["submission"]
    assert take(api_client, ta2, hw).json()["submission"] == second["submission"]


def test_next_lets_go_of_the_callers_earlier_lock(
    api_client: Any, ta: Any, hw: Any, two: Any
) -> None:
    first = take(api_client, ta, hw).json()
    Grade.objects.create(
        assignment=hw,
        student=Submission.objects.get(pk=first["submission"]).student,
        question="q1",
        points=1,
    )
    Grade.objects.create(
        assignment=hw,
        student=Submission.objects.get(pk=first["submission"]).student,
        question="written",
        points=1,
    )
    second = take(api_client, ta, hw).json()
    assert second["submission"] != first["submission"]
    assert (
        GradingLock.objects.get().student_id
        == Submission.objects.get(pk=second["submission"]).student_id
    )


def test_an_expired_lock_holds_nothing(
    api_client: Any, ta: Any, ta2: Any, student: Any, hw: Any
) -> None:
    only = submit(student, hw)
    take(api_client, ta, hw)
    assert take(api_client, ta2, hw).status_code == 204
    GradingLock.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    r = take(api_client, ta2, hw)
    assert r.status_code == 200 and r.json()["submission"] == only.pk
    assert GradingLock.objects.get().grader == ta2.user


def test_next_of_one_question_skips_those_graded_on_it(
    api_client: Any, ta: Any, student: Any, grad_student: Any, hw: Any, two: Any
) -> None:
    grade(student, hw, "q1", "4")
    grade(grad_student, hw, "written", "2")
    r = take(api_client, ta, hw, {"question": "q1"})
    assert r.json()["submission"] == two["grad"].pk and r.json()["question"] == "q1"
    grade(grad_student, hw, "q1", "4")
    assert take(api_client, ta, hw, {"question": "q1"}).status_code == 204


def test_a_lock_on_one_question_leaves_the_others_free(
    api_client: Any, ta: Any, ta2: Any, student: Any, hw: Any
) -> None:
    submit(student, hw)
    assert take(api_client, ta, hw, {"question": "q1"}).status_code == 200
    assert take(api_client, ta2, hw, {"question": "q1"}).status_code == 204
    assert take(api_client, ta2, hw).status_code == 204  # the whole is held in part
    assert take(api_client, ta2, hw, {"question": "written"}).status_code == 200


def test_next_keeps_to_the_callers_share(
    api_client: Any, instructor: Any, ta: Any, grad_student: Any, hw: Any, two: Any
) -> None:
    assign(api_client, instructor, hw, {"grader": ta.user.username, "sections": ["CS7643"]})
    assert take(api_client, ta, hw).json()["submission"] == two["grad"].pk
    grade(grad_student, hw, "q1", "1")
    grade(grad_student, hw, "written", "1")
    assert take(api_client, ta, hw).status_code == 204


def test_next_of_an_unknown_question_is_invalid(
    api_client: Any, ta: Any, hw: Any, two: Any
) -> None:
    r = take(api_client, ta, hw, {"question": "q9"})
    assert r.status_code == 400 and code_of(r) == "invalid"
    assert not GradingLock.objects.exists()


def test_nothing_to_grade_is_204(api_client: Any, ta: Any, hw: Any) -> None:
    r = take(api_client, ta, hw)
    assert r.status_code == 204 and not r.content


@pytest.mark.django_db(transaction=True)
def test_graders_asking_at_once_never_get_the_same_submission(
    course: Any, sections: Any, hw: Any
) -> None:
    """Against the real PostgreSQL: four graders, each on their own connection, released
    together by a barrier, take four different submissions, round after round."""
    students = [EnrollmentFactory(section=sections["CS4803"]) for _ in range(6)]
    for s in students:
        submit(s, hw)
    tas = [EnrollmentFactory(section=sections["CS4803"], role="ta") for _ in range(4)]
    for _ in range(5):
        handed = _at_once(tas, hw)
        assert len(handed) == 4 and len(set(handed)) == 4, handed
        assert GradingLock.objects.count() == 4


def _at_once(tas: list[Any], hw: Any) -> list[int]:
    """Each TA asks for the next submission in their own thread, all at once; what they got."""
    barrier = threading.Barrier(len(tas))
    handed: list[int] = []
    errors: list[BaseException] = []

    def grader(enrollment: Any) -> None:
        try:
            by = Enrollment.objects.select_related("user", "course").get(pk=enrollment.pk)
            barrier.wait(timeout=10)
            got = services.grading_next(by=by, assignment=hw, question=None, now=timezone.now())
            assert got is not None
            handed.append(got.row.submission)
        except BaseException as e:
            errors.append(e)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=grader, args=(t,)) for t in tas]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    return handed


# --- regrade requests go to the grader whose share covers them -------------------------------


def regrade(enrollment: Any, submission: Submission, question: str) -> RegradeRequest:
    return RegradeRequest.objects.create(
        submission=submission, student=enrollment.user, question=question, message="?"
    )


def test_a_regrade_goes_to_the_grader_of_its_question_and_section(
    ta: Any, ta2: Any, student: Any, hw: Any, two: Any
) -> None:
    GraderAssignment.objects.create(assignment=hw, grader=ta.user, questions=["written"])
    GraderAssignment.objects.create(
        assignment=hw, grader=ta2.user, sections=["CS4803"], questions=["q1"]
    )
    assert regrade_assignee(regrade(student, two["ug"], "q1")) == ta2.user
    assert regrade_assignee(regrade(student, two["ug"], "written")) == ta.user


def test_a_regrade_goes_to_the_first_grader_that_covers_it(
    ta: Any, ta2: Any, student: Any, hw: Any, two: Any
) -> None:
    GraderAssignment.objects.create(assignment=hw, grader=ta2.user)
    GraderAssignment.objects.create(assignment=hw, grader=ta.user)
    assert regrade_assignee(regrade(student, two["ug"], "q1")) == ta2.user
    assert regrade_assignee(regrade(student, two["ug"], "")) == ta2.user


def test_a_regrade_no_share_covers_goes_to_nobody(
    ta: Any, grad_student: Any, student: Any, hw: Any, two: Any
) -> None:
    GraderAssignment.objects.create(
        assignment=hw, grader=ta.user, sections=["CS4803"], questions=["q1"]
    )
    assert regrade_assignee(regrade(grad_student, two["grad"], "q1")) is None
    assert regrade_assignee(regrade(student, two["ug"], "written")) is None
    assert regrade_assignee(regrade(student, two["ug"], "")) is None


def test_a_new_regrade_request_is_assigned_to_its_grader(
    api_client: Any, ta: Any, student: Any, hw: Any, two: Any
) -> None:
    GraderAssignment.objects.create(assignment=hw, grader=ta.user, questions=["q1"])
    hw.grades_released_at = timezone.now() - timedelta(minutes=1)
    hw.save(update_fields=["grades_released_at"])
    api_client.force_authenticate(student.user)
    r = api_client.post(
        f"/api/v1/submissions/{two['ug'].pk}/regrade-requests/",
        {"question": "q1", "message": "Please look again."},
        format="json",
    )
    assert r.status_code == 201, r.content
    assert RegradeRequest.objects.get().assigned_to == ta.user


# --- query counts ----------------------------------------------------------------------------


def populate(hw: Any, section: Any, n: int) -> None:
    """``n`` students of ``section`` in all, each with a submission of hw and q1 graded."""
    User = get_user_model()
    have = Submission.objects.filter(assignment=hw).count()
    users = User.objects.bulk_create(
        [User(username=f"s{hw.pk}-{i:04d}", password="!") for i in range(have, n)]
    )
    Enrollment.objects.bulk_create(
        [Enrollment(course=hw.course, section=section, user=u, role="student") for u in users]
    )
    now = timezone.now()
    Submission.objects.bulk_create(
        [
            Submission(
                course=hw.course,
                assignment=hw,
                student=u,
                number=1,
                submitted_at=now,
                timing="on_time",
                due_at=hw.due_at,
                grace_ends_at=hw.due_at,
            )
            for u in users
        ]
    )
    Grade.objects.bulk_create(
        [Grade(assignment=hw, student=u, question="q1", points=D(1)) for u in users]
    )


def test_the_queue_query_count_is_flat(
    api_client: Any, instructor: Any, ta: Any, sections: Any, hw: Any
) -> None:
    assign(api_client, instructor, hw, {"grader": ta.user.username, "sections": ["CS4803"]})
    counts = []
    for n in (10, 200):
        populate(hw, sections["CS4803"], n)
        take(api_client, ta, hw)
        api_client.force_authenticate(ta.user)
        with CaptureQueriesContext(connection) as ctx:
            body = api_client.get(f"{base(hw)}/grading-queue/?mine=1").json()
        counts.append((body["total"], len(ctx)))
    assert [c[0] for c in counts] == [10, 200]
    assert counts[0][1] == counts[1][1], counts


def test_the_next_query_count_is_flat(
    api_client: Any, instructor: Any, ta: Any, sections: Any, hw: Any
) -> None:
    assign(api_client, instructor, hw, {"grader": ta.user.username, "questions": ["written"]})
    counts = []
    for n in (10, 200):
        populate(hw, sections["CS4803"], n)
        api_client.force_authenticate(ta.user)
        with CaptureQueriesContext(connection) as ctx:
            r = api_client.post(f"{base(hw)}/grading-queue/next/", {}, format="json")
        assert r.status_code == 200
        counts.append(len(ctx))
    assert counts[0] == counts[1], counts
