"""Anonymous grading: the one rule of who sees students' names on an assignment, and the
pseudonyms shown instead.

An assignment with ``anonymous_grading`` hides its students' names from the course's TAs
until the instructor reveals them (``Assignment.names_revealed_at``). Instructors always see
names (they are the ones who reveal); a student sees their own. Every page, API and CSV that
shows a TA a student of such an assignment asks :func:`names_hidden` (or takes a
:class:`StudentNames` from :func:`student_names`) and shows the pseudonym instead.

A pseudonym is stable per (assignment, student): ``"Anonymous 3f9a1c2e"``, the first 8 hex
digits of an HMAC-SHA256 of the two ids keyed with ``SECRET_KEY``. It never contains the
username or a guessable id, and differs from one assignment to the next, so two anonymous
assignments cannot be lined up by pseudonym. A project group's name (chosen by its members)
gets ``"Group 5d0e77a1"`` the same way."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from django.conf import settings

from courses.models import SUBMITTING_ROLES, Assignment, Enrollment, Role

if TYPE_CHECKING:
    from collections.abc import Iterable

STUDENT_PREFIX = "Anonymous "
GROUP_PREFIX = "Group "
HIDDEN_NOTE = "Anonymous grading: student names are hidden"


class Person(Protocol):
    """A user as pages show them (``django.contrib.auth`` users)."""

    @property
    def pk(self) -> Any: ...

    @property
    def username(self) -> str: ...

    def get_full_name(self) -> str: ...


def names_hidden(*, enrollment: Enrollment, assignment: Assignment) -> bool:
    """Whether this viewer sees the assignment's students by pseudonym: a TA of its course,
    while the assignment is anonymous and its names are not revealed. Instructors and
    students: never."""
    return (
        enrollment.role == Role.TA
        and enrollment.course_id == assignment.course_id
        and assignment.anonymous_grading
        and assignment.names_revealed_at is None
    )


def _digest(kind: str, assignment_id: int, other_id: int) -> str:
    message = f"anonymous-grading/{kind}/{assignment_id}/{other_id}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()[:8]


def student_pseudonym(*, assignment_id: int, student_id: int) -> str:
    """The student's stable pseudonym on this assignment, e.g. ``"Anonymous 3f9a1c2e"``."""
    return STUDENT_PREFIX + _digest("student", assignment_id, student_id)


def group_pseudonym(*, assignment_id: int, group_id: int) -> str:
    """A project group's stable pseudonym on this assignment, e.g. ``"Group 5d0e77a1"``."""
    return GROUP_PREFIX + _digest("group", assignment_id, group_id)


@dataclass(frozen=True)
class StudentNames:
    """How one viewer names the people of one assignment. With ``hidden`` every student is
    their pseudonym; staff of the course (``staff_ids``: graders, instructors writing in a
    thread) keep their names."""

    assignment_id: int
    hidden: bool
    staff_ids: frozenset[int] = field(default_factory=frozenset)

    def _masked(self, user_id: int | None) -> bool:
        return self.hidden and user_id is not None and user_id not in self.staff_ids

    def pseudonym(self, user_id: int) -> str:
        return student_pseudonym(assignment_id=self.assignment_id, student_id=user_id)

    def username(self, user: Person | None) -> str:
        """What stands for the username: the username, or the pseudonym."""
        if user is None:
            return ""
        return self.pseudonym(user.pk or 0) if self._masked(user.pk) else user.username

    def full_name(self, user: Person | None) -> str:
        """What stands for the name: the full name (else the username), or the pseudonym."""
        if user is None:
            return ""
        if self._masked(user.pk):
            return self.pseudonym(user.pk or 0)
        return user.get_full_name() or user.username

    def of_id(self, user_id: int, username: str) -> str:
        """The username given with its id, or the pseudonym."""
        return self.pseudonym(user_id) if self._masked(user_id) else username

    def group(self, group_id: int | None, name: str) -> str:
        """A project group's name, or its pseudonym."""
        if group_id is None or not self.hidden:
            return name
        return group_pseudonym(assignment_id=self.assignment_id, group_id=group_id)


def student_names(
    *, enrollment: Enrollment, assignment: Assignment, staff_ids: Iterable[int] = ()
) -> StudentNames:
    """The names this viewer sees on this assignment (see :func:`names_hidden`). The viewer
    is always staff to themselves."""
    return StudentNames(
        assignment_id=assignment.pk,
        hidden=names_hidden(enrollment=enrollment, assignment=assignment),
        staff_ids=frozenset({*staff_ids, enrollment.user_id}),
    )


def course_staff_ids(*, course_id: int) -> frozenset[int]:
    """The user ids of the course's TAs and instructors (one query): who keeps their name in
    a thread or a grade's history on an anonymous assignment."""
    return frozenset(
        Enrollment.objects.filter(
            course_id=course_id, role__in=[Role.TA, Role.INSTRUCTOR]
        ).values_list("user_id", flat=True)
    )


def pseudonym_student_id(*, assignment: Assignment, pseudonym: str) -> int | None:
    """The student of the assignment's course whose pseudonym this is (None: nobody's). A
    username matches nothing: a TA filtering by student on an anonymous assignment names
    them by the pseudonym they see, and cannot probe who is who. One query."""
    typed = (pseudonym or "").strip()
    if not typed.startswith(STUDENT_PREFIX):
        return None
    ids = Enrollment.objects.filter(
        course_id=assignment.course_id, role__in=sorted(SUBMITTING_ROLES)
    ).values_list("user_id", flat=True)
    return next(
        (
            user_id
            for user_id in ids
            if hmac.compare_digest(
                student_pseudonym(assignment_id=assignment.pk, student_id=user_id), typed
            )
        ),
        None,
    )
