"""Where a song's files live in storage and how to get a local path to them (filesystem or S3).

Every file of a song sits under ``projects/<project>/songs/<sha[:2]>/<sha>/`` and is named by
Singscope, never by the uploader: ``original.<ext>``, ``peaks.json.gz``, ``spectrogram.bin``,
``playable.flac``, ``predictions/model-<id>.npy``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from django.core.files.storage import default_storage

# Container (detector.audio.AudioInfo.container) -> the extension the original is stored with.
CONTAINER_EXTENSIONS = {
    "wav": ".wav", "flac": ".flac", "ogg": ".ogg", "mp3": ".mp3", "aiff": ".aiff", "mp4": ".m4a",
    "matroska": ".webm", "caf": ".caf", "au": ".au", "asf": ".wma", "aac": ".aac", "ac3": ".ac3",
}
CONTENT_TYPES = {
    ".wav": "audio/wav", ".flac": "audio/flac", ".ogg": "audio/ogg", ".opus": "audio/ogg", ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4", ".aiff": "audio/aiff", ".aif": "audio/aiff", ".webm": "audio/webm", ".caf": "audio/x-caf",
    ".au": "audio/basic", ".wma": "audio/x-ms-wma", ".aac": "audio/aac", ".ac3": "audio/ac3",
}


def song_dir(song) -> str:
    return f"projects/{song.project_id}/songs/{song.sha256[:2]}/{song.sha256}"


def extension_for(*, container: str, codec: str, filename: str) -> str:
    """A safe extension for the stored original: from what the content is, else the user's (sanitised)."""
    if container == "ogg" and codec == "opus":
        return ".opus"
    if container in CONTAINER_EXTENSIONS:
        return CONTAINER_EXTENSIONS[container]
    suffix = Path(filename).suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else ".bin"


def content_type_for(name: str) -> str:
    return CONTENT_TYPES.get(Path(name).suffix.lower(), "application/octet-stream")


@contextlib.contextmanager
def local_path(name: str) -> Iterator[Path]:
    """A path on this machine holding the stored file ``name`` (a temporary copy for remote storage)."""
    try:
        yield Path(default_storage.path(name))
        return
    except NotImplementedError:
        pass
    fd, tmp = tempfile.mkstemp(suffix=Path(name).suffix)
    try:
        with os.fdopen(fd, "wb") as out, default_storage.open(name, "rb") as src:
            shutil.copyfileobj(src, out, 1024 * 1024)
        yield Path(tmp)
    finally:
        Path(tmp).unlink(missing_ok=True)


def storage_delete(*names: str) -> None:
    """Delete stored files (missing ones are fine) and, on a filesystem, the folders they leave empty."""
    for name in names:
        if not name:
            continue
        try:
            default_storage.delete(name)
        except FileNotFoundError:
            pass
        with contextlib.suppress(NotImplementedError, OSError):
            folder = Path(default_storage.path(name)).parent
            root = Path(default_storage.path(""))
            while folder != root and root in folder.parents and not any(folder.iterdir()):
                folder.rmdir()
                folder = folder.parent
