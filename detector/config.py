"""The frame grid and the feature configuration.

Frames: audio is 16 kHz mono, hop 160 samples = 10 ms, so frame ``i`` covers
``[i / FRAME_RATE, (i + 1) / FRAME_RATE)`` seconds and a signal of ``n`` samples has
``n_frames(n) == ceil(n / HOP_LENGTH)`` frames. Seconds <-> frames conversion lives in
:mod:`detector.labels`; sample -> frame counting lives here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

SAMPLE_RATE = 16000
HOP_LENGTH = 160
FRAME_RATE = SAMPLE_RATE // HOP_LENGTH  # 100 frames per second


def n_frames(n_samples: int, *, hop_length: int = HOP_LENGTH) -> int:
    """Number of frames of a signal of ``n_samples`` samples: ``ceil(n_samples / hop_length)``."""
    if n_samples < 0:
        raise ValueError(f"n_samples must be >= 0, got {n_samples}")
    return -(-int(n_samples) // int(hop_length))


@dataclass(frozen=True)
class FeatureConfig:
    """Log-mel front end. Times are in samples of ``sample_rate`` Hz, frequencies in Hz."""

    sample_rate: int = SAMPLE_RATE
    hop_length: int = HOP_LENGTH
    n_fft: int = 1024
    win_length: int = 800
    n_mels: int = 80
    fmin: float = 27.5
    fmax: float = 8000.0
    log_offset: float = 1e-6
    #: how a stereo file becomes the one channel the model hears: "centre" keeps what is panned to
    #: the middle, where lead vocals sit (detector.stereo); "mono" averages the channels. The same
    #: for mono files. Checkpoints from before this field read as "centre": the source model was
    #: trained on mono mixtures, where the two agree.
    mix: str = "centre"

    def __post_init__(self) -> None:
        if self.sample_rate != SAMPLE_RATE or self.hop_length != HOP_LENGTH:
            raise ValueError(
                f"the frame grid is fixed at {SAMPLE_RATE} Hz / hop {HOP_LENGTH}, "
                f"got {self.sample_rate} Hz / hop {self.hop_length}"
            )
        if not 0 < self.win_length <= self.n_fft:
            raise ValueError(f"win_length must be in (0, n_fft={self.n_fft}], got {self.win_length}")
        if not 0 <= self.fmin < self.fmax <= self.sample_rate / 2:
            raise ValueError(f"need 0 <= fmin < fmax <= {self.sample_rate / 2}, got {self.fmin}, {self.fmax}")
        if self.mix not in ("centre", "mono"):
            raise ValueError(f"mix must be 'centre' or 'mono', got {self.mix!r}")
        if self.n_mels < 1 or self.log_offset <= 0:
            raise ValueError(f"need n_mels >= 1 and log_offset > 0, got {self.n_mels}, {self.log_offset}")

    @property
    def stereo_input(self) -> bool:
        """Whether the front end needs both channels of a file (decode with ``stereo=True``)."""
        return self.mix == "centre"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureConfig:
        """Inverse of :meth:`to_dict`; unknown keys raise ``ValueError``."""
        unknown = set(data) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"unknown feature config field(s): {', '.join(sorted(unknown))}")
        return cls(**data)


DEFAULT_FEATURES = FeatureConfig()


# Training on real songs (detector.transfer and the web's training jobs), sized for a small target
# set (tens of minutes of songs) on a 2-core CPU: at most 12 x 20 x 24 six-second crops = 3.5M
# frames, about 2 minutes at 29.6K frames/s (docs/experiments/paper.md cross-validated it).
TARGET_TRAIN_CONFIG = dict(epochs=12, steps_per_epoch=20, batch_size=24, crop_seconds=6.0, lr=2e-3, patience=4)

# The CRNN's convolutional blocks (detector.model) and the transfer settings built from them
# (detector.transfer); here, torch-free, so the web can list them without importing torch.
BLOCKS = ("L1", "L2", "L3")
TRANSFER_MODES = ("baseline", *(f"{kind}:{b}" for kind in ("fixed", "finetune") for b in (*BLOCKS, "all")))  # Table 1
ALL_TRANSFER_MODES = (*TRANSFER_MODES, "finetune:full")  # + the whole source model as the start
