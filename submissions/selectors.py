"""Every read of submissions, with the permission check inside: a student sees their own
(and their group's), staff see all of their course's; anyone else gets 404."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from courses.anonymity import names_hidden, pseudonym_student_id
from courses.models import STAFF_ROLES, Assignment, Enrollment, GroupMembership
from portal.errors import NotFound
from submissions import hooks
from submissions.models import Submission, SubmissionFile
from submissions.uploads import MB, UploadLimits


def _with_details(qs: QuerySet[Submission]) -> QuerySet[Submission]:
    """With the owner, files, collaborators, and what other apps prefetch (grading: the jobs
    and their results, see ``submissions.hooks``)."""
    return qs.select_related("student", "group", "assignment", "course").prefetch_related(
        Prefetch("files", queryset=SubmissionFile.objects.order_by("name")),
        "collaborators",
        *hooks.prefetches(),
    )


def _own_filter(*, enrollment: Enrollment) -> Q:
    """A student's own submissions and those of their project group."""
    group_ids = GroupMembership.objects.filter(
        course_id=enrollment.course_id, user_id=enrollment.user_id
    ).values("group_id")
    return Q(student_id=enrollment.user_id) | Q(group_id__in=group_ids)


def submission_list(
    *,
    enrollment: Enrollment,
    assignment: Assignment,
    student: str | None = None,
    section: str | None = None,
    timing: str | None = None,
) -> QuerySet[Submission]:
    """Newest first. Students: their own (or their group's); staff: all, with filters.
    ``student`` is a username, or for a TA on an anonymous assignment the pseudonym they
    see (a username then matches nothing, so the filter tells nobody who is who)."""
    qs = Submission.objects.filter(assignment=assignment)
    if enrollment.role in STAFF_ROLES:
        if student and names_hidden(enrollment=enrollment, assignment=assignment):
            user_id = pseudonym_student_id(assignment=assignment, pseudonym=student)
            if user_id is None:
                qs = qs.none()
            else:
                qs = qs.filter(
                    Q(student_id=user_id) | Q(group__memberships__user_id=user_id)
                ).distinct()
        elif student:
            qs = qs.filter(
                Q(student__username=student) | Q(group__memberships__user__username=student)
            ).distinct()
        if section:
            qs = qs.filter(
                student__enrollments__course_id=assignment.course_id,
                student__enrollments__section__code=section,
            )
        if timing:
            qs = qs.filter(timing=timing)
    else:
        qs = qs.filter(_own_filter(enrollment=enrollment))
    return _with_details(qs).order_by("-submitted_at", "-number", "-id")


def submission_get(
    *, user: AbstractBaseUser | AnonymousUser, submission_id: int
) -> tuple[Submission, Enrollment]:
    """One submission, for its owner, a member of its group, or the course's staff."""
    if not user.is_authenticated:
        raise NotFound()
    submission = _with_details(Submission.objects.filter(pk=submission_id)).first()
    if submission is None:
        raise NotFound("There is no such submission.")
    enrollment = (
        Enrollment.objects.filter(course_id=submission.course_id, user_id=user.pk)
        .select_related("course", "section", "user")
        .first()
    )
    if enrollment is None:
        raise NotFound("There is no such submission.")
    if enrollment.role in STAFF_ROLES or submission.student_id == user.pk:
        return submission, enrollment
    if (
        submission.group_id
        and GroupMembership.objects.filter(group_id=submission.group_id, user_id=user.pk).exists()
    ):
        return submission, enrollment
    raise NotFound("There is no such submission.")


def _counting_of(rows: Iterable[dict[str, Any]]) -> set[int]:
    """The ids of the submissions that count among these rows (``assignment_id``,
    ``group_id``, ``student_id``, ``number``, ``chosen``, ``id``): per owner (group or
    student) and assignment, the one staff chose, else the latest."""
    best: dict[tuple[int, str, int], tuple[bool, int, int]] = {}
    for r in rows:
        owner = ("g", r["group_id"]) if r["group_id"] else ("s", r["student_id"])
        k = (r["assignment_id"], owner[0], owner[1])
        rank = (r["chosen"], r["number"], r["id"])
        if k not in best or rank > best[k]:
            best[k] = rank
    return {rank[2] for rank in best.values()}


_RANKED = ("assignment_id", "group_id", "student_id", "number", "chosen", "id")


def counting_ids(*, submissions: list[Submission]) -> set[int]:
    """Of these submissions, the ids of those that count: per owner (group or student) and
    assignment, the one staff chose, else the latest. One query whatever the number."""
    if not submissions:
        return set()
    assignment_ids = {s.assignment_id for s in submissions}
    owners = Submission.objects.filter(assignment_id__in=assignment_ids).filter(
        Q(student_id__in={s.student_id for s in submissions}, group__isnull=True)
        | Q(group_id__in={s.group_id for s in submissions if s.group_id})
    )
    return _counting_of(owners.values(*_RANKED))


def counting_owners(*, assignment_id: int) -> dict[int, tuple[int, str]]:
    """Every submission of the assignment that counts: per submitting student id, the
    submission's id and the student's username. The same rule as :func:`counting_ids`, read
    for the whole assignment at once (no list of ids sent to the database): for staff
    queues over thousands of submissions. One query."""
    rows = list(
        Submission.objects.filter(assignment_id=assignment_id).values(*_RANKED, "student__username")
    )
    counting = _counting_of(rows)
    return {r["student_id"]: (r["id"], r["student__username"]) for r in rows if r["id"] in counting}


def _best(rows: Iterable[Submission]) -> Submission | None:
    """Of one owner's submissions, the one that counts: chosen, else the latest."""
    return max(rows, key=lambda s: (s.chosen, s.number, s.pk), default=None)


def counting_submissions(
    *, assignment: Assignment, user_ids: Iterable[int]
) -> dict[int, Submission | None]:
    """Per student, the submission that counts for them on the assignment (their own; their
    group's for group work): the one staff (or they) chose, else the latest; None before any.
    The same rule as :func:`counting_ids`, from the students' side. Two queries."""
    ids = set(user_ids)
    qs = Submission.objects.filter(assignment=assignment).select_related("assignment")
    if assignment.group:
        group_of = dict(
            GroupMembership.objects.filter(
                course_id=assignment.course_id, user_id__in=ids
            ).values_list("user_id", "group_id")
        )
        by_group: dict[int, list[Submission]] = {}
        for s in qs.filter(group_id__in=set(group_of.values())):
            by_group.setdefault(s.group_id or 0, []).append(s)
        return {u: _best(by_group.get(group_of.get(u, -1), [])) for u in ids}
    by_student: dict[int, list[Submission]] = {}
    for s in qs.filter(student_id__in=ids, group__isnull=True):
        by_student.setdefault(s.student_id, []).append(s)
    return {u: _best(by_student.get(u, [])) for u in ids}


def grades_out(assignment: Assignment, now: datetime | None = None) -> bool:
    """Whether the assignment's grades are released (then the submission that counts is
    fixed for its students)."""
    released = assignment.grades_released_at
    return released is not None and released <= (now or timezone.now())


def upload_limits_for(*, assignment: Assignment) -> UploadLimits:
    """The upload limits of an assignment: its ``max_upload_mb`` per file, and four times that
    for all the files of one submission (the API's rule)."""
    mb = assignment.max_upload_mb or 50
    return UploadLimits(max_file_bytes=mb * MB, max_total_bytes=4 * mb * MB)


def section_codes(*, enrollment: Enrollment, user_ids: Iterable[int] | None) -> dict[int, str]:
    """Per user id (None: everyone in the course), the code of their section in the
    caller's course: for staff lists, so staff only (others get an empty map). One
    query."""
    if enrollment.role not in STAFF_ROLES:
        return {}
    rows = Enrollment.objects.filter(course_id=enrollment.course_id, section__isnull=False)
    if user_ids is not None:
        rows = rows.filter(user_id__in=set(user_ids))
    return dict(rows.values_list("user_id", "section__code"))
