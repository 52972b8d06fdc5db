"""The tuned-model TOML written by ``netqa calibrate`` and read by ``--model-file``.

Layout (every section but ``[spm]`` optional)::

    [spm]                       # SpmCoefficients: k1..k7, f_ref_mhz, k_freq_db_per_decade
    k1 = 23.4
    ...
    [spm_frequency]             # only when K1 follows the exact Hata/COST-231 frequency rule
    rule = "hata-cost231"
    [clutter_loss_db]           # tuned clutter loss per class name (table loss + fitted offset) [dB]
    urban = 14.8
    [cells."LTE1800-01-A"]      # per-cell K1 (and K2) where the data allowed
    k1 = 22.9
    k2 = 41.0
    [calibration]               # how the file was made: fitted/refused coefficients, fit and hold-out statistics
    ...

``netqa predict --model-file`` reads ``[spm]`` (K1..K7 may also stand at the
top level of a hand-written file).  Unknown sections or keys are refused with
the list of valid ones.
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
from propagation import SpmCoefficients

SECTIONS = ("spm", "spm_frequency", "clutter_loss_db", "cells", "calibration")
_K_KEYS = ("k1", "k2", "k3", "k4", "k5", "k6", "k7", "f_ref_mhz", "k_freq_db_per_decade")
_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class ModelFile:
    """A parsed tuned-model file: SPM coefficients, tuned clutter losses, per-cell K1/K2."""

    k: SpmCoefficients
    clutter_loss_db: dict = field(default_factory=dict)
    per_cell: dict = field(default_factory=dict)
    calibration: dict = field(default_factory=dict)


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


def write_model_file(path, cal, *, clutter_table_loss_db: dict | None = None, provenance: dict | None = None,
                     overwrite: bool = False) -> Path:  # fmt: skip
    """Write a :class:`~netqa.calibrate.fit.Calibration` as the tuned-model TOML, atomically.

    ``clutter_table_loss_db`` (class -> table loss) turns the fitted offsets
    into absolute tuned losses; ``provenance`` (inputs, settings) goes under
    ``[calibration]``.
    """
    p = check_output(path, overwrite)
    k = cal.k
    data: dict = {"spm": {name: getattr(k, name) for name in _K_KEYS}}
    if k.f_ref_mhz is not None and k.k_freq_db_per_decade is None:
        data["spm_frequency"] = {"rule": "hata-cost231"}
    if clutter_table_loss_db:
        data["clutter_loss_db"] = {c: float(clutter_table_loss_db[c]) + float(cal.clutter_offset_db.get(c, 0.0))
                                   for c in sorted(clutter_table_loss_db)}  # fmt: skip
    cells = {c: {"k1": e["k1"], "k2": e["k2"]} for c, e in cal.per_cell.items() if "k1" in e}
    if cells:
        data["cells"] = cells
    info = {
        "fitted": list(cal.fitted),
        "clutter_anchor": cal.clutter_anchor,
        "refused": dict(cal.refused),
        "std_error": {n: float(v) for n, v in cal.std_error.items()},
        "clutter_offset_db": {c: float(v) for c, v in cal.clutter_offset_db.items()},
        "cells_refused": {c: e["refused"] for c, e in cal.per_cell.items() if "refused" in e},
        "fit": cal.fit,
        "holdout": cal.holdout,
        "settings": cal.settings,
    }
    if provenance:
        info["provenance"] = provenance
    data["calibration"] = _drop_none(info)
    header = ("Tuned Standard Propagation Model written by 'netqa calibrate'.\n"
              "Use with: netqa predict --model spm --model-file FILE  |  netqa compare --model spm --model-file FILE\n"
              "Residuals are predicted minus measured; hold-out statistics are on sessions left out of the fit.")  # fmt: skip
    write_text_atomic(p, to_toml(data, header))
    return p


def _drop_none(d):
    if isinstance(d, dict):
        return {k: _drop_none(v) for k, v in d.items() if v is not None}
    return d


def read_model_file(path) -> ModelFile:
    """Read and validate a tuned-model TOML (:func:`write_model_file`'s layout).

    Raises
    ------
    netqa.errors.InputError
        The file cannot be read or is not TOML.
    netqa.errors.ConfigError
        Unknown section or key, missing K, non-numeric value, unknown frequency rule.
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
    spm = dict(data["spm"])
    rule = data.get("spm_frequency", {})
    bad = [k for k in rule if k != "rule"]
    if bad or rule.get("rule", "hata-cost231") != "hata-cost231":
        raise ConfigError(f"--model-file {p}: [spm_frequency] takes only rule = \"hata-cost231\", got {rule!r}")
    try:
        k = SpmCoefficients.from_mapping(spm)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"--model-file {p}: [spm]: {exc}") from exc
    if rule:
        k = k._replace(k_freq_db_per_decade=None)
    clutter = {}
    for name, val in data.get("clutter_loss_db", {}).items():
        if isinstance(val, bool) or not isinstance(val, (int, float)) or not math.isfinite(val):
            raise ConfigError(f"--model-file {p}: [clutter_loss_db] {name} = {val!r} must be a finite number of dB")
        clutter[str(name)] = float(val)
    cells = {}
    for cid, entry in data.get("cells", {}).items():
        if not isinstance(entry, dict):
            raise ConfigError(f"--model-file {p}: [cells] {cid!r} must be a table with k1 (and k2)")
        bad = [k for k in entry if k not in ("k1", "k2")]
        if bad or "k1" not in entry:
            raise ConfigError(f"--model-file {p}: [cells.{_key(str(cid))}] takes k1 and optionally k2; got keys "
                              f"{', '.join(map(repr, entry))}")  # fmt: skip
        vals = {}
        for kk, v in entry.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ConfigError(f"--model-file {p}: [cells.{_key(str(cid))}] {kk} = {v!r} must be a finite number")
            vals[kk] = float(v)
        vals.setdefault("k2", k.k2)
        cells[str(cid)] = vals
    return ModelFile(k, clutter, cells, dict(data.get("calibration", {})))


__all__ = ["SECTIONS", "ModelFile", "read_model_file", "to_toml", "write_model_file"]
