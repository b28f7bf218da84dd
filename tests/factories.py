"""factory_boy factories for the tests. Times are aware; the default course is in New York."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from courses.models import (
    Assignment,
    Category,
    Course,
    Enrollment,
    Extension,
    GroupMembership,
    Level,
    ProjectGroup,
    Question,
    Role,
    Section,
)

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.edu")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create and results:
            instance.save()


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"course-{n}")
    title = "Deep Learning"
    term = "Spring 2021"
    timezone = "America/New_York"
    registration_ends = datetime(2021, 1, 23, 4, 59, tzinfo=UTC)
    regrade_days = 7
    links = factory.LazyFunction(
        lambda: [{"name": "website", "url": "https://example.edu/dl", "note": ""}]
    )


class SectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Section

    course = factory.SubFactory(CourseFactory)
    code = factory.Sequence(lambda n: f"CS{4803 + n}")
    level = Level.UNDERGRADUATE
    capacity = 100
    links = factory.LazyFunction(list)


class EnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrollment

    user = factory.SubFactory(UserFactory)
    section = factory.SubFactory(SectionFactory)
    course = factory.SelfAttribute("section.course")
    role = Role.STUDENT


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("course", "slug")

    course = factory.SubFactory(CourseFactory)
    slug = "homework"
    weight = Decimal(80)
    bonus = False


class AssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Assignment

    course = factory.SubFactory(CourseFactory)
    category = factory.SubFactory(CategoryFactory, course=factory.SelfAttribute("..course"))
    slug = factory.Sequence(lambda n: f"hw{n}")
    title = factory.LazyAttribute(lambda a: a.slug.upper())
    release_at = factory.LazyFunction(lambda: datetime.now(UTC) - timedelta(days=7))
    due_at = factory.LazyFunction(lambda: datetime.now(UTC) + timedelta(days=7))
    grace_days = 2
    points = Decimal(100)


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Question

    assignment = factory.SubFactory(AssignmentFactory)
    slug = factory.Sequence(lambda n: f"q{n}")
    points = Decimal(10)


class ExtensionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Extension

    assignment = factory.SubFactory(AssignmentFactory)
    student = factory.SubFactory(UserFactory)
    due_at = factory.LazyAttribute(lambda e: e.assignment.due_at + timedelta(days=5))
    reference = factory.Sequence(lambda n: f"DOS-2021-{n:04d}")


class ProjectGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProjectGroup

    course = factory.SubFactory(CourseFactory)
    name = factory.Sequence(lambda n: f"Group {n}")
    join_code = factory.Sequence(lambda n: f"JOIN{n:06d}")


class GroupMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GroupMembership

    group = factory.SubFactory(ProjectGroupFactory)
    course = factory.SelfAttribute("group.course")
    user = factory.SubFactory(UserFactory)
