"""Reads for staff about results that cannot be trusted as they are: the results awaiting a
review (they count for nothing until accepted), whether the autograder's maxima match the
points the course gives its questions; and the history of an assignment's releases."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import QuerySet

from courses.models import STAFF_ROLES, Assignment, Enrollment
from grading import scoring
from grading.models import GradeRelease, GradingResult, JobState
from grading.results import ResultsInvalid, parse_results
from grading.selectors.grades import question_specs
from portal.errors import NotFound


def results_to_review(*, enrollment: Enrollment, assignment: Assignment) -> QuerySet[GradingResult]:
    """Staff: the assignment's results whose numbers do not add up, newest first (accepted
    ones too, marked by ``accepted_at``). Two queries with their submissions."""
    if enrollment.role not in STAFF_ROLES or enrollment.course_id != assignment.course_id:
        raise NotFound("Only the course's TAs and instructors can see this.")
    return (
        GradingResult.objects.filter(job__submission__assignment=assignment)
        .exclude(review=[])
        .select_related("job__submission__student", "job__submission__assignment", "accepted_by")
        .order_by("-created_at", "-pk")
    )


def maxima_warnings(assignment: Assignment) -> list[str]:
    """Where the autograder's maxima (from its latest result) differ from the points the
    questions it feeds are worth: sentences for the staff page (empty: they agree)."""
    result = (
        GradingResult.objects.filter(
            job__submission__assignment=assignment, job__state=JobState.DONE
        )
        .order_by("-created_at", "-pk")
        .first()
    )
    if result is None:
        return []
    try:
        parsed = parse_results(result.data["raw"])
    except (ResultsInvalid, KeyError, TypeError):
        return []
    specs = question_specs(assignment)
    if scoring.is_implicit(specs):
        return _compare(specs[0], assignment.title, parsed.max_score)
    warnings: list[str] = []
    for spec in specs:
        if spec.tests:
            matched = [
                t.max_score or 0
                for t in parsed.tests
                if scoring.feeding_question(t.name, specs) == spec.slug
            ]
            warnings += _compare(spec, spec.slug, sum(matched) if matched else None)
    if not any(s.tests for s in specs):
        warnings.append(
            f"The autograder's tests feed none of {assignment.title}'s questions: give the "
            "questions tests (globs on the tests' names) in the course config, or its scores count for nothing."
        )
    return warnings


def _compare(spec: scoring.QuestionSpec, name: str, maximum: float | None) -> list[str]:
    if maximum is None or scoring.cents(maximum) == spec.points:
        return []
    return [
        f"The autograder's maximum for {name} is {Decimal(str(maximum)):g} points, but "
        f"the course gives it {spec.points:g}: scores are capped at {spec.points:g}."
    ]


def release_history(*, assignment: Assignment) -> QuerySet[GradeRelease]:
    """Every release and unrelease of the assignment's grades, oldest first, with who."""
    return (
        GradeRelease.objects.filter(assignment=assignment).select_related("by").order_by("at", "pk")
    )
