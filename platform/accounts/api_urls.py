"""API routes of this app, mounted under /api/ (see api/urls.py)."""

from django.urls import path

from accounts import views

urlpatterns = [
    path("projects/", views.ProjectListCreate.as_view(), name="api-projects"),
    path("projects/<int:project_id>/", views.ProjectDetail.as_view(), name="api-project"),
    path("projects/<int:project_id>/members/", views.MemberListCreate.as_view(), name="api-members"),
    path("projects/<int:project_id>/members/<int:user_id>/", views.MemberDetail.as_view(), name="api-member"),
    path("projects/<int:project_id>/activity", views.ActivityList.as_view(), name="api-activity"),
]
