"""One module per ``netqa`` subcommand (see :mod:`netqa.cli`), and the flags several commands share.

One name per concept across commands: the measured samples are ``--samples``
(``netqa kpi SAMPLES`` keeps its positional form as a shorthand), the coverage
raster is ``--coverage`` (``netqa map COVERAGE.tif`` likewise), the smallest
bin is ``--min-bin-samples`` and the SPM effective-height convention is
``--h-eff ground|relative`` (the model file's ``h_eff_method`` values).  Older
spellings stay accepted for a deprecation period through :class:`DeprecatedFlag`
/ :func:`add_deprecated_alias`, with a warning naming the canonical one.
"""

from __future__ import annotations

import argparse
import logging
import math

from netqa.errors import NotBuiltError

log = logging.getLogger("netqa.commands")


class DeprecatedFlag(argparse.Action):
    """Store the value under the canonical flag's ``dest`` and warn that the spelling is deprecated.

    ``canonical`` names the flag to use instead; ``values_map`` translates
    deprecated *values* as well (e.g. ``--h-eff site`` -> ``ground``).
    """

    def __init__(self, option_strings, dest, canonical: str, values_map: dict | None = None, **kwargs):
        self.canonical = canonical
        self.values_map = values_map or {}
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        log.warning("%s: %s is deprecated; use %s", parser.prog, option_string, self.canonical)
        setattr(namespace, self.dest, self.values_map.get(values, values))


def add_deprecated_alias(parser, old: str, new: str, *, dest: str, **kwargs) -> None:
    """Accept ``old`` as a deprecated spelling of flag ``new`` (same ``dest``), with a warning when used."""
    parser.add_argument(old, dest=dest, action=DeprecatedFlag, canonical=new, default=argparse.SUPPRESS,
                        help=f"deprecated spelling of {new}", **kwargs)


class DeprecatedChoice(argparse.Action):
    """A flag whose older *values* map onto canonical ones, with a warning naming the canonical value."""

    def __init__(self, option_strings, dest, values_map: dict, **kwargs):
        self.values_map = values_map
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        if values in self.values_map:
            new = self.values_map[values]
            log.warning("%s: %s %s is deprecated; use %s %s", parser.prog, option_string, values, option_string, new)
            values = new
        setattr(namespace, self.dest, values)


def add_samples_flag(parser, *, positional: bool = False, required: bool = True, help: str = "samples from netqa ingest") -> None:
    """``--samples SAMPLES`` (and, with ``positional``, the older positional ``SAMPLES`` as a shorthand)."""
    if positional:
        parser.add_argument("samples_pos", nargs="?", metavar="SAMPLES", help=f"{help} (same as --samples)")
        parser.add_argument("--samples", metavar="SAMPLES", help=help)
    else:
        parser.add_argument("--samples", required=required, metavar="SAMPLES", help=help)


def resolve_positional(args, name: str, flag: str) -> None:
    """Merge ``NAME_pos`` (positional shorthand) into ``args.NAME``; exactly one of them must be given."""
    from netqa.errors import InputError

    pos = getattr(args, f"{name}_pos", None)
    val = getattr(args, name, None)
    if pos is not None and val is not None and pos != val:
        raise InputError(f"{flag} given twice ({pos!r} and {val!r}); give it once")
    if pos is None and val is None:
        raise InputError(f"{flag} is required (or give it as the first argument)")
    setattr(args, name, val if val is not None else pos)


def number(*, lo: float | None = None, hi: float | None = None, lo_open: bool = False, hi_open: bool = False,
           integer: bool = False, unit: str = "", allow_inf: bool = False):
    """An argparse ``type=`` that refuses NaN, infinities and values outside ``lo``..``hi``.

    argparse puts the flag in front of the message (``argument --bin-m: ...``), and the
    CLI prints it as one line with exit 2.

    Parameters
    ----------
    lo, hi : float, optional
        Bounds (inclusive unless ``lo_open``/``hi_open``).
    integer : bool
        Accept only whole numbers (``"3"``; ``"2.5"`` and ``"1e3"`` are refused).
    unit : str
        Shown after the range in the message.
    allow_inf : bool
        Accept ``inf`` (a "no limit" value), still refusing NaN and ``-inf``.

    Returns
    -------
    callable
        ``str -> int | float``.
    """
    lo_sym, hi_sym = (">" if lo_open else ">="), ("<" if hi_open else "<=")
    limits = " and ".join(x for x in (lo is not None and f"{lo_sym} {lo:g}", hi is not None and f"{hi_sym} {hi:g}") if x)
    want = ("a whole number" if integer else "a finite number") + (f" {limits}" if limits else "") + (f" [{unit}]" if unit else "")

    def parse(text: str):
        try:
            value = int(text) if integer else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {want}") from None
        if math.isnan(value) or (math.isinf(value) and not (allow_inf and value > 0)):
            raise argparse.ArgumentTypeError(f"{text!r} is not {want}")
        if lo is not None and (value <= lo if lo_open else value < lo):
            raise argparse.ArgumentTypeError(f"{text!r} is not {want}")
        if hi is not None and (value >= hi if hi_open else value > hi):
            raise argparse.ArgumentTypeError(f"{text!r} is not {want}")
        return value

    parse.__name__ = "integer" if integer else "number"  # argparse names the type in some messages
    return parse


def time_zone(text: str) -> str:
    """An argparse ``type=`` for ``--tz``: an IANA zone name (``Europe/Dublin``, ``UTC``), else one line, exit 2."""
    from netqa.config import _check_tz
    from netqa.errors import ConfigError

    try:
        _check_tz(text, "--tz")
    except ConfigError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a known time zone; use an IANA name such as "
                                         "Europe/Dublin or UTC") from None  # fmt: skip
    return text


#: Common flag types: a positive length/time, a count of at least one, any finite value.
POSITIVE = number(lo=0.0, lo_open=True)
NON_NEGATIVE = number(lo=0.0)
FINITE = number()
COUNT = number(lo=1, integer=True)
#: A grid or profile spacing [m]: positive and at most 10 km (a coarser grid holds no useful detail, and a huge
#: value would only fail later as "no sample inside the DEM").
RESOLUTION_M = number(lo=0.0, lo_open=True, hi=10_000.0, unit="m")


def not_built(command: str, issue: int) -> int:
    """Raise :class:`NotBuiltError` for a command whose issue has not landed yet."""
    raise NotBuiltError(f"'netqa {command}' is not built yet (tracked in issue #{issue}); nothing was written")


def add_overwrite(parser) -> None:
    parser.add_argument("--overwrite", action="store_true", help="replace existing outputs")


def add_model_flags(parser) -> None:
    """The propagation-model flags shared by predict, compare and calibrate."""
    parser.add_argument(
        "--model",
        default="auto",
        choices=["auto", "hata", "cost231", "spm", "tr38901-uma", "tr38901-umi", "tr38901-rma", "fspl"],
        help="path-loss model (default auto: hata when every carrier is <= 1500 MHz, cost231 when all lie in "
             "1500-2000 MHz, else tr38901-uma; a model outside its frequency range is a warning; "
             "--model-file needs --model spm)",
    )
    parser.add_argument(
        "--terrain",
        default="none",
        choices=["none", "delta-bullington", "itm"],
        help="terrain method (default: none): delta-bullington diffraction, or itm (Longley-Rice attenuation "
        "relative to free space; with --model fspl the plain ITM prediction)",
    )
    parser.add_argument("--model-file", metavar="TUNED.toml", help="tuned model parameters from 'netqa calibrate'")
    add_itm_flags(parser)
    parser.add_argument("--clutter", metavar="RASTER", help="clutter class raster (GeoTIFF)")
    parser.add_argument("--clutter-table", metavar="CSV", help="clutter class table: code,name,loss_db,height_m")
    parser.add_argument("--rx-height-m", type=number(lo=0.5, hi=50.0, unit="m"), default=1.5, help="receiver height above ground [m] (default 1.5)")


def add_clutter_model_flags(parser) -> None:
    """--clutter-model, --location-pct, --street-width-m: how clutter classes become losses (predict, compare)."""
    parser.add_argument("--clutter-model", default="table", choices=["table", "p2108", "p2108-statistical"],
                        help="how clutter classes become losses (needs --clutter/--clutter-table; default table; "
                             "see below)")  # fmt: skip
    parser.add_argument("--location-pct", type=number(lo=0.0, hi=100.0, lo_open=True, hi_open=True, unit="%"), default=50.0,
                        help="p2108-statistical: percentage of locations, 0 < p < 100 (default 50, the median)")
    parser.add_argument("--street-width-m", type=number(lo=1.0, hi=1000.0, unit="m"), default=27.0,
                        help="p2108: street width w_s [m] (default 27, the Recommendation's)")


def add_dask_flags(parser) -> None:
    """--scheduler and --workers of the batch commands that run on Dask (score, predict)."""
    parser.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786")
    parser.add_argument("--workers", type=COUNT, default=1, metavar="N",
                        help="local Dask worker processes (default 1: in this process)")


def check_workers(args) -> None:
    """Refuse ``--workers`` below 1 (one line, exit 2)."""
    from netqa.errors import InputError

    if args.workers < 1:
        raise InputError(f"--workers {args.workers}: must be >= 1")


def add_itm_flags(parser) -> None:
    """Longley-Rice settings of ``--terrain itm`` (defaults: the NTIA model's, median time, location and situation)."""
    g = parser.add_argument_group("Longley-Rice (--terrain itm)")
    g.add_argument("--itm-climate", type=number(lo=1, hi=7, integer=True), default=None, metavar="1..7",
                   help="radio climate: 1 equatorial, 2 continental subtropical, 3 maritime subtropical, 4 desert, "
                        "5 continental temperate (default), 6 maritime temperate over land, 7 maritime over sea")
    g.add_argument("--itm-n0", type=number(lo=250, hi=400, unit="N-units"), default=None, metavar="N",
                   help="surface refractivity at sea level (default 301)")
    g.add_argument("--itm-permittivity", type=number(lo=1, hi=100), default=None, metavar="EPS",
                   help="relative permittivity of the ground (default 15: average ground)")
    g.add_argument("--itm-conductivity", type=number(lo=0, hi=100, lo_open=True, unit="S/m"), default=None,
                   metavar="S_PER_M", help="ground conductivity (default 0.005: average ground)")
    g.add_argument("--itm-mdvar", type=number(lo=0, hi=33, integer=True), default=None, metavar="MODE",
                   help="mode of variability: 0 single message, 1 accidental, 2 mobile, 3 broadcast; +10 location "
                        "variability eliminated, +20 direct situation variability eliminated (default 12)")
    for key, what in (("time", "time"), ("location", "locations"), ("situation", "situations")):
        g.add_argument(f"--itm-{key}-pct", type=number(lo=0, hi=100, lo_open=True, hi_open=True, unit="%"),
                       default=None, metavar="PCT", help=f"percentage of {what} of the loss quantile (default 50: "
                                                         "the median; 90 gives the loss exceeded 10 %% of the time)"
                       if key == "time" else f"percentage of {what} (default 50)" + (
                           "; needs a mode of variability without +10, e.g. --itm-mdvar 2" if key == "location" else ""))  # fmt: skip
    g.add_argument("--polarization", choices=["horizontal", "vertical"], default=None,
                   help="polarisation of the ground reflection in ITM and delta-Bullington (default horizontal)")


def itm_settings(args, terrain: str | None = None) -> tuple:
    """``EngineConfig`` keyword pairs of the ITM flags given, checked by the engine; an InputError (exit 2) when
    they would be ignored (``terrain`` not ``itm``; ``--polarization`` also counts with ``delta-bullington``)
    or when the model refuses a value.  ``terrain=None``: always used (``netqa link``'s ITM row)."""
    from netqa.errors import InputError
    from netqa.predict.config import ITM_KEYS

    given = [(flag, field, getattr(args, flag)) for flag, field in ITM_KEYS.items() if getattr(args, flag, None) is not None]
    if not given:
        return ()
    if terrain is not None:
        used = {"itm"} | ({"delta-bullington"} if [f for f, _, _ in given] == ["polarization"] else set())
        if terrain not in used:
            flags = ", ".join("--" + f.replace("_", "-") for f, _, _ in given)
            if [f for f, _, _ in given] == ["polarization"]:
                raise InputError(f"--polarization is only used by a terrain method (here --terrain {terrain}); add "
                                 "--terrain itm or delta-bullington, or drop it")  # fmt: skip
            raise InputError(f"{flags}: Longley-Rice settings are only used with --terrain itm (here --terrain "
                             f"{terrain}); add --terrain itm or drop them")  # fmt: skip
    pairs = tuple((field, value) for _, field, value in given)
    mdvar = dict(pairs).get("itm_mdvar", 12)
    if "itm_location_pct" in dict(pairs) and (mdvar % 100) // 10 in (1, 3):
        raise InputError(f"--itm-location-pct has no effect with mode of variability {mdvar} (+10: location "
                         "variability eliminated, as in the default 12); give --itm-mdvar 2 (mobile with location "
                         "variability) or drop it")  # fmt: skip
    from propagation.engine import EngineConfig

    try:
        EngineConfig(terrain="itm", **dict(pairs))
    except ValueError as exc:
        raise InputError(f"Longley-Rice flags: {exc}") from None
    return pairs
