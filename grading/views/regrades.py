"""Regrade pages: a student asks from the receipt; staff read the queue, assign and resolve;
both write in a request's thread while it is open."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from courses import selectors as course_selectors
from courses.anonymity import HIDDEN_NOTE, StudentNames, course_staff_ids, student_names
from courses.models import Enrollment
from grading import selectors, services
from grading.models import RegradeRequest
from grading.selectors.regrades import ThreadMessage, regrade_threads
from portal.errors import ApplicationError, ValidationFailed
from portal.pages import perform
from submissions import selectors as submission_selectors


@login_required
@require_POST
def regrade_request_create(request: HttpRequest, submission_id: int) -> HttpResponse:
    """A student asks for a regrade from the receipt (``question``, ``message``); back to the
    receipt with the outcome, a refusal with the service's message."""
    submission, enrollment = submission_selectors.submission_get(
        user=request.user, submission_id=submission_id
    )
    perform(
        request,
        lambda: services.regrade_request_create(
            enrollment=enrollment,
            submission=submission,
            question=request.POST.get("question", "").strip(),
            message=request.POST.get("message", ""),
            now=timezone.now(),
        ),
        lambda _: "Your regrade request is in. The course staff will answer it here.",
    )
    return redirect(reverse("submissions:receipt", args=[submission.pk]) + "#regrade")


REGRADE_STATUSES = ("open", "resolved", "all")
REGRADE_ASSIGNED = ("all", "me")


def _regrade_filters(data: Any) -> dict[str, str]:
    """The queue's filters: ``status`` (open by default, resolved or all), ``assignment``
    (a slug; empty for every assignment) and ``assigned`` (all by default, or me)."""
    status = data.get("status", "").strip() or "open"
    assigned = data.get("assigned", "").strip()
    return {
        "status": status if status in REGRADE_STATUSES else "open",
        "assignment": data.get("assignment", "").strip(),
        "assigned": assigned if assigned in REGRADE_ASSIGNED else "all",
    }


def _queue_url(course_slug: str, filters: dict[str, str]) -> str:
    """The queue with these filters (``assigned=all``, the default, left out)."""
    shown = {k: v for k, v in filters.items() if (k, v) != ("assigned", "all")}
    return reverse("grading:regrade_queue", args=[course_slug]) + "?" + urlencode(shown)


class QueueRow(NamedTuple):
    """One request on the queue: its question's grade row (with the history; open requests),
    the grade now, what pages call its question, its thread, and how the viewer names the
    students of its assignment (anonymous grading)."""

    request: RegradeRequest
    grade: Any
    points: Any
    title: str
    thread: list[ThreadMessage]
    names: StudentNames


def _queue_rows(enrollment: Enrollment, regrades: list[RegradeRequest]) -> list[QueueRow]:
    """Each request's grade now, from the one selector (six queries however many requests),
    the history of the question's grade row for the open ones (three per assignment), and
    the threads (two queries)."""
    course_id = enrollment.course_id
    current = selectors.current_points(
        course_id=course_id,
        asked=[(r.student_id, r.submission.assignment.slug, r.question) for r in regrades],
        now=timezone.now(),
    )
    history: dict[tuple[int, int, str], Any] = {}
    assignments = {
        r.submission.assignment_id: r.submission.assignment
        for r in regrades
        if r.status == RegradeRequest.Status.OPEN
    }
    for assignment in assignments.values():
        for grade in selectors.grade_list(enrollment=enrollment, assignment=assignment):
            history[(assignment.pk, grade.student_id, grade.question)] = grade
    titles = selectors.question_titles(assignments=[r.submission.assignment for r in regrades])
    threads = regrade_threads(
        course_id=course_id, request_ids=[r.pk for r in regrades], viewer=enrollment
    )
    staff_ids = course_staff_ids(course_id=course_id) if regrades else frozenset()
    names = {
        a.pk: student_names(enrollment=enrollment, assignment=a, staff_ids=staff_ids)
        for a in {r.submission.assignment_id: r.submission.assignment for r in regrades}.values()
    }
    return [
        QueueRow(
            r,
            history.get((r.submission.assignment_id, r.student_id, r.question)),
            current[(r.student_id, r.submission.assignment.slug, r.question)],
            titles.get((r.submission.assignment_id, r.question), r.question),
            threads.get(r.pk, []),
            names[r.submission.assignment_id],
        )
        for r in regrades
    ]


@login_required
@require_GET
def regrade_queue(request: HttpRequest, course_slug: str) -> HttpResponse:
    """TAs and instructors (404 for everyone else): the course's regrade requests, open ones
    first by default, filtered by status, assignment and whether they are assigned to the
    viewer; each with its thread, each open one with reply, assign and resolve forms and the
    current grade of its question with that grade's history."""
    enrollment = course_selectors.enrollment_get_staff(user=request.user, course_slug=course_slug)
    course = enrollment.course
    filters = _regrade_filters(request.GET)
    error = None
    try:
        regrades = list(
            selectors.regrade_request_list(
                enrollment=enrollment,
                status=None if filters["status"] == "all" else filters["status"],
                assignment_slug=filters["assignment"] or None,
                assigned_to_id=enrollment.user_id if filters["assigned"] == "me" else None,
            )
        )
    except ApplicationError as refusal:
        error, regrades = refusal, []
    rows = _queue_rows(enrollment, regrades)
    return render(
        request,
        "grading/regrade_queue.html",
        {
            "enrollment": enrollment,
            "course": course,
            "tz": course_selectors.course_tz(course),
            "filters": filters,
            "query": urlencode(filters),
            "error": error,
            "rows": rows,
            "names_hidden": any(row.names.hidden for row in rows),
            "hidden_note": HIDDEN_NOTE,
            "statuses": REGRADE_STATUSES,
            "graders": list(course_selectors.course_staff(course=course)),
            "assignment_choices": course_selectors.assignment_rows(
                enrollment=enrollment, now=timezone.now()
            ),
        },
        status=error.status if error is not None else 200,
    )


def _back(request: HttpRequest, regrade: RegradeRequest, enrollment: Enrollment) -> str:
    """Where a thread's or an assignment's form goes back to, at the request: the staff
    queue with its filters (``back=queue``, staff), the submission's grading view
    (``back=grading``, staff), else the receipt."""
    back_to = request.POST.get("back") if enrollment.is_staff_role else None
    if back_to == "queue":
        back = _queue_url(enrollment.course.slug, _regrade_filters(request.POST))
    elif back_to == "grading":
        submission = regrade.submission
        back = reverse(
            "grading:grade_submission",
            args=[enrollment.course.slug, submission.assignment.slug, submission.pk],
        )
    else:
        back = reverse("submissions:receipt", args=[regrade.submission_id])
    return f"{back}#regrade-{regrade.pk}"


@login_required
@require_POST
def regrade_message_create(request: HttpRequest, request_id: int) -> HttpResponse:
    """The requester (or the submission's group) or staff write in a request's thread
    (``message``) from the receipt or the queue; back there with the outcome. Anyone who may
    not see the request gets 404."""
    regrade, enrollment = selectors.regrade_request_get(user=request.user, request_id=request_id)
    perform(
        request,
        lambda: services.regrade_message_create(
            enrollment=enrollment,
            request_id=regrade.pk,
            message=request.POST.get("message", ""),
            now=timezone.now(),
        ),
        lambda _: "Your message is in the thread.",
    )
    return redirect(_back(request, regrade, enrollment))


def _requester(enrollment: Enrollment, regrade: RegradeRequest) -> str:
    """The requester's username as the viewer may see it (a pseudonym under anonymous
    grading)."""
    names = student_names(enrollment=enrollment, assignment=regrade.submission.assignment)
    return names.username(regrade.student)


@login_required
@require_POST
def regrade_request_assign(request: HttpRequest, request_id: int) -> HttpResponse:
    """Staff (re)assign a request from the queue (``assigned_to``, a username; empty: to
    nobody); back to the queue with its filters. The requester gets 403, anyone else 404."""
    regrade, enrollment = selectors.regrade_request_get(user=request.user, request_id=request_id)
    grader = request.POST.get("assigned_to", "").strip()
    student = _requester(enrollment, regrade)
    perform(
        request,
        lambda: services.regrade_request_assign(
            enrollment=enrollment, request_id=regrade.pk, grader=grader or None
        ),
        lambda _: f"{student}'s regrade request is assigned to " + (grader or "nobody") + ".",
    )
    back = _queue_url(enrollment.course.slug, _regrade_filters(request.POST))
    return redirect(f"{back}#regrade-{regrade.pk}")


@login_required
@require_POST
def regrade_request_resolve(request: HttpRequest, request_id: int) -> HttpResponse:
    """Staff answer a regrade request from the queue (``response``, optional ``score``);
    back to the queue, with its filters, and the outcome. The requester is refused (403, by
    the service), anyone who may not see the request gets 404."""
    regrade, enrollment = selectors.regrade_request_get(user=request.user, request_id=request_id)
    back = _queue_url(enrollment.course.slug, _regrade_filters(request.POST))
    typed = request.POST.get("score", "").strip()
    student = _requester(enrollment, regrade)

    def resolve() -> Decimal | None:
        try:
            score = Decimal(typed) if typed else None
        except InvalidOperation:
            message = f"The score must be a number, like 8 or 8.5; '{typed}' is not."
            raise ValidationFailed(message, fields={"score": [message]}) from None
        services.regrade_request_resolve(
            enrollment=enrollment,
            request_id=regrade.pk,
            response=request.POST.get("response", ""),
            score=score,
            now=timezone.now(),
        )
        return score

    done = perform(
        request,
        resolve,
        lambda score: (
            f"Resolved {student}'s regrade request on "
            f"{regrade.submission.assignment.title}"
            + (f": the grade is now {score}." if score is not None else ", grade unchanged.")
        ),
    )
    return redirect(back if done else f"{back}#regrade-{regrade.pk}")
