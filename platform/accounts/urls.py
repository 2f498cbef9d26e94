"""Pages of this app (mounted at the site root, see singscope/urls.py)."""

from django.urls import path

from accounts import views

urlpatterns = [
    path("projects/new", views.project_new_page, name="project-new"),
    path("projects/<int:project_id>/members/", views.members_page, name="project-members"),
    path("projects/<int:project_id>/settings/", views.settings_page, name="project-settings"),
    path("projects/<int:project_id>/activity/", views.activity_page, name="project-activity"),
    path("account/password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("account/", views.profile_page, name="profile"),
    path("invite/<str:key>/", views.invitation_page, name="invitation"),
]
