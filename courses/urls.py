from django.urls import path

from courses import invitation_views, settings_views, views

app_name = "courses"
urlpatterns = [
    path("", views.my_courses, name="my_courses"),
    path("accounts/profile/", views.profile, name="profile"),
    path(
        "accounts/invitation/<slug:course_slug>/<uidb64>/<token>/",
        invitation_views.InvitationView.as_view(),
        name="invitation",
    ),
    path("courses/<slug:course_slug>/", views.course_detail, name="course_detail"),
    path("courses/<slug:course_slug>/export.toml", views.course_export, name="course_export"),
    path(
        "courses/<slug:course_slug>/assignments/",
        views.assignment_list,
        name="assignment_list",
    ),
    path("courses/<slug:course_slug>/groups/", views.groups, name="groups"),
    path("courses/<slug:course_slug>/extensions/", views.extensions, name="extensions"),
    path("courses/<slug:course_slug>/settings/", settings_views.course_settings, name="settings"),
    path(
        "courses/<slug:course_slug>/settings/grace-end/",
        settings_views.grace_end_preview,
        name="grace_end_preview",
    ),
    path("courses/<slug:course_slug>/changes/", settings_views.changes, name="changes"),
]
