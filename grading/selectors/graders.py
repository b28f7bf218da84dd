"""Reads of the split of grading work: who grades which sections and questions of an
assignment (GraderAssignment), and the grading queue: the counting submissions in a grader's
share, which of their questions are graded (a question is graded when its Grade row has
points), and who holds a live soft lock on them (GradingLock)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import QuerySet

from courses.anonymity import student_names
from courses.models import Assignment, Enrollment
from grading.errors import InvalidField
from grading.models import Grade, GraderAssignment, GradingLock
from grading.selectors.grades import question_specs, question_titles, staff_check
from portal.errors import NotFound
from submissions.selectors import counting_owners, section_codes


def _assignment_check(enrollment: Enrollment, assignment: Assignment) -> None:
    staff_check(enrollment)
    if enrollment.course_id != assignment.course_id:
        raise NotFound("There is no such assignment in this course.")


def grader_list(*, enrollment: Enrollment, assignment: Assignment) -> QuerySet[GraderAssignment]:
    """Staff: the assignment's graders with their shares, in the order they were named. One
    query."""
    _assignment_check(enrollment, assignment)
    return GraderAssignment.objects.filter(assignment=assignment).select_related("grader")


def grader_has_share(*, enrollment: Enrollment, assignment: Assignment) -> bool:
    """Whether the caller was given a share of the assignment's grading (then their pages
    show their share by default). One query."""
    return GraderAssignment.objects.filter(
        assignment=assignment, grader_id=enrollment.user_id
    ).exists()


@dataclass(frozen=True)
class QueueScope:
    """What a queue shows: the students of ``sections`` (None: every section) on
    ``questions`` (slugs, in the assignment's order)."""

    sections: frozenset[str] | None
    questions: list[str]


def queue_scope(
    *, enrollment: Enrollment, assignment: Assignment, mine: bool, question: str | None
) -> QueueScope:
    """The scope of a queue: with ``mine``, the caller's share by their GraderAssignment
    (none: everything); with ``question``, that question only (400 ``invalid`` for a slug
    that is not one of the assignment's questions). One query with ``mine``."""
    slugs = [q.slug for q in question_specs(assignment)]
    if question is not None and question not in slugs:
        raise InvalidField("question", f"'{question}' is not a question of {assignment.title}.")
    sections: frozenset[str] | None = None
    share = (
        GraderAssignment.objects.filter(assignment=assignment, grader_id=enrollment.user_id).first()
        if mine
        else None
    )
    if share is not None:
        sections = frozenset(share.sections) or None
        if share.questions:
            slugs = [s for s in slugs if s in share.questions]
    if question is not None:
        slugs = [s for s in slugs if s == question]
    return QueueScope(sections=sections, questions=slugs)


@dataclass(frozen=True)
class QueueQuestion:
    graded: bool
    points: Decimal | None


@dataclass
class QueueRow:
    """One counting submission in a queue: its owner (the submitter for group work; their
    username, or their pseudonym for a TA on an anonymous assignment), their section, each
    question in scope graded or not, and the live locks on it as (question, grader's
    username)."""

    submission: int
    student_id: int
    student: str
    section: str | None
    questions: dict[str, QueueQuestion]
    locks: list[tuple[str, str]] = field(default_factory=list)

    def holders(self, question: str | None) -> list[str]:
        """Who holds a live lock that keeps this row from others on ``question`` (a lock on
        the whole, "", keeps every question; None or "": any lock keeps the whole)."""
        return sorted(g for q, g in self.locks if not question or q in (question, ""))

    @property
    def locked_by(self) -> str | None:
        holders = self.holders(None)
        return holders[0] if holders else None

    def ungraded(self, question: str | None) -> bool:
        if question is not None:
            return not self.questions[question].graded
        return any(not q.graded for q in self.questions.values())


def queue_rows(
    *, enrollment: Enrollment, assignment: Assignment, scope: QueueScope, now: datetime
) -> list[QueueRow]:
    """The counting submissions in the scope, by student (username, or pseudonym where the
    caller sees the assignment anonymously: ``courses.anonymity``), each with its
    questions' grades and live locks. Five queries however many submissions, none of them
    carrying a list of ids."""
    names = student_names(enrollment=enrollment, assignment=assignment)
    counting = counting_owners(assignment_id=assignment.pk)
    sections = section_codes(enrollment=enrollment, user_ids=None)
    rows = {
        student_id: QueueRow(
            submission=submission_id,
            student_id=student_id,
            student=names.of_id(student_id, username),
            section=sections.get(student_id),
            questions={q: QueueQuestion(graded=False, points=None) for q in scope.questions},
        )
        for student_id, (submission_id, username) in counting.items()
        if scope.sections is None or sections.get(student_id) in scope.sections
    }
    # Read for the whole assignment (no list of students sent): rows not shown are skipped.
    grades = Grade.objects.filter(assignment=assignment, question__in=scope.questions).values_list(
        "student_id", "question", "points"
    )
    for student_id, question, points in grades:
        if student_id in rows:
            rows[student_id].questions[question] = QueueQuestion(points is not None, points)
    locks = GradingLock.objects.filter(assignment=assignment, expires_at__gt=now).values_list(
        "student_id", "question", "grader__username"
    )
    for student_id, question, grader in locks:
        if student_id in rows:
            rows[student_id].locks.append((question, grader))
    return sorted(rows.values(), key=lambda r: r.student)


@dataclass(frozen=True)
class QuestionProgress:
    slug: str
    title: str
    graded: int
    total: int


@dataclass(frozen=True)
class GradingQueue:
    """A queue: ``graded`` of ``total`` submissions have every question in scope graded;
    per question, how many have it graded; and the rows."""

    graded: int
    total: int
    questions: list[QuestionProgress]
    results: list[QueueRow]


def grading_queue(
    *,
    enrollment: Enrollment,
    assignment: Assignment,
    mine: bool,
    question: str | None,
    now: datetime,
) -> GradingQueue:
    """Staff: what there is to grade on the assignment, in the caller's share with ``mine``
    (see :func:`queue_scope`). Flat in queries however many submissions."""
    _assignment_check(enrollment, assignment)
    scope = queue_scope(enrollment=enrollment, assignment=assignment, mine=mine, question=question)
    rows = queue_rows(enrollment=enrollment, assignment=assignment, scope=scope, now=now)
    titles = question_titles(assignments=[assignment])
    progress = [
        QuestionProgress(
            slug=slug,
            title=titles.get((assignment.pk, slug), slug) or assignment.title,
            graded=sum(1 for r in rows if r.questions[slug].graded),
            total=len(rows),
        )
        for slug in scope.questions
    ]
    return GradingQueue(
        graded=sum(1 for r in rows if not r.ungraded(None)),
        total=len(rows),
        questions=progress,
        results=rows,
    )
