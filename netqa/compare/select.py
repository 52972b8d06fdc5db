"""Site and cell selection of the samples used by ``compare`` and ``calibrate`` (``--sites``, ``--exclude-sites``,
``--cell-ids``), and the sample filters both commands share by default.

A selection keeps the samples whose **serving** cell is selected; every cell
of the table still transmits (interference, best server), so a model
calibrated on some sites and compared on the others (``--sites
@train.txt`` / ``--sites @test.txt``) sees the same network.  The three
flags combine: a sample is kept when its serving cell's site is in
``--sites`` (when given), not in ``--exclude-sites``, and its cell id is in
``--cell-ids`` (when given).  A list is comma-separated ids or ``@FILE`` (one
id a line, ``#`` comments).

Default filters (:data:`DEFAULT_FILTERS`, one definition for both commands):

* ``min_dist_km = 0.1``: nearer than 100 m a receiver sits at elevation
  angles over 15 deg below a 30 m mast, in the vertical pattern's side lobes
  where neither the sector pattern nor an empirical slope holds, and close to
  the antenna's Fraunhofer distance 2 D^2 / lambda (53 m for a 2 m panel at
  2 GHz; C. A. Balanis, Antenna Theory, 4th ed., s. 2.2.4);
* ``max_dist_km = 20``: the upper end of the Hata / COST-231 validity range
  (1-20 km) and beyond the engine's default 15 km cell radius;
* ``rsrp_floor_dbm = -130``: thermal noise per 15 kHz resource element is
  -174 + 41.8 = -132.2 dBm, -125 dBm with a 7 dB UE noise figure; RSRP
  accuracy is specified down to Es/Iot = -6 dB (3GPP TS 36.133 s. 9.1.2), so
  below about -131 dBm a UE reports only the samples it still decodes (the
  survivors of the fading), which biases a fit toward too little loss.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from netqa.compare.binning import SampleFilters
from netqa.errors import InputError
from netqa.schema import DEFAULT_FILTER_VALUES

#: The distance and signal filters of compare and calibrate (see the module docstring).
DEFAULT_FILTERS = SampleFilters(**DEFAULT_FILTER_VALUES)


def parse_id_list(value, flag: str) -> tuple[str, ...] | None:
    """Ids from ``"a,b,c"``, ``"@FILE"`` (one a line, ``#`` comments) or a sequence; None passes through.

    >>> parse_id_list("VAL01, VAL02", "--sites")
    ('VAL01', 'VAL02')
    """
    if value is None:
        return None
    if isinstance(value, str):
        if value.startswith("@"):
            p = Path(value[1:])
            if not p.is_file():
                raise InputError(f"{flag} {value}: file {p} not found")
            items = [ln.split("#", 1)[0].strip() for ln in p.read_text(encoding="utf-8").splitlines()]
        else:
            items = value.split(",")
    else:
        items = [str(v) for v in value]
    ids = tuple(dict.fromkeys(i.strip() for i in items if i.strip()))
    if not ids:
        raise InputError(f"{flag} {value!r}: no id given")
    return ids


@dataclass(frozen=True)
class Selection:
    """Serving-cell selection: ``sites`` (keep only these site ids), ``exclude_sites``, ``cells`` (cell ids)."""

    sites: tuple[str, ...] | None = None
    exclude_sites: tuple[str, ...] | None = None
    cells: tuple[str, ...] | None = None

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.sites, self.exclude_sites, self.cells))

    def cell_mask(self, cells: pd.DataFrame) -> np.ndarray:
        """Boolean per row of the cell table: selected as a serving cell.

        Raises :class:`InputError` naming the flag and the ids not in the cell table.
        """
        ids = cells["cell_id"].astype(str).to_numpy()
        site = site_labels(cells)
        keep = np.ones(len(cells), bool)
        for flag, wanted, have in (("--sites", self.sites, site), ("--exclude-sites", self.exclude_sites, site),
                                   ("--cell-ids", self.cells, ids)):  # fmt: skip
            if wanted is None:
                continue
            unknown = sorted(set(wanted) - set(have.tolist()))
            if unknown:
                raise InputError(f"{flag}: {', '.join(unknown[:5])}{' ...' if len(unknown) > 5 else ''} not in the "
                                 f"cell table ({'site_id' if 'sites' in flag else 'cell_id'} column)")  # fmt: skip
            inside = np.isin(have, list(wanted))
            keep &= ~inside if flag == "--exclude-sites" else inside
        return keep


def site_labels(cells: pd.DataFrame) -> np.ndarray:
    """``site_id`` per cell; a cell without one is its own site (its ``cell_id``)."""
    ids = cells["cell_id"].astype(str).to_numpy(object)
    if "site_id" not in cells.columns:
        return ids
    s = cells["site_id"].astype("string").str.strip()
    return np.where(s.isna() | (s == ""), ids, s.fillna("").to_numpy(object)).astype(object)


__all__ = ["DEFAULT_FILTERS", "Selection", "parse_id_list", "site_labels"]
