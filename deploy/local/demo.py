"""Demo data for a local mesh. Each domain issue extends ``load_demo``.

Idempotent: loading twice leaves the same state (every step checks before it writes).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request


def _post(url: str, body: dict[str, object]) -> dict[str, object]:
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        data: dict[str, object] = json.loads(resp.read())
        return data


def _get_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def load_demo(urls: dict[str, str]) -> None:
    # the event pipeline works end to end: an echo from the gateway reaches every service
    echo = _post(f"{urls['gateway']}/mesh/echo", {"message": "Сәлем, egov-mesh!"})
    deadline = time.monotonic() + 30
    missing = set(urls)
    while missing and time.monotonic() < deadline:
        for name in list(missing):
            if _get_status(f"{urls[name]}/mesh/echo/{echo['id']}") == 200:
                missing.discard(name)
        if missing:
            time.sleep(0.3)  # polling interval
    if missing:
        print(f"demo: the echo did not reach {', '.join(sorted(missing))} within 30s")
    else:
        print("demo: an event from the gateway reached all six services through Kafka")
