"""HTML building blocks of the campaign report (:mod:`netqa.report`): number formatting, tables, images, CSS."""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path

import numpy as np

from netqa.kpi import wilson_interval

_E = html.escape
#: Comparison plots in reading order; the first three are shown open.
_COMPARE_PLOTS = ("scatter.png", "error_histogram.png", "error_vs_distance.png", "cdf_rsrp.png", "per_cell.png",
                  "cdf_dl_mbps.png", "cdf_ul_mbps.png")
_CSS = """
body { font: 15px/1.5 system-ui, sans-serif; color: #1d2330; max-width: 1140px; margin: 0 auto; padding: 18px 28px 60px; }
h1 { font-size: 26px; margin: 8px 0 2px; } h2 { font-size: 19px; border-bottom: 2px solid #1e3ca0; padding-bottom: 3px; margin-top: 36px; }
h3 { font-size: 15px; margin: 18px 0 4px; } a { color: #1e3ca0; }
.sub { color: #5b6475; font-size: 13px; margin: 0 0 10px; }
.summary { font-size: 16px; background: #f3f6fc; border-left: 4px solid #1e3ca0; padding: 10px 16px; margin: 14px 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); gap: 10px; margin: 14px 0; }
.card { border: 1px solid #d5dae6; border-radius: 6px; padding: 8px 12px; background: #fff; }
.card .v { font-size: 22px; font-weight: 600; } .card .k { font-size: 12px; color: #5b6475; } .card .d { font-size: 12px; color: #3d4556; }
nav { font-size: 13px; margin: 8px 0 0; } nav a { margin-right: 14px; }
table { border-collapse: collapse; margin: 6px 0 14px; font-size: 13px; }
th, td { border: 1px solid #d0d4dc; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #eef1f7; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.basis { font-size: 12px; color: #3d4556; max-width: 240px; }
td:first-child { white-space: nowrap; }
.g-A { background: #d9f2dd; } .g-B { background: #e8f5d0; } .g-C { background: #fbf3c8; } .g-D { background: #fde2c4; } .g-E, .g-F { background: #f9d0cc; }
figure { margin: 8px 0 16px; } figure img { max-width: 100%; border: 1px solid #dde; } figcaption { color: #5b6475; font-size: 12px; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
details { margin: 8px 0; } summary { cursor: pointer; color: #1e3ca0; font-weight: 600; }
pre { background: #f6f7f9; padding: 8px; overflow-x: auto; font-size: 12px; }
.empty, .muted { color: #6b7385; } .empty { font-style: italic; }
.st-done { color: #1a7f37; } .st-failed { color: #b42318; } .st-skipped, .st-not { color: #8a6d00; }
@media print { details { display: block; } .pair { grid-template-columns: 1fr 1fr; } }
"""


# --- formatting ---------------------------------------------------------------------------------


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _fmt(v) -> str:
    if _missing(v):
        return "—"
    if isinstance(v, bool | np.bool_):
        return "yes" if v else "no"
    if isinstance(v, float | np.floating):
        return f"{float(v):.4g}"
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    return str(v)


def _num(v, digits: int = 1, unit: str = "") -> str:
    if _missing(v) or not isinstance(v, int | float | np.number):
        return "—"
    return f"{float(v):.{digits}f}{' ' + unit if unit else ''}".replace("-", "−")


def _pct(v, digits: int = 1) -> str:
    return "—" if _missing(v) else f"{100.0 * float(v):.{digits}f} %"


def _ci(ci, digits: int = 1) -> str:
    if not isinstance(ci, list | tuple) or len(ci) != 2 or any(_missing(x) for x in ci):
        return ""
    return f"{100.0 * ci[0]:.{digits}f}–{100.0 * ci[1]:.{digits}f} %"


def _wilson(k, n):
    if _missing(k) or _missing(n) or not isinstance(k, int | float) or not isinstance(n, int | float):
        return None
    return wilson_interval(k, n)


def _cell(c, numeric: bool = False, cls: str = "") -> str:
    klass = " ".join(x for x in ("num" if numeric else "", cls) if x)
    return f"<td{f' class={chr(34)}{klass}{chr(34)}' if klass else ''}>{_E(c if isinstance(c, str) else _fmt(c))}</td>"


def _table(header, rows, numeric_from: int = 1) -> str:
    head = "".join(f"<th>{_E(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(
            c if isinstance(c, _Raw) else _cell(c, i >= numeric_from and (isinstance(c, int | float) or _looks_num(c)))
            for i, c in enumerate(r)
        ) + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _looks_num(c) -> bool:
    return isinstance(c, str) and c[:1] in "0123456789−—-"


class _Raw(str):
    """A ready-made ``<td>`` (already escaped)."""


def _empty(what: str) -> str:
    return f"<p class='empty'>{_E(what)}</p>"


def _img(path: Path, root: Path, caption: str | None = None) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    rel = str(path.relative_to(root))
    return (f"<figure><img alt='{_E(rel)}' src='data:image/png;base64,{data}'>"
            f"<figcaption>{_E(caption or rel)}</figcaption></figure>")
