"""Canonical table schemas (DESIGN.md, "Canonical tables").

Column names are the contract between readers and everything after them.
Readers map any input format onto these names; writers keep them.  Missing
values are NaN (or ``<NA>`` for nullable integers and strings), never sentinels.
"""

from __future__ import annotations

#: Radio access technologies understood by netqa.
TECHS = ("GSM", "UMTS", "LTE", "NR")

#: Cells — one row per sector/cell.  name -> pandas dtype.
CELL_COLUMNS: dict[str, str] = {
    "site_id": "string",
    "cell_id": "string",
    "lat": "float64",  # WGS84 degrees
    "lon": "float64",  # WGS84 degrees
    "height_m": "float64",  # antenna above ground
    "azimuth_deg": "float64",  # from north, clockwise
    "mech_tilt_deg": "float64",  # down is positive
    "elec_tilt_deg": "float64",  # down is positive
    "tx_power_dbm": "float64",  # total per cell
    "freq_mhz": "float64",
    "bandwidth_mhz": "float64",
    "tech": "string",
}
CELL_OPTIONAL_COLUMNS: dict[str, str] = {
    "pci": "Int64",
    "earfcn": "Int64",
    "antenna": "string",  # pattern name or file
    "gain_dbi": "float64",
    "feeder_loss_db": "float64",
    "rs_power_dbm": "float64",  # per resource element; derived when absent (tx_power_dbm may then be omitted)
    "ground_m": "float64",  # site ground elevation above mean sea level; the DEM at the mast when absent
}

#: Samples — one row per measurement.
SAMPLE_COLUMNS: dict[str, str] = {
    "time": "datetime64[ns, UTC]",
    "lat": "float64",
    "lon": "float64",
    "session": "string",
    "tech": "string",
    "cell_id": "string",
    "rsrp_dbm": "float64",
    "rsrq_db": "float64",
    "sinr_db": "float64",
    "dl_mbps": "float64",
    "ul_mbps": "float64",
}
SAMPLE_OPTIONAL_COLUMNS: dict[str, str] = {
    "speed_kmh": "float64",
}

#: Events — one row per event.
EVENT_COLUMNS: dict[str, str] = {
    "time": "datetime64[ns, UTC]",
    "lat": "float64",
    "lon": "float64",
    "session": "string",
    "event": "string",
    "cell_id": "string",
    "target_cell_id": "string",
}
EVENT_TYPES = (
    "call_attempt",
    "call_setup_failure",
    "call_drop",
    "call_end",
    "ho_attempt",
    "ho_success",
    "ho_failure",
)

#: Regions — polygons.
REGION_COLUMNS: dict[str, str] = {
    "region_id": "string",
    "name": "string",
    "area_type": "string",  # urban, suburban, rural, road, ...
}
AREA_TYPES = ("dense_urban", "urban", "suburban", "rural", "road", "water", "other")

#: Complaints — user feedback points.
COMPLAINT_COLUMNS: dict[str, str] = {
    "time": "datetime64[ns, UTC]",
    "lat": "float64",
    "lon": "float64",
    "category": "string",
}
COMPLAINT_CATEGORIES = ("no_coverage", "weak_signal", "call_drop", "slow_data", "other")

#: Coverage raster bands, in order (DESIGN.md, "Coverage raster").
COVERAGE_BANDS: dict[str, str] = {
    "rsrp_dbm": "dBm",
    "best_cell": "index into the cells table",
    "sinr_db": "dB",
    "dl_mbps": "Mbit/s",
    "ul_mbps": "Mbit/s",
}

#: KPI JSON keys (DESIGN.md, "KPI JSON").
KPI_KEYS = (
    "n_samples",
    "coverage_rate",
    "coverage_rate_ci",
    "rsrp_dbm_mean",
    "rsrp_dbm_p5",
    "rsrp_dbm_p50",
    "rsrp_dbm_p95",
    "sinr_db_mean",
    "sinr_db_p5",
    "sinr_db_p50",
    "sinr_db_p95",
    "rsrq_db_mean",
    "rsrq_db_p5",
    "rsrq_db_p50",
    "rsrq_db_p95",
    "dl_mbps_mean",
    "dl_mbps_p10",
    "dl_mbps_p50",
    "dl_mbps_p90",
    "ul_mbps_mean",
    "ul_mbps_p10",
    "ul_mbps_p50",
    "ul_mbps_p90",
    "n_calls",
    "n_drops",
    "drop_rate",
    "n_ho_attempts",
    "n_ho_success",
    "ho_success_rate",
)


#: Sample filters shared by compare and calibrate (their one definition; the reasons are in
#: :mod:`netqa.compare.select`, which builds ``DEFAULT_FILTERS`` from it). Kept here, in a module without
#: imports, so that the command line can show the defaults without loading the comparison stack.
DEFAULT_FILTER_VALUES = {"min_dist_km": 0.1, "max_dist_km": 20.0, "rsrp_floor_dbm": -130.0}
