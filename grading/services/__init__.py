"""Every write of grading, split by domain:

- ``bundles``: autograder bundle versions, the active one, setup.sh runs on the workers;
- ``jobs``: grading jobs (enqueue, publish, claim, heartbeat, finish, fail, sweep, re-run);
- ``grades``: grades and their history: staff parts, the autograder's results, acceptance;
- ``releases``: releasing an assignment's grades and taking them back;
- ``recompute``: ``grades_recompute``, the one writer of a grade's points;
- ``rubrics``: rubric items and evaluations (items applied, adjustments, comments,
  annotations);
- ``regrades``: regrade requests, asked and resolved;
- ``regrade_messages``: regrade threads (messages on an open request) and assigning a
  request to a grader;
- ``graders``: graders' shares of an assignment, taking the next submission to grade;
- ``similarity``: similarity checks, started by staff and run by a CPU worker.

Callers import from ``grading.services``; the names they use are re-exported here. The jobs
send every wake-up through ``grading.services.publish``, so replacing that one name here
keeps all messages out of Redis (as tests do)."""

from grading.services.bundles import (
    SETUP_FAILED_MESSAGE,
    _bundle_store,
    _zip_folder,
    active_bundle,
    bundle_setup_finish,
    bundle_setup_start,
    bundle_upload,
    bundles_sync,
)
from grading.services.grade_import import GRADES_IMPORT_MAX_BYTES, Imported, grades_import
from grading.services.graders import grader_assign, grader_unassign, grading_next
from grading.services.grades import (
    KEEP,
    grade_set,
    graded_students,
    grades_from_result,
    grades_recompute,
    grades_rescore,
    result_accept,
)
from grading.services.jobs import (
    HEARTBEAT_SECONDS,
    HEARTBEAT_TIMEOUT,
    MAX_ATTEMPTS,
    REPUBLISH_AFTER,
    bundle_setup_retry,
    job_claim,
    job_enqueue,
    job_fail,
    job_finish,
    job_heartbeat,
    job_rerun,
    jobs_rerun_latest,
    jobs_sweep,
    publish,
)
from grading.services.readiness import readiness_email
from grading.services.regrade_messages import regrade_message_create, regrade_request_assign
from grading.services.regrades import regrade_request_create, regrade_request_resolve
from grading.services.releases import grades_release, grades_unrelease
from grading.services.rubrics import (
    evaluation_set,
    rubric_item_create,
    rubric_item_delete,
    rubric_item_update,
)
from grading.services.similarity import similarity_check_run, similarity_check_start

__all__ = [
    "GRADES_IMPORT_MAX_BYTES",
    "HEARTBEAT_SECONDS",
    "HEARTBEAT_TIMEOUT",
    "KEEP",
    "MAX_ATTEMPTS",
    "REPUBLISH_AFTER",
    "SETUP_FAILED_MESSAGE",
    "Imported",
    "_bundle_store",
    "_zip_folder",
    "active_bundle",
    "bundle_setup_finish",
    "bundle_setup_retry",
    "bundle_setup_start",
    "bundle_upload",
    "bundles_sync",
    "evaluation_set",
    "grade_set",
    "graded_students",
    "grader_assign",
    "grader_unassign",
    "grades_from_result",
    "grades_import",
    "grades_recompute",
    "grades_release",
    "grades_rescore",
    "grades_unrelease",
    "grading_next",
    "job_claim",
    "job_enqueue",
    "job_fail",
    "job_finish",
    "job_heartbeat",
    "job_rerun",
    "jobs_rerun_latest",
    "jobs_sweep",
    "publish",
    "readiness_email",
    "regrade_message_create",
    "regrade_request_assign",
    "regrade_request_create",
    "regrade_request_resolve",
    "result_accept",
    "rubric_item_create",
    "rubric_item_delete",
    "rubric_item_update",
    "similarity_check_run",
    "similarity_check_start",
]
