"""Streaming a zip upload to disk with a size limit (the body is never held in memory)."""

from django.core.files.uploadhandler import StopUpload, TemporaryFileUploadHandler


class LimitedUploadHandler(TemporaryFileUploadHandler):
    """Every file part goes to a temporary file; past ``max_bytes`` the upload stops and the partial
    file is deleted; ``too_large`` tells the view why the file is missing."""

    def __init__(self, request=None, *, max_bytes: int):
        super().__init__(request)
        self.max_bytes = max_bytes
        self.received = 0
        self.too_large = False

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.max_bytes:
            self.too_large = True
            self.file.close()  # a NamedTemporaryFile: closing deletes it
            raise StopUpload(connection_reset=False)
        self.file.write(raw_data)
