"""Training-time augmentation of log-mel crops (feature domain: cheap, on the whole batch).

All functions take unnormalised natural-log mel power ``x`` of shape ``(batch, frames, n_mels)``
(float32 torch tensors) and, where time changes, labels/masks ``(batch, frames)``. Randomness
comes from a ``torch.Generator`` so a seeded run repeats exactly.

- gain: a constant in log power (``+-gain_db``), the mixture's level;
- eq: a smooth random tilt/curve over the mel bands (``+-eq_db``), the recording chain;
- noise: a noise floor at a random level below the crop's mean power;
- pitch: a shift of the spectrum along the mel axis by a fraction of bands (+-``pitch_bins``),
  about a small pitch shift of everything at once;
- tempo: a time stretch of features *and* labels by ``1 +- tempo``;
- SpecAugment-style time and frequency masks (applied after normalisation, filled with 0).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch

__all__ = ["AugmentConfig", "augment_batch", "spec_mask"]

_LN10_DB = math.log(10.0) / 10.0  # dB of power -> natural-log units


@dataclass(frozen=True)
class AugmentConfig:
    """Probabilities per crop and ranges. ``enabled=False`` switches everything off."""

    enabled: bool = True
    gain_db: float = 12.0
    eq_prob: float = 0.5
    eq_db: float = 6.0
    noise_prob: float = 0.3
    noise_db: tuple[float, float] = (-40.0, -10.0)
    pitch_prob: float = 0.5
    pitch_bins: float = 2.0
    tempo_prob: float = 0.3
    tempo: float = 0.15
    time_masks: int = 2
    time_mask_frames: int = 20
    freq_masks: int = 2
    freq_mask_bins: int = 8
    mask_prob: float = 0.5

    def to_dict(self) -> dict:
        d = asdict(self)
        d["noise_db"] = list(self.noise_db)
        return d

    @classmethod
    def from_dict(cls, data: dict) -> AugmentConfig:
        data = dict(data)
        if "noise_db" in data:
            data["noise_db"] = tuple(data["noise_db"])
        return cls(**data)


def _u(g: torch.Generator, shape, lo: float, hi: float) -> torch.Tensor:
    return torch.rand(shape, generator=g) * (hi - lo) + lo


def augment_batch(
    x: torch.Tensor,
    y: torch.Tensor,
    mask: torch.Tensor,
    *,
    config: AugmentConfig,
    generator: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Augment a batch of raw log-mel crops; returns new ``(x, y, mask)`` of the same shapes."""
    if not config.enabled:
        return x, y, mask
    b, t, f = x.shape
    g = generator
    x = x.clone()
    # gain
    if config.gain_db > 0:
        x += (_u(g, (b, 1, 1), -config.gain_db, config.gain_db) * _LN10_DB)
    # smooth EQ: a random curve from 4 control points over the mel axis
    if config.eq_prob > 0 and config.eq_db > 0:
        on = (torch.rand((b, 1, 1), generator=g) < config.eq_prob).float()
        ctrl = _u(g, (b, 1, 4), -config.eq_db, config.eq_db)
        curve = torch.nn.functional.interpolate(ctrl, size=f, mode="linear", align_corners=True)  # (b,1,f)
        x += on * curve * _LN10_DB
    # noise floor
    if config.noise_prob > 0:
        on = torch.rand((b,), generator=g) < config.noise_prob
        if on.any():
            level = x.mean(dim=(1, 2), keepdim=True) + _u(g, (b, 1, 1), *config.noise_db) * _LN10_DB
            tilt = _u(g, (b, 1, 1), -1.0, 0.0) * torch.linspace(0, 3, f).view(1, 1, f)  # darker noise
            noise = level + tilt + torch.randn((b, t, f), generator=g) * 0.5
            x = torch.where(on.view(b, 1, 1), torch.logaddexp(x, noise), x)
    # pitch: shift along mel bands by a fractional amount (linear interpolation, edges repeated)
    if config.pitch_prob > 0 and config.pitch_bins > 0:
        on = torch.rand((b,), generator=g) < config.pitch_prob
        shift = _u(g, (b,), -config.pitch_bins, config.pitch_bins) * on.float()
        if on.any():
            pos = torch.arange(f, dtype=torch.float32).view(1, f) - shift.view(b, 1)
            pos = pos.clamp(0, f - 1)
            lo = pos.floor().long()
            hi = (lo + 1).clamp(max=f - 1)
            w = (pos - lo.float()).view(b, 1, f)
            x = torch.gather(x, 2, lo.view(b, 1, f).expand(b, t, f)) * (1 - w) + \
                torch.gather(x, 2, hi.view(b, 1, f).expand(b, t, f)) * w
    # tempo: resample the time axis (features linear, labels/mask nearest)
    if config.tempo_prob > 0 and config.tempo > 0:
        on = torch.rand((b,), generator=g) < config.tempo_prob
        rate = 1.0 + _u(g, (b,), -config.tempo, config.tempo) * on.float()
        if on.any():
            src = torch.arange(t, dtype=torch.float32).view(1, t) * rate.view(b, 1)
            valid = src <= (t - 1)
            src = src.clamp(0, t - 1)
            lo = src.floor().long()
            hi = (lo + 1).clamp(max=t - 1)
            w = (src - lo.float()).unsqueeze(-1)
            x = torch.gather(x, 1, lo.unsqueeze(-1).expand(b, t, f)) * (1 - w) + \
                torch.gather(x, 1, hi.unsqueeze(-1).expand(b, t, f)) * w
            near = src.round().long()
            y = torch.gather(y, 1, near)
            mask = torch.gather(mask, 1, near) * valid.float()
    return x, y, mask


def spec_mask(x: torch.Tensor, *, config: AugmentConfig, generator: torch.Generator) -> torch.Tensor:
    """SpecAugment masks on *normalised* features (masked cells become 0 = the mean)."""
    if not config.enabled or config.mask_prob <= 0:
        return x
    b, t, f = x.shape
    g = generator
    keep = torch.ones((b, t, f))
    on = (torch.rand((b,), generator=g) < config.mask_prob).float().view(b, 1, 1)
    tt = torch.arange(t).view(1, t)
    ff = torch.arange(f).view(1, f)
    for _ in range(config.time_masks):
        w = torch.randint(0, config.time_mask_frames + 1, (b, 1), generator=g)
        s = (torch.rand((b, 1), generator=g) * (t - w).clamp(min=1)).long()
        keep = keep * (1 - ((tt >= s) & (tt < s + w)).float().unsqueeze(-1) * on)
    for _ in range(config.freq_masks):
        w = torch.randint(0, config.freq_mask_bins + 1, (b, 1), generator=g)
        s = (torch.rand((b, 1), generator=g) * (f - w).clamp(min=1)).long()
        keep = keep * (1 - ((ff >= s) & (ff < s + w)).float().unsqueeze(1) * on)
    return x * keep
