"""The ``netqa compare`` stage: predicted vs measured signal strength, drop rate and throughput.

Every sample is predicted at its own position for **its own serving cell**
(and the best server) with the engine's POINTS mode
(:func:`netqa.compare.points.predict_samples`); a tuned model file applies per
band (its ``[band.KEY]`` sections by the cell's tech and carrier, else the
global ``[spm]``), with its tuned clutter losses (``table`` clutter model
only), per-cell K1/K2 and its effective-height convention.  The clutter class
of a sample becomes a loss by ``CompareConfig.clutter_model`` exactly as in
``netqa predict`` (:func:`netqa.compare.points.point_clutter`): ``table``
(class table ``loss_db``), ``p2108`` (ITU-R P.2108-1 section 3.1 height gain
per class and carrier) or ``p2108-statistical`` (section 3.2 at
``location_pct`` on suburban/urban/dense-urban classes).  Outputs in ``DIR``:

* ``stats.json`` -- DESIGN.md's keys (``n``, ``mean_error_db``,
  ``std_error_db``, ``rmse_db``, ``correlation``, ``per_cell``,
  ``per_clutter``, ``per_distance_km``, ``per_region``) for RSRP, before and
  after Lee averaging, the samples each filter removed, the best-server
  comparison, DL/UL throughput in download/upload periods with percentiles
  side by side and the stated assumptions, drop rate and handover failure
  (:mod:`netqa.compare.events`);
* ``residuals.parquet`` -- one row per usable sample (predicted, measured,
  error = predicted - measured, filter flag; ``region``: the ids of every
  region holding the sample, comma-separated, None for none);
* the plots of :mod:`netqa.compare.plots`.

Per-region figures (``--regions``) count a sample in **every** region whose
polygon holds it (inside or on the edge), as ``netqa kpi`` and ``netqa score``
do: overlapping regions (a road corridor over rural areas) each count the
samples they share, so per-region counts may add up to more than the total.
Membership comes from :func:`netqa.score.points.assign_points`, the helper of
``netqa score``.  An averaged window counts in the regions of its first sample;
a set-up call in the regions of its attempt's nearest sample, a drop in those
of its nearest sample.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from netqa.compare.binning import (SampleFilters, average_groups, filter_samples, filters_report, lee_windows,
                                   square_bins)  # fmt: skip
from netqa.compare.prepare import prepare
from netqa.compare.regional import (_compare_events, _per_region_stats, _region_labels, _regions,
                                    read_events, region_members)
from netqa.compare.select import DEFAULT_FILTERS, Selection
from netqa.compare.stats import error_stats, percentiles_side_by_side, stats_table
from netqa.errors import InputError
from netqa.fileio import atomic_set, check_output
from netqa.timings import phase
from propagation import ValidityRangeWarning
from propagation.engine import EngineConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CompareConfig:
    """Settings of :func:`compare`.

    ``model``/``terrain``/``rx_height_m``/``model_file``/``resolution_m``/``radius_km``
    as ``netqa predict``; ``cell_load``: share of the interferers' resource
    elements transmitted [-]; ``filters``: distance range [km], RSRP floor
    [dBm], minimum samples per averaging window; ``area_step_m``: spacing of
    the points over each region's area for the area drop model [m];
    ``bin_m``: square bins for the averaged statistics when Lee windows
    hold too few samples (1 Hz logs) [m]; ``plots``: write the PNG plots;
    ``clutter_model`` (table, p2108, p2108-statistical), ``location_pct``
    (percentage of locations of the statistical loss, 0 < p < 100) [%] and
    ``street_width_m`` (street width w_s of the P.2108 height-gain model) [m]
    as ``netqa predict`` (:class:`netqa.predict.PredictConfig`); ``selection``:
    the serving sites/cells whose samples are compared (:mod:`netqa.compare.select`); ``itm``: Longley-Rice
    settings of ``terrain="itm"`` as :class:`netqa.predict.PredictConfig`'s.

    Raises
    ------
    netqa.errors.ConfigError
        An unknown ``clutter_model`` or a ``location_pct``/``street_width_m``
        outside its range (the message names the flag, the value and the range).
    """

    model: str = "hata"
    terrain: str = "none"
    rx_height_m: float = 1.5
    model_file: Path | None = None
    resolution_m: float | None = None  # None: the DEM's/clutter's native pixel (no resampling to a coarser grid)
    radius_km: float = 15.0
    cell_load: float = 1.0
    noise_figure_db: float = 7.0
    #: the distance and signal filters shared with calibrate (:data:`netqa.compare.select.DEFAULT_FILTERS`)
    filters: SampleFilters = field(default_factory=lambda: replace(DEFAULT_FILTERS, min_samples_per_bin=3))
    selection: Selection = field(default_factory=Selection)
    area_step_m: float = 300.0
    bin_m: float = 50.0
    plots: bool = True
    clutter_model: str = "table"
    location_pct: float = 50.0
    street_width_m: float = 27.0
    itm: tuple = ()

    def __post_init__(self):
        from netqa.predict import PredictConfig

        # the clutter and ITM settings mean what they mean in netqa predict: one validation, one set of messages
        PredictConfig(clutter_model=self.clutter_model, location_pct=self.location_pct,
                      street_width_m=self.street_width_m, terrain=self.terrain, itm=self.itm)  # fmt: skip


# ----------------------------------------------------------------------------------
# model (file) set-up
# ----------------------------------------------------------------------------------
def _model_setup(world, config: CompareConfig, table_db):
    """Engine config, per-band groups (cell rows, config, clutter losses by class), extra loss, description."""
    pct = config.location_pct  # used only where a statistical clutter mask is passed (p2108-statistical)
    clutter_used = {"clutter_model": config.clutter_model}
    if config.clutter_model == "p2108":
        clutter_used["street_width_m"] = config.street_width_m
    if config.clutter_model == "p2108-statistical":
        clutter_used["location_pct"] = config.location_pct
    base = EngineConfig(model=config.model, terrain=config.terrain, rx_height_m=config.rx_height_m,
                        noise_figure_db=config.noise_figure_db, clutter_location_pct=pct, **dict(config.itm))  # fmt: skip
    if not config.model_file:
        return base, None, None, {"model": config.model, "terrain": config.terrain, **clutter_used}
    from netqa.io.modelfile import band_key, read_model_file

    tm = read_model_file(config.model_file)
    from netqa.predict.pattern_weight import apply_pattern_weights, cell_pattern_weights

    world.matrix = apply_pattern_weights(world.matrix, cell_pattern_weights(tm, world.cells))  # issue 12
    if config.model != "spm":
        log.warning("--model-file holds a tuned SPM: predicting with model spm instead of %s", config.model)
    from netqa.modelcheck import check_tuned_clutter

    check_tuned_clutter(tm, config.model_file, None if world.clutter_code is None else "clutter")
    from netqa.modelcheck import check_tuned_cells, check_tuned_terrain

    check_tuned_cells(tm, world.cells, config.model_file)
    check_tuned_terrain(tm, config.model_file, terrain=config.terrain, surface=world.obstacle_m, itm=config.itm)
    base = EngineConfig(model="spm", terrain=config.terrain, rx_height_m=config.rx_height_m, spm_k=tm.k,
                        noise_figure_db=config.noise_figure_db, spm_h_eff=tm.h_eff_method,
                        clutter_location_pct=pct, **dict(config.itm))  # fmt: skip
    if config.clutter_model != "table" and (tm.clutter_loss_db or any(b.clutter_loss_db for b in tm.bands.values())):
        log.warning("--clutter-model %s: the model file's clutter losses are not used (they belong to the class "
                    "table model)", config.clutter_model)  # fmt: skip
    cells = world.cells
    m = world.matrix
    tech = cells["tech"].astype(str).to_numpy(object) if "tech" in cells else np.full(len(cells), "", object)
    keys = np.array([band_key(t, f) for t, f in zip(tech, m[:, 7])], dtype=object)
    groups = []
    k_cell = []
    for key in np.unique(keys):
        rows = np.flatnonzero(keys == key)
        b = tm.bands.get(key)
        k = b.k if b is not None else tm.k
        losses = {**table_db, **tm.clutter_loss_db, **(b.clutter_loss_db if b is not None else {})}
        groups.append((rows, EngineConfig(model="spm", terrain=config.terrain, rx_height_m=config.rx_height_m,
                                          spm_k=k, noise_figure_db=config.noise_figure_db,
                                          spm_h_eff=tm.h_eff_method, clutter_location_pct=pct,
                                          **dict(config.itm)), losses))  # fmt: skip
        k_cell.extend((r, k) for r in rows)
    k_of = dict(k_cell)
    ids = world.cell_ids
    dk1 = np.array([tm.per_cell.get(c, {}).get("k1", k_of[i].k1) - k_of[i].k1 for i, c in enumerate(ids)])
    dk2 = np.array([tm.per_cell.get(c, {}).get("k2", k_of[i].k2) - k_of[i].k2 for i, c in enumerate(ids)])

    from netqa.compare.pathclutter import path_clutter_extra  # issue 12 item 3: clutter along the path

    path_extra = path_clutter_extra(world, tm, tech, clutter_model=config.clutter_model, model_file=config.model_file)

    def extra_loss(x, y, z):
        """Per-cell K1/K2 offsets of the file over the band's model (and its path-clutter losses). [dB]"""
        dist_km = np.maximum(np.hypot(x[:, None] - m[None, :, 0], y[:, None] - m[None, :, 1]) * 1e-3, base.min_dist_km)
        extra = dk1[None, :] + dk2[None, :] * np.log10(dist_km)
        return extra if path_extra is None else extra + path_extra(x, y)

    used = {"model": "spm (tuned model file)", "model_file": str(config.model_file), "terrain": config.terrain,
            "h_eff_method": tm.h_eff_method, "bands_tuned": sorted(set(keys.tolist()) & set(tm.bands)),
            "bands_global_fallback": sorted(set(keys.tolist()) - set(tm.bands)),
            "cells_with_own_k": sorted(set(ids.tolist()) & set(tm.per_cell))[:200], **clutter_used,
            "path_clutter_applied": path_extra is not None}  # fmt: skip
    return base, groups, extra_loss, used


# ----------------------------------------------------------------------------------
# the stage
# ----------------------------------------------------------------------------------
def compare(samples, cells, dem, out, *, events=None, clutter=None, clutter_table=None, regions=None,
            config: CompareConfig = CompareConfig(), overwrite: bool = False, surface=None) -> dict:  # fmt: skip
    """Compare predictions with measurements; write ``stats.json``, ``residuals.parquet`` and plots in ``out``.

    Returns
    -------
    dict
        The content of ``stats.json``.
    """
    out = Path(out)
    if config.clutter_model != "table" and clutter is None:
        raise InputError(f"--clutter-model {config.clutter_model} needs a clutter class raster: give --clutter RASTER "
                         "and --clutter-table CSV (code,name,loss_db,height_m[,p2108_type]), or leave --clutter-model "
                         "table")  # fmt: skip
    stats_path = check_output(out / "stats.json", overwrite)
    if surface is not None:
        from netqa.predict.surface import warn_if_unused

        warn_if_unused(surface, config.terrain)
    check_output(out / "residuals.parquet", overwrite)
    prep = prepare(samples, cells, dem, clutter=clutter, clutter_table=clutter_table, resolution_m=config.resolution_m,
                   radius_km=config.radius_km, selection=config.selection, surface=surface)  # fmt: skip
    world, df = prep.world, prep.df
    table_db = {world.clutter_name[c]: v for c, v in world.clutter_loss.items()}
    from netqa.modelcheck import check_model_file_flags, resolve_model

    check_model_file_flags(config.model, config.model_file)
    if not config.model_file:  # auto -> the band's model; an explicit one out of its range: a loud warning
        config = dataclasses.replace(config, model=resolve_model(config.model, world.cells["freq_mhz"], what="compare",
                                                                  terrain=config.terrain))  # fmt: skip
    base, groups, extra, model_used = _model_setup(world, config, table_db)
    from netqa.compare.points import predict_samples

    table_loss = np.where(pd.isna(prep.clutter), 0.0, prep.clutter_db)
    clutter_db, stat_mask, g = _clutter_inputs(world, prep.x_m, prep.y_m, prep.clutter, table_loss, groups, config)
    log.info("compare: %d samples, %d cells, model %s, clutter model %s", len(df), len(world.cells),
             model_used["model"], config.clutter_model)  # fmt: skip
    pred = predict_samples(world, prep.x_m, prep.y_m, prep.serving, base, clutter_db=clutter_db,
                           noise_figure_db=config.noise_figure_db, groups=g, extra_loss=extra,
                           layer=cell_layers(world), clutter_stat_mask=stat_mask)  # fmt: skip
    if config.model_file:  # issue 12 item 5: the model file's learned correction, where it applies
        from netqa.io.modelfile import read_model_file
        from netqa.predict.learned import correct_points, usable_correction

        corr = usable_correction(read_model_file(config.model_file), config.model_file, terrain=config.terrain,
                                 rx_height_m=config.rx_height_m, has_clutter=world.clutter_code is not None,
                                 has_surface=surface is not None, what="compare")  # fmt: skip
        if corr is not None:
            pred.rsrp_dbm, info = correct_points(corr, world, prep.x_m, prep.y_m, prep.serving, pred.rsrp_dbm)
            model_used.update(info)
    m = world.matrix
    srv = prep.serving
    dist_km = np.hypot(prep.x_m - m[srv, 0], prep.y_m - m[srv, 1]) / 1000.0
    meas = _num(df, "rsrp_dbm")
    keep, removed = filter_samples(dist_km, meas, config.filters)
    no_pred = keep & ~np.isfinite(pred.rsrp_dbm)
    removed["no_prediction_beyond_radius"] = int(no_pred.sum())
    keep &= ~no_pred
    cell_ids = world.cell_ids[srv]
    clutter_lab = np.asarray(prep.clutter, dtype=object)
    gdf = _regions(regions)
    lat, lon = _num(df, "lat"), _num(df, "lon")
    src = prep.source  # every sample as read: the event models use all measured conditions
    src_members = region_members(gdf, _num(src, "lon"), _num(src, "lat")) if gdf is not None else None
    members = None if gdf is None else {r: m[prep.rows] for r, m in src_members.items()}  # every region holding it
    lab = {"cell": cell_ids, "clutter": clutter_lab if world.clutter_code is not None else None, "dist_km": dist_km}

    def sub(a):
        return None if a is None else np.asarray(a)[keep]

    result: dict = {
        "residual": "predicted minus measured",
        "model": model_used,
        "samples": {"read": prep.n_read, **prep.removed, **removed, "compared": int(keep.sum())},
        "grid_resolution_m": float(world.grid.pixel_size_m),
    }
    if config.selection.active:
        result["selection"] = {k: list(v) for k, v in vars(config.selection).items() if v is not None}
    if prep.unknown_cells:
        result["samples"]["unknown_serving_cells"] = prep.unknown_cells[:50]
    rsrp_block = stats_table(pred.rsrp_dbm[keep], meas[keep], **{k: sub(v) for k, v in lab.items()})
    if members is not None:
        in_region = {r: m[keep] for r, m in members.items()}
        rsrp_block["per_region"] = _per_region_stats(pred.rsrp_dbm[keep], meas[keep], in_region)
    result.update({k: rsrp_block[k] for k in ("n", "mean_error_db", "std_error_db", "rmse_db", "correlation")})
    result["rsrp"] = rsrp_block
    result["rsrp_best_server"] = {
        "definition": "measured RSRP against the strongest predicted cell of the serving cell's layer (same "
                      "technology and carrier frequency: what a phone camped on that layer measures)",
        **error_stats(pred.best_layer_rsrp_dbm[keep], meas[keep]).to_dict(),
        "best_server_is_serving": _round(np.mean(pred.best_layer_cell[keep] == srv[keep])),
    }  # fmt: skip
    result["rsrp_percentiles"] = percentiles_side_by_side(pred.rsrp_dbm[keep], meas[keep])
    result.update({k: v for k, v in rsrp_block.items() if k.startswith("per_")})
    # --- after Lee averaging -----------------------------------------------------------------------------------
    codes = lee_windows(df["session"].astype(str).to_numpy(object), cell_ids, pd.to_datetime(df["time"], utc=True, format="mixed").to_numpy()
                        if "time" in df else np.arange(len(df)), prep.x_m, prep.y_m, m[srv, 7])  # fmt: skip
    codes = np.where(keep, codes, -1)
    method = "Lee 40-wavelength windows per session and serving cell, linear-domain mean"
    per_win = np.bincount(codes[codes >= 0]) if (codes >= 0).any() else np.zeros(1)
    if np.median(per_win[per_win > 0]) < config.filters.min_samples_per_bin:
        method = (f"square {config.bin_m:g} m bins per serving cell, linear-domain mean (Lee 40-wavelength windows "
                  f"hold a median {np.median(per_win[per_win > 0]):g} sample(s) at this logging rate)")  # fmt: skip
        codes = np.where(keep, square_bins(cell_ids, prep.x_m, prep.y_m, config.bin_m), -1)
    cols = {"pred": pred.rsrp_dbm, "meas": meas, "dist_km": dist_km, "cell": cell_ids,
            "clutter": np.where(pd.isna(clutter_lab), "none", clutter_lab).astype(object),
            "first_row": np.arange(len(df))}  # fmt: skip
    avg = average_groups(codes, cols, power=("pred", "meas"), domain="linear", first=("cell", "clutter", "first_row"))
    few = avg["n_samples"] < config.filters.min_samples_per_bin
    result["filters"] = filters_report(config.filters, removed, bin_removed=int(avg.loc[few, "n_samples"].sum()),
                                       bin_scope="averaged statistics (rsrp_averaged) only")  # fmt: skip
    avg = avg[~few]
    ablock = stats_table(avg["pred"].to_numpy(), avg["meas"].to_numpy(), cell=avg["cell"].to_numpy(),
                         clutter=avg["clutter"].to_numpy() if world.clutter_code is not None else None,
                         dist_km=avg["dist_km"].to_numpy())  # fmt: skip
    if members is not None:  # a window counts in the regions of its first sample
        first_row = avg["first_row"].to_numpy(np.int64)
        ablock["per_region"] = _per_region_stats(avg["pred"].to_numpy(), avg["meas"].to_numpy(),
                                                 {r: m[first_row] for r, m in members.items()})  # fmt: skip
    result["rsrp_averaged"] = {"method": method,
                               "n_windows": int(len(avg)), "n_samples": int(avg["n_samples"].sum()),
                               "windows_below_min_samples": int(few.sum()),
                               "min_samples_per_bin": config.filters.min_samples_per_bin, **ablock}  # fmt: skip
    # --- throughput -----------------------------------------------------------------------------------------
    result["throughput"] = _throughput(df, pred, keep, lab, members, config, world, srv)
    for d in ("dl", "ul"):
        if f"{d}_mbps" in result["throughput"]:
            result[f"{d}_mbps"] = result["throughput"][f"{d}_mbps"]
    # --- drop rate and handover failure ---------------------------------------------------------------------
    ev = read_events(events)
    if ev is not None and len(ev):
        area = _area_conditions(world, gdf, base, groups, extra, config, table_db) if gdf is not None else None
        def on_source(a):  # per usable sample -> per read sample (NaN: not predicted)
            out = np.full(len(src), np.nan)
            out[prep.rows] = a
            return out

        result.update(_compare_events(ev, src, _num(src, "sinr_db"), _num(src, "rsrp_dbm"), on_source(pred.sinr_db),
                                      on_source(pred.rsrp_dbm), src_members, area))  # fmt: skip
    # --- outputs --------------------------------------------------------------------------------------------
    res = pd.DataFrame({
        "time": df["time"].to_numpy() if "time" in df else None, "session": df["session"].astype(str).to_numpy(),
        "lat": lat, "lon": lon, "cell_id": cell_ids, "clutter": clutter_lab,
        "region": _region_labels(members, len(df)), "dist_km": dist_km,
        "rsrp_measured_dbm": meas, "rsrp_predicted_dbm": pred.rsrp_dbm, "error_db": pred.rsrp_dbm - meas,
        "best_cell_id": np.where(pred.best_layer_cell >= 0, world.cell_ids[np.maximum(pred.best_layer_cell, 0)], None),
        "best_rsrp_predicted_dbm": pred.best_layer_rsrp_dbm, "sinr_measured_db": _num(df, "sinr_db"),
        "sinr_predicted_db": pred.sinr_db, "dl_measured_mbps": _num(df, "dl_mbps"), "dl_predicted_mbps": pred.dl_mbps,
        "ul_measured_mbps": _num(df, "ul_mbps"), "ul_predicted_mbps": pred.ul_mbps, "compared": keep,
    })  # fmt: skip
    from netqa.compare.plots import PLOT_NAMES, write_plots

    from netqa.calibrate.crossval import holdout_warnings  # the thresholds calibrate's hold-out is judged by

    poor = holdout_warnings({"tuned": {k: result.get(k) for k in ("n", "mean_error_db", "correlation")}}, label="")
    if poor:
        result["poor"] = poor
    # stats, residuals and plots are one output set: a kill leaves the old set or the new one, never a mix
    with atomic_set([stats_path, out / "residuals.parquet", *(out / n for n in PLOT_NAMES)]) as outputs:
        res.to_parquet(outputs.path(out / "residuals.parquet"), index=False)
        if config.plots:
            with phase("plots"):
                result["plots"] = [p.name for p in write_plots(res[keep], result, out, overwrite=overwrite,
                                                               outputs=outputs)]  # fmt: skip
        outputs.path(stats_path).write_text(json.dumps(_clean(result), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    log.info("compare: n %d, mean error %+.2f dB, std %.2f dB, rmse %.2f dB, r %.2f", result["n"],
             result["mean_error_db"] or math.nan, result["std_error_db"] or math.nan, result["rmse_db"] or math.nan,
             result.get("correlation") or math.nan)  # fmt: skip
    for why in poor:
        log.warning("compare: POOR: %s", why)
    return result


def _throughput(df, pred, keep, lab, members, config, world, srv) -> dict:
    m = world.matrix
    out = {"assumptions": {
        "mapping": "truncated Shannon, 3GPP TR 36.942 Annex A: DL alpha 0.6, SINR_min -10 dB, SE_max 4.4 bit/s/Hz; "
                   "UL alpha 0.4, SE_max 2.0 bit/s/Hz",
        "bandwidth": "the serving cell's full bandwidth_mhz given to the test UE (no scheduling share)",
        "interferer_load": config.cell_load, "noise_figure_db": config.noise_figure_db,
        "ul": "UE 23 dBm over the carrier, eNB noise figure and UL margin of the engine",
        "periods": "only samples with a measured value (download / upload periods)",
        "bandwidths_mhz": sorted({float(b) for b in m[np.unique(srv), 11]}),
    }}  # fmt: skip
    for d in ("dl", "ul"):
        meas = _num(df, f"{d}_mbps")
        sel = keep & np.isfinite(meas)
        if not sel.any():
            continue
        p = getattr(pred, f"{d}_mbps")
        block = stats_table(p[sel], meas[sel], cell=lab["cell"][sel], dist_km=lab["dist_km"][sel], unit="mbps")
        if members is not None:
            block["per_region"] = _per_region_stats(p[sel], meas[sel], {r: m[sel] for r, m in members.items()}, "mbps")
        block["percentiles"] = percentiles_side_by_side(p[sel], meas[sel], q=(10, 50, 90))
        block["mean"] = {"predicted": _round(np.nanmean(p[sel])), "measured": _round(np.nanmean(meas[sel]))}
        out[f"{d}_mbps"] = block
    return out


def _area_conditions(world, gdf, base, groups, extra, config, table_db) -> dict:
    """Predicted best-server (SINR, RSRP) at grid points over each region's area."""
    import geopandas as gpd

    from netqa.compare.points import predict_samples, sample_clutter
    from netqa.regions import reproject_regions

    proj = reproject_regions(gdf, world.crs)
    out = {}
    for rid, geom in zip(proj["region_id"].astype(str), proj.geometry):
        if geom is None or geom.is_empty:
            continue
        x0, y0, x1, y1 = geom.bounds
        step = max(config.area_step_m, math.sqrt(max(geom.area, 1.0) / 4000.0))
        gx, gy = np.meshgrid(np.arange(x0 + step / 2, x1, step), np.arange(y0 + step / 2, y1, step))
        gx, gy = gx.ravel(), gy.ravel()
        inside = gpd.GeoSeries(gpd.points_from_xy(gx, gy)).within(geom).to_numpy().copy()
        s = world.spec
        inside &= (gx > s.x0_m) & (gx < s.x0_m + s.n_cols * s.pixel_m) & (gy < s.y0_m) & (gy > s.y0_m - s.n_rows * s.pixel_m)
        gx, gy = gx[inside], gy[inside]
        if not gx.size:
            continue
        names, loss = sample_clutter(world, gx, gy)
        loss, stat, g = _clutter_inputs(world, gx, gy, names, loss, groups, config, warn=False)
        kw = {"clutter_db": loss, "groups": g, "extra_loss": extra, "clutter_stat_mask": stat}
        first = predict_samples(world, gx, gy, np.full(gx.size, -1), base, **kw)
        best = predict_samples(world, gx, gy, first.best_cell, base, **kw)
        out[rid] = (best.sinr_db, best.rsrp_dbm)
    return out


def cell_layers(world) -> np.ndarray:
    """Layer code per cell: equal codes share technology and carrier frequency (a phone camps on one layer)."""
    cells = world.cells
    tech = cells["tech"].astype(str).str.upper().to_numpy(object) if "tech" in cells else np.full(len(cells), "", object)
    keys = pd.Series([f"{t}|{f:.3f}" for t, f in zip(tech, world.matrix[:, 7])])
    return pd.factorize(keys)[0].astype(np.int64)


def _clutter_inputs(world, x, y, names, table_loss_db, groups, config: CompareConfig, *, warn: bool = True):
    """Clutter inputs of :func:`~netqa.compare.points.predict_samples` at points under ``config.clutter_model``.

    Returns ``(clutter_db, clutter_stat_mask, groups)``: for ``table`` the
    class table's loss per point [dB], no mask and each band group with its
    own (tuned) table; for the P.2108 models what
    :func:`~netqa.compare.points.point_clutter` gives -- (n_freq, n) losses
    [dB] (``p2108``) or zeros and the statistical mask
    (``p2108-statistical``) -- the same for every band group (a model file's
    tuned clutter losses belong to the table model and are not used).
    ``warn=False`` silences the validity-range warning of P.2108 (the
    samples' call has given it for the same carriers).
    """
    if config.clutter_model == "table":
        return table_loss_db, None, _per_point(groups, names)
    from netqa.compare.points import point_clutter

    with warnings.catch_warnings():
        if not warn:
            warnings.simplefilter("ignore", ValidityRangeWarning)
        clutter_db, stat_mask = point_clutter(world, x, y, config)
    if clutter_db is None:
        clutter_db = np.zeros(np.asarray(x).size)
    g = None if groups is None else [(rows, cfg, clutter_db) for rows, cfg, _ in groups]
    return clutter_db, stat_mask, g


def _per_point(groups, names):
    """Per-band groups with the clutter loss of each point under the band's table."""
    if groups is None:
        return None
    ser = pd.Series(np.asarray(names, dtype=object))
    return [(rows, cfg, ser.map(losses).fillna(0.0).to_numpy(np.float64)) for rows, cfg, losses in groups]


def _num(df, col) -> np.ndarray:
    if col not in df.columns:
        return np.full(len(df), np.nan)
    return pd.to_numeric(df[col], errors="coerce").to_numpy(np.float64)


def _round(v):
    v = float(v)
    return None if not math.isfinite(v) else round(v, 4)


def _clean(o):
    if isinstance(o, dict):
        return {str(k): _clean(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean(v) for v in o]
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (float, np.floating)):
        return None if not math.isfinite(float(o)) else float(o)
    if isinstance(o, np.bool_):
        return bool(o)
    return o


__all__ = ["CompareConfig", "compare", "read_events", "region_members"]
