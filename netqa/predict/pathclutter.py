"""A tuned model's clutter losses along the path, on the rasters of ``netqa predict`` (issue 12 item 3).

``netqa calibrate --path-clutter near|whole|both`` fits per-class losses
weighted by each class's share of the path from the serving mast (the last
``near_m`` metres and the whole path) and stores them in the model file's
``[path_clutter]`` tables (:mod:`netqa.io._pathclutter`).  ``netqa compare``
applies them at the samples (:mod:`netqa.compare.pathclutter`); here the same
losses are turned into per-cell tables indexed by class code for the raster
engine (:class:`propagation.engine.PathClutterGrid`), which walks the same
midpoints from each mast to each pixel centre and adds the loss to that
cell's path loss before the best server, SINR and throughput are formed.
Reference: Forsk, Atoll Technical Reference Guide, "Standard Propagation
Model" (clutter losses weighted along the path).
"""

from __future__ import annotations

import logging
from typing import NamedTuple

import numpy as np

from netqa.errors import InputError

log = logging.getLogger("netqa.predict")


class PathTables(NamedTuple):
    """Per cell (rows of the engine's cell matrix): loss by class code of a near stretch / whole path fully in
    the class [dB], (n_cells, max code + 1), and the near stretch [m], (n_cells,)."""

    near_db: np.ndarray
    whole_db: np.ndarray
    near_m: np.ndarray


def plan_path_tables(tuned, df, table, *, clutter_model: str, model_file) -> PathTables | None:
    """The model file's path-clutter losses as per-cell tables by class code, or None when it holds none.

    Parameters
    ----------
    tuned : netqa.io.modelfile.TunedModel or None
    df : pandas.DataFrame
        The cells, in the engine's row order (``tech``, ``freq_mhz``).
    table : netqa.io.raster.ClutterTable or None
        The clutter class table (code -> name); None without ``--clutter``.
    clutter_model : str
        ``--clutter-model``: only the class-table model applies the losses (as in ``netqa compare``).
    model_file : path
        For the messages.

    Raises
    ------
    netqa.errors.InputError
        The model holds path-clutter losses and no clutter raster is given.
    """
    if tuned is None or not tuned.has_path_clutter:
        return None
    if table is None:
        raise InputError(f"--model-file {model_file}: holds path-clutter losses ([path_clutter]); give --clutter "
                         "RASTER and --clutter-table CSV to apply them")  # fmt: skip
    if clutter_model != "table":
        log.warning("--clutter-model %s: the model file's path-clutter losses are not used (they belong to the class "
                    "table model)", clutter_model)  # fmt: skip
        return None
    from netqa.predict.inputs import cell_column

    codes = table.codes
    names = table.frame["name"].astype(str).tolist() if "name" in table.frame.columns else [str(c) for c in codes]
    n_codes = int(max(codes.max(initial=0), 0)) + 1
    n = len(df)
    near_db, whole_db, near_m = np.zeros((n, n_codes)), np.zeros((n, n_codes)), np.full(n, 300.0)
    tech = df["tech"].astype(str).tolist() if "tech" in df.columns else ["LTE"] * n
    unknown = set()
    for row, (t, f) in enumerate(zip(tech, cell_column(df, "freq_mhz"))):
        pc = tuned.path_clutter_for(t, f)
        if pc is None:
            continue
        near_m[row] = pc.near_m
        for losses, out in ((pc.near_db, near_db), (pc.whole_db, whole_db)):
            unknown |= set(losses) - set(names)
            for code, name in zip(codes, names):
                if code >= 0:
                    out[row, code] = losses.get(name, 0.0)
    if unknown:
        log.warning("--model-file %s: path-clutter losses for class(es) %s that the clutter table %s does not name; "
                    "not applied", model_file, ", ".join(sorted(unknown)), table.path or "")  # fmt: skip
    return PathTables(near_db, whole_db, near_m)


def tile_path_clutter(plan, sub):
    """The engine's :class:`~propagation.engine.PathClutterGrid` on a tile's widened window ``sub``, or None.

    The class codes are read on the same window as the DEM (the tile widened by
    the largest coverage radius), so every path from a mast to a pixel of the
    tile that the mast reaches lies inside it; nodata pixels are -1 (not counted).
    """
    tables = getattr(plan, "path_clutter", None)
    if tables is None:
        return None
    from netqa.io.raster import read_clutter_window
    from propagation.engine import PathClutterGrid

    codes = read_clutter_window(plan.clutter_path, plan.clutter_table, sub)
    grid_codes = np.where(codes.nodata_mask, -1, codes.values).astype(np.int64)
    return PathClutterGrid(grid_codes, tables.near_db, tables.whole_db, tables.near_m)


__all__ = ["PathTables", "plan_path_tables", "tile_path_clutter"]
