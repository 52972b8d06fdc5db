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
        choices=["none", "delta-bullington"],
        help="terrain diffraction method (default: none)",
    )
    parser.add_argument("--model-file", metavar="TUNED.toml", help="tuned model parameters from 'netqa calibrate'")
    parser.add_argument("--clutter", metavar="RASTER", help="clutter class raster (GeoTIFF)")
    parser.add_argument("--clutter-table", metavar="CSV", help="clutter class table: code,name,loss_db,height_m")
    parser.add_argument("--rx-height-m", type=float, default=1.5, help="receiver height above ground [m] (default 1.5)")
