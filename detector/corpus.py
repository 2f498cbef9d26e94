"""Source-task corpus: clean speech (and synthetic singing) over instrumental music, labels for free.

Three steps, each a function and a ``python -m detector corpus ...`` subcommand:

1. :func:`synthesize_speech` -- speech and sung phrases from ``espeak-ng`` and ``festival``
   (many voices and languages, melodies through SSML prosody and festival's singing mode), written
   as ``<dir>/<kind>/<id>.wav`` + ``<id>.lab`` with exact endpoints (the synthesisers' output is
   clean, so trimming silence gives them to 10 ms).
2. :func:`render_music` -- instrumental music rendered with ``fluidsynth`` + FluidR3_GM from the
   scores inside the ``music21`` corpus: random instrument programs (never the GM voice/choir
   programs 52-54, 85, 91), a bass, and a drum kit on channel 10.
3. :func:`build_source_corpus` -- mixtures of one or more utterances over music at a drawn
   speech-to-music ratio, random offsets and gaps, a share of music-only clips, song-like speech
   augmentation (pitch shift, vibrato, reverb), loudness normalisation. Streams clip by clip.

Corpus layout written by :func:`build_source_corpus` (a labelled collection, the same layout as
``shared/data/jamendolyrics``, so ``train`` and ``transfer`` read it alike)::

    OUT/corpus.json               config, sources (with licences), totals
    OUT/manifest.jsonl            one JSON object per clip, in clip order
    OUT/train/<clip>/audio.wav    16 kHz mono PCM16
    OUT/train/<clip>/labels.lab   start<TAB>end<TAB>sing (vocal spans, seconds, 3 decimals)
    OUT/val/<clip>/...            held-out clips built from held-out speech and music files

The output depends only on the inputs and the seed (byte-identical files for the same seed, also
with ``workers=2``): every clip draws from its own generator seeded with ``(seed, clip_index)``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import soundfile as sf

from detector.vad import VADConfig, energy_vad, read_alignment, write_alignment

__all__ = [
    "SAMPLE_RATE",
    "MixConfig",
    "SpeechFile",
    "MusicFile",
    "index_speech",
    "index_music",
    "build_source_corpus",
    "synthesize_speech",
    "render_music",
    "FORBIDDEN_PROGRAMS",
    "read_manifest",
]

SAMPLE_RATE = 16000
AUDIO_EXTS = (".wav", ".flac", ".ogg", ".mp3", ".m4a", ".opus", ".aif", ".aiff")
#: General MIDI programs (0-based) that sound like voices: choir aahs, voice oohs, synth voice,
#: lead 6 (voice), pad 4 (choir). Never rendered.
FORBIDDEN_PROGRAMS = frozenset({52, 53, 54, 85, 91})
SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"


try:  # the project's error hierarchy, when it is there
    from detector.errors import DetectorError as _Base
except ImportError:  # pragma: no cover
    _Base = Exception  # type: ignore[misc,assignment]


class CorpusError(_Base, ValueError):  # type: ignore[misc]
    """A bad corpus input (missing folder, no audio, bad range); the message names the value."""


# ----------------------------------------------------------------------------------------------
# audio helpers
# ----------------------------------------------------------------------------------------------


def _read(path: Path, *, start: float = 0.0, duration: float | None = None) -> np.ndarray:
    """Mono float32 at 16 kHz, optionally a window ``[start, start + duration)`` in seconds."""
    try:
        info = sf.info(str(path))
    except Exception:  # not a libsndfile format: decode the whole file with the project loader
        from detector.audio import load

        y = np.asarray(load(path, sr=SAMPLE_RATE), dtype=np.float32)
        a = int(round(start * SAMPLE_RATE))
        b = None if duration is None else a + int(round(duration * SAMPLE_RATE))
        return y[a:b]
    sr = info.samplerate
    a = int(round(start * sr))
    frames = -1 if duration is None else int(round(duration * sr))
    y, _ = sf.read(str(path), start=a, frames=frames, dtype="float32", always_2d=True)
    y = y.mean(axis=1)
    if sr != SAMPLE_RATE:
        import soxr

        y = soxr.resample(y, sr, SAMPLE_RATE, quality="HQ").astype(np.float32)
    return y


def _rms(y: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(y, dtype=np.float64)))) if y.size else 0.0


def _licence(folder: Path) -> str:
    """A short licence string for a material folder (LICENSE.txt / SOURCE.txt), or 'unknown'."""
    for d in (folder, *folder.parents[:2]):
        lic = d / "LICENSE.txt"
        if lic.is_file():
            text = lic.read_text(encoding="utf-8", errors="replace")
            names = sorted(set(re.findall(r"^License:\s*(\S.*)$", text, flags=re.M)))
            src = (d / "SOURCE.txt").read_text().strip() if (d / "SOURCE.txt").is_file() else ""
            if not names:  # old-style debian/copyright: name the licence from its text
                for pattern, name in ((r"GNU General Public License[^.]*version 2", "GPL-2+"),
                                      (r"GNU General Public License", "GPL"), (r"Creative Commons", "CC"),
                                      (r"BSD", "BSD")):
                    if re.search(pattern, text, flags=re.S):
                        names = [name]
                        break
            short = ", ".join(names) if names else text.strip().splitlines()[0][:200]
            return f"{src}: {short}" if src else short
    return "unknown"


# ----------------------------------------------------------------------------------------------
# material indexes
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpeechFile:
    path: str  # absolute
    rel: str  # relative to its source folder, for the manifest
    source: str  # source folder
    duration: float
    alignment: str | None  # path of a .lab next to the audio, if any


@dataclass(frozen=True)
class MusicFile:
    path: str
    rel: str
    source: str
    duration: float


def _audio_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise CorpusError(f"material folder {str(folder)!r} does not exist")
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_EXTS and p.is_file())


def _duration(path: Path) -> float:
    try:
        return float(sf.info(str(path)).duration)
    except Exception:
        from detector.audio import probe

        return float(probe(path).duration)


def index_speech(folders: Sequence[str | Path], *, min_duration: float = 0.3) -> list[list[SpeechFile]]:
    """One list of :class:`SpeechFile` per folder (sorted, so the index is deterministic)."""
    out = []
    for folder in folders:
        folder = Path(folder).resolve()
        files = []
        for p in _audio_files(folder):
            d = _duration(p)
            if d < min_duration:
                continue
            lab = p.with_suffix(".lab")
            files.append(
                SpeechFile(str(p), str(p.relative_to(folder)), str(folder), d, str(lab) if lab.is_file() else None)
            )
        if not files:
            raise CorpusError(f"speech folder {str(folder)!r} has no audio files of at least {min_duration} s")
        out.append(files)
    return out


def index_music(folders: Sequence[str | Path], *, min_duration: float = 3.0) -> list[list[MusicFile]]:
    """One list of :class:`MusicFile` per folder."""
    out = []
    for folder in folders:
        folder = Path(folder).resolve()
        files = [
            MusicFile(str(p), str(p.relative_to(folder)), str(folder), d)
            for p in _audio_files(folder)
            if (d := _duration(p)) >= min_duration
        ]
        if not files:
            raise CorpusError(f"music folder {str(folder)!r} has no audio files of at least {min_duration} s")
        out.append(files)
    return out


def _is_heldout(rel: str, percent: float) -> bool:
    h = int(hashlib.sha1(rel.encode("utf-8")).hexdigest()[:8], 16) % 10000
    return h < percent * 100


# ----------------------------------------------------------------------------------------------
# mixing
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MixConfig:
    """How mixtures are drawn. Durations in seconds, levels in dB.

    smr_db: speech-to-music ratio range: RMS of the speech over its active spans vs RMS of the
        music over the clip (the paper mixes at about 0 dB).
    music_only_share: share of clips with no speech at all.
    max_utterances: 1..max_utterances utterances per speech clip, separated by gaps drawn from
        gap_s, the first starting at an offset drawn from lead_s.
    pitch_shift_semitones / pitch_shift_prob: song-like resampling of the speech (tempo follows).
    vibrato_prob, vibrato_cents, vibrato_hz: sinusoidal pitch modulation through a modulated delay.
    reverb_prob, reverb_rt60_s, reverb_wet: synthetic room (exponentially decaying noise).
    second_music_prob: share of clips with a second music track layered under the first.
    loudness_lufs: each mixture is normalised to a loudness drawn from this range (ITU-R BS.1770,
        pyloudnorm), then scaled down if its peak would exceed -1 dBFS.
    val_percent: percent of speech and music files (by a hash of their path) kept for the
        validation clips; every ``round(100 / val_percent)``-th clip is a validation clip.
    """

    clip_s: tuple[float, float] = (8.0, 14.0)
    smr_db: tuple[float, float] = (-6.0, 6.0)
    music_only_share: float = 0.1
    max_utterances: int = 6
    lead_s: tuple[float, float] = (0.0, 2.0)
    gap_s: tuple[float, float] = (0.2, 1.5)
    pitch_shift_semitones: tuple[float, float] = (-3.0, 4.0)
    pitch_shift_prob: float = 0.6
    vibrato_prob: float = 0.5
    vibrato_cents: tuple[float, float] = (20.0, 60.0)
    vibrato_hz: tuple[float, float] = (4.5, 6.5)
    reverb_prob: float = 0.6
    reverb_rt60_s: tuple[float, float] = (0.2, 1.8)
    reverb_wet: tuple[float, float] = (0.1, 0.5)
    second_music_prob: float = 0.3
    loudness_lufs: tuple[float, float] = (-26.0, -14.0)
    val_percent: float = 5.0
    min_label_s: float = 0.05

    def validate(self) -> None:
        for name in ("clip_s", "smr_db", "lead_s", "gap_s", "pitch_shift_semitones", "vibrato_cents",
                     "vibrato_hz", "reverb_rt60_s", "reverb_wet", "loudness_lufs"):
            lo, hi = getattr(self, name)
            if lo > hi:
                raise CorpusError(f"{name} range must be low..high, got {lo}..{hi}")
        if self.clip_s[0] <= 0.5:
            raise CorpusError(f"clip_s must be longer than 0.5 s, got {self.clip_s}")
        for name in ("music_only_share", "pitch_shift_prob", "vibrato_prob", "reverb_prob", "second_music_prob"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise CorpusError(f"{name} must be in [0, 1], got {v}")
        if not 0.0 <= self.val_percent < 100.0:
            raise CorpusError(f"val_percent must be in [0, 100), got {self.val_percent}")
        if self.max_utterances < 1:
            raise CorpusError(f"max_utterances must be >= 1, got {self.max_utterances}")


def _uniform(rng: np.random.Generator, r: tuple[float, float]) -> float:
    return float(r[0]) if r[0] == r[1] else float(rng.uniform(r[0], r[1]))


def _resample_factor(y: np.ndarray, factor: float) -> np.ndarray:
    """Play ``y`` ``factor`` times faster (pitch up by 12*log2(factor) semitones)."""
    import soxr

    return soxr.resample(y, SAMPLE_RATE * factor, SAMPLE_RATE, quality="HQ").astype(np.float32)


def _vibrato(y: np.ndarray, *, cents: float, hz: float, phase: float) -> np.ndarray:
    """Pitch vibrato of +-``cents`` at ``hz`` through a sinusoidally modulated delay."""
    delta = 2.0 ** (cents / 1200.0) - 1.0
    amp = delta / (2 * math.pi * hz) * SAMPLE_RATE  # samples
    n = np.arange(len(y), dtype=np.float64)
    pos = n - amp * (1.0 + np.sin(2 * math.pi * hz * n / SAMPLE_RATE + phase))
    return np.interp(pos, n, y, left=0.0, right=0.0).astype(np.float32)


def _reverb(y: np.ndarray, *, rt60: float, wet: float, rng: np.random.Generator) -> np.ndarray:
    """Convolve with exponentially decaying noise (a synthetic room); returns a longer signal."""
    from scipy.signal import fftconvolve

    n = int(rt60 * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    ir = rng.standard_normal(n) * np.exp(-6.9078 * t / rt60)  # -60 dB at rt60
    ir[: int(0.005 * SAMPLE_RATE)] *= np.linspace(0, 1, int(0.005 * SAMPLE_RATE))
    ir /= np.sqrt(np.sum(ir**2)) + 1e-12
    tail = fftconvolve(y, ir)
    dry = np.pad(y, (0, len(tail) - len(y)))
    out = (1.0 - wet) * dry + wet * tail * (_rms(y) / (_rms(tail[: len(y)]) + 1e-12))
    return out.astype(np.float32)


def _speech_intervals(sf_: SpeechFile, y: np.ndarray, vad: VADConfig) -> list[tuple[float, float]]:
    if sf_.alignment:
        return read_alignment(sf_.alignment)
    return energy_vad(y, sr=SAMPLE_RATE, config=vad)


def _music_segment(pool: list[MusicFile], n: int, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """``n`` samples of music from a random file of ``pool`` at a random offset (looped if short)."""
    m = pool[int(rng.integers(len(pool)))]
    dur = n / SAMPLE_RATE
    if m.duration > dur + 0.1:
        offset = float(rng.uniform(0.0, m.duration - dur))
        y = _read(Path(m.path), start=offset, duration=dur)
    else:
        offset = 0.0
        y = _read(Path(m.path))
        y = np.tile(y, int(np.ceil(n / max(1, len(y)))) + 1)
    y = np.pad(y[:n], (0, max(0, n - len(y))))
    return y.astype(np.float32), {"file": m.rel, "source": m.source, "offset_s": round(offset, 3)}


def _make_clip(
    index: int,
    *,
    seed: int,
    speech: list[list[SpeechFile]],
    music: list[list[MusicFile]],
    cfg: MixConfig,
    vad: VADConfig,
    speech_p: np.ndarray | None = None,
    music_p: np.ndarray | None = None,
) -> tuple[np.ndarray, list[tuple[float, float]], dict]:
    """Draw clip ``index``: (audio (n,), vocal intervals in seconds, manifest record)."""
    rng = np.random.default_rng([seed, index])
    duration = round(_uniform(rng, cfg.clip_s), 2)
    n = int(round(duration * SAMPLE_RATE))
    m_pool = music[_pick(rng, len(music), music_p)]
    bed, minfo = _music_segment(m_pool, n, rng)
    music_info = [minfo]
    if rng.random() < cfg.second_music_prob:
        other = music[_pick(rng, len(music), music_p)]
        y2, info2 = _music_segment(other, n, rng)
        g = 10 ** (_uniform(rng, (-12.0, -3.0)) / 20)
        bed = bed + g * y2 * (_rms(bed) / (_rms(y2) + 1e-9))
        info2["gain_db"] = round(20 * math.log10(g), 2)
        music_info.append(info2)
    music_rms = _rms(bed)

    voice = np.zeros(n, dtype=np.float32)
    intervals: list[tuple[float, float]] = []
    utterances: list[dict] = []
    smr = None
    if rng.random() >= cfg.music_only_share:
        smr = round(_uniform(rng, cfg.smr_db), 2)
        t = _uniform(rng, cfg.lead_s)
        n_utt = int(rng.integers(1, cfg.max_utterances + 1))
        for _ in range(n_utt):
            if t >= duration - 0.5:
                break
            pool = speech[_pick(rng, len(speech), speech_p)]
            s = pool[int(rng.integers(len(pool)))]
            y = _read(Path(s.path))
            spans = _speech_intervals(s, y, vad)
            if not spans:
                continue
            # the clip's speech starts at its first voiced sample: t is where voice begins
            trim = max(0.0, spans[0][0] - float(rng.uniform(0.0, 0.3)))
            a = int(trim * SAMPLE_RATE)
            y = y[a:]
            spans = [(u - trim, v - trim) for u, v in spans]
            rec: dict = {"file": s.rel, "source": s.source, "alignment": bool(s.alignment)}
            if rng.random() < cfg.pitch_shift_prob:
                st = _uniform(rng, cfg.pitch_shift_semitones)
                f = 2.0 ** (st / 12.0)
                y = _resample_factor(y, f)
                spans = [(u / f, v / f) for u, v in spans]
                rec["pitch_shift_semitones"] = round(st, 2)
            if rng.random() < cfg.vibrato_prob:
                cents, hz = _uniform(rng, cfg.vibrato_cents), _uniform(rng, cfg.vibrato_hz)
                y = _vibrato(y, cents=cents, hz=hz, phase=float(rng.uniform(0, 2 * math.pi)))
                rec["vibrato"] = {"cents": round(cents, 1), "hz": round(hz, 2)}
            if rng.random() < cfg.reverb_prob:
                rt60, wet = _uniform(rng, cfg.reverb_rt60_s), _uniform(rng, cfg.reverb_wet)
                y = _reverb(y, rt60=rt60, wet=wet, rng=rng)
                rec["reverb"] = {"rt60_s": round(rt60, 2), "wet": round(wet, 2)}
            # level: RMS over the voiced spans
            active = np.concatenate(
                [y[int(u * SAMPLE_RATE) : int(v * SAMPLE_RATE)] for u, v in spans] or [y]
            )
            gain = (music_rms * 10 ** (smr / 20)) / (_rms(active) + 1e-9) if music_rms > 0 else 1.0
            start = int(round(t * SAMPLE_RATE))
            seg = (gain * y)[: n - start]
            voice[start : start + len(seg)] += seg
            placed = [(t + u, min(t + v, duration)) for u, v in spans if t + u < duration]
            intervals.extend(p for p in placed if p[1] - p[0] > 0)
            rec["offset_s"] = round(t, 3)
            rec["spans_s"] = [[round(u, 3), round(v, 3)] for u, v in placed]
            utterances.append(rec)
            last_end = spans[-1][1] if spans else len(y) / SAMPLE_RATE
            t = t + last_end + _uniform(rng, cfg.gap_s)

    mix = bed + voice
    if music_rms == 0 and _rms(mix) == 0:
        mix = mix  # silence stays silence
    target = round(_uniform(rng, cfg.loudness_lufs), 2)
    mix = _normalise_loudness(mix, target)
    intervals = _merge(intervals, min_len=cfg.min_label_s)
    record = {
        "index": index,
        "duration_s": duration,
        "seed": [seed, index],
        "music": music_info,
        "speech": utterances,
        "smr_db": smr,
        "loudness_lufs": target,
        "vocal_s": round(sum(e - s for s, e in intervals), 3),
    }
    return mix, intervals, record


def _pick(rng: np.random.Generator, n: int, p: np.ndarray | None) -> int:
    """A folder index: uniform, or by the normalised weights ``p``."""
    if p is None:
        return int(rng.integers(n))
    return int(np.searchsorted(np.cumsum(p), rng.random() * p.sum(), side="right").clip(0, n - 1))


def _merge(intervals: list[tuple[float, float]], *, min_len: float) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for s, e in sorted(intervals):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return [(round(s, 3), round(e, 3)) for s, e in out if e - s >= min_len]


def _normalise_loudness(y: np.ndarray, lufs: float) -> np.ndarray:
    import pyloudnorm

    peak = float(np.max(np.abs(y))) if y.size else 0.0
    if peak == 0.0:
        return y.astype(np.float32)
    meter = pyloudnorm.Meter(SAMPLE_RATE)
    loud = meter.integrated_loudness(y.astype(np.float64))
    gain = 10 ** ((lufs - loud) / 20) if np.isfinite(loud) else 0.1 / peak
    y = y * gain
    peak = float(np.max(np.abs(y)))
    limit = 10 ** (-1 / 20)
    if peak > limit:
        y = y * (limit / peak)
    return y.astype(np.float32)


# worker state (set once per process by the pool initializer)
_STATE: dict = {}


def _init_worker(state: dict) -> None:
    _STATE.clear()
    _STATE.update(state)


def _work(job: tuple[int, str, str]) -> dict:
    index, split, clip_dir = job
    st = _STATE
    speech = st["speech_val"] if split == "val" else st["speech_train"]
    music = st["music_val"] if split == "val" else st["music_train"]
    y, intervals, record = _make_clip(index, seed=st["seed"], speech=speech, music=music, cfg=st["cfg"], vad=st["vad"],
                                      speech_p=st["speech_p"], music_p=st["music_p"])
    out = Path(clip_dir)
    out.mkdir(parents=True, exist_ok=True)
    sf.write(str(out / "audio.wav"), y, SAMPLE_RATE, subtype="PCM_16")
    write_alignment(out / "labels.lab", intervals, label="sing")
    record["split"] = split
    record["clip"] = f"{split}/{out.name}"
    return record


def _split_pools(pools: list[list], percent: float) -> tuple[list[list], list[list]]:
    train, val = [], []
    for pool in pools:
        held = [f for f in pool if _is_heldout(f.rel, percent)]
        kept = [f for f in pool if not _is_heldout(f.rel, percent)]
        # tiny folders: fall back to the whole pool rather than an empty one
        train.append(kept or pool)
        val.append(held or pool)
    return train, val


def build_source_corpus(
    *,
    speech: Sequence[str | Path],
    music: Sequence[str | Path],
    out: str | Path,
    hours: float | None = None,
    clips: int | None = None,
    seed: int = 0,
    config: MixConfig | None = None,
    vad: VADConfig | None = None,
    workers: int = 1,
    progress: bool = True,
    overwrite: bool = False,
    callback: Callable[[int, int], object] | None = None,
    speech_weights: Sequence[float] | None = None,
    music_weights: Sequence[float] | None = None,
) -> dict:
    """Write a speech+music corpus to ``out`` (layout in the module docstring); returns its summary.

    Give ``hours`` (total mixture duration, approximate: clips are drawn until it is reached) or
    ``clips`` (exact number). Each clip draws its speech folder (and music folder) uniformly, or in
    proportion to ``speech_weights`` / ``music_weights`` (one weight per folder). ``workers`` processes draw clips in parallel; the output is the same
    for any number of workers. ``callback(done, total)`` is called after every clip.
    """
    cfg = config or MixConfig()
    cfg.validate()
    vad = vad or VADConfig()
    if (hours is None) == (clips is None):
        raise CorpusError("give exactly one of hours or clips")
    if hours is not None and hours <= 0:
        raise CorpusError(f"hours must be positive, got {hours}")
    if clips is not None and clips <= 0:
        raise CorpusError(f"clips must be positive, got {clips}")
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise CorpusError(f"output folder {str(out)!r} is not empty (use overwrite)")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    speech_idx = index_speech(speech)
    music_idx = index_music(music)
    sp_train, sp_val = _split_pools(speech_idx, cfg.val_percent)
    mu_train, mu_val = _split_pools(music_idx, cfg.val_percent)
    mean_clip = sum(cfg.clip_s) / 2
    total = clips if clips is not None else max(1, int(math.ceil(hours * 3600 / mean_clip)))
    every = int(round(100 / cfg.val_percent)) if cfg.val_percent > 0 else 0

    def jobs() -> Iterator[tuple[int, str, str]]:
        for i in range(total):
            split = "val" if every and i % every == every - 1 else "train"
            yield i, split, str(out / split / f"clip{i:06d}")

    def weights(w: Sequence[float] | None, n: int, what: str) -> np.ndarray | None:
        if w is None:
            return None
        arr = np.asarray(w, dtype=np.float64)
        if arr.shape != (n,) or (arr < 0).any() or arr.sum() <= 0:
            raise CorpusError(f"{what} weights must be {n} non-negative numbers (one per folder), got {list(w)}")
        return arr

    state = {
        "seed": int(seed), "cfg": cfg, "vad": vad,
        "speech_p": weights(speech_weights, len(speech_idx), "speech"),
        "music_p": weights(music_weights, len(music_idx), "music"),
        "speech_train": sp_train, "speech_val": sp_val, "music_train": mu_train, "music_val": mu_val,
    }
    totals = {"clips": 0, "seconds": 0.0, "vocal_seconds": 0.0, "music_only_clips": 0,
              "train_clips": 0, "val_clips": 0}
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total, unit="clip", desc="corpus", dynamic_ncols=True)
    with open(out / "manifest.jsonl", "w", encoding="utf-8") as mf:
        if workers > 1:
            ctx = get_context("fork" if os.name == "posix" else "spawn")
            pool = ctx.Pool(workers, initializer=_init_worker, initargs=(state,))
            results = pool.imap(_work, jobs(), chunksize=4)
        else:
            pool = None
            _init_worker(state)
            results = map(_work, jobs())
        try:
            for rec in results:
                mf.write(json.dumps(rec, sort_keys=True) + "\n")
                totals["clips"] += 1
                totals["seconds"] += rec["duration_s"]
                totals["vocal_seconds"] += rec["vocal_s"]
                totals["music_only_clips"] += int(not rec["speech"])
                totals[f"{rec['split']}_clips"] += 1
                if bar is not None:
                    bar.update(1)
                if callback is not None:
                    callback(totals["clips"], total)
        finally:
            if pool is not None:
                pool.terminate()
                pool.join()
            if bar is not None:
                bar.close()
    sources = []
    for kind, idx, w in (("speech", speech_idx, state["speech_p"]), ("music", music_idx, state["music_p"])):
        for k, files in enumerate(idx):
            folder = Path(files[0].source)
            sources.append({
                "kind": kind, "folder": str(folder), "files": len(files),
                "weight": float(w[k] / w.sum()) if w is not None else 1.0 / len(idx),
                "hours": round(sum(f.duration for f in files) / 3600, 4),
                "licence": _licence(folder),
            })
    totals["seconds"] = round(totals["seconds"], 2)
    totals["vocal_seconds"] = round(totals["vocal_seconds"], 2)
    totals["hours"] = round(totals["seconds"] / 3600, 4)
    totals["vocal_fraction"] = round(totals["vocal_seconds"] / max(totals["seconds"], 1e-9), 4)
    summary = {
        "format": "singscope-source-corpus/1",
        "sample_rate": SAMPLE_RATE,
        "seed": int(seed),
        "mix_config": asdict(cfg),
        "vad_config": asdict(vad),
        "sources": sources,
        "totals": totals,
        "layout": "<split>/<clip>/audio.wav (16 kHz mono PCM16) + labels.lab (start\\tend\\tsing)",
    }
    (out / "corpus.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return summary


def read_manifest(corpus: str | Path) -> list[dict]:
    """The per-clip records of a corpus written by :func:`build_source_corpus`."""
    path = Path(corpus) / "manifest.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# ----------------------------------------------------------------------------------------------
# text for the synthesisers
# ----------------------------------------------------------------------------------------------

#: fallback text when no dialogue folder is given (public-domain nursery rhymes and pangrams)
_FALLBACK_TEXT = {
    "en": [
        "Twinkle twinkle little star, how I wonder what you are.",
        "The quick brown fox jumps over the lazy dog.",
        "Row, row, row your boat, gently down the stream, merrily merrily, life is but a dream.",
        "Mary had a little lamb whose fleece was white as snow.",
        "Hickory dickory dock, the mouse ran up the clock.",
        "London bridge is falling down, my fair lady.",
        "I see the moon and the moon sees me, shining over the old oak tree.",
        "Oh when the night is long and cold I hold the light for you.",
    ],
    "fr": ["Au clair de la lune, mon ami Pierrot, prête-moi ta plume pour écrire un mot.",
           "Frère Jacques, dormez-vous? Sonnez les matines."],
    "de": ["Alle meine Entchen schwimmen auf dem See, Köpfchen in das Wasser, Schwänzchen in die Höh."],
    "es": ["Los pollitos dicen pío pío pío cuando tienen hambre, cuando tienen frío."],
    "it": ["Fra Martino campanaro, dormi tu? Suona le campane."],
    "nl": ["Altijd is Kortjakje ziek, midden in de week maar zondags niet."],
}

_ESPEAK_LANG = {
    "bg": "bg", "cs": "cs", "de": "de", "de_CH": "de", "en": "en-us", "eo": "eo", "es": "es",
    "fr": "fr-fr", "it": "it", "nl": "nl", "pl": "pl", "ru": "ru", "sl": "sl", "sv": "sv", "tr": "tr",
}
_EN_ACCENTS = ["en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-us-nyc"]


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def load_texts(folder: str | Path | None) -> dict[str, list[str]]:
    """Sentences per language from Fish Fillets dialogue scripts (``*dialogs_<lang>.lua``).

    ``dialogId("id", "font", "English text")`` gives English, ``dialogStr("...")`` the file's
    language. Without a folder (or with none found), a small built-in set of rhymes.
    """
    texts: dict[str, set[str]] = {}
    if folder is not None:
        for p in sorted(Path(folder).rglob("*dialogs_*.lua")):
            m = re.search(r"dialogs_([A-Za-z_]+)\.lua$", p.name)
            if not m:
                continue
            lang = m.group(1)
            s = _decode(p.read_bytes())
            for en in re.findall(r'dialogId\("[^"]*",\s*"[^"]*",\s*"((?:[^"\\]|\\.)*)"\)', s):
                texts.setdefault("en", set()).add(en)
            for tr in re.findall(r'dialogStr\("((?:[^"\\]|\\.)*)"\)', s):
                texts.setdefault(lang, set()).add(tr)
    clean = {}
    for lang, lines in texts.items():
        good = sorted({re.sub(r"\s+", " ", t.replace("\\n", " ")).strip() for t in lines})
        good = [t for t in good if len(t.split()) >= 3 and lang in _ESPEAK_LANG]
        if good:
            clean[lang] = good
    return clean or {k: list(v) for k, v in _FALLBACK_TEXT.items()}


# ----------------------------------------------------------------------------------------------
# speech / singing synthesis
# ----------------------------------------------------------------------------------------------

_ESPEAK_VARIANTS = None
_SPEECH_KINDS = ("espeak-sing", "espeak-speech", "festival-sing", "festival-speech")
#: vocables ("ooh", "la", "yeah" ...) held over a melody: the wordless singing of refrains and
#: backing parts, which read speech never has
_SYNTH_KINDS = (*_SPEECH_KINDS, "espeak-vocables", "festival-vocables")
_VOCABLES = ["ooh", "oh", "ah", "aah", "la", "na", "da", "mm", "hey", "yeah", "whoa", "ay", "oo", "doo"]
_NOTE_NAMES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
_MAJOR = [0, 2, 4, 5, 7, 9, 11]
_MINOR = [0, 2, 3, 5, 7, 8, 10]


def _espeak_variants() -> list[str]:
    global _ESPEAK_VARIANTS
    if _ESPEAK_VARIANTS is None:
        try:
            outp = subprocess.run(["espeak-ng", "--voices=variant"], capture_output=True, text=True, check=True).stdout
            names = [ln.split()[3] for ln in outp.splitlines()[1:] if len(ln.split()) >= 4]
        except (OSError, subprocess.CalledProcessError):
            names = []
        bad = {"whisper", "whisperf", "Demonic", "croak"}
        _ESPEAK_VARIANTS = sorted(n for n in names if n not in bad) or ["m1", "f1"]
    return _ESPEAK_VARIANTS


def _melody(rng: np.random.Generator, n: int) -> list[int]:
    """``n`` semitone offsets of a stepwise random melody in a major or minor scale."""
    scale = _MAJOR if rng.random() < 0.6 else _MINOR
    deg = int(rng.integers(0, 5))
    out = []
    for _ in range(n):
        step = int(rng.choice([-2, -1, -1, 0, 1, 1, 2, 3, -3]))
        deg = int(np.clip(deg + step, -3, 10))
        octave, d = divmod(deg, 7)
        out.append(12 * octave + scale[d])
    return out


def _words(text: str) -> list[str]:
    return [w for w in re.sub(r"[^\w'\s-]", " ", text).split() if w.strip("-'")]


def _xml_escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _map_jobs(fn, jobs: list, *, workers: int, progress: bool, desc: str, unit: str, chunksize: int = 1) -> list:
    """``[fn(job) for job in jobs]`` in order, in a fork pool of ``workers`` processes when more than
    one, with a tqdm bar when ``progress``."""
    from tqdm import tqdm

    results = []
    with tqdm(total=len(jobs), unit=unit, desc=desc, dynamic_ncols=True, disable=not progress) as bar:
        if workers > 1:
            with get_context("fork").Pool(workers) as pool:
                for result in pool.imap(fn, jobs, chunksize=chunksize):
                    results.append(result)
                    bar.update(1)
        else:
            for job in jobs:
                results.append(fn(job))
                bar.update(1)
    return results


def _synth_one(job: tuple[int, str, int, dict, str]) -> dict | None:
    """Synthesize utterance ``index`` of ``kind``; writes ``<out>/<kind>/<id>.wav + .lab``."""
    index, kind, seed, texts, out_dir = job
    rng = np.random.default_rng([seed, index, _SYNTH_KINDS.index(kind)])
    langs = sorted(texts)
    if kind.startswith("festival"):
        lang = "en" if "en" in texts else langs[0]
    else:
        lang = langs[int(rng.integers(len(langs)))]
    lines = texts[lang]
    text = lines[int(rng.integers(len(lines)))]
    words = _words(text)[:18] or ["la", "la", "la"]
    sung = kind.endswith(("-sing", "-vocables"))
    if kind.endswith("-vocables"):
        words = [str(w) for w in rng.choice(_VOCABLES, size=int(rng.integers(3, 11)))]
    out = Path(out_dir) / kind
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{kind}-{index:06d}"
    meta: dict = {"kind": kind, "lang": lang, "text": " ".join(words)}
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "out.wav"
        if kind.startswith("espeak"):
            voice = _ESPEAK_LANG[lang]
            if lang == "en":
                voice = _EN_ACCENTS[int(rng.integers(len(_EN_ACCENTS)))]
            variants = _espeak_variants()
            variant = variants[int(rng.integers(len(variants)))]
            pitch = int(rng.integers(20, 80))
            meta.update(voice=f"{voice}+{variant}", pitch=pitch)
            if sung:
                notes = _melody(rng, len(words))
                parts = []
                for w, st in zip(words, notes, strict=True):
                    pct = int(round((2 ** (st / 12) - 1) * 100))
                    rate = int(rng.integers(20, 50) if kind == "espeak-vocables" else rng.integers(30, 70))
                    parts.append(f'<prosody pitch="{pct:+d}%" rate="{rate}%" range="0%">{_xml_escape(w)}</prosody>')
                    if rng.random() < 0.15:
                        parts.append(f'<break time="{int(rng.integers(100, 500))}ms"/>')
                ssml = "<speak>" + " ".join(parts) + "</speak>"
                cmd = ["espeak-ng", "-m", "-v", f"{voice}+{variant}", "-p", str(pitch), "-w", str(wav), ssml]
            else:
                speed = int(rng.integers(110, 200))
                meta["speed"] = speed
                cmd = ["espeak-ng", "-v", f"{voice}+{variant}", "-s", str(speed), "-p", str(pitch), "-w", str(wav),
                       " ".join(words)]
        else:
            if sung:
                bpm = int(rng.integers(60, 140))
                tonic = int(rng.integers(0, 12))
                base = 48 + tonic  # C3 + tonic
                notes = _melody(rng, len(words))
                body = []
                for w, st in zip(words, notes, strict=True):
                    midi = base + st
                    name = f"{_NOTE_NAMES[midi % 12]}{midi // 12 - 1}"
                    beats = float(rng.choice([1.0, 2.0, 3.0, 4.0] if kind == "festival-vocables"
                                             else [0.5, 1.0, 1.0, 1.5, 2.0]))
                    body.append(f'<DURATION BEATS="{beats}"><PITCH NOTE="{name}">{_xml_escape(w)}</PITCH></DURATION>')
                    if rng.random() < 0.12:
                        body.append(f'<REST BEATS="{float(rng.choice([0.5, 1.0]))}"></REST>')
                xml = ('<?xml version="1.0"?>\n<!DOCTYPE SINGING PUBLIC "-//SINGING//DTD SINGING mark up//EN" '
                       '"Singing.v0_1.dtd" []>\n' f'<SINGING BPM="{bpm}">\n' + "\n".join(body) + "\n</SINGING>\n")
                src = Path(tmp) / "song.xml"
                src.write_text(xml, encoding="utf-8")
                meta.update(bpm=bpm, tonic=_NOTE_NAMES[tonic])
                cmd = ["text2wave", "-mode", "singing", str(src), "-o", str(wav)]
            else:
                src = Path(tmp) / "text.txt"
                src.write_text(" ".join(words) + ".\n", encoding="utf-8")
                cmd = ["text2wave", str(src), "-o", str(wav)]
        try:
            subprocess.run(cmd, check=True, capture_output=True, timeout=120)
            y = _read(wav)
        except (OSError, subprocess.SubprocessError, RuntimeError):
            return None
    if y.size == 0 or not np.isfinite(y).all():
        return None
    spans = energy_vad(y, sr=SAMPLE_RATE, config=VADConfig(threshold_db=-45.0, floor_db=-70.0, min_silence_s=0.3))
    if not spans:
        return None
    peak = float(np.max(np.abs(y)))
    y = (y * (0.5 / peak)).astype(np.float32)
    sf.write(str(out / f"{stem}.wav"), y, SAMPLE_RATE, subtype="PCM_16")
    write_alignment(out / f"{stem}.lab", spans, label="speech")
    meta.update(file=f"{kind}/{stem}.wav", duration_s=round(len(y) / SAMPLE_RATE, 3), spans=len(spans))
    return meta


_SYNTH_LICENCE = """Synthetic speech and singing generated by Singscope (`python -m detector corpus synth-speech`).
Tools: espeak-ng (GPL-3.0-or-later) and festival with the kal_diphone voice (festival: X11-style
free licence; festvox-kallpc16k: free). The generated audio carries no third-party copyright.
Text: Fish Fillets NG dialogue scripts (fillets-ng-data, License: GPL-2+) or built-in public-domain rhymes.
License: generated (free; text GPL-2+ when from fillets-ng-data)
"""


def synthesize_speech(
    *,
    out: str | Path,
    n: int,
    seed: int = 0,
    text_dir: str | Path | None = None,
    kinds: Sequence[str] = _SPEECH_KINDS,
    weights: Sequence[float] | None = None,
    workers: int = 1,
    progress: bool = True,
) -> dict:
    """Write ``n`` synthetic utterances to ``out/<kind>/`` (wav + exact-endpoint .lab).

    kinds: any of ``espeak-sing`` (per-word pitch targets over a random melody, slow flat vowels),
    ``espeak-speech``, ``festival-sing`` (festival's singing mode over a random melody),
    ``festival-speech``, and ``espeak-vocables`` / ``festival-vocables`` (sung "ooh", "la", "yeah"
    held over a melody). ``weights`` sets their shares (default equal).
    """
    for k in kinds:
        if k not in _SYNTH_KINDS:
            raise CorpusError(f"unknown synthesis kind {k!r}; choose from {', '.join(_SYNTH_KINDS)}")
    if n <= 0:
        raise CorpusError(f"n must be positive, got {n}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    texts = load_texts(text_dir)
    w = np.asarray(weights if weights is not None else [1.0] * len(kinds), dtype=float)
    w = w / w.sum()
    rng = np.random.default_rng([seed, 7919])
    plan = [str(k) for k in rng.choice(list(kinds), size=n, p=w)]
    jobs = [(i, plan[i], seed, texts, str(out)) for i in range(n)]
    metas = _map_jobs(_synth_one, jobs, workers=workers, progress=progress, desc="synth", unit="utt", chunksize=2)
    for k in set(plan):
        (out / k).mkdir(exist_ok=True)
        (out / k / "LICENSE.txt").write_text(_SYNTH_LICENCE, encoding="utf-8")
    ok = [m for m in metas if m]
    with open(out / "synth.jsonl", "w", encoding="utf-8") as f:
        for m in ok:
            f.write(json.dumps(m, sort_keys=True, ensure_ascii=False) + "\n")
    return {"requested": n, "written": len(ok), "seconds": round(sum(m["duration_s"] for m in ok), 1),
            "languages": sorted({m["lang"] for m in ok})}


# ----------------------------------------------------------------------------------------------
# instrumental music from the music21 corpus
# ----------------------------------------------------------------------------------------------

#: programs (0-based GM) per role; FORBIDDEN_PROGRAMS are never in these lists
_PROGRAMS_MELODIC = [0, 1, 2, 4, 5, 6, 7, 11, 16, 17, 18, 19, 21, 22, 24, 25, 26, 27, 28, 29, 30, 40, 41, 42,
                     44, 45, 46, 48, 49, 50, 51, 56, 57, 60, 61, 62, 64, 65, 66, 68, 70, 71, 73, 74, 80, 81,
                     82, 87, 88, 89, 90, 92, 94, 104, 105, 108]
_PROGRAMS_BASS = [32, 33, 34, 35, 36, 38, 39, 42, 43, 58, 70]
_PROGRAMS_CHORD = [0, 1, 4, 5, 16, 17, 19, 24, 25, 26, 27, 29, 30, 48, 49, 50, 61, 88, 89, 90, 92, 94]
#: programs that carry a tune the way a singer does (held, gliding, often distorted): the hard
#: negatives of ``render_music(lead=True)``
_PROGRAMS_LEAD = [16, 17, 19, 21, 22, 26, 27, 29, 30, 40, 41, 56, 57, 64, 65, 66, 68, 71, 73, 80, 81, 82, 84,
                  86, 87, 110]
assert not FORBIDDEN_PROGRAMS & set(_PROGRAMS_MELODIC + _PROGRAMS_BASS + _PROGRAMS_CHORD + _PROGRAMS_LEAD)

_MUSIC21_COMPOSERS = ["bach", "beethoven", "mozart", "haydn", "palestrina", "monteverdi", "schumann_robert",
                      "schumann_clara", "trecento", "josquin", "handel", "corelli", "joplin", "chopin",
                      "schubert", "cpebach", "weber", "verdi", "beach", "airdsAirs", "oneills1850"]


def _score_notes(path: str) -> dict | None:
    """Notes of a music21 corpus score: parts of (onset_ql, dur_ql, midi) + time signature."""
    import music21

    try:
        s = music21.converter.parse(path)
    except Exception:
        return None
    if isinstance(s, music21.stream.Opus):
        if not len(s.scores):
            return None
        s = s.scores[0]
    parts = []
    streams = list(s.parts) if hasattr(s, "parts") and len(s.parts) else [s]
    for p in streams[:8]:
        notes = []
        for el in p.flatten().notes:
            try:
                pitches = [int(x.midi) for x in el.pitches]
            except Exception:
                continue
            for m in pitches:
                if el.quarterLength > 0:
                    notes.append((float(el.offset), float(el.quarterLength), m))
        if notes:
            parts.append(sorted(notes))
    if not parts:
        return None
    beats = 4.0
    ts = s.recurse().getElementsByClass("TimeSignature")
    if ts:
        beats = float(ts[0].barDuration.quarterLength) or 4.0
    length = max(o + d for part in parts for o, d, _ in part)
    return {"path": path, "parts": parts, "bar_ql": beats, "length_ql": length}


class _Midi:
    """A minimal Standard MIDI File (format 1) writer, 480 ticks per quarter note."""

    TPQ = 480

    def __init__(self, bpm: float) -> None:
        self.tempo_us = int(round(60_000_000 / bpm))
        self.tracks: list[list[tuple[int, bytes]]] = []

    def track(self, channel: int, program: int | None, notes: list[tuple[float, float, int, int]]) -> None:
        ev: list[tuple[int, bytes]] = []
        if program is not None:
            if program in FORBIDDEN_PROGRAMS:
                raise CorpusError(f"GM program {program} is a voice/choir program and is never rendered")
            ev.append((0, bytes([0xC0 | channel, program])))
        for on, dur, pitch, vel in notes:
            a = int(round(on * self.TPQ))
            b = max(a + 1, int(round((on + dur) * self.TPQ)))
            pitch = int(np.clip(pitch, 0, 127))
            ev.append((a, bytes([0x90 | channel, pitch, int(np.clip(vel, 1, 127))])))
            ev.append((b, bytes([0x80 | channel, pitch, 0])))
        ev.sort(key=lambda e: (e[0], e[1][0] & 0xF0 == 0x90))  # note-offs before note-ons at a tick
        self.tracks.append(ev)

    @staticmethod
    def _vlq(n: int) -> bytes:
        out = [n & 0x7F]
        n >>= 7
        while n:
            out.append((n & 0x7F) | 0x80)
            n >>= 7
        return bytes(reversed(out))

    def write(self, path: Path) -> None:
        def chunk(events: list[tuple[int, bytes]]) -> bytes:
            data, last = bytearray(), 0
            for t, msg in events:
                data += self._vlq(t - last) + msg
                last = t
            data += b"\x00\xff\x2f\x00"
            return b"MTrk" + struct.pack(">I", len(data)) + bytes(data)

        tempo = [(0, b"\xff\x51\x03" + self.tempo_us.to_bytes(3, "big"))]
        body = chunk(tempo) + b"".join(chunk(t) for t in self.tracks)
        head = b"MThd" + struct.pack(">IHHH", 6, 1, len(self.tracks) + 1, self.TPQ)
        path.write_bytes(head + body)


_DRUM_STYLES = {
    # (kick beats, snare beats, hat step in quarters)
    "rock": ([0.0, 2.0], [1.0, 3.0], 0.5),
    "pop": ([0.0, 1.5, 2.0], [1.0, 3.0], 0.5),
    "four": ([0.0, 1.0, 2.0, 3.0], [1.0, 3.0], 0.5),
    "half": ([0.0], [2.0], 0.5),
    "shuffle": ([0.0, 2.0, 2.5], [1.0, 3.0], 1.0 / 3.0),
    "busy": ([0.0, 0.75, 2.0, 2.5], [1.0, 3.0, 3.75], 0.25),
}


def _drums(rng: np.random.Generator, length_ql: float, bar_ql: float) -> list[tuple[float, float, int, int]]:
    style = list(_DRUM_STYLES)[int(rng.integers(len(_DRUM_STYLES)))]
    kicks, snares, hat_step = _DRUM_STYLES[style]
    hat = int(rng.choice([42, 42, 44, 46, 51]))  # closed/pedal/open hat, ride
    notes = []
    bar = 0.0
    scale = bar_ql / 4.0
    while bar < length_ql:
        for k in kicks:
            notes.append((bar + k * scale, 0.25, 36, int(rng.integers(90, 120))))
        for s in snares:
            notes.append((bar + s * scale, 0.25, int(rng.choice([38, 38, 40, 39])), int(rng.integers(80, 115))))
        t = 0.0
        while t < bar_ql - 1e-6:
            notes.append((bar + t, 0.2, hat, int(rng.integers(50, 90))))
            t += hat_step
        if rng.random() < 0.15:
            notes.append((bar, 1.0, 49, 100))  # crash
        bar += bar_ql
    return [n for n in notes if n[0] < length_ql]


def _arrange(score: dict, rng: np.random.Generator, seconds: float,
             lead_rng: np.random.Generator | None = None) -> tuple[_Midi, _Midi | None, dict]:
    """A random pop-ish arrangement of ``score`` lasting about ``seconds``.

    With ``lead_rng`` the highest part is split off into its own MIDI file on a lead program
    (:data:`_PROGRAMS_LEAD`), moved into a singer's range, so that it can be mixed in front; the
    other draws come from ``rng`` exactly as without it.
    """
    bpm = float(rng.uniform(70, 150))
    need_ql = seconds * bpm / 60.0 + 2.0
    length = score["length_ql"]
    start = float(rng.uniform(0, max(0.0, length - need_ql))) if length > need_ql else 0.0
    transpose = int(rng.integers(-5, 6))
    parts = score["parts"]
    midi = _Midi(bpm)
    programs = []
    channels = [c for c in range(16) if c != 9]
    lows = [np.mean([p for _, _, p in part]) for part in parts]
    bass_idx = int(np.argmin(lows)) if len(parts) > 1 else -1
    lead_idx = int(np.argmax(lows)) if lead_rng is not None and len(parts) > 1 else -1
    lead_midi, lead_info = None, {}
    for i, part in enumerate(parts[:8]):
        # loop the piece when it is shorter than needed
        notes = []
        reps = int(math.ceil((start + need_ql) / max(length, 1e-3)))
        for r in range(max(1, reps)):
            for o, d, p in part:
                t = o + r * length - start
                if 0 <= t < need_ql:
                    notes.append((t, d, p + transpose))
        if not notes:
            continue
        if i == bass_idx:
            prog = _PROGRAMS_BASS[int(rng.integers(len(_PROGRAMS_BASS)))]
            shift = -12 if rng.random() < 0.6 else 0
        else:
            pool = _PROGRAMS_CHORD if rng.random() < 0.4 else _PROGRAMS_MELODIC
            prog = pool[int(rng.integers(len(pool)))]
            shift = int(rng.choice([0, 0, 0, 12, -12]))
        vel = int(rng.integers(55, 110))
        if i == lead_idx:
            lead_midi, lead_info = _lead(notes, lead_rng, bpm)
            continue
        midi.track(channels[i % 15], prog, [(t, d, p + shift, vel + int(rng.integers(-8, 9))) for t, d, p in notes])
        programs.append(prog)
    drums = rng.random() < 0.75
    if drums:
        midi.track(9, None, _drums(rng, need_ql, score["bar_ql"]))
    return midi, lead_midi, {"bpm": round(bpm, 1), "transpose": transpose, "programs": programs, "drums": drums,
                             "start_ql": round(start, 2), **lead_info}


def _lead(notes: list[tuple[float, float, int]], rng: np.random.Generator, bpm: float) -> tuple[_Midi, dict]:
    """The tune on a lead program, its mean pitch moved to a singer's range (MIDI 55-74)."""
    prog = _PROGRAMS_LEAD[int(rng.integers(len(_PROGRAMS_LEAD)))]
    target = float(rng.uniform(55, 74))
    shift = 12 * int(round((target - np.mean([p for _, _, p in notes])) / 12))
    vel = int(rng.integers(85, 120))
    midi = _Midi(bpm)
    midi.track(0, prog, [(t, d, p + shift, vel + int(rng.integers(-6, 7))) for t, d, p in notes])
    return midi, {"lead_program": prog}


def _overdrive(y: np.ndarray, drive: float) -> np.ndarray:
    """A guitar amp in two lines (tanh waveshaper, then a 5 kHz cabinet low-pass); sox's
    ``overdrive`` does the same but would cost a process per clip."""
    from scipy.signal import butter, sosfilt

    x = np.tanh(drive * y / (np.max(np.abs(y)) + 1e-9))
    return sosfilt(butter(2, 5000, fs=SAMPLE_RATE, output="sos"), x).astype(np.float32)


def _fluidsynth(midi: _Midi, gain: str, tmp: Path) -> np.ndarray:
    mid, wav = tmp / "x.mid", tmp / "x.wav"
    midi.write(mid)
    cmd = ["fluidsynth", "-ni", "-q", "-g", gain, "-r", str(SAMPLE_RATE), "-F", str(wav), "-T", "wav",
           SOUNDFONT, str(mid)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=300)
    return _read(wav)


def _mix_lead(backing: np.ndarray, lead: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """Put the lead in front of the backing: sometimes overdriven, with vibrato or a room, at
    0..+9 dB over the backing (RMS), like a voice in a pop mix."""
    info: dict = {}
    if _rms(lead) < 1e-4:
        return backing, info
    if rng.random() < 0.5:
        info["drive"] = round(float(rng.uniform(3, 30)), 1)
        lead = _overdrive(lead, info["drive"])
    if rng.random() < 0.4:
        lead = _vibrato(lead, cents=float(rng.uniform(20, 60)), hz=float(rng.uniform(4.5, 6.5)),
                        phase=float(rng.uniform(0, 2 * math.pi)))
    if rng.random() < 0.5:
        lead = _reverb(lead, rt60=float(rng.uniform(0.2, 1.5)), wet=float(rng.uniform(0.1, 0.4)), rng=rng)
    n = max(len(backing), len(lead))
    backing, lead = np.pad(backing, (0, n - len(backing))), np.pad(lead, (0, n - len(lead)))
    info["lead_db"] = round(float(rng.uniform(0, 9)), 1)
    level = _rms(backing)
    if level > 1e-4:
        lead = lead * (level / _rms(lead) * 10 ** (info["lead_db"] / 20))
    return (backing + lead).astype(np.float32), info


def _render_one(job: tuple[int, int, list[str], str, float, str, bool]) -> dict | None:
    index, seed, paths, out_dir, seconds, cache_dir, lead = job
    rng = np.random.default_rng([seed, index, 104729])
    path = paths[int(rng.integers(len(paths)))]
    cache = Path(cache_dir) / (hashlib.sha1(path.encode()).hexdigest()[:16] + ".json")
    if cache.is_file():
        score = json.loads(cache.read_text())
    else:
        score = _score_notes(path)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(score))
        os.replace(tmp, cache)
    if not score or score["length_ql"] < 4:
        return None
    lead_rng = np.random.default_rng([seed, index, 7919]) if lead else None
    midi, lead_midi, info = _arrange(score, rng, seconds, lead_rng)
    if lead and lead_midi is None:
        return None  # a one-part score has no tune to put in front
    stem = f"{'lead' if lead else 'music21'}-{index:06d}"
    out = Path(out_dir)
    with tempfile.TemporaryDirectory() as tmp:
        gain = f"{float(rng.uniform(0.4, 0.8)):.2f}"
        try:
            y = _fluidsynth(midi, gain, Path(tmp))
            if lead_midi is not None:
                y, mix = _mix_lead(y, _fluidsynth(lead_midi, gain, Path(tmp)), lead_rng)
                info.update(mix)
        except (OSError, subprocess.SubprocessError, RuntimeError):
            return None
    y = y[: int(seconds * SAMPLE_RATE)]
    if y.size < SAMPLE_RATE * 3 or _rms(y) < 1e-4:
        return None
    peak = float(np.max(np.abs(y)))
    y = (y * (0.7 / peak)).astype(np.float32)
    sf.write(str(out / f"{stem}.wav"), y, SAMPLE_RATE, subtype="PCM_16")
    rel = path.split("/corpus/")[-1]
    info.update(file=f"{stem}.wav", score=rel, duration_s=round(len(y) / SAMPLE_RATE, 2))
    return info


_MUSIC_LICENCE = """Instrumental music rendered by Singscope (`python -m detector corpus render-music`):
scores from the music21 corpus (music21, BSD-3-Clause; the works are public domain or as music21's
corpus documentation states), random GM instruments (never programs 52-54, 85, 91: voices/choirs),
rendered with fluidsynth (LGPL-2.1) and the FluidR3_GM soundfont (fluid-soundfont-gm, MIT).
License: generated (music21 corpus: BSD-3-Clause / public domain; FluidR3_GM: MIT)
"""


def music21_score_paths(*, composers: Sequence[str] = _MUSIC21_COMPOSERS) -> list[str]:
    """Paths of polyphonic scores inside the music21 corpus (sorted)."""
    from music21 import corpus

    paths = set()
    for c in composers:
        try:
            paths.update(str(p) for p in corpus.getComposer(c))
        except Exception:
            continue
    return sorted(p for p in paths if p.rsplit(".", 1)[-1] in {"mxl", "xml", "musicxml", "krn", "abc", "mid", "midi"})


def render_music(
    *,
    out: str | Path,
    n: int,
    seconds: float = 40.0,
    seed: int = 0,
    max_scores: int = 300,
    workers: int = 1,
    progress: bool = True,
    lead: bool = False,
) -> dict:
    """Render ``n`` instrumental clips of about ``seconds`` each to ``out/music21-<i>.wav``.

    ``lead=True`` writes ``out/lead-<i>.wav`` instead: the tune on an instrument mixed in front
    the way a voice is (see :func:`_mix_lead`), the hard negatives of singing detection.
    """
    if n <= 0:
        raise CorpusError(f"n must be positive, got {n}")
    if not Path(SOUNDFONT).is_file():
        raise CorpusError(f"soundfont {SOUNDFONT!r} is missing (apt-get install fluid-soundfont-gm)")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cache = out / ".notes"
    cache.mkdir(exist_ok=True)
    paths = music21_score_paths()
    rng = np.random.default_rng([seed, 31337])
    if len(paths) > max_scores:
        paths = sorted(str(p) for p in rng.choice(paths, size=max_scores, replace=False))
    jobs = [(i, seed, paths, str(out), seconds, str(cache), lead) for i in range(n)]
    infos = _map_jobs(_render_one, jobs, workers=workers, progress=progress, desc="music", unit="clip")
    ok = [m for m in infos if m]
    (out / "LICENSE.txt").write_text(_MUSIC_LICENCE, encoding="utf-8")
    with open(out / "music.jsonl", "w", encoding="utf-8") as f:
        for m in ok:
            f.write(json.dumps(m, sort_keys=True) + "\n")
    return {"requested": n, "written": len(ok), "seconds": round(sum(m["duration_s"] for m in ok), 1)}
