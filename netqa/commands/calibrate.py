"""``netqa calibrate`` — fit the Standard Propagation Model to measurements."""

from __future__ import annotations

from netqa.commands import add_model_flags, add_overwrite
from netqa.commands.compare import add_filter_flags, filters_from_args

NAME = "calibrate"
HELP = "fit the Standard Propagation Model to measurements"
EXAMPLE = """
netqa calibrate --samples samples.parquet --cells testdata/cells.csv --dem testdata/dem.tif --out tuned.toml
"""


def add_arguments(parser) -> None:
    parser.add_argument("--samples", required=True, metavar="SAMPLES", help="samples from netqa ingest")
    parser.add_argument("--cells", required=True, metavar="CELLS", help="cell table")
    parser.add_argument("--dem", required=True, metavar="DEM", help="digital elevation model")
    parser.add_argument("--out", required=True, metavar="TUNED.toml", help="tuned model file to write")
    add_model_flags(parser)
    parser.set_defaults(model="spm")  # calibrate fits the SPM; any other --model is refused
    for action in parser._actions:  # the shared flag's help describes predict's auto default
        if action.dest == "model":
            action.help = "calibrate always fits the SPM: spm (the default); any other model is refused"
        if action.dest == "model_file":
            action.help = "prior tuned model (TOML from an earlier 'netqa calibrate'): its coefficients start the fit"
    add_filter_flags(parser, min_dist_km=0.1, max_dist_km=20.0, rsrp_floor_dbm=-140.0, min_bin_samples=1,
                     bins="samples in fit bins (serving cell x 50 m squares)")  # fmt: skip
    parser.add_argument("--h-eff", choices=["terrain", "site"], default="terrain",
                        help="effective antenna height: terrain (engine: mast top above the receiver's ground) "
                             "or site (antenna height above ground at the site)")
    add_overwrite(parser)


def run(args) -> int:
    from pathlib import Path

    from netqa.calibrate.run import CalibrateOptions, calibrate
    from netqa.errors import InputError

    if args.model != "spm":
        raise InputError(f"--model {args.model}: netqa calibrate always fits the SPM (Standard Propagation Model); "
                         "drop --model or give --model spm")  # fmt: skip

    options = CalibrateOptions(terrain=args.terrain, rx_height_m=args.rx_height_m,
                               model_file=Path(args.model_file) if args.model_file else None, h_eff=args.h_eff,
                               filters=filters_from_args(args))  # fmt: skip
    calibrate(args.samples, args.cells, args.dem, args.out, clutter=args.clutter, clutter_table=args.clutter_table,
              options=options, overwrite=args.overwrite)
    return 0
