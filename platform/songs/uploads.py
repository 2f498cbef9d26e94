"""Upload streaming: every file part goes straight to a temporary file on disk, hashed on the way,
and the upload stops the moment it passes MAX_UPLOAD_MB (the request body is never held in memory)."""

from __future__ import annotations

import hashlib

from common.errors import ApiError
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from rest_framework import status


def too_large_error(*, limit_mb: int) -> ApiError:
    return ApiError(
        f"The file is larger than the {limit_mb} MB upload limit. Compress it (FLAC, MP3, Ogg) or split "
        "it, or ask an administrator to raise MAX_UPLOAD_MB.",
        code="too_large", status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    )


class HashingUploadHandler(TemporaryFileUploadHandler):
    """TemporaryFileUploadHandler that computes sha256 while streaming and enforces a size limit."""

    def __init__(self, request=None, *, max_bytes: int, limit_mb: int):
        super().__init__(request)
        self.max_bytes = max_bytes
        self.limit_mb = limit_mb
        self._sha = hashlib.sha256()
        self._size = 0

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self._sha = hashlib.sha256()
        self._size = 0

    def receive_data_chunk(self, raw_data, start):
        self._size += len(raw_data)
        if self._size > self.max_bytes:
            self.file.close()  # a NamedTemporaryFile: closing deletes it
            raise too_large_error(limit_mb=self.limit_mb)
        self._sha.update(raw_data)
        self.file.write(raw_data)

    def file_complete(self, file_size):
        uploaded = super().file_complete(file_size)
        uploaded.sha256 = self._sha.hexdigest()
        return uploaded
