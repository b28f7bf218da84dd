"""How fast the staff gradebook is in a 10,000-student course, every grade computed by the one
selector (grading.selectors.grade_rows).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench .venv/bin/python bench/gradebook.py

Builds a throwaway database (test_<name>), fills one course with N students (default 10,000),
12 released assignments with 4 questions each and a grade on every question of every
student (480,000 grade rows), then times, as a TA, the gradebook JSON (a page of 100 and of
1,000), the gradebook page (50 students), the last page of the JSON, and the whole Canvas CSV,
printing queries per request and p50/p99 latencies. Nothing is pass/fail here.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import _django  # Django on the test settings, before anything imports it
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()

    def run_all() -> None:
        build(args.students)
        measure(args.students, args.requests)

    _django.in_test_database(run_all)


def build(n_students: int) -> None:
    from django.contrib.auth import get_user_model

    from courses.models import Assignment, Category, Course, Enrollment, Question, Section
    from grading.models import Grade

    User = get_user_model()
    t0 = time.perf_counter()
    course = Course.objects.create(
        slug="bench", title="Deep Learning", term="Spring", timezone="America/New_York"
    )
    sections = [
        Section.objects.create(
            course=course, code="CS4803", level="undergraduate", capacity=n_students
        ),
        Section.objects.create(course=course, code="CS7643", level="graduate", capacity=n_students),
    ]
    hw = Category.objects.create(course=course, slug="homework", weight=100)
    users = User.objects.bulk_create(
        [User(username=f"s{i:05d}", last_name=f"L{i:05d}") for i in range(n_students)],
        batch_size=2000,
    )
    Enrollment.objects.bulk_create(
        [
            Enrollment(course=course, user=u, section=sections[i % 2], role="student")
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
                due_at=now - timedelta(days=i),
                grades_released_at=now - timedelta(days=1),
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
                tests=[f"q{j}*"],
                undergraduate="extra_credit" if j == 3 else "required",
            )
            for a in assignments
            for j in range(4)
        ]
    )
    for a in assignments:
        Grade.objects.bulk_create(
            [
                Grade(
                    assignment=a,
                    student=u,
                    question=f"q{j}",
                    autograded=Decimal(j + 5),
                    points=Decimal(j + 5),
                )
                for u in users
                for j in range(4)
            ],
            batch_size=5000,
        )
    ta = User.objects.create_user("ta", password="x")
    Enrollment.objects.create(course=course, user=ta, section=sections[0], role="ta")
    print(
        f"built {n_students} students x 12 assignments x 4 questions in {time.perf_counter() - t0:.1f} s"
    )
    print(f"database: {settings.DATABASES['default']['NAME']} (PostgreSQL)")


def measure(n_students: int, n_requests: int) -> None:
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username="ta"))
    last = max((n_students + 99) // 100, 1)
    for label, url, repeat in [
        ("JSON, 100 a page  ", "/api/v1/courses/bench/gradebook/?page_size=100", n_requests),
        (
            "JSON, 1000 a page ",
            "/api/v1/courses/bench/gradebook/?page_size=1000",
            max(n_requests // 4, 3),
        ),
        ("JSON, last page   ", f"/api/v1/courses/bench/gradebook/?page={last}", n_requests),
        ("page, 50 a page   ", "/courses/bench/gradebook/", n_requests),
        ("Canvas CSV, all   ", "/api/v1/courses/bench/gradebook.csv", 3),
    ]:
        client.get(url)  # warm up
        with CaptureQueriesContext(connection) as ctx:
            client.get(url)
        queries = len(ctx)
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200
        times.sort()
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        print(
            f"{label} {queries:>2} queries  p50 {statistics.median(times):8.1f} ms"
            f"  p99 {p99:8.1f} ms  ({repeat} requests)"
        )


if __name__ == "__main__":
    main()
