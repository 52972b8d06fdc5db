"""Discrete map legends: the field's RSRP, SINR and throughput classes, TOML-configurable.

A legend is an ordered list of classes, each a half-open interval
``[min, max)`` of the band's values with a label and a colour.  **The lower
bound is inclusive and the upper bound exclusive**: with the default RSRP
legend a pixel at exactly −110.0 dBm is in "−110 … −105" and one at −80.0 dBm
in "≥ −80".  An omitted ``min`` (``max``) makes the class open below (above).
Classes must neither overlap nor leave a gap between them; values outside every
class, NaN and nodata are left unclassified (transparent on maps).

Default legends ship in ``netqa/data/legends/<band>.toml``; a file of your own
has the same layout::

    band = "rsrp_dbm"
    title = "RSRP (best server)"
    unit = "dBm"

    [[class]]
    label = "≥ −80"          # optional; built from the bounds when omitted
    min = -80.0              # inclusive; omit for an open lower end
    color = "#006d2c"        # #rrggbb or #rgb

    [[class]]
    min = -90.0
    max = -80.0              # exclusive; omit for an open upper end
    color = "#31a354"

Examples
--------
>>> leg = default_legend("rsrp_dbm")
>>> [leg.classes[i].label for i in leg.classify([-110.0, -109.99, -80.0])]
['−110 … −105', '−110 … −105', '≥ −80']
"""

from __future__ import annotations

import logging
import math
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from netqa.errors import ConfigError

log = logging.getLogger(__name__)

__all__ = ["LegendClass", "Legend", "load_legend", "default_legend", "legend_for", "categorical_legend", "LEGEND_BANDS"]

#: Bands with a default legend in ``netqa/data/legends``.
LEGEND_BANDS = ("rsrp_dbm", "sinr_db", "rsrq_db", "dl_mbps", "ul_mbps")
#: At most this many classes (uint8 palette: 0..253 classes, 255 nodata).
MAX_CLASSES = 254
_HEX = re.compile(r"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_KEYS = {"band", "title", "unit", "class"}
_CLASS_KEYS = {"label", "min", "max", "color"}
#: Qualitative palette for categorical legends (best server), colour-blind aware first.
_QUALITATIVE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94",
    "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
)


def _fmt(v: float) -> str:
    s = f"{v:g}"
    return s.replace("-", "−")


@dataclass(frozen=True)
class LegendClass:
    """One legend class: values in ``[min_value, max_value)`` drawn in ``color``.

    Parameters
    ----------
    label : str
        Text shown in the legend.
    min_value : float
        Inclusive lower bound; ``-inf`` when open. [band unit]
    max_value : float
        Exclusive upper bound; ``+inf`` when open. [band unit]
    color : str
        ``#rrggbb``.
    """

    label: str
    min_value: float
    max_value: float
    color: str

    @property
    def rgb(self) -> tuple[int, int, int]:
        """Colour as 0..255 integers."""
        h = self.color.lstrip("#")
        return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)

    def contains(self, value: float) -> bool:
        """True when ``min_value <= value < max_value``."""
        return self.min_value <= value < self.max_value


@dataclass(frozen=True)
class Legend:
    """An ordered set of non-overlapping, gap-free classes for one band.

    ``classes`` keep the file's order (the order shown, usually best first);
    :meth:`classify` returns indices into that tuple.
    """

    band: str
    title: str
    unit: str
    classes: tuple[LegendClass, ...]
    categorical: bool = False
    source: str = "<built-in>"
    _order: np.ndarray = field(init=False, repr=False, compare=False)
    _lows: np.ndarray = field(init=False, repr=False, compare=False)
    _highs: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        _validate(self.classes, self.source)
        lows = np.array([c.min_value for c in self.classes], dtype=np.float64)
        order = np.argsort(lows, kind="stable")
        object.__setattr__(self, "_order", order)
        object.__setattr__(self, "_lows", lows[order])
        object.__setattr__(self, "_highs", np.array([self.classes[i].max_value for i in order], dtype=np.float64))

    @property
    def heading(self) -> str:
        """``"RSRP (best server) [dBm]"``."""
        return f"{self.title} [{self.unit}]" if self.unit else self.title

    def classify(self, values) -> np.ndarray:
        """Class index (into :attr:`classes`) of every value; -1 for NaN or outside every class.

        Values are compared in float64, lower bound inclusive, upper exclusive.

        Parameters
        ----------
        values : array_like
            Band values. [band unit]

        Returns
        -------
        numpy.ndarray of int16
            Same shape as ``values``.
        """
        v = np.asarray(values, dtype=np.float64)
        pos = np.searchsorted(self._lows, v, side="right") - 1
        ok = np.isfinite(v) & (pos >= 0)
        pos_c = np.clip(pos, 0, len(self._lows) - 1)
        ok &= v < self._highs[pos_c]
        return np.where(ok, self._order[pos_c], -1).astype(np.int16)

    def palette_rgba(self, alpha: int = 255) -> np.ndarray:
        """``(n_classes, 4)`` uint8 colours, in class order."""
        return np.array([(*c.rgb, alpha) for c in self.classes], dtype=np.uint8).reshape(-1, 4)

    def rgba(self, values, alpha: int = 255) -> np.ndarray:
        """``(*shape, 4)`` uint8 image of ``values``; unclassified pixels fully transparent."""
        idx = self.classify(values)
        pal = np.vstack([self.palette_rgba(alpha), np.zeros((1, 4), dtype=np.uint8)])
        return pal[np.where(idx < 0, len(self.classes), idx)]

    def counts(self, values) -> np.ndarray:
        """Number of values in each class (class order)."""
        idx = self.classify(values).ravel()
        return np.bincount(idx[idx >= 0], minlength=len(self.classes))


def _validate(classes, source: str) -> None:
    if not classes:
        raise ConfigError(f"legend {source}: no classes; add at least one [[class]] table")
    if len(classes) > MAX_CLASSES:
        raise ConfigError(f"legend {source}: {len(classes)} classes; at most {MAX_CLASSES} are allowed")
    for i, c in enumerate(classes, 1):
        if not _HEX.match(c.color or ""):
            raise ConfigError(f"legend {source}: class {i} ({c.label!r}) color = {c.color!r} is not #rrggbb or #rgb")
        if not c.min_value < c.max_value:
            raise ConfigError(
                f"legend {source}: class {i} ({c.label!r}) has min = {c.min_value:g} >= max = {c.max_value:g}; "
                "min must be below max"
            )
    ordered = sorted(classes, key=lambda c: c.min_value)
    for a, b in zip(ordered, ordered[1:]):
        if a.max_value > b.min_value:
            raise ConfigError(
                f"legend {source}: classes {a.label!r} [{a.min_value:g}, {a.max_value:g}) and "
                f"{b.label!r} [{b.min_value:g}, {b.max_value:g}) overlap; a value may belong to one class only "
                "(bounds are [min, max): make one class's max equal the next class's min)"
            )
        if a.max_value < b.min_value:
            raise ConfigError(
                f"legend {source}: gap between classes {a.label!r} (max = {a.max_value:g}) and "
                f"{b.label!r} (min = {b.min_value:g}); values in [{a.max_value:g}, {b.min_value:g}) would have "
                "no class; make one class's max equal the next class's min"
            )


def _auto_label(lo: float, hi: float) -> str:
    if math.isinf(lo):
        return f"< {_fmt(hi)}"
    if math.isinf(hi):
        return f"≥ {_fmt(lo)}"
    return f"{_fmt(lo)} … {_fmt(hi)}"


def _bound(raw, key: str, default: float, source: str, i: int) -> float:
    if raw is None:
        return default
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise ConfigError(f"legend {source}: class {i} {key} = {raw!r} is not a number")
    v = float(raw)
    if math.isnan(v):
        raise ConfigError(f"legend {source}: class {i} {key} is NaN; give a number or omit it for an open end")
    return v


def legend_from_dict(doc: dict, source: str = "<dict>") -> Legend:
    """Build and validate a :class:`Legend` from a parsed TOML mapping (layout in the module docstring)."""
    unknown = set(doc) - _KEYS
    if unknown:
        raise ConfigError(f"legend {source}: unknown key(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(_KEYS))}")
    raw = doc.get("class")
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"legend {source}: no [[class]] tables; add at least one")
    classes = []
    for i, c in enumerate(raw, 1):
        if not isinstance(c, dict):
            raise ConfigError(f"legend {source}: class {i} is not a table")
        bad = set(c) - _CLASS_KEYS
        if bad:
            raise ConfigError(
                f"legend {source}: class {i} has unknown key(s) {', '.join(sorted(bad))}; "
                f"allowed: {', '.join(sorted(_CLASS_KEYS))}"
            )
        lo = _bound(c.get("min"), "min", -math.inf, source, i)
        hi = _bound(c.get("max"), "max", math.inf, source, i)
        color = str(c.get("color", ""))
        if len(color) == 4 and _HEX.match(color):
            color = "#" + "".join(ch * 2 for ch in color[1:])
        classes.append(LegendClass(str(c.get("label") or _auto_label(lo, hi)), lo, hi, color.lower()))
    band = str(doc.get("band", ""))
    return Legend(band, str(doc.get("title", band)), str(doc.get("unit", "")), tuple(classes), source=source)


def load_legend(path: str | Path) -> Legend:
    """Read and validate a legend TOML file.

    Raises
    ------
    netqa.errors.ConfigError
        Unreadable TOML, unknown keys, bad colours, overlapping classes or gaps.
    """
    p = Path(path)
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"legend {p}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"legend {p}: not valid TOML ({exc})") from None
    return legend_from_dict(doc, source=str(p))


def default_legend(band: str) -> Legend:
    """The built-in legend for ``band`` (one of :data:`LEGEND_BANDS`)."""
    if band not in LEGEND_BANDS:
        raise ConfigError(f"no default legend for band {band!r}; built-in legends: {', '.join(LEGEND_BANDS)}")
    text = resources.files("netqa").joinpath(f"data/legends/{band}.toml").read_text(encoding="utf-8")
    return legend_from_dict(tomllib.loads(text), source=f"netqa/data/legends/{band}.toml")


def categorical_legend(band: str, title: str, labels: list[str]) -> Legend:
    """A legend for integer codes ``0..n-1`` (e.g. the best-server cell index): class i is ``[i, i+1)``."""
    classes = tuple(
        LegendClass(str(lab), float(i), float(i + 1), _QUALITATIVE[i % len(_QUALITATIVE)]) for i, lab in enumerate(labels)
    )
    return Legend(band, title, "", classes, categorical=True, source=f"<categorical {band}>")


def legend_for(band: str, legend: Legend | str | Path | None = None) -> Legend:
    """``legend`` as a :class:`Legend`: itself, loaded from a TOML path, or the default for ``band``."""
    if isinstance(legend, Legend):
        return legend
    if legend is not None:
        return load_legend(legend)
    return default_legend(band)
