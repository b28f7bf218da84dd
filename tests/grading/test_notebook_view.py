"""Notebooks, PDFs and images as staff and students see them: a notebook read by nbformat,
rendered by nbconvert (markdown as HTML, code highlighted, PNG outputs as images) and cleaned
(no script, event handler, javascript: link, frame, inline style or external resource
survives); a broken notebook shown as text with a note; the rendering cached by the file's
hash. The grading view shows a notebook, a PDF (in an <object>, framable by the site only) and
an image beside the code, and the receipt the same notebook."""

from __future__ import annotations

import base64
import re
import struct
import zlib
from typing import Any

import nbformat
import pytest
from django.core.cache import caches
from nbformat.v4 import (
    new_code_cell,
    new_markdown_cell,
    new_notebook,
    new_output,
    new_raw_cell,
)

from grading import code_view
from grading.models import RubricItem
from grading.selectors import feedback
from grading.services.rubrics import AnnotationInput
from submissions.models import Submission
from tests.factories import QuestionFactory
from tests.grading.test_feedback import CODE, make_submission

pytestmark = pytest.mark.django_db


def png(width: int = 96, height: int = 48) -> bytes:
    """A valid PNG: a plot-like picture (blue bars rising on white)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b""
    for y in range(height):
        row = b"".join(
            b"\x1f\x5f\xbf"
            if x % 12 < 8 and height - y <= (x // 12 + 1) * height // 9
            else b"\xff\xff\xff"
            for x in range(width)
        )
        rows += b"\x00" + row
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PNG_B64 = base64.b64encode(png()).decode()

PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def notebook(*cells: Any) -> str:
    nb = new_notebook(metadata={"language_info": {"name": "python"}})
    nb.cells = list(cells)
    return nbformat.writes(nb)


def analysis() -> str:
    """A notebook with a markdown heading, a highlighted code cell and its outputs: text and
    a plot (PNG)."""
    return notebook(
        new_markdown_cell(
            "# Training curves\n\nThe loss *falls* after epoch 3.\n\n| a | b |\n|---|---|\n| 1 | 2 |"
        ),
        new_code_cell(
            "import numpy as np\nprint(np.arange(3))",
            execution_count=1,
            outputs=[
                new_output("stream", name="stdout", text="[0 1 2]\n"),
                new_output("display_data", data={"image/png": PNG_B64, "text/plain": "<Figure>"}),
            ],
        ),
    )


HOSTILE = notebook(
    new_markdown_cell(
        "# Hi\n\n<script>alert('md')</script>\n\n<img src=x onerror=\"alert('img')\">\n\n"
        "[click me](javascript:alert('link'))\n\n<a href=\"javascript:alert('a')\">a</a>\n\n"
        '<a href="data:text/html,<script>alert(1)</script>">d</a>\n\n'
        "![tracker](http://evil.example/pixel.png)\n\n"
        '<div class="messages button" style="position:fixed" onclick="x()" id="grade-total">'
        "fake</div>\n\n<form action=/x><input name=q><button>Go</button></form>"
    ),
    new_code_cell(
        "1",
        execution_count=1,
        outputs=[
            new_output(
                "execute_result",
                execution_count=1,
                data={
                    "text/html": "<b>table</b><script>alert('html')</script>"
                    "<iframe src='https://evil.example/'></iframe>"
                    "<svg onload=\"alert('svg')\"><circle r='1'/></svg>"
                    "<style>body{display:none}</style>"
                    "<link rel=stylesheet href='https://cdn.example/x.css'>",
                    "text/plain": "table",
                },
            ),
            new_output(
                "display_data",
                data={"application/javascript": "alert('js')", "text/plain": "<JS shown as text>"},
            ),
        ],
    ),
    new_raw_cell("<script>alert('raw')</script>", metadata={"raw_mimetype": "text/html"}),
)


# --- rendering -----------------------------------------------------------------------------


def test_markdown_is_rendered_with_headings_under_the_files_name() -> None:
    html = code_view.render_notebook(analysis(), []).html
    assert html.startswith('<div class="notebook">')
    assert "<h4>Training curves</h4>" in html  # "#" sits under the file name's <h3>
    assert "<em>falls</em>" in html
    assert "<th>a</th>" in html and "<td>2</td>" in html
    assert "# Training curves" not in html


def test_code_is_highlighted_with_its_prompt_and_text_output() -> None:
    html = code_view.render_notebook(analysis(), []).html
    assert '<span class="kn">import</span>' in html
    assert '<div class="prompt input_prompt">In&nbsp;[1]:</div>' in html
    assert "<pre>[0 1 2]\n</pre>" in html


def test_a_png_output_is_an_image_with_a_description() -> None:
    html = code_view.render_notebook(analysis(), []).html
    assert f'<img alt="Output image" src="data:image/png;base64,{PNG_B64}">' in html


def test_a_hostile_notebook_loses_every_script_handler_frame_and_external_resource() -> None:
    html = code_view.render_notebook(HOSTILE, []).html
    lowered = html.lower()
    for banned in (
        "<script",
        "onerror",
        "onclick",
        "onload",
        "javascript:",
        "<iframe",
        "<svg",
        "<style",
        "style=",
        "<link",
        "<form",
        "<input",
        "<button",
        "data:text",
        "evil.example",
        "cdn.example",
        "mathjax",
        "require",
        ' id="',
        "messages",
    ):
        assert banned not in lowered, banned
    assert "alert('md')" not in html and "alert('html')" not in html
    assert "<b>table</b>" in html  # harmless HTML output stays
    assert "&lt;JS shown as text&gt;" in html  # JavaScript output: its text instead
    assert "&lt;script&gt;alert('raw')" in html  # a raw cell's tags shown as text
    assert ">click me</a>" in html and ">fake</div>" in html


def test_notebook_output_html_cannot_escape_the_notebook() -> None:
    broken = notebook(
        new_code_cell(
            "1",
            outputs=[
                new_output(
                    "display_data",
                    data={"text/html": "</div></div></div><h1>top</h1><div>", "text/plain": ""},
                )
            ],
        )
    )
    html = code_view.render_notebook(broken, []).html
    assert html.count("<div") == html.count("</div>")
    assert "<h4>top</h4>" in html


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{not json", "it is not valid JSON"),
        ('{"nbformat": 4, "nbformat_minor": 5}', "does not follow the notebook format"),
        ("[1, 2]", "nbformat cannot read it"),
    ],
)
def test_a_broken_notebook_is_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(code_view.BrokenNotebook, match=reason):
        code_view.render_notebook(text, [])


def test_a_notebook_over_the_line_cap_is_cut_and_says_how_many_more() -> None:
    cells = [new_code_cell("\n".join(f"x{i} = {i}" for i in range(1000))) for _ in range(3)]
    rendered = code_view.render_notebook(notebook(*cells), [code_view.Note(5, "n")])
    assert rendered.more_lines == 1000
    assert rendered.html.count('class="cell ') == 2
    assert [n.line for n in rendered.unplaced] == [5]  # listed below the notebook


# --- pages ---------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture(autouse=True)
def fresh_cache() -> None:
    caches[feedback.RENDERED_FILES].clear()


@pytest.fixture
def hw(assignment: Any) -> Any:
    QuestionFactory(assignment=assignment, slug="q1", points=10, position=0)
    RubricItem.objects.create(assignment=assignment, question="q1", description="Plots", points=1)
    return assignment


@pytest.fixture
def work(student: Any, hw: Any) -> Submission:
    return make_submission(
        student,
        hw,
        {
            "model.py": CODE.encode(),
            "analysis.ipynb": analysis().encode(),
            "report.pdf": PDF,
            "plot.png": png(),
        },
    )


def grading_view(client: Any, ta: Any, submission: Submission) -> str:
    a = submission.assignment
    client.force_login(ta.user)
    response = client.get(f"/courses/{a.course.slug}/assignments/{a.slug}/grade/{submission.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def file_url(submission: Submission, name: str) -> str:
    return f"/submissions/{submission.pk}/files/{submission.files.get(name=name).pk}/"


def test_the_grading_view_shows_the_notebook_pdf_and_image_beside_the_code(
    client: Any, ta: Any, work: Submission
) -> None:
    page = grading_view(client, ta, work)
    assert 'class="code-lines"' in page  # model.py, with its numbered lines
    assert '<div class="notebook">' in page and "<h4>Training curves</h4>" in page
    assert f'src="data:image/png;base64,{PNG_B64}"' in page
    pdf = file_url(work, "report.pdf")
    assert (
        f'<object class="file-pdf" data="{pdf}?inline=1" type="application/pdf" '
        'title="report.pdf (PDF)"' in page
    )
    assert f'href="{pdf}?inline=1"' in page  # and a link to open it
    assert (
        f'<img class="code-image" src="{file_url(work, "plot.png")}?inline=1" alt="plot.png' in page
    )
    # Comments on a notebook's line: it is offered in the form, the comment listed below it.
    assert '<option value="analysis.ipynb">analysis.ipynb</option>' in page


def test_a_comment_on_a_notebook_line_is_listed_below_the_notebook(
    client: Any, ta: Any, work: Submission
) -> None:
    from grading import services

    services.evaluation_set(
        by=ta,
        submission=work,
        questions={},
        annotations=[AnnotationInput(file="analysis.ipynb", line=2, text="Label the axes")],
    )
    page = grading_view(client, ta, work)
    notes = re.search(r'<ul class="code-notes">(.*?)</ul>', page, re.S)
    assert notes is not None
    assert "Line 2:</span> Label the axes" in notes.group(1)


def test_the_receipt_shows_the_same_notebook_and_the_pdf_inline(
    client: Any, student: Any, work: Submission
) -> None:
    client.force_login(student.user)
    page = client.get(f"/submissions/{work.pk}/").content.decode()
    assert "<h4>Training curves</h4>" in page
    assert f'<object class="file-pdf" data="{file_url(work, "report.pdf")}?inline=1"' in page


def test_a_broken_notebook_is_shown_as_text_with_a_note(
    client: Any, ta: Any, student: Any, hw: Any
) -> None:
    submission = make_submission(student, hw, {"hw.ipynb": b'{"cells": [{"cell_type": "code"'})
    page = grading_view(client, ta, submission)
    assert "This notebook cannot be shown as a notebook (it is not valid JSON)" in page
    assert 'class="code-lines"' in page  # its text, with line numbers
    assert '<div class="notebook">' not in page


def test_the_inline_pdf_may_be_framed_by_the_site_only(
    client: Any, student: Any, work: Submission
) -> None:
    client.force_login(student.user)
    inline = client.get(file_url(work, "report.pdf") + "?inline=1")
    assert inline.status_code == 200
    assert inline["Content-Type"] == "application/pdf"
    assert inline["Content-Disposition"].startswith("inline")
    assert inline["X-Frame-Options"] == "SAMEORIGIN"
    assert b"".join(inline.streaming_content) == PDF
    download = client.get(file_url(work, "report.pdf"))
    assert download["X-Frame-Options"] == "DENY"
    receipt = client.get(f"/submissions/{work.pk}/")
    assert receipt["X-Frame-Options"] == "DENY"
    # The Content-Security-Policy says the same (browsers heed it over X-Frame-Options), and
    # the receipt, which embeds the PDF in an <object>, allows objects from the site.
    assert "frame-ancestors 'self'" in inline["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in download["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in receipt["Content-Security-Policy"]
    assert "object-src 'self'" in receipt["Content-Security-Policy"]
    assert "object-src 'none'" in download["Content-Security-Policy"]


def test_a_notebook_is_rendered_once_then_served_from_the_cache(
    client: Any, ta: Any, work: Submission, monkeypatch: Any
) -> None:
    calls: list[int] = []
    real = code_view.render_notebook

    def counting(text: str, notes: Any) -> Any:
        calls.append(1)
        return real(text, notes)

    monkeypatch.setattr(code_view, "render_notebook", counting)
    first = grading_view(client, ta, work)
    second = grading_view(client, ta, work)
    assert len(calls) == 1
    assert "<h4>Training curves</h4>" in second
    assert re.findall(r'<div class="notebook">', first) == re.findall(
        r'<div class="notebook">', second
    )
    # Other bytes are another key.
    stored = work.files.get(name="analysis.ipynb")
    changed = analysis().replace("Training curves", "Validation curves").encode()
    with stored.file.open("wb") as handle:
        handle.write(changed)
    assert "<h4>Validation curves</h4>" in grading_view(client, ta, work)
    assert len(calls) == 2


def test_code_is_highlighted_once_and_new_comments_still_sit_on_their_lines(
    client: Any, ta: Any, work: Submission, monkeypatch: Any
) -> None:
    from grading import services

    calls: list[str] = []
    real = code_view.highlight_file

    def counting(filename: str, text: str) -> list[str]:
        calls.append(filename)
        return real(filename, text)

    monkeypatch.setattr(code_view, "highlight_file", counting)
    grading_view(client, ta, work)
    services.evaluation_set(
        by=ta,
        submission=work,
        questions={},
        annotations=[AnnotationInput(file="model.py", line=3, text="Name this better")],
    )
    page = grading_view(client, ta, work)
    assert calls == ["model.py"]
    line = f'<li id="file-{work.files.get(name="model.py").pk}-L3" class="annotated">'
    assert line in page
    assert "Comment on line 3:</span> Name this better" in page
