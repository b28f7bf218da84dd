"""The grading pages, split by domain: autograding (``jobs``), grades (``grades``), regrade
requests (``regrades``), the TA's grading pages (``grading_page``) and similarity checks
(``similarity``). Thin, over grading's
services and selectors; a refusal shows the service's message."""

from grading.views.graders_page import grader_assign, grader_remove, graders, head_tas_set
from grading.views.grades import (
    grade_set,
    gradebook,
    grades_import,
    grades_release,
    grades_unrelease,
    my_grades,
    result_accept,
)
from grading.views.grading_page import (
    annotation_add,
    grade_next,
    grade_overview,
    grade_save,
    grade_submission,
    names_reveal,
    rubric_item_add,
)
from grading.views.jobs import (
    assignment_rerun,
    bundle_setup_retry,
    bundle_upload,
    job_rerun,
    job_status,
    queue,
)
from grading.views.readiness_page import readiness, readiness_email
from grading.views.regrades import regrade_queue, regrade_request_create, regrade_request_resolve
from grading.views.similarity import similarity, similarity_pair, similarity_start
from grading.views.statistics_page import statistics

__all__ = [
    "annotation_add",
    "assignment_rerun",
    "bundle_setup_retry",
    "bundle_upload",
    "grade_next",
    "grade_overview",
    "grade_save",
    "grade_set",
    "grade_submission",
    "gradebook",
    "grader_assign",
    "grader_remove",
    "graders",
    "grades_import",
    "grades_release",
    "grades_unrelease",
    "head_tas_set",
    "job_rerun",
    "job_status",
    "my_grades",
    "names_reveal",
    "queue",
    "readiness",
    "readiness_email",
    "regrade_queue",
    "regrade_request_create",
    "regrade_request_resolve",
    "result_accept",
    "rubric_item_add",
    "similarity",
    "similarity_pair",
    "similarity_start",
    "statistics",
]
