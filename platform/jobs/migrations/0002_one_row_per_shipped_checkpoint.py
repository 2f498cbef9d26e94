from django.conf import settings
from django.db import migrations, models


def merge_duplicate_shipped_models(apps, schema_editor):
    """Databases that registered the shipped model twice (two workers at once) keep its first row:
    what pointed at a duplicate points at that row, then the duplicate goes (its checkpoint copy stays
    in storage; it is never read again)."""
    ModelVersion = apps.get_model("jobs", "ModelVersion")
    Prediction = apps.get_model("jobs", "Prediction")
    Project = apps.get_model("accounts", "Project")
    EvaluationReport = apps.get_model("reports", "EvaluationReport")
    shipped = ModelVersion.objects.filter(project__isnull=True).exclude(checkpoint_sha256="").order_by("id")
    keep: dict[str, int] = {}
    for mv in shipped:
        first = keep.setdefault(mv.checkpoint_sha256, mv.pk)
        if first == mv.pk:
            continue
        # A song predicted by both rows keeps the kept row's prediction.
        both = Prediction.objects.filter(model_version_id=first).values_list("song_id", flat=True)
        Prediction.objects.filter(model_version_id=mv.pk, song_id__in=list(both)).delete()
        Prediction.objects.filter(model_version_id=mv.pk).update(model_version_id=first)
        Project.objects.filter(active_model_id=mv.pk).update(active_model_id=first)
        EvaluationReport.objects.filter(model_version_id=mv.pk).update(model_version_id=first)
        ModelVersion.objects.filter(parent_id=mv.pk).update(parent_id=first)
        mv.delete()


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_initial'),
        ('jobs', '0001_initial'),
        ('reports', '0002_evaluationreport_reference_evaluationreport_skipped'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(merge_duplicate_shipped_models, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='modelversion',
            constraint=models.UniqueConstraint(condition=models.Q(('project__isnull', True)), fields=('checkpoint_sha256',), name='one_row_per_shipped_checkpoint'),
        ),
    ]
