"""The antenna audit as an HTML section (for the campaign report) or a small standalone page.

:func:`audit_section_html` returns one self-contained ``<section>`` (no
scripts, no external resources, every value escaped): the verdict counts, the
band fits (slope, effective beamwidths, default-pattern weight) and the table
of flagged and undetermined cells with their evidence (offsets with standard
errors, RMSE before/after and the gain of each offset).  The campaign report
embeds it; :func:`write_audit_page` writes it as a page of its own.
"""

from __future__ import annotations

import html
import math

import pandas as pd

#: Columns shown for each listed cell: (column, heading, decimals).
_CELL_COLUMNS = (
    ("cell_id", "cell", None), ("site_id", "site", None), ("band", "band", None), ("status", "verdict", None),
    ("finding", "finding", None), ("azimuth_offset_deg", "azimuth offset [deg]", 1), ("azimuth_se_deg", "± [deg]", 1),
    ("tilt_offset_deg", "tilt offset [deg]", 1), ("tilt_se_deg", "± [deg]", 1), ("n_bins", "bins", 0),
    ("rmse_before_db", "RMSE before [dB]", 1), ("rmse_after_db", "RMSE after [dB]", 1),
    ("azimuth_gain_db", "azimuth gain [dB]", 2), ("tilt_gain_db", "tilt gain [dB]", 2),
)  # fmt: skip


def _cell(v, decimals) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if decimals is None:
        return html.escape(str(v))
    return f"{float(v):.{decimals}f}"


def audit_section_html(table: pd.DataFrame, info: dict, *, title: str = "Antenna audit") -> str:
    """One HTML ``<section>`` with the audit's verdicts, band fits and the cells that need attention.

    >>> t = pd.DataFrame({"cell_id": ["A"], "site_id": ["S"], "band": ["LTE-1815"], "status": ["azimuth"],
    ...                   "finding": ["azimuth +60 deg"], "azimuth_offset_deg": [60.0]})
    >>> "<td>A</td>" in audit_section_html(t, {"verdicts": {"azimuth": 1}, "bands": {}})
    True
    """
    verdicts = ", ".join(f"{html.escape(str(k))} {int(v)}" for k, v in info.get("verdicts", {}).items())
    parts = [f"<section class=\"audit\"><h2>{html.escape(title)}</h2>", f"<p>{len(table)} cells: {verdicts}.</p>"]
    if info.get("note"):
        parts.append(f"<p><strong>{html.escape(str(info['note']))}</strong></p>")
    if info.get("bands"):
        parts.append("<table><tr><th>band</th><th>slope [dB/decade]</th><th>beamwidth H [deg]</th>"
                     "<th>beamwidth V [deg]</th><th>default-pattern weight</th><th>cells</th><th>bins</th></tr>")
        for band, b in info["bands"].items():
            parts.append(f"<tr><td>{html.escape(str(band))}</td><td>{b['slope_db_per_decade']:.1f}</td>"
                         f"<td>{b['hpbw_h_deg']:.0f}</td><td>{b['hpbw_v_deg']:.1f}</td>"
                         f"<td>{b['default_pattern_weight']:.2f}</td><td>{b['n_cells']}</td><td>{b['n_bins']}</td></tr>")
        parts.append("</table>")
    listed = table[~table["status"].isin(["ok", "not_judged"])] if "status" in table else table.iloc[:0]
    if len(listed):
        cols = [c for c in _CELL_COLUMNS if c[0] in listed.columns]
        parts.append("<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for _, h, _ in cols) + "</tr>")
        for _, row in listed.iterrows():
            parts.append("<tr>" + "".join(f"<td>{_cell(row[c], d)}</td>" for c, _, d in cols) + "</tr>")
        parts.append("</table>")
    else:
        parts.append("<p>No cell contradicts its database entry.</p>")
    parts.append("<p>Offsets are measured minus database; ± are cluster-robust standard errors; a gain is the drop "
                 "of the cell's RMSE when that offset is fitted. Cells with too few bins or an omni antenna are not "
                 "judged (see the CSV's <code>reason</code>).</p></section>")
    return "\n".join(parts)


def write_audit_page(path, table: pd.DataFrame, info: dict) -> None:
    """Write the section as a standalone HTML page, atomically."""
    from netqa.fileio import write_text_atomic

    page = ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>netqa antenna audit</title><style>"
            "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}"
            "td,th{border:1px solid #bbb;padding:2px 6px;font-size:90%}</style></head><body>"
            + audit_section_html(table, info) + "</body></html>\n")  # fmt: skip
    write_text_atomic(path, page)


__all__ = ["audit_section_html", "write_audit_page"]
