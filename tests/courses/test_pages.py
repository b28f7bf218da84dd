"""The server-rendered pages, through Django's test client: login, my courses, the course page
with its policies, the assignment list with deadlines in the course's zone, and query counts
that do not grow with the number of students or assignments."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from courses.models import Assignment, Enrollment, Extension, Question
from tests.factories import (
    PASSWORD,
    AssignmentFactory,
    CategoryFactory,
    CourseFactory,
    EnrollmentFactory,
    ExtensionFactory,
    QuestionFactory,
    SectionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

User = get_user_model()

# 2021-02-13T04:59Z is 11:59 PM on Friday 12 February in New York (EST, UTC-5).
HW1_DUE = datetime(2021, 2, 13, 4, 59, tzinfo=UTC)


def my_courses_url() -> str:
    return reverse("courses:my_courses")


def course_url(course) -> str:
    return reverse("courses:course_detail", kwargs={"course_slug": course.slug})


def assignments_url(course) -> str:
    return reverse("courses:assignment_list", kwargs={"course_slug": course.slug})


def text_of(response) -> str:
    """The page's text with tags dropped and white space collapsed, as a person reads it."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


@pytest.fixture
def dl_course(course, sections, homework):
    """The Deep Learning course as its config sets it: links with a note, a bonus category,
    an assignment with the default grace, one with none, one without collaboration."""
    course.links = [
        {"name": "website", "url": "https://example.edu/cs7643", "note": ""},
        {"name": "forum", "url": "https://example.edu/forum/dl2021", "note": "access code DL2021"},
    ]
    course.regrade_days = 5
    course.save()
    sections["CS4803"].capacity = 90
    sections["CS4803"].links = [{"name": "lms", "url": "https://example.edu/lms/172518"}]
    sections["CS4803"].save()
    sections["CS7643"].capacity = 150
    sections["CS7643"].save()
    participation = CategoryFactory(
        course=course, slug="participation", weight=Decimal(3), bonus=True
    )
    ps0_cat = CategoryFactory(course=course, slug="ps0", weight=Decimal(2))
    AssignmentFactory(
        course=course,
        category=ps0_cat,
        slug="ps0",
        title="PS0",
        position=0,
        release_at=datetime(2021, 1, 19, 14, 0, tzinfo=UTC),
        due_at=datetime(2021, 1, 21, 4, 59, tzinfo=UTC),
        grace_days=0,
        after_grace="accept_late",
        collaboration=False,
    )
    AssignmentFactory(
        course=course,
        category=homework,
        slug="hw1",
        title="HW1",
        position=1,
        release_at=datetime(2021, 1, 25, 14, 0, tzinfo=UTC),
        due_at=HW1_DUE,
        grace_days=2,
    )
    AssignmentFactory(
        course=course,
        category=participation,
        slug="survey",
        title="Survey",
        position=2,
        release_at=None,
        due_at=datetime(2021, 3, 1, 4, 59, tzinfo=UTC),
        grace_days=1,
    )
    return course


# Login


def test_login_page_has_labelled_fields_and_button(client):
    r = client.get(reverse("login"))
    assert r.status_code == 200
    html = r.content.decode()
    assert '<label for="id_username">Username</label>' in html
    assert '<label for="id_password">Password</label>' in html
    assert 'id="id_username"' in html and 'id="id_password"' in html
    assert re.search(r'<button type="submit"[^>]*>Log in</button>', html)


def test_login_goes_to_my_courses(client, student):
    r = client.post(reverse("login"), {"username": student.user.username, "password": PASSWORD})
    assert r.status_code == 302
    assert r["Location"] == my_courses_url()
    r = client.get(r["Location"])
    assert student.course.title in text_of(r)


def test_bad_password_shows_a_clear_error(client, student):
    r = client.post(reverse("login"), {"username": student.user.username, "password": "nope"})
    assert r.status_code == 200
    text = text_of(r)
    assert "Please enter a correct username and password" in text
    assert 'role="alert"' in r.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("name", ["my_courses", "course_detail", "assignment_list"])
def test_pages_require_login(client, course, name):
    kwargs = {} if name == "my_courses" else {"course_slug": course.slug}
    url = reverse(f"courses:{name}", kwargs=kwargs)
    r = client.get(url)
    assert r.status_code == 302
    assert r["Location"] == f"{reverse('login')}?next={url}"


# Errors


@pytest.mark.parametrize("page", [course_url, assignments_url])
def test_course_not_enrolled_in_is_a_404_page_with_the_message(client, student, page):
    other = CourseFactory(slug="someone-elses")
    client.force_login(student.user)
    r = client.get(page(other))
    assert r.status_code == 404
    assert r.templates[0].name == "portal/error.html"
    text = text_of(r)
    assert "Not found" in text
    assert "You are not enrolled in this course, or it does not exist." in text
    assert 'data-code="not_enrolled"' in r.content.decode()


def test_a_course_that_does_not_exist_answers_the_same(client, student):
    client.force_login(student.user)
    r = client.get("/courses/no-such-course/")
    assert r.status_code == 404
    assert "You are not enrolled in this course" in text_of(r)


# My courses


def test_my_courses_lists_each_enrollment(client, student):
    other = SectionFactory(
        course=CourseFactory(slug="nlp-fa21", title="Natural Language", term="Fall 2021"),
        code="CS7650",
        level="graduate",
    )
    EnrollmentFactory(user=student.user, section=other, course=other.course, role="sit_in")
    client.force_login(student.user)
    r = client.get(my_courses_url())
    assert r.status_code == 200
    text = text_of(r)
    assert "Deep Learning" in text and "Spring 2021" in text
    assert "My role Student" in text and "My section CS4803" in text
    assert "Natural Language" in text and "Fall 2021" in text
    assert "My role Sitting in" in text and "CS7650" in text
    html = r.content.decode()
    assert f'href="{course_url(student.course)}"' in html
    assert f'href="{course_url(other.course)}"' in html


def test_my_courses_staff_without_section(client, instructor):
    client.force_login(instructor.user)
    text = text_of(client.get(my_courses_url()))
    assert "My role Instructor" in text and "No section" in text


def test_my_courses_empty_state(client, db):
    user = UserFactory(username="newcomer")
    client.force_login(user)
    r = client.get(my_courses_url())
    assert r.status_code == 200
    text = text_of(r)
    assert "No courses yet" in text
    assert "not enrolled in any course" in text
    assert "newcomer" in text


# The course page


def test_course_page_sections_with_counts_and_links(
    client, dl_course, sections, student, grad_student, ta
):
    EnrollmentFactory(section=sections["CS4803"], role="waitlisted")
    EnrollmentFactory(section=sections["CS4803"], role="sit_in")
    client.force_login(student.user)
    r = client.get(course_url(dl_course))
    assert r.status_code == 200
    text = text_of(r)
    # section, level, capacity, students, waitlisted, sitting in
    assert "CS4803 my section Undergraduate 90 1 1 1" in text
    assert "CS7643 Graduate 150 1 0 0" in text
    html = r.content.decode()
    assert 'href="https://example.edu/lms/172518"' in html
    assert 'href="https://example.edu/forum/dl2021"' in html
    assert "Forum https://example.edu/forum/dl2021 access code DL2021" in text
    assert "Website https://example.edu/cs7643" in text


def test_course_page_staff_list(client, dl_course, student, ta, instructor):
    client.force_login(student.user)
    text = text_of(client.get(course_url(dl_course)))
    assert f"{instructor.user.get_full_name()} Instructor" in text
    assert f"{ta.user.get_full_name()} TA section CS4803" in text
    assert student.user.get_full_name() not in text.split("Staff", 1)[1].split("Sections", 1)[0]


def test_course_page_policies_as_configured(client, dl_course, student):
    client.force_login(student.user)
    r = client.get(course_url(dl_course))
    text = text_of(r)
    # categories and weights, bonus marked
    assert "Homework 80% Part of the final grade" in text
    assert "Participation 3% bonus Added on top, never lowers a grade" in text
    assert "PS0 2% Part of the final grade" in text
    # per assignment: grace, after grace, collaboration
    assert (
        "HW1 Fri Feb 12 2021, 11:59 PM EST 2-day grace period, no penalty, no need to ask "
        "A zero after the grace period unless a Dean of Students confirmed extension "
        "Collaboration allowed" in text
    )
    assert (
        "PS0 Wed Jan 20 2021, 11:59 PM EST No grace period Accepted as late "
        "No collaboration: individual work only" in text
    )
    assert "Survey Sun Feb 28 2021, 11:59 PM EST 1-day grace period" in text
    # regrade window and registration end in the course's zone
    assert "Regrade requests are open for 5 days after grades are released." in text
    assert "Registration ends Fri Jan 22 2021, 11:59 PM EST" in text
    assert 'datetime="2021-01-22T23:59:00-05:00"' in r.content.decode()
    assert f'href="{assignments_url(dl_course)}"' in r.content.decode()


def test_course_page_refused_without_grace_and_groups(client, course, homework, student):
    AssignmentFactory(course=course, category=homework, title="Quiz", grace_days=0)
    AssignmentFactory(
        course=course, category=homework, title="Project", group=True, group_min=3, group_max=4
    )
    client.force_login(student.user)
    text = text_of(client.get(course_url(course)))
    assert (
        "No grace period A zero after the due date unless a Dean of Students confirmed "
        "extension" in text
    )
    assert "Group work, 3\N{EN DASH}4 people per group" in text


def test_course_page_hides_unreleased_from_students(client, dl_course, homework, student, ta):
    AssignmentFactory(
        course=dl_course,
        category=homework,
        slug="hw9",
        title="HW9",
        release_at=datetime.now(UTC) + timedelta(days=3),
        due_at=datetime.now(UTC) + timedelta(days=10),
    )
    client.force_login(student.user)
    assert "HW9" not in text_of(client.get(course_url(dl_course)))
    client.force_login(ta.user)
    assert "HW9 Not released yet" in text_of(client.get(course_url(dl_course)))


# The assignment list


def test_deadlines_in_the_course_zone(client, dl_course, student):
    client.force_login(student.user)
    r = client.get(assignments_url(dl_course))
    assert r.status_code == 200
    html = r.content.decode()
    text = text_of(r)
    # HW1: due 2021-02-13T04:59Z = Fri Feb 12 11:59 PM EST; grace to Sun Feb 14, same clock.
    assert (
        "HW1 Homework 100 Mon Jan 25 2021, 9:00 AM EST Fri Feb 12 2021, 11:59 PM EST "
        "Sun Feb 14 2021, 11:59 PM EST Then closed Closed" in text
    )
    due = re.search(r'<time datetime="2021-02-12T23:59:00-05:00">(.*?)</time>', html)
    assert due and re.sub(r"<[^>]+>", "", due.group(1)) == "Fri Feb 12 2021, 11:59 PM EST"
    assert '<time datetime="2021-02-14T23:59:00-05:00">' in html
    # PS0 has no grace and takes late work; the survey has no release time.
    assert "No grace period Then accepted as late Late work still accepted" in text
    assert "Survey Participation bonus 100 From the start" in text


def test_summer_deadline_shows_daylight_time(client, course, homework, student):
    AssignmentFactory(
        course=course,
        category=homework,
        title="Summer",
        release_at=None,
        due_at=datetime(2021, 7, 1, 3, 59, tzinfo=UTC),
    )
    client.force_login(student.user)
    assert "Wed Jun 30 2021, 11:59 PM EDT" in text_of(client.get(assignments_url(course)))


def test_another_zone_is_shown_in_its_own_time(client, db):
    course = CourseFactory(slug="ml-berlin", timezone="Europe/Berlin")
    enrollment = EnrollmentFactory(section=SectionFactory(course=course), course=course)
    AssignmentFactory(course=course, title="Blatt 1", release_at=None, due_at=HW1_DUE)
    client.force_login(enrollment.user)
    text = text_of(client.get(assignments_url(course)))
    assert "Sat Feb 13 2021, 5:59 AM CET" in text


def test_time_left(client, course, homework, student):
    now = datetime.now(UTC)
    AssignmentFactory(
        course=course, category=homework, title="Soon", due_at=now + timedelta(days=3, hours=5)
    )
    AssignmentFactory(
        course=course,
        category=homework,
        title="Graced",
        release_at=now - timedelta(days=5),
        due_at=now - timedelta(hours=3),
        grace_days=2,
    )
    client.force_login(student.user)
    r = client.get(assignments_url(course))
    text = text_of(r)
    assert re.search(r"Soon .* 3 days (4|5) hours left", text)
    assert re.search(r"Graced .* In grace period, 1 day (19|20|21) hours left", text)
    lefts = {row.assignment.title: left for row, left in r.context["rows"]}
    assert lefts["Soon"].startswith("3 days") and lefts["Soon"].endswith("left")


def test_extension_is_shown_to_that_student_only(client, dl_course, student, grad_student):
    hw1 = Assignment.objects.get(course=dl_course, slug="hw1")
    ExtensionFactory(
        assignment=hw1, student=student.user, due_at=datetime(2021, 2, 18, 4, 59, tzinfo=UTC)
    )
    client.force_login(student.user)
    r = client.get(assignments_url(dl_course))
    text = text_of(r)
    assert (
        "Extended to Wed Feb 17 2021, 11:59 PM EST Originally Fri Feb 12 2021, 11:59 PM EST "
        "Fri Feb 19 2021, 11:59 PM EST" in text
    )
    assert re.search(r'<tr id="assignment-hw1" class="[^"]*\bextended\b', r.content.decode())
    client.force_login(grad_student.user)
    text = text_of(client.get(assignments_url(dl_course)))
    assert "Extended to" not in text
    assert "HW1 Homework 100 Mon Jan 25 2021, 9:00 AM EST Fri Feb 12 2021, 11:59 PM EST" in text


def test_points_per_level_with_extra_credit(client, dl_course, student, grad_student, instructor):
    hw1 = Assignment.objects.get(course=dl_course, slug="hw1")
    QuestionFactory(assignment=hw1, slug="q1", points=Decimal(10))
    QuestionFactory(
        assignment=hw1,
        slug="ec1",
        points=Decimal("5.5"),
        undergraduate="extra_credit",
        graduate="required",
    )
    client.force_login(student.user)
    assert "HW1 Homework 10 +5.50 extra credit" in text_of(client.get(assignments_url(dl_course)))
    client.force_login(grad_student.user)
    text = text_of(client.get(assignments_url(dl_course)))
    assert "HW1 Homework 15.50 Mon" in text and "extra credit" not in text
    client.force_login(instructor.user)
    text = text_of(client.get(assignments_url(dl_course)))
    assert "HW1 Homework 15.50 undergraduate 10, graduate 15.50" in text


def test_unreleased_hidden_from_students_shown_to_staff(
    client, course, homework, student, ta, instructor
):
    AssignmentFactory(course=course, category=homework, title="Released")
    AssignmentFactory(
        course=course,
        category=homework,
        title="Secret",
        release_at=datetime.now(UTC) + timedelta(days=2),
        due_at=datetime.now(UTC) + timedelta(days=9),
    )
    client.force_login(student.user)
    text = text_of(client.get(assignments_url(course)))
    assert "Released" in text and "Secret" not in text
    for staff in (ta, instructor):
        client.force_login(staff.user)
        text = text_of(client.get(assignments_url(course)))
        assert "Secret Not released yet" in text
        assert "Released Homework" in text


def test_assignment_list_empty_state(client, course, student):
    client.force_login(student.user)
    assert "No assignment has been released" in text_of(client.get(assignments_url(course)))


# Query counts: the same with 5 and with 500 students and assignments


def grow(course, sections, *, students: int, assignments: int, viewer) -> None:
    """Adds students (enrollments in both sections, every role a student can have) and
    assignments (two questions each, extensions for the viewer and others), in bulk."""
    start = User.objects.count()
    users = User.objects.bulk_create(
        [
            User(username=f"bulk{start + i}", first_name="Bulk", last_name=f"S{i}", password="!")
            for i in range(students)
        ]
    )
    roles = ["student", "student", "waitlisted", "sit_in"]
    Enrollment.objects.bulk_create(
        [
            Enrollment(
                course=course,
                user=u,
                section=sections[i % len(sections)],
                role=roles[i % len(roles)],
            )
            for i, u in enumerate(users)
        ]
    )
    categories = list(course.categories.all())
    now = datetime.now(UTC)
    first = Assignment.objects.filter(course=course).count()
    new = Assignment.objects.bulk_create(
        [
            Assignment(
                course=course,
                category=categories[i % len(categories)],
                slug=f"a{first + i}",
                title=f"A{first + i}",
                position=first + i,
                release_at=now + timedelta(days=1) if i % 5 == 4 else now - timedelta(days=1),
                due_at=(
                    now + timedelta(days=i % 30 + 2)
                    if i % 2 or i % 5 == 4
                    else now - timedelta(hours=i % 20)
                ),
                grace_days=i % 3,
                after_grace="accept_late" if i % 4 == 0 else "refuse",
                collaboration=bool(i % 2),
                group=i % 7 == 0,
                group_min=3 if i % 7 == 0 else 1,
                group_max=4 if i % 7 == 0 else 1,
            )
            for i in range(assignments)
        ]
    )
    Question.objects.bulk_create(
        [
            Question(assignment=a, slug=slug, points=Decimal(5), undergraduate=ug)
            for a in new
            for slug, ug in (("q1", "required"), ("ec", "extra_credit"))
        ]
    )
    Extension.objects.bulk_create(
        [
            Extension(
                assignment=a, student=u, due_at=a.due_at + timedelta(days=3), reference="DOS-1"
            )
            for a in new[::3]
            for u in (viewer, users[0])
        ]
    )


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("role", ["student", "ta", "instructor"])
def test_course_pages_query_counts_do_not_grow(client, course, sections, homework, role):
    CategoryFactory(course=course, slug="participation", weight=Decimal(3), bonus=True)
    section = None if role == "instructor" else sections["CS4803"]
    viewer = EnrollmentFactory(course=course, section=section, role=role)
    EnrollmentFactory(course=course, section=None, role="instructor")
    EnrollmentFactory(section=sections["CS7643"], role="ta")
    client.force_login(viewer.user)
    urls = [my_courses_url(), course_url(course), assignments_url(course)]
    section_list = list(sections.values())

    grow(course, section_list, students=5, assignments=5, viewer=viewer.user)
    small = {url: count_queries(client, url) for url in urls}
    grow(course, section_list, students=495, assignments=495, viewer=viewer.user)
    assert Enrollment.objects.filter(course=course).count() >= 500
    assert Assignment.objects.filter(course=course).count() == 500
    large = {url: count_queries(client, url) for url in urls}
    assert large == small
    # and small in absolute terms: session, user, then a handful of reads
    assert all(n <= 12 for n in small.values()), small


def test_my_courses_query_count_does_not_grow_with_enrollments(client, db):
    user = UserFactory()
    client.force_login(user)

    def enroll(n: int) -> None:
        for _ in range(n):
            EnrollmentFactory(user=user, role="student")

    enroll(1)
    one = count_queries(client, my_courses_url())
    enroll(9)
    ten = count_queries(client, my_courses_url())
    assert "Deep Learning" in text_of(client.get(my_courses_url()))
    assert one == ten
