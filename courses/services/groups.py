"""Project groups: a student creates one (and gets a join code to share), joins one by its
code, or leaves one before it has handed work in. Refusals that clash with the state of the
course answer 409."""

from __future__ import annotations

import secrets
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from courses import deadlines
from courses.models import (
    SUBMITTING_ROLES,
    Assignment,
    Enrollment,
    GroupMembership,
    ProjectGroup,
)
from portal.errors import ApplicationError, NotFound, PermissionDeniedError

# Join codes avoid look-alike characters (0/O, 1/I/L) so they can be read aloud.
JOIN_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


class AlreadyInGroup(ApplicationError):
    code = "already_in_group"
    status = 409
    default_message = "You are already in a project group: leave it first."


def _require_student(enrollment: Enrollment, doing: str) -> None:
    if enrollment.role not in SUBMITTING_ROLES:
        raise PermissionDeniedError(f"Only students can {doing}.")


def group_max_size(*, course_id: int) -> int | None:
    """The largest group any group assignment of the course allows (None: no group work)."""
    sizes = Assignment.objects.filter(course_id=course_id, group=True).values_list(
        "group_max", flat=True
    )
    return max(sizes, default=None)


def _open_check(enrollment: Enrollment, now: datetime | None) -> None:
    """Groups are formed and joined until the course's last group assignment closes (the
    end of its grace period): after it, 409 ``group_work_closed``."""
    course = enrollment.course
    tz = deadlines.zone(course.timezone)
    ends = [
        deadlines.grace_end(a.due_at, a.grace_days, tz)
        for a in Assignment.objects.filter(course_id=course.pk, group=True)
    ]
    if ends and max(ends) < (now or timezone.now()):
        raise ApplicationError(
            "Group work in this course closed on "
            f"{max(ends).astimezone(tz):%a %b %-d %Y, %-I:%M %p %Z}: groups can no longer be "
            "formed or joined.",
            code="group_work_closed",
            status=409,
        )


def _levels_check(enrollment: Enrollment, group: ProjectGroup) -> None:
    """One level per group (undergraduate or graduate) unless the course's
    ``groups_mix_levels``: 409 ``group_mixed_levels``."""
    if enrollment.course.groups_mix_levels or enrollment.section is None:
        return
    levels = set(
        Enrollment.objects.filter(
            course_id=enrollment.course_id,
            user_id__in=GroupMembership.objects.filter(group=group).values("user_id"),
        ).values_list("section__level", flat=True)
    )
    mine = enrollment.section.level
    if levels and levels != {mine}:
        theirs = ", ".join(sorted(str(level) for level in levels if level))
        raise ApplicationError(
            f"{group.name} is a group of {theirs} students; you are {mine}: in this course "
            "a project group keeps to one level.",
            code="group_mixed_levels",
            status=409,
        )


def group_create(*, enrollment: Enrollment, name: str, now: datetime | None = None) -> ProjectGroup:
    """A new project group with the caller as its first member, and a join code to share;
    while group work is open."""
    _require_student(enrollment, "create project groups")
    name = " ".join((name or "").split())
    if not name:
        raise ApplicationError("Give the group a name.", code="invalid")
    if len(name) > 100:
        raise ApplicationError("A group name has at most 100 characters.", code="invalid")
    if group_max_size(course_id=enrollment.course_id) is None:
        raise ApplicationError(
            "This course has no group assignments.", code="no_group_work", status=409
        )
    _open_check(enrollment, now)
    with transaction.atomic():
        Enrollment.objects.select_for_update().filter(pk=enrollment.pk).get()
        if GroupMembership.objects.filter(
            course_id=enrollment.course_id, user_id=enrollment.user_id
        ).exists():
            raise AlreadyInGroup()
        if ProjectGroup.objects.filter(course_id=enrollment.course_id, name=name).exists():
            raise ApplicationError(
                f"There is already a group called '{name}'.", code="group_name_taken", status=409
            )
        group = ProjectGroup.objects.create(
            course_id=enrollment.course_id, name=name, join_code=_new_join_code()
        )
        GroupMembership.objects.create(
            group=group, course_id=enrollment.course_id, user_id=enrollment.user_id
        )
    return group


def _new_join_code() -> str:
    while True:
        code = "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(8))
        if not ProjectGroup.objects.filter(join_code=code).exists():
            return code


def group_join(
    *, enrollment: Enrollment, join_code: str, now: datetime | None = None
) -> ProjectGroup:
    """Joins the group with this code, while group work is open, keeping to one level per
    group. Joining one's own group again changes nothing."""
    _require_student(enrollment, "join project groups")
    _open_check(enrollment, now)
    code = (join_code or "").strip().upper()
    with transaction.atomic():
        group = (
            ProjectGroup.objects.select_for_update()
            .filter(course_id=enrollment.course_id, join_code=code)
            .first()
        )
        if group is None:
            raise NotFound("No project group in this course has that join code.")
        current = GroupMembership.objects.filter(
            course_id=enrollment.course_id, user_id=enrollment.user_id
        ).first()
        if current is not None:
            if current.group_id == group.pk:
                return group
            raise AlreadyInGroup()
        _levels_check(enrollment, group)
        limit = group_max_size(course_id=enrollment.course_id) or 1
        size = GroupMembership.objects.filter(group=group).count()
        if size >= limit:
            raise ApplicationError(
                f"{group.name} is full: groups have at most {limit} members.",
                code="group_size",
                status=409,
            )
        GroupMembership.objects.create(
            group=group, course_id=enrollment.course_id, user_id=enrollment.user_id
        )
    return group


def group_leave(*, enrollment: Enrollment) -> None:
    """Leaves one's group, only before its first group submission (which sets the group's
    ``locked_at``); an empty group goes away."""
    with transaction.atomic():
        membership = (
            GroupMembership.objects.select_for_update()
            .filter(course_id=enrollment.course_id, user_id=enrollment.user_id)
            .select_related("group")
            .first()
        )
        if membership is None:
            raise NotFound("You are not in a project group.")
        group = ProjectGroup.objects.select_for_update().get(pk=membership.group_id)
        if group.locked_at is not None:
            raise ApplicationError(
                f"{group.name} has handed work in, so its members are fixed. "
                "Ask the instructor if a change is needed.",
                code="group_locked",
                status=409,
            )
        membership.delete()
        if not GroupMembership.objects.filter(group=group).exists():
            group.delete()
