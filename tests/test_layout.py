"""The source layout keeps its promises: platform/ never shadows the stdlib, detector never loads Django."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_python(code: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": f"{ROOT}:{ROOT / 'platform'}"},
    ).stdout.strip()


def test_import_platform_from_repo_root_is_the_standard_library():
    out = run_python("import platform; print(platform.__file__); print(platform.python_version())")
    path, version = out.splitlines()
    assert "/platform/" not in path.replace(str(ROOT), "")
    assert version.startswith("3.11")


def test_platform_folder_is_a_source_root_not_a_package():
    assert not (ROOT / "platform" / "__init__.py").exists()


def test_importing_every_detector_module_loads_no_django_or_celery():
    code = (
        "import importlib, pkgutil, sys, detector\n"
        "for m in pkgutil.iter_modules(detector.__path__):\n"
        "    importlib.import_module('detector.' + m.name)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in ('django', 'celery', 'rest_framework'))\n"
        "print(len(bad), bad[:5])"
    )
    assert run_python(code).startswith("0 ")
