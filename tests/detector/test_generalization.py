"""The generalization protocol on tiny material: the robustness suite, leave-one-language-out folds
whose choices never see their test songs, and the report."""

import json

import pytest

from detector.adapt import Recipe
from detector.generalization import inner_split, language_folds, run_protocol, write_report
from detector.suite import build_suite, conditions
from detector.vad import read_alignment


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
        choice = {r: v["choice"] for r, v in f["recipes"].items()}
        assert choice[f["chosen"]] == max(choice.values())
        for v in f["recipes"].values():  # accuracy + F1 on the development songs with the suite's dev part
            assert abs(v["choice"] - (v["development"]["accuracy"] + v["development"]["f1"])) < 1e-3
    assert set(result["robustness"]) == set(conditions("test"))
    assert result["default_recipe"]["name"] in recipes
    write_report(result, tmp_path / "report", meta={"command": "test"})
    text = (tmp_path / "report" / "README.md").read_text()
    assert "leave one language out" in text and "song3" in text
    pooled = json.loads((tmp_path / "report" / "results.json").read_text())["test"]["pooled"]
    assert pooled["tp"] + pooled["fn"] + pooled["tn"] + pooled["fp"] == 4 * 600
