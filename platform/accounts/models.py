from django.conf import settings
from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    REVIEWER = "reviewer", "Reviewer"
    ANNOTATOR = "annotator", "Annotator"


# Higher rank can do everything a lower rank can.
ROLE_RANK = {Role.ANNOTATOR: 1, Role.REVIEWER: 2, Role.ADMIN: 3}


class Project(models.Model):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # The model new detections use; None means the shipped default model.
    active_model = models.ForeignKey(
        "jobs.ModelVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Retraining policy: queue a training job after this many newly verified songs (0 = never).
    retrain_after_verified = models.PositiveIntegerField(default=0)
    # Activate a newly trained model automatically when its test F1 beats the active one by this margin.
    auto_activate_margin = models.FloatField(null=True, blank=True)
    default_training = models.JSONField(default=dict, blank=True)
    # Review policy: nobody verifies a revision they made or submitted (a second pair of eyes).
    verifier_must_differ = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.ANNOTATOR)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="one_membership_per_user")]

    def __str__(self) -> str:
        return f"{self.user} in {self.project} as {self.role}"


class ActivityEvent(models.Model):
    """Append-only project activity log (uploads, saves, reviews, jobs, model activations)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="activity")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    verb = models.CharField(max_length=64)
    summary = models.CharField(max_length=500)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class Invitation(models.Model):
    """A link that lets a new (or existing) user join ``project`` with ``role``: single use, expiring,
    revocable. Only a SHA-256 digest of the link's secret is stored; the link is shown once."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="invitations")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.ANNOTATOR)
    note = models.CharField(max_length=200, blank=True)  # who it is for, for the admins' list
    key_digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class ApiToken(models.Model):
    """A named API token of a user (``Authorization: Token <key>``); a user may hold several.

    Only a SHA-256 digest of the key is stored (the key is shown once, when it is made).
    ``drf_token`` links the row that records the last use of the token made by
    ``manage.py drf_create_token`` (DRF's own authtoken table). ``password_digest`` ties the token to
    the password the user had when it was made: a changed password invalidates it, whichever way the
    password was changed (profile page, admin, ``manage.py changepassword``).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    key_digest = models.CharField(max_length=64, unique=True, null=True, blank=True)
    prefix = models.CharField(max_length=8, blank=True)  # the key's first characters, to recognise it
    drf_token = models.OneToOneField("authtoken.Token", null=True, blank=True, on_delete=models.CASCADE,
                                     related_name="+")
    password_digest = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
