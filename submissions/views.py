"""The submissions pages: an assignment with its upload form and history, the receipt, file
downloads, and the staff list with its zip. Thin, over the same services and selectors as the
API; a refusal shows the API's message on the page, with the API's status."""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from access.throttling import upload_throttle
from courses import selectors as course_selectors
from courses.anonymity import HIDDEN_NOTE, StudentNames, student_names
from courses.models import Assignment, Enrollment
from courses.selectors import AssignmentRow
from portal.errors import ApplicationError, NotFound, error_body
from portal.headers import EMBEDS_FILES, FRAMED_BY_THIS_SITE, csp_replace
from portal.pages import perform
from submissions import hooks, selectors, services
from submissions.models import Submission, Timing
from submissions.upload_handlers import install_upload_limits, raise_if_refused
from submissions.uploads import (
    MB,
    UploadLimits,
    UploadRefused,
    file_too_large_error,
    submission_too_large_error,
)

STAFF_PAGE_SIZE = 50
_ZIP_COPY_CHUNK = 1 * MB
_UNSAFE_IN_FOLDER = re.compile(r"[\\/\x00-\x1f\x7f]")


def _received_at(request: HttpRequest) -> Any:
    """The server's clock when the request arrived (``ReceivedAtMiddleware``)."""
    return getattr(request, "received_at", None) or timezone.now()


def _wants_json(request: HttpRequest) -> bool:
    """The page's own script (static/portal/upload.js) uploads with XHR and reads JSON."""
    return request.headers.get("X-Requested-With") == "XMLHttpRequest"


def _size(n: int) -> str:
    return f"{n // MB} MB" if n % MB == 0 else filesizeformat(n)


# --- the assignment page ------------------------------------------------------------------------


@csrf_exempt
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def assignment_detail(request: HttpRequest, course_slug: str, assignment_slug: str) -> HttpResponse:
    """GET: the assignment, the caller's own deadline in the course's zone, its rules, the
    upload form (for a student who may still hand work in) and their history.

    POST (multipart: ``files``, ``collaborators``): hands work in, then redirects to the
    receipt. The assignment's upload limit goes in before anything parses the body, so this
    view is CSRF-exempt and the inner one that writes is CSRF-protected (see
    ``submissions.upload_handlers``); a refusal is the same page with the API's message."""
    received_at = _received_at(request)
    enrollment = course_selectors.enrollment_get(user=request.user, course_slug=course_slug)
    row = course_selectors.assignment_row(
        enrollment=enrollment, slug=assignment_slug, now=received_at
    )
    if request.method != "POST":
        return _assignment_page(request, enrollment, row)
    if throttled := upload_throttle(request):
        # Before the body is read: nothing of it is kept, and saying so needs no CSRF token.
        return _refused(request, enrollment, row, throttled)
    limits = selectors.upload_limits_for(assignment=row.assignment)
    install_upload_limits(
        request, max_file_bytes=limits.max_file_bytes, max_total_bytes=limits.max_total_bytes
    )
    try:
        raise_if_refused(request)  # parses the body; refuses an oversized upload (413)
    except UploadRefused as refusal:
        # Nothing is written on this path, so saying why needs no CSRF token: the token may
        # not even have been read when the upload was cut off.
        return _refused(request, enrollment, row, refusal)
    return _assignment_submit(request, enrollment, row, limits)


@csrf_protect
def _assignment_submit(
    request: HttpRequest, enrollment: Enrollment, row: AssignmentRow, limits: UploadLimits
) -> HttpResponse:
    uploaded = request.FILES.getlist("files")
    typed = request.POST.get("collaborators", "")
    try:
        result = services.submission_create(
            enrollment=enrollment,
            assignment=row.assignment,
            files=[(f, f.name or "") for f in uploaded],
            collaborators=typed.replace(",", " ").split(),
            received_at=_received_at(request),
            limits=limits,
        )
    except ApplicationError as refusal:
        return _refused(request, enrollment, row, refusal, collaborators=typed)
    receipt = reverse("submissions:receipt", args=[result.submission.pk])
    if _wants_json(request):
        return JsonResponse({"id": result.submission.pk, "receipt_url": receipt}, status=201)
    return redirect(receipt)


def _refused(
    request: HttpRequest,
    enrollment: Enrollment,
    row: AssignmentRow,
    refusal: ApplicationError,
    *,
    collaborators: str = "",
) -> HttpResponse:
    if _wants_json(request):
        response: HttpResponse = JsonResponse(
            error_body(refusal.code, refusal.message), status=refusal.status
        )
    else:
        response = _assignment_page(
            request,
            enrollment,
            row,
            error=refusal,
            collaborators=collaborators,
            status=refusal.status,
        )
    for header, value in refusal.headers.items():
        response[header] = value
    return response


def _assignment_page(
    request: HttpRequest,
    enrollment: Enrollment,
    row: AssignmentRow,
    *,
    error: ApplicationError | None = None,
    collaborators: str = "",
    status: int = 200,
) -> HttpResponse:
    assignment = row.assignment
    course = enrollment.course
    now = _received_at(request)
    deadline = row.my_deadline
    closed = deadline is not None and not deadline.accepts(now)
    history: list[tuple[Submission, bool]] = []
    group = None
    if enrollment.can_submit:
        submissions = list(selectors.submission_list(enrollment=enrollment, assignment=assignment))
        counting = selectors.counting_ids(submissions=submissions)
        history = [(s, s.pk in counting) for s in submissions]
        if assignment.group:
            group = course_selectors.my_group(enrollment=enrollment)
    limits = selectors.upload_limits_for(assignment=assignment)
    return render(
        request,
        "submissions/assignment_detail.html",
        {
            "enrollment": enrollment,
            "course": course,
            "tz": course_selectors.course_tz(course),
            "row": row,
            "assignment": assignment,
            "deadline": deadline,
            "now": now,
            "time_left": row.time_left(now),
            "closed": closed,
            "timing_now": deadline.timing(now) if deadline is not None else None,
            "may_submit": enrollment.can_submit and not closed,
            "history": history,
            "group": group,
            "error": error,
            "collaborators": collaborators,
            "limits": limits,
            "max_file": _size(limits.max_file_bytes),
            "max_total": _size(limits.max_total_bytes),
            # The server's own refusals, for the script to say the same before uploading.
            "file_too_large": file_too_large_error("{name}", limits.max_file_bytes).message,
            "total_too_large": submission_too_large_error(limits.max_total_bytes).message,
            # Anonymous grading: staff lists on this page name students as the viewer may.
            "names": student_names(enrollment=enrollment, assignment=assignment),
            # What other apps show here (grading: the latest submission's autograder status,
            # staff's autograder card, the regrade window): see submissions.hooks.
            **hooks.assignment_page_context(
                enrollment=enrollment,
                assignment=assignment,
                latest=history[0][0] if history else None,
                now=now,
            ),
        },
        status=status,
    )


# --- the receipt and downloads ------------------------------------------------------------------


@login_required
@require_GET
def receipt(request: HttpRequest, submission_id: int) -> HttpResponse:
    """One submission: its owner, a member of its group, or the course's staff; 404 others."""
    submission, enrollment = selectors.submission_get(
        user=request.user, submission_id=submission_id
    )
    counting = selectors.counting_ids(submissions=[submission])
    # Anonymous grading: a TA sees the owner, group and collaborators by pseudonym.
    names = student_names(enrollment=enrollment, assignment=submission.assignment)
    page = render(
        request,
        "submissions/receipt.html",
        {
            "submission": submission,
            "enrollment": enrollment,
            "course": submission.course,
            "assignment": submission.assignment,
            "tz": course_selectors.course_tz(submission.course),
            "timing_label": Timing(submission.timing).label,
            "counts": submission.pk in counting,
            # The owner may still pick which submission counts, until grades are released.
            "may_choose": enrollment.is_staff_role
            or (enrollment.can_submit and not selectors.grades_out(submission.assignment)),
            "files": list(submission.files.all()),
            "collaborators": sorted(names.username(u) for u in submission.collaborators.all()),
            "names": names,
            "names_hidden": names.hidden,
            "hidden_note": HIDDEN_NOTE,
            # Grading's part (autograder status, regrade requests): see submissions.hooks.
            **hooks.receipt_context(
                enrollment=enrollment, submission=submission, now=timezone.now()
            ),
        },
    )
    # The released feedback may embed a submitted PDF.
    return csp_replace(page, EMBEDS_FILES)


@login_required
@require_http_methods(["POST"])
def choose(request: HttpRequest, submission_id: int) -> HttpResponse:
    """Make this the submission that counts: staff at any time, its owner (or a group member)
    until the grades are released."""
    submission, enrollment = selectors.submission_get(
        user=request.user, submission_id=submission_id
    )
    perform(
        request,
        lambda: services.submission_choose(enrollment=enrollment, submission=submission),
        lambda _: f"Submission #{submission.number} now counts.",
    )
    return redirect("submissions:receipt", submission_id=submission.pk)


@login_required
@require_GET
def file_download(request: HttpRequest, submission_id: int, file_id: int) -> FileResponse:
    """One file of a submission, for whoever may see the submission: a download, or with
    ``?inline=1`` an image or PDF shown in the browser (its type from its name, never
    sniffed; 400 ``not_inline`` for any other file), which the site's own pages may frame."""
    submission, _ = selectors.submission_get(user=request.user, submission_id=submission_id)
    stored = next((f for f in submission.files.all() if f.pk == file_id), None)
    if stored is None:
        raise NotFound("There is no such file in this submission.")
    if request.GET.get("inline") != "1":
        response = FileResponse(stored.file.open("rb"), as_attachment=True, filename=stored.name)
    else:
        content_type = INLINE_TYPES.get(stored.name.rsplit(".", 1)[-1].lower())
        if content_type is None:
            raise ApplicationError(
                "Only images and PDFs are shown in the browser; download this file instead.",
                code="not_inline",
                status=400,
            )
        response = FileResponse(
            stored.file.open("rb"), filename=stored.name, content_type=content_type
        )
        # The grading view and the receipt embed a PDF in an <object>: this site's own pages
        # may frame it (every other response keeps X_FRAME_OPTIONS, DENY, and the policy's
        # frame-ancestors 'none').
        response["X-Frame-Options"] = "SAMEORIGIN"
        csp_replace(response, FRAMED_BY_THIS_SITE)
    response["X-Content-Type-Options"] = "nosniff"
    return response


# What a file may be shown inline as, by its name's extension: images and PDF only.
INLINE_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "pdf": "application/pdf",
}


# --- the staff list and its zip -----------------------------------------------------------------


def _filters(request: HttpRequest) -> dict[str, str]:
    """The list's filters from the query string; an unknown timing is ignored."""
    timing = request.GET.get("timing", "").strip()
    return {
        "section": request.GET.get("section", "").strip(),
        "timing": timing if timing in Timing.values else "",
        "student": request.GET.get("student", "").strip(),
    }


def _staff_lookup(
    request: HttpRequest, course_slug: str, assignment_slug: str
) -> tuple[Enrollment, Assignment, dict[str, str], QuerySet[Submission]]:
    enrollment = course_selectors.enrollment_get_staff(user=request.user, course_slug=course_slug)
    assignment = course_selectors.assignment_get(
        enrollment=enrollment, slug=assignment_slug, now=timezone.now()
    )
    filters = _filters(request)
    submissions = selectors.submission_list(
        enrollment=enrollment,
        assignment=assignment,
        student=filters["student"] or None,
        section=filters["section"] or None,
        timing=filters["timing"] or None,
    )
    return enrollment, assignment, filters, submissions


@login_required
@require_GET
def staff_list(request: HttpRequest, course_slug: str, assignment_slug: str) -> HttpResponse:
    """Every submission of an assignment, newest first, 50 a page, for TAs and instructors
    (404 for everyone else). Filters: ``section``, ``timing``, ``student`` (a username)."""
    enrollment, assignment, filters, submissions = _staff_lookup(
        request, course_slug, assignment_slug
    )
    page = Paginator(submissions, STAFF_PAGE_SIZE).get_page(request.GET.get("page"))
    rows: list[Submission] = list(page.object_list)
    counting = selectors.counting_ids(submissions=rows)
    sections = selectors.section_codes(enrollment=enrollment, user_ids=[s.student_id for s in rows])
    course = enrollment.course
    query = urlencode({k: v for k, v in filters.items() if v})
    names = student_names(enrollment=enrollment, assignment=assignment)
    return render(
        request,
        "submissions/staff_list.html",
        {
            "names": names,
            "names_hidden": names.hidden,
            "hidden_note": HIDDEN_NOTE,
            "enrollment": enrollment,
            "course": course,
            "assignment": assignment,
            "tz": course_selectors.course_tz(course),
            "filters": filters,
            "filtered": any(filters.values()),
            "query": query,
            "page": page,
            "rows": [(s, sections.get(s.student_id, ""), s.pk in counting) for s in rows],
            "section_choices": list(course.sections.all()),
            "timing_choices": Timing.choices,
        },
    )


def _folder(submission: Submission, names: StudentNames) -> str:
    """The owner's folder in the zip: the group's name, else the student's username (their
    pseudonyms under anonymous grading), made safe to unpack (no separators, no leading
    dots)."""
    if submission.group_id and submission.group is not None:
        name = names.group(submission.group_id, submission.group.name)
        fallback = f"group-{submission.group_id}"
    else:
        name = names.username(submission.student)
        fallback = f"student-{submission.student_id}"
    if names.hidden:
        fallback = f"submission-{submission.pk}"
    return _UNSAFE_IN_FOLDER.sub("_", name).strip(" .") or fallback


@login_required
@require_GET
def staff_zip(request: HttpRequest, course_slug: str, assignment_slug: str) -> FileResponse:
    """The files of every submission the staff list shows (same filters, all pages), as
    ``<username or group name>/<number>-<timing>/<file>``. Built in a temporary file, the
    files read through the storage API."""
    enrollment, assignment, _, submissions = _staff_lookup(request, course_slug, assignment_slug)
    tz = course_selectors.course_tz(enrollment.course)
    names = student_names(enrollment=enrollment, assignment=assignment)
    archive = tempfile.TemporaryFile()  # noqa: SIM115  (FileResponse closes it)
    try:
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
            for submission in submissions:
                folder = f"{_folder(submission, names)}/{submission.number}-{submission.timing}"
                stamp = submission.submitted_at.astimezone(tz).timetuple()[:6]
                for stored in submission.files.all():
                    entry = zipfile.ZipInfo(f"{folder}/{stored.name}", date_time=stamp)
                    entry.compress_type = zipfile.ZIP_DEFLATED
                    with (
                        stored.file.open("rb") as source,
                        bundle.open(entry, "w", force_zip64=stored.size >= 1 << 30) as target,
                    ):
                        shutil.copyfileobj(source, target, _ZIP_COPY_CHUNK)
        archive.seek(0)
    except BaseException:
        archive.close()
        raise
    return FileResponse(
        archive,
        as_attachment=True,
        filename=f"{enrollment.course.slug}-{assignment.slug}-submissions.zip",
        content_type="application/zip",
    )
