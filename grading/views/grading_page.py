"""The TA's grading pages: an assignment's grading overview (progress, the counting
submissions with their state and who holds them, ``Next ungraded``) and one submission's
grading view (its files with line numbers, the autograder's tests, per question the rubric
items as checkboxes, the adjustment and the comment; adding a rubric item or a comment on a
line). Thin, over grading's selectors and services; every write goes through
``portal.pages.perform``, a refusal shows the service's message."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from courses import selectors as course_selectors
from courses import services as course_services
from courses.anonymity import HIDDEN_NOTE, names_hidden, student_names
from courses.models import Assignment, Enrollment, Role
from grading import scoring, selectors, services
from grading.selectors.graders import QueueRow
from grading.services.rubrics import AnnotationInput, QuestionEvaluation
from portal.errors import NotFound, ValidationFailed
from portal.headers import EMBEDS_FILES, csp_replace
from portal.pages import perform, typed_number
from submissions import selectors as submission_selectors
from submissions.models import Submission


def _question(request: HttpRequest) -> str | None:
    """``?question=`` (GET or POST); empty is no filter."""
    return request.GET.get("question") or request.POST.get("question") or None


def staff_assignment(
    request: HttpRequest, course_slug: str, assignment_slug: str
) -> tuple[Enrollment, Assignment]:
    return course_selectors.staff_assignment_get(
        user=request.user,
        course_slug=course_slug,
        assignment_slug=assignment_slug,
        now=timezone.now(),
    )


def _staff_submission(
    request: HttpRequest, course_slug: str, assignment_slug: str, submission_id: int
) -> tuple[Enrollment, Assignment, Submission]:
    """The submission, for the course's staff only, and only under its own assignment."""
    enrollment, assignment = staff_assignment(request, course_slug, assignment_slug)
    submission, _ = submission_selectors.submission_get(
        user=request.user, submission_id=submission_id
    )
    if submission.assignment_id != assignment.pk:
        raise NotFound("There is no such submission of this assignment.")
    return enrollment, assignment, submission


def _with_question(url: str, question: str | None, anchor: str = "") -> str:
    return url + (f"?{urlencode({'question': question})}" if question else "") + anchor


def _overview_url(assignment: Assignment, question: str | None) -> str:
    url = reverse("grading:grade_overview", args=[assignment.course.slug, assignment.slug])
    return _with_question(url, question)


def _submission_url(
    assignment: Assignment, submission_id: int, question: str | None, anchor: str = ""
) -> str:
    url = reverse(
        "grading:grade_submission", args=[assignment.course.slug, assignment.slug, submission_id]
    )
    return _with_question(url, question, anchor)


def _filtered(
    rows: list[QueueRow], *, section: str, ungraded_first: bool, question: str | None
) -> list[QueueRow]:
    shown = [r for r in rows if not section or r.section == section]
    if ungraded_first:
        shown.sort(key=lambda r: not r.ungraded(question))  # stable: by student within
    return shown


@login_required
@require_GET
def grade_overview(request: HttpRequest, course_slug: str, assignment_slug: str) -> HttpResponse:
    """Staff: the assignment's grading progress (overall and per question), the counting
    submissions (``?mine=1``: the caller's share, the default for a grader who has one;
    ``?mine=0``: all; ``?section=``; ``?ungraded=1``: ungraded first) with their state and who holds them, and ``Next ungraded``. Others get 404."""
    enrollment, assignment = staff_assignment(request, course_slug, assignment_slug)
    question = _question(request)
    # A grader with a share sees it by default (``?mine=0``: everything); others see all.
    typed = request.GET.get("mine")
    mine = (
        typed == "1"
        if typed in ("0", "1")
        else selectors.grader_has_share(enrollment=enrollment, assignment=assignment)
    )
    queue = selectors.grading_queue(
        enrollment=enrollment,
        assignment=assignment,
        mine=mine,
        question=question,
        now=timezone.now(),
    )
    section = request.GET.get("section", "")
    ungraded_first = request.GET.get("ungraded") == "1"
    return render(
        request,
        "grading/grade_overview.html",
        {
            "enrollment": enrollment,
            "course": enrollment.course,
            "assignment": assignment,
            "queue": queue,
            "rows": _filtered(
                queue.results, section=section, ungraded_first=ungraded_first, question=question
            ),
            "sections": sorted({r.section for r in queue.results if r.section}),
            "question": question or "",
            "questions": [q for q in selectors.question_specs(assignment) if q.slug],
            "question_titles": {q.slug: q.title for q in queue.questions},
            "regrades": list(
                selectors.regrade_request_list(
                    enrollment=enrollment,
                    status="open",
                    assignment_slug=assignment.slug,
                    assigned_to_id=enrollment.user_id if mine else None,
                )
            ),
            "mine": mine,
            "section": section,
            "ungraded_first": ungraded_first,
            "tz": course_selectors.course_tz(enrollment.course),
            **_anonymity(enrollment, assignment),
        },
    )


def _anonymity(enrollment: Enrollment, assignment: Assignment) -> dict[str, Any]:
    """What the grading pages say about anonymous grading: whether this viewer sees
    pseudonyms (and the note that says so), and whether they may reveal or hide the names."""
    return {
        "names_hidden": names_hidden(enrollment=enrollment, assignment=assignment),
        "hidden_note": HIDDEN_NOTE,
        "may_reveal": assignment.anonymous_grading and enrollment.role == Role.INSTRUCTOR,
    }


@login_required
@require_POST
def names_reveal(request: HttpRequest, course_slug: str, assignment_slug: str) -> HttpResponse:
    """The instructor reveals an anonymous assignment's student names to the TAs
    (``revealed=1``) or hides them again (``revealed=0``), from the grading overview; back
    there with the outcome. TAs are refused (403), everyone else gets 404."""
    enrollment, assignment = staff_assignment(request, course_slug, assignment_slug)
    revealed = request.POST.get("revealed") == "1"
    perform(
        request,
        lambda: course_services.assignment_names_reveal(
            enrollment=enrollment, assignment=assignment, revealed=revealed, now=timezone.now()
        ),
        lambda _: (
            f"The TAs now see the students' names on {assignment.title}."
            if revealed
            else f"The TAs see pseudonyms again on {assignment.title}."
        ),
    )
    return redirect(_overview_url(assignment, None))


@login_required
@require_POST
def grade_next(request: HttpRequest, course_slug: str, assignment_slug: str) -> HttpResponse:
    """Staff take the next ungraded submission of their share (``question``: of that
    question) with a lock, and go to its grading view; nothing left: back to the overview."""
    enrollment, assignment = staff_assignment(request, course_slug, assignment_slug)
    question = _question(request)
    handed = services.grading_next(
        by=enrollment, assignment=assignment, question=question, now=timezone.now()
    )
    if handed is None:
        messages.info(request, "Everything assigned to you is graded.")
        return redirect(_overview_url(assignment, question))
    return redirect(_submission_url(assignment, handed.row.submission, question))


def _rubrics(enrollment: Enrollment, assignment: Assignment) -> dict[str, list[Any]]:
    items: dict[str, list[Any]] = {}
    for item in selectors.rubric_list(enrollment=enrollment, assignment=assignment):
        items.setdefault(item.question, []).append(item)
    return items


def _open_regrades(regrade: Any, slug: str) -> list[Any]:
    """The submission's open regrade requests a question's form resolves: those about the
    question, and those about the whole assignment."""
    return [r for r in regrade.requests if r.status == "open" and r.question in ("", slug)]


def _question_forms(
    enrollment: Enrollment,
    assignment: Assignment,
    submission: Submission,
    chosen: str | None,
    regrade: Any,
) -> list[dict[str, Any]]:
    """Per question shown (every one, or the chosen one): its title, rubric items, what
    the evaluation holds for it, and the open regrade requests its form can resolve."""
    now = timezone.now()
    evaluation = selectors.evaluation_get(enrollment=enrollment, submission=submission, now=now)
    titles = selectors.question_titles(assignments=[assignment])
    rubrics = _rubrics(enrollment, assignment)
    return [
        {
            "slug": spec.slug,
            "title": titles.get((assignment.pk, spec.slug), spec.slug) or assignment.title,
            "max_points": spec.points,
            "items": rubrics.get(spec.slug, []),
            "evaluation": evaluation.questions[spec.slug],
            "regrades": _open_regrades(regrade, spec.slug),
        }
        for spec in selectors.question_specs(assignment)
        if chosen is None or spec.slug == chosen
    ]


def _autograde(submission: Submission, assignment: Assignment, question: str | None) -> Any:
    """The job-status fragment's view for staff; with a question chosen, only the tests that
    feed that question."""
    status = selectors.job_status(submission, staff=True, now=timezone.now())
    if question is not None and status.get("tests"):
        specs = selectors.question_specs(assignment)
        status["tests"] = [
            t for t in status["tests"] if scoring.feeding_question(t["name"], specs) == question
        ]
    return status


@login_required
@require_GET
def grade_submission(
    request: HttpRequest, course_slug: str, assignment_slug: str, submission_id: int
) -> HttpResponse:
    """Staff: one submission to grade: its files with line numbers and comments, the
    autograder's tests, the grade's numbers, and per question (``?question=``: that one) the
    rubric items to tick, the adjustment and the comment. Others get 404."""
    enrollment, assignment, submission = _staff_submission(
        request, course_slug, assignment_slug, submission_id
    )
    question = _question(request)
    if question is not None and question not in {
        q.slug for q in selectors.question_specs(assignment)
    }:
        raise NotFound(f"'{question}' is not a question of {assignment.title}.")
    now = timezone.now()
    feedback = selectors.submission_feedback(enrollment=enrollment, submission=submission, now=now)
    regrade = selectors.regrade_panel(enrollment=enrollment, submission=submission, now=now)
    page = render(
        request,
        "grading/grade_submission.html",
        {
            "enrollment": enrollment,
            "course": enrollment.course,
            "assignment": assignment,
            "submission": submission,
            "question": question or "",
            "questions": _question_forms(enrollment, assignment, submission, question, regrade),
            "regrade": regrade,
            "grade": selectors.submission_grade(
                enrollment=enrollment, submission=submission, now=now
            ),
            "feedback": feedback,
            "code_files": [f for f in feedback.files if f.kind in ("code", "notebook")],
            "autograde": _autograde(submission, assignment, question),
            "tz": course_selectors.course_tz(enrollment.course),
            "names": student_names(enrollment=enrollment, assignment=assignment),
            **_anonymity(enrollment, assignment),
        },
    )
    # The submitted files may include a PDF, embedded in an <object>.
    return csp_replace(page, EMBEDS_FILES)


def _item_ids(values: list[str]) -> list[int]:
    try:
        return [int(v) for v in values]
    except ValueError:
        raise ValidationFailed("Tick rubric items from the list.") from None


def _back(assignment: Assignment, submission: Submission, request: HttpRequest) -> HttpResponse:
    anchor = request.POST.get("anchor", "")
    anchor = f"#{anchor}" if anchor.replace("-", "").isalnum() else ""
    return HttpResponseRedirect(
        _submission_url(assignment, submission.pk, request.GET.get("question") or None, anchor)
    )


@login_required
@require_POST
def grade_save(
    request: HttpRequest, course_slug: str, assignment_slug: str, submission_id: int
) -> HttpResponse:
    """Staff save one question's evaluation (``question``, ``rubric_items``, ``adjustment``,
    ``comment``): the items ticked replace those applied before; back to the same view with
    the new points, or the refusal. With ``resolve`` (the id of an open regrade request on
    this submission) and its ``response-<id>``, the same evaluation resolves that request
    (one transaction: the grade, the answer, the email to the student)."""
    enrollment, assignment, submission = _staff_submission(
        request, course_slug, assignment_slug, submission_id
    )
    data = request.POST
    resolving = data.get("resolve", "")

    def save() -> str:
        given = {
            data.get("question", ""): QuestionEvaluation(
                rubric_items=_item_ids(data.getlist("rubric_items")),
                adjustment=typed_number(data.get("adjustment", ""), "adjustment", empty=Decimal(0))
                or Decimal(0),
                comment=data.get("comment", ""),
            )
        }
        if not resolving:
            services.evaluation_set(by=enrollment, submission=submission, questions=given)
            return "Evaluation saved."
        regrade = _regrade_of(request, submission, resolving)
        services.regrade_request_resolve(
            enrollment=enrollment,
            request_id=regrade.pk,
            response=data.get(f"response-{regrade.pk}", ""),
            questions=given,
            now=timezone.now(),
        )
        return "Evaluation saved and the regrade request resolved; the student is told by email."

    perform(request, save, lambda said: said)
    return _back(assignment, submission, request)


def _regrade_of(request: HttpRequest, submission: Submission, typed: str) -> Any:
    """The regrade request ``typed`` names, one of this submission's."""
    regrade = None
    if typed.isdigit():
        regrade, _ = selectors.regrade_request_get(user=request.user, request_id=int(typed))
    if regrade is None or regrade.submission_id != submission.pk:
        raise NotFound("There is no such regrade request on this submission.")
    return regrade


@login_required
@require_POST
def rubric_item_add(
    request: HttpRequest, course_slug: str, assignment_slug: str, submission_id: int
) -> HttpResponse:
    """Staff add an item to a question's rubric while grading (``question``,
    ``description``, ``points``); back to the same view."""
    enrollment, assignment, submission = _staff_submission(
        request, course_slug, assignment_slug, submission_id
    )
    data = request.POST

    def add() -> Any:
        description = data.get("description", "").strip()
        if not description:
            raise ValidationFailed("Describe the rubric item.")
        return services.rubric_item_create(
            by=enrollment,
            assignment=assignment,
            question=data.get("question", ""),
            description=description,
            points=typed_number(data.get("points", ""), "points", empty=Decimal(0)) or Decimal(0),
        )

    perform(request, add, lambda item: f"Rubric item '{item.description}' added.")
    return _back(assignment, submission, request)


def _line(typed: str) -> int:
    try:
        line = int(typed)
    except ValueError:
        line = 0
    if line < 1:
        raise ValidationFailed(f"The line must be a line number, like 12; '{typed}' is not.")
    return line


@login_required
@require_POST
def annotation_add(
    request: HttpRequest, course_slug: str, assignment_slug: str, submission_id: int
) -> HttpResponse:
    """Staff comment on a line of one of the submission's files (``file``, ``line``,
    ``text``); the other comments stay. Back to the same view, at the file."""
    enrollment, assignment, submission = _staff_submission(
        request, course_slug, assignment_slug, submission_id
    )
    data = request.POST

    def add() -> None:
        text = data.get("text", "").strip()
        if not text:
            raise ValidationFailed("Write the comment.")
        kept = selectors.evaluation_get(
            enrollment=enrollment, submission=submission, now=timezone.now()
        ).annotations
        annotations = [
            AnnotationInput(file=str(a["file"]), line=int(str(a["line"])), text=str(a["text"]))
            for a in kept
        ]
        annotations.append(
            AnnotationInput(file=data.get("file", ""), line=_line(data.get("line", "")), text=text)
        )
        services.evaluation_set(
            by=enrollment, submission=submission, questions={}, annotations=annotations
        )

    perform(request, add, lambda _: "Comment saved.")
    return _back(assignment, submission, request)
