"""Running the stages of a project in order into one run folder (:func:`run_project`)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from netqa.config import ProjectConfig
from netqa.errors import NetQAError, NotBuiltError, OutputExistsError
from netqa.pipeline import stages as _stages
from netqa.pipeline.context import RunContext, Stage, StageRecord, prepare_run_dir, write_manifest

log = logging.getLogger("netqa.pipeline")


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


def default_stages() -> list[tuple[str, Stage]]:
    """The chain's stages in order (see :mod:`netqa.pipeline.stages`)."""
    return _stages.STAGES


def not_built(stage: str, issue: int) -> None:
    raise NotBuiltError(f"stage '{stage}' is not built yet (issue #{issue})")
