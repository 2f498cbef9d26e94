"""The generalization protocol on tiny material: the robustness suite, leave-one-language-out folds
whose choices never see their test songs, and the report."""

import json

import numpy as np
import pytest
import soundfile as sf
from detector_support import TINY, save_tiny_checkpoint

from detector import material as material_module
from detector.corpus import stems as stems_module
from detector.generalization import Recipe, inner_split, language_folds, run_protocol, write_report
from detector.suite import build_suite, conditions
from detector.vad import read_alignment

SR = 16000


def _song(path, seconds, spans, seed):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    y = 0.05 * rng.standard_normal(len(t))
    for a, b in spans:
        on = (t >= a) & (t < b)
        y[on] += 0.3 * np.sin(2 * np.pi * (200 + 40 * seed) * t[on])
    sf.write(path, np.stack([y, 0.9 * y], axis=1).astype(np.float32), SR)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    mp = pytest.MonkeyPatch()
    mp.setattr(stems_module, "SPLIT_SIZES", {"test": 1, "dev": 1})
    mp.setattr(material_module, "HELDOUT_PERCENT", 50.0)
    musdb = root / "musdb"
    for i in range(4):
        d = musdb / f"train__track{i}"
        d.mkdir(parents=True)
        _song(d / "vocals.flac", 5.0, [(0.5, 4.5)], seed=i)
        acc = 0.05 * np.random.default_rng(10 + i).standard_normal((5 * SR, 2))
        voc, _ = sf.read(d / "vocals.flac")
        sf.write(d / "audio.flac", (voc + acc).astype(np.float32), SR)
    stems_module.prepare_stems(src=musdb, out=root / "stems")
    real = root / "material" / "music-real" / "pkg"
    real.mkdir(parents=True)
    for i in range(8):
        _song(real / f"track{i}.flac", 12.0, [], seed=20 + i)
    songs = root / "songs"
    rows = ["slug\tlanguage"]
    for i, lang in enumerate(["A", "A", "B", "C"]):
        d = songs / f"song{i}"
        d.mkdir(parents=True)
        _song(d / "audio.flac", 6.0, [(1.0, 2.5), (3.5, 5.0)], seed=30 + i)
        (d / "labels.lab").write_text("1.000\t2.500\tsing\n3.500\t5.000\tsing\n")
        rows.append(f"song{i}\t{lang}")
    (songs / "songs.tsv").write_text("\n".join(rows) + "\n")
    source = save_tiny_checkpoint(root / "source.pt", config=TINY)
    yield {"root": root, "stems": root / "stems", "material": root / "material", "songs": songs, "source": source}
    mp.undo()


@pytest.mark.slow
def test_the_suite_has_every_condition_with_labels_that_fit_the_audio(tiny):
    index = build_suite(out=tiny["root"] / "suite", stems=tiny["stems"], material=tiny["material"], songs=tiny["songs"])
    assert list(index["parts"]["dev"]) == [c for c in conditions("dev")]
    assert list(index["parts"]["test"]) == [c for c in conditions("test")]
    for part, conds in index["parts"].items():
        for cond, items in conds.items():
            assert items, (part, cond)
            for rec in items:
                folder = tiny["root"] / "suite" / part / cond / rec["item"]
                audio = next(folder.glob("audio.*"))
                spans = read_alignment(folder / "labels.lab")
                assert all(0 <= a < b <= rec["seconds"] + 0.01 for a, b in spans), (part, cond, rec, spans)
                if cond == "instrumental":
                    assert spans == []
                assert audio.stat().st_size > 0
    slowed = index["parts"]["test"]["excerpts-tempo-0.85"]
    plain = {r["item"]: r for r in index["parts"]["test"]["excerpts"]}
    assert all(r["seconds"] == pytest.approx(plain[r["item"]]["seconds"] / 0.85, abs=0.05) for r in slowed)
    # built once: the same inputs leave it as it is
    assert build_suite(out=tiny["root"] / "suite", stems=tiny["stems"], material=tiny["material"],
                       songs=tiny["songs"]) == index


def test_language_folds_and_inner_splits_keep_test_songs_out():
    assert inner_split(["a", "b", "c"], seed=0)[1] and len(inner_split(["a", "b"], seed=0)[0]) == 1


@pytest.mark.slow
def test_the_protocol_scores_each_song_once_with_choices_made_without_it(tiny, tmp_path):
    folds = language_folds(tiny["songs"])
    assert folds == {"A": ["song0", "song1"], "B": ["song2"], "C": ["song3"]}
    recipes = {"source-only": Recipe(mode=None), "finetune": Recipe(epochs=1, steps=2)}
    result = run_protocol(sources={"tiny": tiny["source"]}, songs=tiny["songs"], suite=tiny["root"] / "suite",
                          stems=tiny["stems"], material=tiny["material"], recipes=recipes,
                          cache_dir=tmp_path / "cache", say=lambda _m: None)
    assert sorted(result["test"]["songs"]) == ["song0", "song1", "song2", "song3"]
    for f in result["folds"]:
        assert not set(f["test"]) & (set(f["train"]) | set(f["development"]))
        dev = {r: v["development"]["accuracy"] + v["development"]["f1"] for r, v in f["recipes"].items()}
        assert dev[f["chosen"]] == max(dev.values())
    assert set(result["robustness"]) == set(conditions("test"))
    assert result["default_recipe"]["name"] in recipes
    write_report(result, tmp_path / "report", meta={"command": "test"})
    text = (tmp_path / "report" / "README.md").read_text()
    assert "leave one language out" in text and "song3" in text
    pooled = json.loads((tmp_path / "report" / "results.json").read_text())["test"]["pooled"]
    assert pooled["tp"] + pooled["fn"] + pooled["tn"] + pooled["fp"] == 4 * 600
