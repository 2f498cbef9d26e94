"""The source corpus: speech and synthetic singing over instrumental music, labels from the speech.

:func:`build_source_corpus` mixes one or more utterances over music at a drawn speech-to-music
ratio, with random offsets and gaps, a share of music-only clips, song-like speech augmentation
(pitch shift, vibrato, reverb) and loudness normalisation, streaming clip by clip. Every clip draws
from its own generator seeded with ``(seed, clip_index)``, so the output is byte-identical for the
same seed with any number of workers.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import soundfile as sf

from detector.corpus.common import (
    SAMPLE_RATE,
    MusicFile,
    SpeechFile,
    _is_heldout,
    _licence,
    _normalise_loudness,
    _read,
    _resample_factor,
    _reverb,
    _rms,
    _uniform,
    _vibrato,
    index_music,
    index_speech,
)
from detector.errors import CorpusError
from detector.vad import VADConfig, energy_vad, read_alignment, write_alignment


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
