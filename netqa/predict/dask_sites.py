"""The per-site design on Dask (``netqa predict --tasks sites --workers N`` or ``--scheduler ADDRESS``).

One task per site (:func:`netqa.predict.sites.compute_site`: the site's
window read once, each path group swept once) and one reduction task per
output tile (:func:`netqa.predict.sites.reduce_tile`), fed by small
"take" tasks that run where the site's result lies and hand on only that
tile's pieces.  The parent submits tiles in row-major order, at most
:data:`netqa.predict.dask_tiles.TILES_IN_FLIGHT_PER_THREAD` per worker thread
ahead of the tile being written, submits a site when the first tile it
reaches is submitted, and lets it go after its last: a worker holds the
pieces of the sites reaching the tiles in flight, the parent one tile.
The tiles come back in order and equal the local runs' (``--tasks tiles`` or
``sites``) pixel for pixel (:mod:`netqa.predict.sites` states when).
"""

from __future__ import annotations

import logging
import warnings

from netqa.daskclient import dask_client, task_token
from netqa.predict.dask_tiles import TILES_IN_FLIGHT_PER_THREAD, _readable_or_raise, _reemit, _result, _shared_paths
from netqa.predict.sites import compute_site, plan_sites, reduce_tile

log = logging.getLogger(__name__)


def iter_sites_dask(plan, *, per_cell: bool, workers: int = 1, scheduler: str | None = None):
    """Yield ``(tile, TileOut)`` for every tile of ``plan.grid`` in row-major order, by site tasks on Dask.

    Arguments and errors as :func:`netqa.predict.dask_tiles.iter_tiles_dask`.
    """
    from dask.distributed import as_completed

    client, cluster = dask_client(scheduler, workers)
    try:
        n_threads = max(1, sum(client.nthreads().values()))
        window = TILES_IN_FLIGHT_PER_THREAD * n_threads
        numba_threads = 1 if cluster is not None else None
        plan, files = _shared_paths(plan)
        sp = plan_sites(plan)
        plan_f = client.scatter(plan, broadcast=True, hash=False)
        tiles = sp.tiles
        log.info("predict: %d site task(s) and %d tile reduction(s) on Dask (%d worker thread(s))", len(sp.sites),
                 len(tiles), n_threads)  # fmt: skip
        last_tile = {s.index: max(s.tiles) for s in sp.sites if s.tiles}
        token = task_token()
        site_futs, index, ready, seen = {}, {}, {}, set()
        pending = as_completed()
        n_submitted = n_written = 0
        while n_written < len(tiles):
            while n_submitted < len(tiles) and n_submitted < n_written + window:
                k = n_submitted
                takes = []
                for s in sp.tile_sites[k]:
                    if s not in site_futs:
                        site_futs[s] = client.submit(_site_task, plan_f, sp.sites[s], tiles, per_cell, numba_threads,
                                                     files, pure=False, key=f"netqa-predict-site-{s}-{token}")  # fmt: skip
                    takes.append(client.submit(_take, site_futs[s], k, sp.sites[s].tiles[0] == k, pure=False,
                                               key=f"netqa-predict-take-{s}-{k}-{token}"))  # fmt: skip
                    if last_tile[s] == k:
                        site_futs.pop(s)  # the take tasks keep it while they need it
                fut = client.submit(_reduce_task, plan_f, tiles[k], takes, per_cell, numba_threads, pure=False,
                                    key=f"netqa-predict-reduce-{k}-{token}")  # fmt: skip
                index[fut.key] = k
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


def _site_task(plan, site, tiles, per_cell: bool, numba_threads, files):
    """On a worker: one site's pieces per tile, its pixels without a clutter class, and its warnings."""
    _readable_or_raise(files)
    if numba_threads:
        import numba

        numba.set_num_threads(int(numba_threads))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pieces, n_no_class = compute_site(plan, site, tiles, per_cell)
    return pieces, n_no_class, [(w.category, str(w.message)) for w in caught]


def _take(site_result, k: int, first: bool):
    """One tile's pieces of a site result (run where the site result lies); its counts and warnings with the
    first tile the site reaches."""
    pieces, n_no_class, caught = site_result
    return pieces[k], (n_no_class if first else 0), (caught if first else [])


def _reduce_task(plan, tile, takes, per_cell: bool, numba_threads):
    """On a worker: fold the tile's pieces (sites in order) into its bands."""
    if numba_threads:
        import numba

        numba.set_num_threads(int(numba_threads))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = reduce_tile(plan, tile, [t[0] for t in takes], per_cell)
    site_warnings = [w for t in takes for w in t[2]]
    return out._replace(no_clutter_px=sum(t[1] for t in takes)), site_warnings + [(w.category, str(w.message)) for w in caught]


__all__ = ["iter_sites_dask"]
