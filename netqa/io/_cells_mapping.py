"""TOML column mappings for operator engineering-parameter sheets (CSV or XLSX).

Private module behind :func:`netqa.io.cells.read_cells`.  A mapping file looks
like ``netqa/data/mappings/operator_example.toml``::

    [source]
    format = "xlsx"        # csv or xlsx; default from the file extension
    sheet = "Cells"        # xlsx: sheet name (default: the first sheet)
    header_row = 1         # 1-based row holding the column names
    delimiter = ","        # csv only
    decimal = "."          # csv only

    [columns]              # source column -> canonical name
    "Cell Name" = "cell_id"

    [units]                # canonical column -> unit of the source values
    tx_power_dbm = "W"

    [values.tech]          # canonical column -> {source value: canonical value}
    "4G" = "LTE"

    [defaults]             # canonical column -> value (canonical units), flagged where used
    gain_dbi = 18.0
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import pandas as pd

from netqa.errors import CellTableError, ConfigError
from netqa.io._cells_check import COLUMN_UNITS, UNIT_CONVERSIONS, WHERE
from netqa.schema import CELL_COLUMNS, CELL_OPTIONAL_COLUMNS

_SECTIONS = {"source", "columns", "units", "values", "defaults", "description"}
_SOURCE_KEYS = {"format", "sheet", "header_row", "delimiter", "decimal", "encoding"}
_CANONICAL = {**CELL_COLUMNS, **CELL_OPTIONAL_COLUMNS}


@dataclass(frozen=True)
class Mapping:
    """A validated column mapping."""

    columns: dict[str, str]
    units: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    defaults: dict[str, object] = field(default_factory=dict)
    format: str | None = None
    sheet: str | int | None = None
    header_row: int = 1
    delimiter: str = ","
    decimal: str = "."
    encoding: str = "utf-8-sig"
    origin: str = "<mapping>"


def packaged_mappings() -> list[str]:
    """Names of the ready mappings shipped in ``netqa/data/mappings/``."""
    root = resources.files("netqa") / "data" / "mappings"
    return sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".toml"))


def load_mapping(mapping) -> Mapping:
    """A :class:`Mapping` from a dict, a TOML path, or the name of a packaged mapping."""
    if isinstance(mapping, Mapping):
        return mapping
    if isinstance(mapping, dict):
        return _parse(mapping, "<mapping dict>")
    p = Path(mapping)
    if not p.exists() and p.suffix == "" and str(mapping) in packaged_mappings():
        text = (resources.files("netqa") / "data" / "mappings" / f"{mapping}.toml").read_text(encoding="utf-8")
        origin = f"netqa/data/mappings/{mapping}.toml"
    elif p.exists():
        text, origin = p.read_text(encoding="utf-8"), str(p)
    else:
        raise ConfigError(f"mapping {str(mapping)!r} not found; give a TOML path or one of: {', '.join(packaged_mappings())}")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{origin}: not valid TOML ({exc})") from exc
    return _parse(data, origin)


def _parse(data: dict, origin: str) -> Mapping:
    unknown = set(data) - _SECTIONS
    if unknown:
        raise ConfigError(f"{origin}: unknown section(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(_SECTIONS))}")
    src = data.get("source", {})
    bad = set(src) - _SOURCE_KEYS
    if bad:
        raise ConfigError(f"{origin}: unknown [source] key(s) {', '.join(sorted(bad))}; allowed: {', '.join(sorted(_SOURCE_KEYS))}")
    fmt = src.get("format")
    if fmt is not None and fmt not in ("csv", "xlsx"):
        raise ConfigError(f"{origin}: [source] format = {fmt!r}; allowed: csv, xlsx")
    columns = {str(k): str(v) for k, v in data.get("columns", {}).items()}
    if not columns:
        raise ConfigError(f"{origin}: the [columns] section is empty; map each source column to a canonical name")
    for section, names in (("columns", columns.values()), ("units", data.get("units", {})), ("values", data.get("values", {})), ("defaults", data.get("defaults", {}))):
        wrong = [n for n in names if n not in _CANONICAL]
        if wrong:
            raise ConfigError(f"{origin}: [{section}] names unknown canonical column(s) {', '.join(wrong)}; canonical: {', '.join(_CANONICAL)}")
    dup = sorted({v for v in columns.values() if list(columns.values()).count(v) > 1})
    if dup:
        raise ConfigError(f"{origin}: [columns] maps several source columns onto {', '.join(dup)}")
    units = {str(k): str(v) for k, v in data.get("units", {}).items()}
    for col, unit in units.items():
        allowed = UNIT_CONVERSIONS.get(COLUMN_UNITS.get(col), {})
        if unit.strip().lower() not in allowed:
            raise ConfigError(f"{origin}: [units] {col} = {unit!r} is unknown; allowed: {', '.join(allowed) or 'none'}")
    header_row = src.get("header_row", 1)
    if not isinstance(header_row, int) or header_row < 1:
        raise ConfigError(f"{origin}: [source] header_row = {header_row!r} must be an integer >= 1")
    values = {str(c): {str(k): str(v) for k, v in m.items()} for c, m in data.get("values", {}).items()}
    return Mapping(
        columns=columns, units=units, values=values, defaults=dict(data.get("defaults", {})),
        format=fmt, sheet=src.get("sheet"), header_row=header_row,
        delimiter=src.get("delimiter", ","), decimal=src.get("decimal", "."),
        encoding=src.get("encoding", "utf-8-sig"), origin=origin,
    )


def read_mapped(path: Path, mapping: Mapping) -> pd.DataFrame:
    """Read a sheet through ``mapping``: canonical column names, raw values, a ``_where`` column."""
    fmt = mapping.format or ("xlsx" if path.suffix.lower() in (".xlsx", ".xlsm") else "csv")
    skip = mapping.header_row - 1
    try:
        if fmt == "xlsx":
            sheet = mapping.sheet if mapping.sheet is not None else 0
            raw = pd.read_excel(path, sheet_name=sheet, header=skip, dtype=object, engine="openpyxl")
            label = f"sheet {sheet!r} row" if isinstance(sheet, str) else "row"
            where = [f"{label} {mapping.header_row + 1 + i}" for i in range(len(raw))]
        else:
            raw = pd.read_csv(
                path, sep=mapping.delimiter, decimal=mapping.decimal, skiprows=skip, dtype=str,
                keep_default_na=False, encoding=mapping.encoding, skipinitialspace=True,
            )
            where = [f"row {i + 1} (line {mapping.header_row + 1 + i})" for i in range(len(raw))]
    except ValueError as exc:  # includes a missing sheet name
        raise CellTableError(f"{path}: cannot read with mapping {mapping.origin}: {exc}") from exc
    raw.columns = [str(c).strip() for c in raw.columns]
    absent = [c for c in mapping.columns if c not in raw.columns]
    required_absent = [c for c in absent if mapping.columns[c] in CELL_COLUMNS and mapping.columns[c] not in mapping.defaults]
    if required_absent:
        raise CellTableError(
            f"{path}: column(s) {', '.join(repr(c) for c in required_absent)} named in {mapping.origin} are not in the sheet "
            f"(it has {', '.join(repr(c) for c in raw.columns)})"
        )
    present = {src: dst for src, dst in mapping.columns.items() if src in raw.columns}
    df = raw[list(present)].rename(columns=present)
    df[WHERE] = where
    return df
