"""``netqa link`` — the path profile of one link: terrain, Fresnel zone, obstacles and the losses of every model."""

from __future__ import annotations

from netqa.commands import FINITE, RESOLUTION_M, add_itm_flags, add_overwrite, itm_settings, number

NAME = "link"
HELP = "path profile of one link: terrain, Fresnel zone, obstacles, losses by every model (PNG/SVG + JSON)"
EXAMPLE = r"""
netqa link --cells testdata/cells.csv --cell 7936001 --dem testdata/dem.tif --to 40.50,-3.14 --out profile.png
netqa link --cells testdata/cells.csv --dem testdata/dem.tif --samples samples.parquet --sample 120 \
    --clutter testdata/clutter.tif --clutter-table testdata/clutter_classes.csv --json profile.json --out profile.svg
netqa link --site 40.48,-3.13 --height-m 30 --freq-mhz 800 --dem testdata/dem.tif --to 40.52,-3.10 --out p.png

The transmitter is one cell of a cell table (--cells and --cell) or a bare omni site (--site, --height-m,
--freq-mhz, --rs-power-dbm). The receiver is a position (--to LAT,LON) or one row of a samples file
(--samples and --sample ROW: its position, its serving cell unless --cell is given, and its measured RSRP).
Losses are computed by the engine that draws the coverage raster (points mode), so the table agrees with
netqa predict; --model and --terrain choose the settings whose RSRP is reported as 'netqa predict'.
"""


def _latlon(flag: str, text: str) -> tuple[float, float]:
    """'LAT,LON' in WGS84 degrees, checked."""
    import math

    from netqa.errors import InputError

    parts = [p.strip() for p in str(text).split(",")]
    try:
        lat, lon = (float(p) for p in parts)
    except ValueError:
        raise InputError(f"{flag} {text!r}: give LAT,LON in WGS84 degrees, e.g. {flag} 40.50,-3.14") from None
    if not (math.isfinite(lat) and math.isfinite(lon) and -90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise InputError(f"{flag} {text!r}: latitude must lie in -90..90 and longitude in -180..180 degrees")
    return lat, lon


def add_arguments(parser) -> None:
    tx = parser.add_argument_group("transmitter (a cell of a table, or a bare site)")
    tx.add_argument("--cells", metavar="CELLS", help="cell table (CSV, GeoPackage, OpenCelliD CSV)")
    tx.add_argument("--cell", metavar="CELL_ID", help="the transmitting cell (default with --sample: its serving cell)")
    tx.add_argument("--site", metavar="LAT,LON", help="a bare omni site instead of --cells/--cell (WGS84 degrees)")
    tx.add_argument("--height-m", type=FINITE, help="--site: antenna height above ground [m]")
    tx.add_argument("--freq-mhz", type=number(lo=0.0, lo_open=True, unit="MHz"), help="--site: carrier frequency [MHz]")
    tx.add_argument("--rs-power-dbm", type=FINITE, default=15.0, help="--site: RS power per resource element [dBm] (default 15)")
    tx.add_argument("--gain-dbi", type=FINITE, default=0.0, help="--site: antenna gain [dBi] (default 0)")
    rx = parser.add_argument_group("receiver (a position, or a sample of a log)")
    rx.add_argument("--to", metavar="LAT,LON", help="receiver position (WGS84 degrees)")
    rx.add_argument("--samples", metavar="SAMPLES.parquet", help="samples from 'netqa ingest'")
    rx.add_argument("--sample", type=int, metavar="ROW", help="row of --samples (0-based)")
    rx.add_argument("--rx-height-m", type=FINITE, default=1.5, help="receiver height above ground [m] (default 1.5)")
    parser.add_argument("--dem", required=True, metavar="DEM", help="digital elevation model (GeoTIFF, SRTM .hgt)")
    parser.add_argument("--clutter", metavar="RASTER", help="clutter class raster (GeoTIFF)")
    parser.add_argument("--clutter-table", metavar="CSV", help="clutter class table: code,name,loss_db,height_m")
    parser.add_argument("--model-file", metavar="TUNED.toml",
                        help="tuned model from 'netqa calibrate' (adds its SPM row and its clutter losses along the "
                             "path, when it holds them)")  # fmt: skip
    parser.add_argument("--model", default="auto",
                        choices=["auto", "hata", "cost231", "spm", "tr38901-uma", "tr38901-umi", "tr38901-rma", "fspl"],
                        help="model of the 'netqa predict' row (default auto: as netqa predict picks it for the "
                             "cell's carrier; spm with --model-file)")  # fmt: skip
    parser.add_argument("--terrain", default="delta-bullington", choices=["none", "delta-bullington", "itm"],
                        help="terrain method of the 'netqa predict' row (default delta-bullington)")  # fmt: skip
    add_itm_flags(parser)  # the ITM row's settings (always drawn)
    parser.add_argument("--k-factor", type=FINITE, default=4.0 / 3.0, help="effective earth-radius factor (default 4/3)")
    parser.add_argument("--resolution-m", type=RESOLUTION_M, default=30.0, help="profile sample spacing [m] (default 30)")
    parser.add_argument("--out", required=True, metavar="PROFILE.png", help="picture to write (.png or .svg)")
    parser.add_argument("--json", metavar="PROFILE.json", help="also write the profile and the losses as JSON")
    add_overwrite(parser)


def _receiver(args):
    """(lat, lon, serving cell or None, measured RSRP or None) from --to or --samples/--sample."""
    import math

    from netqa.errors import InputError

    if (args.to is None) == (args.samples is None):
        raise InputError("give the receiver either as --to LAT,LON or as --samples FILE --sample ROW")
    if args.to is not None:
        if args.sample is not None:
            raise InputError("--sample needs --samples; with --to it would be ignored")
        return (*_latlon("--to", args.to), None, None)
    if args.sample is None:
        raise InputError("--samples needs --sample ROW (the 0-based row of the samples file)")
    from netqa.compare.prepare import read_samples

    df = read_samples(args.samples)
    if not 0 <= args.sample < len(df):
        raise InputError(f"--sample {args.sample}: {args.samples} has rows 0..{len(df) - 1}")
    row = df.iloc[args.sample]
    lat, lon = float(row["lat"]), float(row["lon"])
    if not (math.isfinite(lat) and math.isfinite(lon)):
        raise InputError(f"--sample {args.sample}: row {args.sample} of {args.samples} has no position")
    cell = row.get("cell_id")
    rsrp = row.get("rsrp_dbm")
    cell = None if cell is None or (isinstance(cell, float) and math.isnan(cell)) else str(cell)
    rsrp = float(rsrp) if rsrp is not None and math.isfinite(float(rsrp)) else None
    return lat, lon, cell, rsrp


def run(args) -> int:
    from netqa.errors import InputError
    from netqa.link import analyse_link, site_cell_table, write_link
    from netqa.warmup import notice_if_cold

    notice_if_cold(points=True)

    lat, lon, serving, measured = _receiver(args)
    if args.site is not None:
        if args.cells is not None or args.cell is not None:
            raise InputError("--site describes the transmitter itself: give either --site or --cells/--cell, not both")
        if args.height_m is None or args.freq_mhz is None:
            raise InputError("--site needs --height-m and --freq-mhz")
        s_lat, s_lon = _latlon("--site", args.site)
        cells = site_cell_table(s_lat, s_lon, args.height_m, args.freq_mhz, rs_power_dbm=args.rs_power_dbm,
                                gain_dbi=args.gain_dbi)  # fmt: skip
        cell = "site"
    else:
        if args.cells is None:
            raise InputError("give the transmitter as --cells CELLS --cell ID, or as --site LAT,LON --height-m H --freq-mhz F")
        for flag in ("height_m", "freq_mhz"):
            if getattr(args, flag) is not None:
                raise InputError(f"--{flag.replace('_', '-')} describes a --site; the cell table gives it for --cells")
        cells = args.cells
        cell = args.cell or serving
        if cell is None:
            raise InputError("--cell ID is needed (the sample has no serving cell)")
    link = analyse_link(cells, args.dem, cell_id=cell, rx_lonlat=(lon, lat), rx_height_m=args.rx_height_m,
                        k_factor=args.k_factor, clutter=args.clutter, clutter_table=args.clutter_table,
                        model_file=args.model_file, resolution_m=args.resolution_m, model=args.model,
                        terrain=args.terrain, measured_rsrp_dbm=measured, itm=itm_settings(args))  # fmt: skip
    write_link(link, args.out, json_out=args.json, overwrite=args.overwrite)
    return 0
