"""``netqa calibrate`` — fit the Standard Propagation Model to measurements."""

from __future__ import annotations

from netqa.commands import DeprecatedChoice, add_model_flags, add_overwrite, itm_settings
from netqa.commands.compare import add_filter_flags, add_selection_flags, filters_from_args, selection_from_args

NAME = "calibrate"
HELP = "fit the Standard Propagation Model to measurements"
EXAMPLE = """
netqa calibrate --samples samples.parquet --cells testdata/cells.csv --dem testdata/dem.tif --out tuned.toml
netqa calibrate --samples samples.parquet --cells cells.csv --dem dem.tif --terrain delta-bullington \\
    --h-eff ground --sites @train_sites.txt --cv-group site --out tuned.toml      # then: netqa compare ... --exclude-sites @train_sites.txt
netqa calibrate --samples samples.parquet --cells cells.csv --dem dem.tif --learned-correction --out tuned.toml
    # + tuned.learned.txt when the site-held-out RMSE drops by >= 0.1 dB (pip install 'netqa[learned]')

The fit holds every coefficient within its physical range (K2 effective slope 20..70 dB/decade, K3 -30..0,
K4 0..1.2, K5 -10..0, K6 -5..0, K7 -15..0) and says so in [calibration] refused and a warning; per-cell K1/K2
are shrunk toward the band (empirical Bayes); the held-out RMSE, bias and r are printed, with a warning when
r < 0.3, |bias| > 3 dB or the tuned model is no better than the prior.

Clutter along the path (SPM clutter weighting): --path-clutter near|whole|both tries per-class losses weighted by
each class's share of the last --path-clutter-near-m metres (300) and/or of the whole path, kept only when the
site-grouped held-out error drops (near losses and receiver-clutter offsets are alternatives, never both);
netqa compare (points), netqa predict (rasters) and netqa link apply them from the model file:
netqa calibrate --samples s.parquet --cells cells.csv --dem dem.tif --clutter clutter.tif \
    --clutter-table classes.csv --path-clutter both --out tuned.toml     # then: netqa compare --model-file tuned.toml
"""


def add_arguments(parser) -> None:
    parser.add_argument("--samples", required=True, metavar="SAMPLES", help="samples from netqa ingest")
    parser.add_argument("--cells", required=True, metavar="CELLS", help="cell table")
    parser.add_argument("--dem", required=True, metavar="DEM", help="digital elevation model")
    parser.add_argument("--out", required=True, metavar="TUNED.toml", help="tuned model file to write")
    parser.add_argument("--surface", metavar="RASTER",
                        help="building/obstacle heights above ground [m] (surface model minus DEM): terrain diffraction "
                             "runs over ground + obstacles; antennas and receivers keep their heights above ground")
    add_model_flags(parser)
    parser.set_defaults(model="spm")  # calibrate fits the SPM; any other --model is refused
    for action in parser._actions:  # the shared flag's help describes predict's auto default
        if action.dest == "model":
            action.help = "calibrate always fits the SPM: spm (the default); any other model is refused"
        if action.dest == "model_file":
            action.help = "prior tuned model (TOML from an earlier 'netqa calibrate'): its coefficients start the fit"
    add_filter_flags(parser, min_bin_samples=1, bins="samples in fit bins (serving cell x 50 m squares)")
    add_selection_flags(parser)
    parser.add_argument("--cv-group", choices=["site", "session", "cell"], default="site",
                        help="cross-validation folds: site (default; all co-sited cells together), session or cell")
    parser.add_argument("--h-eff", choices=["ground", "relative", "site", "terrain"], default="relative",
                        action=DeprecatedChoice, values_map={"site": "ground", "terrain": "relative"},
                        help="SPM effective antenna height, named as the model file's h_eff_method: relative "
                             "(default; mast top above the receiver's ground, as the engine) or ground (antenna "
                             "height above ground at the site); the older values terrain and site are deprecated "
                             "spellings of relative and ground")
    parser.add_argument("--fit-pattern-weight", action="store_true",
                        help="also fit, per band, how much of the assumed antenna pattern's attenuation applies "
                             "(kept only when the held-out error drops; written as pattern_weight)")
    parser.add_argument("--path-clutter", choices=["none", "near", "whole", "both"], default="none",
                        help="also try per-class clutter losses weighted by each class's share of the path: near (the "
                             "last --path-clutter-near-m metres), whole (the whole path) or both; each kept only when "
                             "the held-out error drops (needs --clutter; applied by compare, refused by predict)")
    parser.add_argument("--path-clutter-near-m", type=float, default=None, metavar="M",
                        help="length of the near stretch before the receiver for --path-clutter near/both [m] "
                             "(default 300)")
    parser.add_argument("--learned-correction", action="store_true",
                        help="also fit a gradient-boosted correction of the calibrated SPM's residual on physical "
                             "features (distance, antenna angles, heights, obstruction, clutter along the path); "
                             "kept only when site-grouped cross-validation lowers the held-out RMSE by >= 0.1 dB; "
                             "written as a sidecar beside the TOML (needs pip install 'netqa[learned]')")
    add_overwrite(parser)


def run(args) -> int:
    import math
    from pathlib import Path

    from netqa.timings import phase

    with phase("imports"):  # numpy, pandas, rasterio, numba (and its one-off set-up): what a run must load
        from netqa.calibrate.run import CalibrateOptions, calibrate
    from netqa.errors import ConfigError, InputError
    from netqa.warmup import notice_if_cold

    notice_if_cold(points=True)

    if args.model != "spm":
        raise InputError(f"--model {args.model}: netqa calibrate always fits the SPM (Standard Propagation Model); "
                         "drop --model or give --model spm")  # fmt: skip

    near_m = args.path_clutter_near_m
    if near_m is not None and args.path_clutter not in ("near", "both"):  # would be ignored
        raise ConfigError(f"--path-clutter-near-m {near_m:g} applies only with --path-clutter near or both "
                          f"(--path-clutter is {args.path_clutter}); add one or drop --path-clutter-near-m")  # fmt: skip
    near_m = 300.0 if near_m is None else near_m
    if not (math.isfinite(near_m) and near_m > 0):
        raise ConfigError(f"--path-clutter-near-m {near_m!r}: must be a distance > 0 m")
    options = CalibrateOptions(terrain=args.terrain, rx_height_m=args.rx_height_m,
                               model_file=Path(args.model_file) if args.model_file else None, h_eff=args.h_eff,
                               filters=filters_from_args(args), resolution_m=args.resolution_m,
                               selection=selection_from_args(args), cv_group=args.cv_group,
                               pattern_weight=args.fit_pattern_weight, path_clutter=args.path_clutter,
                               path_clutter_near_m=near_m,
                               learned_correction=args.learned_correction,
                               itm=itm_settings(args, args.terrain))  # fmt: skip
    calibrate(args.samples, args.cells, args.dem, args.out, clutter=args.clutter, clutter_table=args.clutter_table,
              surface=args.surface,
              options=options, overwrite=args.overwrite)
    return 0
