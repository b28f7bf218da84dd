"""The grading pages, split by domain: autograding (``jobs``), grades (``grades``) and
regrade requests (``regrades``). Thin, over grading's services and selectors; a refusal shows
the service's message."""

from grading.views.grades import (
    grade_set,
    gradebook,
    grades_release,
    grades_unrelease,
    my_grades,
    result_accept,
)
from grading.views.jobs import assignment_rerun, bundle_upload, job_rerun, job_status, queue
from grading.views.regrades import regrade_queue, regrade_request_create, regrade_request_resolve

__all__ = [
    "assignment_rerun",
    "bundle_upload",
    "grade_set",
    "gradebook",
    "grades_release",
    "grades_unrelease",
    "job_rerun",
    "job_status",
    "my_grades",
    "queue",
    "regrade_queue",
    "regrade_request_create",
    "regrade_request_resolve",
    "result_accept",
]
