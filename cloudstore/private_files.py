"""The data dir is private: it holds the JWT secret, the local databases and where they listen.

- the data dir is 0700 and owned by the user that serves (a dir owned by anyone else is
  refused: they could plant a `runtime.json` or read the secret);
- when that user is root, the embedded PostgreSQL runs as its own `pgserver` user, which must
  traverse the data dir to reach its folder: then the data dir is 0711 (no listing, no reading);
- every file of ours in it is 0600 (`tighten_files`; `cloudstore` commands also run with
  umask 077, so files written later by them or their children are born private);
- pgserver, when run as root, adds `g+rx,o+rx` to every parent of its folder (the data dir,
  its parents up to `/`); `undo_pgserver_loosening` puts each mode back as it was, keeping
  only the `o+x` the `pgserver` user needs to get through.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

PRIVATE_DIR = 0o700
TRAVERSABLE_DIR = 0o711  # root's data dir, so the `pgserver` user can reach its own folder
PRIVATE_FILE = 0o600
PRIVATE_UMASK = 0o077


class DataDirError(SystemExit):
    """The data dir cannot be made private; the message is one line for the operator."""


def running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def private_dir(path: Path, *, traversable: bool = False) -> Path:
    """Create `path` (0700) or check an existing one is ours, then set its mode."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    owner, me = path.stat().st_uid, os.geteuid()
    if owner != me:
        raise DataDirError(
            f"cloudstore: the data dir {path} belongs to uid {owner}, not to uid {me} that "
            "runs cloudstore; chown it to this user or set CLOUDSTORE_DATA_DIR"
        )
    path.chmod(TRAVERSABLE_DIR if traversable else PRIVATE_DIR)
    return path


def tighten_files(data_dir: Path, *, skip: tuple[str, ...] = ()) -> None:
    """Every regular file of ours directly in the data dir becomes 0600 (folders named in
    `skip`, such as the embedded PostgreSQL's, belong to their own program)."""
    for entry in data_dir.iterdir():
        if entry.name in skip or entry.is_symlink() or not entry.is_file():
            continue
        if stat.S_IMODE(entry.stat().st_mode) != PRIVATE_FILE:
            with contextlib.suppress(PermissionError):
                entry.chmod(PRIVATE_FILE)


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` atomically; the file is 0600 from its first byte."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(temporary, PRIVATE_FILE)  # O_CREAT's mode is not applied to an existing file
    os.replace(temporary, path)


def _parents_and_self(path: Path) -> list[Path]:
    return [path, *path.parents]


@contextlib.contextmanager
def undo_pgserver_loosening(data_dir: Path) -> Iterator[None]:
    """Around starting pgserver: afterwards every directory from the data dir up to `/` has
    its old mode again; as root, plus `o+x` (traverse only) so the `pgserver` user gets
    through, and the data dir itself 0711."""
    data_dir = data_dir.resolve()
    before = {p: stat.S_IMODE(p.stat().st_mode) for p in _parents_and_self(data_dir)}
    try:
        yield
    finally:
        root = running_as_root()
        for directory, mode in before.items():
            wanted = mode | stat.S_IXOTH if root else mode
            if directory == data_dir:
                wanted = TRAVERSABLE_DIR if root else PRIVATE_DIR
            with contextlib.suppress(OSError):
                if stat.S_IMODE(directory.stat().st_mode) != wanted:
                    directory.chmod(wanted)


def private_umask() -> None:
    """Files the `cloudstore` commands (and the backends they start) create are 0600."""
    os.umask(PRIVATE_UMASK)
