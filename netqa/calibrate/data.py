"""The inputs, settings and result of the SPM fit (:mod:`netqa.calibrate.fit`).

Units are in the field docs: losses [dB], distances [km], heights [m], frequencies [MHz].
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from netqa.calibrate.crossval import CV_GROUPS
from propagation import SPM_DEFAULT_K, SpmCoefficients

K_NAMES = ("k1", "k2", "k3", "k4", "k5", "k6", "k7")
#: Options of ``CalibrationConfig.path_clutter`` -> the groups of path-clutter terms it asks for.
PATH_CLUTTER = {"none": (), "near": ("path_near",), "whole": ("path_whole",), "both": ("path_near", "path_whole")}
#: When several coefficients are poorly determined, the first in this order is fixed first.
_DROP_ORDER = ("k5", "k7", "k6", "k3", "k4", "k2")


class CalibrationData(NamedTuple):
    """Per-sample inputs of the fit (1-D arrays of equal length).

    ``loss_db`` measured path loss (EIRP towards the sample minus RSRP) [dB];
    ``dist_km`` [km]; ``h_tx_eff_m`` effective antenna height [m];
    ``h_rx_m`` [m]; ``diffraction_db`` terrain excess loss [dB]; ``freq_mhz``
    [MHz]; ``clutter`` class label; ``clutter_db`` the table's loss for it
    [dB]; ``cell`` serving cell id; ``session``; ``x_m``/``y_m`` projected
    position [m] (for the bins); ``site`` (optional) the serving cell's
    ``site_id`` (cross-validation by site); ``near_share``/``whole_share``
    (optional, (n, n_path_classes)) each clutter class's share of the last
    ``near_m`` and of the whole path [-], with ``path_classes`` the class
    names of their columns (:mod:`netqa.calibrate.pathterms`).
    """

    loss_db: np.ndarray
    dist_km: np.ndarray
    h_tx_eff_m: np.ndarray
    h_rx_m: np.ndarray
    diffraction_db: np.ndarray
    freq_mhz: np.ndarray
    clutter: np.ndarray
    clutter_db: np.ndarray
    cell: np.ndarray
    session: np.ndarray
    x_m: np.ndarray
    y_m: np.ndarray
    site: np.ndarray | None = None
    near_share: np.ndarray | None = None
    whole_share: np.ndarray | None = None
    path_classes: tuple | None = None

    def subset(self, mask) -> "CalibrationData":
        n = len(self._fields) - 1  # path_classes: names of the share columns, not per sample
        return CalibrationData(*(None if a is None else np.asarray(a)[mask] for a in self[:n]), self.path_classes)

    @property
    def n(self) -> int:
        return int(np.asarray(self.loss_db).size)


@dataclass(frozen=True)
class CalibrationConfig:
    """Settings of the fit (see the module docstring for what each does)."""

    prior: SpmCoefficients = SPM_DEFAULT_K
    bin_m: float = 50.0
    average: str = "db"
    min_bins: int = 30
    min_bins_per_cell: int = 30
    min_bins_per_clutter: int = 20
    min_distance_decades: float = 0.3
    min_log_height_std: float = 0.05
    max_std_error: dict = field(default_factory=lambda: {"k1": 5.0, "k2": 2.0, "k3": 3.0, "k4": 0.2, "k5": 1.0,
                                                         "k6": 2.0, "k7": 5.0, "clutter": 2.0,
                                                         "path": 3.0})  # fmt: skip
    fit_k3_k5: bool = True
    clutter_offsets: bool = True
    per_cell: bool = True
    max_folds: int = 10
    select_by_holdout: bool = True
    min_holdout_gain_db: dict = field(default_factory=lambda: {"clutter": 0.05, "k3": 0.05, "k4": 0.05, "k5": 0.1,
                                                               "k6": 0.05, "k7": 0.05, "path_near": 0.05,
                                                               "path_whole": 0.05})  # fmt: skip
    #: fold grouping of the cross-validation: "site", "session" or "cell" (:mod:`netqa.calibrate.crossval`);
    #: the ``netqa calibrate`` stage defaults to "site".
    cv_group: str = "session"
    #: physical ranges, name -> :class:`~netqa.calibrate.bounds.Bound`; None: :data:`~netqa.calibrate.bounds.SPM_BOUNDS`,
    #: {}: unbounded (not recommended).
    bounds: dict | None = None
    #: clutter along the path (:mod:`netqa.calibrate.pathterms`): "none", "near" (share of the last ``near_m``),
    #: "whole" (share of the whole path) or "both"; the data need ``near_share``/``whole_share``.
    path_clutter: str = "none"
    #: length of the near-receiver stretch of the near share [m] (recorded; the shares are computed with it)
    near_m: float = 300.0

    def __post_init__(self):
        if self.path_clutter not in PATH_CLUTTER:
            raise ValueError(f"path_clutter must be one of {', '.join(PATH_CLUTTER)}, got {self.path_clutter!r}")
        if not (math.isfinite(self.near_m) and self.near_m > 0):
            raise ValueError(f"near_m must be > 0 m, got {self.near_m!r}")
        if self.cv_group not in CV_GROUPS:
            raise ValueError(f"cv_group must be one of {', '.join(CV_GROUPS)}, got {self.cv_group!r}")
        if self.average not in ("db", "linear"):
            raise ValueError(f"average must be 'db' or 'linear', got {self.average!r}")
        if not (math.isfinite(self.bin_m) and self.bin_m > 0):
            raise ValueError(f"bin_m must be > 0 m, got {self.bin_m!r}")
        for name in ("min_bins", "min_bins_per_cell", "min_bins_per_clutter", "max_folds"):
            if int(getattr(self, name)) < 2:
                raise ValueError(f"{name} must be >= 2, got {getattr(self, name)!r}")


@dataclass
class Calibration:
    """Result of :func:`fit_spm`.

    ``k``: tuned coefficients (K1 at ``k.f_ref_mhz``); ``clutter_offset_db``:
    class -> offset added to the table loss [dB]; ``clutter_anchor``: class whose
    offset is fixed at 0; ``per_cell``: cell -> {"k1", "k2", "n_bins"} or
    {"refused": reason}; ``fitted``/``refused``: coefficient names, with the
    reason for each refusal; ``fit``: in-sample statistics on the bins and on
    the samples; ``holdout``: held-out-session statistics of the tuned and of
    the prior model on the same samples; ``std_error``: nominal standard
    errors of the fitted coefficients.
    """

    k: SpmCoefficients
    clutter_offset_db: dict = field(default_factory=dict)
    clutter_anchor: str | None = None
    per_cell: dict = field(default_factory=dict)
    fitted: list = field(default_factory=list)
    refused: dict = field(default_factory=dict)
    std_error: dict = field(default_factory=dict)
    fit: dict = field(default_factory=dict)
    holdout: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    bands: dict = field(default_factory=dict)
    #: coefficients held at a physical bound: name -> {"fitted": value the data asked for, "held": value kept}
    bounded: dict = field(default_factory=dict)
    #: path-clutter losses [dB] per class (relative to ``path_anchor``, whose loss is 0), for a class filling the
    #: last ``near_m`` (``path_near_db``) or the whole path (``path_whole_db``); empty when not adopted
    path_near_db: dict = field(default_factory=dict)
    path_whole_db: dict = field(default_factory=dict)
    path_anchor: str | None = None
    near_m: float = 300.0


__all__ = ["K_NAMES", "PATH_CLUTTER", "Calibration", "CalibrationConfig", "CalibrationData"]
