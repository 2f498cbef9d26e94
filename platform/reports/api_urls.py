"""API routes of this app, mounted under /api/ (see api/urls.py)."""

from django.urls import path

from reports import views

urlpatterns = [
    path("reports/", views.ReportListApi.as_view(), name="api-report-list"),
    path("reports/<int:report_id>/", views.ReportDetailApi.as_view(), name="api-report-detail"),
    path("reports/<int:report_id>.csv", views.ReportCsvApi.as_view(), name="api-report-csv"),
    path("reports/<int:report_id>.json", views.ReportJsonApi.as_view(), name="api-report-json"),
]
