"""Feedback on the receipt: the rubric items applied, adjustments, comments and line
annotations, for staff always and for the owner once grades are released; the submitted files
shown readably (Pygments, images and PDFs inline, binaries and large files skipped; notebooks
in test_notebook_view.py), everything escaped; the inline download's headers; a query count flat in the
annotations."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from courses.models import Assignment
from grading import code_view, services
from grading.models import RubricItem
from grading.services.rubrics import AnnotationInput, QuestionEvaluation
from submissions.models import Submission, SubmissionFile
from tests.factories import QuestionFactory

pytestmark = pytest.mark.django_db

CODE = 'import torch\n\ndef forward(x):\n    return x + "<script>alert(1)</script>"\n'


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def hw(assignment: Any) -> Any:
    """HW1 with one question, q1 (10 points)."""
    QuestionFactory(assignment=assignment, slug="q1", points=10, position=0)
    return assignment


def add_file(submission: Submission, name: str, data: bytes) -> SubmissionFile:
    path = default_storage.save(f"submissions/{submission.pk}/{name}", ContentFile(data))
    return SubmissionFile.objects.create(
        submission=submission, name=name, size=len(data), sha256="0" * 64, file=path
    )


def make_submission(enrollment: Any, assignment: Any, files: dict[str, bytes]) -> Submission:
    submission = Submission.objects.create(
        course=assignment.course,
        assignment=assignment,
        student=enrollment.user,
        number=1,
        submitted_at=timezone.now(),
        timing="on_time",
        due_at=assignment.due_at,
        grace_ends_at=assignment.due_at,
    )
    for name, data in files.items():
        add_file(submission, name, data)
    return submission


def evaluate(ta: Any, submission: Submission, annotations: int = 1) -> None:
    item = RubricItem.objects.create(
        assignment=submission.assignment, question="q1", description="Missing bias", points=-2
    )
    services.evaluation_set(
        by=ta,
        submission=submission,
        questions={
            "q1": QuestionEvaluation(
                rubric_items=[item.pk],
                adjustment=Decimal("0.5"),
                comment="See <script>x()</script> here",
            )
        },
        annotations=[
            AnnotationInput(file="model.py", line=1 + i % 4, text=f"Note {i} <b>bold</b>")
            for i in range(annotations)
        ],
    )


def release(assignment: Any) -> None:
    Assignment.objects.filter(pk=assignment.pk).update(
        grades_released_at=timezone.now() - timedelta(minutes=1)
    )


def receipt(client: Any, who: Any, submission: Submission) -> str:
    client.force_login(who.user)
    response = client.get(f"/submissions/{submission.pk}/")
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def graded(student: Any, ta: Any, hw: Any) -> Submission:
    submission = make_submission(student, hw, {"model.py": CODE.encode()})
    evaluate(ta, submission)
    return submission


def test_before_release_the_student_sees_no_feedback(
    client: Any, student: Any, graded: Submission
) -> None:
    page = receipt(client, student, graded)
    assert "Missing bias" not in page
    assert "See &lt;script&gt;" not in page
    assert "Note 0" not in page
    assert 'class="annotation"' not in page
    # The code itself is shown.
    assert '<span class="k">def</span>' in page


def test_before_release_staff_see_the_feedback(client: Any, ta: Any, graded: Submission) -> None:
    page = receipt(client, ta, graded)
    assert "\u22122</span> Missing bias" in page
    assert 'Adjustment: <span class="rubric-points">+0.5</span>' in page
    assert "Note 0" in page


def test_after_release_the_student_sees_items_adjustment_comment_and_annotations(
    client: Any, student: Any, graded: Submission
) -> None:
    release(graded.assignment)
    page = receipt(client, student, graded)
    assert "\u22122</span> Missing bias" in page
    assert "+0.5" in page
    assert "See &lt;script&gt;x()&lt;/script&gt; here" in page
    assert 'class="annotated"' in page
    assert "Comment on line 1:</span> Note 0 &lt;b&gt;bold&lt;/b&gt;" in page


def test_code_and_comments_are_escaped(client: Any, ta: Any, graded: Submission) -> None:
    page = receipt(client, ta, graded)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>x()</script>" not in page
    assert "<b>bold</b>" not in page


def test_highlighting_marks_tokens_and_keeps_line_numbers() -> None:
    rendered = code_view.render_code("m.py", "\n\nx = 1\n", [code_view.Note(3, "here")], anchor="f")
    assert rendered.html.count("<li") == 3
    assert '<li id="f-L3" class="annotated">' in rendered.html
    assert '<span class="mi">1</span>' in rendered.html
    assert rendered.unplaced == []


def test_images_pdfs_and_binaries(client: Any, student: Any, hw: Any) -> None:
    submission = make_submission(
        student,
        hw,
        {"plot.png": b"\x89PNG\r\n\x1a\n", "report.pdf": b"%PDF-1.4", "w.bin": b"\x00\x01\x02"},
    )
    page = receipt(client, student, submission)
    png = submission.files.get(name="plot.png")
    pdf = submission.files.get(name="report.pdf")
    assert f'src="/submissions/{submission.pk}/files/{png.pk}/?inline=1"' in page
    assert f'href="/submissions/{submission.pk}/files/{pdf.pk}/?inline=1"' in page
    assert "Open PDF" in page
    assert "Binary file: not shown here." in page


def test_a_file_over_the_line_cap_shows_2000_lines_and_says_how_many_more(
    client: Any, student: Any, hw: Any
) -> None:
    text = "".join(f"x{i} = {i}\n" for i in range(2500))
    submission = make_submission(student, hw, {"long.py": text.encode()})
    page = receipt(client, student, submission)
    assert page.count('<li id="file-') == 2000
    assert "500 more lines not shown" in page
    rendered = code_view.render_code("long.py", text, [code_view.Note(2400, "far")], anchor="f")
    assert rendered.more_lines == 500
    assert [n.line for n in rendered.unplaced] == [2400]


def inline_url(submission: Submission, name: str) -> str:
    stored = submission.files.get(name=name)
    return f"/submissions/{submission.pk}/files/{stored.pk}/?inline=1"


def test_the_inline_image_download_has_safe_headers(client: Any, student: Any, hw: Any) -> None:
    submission = make_submission(student, hw, {"plot.png": b"\x89PNG\r\n\x1a\n"})
    client.force_login(student.user)
    response = client.get(inline_url(submission, "plot.png"))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_the_inline_pdf_download_is_a_pdf(client: Any, student: Any, hw: Any) -> None:
    submission = make_submission(student, hw, {"report.pdf": b"%PDF-1.4"})
    client.force_login(student.user)
    response = client.get(inline_url(submission, "report.pdf"))
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline")


def test_inline_refuses_other_types(client: Any, student: Any, hw: Any) -> None:
    submission = make_submission(
        student, hw, {"page.html": b"<script>alert(1)</script>", "x.svg": b"<svg/>"}
    )
    client.force_login(student.user)
    for name in ("page.html", "x.svg"):
        assert client.get(inline_url(submission, name)).status_code == 400


def test_the_plain_download_stays_an_attachment(client: Any, student: Any, hw: Any) -> None:
    submission = make_submission(student, hw, {"plot.png": b"\x89PNG\r\n\x1a\n"})
    client.force_login(student.user)
    response = client.get(inline_url(submission, "plot.png").replace("?inline=1", ""))
    assert response["Content-Disposition"].startswith("attachment")


def test_receipt_queries_do_not_grow_with_annotations(
    client: Any, student: Any, ta: Any, hw: Any
) -> None:
    release(hw)
    submission = make_submission(student, hw, {"model.py": CODE.encode()})
    evaluate(ta, submission, annotations=1)
    client.force_login(student.user)
    url = f"/submissions/{submission.pk}/"
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    services.evaluation_set(
        by=ta,
        submission=submission,
        questions={},
        annotations=[AnnotationInput(file="model.py", line=1 + i % 4, text="n") for i in range(30)],
    )
    with CaptureQueriesContext(connection) as many:
        page = client.get(url).content.decode()
    assert page.count('role="note"') == 30
    assert len(many) == len(few)
