"""The database itself guards the courses' invariants, whatever code writes the rows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from courses.models import (
    Assignment,
    Category,
    Course,
    Enrollment,
    Extension,
    GroupMembership,
    Section,
)
from tests.factories import (
    AssignmentFactory,
    CategoryFactory,
    CourseFactory,
    EnrollmentFactory,
    ExtensionFactory,
    GroupMembershipFactory,
    ProjectGroupFactory,
    QuestionFactory,
    SectionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

DUE = datetime(2021, 2, 13, 4, 59, tzinfo=UTC)


def refused(write: Callable[[], Any]) -> None:
    """The write fails in the database; the savepoint keeps the test's transaction usable."""
    with pytest.raises(IntegrityError), transaction.atomic():
        write()


# --- one enrollment per person per course ----------------------------------------------------


def test_one_enrollment_per_person_per_course(student: Enrollment, sections: dict) -> None:
    refused(
        lambda: Enrollment.objects.create(
            course=student.course, user=student.user, section=sections["CS7643"], role="ta"
        )
    )


def test_the_same_person_may_enroll_in_another_course(student: Enrollment) -> None:
    other = SectionFactory()
    EnrollmentFactory(user=student.user, section=other)

    assert Enrollment.objects.filter(user=student.user).count() == 2


@pytest.mark.parametrize("role", ["student", "waitlisted"])
def test_students_and_waitlisted_have_a_section(course: Course, role: str) -> None:
    user = UserFactory()
    refused(lambda: Enrollment.objects.create(course=course, user=user, role=role))


def test_a_sit_in_needs_no_section(course: Course) -> None:
    Enrollment.objects.create(course=course, user=UserFactory(), role="sit_in")


def test_an_enrollment_role_must_be_known(sections: dict) -> None:
    refused(lambda: EnrollmentFactory(section=sections["CS4803"], role="auditor"))


# --- unique slugs ----------------------------------------------------------------------------


def test_course_slug_is_unique(course: Course) -> None:
    refused(lambda: Course.objects.create(slug=course.slug, title="X", term="Y", timezone="UTC"))


def test_section_code_is_unique_within_a_course(sections: dict, course: Course) -> None:
    refused(
        lambda: Section.objects.create(course=course, code="CS4803", level="graduate", capacity=1)
    )


def test_another_course_may_use_the_same_section_code(sections: dict) -> None:
    Section.objects.create(course=CourseFactory(), code="CS4803", level="graduate", capacity=1)


def test_category_slug_is_unique_within_a_course(homework: Category, course: Course) -> None:
    refused(lambda: Category.objects.create(course=course, slug="homework", weight=10))


def test_another_course_may_use_the_same_category_slug(homework: Category) -> None:
    Category.objects.create(course=CourseFactory(), slug="homework", weight=10)


def test_assignment_slug_is_unique_within_a_course(assignment: Assignment) -> None:
    refused(
        lambda: AssignmentFactory(
            course=assignment.course, category=assignment.category, slug="hw1"
        )
    )


def test_another_course_may_use_the_same_assignment_slug(assignment: Assignment) -> None:
    AssignmentFactory(slug="hw1")


def test_question_slug_is_unique_within_an_assignment(assignment: Assignment) -> None:
    QuestionFactory(assignment=assignment, slug="q1")
    refused(lambda: QuestionFactory(assignment=assignment, slug="q1"))


def test_another_assignment_may_use_the_same_question_slug(assignment: Assignment) -> None:
    QuestionFactory(assignment=assignment, slug="q1")
    QuestionFactory(slug="q1")


# --- assignments -----------------------------------------------------------------------------


@pytest.mark.parametrize("release_after_due", [timedelta(0), timedelta(hours=1)])
def test_due_after_release(homework: Category, release_after_due: timedelta) -> None:
    refused(
        lambda: AssignmentFactory(
            course=homework.course,
            category=homework,
            due_at=DUE,
            release_at=DUE + release_after_due,
        )
    )


def test_no_release_time_is_fine(homework: Category) -> None:
    AssignmentFactory(course=homework.course, category=homework, due_at=DUE, release_at=None)


@pytest.mark.parametrize(
    "fields",
    [
        {"points": Decimal(-1)},
        {"group_min": 0},
        {"group_min": 3, "group_max": 2},
        {"readiness_threshold": Decimal("100.01")},
        {"readiness_threshold": Decimal(-1)},
        {"after_grace": "forgive"},
        {"autograder_queue": "tpu"},
    ],
    ids=lambda f: ",".join(f"{k}={v}" for k, v in f.items()),
)
def test_assignment_values_are_checked(homework: Category, fields: dict[str, Any]) -> None:
    refused(lambda: AssignmentFactory(course=homework.course, category=homework, **fields))


@pytest.mark.parametrize(
    "fields",
    [{"points": Decimal(-1)}, {"undergraduate": "optional"}],
    ids=lambda f: ",".join(f"{k}={v}" for k, v in f.items()),
)
def test_question_values_are_checked(assignment: Assignment, fields: dict[str, Any]) -> None:
    refused(lambda: QuestionFactory(assignment=assignment, **fields))


# --- categories ------------------------------------------------------------------------------


@pytest.mark.parametrize("weight", [Decimal("-0.01"), Decimal(-10), Decimal("100.01")])
def test_category_weight_is_0_to_100(course: Course, weight: Decimal) -> None:
    refused(lambda: CategoryFactory(course=course, slug="bad", weight=weight))


@pytest.mark.parametrize("weight", [Decimal(0), Decimal(100)])
def test_category_weight_bounds_are_allowed(course: Course, weight: Decimal) -> None:
    CategoryFactory(course=course, slug="edge", weight=weight)


def test_section_level_must_be_known(course: Course) -> None:
    refused(lambda: SectionFactory(course=course, level="postdoc"))


# --- extensions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reference",
    [
        "Dean approved due to illness",
        "DOS 2021 0042",
        "-leading-dash",
        "",
        "DOS-2021-0042\n",
    ],
)
def test_extension_reference_must_be_a_token(assignment: Assignment, reference: str) -> None:
    refused(lambda: ExtensionFactory(assignment=assignment, reference=reference))


@pytest.mark.parametrize("reference", ["DOS-2021-0042", "12345", "case/2021.03_7"])
def test_extension_reference_tokens_are_accepted(assignment: Assignment, reference: str) -> None:
    ExtensionFactory(assignment=assignment, reference=reference)

    assert Extension.objects.get().reference == reference


def test_one_extension_per_student_per_assignment(assignment: Assignment) -> None:
    extension = ExtensionFactory(assignment=assignment)
    refused(lambda: ExtensionFactory(assignment=assignment, student=extension.student))


# --- project groups --------------------------------------------------------------------------


def test_one_group_per_student_per_course(course: Course) -> None:
    user = UserFactory()
    GroupMembershipFactory(group=ProjectGroupFactory(course=course), user=user)

    refused(lambda: GroupMembershipFactory(group=ProjectGroupFactory(course=course), user=user))


def test_a_student_may_be_in_a_group_in_another_course(course: Course) -> None:
    user = UserFactory()
    GroupMembershipFactory(group=ProjectGroupFactory(course=course), user=user)

    GroupMembershipFactory(group=ProjectGroupFactory(), user=user)

    assert GroupMembership.objects.filter(user=user).count() == 2


def test_group_names_are_unique_within_a_course(course: Course) -> None:
    ProjectGroupFactory(course=course, name="Team A")

    refused(lambda: ProjectGroupFactory(course=course, name="Team A"))


def test_join_codes_are_unique(course: Course) -> None:
    group = ProjectGroupFactory(course=course, join_code="ABC123")

    refused(lambda: ProjectGroupFactory(join_code=group.join_code))


def test_removing_a_category_still_in_use_is_refused(assignment: Assignment) -> None:
    with pytest.raises(ProtectedError):
        assignment.category.delete()

    assert Category.objects.filter(pk=assignment.category_id).exists()
