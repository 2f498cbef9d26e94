from accounts import views as accounts_views
from common import views as common_views
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from jobs import song_views

handler400 = "common.errors.handler400"
handler404 = "common.errors.handler404"
handler500 = "common.errors.handler500"

urlpatterns = [
    path("", accounts_views.home, name="home"),
    path("healthz", common_views.healthz, name="healthz"),
    # Pages link static/favicon.svg; browsers and pages outside base.html (the admin) ask for this one.
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True)),
    path("login/", accounts_views.LoginView.as_view(), name="login"),  # rate-limited
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The admin signs in through the one rate-limited login page, not its own unthrottled form.
    path("admin/login/", accounts_views.admin_login),
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    # Project pages: /projects/<project_id>/... (songs list, editor, jobs, models, reports)
    path("projects/<int:project_id>/", include("songs.urls")),
    path("projects/<int:project_id>/", include("annotations.urls")),
    path("projects/<int:project_id>/", include("jobs.urls")),
    path("projects/<int:project_id>/", include("reports.urls")),
    path("projects/<int:project_id>/", include("datasets.urls")),
    path("", include("accounts.urls")),
    path("my-queue/", song_views.my_queue_page, name="my-queue"),
]
