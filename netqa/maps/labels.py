"""Map labels that do not overlap: greedy placement over candidate offsets with a collision check.

Cartographic label placement in its simplest useful form (the "candidate
positions" approach of point-feature label placement; J. Christensen, J. Marks,
S. Shieber, "An empirical study of algorithms for point-feature label
placement", ACM Trans. Graph. 14(3), 1995): each label tries a fixed list of
positions around its anchor — right-below first (netqa's usual place), then
right-above, left, above, below — and takes the first whose box, measured by
matplotlib's renderer, overlaps neither a label already placed, nor a marker
(an obstacle), nor the map edge.  A label with no free place nearby tries the
same positions 2.5, 4.5 and 7 times farther out with a thin leader line to
its anchor; if that fails too it is left out (the count is logged), which only
happens in clusters much denser than the labels' own size.
"""

from __future__ import annotations

import logging

import numpy as np
from matplotlib.text import Text

log = logging.getLogger(__name__)

__all__ = ["OFFSETS_PT", "place_labels", "boxes_overlap"]

#: Candidate positions (dx, dy [points], horizontal alignment, vertical alignment), in order of preference.
OFFSETS_PT = (
    (4, -3, "left", "top"), (4, 3, "left", "bottom"), (-4, -3, "right", "top"), (-4, 3, "right", "bottom"),
    (0, 6, "center", "bottom"), (0, -6, "center", "top"), (7, 0, "left", "center"), (-7, 0, "right", "center"),
)  # fmt: skip


#: Rings of candidate positions: (scale of :data:`OFFSETS_PT`, leader line to the anchor).
RINGS = ((1.0, False), (2.5, True), (4.5, True), (7.0, True))


def boxes_overlap(a, b) -> bool:
    """True when two ``(x0, y0, x1, y1)`` boxes share interior area.

    >>> boxes_overlap((0, 0, 2, 2), (1, 1, 3, 3)), boxes_overlap((0, 0, 1, 1), (1, 0, 2, 1))
    (True, False)
    """
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def place_labels(ax, anchors, texts, *, renderer, obstacles=(), facecolors=None, edgecolors=None, fontsize: float = 7.0,
                 zorder: float = 6.0, pad_px: float = 1.5) -> list:
    """Place ``texts`` at ``anchors`` (data coordinates) without overlaps; returns the Text artists (None: left out).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        With its limits and layout final (call ``figure.draw_without_rendering()`` first).
    anchors : sequence of (x, y)
        Label anchors in data coordinates.
    texts : sequence of str
    renderer : matplotlib renderer
        ``figure.canvas.get_renderer()``.
    obstacles : sequence of (x0, y0, x1, y1)
        Boxes in display pixels that labels must not cover (markers).  Leader lines may cross them.
    facecolors : sequence of str, optional
        Background of each label (default white, semi-transparent).
    edgecolors : sequence of str or None, optional
        Outline of each label's box (default none).
    """
    placed: list = []
    out = []
    frame = ax.get_window_extent(renderer)
    frame_box = (frame.x0, frame.y0, frame.x1, frame.y1)
    obstacles = [tuple(o) for o in obstacles]
    dropped = 0
    for i, ((x, y), text) in enumerate(zip(anchors, texts)):
        fc = facecolors[i] if facecolors is not None else "white"
        ec = edgecolors[i] if edgecolors is not None else None
        box_kw = dict(boxstyle="round,pad=0.15", facecolor=fc, edgecolor=ec or "none", linewidth=0.6, alpha=0.85)
        artist = None
        for scale, leader in RINGS:
            for dx, dy, ha, va in OFFSETS_PT:
                kw = dict(arrowprops=dict(arrowstyle="-", color="0.25", linewidth=0.5, shrinkA=0, shrinkB=2)) if leader else {}
                t = ax.annotate(str(text), (x, y), xytext=(dx * scale, dy * scale), textcoords="offset points", ha=ha, va=va,
                                fontsize=fontsize, zorder=zorder, annotation_clip=True,
                                bbox=box_kw, **kw)
                t.update_positions(renderer)
                bb = Text.get_window_extent(t, renderer)  # the text alone, not the leader line
                box = (bb.x0 - pad_px, bb.y0 - pad_px, bb.x1 + pad_px, bb.y1 + pad_px)
                inside = box[0] >= frame_box[0] and box[1] >= frame_box[1] and box[2] <= frame_box[2] and box[3] <= frame_box[3]
                if inside and not any(boxes_overlap(box, p) for p in placed) and not any(boxes_overlap(box, o) for o in obstacles):
                    placed.append(box)
                    artist = t
                    break
                t.remove()
            if artist is not None:
                break
        if artist is None:
            dropped += 1
        out.append(artist)
    if dropped:
        log.info("map labels: %d of %d left out (no free place near their anchor)", dropped, len(out))
    return out


def marker_boxes(ax, x, y, size_px: float) -> list[tuple[float, float, float, float]]:
    """Display-pixel boxes of square markers of ``size_px`` centred on data points ``(x, y)``."""
    pts = ax.transData.transform(np.column_stack([np.atleast_1d(x), np.atleast_1d(y)]))
    h = 0.5 * size_px
    return [(px - h, py - h, px + h, py + h) for px, py in pts]
