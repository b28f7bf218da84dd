"""Grade release and regrade requests through the API: who may release, the regrade window
(with its inclusive last instant, in the course's zone), asking for a regrade of a question
or the whole assignment, the staff list with its filters and flat query count, resolving
with and without a score (group work included), and every refusal code on the way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from courses.models import Enrollment
from grading import selectors, services
from grading.models import Grade, GradeChange, RegradeRequest
from portal.errors import ApplicationError
from submissions.models import Submission
from tests.factories import (
    AssignmentFactory,
    CourseFactory,
    EnrollmentFactory,
    GroupMembershipFactory,
    ProjectGroupFactory,
    QuestionFactory,
    SectionFactory,
)

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")


def make_submission(enrollment: Any, assignment: Any, group: Any = None, number: int = 1) -> Any:
    """A submission row as submission_create would write it (no files needed here)."""
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


def release(assignment: Any, at: datetime | None = None) -> None:
    type(assignment).objects.filter(pk=assignment.pk).update(
        grades_released_at=at or timezone.now() - timedelta(minutes=1)
    )
    assignment.refresh_from_db()


def release_url(assignment: Any) -> str:
    return f"/api/v1/courses/{assignment.course.slug}/assignments/{assignment.slug}/release/"


def ask_url(submission: Any) -> str:
    return f"/api/v1/submissions/{submission.pk}/regrade-requests/"


def list_url(course: Any) -> str:
    return f"/api/v1/courses/{course.slug}/regrade-requests/"


def resolve_url(regrade_id: int) -> str:
    return f"/api/v1/regrade-requests/{regrade_id}/resolve/"


def code_of(response: Any) -> str:
    return response.json()["error"]["code"]


@pytest.fixture
def submission(student: Any, assignment: Any) -> Any:
    return make_submission(student, assignment)


@pytest.fixture
def other_student(sections: Any) -> Any:
    return EnrollmentFactory(section=sections["CS4803"], role="student")


@pytest.fixture
def outsider(db: Any) -> Any:
    """A TA of another course."""
    return EnrollmentFactory(section=SectionFactory(course=CourseFactory()), role="ta")


# --- release ---------------------------------------------------------------------------------


def test_the_instructor_releases_grades_once_and_the_window_closes_regrade_days_later(
    api_client: Any, instructor: Any, assignment: Any
) -> None:
    api_client.force_authenticate(instructor.user)
    first = api_client.post(release_url(assignment))
    assert first.status_code == 200, first.json()
    body = first.json()
    assert body["assignment"] == "hw1"
    released = datetime.fromisoformat(body["grades_released_at"])
    closes = datetime.fromisoformat(body["regrade_window_closes_at"])
    # In the course's zone, with its offset.
    assert released.utcoffset() == released.astimezone(NEW_YORK).utcoffset()
    assert closes.astimezone(NEW_YORK).replace(tzinfo=None) == released.astimezone(
        NEW_YORK
    ).replace(tzinfo=None) + timedelta(days=7)
    assignment.refresh_from_db()
    assert assignment.grades_released_at == released
    again = api_client.post(release_url(assignment))
    assert again.status_code == 200
    assert again.json() == body  # the first time stays


def test_a_ta_may_not_release_and_a_student_does_not_see_the_release(
    api_client: Any, ta: Any, student: Any, outsider: Any, assignment: Any
) -> None:
    api_client.force_authenticate(ta.user)
    r = api_client.post(release_url(assignment))
    assert r.status_code == 403 and code_of(r) == "permission_denied"
    api_client.force_authenticate(student.user)
    assert api_client.post(release_url(assignment)).status_code == 404
    api_client.force_authenticate(outsider.user)
    r = api_client.post(release_url(assignment))
    assert r.status_code == 404 and code_of(r) == "not_enrolled"
    api_client.force_authenticate(None)
    assert api_client.post(release_url(assignment)).status_code == 401
    assignment.refresh_from_db()
    assert assignment.grades_released_at is None


def test_release_of_an_unknown_assignment_is_404(
    api_client: Any, instructor: Any, course: Any
) -> None:
    api_client.force_authenticate(instructor.user)
    r = api_client.post(f"/api/v1/courses/{course.slug}/assignments/nope/release/")
    assert r.status_code == 404 and code_of(r) == "not_found"


def test_the_window_keeps_the_local_clock_time_over_a_dst_change(
    instructor: Any, assignment: Any
) -> None:
    # Released Friday 2021-03-12 17:00 EST; seven days later is after spring-forward.
    released = datetime(2021, 3, 12, 17, 0, tzinfo=NEW_YORK)
    services.grades_release(enrollment=instructor, assignment=assignment, now=released)
    closes = selectors.regrade_window_closes_at(assignment)
    assert closes is not None
    assert closes.astimezone(NEW_YORK) == datetime(2021, 3, 19, 17, 0, tzinfo=NEW_YORK)
    assert closes - released == timedelta(days=7) - timedelta(hours=1)


def test_no_window_before_release(assignment: Any) -> None:
    assert selectors.regrade_window_closes_at(assignment) is None
    assert not selectors.grades_released(assignment, timezone.now())


# --- asking for a regrade --------------------------------------------------------------------


def test_a_student_asks_for_a_regrade_after_release(
    api_client: Any, student: Any, assignment: Any, submission: Any
) -> None:
    release(assignment)
    api_client.force_authenticate(student.user)
    r = api_client.post(ask_url(submission), {"message": "  Test 3 passes locally.  "})
    assert r.status_code == 201, r.json()
    body = r.json()
    assert set(body) >= {
        "id",
        "submission",
        "assignment",
        "question",
        "message",
        "status",
        "created_at",
        "response",
        "resolved_by",
        "resolved_at",
    }
    assert body["submission"] == submission.pk and body["assignment"] == "hw1"
    assert body["question"] == "" and body["message"] == "Test 3 passes locally."
    assert body["status"] == "open" and body["response"] == ""
    assert body["resolved_by"] is None and body["resolved_at"] is None
    assert body["student"] == student.user.username
    assert datetime.fromisoformat(body["created_at"]).utcoffset() is not None
    assert RegradeRequest.objects.get().student == student.user


def test_a_regrade_of_one_question(
    api_client: Any, student: Any, assignment: Any, submission: Any
) -> None:
    QuestionFactory(assignment=assignment, slug="q1")
    QuestionFactory(assignment=assignment, slug="q2")
    release(assignment)
    api_client.force_authenticate(student.user)
    r = api_client.post(ask_url(submission), {"question": "q2", "message": "Partial credit?"})
    assert r.status_code == 201 and r.json()["question"] == "q2"
    r = api_client.post(ask_url(submission), {"question": "q9", "message": "Partial credit?"})
    assert r.status_code == 400 and code_of(r) == "invalid"
    error = r.json()["error"]
    assert "'q9'" in error["message"] and "'q1', 'q2'" in error["message"]
    assert "question" in error["fields"]
    assert RegradeRequest.objects.count() == 1


def test_a_question_on_an_assignment_without_questions_is_invalid(
    api_client: Any, student: Any, assignment: Any, submission: Any
) -> None:
    release(assignment)
    api_client.force_authenticate(student.user)
    r = api_client.post(ask_url(submission), {"question": "q1", "message": "m"})
    assert r.status_code == 400 and "'q1'" in r.json()["error"]["message"]


@pytest.mark.parametrize(
    "payload",
    [{}, {"message": ""}, {"message": "   "}, {"message": "x" * 5001}],
    ids=["missing", "empty", "blank", "too-long"],
)
def test_the_message_is_required_and_at_most_5000_characters(
    api_client: Any, student: Any, assignment: Any, submission: Any, payload: dict[str, str]
) -> None:
    release(assignment)
    api_client.force_authenticate(student.user)
    r = api_client.post(ask_url(submission), payload)
    assert r.status_code == 400 and code_of(r) == "invalid"
    assert "message" in r.json()["error"]["fields"]
    assert api_client.post(ask_url(submission), {"message": "x" * 5000}).status_code == 201


def test_the_service_refuses_a_blank_message_too(
    student: Any, assignment: Any, submission: Any
) -> None:
    release(assignment)
    with pytest.raises(ApplicationError) as exc:
        services.regrade_request_create(
            enrollment=student,
            submission=submission,
            question="",
            message=" ",
            now=timezone.now(),
        )
    assert exc.value.code == "invalid"


def test_before_release_the_request_is_refused(
    api_client: Any, student: Any, assignment: Any, submission: Any
) -> None:
    api_client.force_authenticate(student.user)
    r = api_client.post(ask_url(submission), {"message": "Please look again."})
    assert r.status_code == 409 and code_of(r) == "grades_not_released"
    assert not RegradeRequest.objects.exists()


def test_after_the_window_the_request_is_refused(
    api_client: Any, student: Any, assignment: Any, submission: Any
) -> None:
    release(assignment, timezone.now() - timedelta(days=8))
    api_client.force_authenticate(student.user)
    r = api_client.post(ask_url(submission), {"message": "Please look again."})
    assert r.status_code == 409 and code_of(r) == "regrade_window_closed"
    assert "closed" in r.json()["error"]["message"]
    release(assignment, timezone.now() - timedelta(days=6, hours=23))
    assert api_client.post(ask_url(submission), {"message": "Please."}).status_code == 201


def test_the_last_instant_of_the_window_is_inside_it(
    student: Any, assignment: Any, submission: Any
) -> None:
    released = datetime(2021, 4, 1, 12, 0, tzinfo=UTC)
    release(assignment, released)
    closes = released + timedelta(days=7)
    assert selectors.regrade_window_closes_at(assignment) == closes

    def ask(now: datetime) -> RegradeRequest:
        return services.regrade_request_create(
            enrollment=student, submission=submission, question="", message="m", now=now
        )

    assert ask(released).status == "open"  # the first instant
    assert ask(closes).status == "open"  # the last instant
    with pytest.raises(ApplicationError) as exc:
        ask(closes + timedelta(microseconds=1))
    assert exc.value.code == "regrade_window_closed"
    with pytest.raises(ApplicationError) as exc:
        ask(released - timedelta(microseconds=1))  # released in the future: not yet
    assert exc.value.code == "grades_not_released"


def test_a_course_with_a_zero_day_window(course: Any, student: Any, assignment: Any) -> None:
    course.regrade_days = 0
    course.save()
    released = datetime(2021, 4, 1, 12, 0, tzinfo=UTC)
    release(assignment, released)
    sub = make_submission(student, assignment)
    assert selectors.regrade_window_closes_at(assignment) == released
    with pytest.raises(ApplicationError) as exc:
        services.regrade_request_create(
            enrollment=student,
            submission=sub,
            question="",
            message="m",
            now=released + timedelta(seconds=1),
        )
    assert exc.value.code == "regrade_window_closed"


def test_who_may_ask(
    api_client: Any,
    student: Any,
    other_student: Any,
    ta: Any,
    instructor: Any,
    outsider: Any,
    assignment: Any,
    submission: Any,
) -> None:
    release(assignment)
    payload = {"message": "Please look again."}
    api_client.force_authenticate(other_student.user)
    r = api_client.post(ask_url(submission), payload)
    assert r.status_code == 404 and code_of(r) == "not_found"
    api_client.force_authenticate(outsider.user)
    assert api_client.post(ask_url(submission), payload).status_code == 404
    # Staff can see the submission but do not ask for regrades: 403.
    for staff in (ta, instructor):
        api_client.force_authenticate(staff.user)
        r = api_client.post(ask_url(submission), payload)
        assert r.status_code == 403 and code_of(r) == "permission_denied"
    api_client.force_authenticate(None)
    assert api_client.post(ask_url(submission), payload).status_code == 401
    assert api_client.post("/api/v1/submissions/999999/regrade-requests/", payload).status_code in (
        401,
        404,
    )
    api_client.force_authenticate(student.user)
    r = api_client.post("/api/v1/submissions/999999/regrade-requests/", payload)
    assert r.status_code == 404
    assert not RegradeRequest.objects.exists()


@pytest.fixture
def project(course: Any, homework: Any) -> Any:
    return AssignmentFactory(
        course=course, category=homework, slug="project", group=True, group_min=1, group_max=4
    )


@pytest.fixture
def team(course: Any, student: Any, sections: Any) -> tuple[Any, list[Any]]:
    group = ProjectGroupFactory(course=course)
    members = [student, EnrollmentFactory(section=sections["CS4803"], role="student")]
    for m in members:
        GroupMembershipFactory(group=group, user=m.user)
    return group, members


def test_a_group_member_asks_about_the_groups_submission(
    api_client: Any, project: Any, team: Any, other_student: Any
) -> None:
    group, (submitter, member) = team
    sub = make_submission(submitter, project, group=group)
    release(project)
    api_client.force_authenticate(member.user)
    r = api_client.post(ask_url(sub), {"message": "Our plot is there."})
    assert r.status_code == 201 and r.json()["student"] == member.user.username
    api_client.force_authenticate(other_student.user)
    assert api_client.post(ask_url(sub), {"message": "m"}).status_code == 404


# --- the staff list --------------------------------------------------------------------------


def test_staff_list_newest_first_with_filters(
    api_client: Any,
    course: Any,
    homework: Any,
    student: Any,
    other_student: Any,
    ta: Any,
    instructor: Any,
    assignment: Any,
) -> None:
    hw2 = AssignmentFactory(course=course, category=homework, slug="hw2")
    release(assignment)
    release(hw2)
    now = timezone.now()
    first = services.regrade_request_create(
        enrollment=student,
        submission=make_submission(student, assignment),
        question="",
        message="one",
        now=now,
    )
    second = services.regrade_request_create(
        enrollment=other_student,
        submission=make_submission(other_student, hw2),
        question="",
        message="two",
        now=now,
    )
    third = services.regrade_request_create(
        enrollment=other_student,
        submission=make_submission(other_student, assignment),
        question="",
        message="three",
        now=now,
    )
    services.regrade_request_resolve(
        enrollment=ta, request_id=second.pk, response="Looked again.", score=None, now=now
    )
    for staff in (ta, instructor):
        api_client.force_authenticate(staff.user)

        def ids(query: str = "") -> list[int]:
            r = api_client.get(list_url(course) + query)
            assert r.status_code == 200, r.json()
            return [row["id"] for row in r.json()]

        assert ids() == [third.pk, second.pk, first.pk]
        assert ids("?status=open") == [third.pk, first.pk]
        assert ids("?status=resolved") == [second.pk]
        assert ids("?assignment=hw1") == [third.pk, first.pk]
        assert ids("?assignment=hw2&status=open") == []
        assert ids("?status=&assignment=") == [third.pk, second.pk, first.pk]
    r = api_client.get(list_url(course) + "?status=closed")
    assert (
        r.status_code == 400
        and code_of(r) == "invalid"
        and "closed" in r.json()["error"]["message"]
    )
    r = api_client.get(list_url(course) + "?assignment=hw9")
    assert r.status_code == 400 and "'hw9'" in r.json()["error"]["message"]
    resolved = next(
        row for row in api_client.get(list_url(course)).json() if row["id"] == second.pk
    )
    assert resolved["resolved_by"] == ta.user.username and resolved["response"] == "Looked again."


def test_students_and_outsiders_do_not_see_the_list(
    api_client: Any, course: Any, student: Any, outsider: Any
) -> None:
    for who in (student, outsider):
        api_client.force_authenticate(who.user)
        assert api_client.get(list_url(course)).status_code == 404
    waitlisted = EnrollmentFactory(section=student.section, role="waitlisted")
    api_client.force_authenticate(waitlisted.user)
    assert api_client.get(list_url(course)).status_code == 404


def test_the_staff_list_query_count_is_flat(
    api_client: Any, course: Any, sections: Any, ta: Any, assignment: Any
) -> None:
    user_model = get_user_model()
    api_client.force_authenticate(ta.user)
    counts = []
    for n in (5, 100):
        have = RegradeRequest.objects.count()
        users = user_model.objects.bulk_create(
            [user_model(username=f"rq-{n}-{i}") for i in range(n - have)]
        )
        Enrollment.objects.bulk_create(
            [
                Enrollment(course=course, user=u, section=sections["CS4803"], role="student")
                for u in users
            ]
        )
        subs = Submission.objects.bulk_create(
            [
                Submission(
                    course=course,
                    assignment=assignment,
                    student=u,
                    number=1,
                    submitted_at=timezone.now(),
                    timing="on_time",
                    due_at=assignment.due_at,
                    grace_ends_at=assignment.due_at,
                )
                for u in users
            ]
        )
        RegradeRequest.objects.bulk_create(
            [
                RegradeRequest(
                    submission=s,
                    student=s.student,
                    message="m",
                    status="resolved" if i % 2 else "open",
                    resolved_by=ta.user if i % 2 else None,
                    resolved_at=timezone.now() if i % 2 else None,
                    response="r" if i % 2 else "",
                )
                for i, s in enumerate(subs)
            ]
        )
        for query in ("", "?status=open&assignment=hw1"):
            with CaptureQueriesContext(connection) as ctx:
                r = api_client.get(list_url(course) + query)
            assert r.status_code == 200
            counts.append((n, query, len(r.json()), len(ctx)))
    assert [c[2] for c in counts] == [5, 3, 100, 3 + 48]
    assert counts[0][3] == counts[2][3] and counts[1][3] == counts[3][3], counts


# --- one request -----------------------------------------------------------------------------


def test_the_requester_their_group_and_staff_see_a_request(
    api_client: Any,
    project: Any,
    team: Any,
    other_student: Any,
    ta: Any,
    outsider: Any,
) -> None:
    group, (submitter, member) = team
    sub = make_submission(submitter, project, group=group)
    release(project)
    regrade = services.regrade_request_create(
        enrollment=member, submission=sub, question="", message="m", now=timezone.now()
    )
    url = f"/api/v1/regrade-requests/{regrade.pk}/"
    for who in (member, submitter, ta):
        api_client.force_authenticate(who.user)
        r = api_client.get(url)
        assert r.status_code == 200 and r.json()["id"] == regrade.pk
    for who in (other_student, outsider):
        api_client.force_authenticate(who.user)
        assert api_client.get(url).status_code == 404
    api_client.force_authenticate(member.user)
    assert api_client.get("/api/v1/regrade-requests/999999/").status_code == 404
    api_client.force_authenticate(None)
    assert api_client.get(url).status_code == 401


# --- resolving -------------------------------------------------------------------------------


@pytest.fixture
def regrade(student: Any, assignment: Any, submission: Any) -> RegradeRequest:
    release(assignment)
    return services.regrade_request_create(
        enrollment=student,
        submission=submission,
        question="",
        message="Please look again.",
        now=timezone.now(),
    )


def test_a_ta_resolves_with_a_score_and_the_history_keeps_the_old_points(
    api_client: Any, student: Any, ta: Any, assignment: Any, regrade: RegradeRequest
) -> None:
    services.grade_set(
        by=ta, assignment=assignment, student=student.user, points=Decimal(70), source="staff"
    )
    api_client.force_authenticate(ta.user)
    r = api_client.post(resolve_url(regrade.pk), {"response": "You are right.", "score": "85.5"})
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["status"] == "resolved" and body["response"] == "You are right."
    assert body["resolved_by"] == ta.user.username and body["resolved_at"] is not None
    grade = Grade.objects.get(assignment=assignment, student=student.user, question="")
    assert grade.points == Decimal("85.50")
    changes = list(grade.changes.values_list("old_points", "new_points", "source", "changed_by"))
    assert changes == [
        (None, Decimal(70), "staff", ta.user.pk),
        (Decimal(70), Decimal("85.50"), "regrade", ta.user.pk),
    ]
    assert grade.changes.last().regrade_request_id == regrade.pk


def test_resolving_twice_is_refused(
    api_client: Any, student: Any, instructor: Any, assignment: Any, regrade: RegradeRequest
) -> None:
    api_client.force_authenticate(instructor.user)
    assert api_client.post(resolve_url(regrade.pk), {"response": "No change."}).status_code == 200
    r = api_client.post(resolve_url(regrade.pk), {"response": "Changed my mind.", "score": 90})
    assert r.status_code == 409 and code_of(r) == "already_resolved"
    regrade.refresh_from_db()
    assert regrade.response == "No change."
    assert not Grade.objects.exists()


def test_resolving_without_a_score_changes_no_grade(
    api_client: Any, ta: Any, regrade: RegradeRequest
) -> None:
    api_client.force_authenticate(ta.user)
    r = api_client.post(
        resolve_url(regrade.pk), {"response": "The rubric says so.", "score": None}, format="json"
    )
    assert r.status_code == 200 and r.json()["status"] == "resolved"
    assert not Grade.objects.exists() and not GradeChange.objects.exists()


@pytest.mark.parametrize(
    "payload, field",
    [
        ({}, "response"),
        ({"response": "  "}, "response"),
        ({"response": "x" * 5001}, "response"),
        ({"response": "ok", "score": -1}, "score"),
        ({"response": "ok", "score": "lots"}, "score"),
        ({"response": "ok", "score": "1.234"}, "score"),
    ],
)
def test_resolve_input_is_checked(
    api_client: Any, ta: Any, regrade: RegradeRequest, payload: dict[str, Any], field: str
) -> None:
    api_client.force_authenticate(ta.user)
    r = api_client.post(resolve_url(regrade.pk), payload, format="json")
    assert r.status_code == 400 and code_of(r) == "invalid"
    assert field in r.json()["error"]["fields"]
    regrade.refresh_from_db()
    assert regrade.status == "open"


def test_the_service_refuses_a_blank_response(ta: Any, regrade: RegradeRequest) -> None:
    with pytest.raises(ApplicationError) as exc:
        services.regrade_request_resolve(
            enrollment=ta, request_id=regrade.pk, response=" ", score=None, now=timezone.now()
        )
    assert exc.value.code == "invalid"


def test_who_may_resolve(
    api_client: Any,
    student: Any,
    other_student: Any,
    outsider: Any,
    regrade: RegradeRequest,
) -> None:
    # The requester sees the request but may not resolve it: 403. Others do not see it: 404.
    api_client.force_authenticate(student.user)
    r = api_client.post(resolve_url(regrade.pk), {"response": "Granted!", "score": 100})
    assert r.status_code == 403 and code_of(r) == "permission_denied"
    for who in (other_student, outsider):
        api_client.force_authenticate(who.user)
        r = api_client.post(resolve_url(regrade.pk), {"response": "Granted!", "score": 100})
        assert r.status_code == 404
    api_client.force_authenticate(None)
    assert api_client.post(resolve_url(regrade.pk), {"response": "x"}).status_code == 401
    regrade.refresh_from_db()
    assert regrade.status == "open" and not Grade.objects.exists()


def test_a_question_regrade_sets_that_questions_grade(
    api_client: Any, student: Any, ta: Any, assignment: Any, submission: Any
) -> None:
    QuestionFactory(assignment=assignment, slug="q1", points=10)
    QuestionFactory(assignment=assignment, slug="q2", points=10)
    release(assignment)
    services.grade_set(
        by=ta, assignment=assignment, student=student.user, question="q1", points=4, source="staff"
    )
    services.grade_set(
        by=ta, assignment=assignment, student=student.user, question="q2", points=6, source="staff"
    )
    regrade = services.regrade_request_create(
        enrollment=student, submission=submission, question="q1", message="m", now=timezone.now()
    )
    api_client.force_authenticate(ta.user)
    r = api_client.post(resolve_url(regrade.pk), {"response": "Fixed.", "score": 9})
    assert r.status_code == 200
    grades = {
        g.question: g.points
        for g in Grade.objects.filter(assignment=assignment, student=student.user)
    }
    assert grades == {"q1": Decimal(9), "q2": Decimal(6)}
    assert selectors.student_points(Grade.objects.filter(student=student.user)) == (
        Decimal(15),
        False,
    )


def test_a_group_regrade_sets_every_members_grade(
    api_client: Any, project: Any, team: Any, ta: Any
) -> None:
    group, (submitter, member) = team
    sub = make_submission(submitter, project, group=group)
    release(project)
    regrade = services.regrade_request_create(
        enrollment=member, submission=sub, question="", message="m", now=timezone.now()
    )
    api_client.force_authenticate(ta.user)
    assert (
        api_client.post(resolve_url(regrade.pk), {"response": "Ok.", "score": 42}).status_code
        == 200
    )
    grades = Grade.objects.filter(assignment=project).order_by("student__username")
    assert {g.student_id: g.points for g in grades} == {
        submitter.user_id: Decimal(42),
        member.user_id: Decimal(42),
    }
    assert GradeChange.objects.filter(source="regrade", regrade_request=regrade).count() == 2


def test_a_regrade_may_be_resolved_after_the_window_closed(
    api_client: Any, student: Any, ta: Any, assignment: Any, regrade: RegradeRequest
) -> None:
    release(assignment, timezone.now() - timedelta(days=30))
    api_client.force_authenticate(ta.user)
    r = api_client.post(resolve_url(regrade.pk), {"response": "Late but fair.", "score": 50})
    assert r.status_code == 200
    assert Grade.objects.get(student=student.user).points == Decimal(50)
