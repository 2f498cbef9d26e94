"""detector.checkpoint: self-describing files that round-trip, and refuse what does not fit."""

import numpy as np
import pytest
import torch
from detector_support import TINY, save_tiny_checkpoint

from detector import checkpoint
from detector.checkpoint import FORMAT_VERSION, default_model_path, load_checkpoint, save_checkpoint
from detector.config import FeatureConfig
from detector.errors import CheckpointError, NoDefaultModelError
from detector.features import Normalization
from detector.model import CRNN
from detector.postprocess import PostprocessConfig


def test_a_checkpoint_round_trips_weights_configs_and_metadata(tmp_path):
    torch.manual_seed(1)
    model = CRNN(TINY).eval()
    norm = Normalization(np.linspace(-5, 5, 80), np.linspace(1, 2, 80))
    post = PostprocessConfig(median_s=0.5, threshold=0.4, hysteresis=(0.3, 0.6))
    path = save_checkpoint(tmp_path / "m.pt", model=model, feature_config=FeatureConfig(), normalization=norm,
                           postprocess=post, training={"lr": 1e-3}, seed=7, manifest={"songs": ["a"]},
                           metrics={"f1": 0.9}, kind="target", parent="source-v1")
    bundle = load_checkpoint(path)
    assert not bundle.model.training
    x = torch.randn(2, 40, 80)
    with torch.inference_mode():
        assert torch.equal(bundle.model(x), model(x))
    assert bundle.model_config == TINY and bundle.feature_config == FeatureConfig()
    np.testing.assert_array_equal(bundle.normalization.mean, norm.mean)
    assert bundle.postprocess == post
    meta = bundle.metadata
    assert meta["format_version"] == FORMAT_VERSION and meta["kind"] == "target" and meta["parent"] == "source-v1"
    assert meta["seed"] == 7 and meta["training"] == {"lr": 1e-3} and meta["manifest"] == {"songs": ["a"]}
    assert meta["metrics"] == {"f1": 0.9}
    assert {"torch", "numpy", "librosa", "python", "detector"} <= set(meta["versions"])


def test_saving_is_atomic_and_leaves_no_temporary_file(tmp_path):
    save_tiny_checkpoint(tmp_path / "m.pt")
    save_tiny_checkpoint(tmp_path / "m.pt", seed=2)  # overwrite
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]


def test_a_mismatched_feature_config_is_refused_naming_the_field(tiny_checkpoint):
    with pytest.raises(CheckpointError, match=r"n_mels=80 \(expected 64\)"):
        load_checkpoint(tiny_checkpoint, expect_feature_config=FeatureConfig(n_mels=64))
    load_checkpoint(tiny_checkpoint, expect_feature_config=FeatureConfig())


def rewrite(src, dst, change):
    data = torch.load(src, weights_only=True)
    change(data)
    torch.save(data, dst)
    return dst


def test_an_unknown_format_version_is_refused(tiny_checkpoint, tmp_path):
    path = rewrite(tiny_checkpoint, tmp_path / "v99.pt", lambda d: d.update(format_version=99))
    with pytest.raises(CheckpointError, match="format_version 99"):
        load_checkpoint(path)


@pytest.mark.parametrize("key", ["model_state", "feature_config", "normalization", "postprocess"])
def test_a_missing_field_is_named(tiny_checkpoint, tmp_path, key):
    path = rewrite(tiny_checkpoint, tmp_path / "missing.pt", lambda d: d.pop(key))
    with pytest.raises(CheckpointError, match=f"missing field.*{key}"):
        load_checkpoint(path)


def test_weights_that_do_not_fit_the_model_config_are_refused(tiny_checkpoint, tmp_path):
    path = rewrite(tiny_checkpoint, tmp_path / "bad.pt", lambda d: d["model_config"].update(rnn_hidden=5))
    with pytest.raises(CheckpointError, match="model_state"):
        load_checkpoint(path)


def test_a_normalisation_of_the_wrong_size_is_refused(tiny_checkpoint, tmp_path):
    path = rewrite(tiny_checkpoint, tmp_path / "bad.pt",
                   lambda d: d.update(normalization={"mean": [0.0] * 64, "std": [1.0] * 64}))
    with pytest.raises(CheckpointError, match="64 bands"):
        load_checkpoint(path)


def test_garbage_and_missing_files_are_refused(tmp_path):
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="junk.pt: not a readable checkpoint"):
        load_checkpoint(tmp_path / "junk.pt")
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "absent.pt")
    torch.save([1, 2, 3], tmp_path / "list.pt")
    with pytest.raises(CheckpointError, match="not a dict"):
        load_checkpoint(tmp_path / "list.pt")


def test_saving_refuses_an_unknown_kind_or_disagreeing_band_counts(tmp_path):
    model = CRNN(TINY)
    with pytest.raises(CheckpointError, match="kind"):
        save_checkpoint(tmp_path / "a.pt", model=model, feature_config=FeatureConfig(),
                        normalization=Normalization.identity(80), kind="weird")
    with pytest.raises(CheckpointError, match="mel bands"):
        save_checkpoint(tmp_path / "a.pt", model=model, feature_config=FeatureConfig(),
                        normalization=Normalization.identity(64))


def test_default_model_prefers_default_then_source(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoint, "WEIGHTS_DIR", tmp_path)
    with pytest.raises(NoDefaultModelError, match="no default model is installed"):
        default_model_path()
    (tmp_path / "source.pt").write_bytes(b"x")
    assert default_model_path() == tmp_path / "source.pt"
    (tmp_path / "default.pt").write_bytes(b"x")
    assert default_model_path() == tmp_path / "default.pt"
