"""How fast a TA's grading view is with a long submission and a long rubric, and whether
`Next ungraded` stays flat in queries as the submissions grow.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench .venv/bin/python bench/grading_page.py

Builds a throwaway database (test_<name>) with one assignment whose question has a 100-item
rubric (30 applied, 25 line comments) and a submission of a 2,000-line Python file (plus,
with --notebook, a notebook of 40 cells with plots), its autograder result with 20 tests.
It times GET of the grading view as the course's TA through Django's test client (server time:
no network; warm: the files rendered once and cached, templates compiled), median and p95 of
--requests, with its query count, and the median of a few cold ones (the cache cleared). Then it fills the assignment up to
100 and to --submissions (10,000) counting submissions, half of them graded, and counts the
queries of `grading_next` (the service) and of the POST `Next ungraded` page, and times them.
The issue's targets: the grading view under 150 ms, `Next ungraded` the same number of queries
at 100 and at 10,000. Nothing is pass/fail here (the query count is:
tests/grading/test_grading_page.py).
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import statistics
import tempfile
import time
import zipfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import _django  # Django on the test settings, before anything imports it
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

RUBRIC_ITEMS = 100
APPLIED = 30
ANNOTATIONS = 25
LINES = 2000
TESTS = 20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--submissions", type=int, default=10_000)
    parser.add_argument("--notebook", action="store_true", help="add a notebook to the submission")
    parser.add_argument(
        "--profile", action="store_true", help="profile one grading view (cProfile)"
    )
    args = parser.parse_args()
    settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="bench-grading-page-")

    def run_all() -> None:
        world = build(notebook=args.notebook)
        print(
            f"submission: {LINES} lines of Python"
            + (", a 40-cell notebook" if args.notebook else "")
            + f"; rubric: {RUBRIC_ITEMS} items, {APPLIED} applied, {ANNOTATIONS} line comments;"
            f" {TESTS} autograder tests"
        )
        view(world, args.requests, "grading view, 1 submission     ")
        if args.profile:
            profile(world)
        fill(world, 100)
        next_ungraded(world, 100)
        fill(world, args.submissions)
        next_ungraded(world, args.submissions)
        view(world, args.requests, f"grading view, {args.submissions} submissions")

    _django.in_test_database(run_all)


def python_file(lines: int) -> bytes:
    """A Python module of ``lines`` lines: classes with methods, comments, strings, numbers."""
    out = ['"""A model, long enough to read for a while."""', "import math", ""]
    i = 0
    while len(out) < lines:
        out += [
            f"class Layer{i}:",
            f'    """Layer {i}: weights and a forward pass."""',
            "",
            f"    def __init__(self, width: int = {i % 64 + 1}) -> None:",
            f"        self.weights = [math.sin(j * {i}) for j in range(width)]  # init",
            "",
            "    def forward(self, x: list[float]) -> list[float]:",
            "        return [w * v + 0.5 for w, v in zip(self.weights, x, strict=False)]",
            "",
        ]
        i += 1
    return ("\n".join(out[:lines]) + "\n").encode()


def notebook_file(cells: int = 40) -> bytes:
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    from tests.grading.test_notebook_view import png

    plot = base64.b64encode(png(320, 200)).decode()
    nb = new_notebook(metadata={"language_info": {"name": "python"}})
    for i in range(cells // 2):
        nb.cells.append(new_markdown_cell(f"## Step {i}\n\nWhat this step does, *briefly*."))
        nb.cells.append(
            new_code_cell(
                f"import numpy as np\nx = np.linspace(0, {i}, 100)\nprint(x.mean())",
                execution_count=i + 1,
                outputs=[
                    new_output("stream", name="stdout", text=f"{i / 2}\n"),
                    new_output("display_data", data={"image/png": plot, "text/plain": "<Fig>"}),
                ],
            )
        )
    return nbformat.writes(nb).encode()


def bundle() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("run_autograder")
        info.external_attr = 0o755 << 16
        zf.writestr(info, "#!/bin/sh\necho '{}' > /autograder/results/results.json\n")
    return buf.getvalue()


def build(*, notebook: bool) -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from courses.models import Assignment, Category, Course, Enrollment, Question, Section
    from grading import notifications, services
    from grading.models import RubricItem
    from grading.services.rubrics import AnnotationInput, QuestionEvaluation
    from submissions.services import submission_create

    services.publish = lambda job: None  # no wake-ups: the result is stored below
    notifications._publish = lambda task, *args: None
    User = get_user_model()
    now = datetime.now(UTC)
    course = Course.objects.create(
        slug="bench", title="Deep Learning", term="Spring", timezone="America/New_York"
    )
    section = Section.objects.create(
        course=course, code="CS4803", level="undergraduate", capacity=100_000
    )
    homework = Category.objects.create(course=course, slug="homework", weight=100)
    hw = Assignment.objects.create(
        course=course,
        category=homework,
        slug="hw1",
        title="HW1",
        release_at=now - timedelta(days=5),
        due_at=now + timedelta(days=2),
        points=Decimal(100),
    )
    Question.objects.create(assignment=hw, slug="q1", title="Model", points=100, tests=["q1*"])
    items = RubricItem.objects.bulk_create(
        [
            RubricItem(
                assignment=hw,
                question="q1",
                description=f"Rubric item {i}: {'missing' if i % 3 else 'correct'} part {i}",
                points=Decimal(1 if i % 3 == 0 else -1),
                position=i,
            )
            for i in range(RUBRIC_ITEMS)
        ]
    )
    ta_user = User.objects.create_user("ta", password="x")
    ta = Enrollment.objects.create(course=course, user=ta_user, section=section, role="ta")
    boss = Enrollment.objects.create(
        course=course, user=User.objects.create_user("boss"), role="instructor"
    )
    student = Enrollment.objects.create(
        course=course, user=User.objects.create_user("s-page"), section=section, role="student"
    )
    services._bundle_store(assignment=hw, data=bundle(), source="upload")
    files = [(SimpleUploadedFile("model.py", python_file(LINES)), "model.py")]
    if notebook:
        files.append((SimpleUploadedFile("analysis.ipynb", notebook_file()), "analysis.ipynb"))
    submission = submission_create(
        enrollment=student, assignment=hw, files=files, received_at=timezone.now()
    ).submission
    job = services.job_claim(queue="cpu", worker="bench", now=timezone.now())
    assert job is not None
    tests = [
        {
            "name": f"q1 test {i}",
            "score": i % 2,
            "max_score": 1,
            "output": f"expected shape (4, {i}) got (4, {i + i % 2})\n" * 3,
        }
        for i in range(TESTS)
    ]
    services.job_finish(
        job_id=job.pk,
        worker="bench",
        score=TESTS / 2,
        max_score=TESTS,
        data={"raw": json.dumps({"tests": tests})},
    )
    services.evaluation_set(
        by=boss,
        submission=submission,
        questions={
            "q1": QuestionEvaluation(
                rubric_items=[i.pk for i in items[:APPLIED]],
                adjustment=Decimal(1),
                comment="Careful work; see the comments on the code.",
            )
        },
        annotations=[
            AnnotationInput(file="model.py", line=1 + i * (LINES // ANNOTATIONS), text=f"Note {i}")
            for i in range(ANNOTATIONS)
        ],
    )
    return {
        "course": course,
        "hw": hw,
        "section": section,
        "ta": ta,
        "submission": submission,
        "url": f"/courses/bench/assignments/hw1/grade/{submission.pk}/",
    }


def fill(world: dict[str, Any], n: int) -> None:
    """Students with a submission each, up to ``n`` submissions; every other one graded."""
    from django.contrib.auth import get_user_model

    from courses.models import Enrollment
    from grading.models import Grade
    from submissions.models import Submission

    User = get_user_model()
    hw = world["hw"]
    have = Submission.objects.filter(assignment=hw).count()
    t0 = time.perf_counter()
    users = User.objects.bulk_create(
        [User(username=f"s{i:06d}", password="!") for i in range(have, n)], batch_size=5000
    )
    Enrollment.objects.bulk_create(
        [
            Enrollment(course=world["course"], section=world["section"], user=u, role="student")
            for u in users
        ],
        batch_size=5000,
    )
    now = datetime.now(UTC)
    Submission.objects.bulk_create(
        [
            Submission(
                course=world["course"],
                assignment=hw,
                student=u,
                number=1,
                submitted_at=now,
                timing="on_time",
                due_at=hw.due_at,
                grace_ends_at=hw.due_at,
            )
            for u in users
        ],
        batch_size=5000,
    )
    Grade.objects.bulk_create(
        [
            Grade(assignment=hw, student=u, question="q1", points=Decimal(50))
            for i, u in enumerate(users)
            if i % 2 == 0
        ],
        batch_size=5000,
    )
    print(f"filled to {n} submissions in {time.perf_counter() - t0:.1f} s")


def percentiles(times: list[float]) -> str:
    times = sorted(times)
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    return f"median {statistics.median(times):7.1f} ms  p95 {p95:7.1f} ms"


def view(world: dict[str, Any], repeat: int, label: str) -> None:
    from django.core.cache import caches
    from django.test import Client

    from grading.selectors.feedback import RENDERED_FILES

    client = Client()
    client.force_login(world["ta"].user)
    for _ in range(3):  # warm: templates compiled, nbconvert loaded, the notebook cached
        assert client.get(world["url"]).status_code == 200
    response = client.get(world["url"])
    assert response.status_code == 200
    size = len(response.content) // 1024
    count = queries(lambda: client.get(world["url"]))
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        client.get(world["url"])
        times.append((time.perf_counter() - t) * 1000)
    cold = []
    for _ in range(5):  # each time as if no process had shown these files yet
        caches[RENDERED_FILES].clear()
        t = time.perf_counter()
        client.get(world["url"])
        cold.append((time.perf_counter() - t) * 1000)
    print(
        f"{label}: {count:>2} queries  {percentiles(times)}  ({repeat} requests, {size} KiB);"
        f" cold (files not cached) median {statistics.median(cold):.0f} ms"
    )


def profile(world: dict[str, Any]) -> None:
    import cProfile
    import pstats

    from django.test import Client

    client = Client()
    client.force_login(world["ta"].user)
    client.get(world["url"])
    profiler = cProfile.Profile()
    profiler.enable()
    client.get(world["url"])
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(
        r"/(grading|submissions|courses|portal)/", 25
    )


def queries(run: Any) -> int:
    """The queries ``run()`` makes (the connection's log is cleared first: it keeps 9,000)."""
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as ctx:
        run()
    return len(ctx)


def next_ungraded(world: dict[str, Any], n: int, repeat: int = 10) -> None:
    from django.test import Client
    from django.utils import timezone

    from grading import services

    ta = world["ta"]
    hw = world["hw"]

    def take() -> None:
        handed = services.grading_next(by=ta, assignment=hw, question=None, now=timezone.now())
        assert handed is not None

    take()
    service_q = queries(take)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        take()
        times.append((time.perf_counter() - t) * 1000)
    print(f"grading_next at {n:>6} submissions: {service_q:>2} queries  {percentiles(times)}")

    client = Client()
    client.force_login(ta.user)
    url = "/courses/bench/assignments/hw1/grade/next/"
    assert client.post(url).status_code == 302
    page_q = queries(lambda: client.post(url))
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        client.post(url)
        times.append((time.perf_counter() - t) * 1000)
    print(f"POST Next ungraded at {n:>6}:      {page_q:>2} queries  {percentiles(times)}")


if __name__ == "__main__":
    main()
