"""Instrumental music rendered with ``fluidsynth`` + FluidR3_GM from the scores inside the
``music21`` corpus: random instrument programs (never the GM voice/choir programs 52-54, 85, 91),
a bass, a drum kit on channel 10; optionally the tune on a lead instrument mixed like a voice.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import struct
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile as sf

from detector.corpus.common import SAMPLE_RATE, _map_jobs, _read, _reverb, _rms, _vibrato
from detector.errors import CorpusError

#: General MIDI programs (0-based) that sound like voices: choir aahs, voice oohs, synth voice,
#: lead 6 (voice), pad 4 (choir). Never rendered.
FORBIDDEN_PROGRAMS = frozenset({52, 53, 54, 85, 91})
SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"


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
