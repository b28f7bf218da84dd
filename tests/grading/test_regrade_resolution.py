"""A regrade is resolved through the rubric, not a bare number: the request keeps the grade as
it was applied when asked; staff resolve it by changing the question's rubric items and
adjustment (API ``questions``, or ``Save and resolve`` on the grading view), an override on
it is removed, the history says "regrade"; the request keeps the grade once resolved, so the
student's receipt says what changed and why. Refusals write nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from grading import services
from grading.models import Grade, GradeChange, RegradeRequest, RubricItem
from grading.services.rubrics import QuestionEvaluation
from submissions.models import Submission
from tests.factories import QuestionFactory
from tests.grading.test_feedback import CODE, make_submission

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]


@pytest.fixture
def hw(assignment: Any) -> Any:
    """Two questions: q1 (10 points) with three rubric items, q2 (5 points)."""
    QuestionFactory(assignment=assignment, slug="q1", title="Forward pass", points=10, position=0)
    QuestionFactory(assignment=assignment, slug="q2", title="Plots", points=5, position=1)
    for position, (text, points) in enumerate(
        [("Correct forward pass", 6), ("Missing bias", -2), ("Clear derivation", 4)]
    ):
        RubricItem.objects.create(
            assignment=assignment, question="q1", description=text, points=points, position=position
        )
    return assignment


def item(hw: Any, description: str) -> int:
    return RubricItem.objects.get(assignment=hw, description=description).pk


@pytest.fixture
def graded(hw: Any, student: Any, ta: Any, instructor: Any) -> Submission:
    """George's submission, q1 graded with "Correct forward pass" and "Missing bias" (4 of
    10) and a comment, q2 given 3 by an adjustment; grades released an hour ago."""
    submission = make_submission(student, hw, {"model.py": CODE.encode()})
    services.evaluation_set(
        by=ta,
        submission=submission,
        questions={
            "q1": QuestionEvaluation(
                rubric_items=[item(hw, "Correct forward pass"), item(hw, "Missing bias")],
                comment="Where is the bias?",
            ),
            "q2": QuestionEvaluation(adjustment=Decimal(3)),
        },
    )
    services.grades_release(
        enrollment=instructor, assignment=hw, now=timezone.now() - timedelta(hours=1)
    )
    return submission


def ask(student: Any, submission: Submission, question: str = "q1") -> RegradeRequest:
    return services.regrade_request_create(
        enrollment=student,
        submission=submission,
        question=question,
        message="The bias is on line 4.",
        now=timezone.now(),
    )


def points(hw: Any, student: Any, question: str) -> Decimal | None:
    return Grade.objects.get(assignment=hw, student=student.user, question=question).points


def resolve_url(regrade: RegradeRequest) -> str:
    return f"/api/v1/regrade-requests/{regrade.pk}/resolve/"


def test_a_request_keeps_the_grade_as_applied_when_asked(
    hw: Any, student: Any, graded: Submission
) -> None:
    regrade = ask(student, graded)
    assert regrade.evaluation_before == {
        "q1": {
            "rubric_items": [
                {
                    "id": item(hw, "Correct forward pass"),
                    "description": "Correct forward pass",
                    "points": "6.00",
                },
                {"id": item(hw, "Missing bias"), "description": "Missing bias", "points": "-2.00"},
            ],
            "adjustment": "0.00",
            "comment": "Where is the bias?",
            "override": None,
            "points": "4.00",
        }
    }
    assert regrade.evaluation_after is None
    whole = ask(student, graded, question="")
    assert sorted(whole.evaluation_before) == ["q1", "q2"]
    assert whole.evaluation_before["q2"]["points"] == "3.00"


def test_the_api_resolves_through_the_rubric_and_keeps_both_grades(
    api_client: Any, hw: Any, student: Any, ta: Any, graded: Submission
) -> None:
    regrade = ask(student, graded)
    api_client.force_authenticate(ta.user)
    body = {
        "response": "Right: the bias is there. Removed the deduction.",
        "questions": {
            "q1": {
                "rubric_items": [item(hw, "Correct forward pass"), item(hw, "Clear derivation")],
                "comment": "Bias found on line 4.",
            }
        },
    }
    r = api_client.post(resolve_url(regrade), body, format="json")
    assert r.status_code == 200, r.content
    out = r.json()
    assert out["status"] == "resolved" and out["current_points"] == 10.0
    assert out["evaluation_before"]["q1"]["points"] == 4.0
    assert [i["description"] for i in out["evaluation_before"]["q1"]["rubric_items"]] == [
        "Correct forward pass",
        "Missing bias",
    ]
    after = out["evaluation_after"]["q1"]
    assert after["points"] == 10.0 and after["comment"] == "Bias found on line 4."
    assert [i["description"] for i in after["rubric_items"]] == [
        "Correct forward pass",
        "Clear derivation",
    ]
    assert points(hw, student, "q1") == Decimal(10)
    change = GradeChange.objects.filter(grade__question="q1").order_by("pk").last()
    assert change.source == "regrade" and change.regrade_request_id == regrade.pk
    assert change.changed_by == ta.user and (change.old_points, change.new_points) == (4, 10)
    # The evaluation API reads the same grade.
    evaluation = api_client.get(f"/api/v1/submissions/{graded.pk}/evaluation/").json()
    assert evaluation["questions"]["q1"]["points"] == 10.0


def test_resolving_through_the_rubric_removes_an_override(
    api_client: Any, hw: Any, student: Any, ta: Any, graded: Submission
) -> None:
    services.grade_set(
        by=ta, assignment=hw, student=student.user, question="q1", points=Decimal(1), source="staff"
    )
    regrade = ask(student, graded)
    assert regrade.evaluation_before["q1"]["override"] == "1.00"
    api_client.force_authenticate(ta.user)
    body = {"response": "Graded by the rubric now.", "questions": {"q1": {"adjustment": "1"}}}
    assert api_client.post(resolve_url(regrade), body, format="json").status_code == 200
    grade = Grade.objects.get(assignment=hw, student=student.user, question="q1")
    assert grade.override is None and grade.points == Decimal(5)  # 6 - 2 + 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"questions": {"q2": {"adjustment": "1"}}}, "questions"),  # not the request's question
        ({"questions": {"q1": {"adjustment": "1"}}, "score": "5"}, "score"),  # both
        ({"questions": {"q1": {"adjustment": "11"}}}, None),  # out of range
        ({"questions": {"q1": {"rubric_items": [999999]}}}, "questions"),  # no such item
        ({"questions": {"q9": {"adjustment": "1"}}}, None),  # no such question
    ],
)
def test_a_refused_resolution_writes_nothing(
    api_client: Any,
    hw: Any,
    student: Any,
    ta: Any,
    graded: Submission,
    body: dict[str, Any],
    field: str | None,
) -> None:
    regrade = ask(student, graded)
    history = GradeChange.objects.count()
    api_client.force_authenticate(ta.user)
    r = api_client.post(resolve_url(regrade), {"response": "No.", **body}, format="json")
    assert r.status_code == 400, r.content
    assert r.json()["error"]["code"] in ("invalid", "points_out_of_range")
    if field:
        assert field in r.json()["error"].get("fields", {field: ""})
    regrade.refresh_from_db()
    assert regrade.status == "open" and regrade.evaluation_after is None
    assert GradeChange.objects.count() == history
    assert points(hw, student, "q1") == Decimal(4)


def test_a_whole_assignment_request_resolves_on_any_question(
    api_client: Any, hw: Any, student: Any, ta: Any, graded: Submission
) -> None:
    regrade = ask(student, graded, question="")
    api_client.force_authenticate(ta.user)
    body = {"response": "Plots are fine.", "questions": {"q2": {"adjustment": "5"}}}
    r = api_client.post(resolve_url(regrade), body, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["evaluation_after"]["q2"]["points"] == 5.0
    assert r.json()["evaluation_after"]["q1"]["points"] == 4.0


def test_a_score_still_resolves_as_an_override_with_both_grades_kept(
    api_client: Any, hw: Any, student: Any, ta: Any, graded: Submission
) -> None:
    regrade = ask(student, graded)
    api_client.force_authenticate(ta.user)
    r = api_client.post(resolve_url(regrade), {"response": "Fine.", "score": "7"}, format="json")
    assert r.status_code == 200
    after = r.json()["evaluation_after"]["q1"]
    assert after["override"] == 7.0 and after["points"] == 7.0


def test_the_kept_grade_does_not_follow_later_rubric_edits(
    hw: Any, student: Any, ta: Any, graded: Submission
) -> None:
    regrade = ask(student, graded)
    bias = RubricItem.objects.get(pk=item(hw, "Missing bias"))
    services.rubric_item_update(by=ta, item=bias, description="No bias term", points=Decimal(-3))
    regrade.refresh_from_db()
    assert regrade.evaluation_before["q1"]["rubric_items"][1] == {
        "id": bias.pk,
        "description": "Missing bias",
        "points": "-2.00",
    }
    assert points(hw, student, "q1") == Decimal(3)


# ---- pages ----


def view_url(hw: Any, submission: Submission) -> str:
    return f"/courses/{hw.course.slug}/assignments/{hw.slug}/grade/{submission.pk}/"


def test_the_grading_view_shows_the_request_with_the_grade_when_asked(
    client: Any, hw: Any, student: Any, ta: Any, graded: Submission
) -> None:
    regrade = ask(student, graded)
    client.force_login(ta.user)
    page = client.get(view_url(hw, graded)).content.decode()
    assert f'id="regrade-{regrade.pk}"' in page
    assert "The bias is on line 4." in page
    assert "The grade when asked" in page and "Missing bias (-2)" in page
    assert "Save and resolve" in page and f'name="response-{regrade.pk}"' in page
    overview = client.get(f"/courses/{hw.course.slug}/assignments/{hw.slug}/grade/")
    assert "Open regrade requests" in overview.content.decode()
    assert f"{view_url(hw, graded)}?question=q1#regrade-{regrade.pk}" in overview.content.decode()


def test_save_and_resolve_on_the_grading_view_and_the_student_sees_what_changed(
    client: Any, hw: Any, student: Any, ta: Any, graded: Submission
) -> None:
    regrade = ask(student, graded)
    client.force_login(ta.user)
    r = client.post(
        f"{view_url(hw, graded)}save/",
        {
            "question": "q1",
            "rubric_items": [item(hw, "Correct forward pass"), item(hw, "Clear derivation")],
            "adjustment": "0",
            "comment": "Bias found.",
            "resolve": str(regrade.pk),
            f"response-{regrade.pk}": "You are right about the bias.",
        },
        follow=True,
    )
    assert "regrade request resolved" in r.content.decode()
    regrade.refresh_from_db()
    assert regrade.status == "resolved" and regrade.response == "You are right about the bias."
    assert points(hw, student, "q1") == Decimal(10)

    client.force_login(student.user)
    receipt = client.get(f"/submissions/{graded.pk}/").content.decode()
    assert "What changed" in receipt
    assert "4 → 10 points" in receipt
    assert "Applied: Clear derivation (+4)" in receipt
    assert "Removed: Missing bias (-2)" in receipt
    assert "Comment: Bias found." in receipt
    assert "You are right about the bias." in receipt


def test_save_and_resolve_without_a_response_is_refused_and_saves_nothing(
    client: Any, hw: Any, student: Any, ta: Any, graded: Submission
) -> None:
    regrade = ask(student, graded)
    client.force_login(ta.user)
    r = client.post(
        f"{view_url(hw, graded)}save/",
        {"question": "q1", "adjustment": "3", "resolve": str(regrade.pk)},
        follow=True,
    )
    assert "Write a response to the student." in r.content.decode()
    regrade.refresh_from_db()
    assert regrade.status == "open"
    assert points(hw, student, "q1") == Decimal(4)


def test_resolving_a_request_of_another_submission_from_this_view_is_404(
    client: Any, hw: Any, student: Any, grad_student: Any, ta: Any, graded: Submission
) -> None:
    regrade = ask(student, graded)
    other = make_submission(grad_student, hw, {"model.py": b"x = 1\n"})
    client.force_login(ta.user)
    r = client.post(
        f"{view_url(hw, other)}save/",
        {"question": "q1", "resolve": str(regrade.pk), f"response-{regrade.pk}": "x"},
        follow=True,
    )
    assert "There is no such regrade request on this submission." in r.content.decode()
    regrade.refresh_from_db()
    assert regrade.status == "open"


def test_a_thread_reply_from_the_grading_view_comes_back_to_it(
    client: Any, hw: Any, student: Any, ta: Any, graded: Submission
) -> None:
    regrade = ask(student, graded)
    client.force_login(ta.user)
    r = client.post(
        f"/regrades/{regrade.pk}/messages/",
        {"message": "Which line?", "back": "grading"},
    )
    assert r.status_code == 302
    assert r["Location"] == f"{view_url(hw, graded)}#regrade-{regrade.pk}"
