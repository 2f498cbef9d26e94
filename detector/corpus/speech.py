"""Speech and sung phrases from ``espeak-ng`` and ``festival``: many voices and languages, melodies
through SSML prosody and festival's singing mode, written as ``<dir>/<kind>/<id>.wav`` + ``<id>.lab``
with exact endpoints (the synthesisers' output is clean, so trimming silence gives them to 10 ms).
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile as sf

from detector.corpus.common import SAMPLE_RATE, _map_jobs, _read
from detector.errors import AudioError, CorpusError
from detector.vad import VADConfig, energy_vad, write_alignment

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
        except (OSError, subprocess.SubprocessError, RuntimeError, AudioError):  # nothing synthesised: skip
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
