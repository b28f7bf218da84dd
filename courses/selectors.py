"""Every read a view or API needs, with the permission check inside.

A caller who is not enrolled gets ``NotEnrolled`` (404), whether the course exists or not."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Prefetch, Q, QuerySet

from courses import deadlines
from courses.anonymity import (  # noqa: F401  (re-exported: anonymous grading's one rule)
    StudentNames,
    names_hidden,
    student_names,
)
from courses.models import (
    STAFF_ROLES,
    SUBMITTING_ROLES,
    Assignment,
    Category,
    ConfigChange,
    Course,
    Enrollment,
    Extension,
    GroupMembership,
    Level,
    NotificationPreference,
    ProjectGroup,
    Question,
    Requirement,
    Role,
)
from portal.errors import ApplicationError, NotEnrolled, NotFound


def enrollment_list_for_user(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Enrollment]:
    """The caller's courses, one row per enrollment, with course and section."""
    if not user.is_authenticated:
        return Enrollment.objects.none()
    return (
        Enrollment.objects.filter(user_id=user.pk)
        .select_related("course", "section")
        .order_by("course__term", "course__title")
    )


def enrollment_get(*, user: AbstractBaseUser | AnonymousUser, course_slug: str) -> Enrollment:
    """The caller's enrollment in the course; ``NotEnrolled`` (404) otherwise."""
    if not user.is_authenticated:
        raise NotEnrolled()
    try:
        return Enrollment.objects.select_related("course", "section", "user").get(
            user_id=user.pk, course__slug=course_slug
        )
    except Enrollment.DoesNotExist:
        raise NotEnrolled() from None


def course_tz(course: Course) -> ZoneInfo:
    return deadlines.zone(course.timezone)


def max_points(questions: list[Question], level: str | None, default: Decimal) -> Decimal:
    """An assignment's maximum for a level: the points required at that level (extra credit
    comes on top). With no questions, the assignment's own ``points``. ``level=None`` (staff
    without a section) gives the larger of the two levels' maxima."""
    if not questions:
        return default
    if level is None:
        return max(max_points(questions, lvl, default) for lvl in Level.values)
    return sum(
        (q.points for q in questions if q.requirement_for(level) == Requirement.REQUIRED),
        Decimal(0),
    )


def extra_credit_points(questions: list[Question], level: str | None) -> Decimal:
    if level is None:
        return Decimal(0)
    return sum(
        (q.points for q in questions if q.requirement_for(level) == Requirement.EXTRA_CREDIT),
        Decimal(0),
    )


@dataclass(frozen=True)
class AssignmentRow:
    """An assignment as one caller sees it."""

    assignment: Assignment
    questions: list[Question]
    max_points: Decimal
    extra_credit_points: Decimal
    max_points_by_level: dict[str, Decimal]
    due_at: datetime
    grace_ends_at: datetime
    released: bool
    # The caller's own deadline, for those who hand work in (students, waitlisted).
    my_deadline: deadlines.Deadline | None

    @property
    def closes_at(self) -> datetime | None:
        deadline = self.my_deadline
        if deadline is None:
            return (
                None if self.assignment.after_grace == deadlines.ACCEPT_LATE else self.grace_ends_at
            )
        return deadline.closes_at()

    def time_left(self, now: datetime) -> str:
        due = self.my_deadline.due_at if self.my_deadline else self.due_at
        grace = self.my_deadline.grace_ends_at if self.my_deadline else self.grace_ends_at
        if now <= due:
            return deadlines.time_left(now, due)
        if now <= grace:
            return "in grace period, " + deadlines.time_left(now, grace)
        if self.assignment.after_grace == deadlines.ACCEPT_LATE:
            return "late work still accepted"
        return "closed"


def _is_released(assignment: Assignment, now: datetime) -> bool:
    return assignment.release_at is None or assignment.release_at <= now


def assignment_rows(*, enrollment: Enrollment, now: datetime) -> list[AssignmentRow]:
    """The assignments the caller may see (students: released ones; staff: all), each with its
    deadlines in the course's zone and, for a student, their own deadline. Three queries
    however many assignments, questions and extensions there are."""
    course = enrollment.course
    tz = course_tz(course)
    qs = Assignment.objects.filter(course=course).select_related("category")
    if enrollment.role not in STAFF_ROLES:
        qs = qs.filter(Q(release_at__isnull=True) | Q(release_at__lte=now))
    prefetches: list[str | Prefetch] = [
        Prefetch("questions", queryset=Question.objects.order_by("position"))
    ]
    if enrollment.can_submit:
        prefetches.append(
            Prefetch(
                "extensions",
                queryset=Extension.objects.filter(student_id=enrollment.user_id),
                to_attr="my_extensions",
            )
        )
    level = enrollment.section.level if enrollment.section is not None else None
    rows = []
    for a in qs.prefetch_related(*prefetches).order_by("position", "due_at", "slug"):
        questions = list(a.questions.all())
        my_deadline = None
        if enrollment.can_submit:
            mine: list[Extension] = getattr(a, "my_extensions", [])
            ext = mine[0] if mine else None
            my_deadline = deadlines.student_deadline(
                due_at=a.due_at,
                grace_days=a.grace_days,
                after_grace=a.after_grace,
                tz=tz,
                extension_due_at=ext.due_at if ext else None,
            )
        rows.append(
            AssignmentRow(
                assignment=a,
                questions=questions,
                max_points=max_points(questions, level, a.points),
                extra_credit_points=extra_credit_points(questions, level),
                max_points_by_level={
                    lvl: max_points(questions, lvl, a.points) for lvl in Level.values
                },
                due_at=a.due_at,
                grace_ends_at=deadlines.grace_end(a.due_at, a.grace_days, tz),
                released=_is_released(a, now),
                my_deadline=my_deadline,
            )
        )
    return rows


def course_staff(*, course: Course) -> QuerySet[Enrollment]:
    return (
        Enrollment.objects.filter(course=course, role__in=sorted(STAFF_ROLES))
        .select_related("user", "section")
        .order_by("-role", "user__last_name", "user__username")
    )


def section_counts(*, course: Course) -> dict[int, dict[str, int]]:
    """Per section id, how many enrollments of each role (one query)."""
    from django.db.models import Count

    out: dict[int, dict[str, int]] = {}
    rows = (
        Enrollment.objects.filter(course=course, section__isnull=False)
        .values("section_id", "role")
        .annotate(n=Count("id"))
    )
    for row in rows:
        out.setdefault(row["section_id"], {})[row["role"]] = row["n"]
    return out


def assignment_get(*, enrollment: Enrollment, slug: str, now: datetime) -> Assignment:
    """One assignment of the caller's course. Students (and sit-ins) get ``not_released``
    (404) for one that is not released yet; staff see every assignment."""
    try:
        assignment = Assignment.objects.select_related("course", "category").get(
            course_id=enrollment.course_id, slug=slug
        )
    except Assignment.DoesNotExist:
        raise NotFound("There is no such assignment in this course.") from None
    if enrollment.role not in STAFF_ROLES and not _is_released(assignment, now):
        raise NotFound(f"{assignment.title} is not released yet.", code="not_released")
    return assignment


def enrollment_get_staff(*, user: AbstractBaseUser | AnonymousUser, course_slug: str) -> Enrollment:
    """The caller's enrollment where they are a TA or instructor. Others enrolled get 404:
    a staff-only list is a resource they may not see."""
    enrollment = enrollment_get(user=user, course_slug=course_slug)
    if enrollment.role not in STAFF_ROLES:
        raise NotFound("Only the course's TAs and instructors can see this.")
    return enrollment


def staff_assignment_get(
    *, user: AbstractBaseUser | AnonymousUser, course_slug: str, assignment_slug: str, now: datetime
) -> tuple[Enrollment, Assignment]:
    """The caller's staff enrollment and one assignment of the course (staff pages and APIs
    on an assignment); anyone not staff gets 404, as does an unknown assignment."""
    enrollment = enrollment_get_staff(user=user, course_slug=course_slug)
    return enrollment, assignment_get(enrollment=enrollment, slug=assignment_slug, now=now)


def group_list(*, enrollment: Enrollment) -> QuerySet[ProjectGroup]:
    """Staff: every project group of the course; a student: their own (zero or one)."""
    qs = ProjectGroup.objects.filter(course_id=enrollment.course_id)
    if enrollment.role not in STAFF_ROLES:
        qs = qs.filter(memberships__user_id=enrollment.user_id)
    return qs.prefetch_related(
        Prefetch("memberships", queryset=GroupMembership.objects.select_related("user"))
    ).order_by("name")


def group_get(*, pk: int) -> ProjectGroup:
    return ProjectGroup.objects.prefetch_related(
        Prefetch("memberships", queryset=GroupMembership.objects.select_related("user"))
    ).get(pk=pk)


def my_group(*, enrollment: Enrollment) -> ProjectGroup | None:
    return group_list(enrollment=enrollment).filter(memberships__user_id=enrollment.user_id).first()


def extension_list(*, enrollment: Enrollment) -> QuerySet[Extension]:
    """Staff: every extension of the course; a student: their own."""
    qs = Extension.objects.filter(assignment__course_id=enrollment.course_id)
    if enrollment.role not in STAFF_ROLES:
        qs = qs.filter(student_id=enrollment.user_id)
    return qs.select_related("assignment", "student", "granted_by").order_by(
        "assignment__position", "student__username"
    )


def assignment_row(*, enrollment: Enrollment, slug: str, now: datetime) -> AssignmentRow:
    """One assignment as the caller sees it (its own page): ``assignment_get``'s permission
    check and 404s, then the same row as the assignment list gives, with the assignment's
    course and category loaded."""
    assignment = assignment_get(enrollment=enrollment, slug=slug, now=now)
    for row in assignment_rows(enrollment=enrollment, now=now):
        if row.assignment.pk == assignment.pk:
            return replace(row, assignment=assignment)
    raise NotFound("There is no such assignment in this course.")  # pragma: no cover


def _course_member_get(
    *, course_id: int, username: str, roles: frozenset[str] | set[str], refusal: ApplicationError
) -> Enrollment:
    found = (
        Enrollment.objects.filter(
            course_id=course_id,
            user__username=(username or "").strip(),
            role__in=sorted(roles),
        )
        .select_related("user")
        .first()
    )
    if found is None:
        raise refusal
    return found


def course_student_get(*, course_id: int, username: str) -> Enrollment:
    """A student (or waitlisted student) of the course, by username; 400 ``unknown_student``
    otherwise (staff naming the person they mean to grade or extend)."""
    return _course_member_get(
        course_id=course_id,
        username=username,
        roles=SUBMITTING_ROLES,
        refusal=ApplicationError(
            f"'{username}' is not a student in this course.", code="unknown_student"
        ),
    )


def course_grader_get(*, course_id: int, username: str) -> Enrollment:
    """A TA or instructor of the course, by username; 400 ``unknown_grader`` otherwise (a
    grader named for a share of the grading or a regrade request)."""
    return _course_member_get(
        course_id=course_id,
        username=username,
        roles=STAFF_ROLES,
        refusal=ApplicationError(
            f"'{username}' is not a TA or instructor of this course.", code="unknown_grader"
        ),
    )


def notification_preference_get(*, user: AbstractBaseUser) -> NotificationPreference:
    """A person's email preferences: their stored row, or (none stored yet) an unsaved one
    with every kind on. One query."""
    found = NotificationPreference.objects.filter(user_id=user.pk).first()
    return found if found is not None else NotificationPreference(user_id=user.pk)


def head_ta_usernames(*, course_id: int) -> list[str]:
    """The course's head TAs (TAs who may assign graders), by username. One query."""
    return list(
        Enrollment.objects.filter(course_id=course_id, role=Role.TA, head_ta=True)
        .order_by("user__username")
        .values_list("user__username", flat=True)
    )


def enrollment_get_instructor(
    *, user: AbstractBaseUser | AnonymousUser, course_slug: str
) -> Enrollment:
    """The caller's enrollment where they are the course's instructor. Others enrolled get
    404 (the settings page is the instructor's; TAs read the change log)."""
    enrollment = enrollment_get(user=user, course_slug=course_slug)
    if enrollment.role != Role.INSTRUCTOR:
        raise NotFound("Only the course's instructor can see this.")
    return enrollment


def category_list(*, course_id: int) -> list[Category]:
    """The course's categories in order, each with ``n_assignments``. One query."""
    from django.db.models import Count

    return list(
        Category.objects.filter(course_id=course_id)
        .annotate(n_assignments=Count("assignments"))
        .order_by("position", "slug")
    )


CHANGES_SHOWN = 100
CHANGES_MAX = 500


def config_change_list(*, enrollment: Enrollment) -> QuerySet[ConfigChange]:
    """The course's configuration changes, newest first, with who made them (staff only:
    others get 404). Slice it: the API and the page show a page at a time."""
    if enrollment.role not in STAFF_ROLES:
        raise NotFound("Only the course's TAs and instructors can see this.")
    return (
        ConfigChange.objects.filter(course_id=enrollment.course_id)
        .select_related("by")
        .order_by("-at", "-id")
    )
