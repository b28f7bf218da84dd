"""The instructor's course settings page and the change log page: thin, over the same services
(``courses.services.settings``) and selectors as the instructor console API.

The settings page is the instructor's (others get 404); the change log is for staff. Times are
typed as datetime-local values, read in the course's zone (the labels name it)."""

from __future__ import annotations

from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from courses import deadlines, selectors, services
from courses.models import AfterGrace, Enrollment
from courses.selectors import AssignmentRow
from courses.services.settings import MAX_GRACE_DAYS
from portal.errors import ApplicationError, ValidationFailed
from portal.numbers import plain
from portal.pages import perform, typed_number

LOCAL_INPUT = "%Y-%m-%dT%H:%M"


def _local_input(moment: datetime | None, tz: tzinfo) -> str:
    """A moment as a datetime-local input's value, on the course's clock."""
    return moment.astimezone(tz).strftime(LOCAL_INPUT) if moment is not None else ""


def _typed_time(typed: str, field: str, tz: tzinfo, *, required: bool) -> datetime | None:
    """A datetime-local value read in the course's zone (empty: None where allowed)."""
    typed = typed.strip()
    if not typed:
        if required:
            raise ValidationFailed(f"Give the {field}.", fields={field: ["Required."]})
        return None
    try:
        moment = datetime.fromisoformat(typed)
    except ValueError:
        message = f"Give the {field} as a date and a time, e.g. 2026-12-01T23:59."
        raise ValidationFailed(message, fields={field: [message]}) from None
    return moment if moment.tzinfo is not None else deadlines.localize(moment, tz)


def _typed_int(typed: str, field: str) -> int:
    try:
        return int(typed.strip())
    except ValueError:
        message = f"{field.capitalize()} must be a whole number, like 2; '{typed}' is not."
        raise ValidationFailed(message, fields={field: [message]}) from None


def _shown(moment: datetime, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%a %b %-d %Y, %-I:%M %p %Z")


# --- the settings page ---------------------------------------------------------------------------


def _assignment_form(row: AssignmentRow, tz: tzinfo, posted: Any = None) -> dict[str, Any]:
    """One assignment's form: its values as inputs show them (or what was just typed)."""
    a = row.assignment
    form: dict[str, Any] = {
        "slug": a.slug,
        "title": a.title,
        "release_at": _local_input(a.release_at, tz),
        "due_at": _local_input(a.due_at, tz),
        "grace_days": str(a.grace_days),
        "after_grace": a.after_grace,
        "points": plain(a.points),
        "questions": [
            {"slug": q.slug, "label": q.shown, "points": plain(q.points)} for q in row.questions
        ],
        "grace_ends": _shown(row.grace_ends_at, tz),
        "has_questions": bool(row.questions),
    }
    if posted is not None:
        for name in ("title", "release_at", "due_at", "grace_days", "after_grace", "points"):
            form[name] = posted.get(name, form[name])
        for q in form["questions"]:
            q["points"] = posted.get(f"question-{q['slug']}", q["points"])
    return form


def _category_rows(enrollment: Enrollment, posted: Any = None) -> list[dict[str, Any]]:
    rows = [
        {
            "slug": c.slug,
            "weight": plain(c.weight),
            "bonus": c.bonus,
            "n_assignments": c.n_assignments,  # type: ignore[attr-defined]
            "remove": False,
            "new": False,
        }
        for c in selectors.category_list(course_id=enrollment.course_id)
    ]
    rows.append({"slug": "", "weight": "", "bonus": False, "n_assignments": 0, "new": True})
    if posted is not None:
        for index, row in enumerate(rows):
            if row["new"]:
                row["slug"] = posted.get("new-slug", "")
            row["weight"] = posted.get(f"weight-{index}", row["weight"])
            row["bonus"] = f"bonus-{index}" in posted
            row["remove"] = f"remove-{index}" in posted
    return rows


def _weights_sum(rows: list[dict[str, Any]]) -> Decimal | None:
    try:
        return sum(
            (
                Decimal(r["weight"] or 0)
                for r in rows
                if not r["bonus"] and not r.get("remove") and (r["slug"] or not r["new"])
            ),
            Decimal(0),
        )
    except ArithmeticError:
        return None


def _settings_context(
    enrollment: Enrollment,
    *,
    posted_assignment: str | None = None,
    posted_categories: bool = False,
    posted_course: bool = False,
    posted: Any = None,
) -> dict[str, Any]:
    course = enrollment.course
    tz = selectors.course_tz(course)
    rows = selectors.assignment_rows(enrollment=enrollment, now=timezone.now())
    categories = _category_rows(enrollment, posted if posted_categories else None)
    total = _weights_sum(categories)
    links = list(course.links) + [{"name": "", "url": "", "note": ""}] * 2
    regrade_days = str(course.regrade_days)
    if posted_course and posted is not None:
        regrade_days = posted.get("regrade_days", regrade_days)
        links = [
            {
                "name": posted.get(f"link-name-{i}", ""),
                "url": posted.get(f"link-url-{i}", ""),
                "note": posted.get(f"link-note-{i}", ""),
            }
            for i in range(len(links))
        ]
    return {
        "enrollment": enrollment,
        "course": course,
        "tz": tz,
        "assignments": [
            _assignment_form(row, tz, posted if posted_assignment == row.assignment.slug else None)
            for row in rows
        ],
        "after_grace_choices": AfterGrace.choices,
        "categories": categories,
        "weights_sum": None if total is None else plain(total),
        "weights_ok": total == 100,
        "regrade_days": regrade_days,
        "links": links,
    }


def _assignment_values(request: HttpRequest, tz: tzinfo) -> tuple[dict[str, Any], dict[str, Any]]:
    """An assignment form's values as the service takes them, and its question points."""
    post = request.POST
    values: dict[str, Any] = {
        "title": post.get("title", "").strip(),
        "release_at": _typed_time(post.get("release_at", ""), "release_at", tz, required=False),
        "due_at": _typed_time(post.get("due_at", ""), "due_at", tz, required=True),
        "grace_days": _typed_int(post.get("grace_days", ""), "grace_days"),
        "after_grace": post.get("after_grace", ""),
        "points": typed_number(post.get("points", ""), "points", empty=None),
    }
    if values["points"] is None:
        del values["points"]
    questions = {
        name.removeprefix("question-"): typed_number(post.get(name, ""), name, empty=Decimal(0))
        for name in post
        if name.startswith("question-")
    }
    return values, questions


def _assignment_post(request: HttpRequest, enrollment: Enrollment) -> HttpResponse | None:
    """Saves one assignment's form. A moved due date or grace period that changes the timing
    class of stored submissions is asked about first (the page answers with the count and a
    Confirm button that posts again with ``confirm=1``). None: done, redirect."""
    tz = selectors.course_tz(enrollment.course)
    slug = request.POST.get("assignment", "")
    now = timezone.now()
    try:
        values, questions = _assignment_values(request, tz)
        assignment = selectors.assignment_get(enrollment=enrollment, slug=slug, now=now)
        moved = values["due_at"] != assignment.due_at or (
            values["grace_days"] != assignment.grace_days
        )
        if moved and request.POST.get("confirm") != "1":
            affected = services.assignment_timing_impact(
                enrollment=enrollment,
                assignment=assignment,
                due_at=values["due_at"],
                grace_days=values["grace_days"],
            )
            if affected:
                context = _settings_context(enrollment, posted_assignment=slug, posted=request.POST)
                return render(
                    request,
                    "courses/settings.html",
                    {
                        **context,
                        "confirm": {
                            "assignment": assignment,
                            "affected": affected,
                            "fields": [
                                (k, v)
                                for k, v in request.POST.items()
                                if k not in ("csrfmiddlewaretoken", "confirm")
                            ],
                        },
                    },
                )
    except ApplicationError as refusal:
        return _refused(request, enrollment, refusal, posted_assignment=slug)

    def success(update: services.AssignmentUpdate) -> str:
        title = update.assignment.title
        if not update.changes:
            return f"Nothing changed in {title}."
        moved = ""
        if update.affected_submissions:
            n = update.affected_submissions
            moved = f" {n} submission{'s' if n != 1 else ''} changed timing class."
        return f"{title} saved.{moved}"

    done = perform(
        request,
        lambda: services.assignment_settings_update(
            enrollment=enrollment,
            assignment_slug=slug,
            values=values,
            question_points=questions,
            now=now,
        ),
        success,
    )
    if not done:
        return _render_settings(request, enrollment, status=400, posted_assignment=slug)
    return None


def _refused(
    request: HttpRequest, enrollment: Enrollment, refusal: ApplicationError, **posted: Any
) -> HttpResponse:
    from django.contrib import messages

    if refusal.status == 403:
        raise refusal
    messages.error(request, refusal.message)
    return _render_settings(request, enrollment, status=refusal.status, **posted)


def _render_settings(
    request: HttpRequest, enrollment: Enrollment, *, status: int = 200, **posted: Any
) -> HttpResponse:
    context = _settings_context(enrollment, posted=request.POST if posted else None, **posted)
    return render(request, "courses/settings.html", context, status=status)


def _categories_post(request: HttpRequest, enrollment: Enrollment) -> HttpResponse | None:
    rows = _category_rows(enrollment, request.POST)
    try:
        items = [
            services.CategoryInput(
                slug=row["slug"].strip(),
                weight=typed_number(row["weight"], f"weight of {row['slug']}", empty=Decimal(0))
                or Decimal(0),
                bonus=row["bonus"],
            )
            for row in rows
            if not row.get("remove") and (not row["new"] or row["slug"].strip())
        ]
    except ApplicationError as refusal:
        return _refused(request, enrollment, refusal, posted_categories=True)
    done = perform(
        request,
        lambda: services.categories_set(enrollment=enrollment, items=items, now=timezone.now()),
        lambda _: "Categories and weights saved.",
    )
    if not done:
        return _render_settings(request, enrollment, status=400, posted_categories=True)
    return None


def _course_post(request: HttpRequest, enrollment: Enrollment) -> HttpResponse | None:
    post = request.POST
    links = []
    index = 0
    while f"link-name-{index}" in post:
        link = {key: post.get(f"link-{key}-{index}", "").strip() for key in ("name", "url", "note")}
        if any(link.values()):
            links.append(link)
        index += 1
    try:
        regrade_days = _typed_int(post.get("regrade_days", ""), "regrade_days")
    except ApplicationError as refusal:
        return _refused(request, enrollment, refusal, posted_course=True)
    done = perform(
        request,
        lambda: services.course_settings_update(
            enrollment=enrollment, regrade_days=regrade_days, links=links, now=timezone.now()
        ),
        lambda _: "Regrade days and links saved.",
    )
    if not done:
        return _render_settings(request, enrollment, status=400, posted_course=True)
    return None


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def course_settings(request: HttpRequest, course_slug: str) -> HttpResponse:
    """The instructor's course settings. POST ``action``: ``assignment`` (``assignment`` and
    its fields; ``confirm=1`` once the count of re-timed submissions was shown),
    ``categories`` (``weight-N``, ``bonus-N``, ``remove-N``, ``new-slug``) or ``course``
    (``regrade_days``, ``link-name-N``, ``link-url-N``, ``link-note-N``)."""
    enrollment = selectors.enrollment_get_instructor(user=request.user, course_slug=course_slug)
    if request.method == "POST":
        handlers = {
            "assignment": _assignment_post,
            "categories": _categories_post,
            "course": _course_post,
        }
        handler = handlers.get(request.POST.get("action", ""))
        if handler is None:
            return _refused(
                request,
                enrollment,
                ApplicationError("Choose what to save.", code="invalid"),
            )
        answer = handler(request, enrollment)
        if answer is not None:
            return answer
        anchor = {"assignment": f"#assignment-{request.POST.get('assignment', '')}"}.get(
            request.POST.get("action", ""), f"#{request.POST.get('action')}"
        )
        return redirect(f"{request.path}{anchor}")
    return render(request, "courses/settings.html", _settings_context(enrollment))


@login_required
@require_GET
def grace_end_preview(request: HttpRequest, course_slug: str) -> JsonResponse:
    """GET ``?due_at=2026-03-07T23:59&grace_days=2`` (the settings page, as the instructor
    types): ``{"text"}``, the grace end on the course's clock, daylight-saving changes
    included (``courses.deadlines``)."""
    enrollment = selectors.enrollment_get_instructor(user=request.user, course_slug=course_slug)
    tz = selectors.course_tz(enrollment.course)
    try:
        due = _typed_time(request.GET.get("due_at", ""), "due_at", tz, required=True)
        grace = _typed_int(request.GET.get("grace_days", ""), "grace_days")
        if due is None or not 0 <= grace <= MAX_GRACE_DAYS:
            raise ValidationFailed("Grace days go from 0 to 365.")
    except ApplicationError:
        return JsonResponse({"text": "Give a due date and the grace days."}, status=400)
    end = deadlines.grace_end(due, grace, tz)
    text = "No grace period" if grace == 0 else f"Grace period ends {_shown(end, tz)}"
    return JsonResponse({"text": text, "at": end.astimezone(tz).isoformat()})


# --- the change log ------------------------------------------------------------------------------


@login_required
@require_GET
def changes(request: HttpRequest, course_slug: str) -> HttpResponse:
    """Every change to the course's configuration, newest first (staff)."""
    enrollment = selectors.enrollment_get_staff(user=request.user, course_slug=course_slug)
    qs = selectors.config_change_list(enrollment=enrollment)
    rows = list(qs[: selectors.CHANGES_SHOWN])
    total = qs.count() if len(rows) == selectors.CHANGES_SHOWN else len(rows)
    return render(
        request,
        "courses/changes.html",
        {
            "enrollment": enrollment,
            "course": enrollment.course,
            "tz": selectors.course_tz(enrollment.course),
            "rows": rows,
            "total": total,
            "shown": selectors.CHANGES_SHOWN,
        },
    )
