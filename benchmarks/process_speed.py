"""Process-job speed: seconds per minute of audio for the whole `process` job (decode, peaks,
playable rendition when needed, detection with a random-weight CRNN of the shipped shape), run
in this process on songs of a few lengths and formats. Prints one JSON document.
Options: --minutes 1 5 (lengths), --formats wav mp3 aiff.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def make_audio(path: Path, minutes: float, fmt: str) -> None:
    import soundfile as sf

    sr = 44100
    wav = path.with_suffix(".wav")
    rng = np.random.default_rng(1)
    with sf.SoundFile(str(wav), "w", samplerate=sr, channels=2, format="WAV", subtype="PCM_16") as f:
        for start in range(0, int(minutes * 60), 10):
            t = (np.arange(10 * sr) + start * sr) / sr
            y = 0.2 * np.sin(2 * np.pi * (220 + 20 * np.sin(t)) * t) + 0.02 * rng.standard_normal(t.size)
            f.write(np.stack([y, y], 1).astype(np.float32))
    if fmt != "wav":
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(wav), str(path)], check=True)
        wav.unlink()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, nargs="+", default=[1.0, 5.0])
    parser.add_argument("--formats", nargs="+", default=["wav", "mp3", "aiff"])
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="singscope-process-bench-"))
    os.environ.update({"SINGSCOPE_VAR_DIR": str(tmp / "var"), "DEBUG": "1", "LOG_LEVEL": "WARNING"})
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "singscope.settings")
    sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]
    import django

    django.setup()
    import torch
    from accounts.services import project_create
    from django.contrib.auth import get_user_model
    from django.core.files import File
    from django.core.files.base import ContentFile
    from django.core.management import call_command
    from jobs.models import Job, ModelVersion
    from jobs.processing import song_process_handler, song_upload
    from jobs.services import JobContext

    from detector.checkpoint import save_checkpoint
    from detector.config import FeatureConfig
    from detector.features import Normalization
    from detector.model import CRNN

    torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "1")))
    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user("bench", password="x" * 12)
    project = project_create(name="bench", created_by=user)
    ckpt = save_checkpoint(tmp / "model.pt", model=CRNN(), feature_config=FeatureConfig(),
                           normalization=Normalization.identity(80), kind="target")
    mv = ModelVersion(project=project, name="random-crnn", kind="target")
    mv.checkpoint.save("models/bench.pt", ContentFile(ckpt.read_bytes()), save=False)
    mv.save()
    project.active_model = mv
    project.save()

    runs = []
    # Warm-up (imports, model load, numba/librosa caches) on a short file; not reported.
    warm = tmp / "warm.wav"
    make_audio(warm, 0.2, "wav")
    with open(warm, "rb") as f:
        s = song_upload(project=project, upload=File(f, name="warm.wav"), created_by=user)
    song_process_handler(job=s.process_job, ctx=JobContext(s.process_job))
    for minutes in args.minutes:
        for fmt in args.formats:
            path = tmp / f"song-{minutes:g}min.{fmt}"
            make_audio(path, minutes, fmt)
            with open(path, "rb") as f:
                song = song_upload(project=project, upload=File(f, name=path.name), created_by=user)
            job = Job.objects.get(pk=song.process_job.pk)
            t0 = time.perf_counter()
            result = song_process_handler(job=job, ctx=JobContext(job))
            seconds = time.perf_counter() - t0
            song.refresh_from_db()
            runs.append({
                "format": fmt, "audio_minutes": minutes, "status": song.status, "job_seconds": round(seconds, 2),
                "seconds_per_audio_minute": round(seconds / minutes, 3), "steps_seconds": result["timings"],
                "playable_rendition": result["playable"],
            })
            log(runs[-1])
            path.unlink()
    per_min = [r["seconds_per_audio_minute"] for r in runs]
    out = {
        "runs": runs, "model": "random-weight CRNN, shipped shape (80 mels)", "torch_threads": torch.get_num_threads(),
        "seconds_per_audio_minute_median": round(float(np.median(per_min)), 3),
        "seconds_per_audio_minute_max": round(max(per_min), 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(json.dumps(out, indent=2))
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)
    return 0 if all(r["status"] == "ready" for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
