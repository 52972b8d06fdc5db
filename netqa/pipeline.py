"""The whole chain from a project file: ingest → KPIs → predict → compare/calibrate → score → maps → report.

:func:`run_project` runs every enabled stage whose inputs the project gives, in
order, into one run folder, and writes ``manifest.json`` there: the inputs with
their SHA-256, every parameter, the package versions, each stage's status and
timing, and every output with its SHA-256.  A stage whose issue has not landed
yet is recorded as ``not built`` and the chain goes on; a stage that fails on
bad input stops the run with the error (the manifest still records it).
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from netqa import __version__
from netqa.config import ProjectConfig
from netqa.errors import NetQAError, NotBuiltError, OutputExistsError
from netqa.fileio import sha256_file, write_text_atomic

log = logging.getLogger(__name__)

#: Packages whose versions go into every manifest.
VERSION_PACKAGES = (
    "numpy",
    "numba",
    "scipy",
    "pandas",
    "geopandas",
    "shapely",
    "pyogrio",
    "pyproj",
    "rasterio",
    "pyarrow",
    "matplotlib",
    "dask",
    "distributed",
)


@dataclass
class RunContext:
    """What the stages share: the config, the run folder, and outputs so far (name → path)."""

    config: ProjectConfig
    out_dir: Path
    overwrite: bool
    products: dict[str, Path] = field(default_factory=dict)
    records: list["StageRecord"] = field(default_factory=list)
    started: _dt.datetime = field(default_factory=lambda: _dt.datetime.now(_dt.timezone.utc))

    def write_manifest(self, status: str = "running") -> Path:
        """Write ``manifest.json`` for the stages run so far (the report stage reads it)."""
        return write_manifest(self, status)


@dataclass
class StageRecord:
    name: str
    status: str  # done | skipped | not built | failed
    seconds: float = 0.0
    outputs: list[str] = field(default_factory=list)
    message: str = ""


Stage = Callable[[RunContext], "list[Path] | None"]


def package_versions() -> dict[str, str]:
    """Versions of Python, netqa, GDAL and the scientific stack."""
    versions = {"python": platform.python_version(), "netqa": __version__}
    for name in VERSION_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    try:
        import rasterio

        versions["gdal"] = rasterio.__gdal_version__
    except Exception:  # pragma: no cover - rasterio is a hard dependency
        versions["gdal"] = None
    return versions


def _file_entry(path: Path, root: Path | None = None) -> dict[str, Any]:
    shown = str(path.relative_to(root)) if root and path.is_relative_to(root) else str(path)
    return {"path": shown, "bytes": path.stat().st_size, "sha256": sha256_file(path)}


def _input_files(config: ProjectConfig) -> list[Path]:
    files: list[Path] = []
    for value in config.to_dict()["inputs"].values():
        for item in value if isinstance(value, list) else [value]:
            if item:
                p = Path(item)
                files.extend(sorted(q for q in p.rglob("*") if q.is_file()) if p.is_dir() else [p])
    return files


def prepare_run_dir(out_dir: Path, overwrite: bool) -> Path:
    """Create the run folder; refuse a non-empty one unless ``overwrite``."""
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()) and not overwrite:
        raise OutputExistsError(f"{out_dir}: run folder exists and is not empty; pass --overwrite to reuse it")
    out_dir.mkdir(parents=True, exist_ok=True)
    return out_dir


def run_project(
    config: ProjectConfig,
    out_dir: Path | None = None,
    *,
    overwrite: bool = False,
    stages: list[tuple[str, Stage]] | None = None,
) -> Path:
    """Run the chain described by ``config`` and return the path of ``manifest.json``."""
    from netqa.preflight import check_project

    check_project(config)  # every key and input before the first stage: no half run on a bad [score] key
    out = Path(out_dir) if out_dir else (config.project.out or Path("netqa-run"))
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"{out}: is a file; the run folder must be a folder")
    out = prepare_run_dir(out, overwrite)
    ctx = RunContext(config=config, out_dir=out, overwrite=overwrite)
    records = ctx.records
    error: NetQAError | None = None
    for name, stage in stages if stages is not None else default_stages():
        t0 = time.perf_counter()
        try:
            produced = stage(ctx)
        except NotBuiltError as exc:
            records.append(StageRecord(name, "not built", message=str(exc)))
            log.info("%s: not built yet — skipped", name)
            continue
        except NetQAError as exc:
            records.append(StageRecord(name, "failed", time.perf_counter() - t0, message=str(exc)))
            error = exc
            break
        seconds = time.perf_counter() - t0
        if produced is None:
            records.append(StageRecord(name, "skipped", seconds, message="inputs not given or stage disabled"))
            continue
        outputs = [str(p.relative_to(out)) if p.is_relative_to(out) else str(p) for p in produced]
        records.append(StageRecord(name, "done", seconds, outputs))
        log.info("%s: done in %.1f s (%d outputs)", name, seconds, len(produced))
    path = write_manifest(ctx, "failed" if error else "done")
    if error is not None:
        raise error
    return path


def write_manifest(ctx: RunContext, status: str) -> Path:
    """Write ``ctx.out_dir/manifest.json`` atomically and return its path."""
    config, out = ctx.config, ctx.out_dir
    manifest = {
        "netqa_version": __version__,
        "project": config.project.name,
        "project_file": str(config.source) if config.source else None,
        "started_utc": ctx.started.isoformat(timespec="seconds"),
        "finished_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "status": status,
        "inputs": [_file_entry(p) for p in _input_files(config)],
        "parameters": config.to_dict(),
        "versions": package_versions(),
        "stages": [r.__dict__ for r in ctx.records],
        "outputs": [
            _file_entry(p, out)
            for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != "manifest.json" and not p.name.startswith(".")
        ],
    }
    return write_text_atomic(out / "manifest.json", json.dumps(manifest, indent=2) + "\n")


def default_stages() -> list[tuple[str, Stage]]:
    """The chain's stages in order (see :mod:`netqa.stages`)."""
    from netqa import stages

    return stages.STAGES


def not_built(stage: str, issue: int) -> None:
    raise NotBuiltError(f"stage '{stage}' is not built yet (issue #{issue})")
