"""The tuned-model TOML written by ``netqa calibrate`` and read by ``--model-file``: THE reader and writer.

Layout (every section but ``[spm]`` optional)::

    [model]
    h_eff_method = "ground"     # "ground": antenna height above ground at the site (cells' height_m, Atoll's
                                # default); "relative": z_site + h_tx - z_rx (the engine's current definition)
    [spm]                       # global fallback: SpmCoefficients k1..k7, f_ref_mhz, k_freq_db_per_decade
    k1 = 23.4
    ...
    [spm_frequency]             # only when K1 follows the exact Hata/COST-231 frequency rule (TOML has no None)
    rule = "hata-cost231"
    [clutter_loss_db]           # tuned clutter loss per class name (table loss + fitted offset) [dB]
    urban = 14.8
    [band."LTE-1815"]           # one tuned model per (tech, carrier) band; same keys as [spm] plus tech, freq_mhz
    tech = "LTE"
    freq_mhz = 1815.0
    k1 = 24.0
    ...
    [band."LTE-1815".clutter_loss_db]
    urban = 13.9
    [cells."LTE1800-01-A"]      # per-cell K1 (and K2) where the data allowed, at the same f_ref as its band
    k1 = 22.9
    k2 = 41.0
    [path_clutter]              # optional: clutter losses weighted along the path (netqa.io._pathclutter);
    near_m = 300.0              # a fitted band's own: [band."KEY".path_clutter]
    [path_clutter.near_db]
    urban = 6.2
    [antenna]                   # optional: weight of the assumed sector pattern's attenuation (global fallback)
    pattern_weight = 0.8        # (a band's own: pattern_weight in its [band."KEY"] table; netqa.calibrate.pattern)
    [calibration]               # how the file was made: fitted/refused coefficients, fit and hold-out statistics
    ...

A cell takes the section of its band (:func:`band_key` of its tech and
frequency), else the global ``[spm]``; a class missing from a band's clutter
table takes the global one, then the clutter class table's.  ``netqa predict
--model-file`` and ``netqa compare --model-file`` read the file through
:func:`read_model_file`.  K1..K7 may also stand at the top level of a
hand-written file.  Unknown sections or keys are refused with the list of
valid ones.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from netqa.errors import ConfigError, InputError
from netqa.fileio import check_output, write_text_atomic
from netqa.io._modelbounds import check_clutter_losses, check_k_bounds, check_path_losses, check_slope
from netqa.io._pathclutter import PathClutter, path_table, read_path_table
from propagation import SpmCoefficients

SECTIONS = ("model", "spm", "spm_frequency", "clutter_loss_db", "band", "cells", "antenna", "path_clutter",
            "calibration", "learned")
H_EFF_METHODS = ("ground", "relative")
_K_KEYS = ("k1", "k2", "k3", "k4", "k5", "k6", "k7", "f_ref_mhz", "k_freq_db_per_decade")
_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def band_key(tech, freq_mhz) -> str:
    """Name of a (technology, carrier) band: ``"<TECH>-<MHz rounded>"``.

    >>> band_key("lte", 1815.0), band_key("NR", 3500.4)
    ('LTE-1815', 'NR-3500')
    """
    t = str(tech).strip().upper() if tech is not None and str(tech).strip() not in ("", "nan", "None") else "ANY"
    return f"{t}-{int(round(float(freq_mhz)))}"


@dataclass(frozen=True)
class BandModel:
    """Tuned SPM of one band: coefficients (K1 at ``k.f_ref_mhz``) and clutter losses by class name [dB]."""

    tech: str
    freq_mhz: float
    k: SpmCoefficients
    clutter_loss_db: dict = field(default_factory=dict)
    pattern_weight: float | None = None  # weight of the assumed pattern's attenuation (None: the global one)
    path_clutter: PathClutter | None = None  # the band's own path-clutter losses (issue 12 item 3)


@dataclass(frozen=True)
class TunedModel:
    """A parsed tuned-model file.

    ``k``: global SPM coefficients (the fallback); ``clutter_loss_db``: global
    tuned clutter losses; ``bands``: band key -> :class:`BandModel`;
    ``per_cell``: cell id -> {"k1", "k2"}; ``h_eff_method``: "ground" or
    "relative"; ``calibration``: the provenance table.
    """

    k: SpmCoefficients
    clutter_loss_db: dict = field(default_factory=dict)
    per_cell: dict = field(default_factory=dict)
    calibration: dict = field(default_factory=dict)
    bands: dict = field(default_factory=dict)
    h_eff_method: str = "relative"
    pattern_weight: float = 1.0  # global weight of the assumed pattern's attenuation [-]
    path_clutter: PathClutter | None = None  # global path-clutter losses (issue 12 item 3)

    def path_clutter_for(self, tech, freq_mhz) -> PathClutter | None:
        """Path-clutter losses for a cell: a fitted band's own (None: it has none), else the global ones."""
        b = self.band_for(tech, freq_mhz)
        return b.path_clutter if b is not None else self.path_clutter

    @property
    def has_path_clutter(self) -> bool:
        """Whether any section holds path-clutter losses."""
        return self.path_clutter is not None or any(b.path_clutter is not None for b in self.bands.values())
    learned: dict = field(default_factory=dict)  # [learned]: the learned correction's record (netqa.io.learnedfile)
    source: str = ""  # the file it was read from (for messages)

    def pattern_weight_for(self, tech, freq_mhz) -> float:
        """Weight of the assumed antenna pattern's attenuation for a cell: its band's, else the global one. [-]"""
        b = self.band_for(tech, freq_mhz)
        return b.pattern_weight if b is not None and b.pattern_weight is not None else self.pattern_weight

    def band_for(self, tech, freq_mhz) -> BandModel | None:
        """The band section for a cell, or None (the global model applies)."""
        return self.bands.get(band_key(tech, freq_mhz))

    def k_for(self, tech, freq_mhz) -> SpmCoefficients:
        """SPM coefficients for a cell of this technology and carrier."""
        b = self.band_for(tech, freq_mhz)
        return b.k if b is not None else self.k

    def clutter_for(self, tech, freq_mhz) -> dict:
        """Tuned clutter loss by class name for a cell (band classes over global ones). [dB]"""
        b = self.band_for(tech, freq_mhz)
        return {**self.clutter_loss_db, **(b.clutter_loss_db if b is not None else {})}


#: Former name of :class:`TunedModel`.
ModelFile = TunedModel


def _key(k: str) -> str:
    return k if _BARE.match(k) else json.dumps(k)


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    return json.dumps(str(v), ensure_ascii=False)


def _table(lines: list[str], path: list[str], table: dict) -> None:
    scalars = {k: v for k, v in table.items() if not isinstance(v, dict) and v is not None}
    subs = {k: v for k, v in table.items() if isinstance(v, dict)}
    if scalars or not subs:
        lines.append("")
        lines.append("[" + ".".join(_key(p) for p in path) + "]")
        for k, v in scalars.items():
            lines.append(f"{_key(k)} = {_value(v)}")
    for k, v in subs.items():
        _table(lines, path + [k], v)


def to_toml(data: dict, header: str = "") -> str:
    """Serialise nested dicts of str/float/int/bool/list to TOML (None values left out).

    >>> print(to_toml({"spm": {"k1": 1.5}, "cells": {"A 1": {"k1": 2.0}}}).strip())
    [spm]
    k1 = 1.5
    <BLANKLINE>
    [cells."A 1"]
    k1 = 2.0
    """
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    for name, table in data.items():
        _table(lines, [name], table)
    return "\n".join(lines).lstrip("\n") + "\n"


def _k_table(k: SpmCoefficients) -> dict:
    return {name: getattr(k, name) for name in _K_KEYS}


def _cal_info(cal) -> dict:
    return _drop_none({
        "fitted": list(cal.fitted),
        "clutter_anchor": cal.clutter_anchor,
        "refused": dict(cal.refused),
        "std_error": {n: float(v) for n, v in cal.std_error.items()},
        "clutter_offset_db": {c: float(v) for c, v in cal.clutter_offset_db.items()},
        "cells_refused": {c: e["refused"] for c, e in cal.per_cell.items() if "refused" in e},
        "fit": cal.fit,
        "holdout": cal.holdout,
        "settings": cal.settings,
    })  # fmt: skip


def _tuned_clutter(cal, table: dict | None) -> dict:
    if not table:
        return {}
    return {c: float(table[c]) + float(cal.clutter_offset_db.get(c, 0.0)) for c in sorted(table)}


def write_model_file(path, cal, *, clutter_table_loss_db: dict | None = None, provenance: dict | None = None,
                     h_eff_method: str = "relative", overwrite: bool = False, learned=None) -> Path:  # fmt: skip
    """Write a :class:`~netqa.calibrate.fit.Calibration` as the tuned-model TOML, atomically.

    ``cal`` is the global fit; its ``bands`` (band key -> {"tech", "freq_mhz",
    "cal"} or {"refused": reason}) become ``[band.KEY]`` sections.
    ``clutter_table_loss_db`` (class -> table loss) turns the fitted offsets
    into absolute tuned losses; ``provenance`` (inputs, settings) goes under
    ``[calibration]``; ``h_eff_method`` ("ground" or "relative") under ``[model]``;
    ``learned``: ``(record, sidecar_path, model_bytes)`` of an adopted learned correction
    (:mod:`netqa.io.learnedfile`): the record becomes ``[learned]``, the sidecar is written in one
    output set with the TOML.
    """
    if h_eff_method not in H_EFF_METHODS:
        raise ValueError(f"h_eff_method must be one of {H_EFF_METHODS}, got {h_eff_method!r}")
    p = check_output(path, overwrite)
    k = cal.k
    data: dict = {"model": {"h_eff_method": h_eff_method}, "spm": _k_table(k)}
    fitted_bands = {key: b for key, b in getattr(cal, "bands", {}).items() if "cal" in b}
    rules = [k] + [b["cal"].k for b in fitted_bands.values()]
    if any(r.f_ref_mhz is not None and r.k_freq_db_per_decade is None for r in rules):
        data["spm_frequency"] = {"rule": "hata-cost231"}
    clutter = _tuned_clutter(cal, clutter_table_loss_db)
    if clutter:
        data["clutter_loss_db"] = clutter
    cells = {c: {"k1": e["k1"], "k2": e["k2"]} for c, e in cal.per_cell.items() if "k1" in e}
    bands = {}
    band_info = {}
    for key, b in sorted(getattr(cal, "bands", {}).items()):
        if "cal" not in b:
            band_info[key] = {"refused": b["refused"]}
            continue
        bc = b["cal"]
        table = {"tech": b["tech"], "freq_mhz": float(b["freq_mhz"]), **_k_table(bc.k)}
        if getattr(bc, "pattern_weight", 1.0) != 1.0:
            table["pattern_weight"] = float(bc.pattern_weight)
        if path_table(bc):
            table["path_clutter"] = path_table(bc)
        bcl = _tuned_clutter(bc, {c: v for c, v in (clutter_table_loss_db or {}).items() if c in bc.clutter_offset_db})
        if bcl:
            table["clutter_loss_db"] = bcl
        bands[key] = table
        band_info[key] = _cal_info(bc)
        for c, e in bc.per_cell.items():  # a cell's own band fit wins over the global one
            if "k1" in e:
                cells[c] = {"k1": e["k1"], "k2": e["k2"]}
            else:
                cells.pop(c, None)
    if bands:
        data["band"] = bands
    if cells:
        data["cells"] = cells
    if path_table(cal):
        data["path_clutter"] = path_table(cal)
    if getattr(cal, "pattern_weight", 1.0) != 1.0:
        data["antenna"] = {"pattern_weight": float(cal.pattern_weight)}
    info = _cal_info(cal)
    if band_info:
        info["band"] = band_info
    if provenance:
        info["provenance"] = provenance
    data["calibration"] = _drop_none(info)
    header = ("Tuned Standard Propagation Model written by 'netqa calibrate': one model per band ([band.KEY]) and a\n"
              "global fallback ([spm]).\n"
              "Use with: netqa predict --model spm --model-file FILE  |  netqa compare --model spm --model-file FILE\n"
              "Residuals are predicted minus measured; hold-out statistics are on groups (holdout.cv_group: site,\n"
              "session or cell) left out of the fit.")  # fmt: skip
    if learned is None:  # --- learned correction (issue 12 item 5) ---
        write_text_atomic(p, to_toml(data, header))
        return p
    from netqa.fileio import atomic_set

    record, side, blob = learned
    data = {**{k: v for k, v in data.items() if k != "calibration"}, "learned": record,
            "calibration": data["calibration"]}  # fmt: skip
    with atomic_set([p, side]) as out:
        out.path(side).write_bytes(blob)
        out.path(p).write_text(to_toml(data, header), encoding="utf-8")
    return p


def _drop_none(d):
    if isinstance(d, dict):
        return {k: _drop_none(v) for k, v in d.items() if v is not None}
    return d


def _coefficients(p: Path, where: str, table: dict, rule: bool) -> SpmCoefficients:
    try:
        k = SpmCoefficients.from_mapping(table)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"--model-file {p}: [{where}]: {exc}") from exc
    if rule and "k_freq_db_per_decade" not in table:
        k = k._replace(k_freq_db_per_decade=None)
    return k


def _clutter(p: Path, where: str, table) -> dict:
    if not isinstance(table, dict):
        raise ConfigError(f"--model-file {p}: [{where}] must be a table of class name = loss [dB]")
    out = {}
    for name, val in table.items():
        if isinstance(val, bool) or not isinstance(val, (int, float)) or not math.isfinite(val):
            raise ConfigError(f"--model-file {p}: [{where}] {name} = {val!r} must be a finite number of dB")
        out[str(name)] = float(val)
    return out


def read_model_file(path) -> TunedModel:
    """Read and validate a tuned-model TOML (:func:`write_model_file`'s layout).

    Returns
    -------
    TunedModel
        Global and per-band SPM coefficients, tuned clutter losses, per-cell
        K1/K2 and the effective-height method.

    Raises
    ------
    netqa.errors.InputError
        The file cannot be read or is not TOML.
    netqa.errors.ConfigError
        Unknown section or key, missing K, non-numeric value, unknown frequency rule or h_eff method.
    """
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"--model-file {p}: cannot read TOML ({exc})") from exc
    if "spm" not in data and any(k in data for k in _K_KEYS):  # hand-written: K's at the top level
        data = {"spm": {k: data[k] for k in _K_KEYS if k in data},
                **{k: v for k, v in data.items() if k not in _K_KEYS}}  # fmt: skip
    unknown = [k for k in data if k not in SECTIONS]
    if unknown:
        raise ConfigError(f"--model-file {p}: unknown key(s) {', '.join(map(repr, unknown))}; "
                          f"valid sections: {', '.join(SECTIONS)}")  # fmt: skip
    if "spm" not in data:
        raise ConfigError(f"--model-file {p}: no [spm] section with k1..k7")
    model = data.get("model", {})
    bad = [k for k in model if k != "h_eff_method"]
    h_eff = model.get("h_eff_method", "relative")
    if bad or h_eff not in H_EFF_METHODS:
        raise ConfigError(f"--model-file {p}: [model] takes only h_eff_method = \"ground\" or \"relative\", "
                          f"got {model!r}")  # fmt: skip
    rule = data.get("spm_frequency", {})
    bad = [k for k in rule if k != "rule"]
    if bad or rule.get("rule", "hata-cost231") != "hata-cost231":
        raise ConfigError(f"--model-file {p}: [spm_frequency] takes only rule = \"hata-cost231\", got {rule!r}")
    k = _coefficients(p, "spm", dict(data["spm"]), bool(rule))
    clutter = _clutter(p, "clutter_loss_db", data.get("clutter_loss_db", {}))
    bands = {}
    for key, entry in data.get("band", {}).items():
        where = f"band.{_key(str(key))}"
        if not isinstance(entry, dict):
            raise ConfigError(f"--model-file {p}: [{where}] must be a table (tech, freq_mhz, k1..k7)")
        bad = [x for x in entry if x not in _K_KEYS + ("tech", "freq_mhz", "clutter_loss_db", "pattern_weight",
                                                         "path_clutter")]
        if bad or "tech" not in entry or "freq_mhz" not in entry:
            raise ConfigError(f"--model-file {p}: [{where}] takes tech, freq_mhz, {', '.join(_K_KEYS)}, pattern_weight, "
                              f"[{where}.clutter_loss_db] and [{where}.path_clutter]; got keys {', '.join(map(repr, entry))}")  # fmt: skip
        freq = entry["freq_mhz"]
        if isinstance(freq, bool) or not isinstance(freq, (int, float)) or not freq > 0:
            raise ConfigError(f"--model-file {p}: [{where}] freq_mhz = {freq!r} must be a frequency > 0 MHz")
        kb = _coefficients(p, where, {x: v for x, v in entry.items() if x in _K_KEYS}, bool(rule))
        bm = BandModel(str(entry["tech"]).upper(), float(freq), kb,
                       _clutter(p, where + ".clutter_loss_db", entry.get("clutter_loss_db", {})),
                       _weight(p, where, entry["pattern_weight"]) if "pattern_weight" in entry else None,
                       read_path_table(p, where + ".path_clutter", entry["path_clutter"])
                       if "path_clutter" in entry else None)  # fmt: skip
        bands[band_key(bm.tech, bm.freq_mhz)] = bm
    cells = {}
    for cid, entry in data.get("cells", {}).items():
        if not isinstance(entry, dict):
            raise ConfigError(f"--model-file {p}: [cells] {cid!r} must be a table with k1 (and k2)")
        bad = [x for x in entry if x not in ("k1", "k2")]
        if bad or "k1" not in entry:
            raise ConfigError(f"--model-file {p}: [cells.{_key(str(cid))}] takes k1 and optionally k2; got keys "
                              f"{', '.join(map(repr, entry))}")  # fmt: skip
        vals = {}
        for kk, v in entry.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ConfigError(f"--model-file {p}: [cells.{_key(str(cid))}] {kk} = {v!r} must be a finite number")
            vals[kk] = float(v)
        cells[str(cid)] = vals
    antenna = data.get("antenna", {})
    if not isinstance(antenna, dict) or [x for x in antenna if x != "pattern_weight"]:
        raise ConfigError(f"--model-file {p}: [antenna] takes only pattern_weight, got {antenna!r}")
    weight = _weight(p, "antenna", antenna["pattern_weight"]) if "pattern_weight" in antenna else 1.0
    path = read_path_table(p, "path_clutter", data["path_clutter"]) if "path_clutter" in data else None
    learned = data.get("learned", {})
    if not isinstance(learned, dict):
        raise ConfigError(f"--model-file {p}: [learned] must be a table (netqa calibrate --learned-correction)")
    _check_physical(p, k, clutter, bands, cells, path)
    return TunedModel(k, clutter, cells, dict(data.get("calibration", {})), bands, h_eff, weight, path, dict(learned),
                      str(p))


def _check_physical(p: Path, k, clutter: dict, bands: dict, cells: dict, path) -> None:
    """Values outside the fit's physical bounds (:mod:`netqa.io._modelbounds`), once the layout is known valid."""
    check_k_bounds(p, "spm", k)
    check_clutter_losses(p, "clutter_loss_db", clutter)
    for key, b in bands.items():
        check_k_bounds(p, f"band.{_key(key)}", b.k)
        check_clutter_losses(p, f"band.{_key(key)}.clutter_loss_db", b.clutter_loss_db)
        if b.path_clutter is not None:
            check_path_losses(p, f"band.{_key(key)}.path_clutter", b.path_clutter)
    if path is not None:
        check_path_losses(p, "path_clutter", path)
    k5s = sorted({float(k.k5), *(float(b.k.k5) for b in bands.values())})
    for cid, vals in cells.items():
        if "k2" not in vals:
            continue
        errors = []  # the cell's slope with its band's K5 (unknown here): refused only when no K5 of the file fits
        for k5 in k5s:
            try:
                check_slope(p, f"cells.{_key(str(cid))}", vals["k2"], k5)
            except ConfigError as exc:
                errors.append(exc)
        if len(errors) == len(k5s):
            raise errors[0]


def _weight(p: Path, where: str, v) -> float:
    """A pattern weight: a number in 0 < w <= 2 (netqa.calibrate.pattern)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 < v <= 2.0:
        raise ConfigError(f"--model-file {p}: [{where}] pattern_weight = {v!r} must be a number in 0 < w <= 2")
    return float(v)


__all__ = ["H_EFF_METHODS", "SECTIONS", "BandModel", "ModelFile", "PathClutter", "TunedModel", "band_key", "read_model_file", "to_toml",
           "write_model_file"]
