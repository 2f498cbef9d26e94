"""``python -m detector detect AUDIO... [--model PATH] [--format FMT] [-o OUT] [--jobs N]``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

FORMAT_CHOICES = ("lab", "csv", "json", "audacity", "jams", "textgrid", "rttm")


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "detect",
        help="mark where someone sings in audio files",
        description="Detect vocal segments in audio files (wav, flac, ogg, opus, mp3, m4a/aac, aiff ...). "
        "With one input, OUT is a file (stdout when absent); with several, OUT is a folder that "
        "receives <input stem>.<ext>.",
    )
    p.add_argument("audio", nargs="+", metavar="AUDIO", help="audio file(s)")
    p.add_argument("--model", metavar="PATH", help="checkpoint (.pt) or ONNX model; default: the shipped model")
    p.add_argument("--format", default="lab", choices=FORMAT_CHOICES,
                   help="output format (default: lab = start<TAB>end<TAB>sing, vocal segments only)")
    p.add_argument("-o", "--output", metavar="OUT", help="output file (one input) or folder (several)")
    p.add_argument("--jobs", type=int, default=1, metavar="N", help="files processed in parallel (default 1)")
    p.add_argument("--runtime", choices=("auto", "onnx", "torch"), default="auto",
                   help="inference engine (default auto: ONNX Runtime, faster on CPU, else PyTorch)")
    p.add_argument("--max-duration", type=float, metavar="SECONDS", help="refuse longer files")


_BACKEND = None


def _init_worker(model: str | None, runtime: str, threads: int) -> None:
    global _BACKEND
    import torch

    from detector.inference import load_model

    torch.set_num_threads(threads)
    _BACKEND = load_model(model, runtime=runtime, threads=threads)


def _detect_one(path: str, fmt: str, max_duration: float | None) -> tuple[str, str | None, str | None]:
    """(path, text, error) for one file, run in this process or a worker."""
    from detector.errors import DetectorError
    from detector.formats import write_segments
    from detector.inference import detect_file

    try:
        d = detect_file(path, bundle=_BACKEND, max_duration=max_duration)
    except DetectorError as exc:
        return path, None, str(exc)
    return path, write_segments(d.segments, fmt, duration=d.duration, title=Path(path).stem), None


def output_names(inputs: list[str], ext: str) -> list[str]:
    """``<stem><ext>`` per input; when stems collide (``a/audio.mp3``, ``b/audio.mp3``) the parent
    folder's name is used instead."""
    stems = [Path(p).stem for p in inputs]
    names = [Path(p).parent.name if stems.count(s) > 1 else s for p, s in zip(inputs, stems, strict=True)]
    return [n + ext for n in names]


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from detector.errors import DetectorError
    from detector.formats import EXTENSIONS

    inputs = list(args.audio)
    if args.jobs < 1:
        raise DetectorError(f"--jobs must be at least 1, got {args.jobs}")
    out_dir = None
    if len(inputs) == 1 and args.output and Path(args.output).is_dir():
        args.output = str(Path(args.output) / output_names(inputs, EXTENSIONS[args.format])[0])
    if len(inputs) > 1:
        if not args.output:
            raise DetectorError(f"{len(inputs)} inputs need -o FOLDER to receive one file each")
        out_dir = Path(args.output)
        if out_dir.exists() and not out_dir.is_dir():
            raise DetectorError(f"{out_dir}: exists and is not a folder (several inputs need a folder)")
        names = output_names(inputs, EXTENSIONS[args.format])
        if len(set(names)) < len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise DetectorError(f"several inputs would write the same output file {dup[0]}")
        out_dir.mkdir(parents=True, exist_ok=True)
        targets = {p: out_dir / n for p, n in zip(inputs, names, strict=True)}
    jobs = min(args.jobs, len(inputs))
    threads = max(1, min(2, (os.cpu_count() or 1) // jobs))
    _init_worker(args.model, args.runtime, threads)  # also validates the model before any work

    failures = 0
    results = _results(inputs, args, jobs)
    bar = tqdm(total=len(inputs), unit="song", file=sys.stderr, disable=len(inputs) < 2, dynamic_ncols=True)
    for path, text, error in results:
        bar.update(1)
        if error is not None:
            failures += 1
            (bar.write if len(inputs) > 1 else print)(f"error: {error}", file=sys.stderr)
        elif out_dir is not None:
            targets[path].write_text(text, encoding="utf-8")
        elif args.output:
            Path(args.output).write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
    bar.close()
    return 2 if failures else 0


def _results(inputs: list[str], args, jobs: int):
    if jobs == 1:
        for path in inputs:
            yield _detect_one(path, args.format, args.max_duration)
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    # spawn, not fork: this process already runs PyTorch / ONNX Runtime thread pools
    with ProcessPoolExecutor(jobs, mp_context=mp.get_context("spawn"), initializer=_init_worker,
                             initargs=(args.model, args.runtime, 1)) as pool:
        futures = [pool.submit(_detect_one, p, args.format, args.max_duration) for p in inputs]
        for future in futures:
            yield future.result()
