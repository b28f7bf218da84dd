"""Rubrics and evaluations: staff keep a question's rubric items and grade a submission's work
with them; the grade is autograded part + items applied + adjustment, within the question's
points; changing or deleting an item rescores every grade it is applied to, with history;
students read their evaluation once grades are released; group work; annotations; query
counts that do not grow with the rows."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from courses.models import Assignment
from grading import selectors, services
from grading.models import AppliedRubricItem, Grade, GradeChange, RubricItem
from submissions.models import Submission, SubmissionFile
from tests.factories import (
    AssignmentFactory,
    EnrollmentFactory,
    GroupMembershipFactory,
    ProjectGroupFactory,
    QuestionFactory,
)
from tests.grading.conftest import autograde

pytestmark = pytest.mark.django_db

D = Decimal


def make_submission(enrollment: Any, assignment: Any, group: Any = None) -> Submission:
    now = timezone.now()
    submission = Submission.objects.create(
        course=assignment.course,
        assignment=assignment,
        student=enrollment.user,
        group=group,
        number=1,
        submitted_at=now,
        timing="on_time",
        due_at=assignment.due_at,
        grace_ends_at=assignment.due_at,
    )
    SubmissionFile.objects.create(
        submission=submission, name="model.py", size=1, sha256="0" * 64, file="x/model.py"
    )
    return submission


def release(assignment: Any) -> None:
    Assignment.objects.filter(pk=assignment.pk).update(
        grades_released_at=timezone.now() - timedelta(minutes=1)
    )


def rubric_url(assignment: Any) -> str:
    return f"/api/v1/courses/{assignment.course.slug}/assignments/{assignment.slug}/rubric/"


def evaluation_url(submission: Any) -> str:
    return f"/api/v1/submissions/{submission.pk}/evaluation/"


def code_of(response: Any) -> str:
    return response.json()["error"]["code"]


@pytest.fixture
def hw(course: Any, homework: Any) -> Any:
    """An assignment with two questions: q1 (10 points, autograded) and written (5)."""
    assignment = AssignmentFactory(course=course, category=homework, slug="hw2", title="HW2")
    QuestionFactory(assignment=assignment, slug="q1", points=10, position=0)
    QuestionFactory(assignment=assignment, slug="written", points=5, position=1)
    return assignment


def item(assignment: Any, question: str, points: str, description: str = "") -> RubricItem:
    return RubricItem.objects.create(
        assignment=assignment,
        question=question,
        description=description or f"{question} {points}",
        points=D(points),
    )


def put(api_client: Any, who: Any, submission: Any, body: dict[str, Any]) -> Any:
    api_client.force_authenticate(who.user)
    return api_client.put(evaluation_url(submission), body, format="json")


# --- rubric items ----------------------------------------------------------------------------


def test_staff_create_rubric_items_and_list_them(api_client: Any, ta: Any, hw: Any) -> None:
    api_client.force_authenticate(ta.user)
    first = api_client.post(
        rubric_url(hw), {"question": "q1", "description": "Missing bias", "points": "-2"}
    )
    second = api_client.post(
        rubric_url(hw), {"question": "q1", "description": "Elegant", "points": 1.5}, format="json"
    )
    assert first.status_code == second.status_code == 201, first.content
    assert first.json() == {
        "id": first.json()["id"],
        "question": "q1",
        "description": "Missing bias",
        "points": -2.0,
        "position": 0,
    }
    assert second.json()["position"] == 1
    listed = api_client.get(rubric_url(hw)).json()
    assert [(i["description"], i["points"]) for i in listed] == [
        ("Missing bias", -2.0),
        ("Elegant", 1.5),
    ]


def test_a_rubric_item_of_an_unknown_question_is_refused(api_client: Any, ta: Any, hw: Any) -> None:
    api_client.force_authenticate(ta.user)
    r = api_client.post(rubric_url(hw), {"question": "q9", "description": "x", "points": "1"})
    assert r.status_code == 400 and code_of(r) == "invalid"
    whole = api_client.post(rubric_url(hw), {"question": "", "description": "x", "points": "1"})
    assert whole.status_code == 400 and code_of(whole) == "invalid"
    assert not RubricItem.objects.exists()


def test_rubric_item_points_beyond_the_questions_points_are_refused(
    api_client: Any, ta: Any, hw: Any
) -> None:
    api_client.force_authenticate(ta.user)
    for points in ("10.01", "-10.01"):
        r = api_client.post(
            rubric_url(hw), {"question": "q1", "description": "x", "points": points}
        )
        assert r.status_code == 400 and code_of(r) == "points_out_of_range"
    edge = api_client.post(rubric_url(hw), {"question": "q1", "description": "x", "points": "-10"})
    assert edge.status_code == 201
    r = api_client.patch(
        f"/api/v1/rubric-items/{edge.json()['id']}/", {"points": "11"}, format="json"
    )
    assert r.status_code == 400 and code_of(r) == "points_out_of_range"


def test_the_implicit_question_takes_rubric_items(
    api_client: Any, ta: Any, assignment: Any
) -> None:
    api_client.force_authenticate(ta.user)
    r = api_client.post(rubric_url(assignment), {"description": "Late", "points": "-100"})
    assert r.status_code == 201 and r.json()["question"] == ""


def test_students_neither_see_nor_write_the_rubric(api_client: Any, student: Any, hw: Any) -> None:
    item(hw, "q1", "-1")
    api_client.force_authenticate(student.user)
    assert api_client.get(rubric_url(hw)).status_code == 404
    r = api_client.post(rubric_url(hw), {"question": "q1", "description": "x", "points": "1"})
    assert r.status_code == 404
    only = RubricItem.objects.get()
    assert api_client.patch(f"/api/v1/rubric-items/{only.pk}/", {"points": "2"}).status_code == 404
    assert api_client.delete(f"/api/v1/rubric-items/{only.pk}/").status_code == 404
    assert RubricItem.objects.get().points == D(-1)


def test_changing_a_description_or_position_rescores_nothing(
    api_client: Any, ta: Any, student: Any, hw: Any
) -> None:
    bias = item(hw, "written", "3")
    put(
        api_client,
        ta,
        make_submission(student, hw),
        {"questions": {"written": {"rubric_items": [bias.pk]}}},
    )
    before = GradeChange.objects.count()
    r = api_client.patch(
        f"/api/v1/rubric-items/{bias.pk}/", {"description": "Clear", "position": 4}, format="json"
    )
    assert r.status_code == 200
    assert (r.json()["description"], r.json()["position"]) == ("Clear", 4)
    assert GradeChange.objects.count() == before


# --- evaluations -----------------------------------------------------------------------------


def test_the_score_is_autograded_plus_items_plus_adjustment_within_the_points(
    api_client: Any, ta: Any, student: Any, hw: Any, media: Any
) -> None:
    submission = make_submission(student, hw)
    autograde(hw, student, {"q1": 7})
    minus2, minus3, plus1 = item(hw, "q1", "-2"), item(hw, "q1", "-3"), item(hw, "q1", "1")
    r = put(
        api_client,
        ta,
        submission,
        {"questions": {"q1": {"rubric_items": [minus2.pk, minus3.pk], "adjustment": "1"}}},
    )
    assert r.status_code == 200, r.content
    assert r.json()["questions"]["q1"] == {
        "rubric_items": [minus2.pk, minus3.pk],
        "adjustment": 1.0,
        "comment": "",
        "points": 3.0,
    }
    assert Grade.objects.get(student=student.user, question="q1").points == D(3)
    r = put(
        api_client,
        ta,
        submission,
        {"questions": {"q1": {"rubric_items": [plus1.pk], "adjustment": 5}}},
    )
    assert r.json()["questions"]["q1"]["points"] == 10.0  # 7 + 1 + 5, at most 10
    r = put(
        api_client,
        ta,
        submission,
        {"questions": {"q1": {"rubric_items": [minus2.pk], "adjustment": -9}}},
    )
    assert r.json()["questions"]["q1"]["points"] == 0.0  # never below 0
    grades = Grade.objects.filter(student=student.user, assignment=hw)
    assert selectors.student_points(grades)[0] == D(0)


def test_an_evaluation_leaves_the_questions_it_does_not_name(
    api_client: Any, ta: Any, student: Any, hw: Any
) -> None:
    submission = make_submission(student, hw)
    written = item(hw, "written", "4")
    put(
        api_client,
        ta,
        submission,
        {"questions": {"written": {"rubric_items": [written.pk], "comment": "Good"}}},
    )
    r = put(api_client, ta, submission, {"questions": {"q1": {"adjustment": "2"}}})
    body = r.json()["questions"]
    assert body["written"] == {
        "rubric_items": [written.pk],
        "adjustment": 0.0,
        "comment": "Good",
        "points": 4.0,
    }
    assert body["q1"]["points"] == 2.0


def test_an_item_of_another_question_or_an_unknown_question_is_refused(
    api_client: Any, ta: Any, student: Any, hw: Any
) -> None:
    submission = make_submission(student, hw)
    written = item(hw, "written", "4")
    r = put(api_client, ta, submission, {"questions": {"q1": {"rubric_items": [written.pk]}}})
    assert r.status_code == 400 and code_of(r) == "invalid"
    r = put(api_client, ta, submission, {"questions": {"q7": {"adjustment": "1"}}})
    assert r.status_code == 400 and code_of(r) == "invalid"
    r = put(api_client, ta, submission, {"questions": {"q1": {"adjustment": "11"}}})
    assert r.status_code == 400 and code_of(r) == "points_out_of_range"
    assert not Grade.objects.exists() and not AppliedRubricItem.objects.exists()


def test_a_comment_longer_than_ten_thousand_characters_is_refused(
    api_client: Any, ta: Any, student: Any, hw: Any
) -> None:
    r = put(
        api_client,
        ta,
        make_submission(student, hw),
        {"questions": {"q1": {"comment": "x" * 10_001}}},
    )
    assert r.status_code == 400 and code_of(r) == "invalid"


def test_every_evaluation_is_kept_in_the_history_with_who(
    api_client: Any, ta: Any, student: Any, hw: Any
) -> None:
    written = item(hw, "written", "4")
    put(
        api_client,
        ta,
        make_submission(student, hw),
        {"questions": {"written": {"rubric_items": [written.pk]}}},
    )
    change = GradeChange.objects.get()
    assert (change.old_points, change.new_points, change.source) == (None, D(4), "staff")
    assert change.changed_by == ta.user
    assert "evaluation of submission #1" in change.detail


def test_a_student_cannot_write_an_evaluation(api_client: Any, student: Any, hw: Any) -> None:
    r = put(
        api_client,
        student,
        make_submission(student, hw),
        {"questions": {"q1": {"adjustment": "1"}}},
    )
    assert r.status_code == 403 and code_of(r) == "permission_denied"
    assert not Grade.objects.exists()


def test_students_read_their_evaluation_once_grades_are_released(
    api_client: Any, ta: Any, student: Any, sections: Any, hw: Any
) -> None:
    submission = make_submission(student, hw)
    put(
        api_client,
        ta,
        submission,
        {"questions": {"q1": {"adjustment": "2", "comment": "See line 3"}}},
    )
    api_client.force_authenticate(student.user)
    r = api_client.get(evaluation_url(submission))
    assert r.status_code == 409 and code_of(r) == "grades_not_released"
    release(hw)
    r = api_client.get(evaluation_url(submission))
    assert r.status_code == 200
    assert r.json()["questions"]["q1"]["comment"] == "See line 3"
    other = EnrollmentFactory(section=sections["CS4803"], role="student")
    api_client.force_authenticate(other.user)
    assert api_client.get(evaluation_url(submission)).status_code == 404


def test_a_group_evaluation_grades_every_member(
    api_client: Any, ta: Any, student: Any, sections: Any, course: Any, homework: Any
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
    submission = make_submission(members[1], project, group=group)
    good = item(project, "", "80")
    r = put(
        api_client,
        ta,
        submission,
        {"questions": {"": {"rubric_items": [good.pk], "adjustment": "5"}}},
    )
    assert r.status_code == 200, r.content
    grades = {g.student_id: g.points for g in Grade.objects.filter(assignment=project)}
    assert grades == {m.user_id: D(85) for m in members}
    assert AppliedRubricItem.objects.filter(item=good).count() == 3
    release(project)
    for m in members:
        api_client.force_authenticate(m.user)
        assert api_client.get(evaluation_url(submission)).json()["questions"][""]["points"] == 85.0


def test_annotations_replace_the_submissions_and_name_its_files(
    api_client: Any, ta: Any, student: Any, hw: Any
) -> None:
    submission = make_submission(student, hw)
    notes = [{"file": "model.py", "line": 3, "text": "Off by one"}]
    r = put(api_client, ta, submission, {"annotations": notes})
    assert r.status_code == 200 and r.json()["annotations"] == notes
    assert submission.annotations.get().author == ta.user
    later = [{"file": "model.py", "line": 9, "text": "Nice"}]
    assert put(api_client, ta, submission, {"annotations": later}).json()["annotations"] == later
    r = put(
        api_client, ta, submission, {"annotations": [{"file": "nope.py", "line": 1, "text": "x"}]}
    )
    assert r.status_code == 400 and code_of(r) == "invalid"
    r = put(
        api_client, ta, submission, {"annotations": [{"file": "model.py", "line": 0, "text": "x"}]}
    )
    assert r.status_code == 400 and code_of(r) == "invalid"
    assert [a.text for a in submission.annotations.all()] == ["Nice"]
    assert put(api_client, ta, submission, {"questions": {}}).json()["annotations"] == later


# --- changing and deleting items rescores ------------------------------------------------------


def _many_graded(assignment: Any, course: Any, n: int, items: list[RubricItem]) -> list[Grade]:
    """n students whose grade on the implicit question has ``items`` applied,
    their points computed."""
    user_model = get_user_model()
    users = user_model.objects.bulk_create(
        [user_model(username=f"r-{assignment.pk}-{n}-{i}") for i in range(n)]
    )
    grades = Grade.objects.bulk_create([Grade(assignment=assignment, student=u) for u in users])
    AppliedRubricItem.objects.bulk_create(
        [AppliedRubricItem(grade=g, item=i) for g in grades for i in items]
    )
    services.grades_recompute(assignment=assignment, user_ids=[u.pk for u in users], source="staff")
    return grades


def test_changing_an_items_points_rescores_everyone_it_is_applied_to_once_with_history(
    api_client: Any, course: Any, ta: Any, assignment: Any
) -> None:
    bonus = item(assignment, "", "5", "Clear plots")
    other = item(assignment, "", "-2", "Missing bias")
    _many_graded(assignment, course, 200, [bonus, other])
    assert set(Grade.objects.values_list("points", flat=True)) == {D(3)}
    api_client.force_authenticate(ta.user)
    r = api_client.patch(f"/api/v1/rubric-items/{other.pk}/", {"points": "-3"}, format="json")
    assert r.status_code == 200 and r.json()["points"] == -3.0
    assert set(Grade.objects.values_list("points", flat=True)) == {D(2)}
    changes = GradeChange.objects.filter(detail="rubric item 'Missing bias' now -3 (was -2)")
    assert changes.count() == 200
    assert changes.values("grade").distinct().count() == 200
    assert set(changes.values_list("old_points", "new_points", "source", "changed_by")) == {
        (D(3), D(2), "staff", ta.user_id)
    }


def test_an_items_rescore_runs_in_as_many_queries_for_200_students_as_for_20(
    course: Any, ta: Any, assignment: Any
) -> None:
    counts = []
    for n, points in ((20, "3"), (200, "4")):
        bias = item(assignment, "", "2", f"bias {n}")
        Grade.objects.all().delete()
        _many_graded(assignment, course, n, [bias])
        with CaptureQueriesContext(connection) as ctx:
            services.rubric_item_update(by=ta, item=bias, points=D(points))
        assert GradeChange.objects.filter(detail__startswith=f"rubric item 'bias {n}'").count() == n
        counts.append(len(ctx))
    assert counts[0] == counts[1], counts


def test_an_items_rescore_is_one_transaction(
    course: Any, ta: Any, assignment: Any, monkeypatch: Any
) -> None:
    bias = item(assignment, "", "10")
    _many_graded(assignment, course, 5, [bias])

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the history could not be written")

    monkeypatch.setattr(GradeChange.objects, "bulk_create", broken)
    with pytest.raises(RuntimeError):
        services.rubric_item_update(by=ta, item=bias, points=D(20))
    bias.refresh_from_db()
    assert bias.points == D(10)
    assert set(Grade.objects.values_list("points", flat=True)) == {D(10)}


def test_deleting_an_item_unapplies_it_everywhere_and_rescores(
    api_client: Any, course: Any, ta: Any, assignment: Any
) -> None:
    keep = item(assignment, "", "50", "Works")
    gone = item(assignment, "", "-10", "No tests")
    _many_graded(assignment, course, 3, [keep, gone])
    api_client.force_authenticate(ta.user)
    assert api_client.delete(f"/api/v1/rubric-items/{gone.pk}/").status_code == 204
    assert not RubricItem.objects.filter(pk=gone.pk).exists()
    assert set(AppliedRubricItem.objects.values_list("item_id", flat=True)) == {keep.pk}
    assert set(Grade.objects.values_list("points", flat=True)) == {D(50)}
    assert GradeChange.objects.filter(detail="rubric item 'No tests' (-10) deleted").count() == 3


# --- query counts ----------------------------------------------------------------------------


def test_the_rubric_lists_query_count_is_flat(api_client: Any, ta: Any, hw: Any) -> None:
    api_client.force_authenticate(ta.user)
    counts = []
    for n in (3, 30):
        RubricItem.objects.bulk_create(
            [
                RubricItem(assignment=hw, question="q1", description=f"i{i}", points=D(-1))
                for i in range(n)
            ]
        )
        with CaptureQueriesContext(connection) as ctx:
            r = api_client.get(rubric_url(hw))
        counts.append((len(r.json()), len(ctx)))
    assert [c[0] for c in counts] == [3, 33]
    assert counts[0][1] == counts[1][1], counts


def test_the_evaluations_query_count_is_flat(
    api_client: Any, ta: Any, student: Any, hw: Any
) -> None:
    submission = make_submission(student, hw)
    counts = []
    for n in (2, 20):
        items = RubricItem.objects.bulk_create(
            [
                RubricItem(assignment=hw, question="q1", description=f"i{i}", points=D(0))
                for i in range(n)
            ]
        )
        put(
            api_client,
            ta,
            submission,
            {
                "questions": {"q1": {"rubric_items": [i.pk for i in items]}},
                "annotations": [{"file": "model.py", "line": k + 1, "text": "x"} for k in range(n)],
            },
        )
        with CaptureQueriesContext(connection) as ctx:
            r = api_client.get(evaluation_url(submission))
        counts.append((len(r.json()["questions"]["q1"]["rubric_items"]), len(ctx)))
    assert [c[0] for c in counts] == [2, 20]
    assert counts[0][1] == counts[1][1], counts
