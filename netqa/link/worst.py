"""Profiles of the worst-predicted samples of a comparison, for the campaign report.

:func:`worst_links` reads ``residuals.parquet`` of ``netqa compare``, takes
the ``n`` compared samples with the largest |predicted - measured| (one per
serving cell, so that one bad cell does not fill the list) and writes each
one's path profile (:func:`netqa.link.analyse_link` with the comparison's own
settings) as ``worst_K.png`` and ``worst_K.json``, plus ``index.json``
listing them with their error, into ``out_dir``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from netqa.errors import InputError
from netqa.fileio import atomic_set, check_output
from netqa.link.analyse import analyse_link
from netqa.link.plot import draw_profile

log = logging.getLogger(__name__)

__all__ = ["worst_links"]


def worst_links(residuals, cells, dem, out_dir, *, n: int = 3, clutter=None, clutter_table=None, model: str = "hata",
                terrain: str = "delta-bullington", model_file=None, rx_height_m: float = 1.5,
                resolution_m: float = 30.0, overwrite: bool = False) -> list[Path]:  # fmt: skip
    """Write the profiles of the ``n`` worst-predicted samples (largest |error_db|, one per cell) into ``out_dir``.

    Returns the files written (``index.json`` last); none when nothing was compared.
    """
    path = Path(residuals)
    if not path.is_file():
        raise InputError(f"{path}: residuals file not found (write it with netqa compare)")
    res = pd.read_parquet(path, columns=["lat", "lon", "cell_id", "rsrp_measured_dbm", "rsrp_predicted_dbm",
                                         "error_db", "dist_km", "compared"])  # fmt: skip
    res = res[res["compared"].astype(bool) & np.isfinite(res["error_db"])]
    if res.empty:
        return []
    order = res.assign(abs_err=res["error_db"].abs()).sort_values(["abs_err", "cell_id"], ascending=[False, True],
                                                                   kind="mergesort")  # fmt: skip
    picks = order.drop_duplicates("cell_id").head(n)
    out = Path(out_dir)
    links, entries = [], []
    for k, row in enumerate(picks.itertuples(index=False), start=1):
        link = analyse_link(cells, dem, cell_id=str(row.cell_id), rx_lonlat=(float(row.lon), float(row.lat)),
                            rx_height_m=rx_height_m, clutter=clutter, clutter_table=clutter_table,
                            model_file=model_file, resolution_m=resolution_m, model=model, terrain=terrain,
                            measured_rsrp_dbm=float(row.rsrp_measured_dbm))  # fmt: skip
        links.append(link)
        entries.append({"rank": k, "png": f"worst_{k}.png", "json": f"worst_{k}.json", "cell_id": str(row.cell_id),
                        "lat": float(row.lat), "lon": float(row.lon), "dist_km": round(float(row.dist_km), 3),
                        "rsrp_measured_dbm": round(float(row.rsrp_measured_dbm), 2),
                        "rsrp_predicted_dbm": round(float(row.rsrp_predicted_dbm), 2),
                        "error_db": round(float(row.error_db), 2), "line_of_sight": link.line_of_sight,
                        "principal_obstacle_v": round(link.obstacles[0].v, 3) if link.obstacles else None})  # fmt: skip
    # the pictures, their JSON and the index are one set: a kill never leaves profiles of two runs side by side
    members = [out / "index.json"] + [out / f"worst_{e['rank']}.{x}" for e in entries for x in ("png", "json")]
    for m in members:
        check_output(m, overwrite)
    with atomic_set(members) as outputs:
        for e, link in zip(entries, links):
            draw_profile(link, outputs.path(out / e["png"]))
            outputs.path(out / e["json"]).write_text(json.dumps(link.to_dict(), indent=2) + "\n", encoding="utf-8")
        outputs.path(members[0]).write_text(json.dumps({"profiles": entries}, indent=2) + "\n", encoding="utf-8")
    log.info("link: profiles of the %d worst-predicted samples in %s", len(entries), out)
    return members[1:] + members[:1]
