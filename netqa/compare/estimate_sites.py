r"""Drive logs without a site table: measured statistics per cell/eNB, and an ESTIMATED-sites experiment.

Public logs such as the Cork G-NetTrack traces (UCC MISL 5G dataset) carry the
serving cell's identity (E-UTRAN cell identity = eNB id x 256 + cell) but no
site positions, heights, azimuths or powers, and no DEM comes with them.  Two
separate things can be done honestly:

1. **Measured-side statistics** (:func:`measured_cell_stats`): per eNB and per
   cell, the sample count, sessions, technology mix, RSRP/SINR percentiles,
   download throughput and serving-cell changes.  No model is involved.
2. **An estimated-sites experiment** (:func:`estimate_sites`,
   :func:`estimated_cell_table`, :func:`run_estimated_sites`): each eNB's
   position is ESTIMATED from the drive data, a cell table is built with
   stated default heights, powers and omni antennas, a FLAT DEM is written at
   a stated elevation, and ``calibrate`` + ``compare`` run on sessions held
   out from both the site estimation and the fit.  Its figures measure how
   well an SPM fits the data *given these guesses*, not the accuracy of the
   operator's planning model: keep them apart from test-world figures.

Site estimation (``method="logdistance"``, the default): the eNB's samples are
averaged per 50 m square (dB domain, so a parked car does not dominate), then
the site position (x, y), the 1 km intercept :math:`P_0` and the slope
:math:`n` of the log-distance model

.. math:: \mathrm{RSRP}_i = P_0 - 10\,n\log_{10}\sqrt{(x_i-x)^2 + (y_i-y)^2 + h^2}/1000

(:math:`h` = the stated antenna height; d in km) are fitted by robust
(soft-L1) non-linear least squares, starting from the centroid below, with
:math:`2 \le n \le 5` and the position kept within ``max_offset_km`` of the
eNB's samples.  Reference for the model: T. S. Rappaport, *Wireless
Communications*, 2nd ed., section 4.9.1 (log-distance path loss); for the
position fit: the RSS-based localisation of N. Patwari et al., "Locating the
nodes", IEEE Signal Processing Magazine 22(4), 2005, section "RSS".
``method="centroid"``: the mW-weighted centroid of the strongest
``top_share`` of the eNB's bins (a simpler, biased-toward-the-route guess).

Caveats, always reported with the figures: sites are estimates (three
sectors of one eNB share the eNB's point and an omni pattern), the ground is
flat, the carrier and power are assumed, and NSA "5G" rows describe the LTE
anchor cell (the phone reported the anchor's RSRP), so every cell is LTE.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from netqa.errors import InputError

log = logging.getLogger(__name__)

#: Technologies whose ``cell_id`` is an E-UTRAN cell identity (NSA NR rows carry the LTE anchor's).
EUTRAN_TECHS = ("LTE", "NR")


@dataclass(frozen=True)
class SiteDefaults:
    """Stated defaults of the estimated cell table (no site data is available).

    ``height_m`` antenna above ground [m]; ``tx_power_dbm`` total per cell
    [dBm]; ``bandwidth_mhz`` [MHz]; ``freq_mhz`` assumed LTE carrier [MHz]
    (band 3; the logs carry no EARFCN); ``gain_dbi`` antenna gain of the omni
    pattern [dBi] (a constant error here is absorbed by the calibrated K1);
    ``ground_m`` elevation of the flat DEM [m].
    """

    height_m: float = 25.0
    tx_power_dbm: float = 46.0
    bandwidth_mhz: float = 20.0
    freq_mhz: float = 1815.0
    gain_dbi: float = 15.0
    ground_m: float = 30.0


def _read(samples) -> pd.DataFrame:
    from netqa.compare.prepare import read_samples

    df = read_samples(samples)
    missing = [c for c in ("lat", "lon", "session", "tech", "cell_id", "rsrp_dbm") if c not in df.columns]
    if missing:
        raise InputError(f"samples: missing canonical column(s) {', '.join(missing)}; run netqa ingest first")
    return df


def enb_of(cell_id) -> np.ndarray:
    """eNB id from the E-UTRAN cell identity (28 bits: eNB id x 256 + cell); -1 where not an integer.

    >>> enb_of([11016972, "11016973", "x"]).tolist()
    [43035, 43035, -1]
    """
    v = pd.to_numeric(pd.Series(np.asarray(cell_id, dtype=object)), errors="coerce").to_numpy(np.float64)
    ok = np.isfinite(v) & (v >= 0) & (v < 2**28)
    return np.where(ok, np.floor(np.where(ok, v, 0) / 256.0), -1).astype(np.int64)


def _eutran(df: pd.DataFrame) -> np.ndarray:
    tech = df["tech"].astype("string").str.upper().fillna("").to_numpy(object)
    return np.isin(tech, EUTRAN_TECHS) & (enb_of(df["cell_id"]) >= 0)


def measured_cell_stats(samples) -> dict:
    """Measured-side statistics per eNB and per cell (no prediction, no site data needed).

    Only E-UTRAN rows (LTE, and NSA "NR" rows, which report the LTE anchor)
    are grouped; the others are counted.

    Returns
    -------
    dict
        ``counts`` (read, eutran, other_tech, no_rsrp), ``per_enb`` and
        ``per_cell`` (lists of dicts: n, sessions, nr_share, rsrp p10/p50/p90
        [dBm], sinr p50 [dB], dl p50 in download periods [Mbit/s], serving
        changes into the group), sorted by sample count.
    """
    df = _read(samples)
    e = _eutran(df)
    rsrp = pd.to_numeric(df["rsrp_dbm"], errors="coerce")
    counts = {"read": int(len(df)), "eutran": int(e.sum()), "other_tech": int((~e).sum()),
              "no_rsrp": int((e & rsrp.isna().to_numpy()).sum())}  # fmt: skip
    d = df[e].copy()
    d["enb"] = enb_of(d["cell_id"])
    d["cell"] = d["cell_id"].astype(str)
    d["rsrp"] = rsrp[e].to_numpy()
    d["sinr"] = pd.to_numeric(d["sinr_db"], errors="coerce") if "sinr_db" in d else np.nan
    dl = pd.to_numeric(d["dl_mbps"], errors="coerce") if "dl_mbps" in d else pd.Series(np.nan, index=d.index)
    if "activity" in d:
        dl = dl.where(d["activity"].astype("string").str.contains("download", na=False))
    d["dl"] = dl
    d["is_nr"] = d["tech"].astype("string").str.upper().eq("NR")
    order = np.lexsort((pd.to_datetime(d["time"], utc=True, format="mixed").to_numpy() if "time" in d else np.arange(len(d)),
                        d["session"].astype(str).to_numpy()))  # fmt: skip
    ds = d.iloc[order]
    change = (ds["cell"].to_numpy() != np.roll(ds["cell"].to_numpy(), 1)) & (ds["session"].to_numpy() == np.roll(ds["session"].to_numpy(), 1))
    if len(ds):
        change[0] = False
    d["handover_in"] = pd.Series(change, index=ds.index).reindex(d.index)

    def table(key):
        g = d.groupby(key, sort=False)
        out = pd.DataFrame({
            "n": g.size(), "sessions": g["session"].nunique(), "nr_share": g["is_nr"].mean(),
            "rsrp_dbm_p10": g["rsrp"].quantile(0.1), "rsrp_dbm_p50": g["rsrp"].median(),
            "rsrp_dbm_p90": g["rsrp"].quantile(0.9), "sinr_db_p50": g["sinr"].median(), "dl_mbps_p50": g["dl"].median(),
            "handovers_in": g["handover_in"].sum(),
        })  # fmt: skip
        if key == "enb":
            out["cells"] = g["cell"].nunique()
        out = out.sort_values("n", ascending=False).reset_index()
        return [{k: _py(v) for k, v in r.items()} for r in out.to_dict("records")]

    return {"counts": counts, "n_enb": int(d["enb"].nunique()), "n_cells": int(d["cell"].nunique()),
            "per_enb": table("enb"), "per_cell": table("cell")}  # fmt: skip


def _py(v):
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if not math.isfinite(float(v)) else round(float(v), 3)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def estimate_sites(samples, *, method: str = "logdistance", bin_m: float = 50.0, min_bins: int = 15,
                   top_share: float = 0.1, height_m: float = 25.0, max_offset_km: float = 3.0) -> pd.DataFrame:  # fmt: skip
    """ESTIMATED eNB positions from drive samples (see the module docstring for the method).

    Parameters
    ----------
    samples : path or DataFrame
        Canonical samples (E-UTRAN rows are used).
    method : {"logdistance", "centroid"}
    bin_m : float
        Square bins averaged before the fit. [m]
    min_bins : int
        eNBs with fewer occupied bins are not estimated (listed with a reason).
    top_share : float
        Share of the strongest bins in the centroid. [-]
    height_m : float
        Antenna height used in the slant distance of the fit. [m]
    max_offset_km : float
        The site stays within this distance of the eNB's sample extent. [km]

    Returns
    -------
    pandas.DataFrame
        One row per eNB: ``enb``, ``lat``, ``lon`` (NaN when not estimated),
        ``method``, ``n_samples``, ``n_bins``, ``p0_dbm`` (RSRP at 1 km),
        ``slope_n``, ``fit_std_db`` (RMS of the bin residuals), ``reason``
        (why not estimated, else "").
    """
    from scipy.optimize import least_squares

    from netqa.grid import study_crs, to_geographic, to_projected

    if method not in ("logdistance", "centroid"):
        raise ValueError(f"method must be 'logdistance' or 'centroid', got {method!r}")
    df = _read(samples)
    rsrp = pd.to_numeric(df["rsrp_dbm"], errors="coerce").to_numpy(np.float64)
    lat = pd.to_numeric(df["lat"], errors="coerce").to_numpy(np.float64)
    lon = pd.to_numeric(df["lon"], errors="coerce").to_numpy(np.float64)
    ok = _eutran(df) & np.isfinite(rsrp) & np.isfinite(lat) & np.isfinite(lon)
    if not ok.any():
        raise InputError("samples: no E-UTRAN (LTE/NR) row with RSRP and a position; cannot estimate sites")
    crs = study_crs(None, float(np.mean(lon[ok])), float(np.mean(lat[ok])))
    x, y = (np.asarray(v, np.float64) for v in to_projected(lon[ok], lat[ok], crs))
    enb = enb_of(df["cell_id"])[ok]
    r = rsrp[ok]
    frame = pd.DataFrame({"enb": enb, "bx": np.floor(x / bin_m), "by": np.floor(y / bin_m), "x": x, "y": y, "r": r})
    bins = frame.groupby(["enb", "bx", "by"], sort=True).agg(x=("x", "mean"), y=("y", "mean"), r=("r", "mean"),
                                                             n=("r", "size")).reset_index()  # fmt: skip
    rows = []
    for e, b in bins.groupby("enb", sort=True):
        row = {"enb": int(e), "lat": math.nan, "lon": math.nan, "method": method, "n_samples": int(b["n"].sum()),
               "n_bins": int(len(b)), "p0_dbm": math.nan, "slope_n": math.nan, "fit_std_db": math.nan, "reason": ""}  # fmt: skip
        if len(b) < min_bins:
            row["reason"] = f"{len(b)} occupied {bin_m:g} m bins < {min_bins}"
            rows.append(row)
            continue
        bx, by, br = b["x"].to_numpy(), b["y"].to_numpy(), b["r"].to_numpy()
        top = br >= np.quantile(br, 1.0 - top_share)
        w = 10.0 ** (br[top] / 10.0)
        cx, cy = float(np.sum(w * bx[top]) / w.sum()), float(np.sum(w * by[top]) / w.sum())
        if method == "logdistance":
            lo = (bx.min() - max_offset_km * 1e3, by.min() - max_offset_km * 1e3, -200.0, 2.0)
            hi = (bx.max() + max_offset_km * 1e3, by.max() + max_offset_km * 1e3, 0.0, 5.0)

            def resid(p):
                d_km = np.sqrt((bx - p[0]) ** 2 + (by - p[1]) ** 2 + height_m**2) / 1000.0
                return p[2] - 10.0 * p[3] * np.log10(d_km) - br

            # start: the centroid, n = 3 and the strongest bin taken ~200 m from the site (P0 = max - 21 dB)
            start = np.array([cx, cy, float(np.max(br)) - 21.0, 3.0])
            start = np.clip(start, np.array(lo) + 1e-6, np.array(hi) - 1e-6)
            fit = least_squares(resid, start, bounds=(lo, hi), loss="soft_l1", f_scale=6.0)
            cx, cy, row["p0_dbm"], row["slope_n"] = (float(v) for v in fit.x)
            row["fit_std_db"] = float(np.sqrt(np.mean(resid(fit.x) ** 2)))
        lon_s, lat_s = to_geographic(np.array([cx]), np.array([cy]), crs)
        row["lon"], row["lat"] = float(np.asarray(lon_s)[0]), float(np.asarray(lat_s)[0])
        rows.append(row)
    return pd.DataFrame(rows)


def estimated_cell_table(sites: pd.DataFrame, samples, defaults: SiteDefaults = SiteDefaults()) -> pd.DataFrame:
    """Cell table (DESIGN.md columns) for every E-UTRAN cell whose eNB has an estimated site.

    Every cell sits at its eNB's estimated point with an omni antenna and the
    stated defaults; ``tech`` is LTE (NSA rows report the LTE anchor).
    """
    df = _read(samples)
    e = _eutran(df)
    cells = pd.DataFrame({"cell_id": df.loc[e, "cell_id"].astype(str).unique()})
    cells["enb"] = enb_of(cells["cell_id"])
    s = sites[np.isfinite(sites["lat"])][["enb", "lat", "lon"]]
    cells = cells.merge(s, on="enb", how="inner")
    return pd.DataFrame({
        "site_id": "ENB" + cells["enb"].astype(str), "cell_id": cells["cell_id"], "lat": cells["lat"],
        "lon": cells["lon"], "height_m": defaults.height_m, "azimuth_deg": 0.0, "mech_tilt_deg": 0.0,
        "elec_tilt_deg": 0.0, "tx_power_dbm": defaults.tx_power_dbm, "freq_mhz": defaults.freq_mhz,
        "bandwidth_mhz": defaults.bandwidth_mhz, "tech": "LTE", "antenna": "omni", "gain_dbi": defaults.gain_dbi,
        "feeder_loss_db": 0.0,
    }).sort_values("cell_id").reset_index(drop=True)  # fmt: skip


def write_flat_dem(path, lon, lat, *, elevation_m: float = 30.0, margin_km: float = 8.0,
                   pixel_m: float = 100.0) -> Path:  # fmt: skip
    """Write a FLAT DEM (constant ``elevation_m``) covering the points plus ``margin_km`` (local UTM, GeoTIFF)."""
    import rasterio
    from affine import Affine

    from netqa.grid import study_crs, to_projected

    lon = np.asarray(lon, np.float64)
    lat = np.asarray(lat, np.float64)
    crs = study_crs(None, float(np.nanmean(lon)), float(np.nanmean(lat)))
    x, y = (np.asarray(v, np.float64) for v in to_projected(lon, lat, crs))
    m = margin_km * 1000.0
    x0, y1 = math.floor((np.nanmin(x) - m) / pixel_m) * pixel_m, math.ceil((np.nanmax(y) + m) / pixel_m) * pixel_m
    w = int(math.ceil((np.nanmax(x) + m - x0) / pixel_m))
    h = int(math.ceil((y1 - (np.nanmin(y) - m)) / pixel_m))
    path = Path(path)
    with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=1, dtype="float32", crs=crs.to_wkt(),
                       transform=Affine(pixel_m, 0, x0, 0, -pixel_m, y1), nodata=-32768.0) as ds:  # fmt: skip
        ds.write(np.full((1, h, w), elevation_m, np.float32))
    return path


def split_sessions(sessions, every: int = 4) -> tuple[list[str], list[str]]:
    """Sessions sorted by name (time-stamped names sort by time); every ``every``-th is held out.

    >>> split_sessions(["a", "b", "c", "d", "e"], every=2)
    (['a', 'c', 'e'], ['b', 'd'])
    """
    names = sorted({str(s) for s in sessions})
    held = [s for i, s in enumerate(names) if i % every == every - 1]
    return [s for s in names if s not in held], held


def run_estimated_sites(samples, out, *, defaults: SiteDefaults = SiteDefaults(), method: str = "logdistance",
                        holdout_every: int = 4, overwrite: bool = False) -> dict:  # fmt: skip
    """The ESTIMATED-sites experiment: estimate sites on training sessions, calibrate, compare on held-out sessions.

    Writes in ``out``: ``measured_stats.json``, ``sites.csv``, ``cells.csv``,
    ``dem_flat.tif``, ``tuned.toml``, ``compare_tuned/`` and
    ``compare_default/`` (the uncalibrated default SPM), and
    ``estimated_sites.json`` (returned) with the figures and the caveats.
    Sites and the fit see only the training sessions; the comparison runs on
    the held-out sessions (every ``holdout_every``-th session by name).
    """
    from netqa.calibrate.run import CalibrateOptions, calibrate
    from netqa.compare.run import CompareConfig, compare
    from netqa.fileio import check_output, write_text_atomic

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    result_path = check_output(out / "estimated_sites.json", overwrite)
    df = _read(samples)
    train_s, test_s = split_sessions(df["session"], holdout_every)
    if not train_s or not test_s:
        raise InputError(f"samples: {df['session'].nunique()} session(s); need at least {holdout_every} to hold some out")
    train = df[df["session"].astype(str).isin(train_s)].reset_index(drop=True)
    test = df[df["session"].astype(str).isin(test_s)].reset_index(drop=True)
    measured = measured_cell_stats(df)
    write_text_atomic(out / "measured_stats.json", json.dumps(measured, indent=2) + "\n")
    sites = estimate_sites(train, method=method, height_m=defaults.height_m)
    sites.to_csv(out / "sites.csv", index=False)
    cells = estimated_cell_table(sites, df, defaults)
    cells.to_csv(out / "cells.csv", index=False)
    e = _eutran(df)
    dem = write_flat_dem(out / "dem_flat.tif", pd.to_numeric(df["lon"], errors="coerce")[e],
                         pd.to_numeric(df["lat"], errors="coerce")[e], elevation_m=defaults.ground_m)  # fmt: skip
    eutran_train = train[_eutran(train)].reset_index(drop=True)
    eutran_test = test[_eutran(test)].reset_index(drop=True)
    cal = calibrate(eutran_train, out / "cells.csv", dem, out / "tuned.toml", options=CalibrateOptions(h_eff="ground"),
                    overwrite=True)  # fmt: skip
    cmp_t = compare(eutran_test, out / "cells.csv", dem, out / "compare_tuned",
                    config=CompareConfig(model="spm", model_file=out / "tuned.toml"), overwrite=True)  # fmt: skip
    cmp_d = compare(eutran_test, out / "cells.csv", dem, out / "compare_default", config=CompareConfig(model="spm", plots=False),
                    overwrite=True)  # fmt: skip
    est = sites[np.isfinite(sites["lat"])]
    keys = ("n", "mean_error_db", "std_error_db", "rmse_db", "correlation")
    result = {
        "caveats": [
            "site positions are ESTIMATED from the training sessions' RSRP (method: " + method + "), not known",
            f"flat ground at {defaults.ground_m:g} m: no DEM is available offline",
            "every sector of an eNB sits at the eNB's estimated point with an omni antenna",
            f"assumed carrier {defaults.freq_mhz:g} MHz, {defaults.tx_power_dbm:g} dBm over {defaults.bandwidth_mhz:g} MHz, "
            f"{defaults.height_m:g} m antennas, {defaults.gain_dbi:g} dBi",
            "NSA '5G' rows report the LTE anchor cell's RSRP; every cell is treated as LTE",
        ],
        "defaults": asdict(defaults),
        "sessions": {"train": train_s, "held_out": test_s},
        "measured": {"counts": measured["counts"], "n_enb": measured["n_enb"], "n_cells": measured["n_cells"]},
        "sites": {"n_enb": int(len(sites)), "estimated": int(len(est)), "not_estimated": int(len(sites) - len(est)),
                  "slope_n_median": _py(est["slope_n"].median()) if len(est) else None,
                  "fit_std_db_median": _py(est["fit_std_db"].median()) if len(est) else None},  # fmt: skip
        "cells_in_table": int(len(cells)),
        "calibration": {"k1": round(cal.k.k1, 2), "k2": round(cal.k.k2, 2), "fitted": list(cal.fitted),
                        "samples": cal.settings["samples"], "holdout": cal.holdout},  # fmt: skip
        "held_out_tuned": {k: cmp_t[k] for k in keys} | {"samples": cmp_t["samples"]},
        "held_out_default": {k: cmp_d[k] for k in keys},
    }
    write_text_atomic(result_path, json.dumps(result, indent=2, default=_py) + "\n")
    return result


__all__ = [
    "EUTRAN_TECHS",
    "SiteDefaults",
    "enb_of",
    "estimate_sites",
    "estimated_cell_table",
    "measured_cell_stats",
    "run_estimated_sites",
    "split_sessions",
    "write_flat_dem",
]
