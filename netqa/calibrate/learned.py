r"""Learned correction (opt-in): gradient boosting on the calibrated physics' residual, kept only when it helps.

The tuned SPM leaves a residual that is not random: antenna patterns unlike
the assumed one, street canyons, obstruction the terrain method misjudges.
A gradient-boosted regression tree model :math:`g` of the residual

.. math:: r = L_{meas} - L_{SPM} \quad [dB] \qquad (\text{= predicted minus measured RSRP})

on the physical features of :mod:`netqa.calibrate.features` (distance,
angles off boresight and off the tilt, effective height, obstruction, clutter
at the receiver and along the path, building height) corrects the loss:
:math:`L = L_{SPM} + g(x)`, i.e. the corrected RSRP is the physics' RSRP minus g.

**Honest targets.** The residual is taken from the SPM's **out-of-fold**
predictions, folds grouped by **site** (:func:`netqa.calibrate.crossval.group_folds`,
the calibration's own per-band fits without per-cell terms, refitted with the
other folds' sites): what the physics leaves on a site it has not seen.
**Adoption.** The same site folds cross-validate g: each fold's g is trained on
the other folds' residuals; the held-out RMSE without g (the physics alone)
and with g are both recorded, and g is adopted only when it lowers the
held-out RMSE by at least ``LearnedConfig.min_gain_db`` (0.1 dB by default).

**Determinism.** A fixed seed, one thread and LightGBM's ``deterministic``
mode (row-wise histograms); results agree across CPUs to the tolerances the
tests use, not bit for bit.

References: J. H. Friedman, "Greedy function approximation: a gradient
boosting machine", Ann. Statist. 29(5), 2001; G. Ke et al., "LightGBM: a
highly efficient gradient boosting decision tree", NeurIPS 2017; D. R.
Roberts et al., Ecography 40, 2017 (blocked cross-validation).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np

from netqa.calibrate.crossval import group_folds
from netqa.calibrate.features import FeatureSpec
from netqa.errors import ConfigError, InputError

log = logging.getLogger(__name__)

#: Libraries a correction can be fitted with (:func:`fit_regressor`).
LIBRARIES = ("lightgbm", "sklearn")
#: Default library, chosen by measurement (benchmarks/README.md, "Learned correction").
DEFAULT_LIBRARY = "lightgbm"


@dataclass(frozen=True)
class LearnedConfig:
    """Settings of the learned correction: library, adoption threshold [dB], seed and tree settings."""

    library: str = DEFAULT_LIBRARY
    min_gain_db: float = 0.1
    seed: int = 12
    #: shallow trees with large leaves: with a few dozen sites, deeper trees learn the training sites' own
    #: shadowing and lose on held-out sites (benchmarks/README.md, "Learned correction")
    n_trees: int = 100
    learning_rate: float = 0.05
    max_leaves: int = 4
    min_samples_leaf: int = 400
    l2: float = 1.0
    max_folds: int = 10
    #: most training rows (a seeded subsample above it) [-]
    max_rows: int = 200_000

    def __post_init__(self):
        if self.library not in LIBRARIES:
            raise ConfigError(f"learned correction library {self.library!r}: choose one of {', '.join(LIBRARIES)}")
        if not (math.isfinite(self.min_gain_db) and self.min_gain_db >= 0):
            raise ConfigError(f"learned correction min_gain_db {self.min_gain_db!r}: must be >= 0 dB")


def library_version(library: str) -> str:
    """Installed version of a correction library; :class:`ConfigError` with the install hint when missing."""
    mod = {"lightgbm": "lightgbm", "sklearn": "sklearn"}[library]
    try:
        return __import__(mod).__version__
    except ImportError as exc:
        hint = "pip install 'netqa[learned]'" if library == "lightgbm" else "pip install scikit-learn"
        raise ConfigError(f"the learned correction needs {library} ({exc}); install it: {hint}") from exc


def fit_regressor(X, y, categorical, config: LearnedConfig):
    """A fitted gradient-boosting regressor of ``y`` on ``X`` (NaN allowed; categorical columns as codes)."""
    X, y = np.asarray(X, np.float64), np.asarray(y, np.float64)
    cat = [int(i) for i in np.flatnonzero(np.asarray(categorical, bool))]
    library_version(config.library)
    if config.library == "lightgbm":
        import lightgbm as lgb

        params = {"objective": "regression", "learning_rate": config.learning_rate, "num_leaves": config.max_leaves,
                  "min_data_in_leaf": config.min_samples_leaf, "lambda_l2": config.l2, "seed": config.seed,
                  "num_threads": 1, "deterministic": True, "force_row_wise": True, "verbose": -1}  # fmt: skip
        ds = lgb.Dataset(X, y, categorical_feature=cat or "auto", free_raw_data=True)
        return lgb.train(params, ds, num_boost_round=config.n_trees)
    from sklearn.ensemble import HistGradientBoostingRegressor
    from threadpoolctl import threadpool_limits

    mask = np.zeros(X.shape[1], bool)
    mask[cat] = True
    model = HistGradientBoostingRegressor(max_iter=config.n_trees, learning_rate=config.learning_rate,
                                          max_leaf_nodes=config.max_leaves, min_samples_leaf=config.min_samples_leaf,
                                          l2_regularization=config.l2, categorical_features=mask if cat else None,
                                          early_stopping=False, random_state=config.seed)  # fmt: skip
    with threadpool_limits(1):
        return model.fit(X, y)


def predict_regressor(model, X) -> np.ndarray:
    """The model's prediction per row of ``X``. [dB]"""
    X = np.asarray(X, np.float64)
    if X.shape[0] == 0:
        return np.zeros(0)
    if hasattr(model, "num_trees"):  # a LightGBM Booster; rows are independent: every thread gives the same values
        return np.asarray(model.predict(X, num_threads=0 if X.shape[0] >= 10_000 else 1), np.float64)
    return np.asarray(model.predict(X), np.float64)


def _rmse(e) -> float:
    e = np.asarray(e, np.float64)
    return float(np.sqrt(np.mean(e * e))) if e.size else math.nan


@dataclass
class LearnedCorrection:
    """A fitted (or refused) correction: the model, its features, training statistics and the site-held-out verdict."""

    spec: FeatureSpec
    library: str
    library_version: str
    model: object = None
    adopted: bool = False
    reason: str = ""
    training: dict = field(default_factory=dict)
    holdout: dict = field(default_factory=dict)

    def correction_db(self, X) -> np.ndarray:
        """Extra loss to add to the physics' loss at each row of ``X`` (subtract from RSRP). [dB]

        LightGBM models are evaluated as lookup tables (:class:`netqa.calibrate.treetable.TreeTables`), or where
        those would be too large by :class:`netqa.calibrate.treeeval.FlatTrees` (the same sums, parallel).
        """
        if self.library == "lightgbm":
            if getattr(self, "_flat", None) is None:
                from netqa.calibrate.treeeval import FlatTrees
                from netqa.calibrate.treetable import TreeTables

                self._flat = TreeTables.from_booster(self.model) or FlatTrees.from_booster(self.model)
            return self._flat.predict(X)
        return predict_regressor(self.model, X)

    def summary(self) -> dict:
        """The TOML record: library, version, features, training statistics, the hold-out and the verdict."""
        return {"adopted": self.adopted, "reason": self.reason, "library": self.library,
                "library_version": self.library_version, "features": self.spec.to_dict(),
                "training": self.training, "holdout": self.holdout}  # fmt: skip


def fit_correction(X, residual_db, sites, spec: FeatureSpec, config: LearnedConfig = LearnedConfig()) -> LearnedCorrection:
    """Cross-validate a correction by site and fit it on all rows; adopted only when it lowers the held-out RMSE.

    Parameters
    ----------
    X : array_like
        (n, len(spec.names)) features (:func:`netqa.calibrate.features.point_features`).
    residual_db : array_like
        Out-of-fold residual of the physics, measured minus predicted loss (NaN rows are left out). [dB]
    sites : array_like
        Site label of each row (the fold groups).
    spec : FeatureSpec
    config : LearnedConfig

    Returns
    -------
    LearnedCorrection
        ``holdout`` holds ``rmse_physics_db`` and ``rmse_corrected_db`` (site-held-out, the same rows),
        their mean errors, ``gain_db``, ``n_folds`` and ``n_sites``; ``adopted`` and ``reason``.
    """
    X = np.asarray(X, np.float64)
    r = np.asarray(residual_db, np.float64)
    if X.ndim != 2 or X.shape != (r.size, len(spec.names)):
        raise ValueError(f"X must be (n, {len(spec.names)}) for features {spec.names}, got {X.shape} and {r.size} residuals")
    version = library_version(config.library)
    ok = np.isfinite(r)
    X, r, sites = X[ok], r[ok], np.asarray(sites, dtype=object).astype(str)[ok]
    if r.size > config.max_rows:
        pick = np.sort(np.random.default_rng(config.seed).choice(r.size, config.max_rows, replace=False))
        X, r, sites = X[pick], r[pick], sites[pick]
    out = LearnedCorrection(spec, config.library, version)
    n_sites = len(set(sites.tolist()))
    out.training = {"n_rows": int(r.size), "n_sites": n_sites, "residual_mean_db": round(float(np.mean(r)), 3) if r.size else None,
                    "residual_rmse_db": round(_rmse(r), 3) if r.size else None, "seed": config.seed,
                    "n_trees": config.n_trees, "learning_rate": config.learning_rate, "max_leaves": config.max_leaves,
                    "min_samples_leaf": config.min_samples_leaf}  # fmt: skip
    if n_sites < 2 or r.size < 2 * config.min_samples_leaf:
        out.reason = f"not validated: {n_sites} site(s), {r.size} residuals (a site hold-out needs >= 2 sites)"
        return out
    folds = group_folds(sites, config.max_folds)
    pred = np.full(r.size, np.nan)
    for test in folds:
        model = fit_regressor(X[~test], r[~test], spec.categorical, config)
        pred[test] = predict_regressor(model, X[test])
    before, after = _rmse(r), _rmse(r - pred)
    out.holdout = {"cv_group": "site", "n_folds": len(folds), "n_sites": n_sites, "n": int(r.size),
                   "rmse_physics_db": round(before, 3), "rmse_corrected_db": round(after, 3),
                   "mean_error_physics_db": round(float(np.mean(r)), 3),
                   "mean_error_corrected_db": round(float(np.mean(r - pred)), 3),
                   "gain_db": round(before - after, 3), "min_gain_db": config.min_gain_db}  # fmt: skip
    if after <= before - config.min_gain_db:
        out.adopted = True
        out.reason = f"site-held-out RMSE {before:.2f} -> {after:.2f} dB (gain >= {config.min_gain_db:g} dB)"
        out.model = fit_regressor(X, r, spec.categorical, config)
    else:
        out.reason = (f"site-held-out RMSE {before:.2f} -> {after:.2f} dB: less than {config.min_gain_db:g} dB "
                      "better; not adopted")  # fmt: skip
    return out


def oof_physics_loss_db(data, band, cal, fit_config, sites, max_folds: int = 10) -> np.ndarray:
    """Out-of-fold SPM loss per sample: each site fold predicted by its band's fit on the other folds. [dB]

    ``cal``: the global :class:`~netqa.calibrate.fit.Calibration` with ``bands``
    (a band without its own fit uses the global one); its refused coefficients stay
    fixed, no coefficient selection, no per-cell terms (a held-out site has none).
    Samples of a fold that cannot be fitted get NaN.
    """
    from netqa.calibrate.data import K_NAMES, CalibrationConfig
    from netqa.calibrate.fit import fit_spm, predict_loss_db

    folds = group_folds(np.asarray(sites, dtype=object).astype(str), max_folds)
    band = np.asarray(band, dtype=object)
    pred = np.full(data.n, np.nan)
    for key in np.unique(band):
        sel = band == key
        entry = cal.bands.get(key, {})
        bc = entry.get("cal", cal) if isinstance(entry, dict) else cal
        fixed = {n: r for n, r in bc.refused.items() if n in K_NAMES or n == "clutter"}
        cfg = CalibrationConfig(**{**fit_config.__dict__, "prior": bc.k, "per_cell": False, "select_by_holdout": False})
        for test in folds:
            tr, te = sel & ~test, sel & test
            if not te.any() or not tr.any():
                continue
            try:
                c = fit_spm(data.subset(tr), cfg, holdout=False, fixed=fixed)
            except InputError:
                continue
            pred[te] = predict_loss_db(c, data.subset(te), per_cell=False)
    return pred


__all__ = ["DEFAULT_LIBRARY", "LIBRARIES", "LearnedConfig", "LearnedCorrection", "fit_correction", "fit_regressor",
           "library_version", "oof_physics_loss_db", "predict_regressor"]


def learn(data, band, cal, fit_config, X, spec: FeatureSpec, config: LearnedConfig = LearnedConfig()) -> LearnedCorrection:
    """The ``netqa calibrate --learned-correction`` step: site-out-of-fold residuals of ``cal``, then :func:`fit_correction`.

    ``data``/``band``: the calibration's samples and band key per sample; ``X``
    their features.  The verdict is logged (both held-out RMSEs, adopted or not).
    """
    if data.site is None:
        raise InputError("the learned correction is validated by site: the cells need a site_id")
    pred = oof_physics_loss_db(data, band, cal, fit_config, data.site, config.max_folds)
    corr = fit_correction(X, np.asarray(data.loss_db, np.float64) - pred, data.site, spec, config)
    h = corr.holdout
    if h:
        log.info("calibrate: learned correction (%s %s, %d features): site-held-out RMSE %.2f dB physics, %.2f dB "
                 "corrected: %s", corr.library, corr.library_version, len(spec.names), h["rmse_physics_db"],
                 h["rmse_corrected_db"], "ADOPTED" if corr.adopted else "not adopted")  # fmt: skip
    else:
        log.warning("calibrate: learned correction not validated: %s", corr.reason)
    return corr
