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


def _modules():
    import ast

    for path in sorted((ROOT / "detector").rglob("*.py")):
        yield path.relative_to(ROOT), ast.parse(path.read_text())


def _error_names(tree) -> set[str]:
    """The classes errors.py defines (each one an error: DetectorError and what derives from it)."""
    import ast

    return {node.name for node in ast.walk(tree) if isinstance(node, ast.ClassDef)}


def test_detector_modules_import_one_way_absolute_and_keep_every_error_class_in_errors_py():
    import ast

    modules = dict(_modules())
    ours = _error_names(modules[Path("detector/errors.py")])
    relative, errors_elsewhere = [], []
    for path, tree in modules.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level:
                relative.append(f"{path}:{node.lineno}")
            if isinstance(node, ast.ClassDef) and path.name != "errors.py":
                bases = {getattr(b, "id", getattr(b, "attr", "")) for b in node.bases}
                if bases & ours or any(b.endswith(("Error", "Exception", "Cancelled", "Warning")) for b in bases):
                    errors_elsewhere.append(f"{path}:{node.lineno} {node.name}")
    assert relative == [] and errors_elsewhere == []
    assert {"DetectorError", "AudioError", "FormatError", "CheckpointError"} <= ours


def test_code_outside_the_detector_imports_its_errors_from_errors_py():
    """``from detector.train import TrainingCancelled`` works only by accident (train imports it):
    platform, tests, benchmarks and scripts name ``detector.errors``."""
    import ast

    ours = _error_names(ast.parse((ROOT / "detector" / "errors.py").read_text()))
    elsewhere = []
    for folder in ("platform", "tests", "benchmarks", "scripts"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if (isinstance(node, ast.ImportFrom) and (node.module or "").startswith("detector.")
                        and node.module != "detector.errors" and {a.name for a in node.names} & ours):
                    elsewhere.append(f"{path.relative_to(ROOT)}:{node.lineno} from {node.module}")
    assert elsewhere == []
