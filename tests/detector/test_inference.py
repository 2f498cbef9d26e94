"""detector.inference: whole songs in a few long overlapping windows, batched; ONNX == PyTorch."""

import numpy as np
import pytest
import torch
from audio_fixtures import write_audio
from detector_support import burst, save_tiny_checkpoint
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit

from detector.audio import load
from detector.checkpoint import load_checkpoint
from detector.errors import CheckpointError
from detector.features import logmel
from detector.inference import (
    Detection,
    OnnxBundle,
    detect_file,
    export_onnx,
    file_features,
    load_model,
    load_onnx,
    predict,
    predict_batch,
    predict_features,
    predict_stream,
    to_onnx,
    windows,
)
from detector.labels import validate_partition
from detector.model import CRNNConfig


@settings(max_examples=200, deadline=None)
@given(n=st.integers(0, 5000), chunk=st.integers(1, 700), context=st.integers(0, 200))
def test_windows_own_a_partition_of_the_song_with_context_on_both_sides(n, chunk, context):
    ws = windows(n, chunk=chunk, context=context)
    if n == 0:
        assert ws == []
        return
    assert [lo for _, _, lo, _ in ws] == [0] + [hi for _, _, _, hi in ws[:-1]]
    assert (ws[-1][3] if ws else 0) == n
    for start, length, lo, hi in ws:
        assert 0 <= start and start + length <= n and start <= lo < hi <= start + length
        assert lo == 0 or lo - start >= context
        assert hi == n or start + length - hi >= context
    assert len({length for _, length, _, _ in ws}) <= 1


def test_a_long_song_is_a_few_long_windows_not_one_per_frame():
    assert len(windows(24_000, chunk=3000, context=200)) == 8


def full_forward(bundle, feats):
    x = bundle.normalization.apply(feats)[None]
    with torch.inference_mode():
        return expit(bundle.model(torch.from_numpy(x)).numpy()[0])


def test_windowed_probabilities_match_one_pass_over_the_whole_song(tiny_bundle):
    feats = logmel(np.random.default_rng(0).standard_normal(16000 * 40).astype(np.float32) * 0.1)
    windowed = predict_features(tiny_bundle, feats, chunk_s=8.0, context_s=2.0)
    np.testing.assert_allclose(windowed, full_forward(tiny_bundle, feats), atol=1e-4)


def test_predict_gives_one_probability_per_frame(tiny_bundle):
    p = predict(tiny_bundle, burst(2.345))
    assert p.shape == (235,) and p.dtype == np.float32
    assert ((p >= 0) & (p <= 1)).all()


def test_predict_batch_equals_predicting_each_song(tiny_bundle):
    rng = np.random.default_rng(1)
    ys = [rng.standard_normal(int(16000 * s)).astype(np.float32) * 0.1 for s in (0.0, 0.5, 12.0, 31.0, 45.0)]
    batched = predict_batch(tiny_bundle, ys, chunk_s=10.0, context_s=1.0)
    for y, p in zip(ys, batched, strict=True):
        np.testing.assert_allclose(p, predict(tiny_bundle, y, chunk_s=10.0, context_s=1.0), atol=1e-5)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(0, 2500), cuts=st.lists(st.integers(0, 2500), max_size=8), chunk_s=st.sampled_from([3.0, 5.0]))
def test_streamed_prediction_equals_whole_song_prediction(tiny_bundle, n, cuts, chunk_s):
    feats = np.random.default_rng(n).standard_normal((n, 80)).astype(np.float32)
    bounds = sorted({0, n, *(c for c in cuts if c < n)})
    blocks = [feats[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    kwargs = {"chunk_s": chunk_s, "context_s": 1.0, "max_batch_frames": 1200}
    np.testing.assert_allclose(predict_stream(tiny_bundle, blocks, **kwargs),
                               predict_features(tiny_bundle, feats, **kwargs), atol=1e-6)


def test_file_features_stream_the_file_into_the_same_log_mel(audio_files):
    feats, duration, info = file_features(audio_files["flac"])
    np.testing.assert_allclose(feats, logmel(load(audio_files["flac"])), atol=1e-4)
    assert duration == pytest.approx(3.0) and info.container == "flac"


def test_detect_file_returns_probabilities_and_a_full_partition(tiny_bundle, audio_files):
    progress = []
    d = detect_file(audio_files["mp3"], bundle=tiny_bundle, progress=progress.append)
    assert isinstance(d, Detection)
    assert d.duration == pytest.approx(3.0) and d.probabilities.shape == (300,)
    validate_partition(d.segments, duration=d.duration)
    assert progress == sorted(progress) and progress[-1] == 1.0
    assert d.info.channels == 2


def test_detect_file_hands_every_decoded_block_to_on_block_and_can_keep_its_features(tiny_bundle, audio_files):
    from detector.audio import probe, stream

    path = audio_files["mp3"]
    config = tiny_bundle.feature_config
    blocks = []
    d = detect_file(path, bundle=tiny_bundle, on_block=blocks.append, keep_features=True)
    expected = list(stream(path, sr=config.sample_rate, info=probe(path), stereo=config.stereo_input))
    assert len(blocks) == len(expected)
    np.testing.assert_array_equal(np.concatenate(blocks), np.concatenate(expected))
    assert sum(len(b) for b in blocks) / config.sample_rate == pytest.approx(d.duration)
    feats, duration, _ = file_features(path, config=config)
    np.testing.assert_array_equal(d.features, feats)
    assert duration == d.duration
    np.testing.assert_array_equal(d.probabilities, predict_features(tiny_bundle, feats))
    assert detect_file(path, bundle=tiny_bundle).features is None


def test_file_features_hand_every_decoded_block_to_on_block(audio_files):
    blocks = []
    feats, duration, _ = file_features(audio_files["flac"], on_block=blocks.append)
    assert sum(len(b) for b in blocks) / 16000 == pytest.approx(duration)
    np.testing.assert_array_equal(feats, file_features(audio_files["flac"])[0])


def test_detect_file_with_an_always_vocal_model_finds_one_vocal_segment(vocal_checkpoint, tmp_path):
    write_audio(tmp_path / "a.wav", burst(5.0), 16000)
    d = detect_file(tmp_path / "a.wav", bundle=load_model(vocal_checkpoint))
    assert [(s.start, s.end, s.label) for s in d.segments] == [(0.0, 5.0, "vocal")]


# -- ONNX Runtime ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def onnx_file(tiny_bundle, tmp_path_factory):
    return export_onnx(tiny_bundle, tmp_path_factory.mktemp("onnx") / "tiny.onnx")


@pytest.mark.parametrize(("batch", "frames"), [(1, 1), (1, 50), (3, 777), (2, 3400)])
def test_onnx_logits_match_pytorch_to_1e_4(tiny_bundle, onnx_file, batch, frames):
    x = np.random.default_rng(frames).standard_normal((batch, frames, 80)).astype(np.float32)
    np.testing.assert_allclose(load_onnx(onnx_file).logits(x), tiny_bundle.logits(x), atol=1e-4)


def test_onnx_probabilities_of_a_real_file_match_pytorch(tiny_bundle, onnx_file, audio_files):
    onnx = load_onnx(onnx_file)
    torch_p = detect_file(audio_files["m4a"], bundle=tiny_bundle).probabilities
    np.testing.assert_allclose(detect_file(audio_files["m4a"], bundle=onnx).probabilities, torch_p, atol=1e-4)


def test_the_full_size_model_also_exports_exactly(tmp_path):
    bundle = load_checkpoint(save_tiny_checkpoint(tmp_path / "full.pt", config=CRNNConfig()))
    x = np.random.default_rng(0).standard_normal((2, 1000, 80)).astype(np.float32)
    np.testing.assert_allclose(to_onnx(bundle).logits(x), bundle.logits(x), atol=1e-4)


def test_an_onnx_file_carries_its_feature_config_normalisation_and_postprocessing(tiny_bundle, onnx_file):
    onnx = load_onnx(onnx_file)
    assert isinstance(onnx, OnnxBundle)
    assert onnx.feature_config == tiny_bundle.feature_config and onnx.postprocess == tiny_bundle.postprocess
    np.testing.assert_array_equal(onnx.normalization.std, tiny_bundle.normalization.std)
    assert onnx.metadata["kind"] == "source"


def test_load_model_picks_the_runtime(tiny_checkpoint, onnx_file):
    assert isinstance(load_model(onnx_file), OnnxBundle)
    assert isinstance(load_model(tiny_checkpoint, runtime="onnx"), OnnxBundle)
    assert isinstance(load_model(tiny_checkpoint), OnnxBundle)  # auto: ONNX when it exports
    assert not isinstance(load_model(tiny_checkpoint, runtime="torch"), OnnxBundle)
    with pytest.raises(ValueError):
        load_model(tiny_checkpoint, runtime="tensorflow")


def test_load_model_falls_back_to_pytorch_when_export_fails(tiny_checkpoint, monkeypatch):
    import detector.inference as inference

    def broken(bundle, **kwargs):
        raise RuntimeError("no exporter")

    monkeypatch.setattr(inference, "to_onnx", broken)
    assert not isinstance(load_model(tiny_checkpoint), OnnxBundle)
    with pytest.raises(RuntimeError):
        load_model(tiny_checkpoint, runtime="onnx")


def test_default_model_path_is_also_reachable_from_inference(tmp_path, monkeypatch):
    from detector import checkpoint, inference
    from detector.errors import NoDefaultModelError

    monkeypatch.setattr(checkpoint, "WEIGHTS_DIR", tmp_path)
    with pytest.raises(NoDefaultModelError):
        inference.default_model_path()


def test_a_broken_onnx_file_is_refused(tmp_path):
    (tmp_path / "x.onnx").write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="x.onnx: not a usable ONNX model"):
        load_onnx(tmp_path / "x.onnx")
    with pytest.raises(CheckpointError, match="no such ONNX"):
        load_onnx(tmp_path / "y.onnx")
