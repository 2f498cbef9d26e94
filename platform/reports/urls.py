"""Pages of this app, mounted under /projects/<project_id>/ (see singscope/urls.py)."""

from django.urls import path

from reports import views

urlpatterns = [
    path("reports/", views.report_list, name="report-list"),
    path("reports/compare", views.report_compare, name="report-compare"),
    path("reports/compare/plots/<slug:name>.svg", views.report_compare_plot, name="report-compare-plot"),
    path("reports/<int:report_id>/", views.report_detail, name="report-detail"),
    path("reports/<int:report_id>/plots/<slug:name>.svg", views.report_plot, name="report-plot"),
]
