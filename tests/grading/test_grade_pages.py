"""The grade pages through Django's test client: a student's My grades page (released scores at
their level, extra credit, categories with the bonus, the final percent so far, the readiness
notice only when flagged, assignments not released yet), the receipt's regrade section before,
during and after the window with the service's refusals, the staff regrade queue with its
filters and resolve form (with and without a score, the history kept), releasing grades from
the assignment page, who may do what, and flat query counts."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from html import unescape
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from grading import services
from grading.models import Grade, GradeChange, RegradeRequest
from submissions.models import Submission
from tests.factories import (
    AssignmentFactory,
    CategoryFactory,
    CourseFactory,
    EnrollmentFactory,
    QuestionFactory,
    SectionFactory,
)
from tests.grading.conftest import autograde

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def quiet(monkeypatch: Any, media: Any) -> None:
    """Nothing goes to Redis; MEDIA_ROOT is in tmp."""
    monkeypatch.setattr(services, "publish", lambda job: None)


def text_of(response: Any) -> str:
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def make_submission(enrollment: Any, assignment: Any, number: int = 1) -> Submission:
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


def release(assignment: Any, ago: timedelta = timedelta(minutes=1)) -> None:
    type(assignment).objects.filter(pk=assignment.pk).update(
        grades_released_at=timezone.now() - ago
    )
    assignment.refresh_from_db()


def grade(assignment: Any, enrollment: Any, points: Any) -> None:
    """The autograder grades the student: ``points`` for the whole, or by question."""
    autograde(assignment, enrollment, points)


@pytest.fixture
def submission(student: Any, assignment: Any) -> Submission:
    return make_submission(student, assignment)


@pytest.fixture
def outsider(db: Any) -> Any:
    return EnrollmentFactory(section=SectionFactory(course=CourseFactory()), role="ta")


# --- My grades -------------------------------------------------------------------------------


def test_my_grades_shows_released_scores_categories_and_the_final_percent(
    client: Any, course: Any, homework: Any, student: Any
) -> None:
    participation = CategoryFactory(course=course, slug="participation", weight=3, bonus=True)
    hw1 = AssignmentFactory(course=course, category=homework, slug="hw1", title="HW1", position=1)
    QuestionFactory(assignment=hw1, slug="q1", points=Decimal(10))
    QuestionFactory(
        assignment=hw1,
        slug="ec1",
        points=Decimal(5),
        undergraduate="extra_credit",
        graduate="required",
    )
    hw2 = AssignmentFactory(course=course, category=homework, slug="hw2", title="HW2", position=2)
    part = AssignmentFactory(
        course=course, category=participation, slug="part", title="Participation", position=3
    )
    release(hw1)
    release(part)
    grade(hw1, student, {"q1": "8", "ec1": "4"})
    grade(hw2, student, "99")  # not released: never shown
    grade(part, student, "100")
    client.force_login(student.user)
    response = client.get(f"/courses/{course.slug}/grades/")
    assert response.status_code == 200
    text = text_of(response)
    assert "My grades" in text
    # hw1 out of the undergraduate maximum (q1 only), extra credit on top.
    assert "12 / 10" in text
    assert "+5 extra credit possible" in text
    assert "q1: 8" in text and "ec1: 4" in text
    assert "120.00%" in text
    # hw2 is listed without its score.
    row = re.search(r'id="grade-hw2".*?</tr>', response.content.decode(), flags=re.S)
    assert row is not None and "Not released yet" in row.group(0) and "99" not in row.group(0)
    # Categories with weights; the bonus says it never lowers a grade.
    assert "80%" in text and "3%" in text
    assert "Added on top, never lowers a grade" in text
    # 120% homework + the 3-point bonus.
    assert "123.00%" in text
    assert "readiness-notice" not in response.content.decode()


def test_my_grades_before_anything_is_released(client: Any, student: Any, assignment: Any) -> None:
    client.force_login(student.user)
    text = text_of(client.get(f"/courses/{assignment.course.slug}/grades/"))
    assert "No grades yet" in text
    assert "Not released yet" in text


@pytest.mark.parametrize(("points", "flagged"), [("75", True), ("60", True), ("75.5", False)])
def test_the_readiness_notice_shows_only_when_flagged(
    client: Any, course: Any, student: Any, homework: Any, points: str, flagged: bool
) -> None:
    ps0_category = CategoryFactory(course=course, slug="ps0", weight=0)
    ps0 = AssignmentFactory(
        course=course,
        category=ps0_category,
        slug="ps0",
        title="PS0",
        readiness_threshold=Decimal(75),
    )
    release(ps0)
    grade(ps0, student, points)
    client.force_login(student.user)
    text = text_of(client.get(f"/courses/{course.slug}/grades/"))
    notice = (
        "Your PS0 score is at or below 75%: this course may be hard without more preparation. "
        "Talk to the instructor."
    )
    assert (notice in text) is flagged
    assert "Required, not counted in the final grade" in text


def test_waitlisted_students_have_the_page_staff_get_the_gradebook_others_404(
    client: Any, course: Any, sections: Any, ta: Any, instructor: Any, outsider: Any
) -> None:
    url = f"/courses/{course.slug}/grades/"
    waitlisted = EnrollmentFactory(section=sections["CS4803"], role="waitlisted")
    client.force_login(waitlisted.user)
    assert client.get(url).status_code == 200
    for staff in (ta, instructor):
        client.force_login(staff.user)
        response = client.get(url)
        assert response.status_code == 200
        assert "Download gradebook (Canvas CSV)" in text_of(response)
        assert f"/api/v1/courses/{course.slug}/gradebook.csv" in response.content.decode()
    sit_in = EnrollmentFactory(section=sections["CS4803"], role="sit_in")
    for nobody in (sit_in, outsider):
        client.force_login(nobody.user)
        assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302


def test_the_course_page_links_grades_for_students_and_the_queue_for_staff(
    client: Any, course: Any, student: Any, ta: Any
) -> None:
    client.force_login(student.user)
    html = client.get(f"/courses/{course.slug}/").content.decode()
    assert f'href="/courses/{course.slug}/grades/"' in html
    assert "/regrades/" not in html and "gradebook.csv" not in html
    client.force_login(ta.user)
    html = client.get(f"/courses/{course.slug}/").content.decode()
    assert f'href="/courses/{course.slug}/regrades/"' in html
    assert f"/api/v1/courses/{course.slug}/regrade-requests/?status=open" in html
    assert f'href="/api/v1/courses/{course.slug}/gradebook.csv"' in html
    assert "Download gradebook (Canvas CSV)" in html
    # The gradebook link works with the session.
    csv = client.get(f"/api/v1/courses/{course.slug}/gradebook.csv")
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")


def test_my_grades_query_count_does_not_grow(client: Any, course: Any, student: Any) -> None:
    def build(n: int) -> None:
        for i in range(n):
            category = CategoryFactory(course=course, slug=f"cat{i % 3}", weight=10)
            a = AssignmentFactory(course=course, category=category, slug=f"a{n}-{i}")
            QuestionFactory(assignment=a, slug=f"q{n}-{i}")
            if i % 2:
                release(a)
                grade(a, student, {f"q{n}-{i}": "7"})

    client.force_login(student.user)
    counts = []
    for n in (5, 50):
        build(n)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"/courses/{course.slug}/grades/")
        assert response.status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts


# --- the receipt's regrade section -------------------------------------------------------------


def test_before_release_the_receipt_says_grades_are_not_released(
    client: Any, student: Any, submission: Any
) -> None:
    client.force_login(student.user)
    response = client.get(f"/submissions/{submission.pk}/")
    text = text_of(response)
    assert "Grades are not released yet" in text
    assert "Request regrade" not in text
    # Asking anyway is refused with the service's message.
    response = client.post(
        f"/submissions/{submission.pk}/regrade/", {"message": "please"}, follow=True
    )
    assert any("are not released yet" in m for m in messages_of(response))
    assert not RegradeRequest.objects.exists()


def test_while_open_the_student_asks_for_a_regrade_of_a_question(
    client: Any, student: Any, assignment: Any, submission: Any
) -> None:
    QuestionFactory(assignment=assignment, slug="q1", position=1)
    QuestionFactory(assignment=assignment, slug="q2", position=2)
    release(assignment)
    client.force_login(student.user)
    response = client.get(f"/submissions/{submission.pk}/")
    html = response.content.decode()
    text = text_of(response)
    assert "Regrade requests are open until" in text
    assert re.search(r'<option value="">Whole assignment</option>', html)
    assert '<option value="q1">q1</option>' in html and '<option value="q2">q2</option>' in html
    assert "Request regrade" in text
    response = client.post(
        f"/submissions/{submission.pk}/regrade/",
        {"question": "q2", "message": "The rubric says partial credit."},
        follow=True,
    )
    assert response.redirect_chain[-1][0].endswith(f"/submissions/{submission.pk}/#regrade")
    regrade = RegradeRequest.objects.get()
    assert (regrade.question, regrade.student_id) == ("q2", student.user_id)
    text = text_of(response)
    assert "Your regrade request is in" in text
    assert "The rubric says partial credit." in text
    assert "Open" in text and "Waiting for the course staff" in text


def test_the_window_end_is_shown_in_the_course_zone(
    client: Any, student: Any, assignment: Any, submission: Any
) -> None:
    release(assignment)
    client.force_login(student.user)
    html = client.get(f"/submissions/{submission.pk}/").content.decode()
    closes = assignment.grades_released_at + timedelta(days=7)
    local = closes.astimezone(ZoneInfo("America/New_York"))
    assert local.strftime("%a %b %-d %Y,") in html
    assert ("EST" in html) or ("EDT" in html)


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({"message": "   "}, "Say what should be regraded, and why."),
        ({"message": "x", "question": "q9"}, "'q9' is not a question of HW1"),
    ],
)
def test_bad_requests_are_refused_with_the_services_message(
    client: Any, student: Any, assignment: Any, submission: Any, data: Any, says: str
) -> None:
    release(assignment)
    client.force_login(student.user)
    response = client.post(f"/submissions/{submission.pk}/regrade/", data, follow=True)
    assert any(says in m for m in messages_of(response))
    assert not RegradeRequest.objects.exists()


def test_after_the_window_the_receipt_says_when_it_closed(
    client: Any, student: Any, assignment: Any, submission: Any
) -> None:
    release(assignment, ago=timedelta(days=8))
    client.force_login(student.user)
    text = text_of(client.get(f"/submissions/{submission.pk}/"))
    assert "The regrade window closed on" in text
    assert "Request regrade" not in text
    response = client.post(
        f"/submissions/{submission.pk}/regrade/", {"message": "late ask"}, follow=True
    )
    assert any("regrade window for HW1 closed" in m for m in messages_of(response))
    assert not RegradeRequest.objects.exists()


def test_staff_and_strangers_cannot_ask(
    client: Any, ta: Any, sections: Any, assignment: Any, submission: Any
) -> None:
    release(assignment)
    client.force_login(ta.user)
    text = text_of(client.get(f"/submissions/{submission.pk}/"))
    assert "Request regrade" not in text and "Regrade queue of HW1" in text
    assert (
        client.post(f"/submissions/{submission.pk}/regrade/", {"message": "x"}).status_code == 403
    )
    other = EnrollmentFactory(section=sections["CS4803"], role="student")
    client.force_login(other.user)
    assert (
        client.post(f"/submissions/{submission.pk}/regrade/", {"message": "x"}).status_code == 404
    )
    assert not RegradeRequest.objects.exists()


# --- the staff regrade queue -------------------------------------------------------------------


def ask(student: Any, submission: Any, question: str = "", message: str = "please") -> Any:
    return services.regrade_request_create(
        enrollment=student,
        submission=submission,
        question=question,
        message=message,
        now=timezone.now(),
    )


def test_the_queue_is_for_staff_only(
    client: Any, course: Any, student: Any, ta: Any, instructor: Any, outsider: Any
) -> None:
    url = f"/courses/{course.slug}/regrades/"
    for who, status in ((student, 404), (outsider, 404), (ta, 200), (instructor, 200)):
        client.force_login(who.user)
        assert client.get(url).status_code == status


def test_the_queue_lists_open_requests_with_the_grade_and_its_history(
    client: Any, course: Any, student: Any, ta: Any, assignment: Any, submission: Any
) -> None:
    QuestionFactory(assignment=assignment, slug="q1")
    release(assignment)
    grade(assignment, student, {"q1": "6"})
    services.grade_set(
        by=ta,
        assignment=assignment,
        student=student.user,
        question="q1",
        points=Decimal("7"),
        source=GradeChange.Source.STAFF,
    )
    ask(student, submission, "q1", "Part (b) is right.")
    client.force_login(ta.user)
    response = client.get(f"/courses/{course.slug}/regrades/")
    html = response.content.decode()
    text = text_of(response)
    assert student.user.username in text and "HW1" in text and "q1" in text
    assert "Part (b) is right." in text
    assert f'href="/submissions/{submission.pk}/"' in html
    assert "Current grade of q1: 7" in text
    assert "— → 6 (Autograder)" in text and f"6 → 7 (Staff, {ta.user.username})" in text
    assert "Resolve" in text and 'name="response"' in html and 'name="score"' in html


def test_resolve_with_a_score_updates_the_grade_and_keeps_the_history(
    client: Any, course: Any, student: Any, ta: Any, assignment: Any, submission: Any
) -> None:
    release(assignment)
    grade(assignment, student, "70")
    regrade = ask(student, submission)
    client.force_login(ta.user)
    response = client.post(
        f"/regrades/{regrade.pk}/resolve/",
        {"response": "You are right, +10.", "score": "80", "status": "open"},
        follow=True,
    )
    assert (
        response.redirect_chain[-1][0]
        == f"/courses/{course.slug}/regrades/?status=open&assignment="
    )
    assert any("the grade is now 80" in m for m in messages_of(response))
    g = Grade.objects.get(student=student.user, assignment=assignment, question="")
    assert g.points == Decimal("80.00")
    history = [(c.old_points, c.new_points, c.source) for c in g.changes.order_by("pk")]
    assert history == [
        (None, Decimal("70.00"), "autograder"),
        (Decimal("70.00"), Decimal("80.00"), "regrade"),
    ]
    regrade.refresh_from_db()
    assert regrade.status == "resolved" and regrade.resolved_by == ta.user
    # The student reads the answer on the receipt and the new score on My grades.
    client.force_login(student.user)
    text = text_of(client.get(f"/submissions/{submission.pk}/"))
    assert "Resolved" in text and "You are right, +10." in text
    assert f"Answered by {ta.user.get_full_name()}" in text
    assert "80 / 100" in text_of(client.get(f"/courses/{course.slug}/grades/"))


def test_resolve_without_a_score_keeps_the_grade(
    client: Any, course: Any, student: Any, instructor: Any, assignment: Any, submission: Any
) -> None:
    release(assignment)
    grade(assignment, student, "70")
    regrade = ask(student, submission)
    client.force_login(instructor.user)
    response = client.post(
        f"/regrades/{regrade.pk}/resolve/", {"response": "The grade stands."}, follow=True
    )
    assert any("grade unchanged" in m for m in messages_of(response))
    g = Grade.objects.get(student=student.user, assignment=assignment)
    assert g.points == Decimal("70.00") and g.changes.count() == 1
    # Resolved requests move out of the default (open) list into resolved and all.
    assert "No open regrade requests" in text_of(response)
    text = text_of(client.get(f"/courses/{course.slug}/regrades/?status=resolved"))
    assert "The grade stands." in text and "Resolved by" in text
    assert "The grade stands." in text_of(
        client.get(f"/courses/{course.slug}/regrades/?status=all")
    )


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({"response": "  ", "score": "5"}, "Write a response to the student."),
        ({"response": "ok", "score": "lots"}, "The score must be a number"),
        ({"response": "ok", "score": "-1"}, "must be from 0 to 100 points"),
    ],
)
def test_bad_resolutions_are_refused_with_the_message(
    client: Any, ta: Any, student: Any, assignment: Any, submission: Any, data: Any, says: str
) -> None:
    release(assignment)
    regrade = ask(student, submission)
    client.force_login(ta.user)
    response = client.post(f"/regrades/{regrade.pk}/resolve/", data, follow=True)
    assert any(says in m for m in messages_of(response)), messages_of(response)
    regrade.refresh_from_db()
    assert regrade.status == "open"
    assert not Grade.objects.exists()


def test_a_request_is_resolved_once(
    client: Any, ta: Any, instructor: Any, student: Any, assignment: Any, submission: Any
) -> None:
    release(assignment)
    regrade = ask(student, submission)
    client.force_login(ta.user)
    client.post(f"/regrades/{regrade.pk}/resolve/", {"response": "first"})
    client.force_login(instructor.user)
    response = client.post(f"/regrades/{regrade.pk}/resolve/", {"response": "second"}, follow=True)
    assert any("already resolved" in m for m in messages_of(response))
    regrade.refresh_from_db()
    assert regrade.response == "first"


def test_students_and_strangers_cannot_resolve(
    client: Any, student: Any, outsider: Any, assignment: Any, submission: Any
) -> None:
    release(assignment)
    regrade = ask(student, submission)
    client.force_login(student.user)
    assert client.post(f"/regrades/{regrade.pk}/resolve/", {"response": "mine"}).status_code == 403
    client.force_login(outsider.user)
    assert client.post(f"/regrades/{regrade.pk}/resolve/", {"response": "x"}).status_code == 404
    regrade.refresh_from_db()
    assert regrade.status == "open"


def test_the_queue_filters_by_assignment_and_refuses_an_unknown_one(
    client: Any, course: Any, homework: Any, student: Any, ta: Any, assignment: Any
) -> None:
    hw2 = AssignmentFactory(course=course, category=homework, slug="hw2", title="HW2")
    for a, message in ((assignment, "about hw1"), (hw2, "about hw2")):
        release(a)
        ask(student, make_submission(student, a), message=message)
    client.force_login(ta.user)
    text = text_of(client.get(f"/courses/{course.slug}/regrades/?assignment=hw2"))
    assert "about hw2" in text and "about hw1" not in text
    response = client.get(f"/courses/{course.slug}/regrades/?assignment=nope")
    assert response.status_code == 400
    assert "'nope' is not an assignment of this course." in text_of(response)


def test_regrade_queue_query_count_does_not_grow(
    client: Any, course: Any, sections: Any, ta: Any, assignment: Any
) -> None:
    QuestionFactory(assignment=assignment, slug="q1")
    release(assignment)

    def build(n: int) -> None:
        for i in range(n):
            s = EnrollmentFactory(section=sections["CS4803"], role="student")
            sub = make_submission(s, assignment)
            grade(assignment, s, {"q1": "5"})
            regrade = ask(s, sub, "q1" if i % 2 else "", f"request {i}")
            if i % 3 == 0:
                services.regrade_request_resolve(
                    enrollment=ta,
                    request_id=regrade.pk,
                    response="ok",
                    # A request about the whole of a graded-by-question assignment takes no
                    # score: its questions are graded.
                    score=Decimal(6) if i % 2 else None,
                    now=timezone.now(),
                )

    client.force_login(ta.user)
    counts: dict[str, list[int]] = {"open": [], "all": []}
    for n in (5, 45):
        build(n)
        for status in counts:
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(f"/courses/{course.slug}/regrades/?status={status}")
            assert response.status_code == 200
            counts[status].append(len(ctx.captured_queries))
    assert counts["open"][0] == counts["open"][1], counts
    assert counts["all"][0] == counts["all"][1], counts


# --- releasing grades from the assignment page ---------------------------------------------


def test_the_instructor_releases_grades_from_the_assignment_page(
    client: Any, course: Any, instructor: Any, assignment: Any
) -> None:
    url = f"/courses/{course.slug}/assignments/{assignment.slug}/"
    client.force_login(instructor.user)
    html = client.get(url).content.decode()
    assert "Release grades" in html and "data-confirm=" in html and "portal/confirm.js" in html
    assert "Grades are not released yet" in text_of(client.get(url))
    response = client.post(f"{url}release-grades/", follow=True)
    assert response.redirect_chain[-1][0] == url
    assignment.refresh_from_db()
    assert assignment.grades_released_at is not None
    text = text_of(response)
    assert "The grades of HW1 are released; regrade requests are open until" in text
    assert "Grades released" in text and "regrade requests open until" in text
    assert "Release grades" not in text
    # Again: nothing changes.
    first = assignment.grades_released_at
    client.post(f"{url}release-grades/")
    assignment.refresh_from_db()
    assert assignment.grades_released_at == first


def test_tas_see_the_status_only_and_students_nothing(
    client: Any, course: Any, ta: Any, student: Any, assignment: Any
) -> None:
    url = f"/courses/{course.slug}/assignments/{assignment.slug}/"
    client.force_login(ta.user)
    text = text_of(client.get(url))
    assert "Grades are not released yet" in text and "Release grades" not in text
    assert client.post(f"{url}release-grades/").status_code == 403
    release(assignment)
    assert "Grades released" in text_of(client.get(url))
    Assignment = type(assignment)
    Assignment.objects.filter(pk=assignment.pk).update(grades_released_at=None)
    client.force_login(student.user)
    assert "release-grades" not in client.get(url).content.decode()
    assert client.post(f"{url}release-grades/").status_code == 404
    assignment.refresh_from_db()
    assert assignment.grades_released_at is None


def test_the_instructor_unreleases_and_the_history_keeps_both(
    client: Any, course: Any, instructor: Any, ta: Any, assignment: Any
) -> None:
    client.force_login(instructor.user)
    client.post(f"/courses/{course.slug}/assignments/{assignment.slug}/release-grades/")
    page = f"/courses/{course.slug}/assignments/{assignment.slug}/"
    assert "Unrelease grades" in client.get(page).content.decode()
    r = client.post(
        f"/courses/{course.slug}/assignments/{assignment.slug}/unrelease-grades/", follow=True
    )
    assert any("hidden from students again" in m for m in messages_of(r))
    assignment.refresh_from_db()
    assert assignment.grades_released_at is None
    text = text_of(client.get(page))
    assert "Release history (2)" in text
    assert f"Released by {instructor.user.get_full_name()}" in text
    assert f"Unreleased by {instructor.user.get_full_name()}" in text
    client.force_login(ta.user)  # TAs do not unrelease
    assert (
        client.post(
            f"/courses/{course.slug}/assignments/{assignment.slug}/unrelease-grades/"
        ).status_code
        == 403
    )
