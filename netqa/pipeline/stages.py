"""Stage functions of :func:`netqa.pipeline.run_project`, one per step of the chain.

Each takes the :class:`~netqa.pipeline.RunContext`, returns the list of files
it wrote (or ``None`` when it had nothing to do), and records its main product
in ``ctx.products`` for the stages after it.  Stages only call library
functions; they hold no analysis logic.
"""

from __future__ import annotations

import logging

from netqa.pipeline.context import RunContext

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
        track=cfg.ingest.track,
        track_max_gap_s=cfg.ingest.track_max_gap_s,
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
    from netqa.kpi_cells import run_per_cell

    out = ctx.out_dir / "kpi.json"
    doc = run_kpi(
        ctx.products["samples"],
        out,
        events=ctx.products.get("events"),
        regions=cfg.inputs.regions,
        profile=cfg.kpi.profile,
        overwrite=ctx.overwrite,
    )
    cells_out, xlsx_out = ctx.out_dir / "kpi_cells.csv", ctx.out_dir / "kpi.xlsx"
    run_per_cell(ctx.products["samples"], doc, per_cell=cells_out, xlsx=xlsx_out, events=ctx.products.get("events"),
                 profile=cfg.kpi.profile, overwrite=ctx.overwrite)  # fmt: skip
    ctx.products["kpi"] = out
    ctx.products["kpi_cells"] = cells_out
    return [out, cells_out, xlsx_out]


def predict(ctx: RunContext):
    cfg = ctx.config
    if not (cfg.predict.enabled and cfg.inputs.cells and cfg.inputs.dem):
        return None
    # Streamed tile by tile (memory bounded by one tile and its terrain margin, whatever the area), as
    # `netqa predict`; the same pixels as predict() + write_coverage().
    from netqa.predict import PredictConfig, predict_to_file

    p = cfg.predict
    tuned = ctx.products.get("tuned_model") if p.use_calibrated else None
    config = PredictConfig.from_section(p, model="spm" if tuned else p.model, model_file=tuned or p.model_file)
    from netqa.predict.checks import check_predict_inputs

    check_predict_inputs(cfg.inputs.cells, list(cfg.inputs.dem), resolution_m=config.resolution_m,
                         terrain=config.terrain, model_file=config.model_file, surface=cfg.inputs.surface,
                         surface_flag="[inputs] surface")  # fmt: skip
    path = predict_to_file(
        cfg.inputs.cells,
        list(cfg.inputs.dem),
        ctx.out_dir / "coverage.tif",
        clutter=cfg.inputs.clutter,
        clutter_table=cfg.inputs.clutter_table,
        config=config,
        overwrite=ctx.overwrite,
        surface=cfg.inputs.surface,
    )
    ctx.products["coverage"] = path
    return [path]


def compare(ctx: RunContext):
    cfg = ctx.config
    if not (cfg.compare.enabled and "samples" in ctx.products and cfg.inputs.cells and cfg.inputs.dem):
        return None
    from netqa.compare.run import CompareConfig, compare as run_compare
    from netqa.predict.config import itm_pairs

    p, c = cfg.predict, cfg.compare
    inputs = dict(events=ctx.products.get("events"), clutter=cfg.inputs.clutter, clutter_table=cfg.inputs.clutter_table,
                  regions=cfg.inputs.regions, overwrite=ctx.overwrite, surface=cfg.inputs.surface)  # fmt: skip
    # resolution_m None: the DEM's/clutter's native grid at the samples ([predict] resolution_m is the coverage raster's)
    common = dict(terrain=p.terrain, rx_height_m=p.rx_height_m, resolution_m=None, radius_km=p.radius_km,
                  cell_load=p.cell_load, noise_figure_db=p.noise_figure_db,
                  clutter_model=c.clutter_model if c.clutter_model is not None else p.clutter_model,
                  location_pct=c.location_pct if c.location_pct is not None else p.location_pct,
                  street_width_m=c.street_width_m if c.street_width_m is not None else p.street_width_m,
                  itm=itm_pairs(p))  # fmt: skip
    out = ctx.out_dir / "compare"
    run_compare(ctx.products["samples"], cfg.inputs.cells, list(cfg.inputs.dem), out,
                config=CompareConfig(model=p.model, model_file=p.model_file, **common), **inputs)  # fmt: skip
    written = sorted(q for q in out.iterdir() if q.is_file())
    from netqa.link.worst import worst_links  # the worst-predicted samples' path profiles, for the report

    if (out / "residuals.parquet").is_file():  # none when no sample could be compared
        written += worst_links(out / "residuals.parquet", cfg.inputs.cells, list(cfg.inputs.dem), out / "profiles",
                               clutter=cfg.inputs.clutter, clutter_table=cfg.inputs.clutter_table, model=p.model,
                               terrain=p.terrain, model_file=p.model_file, rx_height_m=p.rx_height_m,
                               resolution_m=p.resolution_m, overwrite=ctx.overwrite)  # fmt: skip
    if "tuned_model" in ctx.products:  # the same comparison with the model calibrated in this run
        run_compare(ctx.products["samples"], cfg.inputs.cells, list(cfg.inputs.dem), out / "tuned",
                    config=CompareConfig(model="spm", model_file=ctx.products["tuned_model"], **common), **inputs)  # fmt: skip
        written += sorted(q for q in (out / "tuned").iterdir() if q.is_file())
    ctx.products["compare"] = out / "stats.json"
    return written


def calibrate(ctx: RunContext):
    cfg = ctx.config
    if not (cfg.calibrate.enabled and "samples" in ctx.products and cfg.inputs.cells and cfg.inputs.dem):
        return None
    from netqa.calibrate.run import CalibrateOptions, calibrate as run_calibrate
    from netqa.predict.config import itm_pairs

    p = cfg.predict
    out = ctx.out_dir / "tuned_model.toml"
    # h_eff "ground": antenna height above ground at the site (the model file's h_eff_method);
    # the DEM's/clutter's native grid (resolution_m None), cross-validation by site (the stage's defaults)
    options = CalibrateOptions(terrain=p.terrain, rx_height_m=p.rx_height_m, resolution_m=None, h_eff="ground",
                               path_clutter=cfg.calibrate.path_clutter,
                               path_clutter_near_m=cfg.calibrate.path_clutter_near_m,
                               learned_correction=cfg.calibrate.learned_correction, itm=itm_pairs(p))  # fmt: skip
    run_calibrate(ctx.products["samples"], cfg.inputs.cells, list(cfg.inputs.dem), out, clutter=cfg.inputs.clutter,
                  clutter_table=cfg.inputs.clutter_table, options=options, overwrite=ctx.overwrite,
                  surface=cfg.inputs.surface)  # fmt: skip
    ctx.products["tuned_model"] = out
    return [out]


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
        workers=int(cfg.score.workers),
        campaign_window=cfg.score.campaign_window,
        complaint_radius_m=cfg.score.complaint_radius_m,
        traffic_raster=cfg.score.traffic_raster,
        repair=cfg.score.repair,
        overwrite=ctx.overwrite,
    )
    from netqa.xlsx import write_score_workbook

    write_score_workbook(out, ctx.out_dir / "scores.xlsx", overwrite=ctx.overwrite)
    ctx.products["scores"] = out
    return [p for p in sorted(ctx.out_dir.glob("scores.*")) if p.is_file()]


def maps(ctx: RunContext):
    cfg = ctx.config
    if not cfg.map.enabled or "coverage" not in ctx.products:
        return None
    from netqa.maps import write_map

    coverage = ctx.products["coverage"]
    layers = dict(cells=cfg.inputs.cells, samples=ctx.products.get("samples"), overwrite=ctx.overwrite,
                  regions=ctx.products.get("scores", cfg.inputs.regions))  # outlines, names, scores on every map
    dem = cfg.inputs.dem[0] if cfg.inputs.dem else None
    written = []
    for fmt in cfg.map.formats:
        if fmt == "html":  # one interactive map carries every band as a switchable layer
            written.append(write_map(coverage, ctx.out_dir / "maps" / "coverage.html", band=cfg.map.bands[0],
                                     **layers))
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
    ("calibrate", calibrate),  # before predict ([predict] use_calibrated) and compare (which also reports it)
    ("predict", predict),
    ("compare", compare),
    ("score", score),
    ("map", maps),
    ("report", report),
]
