"""Averaging of measurements before comparison or calibration, and sample filters.

Two averaging schemes that planning tools offer, both keeping the sample count:

* **Lee windows** (:func:`lee_windows`): consecutive samples of one session and
  one serving cell within 40 wavelengths of driven distance form one window.
  W. C. Y. Lee, "Estimate of local average power of a mobile radio signal",
  IEEE Trans. Veh. Technol. VT-34(1), 1985: a 40-lambda window with about 36-50
  samples removes Rayleigh fast fading and keeps the local mean (shadowing).
* **Square bins** (:func:`square_bins`): samples of one serving cell whose
  projected position falls in the same ``bin_m`` x ``bin_m`` square.

:func:`average_groups` then averages each group's power values in the chosen
domain: ``"linear"`` (mW, then back to dBm: the local mean power, what Lee's
method estimates) or ``"db"`` (the mean of dB values: the median of a
log-normal variable, what median path-loss models such as Hata and the SPM
predict).  Non-power columns (distances, heights) are averaged arithmetically.

:func:`filter_samples` applies the usual planning-tool filters and reports how
many samples each one removed, in order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Speed of light. [m/s]
C_M_PER_S = 299_792_458.0
#: Lee's window length in wavelengths.
LEE_WAVELENGTHS = 40.0


def lee_window_m(freq_mhz, wavelengths: float = LEE_WAVELENGTHS):
    """Length of a Lee averaging window, ``wavelengths`` x c / f. [m]

    >>> round(float(lee_window_m(1800.0)), 3)
    6.662
    """
    f = np.asarray(freq_mhz, dtype=np.float64)
    if np.any(~(f > 0)):
        raise ValueError(f"freq_mhz must be > 0 MHz, got {f[~(f > 0)].ravel()[:1].tolist()}")
    return wavelengths * C_M_PER_S / (f * 1e6)


def _codes(*keys) -> np.ndarray:
    """One int64 group code per row from several key arrays (missing keys -> -1)."""
    frame = pd.DataFrame({f"k{i}": np.asarray(k).ravel() for i, k in enumerate(keys)})
    codes = frame.groupby(list(frame.columns), sort=True, dropna=True).ngroup()
    return codes.to_numpy(dtype=np.int64, copy=True)


def lee_windows(session, cell, time, x_m, y_m, freq_mhz, wavelengths: float = LEE_WAVELENGTHS) -> np.ndarray:
    """Lee window code per sample: same session, same serving cell, 40-lambda stretch of the route.

    Parameters
    ----------
    session, cell : array_like
        Session and serving-cell labels.
    time : array_like
        Sample times (any sortable type); order along the route.
    x_m, y_m : array_like
        Projected position. [m]
    freq_mhz : array_like
        Carrier frequency of the serving cell (sets the wavelength). [MHz]

    Returns
    -------
    numpy.ndarray
        int64 group code per sample (-1 where a key is missing); equal codes
        share a window.  A new window starts at every change of serving cell.

    Examples
    --------
    >>> lee_windows(["s"] * 4, ["A"] * 4, [0, 1, 2, 3], [0.0, 3.0, 7.0, 14.0], [0.0] * 4, [1800.0] * 4).tolist()
    [0, 0, 1, 2]
    """
    n = np.asarray(x_m).size
    order = np.lexsort((np.asarray(time).ravel(), pd.factorize(np.asarray(session, dtype=object).ravel())[0]))
    x = np.asarray(x_m, dtype=np.float64).ravel()[order]
    y = np.asarray(y_m, dtype=np.float64).ravel()[order]
    ses = pd.factorize(np.asarray(session, dtype=object).ravel())[0][order]
    cel = pd.factorize(np.asarray(cell, dtype=object).ravel())[0][order]
    step = np.hypot(np.diff(x, prepend=x[:1]), np.diff(y, prepend=y[:1]))
    step[0] = 0.0
    new_run = np.ones(n, bool)
    new_run[1:] = (ses[1:] != ses[:-1]) | (cel[1:] != cel[:-1])
    step = np.where(np.isfinite(step), step, 0.0)
    run_id = np.cumsum(new_run) - 1
    cum = np.cumsum(step)
    start = cum[new_run][run_id]  # along-track distance where each run starts
    length = lee_window_m(np.asarray(freq_mhz, dtype=np.float64).ravel()[order], wavelengths)
    win = np.floor((cum - start) / length).astype(np.int64)
    sorted_codes = _codes(run_id, win)
    sorted_codes[(ses < 0) | (cel < 0)] = -1
    out = np.empty(n, np.int64)
    out[order] = sorted_codes
    return out


def square_bins(cell, x_m, y_m, bin_m: float) -> np.ndarray:
    """Square-bin code per sample: same serving cell, same ``bin_m`` square of the projected plane.

    >>> square_bins(["A", "A", "B"], [1.0, 9.0, 1.0], [1.0, 1.0, 1.0], 10.0).tolist()
    [0, 0, 1]
    """
    if not (math.isfinite(bin_m) and bin_m > 0):
        raise ValueError(f"bin_m must be > 0 m, got {bin_m!r}")
    ix = np.floor(np.asarray(x_m, dtype=np.float64) / bin_m)
    iy = np.floor(np.asarray(y_m, dtype=np.float64) / bin_m)
    return _codes(np.asarray(cell, dtype=object), ix, iy)


def average_groups(codes, columns: dict, *, power: tuple[str, ...] = (), domain: str = "linear",
                   first: tuple[str, ...] = ()) -> pd.DataFrame:  # fmt: skip
    """Average columns over groups; one row per group with ``n_samples``.

    Parameters
    ----------
    codes : array_like of int
        Group code per sample (from :func:`lee_windows` / :func:`square_bins`);
        negative codes are left out.
    columns : dict
        name -> per-sample array.
    power : tuple of str
        Names of dB/dBm columns averaged in ``domain`` (NaN ignored per column).
    domain : {"linear", "db"}
        Domain of the power averages.
    first : tuple of str
        Names of label columns taking the group's first value (cell, session,
        clutter class...).  All other columns are arithmetic means.

    Returns
    -------
    pandas.DataFrame
        Index: the group code.

    Examples
    --------
    >>> df = average_groups([0, 0], {"rsrp_dbm": np.array([-100.0, -90.0])}, power=("rsrp_dbm",))
    >>> round(float(df["rsrp_dbm"].iloc[0]), 2), int(df["n_samples"].iloc[0])
    (-92.6, 2)
    """
    if domain not in ("linear", "db"):
        raise ValueError(f"domain must be 'linear' or 'db', got {domain!r}")
    codes = np.asarray(codes, dtype=np.int64).ravel()
    keep = codes >= 0
    frame = {}
    for name, values in columns.items():
        v = np.asarray(values)
        v = v.ravel()[keep]
        if name in power and domain == "linear":
            v = np.power(10.0, v.astype(np.float64) / 10.0)
        frame[name] = v
    df = pd.DataFrame(frame)
    df["_code"] = codes[keep]
    grouped = df.groupby("_code", sort=True)
    means = [c for c in columns if c not in first]
    out = grouped[means].mean() if means else pd.DataFrame(index=grouped.size().index)
    for name in first:
        out[name] = grouped[name].first()
    for name in power:
        if domain == "linear":
            with np.errstate(divide="ignore"):
                out[name] = 10.0 * np.log10(out[name].to_numpy(dtype=np.float64))
    out["n_samples"] = grouped.size()
    out.index.name = "group"
    return out


@dataclass(frozen=True)
class SampleFilters:
    """Planning-tool filters on samples before statistics or calibration.

    ``min_dist_km``/``max_dist_km``: distance to the serving cell range kept
    [km]; ``rsrp_floor_dbm``: samples below it are dropped (near the noise
    floor, the measurement saturates and biases the fit) [dBm];
    ``min_samples_per_bin``: averaged bins with fewer samples are dropped.
    """

    min_dist_km: float = 0.0
    max_dist_km: float = math.inf
    rsrp_floor_dbm: float = -140.0
    min_samples_per_bin: int = 1

    def __post_init__(self):
        if not (self.min_dist_km >= 0 and self.max_dist_km > self.min_dist_km):
            raise ValueError(
                f"distance filter {self.min_dist_km!r}..{self.max_dist_km!r} km is empty; need 0 <= min < max"
            )
        if not math.isfinite(self.rsrp_floor_dbm):
            raise ValueError(f"rsrp_floor_dbm must be finite, got {self.rsrp_floor_dbm!r}")
        if int(self.min_samples_per_bin) < 1:
            raise ValueError(f"min_samples_per_bin must be >= 1, got {self.min_samples_per_bin!r}")


def filter_samples(dist_km, rsrp_dbm, filters: SampleFilters) -> tuple[np.ndarray, dict[str, int]]:
    """Keep-mask and the number of samples each filter removed (applied in order, each counted once).

    >>> keep, removed = filter_samples([0.05, 1.0, 2.0], [-80.0, -90.0, -145.0], SampleFilters(min_dist_km=0.1))
    >>> keep.tolist(), removed
    ([False, True, False], {'min_dist_km': 1, 'max_dist_km': 0, 'rsrp_floor_dbm': 1})
    """
    d = np.asarray(dist_km, dtype=np.float64).ravel()
    r = np.asarray(rsrp_dbm, dtype=np.float64).ravel()
    keep = np.ones(d.size, bool)
    removed = {}
    for name, bad in (
        ("min_dist_km", d < filters.min_dist_km),
        ("max_dist_km", d > filters.max_dist_km),
        ("rsrp_floor_dbm", r < filters.rsrp_floor_dbm),
    ):
        removed[name] = int(np.count_nonzero(keep & bad))
        keep &= ~bad
    return keep, removed


def filters_report(filters: SampleFilters, removed: dict, *, bin_removed: int | None = None,
                   bin_scope: str = "") -> dict:  # fmt: skip
    """Each filter's value and the number of samples it removed, for ``stats.json`` and the model file.

    ``removed``: the counts of :func:`filter_samples`; ``bin_removed``: the
    samples in bins below ``min_samples_per_bin`` (None: not applied);
    ``bin_scope`` says what those bins are.  An infinite ``max_dist_km`` is
    written as None (no upper limit).

    >>> filters_report(SampleFilters(min_dist_km=0.1), {"min_dist_km": 4, "max_dist_km": 0, "rsrp_floor_dbm": 1})["min_dist_km"]
    {'value': 0.1, 'removed_samples': 4}
    """
    out = {}
    for name in ("min_dist_km", "max_dist_km", "rsrp_floor_dbm"):
        v = float(getattr(filters, name))
        out[name] = {"value": v if math.isfinite(v) else None, "removed_samples": int(removed.get(name, 0))}
    out["min_samples_per_bin"] = {"value": int(filters.min_samples_per_bin),
                                  "removed_samples": None if bin_removed is None else int(bin_removed)}  # fmt: skip
    if bin_scope:
        out["min_samples_per_bin"]["applies_to"] = bin_scope
    return out


__all__ = [
    "LEE_WAVELENGTHS",
    "SampleFilters",
    "average_groups",
    "filter_samples",
    "filters_report",
    "lee_window_m",
    "lee_windows",
    "square_bins",
]
