"""A course's staff in the Django admin: the auth groups per staff role and their permissions
(``staff_groups_ensure``), and letting a roster's instructors and TAs in (``staff_admit``);
the instructor naming head TAs (``head_tas_set``), who may split the grading.

Which rows a person sees there is the admin's business (``courses.admin.scoping``): only those
of the courses they teach or assist in."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction

from courses.models import (
    Assignment,
    Category,
    Course,
    Enrollment,
    Extension,
    GroupMembership,
    ProjectGroup,
    Question,
    Role,
    Section,
)
from portal.errors import ApplicationError, PermissionDeniedError

# The auth groups that let a course's staff work in the Django admin.
STAFF_GROUPS: dict[str, str] = {Role.INSTRUCTOR: "Course instructors", Role.TA: "Course TAs"}
_COURSE_ROW_MODELS: list[type[models.Model]] = [
    Section,
    Enrollment,
    Category,
    Assignment,
    Question,
    Extension,
    ProjectGroup,
    GroupMembership,
]
# Per role, (model, action) pairs. Instructors manage their courses' rows and edit the course
# itself (never add or delete a course); TAs look. Only instructors grant extensions.
STAFF_GROUP_PERMISSIONS: dict[str, list[tuple[type[models.Model], str]]] = {
    Role.INSTRUCTOR: [
        *(
            (m, action)
            for m in _COURSE_ROW_MODELS
            for action in ("add", "change", "delete", "view")
        ),
        (Course, "change"),
        (Course, "view"),
    ],
    Role.TA: [(Course, "view"), *((m, "view") for m in _COURSE_ROW_MODELS)],
}


def staff_groups_ensure() -> dict[str, Group]:
    """The staff groups by role, each holding exactly the permissions of
    ``STAFF_GROUP_PERMISSIONS``: a group or permission that is missing is created, a permission
    the group should not have is taken away. Where all is in place it only reads."""
    with transaction.atomic(savepoint=False):
        wanted = _permission_ids_by_role()
        groups = {g.name: g for g in Group.objects.filter(name__in=STAFF_GROUPS.values())}
        by_role: dict[str, Group] = {
            role: groups.get(name) or Group.objects.get_or_create(name=name)[0]
            for role, name in STAFF_GROUPS.items()
        }
        _group_permissions_set(by_role, wanted)
    return by_role


def _permission_ids_by_role() -> dict[str, set[int]]:
    """The ids of the permissions each role's group should hold."""
    wanted_models = {m for pairs in STAFF_GROUP_PERMISSIONS.values() for m, _ in pairs}
    content_types = ContentType.objects.get_for_models(*wanted_models)
    permissions = {
        (p.content_type_id, p.codename): p
        for p in Permission.objects.filter(content_type__in=list(content_types.values()))
    }
    wanted: dict[str, set[int]] = {}
    for role, pairs in STAFF_GROUP_PERMISSIONS.items():
        wanted[role] = set()
        for model, action in pairs:
            content_type = content_types[model]
            codename = f"{action}_{model._meta.model_name}"
            permission = permissions.get((content_type.pk, codename))
            if permission is None:  # migrate makes them; a database it has not seen may not
                permission = permissions[content_type.pk, codename] = Permission.objects.create(
                    content_type=content_type,
                    codename=codename,
                    name=f"Can {action} {model._meta.verbose_name}",
                )
            wanted[role].add(permission.pk)
    return wanted


def _group_permissions_set(by_role: dict[str, Group], wanted: dict[str, set[int]]) -> None:
    """Makes each role's group hold exactly the permissions ``wanted`` for it: the missing ones
    added, the others taken away."""
    links = Group.permissions.through.objects
    held = set(
        links.filter(group__in=list(by_role.values())).values_list(
            "pk", "group_id", "permission_id"
        )
    )
    goal = {(by_role[role].pk, pk) for role, pks in wanted.items() for pk in pks}
    extra = [pk for pk, group_id, perm_id in held if (group_id, perm_id) not in goal]
    missing = goal - {(group_id, perm_id) for _, group_id, perm_id in held}
    if extra:
        links.filter(pk__in=extra).delete()
    if missing:
        links.bulk_create(
            [links.model(group_id=g, permission_id=p) for g, p in sorted(missing)],
            ignore_conflicts=True,
        )


def staff_admit(staff: list[tuple[User, str]]) -> set[int]:
    """Lets a roster's instructors and TAs into the admin: ``is_staff`` (given here, never taken
    away; ``is_superuser`` is never touched) and the staff group of their role. Returns the pks
    of the people it changed; writes nothing for those already set.

    Runs inside ``roster_import``'s transaction, with the people ``(user, role)`` saved."""
    if not staff:
        return set()
    user_model = get_user_model()
    promoted = {user.pk for user, _ in staff if not user.is_staff}
    if promoted:
        user_model.objects.filter(pk__in=promoted).update(is_staff=True)
        for user, _ in staff:
            user.is_staff = True
    groups = staff_groups_ensure()
    members = Group.user_set.through.objects
    goal = {(user.pk, groups[role].pk) for user, role in staff}
    held = set(
        members.filter(
            user_id__in={u for u, _ in goal}, group_id__in={g for _, g in goal}
        ).values_list("user_id", "group_id")
    )
    missing = goal - held
    if missing:
        members.bulk_create(
            [members.model(user_id=u, group_id=g) for u, g in sorted(missing)],
            ignore_conflicts=True,
        )
    return promoted | {u for u, _ in missing}


def head_tas_set(*, by: Enrollment, usernames: list[str]) -> list[Enrollment]:
    """The instructor names the course's head TAs (TAs who may assign graders): exactly
    these, the others no longer. Someone who is not a TA of the course: 400 ``not_a_ta``,
    nothing changed. Returns the head TAs, by username."""
    if by.role != Role.INSTRUCTOR:
        raise PermissionDeniedError("Only the instructor names head TAs.")
    wanted = sorted(set(usernames))
    tas = {
        e.user.username: e
        for e in Enrollment.objects.filter(course_id=by.course_id, role=Role.TA).select_related(
            "user"
        )
    }
    unknown = [u for u in wanted if u not in tas]
    if unknown:
        raise ApplicationError(
            f"Not a TA of this course: {', '.join(unknown)}.", code="not_a_ta", status=400
        )
    with transaction.atomic():
        Enrollment.objects.filter(course_id=by.course_id, role=Role.TA).exclude(
            pk__in=[tas[u].pk for u in wanted]
        ).update(head_ta=False)
        Enrollment.objects.filter(pk__in=[tas[u].pk for u in wanted]).update(head_ta=True)
    return [tas[u] for u in wanted]
