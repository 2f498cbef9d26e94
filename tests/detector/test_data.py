"""Labelled collections become log-mel features + frame labels on the 10 ms grid, and random crops."""

import numpy as np
import pytest
from audio_fixtures import write_audio

from detector.config import FeatureConfig
from detector.data import FrameDataset, find_items
from detector.errors import DataError

SR = 16000


@pytest.fixture()
def collection(tmp_path):
    rng = np.random.default_rng(0)
    for k, (dur, spans) in enumerate([(2.0, [(0.5, 1.0)]), (1.234, []), (3.0, [(0.0, 0.25), (2.0, 3.0)])]):
        d = tmp_path / "songs" / f"song{k}"
        d.mkdir(parents=True)
        write_audio(d / "audio.wav", (0.1 * rng.standard_normal(int(dur * SR))).astype(np.float32), SR)
        (d / "labels.lab").write_text("".join(f"{a:.3f}\t{b:.3f}\tsing\n" for a, b in spans) + "0.2\t0.3\tnosing\n" * (k == 1))
    return tmp_path / "songs"


def test_items_are_found_sorted_with_audio_and_labels(collection):
    names = [n for n, _, _ in find_items(collection)]
    assert names == ["song0", "song1", "song2"]


def test_features_and_frame_labels_follow_the_grid(collection):
    ds = FrameDataset.from_collection(collection)
    assert [len(y) for y in ds.labels] == [200, 124, 300]
    assert all(f.shape == (len(y), FeatureConfig().n_mels) and f.dtype == np.float16
               for f, y in zip(ds.features, ds.labels, strict=True))
    assert ds.labels[0][:50].sum() == 0 and ds.labels[0][50:100].all() and ds.labels[0][100:].sum() == 0
    assert ds.labels[1].sum() == 0  # 'nosing' lines are not vocal
    assert ds.labels[2][:25].all() and ds.labels[2][200:].all() and ds.labels[2][25:200].sum() == 0
    assert ds.vocal_fraction == pytest.approx((50 + 25 + 100) / 624)


def test_the_cache_gives_the_same_arrays_and_is_reused(collection, tmp_path):
    plain = FrameDataset.from_collection(collection)
    cached = FrameDataset.from_collection(collection, cache_dir=tmp_path / "cache")
    again = FrameDataset.from_collection(collection, cache_dir=tmp_path / "cache")
    assert len(list((tmp_path / "cache").glob("*/*.npy"))) == 3  # one file per song, made once
    one = FrameDataset.from_collection(collection, names=["song2"], cache_dir=tmp_path / "cache")
    np.testing.assert_array_equal(one.features[0], plain.features[2])  # another set of items reuses them
    assert len(list((tmp_path / "cache").glob("*/*.npy"))) == 3
    for a, b, c in zip(plain.features, cached.features, again.features, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
    assert isinstance(again.features[0].base, np.memmap) or isinstance(again.features[0], np.memmap)
    for a, b in zip(plain.labels, cached.labels, strict=True):
        np.testing.assert_array_equal(a, b)


def test_names_select_items_and_subset_keeps_order(collection):
    ds = FrameDataset.from_collection(collection, names=["song2", "song0"])
    assert ds.names == ["song2", "song0"]
    assert ds.subset([1]).names == ["song0"]
    with pytest.raises(DataError, match="song9"):
        FrameDataset.from_collection(collection, names=["song9"])


def test_crops_are_deterministic_padded_and_masked(collection):
    ds = FrameDataset.from_collection(collection)
    x1, y1, m1 = ds.sample_crops(np.random.default_rng(5), batch_size=16, crop_frames=250)
    x2, y2, m2 = ds.sample_crops(np.random.default_rng(5), batch_size=16, crop_frames=250)
    assert x1.shape == (16, 250, 80) and y1.shape == m1.shape == (16, 250)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    # crops of the shorter items are padded: the mask says which frames are real
    short = m1.sum(axis=1) < 250
    assert short.any() and set(m1.sum(axis=1)[short].astype(int)) <= {124, 200}
    assert (y1 * (1 - m1)).sum() == 0


def test_missing_or_broken_collections_are_refused(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        find_items(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no <item>"):
        find_items(tmp_path / "empty")
    (tmp_path / "x" / "a").mkdir(parents=True)
    (tmp_path / "x" / "a" / "labels.lab").write_text("")
    with pytest.raises(DataError, match="no audio"):
        find_items(tmp_path / "x")
