"""Runs the unit tests of the editor's pure partition logic (static/js/editor/partition.js) in node."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_partition_logic_passes_its_node_unit_tests():
    proc = subprocess.run(["node", "--test", str(ROOT / "tests/js/test_partition.mjs")], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "# fail 0" in proc.stdout and "# pass 0" not in proc.stdout


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_time_axis_and_paint_logic_pass_their_node_unit_tests():
    proc = subprocess.run(["node", "--test", str(ROOT / "tests/js/test_timeaxis.mjs")], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "# fail 0" in proc.stdout and "# pass 0" not in proc.stdout
