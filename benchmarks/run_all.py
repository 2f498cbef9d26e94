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


def main() -> int:
    results = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "benchmarks": {},
    }
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(ROOT / "platform"), str(ROOT)])}
    failed = 0
    for script in sorted(HERE.glob("*.py")):
        if script.name in ("run_all.py",) or script.name.startswith("_"):
            continue
        print(f"== {script.name}", file=sys.stderr, flush=True)
        out = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env, capture_output=True, text=True)
        try:  # each benchmark prints one JSON document on stdout (progress goes to stderr)
            results["benchmarks"][script.stem] = json.loads(out.stdout)
        except json.JSONDecodeError:
            failed += 1
            results["benchmarks"][script.stem] = {"error": (out.stderr or out.stdout)[-2000:], "returncode": out.returncode}
    (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
