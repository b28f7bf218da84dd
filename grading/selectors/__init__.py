"""Every read of grading that a page, an API or the worker needs, with the permission check
inside, split by domain:

- ``jobs``: a submission's autograde status and results as its viewer may see them, and the
  submission metadata a worker hands the autograder;
- ``queue``: the claim order, positions and wait estimates, the staff queue page;
- ``bundles``: autograded assignments, setup.sh runs, the autograder card;
- ``grades``: grade rows and their history, a student's points;
- ``regrades``: the regrade window, regrade requests, the receipt's regrade panel;
- ``final_grades``: the one place grades are read (``grade_rows``, through the gradebook
  policy): a student's own grades, the assignment list's and the receipt's;
- ``staff_gradebook``: the staff gradebook page, its Canvas CSV, regrades' current points;
- ``review``: results awaiting review, the autograder's maxima against the questions';
- ``rubrics``: rubric items and a submission's evaluation;
- ``graders``: graders' shares of an assignment, the grading queue;
- ``similarity``: similarity checks, their pairs, one pair side by side;
- ``feedback``: the receipt's feedback (items, comments) and its files rendered readably.

Callers import from ``grading.selectors``; the names they use are re-exported here."""

from grading.selectors.bundles import (
    assignments_autograded,
    autograder_card,
    bundle_artifacts_in_use,
    bundle_setup_get,
    bundle_setup_list,
    setups,
)
from grading.selectors.feedback import (
    FileView,
    QuestionFeedback,
    SubmissionFeedback,
    submission_feedback,
)
from grading.selectors.final_grades import (
    AssignmentScore,
    GradeCell,
    QuestionCell,
    StudentGrades,
    StudentRow,
    SubmissionGrade,
    grade_rows,
    released_cells,
    student_grades,
    submission_grade,
)
from grading.selectors.graders import (
    GradingQueue,
    QueueRow,
    grader_has_share,
    grader_list,
    grading_queue,
)
from grading.selectors.grades import (
    course_student_get,
    grade_get,
    grade_list,
    grades_released,
    has_autograded_grades,
    needs_review,
    question_specs,
    question_titles,
    student_points,
)
from grading.selectors.jobs import (
    autograde_view,
    job_enrollment_get,
    job_status,
    jobs_prefetch,
    latest_job,
    latest_result,
    submission_metadata,
)
from grading.selectors.queue import (
    DURATION_SAMPLE,
    WORKERS_SEEN_WITHIN,
    job_duration_average,
    jobs_queued,
    jobs_running,
    queue_overview,
    queue_position,
    queue_wait_estimate,
    workers_seen,
)
from grading.selectors.readiness import Readiness, ReadinessRow, readiness_list
from grading.selectors.regrades import (
    RegradePanel,
    regrade_panel,
    regrade_request_get,
    regrade_request_list,
    regrade_window_closes_at,
)
from grading.selectors.review import maxima_warnings, release_history, results_to_review
from grading.selectors.rubrics import (
    EvaluationView,
    QuestionView,
    evaluation_get,
    rubric_item_get,
    rubric_list,
)
from grading.selectors.similarity import (
    CheckView,
    PairRow,
    PairView,
    similarity_latest,
    similarity_pair_get,
)
from grading.selectors.staff_gradebook import (
    MISSING_ANY,
    GradebookFilters,
    GradebookPage,
    current_points,
    gradebook_export,
    gradebook_page,
)
from grading.selectors.statistics import AssignmentStatistics, assignment_statistics

__all__ = [
    "DURATION_SAMPLE",
    "MISSING_ANY",
    "WORKERS_SEEN_WITHIN",
    "AssignmentScore",
    "AssignmentStatistics",
    "CheckView",
    "EvaluationView",
    "FileView",
    "GradeCell",
    "GradebookFilters",
    "GradebookPage",
    "GradingQueue",
    "PairRow",
    "PairView",
    "QuestionCell",
    "QuestionFeedback",
    "QuestionView",
    "QueueRow",
    "Readiness",
    "ReadinessRow",
    "RegradePanel",
    "StudentGrades",
    "StudentRow",
    "SubmissionFeedback",
    "SubmissionGrade",
    "assignment_statistics",
    "assignments_autograded",
    "autograde_view",
    "autograder_card",
    "bundle_artifacts_in_use",
    "bundle_setup_get",
    "bundle_setup_list",
    "course_student_get",
    "current_points",
    "evaluation_get",
    "grade_get",
    "grade_list",
    "grade_rows",
    "gradebook_export",
    "gradebook_page",
    "grader_has_share",
    "grader_list",
    "grades_released",
    "grading_queue",
    "has_autograded_grades",
    "job_duration_average",
    "job_enrollment_get",
    "job_status",
    "jobs_prefetch",
    "jobs_queued",
    "jobs_running",
    "latest_job",
    "latest_result",
    "maxima_warnings",
    "needs_review",
    "question_specs",
    "question_titles",
    "queue_overview",
    "queue_position",
    "queue_wait_estimate",
    "readiness_list",
    "regrade_panel",
    "regrade_request_get",
    "regrade_request_list",
    "regrade_window_closes_at",
    "release_history",
    "released_cells",
    "results_to_review",
    "rubric_item_get",
    "rubric_list",
    "setups",
    "similarity_latest",
    "similarity_pair_get",
    "student_grades",
    "student_points",
    "submission_feedback",
    "submission_grade",
    "submission_metadata",
    "workers_seen",
]
