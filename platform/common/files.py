"""File helpers every app uses: the sha256 of bytes read from anywhere, and a local path for an upload."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from django.conf import settings

BLOCK = 1 << 20  # 1 MiB


def sha256_chunks(chunks: Iterable[bytes]) -> str:
    """Hex sha256 of the concatenated ``chunks``."""
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


def sha256_stream(fh: BinaryIO) -> str:
    """Hex sha256 of what is left to read in the binary file object ``fh`` (read in 1 MiB blocks)."""
    return sha256_chunks(iter(lambda: fh.read(BLOCK), b""))


def upload_sha256(upload) -> str:
    """Hex sha256 of an uploaded file: the one computed while it streamed in (songs.uploads), else read now."""
    return getattr(upload, "sha256", None) or sha256_chunks(upload.chunks())


@contextmanager
def upload_on_disk(upload, *, suffix: str = "") -> Iterator[Path]:
    """A local path to an upload's bytes: the temporary file it streamed to, or (in-memory uploads,
    files handed in by code) a temporary copy named ``*<suffix>``, removed on exit."""
    if hasattr(upload, "temporary_file_path"):
        yield Path(upload.temporary_file_path())
        return
    with tempfile.NamedTemporaryFile(suffix=suffix, dir=settings.FILE_UPLOAD_TEMP_DIR) as tmp:
        upload.seek(0)
        shutil.copyfileobj(upload, tmp, BLOCK)
        tmp.flush()
        yield Path(tmp.name)
