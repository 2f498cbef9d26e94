"""`make bench`: run every benchmarks/*.py script, collect their JSON into benchmarks/results.json.

    python benchmarks/run_all.py [NAME ...]     # only these (e.g. detect_speed learning_curve): their
                                                # entries in results.json are replaced, the others kept
"""

import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# Extra runs of a script with other arguments: name -> (script, arguments).
VARIANTS = {"load_annotators_saturation": ("load_annotators.py", ["--think", "0"])}


def main() -> int:
    only = set(sys.argv[1:])
    now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    results = {
        "date": now,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "benchmarks": {},
    }
    if only and (HERE / "results.json").is_file():
        results["benchmarks"] = json.loads((HERE / "results.json").read_text()).get("benchmarks", {})
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(ROOT / "platform"), str(ROOT)])}
    failed = 0
    runs = [(s.stem, s.name, []) for s in sorted(HERE.glob("*.py")) if s.name != "run_all.py" and not s.name.startswith("_")]
    runs += [(name, script, args) for name, (script, args) in VARIANTS.items()]
    if only:
        unknown = only - {name for name, _, _ in runs}
        if unknown:
            print(f"unknown benchmark(s): {', '.join(sorted(unknown))}", file=sys.stderr)
            return 2
        runs = [r for r in runs if r[0] in only]
    for name, script, args in runs:
        print(f"== {name}", file=sys.stderr, flush=True)
        out = subprocess.run([sys.executable, str(HERE / script), *args], cwd=ROOT, env=env, capture_output=True, text=True)
        try:  # each benchmark prints one JSON document on stdout (progress goes to stderr)
            results["benchmarks"][name] = {**json.loads(out.stdout), "measured": now}
        except json.JSONDecodeError:
            failed += 1
            results["benchmarks"][name] = {"error": (out.stderr or out.stdout)[-2000:], "returncode": out.returncode}
    (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
