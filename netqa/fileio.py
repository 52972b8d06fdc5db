"""Atomic output writing and overwrite protection.

Every output is written to a temporary file in the destination folder and then
renamed over the target, so a reader never sees a half-written file and an
interrupted run leaves the previous output intact.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from netqa.errors import OutputExistsError


def check_output(path: str | os.PathLike, overwrite: bool) -> Path:
    """Refuse to overwrite an existing ``path`` unless ``overwrite``; create its folder."""
    p = Path(path)
    if p.exists() and not overwrite:
        raise OutputExistsError(f"{p}: output exists; pass --overwrite to replace it")
    p.parent.mkdir(parents=True, exist_ok=True)
    return p


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it over ``path``.

    The temporary file keeps ``path``'s suffix (or ``suffix``) so that writers
    that pick a driver from the extension still work.  On error it is removed.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    sfx = suffix if suffix is not None else "".join(target.suffixes) or ".tmp"
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=".part" + sfx, dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    tmp_path.unlink()  # writers create the file themselves (some refuse an existing one)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def sha256_file(path: str | os.PathLike, chunk_bytes: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(chunk_bytes):
            h.update(chunk)
    return h.hexdigest()
