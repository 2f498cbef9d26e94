"""Serve a stored file with HTTP Range support (206 / 416), or hand it to the web server.

Production: set AUDIO_SENDFILE=nginx (X-Accel-Redirect to AUDIO_SENDFILE_PREFIX + storage name, an
`internal` nginx location aliasing MEDIA_ROOT) or AUDIO_SENDFILE=apache (X-Sendfile with the
absolute path); the web server then answers Range requests itself. Permission checks happen in
the view before this is called.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from common.errors import ApiError
from django.conf import settings
from django.core.files.storage import default_storage
from django.http import HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header, http_date

CHUNK = 256 * 1024
_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.I)


def _setting(name: str) -> str:
    return str(getattr(settings, name))


def _position(digits: str) -> int:
    """A byte position from the header; one longer than any file (even 5,000 digits, past Python's
    int() limit) is simply "beyond the end"."""
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= 19 else 10**19


def parse_range(header: str, size: int) -> tuple[int, int] | None | str:
    """(first, last) inclusive for a single satisfiable range; None to ignore the header (serve it
    all: malformed or several ranges); "unsatisfiable" for a range past the end."""
    if not header or "," in header:
        return None
    m = _RANGE.match(header)
    if not m:
        return None
    first, last = m.group(1), m.group(2)
    if first == "" and last == "":
        return None
    if first == "":  # suffix: the last N bytes
        n = _position(last)
        if n == 0:
            return "unsatisfiable"
        return max(0, size - n), size - 1
    a = _position(first)
    b = _position(last) if last else None
    if b is not None and b < a:
        return None  # malformed: ignore the header
    if a >= size:
        return "unsatisfiable"
    b = size - 1 if b is None else b
    return a, min(b, size - 1)


def _iter(f, start: int, length: int):
    try:
        f.seek(start)
        remaining = length
        while remaining > 0:
            data = f.read(min(CHUNK, remaining))
            if not data:
                break
            remaining -= len(data)
            yield data
    finally:
        f.close()


def file_response(request, *, name: str, content_type: str, etag: str, download_name: str | None = None,
                  as_attachment: bool = False):
    """A response for stored file ``name`` honouring Range / If-Range / If-None-Match."""
    headers = {
        "Accept-Ranges": "bytes", "ETag": f'"{etag}"', "Cache-Control": "private, max-age=3600",
        "X-Content-Type-Options": "nosniff",
    }
    if download_name is not None:
        headers["Content-Disposition"] = content_disposition_header(as_attachment, download_name)

    mode = _setting("AUDIO_SENDFILE").lower()
    if mode in ("nginx", "x-accel", "x-accel-redirect"):
        response = HttpResponse(content_type=content_type, headers=headers)
        prefix = _setting("AUDIO_SENDFILE_PREFIX").rstrip("/")
        response["X-Accel-Redirect"] = quote(f"{prefix}/{name}")
        return response
    if mode in ("apache", "x-sendfile", "lighttpd"):
        response = HttpResponse(content_type=content_type, headers=headers)
        response["X-Sendfile"] = default_storage.path(name)
        return response

    if request.headers.get("If-None-Match") == headers["ETag"]:
        return HttpResponse(status=304, headers=headers)
    if not name or not default_storage.exists(name):
        raise ApiError("This song's audio file is missing from storage; ask an admin to restore it or upload "
                       "the song again.", code="file_missing", status_code=404)
    size = default_storage.size(name)
    try:
        headers["Last-Modified"] = http_date(default_storage.get_modified_time(name).timestamp())
    except (NotImplementedError, OSError):
        pass
    wanted = parse_range(request.headers.get("Range", ""), size)
    if_range = request.headers.get("If-Range")
    if wanted is not None and if_range and if_range != headers["ETag"]:
        wanted = None  # the client's copy is stale: send it all
    if wanted == "unsatisfiable":
        return HttpResponse(status=416, content_type="application/json", headers={
            **headers, "Content-Range": f"bytes */{size}"},
            content=b'{"error": "The requested byte range is outside the file.", "code": "range_not_satisfiable"}')
    f = default_storage.open(name, "rb")
    if wanted is None:
        start, length, status = 0, size, 200
    else:
        start, last = wanted
        length, status = last - start + 1, 206
        headers["Content-Range"] = f"bytes {start}-{last}/{size}"
    headers["Content-Length"] = str(length)
    if request.method == "HEAD":
        f.close()
        return HttpResponse(status=status, content_type=content_type, headers=headers)
    return StreamingHttpResponse(_iter(f, start, length), status=status, content_type=content_type, headers=headers)
