"""Regrade threads and assignment: messages by the requester, a group member and staff while a
request is open (refused after, empty or too long, hidden from other students), the thread in
the request's detail and the counts in the list (with flat query counts), staff assigning a
request to a TA or instructor, and the same on the receipt and the staff regrade queue."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from courses.models import Enrollment
from grading import services
from grading.errors import InvalidField
from grading.models import RegradeMessage, RegradeRequest
from grading.selectors.regrades import regrade_assignee
from tests.factories import (
    AssignmentFactory,
    CourseFactory,
    EnrollmentFactory,
    GroupMembershipFactory,
    ProjectGroupFactory,
    SectionFactory,
)
from tests.grading.test_grade_pages import messages_of, text_of
from tests.grading.test_regrades_api import code_of, make_submission, release

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")


def ask(enrollment: Any, submission: Any, message: str = "Please look again.") -> RegradeRequest:
    return services.regrade_request_create(
        enrollment=enrollment,
        submission=submission,
        question="",
        message=message,
        now=timezone.now(),
    )


def say(enrollment: Any, regrade: RegradeRequest, message: str) -> RegradeMessage:
    return services.regrade_message_create(
        enrollment=enrollment, request_id=regrade.pk, message=message, now=timezone.now()
    )


def messages_url(regrade: RegradeRequest) -> str:
    return f"/api/v1/regrade-requests/{regrade.pk}/messages/"


def assign_url(regrade: RegradeRequest) -> str:
    return f"/api/v1/regrade-requests/{regrade.pk}/assign/"


def detail_url(regrade: RegradeRequest) -> str:
    return f"/api/v1/regrade-requests/{regrade.pk}/"


@pytest.fixture
def regrade(student: Any, assignment: Any) -> RegradeRequest:
    release(assignment)
    return ask(student, make_submission(student, assignment))


@pytest.fixture
def other_student(sections: Any) -> Any:
    return EnrollmentFactory(section=sections["CS4803"], role="student")


@pytest.fixture
def team(course: Any, homework: Any, student: Any, sections: Any) -> tuple[Any, Any, Any]:
    """A group project's submission by ``student`` and a second member of the group."""
    project = AssignmentFactory(
        course=course, category=homework, slug="project", group=True, group_min=1, group_max=4
    )
    group = ProjectGroupFactory(course=course)
    member = EnrollmentFactory(section=sections["CS4803"], role="student")
    for m in (student, member):
        GroupMembershipFactory(group=group, user=m.user)
    release(project)
    return project, make_submission(student, project, group=group), member


# --- messages through the API ----------------------------------------------------------------


def test_the_requester_posts_a_message_and_gets_the_thread(
    api_client: Any, student: Any, regrade: RegradeRequest
) -> None:
    api_client.force_authenticate(student.user)
    r = api_client.post(messages_url(regrade), {"message": "  Test 3 passes locally.  "})
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["id"] == regrade.pk and body["message_count"] == 1
    [message] = body["messages"]
    assert message["author"] == student.user.username
    assert message["message"] == "Test 3 passes locally." and message["staff"] is False
    stored = RegradeMessage.objects.get()
    assert (stored.request_id, stored.author_id) == (regrade.pk, student.user_id)


def test_a_group_member_posts_in_the_groups_request(
    api_client: Any, student: Any, team: tuple[Any, Any, Any]
) -> None:
    _, submission, member = team
    regrade = ask(student, submission)
    api_client.force_authenticate(member.user)
    r = api_client.post(messages_url(regrade), {"message": "I wrote part (b)."})
    assert r.status_code == 201, r.json()
    assert r.json()["messages"][0]["author"] == member.user.username


@pytest.mark.parametrize("role", ["ta", "instructor"])
def test_staff_post_a_message_marked_staff(
    api_client: Any, role: str, ta: Any, instructor: Any, regrade: RegradeRequest
) -> None:
    who = {"ta": ta, "instructor": instructor}[role]
    api_client.force_authenticate(who.user)
    r = api_client.post(messages_url(regrade), {"message": "Which test?"})
    assert r.status_code == 201, r.json()
    assert r.json()["messages"] == [
        {
            "author": who.user.username,
            "message": "Which test?",
            "created_at": r.json()["messages"][0]["created_at"],
            "staff": True,
        }
    ]


def test_another_student_and_an_outsider_get_404(
    api_client: Any, other_student: Any, regrade: RegradeRequest
) -> None:
    outsider = EnrollmentFactory(section=SectionFactory(course=CourseFactory()), role="ta")
    for who in (other_student, outsider):
        api_client.force_authenticate(who.user)
        r = api_client.post(messages_url(regrade), {"message": "me too"})
        assert r.status_code == 404 and code_of(r) == "not_found"
    api_client.force_authenticate(None)
    assert api_client.post(messages_url(regrade), {"message": "x"}).status_code == 401
    assert not RegradeMessage.objects.exists()


def test_after_the_resolution_a_message_is_refused_409(
    api_client: Any, student: Any, ta: Any, regrade: RegradeRequest
) -> None:
    services.regrade_request_resolve(
        enrollment=ta, request_id=regrade.pk, response="Done.", score=None, now=timezone.now()
    )
    for who in (student, ta):
        api_client.force_authenticate(who.user)
        r = api_client.post(messages_url(regrade), {"message": "One more thing"})
        assert r.status_code == 409 and code_of(r) == "already_resolved"
    assert not RegradeMessage.objects.exists()


@pytest.mark.parametrize("message", ["", "   ", None])
def test_an_empty_message_is_400_invalid(
    api_client: Any, student: Any, regrade: RegradeRequest, message: Any
) -> None:
    api_client.force_authenticate(student.user)
    data = {} if message is None else {"message": message}
    r = api_client.post(messages_url(regrade), data, format="json")
    assert r.status_code == 400 and code_of(r) == "invalid"
    assert not RegradeMessage.objects.exists()


def test_a_message_over_5000_characters_is_400_invalid(
    api_client: Any, student: Any, regrade: RegradeRequest
) -> None:
    api_client.force_authenticate(student.user)
    assert api_client.post(messages_url(regrade), {"message": "x" * 5000}).status_code == 201
    r = api_client.post(messages_url(regrade), {"message": "x" * 5001})
    assert r.status_code == 400 and code_of(r) == "invalid"
    assert RegradeMessage.objects.count() == 1


def test_the_service_refuses_blank_and_long_messages(student: Any, regrade: RegradeRequest) -> None:
    for message, says in (("  \n ", "Write a message."), ("y" * 5001, "at most 5,000")):
        with pytest.raises(InvalidField) as refused:
            say(student, regrade, message)
        assert says in refused.value.message and refused.value.code == "invalid"
        assert refused.value.extra == {"fields": {"message": [refused.value.message]}}
    assert not RegradeMessage.objects.exists()


def test_the_database_refuses_an_empty_or_too_long_body(
    student: Any, regrade: RegradeRequest
) -> None:
    for body in ("", "z" * 5001):
        with pytest.raises(IntegrityError), transaction.atomic():
            RegradeMessage.objects.create(
                request=regrade, author=student.user, body=body, created_at=timezone.now()
            )


# --- the detail and the list -----------------------------------------------------------------


def test_the_detail_lists_the_thread_oldest_first_in_the_course_zone(
    api_client: Any, student: Any, ta: Any, regrade: RegradeRequest
) -> None:
    say(student, regrade, "first")
    say(ta, regrade, "second")
    say(student, regrade, "third")
    api_client.force_authenticate(student.user)
    body = api_client.get(detail_url(regrade)).json()
    assert [(m["author"], m["message"], m["staff"]) for m in body["messages"]] == [
        (student.user.username, "first", False),
        (ta.user.username, "second", True),
        (student.user.username, "third", False),
    ]
    stamps = [timezone.datetime.fromisoformat(m["created_at"]) for m in body["messages"]]
    assert stamps == sorted(stamps)
    assert all(s.utcoffset() == s.astimezone(NEW_YORK).utcoffset() for s in stamps)
    assert body["assigned_to"] is None and body["message_count"] == 3


def test_the_list_gives_assigned_to_and_message_count_not_the_messages(
    api_client: Any, course: Any, student: Any, ta: Any, regrade: RegradeRequest
) -> None:
    say(student, regrade, "first")
    say(ta, regrade, "second")
    services.regrade_request_assign(enrollment=ta, request_id=regrade.pk, grader=ta.user.username)
    api_client.force_authenticate(ta.user)
    [row] = api_client.get(f"/api/v1/courses/{course.slug}/regrade-requests/").json()
    assert row["assigned_to"] == ta.user.username and row["message_count"] == 2
    assert "messages" not in row


def test_the_list_query_count_is_flat_as_messages_grow(
    api_client: Any, course: Any, sections: Any, ta: Any, assignment: Any
) -> None:
    user_model = get_user_model()
    release(assignment)
    api_client.force_authenticate(ta.user)
    counts = []
    for n in (5, 60):
        have = RegradeRequest.objects.count()
        users = user_model.objects.bulk_create(
            [user_model(username=f"th-{n}-{i}") for i in range(n - have)]
        )
        Enrollment.objects.bulk_create(
            [
                Enrollment(course=course, user=u, section=sections["CS4803"], role="student")
                for u in users
            ]
        )
        requests = RegradeRequest.objects.bulk_create(
            [
                RegradeRequest(
                    submission=make_submission(Enrollment(user=u), assignment),
                    student=u,
                    message="m",
                    assigned_to=ta.user if i % 2 else None,
                )
                for i, u in enumerate(users)
            ]
        )
        RegradeMessage.objects.bulk_create(
            [
                RegradeMessage(
                    request=r, author=who, body=f"message {k}", created_at=timezone.now()
                )
                for r in requests
                for k, who in enumerate((r.student, ta.user, r.student))
            ]
        )
        with CaptureQueriesContext(connection) as ctx:
            r = api_client.get(f"/api/v1/courses/{course.slug}/regrade-requests/")
        assert r.status_code == 200
        assert {row["message_count"] for row in r.json()} == {3}
        counts.append((len(r.json()), len(ctx)))
    assert [c[0] for c in counts] == [5, 60]
    assert counts[0][1] == counts[1][1], counts


def test_the_detail_query_count_is_flat_as_the_thread_grows(
    api_client: Any, student: Any, ta: Any, regrade: RegradeRequest
) -> None:
    api_client.force_authenticate(student.user)
    counts = []
    for n in (2, 30):
        while RegradeMessage.objects.count() < n:
            say(ta if RegradeMessage.objects.count() % 2 else student, regrade, "again")
        with CaptureQueriesContext(connection) as ctx:
            body = api_client.get(detail_url(regrade)).json()
        counts.append((len(body["messages"]), len(ctx)))
    assert [c[0] for c in counts] == [2, 30]
    assert counts[0][1] == counts[1][1], counts


# --- assignment ------------------------------------------------------------------------------


def test_a_new_request_is_assigned_to_nobody(regrade: RegradeRequest) -> None:
    assert regrade.assigned_to is None
    assert regrade_assignee(regrade) is None


def test_staff_assign_and_reassign_a_request(
    api_client: Any, ta: Any, instructor: Any, regrade: RegradeRequest
) -> None:
    api_client.force_authenticate(instructor.user)
    r = api_client.post(assign_url(regrade), {"assigned_to": ta.user.username}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["assigned_to"] == ta.user.username and r.json()["messages"] == []
    regrade.refresh_from_db()
    assert regrade.assigned_to == ta.user
    api_client.force_authenticate(ta.user)
    r = api_client.post(assign_url(regrade), {"assigned_to": instructor.user.username})
    assert r.status_code == 200 and r.json()["assigned_to"] == instructor.user.username
    r = api_client.post(assign_url(regrade), {"assigned_to": None}, format="json")
    assert r.status_code == 200 and r.json()["assigned_to"] is None
    regrade.refresh_from_db()
    assert regrade.assigned_to is None


@pytest.mark.parametrize("who", ["student", "nobody", "outsider_ta"])
def test_assigning_to_someone_not_on_the_staff_is_400_unknown_grader(
    api_client: Any, ta: Any, student: Any, regrade: RegradeRequest, who: str
) -> None:
    name = {
        "student": student.user.username,
        "nobody": "no-such-user",
        "outsider_ta": EnrollmentFactory(
            section=SectionFactory(course=CourseFactory()), role="ta"
        ).user.username,
    }[who]
    api_client.force_authenticate(ta.user)
    r = api_client.post(assign_url(regrade), {"assigned_to": name})
    assert r.status_code == 400 and code_of(r) == "unknown_grader"
    assert f"'{name}'" in r.json()["error"]["message"]
    regrade.refresh_from_db()
    assert regrade.assigned_to is None


def test_only_staff_assign(
    api_client: Any, ta: Any, student: Any, other_student: Any, regrade: RegradeRequest
) -> None:
    api_client.force_authenticate(student.user)
    r = api_client.post(assign_url(regrade), {"assigned_to": ta.user.username})
    assert r.status_code == 403 and code_of(r) == "permission_denied"
    api_client.force_authenticate(other_student.user)
    assert (
        api_client.post(assign_url(regrade), {"assigned_to": ta.user.username}).status_code == 404
    )
    regrade.refresh_from_db()
    assert regrade.assigned_to is None


# --- the pages -------------------------------------------------------------------------------


def test_the_receipt_shows_the_thread_with_staff_badges_and_local_times(
    client: Any, student: Any, ta: Any, regrade: RegradeRequest
) -> None:
    say(student, regrade, "Test 3 passes locally.")
    answer = say(ta, regrade, "Which Python version?")
    client.force_login(student.user)
    response = client.get(f"/submissions/{regrade.submission_id}/")
    html = response.content.decode()
    text = text_of(response)
    assert "Test 3 passes locally." in text and "Which Python version?" in text
    thread = html[html.index(f'id="thread-{regrade.pk}"') :]
    assert thread.count('<span class="badge badge-bonus">staff</span>') == 1
    assert f'datetime="{answer.created_at.astimezone(NEW_YORK).isoformat()}"' in thread
    assert f'for="id_reply_{regrade.pk}">Message</label>' in html and "Send" in text


def test_the_reply_form_posts_back_to_the_receipt(
    client: Any, student: Any, regrade: RegradeRequest
) -> None:
    client.force_login(student.user)
    response = client.post(
        f"/regrades/{regrade.pk}/messages/",
        {"message": "Here is my reasoning.", "back": "receipt"},
        follow=True,
    )
    assert response.redirect_chain[-1][0].endswith(
        f"/submissions/{regrade.submission_id}/#regrade-{regrade.pk}"
    )
    assert any("Your message is in the thread" in m for m in messages_of(response))
    assert "Here is my reasoning." in text_of(response)
    assert RegradeMessage.objects.get().author == student.user


def test_a_refused_message_shows_the_services_message(
    client: Any, student: Any, ta: Any, regrade: RegradeRequest
) -> None:
    client.force_login(student.user)
    response = client.post(f"/regrades/{regrade.pk}/messages/", {"message": "  "}, follow=True)
    assert "Write a message." in messages_of(response)
    services.regrade_request_resolve(
        enrollment=ta, request_id=regrade.pk, response="Done.", score=None, now=timezone.now()
    )
    response = client.post(f"/regrades/{regrade.pk}/messages/", {"message": "late"}, follow=True)
    assert any("its thread is closed" in m for m in messages_of(response))
    assert not RegradeMessage.objects.exists()
    # Resolved: the thread stays, the form goes.
    assert f'id="id_reply_{regrade.pk}"' not in response.content.decode()


def test_strangers_cannot_post_from_the_page(
    client: Any, other_student: Any, regrade: RegradeRequest
) -> None:
    client.force_login(other_student.user)
    assert client.post(f"/regrades/{regrade.pk}/messages/", {"message": "x"}).status_code == 404
    assert not RegradeMessage.objects.exists()


def test_staff_reply_and_assign_from_the_queue(
    client: Any, course: Any, student: Any, ta: Any, instructor: Any, regrade: RegradeRequest
) -> None:
    say(student, regrade, "Please check (b).")
    client.force_login(instructor.user)
    queue = f"/courses/{course.slug}/regrades/"
    text = text_of(client.get(queue))
    assert "Please check (b)." in text and "Assigned to nobody" in text
    response = client.post(
        f"/regrades/{regrade.pk}/messages/",
        {"message": "Looking now.", "back": "queue", "status": "open", "assignment": ""},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == f"{queue}?status=open&assignment=#regrade-{regrade.pk}"
    text = text_of(response)
    assert "Looking now." in text and "staff" in text
    response = client.post(
        f"/regrades/{regrade.pk}/assign/",
        {"assigned_to": ta.user.username, "status": "open"},
        follow=True,
    )
    assert any(f"assigned to {ta.user.username}" in m for m in messages_of(response))
    regrade.refresh_from_db()
    assert regrade.assigned_to == ta.user
    response = client.post(
        f"/regrades/{regrade.pk}/assign/", {"assigned_to": student.user.username}, follow=True
    )
    assert any("is not a TA or instructor" in m for m in messages_of(response))
    regrade.refresh_from_db()
    assert regrade.assigned_to == ta.user


def test_the_queue_filters_assigned_to_me(
    client: Any, course: Any, student: Any, other_student: Any, ta: Any, assignment: Any
) -> None:
    release(assignment)
    mine = ask(student, make_submission(student, assignment), "mine to answer")
    ask(other_student, make_submission(other_student, assignment), "not mine")
    services.regrade_request_assign(enrollment=ta, request_id=mine.pk, grader=ta.user.username)
    client.force_login(ta.user)
    text = text_of(client.get(f"/courses/{course.slug}/regrades/?assigned=me"))
    assert "mine to answer" in text and "not mine" not in text
    text = text_of(client.get(f"/courses/{course.slug}/regrades/?assigned=all"))
    assert "mine to answer" in text and "not mine" in text


def test_a_student_cannot_assign_from_the_page(
    client: Any, student: Any, ta: Any, regrade: RegradeRequest
) -> None:
    client.force_login(student.user)
    response = client.post(f"/regrades/{regrade.pk}/assign/", {"assigned_to": ta.user.username})
    assert response.status_code == 403


def test_the_queue_query_count_is_flat_with_threads(
    client: Any, course: Any, sections: Any, ta: Any, assignment: Any
) -> None:
    release(assignment)
    client.force_login(ta.user)
    counts = []
    for n in (3, 20):
        while RegradeRequest.objects.count() < n:
            s = EnrollmentFactory(section=sections["CS4803"], role="student")
            regrade = ask(s, make_submission(s, assignment))
            say(s, regrade, "why?")
            say(ta, regrade, "because")
            services.regrade_request_assign(
                enrollment=ta, request_id=regrade.pk, grader=ta.user.username
            )
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"/courses/{course.slug}/regrades/")
        assert response.status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts
