"""``make bench``: run every benchmark module in tests/bench (each has ``async def run(ctx)
-> dict``), print its figures and save them as bench-results/<module>.json."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def _load(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(f"bench_{path.stem}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(names: list[str]) -> int:
    out_dir = ROOT / "bench-results"
    out_dir.mkdir(exist_ok=True)
    failed = 0
    for path in sorted(HERE.glob("*.py")):
        if path.name == "run.py" or path.name.startswith("_") or (names and path.stem not in names):
            continue
        module = _load(path)
        if not hasattr(module, "run"):
            continue
        print(f"== {path.stem}", flush=True)
        try:
            result = asyncio.run(module.run({"repo_root": str(ROOT)}))
        except Exception as exc:  # one failing benchmark does not hide the others
            failed += 1
            print(f"   failed: {exc!r}", flush=True)
            continue
        if hasattr(module, "print_table"):
            module.print_table(result)
        else:
            for key, value in result.items():
                print(f"   {key:<32} {value}")
        (out_dir / f"{path.stem}.json").write_text(
            json.dumps(result, indent=2, ensure_ascii=False) + "\n"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
