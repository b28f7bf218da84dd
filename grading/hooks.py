"""What grading adds to submissions, through the seams of ``submissions.hooks`` (submissions
never imports grading). Connected in ``grading.apps``:

- a new submission queues its autograder job in the same transaction (``submission_stored``);
- every read of submissions prefetches the jobs and their results;
- the API's submission gets ``autograde``, ``score`` and ``tests``;
- the assignment list (``courses.hooks``) gets the student's released grades;
- the assignment page gets the latest submission's live autograder status, staff's
  autograder card and the regrade window; the receipt its autograder status, regrade
  requests, grade and feedback (rubric items, comments, the files with annotations).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Prefetch
from rest_framework import serializers

from courses.models import Assignment, Enrollment
from grading import selectors, services
from grading.apis.autograde import submission_fields
from grading.apis.my_grade import MyGradeField
from grading.models import GradeChange
from submissions.models import Submission


def on_submission_stored(
    sender: type[Submission], *, submission: Submission, received_at: datetime, **_: Any
) -> None:
    """Queues the new submission's autograder job (none without an active autograder); the
    job joins the submission's prefetched rows, so its receipt needs no read back. The new
    submission now counts, so grades that took autograded parts from an earlier one wait
    for its result (source "submission")."""
    job = services.job_enqueue(submission=submission, now=received_at)
    cache = getattr(submission, "_prefetched_objects_cache", None)
    if cache is not None:
        cache["jobs"] = [job] if job else []
    owners = _owner_ids(submission)
    if selectors.has_autograded_grades(assignment=submission.assignment, user_ids=owners):
        services.grades_recompute(
            assignment=submission.assignment,
            user_ids=owners,
            source=GradeChange.Source.SUBMISSION,
            by=submission.student,
            detail=f"submission #{submission.number} handed in",
        )


def on_submission_chosen(
    sender: type[Submission], *, submission: Submission, by: User, **_: Any
) -> None:
    """The chosen submission's stored result makes the grade at once, without a re-run."""
    services.grades_recompute(
        assignment=submission.assignment,
        user_ids=_owner_ids(submission),
        source=GradeChange.Source.CHOICE,
        by=by,
        detail=f"submission #{submission.number} counts",
    )


def _owner_ids(submission: Submission) -> list[int]:
    return [u.pk for u in services.graded_students(submission)]


class GradingExtension:
    """Grading's part of submissions' reads, API and pages (``submissions.hooks``)."""

    def prefetches(self) -> Sequence[str | Prefetch[Any]]:
        return [selectors.jobs_prefetch()]

    def api_fields(self) -> dict[str, serializers.Field]:  # type: ignore[type-arg]
        return submission_fields()

    def assignment_page_context(
        self,
        *,
        enrollment: Enrollment,
        assignment: Assignment,
        latest: Submission | None,
        now: datetime,
    ) -> dict[str, Any]:
        return {
            # The latest submission's autograder status (live), and staff's autograder card.
            "autograde": (
                selectors.job_status(latest, staff=False, now=now) if latest is not None else None
            ),
            "autograder_card": selectors.autograder_card(
                enrollment=enrollment, assignment=assignment
            ),
            # Staff: whether the grades are released and until when regrades are taken.
            "regrade_closes_at": selectors.regrade_window_closes_at(assignment),
            # The grade (the student's, once released), the results awaiting review and
            # the autograder's maxima against the questions' points (staff).
            "grade": (
                selectors.submission_grade(enrollment=enrollment, submission=latest, now=now)
                if latest is not None
                else None
            ),
            **(_staff_review(enrollment, assignment) if enrollment.is_staff_role else {}),
        }

    def receipt_context(
        self, *, enrollment: Enrollment, submission: Submission, now: datetime
    ) -> dict[str, Any]:
        return {
            "autograde": selectors.job_status(submission, staff=enrollment.is_staff_role, now=now),
            "regrade": selectors.regrade_panel(
                enrollment=enrollment, submission=submission, now=now
            ),
            "grade": selectors.submission_grade(
                enrollment=enrollment, submission=submission, now=now
            ),
            "feedback": selectors.submission_feedback(
                enrollment=enrollment, submission=submission, now=now
            ),
        }


def _staff_review(enrollment: Enrollment, assignment: Assignment) -> dict[str, Any]:
    return {
        "to_review": list(
            selectors.results_to_review(enrollment=enrollment, assignment=assignment).filter(
                accepted_at__isnull=True
            )[:REVIEW_SHOWN]
        ),
        "maxima_warnings": selectors.maxima_warnings(assignment),
        "releases": list(selectors.release_history(assignment=assignment)),
    }


REVIEW_SHOWN = 50

EXTENSION = GradingExtension()


class AssignmentListGrades:
    """Grading's part of the assignment list (``courses.hooks``): the student's grades."""

    def api_fields(self) -> dict[str, serializers.Field]:  # type: ignore[type-arg]
        return {"my_grade": MyGradeField()}

    def list_context(self, *, enrollment: Enrollment, now: datetime) -> dict[str, Any]:
        return {"my_grades": selectors.released_cells(enrollment=enrollment, now=now)}


LIST_EXTENSION = AssignmentListGrades()


def on_assignments_changed(sender: object, *, assignment_ids: list[int], **_: Any) -> None:
    """The course config changed how these assignments are scored (their points, their
    questions' points or tests): every existing grade of theirs is recomputed, in the same
    transaction as the load (source "staff", with the reason in the history's detail), and
    the rows of questions that no longer exist go (their history with them)."""
    for assignment in Assignment.objects.filter(pk__in=assignment_ids):
        services.grades_rescore(assignment=assignment)
