"""The disk fills up while a checkpoint is written: save_checkpoint fails with the OS error, the
previous checkpoint at that path is byte-for-byte intact, and no temporary file is left behind.

Two ways to fill the disk, both real (no fault hook in the code under test):
* a 64 KiB tmpfs mounted for the test (needs root / CAP_SYS_ADMIN; skipped with the reason otherwise);
* RLIMIT_FSIZE on a subprocess (works for any user): writing past the limit fails with EFBIG.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

WRITER = r"""
import json, os, resource, signal, sys
sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[2])
from model_fixtures import BUNDLES
from detector.checkpoint import save_checkpoint
path, size, limit = sys.argv[3], sys.argv[4], int(sys.argv[5])
kwargs = BUNDLES["tiny" if size == "tiny" else "full"](0)  # "default": the default CRNN, about 95 KB
if limit:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG instead of being killed
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
try:
    save_checkpoint(path, kind="source", **kwargs)
    print(json.dumps({"ok": True}))
except Exception as exc:
    print(json.dumps({"ok": False, "type": type(exc).__name__, "errno": getattr(exc, "errno", None), "error": str(exc)}))
"""


def write(path: Path, *, size: str, limit: int = 0) -> dict:
    out = subprocess.run([sys.executable, "-c", WRITER, str(ROOT), str(ROOT / "tests"), str(path), size,
                          str(limit)], capture_output=True, text=True, timeout=120, env=os.environ | {"OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def check_atomic(folder: Path, path: Path, old: bytes, result: dict, expected_errnos: set[int]) -> None:
    assert result["ok"] is False, "the big checkpoint was written: the disk was not full"
    # the OS error, or torch's zip writer reporting the short write (it drops the errno)
    assert result["errno"] in expected_errnos or "unexpected pos" in result["error"], result
    assert path.read_bytes() == old, "the previous checkpoint was damaged"
    assert sorted(p.name for p in folder.iterdir()) == [path.name], "a temporary file was left behind"
    # and it still loads
    from detector.checkpoint import load_checkpoint

    assert load_checkpoint(path).model is not None


@pytest.fixture
def small_tmpfs(tmp_path):
    folder = tmp_path / f"full-{uuid.uuid4().hex[:6]}"
    folder.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({r.stderr.strip() or r.returncode}); the RLIMIT_FSIZE test covers it")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=False)


def test_disk_full_on_a_small_tmpfs_keeps_the_old_checkpoint(small_tmpfs):
    import errno

    path = small_tmpfs / "model.pt"
    assert write(path, size="tiny")["ok"]
    old = path.read_bytes()
    assert len(old) < 32 * 1024
    result = write(path, size="default")
    check_atomic(small_tmpfs, path, old, result, {errno.ENOSPC})


def test_file_size_limit_keeps_the_old_checkpoint(tmp_path):
    import errno

    folder = tmp_path / "ckpt"
    folder.mkdir()
    path = folder / "model.pt"
    assert write(path, size="tiny")["ok"]
    old = path.read_bytes()
    result = write(path, size="default", limit=len(old) + 4096)
    check_atomic(folder, path, old, result, {errno.EFBIG, errno.ENOSPC})
