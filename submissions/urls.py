from django.urls import path

from submissions import views

app_name = "submissions"
urlpatterns = [
    path(
        "courses/<slug:course_slug>/assignments/<slug:assignment_slug>/",
        views.assignment_detail,
        name="assignment_detail",
    ),
    path(
        "courses/<slug:course_slug>/assignments/<slug:assignment_slug>/submissions/",
        views.staff_list,
        name="staff_list",
    ),
    path(
        "courses/<slug:course_slug>/assignments/<slug:assignment_slug>/submissions.zip",
        views.staff_zip,
        name="staff_zip",
    ),
    path("submissions/<int:submission_id>/", views.receipt, name="receipt"),
    path("submissions/<int:submission_id>/choose/", views.choose, name="choose"),
    path(
        "submissions/<int:submission_id>/files/<int:file_id>/",
        views.file_download,
        name="file_download",
    ),
]
