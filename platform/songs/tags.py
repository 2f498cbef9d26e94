"""Title, artist and album from an audio file's own tags (ID3, Vorbis comments, MP4 atoms, RIFF INFO).

FFmpeg (PyAV) reads every container Singscope accepts, including RIFF INFO chunks in WAV files that
mutagen does not know; mutagen fills in what FFmpeg left empty (e.g. ID3 frames in AIFF files).
Reading tags never refuses a file: a file with broken tags simply has none.
"""

from __future__ import annotations

import logging
import unicodedata
from pathlib import Path

log = logging.getLogger(__name__)

FIELDS = ("title", "artist", "album")
TAG_MAX = 300


def tag_clean(value) -> str:
    """One tag value as display text: the first of several, NFC, no control characters, bounded."""
    if isinstance(value, list | tuple):
        value = value[0] if value else ""
    text = unicodedata.normalize("NFC", str(value or ""))
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    return " ".join(text.split())[:TAG_MAX]


def _ffmpeg_tags(path: Path) -> dict[str, str]:
    import av

    found: dict[str, str] = {}
    with av.open(str(path), metadata_errors="ignore") as container:
        sources = [container.metadata]
        if container.streams.audio:
            sources.append(container.streams.audio[0].metadata)  # Ogg keeps its Vorbis comments here
        for metadata in sources:
            lowered = {str(k).lower(): v for k, v in (metadata or {}).items()}
            for field in FIELDS:
                if not found.get(field) and (value := tag_clean(lowered.get(field))):
                    found[field] = value
    return found


def _mutagen_tags(path: Path) -> dict[str, str]:
    import mutagen

    audio = mutagen.File(str(path), easy=True)
    if audio is None or audio.tags is None:
        return {}
    found = {}
    for field in FIELDS:
        try:
            value = tag_clean(audio.tags.get(field))
        except (KeyError, ValueError, TypeError):
            value = ""
        if value:
            found[field] = value
    return found


def audio_tags(path: str | Path) -> dict[str, str]:
    """``{"title", "artist", "album"}`` found in the file's tags (missing ones are "")."""
    path = Path(path)
    found: dict[str, str] = {}
    for reader in (_ffmpeg_tags, _mutagen_tags):
        if all(found.get(f) for f in FIELDS):
            break
        try:
            for field, value in reader(path).items():
                found.setdefault(field, value)
        except Exception:  # noqa: BLE001 - unreadable tags are no tags; the audio was validated separately
            log.info("could not read tags of %s with %s", path.name, reader.__name__, exc_info=True)
    return {field: found.get(field, "") for field in FIELDS}
