"""The shipped default model is registered once, even when several worker processes handle the first
uploads of a fresh database at the same moment: the database decides (a unique constraint on shipped
checkpoints + get-or-create that handles the IntegrityError), not a per-process lock. Four real
processes race; one ModelVersion row and one checkpoint copy remain, and every process got that row."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from faults_support import ROOT, database_url

pytestmark = [pytest.mark.django_db(transaction=True)]

RACER = """
import os, sys, time
import django
django.setup()
from jobs.detection import default_model_version
start = float(sys.argv[1])
while time.time() < start:
    time.sleep(0.001)
mv = default_model_version()
print("MODEL", mv.pk, mv.checkpoint.name, flush=True)
"""


def test_four_processes_register_the_shipped_model_once(tmp_path, settings):
    from jobs.models import ModelVersion

    media = tmp_path / "media"
    env = os.environ | {
        "DATABASE_URL": database_url(), "MEDIA_ROOT": str(media), "DJANGO_SETTINGS_MODULE": "singscope.settings",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "platform"), str(ROOT)]), "DEBUG": "1",
    }
    start = time.time() + 8  # every process imports Django and torch first, then all go at once
    procs = [subprocess.Popen([sys.executable, "-c", RACER, str(start)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outputs = [p.communicate(timeout=180) for p in procs]
    for p, (_out, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err[-3000:]
    answers = {line.split(maxsplit=1)[1] for out, _ in outputs for line in out.splitlines() if line.startswith("MODEL")}
    shipped = list(ModelVersion.objects.filter(project=None))
    assert len(shipped) == 1, [(m.pk, m.checkpoint.name) for m in shipped]
    assert answers == {f"{shipped[0].pk} {shipped[0].checkpoint.name}"}  # every process got that row
    copies = sorted(p.relative_to(media).as_posix() for p in Path(media).rglob("*") if p.is_file())
    assert copies == [shipped[0].checkpoint.name], copies


def test_the_migration_merges_shipped_models_registered_twice_before(project, user):
    """Databases from before the constraint may hold duplicates: what pointed at them moves to the first."""
    import importlib

    from django.apps import apps
    from django.db import connection
    from factories import ModelVersionFactory, ReportFactory, SungSongFactory
    from jobs.models import ModelVersion, Prediction

    migration = importlib.import_module("jobs.migrations.0002_one_row_per_shipped_checkpoint")
    constraint = next(c for c in ModelVersion._meta.constraints if c.name == "one_row_per_shipped_checkpoint")
    with connection.schema_editor() as editor:
        editor.remove_constraint(ModelVersion, constraint)
    try:
        first, dup = (ModelVersionFactory(project=None, name=f"default-{i}", kind="source", checkpoint_sha256="a" * 64,
                                          checkpoint=f"m/{i}.pt") for i in (1, 2))
        child = ModelVersionFactory(project=project, name="child", kind="target", parent=dup, checkpoint="c.pt")
        a, b = SungSongFactory(project=project, title="a", created_by=user), SungSongFactory(project=project, title="b", created_by=user)
        Prediction.objects.create(song=a, model_version=first, probabilities="p1.npy")
        Prediction.objects.create(song=a, model_version=dup, probabilities="p2.npy")  # both predicted song a
        Prediction.objects.create(song=b, model_version=dup, probabilities="p3.npy")
        report = ReportFactory(project=project, model_version=dup, name="r")
        project.active_model = dup
        project.save()
        migration.merge_duplicate_shipped_models(apps, None)
        assert list(ModelVersion.objects.filter(project=None).values_list("pk", flat=True)) == [first.pk]
        project.refresh_from_db()
        report.refresh_from_db()
        child.refresh_from_db()
        assert project.active_model_id == report.model_version_id == child.parent_id == first.pk
        assert sorted(Prediction.objects.values_list("song_id", "model_version_id", "probabilities")) == [
            (a.pk, first.pk, "p1.npy"), (b.pk, first.pk, "p3.npy")]
    finally:
        with connection.schema_editor() as editor:
            editor.add_constraint(ModelVersion, constraint)
