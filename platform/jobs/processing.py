"""The `process` job of an upload: one decoding pass through the detector's own detection path
(`detector.inference.detect_file`, or `file_features` when no model is installed) that also hands
each decoded block to the waveform peaks and keeps the features for the stored spectrogram, a
browser-playable rendition when the original is not one, then the prediction and status ready.
On failure the song is `failed` with a readable reason and every file this job made is removed
(the original stays, so the user can see what failed and delete it)."""

from __future__ import annotations

import logging
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from common.errors import public_text
from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from songs.files import local_path, song_dir, storage_delete
from songs.models import Song, SongStatus
from songs.peaks import PEAKS_SAMPLE_RATE, PeakAccumulator, peaks_document, peaks_gzip
from songs.processing import needs_rendition, rendition_make, signature_values, spectrogram_save
from songs.services import song_create

from detector.config import DEFAULT_FEATURES
from detector.errors import DetectorError
from detector.inference import detect_file, file_features
from jobs.detection import bundle_load, model_version_for_project, prediction_store
from jobs.errors import JobCancelled
from jobs.models import JobKind
from jobs.services import job_create

log = logging.getLogger(__name__)


def song_upload(*, project, upload, created_by, **fields) -> Song:
    """Create a song from an upload (songs.services.song_create: validated, stored byte-exact) and queue
    its process job in the same transaction; ``song.process_job`` is the job. ``fields``: title,
    artist, album, fallback_title. Raises what song_create raises (ApiError 400 / 409 / 413)."""
    jobs = []

    def queue(song: Song) -> dict:
        jobs.append(job_create(project=project, kind=JobKind.PROCESS, params={"song_id": song.pk}, created_by=created_by))
        return {"job": jobs[0].pk}

    song = song_create(project=project, upload=upload, created_by=created_by, on_created=queue, **fields)
    song.process_job = jobs[0]
    return song


def spectrogram_compute(*, song: Song) -> str:
    """Decode the song again and store its spectrogram (for songs processed before spectrograms
    were stored); the features are those of the project's model (or the default front end)."""
    mv = model_version_for_project(song.project)
    config = bundle_load(mv).feature_config if mv is not None else DEFAULT_FEATURES
    with local_path(song.original.name) as path:
        features, _, _ = file_features(path, config=config, max_duration=settings.MAX_AUDIO_MINUTES * 60)
    old = song.spectrogram.name
    name = spectrogram_save(song=song, features=features, config=config,
                            duration=float(song.duration or len(features) / 100))
    signature = signature_values(features)
    Song.objects.filter(pk=song.pk).update(spectrogram=name, signature=signature)
    song.spectrogram.name = name
    song.signature = signature
    if old and old != name:
        storage_delete(old)
    return name


def song_process_handler(*, job, ctx) -> dict:
    song = Song.objects.filter(pk=job.params.get("song_id"), project=job.project).select_related("project").first()
    if song is None:
        return {"message": "The song was deleted before it was processed"}
    made: list[str] = []
    previous = [song.peaks.name, song.playable.name, song.spectrogram.name]  # a re-run replaces these once it succeeds
    timings: dict[str, float] = {}
    try:
        t0 = time.perf_counter()
        ctx.progress(0.01, "Reading the audio", force=True)
        with local_path(song.original.name) as path:
            mv = model_version_for_project(song.project)
            bundle = bundle_load(mv) if mv is not None else None
            peaks = PeakAccumulator()
            max_duration = settings.MAX_AUDIO_MINUTES * 60

            # One decoding pass (the detector's own detection path) gives the waveform peaks (each
            # decoded block, channels averaged), the log-mel features (the model's input, stored as
            # the spectrogram: the model's own view of the song; without a model, the detector's
            # default front end) and, with a model, the probabilities and segments.
            def on_block(block: np.ndarray) -> None:
                peaks.push(block.mean(axis=1, dtype=np.float32) if block.ndim == 2 else block)

            if bundle is not None:
                step = f"Decoding, waveform, features and detecting vocals with {mv.name}"

                def progress(fraction: float) -> None:
                    ctx.progress(0.05 + 0.6 * fraction, step)

                found = detect_file(path, bundle=bundle, max_duration=max_duration, progress=progress,
                                    on_block=on_block, keep_features=True)
                feature_config, features, info = bundle.feature_config, found.features, found.info
            else:
                def progress(fraction: float) -> None:
                    ctx.progress(0.05 + 0.6 * fraction, "Decoding, waveform and features")

                feature_config = DEFAULT_FEATURES
                features, _, info = file_features(path, config=feature_config, max_duration=max_duration,
                                                  progress=progress, on_block=on_block)
            duration = peaks.n_samples / PEAKS_SAMPLE_RATE
            timings["decode_detect" if bundle is not None else "decode"] = time.perf_counter() - t0

            t = time.perf_counter()
            doc = peaks_document(peaks.finish(), duration=duration)
            peaks_name = default_storage.save(f"{song_dir(song)}/peaks.json.gz", ContentFile(peaks_gzip(doc)))
            made.append(peaks_name)
            timings["peaks"] = time.perf_counter() - t

            t = time.perf_counter()
            spectrogram_name = spectrogram_save(song=song, features=features, config=feature_config,
                                                duration=duration)
            made.append(spectrogram_name)
            timings["spectrogram"] = time.perf_counter() - t

            playable_name = ""
            if needs_rendition(info):
                t = time.perf_counter()
                ctx.progress(0.7, "Making a version the browser can play", force=True)
                fd, tmp = tempfile.mkstemp(suffix=".flac")
                os.close(fd)
                try:
                    rendition_make(path, Path(tmp), info=info)
                    with open(tmp, "rb") as f:
                        playable_name = default_storage.save(f"{song_dir(song)}/playable.flac", File(f))
                    made.append(playable_name)
                finally:
                    Path(tmp).unlink(missing_ok=True)
                timings["rendition"] = time.perf_counter() - t

        Song.objects.filter(pk=song.pk).update(
            duration=round(duration, 6), sample_rate=info.sample_rate, channels=info.channels, codec=info.codec[:64],
            peaks=peaks_name, playable=playable_name, spectrogram=spectrogram_name,
            signature=signature_values(features),
        )
        song.refresh_from_db()

        del features
        if bundle is not None:
            found.features = None  # the stored spectrogram has them; the prediction needs only probabilities
        detection = "skipped: no model is installed"
        if bundle is not None:
            t = time.perf_counter()
            ctx.progress(0.85, f"Storing the detection of {mv.name}", force=True)
            prediction_store(song=song, model_version=mv, probabilities=found.probabilities, segments=found.segments,
                             postprocess=bundle.postprocess.to_dict())
            detection = f"model {mv.name}"
            timings["detect_store"] = time.perf_counter() - t
        Song.objects.filter(pk=song.pk).update(status=SongStatus.READY, error="")
        storage_delete(*[name for name in previous if name and name not in made])
    except JobCancelled:
        _fail(song, made, "Processing was cancelled.")
        raise
    except BaseException as exc:
        reason = str(exc) if isinstance(exc, DetectorError) else f"{type(exc).__name__}: {exc}".strip(": ")
        reason = reason.replace(str(Path(settings.MEDIA_ROOT) / song.original.name), song.original_name)
        reason = public_text(reason.replace(song.original.name, song.original_name))
        _fail(song, made, reason)
        raise
    message = f"Ready ({duration:.1f} s); detection {detection}"
    if bundle is None:
        message = f"Ready ({duration:.1f} s); detection was skipped because no model is installed"
    return {"message": message, "song": song.pk, "duration": duration, "playable": bool(playable_name),
            "model_id": mv.pk if mv is not None else None, "timings": {k: round(v, 3) for k, v in timings.items()}}


def _fail(song: Song, made: list[str], reason: str) -> None:
    storage_delete(*made)
    Song.objects.filter(pk=song.pk).update(status=SongStatus.FAILED, error=reason[:2000] or "Processing failed.",
                                           peaks="", playable="", spectrogram="")
