"""Email notifications through a real SMTP server on 127.0.0.1 (aiosmtpd) and Django's SMTP
backend, the Celery tasks run in-process: who gets "grades released" (graded students and
waitlisted students, their own grade only, in chunks over one connection each), "regrade
opened" (the assigned grader, else the course's TAs) and "regrade answered" (the student),
with the link to the page; a preference turned off sends nothing to that person; the
release request itself sends no email but queues one task."""

from __future__ import annotations

import socket
from decimal import Decimal
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any
from unittest import mock

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from courses.models import NotificationPreference
from grading import services, tasks
from grading.models import Grade, RegradeRequest, RubricItem
from grading.services.rubrics import QuestionEvaluation
from portal.celery import app as celery_app
from tests.factories import EnrollmentFactory, QuestionFactory
from tests.grading.test_regrades_api import make_submission
from tests.grading.test_regrades_api import release as release_at

pytestmark = pytest.mark.django_db

BASE = "https://portal.example.edu"


class Inbox:
    """What the SMTP server received: each message with its envelope recipients, and the
    SMTP sessions (connections) they came over."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.sessions: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if not any(s is session for s in self.sessions):
            self.sessions.append(session)
        parsed = message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpt, m in self.messages if address in rcpt]

    def recipients(self) -> list[str]:
        return sorted(r for rcpt, _ in self.messages for r in rcpt)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp(settings: Any) -> Any:
    """A real SMTP server on a free port; Django sends to it, Celery runs tasks in-process."""
    # Read before any setting changes: Celery reads Django's settings lazily, so reading it
    # after CELERY_TASK_ALWAYS_EAGER = True would keep tasks eager for every later test.
    eager = celery_app.conf.task_always_eager
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.DEFAULT_FROM_EMAIL = "Course portal <portal@example.edu>"
    settings.PORTAL_BASE_URL = BASE
    settings.CELERY_TASK_ALWAYS_EAGER = True
    celery_app.conf.task_always_eager = True
    try:
        yield inbox
    finally:
        celery_app.conf.task_always_eager = eager
        controller.stop()


def body(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def grade(instructor: Any, assignment: Any, enrollment: Any, **parts: Any) -> None:
    services.grade_set(by=instructor, assignment=assignment, student=enrollment.user, **parts)


def release(instructor: Any, assignment: Any, capture: Any) -> None:
    with capture(execute=True):
        services.grades_release(enrollment=instructor, assignment=assignment, now=timezone.now())


def turn_off(enrollment: Any, kind: str) -> None:
    NotificationPreference.objects.create(user=enrollment.user, **{kind: False})


# --- grades released ---------------------------------------------------------------------------


def test_a_release_emails_each_graded_student_their_own_grade_with_the_link(
    smtp: Inbox,
    instructor: Any,
    student: Any,
    grad_student: Any,
    assignment: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    grade(instructor, assignment, student, points=Decimal(7))
    grade(instructor, assignment, grad_student, points=Decimal("8.5"))
    release(instructor, assignment, django_capture_on_commit_callbacks)
    assert smtp.recipients() == sorted([student.user.email, grad_student.user.email])
    (mine,) = smtp.to(student.user.email)
    assert mine["Subject"] == f"[{assignment.course.title}] Grades released: HW1"
    assert mine["From"] == "Course portal <portal@example.edu>"
    text = body(mine)
    assert f"Your grade: 7 / {assignment.points.normalize():f}" in text
    assert "8.50" not in text
    assert f"{BASE}/courses/{assignment.course.slug}/grades/" in text
    assert f"{BASE}/accounts/profile/" in text
    (theirs,) = smtp.to(grad_student.user.email)
    assert f"Your grade: 8.50 / {assignment.points.normalize():f}" in body(theirs)


def test_a_release_emails_excused_and_waitlisted_students_and_no_one_ungraded_or_staff(
    smtp: Inbox,
    instructor: Any,
    ta: Any,
    student: Any,
    grad_student: Any,
    sections: Any,
    assignment: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    waitlisted = EnrollmentFactory(section=sections["CS4803"], role="waitlisted")
    sit_in = EnrollmentFactory(section=sections["CS4803"], role="sit_in")
    EnrollmentFactory(section=sections["CS4803"], role="student")  # no grade at all
    grade(instructor, assignment, student, excused=True)
    grade(instructor, assignment, waitlisted, points=Decimal(5))
    grade(instructor, assignment, grad_student, adjustment=Decimal(0))  # a row, no points
    Grade.objects.create(assignment=assignment, student=sit_in.user, points=Decimal(3))
    release(instructor, assignment, django_capture_on_commit_callbacks)
    assert smtp.recipients() == sorted([student.user.email, waitlisted.user.email])
    (excused,) = smtp.to(student.user.email)
    assert "You are excused from HW1." in body(excused)
    (wait,) = smtp.to(waitlisted.user.email)
    assert "Your grade: 5 / " in body(wait)


def test_a_release_sums_the_questions_as_the_grades_page_does(
    smtp: Inbox,
    instructor: Any,
    student: Any,
    assignment: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    QuestionFactory(assignment=assignment, slug="q1", points=Decimal(10), position=1)
    QuestionFactory(assignment=assignment, slug="q2", points=Decimal(10), position=2)
    grade(instructor, assignment, student, question="q1", points=Decimal(6))
    grade(instructor, assignment, student, question="q2", points=Decimal("3.5"))
    release(instructor, assignment, django_capture_on_commit_callbacks)
    (mine,) = smtp.to(student.user.email)
    assert "Your grade: 9.50 / 20 (47.50%)" in body(mine)


def test_a_student_who_turned_grade_emails_off_gets_none(
    smtp: Inbox,
    instructor: Any,
    student: Any,
    grad_student: Any,
    assignment: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    grade(instructor, assignment, student, points=Decimal(7))
    grade(instructor, assignment, grad_student, points=Decimal(8))
    turn_off(student, "grades_released")
    release(instructor, assignment, django_capture_on_commit_callbacks)
    assert smtp.recipients() == [grad_student.user.email]


def test_a_release_of_released_grades_sends_nothing_again(
    smtp: Inbox,
    instructor: Any,
    student: Any,
    assignment: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    grade(instructor, assignment, student, points=Decimal(7))
    release(instructor, assignment, django_capture_on_commit_callbacks)
    assert len(smtp.messages) == 1
    release(instructor, assignment, django_capture_on_commit_callbacks)
    assert len(smtp.messages) == 1


def test_a_release_to_250_students_sends_250_emails_in_chunks_of_100(
    smtp: Inbox,
    instructor: Any,
    sections: Any,
    assignment: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    students = [EnrollmentFactory(section=sections["CS4803"]) for _ in range(250)]
    Grade.objects.bulk_create(
        Grade(assignment=assignment, student=e.user, points=Decimal(i % 10))
        for i, e in enumerate(students)
    )
    with mock.patch.object(
        tasks.notify_grades_released_chunk,
        "delay",
        wraps=tasks.notify_grades_released_chunk.delay,
    ) as chunk:
        release(instructor, assignment, django_capture_on_commit_callbacks)
    assert [len(call.args[1]) for call in chunk.call_args_list] == [100, 100, 50]
    assert len(smtp.messages) == 250
    assert smtp.recipients() == sorted(e.user.email for e in students)
    assert len(smtp.sessions) == 3  # one SMTP connection per chunk
    assert all(len(rcpt) == 1 for rcpt, _ in smtp.messages)  # each email its own message


def test_the_release_request_sends_no_email_and_queues_one_task(
    smtp: Inbox,
    api_client: Any,
    instructor: Any,
    sections: Any,
    assignment: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    students = [EnrollmentFactory(section=sections["CS4803"]) for _ in range(30)]
    Grade.objects.bulk_create(
        Grade(assignment=assignment, student=e.user, points=Decimal(1)) for e in students
    )
    api_client.force_authenticate(instructor.user)
    url = f"/api/v1/courses/{assignment.course.slug}/assignments/{assignment.slug}/release/"
    with (
        mock.patch.object(tasks.notify_grades_released, "apply_async") as queued,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = api_client.post(url)
    assert response.status_code == 200
    assert queued.call_count == 1
    assert list(queued.call_args.args[0]) == [assignment.pk]
    assert smtp.messages == []


def test_nothing_is_queued_when_the_release_is_refused(
    api_client: Any, ta: Any, assignment: Any, django_capture_on_commit_callbacks: Any
) -> None:
    api_client.force_authenticate(ta.user)
    url = f"/api/v1/courses/{assignment.course.slug}/assignments/{assignment.slug}/release/"
    with (
        mock.patch.object(tasks.notify_grades_released, "apply_async") as queued,
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert api_client.post(url).status_code == 403
    assert queued.call_count == 0


def test_a_chunk_sends_nothing_once_the_grades_are_unreleased(
    smtp: Inbox, instructor: Any, student: Any, assignment: Any
) -> None:
    grade(instructor, assignment, student, points=Decimal(7))
    enrollment_ids = [student.pk]
    assert tasks.notify_grades_released_chunk(assignment.pk, enrollment_ids) == 0
    assert smtp.messages == []


# --- regrades ----------------------------------------------------------------------------------


@pytest.fixture
def opened(
    instructor: Any, student: Any, assignment: Any, django_capture_on_commit_callbacks: Any
) -> Any:
    """Opens a regrade request of the student's submission (emails sent on commit)."""

    def open_request() -> RegradeRequest:
        release_at(assignment)
        submission = make_submission(student, assignment)
        with django_capture_on_commit_callbacks(execute=True):
            return services.regrade_request_create(
                enrollment=student,
                submission=submission,
                question="",
                message="Test 3 passes on my machine.",
                now=timezone.now(),
            )

    return open_request


def test_an_opened_regrade_emails_the_course_tas_with_the_queue_link(
    smtp: Inbox, opened: Any, ta: Any, instructor: Any, sections: Any, student: Any
) -> None:
    other_ta = EnrollmentFactory(section=sections["CS7643"], role="ta")
    request = opened()
    assert smtp.recipients() == sorted([ta.user.email, other_ta.user.email])
    (email,) = smtp.to(ta.user.email)
    course = request.submission.assignment.course
    assert email["Subject"].startswith(f"[{course.title}] Regrade request on HW1 from ")
    text = body(email)
    assert "Test 3 passes on my machine." in text
    assert f"{BASE}/courses/{course.slug}/regrades/" in text


def test_an_opened_regrade_emails_its_assigned_grader_only(
    smtp: Inbox, opened: Any, ta: Any, sections: Any
) -> None:
    grader = EnrollmentFactory(section=sections["CS7643"], role="ta")
    with mock.patch.object(
        RegradeRequest, "assigned_to", grader.user, create=True
    ):  # the field another change adds
        opened()
    assert smtp.recipients() == [grader.user.email]


def test_a_ta_who_turned_regrade_emails_off_gets_none(
    smtp: Inbox, opened: Any, ta: Any, sections: Any
) -> None:
    other_ta = EnrollmentFactory(section=sections["CS7643"], role="ta")
    turn_off(ta, "regrade_opened")
    opened()
    assert smtp.recipients() == [other_ta.user.email]


def test_a_resolved_regrade_emails_the_student_the_answer_and_the_link(
    smtp: Inbox,
    opened: Any,
    ta: Any,
    student: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    request = opened()
    smtp.messages.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.regrade_request_resolve(
            enrollment=ta,
            request_id=request.pk,
            response="Right: test 3 was wrong. Full marks.",
            score=Decimal(10),
            now=timezone.now(),
        )
    assert smtp.recipients() == [student.user.email]
    (email,) = smtp.messages[0][1:]
    assert email["Subject"] == (
        f"[{request.submission.assignment.course.title}] Your regrade request on HW1 is answered"
    )
    text = body(email)
    assert "Right: test 3 was wrong. Full marks." in text
    assert f"{BASE}/submissions/{request.submission_id}/" in text
    assert "Score: — -> 10 points" in text  # what changed: ungraded, then 10


def test_a_regrade_answered_through_the_rubric_says_what_changed(
    smtp: Inbox,
    opened: Any,
    ta: Any,
    student: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    request = opened()
    assignment = request.submission.assignment
    plots = RubricItem.objects.create(
        assignment=assignment, question="", description="Clear plots", points=4, position=0
    )
    smtp.messages.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.regrade_request_resolve(
            enrollment=ta,
            request_id=request.pk,
            response="The plots are there after all.",
            questions={"": QuestionEvaluation(rubric_items=[plots.pk], adjustment=Decimal(1))},
            now=timezone.now(),
        )
    text = body(smtp.messages[0][1])
    assert "The plots are there after all." in text
    assert "applied: Clear plots (+4)" in text
    assert "adjustment: 0 -> 1" in text


def test_a_student_who_turned_regrade_answers_off_gets_none(
    smtp: Inbox,
    opened: Any,
    ta: Any,
    student: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    request = opened()
    smtp.messages.clear()
    turn_off(student, "regrade_answered")
    with django_capture_on_commit_callbacks(execute=True):
        services.regrade_request_resolve(
            enrollment=ta,
            request_id=request.pk,
            response="No change.",
            score=None,
            now=timezone.now(),
        )
    assert smtp.messages == []


def test_an_smtp_failure_is_retried(smtp: Inbox, settings: Any, opened: Any, ta: Any) -> None:
    settings.EMAIL_PORT = _free_port()  # nothing listens there
    with (
        mock.patch.object(tasks.notify_regrade_opened, "retry", side_effect=RuntimeError) as retry,
        pytest.raises(RuntimeError),
    ):
        opened()
    assert retry.call_count == 1
    assert isinstance(retry.call_args.kwargs["exc"], OSError)
