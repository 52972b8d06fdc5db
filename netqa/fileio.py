"""Atomic output writing and overwrite protection.

Every output is written to a temporary file in the destination folder and then
renamed over the target, so a reader never sees a half-written file and an
interrupted run leaves the previous output intact.

Outputs that belong together (ingest's samples, events and rejects; compare's
``stats.json`` and ``residuals.parquet``; score's GeoPackage and CSVs;
predict's coverage and per-cell rasters) are committed as a set with
:func:`atomic_set`: every member is written to its temporary file first, then a
commit journal (``.netqa-commit.NAME.json``, itself written atomically) names
the temporaries and their targets, the temporaries are renamed over the
targets and the journal is removed.  A kill before the journal exists leaves
the complete old set (the temporaries are stale and are removed by the next
run); a kill after it is rolled forward to the complete new set by the next
run that writes or reads the set (:func:`finish_pending_commits`).  A member
that the new set does not have (no events this time) is removed at the
commit, so an old member never mixes with a new set.

Temporary files are named ``.NAME.PID-RANDOM.part.SUFFIX``; one whose writing
process is no longer alive is left over from a killed run and is removed by
the next run that writes into the folder (:func:`clean_stale_parts`).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import re
import secrets
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from netqa.errors import OutputExistsError

log = logging.getLogger(__name__)

#: A temporary output: ``.NAME.PID-RANDOM.part`` + the target's suffixes.
_PART_RE = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)-[0-9a-f]{8}\.part(?P<sfx>.*)$")
#: A temporary file of netqa before the PID was in the name (``tempfile.mkstemp``): stale when older than this. [s]
LEGACY_PART_AGE_S = 3600.0
#: Commit journal of an output set, beside its first member.
_JOURNAL_RE = re.compile(r"^\.netqa-commit\..+\.json$")


def check_output(path: str | os.PathLike, overwrite: bool) -> Path:
    """Refuse to overwrite an existing ``path`` unless ``overwrite``; check that its folder can be made.

    The folder itself is created only when the output is written (:func:`atomic_path`,
    :func:`atomic_set`): a run that fails before its outputs leaves no new (empty) folder behind.
    A file standing where a folder of the path is expected, or a folder that cannot be written,
    is refused here, before any work (the same ``OSError`` that creating it would raise).
    """
    p = Path(path)
    if p.exists() and not overwrite:
        raise OutputExistsError(f"{p}: output exists; pass --overwrite to replace it")
    anc = p.parent
    while not anc.exists() and anc != anc.parent:
        anc = anc.parent
    if anc.exists() and not anc.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(anc))
    if anc.is_dir() and anc != p.parent and not os.access(anc, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(anc))
    return p


def _replace(src, dst) -> None:
    """``os.replace``; one indirection so that the kill tests can stop a commit between two renames."""
    os.replace(src, dst)


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def part_path(target: str | os.PathLike, suffix: str | None = None) -> Path:
    """A fresh temporary name beside ``target``: ``.NAME.PID-RANDOM.part`` + ``suffix`` (default: its suffixes).

    The target's suffix is kept so that writers that pick a driver from the
    extension still work; the PID lets a later run tell a killed run's
    leftover from a run still in progress.
    """
    t = Path(target)
    sfx = suffix if suffix is not None else "".join(t.suffixes) or ".tmp"
    return t.with_name(f".{t.name}.{os.getpid()}-{secrets.token_hex(4)}.part{sfx}")


def _remove(p: Path) -> None:
    if p.is_dir() and not p.is_symlink():
        import shutil

        shutil.rmtree(p, ignore_errors=True)
    else:
        p.unlink(missing_ok=True)


def clean_stale_parts(folder: str | os.PathLike) -> list[Path]:
    """Remove the temporary outputs in ``folder`` left by killed runs; return them.

    A ``.NAME.PID-RANDOM.part*`` entry whose PID is not a live process is
    stale (a run still writing keeps its own); so is an old-style
    ``.NAME.XXXXXXXX.part*`` temporary older than :data:`LEGACY_PART_AGE_S`.
    Temporaries named by a pending commit journal are kept (the journal's
    roll-forward needs them): call :func:`finish_pending_commits` first.
    """
    d = Path(folder)
    removed: list[Path] = []
    try:
        entries = list(d.iterdir())
    except OSError:
        return removed
    keep = set()
    for j in entries:
        if _JOURNAL_RE.match(j.name):
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                keep.update(Path(m["tmp"]).name for m in json.loads(j.read_text(encoding="utf-8"))["members"] if m["tmp"])
    now = time.time()
    for p in entries:
        if ".part" not in p.name or not p.name.startswith(".") or p.name in keep:
            continue
        m = _PART_RE.match(p.name)
        try:
            if m is not None:
                stale = not _pid_alive(int(m["pid"]))
            else:
                stale = re.match(r"^\..+\.[A-Za-z0-9_]{8}\.part", p.name) is not None and now - p.lstat().st_mtime > LEGACY_PART_AGE_S
            if stale:
                _remove(p)
                removed.append(p)
        except OSError:
            continue
    if removed:
        log.info("%s: removed %d temporary file(s) left by an interrupted run", d, len(removed))
    return removed


_CLEANED: set[str] = set()  # folders this process has already cleaned (leftovers come from earlier processes)


def _clean_once(folder: Path) -> None:
    """:func:`clean_stale_parts` once per folder and process: a folder of many small atomic writes
    (score's per-region parts) is listed once, not once per file."""
    key = str(folder.resolve())
    if key not in _CLEANED:
        _CLEANED.add(key)
        clean_stale_parts(folder)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it over ``path``.

    The temporary file keeps ``path``'s suffix (or ``suffix``) so that writers
    that pick a driver from the extension still work.  On error it is removed;
    temporaries left in the folder by killed runs are removed first.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    _clean_once(target.parent)
    tmp_path = part_path(target, suffix)
    try:
        yield tmp_path
        _replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            _remove(tmp_path)


def _fsync_path(p: Path) -> None:
    with contextlib.suppress(OSError):
        if p.is_dir():
            return
        fd = os.open(p, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _fsync_dir(d: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(d, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _journal_path(first: Path) -> Path:
    return first.with_name(f".netqa-commit.{first.name}.json")


def _roll_forward(journal: Path, members: list[dict]) -> None:
    """Apply a written journal: rename each temporary over its target, remove absent members, drop the journal."""
    for m in members:
        target = Path(m["target"])
        if m["tmp"]:
            tmp = Path(m["tmp"])
            if tmp.exists():
                _replace(tmp, target)
        elif target.exists():
            _remove(target)
    for d in {Path(m["target"]).parent for m in members}:
        _fsync_dir(d)
    journal.unlink(missing_ok=True)


def finish_pending_commits(folder: str | os.PathLike) -> int:
    """Complete the output-set commits in ``folder`` that a killed run left half done.

    A journal exists only once every member of its set was completely written,
    so rolling it forward always gives the complete new set.  Journals of a
    live process are left alone.  Returns the number of sets completed.
    """
    d = Path(folder)
    n = 0
    try:
        journals = [p for p in d.iterdir() if _JOURNAL_RE.match(p.name)]
    except OSError:
        return 0
    for j in journals:
        try:
            doc = json.loads(j.read_text(encoding="utf-8"))
            if _pid_alive(int(doc["pid"])):
                continue
            _roll_forward(j, doc["members"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("%s: cannot complete an interrupted output commit (%s)", j, exc)
            continue
        log.warning("%s: completed the output set that an interrupted run had committed (%s)", d,
                    ", ".join(Path(m["target"]).name for m in doc["members"]))
        n += 1
    return n


class OutputSet:
    """The members of one output set being written; see :func:`atomic_set`."""

    def __init__(self, targets: Sequence[Path]):
        self.targets = list(targets)
        self._tmp: dict[Path, Path] = {}

    def path(self, target: str | os.PathLike, suffix: str | None = None) -> Path:
        """The temporary path to write member ``target`` to (write it there; the commit renames it)."""
        t = Path(target)
        if t not in self.targets:
            raise ValueError(f"{t} is not a member of this output set ({', '.join(map(str, self.targets))})")
        if t not in self._tmp:
            self._tmp[t] = part_path(t, suffix)
        return self._tmp[t]

    def _commit(self) -> None:
        members = []
        for t in self.targets:
            tmp = self._tmp.get(t)
            written = tmp is not None and tmp.exists()
            if written:
                _fsync_path(tmp)
            members.append({"target": str(t.absolute()), "tmp": str(tmp.absolute()) if written else None})
        journal = _journal_path(self.targets[0])
        jtmp = part_path(journal)
        with open(jtmp, "w", encoding="utf-8") as fh:
            json.dump({"pid": os.getpid(), "members": members}, fh)
            fh.flush()
            os.fsync(fh.fileno())
        _replace(jtmp, journal)  # the commit point: from here the new set wins
        _fsync_dir(journal.parent)
        _roll_forward(journal, members)

    def _discard(self) -> None:
        for tmp in self._tmp.values():
            with contextlib.suppress(OSError):
                if tmp.exists():
                    _remove(tmp)


@contextlib.contextmanager
def atomic_set(targets: Sequence[str | os.PathLike]) -> Iterator[OutputSet]:
    """Write several outputs as one set: all of them change together, or none.

    Inside the block, ``s.path(target)`` gives each member's temporary path;
    a member never written is absent from the new set (an old file of that
    name is removed at the commit).  On success the set is committed through a
    journal (module docstring); on an error nothing changes.  A kill at any
    moment leaves the complete old set, or a journal that the next run (or
    reader) rolls forward to the complete new set.

    Parameters
    ----------
    targets : sequence of path
        The set's members (their folders are created); the first names the journal.

    Examples
    --------
    >>> import tempfile; d = Path(tempfile.mkdtemp())
    >>> with atomic_set([d / "a.txt", d / "b.txt"]) as s:
    ...     _ = s.path(d / "a.txt").write_text("new a")
    >>> sorted(p.name for p in d.iterdir())
    ['a.txt']
    """
    ts = [Path(t) for t in targets]
    if not ts:
        raise ValueError("an output set needs at least one member")
    folders = list(dict.fromkeys(t.parent for t in ts))
    for d in folders:
        d.mkdir(parents=True, exist_ok=True)
        finish_pending_commits(d)
        clean_stale_parts(d)
    s = OutputSet(ts)
    try:
        yield s
        s._commit()
    finally:
        s._discard()


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
