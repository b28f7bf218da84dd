"""The split of an assignment's grading, on a page: staff see who grades which sections and
questions; the instructor and head TAs assign and remove shares; the instructor names the
course's head TAs. Thin, over the graders' services; a refusal shows the service's
message."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from courses import selectors as course_selectors
from courses import services as course_services
from grading import selectors, services
from grading.views.grading_page import staff_assignment
from portal.pages import perform


def _graders_url(course_slug: str, assignment_slug: str) -> str:
    return reverse("grading:graders", args=[course_slug, assignment_slug])


@login_required
@require_GET
def graders(request: HttpRequest, course_slug: str, assignment_slug: str) -> HttpResponse:
    """Staff: the assignment's graders and their shares; for the instructor and head TAs the
    form that assigns one; for the instructor the course's head TAs. Others get 404."""
    enrollment, assignment = staff_assignment(request, course_slug, assignment_slug)
    course = enrollment.course
    staff = list(course_selectors.course_staff(course=course))
    titles = selectors.question_titles(assignments=[assignment])
    return render(
        request,
        "grading/graders.html",
        {
            "enrollment": enrollment,
            "course": course,
            "assignment": assignment,
            "shares": list(selectors.grader_list(enrollment=enrollment, assignment=assignment)),
            "staff": staff,
            "tas": [e for e in staff if e.role == "ta"],
            "sections": sorted(s.code for s in course.sections.all()),
            "questions": [
                (q.slug, titles.get((assignment.pk, q.slug), q.slug))
                for q in selectors.question_specs(assignment)
                if q.slug
            ],
        },
    )


@login_required
@require_POST
def grader_assign(request: HttpRequest, course_slug: str, assignment_slug: str) -> HttpResponse:
    """The instructor or a head TA gives a grader (``grader``) their share (``sections``,
    ``questions``; none ticked: all); back to the page."""
    enrollment, assignment = staff_assignment(request, course_slug, assignment_slug)
    data = request.POST
    grader = data.get("grader", "")
    perform(
        request,
        lambda: services.grader_assign(
            by=enrollment,
            assignment=assignment,
            grader=grader,
            sections=data.getlist("sections"),
            questions=data.getlist("questions"),
        ),
        lambda done: (
            f"{grader}'s share of {assignment.title} is " + ("assigned." if done[1] else "changed.")
        ),
    )
    return redirect(_graders_url(course_slug, assignment_slug))


@login_required
@require_POST
def grader_remove(request: HttpRequest, course_slug: str, assignment_slug: str) -> HttpResponse:
    """The instructor or a head TA takes a grader's share away (``grader``)."""
    enrollment, assignment = staff_assignment(request, course_slug, assignment_slug)
    grader = request.POST.get("grader", "")
    perform(
        request,
        lambda: services.grader_unassign(by=enrollment, assignment=assignment, grader=grader),
        lambda _: f"{grader} no longer has a share of {assignment.title}.",
    )
    return redirect(_graders_url(course_slug, assignment_slug))


@login_required
@require_POST
def head_tas_set(request: HttpRequest, course_slug: str, assignment_slug: str) -> HttpResponse:
    """The instructor names the course's head TAs (``usernames``: those ticked)."""
    enrollment, _ = staff_assignment(request, course_slug, assignment_slug)
    perform(
        request,
        lambda: course_services.head_tas_set(
            by=enrollment, usernames=request.POST.getlist("usernames")
        ),
        lambda heads: (
            "Head TAs: "
            + (", ".join(e.user.username for e in heads) or "none")
            + ". They assign graders in every assignment."
        ),
    )
    return redirect(_graders_url(course_slug, assignment_slug))
