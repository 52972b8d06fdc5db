"""Formatted Excel workbooks of the KPI, per-cell, comparison and scorecard tables (``--xlsx``).

One sheet per table.  Every sheet has:

* a header row naming each column with its unit in brackets
  (``rsrp_dbm_mean [dBm]``, ``coverage_rate [%]``, ``dl_mbps_p50 [Mbit/s]``);
  the units come from the canonical name's suffix (:func:`column_unit`);
* the header row frozen (and the first, identifying column, so both stay in
  view while scrolling a wide table) and an autofilter over the table;
* number formats by quantity: dBm/dB one decimal, Mbit/s two, rates (stored
  as 0..1, as in the KPI JSON) as percentages, counts as integers;
* conditional colours that match the map legends: each RSRP, RSRQ, SINR and
  throughput column is coloured with the classes of its map legend
  (``netqa/data/legends/<band>.toml``, lower bound inclusive, upper bound
  exclusive — the same rule as the maps, written as ``AND(x >= min, x < max)``
  formula rules), and the 0-100 scores with the red-yellow-green scale of the
  scorecard choropleth (``scores.png``).

Written with openpyxl (already a dependency), atomically, with fixed document
and archive dates so that the same tables give the same bytes.
"""

from __future__ import annotations

import datetime
import io
import logging
import math
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from netqa.fileio import ZIP_FIXED_DATE, atomic_path, check_output, zip_member

log = logging.getLogger(__name__)

__all__ = ["Sheet", "column_unit", "write_workbook", "kpi_sheets", "compare_sheets", "score_sheets", "write_score_workbook"]

#: Excel's limit on a sheet name.
_MAX_SHEET_NAME = 31
_UNITS = (
    (re.compile(r"(^|_)rsrp_dbm"), "dBm"),
    (re.compile(r"_dbm(_|$)"), "dBm"),
    (re.compile(r"(^|_)(rsrq|sinr)_db"), "dB"),
    (re.compile(r"_db(_|$)"), "dB"),
    (re.compile(r"_mbps_per_km2"), "Mbit/s/km²"),
    (re.compile(r"_mbps(_|$)"), "Mbit/s"),
    (re.compile(r"_per_km2(_|$)"), "1/km²"),
    (re.compile(r"_km2(_|$)"), "km²"),
    (re.compile(r"_km(_|$)"), "km"),
    (re.compile(r"_m(_|$)"), "m"),
    (re.compile(r"_mhz(_|$)"), "MHz"),
    (re.compile(r"_deg(_|$)"), "°"),
    (re.compile(r"(^|_)(rate|share)(_|$)|_rate_|(^|_)coverage_agreement$"), "%"),
    (re.compile(r"^score(_|$)"), "0-100"),
)
_LEGEND_BANDS = ("rsrp_dbm", "rsrq_db", "sinr_db", "dl_mbps", "ul_mbps")


def column_unit(name: str) -> str:
    """The unit of a canonical column name, from its suffix; "" for counts, ids and text.

    >>> [column_unit(c) for c in ("rsrp_dbm_p5", "sinr_db_mean_lin", "coverage_rate_ci_low", "dl_mbps_p90", "n_calls")]
    ['dBm', 'dB', '%', 'Mbit/s', '']
    """
    if name.startswith("n_") or name in ("rank",):
        return ""
    for pat, unit in _UNITS:
        if pat.search(name):
            return unit
    return ""


def _number_format(name: str, unit: str, dtype) -> str | None:
    if unit == "%":
        return "0.0%"
    if unit in ("dBm", "dB"):
        return "0.0"
    if unit in ("Mbit/s", "Mbit/s/km²", "km", "km²", "1/km²"):
        return "0.00"
    if unit == "0-100":
        return "0.0"
    if pd.api.types.is_integer_dtype(dtype) or name.startswith("n_") or name == "rank":
        return "#,##0"
    if pd.api.types.is_float_dtype(dtype):
        return "0.000"
    return None


def _legend_band(name: str) -> str | None:
    """The map legend a column is coloured with: its leading quantity, for values (not errors or counts)."""
    for band in _LEGEND_BANDS:
        if name.startswith(band) and "error" not in name:
            return band
    return None


@dataclass(frozen=True)
class Sheet:
    """One table of a workbook: sheet ``name`` (cut to Excel's 31 characters) and its ``table``."""

    name: str
    table: pd.DataFrame


def _cell_value(v):
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (float, np.floating)):
        return None if not math.isfinite(float(v)) else float(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, pd.Timestamp):
        return v.tz_convert("UTC").tz_localize(None).to_pydatetime() if v.tzinfo else v.to_pydatetime()
    if isinstance(v, (list, tuple, dict)):
        return str(v)
    return v


def _conditional(ws, col_letter: str, first_row: int, last_row: int, name: str) -> None:
    from openpyxl.formatting.rule import ColorScaleRule, FormulaRule
    from openpyxl.styles import PatternFill

    from netqa.maps.legend import default_legend

    rng = f"{col_letter}{first_row}:{col_letter}{last_row}"
    ref = f"{col_letter}{first_row}"
    band = _legend_band(name)
    if band is not None:
        for c in default_legend(band).classes:
            parts = [f"ISNUMBER({ref})"]
            if math.isfinite(c.min_value):
                parts.append(f"{ref}>={c.min_value:g}")
            if math.isfinite(c.max_value):
                parts.append(f"{ref}<{c.max_value:g}")
            fill = PatternFill(start_color=c.color[1:].upper(), end_color=c.color[1:].upper(), fill_type="solid")
            ws.conditional_formatting.add(rng, FormulaRule(formula=[f"AND({','.join(parts)})"], fill=fill, stopIfTrue=True))
    elif name.startswith("score_") or name == "score":
        # matplotlib's RdYlGn end and middle colours, 0..100 as on scores.png
        ws.conditional_formatting.add(rng, ColorScaleRule(start_type="num", start_value=0, start_color="A50026",
                                                          mid_type="num", mid_value=50, mid_color="FFFFBF",
                                                          end_type="num", end_value=100, end_color="006837"))


def _write_sheet(wb, sheet: Sheet) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(sheet.name[:_MAX_SHEET_NAME])
    df = sheet.table.reset_index(drop=True)
    header_fill = PatternFill(start_color="DDDDDD", end_color="DDDDDD", fill_type="solid")
    for j, col in enumerate(df.columns, 1):
        unit = column_unit(str(col))
        cell = ws.cell(row=1, column=j, value=f"{col} [{unit}]" if unit else str(col))
        cell.font = Font(bold=True)
        cell.fill = header_fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for i, row in enumerate(df.itertuples(index=False), 2):
        for j, v in enumerate(row, 1):
            ws.cell(row=i, column=j, value=_cell_value(v))
    last = max(len(df) + 1, 2)
    for j, col in enumerate(df.columns, 1):
        letter = get_column_letter(j)
        fmt = _number_format(str(col), column_unit(str(col)), df[col].dtype)
        if fmt:
            for r in range(2, len(df) + 2):
                ws.cell(row=r, column=j).number_format = fmt
        width = max(len(str(ws.cell(row=1, column=j).value)), *(len(str(v)) for v in df[col].head(200).astype(str)), 6)
        ws.column_dimensions[letter].width = min(width + 2, 40)
        if len(df):
            _conditional(ws, letter, 2, last, str(col))
    ws.freeze_panes = "B2" if len(df.columns) > 1 else "A2"
    if len(df.columns):
        ws.auto_filter.ref = f"A1:{get_column_letter(len(df.columns))}{last}"


def write_workbook(path, sheets: list[Sheet], *, overwrite: bool = False, notes: dict | None = None) -> Path:
    """Write ``sheets`` as one formatted XLSX workbook, atomically.

    Parameters
    ----------
    path : path
        Output ``.xlsx``; refused when it exists unless ``overwrite``.
    sheets : list of Sheet
        One sheet per table, in order.
    notes : dict, optional
        ``key -> text`` written on a last ``Notes`` sheet (profile, sources, definitions).

    Returns
    -------
    pathlib.Path
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from netqa.errors import InputError

    out = check_output(path, overwrite)
    if out.suffix.lower() != ".xlsx":
        raise InputError(f"--xlsx {out}: the workbook must end in .xlsx")
    wb = Workbook()
    wb.remove(wb.active)
    for s in sheets:
        _write_sheet(wb, s)
    if notes:
        ws = wb.create_sheet("Notes")
        ws.cell(row=1, column=1, value="item").font = Font(bold=True)
        ws.cell(row=1, column=2, value="value").font = Font(bold=True)
        for i, (k, v) in enumerate(notes.items(), 2):
            ws.cell(row=i, column=1, value=str(k))
            ws.cell(row=i, column=2, value=str(v))
        ws.column_dimensions["A"].width = 28
        ws.column_dimensions["B"].width = 100
        ws.freeze_panes = "A2"
    # Reproducible bytes: fixed document dates and zip member dates (same tables, same file).
    fixed = datetime.datetime(*ZIP_FIXED_DATE[:3])
    wb.properties.created = wb.properties.modified = fixed
    wb.properties.creator = "netqa"
    buf = io.BytesIO()
    wb.save(buf)
    with atomic_path(out) as tmp:
        with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, zipfile.ZipFile(tmp, "w") as dst:
            for item in src.infolist():
                data = src.read(item.filename)
                if item.filename == "docProps/core.xml":  # openpyxl stamps the save time into 'modified'
                    data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                                  rb"\g<1>" + fixed.strftime("%Y-%m-%dT%H:%M:%SZ").encode() + rb"\g<2>", data)
                dst.writestr(zip_member(item.filename), data)
    log.info("wrote %s (%s)", out, ", ".join(s.name for s in sheets))
    return out


# --- the tables of each command ---------------------------------------------------------------


def _kpi_row(scope: str, obj: dict) -> dict:
    from netqa.kpi import EXTRA_KPI_KEYS
    from netqa.schema import KPI_KEYS

    row = {"scope": scope}
    for k in (*KPI_KEYS, *EXTRA_KPI_KEYS):
        v = obj.get(k)
        if k == "coverage_rate_ci":
            row["coverage_rate_ci_low"], row["coverage_rate_ci_high"] = (v or [None, None])[:2]
        else:
            row[k] = v
    return row


def kpi_sheets(doc: dict, per_cell: pd.DataFrame | None = None) -> list[Sheet]:
    """Sheets of ``netqa kpi``: ``KPI`` (overall, per technology, per region) and ``Per cell``."""
    rows = [_kpi_row("overall", doc)]
    rows += [_kpi_row(f"tech {t}", o) for t, o in (doc.get("per_tech") or {}).items()]
    rows += [_kpi_row(f"region {r}", o) for r, o in (doc.get("regions") or {}).items()]
    table = pd.DataFrame(rows)
    for c in table.columns:
        if c != "scope":
            table[c] = pd.to_numeric(table[c], errors="coerce")
    sheets = [Sheet("KPI", table)]
    if per_cell is not None:
        sheets.append(Sheet("Per cell", per_cell))
    return sheets


_STAT_KEYS = ("n", "mean_error_db", "std_error_db", "rmse_db", "correlation")


def compare_sheets(stats: dict) -> list[Sheet]:
    """Sheets of ``netqa compare``: RSRP error statistics overall and per cell, clutter, distance and region."""
    rsrp = stats.get("rsrp", stats)
    rows = [{"group": "overall", "key": "all", **{k: rsrp.get(k) for k in _STAT_KEYS}}]
    for group in ("per_cell", "per_clutter", "per_distance_km", "per_region"):
        for key, obj in (rsrp.get(group) or stats.get(group) or {}).items():
            if isinstance(obj, dict):
                rows.append({"group": group, "key": str(key), **{k: obj.get(k) for k in _STAT_KEYS}})
    table = pd.DataFrame(rows, columns=["group", "key", *_STAT_KEYS])
    for k in _STAT_KEYS:
        table[k] = pd.to_numeric(table[k], errors="coerce")
    sheets = [Sheet("RSRP error", table)]
    for q, unit_key in (("dl_mbps", "mbps"), ("ul_mbps", "mbps")):
        block = stats.get(q)
        if not isinstance(block, dict) or not block.get("n"):
            continue
        keys = ("n", f"mean_error_{unit_key}", f"std_error_{unit_key}", f"rmse_{unit_key}", "correlation")
        trows = [{"group": "overall", "key": "all", **{k: block.get(k) for k in keys}}]
        for group in ("per_cell", "per_distance_km", "per_region"):
            for key, obj in (block.get(group) or {}).items():
                if isinstance(obj, dict):
                    trows.append({"group": group, "key": str(key), **{k: obj.get(k) for k in keys}})
        t = pd.DataFrame(trows, columns=["group", "key", *keys])
        for k in keys:
            t[k] = pd.to_numeric(t[k], errors="coerce")
        sheets.append(Sheet(f"{q.split('_')[0].upper()} error", t))
    return sheets


def score_sheets(scores: pd.DataFrame, trends: pd.DataFrame | None = None) -> list[Sheet]:
    """Sheets of ``netqa score``: ``Scorecard`` (one row per region, no geometry) and ``Trends``."""
    table = pd.DataFrame(scores.drop(columns=[c for c in ("geometry", "geometry_wkt") if c in scores.columns]))
    sheets = [Sheet("Scorecard", table.reset_index(drop=True))]
    if trends is not None and len(trends):
        sheets.append(Sheet("Trends", pd.DataFrame(trends).reset_index(drop=True)))
    return sheets


def write_score_workbook(scores_gpkg, xlsx, *, overwrite: bool = False) -> Path:
    """The scorecard written by ``netqa score`` (GeoPackage layers ``scores`` and ``trends``) as a workbook."""
    import pyogrio

    layers = [name for name, _ in pyogrio.list_layers(scores_gpkg)]
    scores = pyogrio.read_dataframe(scores_gpkg, layer="scores", read_geometry=False)
    trends = pyogrio.read_dataframe(scores_gpkg, layer="trends", read_geometry=False) if "trends" in layers else None
    return write_workbook(xlsx, score_sheets(scores, trends), overwrite=overwrite,
                          notes={"scorecard": str(scores_gpkg), "scores": "0-100; grades and weights from the scheme"})
