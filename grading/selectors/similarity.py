"""Reads of similarity checks, for staff: an assignment's latest check with its pairs, most
similar first, and one pair side by side with the matching regions marked. Students are
named as the viewer sees them (a pseudonym for a TA on an anonymous assignment:
``courses.anonymity``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.safestring import SafeString, mark_safe

from courses.anonymity import student_names
from courses.models import Assignment, Enrollment
from grading import similarity
from grading.models import SimilarityCheck, SimilarityPair
from grading.selectors.grades import staff_check
from portal.errors import NotFound
from submissions.models import SubmissionFile


def _assignment_check(enrollment: Enrollment, assignment: Assignment) -> None:
    staff_check(enrollment)
    if enrollment.course_id != assignment.course_id:
        raise NotFound("There is no such assignment in this course.")


@dataclass(frozen=True)
class PairRow:
    id: int
    students: tuple[str, str]
    submissions: tuple[int, int]
    similarity: float
    similarities: tuple[float, float]
    declared_collaborators: bool


@dataclass(frozen=True)
class CheckView:
    check: SimilarityCheck
    pairs: list[PairRow]


def similarity_latest(*, enrollment: Enrollment, assignment: Assignment) -> CheckView | None:
    """Staff: the assignment's latest similarity check and its pairs (none: None). Two
    queries however many pairs."""
    _assignment_check(enrollment, assignment)
    check = (
        SimilarityCheck.objects.filter(assignment=assignment)
        .select_related("requested_by")
        .defer("starter")
        .order_by("-created_at", "-id")
        .first()
    )
    if check is None:
        return None
    names = student_names(enrollment=enrollment, assignment=assignment)
    pairs = (
        SimilarityPair.objects.filter(similarity_check=check)
        .select_related("student_a", "student_b")
        .defer("regions")
        .order_by("-similarity", "id")
    )
    rows = [
        PairRow(
            id=p.pk,
            students=(names.username(p.student_a), names.username(p.student_b)),
            submissions=(p.submission_a_id, p.submission_b_id),
            similarity=p.similarity,
            similarities=(p.similarity_a, p.similarity_b),
            declared_collaborators=p.declared_collaborators,
        )
        for p in pairs
    ]
    return CheckView(check=check, pairs=rows)


@dataclass(frozen=True)
class SideBySide:
    """One matching pair of files: each side's name, its text with the matches marked
    (``html``, escaped), and the line ranges that match."""

    file_a: str
    file_b: str
    similarity: float
    html_a: SafeString
    html_b: SafeString
    lines_a: list[tuple[int, int]]
    lines_b: list[tuple[int, int]]


@dataclass(frozen=True)
class PairView:
    row: PairRow
    files: list[SideBySide] = field(default_factory=list)


def _texts(submission_id: int, names: set[str]) -> dict[str, str]:
    """The submission's files among ``names`` as the check compared them."""
    out = {}
    for stored in SubmissionFile.objects.filter(submission_id=submission_id, name__in=names):
        if stored.size > similarity.MAX_FILE_BYTES:
            continue
        try:
            with stored.file.open("rb") as handle:
                data = handle.read(similarity.MAX_FILE_BYTES + 1)
        except OSError:
            continue
        comparable = similarity.comparable_text(stored.name, data)
        if comparable is not None:
            out[stored.name] = comparable[0]
    return out


def _lines(text: str, slices: list[list[int]]) -> list[tuple[int, int]]:
    """The line ranges of the slices, those that touch joined."""
    out: list[tuple[int, int]] = []
    for s, e in sorted(slices):
        first, last = similarity.line_of(text, s), similarity.line_of(text, max(s, e - 1))
        if out and first <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], last))
        else:
            out.append((first, last))
    return out


def similarity_pair_get(
    *, enrollment: Enrollment, assignment: Assignment, pair_id: int
) -> PairView:
    """Staff: one pair of the assignment's checks, its matching files side by side. A pair
    of another assignment: 404."""
    _assignment_check(enrollment, assignment)
    pair = (
        SimilarityPair.objects.filter(pk=pair_id, similarity_check__assignment=assignment)
        .select_related("student_a", "student_b")
        .first()
    )
    if pair is None:
        raise NotFound("There is no such pair in this assignment's similarity checks.")
    names = student_names(enrollment=enrollment, assignment=assignment)
    row = PairRow(
        id=pair.pk,
        students=(names.username(pair.student_a), names.username(pair.student_b)),
        submissions=(pair.submission_a_id, pair.submission_b_id),
        similarity=pair.similarity,
        similarities=(pair.similarity_a, pair.similarity_b),
        declared_collaborators=pair.declared_collaborators,
    )
    regions = list(pair.regions or [])
    texts_a = _texts(pair.submission_a_id, {str(r["file_a"]) for r in regions})
    texts_b = _texts(pair.submission_b_id, {str(r["file_b"]) for r in regions})
    files = []
    for r in regions:
        text_a, text_b = texts_a.get(r["file_a"]), texts_b.get(r["file_b"])
        if text_a is None or text_b is None:
            continue
        files.append(
            SideBySide(
                file_a=r["file_a"],
                file_b=r["file_b"],
                similarity=float(r.get("similarity", 0)),
                # marked_html escapes every piece of the file.
                html_a=mark_safe(similarity.marked_html(text_a, r["a"])),
                html_b=mark_safe(similarity.marked_html(text_b, r["b"])),
                lines_a=_lines(text_a, r["a"]),
                lines_b=_lines(text_b, r["b"]),
            )
        )
    return PairView(row=row, files=files)
