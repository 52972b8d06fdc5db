"""Prediction tiles as Dask tasks: ``netqa predict --workers N`` and ``--scheduler ADDRESS``.

Every tile of a prediction is independent and deterministic, so the tiles of
:func:`netqa.predict.predict_to_file` (and :func:`~netqa.predict.predict`)
can run on a Dask cluster: a local one of ``workers`` single-threaded worker
processes, or an existing one at ``scheduler``.  The plan (cells, grid,
engine settings, clutter table) is sent to every worker once; each task runs
:func:`netqa.predict.tiles.compute_tile` -- the very code of the local run -- and
reads the DEM and the clutter for its tile itself, so those files must be
readable from every worker at the same path.  The parent gets the tiles back
in tile order and writes them, holding at most
``TILES_IN_FLIGHT_PER_THREAD x worker threads`` tiles (submitted, running or
waiting to be written) at a time: memory stays bounded however many tiles
there are.  The result equals the local run's pixel for pixel.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import warnings
from pathlib import Path

from netqa.daskclient import dask_client, task_token
from netqa.errors import InputError, NetQAError
from netqa.predict.tiles import compute_tile

log = logging.getLogger(__name__)

#: Tiles submitted (running, or back and waiting to be written in order) per worker thread at most.
TILES_IN_FLIGHT_PER_THREAD = 2


def iter_tiles_dask(plan, *, per_cell: bool, workers: int = 1, scheduler: str | None = None):
    """Yield ``(tile, _TileOut)`` for every tile of ``plan.grid`` in row-major order, computed on Dask.

    Parameters
    ----------
    plan : netqa.predict.tiles.Plan
        The validated prediction plan (pickled to every worker once).
    per_cell : bool
        Also compute each cell's RSRP.
    workers : int
        Worker processes of a local cluster (used when ``scheduler`` is None);
        each runs numba on one thread.
    scheduler : str, optional
        Address of an existing Dask scheduler (its workers keep numba's default threads).

    Raises
    ------
    netqa.errors.InputError
        The scheduler does not answer within :data:`netqa.daskclient.CONNECT_TIMEOUT_S`; a worker
        cannot read the DEM or the clutter raster; a task failed for another
        reason than a :class:`~netqa.errors.NetQAError` (which is raised as is).
    """
    from dask.distributed import as_completed

    client, cluster = dask_client(scheduler, workers)
    try:
        n_threads = max(1, sum(client.nthreads().values()))
        window = TILES_IN_FLIGHT_PER_THREAD * n_threads
        numba_threads = 1 if cluster is not None else None
        plan, files = _shared_paths(plan)
        plan_f = client.scatter(plan, broadcast=True, hash=False)
        tiles = list(plan.grid.tiles(plan.config.tile_px))
        log.info("predict: %d tile(s) on Dask (%d worker thread(s)), at most %d in flight", len(tiles), n_threads, window)
        token = task_token()
        index, ready, seen = {}, {}, set()
        pending = as_completed()
        n_submitted = n_written = 0
        while n_written < len(tiles):
            while n_submitted < len(tiles) and n_submitted < n_written + window:
                fut = _submit_tile(client, plan_f, tiles[n_submitted], n_submitted, per_cell, numba_threads, files, token)
                index[fut.key] = n_submitted
                pending.add(fut)
                n_submitted += 1
            if n_written not in ready:
                fut = next(pending)
                k = index.pop(fut.key)
                ready[k] = _result(fut, tiles[k], files)
                fut.release()
                continue
            out, caught = ready.pop(n_written)
            _reemit(caught, seen)
            yield tiles[n_written], out
            n_written += 1
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _submit_tile(client, plan_f, tile, k: int, per_cell: bool, numba_threads, files, token: str):
    """Submit tile ``k`` (one place, so that a test can count what is in flight)."""
    return client.submit(_tile_task, plan_f, tile, per_cell, numba_threads, files, pure=False,
                         key=f"netqa-predict-tile-{k}-{token}")  # fmt: skip


def _tile_task(plan, tile, per_cell: bool, numba_threads, files):
    """On a worker: check the input files, compute the tile, return it with the warnings it raised."""
    _readable_or_raise(files)
    if numba_threads:
        import numba

        numba.set_num_threads(int(numba_threads))

    # catch_warnings is process-wide: with several threads per worker a warning may land in another task's list
    # (or be shown there); the tile's values never depend on it.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = compute_tile(plan, tile, per_cell)
    return out, [(w.category, str(w.message)) for w in caught]


def _readable_or_raise(files) -> None:
    """On a worker: an InputError naming the first input file it cannot read."""
    for what, path in files:
        if not _readable(path):
            raise InputError(
                f"{path}: the {what} is not readable on Dask worker {_worker_name()}; the DEM and the clutter "
                "raster must be readable from every worker at the same path (a shared or copied file system)"
            )


def _readable(path) -> bool:
    return os.access(path, os.R_OK)


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return "?"


def _result(fut, tile, files):
    """The task's result; a failure that is no NetQAError becomes a one-line InputError."""
    try:
        return fut.result()
    except NetQAError:
        raise
    except Exception as exc:  # e.g. a lost worker, or a file GDAL cannot open there
        names = ", ".join(str(p) for _, p in files) or "the input files"
        raise InputError(
            f"predict: tile at row {tile.row_off}, col {tile.col_off} failed on the Dask workers "
            f"({type(exc).__name__}: {exc}); {names} must be readable from every worker at the same path"
        ) from exc


def _reemit(caught, seen: set) -> None:
    """Warnings raised on the workers, once each per run, here where the user sees them."""
    for category, message in caught:
        if (category, message) not in seen:
            seen.add((category, message))
            warnings.warn(message, category, stacklevel=4)


def _shared_paths(plan):
    """The plan with its local input files as absolute paths, and ``[(what, path)]`` the workers must read.

    Paths that are no local file here (a GDAL ``/vsi...`` name, say) are left
    to GDAL on the workers.
    """
    def local(p):
        q = Path(p)
        return q.resolve() if q.is_file() else p

    dem_paths = [local(p) for p in plan.dem_paths]
    clutter = local(plan.clutter_path) if plan.clutter_path is not None else None
    files = [("DEM", p) for p in dem_paths if isinstance(p, Path)]
    if isinstance(clutter, Path):
        files.append(("clutter raster", clutter))
    surface = local(plan.surface_path) if plan.surface_path is not None else None
    if isinstance(surface, Path):
        files.append(("surface raster", surface))
    return dataclasses.replace(plan, dem_paths=dem_paths, clutter_path=clutter, surface_path=surface), files
