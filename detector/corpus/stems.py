"""Real singing as separate stems: a folder of songs with their mix and their vocal stem alone.

The layout of ``shared/data/musdb-cc``: ``<track>/audio.<ext>`` (the mix) + ``<track>/vocals.<ext>``
(the vocal stem, sample-aligned) [+ ``labels.lab``]. :func:`prepare_stems` writes, per track,

    OUT/<track>/mix.flac            16 kHz stereo
    OUT/<track>/vocals.flac         16 kHz stereo
    OUT/<track>/accompaniment.flac  mix - vocals: every frame non-vocal
    OUT/<track>/labels.lab          vocal spans from the stem's own loudness (:func:`stem_activity`)
    OUT/stems.json                  tracks, their split and the rule that made the labels

and the fixed split of tracks into ``train`` (remixed into training crops), ``dev`` (choices are
made on it) and ``test`` (scored once) that every experiment uses (:func:`stem_split`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from detector.config import FRAME_RATE, SAMPLE_RATE
from detector.corpus.common import AUDIO_EXTS
from detector.errors import CorpusError
from detector.labels import join_intervals
from detector.vad import write_alignment

#: the label convention of the shared and the hidden reference labels: vocal spans less than this
#: far apart are one span (breaths and short pauses inside a phrase count as singing)
JOIN_GAP_S = 0.5
MIN_SPAN_S = 0.1
#: a 10 ms frame of the stem is voiced when its RMS is within this many dB of the stem's loudest
#: frame and above the floor (the rule of shared/data/musdb-cc/README.md)
ACTIVITY_RANGE_DB = 40.0
ACTIVITY_FLOOR_DBFS = -60.0
#: tracks kept out of training: test (scored once) and dev (choices), by a hash of the track name
SPLIT_SIZES = {"test": 8, "dev": 7}


@dataclass(frozen=True)
class StemTrack:
    name: str
    mix: Path
    vocals: Path
    genre: str = ""


def find_stem_tracks(folder: str | Path) -> list[StemTrack]:
    """Every ``<track>/audio.* + vocals.*`` under ``folder`` (sorted by name); genres from an
    optional ``tracks.tsv`` (columns ``folder`` and ``genre``)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CorpusError(f"stems folder {str(folder)!r} does not exist")
    genres: dict[str, str] = {}
    tsv = folder / "tracks.tsv"
    if tsv.is_file():
        rows = [line.split("\t") for line in tsv.read_text(encoding="utf-8").splitlines() if line.strip()]
        head = rows[0]
        if "folder" in head and "genre" in head:
            genres = {r[head.index("folder")]: r[head.index("genre")] for r in rows[1:] if len(r) == len(head)}
    tracks = []
    for d in sorted(p for p in folder.iterdir() if p.is_dir()):
        mix = [p for p in d.iterdir() if p.stem == "audio" and p.suffix.lower() in AUDIO_EXTS]
        voc = [p for p in d.iterdir() if p.stem == "vocals" and p.suffix.lower() in AUDIO_EXTS]
        if mix and voc:
            tracks.append(StemTrack(d.name, sorted(mix)[0], sorted(voc)[0], genres.get(d.name, "")))
    if not tracks:
        raise CorpusError(f"stems folder {str(folder)!r} has no <track>/audio.* + vocals.*")
    return tracks


def stem_split(names: list[str], sizes: dict[str, int] | None = None) -> dict[str, str]:
    """``{track: "train" | "dev" | "test"}``: tracks named ``test__*`` (musdb's own test split) are
    test; the rest are ordered by a hash of their name and the first ones fill ``sizes`` (default
    ``SPLIT_SIZES``)."""
    sizes = SPLIT_SIZES if sizes is None else sizes
    split = {n: "test" for n in names if n.startswith("test__")}
    rest = sorted((n for n in names if n not in split), key=lambda n: hashlib.sha1(n.encode()).hexdigest())
    need = {k: max(0, v - sum(1 for s in split.values() if s == k)) for k, v in sizes.items()}
    for name in rest:
        part = next((k for k in ("test", "dev") if need[k] > 0), "train")
        if part != "train":
            need[part] -= 1
        split[name] = part
    return split


def stem_activity(vocals: np.ndarray, *, sr: int = SAMPLE_RATE) -> list[tuple[float, float]]:
    """Voiced spans ``(start, end)`` seconds of a vocal stem ``(n,)`` or ``(n, channels)``: frames on
    the 10 ms grid within ``ACTIVITY_RANGE_DB`` of the loudest and above ``ACTIVITY_FLOOR_DBFS``,
    joined across gaps under ``JOIN_GAP_S``, spans under ``MIN_SPAN_S`` dropped."""
    y = np.asarray(vocals, np.float64)
    if y.ndim == 2:
        y = y.mean(axis=1)
    hop = sr // FRAME_RATE
    n = -(-len(y) // hop)
    if n == 0:
        return []
    power = np.square(np.pad(y, (0, n * hop - len(y)))).reshape(n, hop).mean(axis=1)
    db = 10 * np.log10(power + 1e-12)
    voiced = (db > db.max() - ACTIVITY_RANGE_DB) & (db > ACTIVITY_FLOOR_DBFS)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], voiced.astype(np.int8), [0]])))
    spans = [(a / FRAME_RATE, b / FRAME_RATE) for a, b in zip(edges[::2], edges[1::2], strict=True)]
    return join_intervals(spans, max_gap=JOIN_GAP_S, min_length=MIN_SPAN_S)


def prepare_stems(*, src: str | Path, out: str | Path, split_sizes: dict[str, int] | None = None) -> dict:
    """Write every track of ``src`` to ``out`` at 16 kHz (layout in the module docstring); returns the
    summary also written to ``out/stems.json``. ``split_sizes``: see :func:`stem_split`."""
    from detector.audio import load

    out = Path(out)
    tracks = find_stem_tracks(src)
    split = stem_split([t.name for t in tracks], split_sizes)
    records = []
    for t in tracks:
        mix = load(t.mix, sr=SAMPLE_RATE, stereo=True)
        voc = load(t.vocals, sr=SAMPLE_RATE, stereo=True)
        n = min(len(mix), len(voc))
        mix, voc = mix[:n], voc[:n]
        d = out / t.name
        d.mkdir(parents=True, exist_ok=True)
        for name, y in (("mix", mix), ("vocals", voc), ("accompaniment", mix - voc)):
            sf.write(str(d / f"{name}.flac"), np.clip(y, -1, 1), SAMPLE_RATE, subtype="PCM_16")
        spans = stem_activity(voc)
        write_alignment(d / "labels.lab", spans, label="sing")
        records.append({"track": t.name, "split": split[t.name], "genre": t.genre, "seconds": round(n / SAMPLE_RATE, 3),
                        "vocal_seconds": round(sum(b - a for a, b in spans), 3)})
    summary = {
        "format": "singscope-stems/1", "source": str(Path(src).resolve()), "sample_rate": SAMPLE_RATE,
        "labels": {"range_db": ACTIVITY_RANGE_DB, "floor_dbfs": ACTIVITY_FLOOR_DBFS, "join_gap_s": JOIN_GAP_S,
                   "min_span_s": MIN_SPAN_S},
        "splits": {k: sum(r["split"] == k for r in records) for k in ("train", "dev", "test")},
        "tracks": records,
    }
    (out / "stems.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def read_stems(folder: str | Path) -> list[dict]:
    """The track records of a folder written by :func:`prepare_stems` (each with its ``split``)."""
    path = Path(folder) / "stems.json"
    if not path.is_file():
        raise CorpusError(f"{str(folder)!r} has no stems.json (run `python -m detector corpus stems`)")
    return json.loads(path.read_text(encoding="utf-8"))["tracks"]
