"""`make bench`: run every benchmarks/*.py script, collect their JSON into benchmarks/results.json."""

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
    results = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "benchmarks": {},
    }
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(ROOT / "platform"), str(ROOT)])}
    failed = 0
    runs = [(s.stem, s.name, []) for s in sorted(HERE.glob("*.py")) if s.name != "run_all.py" and not s.name.startswith("_")]
    runs += [(name, script, args) for name, (script, args) in VARIANTS.items()]
    for name, script, args in runs:
        print(f"== {name}", file=sys.stderr, flush=True)
        out = subprocess.run([sys.executable, str(HERE / script), *args], cwd=ROOT, env=env, capture_output=True, text=True)
        try:  # each benchmark prints one JSON document on stdout (progress goes to stderr)
            results["benchmarks"][name] = json.loads(out.stdout)
        except json.JSONDecodeError:
            failed += 1
            results["benchmarks"][name] = {"error": (out.stderr or out.stdout)[-2000:], "returncode": out.returncode}
    (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
