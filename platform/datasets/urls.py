"""Pages of this app, mounted under /projects/<project_id>/ (see singscope/urls.py)."""

from django.urls import path

from datasets import views

urlpatterns = [
    path("import/", views.import_page, name="dataset-import"),
    path("export.zip", views.export_download, name="dataset-export"),
]
