"""Physical features of a receiver position for the learned correction (:mod:`netqa.calibrate.learned`).

One function, :func:`point_features`, computes them for calibrate, compare and
predict (pixel centres), so the correction sees the same numbers everywhere:

* ``log_dist_km``: log10 of the horizontal mast-receiver distance (>= the engine's 10 m floor);
* ``az_off_deg``: horizontal angle off the serving antenna's boresight, 0..180 deg (NaN for omni cells);
* ``elev_off_deg``: vertical angle below the beam axis (the receiver's depression angle seen from the
  antenna minus the mechanical + electrical downtilt), deg, signed;
* ``log_h_eff_m``: log10 of the mast top above the receiver's ground, at least 1 m;
* ``diffraction_db``: the terrain method's excess loss over the path (over ground + buildings with a
  surface raster), from the engine (:func:`netqa.compare.points.calibration_geometry`);
* ``clutter``: the receiver's clutter class (categorical: index into ``FeatureSpec.clutter_classes``);
* ``share_near:<class>`` / ``share_whole:<class>``: each class's share of the last ``near_m`` and of the
  whole path (:func:`netqa.compare.pathclutter.sample_path_shares`);
* ``building_h_m``: obstacle height above ground at the receiver (only with a ``--surface`` raster).

Reference: the feature families of issue 12 (distance, antenna angles, heights, obstruction and clutter
along the path); 3GPP TR 36.814 V9.2.0 Table A.2.1.1-2 for the angle conventions (azimuth from boresight,
elevation relative to the tilted beam).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Feature families in column order (the path shares and building height are optional).
BASE_FEATURES = ("log_dist_km", "az_off_deg", "elev_off_deg", "log_h_eff_m", "diffraction_db")


@dataclass(frozen=True)
class FeatureSpec:
    """Which features a correction uses and how they are computed.

    ``terrain``: the terrain method of ``diffraction_db``; ``rx_height_m`` [m];
    ``clutter_classes``: names of the receiver classes (categorical codes, in
    this order; empty: no clutter feature); ``path_classes``: classes whose path
    shares are features; ``near_m``: near-receiver stretch of the shares [m];
    ``building``: use ``building_h_m`` (needs a surface raster).
    """

    terrain: str = "none"
    rx_height_m: float = 1.5
    clutter_classes: tuple = ()
    path_classes: tuple = ()
    near_m: float = 300.0
    building: bool = False

    @property
    def names(self) -> tuple:
        out = list(BASE_FEATURES)
        if self.clutter_classes:
            out.append("clutter")
        out += [f"share_near:{c}" for c in self.path_classes] + [f"share_whole:{c}" for c in self.path_classes]
        if self.building:
            out.append("building_h_m")
        return tuple(out)

    @property
    def categorical(self) -> np.ndarray:
        """Boolean mask of the categorical columns."""
        return np.array([n == "clutter" for n in self.names], bool)

    def to_dict(self) -> dict:
        return {"terrain": self.terrain, "rx_height_m": float(self.rx_height_m),
                "clutter_classes": list(self.clutter_classes), "path_classes": list(self.path_classes),
                "near_m": float(self.near_m), "building": bool(self.building), "names": list(self.names)}  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict) -> "FeatureSpec":
        spec = cls(str(d["terrain"]), float(d["rx_height_m"]), tuple(d.get("clutter_classes", ())),
                   tuple(d.get("path_classes", ())), float(d.get("near_m", 300.0)), bool(d.get("building", False)))  # fmt: skip
        if "names" in d and tuple(d["names"]) != spec.names:
            raise ValueError(f"feature list {list(d['names'])} does not match this netqa's {list(spec.names)}")
        return spec


def spec_for_world(world, *, terrain: str, rx_height_m: float, classes_seen=None) -> FeatureSpec:
    """The feature spec a world supports: clutter features with a clutter raster, building height with a surface.

    ``classes_seen`` (names) limits the classes to those present in the training data.
    """
    names = sorted(set(world.clutter_name.values())) if world.clutter_code is not None else []
    if classes_seen is not None:
        seen = {str(c) for c in classes_seen}
        names = [n for n in names if n in seen]
    return FeatureSpec(terrain, float(rx_height_m), tuple(names), tuple(names), 300.0, world.surface_m is not None)


def angle_features(matrix, x_m, y_m, z_rx_m, serving, rx_height_m: float):
    """Distance, angles off boresight and off the tilt, and effective height of each point's serving cell.

    Parameters
    ----------
    matrix : numpy.ndarray
        The engine's cell matrix (``ground_m`` filled). [-]
    x_m, y_m : array_like
        Receiver positions in the matrix's CRS. [m]
    z_rx_m : array_like
        Ground height at the receivers. [m]
    serving : array_like of int
        Row of the serving cell (negative: none, NaN features).
    rx_height_m : float
        Receiver height above ground. [m]

    Returns
    -------
    dict
        ``log_dist_km``, ``az_off_deg`` (0..180, NaN for omni), ``elev_off_deg``, ``log_h_eff_m``.

    Examples
    --------
    >>> from propagation.engine import cell_matrix
    >>> m = cell_matrix(x_m=[0.0], y_m=[0.0], height_m=[30.0], azimuth_deg=[90.0], freq_mhz=[1800.0],
    ...                 rs_power_dbm=[15.0], bandwidth_mhz=[20.0], ground_m=[0.0])
    >>> f = angle_features(m, [0.0], [1000.0], [0.0], [0], 1.5)
    >>> round(float(f["az_off_deg"][0]), 1), round(float(f["log_dist_km"][0]), 3)
    (90.0, 0.0)
    """
    from propagation.engine._common import C_AZ, C_ETILT, C_GROUND, C_HEIGHT, C_MTILT, C_PATTERN, C_X, C_Y, PATTERN_OMNI

    x, y, z = (np.asarray(v, np.float64).ravel() for v in (x_m, y_m, z_rx_m))
    srv = np.asarray(serving, np.int64).ravel()
    i = np.maximum(srv, 0)
    top_of, tilt_of = matrix[:, C_GROUND] + matrix[:, C_HEIGHT], matrix[:, C_MTILT] + matrix[:, C_ETILT]
    az_of = np.where(matrix[:, C_PATTERN] == PATTERN_OMNI, np.nan, matrix[:, C_AZ])  # per cell, then one gather each
    dx, dy = x - matrix[i, C_X], y - matrix[i, C_Y]
    dist_m = np.maximum(np.hypot(dx, dy), 10.0)
    bearing = np.degrees(np.arctan2(dx, dy))
    az_off = np.abs((bearing - az_of[i] + 180.0) % 360.0 - 180.0)
    top = top_of[i]
    depression = np.degrees(np.arctan2(top - (z + rx_height_m), dist_m))
    out = {"log_dist_km": np.log10(dist_m / 1000.0), "az_off_deg": az_off,
           "elev_off_deg": depression - tilt_of[i],
           "log_h_eff_m": np.log10(np.maximum(top - z, 1.0))}  # fmt: skip
    bad = srv < 0
    for v in out.values():
        v[bad] = np.nan
    return out


def point_features(world, x_m, y_m, serving, spec: FeatureSpec, *, geometry: dict | None = None) -> np.ndarray:
    """The (n, len(spec.names)) feature matrix at points for their serving cells (see the module docstring).

    ``world``: a :class:`netqa.compare.points.PointWorld`; ``geometry``: the
    :func:`~netqa.compare.points.calibration_geometry` of the same points and
    terrain method when the caller has it (else computed here).  Raises
    ``ValueError`` when the spec needs a clutter or surface raster the world lacks.
    """
    from netqa.compare.points import calibration_geometry, ground_heights
    from propagation.engine import EngineConfig

    x, y = np.asarray(x_m, np.float64).ravel(), np.asarray(y_m, np.float64).ravel()
    srv = np.asarray(serving, np.int64).ravel()
    if (spec.clutter_classes or spec.path_classes) and world.clutter_code is None:
        raise ValueError("the learned correction uses clutter features: give --clutter and --clutter-table")
    if spec.building and world.surface_m is None:
        raise ValueError("the learned correction uses the building height at the receiver: give --surface")
    m = world.matrix.copy()
    if np.isnan(m[:, 2]).any():
        m[:, 2] = np.where(np.isnan(m[:, 2]), ground_heights(world, m[:, 0], m[:, 1]), m[:, 2])
    z = ground_heights(world, x, y)
    cols = angle_features(m, x, y, z, srv, spec.rx_height_m)
    if geometry is None and spec.terrain == "none":  # no terrain method: no excess loss (and no engine call)
        geometry = {"diffraction_db": np.where(srv >= 0, 0.0, np.nan)}
    if geometry is None:
        geometry = calibration_geometry(world, x, y, srv, EngineConfig(model="spm", terrain=spec.terrain,
                                                                       rx_height_m=spec.rx_height_m))  # fmt: skip
    cols["diffraction_db"] = np.asarray(geometry["diffraction_db"], np.float64)
    if spec.clutter_classes:
        row, col = world.grid.rowcol(x, y)
        code = world.clutter_code[np.clip(row, 0, world.spec.n_rows - 1), np.clip(col, 0, world.spec.n_cols - 1)]
        cols["clutter"] = _class_index(code, world.clutter_name, spec.clutter_classes)
    if spec.path_classes:
        from netqa.compare.pathclutter import sample_path_shares

        names, whole, near = sample_path_shares(world, x, y, srv, near_m=spec.near_m)
        pos = {n: j for j, n in enumerate(names)}
        for cls in spec.path_classes:
            j = pos.get(cls)
            cols[f"share_near:{cls}"] = near[:, j] if j is not None else np.zeros(x.size)
            cols[f"share_whole:{cls}"] = whole[:, j] if j is not None else np.zeros(x.size)
    if spec.building:
        row, col = world.grid.rowcol(x, y)
        r, c = np.clip(row, 0, world.spec.n_rows - 1), np.clip(col, 0, world.spec.n_cols - 1)
        cols["building_h_m"] = np.maximum(world.surface_m[r, c] - world.elev_m[r, c], 0.0).astype(np.float64)
    return np.column_stack([cols[n] for n in spec.names]) if x.size else np.zeros((0, len(spec.names)))


def _class_index(code, code_names: dict, classes) -> np.ndarray:
    """Index of each code's class name in ``classes`` (float; NaN for nodata, unknown codes, other classes)."""
    code = np.asarray(code, np.int64)
    index = {name: i for i, name in enumerate(classes)}
    top = max([int(c) for c in code_names] + [int(code.max(initial=0)), 0]) + 1
    lut = np.full(top + 1, np.nan)  # the last entry: codes outside the table
    for c, n in code_names.items():
        if int(c) >= 0 and n in index:
            lut[int(c)] = float(index[n])
    return lut[np.where((code >= 0) & (code < top), code, top)]


def grid_features(spec: FeatureSpec, matrix, elev_m, x0_m: float, y0_m: float, pixel_m: float, rows, cols, serving,
                  terrain_db, *, codes=None, code_names=None, obstacle_m=None) -> np.ndarray:  # fmt: skip
    """:func:`point_features` at pixel centres of a raster window, from arrays the raster engine already has.

    The same features, computed as :func:`point_features` computes them at
    the pixel centres (tested equal; the angles by the compiled
    :func:`netqa.calibrate.pixelfeatures.angle_features_fast`), but without a points-mode engine call:
    ``diffraction_db`` is the raster engine's own excess loss of the best
    server (``predict_coverage(..., best_terrain_db=True)``, the sweep: within
    its accuracy goals of the exact profile points mode traces); heights,
    clutter class and building height are read at the pixel itself; path
    shares come from the compiled kernel :mod:`propagation.engine.path_shares` (as points mode).

    Parameters
    ----------
    spec : FeatureSpec
    matrix : numpy.ndarray
        The engine's cell matrix (``ground_m`` NaN: bilinear from ``elev_m`` at the mast, as points mode).
    elev_m : numpy.ndarray
        (n_rows, n_cols) ground heights of the window at pixel centres. [m]
    x0_m, y0_m, pixel_m : float
        Left and top edges of the window, pixel size. [m]
    rows, cols : array_like of int
        The pixels (in the window).
    serving : array_like of int
        Each pixel's serving (best) cell row (negative: none, NaN features).
    terrain_db : array_like
        Each pixel's terrain excess loss from its serving cell (ignored, 0, without a terrain method). [dB]
    codes : numpy.ndarray, optional
        (n_rows, n_cols) clutter codes of the window (negative: nodata); needed with clutter features.
    code_names : dict, optional
        Clutter code -> class name (the clutter table's).
    obstacle_m : numpy.ndarray, optional
        (n_rows, n_cols) obstacle heights above ground (``--surface``); needed with ``building_h_m``. [m]

    Returns
    -------
    numpy.ndarray
        (n, len(spec.names)) features, columns in ``spec.names`` order.
    """
    from propagation.engine._common import bilinear_heights

    r = np.asarray(rows, np.int64).ravel()
    c = np.asarray(cols, np.int64).ravel()
    srv = np.asarray(serving, np.int64).ravel()
    elev = np.asarray(elev_m)
    if (spec.clutter_classes or spec.path_classes) and codes is None:
        raise ValueError("the learned correction uses clutter features: give --clutter and --clutter-table")
    if spec.building and obstacle_m is None:
        raise ValueError("the learned correction uses the building height at the receiver: give --surface")
    x = x0_m + (c + 0.5) * pixel_m
    y = y0_m - (r + 0.5) * pixel_m
    m = np.asarray(matrix, np.float64)
    if np.isnan(m[:, 2]).any():
        m = m.copy()
        nan = np.isnan(m[:, 2])
        m[nan, 2] = bilinear_heights(elev, x0_m, y0_m, pixel_m, m[nan, 0], m[nan, 1])
    # the receiver's ground as points mode reads it (bilinear at the pixel centre: the pixel's value to ~1e-5 m,
    # but the trees' thresholds see the same numbers as in training)
    from netqa.calibrate.pixelfeatures import angle_features_fast

    names = spec.names
    X = np.empty((x.size, len(names)))  # the base features first (BASE_FEATURES order), filled in place
    angle_features_fast(m, x, y, bilinear_heights(elev, x0_m, y0_m, pixel_m, x, y), srv, spec.rx_height_m, out=X)
    col = {n: k for k, n in enumerate(names)}
    if spec.terrain == "none":
        X[:, col["diffraction_db"]] = np.where(srv >= 0, 0.0, np.nan)
    else:
        X[:, col["diffraction_db"]] = np.where(srv >= 0, np.asarray(terrain_db, np.float64).ravel(), np.nan)
    if spec.clutter_classes:
        X[:, col["clutter"]] = _class_index(codes[r, c], code_names, spec.clutter_classes)
    if spec.path_classes:
        from propagation.engine.path_shares import path_class_shares

        code_of = {n: int(k) for k, n in sorted(code_names.items())}  # as sample_path_shares: the last code of a name
        want = [cls for cls in spec.path_classes if cls in code_of]
        i = np.maximum(srv, 0)
        whole, near = path_class_shares(codes, x0_m, pixel_m, y0_m, -pixel_m, m[i, 0], m[i, 1], x, y,
                                        [code_of[cls] for cls in want], near_m=spec.near_m, step_m=pixel_m)  # fmt: skip
        whole[srv < 0] = 0.0
        near[srv < 0] = 0.0
        pos = {n: j for j, n in enumerate(want)}
        for cls in spec.path_classes:
            j = pos.get(cls)
            X[:, col[f"share_near:{cls}"]] = near[:, j] if j is not None else 0.0
            X[:, col[f"share_whole:{cls}"]] = whole[:, j] if j is not None else 0.0
    if spec.building:
        X[:, col["building_h_m"]] = np.maximum(np.asarray(obstacle_m)[r, c], 0.0)
    return X



__all__ = ["BASE_FEATURES", "FeatureSpec", "angle_features", "grid_features", "point_features", "spec_for_world"]
