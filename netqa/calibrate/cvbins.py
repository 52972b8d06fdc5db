"""The bins of a calibration and of its cross-validation folds, made once per fit (:mod:`netqa.calibrate.fit`).

:func:`~netqa.calibrate.fit.select_coefficients` runs one cross-validation per candidate term and
:func:`~netqa.calibrate.fit.fit_spm` one more for the quoted error, all on the same samples and folds.
Each fold's fit needs the bins of its training samples (serving cell x ``bin_m`` squares,
:func:`netqa.calibrate.bins._bin`).  They depend on the samples and the binning settings only, not on
the terms tried, so :class:`CvBins` makes them once per fold and every cross-validation of the fit reuses
them.

The folds hold whole sites, cells or sessions.  With ``cv_group`` "site" or "cell" no bin can straddle a
fold (a bin belongs to one serving cell, and a cell to one site), so a fold's training bins are the
bins of all samples less those of the left-out fold (:func:`netqa.calibrate.bins.restrict_bins`,
bit-identical to binning the training samples anew).  With "session" one bin can hold samples of two
sessions; a fold whose left-out samples share a bin with training samples is binned from its own
training samples (the same result as before this cache, once per fold instead of once per fit).

A fold's per-cell shrinkage (:mod:`netqa.calibrate.shrink`) matters for its held-out error only where a
left-out sample's serving cell is also among the training cells (possible with "session" folds only):
:attr:`Fold.per_cell_used` says so, and the fold fit skips the shrinkage otherwise (its prediction of the
left-out samples is the same with or without it).

Reference: S. Arlot and A. Celisse, "A survey of cross-validation procedures for model selection",
Statistics Surveys 4, 2010 (blocked cross-validation: whole groups left out).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import NamedTuple

import numpy as np

from netqa.calibrate.bins import _bin, _bin_grid, _identifiability, bin_codes, restrict_bins
from netqa.calibrate.crossval import cv_labels, group_folds
from netqa.calibrate.data import CalibrationConfig, CalibrationData
from netqa.calibrate.pathterms import path_anchor


_BLAS = []  # the threadpoolctl controller, made on first use


@contextmanager
def one_blas_thread():
    """Run the block with BLAS/LAPACK on one thread (restored after; a no-op without threadpoolctl).

    The fit solves hundreds of small least-squares problems (a few thousand bins x a few dozen terms);
    a multi-threaded OpenBLAS spends more on waking and spinning its threads than on the arithmetic:
    on a busy 2-core machine one ``numpy.linalg.lstsq`` of 1500 x 20 took 113 ms with the default
    threads and 0.2 ms with one.  The results are the same bit for bit (checked on the test world and
    the district)."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency; without it, only slower
        yield
        return
    if not _BLAS:
        _BLAS.append(ThreadpoolController())
    with _BLAS[0].limit(limits=1, user_api="blas"):
        yield


def data_classes(data: CalibrationData) -> list[str]:
    """The receiver clutter classes of the samples, sorted (the class columns of the fit)."""
    return sorted(set(np.asarray(data.clutter, dtype=object).astype(str).tolist()))


class Binned:
    """The bins of one set of samples: :func:`~netqa.calibrate.bins._bin`'s tuple, the samples' bin codes,
    the clutter classes, and (lazily) the bins' grid positions, what the bins cannot determine and the path
    anchor."""

    def __init__(self, data: CalibrationData, config: CalibrationConfig, classes: list[str], binned: tuple,
                 codes: np.ndarray):  # fmt: skip
        self.data, self.config, self.classes, self.binned, self.codes = data, config, classes, binned, codes
        self._grid = self._undetermined = self._anchor = None

    @classmethod
    def of(cls, data: CalibrationData, config: CalibrationConfig) -> "Binned":
        """Bin ``data`` anew."""
        classes = data_classes(data)
        codes = bin_codes(data, config)
        return cls(data, config, classes, _bin(data, config, classes, codes), codes)

    def grid(self) -> np.ndarray:
        """(n_bins, 2) column and row of each bin's square."""
        if self._grid is None:
            self._grid = _bin_grid(self.data, self.config, self.binned[0].size, self.codes)
        return self._grid

    def undetermined(self) -> dict[str, str]:
        """:func:`~netqa.calibrate.bins._identifiability` of the bins (a copy: callers add to it)."""
        if self._undetermined is None:
            self._undetermined = _identifiability(self.binned[1], self.config)
        return dict(self._undetermined)

    def anchor(self) -> tuple:
        """:func:`~netqa.calibrate.pathterms.path_anchor` of the samples."""
        if self._anchor is None:
            self._anchor = path_anchor(self.data)
        return self._anchor


class Fold(NamedTuple):
    """One cross-validation fold: the training bins, the left-out samples and their mask."""

    train: Binned
    test: CalibrationData
    mask: np.ndarray
    per_cell_used: bool


class CvBins:
    """The bins of all samples and of each fold's training samples, made on first use and kept.

    Parameters
    ----------
    data : CalibrationData
    config : CalibrationConfig
        The binning settings (``bin_m``, ``average``, ``prior``, ``path_clutter``) and the folds
        (``cv_group``, ``max_folds``).
    """

    def __init__(self, data: CalibrationData, config: CalibrationConfig):
        self.data, self.config = data, config
        self._all = self._labels = self._folds = None
        self._fold: dict[int, Fold] = {}

    @property
    def all(self) -> Binned:
        """The bins of all samples."""
        if self._all is None:
            self._all = Binned.of(self.data, self.config)
        return self._all

    @property
    def labels(self) -> np.ndarray:
        """The fold label (site, session or cell) of each sample; InputError when the data lack it."""
        if self._labels is None:
            self._labels = cv_labels(self.data, self.config.cv_group)
        return self._labels

    @property
    def masks(self) -> list[np.ndarray]:
        """The left-out mask of each fold (:func:`~netqa.calibrate.crossval.group_folds`)."""
        if self._folds is None:
            self._folds = group_folds(self.labels, self.config.max_folds)
        return self._folds

    def fold(self, f: int) -> Fold:
        """Fold ``f``: its training bins (restricted from :attr:`all` where no bin straddles it)."""
        if f not in self._fold:
            test = self.masks[f]
            keep = ~test
            train = self.data.subset(keep)
            classes = data_classes(train)
            sub = restrict_bins(self.all.binned, self.all.codes, keep, classes)
            binned = Binned(train, self.config, classes, *sub) if sub is not None else Binned.of(train, self.config)
            cells = np.asarray(self.data.cell, dtype=object).astype(str)
            used = bool(np.isin(cells[test], cells[keep]).any())
            self._fold[f] = Fold(binned, self.data.subset(test), test, used)
        return self._fold[f]


__all__ = ["Binned", "CvBins", "Fold", "data_classes", "one_blas_thread"]
