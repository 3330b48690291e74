"""The zero-config JWT secret: made once, kept in the data dir, shared by all workers."""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from cloudstore.private_files import PRIVATE_FILE, TRAVERSABLE_DIR, private_dir

SECRET_FILE = "jwt-secret"  # noqa: S105 - a file name, not a secret


def local_jwt_secret(data_dir: Path) -> str:
    private_dir(data_dir, traversable=data_dir.is_dir() and _traversable(data_dir))
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
    if stat.S_IMODE(path.stat().st_mode) != PRIVATE_FILE:
        path.chmod(PRIVATE_FILE)  # a secret written by an older version
    return path.read_text().strip()


def _traversable(data_dir: Path) -> bool:
    """Keep a root's data dir 0711 when `serve` made it so for the embedded PostgreSQL."""
    return stat.S_IMODE(data_dir.stat().st_mode) == TRAVERSABLE_DIR
