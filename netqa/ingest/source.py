"""Byte-level preparation of a text log: compression, UTF-16/32 and old-Mac line ends.

A log is read by :mod:`netqa.ingest.reader` (with :mod:`netqa.ingest.plan` and :mod:`netqa.ingest.blocks`) as UTF-8 text with LF or CRLF line
ends, in blocks cut at line ends.  Files that are not so are converted first,
streamed into a temporary UTF-8 file with the same lines (so every physical
line keeps its number in the rejects file):

* gzip, bzip2 and xz compression (by their magic bytes, whatever the name),
  and a zip archive holding one file;
* UTF-16 and UTF-32 with a byte-order mark, and UTF-16 without one (told by
  the NUL byte of every ASCII character);
* CR-only line ends (classic Mac OS and some loggers), which would otherwise
  make the whole file one line.

Bounded memory: the conversion streams in chunks of :data:`CHUNK_BYTES`.
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import lzma
import zipfile
from pathlib import Path

from netqa.errors import LogFormatError

#: Bytes per streamed chunk.
CHUNK_BYTES = 4 << 20
#: Bytes looked at to recognise compression, encoding and line ends.
SNIFF_BYTES = 1 << 16
#: File-name endings of compressed logs (a folder's logs include them).
COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz", ".zip")

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def _open_decompressed(path: Path, head: bytes):
    """A binary file object of the decompressed content, and the name of the compression (or None)."""
    if head[:2] == b"\x1f\x8b":
        return gzip.open(path, "rb"), "gzip"
    if head[:3] == b"BZh":
        return bz2.open(path, "rb"), "bzip2"
    if head[:6] == b"\xfd7zXZ\x00":
        return lzma.open(path, "rb"), "xz"
    if head[:4] == b"PK\x03\x04":
        try:
            zf = zipfile.ZipFile(path)
        except zipfile.BadZipFile as exc:
            raise LogFormatError(f"{path}: damaged zip archive ({exc})") from None
        members = [i for i in zf.infolist() if not i.is_dir() and not i.filename.startswith("__MACOSX/")]
        if len(members) != 1:
            zf.close()
            raise LogFormatError(f"{path}: zip archive holds {len(members)} files; unpack it and give the logs one by one")
        return zf.open(members[0]), "zip"
    return None, None


def _sniff_encoding(head: bytes) -> tuple[str | None, int]:
    """(codec, bytes of BOM to skip); codec None for UTF-8 / ASCII."""
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return codec, len(bom)
    sample = head[: 4096 - (len(head[:4096]) % 2)]
    if len(sample) >= 8:
        even_nul = sample[0::2].count(0) / (len(sample) / 2)
        odd_nul = sample[1::2].count(0) / (len(sample) / 2)
        if odd_nul > 0.4 and even_nul < 0.05:  # 'a\0b\0' : ASCII as UTF-16 little-endian
            return "utf-16-le", 0
        if even_nul > 0.4 and odd_nul < 0.05:
            return "utf-16-be", 0
    return None, 0


def _cr_only(text_head: bytes) -> bool:
    return b"\r" in text_head and b"\n" not in text_head


def prepared_source(path: Path, workdir: Path) -> tuple[Path, list[str]]:
    """The file to read for ``path`` (itself, or a converted copy in ``workdir``) and what was converted.

    Raises LogFormatError naming ``path`` when the content cannot be decoded
    (a damaged archive, invalid UTF-16).
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(SNIFF_BYTES)
    except IsADirectoryError:
        raise LogFormatError(f"{path}: is a folder, not a log file") from None
    except OSError as exc:
        raise LogFormatError(f"{path}: cannot be read ({exc.strerror})") from None
    steps: list[str] = []
    src, comp = _open_decompressed(path, head)
    if src is not None:
        steps.append(f"{comp}-decompressed")
        try:
            head = src.peek(SNIFF_BYTES)[:SNIFF_BYTES] if hasattr(src, "peek") else b""
        except (OSError, EOFError, lzma.LZMAError) as exc:
            src.close()
            raise LogFormatError(f"{path}: damaged {comp} data ({exc})") from None
        if not head:  # zip members do not peek: read a head and chain it
            head = src.read(SNIFF_BYTES)
            src = _Chain(head, src)
    codec, skip = _sniff_encoding(head)
    if codec:
        steps.append(f"decoded from {codec.upper()}")
    probe = head[skip:]
    if codec:
        probe = probe[: len(probe) - len(probe) % (4 if "32" in codec else 2)].decode(codec, "replace").encode("utf-8")
    cr = _cr_only(probe)
    if cr:
        steps.append("CR line ends read as line ends")
    if not steps:
        return path, steps
    out = workdir / path.name
    if src is None:
        src = open(path, "rb")  # noqa: SIM115 - closed by the with below, like the decompressing readers
    try:
        with src, open(out, "wb") as dst:
            dec = codecs.getincrementaldecoder(codec)("strict") if codec else None
            if skip:
                src.read(skip)
            offset, pending_cr = skip, False
            while True:
                chunk = src.read(CHUNK_BYTES)
                final = not chunk
                try:
                    data = dec.decode(chunk, final=final).encode("utf-8") if dec else chunk
                except UnicodeDecodeError as exc:
                    raise LogFormatError(f"{path}: not valid {codec.upper()} at byte {offset + exc.start} ({exc.reason})") from None
                offset += len(chunk)
                if cr:
                    if pending_cr and data.startswith(b"\n"):
                        data = data[1:]
                    pending_cr = data.endswith(b"\r")
                    data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
                dst.write(data)
                if final:
                    break
    except (OSError, EOFError, lzma.LZMAError, zipfile.BadZipFile) as exc:
        raise LogFormatError(f"{path}: damaged {comp or 'compressed'} data ({exc})") from None
    return out, steps


class _Chain:
    """A read-only file object: ``head`` bytes, then the rest of ``rest``."""

    def __init__(self, head: bytes, rest):
        self._head, self._rest = head, rest

    def read(self, n: int = -1) -> bytes:
        if self._head:
            if n < 0:
                out, self._head = self._head + self._rest.read(), b""
                return out
            out, self._head = self._head[:n], self._head[n:]
            if len(out) < n:
                out += self._rest.read(n - len(out))
            return out
        return self._rest.read(n)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._rest.close()
