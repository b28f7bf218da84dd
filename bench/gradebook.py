"""How fast the staff gradebook is in a 10,000-student course, every grade computed by the one
selector (grading.selectors.grade_rows).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench .venv/bin/python bench/gradebook.py

Builds a throwaway database (test_<name>), fills one course with N students (default 10,000),
15 released assignments with 4 questions each and a grade on nearly every question of every
student (about 590,000 grade rows, points at random; one student in 50 missing each assignment), then
times, as a TA, a sort by final percent cold (nothing remembered: every student's grades
computed by the one selector), warm (grading.selectors.gradebook_keys remembers them) and
after 20 grades changed (those students recomputed); then the gradebook JSON (a page of 100
and of 1,000), the gradebook page (50 students), the last page of the JSON, sorted and
filtered pages (by a computed column), and the whole Canvas CSV, printing queries per
request and p50/p99 latencies (each read once before it is timed). Then the bare SQL
aggregate on the same data (one query: Grade.points summed per student per assignment,
GROUP BY), timed the same way, and the ratio of the slowest gradebook read to it (the
issue's bar: at most 1 s server time and within 10x of the bare aggregate at 10,000 x 15).
``--profile`` profiles one sorted page (cProfile). Nothing is pass/fail here.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import _django  # Django on the test settings, before anything imports it
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

ASSIGNMENTS = 15


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument(
        "--profile", action="store_true", help="profile one page sorted by final percent"
    )
    args = parser.parse_args()

    def run_all() -> None:
        build(args.students)
        slowest = measure(args.students, args.requests)
        bare = bare_sql(args.requests)
        print(
            f"ratio: slowest gradebook read (sorted/filtered, p50) {slowest:.1f} ms"
            f" / bare SQL aggregate (p50) {bare:.1f} ms = {slowest / bare:.1f}x"
        )
        if args.profile:
            profile()

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
                # the first one flags students at or below 75%, as PS0 does
                readiness_threshold=Decimal(75) if i == 0 else None,
            )
            for i in range(ASSIGNMENTS)
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
    rng = random.Random(4803)  # the same data every run
    for a in assignments:
        # Points from 0 to 10 at random per question; one student in 50 handed nothing in
        # (missing once released).
        Grade.objects.bulk_create(
            [
                Grade(assignment=a, student=u, question=f"q{j}", autograded=p, points=p)
                for u in users
                if rng.random() >= 0.02
                for j in range(4)
                for p in [Decimal(rng.randint(0, 10))]
            ],
            batch_size=5000,
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # what autovacuum does soon after such a load in production
    ta = User.objects.create_user("ta", password="x")
    Enrollment.objects.create(course=course, user=ta, section=sections[0], role="ta")
    print(
        f"built {n_students} students x {ASSIGNMENTS} assignments x 4 questions in {time.perf_counter() - t0:.1f} s"
    )
    print(f"database: {settings.DATABASES['default']['NAME']} (PostgreSQL)")


def measure(n_students: int, n_requests: int) -> float:
    """Times each read; returns the slowest p50 of the reads that compute every student."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from grading.models import Grade
    from grading.selectors import gradebook_keys

    client = Client()
    client.force_login(get_user_model().objects.get(username="ta"))
    sorted_url = "/api/v1/courses/bench/gradebook/?sort=final_percent&order=desc"
    for label, before in [
        ("first sort, cold  ", gradebook_keys.forget),
        ("second sort, warm ", lambda: None),
        ("after 20 changes  ", lambda: _change_grades(Grade, 20)),
    ]:
        before()
        t = time.perf_counter()
        assert client.get(sorted_url).status_code == 200
        print(
            f"{label}           {(time.perf_counter() - t) * 1000:8.1f} ms"
            f"  (students recomputed: {gradebook_keys.last_recomputed})"
        )
    last = max((n_students + 99) // 100, 1)
    slowest = 0.0
    for label, url, repeat in [
        ("JSON, 100 a page  ", "/api/v1/courses/bench/gradebook/?page_size=100", n_requests),
        (
            "JSON, 1000 a page ",
            "/api/v1/courses/bench/gradebook/?page_size=1000",
            max(n_requests // 4, 3),
        ),
        ("JSON, last page   ", f"/api/v1/courses/bench/gradebook/?page={last}", n_requests),
        ("page, 50 a page   ", "/courses/bench/gradebook/", n_requests),
        (
            "JSON, by final %  ",
            "/api/v1/courses/bench/gradebook/?sort=final_percent&order=desc",
            COMPUTED,
        ),
        ("JSON, by HW7      ", "/api/v1/courses/bench/gradebook/?sort=assignment:hw7", COMPUTED),
        ("page, by final %  ", "/courses/bench/gradebook/?sort=final_percent", COMPUTED),
        ("page, by category ", "/courses/bench/gradebook/?sort=category:homework", COMPUTED),
        ("page, missing hw3 ", "/courses/bench/gradebook/?missing=hw3", COMPUTED),
        ("JSON, flagged     ", "/api/v1/courses/bench/gradebook/?flagged=1", COMPUTED),
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
        p50 = statistics.median(times)
        if repeat == COMPUTED:
            slowest = max(slowest, p50)
        print(
            f"{label} {queries:>2} queries  p50 {p50:8.1f} ms"
            f"  p99 {p99:8.1f} ms  ({repeat} requests)"
        )
    return slowest


def _change_grades(grade_model: type, n: int) -> None:
    """n grades of n students changed, as graders do between two reads."""
    rows = grade_model.objects.filter(question="q0").order_by("?")[:n]
    for g in rows:
        grade_model.objects.filter(pk=g.pk).update(points=(g.points + 1) % 11)


COMPUTED = 3  # requests per read that sorts or filters by computed grades


def bare_sql(n_requests: int) -> float:
    """The floor: one SQL query summing each student's points per assignment, fetched."""
    from django.db.models import Sum

    from grading.models import Grade

    def run() -> int:
        return len(
            list(
                Grade.objects.filter(assignment__course__slug="bench")
                .values_list("student_id", "assignment_id")
                .annotate(total=Sum("points"))
            )
        )

    run()  # warm up
    times = []
    for _ in range(max(n_requests // 4, 3)):
        t = time.perf_counter()
        rows = run()
        times.append((time.perf_counter() - t) * 1000)
    p50 = statistics.median(times)
    print(f"bare SQL aggregate  1 query    p50 {p50:8.1f} ms  ({rows} student x assignment sums)")
    return p50


def profile() -> None:
    import cProfile
    import pstats

    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username="ta"))
    url = "/api/v1/courses/bench/gradebook/?sort=final_percent"
    client.get(url)
    profiler = cProfile.Profile()
    profiler.enable()
    client.get(url)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
