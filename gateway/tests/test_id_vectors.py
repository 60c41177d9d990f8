"""IIN/BIN checks: one vector file (data/id_vectors.json) read by meshkit.ids here and by the
portal's ids.js — under Node here and in Chromium by tests/browser/test_results_browser.py —
so a form refuses in the browser exactly what the gateway would refuse."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from meshkit.ids import is_valid_bin, is_valid_iin

VECTORS = json.loads((Path(__file__).parent / "data" / "id_vectors.json").read_text())
TODAY = date.fromisoformat(VECTORS["today"])
IDS_JS = Path(__file__).resolve().parents[1] / "egov_gateway" / "portal" / "static" / "ids.js"


def python_valid(value: str, fmt: str) -> bool:
    iin, bin_ = is_valid_iin(value, today=TODAY), is_valid_bin(value, today=TODAY)
    return {"iin": iin, "bin": bin_, "iin-or-bin": iin or bin_}[fmt]


def test_the_vectors_cover_both_answers_and_every_format() -> None:
    cases = VECTORS["cases"]
    assert {c["format"] for c in cases} == {"iin", "bin", "iin-or-bin"}
    assert 20 <= sum(c["valid"] for c in cases) < len(cases) - 20


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda c: f"{c['format']}:{c['value']}")
def test_meshkit_ids_agrees_with_the_vectors(case: dict[str, object]) -> None:
    assert python_valid(str(case["value"]), str(case["format"])) is case["valid"]


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_the_portals_ids_js_agrees_with_the_vectors() -> None:
    script = f"""
      const ids = await import({json.dumps(IDS_JS.as_uri())});
      const v = {json.dumps(VECTORS)};
      const at = new Date(v.today + 'T12:00:00');
      console.log(JSON.stringify(v.cases.map((c) => ids.idProblem(c.value, c.format, at) === null)));
    """
    out = subprocess.run(
        ["node", "--input-type=module", "-e", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    got = json.loads(out.stdout)
    wrong = [c for c, g in zip(VECTORS["cases"], got, strict=True) if g is not c["valid"]]
    assert wrong == []
