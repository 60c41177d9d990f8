"""Shared plumbing for benchmarks: infrastructure, percentiles, printing, saving figures."""

from __future__ import annotations

import json
import os
import statistics
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from meshkit_testing.devinfra import find_repo_root

ROOT = find_repo_root(Path(__file__).resolve().parent)
RESULTS = ROOT / "bench-results"


def percentile(values: Sequence[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summary_ms(samples_s: Sequence[float]) -> dict[str, float]:
    ms = [s * 1000 for s in samples_s]
    return {
        "p50_ms": round(percentile(ms, 50), 3),
        "p95_ms": round(percentile(ms, 95), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "mean_ms": round(statistics.fmean(ms), 3) if ms else float("nan"),
    }


@contextmanager
def postgres_server() -> Iterator[Any]:
    """A throwaway PostgreSQL (or the one named by MESH_TEST_POSTGRES_URL)."""
    from meshkit_testing.infra import provide_postgres

    with provide_postgres(ROOT) as pg:
        yield pg


@contextmanager
def kafka_broker() -> Iterator[Any]:
    from meshkit_testing.infra import provide_kafka

    with provide_kafka(ROOT) as kafka:
        yield kafka


def print_table(title: str, rows: list[tuple[str, str]]) -> None:
    width = max(len(k) for k, _ in rows)
    print(f"\n== {title} ==")
    for k, v in rows:
        print(f"  {k:<{width}}  {v}")


def save(name: str, figures: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(figures, indent=2, default=str))
    return path


def scratch_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="bench-", dir=os.environ.get("TMPDIR")))


def bench_scale() -> float:
    """``BENCH_SCALE`` (default 1): every benchmark multiplies its default data sizes by it,
    e.g. ``BENCH_SCALE=0.1 make bench`` for a quick run."""
    raw = os.environ.get("BENCH_SCALE", "").strip() or "1"
    try:
        scale = float(raw)
    except ValueError:
        raise SystemExit(f"BENCH_SCALE={raw!r}: expected a number such as 0.1 or 1") from None
    if scale <= 0:
        raise SystemExit(f"BENCH_SCALE={raw!r}: must be positive")
    return scale


def scaled(default: int, minimum: int = 1) -> int:
    return max(minimum, round(default * bench_scale()))


def growth_table(
    title: str,
    small: dict[str, Any],
    big: dict[str, Any],
    figures: Sequence[tuple[str, Sequence[str], str]],
) -> list[dict[str, Any]]:
    """Print how each figure moves from ``small`` to ``big`` (same shape, tenfold data or
    load): one row per ``(label, key path, unit)``; returns the rows for the JSON."""

    def get(d: dict[str, Any], path: Sequence[str]) -> Any:
        for k in path:
            d = d[k]
        return d

    rows: list[dict[str, Any]] = []
    for label, path, unit in figures:
        a, b = get(small, path), get(big, path)
        ratio = round(b / a, 2) if a else None
        rows.append({"figure": label, "unit": unit, "small": a, "big": b, "ratio": ratio})
    w = max(len(r["figure"]) for r in rows)
    print(f"\n== {title} ==")
    print(f"  {'figure':<{w}}  {'1x':>12}  {'10x':>12}  {'10x/1x':>7}  unit")
    for r in rows:
        ratio_s = f"x{r['ratio']}" if r["ratio"] is not None else "-"
        print(
            f"  {r['figure']:<{w}}  {r['small']:>12,}  {r['big']:>12,}  {ratio_s:>7}  {r['unit']}"
        )
    return rows
