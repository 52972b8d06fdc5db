"""Per-region pieces of ``netqa compare``: reading regions and events, membership, per-region statistics.

A sample counts in every region whose polygon holds it (:func:`netqa.regions.region_masks`, the one
membership rule of ``netqa kpi``, ``netqa compare`` and ``netqa score``); the event models run once per
layer of regions that share no sample (:func:`_disjoint_layers`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from netqa.compare.stats import error_stats
from netqa.errors import InputError


def read_events(events) -> pd.DataFrame | None:
    """Events from Parquet/CSV file(s) or a DataFrame (canonical columns)."""
    if events is None:
        return None
    if isinstance(events, pd.DataFrame):
        return events.reset_index(drop=True)
    paths = [events] if isinstance(events, (str, Path)) else list(events)
    frames = []
    for p in map(Path, paths):
        if not p.exists():
            raise InputError(f"--events {p}: file not found")
        try:
            frames.append(pd.read_parquet(p) if p.suffix.lower() in (".parquet", ".pq") else pd.read_csv(p, comment="#"))
        except Exception as exc:  # noqa: BLE001
            raise InputError(f"--events {p}: cannot read ({exc})") from exc
    df = pd.concat(frames, ignore_index=True)
    missing = [c for c in ("time", "session", "event") if c not in df.columns]
    if missing:
        raise InputError(f"--events {paths[0]}: missing canonical column(s) {', '.join(missing)}")
    return df.drop(columns="geometry", errors="ignore")


def _regions(regions):
    if regions is None:
        return None
    import geopandas as gpd

    try:
        gdf = regions if isinstance(regions, gpd.GeoDataFrame) else gpd.read_file(regions)
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"--regions {regions}: cannot read ({exc})") from exc
    if "region_id" not in gdf.columns:
        raise InputError(f"--regions {regions}: no region_id column")
    return gdf if gdf.crs is not None else gdf.set_crs("EPSG:4326")  # membership in the file's own CRS


def region_members(gdf, lon, lat) -> dict[str, np.ndarray]:
    """Samples inside each region: ``{region_id: bool mask}``, in ``region_id`` order.

    A sample counts in **every** region whose polygon holds it, its edge included, by
    :func:`netqa.regions.region_masks` -- the one membership rule of ``netqa kpi``,
    ``netqa compare`` and ``netqa score``.  A sample without a position is in none.
    Regions sharing an id share one mask.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Regions with ``region_id``, in any CRS (the samples are projected into it).
    lon, lat : numpy.ndarray
        Sample positions, WGS84. [deg]
    """
    from netqa.regions import region_masks

    return region_masks(gdf, lon, lat)


def _region_labels(members, n: int) -> np.ndarray:
    """Per sample the ids of the regions holding it, comma-separated (None for none); for residuals.parquet."""
    out = np.full(n, "", dtype=object)
    for rid, mask in (members or {}).items():
        out[mask] = np.where(out[mask] == "", rid, out[mask] + "," + rid)
    out[out == ""] = None
    return out


def _per_region_stats(pred, meas, members, unit: str = "db") -> dict:
    """:func:`~netqa.compare.stats.error_stats` over each region's samples (``members[rid]`` masks the given
    arrays); regions without a finite pair are left out, as in ``stats_table``'s other groups."""
    out = {}
    for rid, mask in members.items():
        s = error_stats(pred[mask], meas[mask])
        if s.n > 0:
            out[rid] = s.to_dict(unit)
    return out


def _compare_events(ev, samples, meas_sinr, meas_rsrp, pred_sinr, pred_rsrp, members, area) -> dict:
    """Drop-rate and HO-failure blocks; per region, a call or drop counts in every region holding its sample.

    ``samples`` are all the samples read (``time``, ``session``, position) and
    the arrays pair with them: the models are fitted on measured conditions,
    so samples that the RSRP comparison cannot use (outside the DEM, unknown
    serving cell) take part, with NaN predictions.
    :func:`~netqa.compare.events.compare_events` takes one region label per
    sample, so the regions are split into layers of regions that share no
    sample (:func:`_disjoint_layers`; one layer unless regions overlap) and
    it runs once per layer; the fitted models are the same in every run (the
    same measured events and conditions).
    """
    from netqa.compare.events import compare_events

    args = (ev, samples, meas_sinr, meas_rsrp, pred_sinr, pred_rsrp)
    if not members:
        return compare_events(*args, region=None, area=area)
    out, per_region = None, {}
    for layer in _disjoint_layers(members):
        labels = np.full(len(samples), None, dtype=object)
        for rid in layer:
            labels[members[rid]] = rid
        one = compare_events(*args, region=labels, area=area)
        out = out or one
        per_region.update(one["drop_rate"].get("per_region", {}))
    if "per_region" in out["drop_rate"]:
        out["drop_rate"]["per_region"] = dict(sorted(per_region.items()))
    return out


def _disjoint_layers(members) -> list[list[str]]:
    """Region ids in layers whose regions share no sample (greedy, in id order): one label per sample per layer.

    >>> m = {"A": np.array([1, 1, 0, 0], bool), "B": np.array([0, 0, 1, 1], bool), "C": np.array([0, 1, 1, 0], bool)}
    >>> _disjoint_layers(m)
    [['A', 'B'], ['C']]
    """
    layers, used = [], []
    for rid, mask in members.items():
        for layer, taken in zip(layers, used):
            if not (taken & mask).any():
                layer.append(rid)
                taken |= mask
                break
        else:
            layers.append([rid])
            used.append(mask.copy())
    return layers


__all__ = ["read_events", "region_members"]
