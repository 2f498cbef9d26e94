"""Bulk import of labelled song collections and bulk export of a project.

A collection on disk (or in a zip) is the layout of ../shared/data/jamendolyrics: one folder per song
holding ``audio.<ext>`` (or one audio file of any name) and a label file: ``labels.lab`` (Jamendo
``start end sing``), ``labels.csv`` (``start,end,label``), ``labels.txt`` (Audacity), ``*.jams``,
``*.TextGrid``, ``labels.json`` or ``*.rttm``. A flat folder of ``<song>.<audio ext>`` +
``<song>.<label ext>`` pairs works too. Optional metadata: ``songs.tsv`` / ``songs.csv`` (columns
``slug``/``folder``, ``title``, ``artist``, ``split``) or the ``manifest.json`` of a Singscope export,
so an export imports back as it was.

Songs are created through ``jobs.processing.song_upload`` (validated, stored, processed by a worker);
labels become revisions with origin ``import:<format>``. A song already in the project (same bytes)
is skipped, so running an import twice adds nothing.
"""

from __future__ import annotations

import csv
import json
import logging
import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from accounts.models import Project
from accounts.services import activity_record
from annotations.models import RevisionState
from annotations.selectors import revision_latest_verified
from annotations.services import revision_create
from common.errors import ApiError, public_text
from common.files import upload_on_disk
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from jobs.models import JobKind
from jobs.processing import song_upload
from jobs.services import job_create
from songs.files import local_path, storage_delete
from songs.models import Song, Split

log = logging.getLogger(__name__)

AUDIO_EXTENSIONS = {".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a", ".aac", ".aif", ".aiff", ".wma", ".webm",
                    ".mp4", ".caf", ".au"}
# Label files by preference: (format, suffix). Files named labels.<suffix> (or <audio stem>.<suffix>)
# always count; formats that only ever hold segments also count under any name.
LABEL_FORMATS = [("lab", ".lab"), ("csv", ".csv"), ("audacity", ".txt"), ("jams", ".jams"),
                 ("textgrid", ".textgrid"), ("json", ".json"), ("rttm", ".rttm")]
ANY_NAME_FORMATS = {"lab", "jams", "textgrid", "rttm"}
METADATA_FILES = ("songs.tsv", "songs.csv", "metadata.tsv", "metadata.csv")
EXPORT_FORMATS = ("lab", "csv", "json", "audacity", "jams", "textgrid", "rttm")
IMPORT_STATES = (RevisionState.DRAFT, RevisionState.SUBMITTED, RevisionState.VERIFIED)


@dataclass
class DatasetItem:
    name: str  # folder name (or file stem in a flat layout)
    audio: Path
    labels: Path | None = None
    fmt: str | None = None
    title: str = ""
    artist: str = ""
    split: str = ""


@dataclass
class DatasetScan:
    items: list[DatasetItem] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _is_hidden(path: Path) -> bool:
    return path.name.startswith((".", "__MACOSX")) or path.name == "__MACOSX"


def _label_format(path: Path, *, audio_stem: str) -> str | None:
    suffix = path.suffix.lower()
    for fmt, ext in LABEL_FORMATS:
        if suffix == ext:
            named = path.stem.lower() in ("labels", "label", "annotation", "annotations", audio_stem.lower())
            return fmt if (named or fmt in ANY_NAME_FORMATS) else None
    return None


def _pick_labels(candidates: list[Path], *, audio_stem: str) -> tuple[Path | None, str | None, list[Path]]:
    found = [(p, _label_format(p, audio_stem=audio_stem)) for p in candidates]
    found = [(p, f) for p, f in found if f]
    if not found:
        return None, None, []
    order = {fmt: i for i, (fmt, _) in enumerate(LABEL_FORMATS)}
    found.sort(key=lambda pf: (0 if pf[0].stem.lower() == "labels" else 1, order[pf[1]], pf[0].name))
    return found[0][0], found[0][1], [p for p, _ in found[1:]]


def _metadata(root: Path) -> dict[str, dict]:
    """{folder name: {"title", "artist", "split"}} from songs.tsv/csv or a Singscope manifest.json."""
    meta: dict[str, dict] = {}
    manifest = root / "manifest.json"
    if manifest.is_file():
        try:
            doc = json.loads(manifest.read_text(encoding="utf-8"))
            for song in doc.get("songs", []) if isinstance(doc, dict) else []:
                if isinstance(song, dict) and song.get("folder"):
                    meta[str(song["folder"])] = {k: str(song.get(k) or "") for k in ("title", "artist", "split")}
        except (ValueError, OSError):
            pass
    for name in METADATA_FILES:
        path = root / name
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError):
            continue
        reader = csv.DictReader(text.splitlines(), delimiter="\t" if name.endswith(".tsv") else ",")
        for row in reader:
            row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
            key = row.get("slug") or row.get("folder") or row.get("name")
            if key:
                meta.setdefault(key, {}).update({k: row[k] for k in ("title", "artist", "split") if row.get(k)})
    return meta


def _collection_root(root: Path) -> Path:
    """Descend through wrapper folders (a zip of one folder holding the collection)."""
    for _ in range(3):
        entries = [p for p in root.iterdir() if not _is_hidden(p)]
        dirs = [p for p in entries if p.is_dir()]
        files = [p for p in entries if p.is_file()]
        if len(dirs) == 1 and not any(p.suffix.lower() in AUDIO_EXTENSIONS for p in files) and not any(
                any(c.suffix.lower() in AUDIO_EXTENSIONS for c in d.iterdir() if c.is_file()) for d in dirs):
            root = dirs[0]
        else:
            break
    return root


def dataset_scan(*, root: Path) -> DatasetScan:
    """Find the songs of a collection: one per folder with an audio file, or flat audio+label pairs."""
    root = Path(root)
    if not root.is_dir():
        raise ApiError(f"{root} is not a folder.", code="not_a_folder")
    root = _collection_root(root)
    meta = _metadata(root)
    scan = DatasetScan()
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not _is_hidden(p)):
        files = sorted(p for p in folder.iterdir() if p.is_file() and not _is_hidden(p))
        audio = [p for p in files if p.suffix.lower() in AUDIO_EXTENSIONS]
        if not audio:
            scan.problems.append(f"{folder.name}: no audio file (expected audio.wav, audio.mp3, ...); skipped")
            continue
        chosen = next((p for p in audio if p.stem.lower() == "audio"), None) or (audio[0] if len(audio) == 1 else None)
        if chosen is None:
            scan.problems.append(f"{folder.name}: {len(audio)} audio files and none named audio.*; skipped")
            continue
        labels, fmt, others = _pick_labels([p for p in files if p not in audio], audio_stem=chosen.stem)
        if labels is None:
            scan.problems.append(f"{folder.name}: no label file; the song is imported without an annotation")
        elif others:
            scan.problems.append(f"{folder.name}: used {labels.name}, ignored {', '.join(p.name for p in others)}")
        m = meta.get(folder.name, {})
        scan.items.append(DatasetItem(name=folder.name, audio=chosen, labels=labels, fmt=fmt, title=m.get("title", ""),
                                      artist=m.get("artist", ""), split=m.get("split", "")))
    flat = sorted(p for p in root.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS and not _is_hidden(p))
    for audio in flat:
        siblings = [p for p in root.iterdir() if p.is_file() and p.stem == audio.stem and p != audio]
        labels, fmt, _ = _pick_labels(siblings, audio_stem=audio.stem)
        if labels is None:
            scan.problems.append(f"{audio.name}: no label file named {audio.stem}.lab (or .csv, .txt, ...); "
                                 "the song is imported without an annotation")
        m = meta.get(audio.stem, {})
        scan.items.append(DatasetItem(name=audio.stem, audio=audio, labels=labels, fmt=fmt, title=m.get("title", ""),
                                      artist=m.get("artist", ""), split=m.get("split", "")))
    return scan


class _LocalUpload(File):
    """A file on this machine handed to song_upload as if uploaded. Deliberately without
    ``temporary_file_path``: storage would *move* such a file, and the collection is read in place."""

    def __init__(self, path: Path):
        super().__init__(open(path, "rb"), name=path.name)  # noqa: SIM115 - closed by the caller


def _read_labels(item: DatasetItem, *, duration: float):
    from detector.formats import read_segments

    return read_segments(item.labels, item.fmt, duration=duration)


def dataset_import(*, project: Project, root: Path, actor, state: str = RevisionState.DRAFT, split: str = "",
                   ctx=None) -> dict:
    """Import every song of the collection at ``root`` into ``project``.

    Returns {"created": [{"song", "name", "segments", "vocal_segments"}], "skipped": [...], "failed":
    [...], "problems": [...]}; one bad song never stops the others, and a failed song leaves no row
    and no stored file behind.
    """

    from detector.audio import scan as audio_scan
    from detector.errors import DetectorError

    if state not in IMPORT_STATES:
        raise ApiError(f"state must be one of {', '.join(IMPORT_STATES)}, not {state!r}.", code="invalid")
    if split and split not in Split.values:
        raise ApiError(f"split must be one of {', '.join(Split.values)}, not {split!r}.", code="invalid")
    scan = dataset_scan(root=root)
    created, skipped, failed = [], [], []
    total = len(scan.items)
    for i, item in enumerate(scan.items):
        if ctx is not None:
            ctx.progress(i / max(total, 1), f"Importing {item.name} ({i + 1} of {total})")
        try:
            segments = None
            if item.labels is not None:
                segments = _read_labels(item, duration=audio_scan(item.audio).duration)  # bad labels: fail before storing
            song = _import_one(project=project, item=item, actor=actor, state=state, split=split or item.split,
                               has_labels=segments is not None)
            vocal = [s for s in song.imported_segments if s.is_vocal] if song.imported_segments else []
            created.append({"song": song.pk, "name": item.name, "title": song.title,
                            "segments": len(song.imported_segments or []), "vocal_segments": len(vocal),
                            "format": item.fmt})
            if ctx is not None:
                ctx.log(f"{item.name}: song {song.pk}, {len(vocal)} vocal segments from {item.labels.name if item.labels else 'no labels'}")
        except ApiError as exc:
            target = skipped if exc.code == "duplicate" else failed
            target.append({"name": item.name, "reason": public_text(exc.detail)})
        except DetectorError as exc:  # its message starts with the unpacked file's path: keep the name
            failed.append({"name": item.name, "reason": public_text(exc)})
        if ctx is not None and failed and failed[-1]["name"] == item.name:
            ctx.log(f"{item.name}: failed: {failed[-1]['reason']}")
    summary = (f"imported {len(created)} song{'s' if len(created) != 1 else ''}"
               + (f", skipped {len(skipped)} already present" if skipped else "")
               + (f", {len(failed)} failed" if failed else ""))
    activity_record(project=project, actor=actor, verb="import.finished", summary=summary,
                    data={"songs": [c["song"] for c in created], "failed": len(failed), "skipped": len(skipped)})
    return {"created": created, "skipped": skipped, "failed": failed, "problems": scan.problems, "summary": summary}


def _import_one(*, project, item: DatasetItem, actor, state: str, split: str, has_labels: bool):
    upload = _LocalUpload(item.audio)
    try:
        with transaction.atomic():  # the process job is queued when this commits, after the revision exists
            song = song_upload(project=project, upload=upload, created_by=actor, title=item.title,
                               artist=item.artist, fallback_title=_title(item.name))
            try:
                song.imported_segments = None
                if has_labels:
                    segments = _read_labels(item, duration=float(song.duration))
                    revision_create(song=song, segments=segments, author=actor, origin=f"import:{item.fmt}",
                                    state=state, based_on="current",
                                    message=f"imported from {item.name}/{item.labels.name}"[:500])
                    song.imported_segments = segments
                if split and split in Split.values and split != song.split:
                    type(song).objects.filter(pk=song.pk).update(split=split)
                    song.split = split
            except BaseException:
                storage_delete(song.original.name)
                raise
    finally:
        upload.close()
    return song


def _title(name: str) -> str:
    return name.replace("_", " ").strip()[:300] or name


# -- zip archives -------------------------------------------------------------------------------------


def _max_import_bytes() -> int:
    return int(getattr(settings, "MAX_IMPORT_MB", 2048)) * 1024 * 1024


def zip_members(*, path: Path, max_files: int = 10_000) -> list[zipfile.ZipInfo]:
    """The regular files of a zip, refusing what could write outside the target folder (absolute
    names, ``..``, symlinks) and archives that unpack to more than MAX_IMPORT_MB or max_files."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise ApiError("This file is not a zip archive. Upload a .zip of song folders "
                       "(<song>/audio.* + labels).", code="not_a_zip") from None
    with zf:
        members = []
        total = 0
        for info in zf.infolist():
            name = info.filename
            parts = PurePosixPath(name.replace("\\", "/")).parts
            if name.startswith(("/", "\\")) or (parts and ":" in parts[0]) or ".." in parts:
                raise ApiError(f"The archive contains an unsafe path {name[:200]!r}; nothing was imported.",
                               code="unsafe_zip")
            if stat.S_ISLNK(info.external_attr >> 16):
                raise ApiError(f"The archive contains a symbolic link {name[:200]!r}; nothing was imported.",
                               code="unsafe_zip")
            if info.is_dir():
                continue
            total += info.file_size
            members.append(info)
        if len(members) > max_files:
            raise ApiError(f"The archive holds {len(members)} files; at most {max_files} can be imported at once.",
                           code="too_large", status_code=413)
        if total > _max_import_bytes():
            raise ApiError(f"The archive unpacks to {total / 2**20:.0f} MB, more than the "
                           f"{settings.MAX_IMPORT_MB} MB import limit.", code="too_large", status_code=413)
        return members


def zip_extract(*, path: Path, dest: Path) -> Path:
    """Unpack a checked zip into ``dest`` (zip-slip safe: every target is resolved inside ``dest``;
    sizes are counted while writing, so a lying header cannot unpack more than the limit)."""
    members = zip_members(path=path)
    dest = Path(dest).resolve()
    budget = _max_import_bytes()
    with zipfile.ZipFile(path) as zf:
        for info in members:
            target = (dest / info.filename.replace("\\", "/")).resolve()
            if not target.is_relative_to(dest):
                raise ApiError(f"The archive contains an unsafe path {info.filename[:200]!r}.", code="unsafe_zip")
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as out:
                while chunk := src.read(1024 * 1024):
                    budget -= len(chunk)
                    if budget < 0:
                        raise ApiError(f"The archive unpacks to more than the {settings.MAX_IMPORT_MB} MB import "
                                       "limit.", code="too_large", status_code=413)
                    out.write(chunk)
    return dest


def zip_import_prepare(*, project: Project, upload, actor, state: str = RevisionState.DRAFT) -> Job:  # noqa: F821
    """Check an uploaded zip now (a readable error for the user), store it, and queue an import job."""
    if state not in IMPORT_STATES:
        raise ApiError(f"state must be one of {', '.join(IMPORT_STATES)}, not {state!r}.", code="invalid")
    with upload_on_disk(upload, suffix=".zip") as path:
        members = zip_members(path=path)
        names = [m.filename for m in members]
        if not any(PurePosixPath(n).suffix.lower() in AUDIO_EXTENSIONS for n in names):
            raise ApiError("The archive holds no audio files. Expected folders of <song>/audio.* + labels.",
                           code="no_songs")
        upload.seek(0)
        stored = default_storage.save(f"imports/{project.pk}/{timezone.now():%Y%m%d-%H%M%S}.zip", upload)
    try:
        with transaction.atomic():
            job = job_create(project=project, kind=JobKind.IMPORT, created_by=actor,
                             params={"archive": stored, "state": state,
                                     "filename": (getattr(upload, "name", "") or "upload.zip")[-200:]})
            activity_record(project=project, actor=actor, verb="import.queued",
                            summary=f"uploaded {getattr(upload, 'name', 'a zip')[-200:]} for import", data={"job": job.pk})
    except BaseException:
        default_storage.delete(stored)
        raise
    return job


def import_handler(*, job, ctx) -> dict:
    """`import` job: params {"archive": storage name of the zip, "state"}; unpacks it to a temporary
    folder and imports it into the job's project. The stored zip is deleted afterwards."""

    archive = job.params.get("archive", "")
    if not archive or not archive.startswith(f"imports/{job.project_id}/"):
        raise ApiError("This import job names no archive of its project.", code="invalid")
    try:
        with tempfile.TemporaryDirectory(prefix="singscope-import-") as tmp, local_path(archive) as path:
            ctx.progress(0.0, "Unpacking the archive", force=True)
            zip_extract(path=path, dest=Path(tmp))
            result = dataset_import(project=job.project, root=Path(tmp), actor=job.created_by,
                                    state=job.params.get("state") or RevisionState.DRAFT, ctx=ctx)
    finally:
        default_storage.delete(archive)
    result["message"] = result["summary"][0].upper() + result["summary"][1:]
    return result


# -- export -------------------------------------------------------------------------------------------


def _revision_for(song, which: str):
    if which == "verified":
        return revision_latest_verified(song=song)
    return song.current_revision


def project_export(*, project: Project, fmt: str = "lab", include_audio: bool = False, which: str = "current",
                   songs=None):
    """A zip of the project: ``<song folder>/labels.<ext>`` (+ ``audio.<ext>``), ``splits.json`` and
    ``manifest.json``. Returns (open temporary file positioned at 0, download file name). The layout
    is the one dataset_import reads, so an export with audio imports back as it was."""

    from detector.formats import EXTENSIONS, write_segments
    from detector.labels import Segment

    if fmt not in EXPORT_FORMATS:
        raise ApiError(f"format must be one of {', '.join(EXPORT_FORMATS)}, not {str(fmt)[:20]!r}.", code="invalid")
    if which not in ("current", "verified"):
        raise ApiError("revision must be 'current' or 'verified'.", code="invalid")
    songs = songs if songs is not None else Song.objects.filter(project=project).select_related(
        "current_revision", "current_revision__author").order_by("title", "id")
    base = slugify(project.name) or f"project-{project.pk}"
    out = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the response, which closes it
    manifest_songs, splits = [], {s: [] for s in Split.values}
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for song in songs:
            folder = f"{slugify(song.title)[:60] or 'song'}-{song.pk}"
            revision = _revision_for(song, which)
            labels_name = None
            if revision is not None:
                segments = [Segment.from_dict(d) for d in revision.segments]
                labels_name = f"{folder}/labels{EXTENSIONS[fmt]}"
                text = write_segments(segments, fmt, duration=float(song.duration or segments[-1].end), title=song.title)
                zf.writestr(f"{base}/{labels_name}", text)
            audio_name = None
            if include_audio and song.original:
                audio_name = f"{folder}/audio{song.extension or '.bin'}"
                with default_storage.open(song.original.name, "rb") as src, \
                        zf.open(zipfile.ZipInfo(f"{base}/{audio_name}", date_time=timezone.now().timetuple()[:6]), "w",
                                force_zip64=True) as dst:
                    shutil.copyfileobj(src, dst, 1024 * 1024)
            splits[song.split].append(folder)
            manifest_songs.append({
                "folder": folder, "id": song.pk, "title": song.title, "artist": song.artist,
                "original_name": song.original_name, "sha256": song.sha256, "duration": song.duration,
                "split": song.split, "audio": audio_name, "labels": labels_name,
                "revision": None if revision is None else {
                    "number": revision.number, "state": revision.state, "origin": revision.origin,
                    "author": revision.author.get_username() if revision.author else None,
                    "created_at": revision.created_at.isoformat(), "vocal_seconds": revision.vocal_seconds,
                    "segments": len(revision.segments),
                },
            })
        manifest = {
            "format": "singscope-export", "version": 1, "exported_at": timezone.now().isoformat(),
            "project": {"id": project.pk, "name": project.name}, "annotation_format": fmt, "revision": which,
            "include_audio": include_audio, "songs": manifest_songs,
            "counts": {"songs": len(manifest_songs), "annotated": sum(1 for s in manifest_songs if s["labels"])},
        }
        zf.writestr(f"{base}/manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        zf.writestr(f"{base}/splits.json", json.dumps(splits, indent=2, ensure_ascii=False))
    out.seek(0)
    return out, f"{base}-{fmt}-{timezone.now():%Y%m%d}.zip"
