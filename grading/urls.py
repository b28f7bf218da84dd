from django.urls import path

from grading import views

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
        "courses/<slug:course_slug>/assignments/<slug:assignment_slug>/autograder/rerun/",
        views.assignment_rerun,
        name="assignment_rerun",
    ),
]
