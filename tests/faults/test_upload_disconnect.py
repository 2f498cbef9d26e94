"""A client disconnects in the middle of an upload (raw socket: headers + half of a multipart body,
then close): no Song row, no job, no file left in MEDIA_ROOT or in the upload temp folder; the
server keeps serving and the same file uploads fine afterwards."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import pytest
from faults_support import token_for, wait_for, wav

pytestmark = [pytest.mark.django_db(transaction=True)]

BOUNDARY = "----singscopefaultboundary"


def multipart(project_id: int, data: bytes) -> bytes:
    return b"".join([
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"project\"\r\n\r\n{project_id}\r\n".encode(),
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"cut.wav\"\r\n"
        f"Content-Type: audio/wav\r\n\r\n".encode(), data, f"\r\n--{BOUNDARY}--\r\n".encode()])


def files_under(folder) -> list:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.mark.parametrize("fraction", [0.02, 0.5, 0.99])
def test_a_client_that_hangs_up_mid_upload_leaves_nothing_behind(
        live_server, isolated_media, settings, tmp_path, project, user, fraction):
    import requests
    from jobs.models import Job
    from songs.models import Song

    upload_tmp = tmp_path / "upload-tmp"
    upload_tmp.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(upload_tmp)
    token = token_for(user)
    body = multipart(project.pk, wav(120.0))  # ~3.8 MB: streamed to a temporary file, never kept in memory
    host = urlsplit(live_server.url)
    head = (f"POST /api/songs/ HTTP/1.1\r\nHost: {host.hostname}:{host.port}\r\nAuthorization: Token {token}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {len(body)}\r\n"
            f"Connection: close\r\n\r\n").encode()
    with socket.create_connection((host.hostname, host.port), timeout=10) as s:
        s.sendall(head + body[: int(len(body) * fraction)])
        time.sleep(0.5)
        s.shutdown(socket.SHUT_RDWR)
    time.sleep(1.0)  # let the server thread notice the short body and unwind

    wait_for(lambda: not files_under(upload_tmp), timeout=15, what=f"the temp folder to empty: {files_under(upload_tmp)}")
    assert Song.objects.count() == 0 and Job.objects.count() == 0
    assert files_under(isolated_media) == []

    # the server is fine: the whole body uploads normally
    r = requests.post(f"{live_server.url}/api/songs/", headers={"Authorization": f"Token {token}"},
                      data={"project": project.pk}, files={"file": ("whole.wav", wav(3.0))}, timeout=30)
    assert r.status_code == 201, r.text
    assert Song.objects.count() == 1
    assert files_under(upload_tmp) == []
