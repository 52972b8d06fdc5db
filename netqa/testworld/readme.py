"""testdata/README.md text and the SHA256SUMS list."""

from __future__ import annotations

from pathlib import Path

from netqa.fileio import sha256_file


def readme_text(info: dict) -> str:
    return "# netqa test world\n\n(README to be written)\n"


def write_sha256sums(out: Path) -> None:
    """``<sha256>  <relative path>`` for every generated file, sorted; ``reference/`` is not ours."""
    lines = []
    for p in sorted(out.rglob("*")):
        rel = p.relative_to(out).as_posix()
        if not p.is_file() or rel == "SHA256SUMS" or rel.startswith("reference/"):
            continue
        lines.append(f"{sha256_file(p)}  {rel}")
    (out / "SHA256SUMS").write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
