"""The grading part of /api/v1/: staff re-runs, the queue, autograder uploads (``jobs``);
grades, their release and the gradebook (``grades``); regrade requests, their threads and
their assignment (``regrades``); rubrics and evaluations (``rubrics``); graders' shares and
the grading queue (``graders``); similarity checks (``similarity``); and
the autograder's fields of the API's submission (``autograde``)."""

from grading.apis.gradebook import GradebookApi, ResultAcceptApi, ResultsToReviewApi
from grading.apis.graders import GraderApi, GradersApi, GradingNextApi, GradingQueueApi
from grading.apis.grades import (
    AssignmentGradesApi,
    GradebookCsvApi,
    GradesImportApi,
    GradesReleaseApi,
    GradesUnreleaseApi,
    MyGradesApi,
)
from grading.apis.jobs import AssignmentRerunApi, BundleUploadApi, QueueApi, SubmissionRerunApi
from grading.apis.readiness import ReadinessApi, ReadinessCsvApi, ReadinessEmailApi
from grading.apis.regrades import (
    MESSAGE_MAX,
    RegradeMessageCreateApi,
    RegradeRequestAssignApi,
    RegradeRequestCreateApi,
    RegradeRequestDetailApi,
    RegradeRequestListApi,
    RegradeRequestResolveApi,
)
from grading.apis.rubrics import EvaluationApi, RubricApi, RubricItemApi
from grading.apis.similarity import SimilarityApi
from grading.apis.statistics import AssignmentStatisticsApi

__all__ = [
    "MESSAGE_MAX",
    "AssignmentGradesApi",
    "AssignmentRerunApi",
    "AssignmentStatisticsApi",
    "BundleUploadApi",
    "EvaluationApi",
    "GradebookApi",
    "GradebookCsvApi",
    "GraderApi",
    "GradersApi",
    "GradesImportApi",
    "GradesReleaseApi",
    "GradesUnreleaseApi",
    "GradingNextApi",
    "GradingQueueApi",
    "MyGradesApi",
    "QueueApi",
    "ReadinessApi",
    "ReadinessCsvApi",
    "ReadinessEmailApi",
    "RegradeMessageCreateApi",
    "RegradeRequestAssignApi",
    "RegradeRequestCreateApi",
    "RegradeRequestDetailApi",
    "RegradeRequestListApi",
    "RegradeRequestResolveApi",
    "ResultAcceptApi",
    "ResultsToReviewApi",
    "RubricApi",
    "RubricItemApi",
    "SimilarityApi",
    "SubmissionRerunApi",
]
