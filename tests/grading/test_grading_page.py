"""The TA's grading pages (Django's test client): the assignment page links them for staff;
the overview shows progress and the counting submissions, its queries flat in their number;
``Next ungraded`` hands a submission or says everything is graded; the grading view shows the
rubric as checkboxes and saves an evaluation through the service (its refusals shown); a new
rubric item and a line comment are added while grading; students get 404 everywhere."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from courses.models import Enrollment
from grading.models import Annotation, Grade, GraderAssignment, GradingLock, RubricItem
from submissions.models import Submission
from tests.factories import AssignmentFactory, EnrollmentFactory, QuestionFactory
from tests.grading.conftest import autograde
from tests.grading.test_feedback import CODE, make_submission

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def hw(assignment: Any) -> Any:
    """HW1 with one question, q1 (10 points), and two rubric items."""
    QuestionFactory(assignment=assignment, slug="q1", points=10, position=0)
    RubricItem.objects.create(
        assignment=assignment, question="q1", description="Missing bias", points=-2, position=0
    )
    RubricItem.objects.create(
        assignment=assignment, question="q1", description="Clear plots", points=1, position=1
    )
    return assignment


@pytest.fixture
def work(student: Any, hw: Any) -> Submission:
    return make_submission(student, hw, {"model.py": CODE.encode()})


def overview_url(hw: Any) -> str:
    return f"/courses/{hw.course.slug}/assignments/{hw.slug}/grade/"


def view_url(hw: Any, submission: Submission) -> str:
    return f"{overview_url(hw)}{submission.pk}/"


def items(hw: Any) -> dict[str, int]:
    return {i.description: i.pk for i in RubricItem.objects.filter(assignment=hw)}


def test_the_assignment_page_links_staff_to_grading(client: Any, ta: Any, hw: Any) -> None:
    client.force_login(ta.user)
    page = client.get(f"/courses/{hw.course.slug}/assignments/{hw.slug}/").content.decode()
    assert f'href="{overview_url(hw)}"' in page
    assert "Grade submissions" in page


def test_the_assignment_page_has_no_grading_link_for_students(
    client: Any, student: Any, hw: Any
) -> None:
    client.force_login(student.user)
    page = client.get(f"/courses/{hw.course.slug}/assignments/{hw.slug}/").content.decode()
    assert "Grade submissions" not in page


def test_students_get_404_on_every_grading_page(
    client: Any, student: Any, hw: Any, work: Submission
) -> None:
    client.force_login(student.user)
    assert client.get(overview_url(hw)).status_code == 404
    assert client.get(view_url(hw, work)).status_code == 404
    assert client.post(f"{overview_url(hw)}next/").status_code == 404
    assert client.post(f"{view_url(hw, work)}save/", {"question": "q1"}).status_code == 404
    assert client.post(f"{view_url(hw, work)}rubric/", {"question": "q1"}).status_code == 404
    assert client.post(f"{view_url(hw, work)}comments/", {"file": "model.py"}).status_code == 404
    assert not Grade.objects.exists() and not Annotation.objects.exists()


def test_a_submission_of_another_assignment_is_404_under_this_one(
    client: Any, ta: Any, hw: Any, student: Any, course: Any, homework: Any
) -> None:
    other = AssignmentFactory(course=course, category=homework, slug="hw9", title="HW9")
    elsewhere = make_submission(student, other, {"a.py": b"x = 1\n"})
    client.force_login(ta.user)
    assert client.get(view_url(hw, elsewhere)).status_code == 404


def test_the_overview_shows_progress_and_the_submissions(
    client: Any, ta: Any, hw: Any, work: Submission
) -> None:
    client.force_login(ta.user)
    page = client.get(overview_url(hw)).content.decode()
    assert "Graded 0 of 1" in page
    assert work.student.username in page
    assert f'href="{view_url(hw, work)}"' in page
    assert "Ungraded" in page
    assert "Next ungraded" in page


def test_the_overview_filters_by_section(
    client: Any, ta: Any, hw: Any, work: Submission, grad_student: Any
) -> None:
    make_submission(grad_student, hw, {"model.py": b"x = 2\n"})
    client.force_login(ta.user)
    page = client.get(overview_url(hw) + "?section=CS7643").content.decode()
    assert grad_student.user.username in page
    assert f'href="{view_url(hw, work)}"' not in page


def test_a_grader_with_a_share_sees_it_by_default_and_can_look_at_all(
    client: Any, ta: Any, hw: Any, work: Submission, grad_student: Any
) -> None:
    other = make_submission(grad_student, hw, {"model.py": b"x = 2\n"})
    GraderAssignment.objects.create(assignment=hw, grader=ta.user, sections=["CS7643"])
    client.force_login(ta.user)
    page = client.get(overview_url(hw)).content.decode()
    assert f'href="{view_url(hw, other)}"' in page
    assert f'href="{view_url(hw, work)}"' not in page  # CS4803: not in the share
    assert '<option value="1" selected>Mine</option>' in page
    everything = client.get(overview_url(hw) + "?mine=0").content.decode()
    assert f'href="{view_url(hw, work)}"' in everything


def test_the_overview_puts_ungraded_first(
    client: Any, ta: Any, hw: Any, student: Any, sections: Any
) -> None:
    first = make_submission(student, hw, {"model.py": b"x = 1\n"})
    later = EnrollmentFactory(section=sections["CS4803"], role="student")
    second = make_submission(later, hw, {"model.py": b"x = 2\n"})
    names = sorted([(student.user.username, first), (later.user.username, second)])
    graded_user, ungraded_sub = names[0][1].student, names[1][1]
    Grade.objects.create(assignment=hw, student=graded_user, question="q1", points=Decimal(5))
    client.force_login(ta.user)
    page = client.get(overview_url(hw) + "?ungraded=1").content.decode()
    assert page.index(view_url(hw, ungraded_sub)) < page.index(view_url(hw, names[0][1]))


def test_the_overviews_queries_do_not_grow_with_the_submissions(
    client: Any, ta: Any, hw: Any, sections: Any
) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(overview_url(hw)).status_code == 200
        return len(ctx.captured_queries)

    client.force_login(ta.user)
    for _ in range(2):
        make_submission(EnrollmentFactory(section=sections["CS4803"]), hw, {})
    few = count()
    for _ in range(6):
        make_submission(EnrollmentFactory(section=sections["CS7643"]), hw, {})
    assert count() == few


def fill(hw: Any, section: Any, n: int) -> None:
    """Students of ``section`` with a submission of hw each, up to ``n`` submissions; every
    other one graded on q1."""
    have = Submission.objects.filter(assignment=hw).count()
    users = get_user_model().objects.bulk_create(
        [get_user_model()(username=f"n{hw.pk}-{i:04d}", password="!") for i in range(have, n)]
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
        [
            Grade(assignment=hw, student=u, question="q1", points=Decimal(1))
            for i, u in enumerate(users)
            if i % 2
        ]
    )


def test_next_ungradeds_queries_do_not_grow_with_the_submissions(
    client: Any, ta: Any, hw: Any, sections: Any
) -> None:
    """The POST ``Next ungraded`` of the page, at 20 and at 200 submissions (the API's
    ``next`` has its own: test_grading_queue.py)."""
    client.force_login(ta.user)
    counts = []
    for n in (20, 200):
        fill(hw, sections["CS4803"], n)
        client.post(f"{overview_url(hw)}next/")  # the caller's earlier lock exists both times
        with CaptureQueriesContext(connection) as ctx:
            response = client.post(f"{overview_url(hw)}next/")
        assert response.status_code == 302 and "/grade/" in response["Location"]
        assert response["Location"] != overview_url(hw)  # a submission was handed
        counts.append(len(ctx.captured_queries))
    assert Submission.objects.filter(assignment=hw).count() == 200
    assert counts[0] == counts[1], counts


def test_next_ungraded_goes_to_the_submission_and_holds_it(
    client: Any, ta: Any, hw: Any, work: Submission
) -> None:
    client.force_login(ta.user)
    response = client.post(f"{overview_url(hw)}next/")
    assert response.status_code == 302
    assert response["Location"] == view_url(hw, work)
    assert GradingLock.objects.filter(grader=ta.user, student=work.student).exists()


def test_next_ungraded_of_one_question_keeps_the_question(
    client: Any, ta: Any, hw: Any, work: Submission
) -> None:
    client.force_login(ta.user)
    response = client.post(f"{overview_url(hw)}next/", {"question": "q1"})
    assert response["Location"] == view_url(hw, work) + "?question=q1"


def test_next_ungraded_with_nothing_left_says_so(
    client: Any, ta: Any, hw: Any, work: Submission
) -> None:
    Grade.objects.create(assignment=hw, student=work.student, question="q1", points=Decimal(5))
    client.force_login(ta.user)
    response = client.post(f"{overview_url(hw)}next/", follow=True)
    assert response.redirect_chain[-1][0] == overview_url(hw)
    assert "Everything assigned to you is graded." in response.content.decode()


def test_the_grading_view_shows_the_rubric_fields_and_numbered_code(
    client: Any, ta: Any, hw: Any, work: Submission
) -> None:
    client.force_login(ta.user)
    page = client.get(view_url(hw, work)).content.decode()
    ids = items(hw)
    assert f'type="checkbox" name="rubric_items" value="{ids["Missing bias"]}"' in page
    assert f'<label for="item-{ids["Missing bias"]}">Missing bias' in page
    assert '<label for="adjustment-q1">Adjustment</label>' in page
    assert '<label for="comment-q1">Comment</label>' in page
    assert ">Save</button>" in page
    assert 'class="code-lines"' in page and f'id="file-{work.files.get().pk}-L4"' in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "portal/grading.js" in page


def test_save_applies_items_adjustment_and_comment_and_shows_the_points(
    client: Any, ta: Any, hw: Any, work: Submission
) -> None:
    ids = items(hw)
    client.force_login(ta.user)
    response = client.post(
        f"{view_url(hw, work)}save/?question=q1",
        {
            "question": "q1",
            "rubric_items": [ids["Missing bias"], ids["Clear plots"]],
            "adjustment": "0.5",
            "comment": "Good start.",
            "anchor": "question-q1",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == view_url(hw, work) + "?question=q1#question-q1"
    grade = Grade.objects.get(assignment=hw, student=work.student, question="q1")
    assert set(grade.applied.values_list("item_id", flat=True)) == set(ids.values())
    assert grade.adjustment == Decimal("0.5") and grade.comment == "Good start."
    page = response.content.decode()
    assert "Evaluation saved." in page
    assert grade.points is not None
    assert f"<strong>{grade.points.normalize():f}</strong>" in page
    assert f'value="{ids["Missing bias"]}" id="item-{ids["Missing bias"]}" checked' in page


def test_save_refusals_are_shown(client: Any, ta: Any, hw: Any, work: Submission) -> None:
    client.force_login(ta.user)
    response = client.post(
        f"{view_url(hw, work)}save/", {"question": "q1", "adjustment": "50"}, follow=True
    )
    page = response.content.decode()
    assert '<li class="error">' in page and "points; 50 is not." in page
    assert not Grade.objects.filter(adjustment=Decimal(50)).exists()


def test_a_non_number_adjustment_is_refused(
    client: Any, ta: Any, hw: Any, work: Submission
) -> None:
    client.force_login(ta.user)
    page = client.post(
        f"{view_url(hw, work)}save/", {"question": "q1", "adjustment": "lots"}, follow=True
    ).content.decode()
    assert "Adjustment must be a number" in page


def test_a_rubric_item_is_added_while_grading(
    client: Any, ta: Any, hw: Any, work: Submission
) -> None:
    client.force_login(ta.user)
    page = client.post(
        f"{view_url(hw, work)}rubric/",
        {"question": "q1", "description": "No docstring", "points": "-1"},
        follow=True,
    ).content.decode()
    item = RubricItem.objects.get(description="No docstring")
    assert item.points == Decimal(-1) and item.question == "q1"
    assert f'<label for="item-{item.pk}">No docstring' in page


def test_a_rubric_item_beyond_the_questions_points_is_refused(
    client: Any, ta: Any, hw: Any, work: Submission
) -> None:
    client.force_login(ta.user)
    page = client.post(
        f"{view_url(hw, work)}rubric/",
        {"question": "q1", "description": "Huge", "points": "-40"},
        follow=True,
    ).content.decode()
    assert '<li class="error">' in page and "points; -40 is not." in page
    assert not RubricItem.objects.filter(description="Huge").exists()


def test_a_line_comment_is_added_and_the_others_kept(
    client: Any, ta: Any, hw: Any, work: Submission
) -> None:
    client.force_login(ta.user)
    url = f"{view_url(hw, work)}comments/"
    client.post(url, {"file": "model.py", "line": "1", "text": "Unused import."})
    page = client.post(
        url, {"file": "model.py", "line": "3", "text": "Name the shape."}, follow=True
    ).content.decode()
    assert sorted(Annotation.objects.values_list("line", "text")) == [
        (1, "Unused import."),
        (3, "Name the shape."),
    ]
    assert "Name the shape." in page and "Unused import." in page


def test_a_line_comment_on_an_unknown_file_or_line_is_refused(
    client: Any, ta: Any, hw: Any, work: Submission
) -> None:
    client.force_login(ta.user)
    url = f"{view_url(hw, work)}comments/"
    page = client.post(url, {"file": "nope.py", "line": "1", "text": "x"}, follow=True)
    assert "nope.py is not a file" in page.content.decode()
    page = client.post(url, {"file": "model.py", "line": "zero", "text": "x"}, follow=True)
    assert "The line must be a line number" in page.content.decode()
    assert not Annotation.objects.exists()


def test_the_view_of_one_question_shows_only_its_autograder_tests(
    client: Any, ta: Any, hw: Any, work: Submission, student: Any
) -> None:
    QuestionFactory(assignment=hw, slug="q2", points=10, position=1)
    autograde(hw, student, {"q1": 7, "q2": 4}, submission=work)
    client.force_login(ta.user)
    every = client.get(view_url(hw, work)).content.decode()
    assert "q1 test" in every and "q2 test" in every
    one = client.get(view_url(hw, work) + "?question=q2").content.decode()
    assert "q2 test" in one and "q1 test" not in one
    assert 'id="comment-q2"' in one and 'id="comment-q1"' not in one
