"""Runs the node unit tests of the browser code's pure modules (static/js/api.js with a stand-in fetch;
static/js/editor: partition.js, timeaxis.js, keymap.js, drafts.js + state.js) with `node --test`, so
`make test` covers them."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


def passes_its_node_tests(*files: str) -> None:
    proc = subprocess.run(["node", "--test", *(str(ROOT / "tests/js" / f) for f in files)], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "# fail 0" in proc.stdout and "# pass 0" not in proc.stdout


@needs_node
def test_partition_logic_passes_its_node_unit_tests():
    passes_its_node_tests("test_partition.mjs")


@needs_node
def test_time_axis_and_paint_logic_pass_their_node_unit_tests():
    passes_its_node_tests("test_timeaxis.mjs")


@needs_node
def test_key_map_and_drafts_pass_their_node_unit_tests():
    passes_its_node_tests("test_keymap.mjs", "test_drafts.mjs")


@needs_node
def test_the_network_contract_passes_its_node_unit_tests():
    passes_its_node_tests("test_api.mjs")


def test_every_node_unit_test_file_is_run_here():
    run_here = {"test_partition.mjs", "test_timeaxis.mjs", "test_keymap.mjs", "test_drafts.mjs", "test_api.mjs"}
    assert {p.name for p in (ROOT / "tests/js").glob("*.mjs")} == run_here
