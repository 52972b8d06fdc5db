"""One module per ``netqa`` subcommand (see :mod:`netqa.cli`)."""

from __future__ import annotations

from netqa.errors import NotBuiltError


def not_built(command: str, issue: int) -> int:
    """Raise :class:`NotBuiltError` for a command whose issue has not landed yet."""
    raise NotBuiltError(f"'netqa {command}' is not built yet (tracked in issue #{issue}); nothing was written")


def add_overwrite(parser) -> None:
    parser.add_argument("--overwrite", action="store_true", help="replace existing outputs")


def add_model_flags(parser) -> None:
    """The propagation-model flags shared by predict, compare and calibrate."""
    parser.add_argument(
        "--model",
        default="hata",
        choices=["hata", "cost231", "spm", "tr38901-uma", "tr38901-umi", "tr38901-rma", "fspl"],
        help="path-loss model (default: hata; cost231 above 1500 MHz)",
    )
    parser.add_argument(
        "--terrain",
        default="none",
        choices=["none", "delta-bullington", "itm"],
        help="terrain method (default: none): delta-bullington diffraction, or itm (Longley-Rice attenuation "
        "relative to free space; with --model fspl the plain ITM prediction)",
    )
    parser.add_argument("--model-file", metavar="TUNED.toml", help="tuned model parameters from 'netqa calibrate'")
    parser.add_argument("--clutter", metavar="RASTER", help="clutter class raster (GeoTIFF)")
    parser.add_argument("--clutter-table", metavar="CSV", help="clutter class table: code,name,loss_db,height_m")
    parser.add_argument("--rx-height-m", type=float, default=1.5, help="receiver height above ground [m] (default 1.5)")


def add_clutter_model_flags(parser) -> None:
    """--clutter-model, --location-pct, --street-width-m: how clutter classes become losses (predict, compare)."""
    parser.add_argument("--clutter-model", default="table", choices=["table", "p2108", "p2108-statistical"],
                        help="how clutter classes become losses (needs --clutter/--clutter-table; default table; "
                             "see below)")  # fmt: skip
    parser.add_argument("--location-pct", type=float, default=50.0,
                        help="p2108-statistical: percentage of locations, 0 < p < 100 (default 50, the median)")
    parser.add_argument("--street-width-m", type=float, default=27.0,
                        help="p2108: street width w_s [m] (default 27, the Recommendation's)")


def add_dask_flags(parser) -> None:
    """--scheduler and --workers of the batch commands that run on Dask (score, predict)."""
    parser.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786")
    parser.add_argument("--workers", type=int, default=1, metavar="N",
                        help="local Dask worker processes (default 1: in this process)")


def check_workers(args) -> None:
    """Refuse ``--workers`` below 1 (one line, exit 2)."""
    from netqa.errors import InputError

    if args.workers < 1:
        raise InputError(f"--workers {args.workers}: must be >= 1")
