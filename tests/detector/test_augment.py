"""Feature-domain augmentation keeps shapes, repeats with a seed, and does what it says."""

import math

import torch

from detector.augment import AugmentConfig, augment_batch, spec_mask


def batch(seed=0, b=4, t=120, f=80):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn((b, t, f), generator=g) - 5.0
    y = (torch.rand((b, t), generator=g) > 0.5).float()
    return x, y, torch.ones((b, t))


def test_shapes_are_kept_and_a_seed_repeats_exactly():
    x, y, m = batch()
    a = augment_batch(x, y, m, config=AugmentConfig(tempo_prob=1.0), generator=torch.Generator().manual_seed(1))
    b = augment_batch(x, y, m, config=AugmentConfig(tempo_prob=1.0), generator=torch.Generator().manual_seed(1))
    for u, v, ref in zip(a, b, (x, y, m), strict=True):
        assert u.shape == ref.shape
        assert torch.equal(u, v)
    assert not torch.equal(a[0], x)


def test_disabled_augmentation_is_the_identity():
    x, y, m = batch()
    out = augment_batch(x, y, m, config=AugmentConfig(enabled=False), generator=torch.Generator())
    assert all(torch.equal(u, v) for u, v in zip(out, (x, y, m), strict=True))
    assert torch.equal(spec_mask(x, config=AugmentConfig(enabled=False), generator=torch.Generator()), x)


def test_gain_alone_adds_a_constant_per_crop_within_range():
    x, y, m = batch()
    cfg = AugmentConfig(gain_db=6.0, eq_prob=0, noise_prob=0, pitch_prob=0, tempo_prob=0)
    out, y2, m2 = augment_batch(x, y, m, config=cfg, generator=torch.Generator().manual_seed(0))
    d = out - x
    assert torch.allclose(d, d[:, :1, :1].expand_as(d), atol=1e-5)
    assert (d.abs() <= 6.0 * math.log(10) / 10 + 1e-5).all()
    assert torch.equal(y2, y) and torch.equal(m2, m)


def test_tempo_moves_labels_with_features():
    t = 100
    x = torch.zeros((1, t, 80))
    x[0, 40:60] = 1.0
    y = torch.zeros((1, t))
    y[0, 40:60] = 1.0
    cfg = AugmentConfig(gain_db=0, eq_prob=0, noise_prob=0, pitch_prob=0, tempo_prob=1.0, tempo=0.2)
    out, y2, m2 = augment_batch(x, y, torch.ones((1, t)), config=cfg, generator=torch.Generator().manual_seed(3))
    loud = out[0, :, 0] > 0.5
    assert torch.equal(loud, y2[0] > 0.5) or (loud != (y2[0] > 0.5)).sum() <= 2
    assert y2.sum() != 20 or m2.sum() < t  # something was stretched


def test_noise_raises_the_floor_and_masks_zero_whole_bands():
    x, y, m = batch()
    cfg = AugmentConfig(gain_db=0, eq_prob=0, noise_prob=1.0, noise_db=(-3.0, -3.0), pitch_prob=0, tempo_prob=0)
    out, _, _ = augment_batch(x, y, m, config=cfg, generator=torch.Generator().manual_seed(0))
    assert (out >= x - 1e-5).all() and out.mean() > x.mean()
    masked = spec_mask(torch.ones((8, 100, 80)), config=AugmentConfig(mask_prob=1.0, freq_mask_bins=10),
                       generator=torch.Generator().manual_seed(0))
    assert (masked == 0).any() and (masked == 1).any()
