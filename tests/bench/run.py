"""`make bench`: run every benchmark script in tests/bench/ and print a combined table.

Each script prints its own table and saves bench-results/<name>.json; this runner adds
bench-results/summary.json with every figure of the run. ``BENCH_ONLY=outbox,gateway``
limits the run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SKIP = {"run.py", "common.py", "__init__.py"}


def main() -> int:
    only = {s.strip() for s in os.environ.get("BENCH_ONLY", "").split(",") if s.strip()}
    scripts = sorted(p for p in HERE.glob("*.py") if p.name not in SKIP)
    if only:
        scripts = [p for p in scripts if p.stem in only]
    failures: list[str] = []
    summary: dict[str, object] = {}
    for script in scripts:
        print(f"\n##### {script.stem} #####", flush=True)
        started = time.monotonic()
        rc = subprocess.call([sys.executable, str(script)], cwd=ROOT)
        took = time.monotonic() - started
        if rc != 0:
            failures.append(script.stem)
            print(f"!! {script.stem} failed with exit code {rc}")
            continue
        result = ROOT / "bench-results" / f"{script.stem}.json"
        if result.exists():
            summary[script.stem] = json.loads(result.read_text())
        print(f"({script.stem}: {took:.0f}s)")
    (ROOT / "bench-results").mkdir(exist_ok=True)
    (ROOT / "bench-results" / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"\nbenchmarks run: {', '.join(summary) or 'none'}")
    if failures:
        print(f"benchmarks failed: {', '.join(failures)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
