"""Reads of autograder bundles for staff: the autograded assignments, setup.sh runs per
worker, and the assignment page's autograder card."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from courses.models import STAFF_ROLES, Assignment, Enrollment, Role
from grading.models import Bundle, BundleSetup, JobState


def setups(*, course_id: int) -> QuerySet[BundleSetup]:
    return BundleSetup.objects.filter(bundle__assignment__course_id=course_id).select_related(
        "bundle__assignment"
    )


def assignments_autograded(*, course_id: int) -> QuerySet[Assignment]:
    """The course's assignments that have an active autograder, each with ``active_bundles``
    (a one-item list), for the re-run buttons."""
    return (
        Assignment.objects.filter(course_id=course_id, bundles__active=True)
        .prefetch_related(
            Prefetch("bundles", queryset=Bundle.objects.filter(active=True), to_attr="active")
        )
        .order_by("position", "due_at", "slug")
    )


def bundle_setup_list(*, course_id: int, bundle_id: int | None = None) -> QuerySet[BundleSetup]:
    """setup.sh runs of the course's bundles (or of one bundle), for staff: newest bundle
    first, then by worker."""
    qs = setups(course_id=course_id)
    if bundle_id is not None:
        qs = qs.filter(bundle_id=bundle_id)
    return qs.order_by("bundle__assignment__position", "-bundle__created_at", "worker")


def autograder_card(*, enrollment: Enrollment, assignment: Assignment) -> dict[str, Any] | None:
    """Staff only (None for anyone else): the assignment's active autograder version, whether
    the caller may upload a new one (the instructor), and its setup.sh runs per worker."""
    if enrollment.role not in STAFF_ROLES or enrollment.course_id != assignment.course_id:
        return None
    bundle = (
        Bundle.objects.filter(assignment=assignment, active=True)
        .select_related("uploaded_by")
        .first()
    )
    return {
        "bundle": bundle,
        "may_upload": enrollment.role == Role.INSTRUCTOR,
        "setups": (
            list(bundle_setup_list(course_id=assignment.course_id, bundle_id=bundle.pk))
            if bundle is not None
            else []
        ),
    }


def bundle_setup_get(*, bundle_id: int, worker: str) -> BundleSetup | None:
    """The worker machine's build of a bundle version, if it ever started one."""
    return BundleSetup.objects.filter(bundle_id=bundle_id, worker=worker).first()


def bundle_artifacts_in_use(*, worker: str, engine: str) -> list[str]:
    """What the worker machine built (images, setup folders) for bundle versions still in
    use: active ones, and any a queued or running job names. The rest may be pruned."""
    return list(
        BundleSetup.objects.filter(worker=worker, engine=engine)
        .filter(
            Q(bundle__active=True) | Q(bundle__jobs__state__in=[JobState.QUEUED, JobState.RUNNING])
        )
        .exclude(artifact="")
        .values_list("artifact", flat=True)
        .distinct()
    )
