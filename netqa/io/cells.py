"""Cell tables: read any supported layout onto the canonical Cells columns.

Formats (``read_cells(..., format=...)``):

``canonical`` (CSV or XLSX)
    The DESIGN.md Cells columns by name (see :data:`netqa.schema.CELL_COLUMNS`).
``vector`` (GeoPackage, GeoJSON, anything pyogrio reads)
    The canonical attribute columns; ``lat``/``lon`` are taken from the point
    geometry (reprojected to EPSG:4326) when absent.
``opencellid`` (CSV, with or without header)
    ``radio, mcc, net, area, cell, unit, lon, lat, range, samples, changeable,
    created, updated, averageSignal``.  ``cell_id = "mcc-net-area-cell"``;
    ``site_id = "mcc-net-eNB"`` for LTE (eNB = cell // 256), else
    ``"mcc-net-area-cell"``; ``unit`` is the PCI (LTE, NR) or PSC (UMTS).
    Rows of other RATs (CDMA) are skipped with a logged count.  The
    engineering parameters OpenCelliD lacks come from :data:`OPENCELLID_DEFAULTS`
    and are listed in each row's ``flags``.
``mapping`` (CSV or XLSX)
    An operator engineering-parameter sheet through a TOML column mapping
    (source column -> canonical name, units such as ``W`` or ``dBW`` for power,
    sheet name, value aliases, defaults).  A ready example ships as
    ``netqa/data/mappings/operator_example.toml`` (``mapping="operator_example"``).

Every row is checked (:mod:`netqa.io._cells_check`): required columns,
unique ``cell_id``, position (not 0, 0), height 0-300 m, azimuth 0-360 deg,
tilts -10..30 deg, power 0-60 dBm, frequency 400-7125 MHz, a channel
bandwidth valid for the RAT, ``tech`` in GSM/UMTS/LTE/NR, PCI 0-503 (LTE) /
0-1007 (NR).  A failure raises :class:`~netqa.errors.CellTableError` naming
the file, the row (1-based data row and source line, or feature / sheet row),
the field, the value and the allowed range.

Defaults filled for every format, where the value is missing: ``gain_dbi`` =
17 dBi (a typical macro panel; flagged), ``feeder_loss_db`` = 0 dB (remote
radio head; not flagged); ``rs_power_dbm`` is derived from total power and
bandwidth by :func:`rs_power_dbm` when absent (LTE and NR only); when
``rs_power_dbm`` is given, ``tx_power_dbm`` may be omitted (column or value)
and is derived from it, total = RS EPRE + 10 log10(12 N_RB).  The optional
``ground_m`` (site ground elevation above mean sea level, -450..9000 m) is
used instead of the DEM at the mast.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from netqa.errors import CellTableError
from netqa.fileio import atomic_path, check_output
from netqa.io._cells_check import (
    BANDWIDTHS_MHZ,
    LTE_N_RB,
    NR_N_RB_30KHZ,
    WHERE,
    finalize,
    rs_power_from_total,
)
from netqa.io._cells_mapping import Mapping, load_mapping, packaged_mappings, read_mapped
from netqa.schema import CELL_COLUMNS

log = logging.getLogger(__name__)

__all__ = [
    "read_cells",
    "write_cells",
    "rs_power_dbm",
    "detect_format",
    "load_mapping",
    "packaged_mappings",
    "Mapping",
    "FORMATS",
    "OPENCELLID_COLUMNS",
    "OPENCELLID_DEFAULTS",
    "ALLOWED_BANDWIDTHS_MHZ",
]

FORMATS = ("auto", "canonical", "vector", "opencellid", "mapping")
_ALIASES = {"netqa": "canonical", "csv": "canonical", "gpkg": "vector", "geojson": "vector", "ocid": "opencellid"}
_VECTOR_EXT = {".gpkg", ".geojson", ".json", ".shp", ".fgb", ".gml", ".kml"}
_SHEET_EXT = {".xlsx", ".xlsm"}

#: OpenCelliD CSV export columns, in file order.
OPENCELLID_COLUMNS = (
    "radio", "mcc", "net", "area", "cell", "unit", "lon", "lat", "range",
    "samples", "changeable", "created", "updated", "averageSignal",
)
#: Engineering parameters assumed for OpenCelliD cells, per RAT (every value flagged).
#: Frequencies are downlink band centres of the most widely deployed band of each RAT:
#: GSM-900 (935-960 MHz), UMTS band 1 (2110-2170 MHz), LTE band 3 (1805-1880 MHz),
#: NR n78 (3300-3800 MHz, 3500 MHz typical).  Powers are typical macro totals
#: (20 W GSM/UMTS, 40 W LTE 20 MHz, 80 W NR 100 MHz).  OpenCelliD has no
#: azimuth: cells are taken as omnidirectional (``antenna="omni"``, 11 dBi, azimuth 0),
#: 30 m above ground, untilted.
OPENCELLID_DEFAULTS = {
    "GSM": {"freq_mhz": 947.5, "bandwidth_mhz": 0.2, "tx_power_dbm": 43.0},
    "UMTS": {"freq_mhz": 2140.0, "bandwidth_mhz": 5.0, "tx_power_dbm": 43.0},
    "LTE": {"freq_mhz": 1842.5, "bandwidth_mhz": 20.0, "tx_power_dbm": 46.0},
    "NR": {"freq_mhz": 3500.0, "bandwidth_mhz": 100.0, "tx_power_dbm": 49.0},
}
_OCID_COMMON = {
    "height_m": 30.0, "azimuth_deg": 0.0, "mech_tilt_deg": 0.0, "elec_tilt_deg": 0.0,
    "antenna": "omni", "gain_dbi": 11.0,
}


def rs_power_dbm(tx_power_dbm, bandwidth_mhz, tech="LTE"):
    r"""Reference-signal power per resource element from total cell power.

    Parameters
    ----------
    tx_power_dbm : array_like
        Total transmit power of the cell. [dBm]
    bandwidth_mhz : array_like
        Channel bandwidth: LTE 1.4, 3, 5, 10, 15, 20; NR 5-100 (FR1). [MHz]
    tech : str or array_like
        ``"LTE"`` or ``"NR"``; ``"GSM"``/``"UMTS"`` give NaN (no OFDM resource elements).

    Returns
    -------
    numpy.ndarray or float
        RS EPRE. [dBm]

    Notes
    -----
    Power spread evenly over all sub-carriers:
    :math:`P_{RS} = P_{tot} - 10\log_{10}(12 N_{RB})`.
    N_RB: LTE per 3GPP TS 36.101 Table 5.6-1 (1.4->6, 3->15, 5->25, 10->50,
    15->75, 20->100); NR per 3GPP TS 38.101-1 Table 5.3.2-1 assuming 30 kHz
    sub-carrier spacing for every FR1 bandwidth (5->11 ... 100->273), the usual
    mid-band (n77/n78) numerology; at 15 kHz the same power per RE would be
    about 3 dB higher.

    Examples
    --------
    >>> round(float(rs_power_dbm(46.0, 20.0)), 2)
    15.21
    >>> round(float(rs_power_dbm(49.0, 100.0, "NR")), 2)
    13.85
    """
    tech_arr = np.asarray(tech, dtype=object)
    known = np.isin(tech_arr, ("GSM", "UMTS", "LTE", "NR"))
    if not np.all(known):
        raise ValueError(f"tech = {tech!r}: must be GSM, UMTS, LTE or NR")
    bw = np.asarray(bandwidth_mhz, dtype=np.float64)
    out = rs_power_from_total(tx_power_dbm, bw, tech_arr)
    ofdm = np.broadcast_to(np.isin(tech_arr, ("LTE", "NR")), out.shape)
    if np.any(ofdm & np.isnan(out)):
        bad = np.broadcast_to(bw, out.shape)[ofdm & np.isnan(out)]
        raise ValueError(
            f"bandwidth_mhz = {bad[:3].tolist()} has no resource-block count; LTE allows "
            f"{', '.join(f'{b:g}' for b in LTE_N_RB)} MHz, NR {', '.join(f'{b:g}' for b in NR_N_RB_30KHZ)} MHz"
        )
    return float(out) if out.ndim == 0 else out


def detect_format(path, mapping=None) -> str:
    """The format of ``path`` (one of :data:`FORMATS` except ``auto``), from its extension and header."""
    p = Path(path)
    if mapping is not None:
        return "mapping"
    ext = p.suffix.lower()
    if ext in _VECTOR_EXT:
        return "vector"
    if ext in _SHEET_EXT:
        header = [str(c).strip() for c in pd.read_excel(p, nrows=0, engine="openpyxl").columns]
        if all(c in header for c in CELL_COLUMNS):
            return "canonical"
        raise CellTableError(
            f"{p}: the first sheet's header ({', '.join(header[:12])}) has not the canonical cell columns; "
            f"read an operator sheet with a mapping TOML (mapping=..., e.g. {', '.join(packaged_mappings())})"
        )
    first = _first_line(p)
    fields = [f.strip().strip('"') for f in next(csv.reader([first], delimiter=_delimiter(first)), [])]
    if all(c in fields for c in ("cell_id", "lat", "lon")):
        return "canonical"  # finalize names any other missing column
    if fields[:5] == list(OPENCELLID_COLUMNS[:5]):
        return "opencellid"
    if len(fields) == len(OPENCELLID_COLUMNS) and fields[0].upper() in ("GSM", "UMTS", "LTE", "NR", "CDMA"):
        return "opencellid"
    missing = [c for c in CELL_COLUMNS if c not in fields]
    raise CellTableError(
        f"{p}: cannot tell the cell-table format from its header ({', '.join(fields[:12])}{', ...' if len(fields) > 12 else ''}): "
        f"not the canonical columns (missing {', '.join(missing)}), not OpenCelliD ({', '.join(OPENCELLID_COLUMNS[:6])}, ...); "
        f"pass format= (one of {', '.join(FORMATS[1:])}) or a mapping TOML"
    )


def _delimiter(line: str) -> str:
    """The field separator of a header line: ``,``, ``;`` (European spreadsheets) or tab."""
    counts = {d: line.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: (counts[d], d == ","))


def _first_line(p: Path) -> str:
    with open(p, encoding="utf-8-sig", errors="replace") as fh:
        for line in fh:
            if line.strip():
                return line.strip()
    raise CellTableError(f"{p}: the file is empty")


def read_cells(path, *, format: str = "auto", mapping=None, defaults: dict | None = None) -> gpd.GeoDataFrame:
    """Read and validate a cell table.

    Parameters
    ----------
    path : path
        CSV, XLSX, GeoPackage/GeoJSON or OpenCelliD CSV.
    format : str
        ``auto`` (from extension and header), ``canonical``, ``vector``,
        ``opencellid`` or ``mapping``; a path ending in ``.toml`` means
        ``mapping=<that file>``.
    mapping : path, str, dict or Mapping, optional
        Column mapping for operator sheets: a TOML path, the name of a packaged
        mapping (``"operator_example"``) or the parsed dict.
    defaults : dict, optional
        Canonical column -> value (canonical units) filled where the column or
        value is missing; each filled cell is listed in the row's ``flags``.
        Overrides the built-in OpenCelliD defaults.

    Returns
    -------
    geopandas.GeoDataFrame
        Canonical Cells columns (:data:`netqa.schema.CELL_COLUMNS`, the optional
        ones present or derived, extra source columns after them), ``flags``
        (``"defaults:height_m,azimuth_deg"`` or ``""``) and point geometry in
        EPSG:4326.

    Raises
    ------
    netqa.errors.CellTableError
        Missing columns, duplicate ids, impossible values (file, row, field,
        value and allowed range named), or an undetectable format.
    netqa.errors.ConfigError
        A malformed mapping file.
    """
    p = Path(path)
    if not p.exists():
        raise CellTableError(f"{p}: cell table not found")
    fmt = str(format)
    if fmt.lower().endswith(".toml"):
        mapping, fmt = fmt, "mapping"
    fmt = _ALIASES.get(fmt.lower(), fmt.lower())
    if fmt not in FORMATS:
        raise CellTableError(f"format = {format!r} is unknown; choose one of {', '.join(FORMATS)} or a mapping .toml")
    if fmt == "auto":
        fmt = detect_format(p, mapping)
    log.info("reading cells from %s as %s", p, fmt)
    defaults = dict(defaults or {})
    units = values = None
    if fmt == "mapping":
        if mapping is None:
            raise CellTableError(f"{p}: format 'mapping' needs mapping= (a TOML path or one of {', '.join(packaged_mappings())})")
        m = load_mapping(mapping)
        df = read_mapped(p, m)
        defaults = {**m.defaults, **defaults}
        units, values = m.units, m.values
    elif fmt == "canonical":
        df = _read_canonical(p)
    elif fmt == "vector":
        df = _read_vector(p)
    else:
        df, ocid_defaults = _read_opencellid(p)
        filled = [col for col in ocid_defaults if col not in defaults]
        for col in filled:
            df[col] = ocid_defaults[col]
        df["_ocid_flags"] = ",".join(filled)
    out = finalize(df, str(p), defaults=defaults, units=units, value_maps=values)
    if "_ocid_flags" in out.columns:
        out["flags"] = _merge_flags(out.pop("_ocid_flags"), out["flags"])
    geometry = gpd.points_from_xy(out["lon"], out["lat"], crs="EPSG:4326")
    gdf = gpd.GeoDataFrame(out, geometry=geometry, crs="EPSG:4326")
    n_flagged = int((gdf["flags"] != "").sum())
    log.info("%s: %d cells (%d with defaults filled)", p, len(gdf), n_flagged)
    return gdf


def _read_canonical(p: Path) -> pd.DataFrame:
    if p.suffix.lower() in _SHEET_EXT:
        df = pd.read_excel(p, dtype=object, engine="openpyxl")
        df.columns = [str(c).strip() for c in df.columns]
        df[WHERE] = [f"row {i + 1} (sheet row {i + 2})" for i in range(len(df))]
        return df
    try:
        df = pd.read_csv(
            p, sep=_delimiter(_first_line(p)), dtype=str, keep_default_na=False, skipinitialspace=True, encoding="utf-8-sig"
        )
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise CellTableError(f"{p}: not a readable CSV ({exc})") from exc
    df.columns = [str(c).strip() for c in df.columns]
    df[WHERE] = [f"row {i + 1} (line {i + 2})" for i in range(len(df))]
    return df


def _read_vector(p: Path) -> pd.DataFrame:
    try:
        gdf = gpd.read_file(p, engine="pyogrio")
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        raise CellTableError(f"{p}: cannot read as a vector layer ({exc})") from exc
    where = [f"feature {i + 1}" for i in range(len(gdf))]
    if ("lat" not in gdf.columns or "lon" not in gdf.columns) and len(gdf):
        if gdf.crs is None:
            raise CellTableError(f"{p}: the layer has no CRS and no lat/lon columns; set its CRS (EPSG:4326) or add lat, lon")
        geom = gdf.geometry.to_crs("EPSG:4326")
        for i in np.flatnonzero((geom.is_empty | geom.isna()).to_numpy() | (geom.geom_type != "Point").to_numpy()):
            raise CellTableError(f"{p}: {where[i]}: field 'geometry' is {geom.iloc[i]!s:.40} ; each cell needs a point (or lat, lon columns)")
        gdf["lon"], gdf["lat"] = geom.x.to_numpy(), geom.y.to_numpy()
    df = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    df[WHERE] = where
    return df


def _read_opencellid(p: Path):
    has_header = _first_line(p).split(",")[0].strip().strip('"') == "radio"
    try:
        raw = pd.read_csv(
            p, dtype=str, keep_default_na=False, header=0 if has_header else None,
            names=None if has_header else list(OPENCELLID_COLUMNS), encoding="utf-8-sig",
        )
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise CellTableError(f"{p}: not a readable OpenCelliD CSV ({exc})") from exc
    raw.columns = [str(c).strip() for c in raw.columns]
    missing = [c for c in ("radio", "mcc", "net", "area", "cell", "lon", "lat") if c not in raw.columns]
    if missing:
        raise CellTableError(f"{p}: OpenCelliD columns missing: {', '.join(missing)}; expected {', '.join(OPENCELLID_COLUMNS)}")
    offset = 2 if has_header else 1
    raw[WHERE] = [f"line {i + offset}" for i in range(len(raw))]
    radio = raw["radio"].str.strip().str.upper()
    keep = radio.isin(list(OPENCELLID_DEFAULTS)).to_numpy()
    if not keep.all():
        log.warning("%s: skipped %d rows of unsupported RATs (%s)", p, int((~keep).sum()), ", ".join(sorted(set(radio[~keep]))))
    raw, radio = raw[keep].reset_index(drop=True), radio[keep].reset_index(drop=True)
    if raw.empty:
        raise CellTableError(f"{p}: no GSM, UMTS, LTE or NR rows")
    ints = {}
    for col in ("mcc", "net", "area", "cell"):
        num = pd.to_numeric(raw[col].str.strip(), errors="coerce")
        bad = num.isna().to_numpy() | (num.fillna(0) < 0).to_numpy()
        for i in np.flatnonzero(bad):
            raise CellTableError(f"{p}: {raw[WHERE].iat[i]}: field '{col}' = {raw[col].iat[i]!r} is not a non-negative integer")
        ints[col] = num.astype(np.int64).astype(str)
    cell = pd.to_numeric(raw["cell"]).astype(np.int64)
    base = ints["mcc"] + "-" + ints["net"]
    df = pd.DataFrame({
        "cell_id": base + "-" + ints["area"] + "-" + ints["cell"],
        "site_id": np.where(radio == "LTE", base + "-" + (cell // 256).astype(str), base + "-" + ints["area"] + "-" + ints["cell"]),
        "tech": radio,
        "lat": raw["lat"], "lon": raw["lon"],
        "pci": raw["unit"] if "unit" in raw.columns else "",
        WHERE: raw[WHERE],
    })
    unit = pd.to_numeric(df["pci"], errors="coerce")
    df.loc[~radio.isin(["LTE", "NR", "UMTS"]).to_numpy() | (unit < 0).to_numpy(), "pci"] = ""  # -1: unknown
    for extra, name in (("range", "range_m"), ("samples", "samples")):
        if extra in raw.columns:
            df[name] = pd.to_numeric(raw[extra], errors="coerce")
    per_rat = {col: radio.map({t: d[col] for t, d in OPENCELLID_DEFAULTS.items()}).to_numpy() for col in OPENCELLID_DEFAULTS["LTE"]}
    per_rat.update({col: np.full(len(df), v, dtype=object) for col, v in _OCID_COMMON.items()})
    return df, per_rat


def _merge_flags(ocid: pd.Series, other: pd.Series) -> pd.Series:
    merged = []
    for a, b in zip(ocid, other):
        names = [n for n in str(a).split(",") if n]
        names += [n for n in str(b).removeprefix("defaults:").split(",") if n and n not in names]
        merged.append("defaults:" + ",".join(names) if names else "")
    return pd.Series(merged, index=ocid.index, dtype="string")


def write_cells(gdf, path, *, overwrite: bool = False) -> Path:
    """Write a cell table atomically: ``.csv`` (no geometry column) or ``.gpkg`` (layer ``cells``) / ``.geojson``.

    Refuses to replace an existing file unless ``overwrite``.
    """
    p = check_output(path, overwrite)
    ext = p.suffix.lower()
    cols = [c for c in gdf.columns if c != getattr(gdf, "_geometry_column_name", "geometry")]
    if ext == ".csv":
        with atomic_path(p) as tmp:
            pd.DataFrame(gdf[cols]).to_csv(tmp, index=False)
    elif ext in (".gpkg", ".geojson"):
        if not isinstance(gdf, gpd.GeoDataFrame):
            gdf = gpd.GeoDataFrame(gdf, geometry=gpd.points_from_xy(gdf["lon"], gdf["lat"]), crs="EPSG:4326")
        with atomic_path(p) as tmp:
            kw = {"layer": "cells"} if ext == ".gpkg" else {}
            gdf.to_file(tmp, engine="pyogrio", **kw)
    else:
        raise CellTableError(f"{p}: cannot write cells as {ext or 'no extension'}; use .csv, .gpkg or .geojson")
    return p


#: Allowed channel bandwidths per RAT. [MHz]
ALLOWED_BANDWIDTHS_MHZ = BANDWIDTHS_MHZ
