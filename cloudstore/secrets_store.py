"""The zero-config JWT secret: made once, kept in the data dir, shared by all workers."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

SECRET_FILE = "jwt-secret"  # noqa: S105 - a file name, not a secret


def local_jwt_secret(data_dir: Path) -> str:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / SECRET_FILE
    if not path.exists():
        candidate = secrets.token_hex(32)
        try:
            # O_EXCL: when several workers race, exactly one writes and all read its secret.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(candidate)
        except FileExistsError:
            pass
    return path.read_text().strip()
