"""Dev-mode secrets: generated once per machine under the data directory, never committed.

In dev mode (``make run``, tests) the services of one machine share these, so that, for
example, svc-identity knows the client secret svc-registry will present. In deployment every
secret comes from the environment instead.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
from pathlib import Path


def dev_secret(name: str, data_dir: Path) -> str:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "dev-secrets.json"
    lock_path = data_dir / ".dev-secrets.lock"
    with open(lock_path, "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            store: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
            if name not in store:
                store[name] = secrets.token_urlsafe(32)
                tmp = path.with_suffix(".tmp")
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w") as fh:
                    json.dump(store, fh)
                os.replace(tmp, path)
            return store[name]
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
