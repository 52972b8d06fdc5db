"""Stage functions of :func:`netqa.pipeline.run_project`, one per step of the chain.

Each takes the :class:`~netqa.pipeline.RunContext`, returns the list of files
it wrote (or ``None`` when it had nothing to do), and records its main product
in ``ctx.products`` for the stages after it.  Stages only call library
functions; they hold no analysis logic.
"""

from __future__ import annotations

import logging

from netqa.pipeline import RunContext, not_built

log = logging.getLogger(__name__)


def ingest(ctx: RunContext):
    cfg = ctx.config
    if not (cfg.ingest.enabled and cfg.inputs.logs):
        return None
    from netqa.ingest import ingest_logs

    result = ingest_logs(
        list(cfg.inputs.logs),
        ctx.out_dir / "samples.parquet",
        fmt=cfg.ingest.format,
        cells=cfg.inputs.cells,
        tz=cfg.ingest.tz,
        overwrite=ctx.overwrite,
    )
    log.info("ingest: %s", result.summary())
    ctx.products["samples"] = result.out
    written = [result.out, result.rejects_path]
    if result.events_path is not None:
        ctx.products["events"] = result.events_path
        written.append(result.events_path)
    return [p for p in written if p.exists()]


def kpi(ctx: RunContext):
    cfg = ctx.config
    if not cfg.kpi.enabled or "samples" not in ctx.products:
        return None
    from netqa.kpi import run_kpi

    out = ctx.out_dir / "kpi.json"
    run_kpi(
        ctx.products["samples"],
        out,
        events=ctx.products.get("events"),
        regions=cfg.inputs.regions,
        profile=cfg.kpi.profile,
        overwrite=ctx.overwrite,
    )
    ctx.products["kpi"] = out
    return [out]


def predict(ctx: RunContext):
    cfg = ctx.config
    if not (cfg.predict.enabled and cfg.inputs.cells and cfg.inputs.dem):
        return None
    from netqa.predict import PredictConfig, predict as run_predict, write_coverage

    p = cfg.predict
    config = PredictConfig(
        model=p.model,
        terrain=p.terrain,
        model_file=p.model_file,
        resolution_m=p.resolution_m,
        radius_km=p.radius_km,
        rx_height_m=p.rx_height_m,
        noise_figure_db=p.noise_figure_db,
        cell_load=p.cell_load,
    )
    result = run_predict(
        cfg.inputs.cells,
        list(cfg.inputs.dem),
        clutter=cfg.inputs.clutter,
        clutter_table=cfg.inputs.clutter_table,
        config=config,
    )
    path = write_coverage(result, ctx.out_dir / "coverage.tif", overwrite=ctx.overwrite)
    ctx.products["coverage"] = path
    return [path]


def compare(ctx: RunContext):
    if not ctx.config.compare.enabled or "samples" not in ctx.products:
        return None
    return not_built("compare", 6)


def calibrate(ctx: RunContext):
    if not ctx.config.calibrate.enabled or "samples" not in ctx.products:
        return None
    return not_built("calibrate", 6)


def score(ctx: RunContext):
    cfg = ctx.config
    if not (cfg.score.enabled and cfg.inputs.regions):
        return None
    from netqa.score import score_regions

    out = ctx.out_dir / "scores.gpkg"
    score_regions(
        cfg.inputs.regions,
        out,
        samples=ctx.products.get("samples"),
        events=ctx.products.get("events"),
        coverage=ctx.products.get("coverage"),
        complaints=cfg.inputs.complaints,
        cells=cfg.inputs.cells,
        scheme=cfg.score.scheme,
        profile=cfg.kpi.profile,
        scheduler=cfg.score.scheduler,
        overwrite=ctx.overwrite,
    )
    ctx.products["scores"] = out
    return [p for p in sorted(ctx.out_dir.glob("scores.*")) if p.is_file()]


def maps(ctx: RunContext):
    cfg = ctx.config
    if not cfg.map.enabled or "coverage" not in ctx.products:
        return None
    from netqa.maps import write_map

    coverage = ctx.products["coverage"]
    layers = dict(cells=cfg.inputs.cells, samples=ctx.products.get("samples"), overwrite=ctx.overwrite)
    dem = cfg.inputs.dem[0] if cfg.inputs.dem else None
    written = []
    for fmt in cfg.map.formats:
        if fmt == "html":  # one interactive map carries every band as a switchable layer
            written.append(write_map(coverage, ctx.out_dir / "maps" / "coverage.html", band=cfg.map.bands[0],
                                     regions=ctx.products.get("scores", cfg.inputs.regions), **layers))
            continue
        for band in cfg.map.bands:
            extra = {"dem": dem} if fmt == "png" else {}
            written.append(write_map(coverage, ctx.out_dir / "maps" / f"{band}.{fmt}", band=band, **layers, **extra))
    return written


def report(ctx: RunContext):
    from netqa.report import write_report

    ctx.write_manifest()
    return [write_report(ctx.out_dir, ctx.out_dir / "report.html", overwrite=True)]


STAGES = [
    ("ingest", ingest),
    ("kpi", kpi),
    ("predict", predict),
    ("compare", compare),
    ("calibrate", calibrate),
    ("score", score),
    ("map", maps),
    ("report", report),
]
