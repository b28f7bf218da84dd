from django.urls import path

from grading import views
from grading.views.regrades import regrade_message_create, regrade_request_assign

app_name = "grading"
urlpatterns = [
    path("submissions/<int:submission_id>/autograde/", views.job_status, name="job_status"),
    path("submissions/<int:submission_id>/autograde/rerun/", views.job_rerun, name="job_rerun"),
    path("courses/<slug:course_slug>/grading/", views.queue, name="queue"),
    path(
        "courses/<slug:course_slug>/assignments/<slug:assignment_slug>/autograder/",
        views.bundle_upload,
        name="bundle_upload",
    ),
    path(
        "courses/<slug:course_slug>/grading/setups/<int:bundle_id>/retry/",
        views.bundle_setup_retry,
        name="bundle_setup_retry",
    ),
    path(
        "courses/<slug:course_slug>/assignments/<slug:assignment_slug>/autograder/rerun/",
        views.assignment_rerun,
        name="assignment_rerun",
    ),
    path("courses/<slug:course_slug>/grades/", views.my_grades, name="my_grades"),
    path(
        "courses/<slug:course_slug>/assignments/<slug:assignment_slug>/release-grades/",
        views.grades_release,
        name="grades_release",
    ),
    path(
        "courses/<slug:course_slug>/assignments/<slug:assignment_slug>/unrelease-grades/",
        views.grades_unrelease,
        name="grades_unrelease",
    ),
    path("submissions/<int:submission_id>/grade/", views.grade_set, name="grade_set"),
    path("jobs/<int:job_id>/accept/", views.result_accept, name="result_accept"),
    path("courses/<slug:course_slug>/gradebook/", views.gradebook, name="gradebook"),
    path("courses/<slug:course_slug>/readiness/", views.readiness, name="readiness"),
    path(
        "courses/<slug:course_slug>/readiness/email/",
        views.readiness_email,
        name="readiness_email",
    ),
    path(
        "submissions/<int:submission_id>/regrade/",
        views.regrade_request_create,
        name="regrade_request_create",
    ),
    path("courses/<slug:course_slug>/regrades/", views.regrade_queue, name="regrade_queue"),
    path(
        "regrades/<int:request_id>/resolve/",
        views.regrade_request_resolve,
        name="regrade_request_resolve",
    ),
    path(
        "regrades/<int:request_id>/messages/",
        regrade_message_create,
        name="regrade_message_create",
    ),
    path(
        "regrades/<int:request_id>/assign/",
        regrade_request_assign,
        name="regrade_request_assign",
    ),
    path(
        "courses/<slug:course_slug>/assignments/<slug:assignment_slug>/grade/",
        views.grade_overview,
        name="grade_overview",
    ),
    path(
        "courses/<slug:course_slug>/assignments/<slug:assignment_slug>/grades/import/",
        views.grades_import,
        name="grades_import",
    ),
    path(
        "courses/<slug:course_slug>/assignments/<slug:assignment_slug>/statistics/",
        views.statistics,
        name="statistics",
    ),
    path(
        "courses/<slug:course_slug>/assignments/<slug:assignment_slug>/graders/",
        views.graders,
        name="graders",
    ),
    path(
        "courses/<slug:course_slug>/assignments/<slug:assignment_slug>/graders/assign/",
        views.grader_assign,
        name="grader_assign",
    ),
    path(
        "courses/<slug:course_slug>/assignments/<slug:assignment_slug>/graders/remove/",
        views.grader_remove,
        name="grader_remove",
    ),
    path(
        "courses/<slug:course_slug>/assignments/<slug:assignment_slug>/graders/head-tas/",
        views.head_tas_set,
        name="head_tas_set",
    ),
    path(
        "courses/<slug:course_slug>/assignments/<slug:assignment_slug>/similarity/",
        views.similarity,
        name="similarity",
    ),
    path(
        "courses/<slug:course_slug>/assignments/<slug:assignment_slug>/similarity/start/",
        views.similarity_start,
        name="similarity_start",
    ),
    path(
        "courses/<slug:course_slug>/assignments/<slug:assignment_slug>/similarity/<int:pair_id>/",
        views.similarity_pair,
        name="similarity_pair",
    ),
    path(
        "courses/<slug:course_slug>/assignments/<slug:assignment_slug>/grade/reveal-names/",
        views.names_reveal,
        name="names_reveal",
    ),
    path(
        "courses/<slug:course_slug>/assignments/<slug:assignment_slug>/grade/next/",
        views.grade_next,
        name="grade_next",
    ),
    path(
        "courses/<slug:course_slug>/assignments/<slug:assignment_slug>/grade/<int:submission_id>/",
        views.grade_submission,
        name="grade_submission",
    ),
    path(
        "courses/<slug:course_slug>/assignments/<slug:assignment_slug>/grade/<int:submission_id>/save/",
        views.grade_save,
        name="grade_save",
    ),
    path(
        "courses/<slug:course_slug>/assignments/<slug:assignment_slug>/grade/<int:submission_id>/rubric/",
        views.rubric_item_add,
        name="rubric_item_add",
    ),
    path(
        "courses/<slug:course_slug>/assignments/<slug:assignment_slug>/grade/<int:submission_id>/comments/",
        views.annotation_add,
        name="annotation_add",
    ),
]
