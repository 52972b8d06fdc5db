"""Best-server maps people can read: neighbouring cells in different colours (graph colouring).

A best-server raster holds, per pixel, the index of the strongest cell.
Colouring the cells by index (colour = index mod palette size) puts the same
colour on neighbours as soon as there are more cells than colours, and even
before that it often puts similar hues side by side.  Here the cells are the
vertices of an adjacency graph — two cells are adjacent when their
best-server areas touch (a pixel of one has a pixel of the other among its
4 neighbours, or its 8 neighbours with ``diagonal=True``) — and the graph is
coloured with DSatur (D. Brélaz, "New methods to color the vertices of a
graph", Commun. ACM 22(4), 1979, 251-256): repeatedly colour the uncoloured
vertex with the most distinct colours among its neighbours (ties: most
uncoloured neighbours, then the lower index) with the lowest colour not used
by a neighbour.  Maps of best-server areas are close to planar, so a handful
of colours suffice; the palette has 20, and a graph that needs more (it cannot
happen for a planar map, which needs at most 4) reuses colours with a warning.

Examples
--------
>>> codes = np.array([[0, 0, 1], [2, 2, 1], [2, 3, 3]])
>>> sorted(adjacency(codes))
[(0, 1), (0, 2), (1, 2), (1, 3), (2, 3)]
>>> dsatur(4, adjacency(codes)).tolist()
[2, 0, 1, 2]
"""

from __future__ import annotations

import logging

import numpy as np

from netqa.maps.legend import _QUALITATIVE, Legend, LegendClass

log = logging.getLogger(__name__)

__all__ = ["adjacency", "dsatur", "best_server_legend"]


def adjacency(codes, *, diagonal: bool = False) -> set[tuple[int, int]]:
    """Pairs ``(a, b)``, ``a < b``, of codes whose areas touch in a 2-D integer raster.

    Parameters
    ----------
    codes : array_like of int, shape (rows, cols)
        Cell index per pixel; negative values (nodata, no server) touch nothing.
    diagonal : bool
        Also count pixels that meet at a corner (8-neighbourhood).

    Returns
    -------
    set of tuple of int
    """
    c = np.asarray(codes)
    if c.ndim != 2:
        raise ValueError(f"codes must be a 2-D raster, got shape {c.shape}")
    c = c.astype(np.int64)
    shifts = [(c[:, :-1], c[:, 1:]), (c[:-1, :], c[1:, :])]
    if diagonal:
        shifts += [(c[:-1, :-1], c[1:, 1:]), (c[:-1, 1:], c[1:, :-1])]
    pairs = set()
    for a, b in shifts:
        m = (a != b) & (a >= 0) & (b >= 0)
        if not m.any():
            continue
        lo, hi = np.minimum(a[m], b[m]), np.maximum(a[m], b[m])
        for x, y in np.unique(np.stack([lo, hi], axis=1), axis=0):
            pairs.add((int(x), int(y)))
    return pairs


def dsatur(n: int, edges) -> np.ndarray:
    """Colour ``n`` vertices so that no edge joins two of the same colour (DSatur, Brélaz 1979).

    Parameters
    ----------
    n : int
        Number of vertices ``0..n-1``.
    edges : iterable of (int, int)
        Undirected edges; self-loops are ignored.

    Returns
    -------
    numpy.ndarray of int
        Colour index (0, 1, ...) per vertex; isolated vertices get 0.
    """
    import heapq

    nbrs = [set() for _ in range(n)]
    for a, b in edges:
        if a != b:
            nbrs[a].add(b)
            nbrs[b].add(a)
    colour = np.full(n, -1, dtype=np.int64)
    seen = [set() for _ in range(n)]  # colours among each vertex's neighbours
    free = [len(x) for x in nbrs]  # uncoloured neighbours
    # max-heap on (saturation, uncoloured degree, -index) with lazy deletion of stale entries
    heap = [(0, -free[v], v) for v in range(n)]
    heapq.heapify(heap)
    while heap:
        neg_sat, neg_free, v = heapq.heappop(heap)
        if colour[v] >= 0 or -neg_sat != len(seen[v]) or -neg_free != free[v]:
            continue
        c = 0
        while c in seen[v]:
            c += 1
        colour[v] = c
        for u in nbrs[v]:
            if colour[u] < 0:
                free[u] -= 1
                seen[u].add(c)
                heapq.heappush(heap, (-len(seen[u]), -free[u], u))
    return colour


def best_server_legend(values, labels: list[str], *, palette=_QUALITATIVE, title: str = "Best server") -> Legend:
    """A categorical legend for a best-server raster whose touching cells differ in colour.

    Parameters
    ----------
    values : array_like, shape (rows, cols)
        Best-server cell index per pixel (float with NaN for nodata, or int with negatives).
    labels : list of str
        Cell id per index.
    palette : sequence of str
        ``#rrggbb`` colours; graph colour ``k`` is ``palette[k % len(palette)]``.

    Returns
    -------
    Legend
        Class ``i`` is ``[i, i+1)`` labelled ``labels[i]``.
    """
    v = np.asarray(values, dtype=np.float64)
    codes = np.where(np.isfinite(v), v, -1).astype(np.int64)
    n = max(len(labels), int(codes.max()) + 1 if codes.size else 0, 1)
    colours = dsatur(n, adjacency(codes))
    used = int(colours.max()) + 1 if n else 0
    if used > len(palette):
        log.warning("best-server map: the cell adjacency needs %d colours, the palette has %d; some touching cells "
                    "share a colour", used, len(palette))  # fmt: skip
    names = list(labels) + [f"cell #{i}" for i in range(len(labels), n)]
    classes = tuple(LegendClass(str(names[i]), float(i), float(i + 1), palette[colours[i] % len(palette)]) for i in range(n))
    return Legend("best_cell", title, "", classes, categorical=True, source="<best-server graph colouring>")
