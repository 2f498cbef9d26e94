"""``python -m detector evaluate --reference REF (--estimate EST | --model PATH) [--json]``.

With ``--model``, the estimates are the model's own: each reference song's audio (beside it, see
below) goes through the same detection path as ``detect`` (the checkpoint's stored post-processing),
so a model can be scored on any labelled collection in one command.

REF and EST are segment files (``.lab`` or any format :mod:`detector.formats` reads) or folders
of them, matched by name: ``<song>.lab`` directly inside, or ``<song>/labels.lab`` (the corpus
layout, ``<song>/*.lab`` when there is a single one). A song's duration comes from its audio file
when one sits beside the reference (``<song>/audio.*`` or ``<song>.<audio ext>``), else from the
later of the two files' ends.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a", ".aac", ".aiff", ".aif", ".mp4", ".webm")


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "evaluate",
        help="score estimated vocal segments against reference ones (frame level)",
        description="Pooled and per-song frame metrics (accuracy, precision, recall, F1 of the vocal "
        "class, FPR, FNR, specificity), 1 s segment F1 and boundary F-measure.",
    )
    p.add_argument("--reference", required=True, metavar="REF", help="reference .lab file or folder")
    est = p.add_mutually_exclusive_group(required=True)
    est.add_argument("--estimate", metavar="EST", help="estimated .lab file or folder")
    est.add_argument("--model", metavar="PATH", help="detect with this checkpoint ('default' for the shipped "
                                                     "model) on each reference song's audio instead")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.add_argument("--tolerance", type=float, default=0.5, metavar="SECONDS",
                   help="boundary matching tolerance (default 0.5 s)")


def collect(path: Path) -> dict[str, Path]:
    """``{song name: segment file}`` for a file or a folder (see module docstring)."""
    from detector.errors import DetectorError
    from detector.formats import _BY_EXTENSION

    if not path.exists():
        raise DetectorError(f"{path}: no such file or folder")
    if path.is_file():
        name = path.parent.name if path.stem == "labels" else path.stem
        return {name: path}
    found: dict[str, Path] = {}
    for child in sorted(path.iterdir()):
        if child.is_file() and child.suffix.lower() in _BY_EXTENSION and child.suffix.lower() != ".txt":
            found.setdefault(child.stem, child)
        elif child.is_dir():
            labs = sorted(child.glob("*.lab"))
            preferred = [f for f in labs if f.name == "labels.lab"] or (labs if len(labs) == 1 else [])
            if preferred:
                found.setdefault(child.name, preferred[0])
    return found


def _audio_of(reference: Path) -> Path | None:
    candidates = [reference.with_suffix(s) for s in AUDIO_SUFFIXES]
    if reference.stem == "labels":
        candidates += [reference.parent / f"audio{s}" for s in AUDIO_SUFFIXES]
    return next((c for c in candidates if c.is_file()), None)


def _audio_duration(reference: Path) -> float | None:
    from detector.audio import probe
    from detector.errors import AudioError

    audio = _audio_of(reference)
    try:
        return probe(audio).duration if audio else None
    except AudioError:
        return None


def _model_estimates(refs: dict[str, Path], model: str) -> dict[str, tuple[list, float]]:
    """``{song: (segments, duration)}`` detected by ``model`` on each reference's audio."""
    from detector.errors import DetectorError
    from detector.inference import detect_file, load_model

    backend = load_model(None if model == "default" else model)
    out = {}
    for name, ref in refs.items():
        audio = _audio_of(ref)
        if audio is None:
            raise DetectorError(f"{name}: no audio file beside {ref} to detect on")
        d = detect_file(audio, bundle=backend)
        out[name] = (d.segments, d.duration)
    return out


def run(args: argparse.Namespace) -> int:
    from detector.errors import DetectorError
    from detector.formats import read_segments
    from detector.labels import duration_to_n_frames, segments_to_frames
    from detector.metrics import evaluate

    refs = collect(Path(args.reference))
    detected = _model_estimates(refs, args.model) if args.model else None
    ests = dict.fromkeys(detected, None) if detected is not None else collect(Path(args.estimate))
    if len(refs) == 1 and len(ests) == 1 and Path(args.reference).is_file() and Path(args.estimate).is_file():
        ests = {next(iter(refs)): next(iter(ests.values()))}
    names = [n for n in refs if n in ests]
    if not names:
        raise DetectorError(f"no reference in {args.reference} matches an estimate in {args.estimate or args.model} by name")
    for label, missing in (("reference", [n for n in refs if n not in ests]),
                           ("estimate", [n for n in ests if n not in refs])):
        if missing:
            print(f"warning: {len(missing)} {label}(s) without a match: {', '.join(missing[:5])}"
                  f"{' ...' if len(missing) > 5 else ''}", file=sys.stderr)
    ref_masks, est_masks = {}, {}
    for name in names:
        ref = read_segments(refs[name])
        if detected is not None:
            est, duration = detected[name]
        else:
            est = read_segments(ests[name])
            duration = _audio_duration(refs[name]) or max(ref[-1].end if ref else 0.0, est[-1].end if est else 0.0)
        n = duration_to_n_frames(duration)
        ref_masks[name] = segments_to_frames(ref, n_frames=n)
        est_masks[name] = segments_to_frames(est, n_frames=n)
    result = evaluate(ref_masks, est_masks, tolerance=args.tolerance)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(format_table(result))
    return 0


COLUMNS = (("accuracy", "acc"), ("precision", "prec"), ("recall", "rec"), ("f1", "F1"), ("fpr", "FPR"),
           ("fnr", "FNR"), ("specificity", "spec"))


def format_table(result: dict) -> str:
    """Human-readable table: one row per song, then the pooled row."""
    rows = list(result["songs"].items()) + [(f"pooled ({result['pooled']['n_songs']} songs)", result["pooled"])]
    width = max(12, *(len(name) for name, _ in rows))
    head = f"{'song':<{width}}  {'vocal':>8} {'non-voc':>8}  " + " ".join(f"{t:>6}" for _, t in COLUMNS)
    head += f"  {'segF1':>6} {'bndF':>6}"
    lines = [head, "-" * len(head)]
    for name, m in rows:
        line = f"{name:<{width}}  {m['n_vocal']:>8} {m['n_non_vocal']:>8}  "
        line += " ".join(f"{m[k]:>6.3f}" for k, _ in COLUMNS)
        line += f"  {m['segment']['f1']:>6.3f} {m['boundary']['f']:>6.3f}"
        lines.append(line)
    lines.insert(len(lines) - 1, "-" * len(head))
    return "\n".join(lines)
