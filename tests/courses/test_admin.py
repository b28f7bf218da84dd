"""The Django admin for courses: every changelist (searched and filtered) and change page opens,
changelists cost the same number of queries however many rows, and the extension form says
that no medical information is stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from courses.models import Assignment, Enrollment, GroupMembership
from tests.factories import (
    AssignmentFactory,
    CategoryFactory,
    EnrollmentFactory,
    ExtensionFactory,
    GroupMembershipFactory,
    ProjectGroupFactory,
    QuestionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture
def admin_client(client, db):
    superuser = User.objects.create_superuser("root", "root@example.edu", "pw-root-123")
    client.force_login(superuser)
    return client


@pytest.fixture
def everything(course, sections, homework, student, ta, instructor, assignment):
    """One of each model, in the Deep Learning course."""
    bonus = CategoryFactory(course=course, slug="participation", weight=Decimal(3), bonus=True)
    question = QuestionFactory(
        assignment=assignment, slug="ec1", undergraduate="extra_credit", graduate="required"
    )
    extension = ExtensionFactory(
        assignment=assignment, student=student.user, reference="DOS-2021-0042"
    )
    group = ProjectGroupFactory(course=course, name="Team Rocket", join_code="ROCKET42")
    membership = GroupMembershipFactory(group=group, user=student.user)
    return {
        "course": course,
        "section": sections["CS4803"],
        "enrollment": student,
        "category": bonus,
        "assignment": assignment,
        "question": question,
        "extension": extension,
        "projectgroup": group,
        "groupmembership": membership,
    }


def changelist(model: str) -> str:
    return reverse(f"admin:courses_{model}_changelist")


def change(model: str, pk: int) -> str:
    return reverse(f"admin:courses_{model}_change", args=[pk])


def searches(e):
    """Per model: a search and a filter that together still find the example row."""
    course_id = e["course"].id
    username = e["enrollment"].user.username
    return {
        "course": {"q": "Deep", "term": "Spring 2021"},
        "section": {"q": "CS4803", "course__id__exact": course_id, "level__exact": "undergraduate"},
        "enrollment": {
            "q": username,
            "course__id__exact": course_id,
            "role__exact": "student",
            "section__level__exact": "undergraduate",
            "section__id__exact": e["section"].id,
        },
        "category": {"q": "participation", "course__id__exact": course_id, "bonus__exact": "1"},
        "assignment": {
            "q": "hw1",
            "course__id__exact": course_id,
            "category__slug": "homework",
            "autograder_queue__exact": "cpu",
        },
        "question": {
            "q": "ec1",
            "assignment__course__id__exact": course_id,
            "undergraduate__exact": "extra_credit",
        },
        "extension": {"q": "DOS-2021-0042", "assignment__course__id__exact": course_id},
        "projectgroup": {"q": "ROCKET42", "course__id__exact": course_id},
        "groupmembership": {"q": username, "course__id__exact": course_id},
    }


MODELS = [
    "course",
    "section",
    "enrollment",
    "category",
    "assignment",
    "question",
    "extension",
    "projectgroup",
    "groupmembership",
]


@pytest.mark.parametrize("model", MODELS)
def test_changelist_opens(admin_client, everything, model):
    r = admin_client.get(changelist(model))
    assert r.status_code == 200


@pytest.mark.parametrize("model", MODELS)
def test_changelist_search_and_filter_find_the_row(admin_client, everything, model):
    r = admin_client.get(changelist(model), searches(everything)[model])
    # An unknown filter makes the admin redirect to ?e=1; a working one answers 200.
    assert r.status_code == 200, r.get("Location")
    assert r.context["cl"].result_count == 1


@pytest.mark.parametrize("model", MODELS)
def test_change_page_opens(admin_client, everything, model):
    r = admin_client.get(change(model, everything[model].pk))
    assert r.status_code == 200


@pytest.mark.parametrize("model", MODELS)
def test_add_page_opens(admin_client, everything, model):
    r = admin_client.get(reverse(f"admin:courses_{model}_add"))
    assert r.status_code == 200


def test_search_by_username_finds_the_students_row(admin_client, everything, grad_student):
    r = admin_client.get(changelist("enrollment"), {"q": grad_student.user.username})
    assert [e.pk for e in r.context["cl"].result_list] == [grad_student.pk]


@pytest.mark.parametrize("page", ["change", "add"])
def test_extension_admin_says_no_medical_information(admin_client, everything, page):
    url = {
        "change": change("extension", everything["extension"].pk),
        "add": reverse("admin:courses_extension_add"),
    }[page]
    html = admin_client.get(url).content.decode()
    assert "No medical information is to be stored here" in html
    assert "Only the Dean of Students confirmation reference" in html


def test_extension_added_in_admin_records_who_granted_it(admin_client, student, assignment):
    due = (assignment.due_at + timedelta(days=4)).astimezone(UTC)
    r = admin_client.post(
        reverse("admin:courses_extension_add"),
        {
            "assignment": assignment.pk,
            "student": student.user.pk,
            "due_at_0": due.strftime("%Y-%m-%d"),
            "due_at_1": due.strftime("%H:%M:%S"),
            "reference": "DOS-2021-0099",
        },
    )
    assert r.status_code == 302, r.context["adminform"].form.errors
    extension = assignment.extensions.get()
    assert extension.granted_by.username == "root"
    assert extension.reference == "DOS-2021-0099"


def test_extension_reference_must_be_a_token(admin_client, student, assignment):
    due = assignment.due_at + timedelta(days=4)
    r = admin_client.post(
        reverse("admin:courses_extension_add"),
        {
            "assignment": assignment.pk,
            "student": student.user.pk,
            "due_at_0": due.strftime("%Y-%m-%d"),
            "due_at_1": due.strftime("%H:%M:%S"),
            "reference": "flu, doctor's note",
        },
    )
    assert r.status_code == 200
    assert not assignment.extensions.exists()


def test_group_membership_takes_the_groups_course(admin_client, course, student):
    group = ProjectGroupFactory(course=course)
    r = admin_client.post(
        reverse("admin:courses_groupmembership_add"),
        {"group": group.pk, "user": student.user.pk},
    )
    assert r.status_code == 302
    assert GroupMembership.objects.get(user=student.user).course == course


def test_a_second_group_in_the_same_course_is_refused_with_a_message(admin_client, course, student):
    GroupMembershipFactory(group=ProjectGroupFactory(course=course), user=student.user)
    other = ProjectGroupFactory(course=course)
    r = admin_client.post(
        reverse("admin:courses_groupmembership_add"),
        {"group": other.pk, "user": student.user.pk},
    )
    assert r.status_code == 200  # a form error, not a server error
    assert "already in a project group in this course" in r.content.decode()


def test_group_inline_adds_members(admin_client, course, student, grad_student):
    group = ProjectGroupFactory(course=course, name="Team", join_code="TEAM0001")
    prefix = "memberships"
    data = {
        "course": course.pk,
        "name": "Team",
        "join_code": "TEAM0001",
        f"{prefix}-TOTAL_FORMS": "2",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
        f"{prefix}-0-user": student.user.pk,
        f"{prefix}-1-user": grad_student.user.pk,
    }
    r = admin_client.post(change("projectgroup", group.pk), data)
    assert r.status_code == 302, r.context and r.context.get("errors")
    members = GroupMembership.objects.filter(group=group)
    assert {m.user_id for m in members} == {student.user.pk, grad_student.user.pk}
    assert {m.course_id for m in members} == {course.pk}


# Changelist query counts: flat from 5 to 200 rows


def count_queries(client, url: str, params: dict | None = None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        r = client.get(url, params or {})
    assert r.status_code == 200
    return len(ctx.captured_queries)


def add_enrollments(sections, n: int) -> None:
    start = User.objects.count()
    users = User.objects.bulk_create(
        [User(username=f"adm{start + i}", password="!") for i in range(n)]
    )
    section_list = list(sections.values())
    Enrollment.objects.bulk_create(
        [
            Enrollment(
                course=section_list[0].course,
                user=u,
                section=section_list[i % 2],
                role="student" if i % 3 else "waitlisted",
            )
            for i, u in enumerate(users)
        ]
    )


def add_assignments(course, category, n: int) -> None:
    now = datetime.now(UTC)
    first = Assignment.objects.count()
    Assignment.objects.bulk_create(
        [
            Assignment(
                course=course,
                category=category,
                slug=f"adm{first + i}",
                title=f"Adm {first + i}",
                release_at=now - timedelta(days=1),
                due_at=now + timedelta(days=i % 40 + 1),
            )
            for i in range(n)
        ]
    )


def test_enrollment_changelist_queries_do_not_grow(admin_client, course, sections):
    EnrollmentFactory(course=course, section=None, role="instructor")
    add_enrollments(sections, 4)
    url = changelist("enrollment")
    small = count_queries(admin_client, url)
    filtered_small = count_queries(admin_client, url, {"course__id__exact": course.pk, "q": "adm"})
    add_enrollments(sections, 195)
    assert Enrollment.objects.count() == 200
    assert count_queries(admin_client, url) == small
    assert (
        count_queries(admin_client, url, {"course__id__exact": course.pk, "q": "adm"})
        == filtered_small
    )


def test_assignment_changelist_queries_do_not_grow(admin_client, course, homework):
    bonus = CategoryFactory(course=course, slug="participation", weight=Decimal(3), bonus=True)
    AssignmentFactory(course=course, category=bonus)
    add_assignments(course, homework, 4)
    url = changelist("assignment")
    small = count_queries(admin_client, url)
    filtered_small = count_queries(admin_client, url, {"category__slug": "homework", "q": "adm"})
    add_assignments(course, homework, 195)
    assert Assignment.objects.count() == 200
    assert count_queries(admin_client, url) == small
    assert (
        count_queries(admin_client, url, {"category__slug": "homework", "q": "adm"})
        == filtered_small
    )


@pytest.mark.parametrize(
    ("model", "factory"),
    [
        (
            "extension",
            lambda c, h, i: ExtensionFactory(
                assignment=AssignmentFactory(course=c, category=h),
                student=UserFactory(),
                granted_by=None,
            ),
        ),
        (
            "question",
            lambda c, h, i: QuestionFactory(assignment=AssignmentFactory(course=c, category=h)),
        ),
        (
            "groupmembership",
            lambda c, h, i: GroupMembershipFactory(group=ProjectGroupFactory(course=c)),
        ),
        ("section", lambda c, h, i: EnrollmentFactory(course=c, section__course=c)),
    ],
)
def test_other_changelists_do_not_grow(admin_client, course, homework, model, factory):
    for i in range(3):
        factory(course, homework, i)
    small = count_queries(admin_client, changelist(model))
    for i in range(3, 20):
        factory(course, homework, i)
    assert count_queries(admin_client, changelist(model)) == small


def test_assignment_form_names_each_categorys_course(admin_client, everything):
    html = admin_client.get(change("assignment", everything["assignment"].pk)).content.decode()
    assert f"{everything['course'].slug}: homework (80.00%)" in html
    assert f"{everything['course'].slug}: participation (3.00% bonus)" in html
