"""How fast the assignment list is for one student in a 10,000-student course.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench .venv/bin/python bench/assignment_list.py

Builds a throwaway database (test_<name>), fills one course with N students (default 10,000),
12 assignments with 4 questions each and an extension for every tenth student, then times the
API and the page for a student and for the instructor through Django's test client, and
prints the queries per request and p50/p99 latencies. Nothing is pass/fail here.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta

import _django  # Django on the test settings, before anything imports it
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    def run_all() -> None:
        run(args.students, args.requests)

    _django.in_test_database(run_all)


def run(n_students: int, n_requests: int) -> None:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from courses.models import (
        Assignment,
        Category,
        Course,
        Enrollment,
        Extension,
        Question,
        Section,
    )

    User = get_user_model()
    t0 = time.perf_counter()
    course = Course.objects.create(
        slug="bench", title="Deep Learning", term="Spring", timezone="America/New_York"
    )
    ug = Section.objects.create(
        course=course, code="CS4803", level="undergraduate", capacity=n_students
    )
    gr = Section.objects.create(course=course, code="CS7643", level="graduate", capacity=n_students)
    hw = Category.objects.create(course=course, slug="homework", weight=100)
    users = User.objects.bulk_create(
        [User(username=f"s{i}", password=User().password) for i in range(n_students)],
        batch_size=2000,
    )
    Enrollment.objects.bulk_create(
        [
            Enrollment(course=course, user=u, section=ug if i % 2 else gr, role="student")
            for i, u in enumerate(users)
        ],
        batch_size=2000,
    )
    now = datetime.now(UTC)
    assignments = Assignment.objects.bulk_create(
        [
            Assignment(
                course=course,
                category=hw,
                slug=f"hw{i}",
                title=f"HW{i}",
                position=i,
                release_at=now - timedelta(days=30),
                due_at=now + timedelta(days=i),
            )
            for i in range(12)
        ]
    )
    Question.objects.bulk_create(
        [
            Question(
                assignment=a,
                slug=f"q{j}",
                points=10,
                undergraduate="extra_credit" if j == 3 else "required",
            )
            for a in assignments
            for j in range(4)
        ]
    )
    Extension.objects.bulk_create(
        [
            Extension(
                assignment=a,
                student=u,
                due_at=a.due_at + timedelta(days=3),
                reference=f"DOS-{u.pk}",
            )
            for u in users[::10]
            for a in assignments[:3]
        ],
        batch_size=2000,
    )
    instructor = User.objects.create_user("prof", password="x")
    Enrollment.objects.create(course=course, user=instructor, role="instructor")
    print(f"built {n_students} students, 12 assignments in {time.perf_counter() - t0:.1f} s")
    print(f"database: {settings.DATABASES['default']['NAME']} (PostgreSQL)")

    for who, user in [("student", users[0]), ("instructor", instructor)]:
        client = Client()
        client.force_login(user)
        for label, url in [
            ("API ", "/api/v1/courses/bench/assignments/"),
            ("page", "/courses/bench/assignments/"),
        ]:
            client.get(url)  # warm up
            with CaptureQueriesContext(connection) as ctx:
                client.get(url)
            queries = len(ctx)  # now: the next request resets connection.queries
            times = []
            for _ in range(n_requests):
                t = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - t) * 1000)
                assert response.status_code == 200
            times.sort()
            p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
            print(
                f"{who:<10} {label} {queries:>2} queries  p50 {statistics.median(times):6.2f} ms"
                f"  p99 {p99:6.2f} ms  ({n_requests} requests)"
            )


if __name__ == "__main__":
    main()
