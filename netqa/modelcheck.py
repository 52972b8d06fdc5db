"""Model choices that would silently change results: checked in one place for predict, compare and calibrate.

* ``--model auto`` (the command-line and project default) picks a model whose
  published frequency range holds every cell's carrier (:func:`auto_model`).
* An explicit model outside its range for some cells is a loud warning naming
  the bands and the range (:func:`warn_out_of_range`); the formula is extrapolated.
* ``--model-file`` (a tuned SPM) with a model other than ``spm`` is an error
  (:func:`check_model_file_flags`): the file would be ignored or silently
  replace the model.
* A tuned model fitted with clutter, used without a clutter raster, is an error
  (:func:`check_tuned_clutter`): its K1 was fitted with the clutter losses taken
  out, so without them every prediction is too strong by the class losses.

Frequency ranges [MHz]: Okumura-Hata 150-1500 (Hata 1980; COST 231 Final Report
§4.4.1); COST-231 Hata 1500-2000 (COST 231 Final Report, EUR 18957, §4.4.2);
3GPP TR 38.901 V17.0.0 Table 7.4.1-1: UMa and UMi 500-100 000, RMa 500-30 000;
SPM: no published range, 150-3500 checked (netqa's tests; a tuned set holds where
it was fitted); free space: any.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import numpy as np

from netqa.errors import InputError

log = logging.getLogger(__name__)

#: Frequency validity range of each model. [MHz]
FREQ_RANGE_MHZ = {
    "hata": (150.0, 1500.0),
    "cost231": (1500.0, 2000.0),
    "spm": (150.0, 3500.0),
    "tr38901-uma": (500.0, 100_000.0),
    "tr38901-umi": (500.0, 100_000.0),
    "tr38901-rma": (500.0, 30_000.0),
    "fspl": (0.0, float("inf")),
}
AUTO = "auto"


def auto_model(freqs_mhz: Iterable[float]) -> str:
    """The default model for cells on these carriers: the first whose range holds all of them.

    Okumura-Hata when every carrier is at most 1500 MHz; COST-231 Hata when every
    carrier lies in 1500-2000 MHz; else 3GPP TR 38.901 UMa (macro cells, 0.5-100 GHz),
    the one empirical model here whose range spans a multi-band network (800/1800/2600/
    3500 MHz).  A carrier below 500 MHz in such a mix leaves no model in range: Hata
    (the closest for sub-GHz macro cells) with a warning.

    Parameters
    ----------
    freqs_mhz : iterable of float
        The cells' carrier frequencies. [MHz]

    Returns
    -------
    str
        A model name of ``netqa predict --model``.

    Examples
    --------
    >>> auto_model([806.0, 925.0]), auto_model([1815.0, 1960.0]), auto_model([806.0, 1815.0, 3500.0])
    ('hata', 'cost231', 'tr38901-uma')
    """
    f = np.asarray(list(freqs_mhz), dtype=np.float64)
    f = f[np.isfinite(f)]
    if f.size == 0:
        return "hata"
    for name in ("hata", "cost231", "tr38901-uma"):
        lo, hi = FREQ_RANGE_MHZ[name]
        if f.min() >= lo and f.max() <= hi:
            return name
    return "hata"


def resolve_model(model: str | None, freqs_mhz: Iterable[float], *, what: str = "predict",
                  terrain: str | None = None) -> str:
    """``model``, or for ``auto``/None the :func:`auto_model` of the carriers (logged); then the range warning.

    Parameters
    ----------
    model : str or None
        A model name, ``"auto"`` or None (auto).
    freqs_mhz : iterable of float
        The cells' carriers. [MHz]
    what : str
        The command, for the messages.
    terrain : str, optional
        The run's terrain method: TR 38.901 with ``itm`` is warned (its LOS/NLOS switch needs an obstruction test).

    Returns
    -------
    str
        The concrete model.
    """
    freqs = np.asarray(list(freqs_mhz), dtype=np.float64)
    if model in (None, AUTO):
        model = auto_model(freqs)
        bands = ", ".join(f"{f:g}" for f in np.unique(freqs[np.isfinite(freqs)]))
        lo, hi = FREQ_RANGE_MHZ[model]
        log.info("%s: model auto -> %s (carriers %s MHz; its range %g-%g MHz)", what, model, bands, lo, hi)
    warn_out_of_range(model, freqs, what=what)
    if model.startswith("tr38901") and terrain == "itm":
        log.warning(
            "%s: WARNING: model %s with --terrain itm: TR 38.901 switches between its LOS and NLOS formulas on the "
            "sign of the terrain term, and ITM's term is no obstruction test (it holds ITM's ground reflection and "
            "its time/location/situation quantiles), so LOS and NLOS flip with those settings (on the test world a "
            "situation of 60 %% instead of 50 %% moved the mean by 19 dB); use --terrain delta-bullington with TR "
            "38.901, or --model fspl/hata/cost231 with ITM", what, model)  # fmt: skip
    return model


def warn_out_of_range(model: str, freqs_mhz: Iterable[float], *, what: str = "predict") -> list[float]:
    """Warn (logging WARNING, shown without ``--verbose``) when carriers lie outside the model's range.

    Returns
    -------
    list of float
        The carriers outside the range. [MHz]
    """
    rng = FREQ_RANGE_MHZ.get(model)
    if rng is None:
        return []
    f = np.unique(np.asarray(list(freqs_mhz), dtype=np.float64))
    f = f[np.isfinite(f)]
    lo, hi = rng
    bad = [float(x) for x in f if not (lo <= x <= hi)]
    if bad:
        log.warning("%s: WARNING: model %s holds %g-%g MHz but cells transmit on %s MHz: its formula is "
                    "extrapolated there (expect errors of several dB); choose --model auto, cost231, "
                    "tr38901-uma or a tuned spm", what, model, lo, hi, ", ".join(f"{x:g}" for x in bad))  # fmt: skip
    return bad


def check_model_file_flags(model: str | None, model_file, *, flag: str = "--model") -> None:
    """Refuse a tuned model file with a model other than the SPM (or ``auto``, which would not use it)."""
    if model_file and model != "spm":
        raise InputError(f"--model-file {model_file} holds a tuned SPM but {flag} is {model or AUTO!r}: "
                         "add --model spm to use it, or drop --model-file")  # fmt: skip


def fitted_with_clutter(tuned) -> bool:
    """True when a tuned model (:class:`netqa.calibrate.modelfile.TunedModel`) holds tuned clutter losses."""
    if getattr(tuned, "clutter_loss_db", None):
        return True
    return any(getattr(b, "clutter_loss_db", None) for b in getattr(tuned, "bands", {}).values())


def check_tuned_clutter(tuned, model_file, clutter) -> None:
    """Refuse a tuned model fitted with clutter when no clutter raster is given.

    The calibration fitted K1 with each sample's clutter loss taken out; predicting
    without the clutter raster leaves those losses out and every urban pixel comes
    out too strong by its class loss (the README's worked example: RMSE 9.3 dB
    instead of 6.4 dB).
    """
    if tuned is not None and clutter is None and fitted_with_clutter(tuned):
        raise InputError(f"--model-file {model_file} was fitted with clutter losses but no --clutter raster is "
                         "given: add --clutter RASTER --clutter-table CSV (the ones used by netqa calibrate), "
                         "or calibrate without clutter")  # fmt: skip


def check_tuned_cells(tuned, cells, model_file) -> list[str]:
    """Warn (loudly, one line each) where a tuned model file does not fit the cell table it is applied to.

    * cells on a band the file has no ``[band.KEY]`` section for, while it has band sections: they take the
      global ``[spm]`` (a model file from another network or band would otherwise apply silently);
    * ``[cells.ID]`` entries whose id is not in the cell table: their K1/K2 are not used.

    Parameters
    ----------
    tuned : netqa.io.modelfile.TunedModel
        The parsed file.
    cells : pandas.DataFrame
        The whole cell table (``cell_id``, ``tech``, ``freq_mhz``).
    model_file : path
        For the messages.

    Returns
    -------
    list of str
        The band keys of the cells without a band section.
    """
    from netqa.io.modelfile import band_key

    tech = cells["tech"].astype(str).tolist() if "tech" in cells.columns else ["LTE"] * len(cells)
    freq = np.asarray(cells["freq_mhz"], dtype=np.float64) if "freq_mhz" in cells.columns else np.full(len(cells), np.nan)
    keys = sorted({band_key(t, f) for t, f in zip(tech, freq) if np.isfinite(f)})
    missing = [k for k in keys if k not in tuned.bands] if tuned.bands else []
    if missing:
        log.warning("--model-file %s: WARNING: no [band.KEY] section for the cells on %s (the file has %s): they take "
                    "the global [spm]; a model file tuned on other bands or another network predicts them with "
                    "coefficients fitted elsewhere", model_file, ", ".join(missing), ", ".join(sorted(tuned.bands)))  # fmt: skip
    ids = set(cells["cell_id"].astype(str)) if "cell_id" in cells.columns else set()
    unknown = sorted(c for c in tuned.per_cell if c not in ids)
    if unknown:
        log.warning("--model-file %s: WARNING: %d of its %d [cells.ID] entries are not among the cells of the table "
                    "(e.g. %s): their own K1/K2 are not used", model_file, len(unknown), len(tuned.per_cell),
                    ", ".join(unknown[:3]))  # fmt: skip
    return missing


def check_tuned_terrain(tuned, model_file, *, terrain: str, surface=None, itm=()) -> bool:
    """Warn when a tuned model is applied with another terrain method, or with/without a surface, than it was
    calibrated with (its ``[calibration.provenance]``): K4 weighs one method's obstruction loss and K1 absorbed the
    rest, so another method shifts every obstructed prediction.  Returns True when it warned."""
    prov = (getattr(tuned, "calibration", None) or {}).get("provenance") or {}
    warned = False
    fitted = prov.get("terrain")
    if fitted and fitted != terrain:
        log.warning("--model-file %s: WARNING: calibrated with --terrain %s, applied with --terrain %s: its K4 (weight "
                    "of the obstruction loss) and K1 were fitted to the other method's losses; use --terrain %s or "
                    "recalibrate", model_file, fitted, terrain, fitted)  # fmt: skip
        warned = True
    if prov and ("surface" in prov) != (surface is not None):
        log.warning("--model-file %s: WARNING: calibrated %s --surface, applied %s one: the buildings' obstruction "
                    "loss is %s K1/K4's fit", model_file, "with" if "surface" in prov else "without",
                    "without" if surface is None else "with", "missing from" if surface is None else "added on top of")  # fmt: skip
        warned = True
    if terrain == "itm" and fitted == "itm" and dict(prov.get("itm") or {}) != dict(itm):
        log.warning("--model-file %s: WARNING: calibrated with the Longley-Rice settings %s, applied with %s: K1 and "
                    "K4 absorbed the other settings' losses; give the same --itm-* flags or recalibrate", model_file,
                    dict(prov.get("itm") or {}) or "defaults", dict(itm) or "defaults")  # fmt: skip
        warned = True
    return warned
