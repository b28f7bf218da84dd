from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from access.passwords import PortalPasswordResetForm, PortalSetPasswordForm
from portal import api


def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """/favicon.ico: the static icon. Its address is looked up per request, not when the URLs
    load: with the production storage it needs collectstatic's manifest, which a management
    command run before collectstatic (migrate, check --deploy) does not have yet."""
    return HttpResponsePermanentRedirect(static("portal/favicon.svg"))


urlpatterns = [
    path("", include("courses.urls")),
    path("", include("submissions.urls")),
    path("", include("grading.urls")),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # "Forgot your password?" (access.passwords): Django's views and tokens, the email sent by
    # a Celery task, setting a password revokes the person's API tokens.
    path(
        "accounts/password_reset/",
        auth_views.PasswordResetView.as_view(form_class=PortalPasswordResetForm),
        name="password_reset",
    ),
    path(
        "accounts/password_reset/done/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(form_class=PortalSetPasswordForm),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("admin/", admin.site.urls),
    path("favicon.ico", favicon),
    path("api/v1/", include(api.urlpatterns)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file (?script), not inline, as
    # the Content-Security-Policy requires; the template moves its styles to static/.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api-schema", template_name="portal/swagger_ui.html"
        ),
        name="api-docs",
    ),
    path("api/", include([path("<path:rest>", api.not_found)])),
]

handler400 = "portal.errors.bad_request"
handler404 = "portal.errors.page_not_found"
handler500 = "portal.errors.server_error"
