"""The detector package stays a pure ML library: importing it loads no Django and no Celery."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_importing_every_detector_module_loads_no_django_or_celery():
    code = (
        "import importlib, pkgutil, sys, detector\n"
        "names = [m.name for m in pkgutil.iter_modules(detector.__path__)]\n"
        "for name in names:\n"
        "    importlib.import_module('detector.' + name)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in ('django', 'celery', 'kombu', 'rest_framework'))\n"
        "print(len(names), bad)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    count, bad = result.stdout.strip().split(" ", 1)
    assert int(count) >= 12 and bad == "[]"


def test_importing_the_package_itself_is_light():
    code = "import sys, detector; print(sorted({'torch', 'librosa', 'numpy'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}).stdout.strip()
    assert out == "[]"
