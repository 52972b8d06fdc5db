"""Normalise and validate a cell table onto the canonical Cells columns.

Private module behind :func:`netqa.io.cells.read_cells`.  Every reader turns
its format into a DataFrame whose columns carry canonical names (values still
raw), plus a ``_where`` column naming each row in the source ("row 3 (line 4)",
"feature 2", "sheet 'Cells' row 7"); :func:`finalize` does the rest: defaults
(flagged), unit conversion, parsing, range checks, derived RS power.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd

from netqa.errors import CellTableError
from netqa.schema import CELL_COLUMNS, CELL_OPTIONAL_COLUMNS, TECHS

log = logging.getLogger(__name__)

WHERE = "_where"

#: LTE channel bandwidth -> N_RB (3GPP TS 36.101, Table 5.6-1).
LTE_N_RB = {1.4: 6, 3.0: 15, 5.0: 25, 10.0: 50, 15.0: 75, 20.0: 100}
#: NR FR1 channel bandwidth -> N_RB at 30 kHz sub-carrier spacing
#: (3GPP TS 38.101-1, Table 5.3.2-1, "Maximum transmission bandwidth configuration").
NR_N_RB_30KHZ = {
    5.0: 11, 10.0: 24, 15.0: 38, 20.0: 51, 25.0: 65, 30.0: 78, 40.0: 106,
    50.0: 133, 60.0: 162, 70.0: 189, 80.0: 217, 90.0: 245, 100.0: 273,
}
#: Allowed channel bandwidths per RAT. [MHz]
BANDWIDTHS_MHZ = {"GSM": (0.2,), "UMTS": (5.0,), "LTE": tuple(LTE_N_RB), "NR": tuple(NR_N_RB_30KHZ)}

#: Plausibility ranges, inclusive: column -> (low, high, unit).
RANGES = {
    "lat": (-90.0, 90.0, "deg"),
    "lon": (-180.0, 180.0, "deg"),
    "height_m": (0.0, 300.0, "m"),
    "azimuth_deg": (0.0, 360.0, "deg"),
    "mech_tilt_deg": (-10.0, 30.0, "deg"),
    "elec_tilt_deg": (-10.0, 30.0, "deg"),
    "tx_power_dbm": (0.0, 60.0, "dBm"),
    "freq_mhz": (400.0, 7125.0, "MHz"),
    "gain_dbi": (-10.0, 30.0, "dBi"),
    "feeder_loss_db": (0.0, 20.0, "dB"),
    "rs_power_dbm": (-40.0, 60.0, "dBm"),
    # site ground AMSL: the Dead Sea shore (-430 m) to above Everest (8849 m)
    "ground_m": (-450.0, 9000.0, "m"),
    "earfcn": (0.0, 3_279_165.0, ""),
}
#: PCI (LTE, NR) or primary scrambling code (UMTS) ranges.
PCI_RANGES = {"LTE": 503, "NR": 1007, "UMTS": 511}
#: Defaults applied to every format when the column or value is missing.
#: gain_dbi is flagged (it matters); feeder_loss_db = 0 (no feeder, e.g. a remote radio head) is not.
OPTIONAL_DEFAULTS = {"gain_dbi": 17.0, "feeder_loss_db": 0.0}
_UNFLAGGED = {"feeder_loss_db"}

#: Common spellings of the RAT names.
TECH_ALIASES = {
    "2G": "GSM", "GERAN": "GSM", "3G": "UMTS", "WCDMA": "UMTS", "UTRA": "UMTS", "UTRAN": "UMTS",
    "4G": "LTE", "E-UTRA": "LTE", "EUTRA": "LTE", "LTE-A": "LTE", "5G": "NR", "NR5G": "NR", "5G NR": "NR", "5GNR": "NR",
}
_NUMERIC = [c for c, t in {**CELL_COLUMNS, **CELL_OPTIONAL_COLUMNS}.items() if t in ("float64", "Int64")]
_STRINGS = [c for c, t in {**CELL_COLUMNS, **CELL_OPTIONAL_COLUMNS}.items() if t == "string"]
_MISSING_TOKENS = {"", "na", "n/a", "nan", "null", "none", "-"}

#: Source unit -> function converting to the canonical unit, per canonical unit.
UNIT_CONVERSIONS = {
    "dBm": {"dbm": lambda v: v, "dbw": lambda v: v + 30.0, "w": lambda v: 10.0 * np.log10(v) + 30.0, "mw": lambda v: 10.0 * np.log10(v)},
    "m": {"m": lambda v: v, "ft": lambda v: v * 0.3048, "km": lambda v: v * 1000.0},
    "MHz": {"mhz": lambda v: v, "hz": lambda v: v / 1e6, "khz": lambda v: v / 1e3, "ghz": lambda v: v * 1e3},
    "deg": {"deg": lambda v: v, "rad": np.degrees},
    "dBi": {"dbi": lambda v: v, "dbd": lambda v: v + 2.15},
    "dB": {"db": lambda v: v},
}
#: Canonical unit of each convertible column.
COLUMN_UNITS = {
    "tx_power_dbm": "dBm", "rs_power_dbm": "dBm", "height_m": "m", "ground_m": "m", "freq_mhz": "MHz", "bandwidth_mhz": "MHz",
    "azimuth_deg": "deg", "mech_tilt_deg": "deg", "elec_tilt_deg": "deg", "gain_dbi": "dBi", "feeder_loss_db": "dB",
}


class Problems:
    """Collects row-level problems; raises one CellTableError naming the first and counting the rest."""

    def __init__(self, source: str):
        self.source = source
        self.items: list[str] = []

    def add(self, where: str, field: str, value, rule: str) -> None:
        shown = repr(value) if isinstance(value, str) else f"{value:g}" if isinstance(value, float) else repr(value)
        self.items.append(f"{where}: field '{field}' = {shown} {rule}")

    def raise_if_any(self, fix: str = "correct the value or drop the row") -> None:
        if not self.items:
            return
        more = len(self.items) - 1
        tail = f" (and {more} more problem{'s' if more > 1 else ''}, e.g. {self.items[1]})" if more else ""
        raise CellTableError(f"{self.source}: {self.items[0]}; {fix}{tail}")


def is_missing(value) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip().lower() in _MISSING_TOKENS


def rs_power_from_total(tx_power_dbm, bandwidth_mhz, tech) -> np.ndarray:
    """RS EPRE = total power - 10 log10(12 N_RB); NaN for GSM/UMTS and unknown bandwidths."""
    p = np.asarray(tx_power_dbm, dtype=np.float64)
    bw = np.asarray(bandwidth_mhz, dtype=np.float64)
    tech = np.asarray(tech, dtype=object)
    p, bw, tech = np.broadcast_arrays(p, bw, tech)
    n_rb = np.full(p.shape, np.nan)
    for t, table in (("LTE", LTE_N_RB), ("NR", NR_N_RB_30KHZ)):
        for b, n in table.items():
            n_rb[(tech == t) & np.isclose(bw, b)] = n
    with np.errstate(invalid="ignore"):
        return p - 10.0 * np.log10(12.0 * n_rb)


#: Largest gap between a given rs_power_dbm and the one its tx_power_dbm and bandwidth imply, before a warning. [dB]
#: (RS power boosting is at most +6 dB in 3GPP TS 36.213 Table 5.2-1's p_b/p_a settings.)
RS_POWER_TOLERANCE_DB = 6.0


def _warn_power_mismatch(df: pd.DataFrame, rs_from_total: np.ndarray, source: str) -> None:
    """A loud warning when both powers are given and disagree by more than :data:`RS_POWER_TOLERANCE_DB`: the
    engine takes rs_power_dbm for RSRP, so a wrong bandwidth or a per-port/total mix-up would pass unseen."""
    given = pd.to_numeric(df["rs_power_dbm"], errors="coerce").to_numpy(np.float64)
    gap = given - np.asarray(rs_from_total, dtype=np.float64)
    bad = np.isfinite(gap) & (np.abs(gap) > RS_POWER_TOLERANCE_DB)
    if bad.any():
        i = int(np.argmax(np.where(bad, np.abs(gap), -1.0)))
        log.warning("%s: WARNING: rs_power_dbm of %d row(s) differs from what tx_power_dbm and bandwidth_mhz imply by "
                    "more than %g dB (%s: rs_power_dbm %.1f, tx_power_dbm %.1f at %g MHz gives %.1f): RSRP uses "
                    "rs_power_dbm; check both columns (total vs per-port power, bandwidth)", source, int(bad.sum()),
                    RS_POWER_TOLERANCE_DB, df[WHERE].iat[i], given[i], float(df["tx_power_dbm"].iat[i]),
                    float(df["bandwidth_mhz"].iat[i]), rs_from_total[i])  # fmt: skip


def finalize(df: pd.DataFrame, source: str, *, defaults: dict | None = None, units: dict | None = None, value_maps: dict | None = None) -> pd.DataFrame:
    """Canonical, validated Cells DataFrame (no geometry yet) with a ``flags`` column."""
    defaults = dict(defaults or {})
    unknown = [k for k in defaults if k not in CELL_COLUMNS and k not in CELL_OPTIONAL_COLUMNS]
    if unknown:
        raise CellTableError(f"{source}: defaults for unknown column(s) {', '.join(unknown)}; canonical columns are {', '.join([*CELL_COLUMNS, *CELL_OPTIONAL_COLUMNS])}")
    df = df.copy()
    if WHERE not in df.columns:
        df[WHERE] = [f"row {i}" for i in range(1, len(df) + 1)]
    if df.empty:
        raise CellTableError(f"{source}: the cell table has no rows")
    # rs_power_dbm alone suffices: tx_power_dbm is then derived from it (see _total_from_rs)
    rs_given = "rs_power_dbm" in df.columns or "rs_power_dbm" in defaults
    missing = [c for c in CELL_COLUMNS if c not in df.columns and c not in defaults
               and not (c == "tx_power_dbm" and rs_given)]  # fmt: skip
    if missing:
        raise CellTableError(
            f"{source}: missing required column(s) {', '.join(missing)}; the canonical columns are "
            f"{', '.join(CELL_COLUMNS)} (pass defaults= for the ones you cannot supply, or a mapping TOML "
            "for another layout, e.g. netqa/data/mappings/operator_example.toml)"
        )
    probs = Problems(source)
    for col in _STRINGS:
        if col in df.columns:
            df[col] = _as_string(df[col], (value_maps or {}).get(col))
    for col in _NUMERIC:
        if col in df.columns:
            df[col] = _as_number(df[col], col, df[WHERE], probs, (units or {}).get(col))
    probs.raise_if_any("give a number in the column's unit")

    flags: list[list[str]] = [[] for _ in range(len(df))]
    for col, value in defaults.items():
        _fill(df, col, value, flags, flag=True, source=source)
    for col, value in OPTIONAL_DEFAULTS.items():
        if col not in defaults:
            _fill(df, col, value, flags, flag=col not in _UNFLAGGED, source=source)

    _total_from_rs(df, probs)
    for col in CELL_COLUMNS:
        for i in np.flatnonzero(df[col].isna().to_numpy()):
            probs.add(df[WHERE].iat[i], col, "", "is empty")
    probs.raise_if_any("fill it in, or pass defaults={'<column>': value} to read_cells")

    df["tech"] = df["tech"].str.strip().str.upper().replace(TECH_ALIASES)
    _check(df, probs)
    probs.raise_if_any()
    _check_duplicates(df, source)

    rs = rs_power_from_total(df["tx_power_dbm"], df["bandwidth_mhz"], df["tech"].astype(object).to_numpy())
    if "rs_power_dbm" not in df.columns:
        df["rs_power_dbm"] = rs
    else:
        _warn_power_mismatch(df, rs, source)
        df["rs_power_dbm"] = df["rs_power_dbm"].fillna(pd.Series(rs, index=df.index))
    if "flags" in df.columns:  # a table written by write_cells keeps its earlier flags
        for i, prior in enumerate(df["flags"].astype(object)):
            names = [] if is_missing(prior) else [n for n in str(prior).removeprefix("defaults:").split(",") if n]
            flags[i] = names + [n for n in flags[i] if n not in names]
    df["flags"] = pd.array([("defaults:" + ",".join(f)) if f else "" for f in flags], dtype="string")
    return _order(df)


def _total_from_rs(df: pd.DataFrame, probs: Problems) -> None:
    """Fill a missing ``tx_power_dbm`` from ``rs_power_dbm``: total = RS EPRE + 10 log10(12 N_RB) (LTE, NR).

    The inverse of :func:`rs_power_from_total` (all resource elements at the
    RS power, as the engine assumes); a row whose RAT or bandwidth has no
    resource-block count is a problem naming both columns.
    """
    if "rs_power_dbm" not in df.columns:
        return
    if "tx_power_dbm" not in df.columns:
        df["tx_power_dbm"] = np.nan
    need = df["tx_power_dbm"].isna().to_numpy() & df["rs_power_dbm"].notna().to_numpy()
    if not need.any():
        return
    tech = df["tech"].astype("string").str.strip().str.upper().replace(TECH_ALIASES).astype(object).to_numpy()
    offset = rs_power_from_total(np.zeros(len(df)), df["bandwidth_mhz"].to_numpy(np.float64), tech)  # -10 log10(12 N_RB)
    total = df["rs_power_dbm"].to_numpy(np.float64) - offset
    df["tx_power_dbm"] = np.where(need, total, df["tx_power_dbm"].to_numpy(np.float64))
    for i in np.flatnonzero(need & np.isnan(total)):
        probs.add(df[WHERE].iat[i], "tx_power_dbm", "", "is empty and cannot be derived from rs_power_dbm (needs LTE or "
                  "NR and a standard channel bandwidth)")


def _fill(df: pd.DataFrame, col: str, value, flags, *, flag: bool, source: str) -> None:
    """Fill missing values of ``col`` (already parsed) with a default in canonical units."""
    kind = {**CELL_COLUMNS, **CELL_OPTIONAL_COLUMNS}[col]
    if kind != "string":
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise CellTableError(f"{source}: the default for '{col}' = {value!r} is not a number") from None
    if col not in df.columns:
        df[col] = pd.Series([value] * len(df), index=df.index, dtype=kind)
        hit = np.ones(len(df), bool)
    else:
        hit = df[col].isna().to_numpy()
        if not hit.any():
            return
        df[col] = df[col].fillna(value)
    if flag:
        for i in np.flatnonzero(hit):
            flags[i].append(col)


def _as_string(s: pd.Series, value_map: dict | None) -> pd.Series:
    out = s.astype(object).map(lambda v: pd.NA if is_missing(v) else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v).strip()))
    if value_map:
        out = out.map(lambda v: value_map.get(v, v) if v is not pd.NA else v)
    return out.astype("string")


def _as_number(s: pd.Series, col: str, where: pd.Series, probs: Problems, unit: str | None) -> pd.Series:
    raw = s.astype(object)
    missing = np.array([is_missing(v) for v in raw], dtype=bool)
    text = raw.map(lambda v: v.strip().replace(",", ".") if isinstance(v, str) and v.count(",") == 1 and "." not in v else v)
    num = pd.to_numeric(text.where(~missing, np.nan), errors="coerce").astype(np.float64)
    bad = num.isna().to_numpy() & ~missing
    for i in np.flatnonzero(bad):
        probs.add(where.iat[i], col, str(raw.iat[i]), "is not a number")
    if unit is not None:
        num = pd.Series(convert_unit(col, unit, num.to_numpy()), index=s.index)
    if CELL_OPTIONAL_COLUMNS.get(col) == "Int64":
        frac = num.notna().to_numpy() & (num.fillna(0).to_numpy() != np.round(num.fillna(0).to_numpy()))
        for i in np.flatnonzero(frac):
            probs.add(where.iat[i], col, float(num.iat[i]), "is not an integer")
        if frac.any():
            return num
        return num.round().astype("Int64")
    return num


def convert_unit(col: str, unit: str, values: np.ndarray) -> np.ndarray:
    """Convert ``values`` of canonical column ``col`` from the source ``unit``."""
    canon = COLUMN_UNITS.get(col)
    table = UNIT_CONVERSIONS.get(canon, {})
    fn = table.get(str(unit).strip().lower())
    if fn is None:
        allowed = ", ".join(table) if table else "none (the column has no unit)"
        raise CellTableError(f"unit {unit!r} for column '{col}' is unknown; allowed: {allowed}")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(fn(np.asarray(values, dtype=np.float64)), dtype=np.float64)


def _check(df: pd.DataFrame, probs: Problems) -> None:
    where = df[WHERE]
    tech = df["tech"].astype(object).to_numpy()
    for i in np.flatnonzero(~np.isin(tech, TECHS)):
        probs.add(where.iat[i], "tech", str(df["tech"].iat[i]), f"is not one of {', '.join(TECHS)}")
    for col, (lo, hi, unit) in RANGES.items():
        if col not in df.columns:
            continue
        v = df[col].astype(np.float64).to_numpy()
        bad = ~np.isnan(v) & ~((v >= lo) & (v <= hi))
        for i in np.flatnonzero(bad):
            probs.add(where.iat[i], col, float(v[i]), f"is outside {lo:g}..{hi:g}{(' ' + unit) if unit else ''}")
    lat, lon = df["lat"].to_numpy(np.float64), df["lon"].to_numpy(np.float64)
    for i in np.flatnonzero((lat == 0) & (lon == 0)):
        probs.add(where.iat[i], "lat/lon", "0, 0", "is the null island placeholder, not a site position")
    bw = df["bandwidth_mhz"].to_numpy(np.float64)
    for t, allowed in BANDWIDTHS_MHZ.items():
        rows = (tech == t) & ~np.isnan(bw)
        ok = np.zeros(len(df), bool)
        for b in allowed:
            ok |= np.isclose(bw, b)
        for i in np.flatnonzero(rows & ~ok):
            probs.add(where.iat[i], "bandwidth_mhz", float(bw[i]), f"is not a {t} channel bandwidth ({', '.join(f'{b:g}' for b in allowed)} MHz)")
    if "pci" in df.columns:
        pci = df["pci"].astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
        for t, hi in PCI_RANGES.items():
            bad = (tech == t) & ~np.isnan(pci) & ((pci < 0) | (pci > hi))
            for i in np.flatnonzero(bad):
                probs.add(where.iat[i], "pci", float(pci[i]), f"is outside 0..{hi} for {t}")


def _check_duplicates(df: pd.DataFrame, source: str) -> None:
    dup = df["cell_id"].duplicated(keep=False).to_numpy()
    if not dup.any():
        return
    groups = {}
    for i in np.flatnonzero(dup):
        groups.setdefault(df["cell_id"].iat[i], []).append(df[WHERE].iat[i])
    shown = "; ".join(f"{cid!r} at {', '.join(w)}" for cid, w in list(groups.items())[:5])
    more = f" and {len(groups) - 5} more" if len(groups) > 5 else ""
    raise CellTableError(f"{source}: duplicate cell_id {shown}{more}; cell ids must be unique")


def _order(df: pd.DataFrame) -> pd.DataFrame:
    cols = [*CELL_COLUMNS, *[c for c in CELL_OPTIONAL_COLUMNS if c in df.columns]]
    extras = [c for c in df.columns if c not in cols and c not in (WHERE, "flags", "geometry")]
    out = df[[*cols, *extras, "flags"]].reset_index(drop=True)
    for c in cols:
        out[c] = out[c].astype({**CELL_COLUMNS, **CELL_OPTIONAL_COLUMNS}[c])
    return out
