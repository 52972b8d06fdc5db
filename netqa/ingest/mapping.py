"""Log mappings: how a delimited drive-test log maps onto the canonical samples.

A mapping is a small TOML file (ready ones for ``gnettrack``, ``networksurvey``
and ``netqa`` live in ``netqa/data/log_mappings/``)::

    [format]
    name = "mytool"
    delimiter = ","            # one character; "\\t" for tab
    comment = "#"              # lines starting with it are skipped ("" = none)
    missing = ["-", ""]        # missing-value markers -> NaN
    detect = ["Time", "Lat"]   # header names that identify the format (auto-detect)

    [time]
    column = "Time"
    format = "%Y-%m-%d %H:%M:%S"   # strftime, or iso8601, epoch_s, epoch_ms
    timezone = "UTC"               # zone of naive timestamps unless --tz is given; "local" (or
                                   # no key): the device's local time, zone unknown -> read as UTC
                                   # with a warning per file unless --tz names the zone

    [columns]                  # source column -> canonical name
    Lat = "lat"
    RSRP = "rsrp_dbm"

    [units]                    # source unit of a canonical column
    dl_mbps = "kbit/s"
    rsrp_dbm = "dBW"           # converted: +30 dB ("index"/"asu": 3GPP RSRP_nn report, -140 dB)

    [values.tech]              # source value -> canonical value
    "4G" = "LTE"

    [state]                    # values of the 'state' column
    connected = ["D"]
    idle = ["I"]
    download = ["D"]
    upload = ["U"]
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from netqa.errors import ConfigError

log = logging.getLogger(__name__)

#: netqa/data (ready mappings and profiles).
DATA_DIR = Path(__file__).resolve().parents[1] / "data"

#: Canonical sample columns a mapping may target, with their kind.
TARGETS: dict[str, str] = {
    "time": "time",
    "lat": "float",
    "lon": "float",
    "session": "str",
    "tech": "str",
    "cell_id": "str",
    "rsrp_dbm": "float",
    "rsrq_db": "float",
    "sinr_db": "float",
    "dl_mbps": "float",
    "ul_mbps": "float",
    "speed_kmh": "float",
    "pci": "float",
    "earfcn": "float",
    "cqi": "float",
    "rssi_dbm": "float",
    "nbr_rsrp_dbm": "float",
    "nbr_rsrq_db": "float",
    "state": "str",
    "activity": "str",
    "call_state": "str",
    "serving": "str",
}

#: Unit conversions onto the canonical unit: canonical column kind -> unit -> factor.
UNIT_FACTORS: dict[str, dict[str, float]] = {
    "mbps": {"bit/s": 1e-6, "bps": 1e-6, "kbit/s": 1e-3, "kbps": 1e-3, "mbit/s": 1.0, "mbps": 1.0,
             "gbit/s": 1e3, "gbps": 1e3, "byte/s": 8e-6, "kbyte/s": 8e-3, "kb/s": 8e-3, "mbyte/s": 8.0},
    "kmh": {"km/h": 1.0, "kmh": 1.0, "m/s": 3.6, "mph": 1.609344, "kn": 1.852},
    "db": {"db": 1.0, "dbm": 1.0},
    "deg": {"deg": 1.0, "degrees": 1.0, "microdeg": 1e-6},
}

#: Units of power columns (``*_dbm``) that differ from dBm by a constant: unit -> dB added.
#: dBW + 30 = dBm; the 3GPP RSRP report index RSRP_nn (TS 36.133 Table 9.1.4-1: RSRP_00 below -140 dBm,
#: RSRP_97 at -44 dBm) and Android's LTE ASU (0..97) are dBm + 140.
DBM_OFFSETS_DB: dict[str, float] = {"dbm": 0.0, "dbw": 30.0, "index": -140.0, "asu": -140.0}

TIME_FORMATS_SPECIAL = ("iso8601", "epoch_s", "epoch_ms")


def _unit_kind(target: str) -> str:
    if target.endswith("_mbps"):
        return "mbps"
    if target.endswith("_kmh"):
        return "kmh"
    if target in ("lat", "lon"):
        return "deg"
    return "db"


@dataclass(frozen=True)
class LogMapping:
    """A parsed mapping file (see the module docstring for the TOML layout)."""

    name: str
    columns: dict[str, str]  # source -> canonical
    time_column: str
    time_format: str = "iso8601"
    timezone: str = "local"  # "local": naive times in an unstated zone (UTC assumed, with a warning)
    delimiter: str = ","
    comment: str = ""
    missing: tuple[str, ...] = ("",)
    detect: tuple[str, ...] = ()
    scale: dict[str, float] = field(default_factory=dict)  # canonical -> factor
    offset: dict[str, float] = field(default_factory=dict)  # canonical -> dB added after the factor
    declared_units: tuple[str, ...] = ()  # canonical columns whose unit the mapping states ([units])
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # canonical -> {src: canonical}
    state: dict[str, tuple[str, ...]] = field(default_factory=dict)
    tech_from_columns: dict[str, str] = field(default_factory=dict)
    description: str = ""
    source: str = ""

    def present(self, header: list[str]) -> dict[str, str]:
        """The source -> canonical pairs whose source column is in ``header``.

        When several source columns map to one canonical name, the first present wins.
        """
        out: dict[str, str] = {}
        taken: set[str] = set()
        for src, dst in self.columns.items():
            if src in header and dst not in taken and src != self.time_column:
                out[src] = dst
                taken.add(dst)
        return out

    def matches(self, header: list[str]) -> bool:
        """True when every ``detect`` column is in ``header``."""
        return bool(self.detect) and all(c in header for c in self.detect)


def _as_tuple(value, where: str, source: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{source}: {where} must be a list of strings, got {value!r}")
    return tuple(value)


def parse_mapping(doc: dict, source: str = "<mapping>") -> LogMapping:
    """Build a :class:`LogMapping` from a parsed TOML document; raise ConfigError on bad keys."""
    known = {"format", "time", "columns", "units", "values", "state", "tech_from_columns"}
    unknown = set(doc) - known
    if unknown:
        raise ConfigError(f"{source}: unknown table(s) {sorted(unknown)}; valid: {sorted(known)}")
    fmt = doc.get("format", {})
    tm = doc.get("time", {})
    cols = doc.get("columns", {})
    if not isinstance(cols, dict) or not cols:
        raise ConfigError(f"{source}: [columns] is missing or empty; map source columns to canonical names, e.g. RSRP = \"rsrp_dbm\"")
    for src, dst in cols.items():
        if dst not in TARGETS:
            raise ConfigError(f"{source}: [columns] {src!r} = {dst!r}: unknown canonical name; valid: {', '.join(TARGETS)}")
    time_col = tm.get("column") or next((s for s, d in cols.items() if d == "time"), None)
    if not time_col:
        raise ConfigError(f"{source}: no time column; set [time] column = \"<source column>\"")
    time_fmt = str(tm.get("format", "iso8601"))
    if time_fmt not in TIME_FORMATS_SPECIAL and "%" not in time_fmt:
        raise ConfigError(f"{source}: [time] format {time_fmt!r} is neither a strftime pattern nor one of {TIME_FORMATS_SPECIAL}")
    delimiter = str(fmt.get("delimiter", ","))
    if delimiter in ("\\t", "tab"):
        delimiter = "\t"
    if len(delimiter) != 1:
        raise ConfigError(f"{source}: [format] delimiter {delimiter!r} must be one character")
    scale: dict[str, float] = {}
    offset: dict[str, float] = {}
    for dst, unit in doc.get("units", {}).items():
        if dst not in TARGETS:
            raise ConfigError(f"{source}: [units] {dst!r}: unknown canonical name; valid: {', '.join(TARGETS)}")
        if isinstance(unit, (int, float)):
            scale[dst] = float(unit)
            continue
        if dst.endswith("_dbm"):
            key = str(unit).lower()
            if key not in DBM_OFFSETS_DB:
                raise ConfigError(f"{source}: [units] {dst} = {unit!r}: unknown unit; valid: dBm, dBW, index (3GPP RSRP_nn), asu")
            if DBM_OFFSETS_DB[key]:
                offset[dst] = DBM_OFFSETS_DB[key]
            continue
        table = UNIT_FACTORS[_unit_kind(dst)]
        key = str(unit).lower()
        if key not in table:
            raise ConfigError(f"{source}: [units] {dst} = {unit!r}: unknown unit; valid: {', '.join(table)} or a number (multiplier)")
        scale[dst] = table[key]
    values = {k: {str(a): str(b) for a, b in v.items()} for k, v in doc.get("values", {}).items()}
    state = {k: _as_tuple(v, f"[state] {k}", source) for k, v in doc.get("state", {}).items()}
    bad_state = set(state) - {"connected", "idle", "download", "upload"}
    if bad_state:
        raise ConfigError(f"{source}: [state] unknown key(s) {sorted(bad_state)}; valid: connected, idle, download, upload")
    return LogMapping(
        name=str(fmt.get("name", Path(source).stem)),
        description=str(fmt.get("description", "")),
        columns={str(k): str(v) for k, v in cols.items()},
        time_column=str(time_col),
        time_format=time_fmt,
        timezone=str(tm.get("timezone", "local")),
        delimiter=delimiter,
        comment=str(fmt.get("comment", "")),
        missing=_as_tuple(fmt.get("missing", [""]), "[format] missing", source),
        detect=_as_tuple(fmt.get("detect", []), "[format] detect", source),
        scale=scale,
        offset=offset,
        declared_units=tuple(doc.get("units", {})),
        values=values,
        state=state,
        tech_from_columns={str(k): str(v) for k, v in doc.get("tech_from_columns", {}).items()},
        source=source,
    )


def load_mapping(path: str | Path) -> LogMapping:
    """Read a mapping TOML file."""
    p = Path(path)
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{p}: mapping file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: not a valid TOML mapping file: {exc}") from None
    return parse_mapping(doc, str(p))


#: Names of the ready mappings shipped in netqa/data/log_mappings/.
BUILTIN_FORMATS = ("netqa", "gnettrack", "networksurvey")


def builtin_mapping(name: str) -> LogMapping:
    """One of the ready mappings: ``netqa``, ``gnettrack`` or ``networksurvey``."""
    if name not in BUILTIN_FORMATS:
        raise ConfigError(f"unknown log format {name!r}; valid: auto, {', '.join(BUILTIN_FORMATS)} or a MAPPING.toml file")
    text = (DATA_DIR / "log_mappings" / f"{name}.toml").read_text(encoding="utf-8")
    return parse_mapping(tomllib.loads(text), f"{name}.toml")
