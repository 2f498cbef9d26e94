from django.conf import settings
from django.db import models


class EvaluationReport(models.Model):
    """Frozen at creation: the model, the songs and the exact reference revisions used."""

    project = models.ForeignKey("accounts.Project", on_delete=models.CASCADE, related_name="reports")
    model_version = models.ForeignKey("jobs.ModelVersion", on_delete=models.CASCADE, related_name="reports")
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    name = models.CharField(max_length=200, blank=True)
    songs = models.JSONField(default=list)  # [{"song": id, "revision": id, "title": str}, ...]
    threshold = models.FloatField(default=0.5)
    postprocess = models.JSONField(default=dict)
    pooled = models.JSONField(default=dict)
    per_song = models.JSONField(default=list)
    curves = models.JSONField(default=dict)
    effort = models.JSONField(default=list, blank=True)
    reference = models.CharField(max_length=16, default="verified")  # "verified" or "current" revisions
    skipped = models.JSONField(default=list, blank=True)  # [{"song": id, "title": str, "reason": str}, ...]
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
