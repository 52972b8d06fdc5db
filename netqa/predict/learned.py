"""Apply a tuned model's learned correction (:mod:`netqa.calibrate.learned`) in ``netqa compare`` and ``netqa predict``.

The correction is an extra loss g(features) [dB] on the serving (compare) or
best-server (predict) path; the corrected RSRP is the physics' RSRP minus g.
SINR, throughput and the choice of best server stay the physics' (the interferers' paths are not
corrected).  Features come from :func:`netqa.calibrate.features.point_features`,
the function calibrate trained on; in predict from its raster twin
:func:`netqa.calibrate.features.grid_features` at the pixel centres of each
tile, for the pixel's best server, with the obstruction the raster engine's
own sweep computed for that server (the training traced the exact straight
profile: they agree within the sweep's accuracy goals, mean |error| <= 0.15 dB,
P95 <= 1 dB; the trees' response to such a shift is small beside the residual
they model).

A model file whose correction cannot be applied here (a different terrain
method, a clutter or surface raster it needs not given) gets a loud warning and
the physics alone; a record that does not match the installed library or
this netqa's features is refused (:func:`netqa.io.learnedfile.load_learned`).

Reference: issue 12 item 5; the residual model of :mod:`netqa.calibrate.learned`.
"""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)


def usable_correction(tuned, model_file, *, terrain: str, rx_height_m: float, has_clutter: bool, has_surface: bool,
                      what: str):  # fmt: skip
    """The model file's :class:`~netqa.calibrate.learned.LearnedCorrection`, or None (none stored, or not applicable
    here: a WARNING says why).  Raises :class:`~netqa.errors.ConfigError` for a mismatched library or features."""
    if tuned is None or not tuned.learned:
        return None
    from netqa.io.learnedfile import load_learned

    corr = load_learned(model_file, tuned.learned)
    s = corr.spec
    why = []
    if s.terrain != terrain:
        why.append(f"it was trained with --terrain {s.terrain}, this run uses {terrain}")
    if abs(s.rx_height_m - rx_height_m) > 1e-9:
        why.append(f"it was trained at --rx-height-m {s.rx_height_m:g}, this run uses {rx_height_m:g}")
    if (s.clutter_classes or s.path_classes) and not has_clutter:
        why.append("it needs the clutter raster (--clutter, --clutter-table)")
    if s.building and not has_surface:
        why.append("it needs the building heights (--surface)")
    if why:
        log.warning("%s: the learned correction of %s is NOT APPLIED: %s; predictions are the physics alone", what,
                    model_file, "; ".join(why))  # fmt: skip
        return None
    return corr


def correct_points(corr, world, x_m, y_m, serving, rsrp_dbm) -> tuple[np.ndarray, dict]:
    """Corrected RSRP at points for their serving cells, and a description for the statistics. [dBm]"""
    from netqa.calibrate.features import point_features

    srv = np.asarray(serving, np.int64)
    out = np.array(rsrp_dbm, np.float64, copy=True)
    ok = (srv >= 0) & np.isfinite(out)
    if ok.any():
        X = point_features(world, np.asarray(x_m)[ok], np.asarray(y_m)[ok], srv[ok], corr.spec)
        out[ok] -= corr.correction_db(X)
    return out, {"learned_correction": {"library": corr.library, "library_version": corr.library_version,
                                        "features": list(corr.spec.names), "holdout": corr.holdout}}  # fmt: skip


def _tile_codes(plan, sub) -> tuple[np.ndarray, dict]:
    """The clutter codes of the terrain window ``sub`` (nodata -1) and the table's code -> class name."""
    from netqa.io.raster import read_clutter_window

    codes = read_clutter_window(plan.clutter_path, plan.clutter_table, sub)
    frame = plan.clutter_table.frame
    names = {int(c): str(v) for c, v in zip(frame.index, frame["name"])}
    return np.where(codes.nodata_mask, -1, codes.values).astype(np.int64), names


def correct_tile(plan, sub, elev_m, region, rsrp_dbm, best_cell, terrain_db, *, surface_m=None) -> np.ndarray:
    """One predict tile's best-server RSRP corrected (float32, the region's shape). [dBm]

    The fast path of ``netqa predict``: features by
    :func:`netqa.calibrate.features.grid_features` from the tile's own arrays,
    with the obstruction feature ``terrain_db`` the raster engine's best-server
    excess loss (``predict_coverage(..., best_terrain_db=True)``, the region's
    shape), then the trees.  :func:`correct_tile_points` is the reference
    (points mode, one exact profile per pixel).

    ``sub``: the tile's terrain window (a :class:`netqa.grid.Grid`), ``elev_m`` its heights,
    ``region``: (row0, row1, col0, col1) of the tile in ``sub``; ``surface_m``: obstacle heights above ground on
    ``sub`` (``--surface``), or None.
    """
    from netqa.calibrate.features import grid_features

    corr = plan.learned
    r0, _, c0, _ = region
    out = np.array(rsrp_dbm, np.float32, copy=True)
    bc = np.asarray(best_cell, np.float32)
    ok = np.isfinite(bc) & (bc >= 0) & np.isfinite(out)
    tr, tc = np.nonzero(ok)
    if not tr.size:
        return out
    codes = names = None
    if corr.spec.clutter_classes or corr.spec.path_classes:
        codes, names = _tile_codes(plan, sub)
    X = grid_features(corr.spec, plan.matrix, elev_m, sub.transform.c, sub.transform.f, sub.pixel_size_m, tr + r0,
                      tc + c0, bc[ok].astype(np.int64), np.asarray(terrain_db)[ok], codes=codes, code_names=names,
                      obstacle_m=surface_m)  # fmt: skip
    out[ok] = (out[ok].astype(np.float64) - corr.correction_db(X)).astype(np.float32)
    return out


def correct_tile_points(plan, sub, elev_m, region, rsrp_dbm, best_cell, *, surface_m=None) -> np.ndarray:
    """:func:`correct_tile` by points mode (the reference): :func:`netqa.calibrate.features.point_features` at the
    pixel centres, the obstruction traced on one exact straight profile per pixel, as calibrate trained it. [dBm]"""
    from netqa.compare.points import PointWorld
    from propagation.engine import GridSpec

    corr = plan.learned
    r0, r1, c0, c1 = region
    rows, cols = np.mgrid[r0:r1, c0:c1]
    px = sub.pixel_size_m
    x = sub.transform.c + (cols.ravel() + 0.5) * px
    y = sub.transform.f - (rows.ravel() + 0.5) * px
    bc = np.asarray(best_cell, np.float64).ravel()
    srv = np.where(np.isfinite(bc) & (bc >= 0), bc, -1).astype(np.int64)
    world = PointWorld(plan.df, plan.matrix, plan.patterns, np.asarray(elev_m, np.float32),
                       GridSpec(sub.transform.c, sub.transform.f, px, sub.height, sub.width), sub.crs)  # fmt: skip
    world.grid = sub
    if surface_m is not None:  # as compare's points mode: obstacles apart for the engine, ground + obstacles
        world.obstacle_m = np.asarray(surface_m, np.float32)
        world.surface_m = (world.elev_m + world.obstacle_m).astype(np.float32)
    if corr.spec.clutter_classes or corr.spec.path_classes:
        world.clutter_code, world.clutter_name = _tile_codes(plan, sub)
    out, _ = correct_points(corr, world, x, y, srv, np.asarray(rsrp_dbm, np.float64).ravel())
    return out.reshape(np.shape(rsrp_dbm)).astype(np.float32)


__all__ = ["correct_points", "correct_tile", "correct_tile_points", "usable_correction"]
