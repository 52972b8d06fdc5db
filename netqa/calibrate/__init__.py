"""Automatic calibration of the Standard Propagation Model against drive-test measurements.

Public API::

    from netqa.calibrate import calibrate, CalibrateOptions   # the stage behind 'netqa calibrate'
    from netqa.calibrate import fit_spm, CalibrationData, CalibrationConfig   # the fit on arrays
    from netqa.calibrate import write_model_file, read_model_file             # the tuned TOML
"""

from netqa.calibrate.fit import (
    K_NAMES,
    Calibration,
    CalibrationConfig,
    CalibrationData,
    cross_validate,
    fit_spm,
    predict_loss_db,
    prior_loss_db,
    session_folds,
)
from netqa.io.modelfile import ModelFile, TunedModel, read_model_file, to_toml, write_model_file
from netqa.calibrate.run import CalibrateOptions, calibrate

__all__ = [
    "CalibrateOptions",
    "calibrate",
    "TunedModel",
    "ModelFile",
    "read_model_file",
    "to_toml",
    "write_model_file",
    "K_NAMES",
    "Calibration",
    "CalibrationConfig",
    "CalibrationData",
    "cross_validate",
    "fit_spm",
    "predict_loss_db",
    "prior_loss_db",
    "session_folds",
]
