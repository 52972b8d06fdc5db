"""``netqa audit`` — cells whose measurements contradict their database azimuth, tilt or sector mapping."""

from __future__ import annotations

import logging

from netqa.commands import FINITE, RESOLUTION_M, add_overwrite, number
from netqa.commands.compare import add_filter_flags, filters_from_args

NAME = "audit"
HELP = "antenna audit: fit each cell's azimuth, tilt and beamwidths from measurements and flag database errors"
DESCRIPTION = """Antenna audit. Fits, per band and per cell (shrunk toward the band), the effective azimuth and tilt
offsets and the horizontal/vertical beamwidths of a 3GPP sector pattern from the measured path loss (log-distance
SPM terms + pattern attenuation, nonlinear least squares within bounds), and writes one row per cell: status
ok | azimuth | swapped | tilt | undetermined | not_judged, the offsets with their standard errors, the bins used and
the error before/after. A JSON summary (band fits, verdict counts) is written beside the CSV."""
log = logging.getLogger("netqa")
EXAMPLE = """
netqa audit --samples testdata/district/drives/district.csv --cells testdata/district/cells.csv \\
    --dem testdata/district/dem.tif --out audit.csv
"""


def add_arguments(parser) -> None:
    parser.add_argument("--samples", required=True, metavar="SAMPLES", help="samples (netqa ingest output or canonical CSV)")
    parser.add_argument("--cells", required=True, metavar="CELLS", help="cell table (the database being audited)")
    parser.add_argument("--dem", required=True, metavar="DEM", help="digital elevation model (antenna angles in 3-D)")
    parser.add_argument("--out", required=True, metavar="AUDIT.csv", help="audit table to write (AUDIT.json beside it)")
    parser.add_argument("--html", metavar="AUDIT.html", help="also write the audit as an HTML page (the report's section)")
    parser.add_argument("--corrected-cells", metavar="CELLS.csv",
                        help="also write the cell table with the findings applied (fitted azimuth/tilt of flagged cells, "
                             "effective beamwidths hpbw_h_deg/hpbw_v_deg) for predict/compare/calibrate")
    parser.add_argument("--clutter", metavar="RASTER", help="clutter class raster (its table loss is removed first)")
    parser.add_argument("--clutter-table", metavar="CSV", help="clutter class table: code,name,loss_db,height_m")
    parser.add_argument("--rx-height-m", type=number(lo=0.5, hi=50.0, unit="m"), default=1.5, help="receiver height above ground [m] (default 1.5)")
    parser.add_argument("--resolution-m", type=RESOLUTION_M, default=10.0, help="DEM sampling for the angles [m] (default 10)")
    parser.add_argument("--bin-m", type=FINITE, default=20.0, help="bin size per serving cell [m] (default 20)")
    parser.add_argument("--min-bins", type=int, default=30, help="cells with fewer bins are not judged (default 30)")
    parser.add_argument("--azimuth-threshold-deg", type=FINITE, default=30.0,
                        help="flag an azimuth offset above this (and above 2 standard errors) [deg] (default 30)")
    parser.add_argument("--tilt-threshold-deg", type=FINITE, default=4.0,
                        help="flag a tilt offset above this (and above 5 standard errors) [deg] (default 4)")
    parser.add_argument("--min-gain-db", type=FINITE, default=1.0,
                        help="an azimuth finding must lower the cell's RMSE by this much [dB] (default 1; tilt: half)")
    # nearer and weaker samples than compare/calibrate keep: a tilt shows in the first hundred metres
    add_filter_flags(parser, min_dist_km=0.05, max_dist_km=10.0, rsrp_floor_dbm=-140.0, min_bin_samples=1,
                     bins="bins (serving cell x --bin-m squares)")  # fmt: skip
    add_overwrite(parser)


def run(args) -> int:
    from netqa.calibrate.antenna import AntennaFitConfig
    from netqa.calibrate.audit import AuditOptions, audit
    from netqa.errors import InputError
    from netqa.warmup import notice_if_cold

    notice_if_cold(points=True)

    try:
        fit = AntennaFitConfig(min_bins=args.min_bins, azimuth_threshold_deg=args.azimuth_threshold_deg,
                               tilt_threshold_deg=args.tilt_threshold_deg, min_azimuth_gain_db=args.min_gain_db,
                               min_tilt_gain_db=args.min_gain_db / 2.0)  # fmt: skip
        options = AuditOptions(resolution_m=args.resolution_m, rx_height_m=args.rx_height_m, bin_m=args.bin_m,
                               filters=filters_from_args(args), fit=fit)  # fmt: skip
    except ValueError as exc:
        raise InputError(f"audit flags: {exc}") from exc
    html_path = None
    if args.html:  # refuse an existing page before any work
        from netqa.fileio import check_output

        html_path = check_output(args.html, args.overwrite)
    table, info = audit(args.samples, args.cells, args.dem, args.out, clutter=args.clutter,
                        clutter_table=args.clutter_table, options=options, overwrite=args.overwrite,
                        corrected_cells_out=args.corrected_cells)  # fmt: skip
    if args.html:
        from netqa.calibrate.audit_report import write_audit_page

        write_audit_page(html_path, table, info)
    flagged = table[table["status"].isin(["azimuth", "swapped", "tilt"])]
    log.info("audit: %d cells: %s", len(table), ", ".join(f"{k} {v}" for k, v in info["verdicts"].items()))
    for _, r in flagged.iterrows():
        log.info("  %s (%s, %s): %s", r["cell_id"], r["site_id"], r["band"], r["finding"])
    if "note" in info:
        log.info("audit: %s", info["note"])
    return 0
