"""The feedback a submission's receipt shows: per question the rubric items applied, the
adjustment and the comment, and the submission's files rendered readably (``grading.code_view``)
with the staff's line annotations; the feedback for staff always, for the submission's owner and
group members once the grades are released. Files are read through the storage API."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.core.cache import caches
from django.utils.safestring import SafeString, mark_safe

from courses.models import STAFF_ROLES, Enrollment
from grading import code_view
from grading.code_view import Note
from grading.models import RubricItem
from grading.selectors.grades import grades_released, question_titles
from grading.selectors.rubrics import EvaluationView, evaluation_get
from portal.numbers import plain
from submissions.models import Submission, SubmissionFile


@dataclass(frozen=True)
class AppliedItem:
    description: str
    points: str  # signed, e.g. "\u22122" (a minus sign) or "+1.5"


@dataclass(frozen=True)
class QuestionFeedback:
    slug: str
    title: str
    items: list[AppliedItem]
    adjustment: str | None  # signed; None when 0
    comment: str


@dataclass(frozen=True)
class FileView:
    """One file as the receipt shows it. ``kind``: "code", "notebook", "image", "pdf",
    "binary", "too_large" or "unreadable" (the last three are not shown inline)."""

    file_id: int
    name: str
    kind: str
    html: SafeString = field(default_factory=lambda: mark_safe(""))
    more_lines: int = 0
    notes: list[Note] = field(default_factory=list)  # annotations not shown on a line
    notice: str = ""  # why the file is not shown as its kind would be (a broken notebook)


@dataclass(frozen=True)
class SubmissionFeedback:
    released: bool  # whether the viewer sees the staff's feedback
    questions: list[QuestionFeedback]
    files: list[FileView]


MINUS = "\u2212"
# The cache of rendered files (settings.CACHES): notebooks' HTML and code's highlighted lines,
# keyed by the bytes' SHA-256; how long an entry stays.
RENDERED_FILES = "rendered_files"
CACHE_SECONDS = 7 * 24 * 3600


def signed(points: Decimal) -> str:
    """Points with their sign, as a rubric shows them: "\u22122" (a true minus sign), "+1.5",
    "0"."""
    text = plain(abs(points))
    return f"{MINUS}{text}" if points < 0 else f"+{text}" if points > 0 else "0"


def submission_feedback(
    *, enrollment: Enrollment, submission: Submission, now: datetime
) -> SubmissionFeedback:
    """The receipt's feedback for its viewer (``enrollment`` from
    ``submissions.selectors.submission_get``, which refuses others). Before the grades are
    released a student gets the files without any of the staff's feedback. Queries do not
    grow with the annotations, items or files (the files' bytes come from storage)."""
    shown = enrollment.role in STAFF_ROLES or grades_released(submission.assignment, now)
    evaluation = (
        evaluation_get(enrollment=enrollment, submission=submission, now=now) if shown else None
    )
    return SubmissionFeedback(
        released=shown,
        questions=_questions(submission, evaluation) if evaluation else [],
        files=_files(submission, evaluation),
    )


def _questions(submission: Submission, evaluation: EvaluationView) -> list[QuestionFeedback]:
    """The questions that have feedback, in the assignment's order. Two queries."""
    assignment = submission.assignment
    item_ids = {i for q in evaluation.questions.values() for i in q.rubric_items}
    items = RubricItem.objects.in_bulk(item_ids) if item_ids else {}
    titles = question_titles(assignments=[assignment])
    shown = []
    for slug, q in evaluation.questions.items():
        applied = [
            AppliedItem(description=items[i].description, points=signed(items[i].points))
            for i in sorted(q.rubric_items, key=lambda i: (items[i].position, i))
        ]
        if applied or q.adjustment or q.comment:
            shown.append(
                QuestionFeedback(
                    slug=slug,
                    title=titles.get((assignment.pk, slug), slug or assignment.title),
                    items=applied,
                    adjustment=signed(q.adjustment) if q.adjustment else None,
                    comment=q.comment,
                )
            )
    return shown


def _files(submission: Submission, evaluation: EvaluationView | None) -> list[FileView]:
    notes: dict[str, list[Note]] = {}
    for a in evaluation.annotations if evaluation else []:
        notes.setdefault(str(a["file"]), []).append(
            Note(line=int(str(a["line"])), text=str(a["text"]))
        )
    return [
        file_view(f, notes.get(f.name, []), anchor=f"file-{f.pk}")
        for f in sorted(submission.files.all(), key=lambda f: f.name)
    ]


def file_view(stored: SubmissionFile, notes: list[Note], *, anchor: str) -> FileView:
    """One file rendered for the receipt, by its kind; annotations that cannot sit on a
    shown line are kept in ``notes``."""
    kind = code_view.kind_of(stored.name)
    if kind in ("image", "pdf"):
        return FileView(file_id=stored.pk, name=stored.name, kind=kind, notes=notes)
    if stored.size > code_view.MAX_BYTES:
        return FileView(file_id=stored.pk, name=stored.name, kind="too_large", notes=notes)
    try:
        with stored.file.open("rb") as handle:
            data = handle.read(code_view.MAX_BYTES + 1)
    except OSError:
        return FileView(file_id=stored.pk, name=stored.name, kind="unreadable", notes=notes)
    text = code_view.decode_text(data)
    if text is None:
        return FileView(file_id=stored.pk, name=stored.name, kind="binary", notes=notes)
    notice = ""
    rendered = None
    if kind == "notebook":
        try:
            rendered = _notebook(data, text, notes)
        except code_view.BrokenNotebook as broken:
            notice = f"This notebook cannot be shown as a notebook ({broken}); here is its text."
    if rendered is None:
        kind = "code"
        rendered = code_view.render_lines(
            _highlighted(stored.name, data, text), notes, anchor=anchor
        )
    return FileView(
        file_id=stored.pk,
        name=stored.name,
        kind=kind,
        html=mark_safe(rendered.html),  # code_view escapes or cleans every piece of the file
        more_lines=rendered.more_lines,
        notes=rendered.unplaced,
        notice=notice,
    )


def _key(kind: str, version: str, data: bytes, name: str = "") -> str:
    """A cache key: the renderer's version, the bytes' SHA-256 and size (with ``name``: the
    file's name too, which chooses the lexer)."""
    digest = hashlib.sha256(data)
    digest.update(b"\0" + name.encode())
    return f"{kind}:{version}:{digest.hexdigest()}:{len(data)}"


def _highlighted(name: str, data: bytes, text: str) -> list[str]:
    """The file's lines highlighted, from the cache when these very bytes under this name
    were highlighted before (Pygments takes hundreds of milliseconds for a 2,000-line file;
    the annotations are placed afterwards)."""
    cache = caches[RENDERED_FILES]
    key = _key("code", code_view.code_renderer(), data, name)
    lines = cache.get(key)
    if lines is None:
        lines = code_view.highlight_file(name, text)
        cache.set(key, lines, timeout=CACHE_SECONDS)
    return list(lines)


def _notebook(data: bytes, text: str, notes: list[Note]) -> code_view.Rendered:
    """The notebook rendered, from the cache when these very bytes were rendered before by
    this renderer (nbconvert takes tens to hundreds of milliseconds a notebook). The cached
    HTML holds no annotations: they are listed below a notebook, never in it."""
    cache = caches[RENDERED_FILES]
    key = _key("notebook", code_view.notebook_renderer(), data)
    hit = cache.get(key)
    if hit is not None:
        html, more_lines = hit
        return code_view.Rendered(html=html, more_lines=more_lines, unplaced=list(notes))
    rendered = code_view.render_notebook(text, notes)
    cache.set(key, (rendered.html, rendered.more_lines), timeout=CACHE_SECONDS)
    return rendered
