"""Detection service: which model a project uses, loading it (cached per process), running it on a
song and storing the Prediction (+ a model revision when no person has annotated the song yet).
Used by the process job (jobs.processing) and by detect jobs (`detect_handler`)."""

from __future__ import annotations

import io
import logging
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np
from annotations.models import AnnotationRevision
from annotations.services import revision_create
from common.errors import public_text
from common.files import sha256_stream
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from songs.files import local_path, song_dir
from songs.models import Song, SongStatus

from detector.errors import NoDefaultModelError
from detector.inference import default_model_path
from jobs.errors import JobCancelled, NoModelInstalled
from jobs.models import ModelKind, ModelVersion, Prediction

log = logging.getLogger(__name__)

CACHE_SIZE = 3
_cache: OrderedDict[tuple, object] = OrderedDict()
_cache_lock = threading.Lock()
_sha_memo: dict[tuple, str] = {}


def _default_checkpoint_path() -> Path:
    return Path(default_model_path())


def _sha256_file(path: Path) -> str:
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if key not in _sha_memo:
        with open(path, "rb") as f:
            _sha_memo[key] = sha256_stream(f)
    return _sha_memo[key]


def default_model_version() -> ModelVersion | None:
    """The shipped default checkpoint, registered once as a global ModelVersion (project=None) whose
    checkpoint is copied into storage; None when no default model is installed.

    Once across every worker process: the database's unique constraint on shipped checkpoints decides.
    The winner inserts its row and copies the file inside one transaction; a concurrent insert waits
    on the constraint until that commits, fails with IntegrityError and returns the winner's row, whose
    file is complete by then."""
    try:
        path = _default_checkpoint_path()
    except NoDefaultModelError:
        return None
    sha = _sha256_file(path)
    existing = ModelVersion.objects.filter(project=None, checkpoint_sha256=sha).first()
    if existing:
        return existing
    kind, metrics, seed = _shipped_metadata(path)
    name = f"models/shipped/{sha}{path.suffix}"  # content-addressed: one copy per checkpoint
    copied = ""
    try:
        with transaction.atomic():
            mv = ModelVersion.objects.create(
                project=None, name=f"default-{sha[:8]}", kind=kind, checkpoint_sha256=sha, metrics=metrics, seed=seed,
                checkpoint=name)
            if not (default_storage.exists(name) and default_storage.size(name) == path.stat().st_size):
                with open(path, "rb") as f:
                    copied = default_storage.save(name, File(f))
                if copied != name:  # a partial leftover held the name: point at the fresh copy
                    mv.checkpoint.name = copied
                    mv.save(update_fields=["checkpoint"])
    except IntegrityError:
        if copied:
            default_storage.delete(copied)
        return ModelVersion.objects.get(project=None, checkpoint_sha256=sha)
    except BaseException:
        if copied:
            default_storage.delete(copied)
        raise
    return mv


def _shipped_metadata(path: Path) -> tuple[str, dict, int | None]:
    """(kind, metrics, seed) from the checkpoint's own metadata; defaults when it cannot be read."""
    try:
        from detector.inference import load_model

        meta = getattr(load_model(path), "metadata", {}) or {}
    except Exception:  # noqa: BLE001 - registration records what it can; loading fails loudly later
        log.warning("could not read the default model's metadata", exc_info=True)
        return ModelKind.SOURCE, {}, None
    kind = meta.get("kind") if meta.get("kind") in ModelKind.values else ModelKind.SOURCE
    metrics, seed = meta.get("metrics") or {}, meta.get("seed")
    return kind, metrics if isinstance(metrics, dict) else {}, seed if isinstance(seed, int) else None


def model_version_for_project(project) -> ModelVersion | None:
    """The project's active model, else the shipped default one; None when no model is installed."""
    if project.active_model_id:
        return project.active_model
    return default_model_version()


def bundle_load(model_version: ModelVersion):
    """The loaded detector backend of a model version (small per-process LRU cache)."""
    from detector.inference import load_model

    key = (model_version.pk, model_version.checkpoint.name)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    try:
        path = Path(default_storage.path(model_version.checkpoint.name))
        bundle = load_model(path)
    except NotImplementedError:  # remote storage: load from a local copy
        import tempfile

        suffix = Path(model_version.checkpoint.name).suffix
        with tempfile.NamedTemporaryFile(suffix=suffix) as tmp, default_storage.open(model_version.checkpoint.name) as src:
            tmp.write(src.read())
            tmp.flush()
            bundle = load_model(tmp.name)
    with _cache_lock:
        _cache[key] = bundle
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return bundle


def _fit(segments, duration: float):
    """Stretch/cut the partition so it ends exactly at the song's duration (decoder padding)."""
    from detector.labels import Segment, merge_adjacent

    out = [s for s in segments if s.start < duration - 1e-6]
    if not out:
        return [Segment(0.0, duration, segments[0].label if segments else "non-vocal")]
    out[-1] = Segment(out[-1].start, duration, out[-1].label)
    return merge_adjacent(out)


OUTCOMES = {
    "proposed": "the model's proposal became the current revision (no person had worked on the song)",
    "beside_human_work": "a person has worked on the song: the prediction is stored beside their work",
    "unchanged": "the model's proposal was already the current revision",
}


def prediction_store(*, song, model_version: ModelVersion, probabilities: np.ndarray, segments, postprocess: dict,
                     hop: float = 0.01) -> Prediction:
    """Save float16 probabilities + segments as the song's Prediction for this model; create a model
    revision when no person has worked on the song. Nothing half-written on failure. The returned
    prediction's `outcome` says which (a key of OUTCOMES)."""

    duration = float(song.duration or segments[-1].end)
    segments = _fit(list(segments), duration)
    buf = io.BytesIO()
    np.save(buf, np.asarray(probabilities, dtype=np.float16))
    name = default_storage.save(f"{song_dir(song)}/predictions/model-{model_version.pk}.npy", ContentFile(buf.getvalue()))
    old_name = None
    try:
        with transaction.atomic():
            # The song row is locked before anything is decided: a person saving at this moment
            # either saves first (and is seen as human work) or after the model's revision.
            locked = Song.objects.select_for_update().get(pk=song.pk)
            old = Prediction.objects.filter(song=song, model_version=model_version).first()
            old_name = old.probabilities.name if old else None
            prediction, _ = Prediction.objects.update_or_create(
                song=song, model_version=model_version,
                defaults={"probabilities": name, "hop": hop, "n_frames": int(len(probabilities)),
                          "postprocess": postprocess, "segments": [s.to_dict() for s in segments]},
            )
            # A person touched the song when any revision is not a plain model draft: their own
            # origin, or a model revision someone verified / rejected / submitted (it has an author).
            human = AnnotationRevision.objects.filter(song=song).exclude(
                origin__startswith="model:", author__isnull=True, state="draft").exists()
            origin = f"model:{model_version.name}"[:100]
            current = locked.current_revision
            same = current is not None and current.origin == origin and current.segments == prediction.segments
            if human:
                prediction.outcome = "beside_human_work"
            elif same:
                prediction.outcome = "unchanged"
            else:
                revision_create(song=song, segments=segments, author=None, origin=origin, based_on=current,
                                message=f"Detected by {model_version.name}")
                prediction.outcome = "proposed"
    except BaseException:
        default_storage.delete(name)
        raise
    if old_name and old_name != name:
        default_storage.delete(old_name)
    return prediction


def song_detect(*, song, model_version: ModelVersion, ctx=None) -> Prediction:
    """Run ``model_version`` over the song's audio and store the Prediction."""
    from django.conf import settings

    from detector.inference import detect_file

    bundle = bundle_load(model_version)
    progress = (lambda f: ctx.progress(f)) if ctx is not None else None
    with local_path(song.original.name) as path:
        det = detect_file(path, bundle=bundle, progress=progress, max_duration=settings.MAX_AUDIO_MINUTES * 60)
    return prediction_store(song=song, model_version=model_version, probabilities=det.probabilities,
                            segments=det.segments, postprocess=bundle.postprocess.to_dict())


class _SubProgress:
    """Maps a song's 0..1 progress into its slice of a multi-song job."""

    def __init__(self, ctx, lo: float, hi: float, message: str):
        self.ctx, self.lo, self.hi, self.message = ctx, lo, hi, message

    def progress(self, fraction: float, message: str = "", **kw):
        self.ctx.progress(self.lo + (self.hi - self.lo) * fraction, message or self.message, **kw)


def detect_handler(*, job, ctx) -> dict:
    """Detect job: params {"song_ids": [...], "model_id"?, "trigger"?, "previous_model_id"?}; checks
    cancellation between songs. The result lists what happened to each song (OUTCOMES) and, after an
    activation, how much of each song's decision changed from the previously used model's."""
    from django.db.models import Q

    from jobs.selectors import prediction_change
    ids = [int(i) for i in job.params.get("song_ids", [])]
    model_id = job.params.get("model_id")
    if model_id is not None:
        mv = ModelVersion.objects.filter(Q(project=job.project) | Q(project=None), pk=model_id).first()
        if mv is None:
            raise ValueError(f"Model {model_id} does not exist in this project.")
    else:
        mv = model_version_for_project(job.project)
        if mv is None:
            raise NoModelInstalled("No model is installed: train or upload a model, or install the default one.")
    previous_id = job.params.get("previous_model_id")
    songs = list(Song.objects.filter(project=job.project, pk__in=ids, status=SongStatus.READY).order_by("id"))
    if not songs:
        raise ValueError("None of the requested songs exists and is ready.")
    if job.params.get("trigger") == "activation":
        ctx.log(f"{mv.name} was activated: detecting again in the project's {len(songs)} ready songs")
    done, failed, per_song = [], [], []
    ctx.progress(0.0, f"Detecting with {mv.name}", force=True)
    for i, song in enumerate(songs):
        ctx.check_cancelled()
        sub = _SubProgress(ctx, i / len(songs), (i + 1) / len(songs), f"Song {i + 1} of {len(songs)}: {song.title}"[:500])
        try:
            prediction = song_detect(song=song, model_version=mv, ctx=sub)
            done.append(song.pk)
            row = {"song": song.pk, "title": song.title, "outcome": prediction.outcome,
                   "changed": prediction_change(prediction=prediction, previous_model_id=previous_id)}
            per_song.append(row)
            changed = f"; {100 * row['changed']:.1f}% of its frames changed decision" if row["changed"] is not None else ""
            ctx.log(f"song {song.pk} ({song.title}): {OUTCOMES[prediction.outcome]}{changed}")
        except Exception as exc:  # noqa: BLE001 - one bad song does not lose the others
            if isinstance(exc, JobCancelled):
                raise
            log.exception("detection failed on song %s", song.pk)
            failed.append({"song": song.pk, "title": song.title, "error": public_text(exc, limit=300)})
            ctx.log(f"song {song.pk} ({song.title}) failed: {failed[-1]['error']}")
        ctx.progress((i + 1) / len(songs), f"Detected {i + 1} of {len(songs)} songs", force=True)
    if not done:
        raise RuntimeError("Detection failed on every song: " + "; ".join(f"{f['title']}: {f['error']}" for f in failed))
    counts = {key: sum(1 for r in per_song if r["outcome"] == key) for key in OUTCOMES}
    message = f"Detected vocals in {len(done)} song{'s' if len(done) != 1 else ''} with {mv.name}"
    message += (f": {counts['proposed']} got the new proposal, {counts['beside_human_work']} kept a person's work "
                f"(prediction stored beside it), {counts['unchanged']} unchanged")
    if failed:
        message += f"; {len(failed)} failed"
    return {"message": message, "model_id": mv.pk, "previous_model_id": previous_id, "songs": done,
            "per_song": per_song, "counts": counts, "failed": failed, "trigger": job.params.get("trigger"),
            "skipped": sorted(set(ids) - {s.pk for s in songs})}
