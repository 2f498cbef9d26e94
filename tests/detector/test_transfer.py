"""Transfer learning through the one training path (detector.adapt): the paper's modes copy and freeze
the right layers, post-processing is tuned on development songs, the new model is judged against the
start model there, the checkpoint works for detection; the k-fold experiment writes both tables."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from audio_fixtures import noise, voice, write_audio

from detector.adapt import Recipe, adapt, choose_development, songs_from_collection
from detector.checkpoint import load_checkpoint, save_checkpoint
from detector.config import FeatureConfig
from detector.errors import DetectorError
from detector.experiment import run_experiment, song_folds, write_report
from detector.features import Normalization
from detector.model import CRNNConfig, build_model
from detector.train import TrainConfig
from detector.transfer import MODES, TransferMode, prepare_model

TINY = CRNNConfig(channels=(4, 4, 4), rnn_hidden=4, dropout=0.0)

ROOT = Path(__file__).resolve().parents[2]
QUICK = TrainConfig(epochs=2, steps_per_epoch=3, batch_size=4, crop_seconds=1.0, patience=5, num_threads=1,
                    callback_every=0)


def write_song(folder: Path, *, seed: int, seconds: float = 4.0) -> None:
    """Noise with a loud harmonic 'voice' (vibrato tone) in two spans; labels.lab marks them."""
    spans = [(0.5 + 0.3 * (seed % 3), 1.6), (2.4, 3.3 + 0.1 * (seed % 4))]
    y = noise(seconds, amplitude=0.05, seed=seed) + voice(seconds, f0=220.0, spans=spans, amplitude=0.4, harmonics=4,
                                                          vibrato=0.02, vibrato_hz=5.0)
    folder.mkdir(parents=True)
    write_audio(folder / "audio.wav", y, 16000)
    (folder / "labels.lab").write_text("".join(f"{a:.3f}\t{b:.3f}\tsing\n" for a, b in spans))


@pytest.fixture(scope="module")
def songs_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("songs")
    for i in range(4):
        write_song(root / f"song{i}", seed=i)
    return root


@pytest.fixture(scope="module")
def songs(songs_dir):
    return songs_from_collection(songs_dir)


def quick_adapt(source, songs, mode: str, **kw):
    return adapt(start=source, train=songs[1:], development=songs[:1], recipe=Recipe(mode=mode, lr=3e-3),
                 config=QUICK, seed=0, **kw)


@pytest.fixture(scope="module")
def source_path(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    model = build_model(TINY, seed=7)
    norm = Normalization(np.zeros(80, np.float32), np.ones(80, np.float32))
    path = tmp_path_factory.mktemp("source") / "source.pt"
    return save_checkpoint(path, model=model, feature_config=FeatureConfig(), normalization=norm, kind="source")


def test_every_mode_of_table_1_parses_and_prints_back():
    assert MODES == ("baseline", "fixed:L1", "fixed:L2", "fixed:L3", "fixed:all",
                     "finetune:L1", "finetune:L2", "finetune:L3", "finetune:all")
    for text in MODES:
        assert str(TransferMode.parse(text)) == text
    assert TransferMode.parse("fixed:all").frozen == ("L1", "L2", "L3")
    assert TransferMode.parse("finetune:L2").frozen == ()


def test_an_unknown_mode_is_refused_with_the_list_of_modes():
    with pytest.raises(DetectorError, match=r"'frozen:L1' is not one of: baseline, fixed:L1"):
        TransferMode.parse("frozen:L1")


def test_transferred_blocks_carry_the_source_weights_and_the_others_are_fresh(source_path):
    source = load_checkpoint(source_path)
    model = prepare_model(TransferMode.parse("fixed:L2"), source=source, seed=1)
    for name in ("L1", "L2", "L3"):
        same = all(torch.equal(a, b) for a, b in zip(getattr(model, name).state_dict().values(),
                                                     getattr(source.model, name).state_dict().values(), strict=True))
        assert same == (name == "L2"), name


def test_finetune_full_starts_from_the_whole_source_model_and_trains_all_of_it(source_path):
    source = load_checkpoint(source_path)
    mode = TransferMode.parse("finetune:full")
    assert str(mode) == "finetune:full" and mode.frozen == ()
    model = prepare_model(mode, source=source, seed=1)
    theirs = source.model.state_dict()
    assert all(torch.equal(v, theirs[k]) for k, v in model.state_dict().items())
    partial = prepare_model(TransferMode.parse("finetune:all"), source=source, seed=1).state_dict()
    assert not all(torch.equal(v, theirs[k]) for k, v in partial.items())  # all = the conv blocks only


def test_transfer_modes_need_a_source_but_the_baseline_does_not():
    with pytest.raises(DetectorError, match="needs a source model"):
        prepare_model(TransferMode.parse("finetune:L1"), source=None, seed=0)
    assert prepare_model(TransferMode.parse("baseline"), source=None, seed=0) is not None


def test_fixed_layers_stay_exactly_as_transferred_while_the_rest_learns(songs, source_path):
    source = load_checkpoint(source_path)
    result = quick_adapt(source, songs, "fixed:L1")
    for a, b in zip(result.model.L1.state_dict().values(), source.model.L1.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    fresh = prepare_model(TransferMode.parse("fixed:L1"), source=source, seed=0)
    assert not torch.equal(result.model.head.weight, fresh.head.weight)
    counts = result.training["parameter_counts"]
    assert counts["trainable"] == counts["total"] - counts["L1"]


def test_fine_tuning_changes_the_transferred_layer(songs, source_path):
    source = load_checkpoint(source_path)
    result = quick_adapt(source, songs, "finetune:L1")
    assert not torch.equal(result.model.L1[0].weight, source.model.L1[0].weight)
    assert result.training["parameter_counts"]["trainable"] == result.training["parameter_counts"]["total"]


def test_the_saved_model_keeps_its_tuned_post_processing_mode_songs_and_lineage(songs, source_path, tmp_path):
    source = load_checkpoint(source_path)
    result = quick_adapt(source, songs, "finetune:L3")
    path = result.save(tmp_path / "target.pt", parent=str(source_path))
    loaded = load_checkpoint(path)
    assert loaded.metadata["kind"] == "target"
    assert loaded.metadata["parent"] == str(source_path)
    assert loaded.metadata["training"]["transfer_mode"] == "finetune:L3"
    assert loaded.postprocess == result.postprocess
    assert 0.2 <= loaded.postprocess.threshold <= 0.8
    assert loaded.metadata["metrics"]["development"]["f1"] == result.development["f1"]
    manifest = loaded.metadata["manifest"]
    assert manifest["development_songs"] == ["song0"] and manifest["train_songs"] == ["song1", "song2", "song3"]


def test_the_new_model_is_judged_against_the_start_model_on_the_development_songs(songs, source_path):
    source = load_checkpoint(source_path)
    result = quick_adapt(source, songs, "finetune:full")
    assert result.start_development is not None and result.development is not None
    better = result.development["accuracy"] + result.development["f1"] >= \
        result.start_development["accuracy"] + result.start_development["f1"]
    assert result.promote == better and ("promote" in result.reason or "keep the start model" in result.reason)


def test_development_songs_are_held_out_whole_and_chosen_when_none_are_named(songs, source_path):
    names = [s.name for s in songs]
    train, dev = choose_development(names, seed=3)
    assert set(train).isdisjoint(dev) and sorted(train + dev) == sorted(names) and len(dev) == 1
    assert choose_development(names[:2], seed=0) == (names[:2], [])  # too few songs to hold one out
    source = load_checkpoint(source_path)
    auto = adapt(start=source, train=songs, recipe=Recipe(lr=3e-3), config=QUICK, seed=3)
    assert auto.development_songs == dev and auto.train_songs == train
    alone = adapt(start=source, train=songs[:2], recipe=Recipe(lr=3e-3), config=QUICK, seed=0)
    assert alone.development_songs == [] and not alone.promote and "nothing to judge" in alone.reason


def test_folds_test_every_song_exactly_once():
    folds = song_folds(10, folds=5, seed=0)
    assert sorted(i for fold in folds for i in fold) == list(range(10))
    assert all(len(f) == 2 for f in folds)
    assert song_folds(10, folds=5, seed=0) == folds


def test_the_experiment_writes_both_tables_and_the_same_seed_gives_the_same_numbers(songs, source_path, tmp_path):
    """Also in parallel: two worker processes give the numbers of one process."""
    source = load_checkpoint(source_path)
    modes = ["baseline", "fixed:L1", "finetune:L1"]
    runs = []
    for out, jobs in ((tmp_path / "a", 1), (tmp_path / "b", 2)):
        results = run_experiment(source=source, songs=songs, folds=2, seed=0, modes=modes, config=QUICK, jobs=jobs,
                                 cache_dir=tmp_path / "cache")
        runs.append(write_report(results, out, meta={"test": True}))
    assert runs[0]["table1"] == runs[1]["table1"]
    assert runs[0]["settings"]["baseline"]["per_song"] == runs[1]["settings"]["baseline"]["per_song"]
    table1 = (tmp_path / "a" / "table1.md").read_text()
    assert [line.split("|")[1].strip() for line in table1.splitlines()[2:]] == modes
    table2 = (tmp_path / "a" / "table2.md").read_text().splitlines()
    assert len(table2) == 2 + len(songs) + 1 and "pooled" in table2[-1]
    on_off = json.loads((tmp_path / "a" / "results.json").read_text())["table2"]
    assert sum(r["on"] + r["off"] for r in on_off) == 4 * 400  # every frame of the four 4 s songs, once
    assert (tmp_path / "a" / "figure.svg").read_text().lstrip().startswith("<?xml")


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "detector", *args], cwd=ROOT, capture_output=True, text=True)


def test_cli_transfer_trains_a_model_the_detect_command_can_use(songs_dir, source_path, tmp_path):
    out = tmp_path / "model.pt"
    done = run_cli("transfer", "--source", str(source_path), "--train", str(songs_dir), "--mode", "finetune:L1",
                   "--epochs", "1", "--steps", "2", "--quiet", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["mode"] == "finetune:L1"
    lab = tmp_path / "song0.lab"
    detect = run_cli("detect", str(songs_dir / "song0" / "audio.wav"), "--model", str(out), "-o", str(lab))
    assert detect.returncode == 0, detect.stderr
    for line in lab.read_text().splitlines():
        start, end, tag = line.split("\t")
        assert tag == "sing" and 0 <= float(start) < float(end) <= 4.0


def test_cli_transfer_explains_a_missing_source_in_one_line(songs_dir, tmp_path):
    done = run_cli("transfer", "--source", str(tmp_path / "nope.pt"), "--train", str(songs_dir),
                   "--mode", "fixed:L1", "-o", str(tmp_path / "m.pt"))
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "no such checkpoint file" in done.stderr


def test_cli_transfer_mode_none_keeps_the_source_weights_and_tunes_post_processing_on_every_song(
        songs_dir, source_path, tmp_path):
    out = tmp_path / "source-only.pt"
    done = run_cli("transfer", "--source", str(source_path), "--train", str(songs_dir), "--mode", "none",
                   "--quiet", "-o", str(out))
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["mode"] == "none" and report["trainable_parameters"] == 0
    source, shipped = load_checkpoint(source_path), load_checkpoint(out)
    for (name, a), b in zip(source.model.state_dict().items(), shipped.model.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    manifest = shipped.metadata["manifest"]
    assert manifest["train_songs"] == [] and sorted(manifest["development_songs"]) == [f"song{i}" for i in range(4)]
    assert shipped.postprocess.to_dict() == report["postprocess"]
