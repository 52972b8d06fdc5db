"""Serving cells against a cell table: the serving-cell match and the file-level lat/lon exchange check.

* **Cells** — :class:`CellMatcher` matches the serving cell by ``cell_id``,
  else by PCI plus EARFCN/frequency and the nearest site, keeping the log's
  own id in ``log_cell_id``.
* **Lat/lon exchange** — :class:`LatLonSwapCheck` refuses a log whose
  positions fit the cell table only with latitude and longitude exchanged.

Both are used by :class:`netqa.ingest.normalise.Normaliser` while it streams
a file's validated blocks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from netqa.errors import LogFormatError
from netqa.ingest.batch import Batch, constant_dict, dict_array, dict_codes


class LatLonSwapCheck:
    """File-level check: do the positions fit the cell table only with latitude and longitude exchanged?

    A log whose columns were mapped the wrong way round stays inside the
    valid ranges when both values are within +-90 (Cork: lat 51.9, lon -8.4
    read as lat -8.4, lon 51.9), so the per-row range check cannot see it.
    With a cell table there is independent evidence: on the first block with
    positions, the median distance from (up to ``n_probe``) samples to their
    nearest site is computed as logged and swapped.  When it is over
    ``far_km`` as logged and within ``near_km`` swapped, the log and the table
    disagree by a lat/lon exchange, and either may be at fault: the file is
    refused (LogFormatError naming both), never "fixed" to fit the table.
    When no log of a run fits the table as given and some fit it only
    exchanged, the table is the odd one out and the run stops with an error
    about the table (:func:`netqa.ingest.core.ingest_logs`).  Without
    ``--cells`` such a swap cannot be told from a drive elsewhere, and nothing
    is checked.
    """

    def __init__(self, cells: pd.DataFrame, far_km: float = 100.0, near_km: float = 30.0, n_probe: int = 1000):
        lat = pd.to_numeric(cells["lat"], errors="coerce").to_numpy(np.float64)
        lon = pd.to_numeric(cells["lon"], errors="coerce").to_numpy(np.float64)
        ok = np.isfinite(lat) & np.isfinite(lon)
        sites = np.unique(np.round(np.column_stack([lat[ok], lon[ok]]), 5), axis=0)
        self.site_lat, self.site_lon = sites[:, 0], sites[:, 1]
        self.far_km, self.near_km, self.n_probe = far_km, near_km, n_probe
        self.swapped: bool | None = None  # None: not decided yet
        self.median_km: tuple[float, float] | None = None

    def _median_nearest_km(self, lat: np.ndarray, lon: np.ndarray) -> float:
        d = np.full(lat.size, np.inf)
        step = 512  # sites per pass: bounded memory for big cell tables
        for i in range(0, self.site_lat.size, step):
            d = np.minimum(d, _haversine_km(lat[:, None], lon[:, None], self.site_lat[None, i:i + step], self.site_lon[None, i:i + step]).min(axis=1))
        return float(np.median(d))

    def decide(self, lat: np.ndarray, lon: np.ndarray) -> bool | None:
        ok = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lon) <= 90)
        if self.site_lat.size == 0 or not ok.any():
            return None
        idx = np.flatnonzero(ok)
        idx = idx[np.linspace(0, idx.size - 1, min(idx.size, self.n_probe)).astype(np.int64)]
        as_is = self._median_nearest_km(lat[idx], lon[idx])
        swapped = self._median_nearest_km(lon[idx], lat[idx])
        self.median_km = (as_is, swapped)
        return as_is > self.far_km and swapped <= self.near_km

    def apply(self, b: Batch, file: str = "", table: str = "the cell table") -> Batch:
        """Decide on the first block with positions; raise LogFormatError when only the exchange fits."""
        if self.swapped is None:
            self.swapped = self.decide(b.cols["lat"], b.cols["lon"])
            if self.swapped:
                a, z = self.median_km
                raise LogFormatError(
                    f"{file}: positions fit {table} only with latitude and longitude exchanged (median distance to the "
                    f"nearest site {a:.0f} km as given, {z:.1f} km exchanged): the log's lat/lon columns are swapped "
                    "(check its format or mapping) or the table's are; the file is refused, nothing was changed")
        return b


class CellMatcher:
    """Matches serving cells to a cell table (canonical Cells columns).

    By ``cell_id`` first; rows that do not match and carry ``pci`` (and
    ``earfcn`` when both sides have it) take the nearest cell with that PCI.
    The log's own id is kept in ``log_cell_id``; ``cell_matched`` says whether
    a match was found.
    """

    def __init__(self, cells: pd.DataFrame, max_dist_km: float = 30.0):
        from netqa.ingest.values import normalise_cell_id

        table_ids = cells["cell_id"].astype(object).where(cells["cell_id"].notna(), None).tolist()
        # the log's ids are normalised on read; the table's the same way, and a match reports the table's own id
        self.id_of = {}
        for raw in table_ids:
            k = normalise_cell_id(raw)
            if k is not None:
                self.id_of.setdefault(k, str(raw).strip())
        self.ids = pa.array(list(self.id_of), type=pa.string())
        self.cells = cells
        self.max_dist_km = max_dist_km
        self.n_matched = 0
        self.n_unmatched = 0
        self.has_pci = "pci" in cells.columns and cells["pci"].notna().any()

    def match(self, b: Batch) -> Batch:
        """Set ``cell_id`` to the matched table id (null when unmatched), ``log_cell_id`` and ``cell_matched``.

        Vectorised: ids through the dictionary, PCI matches per distinct (PCI, EARFCN) pair.
        """
        n = len(b)
        raw = dict_array(b.cols["cell_id"]) if "cell_id" in b.cols else constant_dict(None, n)
        ok = pc.fill_null(pc.is_in(raw, value_set=self.ids), False).to_numpy(zero_copy_only=False).copy()
        codes, values = dict_codes(raw)
        values = [self.id_of.get(v, v) for v in values]  # the table's spelling of a matched id
        out = np.where(ok, codes, -1)
        if self.has_pci and "pci" in b.cols and (~ok).any():
            pci, lat, lon = b.cols["pci"], b.cols["lat"], b.cols["lon"]
            cand = np.flatnonzero(~ok & np.isfinite(pci) & np.isfinite(lat) & np.isfinite(lon))
            if cand.size:
                c = self.cells
                cpci = pd.to_numeric(c["pci"], errors="coerce").to_numpy(np.float64)
                cearf = pd.to_numeric(c["earfcn"], errors="coerce").to_numpy(np.float64) if "earfcn" in c else np.full(len(c), np.nan)
                clat, clon = c["lat"].to_numpy(np.float64), c["lon"].to_numpy(np.float64)
                cid = c["cell_id"].astype(str).to_numpy(object)
                earf = b.cols.get("earfcn")
                e = earf[cand] if earf is not None else np.full(cand.size, np.nan)
                key = pci[cand] * 1e8 + np.where(np.isfinite(e), e + 1.0, 0.0)  # exact in float64
                order = np.argsort(key, kind="stable")
                bounds = np.flatnonzero(np.diff(key[order])) + 1
                index = {v: k for k, v in enumerate(values)}
                for grp in np.split(order, bounds):  # one pass per distinct (PCI, EARFCN): few
                    rows = cand[grp]
                    p, ef = pci[rows[0]], e[grp[0]]
                    sel = cpci == p
                    if np.isfinite(ef):
                        sel &= ~np.isfinite(cearf) | (cearf == ef)
                    if not sel.any():
                        continue
                    d = _haversine_km(lat[rows][:, None], lon[rows][:, None], clat[sel][None, :], clon[sel][None, :])
                    j = np.argmin(d, axis=1)
                    good = d[np.arange(rows.size), j] <= self.max_dist_km
                    uids, uinv = np.unique(cid[sel][j[good]], return_inverse=True)
                    out[rows[good]] = np.array([index.setdefault(x, len(index)) for x in uids], dtype=np.int64)[uinv.ravel()]
                    ok[rows[good]] = True
                values = list(index)
        mask = out < 0
        b.cols["log_cell_id"] = raw
        b.cols["cell_id"] = pa.DictionaryArray.from_arrays(pa.array(out.astype(np.int32), mask=mask if mask.any() else None),
                                                           pa.array(values, type=pa.string()))
        b.cols["cell_matched"] = ok
        self.n_matched += int(ok.sum())
        self.n_unmatched += int((~ok).sum())
        return b


def _haversine_km(lat, lon, lat2, lon2):
    """Distance [km] on the WGS84 ellipsoid (pyproj.Geod; the name is kept for callers)."""
    from netqa.geodesy import geodesic_km

    return geodesic_km(lat, lon, lat2, lon2)
