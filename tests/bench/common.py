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

from meshkit.devinfra import find_repo_root

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
    from meshkit.testing.infra import provide_postgres

    with provide_postgres(ROOT) as pg:
        yield pg


@contextmanager
def kafka_broker() -> Iterator[Any]:
    from meshkit.testing.infra import provide_kafka

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
