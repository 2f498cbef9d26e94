"""The training loop learns, repeats with a seed, resumes exactly, reports progress and can be cancelled."""

import numpy as np
import pytest
import torch
from audio_fixtures import noise, sine, write_audio

from detector.augment import AugmentConfig
from detector.config import FeatureConfig
from detector.data import FrameDataset
from detector.errors import TrainingCancelled
from detector.evaluation import model_backend, predict, tune_postprocess
from detector.model import CRNNConfig, build_model
from detector.train import TrainConfig, train

CFG = CRNNConfig()


def toy_dataset(seed, n_items=8, frames=240):
    """'Vocal' frames have extra energy in mel bands 20-40 (a learnable cue), labels in runs."""
    rng = np.random.default_rng(seed)
    feats, labels = [], []
    for _ in range(n_items):
        y = np.zeros(frames, np.uint8)
        t = int(rng.integers(0, 60))
        while t < frames:
            n = int(rng.integers(30, 90))
            y[t : t + n] = 1
            t += n + int(rng.integers(30, 90))
        f = rng.standard_normal((frames, 80)).astype(np.float32) - 4.0
        f[y == 1, 20:40] += 2.5
        feats.append(f.astype(np.float16))
        labels.append(y)
    return FrameDataset([f"item{i}" for i in range(n_items)], feats, labels, FeatureConfig())


SMALL = dict(epochs=3, steps_per_epoch=8, batch_size=8, crop_seconds=1.0, lr=1e-2, num_threads=1,
             augment=AugmentConfig(pitch_prob=0, tempo_prob=0.2, noise_prob=0, eq_prob=0.2))


@pytest.fixture(scope="module")
def sets():
    return toy_dataset(0), toy_dataset(1, n_items=4)


@pytest.fixture(scope="module")
def trained(sets):
    tr, va = sets
    return train(build_model(seed=0), tr, va, config=TrainConfig(**SMALL), seed=0, progress=False)


def test_training_learns_the_cue_and_keeps_the_best_epoch(trained, sets):
    assert trained.best_metrics["f1"] > 0.85
    assert trained.best_epoch in {h["epoch"] for h in trained.history}
    best = max(h["val_f1"] for h in trained.history)
    assert trained.best_metrics["f1"] == pytest.approx(best, abs=1e-4)
    assert trained.frames_per_second > 0 and trained.epochs_run == 3
    assert not trained.model.training
    assert trained.summary()["config"]["epochs"] == 3


def test_same_seed_same_weights(sets, trained):
    tr, va = sets
    again = train(build_model(seed=0), tr, va, config=TrainConfig(**SMALL), seed=0, progress=False)
    for a, b in zip(trained.model.state_dict().values(), again.model.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert again.history == [dict(h, seconds=g["seconds"]) for h, g in zip(trained.history, again.history, strict=True)]


def test_a_cancelled_run_resumes_to_the_same_result(sets, trained, tmp_path):
    tr, va = sets
    state = tmp_path / "run.state"
    calls = []

    def stop_after_first_epoch(info):
        calls.append(info)
        return not (info["event"] == "epoch" and info["epoch"] == 1)

    with pytest.raises(TrainingCancelled) as err:
        train(build_model(seed=0), tr, va, config=TrainConfig(**SMALL, callback_every=5), seed=0,
              callback=stop_after_first_epoch, state_path=state, progress=False)
    assert err.value.epoch == 1 and state.is_file()
    assert {c["event"] for c in calls} == {"step", "epoch"}
    assert all(0 < c["progress"] <= 1 for c in calls)
    resumed = train(build_model(seed=123), tr, va, config=TrainConfig(**SMALL, callback_every=5), seed=0,
                    state_path=state, resume=True, progress=False)
    for a, b in zip(trained.model.state_dict().values(), resumed.model.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert [h["val_f1"] for h in resumed.history] == [h["val_f1"] for h in trained.history]


def test_resume_refuses_other_settings(sets, tmp_path):
    tr, va = sets
    state = tmp_path / "s.state"
    cfg = TrainConfig(**dict(SMALL, epochs=1))
    train(build_model(seed=0), tr, va, config=cfg, seed=0, state_path=state, progress=False)
    with pytest.raises(Exception, match="another seed"):
        train(build_model(seed=0), tr, va, config=cfg, seed=1, state_path=state, resume=True, progress=False)


def test_a_raising_callback_stops_training(sets):
    tr, va = sets

    def boom(info):
        raise RuntimeError("job cancelled")

    with pytest.raises(RuntimeError, match="job cancelled"):
        train(build_model(seed=0), tr, va, config=TrainConfig(**dict(SMALL, callback_every=1)), callback=boom,
              progress=False)


def test_frozen_blocks_do_not_change(sets):
    tr, va = sets
    model = build_model(seed=0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = train(model, tr, va, config=TrainConfig(**dict(SMALL, epochs=1)), frozen=["L1", "L2"], progress=False)
    after = result.model.state_dict()
    for k in before:
        if k.startswith(("L1.", "L2.")):
            assert torch.equal(before[k], after[k]), k
    assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith("rnn."))
    assert result.frozen == ("L1", "L2")
    assert result.parameter_counts["trainable"] == result.parameter_counts["total"] - 144 - 7272


def test_early_stopping_and_threshold_tuning(sets, trained):
    tr, va = sets
    r = train(build_model(seed=0), tr, va, config=TrainConfig(**dict(SMALL, epochs=20, patience=1, lr=1e-9)),
              progress=False)
    assert r.stopped == "early-stopping" and r.epochs_run < 20
    backend = model_backend(trained.model, normalization=trained.normalization, feature_config=va.feature_config)
    probs = predict(backend, va.features)
    assert [len(p) for p in probs] == [len(y) for y in va.labels]
    post, scores = tune_postprocess(probs, va.labels, medians_s=(0.1,))
    assert 0.2 <= post.threshold <= 0.8 and scores["f1"] >= 0.8


def test_bad_inputs_are_refused(sets):
    tr, va = sets
    with pytest.raises(Exception, match="must not be empty"):
        train(build_model(seed=0), tr, va.subset([]), config=TrainConfig(**SMALL), progress=False)
    with pytest.raises(ValueError, match="epochs"):
        TrainConfig(epochs=0)


def test_cli_trains_a_checkpoint_from_a_corpus(tmp_path, capsys):
    import json

    from detector.checkpoint import load_checkpoint
    from detector.cli import main

    tone = sine(3.0, freq=220.0, amplitude=0.3, spans=[(1.0, 2.0)])
    for split, n in (("train", 4), ("val", 2)):
        for k in range(n):
            d = tmp_path / "corpus" / split / f"clip{k}"
            d.mkdir(parents=True)
            write_audio(d / "audio.wav", noise(3.0, amplitude=0.05, seed=10 * n + k) + tone, 16000)
            (d / "labels.lab").write_text("1.000\t2.000\tsing\n")
    out = tmp_path / "m.pt"
    code = main(["train", "--corpus", str(tmp_path / "corpus"), "-o", str(out), "--epochs", "1", "--steps", "2",
                 "--batch-size", "2", "--crop-seconds", "1", "--threads", "1", "--quiet",
                 "--eval", str(tmp_path / "corpus" / "val")])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["epochs_run"] == 1 and report["frames_per_second"] > 0
    bundle = load_checkpoint(out)
    assert bundle.metadata["kind"] == "source"
    assert bundle.metadata["metrics"]["eval"]["items"] == 2
    assert set(bundle.metadata["metrics"]["eval"]["per_item"]) == {"clip0", "clip1"}
    assert (tmp_path / "m.pt.state").is_file()


def test_max_seconds_stops_after_a_validated_partial_epoch(sets):
    tr, va = sets
    r = train(build_model(seed=0), tr, va, config=TrainConfig(**dict(SMALL, epochs=5)), max_seconds=0.0,
              progress=False)
    assert r.stopped == "max-time" and r.epochs_run == 1 and r.best_epoch == 1


def test_cli_trains_from_material_remixes_and_validates_on_the_suites_dev_part(tiny, tmp_path, capsys):
    import json

    from detector.checkpoint import load_checkpoint
    from detector.cli import main

    out = tmp_path / "wide.pt"
    code = main(["train", "--stems", str(tiny["stems"]), "--material", str(tiny["material"]), "--suite",
                 str(tmp_path / "suite"), "--model", "wide", "-o", str(out), "--epochs", "1", "--steps", "2",
                 "--batch-size", "4", "--seed", "0", "--threads", "1", "--quiet", "--cache", str(tmp_path / "cache")])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    bundle = load_checkpoint(out)
    assert bundle.model_config.channels == (16, 32, 64)
    pools = bundle.metadata["manifest"]["remix"]["pools"]
    assert [p["name"] for p in pools["vocal"]] == ["stems:vocals"]
    assert {p["name"] for p in pools["accompaniment"]} == {"stems:accompaniment", "music-real"}
    assert all(n.startswith(("stems-own", "stems-other", "instrumental")) for n in
               bundle.metadata["manifest"]["validation_items"])
    assert report["metrics"]["val_items"] == len(bundle.metadata["manifest"]["validation_items"])
