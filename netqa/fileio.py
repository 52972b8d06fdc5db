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


#: Timestamp that GeoPackage writers stamp into ``gpkg_contents.last_change`` (see :func:`reproducible_gdal`).
GPKG_FIXED_DATE = "2024-01-01T00:00:00.000Z"
#: Timestamp of every member of the zip archives netqa writes (KMZ). [Y, M, D, h, m, s]
ZIP_FIXED_DATE = (1980, 1, 1, 0, 0, 0)


@contextlib.contextmanager
def reproducible_gdal() -> Iterator[None]:
    """Make GDAL's GeoPackage writer byte-reproducible: same inputs, same file.

    GDAL stamps the current time into ``gpkg_contents.last_change`` unless the
    configuration option ``OGR_CURRENT_DATE`` is set; it is set to
    :data:`GPKG_FIXED_DATE` inside the block and restored after it.
    """
    import pyogrio

    old = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": GPKG_FIXED_DATE})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": old})


def zip_member(name: str):
    """A ``zipfile.ZipInfo`` with a fixed date and deflate compression (reproducible archives)."""
    import zipfile

    info = zipfile.ZipInfo(name, date_time=ZIP_FIXED_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    return info
