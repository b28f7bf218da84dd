"""The /api/v1/ router: every app's API views, in one place."""

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from access import apis as access_apis
from courses import apis as course_apis
from grading import apis as grading_apis
from portal.errors import error_body
from submissions import apis as submission_apis

urlpatterns = [
    path("auth/token/", access_apis.TokenApi.as_view(), name="api-token"),
    path("auth/tokens/", access_apis.TokenListApi.as_view(), name="api-tokens"),
    path(
        "auth/tokens/<int:token_id>/", access_apis.TokenDetailApi.as_view(), name="api-token-detail"
    ),
    path("auth/logout/", access_apis.LogoutApi.as_view(), name="api-logout"),
    path("auth/logout-all/", access_apis.LogoutAllApi.as_view(), name="api-logout-all"),
    path("courses/", course_apis.CourseListApi.as_view(), name="api-courses"),
    path(
        "courses/<slug:course_slug>/assignments/",
        course_apis.AssignmentListApi.as_view(),
        name="api-assignments",
    ),
    path(
        "courses/<slug:course_slug>/assignments/<slug:assignment_slug>/",
        course_apis.AssignmentSettingsApi.as_view(),
        name="api-assignment",
    ),
    path(
        "courses/<slug:course_slug>/categories/",
        course_apis.CategoriesApi.as_view(),
        name="api-categories",
    ),
    path(
        "courses/<slug:course_slug>/changes/",
        course_apis.ConfigChangeListApi.as_view(),
        name="api-changes",
    ),
    path(
        "courses/<slug:course_slug>/groups/",
        course_apis.GroupListCreateApi.as_view(),
        name="api-groups",
    ),
    path(
        "courses/<slug:course_slug>/groups/join/",
        course_apis.GroupJoinApi.as_view(),
        name="api-groups-join",
    ),
    path(
        "courses/<slug:course_slug>/groups/leave/",
        course_apis.GroupLeaveApi.as_view(),
        name="api-groups-leave",
    ),
    path(
        "courses/<slug:course_slug>/extensions/",
        course_apis.ExtensionListCreateApi.as_view(),
        name="api-extensions",
    ),
    path(
        "courses/<slug:course_slug>/assignments/<slug:assignment_slug>/submissions/",
        submission_apis.SubmissionListCreateApi.as_view(),
        name="api-submissions",
    ),
    path(
        "submissions/<int:submission_id>/",
        submission_apis.SubmissionDetailApi.as_view(),
        name="api-submission",
    ),
    path(
        "submissions/<int:submission_id>/files/<int:file_id>/",
        submission_apis.SubmissionFileApi.as_view(),
        name="api-submission-file",
    ),
    path(
        "submissions/<int:submission_id>/choose/",
        submission_apis.SubmissionChooseApi.as_view(),
        name="api-submission-choose",
    ),
    path(
        "submissions/<int:submission_id>/rerun/",
        grading_apis.SubmissionRerunApi.as_view(),
        name="api-submission-rerun",
    ),
    path(
        "courses/<slug:course_slug>/assignments/<slug:assignment_slug>/rerun/",
        grading_apis.AssignmentRerunApi.as_view(),
        name="api-assignment-rerun",
    ),
    path(
        "courses/<slug:course_slug>/assignments/<slug:assignment_slug>/autograder/",
        grading_apis.BundleUploadApi.as_view(),
        name="api-bundle-upload",
    ),
    path(
        "courses/<slug:course_slug>/grading/queue/",
        grading_apis.QueueApi.as_view(),
        name="api-grading-queue",
    ),
    path(
        "courses/<slug:course_slug>/assignments/<slug:assignment_slug>/release/",
        grading_apis.GradesReleaseApi.as_view(),
        name="api-grades-release",
    ),
    path(
        "courses/<slug:course_slug>/assignments/<slug:assignment_slug>/unrelease/",
        grading_apis.GradesUnreleaseApi.as_view(),
        name="api-grades-unrelease",
    ),
    path(
        "courses/<slug:course_slug>/assignments/<slug:assignment_slug>/reveal-names/",
        course_apis.NamesRevealApi.as_view(),
        name="api-names-reveal",
    ),
    path(
        "courses/<slug:course_slug>/assignments/<slug:assignment_slug>/review/",
        grading_apis.ResultsToReviewApi.as_view(),
        name="api-results-review",
    ),
    path(
        "jobs/<int:job_id>/accept/",
        grading_apis.ResultAcceptApi.as_view(),
        name="api-result-accept",
    ),
    path(
        "courses/<slug:course_slug>/gradebook/",
        grading_apis.GradebookApi.as_view(),
        name="api-gradebook",
    ),
    path(
        "courses/<slug:course_slug>/assignments/<slug:assignment_slug>/grades/",
        grading_apis.AssignmentGradesApi.as_view(),
        name="api-assignment-grades",
    ),
    path(
        "courses/<slug:course_slug>/grades/",
        grading_apis.MyGradesApi.as_view(),
        name="api-grades",
    ),
    path(
        "courses/<slug:course_slug>/gradebook.csv",
        grading_apis.GradebookCsvApi.as_view(),
        name="api-gradebook-csv",
    ),
    path(
        "courses/<slug:course_slug>/assignments/<slug:assignment_slug>/rubric/",
        grading_apis.RubricApi.as_view(),
        name="api-rubric",
    ),
    path(
        "rubric-items/<int:item_id>/",
        grading_apis.RubricItemApi.as_view(),
        name="api-rubric-item",
    ),
    path(
        "courses/<slug:course_slug>/assignments/<slug:assignment_slug>/graders/",
        grading_apis.GradersApi.as_view(),
        name="api-graders",
    ),
    path(
        "courses/<slug:course_slug>/assignments/<slug:assignment_slug>/graders/<str:username>/",
        grading_apis.GraderApi.as_view(),
        name="api-grader",
    ),
    path(
        "courses/<slug:course_slug>/assignments/<slug:assignment_slug>/grades/import/",
        grading_apis.GradesImportApi.as_view(),
        name="api-grades-import",
    ),
    path(
        "courses/<slug:course_slug>/assignments/<slug:assignment_slug>/statistics/",
        grading_apis.AssignmentStatisticsApi.as_view(),
        name="api-statistics",
    ),
    path(
        "courses/<slug:course_slug>/readiness/",
        grading_apis.ReadinessApi.as_view(),
        name="api-readiness",
    ),
    path(
        "courses/<slug:course_slug>/readiness.csv",
        grading_apis.ReadinessCsvApi.as_view(),
        name="api-readiness-csv",
    ),
    path(
        "courses/<slug:course_slug>/readiness/email/",
        grading_apis.ReadinessEmailApi.as_view(),
        name="api-readiness-email",
    ),
    path(
        "courses/<slug:course_slug>/head-tas/",
        course_apis.HeadTasApi.as_view(),
        name="api-head-tas",
    ),
    path(
        "courses/<slug:course_slug>/assignments/<slug:assignment_slug>/grading-queue/",
        grading_apis.GradingQueueApi.as_view(),
        name="api-grading-queue",
    ),
    path(
        "courses/<slug:course_slug>/assignments/<slug:assignment_slug>/grading-queue/next/",
        grading_apis.GradingNextApi.as_view(),
        name="api-grading-queue-next",
    ),
    path(
        "courses/<slug:course_slug>/assignments/<slug:assignment_slug>/similarity/",
        grading_apis.SimilarityApi.as_view(),
        name="api-similarity",
    ),
    path(
        "submissions/<int:submission_id>/evaluation/",
        grading_apis.EvaluationApi.as_view(),
        name="api-submission-evaluation",
    ),
    path(
        "courses/<slug:course_slug>/regrade-requests/",
        grading_apis.RegradeRequestListApi.as_view(),
        name="api-regrade-requests",
    ),
    path(
        "submissions/<int:submission_id>/regrade-requests/",
        grading_apis.RegradeRequestCreateApi.as_view(),
        name="api-submission-regrade-requests",
    ),
    path(
        "regrade-requests/<int:request_id>/",
        grading_apis.RegradeRequestDetailApi.as_view(),
        name="api-regrade-request",
    ),
    path(
        "regrade-requests/<int:request_id>/resolve/",
        grading_apis.RegradeRequestResolveApi.as_view(),
        name="api-regrade-request-resolve",
    ),
    path(
        "regrade-requests/<int:request_id>/messages/",
        grading_apis.RegradeMessageCreateApi.as_view(),
        name="api-regrade-request-messages",
    ),
    path(
        "regrade-requests/<int:request_id>/assign/",
        grading_apis.RegradeRequestAssignApi.as_view(),
        name="api-regrade-request-assign",
    ),
]


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
@permission_classes([AllowAny])
def not_found(request: Request, rest: str = "") -> Response:
    """Anything else under /api/ answers in the error envelope, not with an HTML page."""
    return Response(error_body("not_found", "There is nothing at this address."), status=404)


urlpatterns.append(path("<path:rest>", not_found))
