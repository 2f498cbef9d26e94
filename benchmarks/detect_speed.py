"""Detection speed and memory: prints one JSON document (progress on stderr).

1. Over a batch of real songs (the JamendoLyrics mp3s, read in place): wall seconds per minute of
   audio for decode + log-mel alone, and for decode + log-mel + CRNN + post-processing (songs'
   windows batched through the model), in the same run; their ratio. Both runtimes are measured
   (ONNX Runtime, the CLI's default, and eager PyTorch).
2. Peak RSS of ``detect_file`` on a synthetic 60-minute 44.1 kHz stereo mp3, in a fresh subprocess.

The model is the shipped default when installed, else a randomly initialised CRNN of the default
shape (speed does not depend on the weights). Targets (issue 3): <= 0.25 s/min, <= 2x decode +
log-mel, < 500 MB. Options: --songs GLOB, --repeat N, --skip-memory, --torch-memory, --minutes M.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SONGS = "/work/shared/data/jamendolyrics/*/audio.mp3"


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


def model_path(tmp: Path) -> tuple[Path, str]:
    from detector.checkpoint import default_model_path, save_checkpoint
    from detector.config import FeatureConfig
    from detector.errors import NoDefaultModelError
    from detector.features import Normalization
    from detector.model import build_model

    try:
        return default_model_path(), "shipped default"
    except NoDefaultModelError:
        path = tmp / "random.pt"
        save_checkpoint(path, model=build_model(seed=0).eval(), feature_config=FeatureConfig(),
                        normalization=Normalization.identity(FeatureConfig().n_mels), kind="source")
        return path, "random CRNN of the default shape"


def timed(fn, *args):
    """(wall seconds, CPU seconds of this process, result)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn(*args)
    return time.perf_counter() - wall, time.process_time() - cpu, result


def features_only(paths: list[str]) -> list:
    from detector.inference import file_features

    return [file_features(p)[:2] for p in paths]


def full_pipeline(paths: list[str], backend) -> None:
    from detector.inference import file_features, predict_features_batch
    from detector.postprocess import segments_from_probabilities

    feats = [file_features(p, config=backend.feature_config)[:2] for p in paths]
    probs = predict_features_batch(backend, [f for f, _ in feats])
    for p, (_, duration) in zip(probs, feats, strict=True):
        segments_from_probabilities(p, config=backend.postprocess, duration=duration)


def speed(paths: list[str], model: Path, repeat: int) -> dict:
    import statistics

    import torch

    from detector.inference import load_model

    torch.set_num_threads(min(2, os.cpu_count() or 1))
    backends = {"onnx": load_model(model, runtime="onnx"), "torch": load_model(model, runtime="torch")}
    for backend in backends.values():  # warm up imports, filters and caches
        full_pipeline(paths[:1], backend)
    minutes = sum(d for _, d in features_only(paths)) / 60
    base: list[tuple[float, float]] = []
    full: dict[str, list[tuple[float, float]]] = {name: [] for name in backends}
    for _ in range(repeat):  # interleaved, so that each round sees the same machine load
        wall, cpu, _ = timed(features_only, paths)
        base.append((wall, cpu))
        for name, backend in backends.items():
            full[name].append(timed(full_pipeline, paths, backend)[:2])
        log(f"decode+logmel {wall:.2f} s, " + ", ".join(f"{n} {v[-1][0]:.2f} s" for n, v in full.items()))
    result = {
        "songs": len(paths),
        "audio_minutes": round(minutes, 2),
        "decode_logmel_s_per_min": round(min(w for w, _ in base) / minutes, 4),
        "decode_logmel_cpu_s_per_min": round(min(c for _, c in base) / minutes, 4),
    }
    for name, runs in full.items():
        result[f"detect_{name}_s_per_min"] = round(min(w for w, _ in runs) / minutes, 4)
        result[f"detect_{name}_cpu_s_per_min"] = round(min(c for _, c in runs) / minutes, 4)
        # ratio per round (same load), median over rounds; and of the CPU times
        result[f"detect_{name}_ratio_to_decode_logmel"] = round(
            statistics.median(w / b for (w, _), (b, _) in zip(runs, base, strict=True)), 2)
        result[f"detect_{name}_cpu_ratio_to_decode_logmel"] = round(
            min(c for _, c in runs) / min(c for _, c in base), 2)
    return result


MEMORY_CHILD = """
import json, resource, sys, time
sys.path.insert(0, {root!r})


def peak_mb():  # VmHWM is this process's own high-water mark (ru_maxrss may inherit the parent's)
    hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
    return round(max(hwm, 0) / 1024, 1)


import torch
torch.set_num_threads(2)
from detector.inference import detect_file, load_model
backend = load_model({model!r}, runtime={runtime!r})
base = peak_mb()
start = time.perf_counter()
d = detect_file({audio!r}, bundle=backend)
print(json.dumps({{"peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                  "vm_hwm_mb": peak_mb(), "after_model_load_mb": base,
                  "seconds": round(time.perf_counter() - start, 2),
                  "duration_min": round(d.duration / 60, 2), "segments": len(d.segments)}}))
"""


def memory(model: Path, tmp: Path, minutes: float, song: str, runtimes: tuple[str, ...]) -> dict:
    audio = tmp / "long.mp3"
    log(f"making a {minutes:.0f}-minute mp3 ...")
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-stream_loop", "-1", "-i", song,
                    "-t", str(minutes * 60), "-c", "copy", str(audio)], check=True)
    out = {}
    for runtime in runtimes:
        code = MEMORY_CHILD.format(root=str(ROOT), model=str(model), runtime=runtime, audio=str(audio))
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        out[runtime] = json.loads(res.stdout)
        log(f"{runtime}: {out[runtime]}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--songs", default=SONGS, help="glob of audio files (default: the JamendoLyrics mp3s)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--minutes", type=float, default=60.0, help="length of the memory test file")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--torch-memory", action="store_true", help="also measure eager PyTorch's peak (slow)")
    args = parser.parse_args()
    paths = sorted(glob.glob(args.songs))
    if not paths:
        print(json.dumps({"error": f"no songs match {args.songs}"}))
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model, model_kind = model_path(tmp)
        result = {"model": model_kind, "cpus": os.cpu_count(), "load_average_1min": round(os.getloadavg()[0], 2)}
        if not args.skip_memory:  # first, while this process is still small (children inherit ru_maxrss)
            runtimes = ("onnx", "torch") if args.torch_memory else ("onnx",)
            mem = memory(model, tmp, args.minutes, paths[0], runtimes)
            result["memory_60min"] = mem
            result["peak_rss_mb_60min"] = mem["onnx"]["peak_rss_mb"]
        result.update(speed(paths, model, args.repeat))
        result["targets"] = {"s_per_min": 0.25, "ratio_to_decode_logmel": 2.0, "peak_rss_mb": 500}
        result["load_average_1min_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
