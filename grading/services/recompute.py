"""The one writer of ``Grade.points``: :func:`grades_recompute` recomputes students' grade
rows from the one truth (the result of the submission that counts, the rubric items applied,
the staff's adjustment and override, the questions' points) through ``grading.scoring``, and
keeps every change of points in GradeChange. Its queries do not grow with the number of
students: results, applied items, rows and history are read and written in batches."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from courses.models import Assignment
from grading import scoring
from grading.models import (
    AppliedRubricItem,
    Grade,
    GradeChange,
    GradingJob,
    GradingResult,
    JobState,
    RegradeRequest,
)
from grading.results import ResultsInvalid, parse_results
from grading.selectors.grades import question_specs
from submissions.models import Submission
from submissions.selectors import counting_submissions


def _latest_results(submissions: Iterable[Submission]) -> dict[int, GradingResult]:
    """Per submission id, the result of its latest finished job (as
    ``grading.selectors.latest_result``), in one query."""
    ids = {s.pk for s in submissions}
    latest: dict[int, GradingResult] = {}
    jobs = (
        GradingJob.objects.filter(submission_id__in=ids, state=JobState.DONE, result__isnull=False)
        .select_related("result")
        .order_by("submission_id", "-finished_at", "-pk")
    )
    for job in jobs:
        latest.setdefault(job.submission_id, job.result)
    return latest


def _result_parts(
    result: GradingResult | None, specs: list[scoring.QuestionSpec]
) -> tuple[dict[str, Decimal | None], bool]:
    """The autograded part of each question from a result, and whether the result awaits a
    review (then it counts for nothing)."""
    nothing: dict[str, Decimal | None] = {q.slug: None for q in specs}
    if result is None:
        return nothing, False
    if not result.counts:
        return nothing, True
    try:
        parsed = parse_results(result.data["raw"])
    except (ResultsInvalid, KeyError, TypeError):
        return nothing, False
    tests = [scoring.TestScore(t.name, t.score, t.max_score) for t in parsed.tests]
    return scoring.autograded_parts(specs, tests, parsed.score), False


def _applied_points(grade_ids: Iterable[int]) -> dict[int, list[Decimal]]:
    """Per grade id, the points of the rubric items applied to it. One query."""
    applied: dict[int, list[Decimal]] = {}
    rows = AppliedRubricItem.objects.filter(grade_id__in=list(grade_ids)).values_list(
        "grade_id", "item__points"
    )
    for grade_id, points in rows:
        applied.setdefault(grade_id, []).append(points)
    return applied


@dataclass
class _Writes:
    """What a recompute writes, collected to be written in batches."""

    template: GradeChange
    force_change: bool
    created: list[Grade] = field(default_factory=list)
    updated: list[Grade] = field(default_factory=list)
    changes: list[tuple[Grade, Decimal | None]] = field(default_factory=list)

    def apply(
        self,
        row: Grade,
        *,
        spec: scoring.QuestionSpec,
        part: Decimal | None,
        review: bool,
        rubric: list[Decimal],
    ) -> None:
        """The row's new parts and points; a history entry when its points change."""
        points = scoring.question_points(
            points=spec.points,
            autograded=part,
            adjustment=row.adjustment,
            override=row.override,
            rubric=rubric,
        )
        if row.pk is None and points is None and not review:
            return  # nothing to hold
        same = (row.points, row.autograded, row.needs_review) == (points, part, review)
        if same and not self.force_change:
            return
        old = row.points
        row.autograded, row.needs_review, row.points = part, review, points
        (self.updated if row.pk is not None else self.created).append(row)
        if old != points or self.force_change:
            self.changes.append((row, old))

    def write(self) -> None:
        now = timezone.now()
        for row in self.updated:
            row.updated_at = now
        Grade.objects.bulk_update(
            self.updated, ["autograded", "needs_review", "points", "updated_at"], batch_size=500
        )
        Grade.objects.bulk_create(self.created, batch_size=500)
        t = self.template
        GradeChange.objects.bulk_create(
            [
                GradeChange(
                    grade=row,
                    old_points=old,
                    new_points=row.points,
                    source=t.source,
                    changed_by=t.changed_by,
                    job=t.job,
                    regrade_request=t.regrade_request,
                    detail=t.detail,
                )
                for row, old in self.changes
            ],
            batch_size=500,
        )


def grades_recompute(
    *,
    assignment: Assignment,
    user_ids: Iterable[int],
    source: str,
    by: User | None = None,
    job: GradingJob | None = None,
    regrade_request: RegradeRequest | None = None,
    detail: str = "",
    force_change: bool = False,
) -> None:
    """Recomputes these students' grade rows on the assignment from the one truth: the
    result of the submission that counts for each (its latest finished job), the rubric
    items applied, the staff's parts, the questions' points. A row whose points change gets
    a history entry (also with ``force_change``, for a change of ``excused``); rows are
    created only when there is something to hold."""
    ids = sorted(set(user_ids))
    specs = question_specs(assignment)
    counting = counting_submissions(assignment=assignment, user_ids=ids)
    results = _latest_results(s for s in counting.values() if s is not None)
    writes = _Writes(
        template=GradeChange(
            source=source,
            changed_by=by,
            job=job,
            regrade_request=regrade_request,
            detail=detail[:200],
        ),
        force_change=force_change,
    )
    with transaction.atomic():
        rows = {
            (g.student_id, g.question): g
            for g in Grade.objects.select_for_update().filter(
                assignment=assignment, student_id__in=ids
            )
        }
        applied = _applied_points(g.pk for g in rows.values())
        for uid in ids:
            submission = counting[uid]
            parts, review = _result_parts(results.get(submission.pk) if submission else None, specs)
            for spec in specs:
                row = rows.get((uid, spec.slug))
                writes.apply(
                    row or Grade(assignment=assignment, student_id=uid, question=spec.slug),
                    spec=spec,
                    part=parts[spec.slug],
                    review=review,
                    rubric=applied.get(row.pk, []) if row is not None else [],
                )
        writes.write()
