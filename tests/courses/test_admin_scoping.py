"""The admin for a course's staff: the roster import lets instructors and TAs in (is_staff and
a staff group), an instructor sees and edits only their own courses' rows, a TA only looks, a
student never enters, and an instructor's changelists cost the same however many rows."""

from __future__ import annotations

from datetime import UTC, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from courses.models import Assignment, Course, Enrollment, Extension
from courses.services import STAFF_GROUPS, roster_import, staff_groups_ensure
from tests.courses.test_admin import (
    MODELS,
    add_assignments,
    add_enrollments,
    change,
    changelist,
    count_queries,
)
from tests.factories import (
    PASSWORD,
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

User = get_user_model()
GOOD_ROSTER = Path(__file__).parent / "rosters" / "good.csv"
INSTRUCTORS, TAS = STAFF_GROUPS["instructor"], STAFF_GROUPS["ta"]


def one_of_each(course: Course, tag: str) -> dict:
    """One row of every model in ``course``; ``tag`` makes its names unique."""
    section = SectionFactory(course=course, code=f"SEC-{tag}")
    category = CategoryFactory(course=course, slug=f"cat-{tag}")
    assignment = AssignmentFactory(course=course, category=category, slug=f"a-{tag}")
    student = EnrollmentFactory(
        course=course, section=section, user=UserFactory(username=f"stud-{tag}")
    )
    group = ProjectGroupFactory(course=course, name=f"Team {tag}")
    return {
        "course": course,
        "section": section,
        "enrollment": student,
        "category": category,
        "assignment": assignment,
        "question": QuestionFactory(assignment=assignment, slug=f"q-{tag}"),
        "extension": ExtensionFactory(assignment=assignment, student=student.user),
        "projectgroup": group,
        "groupmembership": GroupMembershipFactory(group=group, user=student.user),
    }


@pytest.fixture
def mine(course, sections):
    """The Deep Learning course, its staff and students imported from the good roster (frank
    teaches, erin is a TA, alice and bob are students), and one row of each model."""
    roster_import(course_slug=course.slug, path=GOOD_ROSTER)
    return one_of_each(course, "mine")


@pytest.fixture
def theirs(db):
    """Another course, with one row of each model, that frank and erin have nothing to do with."""
    return one_of_each(CourseFactory(slug="other-course", title="Secret Seminar"), "theirs")


def login(client: Client, username: str) -> Client:
    client.force_login(User.objects.get(username=username))
    return client


def course_of(model: str, obj) -> int:
    if model == "course":
        return obj.pk
    if model in ("question", "extension"):
        return obj.assignment.course_id
    return obj.course_id


# The roster import lets staff in


def test_the_roster_import_makes_instructors_and_tas_staff(mine):
    people = {u.username: u for u in User.objects.filter(enrollments__course=mine["course"])}
    assert {name for name, u in people.items() if u.is_staff} == {"erin", "frank"}
    assert not any(u.is_superuser for u in people.values())
    assert [g.name for g in people["frank"].groups.all()] == [INSTRUCTORS]
    assert [g.name for g in people["erin"].groups.all()] == [TAS]
    assert not people["alice"].groups.exists()


def test_staff_groups_hold_exactly_their_permissions(mine):
    def codenames(name: str) -> set[str]:
        return set(Group.objects.get(name=name).permissions.values_list("codename", flat=True))

    rows = [
        "section",
        "enrollment",
        "category",
        "assignment",
        "question",
        "extension",
        "projectgroup",
        "groupmembership",
    ]
    assert codenames(INSTRUCTORS) == {
        f"{action}_{model}" for model in rows for action in ("add", "change", "delete", "view")
    } | {"change_course", "view_course"}
    assert codenames(TAS) == {f"view_{model}" for model in [*rows, "course"]}


@pytest.fixture
def broken_groups(mine) -> Group:
    """The TA group with a permission too many and one too few; the instructors' group gone.
    Returns the TA group."""
    tas = Group.objects.get(name=TAS)
    tas.permissions.add(Permission.objects.get(codename="add_extension"))
    tas.permissions.remove(Permission.objects.get(codename="view_course"))
    Group.objects.filter(name=INSTRUCTORS).delete()
    return tas


def test_staff_groups_ensure_mends_the_groups(broken_groups):
    tas = broken_groups

    groups = staff_groups_ensure()

    assert set(groups) == {"instructor", "ta"}
    assert "add_extension" not in tas.permissions.values_list("codename", flat=True)
    assert tas.permissions.filter(codename="view_course").exists()
    assert groups["instructor"].permissions.filter(codename="add_extension").exists()


def test_staff_groups_ensure_only_reads_once_the_groups_are_mended(broken_groups):
    staff_groups_ensure()
    with CaptureQueriesContext(connection) as queries:
        staff_groups_ensure()

    assert [q["sql"] for q in queries.captured_queries if not q["sql"].startswith("SELECT")] == []


def test_an_instructor_from_the_roster_can_log_into_the_admin(mine, client):
    frank = User.objects.get(username="frank")
    frank.set_password(PASSWORD)  # the roster makes no password; the portal's reset sets one
    frank.save()

    r = client.post(
        reverse("admin:login"),
        {"username": "frank", "password": PASSWORD, "next": reverse("admin:index")},
    )

    assert r.status_code == 302
    assert r["Location"] == reverse("admin:index")
    assert client.get(reverse("admin:index")).status_code == 200


@pytest.mark.parametrize("page", ["index", "changelist"])
@pytest.mark.parametrize("username", ["alice", "dave"])
def test_a_student_cannot_enter_the_admin(mine, client, username, page):
    login(client, username)
    url = {"index": reverse("admin:index"), "changelist": changelist("assignment")}[page]
    r = client.get(url)
    assert r.status_code == 302
    assert r["Location"].startswith(reverse("admin:login"))


def import_as_student(course: Course, folder: Path, user) -> None:
    path = folder / "roster.csv"
    path.write_text(
        "username,email,first_name,last_name,section,role\n"
        f"{user.username},{user.email},T,T,CS4803,student\n"
    )
    roster_import(course_slug=course.slug, path=path)


def test_a_superuser_enrolled_as_a_student_is_left_alone(course, sections, tmp_path):
    root = User.objects.create_superuser("root", "root@example.edu", "pw-root-123")

    import_as_student(course, tmp_path, root)

    root.refresh_from_db()
    assert root.is_superuser and root.is_staff


def test_staff_status_is_never_taken_away(course, sections, tmp_path):
    tutor = UserFactory(username="tutor", email="tutor@example.edu", is_staff=True)

    import_as_student(course, tmp_path, tutor)

    tutor.refresh_from_db()
    assert tutor.is_staff and not tutor.is_superuser


def test_an_existing_instructor_is_let_in_once_and_then_nothing_is_written(course, sections):
    # frank was imported before imports made staff: enrolled, but neither staff nor in a group.
    frank = UserFactory(
        username="frank", email="frank@example.edu", first_name="Frank", last_name="Fox, Jr."
    )
    EnrollmentFactory(course=course, user=frank, section=None, role="instructor")

    first = roster_import(course_slug=course.slug, path=GOOD_ROSTER)
    with CaptureQueriesContext(connection) as queries:
        second = roster_import(course_slug=course.slug, path=GOOD_ROSTER)

    frank.refresh_from_db()
    assert frank.is_staff
    assert (first.created, first.updated, first.unchanged) == (5, 1, 0)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 6)
    assert [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ] == []


# An instructor sees and edits their own courses only


@pytest.mark.parametrize("model", MODELS)
def test_an_instructor_sees_only_their_courses_rows(mine, theirs, client, model):
    login(client, "frank")

    r = client.get(changelist(model))

    assert r.status_code == 200
    shown = list(r.context["cl"].result_list)
    assert mine[model].pk in [row.pk for row in shown]
    assert {course_of(model, row) for row in shown} == {mine["course"].pk}
    html = r.content.decode()
    assert "Secret Seminar" not in html
    assert "cat-theirs" not in html  # nor in a filter's choices


@pytest.mark.parametrize("model", MODELS)
def test_another_courses_row_is_not_found(mine, theirs, client, model):
    login(client, "frank")

    assert client.get(change(model, mine[model].pk)).status_code == 200
    assert client.get(change(model, theirs[model].pk)).status_code == 404
    assert client.get(change(model, 10**9)).status_code == 404
    delete = reverse(f"admin:courses_{model}_delete", args=[theirs[model].pk])
    assert client.get(delete).status_code == 404


def test_an_instructor_sees_their_courses_enrollments(mine, theirs, client):
    login(client, "frank")

    r = client.get(changelist("enrollment"))

    assert {e.user.username for e in r.context["cl"].result_list} == {
        "alice",
        "bob",
        "carol",
        "dave",
        "erin",
        "frank",
        "stud-mine",
    }


def test_an_instructor_sees_their_courses_assignments(mine, theirs, client):
    login(client, "frank")

    r = client.get(changelist("assignment"))

    assert [a.slug for a in r.context["cl"].result_list] == ["a-mine"]


def assignment_form(assignment: Assignment, **changes: object) -> dict[str, object]:
    due = assignment.due_at.astimezone(UTC)
    data: dict[str, object] = {
        "course": assignment.course_id,
        "slug": assignment.slug,
        "title": assignment.title,
        "category": assignment.category_id,
        "position": assignment.position,
        "points": assignment.points,
        "release_at_0": "",
        "release_at_1": "",
        "due_at_0": due.strftime("%Y-%m-%d"),
        "due_at_1": due.strftime("%H:%M:%S"),
        "grace_days": assignment.grace_days,
        "after_grace": assignment.after_grace,
        "collaboration": "on",
        "group_min": 1,
        "group_max": 1,
        "readiness_threshold": "",
        "autograder_bundle": "",
        "autograder_queue": "cpu",
        "autograder_timeout_s": 600,
        "autograder_memory_mb": 768,
        "autograder_cpus": "1",
        "questions-TOTAL_FORMS": "0",
        "questions-INITIAL_FORMS": "0",
        "questions-MIN_NUM_FORMS": "0",
        "questions-MAX_NUM_FORMS": "1000",
    }
    data.update(changes)
    return data


def test_an_instructor_edits_their_assignment(mine, theirs, client):
    login(client, "frank")
    assignment = mine["assignment"]

    r = client.post(change("assignment", assignment.pk), assignment_form(assignment, title="New"))

    assert r.status_code == 302, r.context and r.context["adminform"].form.errors
    assignment.refresh_from_db()
    assert assignment.title == "New"


def test_an_instructor_cannot_move_an_assignment_to_another_course(mine, theirs, client):
    login(client, "frank")
    assignment = mine["assignment"]
    form = client.get(change("assignment", assignment.pk)).context["adminform"].form
    assert list(form.fields["course"].queryset) == [mine["course"]]
    assert list(form.fields["category"].queryset) == list(mine["course"].categories.all())

    r = client.post(
        change("assignment", assignment.pk),
        assignment_form(assignment, course=theirs["course"].pk, category=theirs["category"].pk),
    )

    assert r.status_code == 200
    assert set(r.context["adminform"].form.errors) == {"course", "category"}
    assignment.refresh_from_db()
    assert assignment.course == mine["course"]


def extension_form(assignment: Assignment, student: object, reference: str) -> dict[str, object]:
    due = (assignment.due_at + timedelta(days=4)).astimezone(UTC)
    return {
        "assignment": assignment.pk,
        "student": getattr(student, "pk", student),
        "due_at_0": due.strftime("%Y-%m-%d"),
        "due_at_1": due.strftime("%H:%M:%S"),
        "reference": reference,
    }


def test_the_extension_form_offers_an_instructor_their_students_and_assignments(
    mine, theirs, client
):
    login(client, "frank")
    outsider = theirs["enrollment"].user

    form = client.get(reverse("admin:courses_extension_add")).context["adminform"].form

    students = set(form.fields["student"].queryset.values_list("username", flat=True))
    assert "alice" in students
    assert outsider.username not in students
    assert list(form.fields["assignment"].queryset) == [mine["assignment"]]


def test_an_instructor_cannot_grant_another_courses_student_an_extension(mine, theirs, client):
    login(client, "frank")
    outsider = theirs["enrollment"].user

    r = client.post(
        reverse("admin:courses_extension_add"),
        extension_form(mine["assignment"], outsider, "DOS-2021-0100"),
    )

    assert r.status_code == 200
    assert "student" in r.context["adminform"].form.errors
    assert not Extension.objects.filter(reference="DOS-2021-0100").exists()


def test_an_instructor_cannot_grant_an_extension_on_another_courses_assignment(
    mine, theirs, client
):
    login(client, "frank")
    alice = User.objects.get(username="alice")

    r = client.post(
        reverse("admin:courses_extension_add"),
        extension_form(theirs["assignment"], alice, "DOS-2021-0101"),
    )

    assert r.status_code == 200
    assert "assignment" in r.context["adminform"].form.errors
    assert not Extension.objects.filter(reference="DOS-2021-0101").exists()


def test_an_instructor_grants_their_student_an_extension(mine, theirs, client):
    login(client, "frank")
    alice = User.objects.get(username="alice")

    r = client.post(
        reverse("admin:courses_extension_add"),
        extension_form(mine["assignment"], alice, "DOS-2021-0102"),
    )

    assert r.status_code == 302, r.context and r.context["adminform"].form.errors
    extension = Extension.objects.get(reference="DOS-2021-0102")
    assert (extension.student, extension.granted_by.username) == (alice, "frank")


def test_an_extension_needs_a_student_of_the_assignments_course(mine, client):
    # frank teaches a second course: its students are his, but not this assignment's.
    second = CourseFactory(slug="second-course")
    EnrollmentFactory(course=second, user=User.objects.get(username="frank"), role="instructor")
    elsewhere = EnrollmentFactory(section=SectionFactory(course=second), role="student").user
    login(client, "frank")

    r = client.post(
        reverse("admin:courses_extension_add"),
        extension_form(mine["assignment"], elsewhere, "DOS-2021-0103"),
    )

    assert r.status_code == 200
    assert "hands no work in to" in str(r.context["adminform"].form.errors["student"])
    assert not Extension.objects.filter(reference="DOS-2021-0103").exists()


def test_people_are_looked_up_by_superusers_only(mine, client):
    login(client, "frank")

    r = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "courses", "model_name": "extension", "field_name": "student"},
    )

    assert r.status_code == 403


def test_an_instructor_cannot_add_a_course(mine, client):
    login(client, "frank")

    assert client.get(reverse("admin:courses_course_add")).status_code == 403


def test_an_instructor_cannot_delete_their_course(mine, client):
    login(client, "frank")

    delete = reverse("admin:courses_course_delete", args=[mine["course"].pk])
    assert client.get(delete).status_code == 403


def test_an_instructor_may_change_their_course(mine, client):
    login(client, "frank")

    assert client.get(change("course", mine["course"].pk)).context["has_change_permission"]


# A TA looks


@pytest.mark.parametrize("model", MODELS)
def test_a_ta_sees_only_their_courses_rows(mine, theirs, client, model):
    login(client, "erin")

    r = client.get(changelist(model))

    assert r.status_code == 200
    assert {course_of(model, row) for row in r.context["cl"].result_list} == {mine["course"].pk}


@pytest.mark.parametrize("model", MODELS)
def test_a_ta_views_a_row_but_does_not_change_it(mine, client, model):
    login(client, "erin")

    r = client.get(change(model, mine[model].pk))

    assert r.status_code == 200
    assert not r.context["has_change_permission"]


@pytest.mark.parametrize("model", MODELS)
def test_a_ta_does_not_find_another_courses_row(mine, theirs, client, model):
    login(client, "erin")

    assert client.get(change(model, theirs[model].pk)).status_code == 404


@pytest.mark.parametrize("model", MODELS)
def test_a_ta_cannot_add(mine, client, model):
    login(client, "erin")

    assert client.get(reverse(f"admin:courses_{model}_add")).status_code == 403


def test_a_ta_cannot_edit_an_assignment(mine, client):
    login(client, "erin")
    assignment = mine["assignment"]

    r = client.post(change("assignment", assignment.pk), assignment_form(assignment, title="TA"))

    assert r.status_code == 403
    assignment.refresh_from_db()
    assert assignment.title != "TA"


def test_a_ta_cannot_grant_an_extension(mine, client):
    login(client, "erin")
    alice = User.objects.get(username="alice")

    r = client.post(
        reverse("admin:courses_extension_add"),
        extension_form(mine["assignment"], alice, "DOS-2021-0104"),
    )

    assert r.status_code == 403
    assert not Extension.objects.filter(reference="DOS-2021-0104").exists()


@pytest.fixture
def ta_elsewhere(mine, theirs, client) -> Client:
    """frank, logged in, teaching his course and a TA in the other."""
    frank = User.objects.get(username="frank")
    EnrollmentFactory(course=theirs["course"], user=frank, section=None, role="ta")
    Group.objects.get(name=TAS).user_set.add(frank)
    return login(client, "frank")


def test_an_instructor_who_is_a_ta_elsewhere_only_views_there(mine, theirs, ta_elsewhere):
    client = ta_elsewhere

    r = client.get(change("assignment", theirs["assignment"].pk))
    assert r.status_code == 200
    assert not r.context["has_change_permission"]
    assert client.get(change("assignment", mine["assignment"].pk)).context["has_change_permission"]
    r = client.post(
        change("assignment", theirs["assignment"].pk),
        assignment_form(theirs["assignment"], title="Frank was here"),
    )
    assert r.status_code == 403


def test_an_instructor_who_is_a_ta_elsewhere_grants_extensions_only_where_they_teach(
    mine, ta_elsewhere
):
    form = ta_elsewhere.get(reverse("admin:courses_extension_add")).context["adminform"].form

    assert list(form.fields["assignment"].queryset) == [mine["assignment"]]


# Query counts for an instructor: flat from 5 to 200 rows


def prof_from_roster(course: Course, folder: Path) -> None:
    path = folder / "staff.csv"
    path.write_text(
        "username,email,first_name,last_name,section,role\n"
        "prof,prof@example.edu,P,Rof,,instructor\n"
    )
    roster_import(course_slug=course.slug, path=path)


def test_instructor_enrollment_changelist_queries_do_not_grow(
    course, sections, theirs, client, tmp_path
):
    prof_from_roster(course, tmp_path)
    add_enrollments(sections, 4)
    login(client, "prof")
    url = changelist("enrollment")
    small = count_queries(client, url)
    filtered_small = count_queries(client, url, {"course__id__exact": course.pk, "q": "adm"})
    add_enrollments(sections, 195)
    assert Enrollment.objects.filter(course=course).count() == 200
    assert count_queries(client, url) == small
    assert (
        count_queries(client, url, {"course__id__exact": course.pk, "q": "adm"}) == filtered_small
    )


def test_instructor_assignment_changelist_queries_do_not_grow(
    course, homework, theirs, client, tmp_path
):
    prof_from_roster(course, tmp_path)
    bonus = CategoryFactory(course=course, slug="participation", weight=Decimal(3), bonus=True)
    AssignmentFactory(course=course, category=bonus)
    add_assignments(course, homework, 4)
    login(client, "prof")
    url = changelist("assignment")
    small = count_queries(client, url)
    filtered_small = count_queries(client, url, {"category__slug": "homework", "q": "adm"})
    add_assignments(course, homework, 195)
    assert Assignment.objects.filter(course=course).count() == 200
    assert count_queries(client, url) == small
    assert count_queries(client, url, {"category__slug": "homework", "q": "adm"}) == filtered_small


@pytest.mark.parametrize(
    ("model", "factory"),
    [
        (
            "extension",
            lambda c, h: ExtensionFactory(
                assignment=AssignmentFactory(course=c, category=h), granted_by=None
            ),
        ),
        (
            "question",
            lambda c, h: QuestionFactory(assignment=AssignmentFactory(course=c, category=h)),
        ),
        (
            "groupmembership",
            lambda c, h: GroupMembershipFactory(group=ProjectGroupFactory(course=c)),
        ),
        ("section", lambda c, h: EnrollmentFactory(course=c, section__course=c)),
        ("category", lambda c, h: CategoryFactory(course=c, slug=f"cat{c.categories.count()}")),
        ("projectgroup", lambda c, h: GroupMembershipFactory(group=ProjectGroupFactory(course=c))),
    ],
)
def test_instructor_other_changelists_do_not_grow(
    course, homework, theirs, client, tmp_path, model, factory
):
    prof_from_roster(course, tmp_path)
    login(client, "prof")
    for _ in range(5):
        factory(course, homework)
    small = count_queries(client, changelist(model))
    for _ in range(5, 200):
        factory(course, homework)
    assert count_queries(client, changelist(model)) == small


@pytest.mark.parametrize("form", ["extension", "groupmembership"])
def test_instructor_add_form_queries_do_not_grow(course, homework, theirs, client, tmp_path, form):
    # The assignment and group choices name their course: read with them, not one by one.
    prof_from_roster(course, tmp_path)
    login(client, "prof")
    add_assignments(course, homework, 5)
    url = reverse(f"admin:courses_{form}_add")
    small = count_queries(client, url)
    add_assignments(course, homework, 195)
    for _ in range(20):
        ProjectGroupFactory(course=course)
    assert count_queries(client, url) == small
