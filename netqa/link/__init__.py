"""Path-profile analysis of one link (``netqa link``): what an engineer opens when prediction and drive test disagree.

Python API::

    from netqa.link import analyse_link, write_link
    link = analyse_link("testdata/cells.csv", "testdata/dem.tif", cell_id="LTE1800-01-A",
                        rx_lonlat=(-1.95, 52.45))
    link.losses, link.obstacles, link.line_of_sight
    write_link(link, "profile.png", json_out="profile.json")

Package layout (arrows point down)::

    __init__  write_link(): the picture and the JSON, each written atomically
    plot      draw_profile(): terrain, earth bulge, clutter, ray, Fresnel zone, obstacles, loss table
    analyse   analyse_link(): the profile, the Deygout obstacles, the losses through the engine's points mode
"""

from __future__ import annotations

import json
from pathlib import Path

from netqa.errors import InputError
from netqa.fileio import atomic_set, check_output
from netqa.link.analyse import LinkAnalysis, LossRow, Obstacle, analyse_link, site_cell_table
from netqa.link.plot import FORMATS, draw_profile

__all__ = ["LinkAnalysis", "LossRow", "Obstacle", "analyse_link", "draw_profile", "site_cell_table", "write_link"]


def write_link(link: LinkAnalysis, out, *, json_out=None, overwrite: bool = False) -> list[Path]:
    """Write the profile picture ``out`` (``.png`` or ``.svg``) and, optionally, ``json_out``; return the paths.

    Both are checked before anything is written (an existing file needs
    ``overwrite``) and they are committed as one set
    (:func:`netqa.fileio.atomic_set`): a failure or a kill leaves the old pair
    or the new pair, never a picture of one link beside the JSON of another.
    """
    out = Path(out)
    if out.suffix.lower() not in FORMATS:
        raise InputError(f"--out {out}: the picture must end in {' or '.join(FORMATS)}")
    check_output(out, overwrite)
    members = [out]
    if json_out is not None:
        members.append(check_output(json_out, overwrite))
    with atomic_set(members) as outputs:
        draw_profile(link, outputs.path(out))
        if json_out is not None:
            outputs.path(members[1]).write_text(json.dumps(link.to_dict(), indent=2) + "\n", encoding="utf-8")
    return members
