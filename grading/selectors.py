"""Reads of grading: a submission's autograde status and results as its viewer may see them,
the queue for staff."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    Count,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from courses import deadlines
from courses.models import (
    STAFF_ROLES,
    SUBMITTING_ROLES,
    Assignment,
    Category,
    Enrollment,
    GroupMembership,
    Question,
    Role,
)
from courses.selectors import course_student_get as courses_course_student_get
from courses.selectors import course_tz, extra_credit_points, max_points
from grading import export, gradebook
from grading.models import (
    Bundle,
    BundleSetup,
    Grade,
    GradeChange,
    GradingJob,
    JobState,
    RegradeRequest,
)
from grading.results import ResultsInvalid, parse_results, staff_view, student_view
from portal.errors import NotFound, ValidationFailed
from submissions.models import Submission

# The contract's statuses: none, queued, running, done, failed. A job superseded by a newer
# submission before it ran shows as "none" with a message saying so.
_STATUS = {
    JobState.QUEUED: "queued",
    JobState.RUNNING: "running",
    JobState.DONE: "done",
    JobState.FAILED: "failed",
    JobState.SUPERSEDED: "none",
}


def jobs_prefetch() -> Prefetch:
    """Prefetch for Submission querysets: jobs newest first, with their results."""
    return Prefetch(
        "jobs", queryset=GradingJob.objects.select_related("result").order_by("-queued_at", "-pk")
    )


def latest_job(submission: Submission) -> GradingJob | None:
    jobs = list(submission.jobs.all())
    return jobs[0] if jobs else None


def autograde_view(
    submission: Submission, *, staff: bool, now: datetime, position: int | None = None
) -> dict[str, Any]:
    """``{"status", "message", "score", "max_score", "tests", "output", ...}`` for the viewer.
    Students see what the autograder's visibility settings allow: hidden tests are left out
    (and with them the total) until grades are released."""
    job = latest_job(submission)
    if job is None:
        return {"status": "none"}
    out: dict[str, Any] = {
        "status": _STATUS[JobState(job.state)],
        "job_id": job.pk,
        "queued_at": job.queued_at.isoformat(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "message": job.message,
    }
    if job.state == JobState.QUEUED and job.hold_until and job.hold_until > now:
        out["held_until"] = job.hold_until.isoformat()
        out["message"] = "Late PS0 work is graded after registration ends."
    if position is not None:
        out["position"] = position
    if staff:
        out["attempts"] = job.attempts
        out["worker"] = job.worker
        out["log"] = job.log
    result = getattr(job, "result", None) if job.state == JobState.DONE else None
    if result is not None:
        parsed = parse_results(result.data["raw"])
        if staff:
            view = staff_view(parsed)
        else:
            assignment = submission.assignment
            view = student_view(
                parsed,
                after_due_date=now > submission.grace_ends_at,
                grades_released=assignment.grades_released_at is not None
                and assignment.grades_released_at <= now,
            )
        out.update(view)
    return out


def queue_position(job: GradingJob, now: datetime) -> int:
    """How many claimable jobs of the same queue go before this one (0: next)."""
    ahead = GradingJob.objects.filter(queue=job.queue, state=JobState.QUEUED).filter(
        Q(hold_until__isnull=True) | Q(hold_until__lte=now)
    )
    return ahead.filter(
        Q(rank__lt=job.rank)
        | Q(rank=job.rank, queued_at__lt=job.queued_at)
        | Q(rank=job.rank, queued_at=job.queued_at, pk__lt=job.pk)
    ).count()


def queue_overview(*, course_id: int | None = None) -> dict[str, Any]:
    """Per queue: how many jobs wait, run, and each worker's last heartbeat."""
    qs = GradingJob.objects.all()
    if course_id is not None:
        qs = qs.filter(submission__course_id=course_id)
    counts = {
        (r["queue"], r["state"]): r["n"]
        for r in qs.values("queue", "state").annotate(n=Count("id"))
    }
    workers = (
        GradingJob.objects.exclude(worker="")
        .values("queue", "worker")
        .annotate(last=Max("heartbeat_at"))
        .order_by("queue", "-last")[:100]
    )
    return {
        "queues": {q: {s: counts.get((q, s), 0) for s in JobState.values} for q in ("cpu", "gpu")},
        "workers": list(workers),
    }


def setups(*, course_id: int) -> QuerySet[BundleSetup]:
    return BundleSetup.objects.filter(bundle__assignment__course_id=course_id).select_related(
        "bundle__assignment"
    )


# --- pages: the live job status, the staff queue page, the autograder card -------------------

# How far back a worker's heartbeat counts it as serving its queue, for the wait estimate.
WORKERS_SEEN_WITHIN = timedelta(minutes=2)
# How many recent done jobs of a queue the wait estimate averages.
DURATION_SAMPLE = 20


def _claimable(now: datetime) -> Q:
    return Q(hold_until__isnull=True) | Q(hold_until__lte=now)


def job_duration_average(*, queue: str) -> float | None:
    """Seconds: the average run time of the queue's last DURATION_SAMPLE done jobs (None when
    none has finished yet). One query."""
    rows = (
        GradingJob.objects.filter(
            queue=queue,
            state=JobState.DONE,
            started_at__isnull=False,
            finished_at__isnull=False,
        )
        .order_by("-finished_at")
        .values_list("started_at", "finished_at")[:DURATION_SAMPLE]
    )
    durations = [max((end - start).total_seconds(), 0.0) for start, end in rows if start and end]
    return sum(durations) / len(durations) if durations else None


def workers_seen(*, queue: str, now: datetime) -> int:
    """How many workers of the queue sent a heartbeat within WORKERS_SEEN_WITHIN."""
    return (
        GradingJob.objects.filter(queue=queue, heartbeat_at__gte=now - WORKERS_SEEN_WITHIN)
        .exclude(worker="")
        .values("worker")
        .distinct()
        .count()
    )


def queue_wait_estimate(*, queue: str, position: int, now: datetime) -> float | None:
    """Seconds until a job at ``position`` (0: next) is done: the average run time times
    (position + 1), divided by the workers seen lately (at least one). None before any job of the queue is done."""
    average = job_duration_average(queue=queue)
    if average is None:
        return None
    return average * (position + 1) / max(workers_seen(queue=queue, now=now), 1)


def job_status(submission: Submission, *, staff: bool, now: datetime) -> dict[str, Any]:
    """What the job-status fragment shows: :func:`autograde_view` with, for a claimable queued
    job, its position and wait estimate; for a running one, its elapsed seconds; for a held
    one, the time it is held until. ``shown`` is False when the submission has no job and its
    assignment no autograder (nothing to say). The submission's jobs should be prefetched
    (:func:`jobs_prefetch`)."""
    job = latest_job(submission)
    held = (
        job is not None
        and job.state == JobState.QUEUED
        and job.hold_until is not None
        and job.hold_until > now
    )
    position = None
    if job is not None and job.state == JobState.QUEUED and not held:
        position = queue_position(job, now)
    try:
        view = autograde_view(submission, staff=staff, now=now, position=position)
    except ResultsInvalid as exc:  # a stored result this parser no longer accepts
        assert job is not None
        view = {"status": "failed", "job_id": job.pk, "message": exc.student_message}
        if staff:
            view.update(attempts=job.attempts, worker=job.worker, log=f"{job.log}\n{exc.detail}")
    view["submission_id"] = submission.pk
    view["staff"] = staff
    view["queue"] = job.queue if job is not None else submission.assignment.autograder_queue
    view["superseded"] = job is not None and job.state == JobState.SUPERSEDED
    view["poll"] = view["status"] in ("queued", "running")
    if job is None:
        view["shown"] = Bundle.objects.filter(
            assignment_id=submission.assignment_id, active=True
        ).exists()
        return view
    view["shown"] = True
    if held:
        view["held_until_at"] = job.hold_until
    if position is not None:
        estimate = queue_wait_estimate(queue=job.queue, position=position, now=now)
        view["estimate_minutes"] = None if estimate is None else max(1, round(estimate / 60))
    if job.state == JobState.RUNNING and job.started_at is not None:
        view["elapsed_s"] = max(int((now - job.started_at).total_seconds()), 0)
    view["finished_at_dt"] = job.finished_at
    return view


def _ahead_of(rank: Any, queued_at: Any, pk: Any) -> Q:
    """Jobs claimed before one with this rank, queued_at and pk (values or OuterRefs): the
    claim order of :func:`grading.services.job_claim`."""
    return (
        Q(rank__lt=rank)
        | Q(rank=rank, queued_at__lt=queued_at)
        | Q(rank=rank, queued_at=queued_at, pk__lt=pk)
    )


def jobs_running(*, course_id: int) -> QuerySet[GradingJob]:
    """The course's running jobs, longest running first, for the staff queue page."""
    return (
        GradingJob.objects.filter(submission__course_id=course_id, state=JobState.RUNNING)
        .select_related("submission__student", "submission__assignment", "submission__group")
        .order_by("started_at", "pk")
    )


def jobs_queued(*, course_id: int, queue: str, now: datetime, limit: int = 50) -> list[GradingJob]:
    """The course's first ``limit`` queued jobs of a queue, in claim order (held ones last),
    each with ``held`` and ``position``: how many claimable jobs of the queue (any course's)
    go before it, 0 for the next one. One query however many jobs wait."""
    ahead = (
        GradingJob.objects.filter(queue=OuterRef("queue"), state=JobState.QUEUED)
        .filter(_claimable(now))
        .filter(_ahead_of(OuterRef("rank"), OuterRef("queued_at"), OuterRef("pk")))
        .order_by()
        .values("queue")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return list(
        GradingJob.objects.filter(
            submission__course_id=course_id, queue=queue, state=JobState.QUEUED
        )
        .annotate(
            held=Case(
                When(hold_until__gt=now, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
            position=Coalesce(Subquery(ahead, output_field=IntegerField()), Value(0)),
        )
        .select_related("submission__student", "submission__assignment", "submission__group")
        .order_by("held", "rank", "queued_at", "pk")[:limit]
    )


def assignments_autograded(*, course_id: int) -> QuerySet[Assignment]:
    """The course's assignments that have an active autograder, each with ``active_bundles``
    (a one-item list), for the re-run buttons."""
    return (
        Assignment.objects.filter(course_id=course_id, bundles__active=True)
        .prefetch_related(
            Prefetch("bundles", queryset=Bundle.objects.filter(active=True), to_attr="active")
        )
        .order_by("position", "due_at", "slug")
    )


def bundle_setup_list(*, course_id: int, bundle_id: int | None = None) -> QuerySet[BundleSetup]:
    """setup.sh runs of the course's bundles (or of one bundle), for staff: newest bundle
    first, then by worker."""
    qs = setups(course_id=course_id)
    if bundle_id is not None:
        qs = qs.filter(bundle_id=bundle_id)
    return qs.order_by("bundle__assignment__position", "-bundle__created_at", "worker")


def autograder_card(*, enrollment: Enrollment, assignment: Assignment) -> dict[str, Any] | None:
    """Staff only (None for anyone else): the assignment's active autograder version, whether
    the caller may upload a new one (the instructor), and its setup.sh runs per worker."""
    if enrollment.role not in STAFF_ROLES or enrollment.course_id != assignment.course_id:
        return None
    bundle = (
        Bundle.objects.filter(assignment=assignment, active=True)
        .select_related("uploaded_by")
        .first()
    )
    return {
        "bundle": bundle,
        "may_upload": enrollment.role == Role.INSTRUCTOR,
        "setups": (
            list(bundle_setup_list(course_id=assignment.course_id, bundle_id=bundle.pk))
            if bundle is not None
            else []
        ),
    }


# --- grades, the gradebook and regrade requests ----------------------------------------------


def regrade_window_closes_at(assignment: Assignment) -> datetime | None:
    """The last instant a regrade request is taken: ``course.regrade_days`` calendar days
    after the grades were released, at the same local clock time in the course's zone
    (None before the release). A request at that very instant is still taken."""
    released = assignment.grades_released_at
    if released is None:
        return None
    course = assignment.course
    return deadlines.grace_end(released, course.regrade_days, course_tz(course))


def grades_released(assignment: Assignment, now: datetime) -> bool:
    released = assignment.grades_released_at
    return released is not None and released <= now


def student_points(grades: Iterable[Grade]) -> tuple[Decimal | None, bool]:
    """One student's points on one assignment from their grade rows there, and whether they
    are excused: the sum of the per-question grades when any question has points, else the
    whole-assignment grade (None: not graded)."""
    rows = list(grades)
    whole = next((g for g in rows if g.question == ""), None)
    excused = whole is not None and whole.excused
    per_question = [g.points for g in rows if g.question and g.points is not None]
    if per_question:
        return sum(per_question, Decimal(0)), excused
    return (whole.points if whole is not None else None), excused


def _changes_prefetch() -> Prefetch:
    return Prefetch(
        "changes",
        queryset=GradeChange.objects.select_related("changed_by").order_by("changed_at", "pk"),
    )


def grade_list(
    *, enrollment: Enrollment, assignment: Assignment, student: str | None = None
) -> QuerySet[Grade]:
    """Staff: the grade rows of an assignment (of one student with ``student``, a username),
    each with its history (``changes``, oldest first). Three queries however many rows."""
    if enrollment.role not in STAFF_ROLES or enrollment.course_id != assignment.course_id:
        raise NotFound("Only the course's TAs and instructors can see this.")
    qs = Grade.objects.filter(assignment=assignment)
    if student:
        qs = qs.filter(student__username=student)
    return (
        qs.select_related("student")
        .prefetch_related(_changes_prefetch())
        .order_by("student__username", "question")
    )


def grade_get(*, pk: int) -> Grade:
    return Grade.objects.select_related("student").prefetch_related(_changes_prefetch()).get(pk=pk)


def course_student_get(*, enrollment: Enrollment, username: str) -> Any:
    """Staff: a student (or waitlisted student) of their course, by username; 400
    ``unknown_student`` otherwise."""
    if enrollment.role not in STAFF_ROLES:
        raise NotFound("Only the course's TAs and instructors can see this.")
    return courses_course_student_get(course_id=enrollment.course_id, username=username).user


def _regrade_requests() -> QuerySet[RegradeRequest]:
    return RegradeRequest.objects.select_related(
        "submission__assignment__course", "student", "resolved_by"
    )


def regrade_request_list(
    *, enrollment: Enrollment, status: str | None = None, assignment_slug: str | None = None
) -> QuerySet[RegradeRequest]:
    """Staff: the course's regrade requests, newest first, by ``status`` (open, resolved) and
    assignment slug. One query however many requests (and one for the assignment filter)."""
    if enrollment.role not in STAFF_ROLES:
        raise NotFound("Only the course's TAs and instructors can see this.")
    qs = _regrade_requests().filter(submission__course_id=enrollment.course_id)
    if status:
        if status not in RegradeRequest.Status.values:
            message = f"status must be open or resolved, not '{status}'."
            raise ValidationFailed(message, fields={"status": [message]})
        qs = qs.filter(status=status)
    if assignment_slug:
        assignment_id = (
            Assignment.objects.filter(course_id=enrollment.course_id, slug=assignment_slug)
            .values_list("pk", flat=True)
            .first()
        )
        if assignment_id is None:
            message = f"'{assignment_slug}' is not an assignment of this course."
            raise ValidationFailed(message, fields={"assignment": [message]})
        qs = qs.filter(submission__assignment_id=assignment_id)
    return qs.order_by("-created_at", "-pk")


def regrade_request_get(*, user: Any, request_id: int) -> tuple[RegradeRequest, Enrollment]:
    """One regrade request, for whoever may see its submission: the requester (and the
    members of the submission's group) and the course's staff; anyone else gets 404."""
    request = _regrade_requests().filter(pk=request_id).first() if user.is_authenticated else None
    if request is None:
        raise NotFound("There is no such regrade request.")
    submission = request.submission
    enrollment = (
        Enrollment.objects.filter(course_id=submission.course_id, user=user)
        .select_related("course", "section", "user")
        .first()
    )
    if enrollment is not None and (
        enrollment.role in STAFF_ROLES
        or request.student_id == user.pk
        or submission.student_id == user.pk
        or (
            submission.group_id is not None
            and GroupMembership.objects.filter(group_id=submission.group_id, user=user).exists()
        )
    ):
        return request, enrollment
    raise NotFound("There is no such regrade request.")


@dataclass(frozen=True)
class AssignmentScore:
    """A released assignment on a student's grade page: the gradebook's result for it, when
    its grades were released, and the student's per-question grades."""

    assignment: Assignment
    grade: gradebook.AssignmentGrade
    regrade_window_closes_at: datetime | None
    questions: list[tuple[str, Decimal | None]]


@dataclass(frozen=True)
class StudentGrades:
    report: gradebook.GradeReport
    assignments: list[AssignmentScore]


def _category_policies(course_id: int) -> list[gradebook.CategoryPolicy]:
    return [
        gradebook.CategoryPolicy(slug=c.slug, weight=c.weight, bonus=c.bonus)
        for c in Category.objects.filter(course_id=course_id).order_by("position", "slug")
    ]


def _assignment_policy(
    assignment: Assignment, level: str | None, *, released: bool
) -> gradebook.AssignmentPolicy:
    """The policy input of one assignment at a level; its questions must be prefetched."""
    questions = list(assignment.questions.all())
    return gradebook.AssignmentPolicy(
        slug=assignment.slug,
        title=assignment.title,
        category=assignment.category.slug,
        max_points=max_points(questions, level, assignment.points),
        extra_credit_points=extra_credit_points(questions, level),
        released=released,
        readiness_threshold=assignment.readiness_threshold,
    )


def _assignments_with_questions(course_id: int) -> QuerySet[Assignment]:
    return (
        Assignment.objects.filter(course_id=course_id)
        .select_related("course", "category")
        .prefetch_related(Prefetch("questions", queryset=Question.objects.order_by("position")))
        .order_by("position", "due_at", "slug")
    )


def _score(grades: list[Grade]) -> gradebook.Score:
    points, excused = student_points(grades)
    return gradebook.Score(points=points, excused=excused)


def student_grades(*, enrollment: Enrollment, now: datetime) -> StudentGrades:
    """A student's (or waitlisted student's) own grades: the assignments whose grades are
    released, with their points at the student's level, per category, the weighted final
    percent and the readiness flag, by :func:`grading.gradebook.final_grade`. Staff and
    sit-ins have no grades: 404. Five queries however many assignments and grades."""
    if enrollment.role not in SUBMITTING_ROLES:
        raise NotFound(
            "Only students have grades in a course; staff read the gradebook "
            "(gradebook.csv) and each assignment's grades."
        )
    level = enrollment.section.level if enrollment.section is not None else None
    assignments = list(
        _assignments_with_questions(enrollment.course_id).filter(grades_released_at__lte=now)
    )
    grades: dict[int, list[Grade]] = {}
    for g in Grade.objects.filter(
        student_id=enrollment.user_id, assignment__in=[a.pk for a in assignments]
    ).order_by("question"):
        grades.setdefault(g.assignment_id, []).append(g)
    report = gradebook.final_grade(
        _category_policies(enrollment.course_id),
        [_assignment_policy(a, level, released=True) for a in assignments],
        {a.slug: _score(grades.get(a.pk, [])) for a in assignments},
    )
    by_slug = {g.slug: g for g in report.assignments}
    return StudentGrades(
        report=report,
        assignments=[
            AssignmentScore(
                assignment=a,
                grade=by_slug[a.slug],
                regrade_window_closes_at=regrade_window_closes_at(a),
                questions=[(g.question, g.points) for g in grades.get(a.pk, []) if g.question],
            )
            for a in assignments
        ],
    )


def gradebook_export(
    *, enrollment: Enrollment, now: datetime
) -> tuple[list[export.ExportRow], list[export.ExportAssignment]]:
    """Staff: the course's gradebook for :func:`grading.export.canvas_csv`. One row per
    student and waitlisted student (by last name, first name, username); one column per
    assignment, released or not, with the points the student has (empty when ungraded, EX when
    excused); ``Points Possible`` is the larger of the two levels' maxima. The final percent
    is the one the student sees: only released grades count, at the student's level. Six
    queries however many students, assignments and grades."""
    if enrollment.role not in STAFF_ROLES:
        raise NotFound("Only the course's TAs and instructors can see this.")
    course_id = enrollment.course_id
    students = list(
        Enrollment.objects.filter(course_id=course_id, role__in=sorted(SUBMITTING_ROLES))
        .select_related("user", "section")
        .order_by("user__last_name", "user__first_name", "user__username")
    )
    assignments = list(_assignments_with_questions(course_id))
    categories = _category_policies(course_id)
    policies: dict[str | None, list[gradebook.AssignmentPolicy]] = {}
    by_student: dict[int, dict[int, list[Grade]]] = {}
    for g in Grade.objects.filter(
        assignment__course_id=course_id, student_id__in=[e.user_id for e in students]
    ).order_by("question"):
        by_student.setdefault(g.student_id, {}).setdefault(g.assignment_id, []).append(g)
    rows = []
    for e in students:
        level = e.section.level if e.section is not None else None
        if level not in policies:
            policies[level] = [
                _assignment_policy(a, level, released=grades_released(a, now)) for a in assignments
            ]
        mine = by_student.get(e.user_id, {})
        scores = {a.slug: _score(mine.get(a.pk, [])) for a in assignments}
        report = gradebook.final_grade(categories, policies[level], scores)
        rows.append(
            export.ExportRow(
                last_name=e.user.last_name,
                first_name=e.user.first_name,
                user_id=e.user_id,
                username=e.user.username,
                email=e.user.email,
                section=e.section.code if e.section is not None else "",
                scores=scores,
                final_percent=report.final_percent,
            )
        )
    columns = [
        export.ExportAssignment(
            id=a.slug,
            title=a.title,
            points_possible=max_points(list(a.questions.all()), None, a.points),
        )
        for a in assignments
    ]
    return rows, columns


@dataclass(frozen=True)
class RegradePanel:
    """The receipt's regrade section: where the assignment's regrade window stands
    (``not_released``, ``open`` or ``closed``), its end, the questions one may ask about,
    whether the viewer may ask now, and the submission's regrade requests, newest first."""

    state: str
    released_at: datetime | None
    closes_at: datetime | None
    questions: list[str]
    may_request: bool
    requests: list[RegradeRequest]


def regrade_panel(*, enrollment: Enrollment, submission: Submission, now: datetime) -> RegradePanel:
    """For whoever may see the submission (``submissions.selectors.submission_get`` has
    checked that): its owner and group members, who may ask while the window is open, and
    the course's staff, who see the requests. Two queries."""
    assignment = submission.assignment
    closes = regrade_window_closes_at(assignment)
    if not grades_released(assignment, now):
        state = "not_released"
    elif closes is not None and now > closes:
        state = "closed"
    else:
        state = "open"
    return RegradePanel(
        state=state,
        released_at=assignment.grades_released_at,
        closes_at=closes,
        questions=list(assignment.questions.order_by("position").values_list("slug", flat=True)),
        may_request=state == "open" and enrollment.role in SUBMITTING_ROLES,
        requests=list(
            _regrade_requests().filter(submission=submission).order_by("-created_at", "-pk")
        ),
    )
