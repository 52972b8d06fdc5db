"""Cell tables: rs_power_dbm alone suffices (tx_power_dbm derived), and the optional site ground altitude ground_m."""

from __future__ import annotations

import math

import numpy as np
import pytest

from netqa.errors import CellTableError
from netqa.io.cells import read_cells
from netqa.predict.inputs import engine_cells
from netqa.schema import CELL_COLUMNS

NO_TX = [c for c in CELL_COLUMNS if c != "tx_power_dbm"]
ROWS = [  # site_id, cell_id, lat, lon, height_m, azimuth_deg, mech, elec, freq_mhz, bandwidth_mhz, tech
    ["S1", "S1A", "51.90", "-8.47", "30", "0", "2", "4", "1842.5", "20", "LTE"],
    ["S2", "S2A", "51.91", "-8.45", "25", "240", "0", "6", "3500", "100", "NR"],
]


def write(path, header, rows):
    path.write_text("\n".join([",".join(header)] + [",".join(r) for r in rows]) + "\n")
    return path


def test_rs_power_alone_suffices_and_total_is_derived(tmp_path):
    p = write(tmp_path / "c.csv", NO_TX + ["rs_power_dbm"], [r + ["15.2"] for r in ROWS])
    df = read_cells(p)
    # LTE 20 MHz: 100 RB -> total = RS + 10 log10(1200); NR 100 MHz at 30 kHz: 273 RB -> + 10 log10(3276)
    assert df["tx_power_dbm"].iloc[0] == pytest.approx(15.2 + 10 * math.log10(1200), abs=1e-9)
    assert df["tx_power_dbm"].iloc[1] == pytest.approx(15.2 + 10 * math.log10(12 * 273), abs=1e-9)
    assert df["rs_power_dbm"].tolist() == [15.2, 15.2]


def test_rs_power_used_as_given_by_the_engine(tmp_path):
    p = write(tmp_path / "c.csv", NO_TX + ["rs_power_dbm"], [r + ["12.0"] for r in ROWS])
    m, _ = engine_cells(read_cells(p), "c.csv", np.zeros(2), np.zeros(2), radius_km=10.0, load=1.0)
    from propagation.engine._common import C_RS

    assert m[:, C_RS].tolist() == [12.0, 12.0]


def test_neither_power_is_a_clear_error(tmp_path):
    p = write(tmp_path / "c.csv", NO_TX, ROWS)
    with pytest.raises(CellTableError, match="missing required column.*tx_power_dbm"):
        read_cells(p)


def test_rs_power_cannot_give_a_gsm_total(tmp_path):
    rows = [["S3", "S3A", "51.92", "-8.44", "30", "0", "0", "0", "947.5", "0.2", "GSM", "30"]]
    p = write(tmp_path / "c.csv", NO_TX + ["rs_power_dbm"], rows)
    with pytest.raises(CellTableError, match="tx_power_dbm.*cannot be derived from rs_power_dbm"):
        read_cells(p)


def test_ground_m_read_and_used_at_the_mast(tmp_path):
    header = list(CELL_COLUMNS) + ["ground_m"]
    rows = [r[:8] + ["46"] + r[8:] + [g] for r, g in zip(ROWS, ["123.5", ""])]
    df = read_cells(write(tmp_path / "c.csv", header, rows))
    assert df["ground_m"].iloc[0] == 123.5 and np.isnan(df["ground_m"].iloc[1])
    from propagation.engine._common import C_GROUND

    m, _ = engine_cells(df, "c.csv", np.zeros(2), np.zeros(2), radius_km=10.0, load=1.0)
    assert m[0, C_GROUND] == 123.5 and np.isnan(m[1, C_GROUND])  # NaN: the engine takes the DEM


@pytest.mark.parametrize("value", ["-500", "9500"], ids=["below-dead-sea", "above-everest"])
def test_ground_m_out_of_range_is_refused(tmp_path, value):
    header = list(CELL_COLUMNS) + ["ground_m"]
    rows = [r[:8] + ["46"] + r[8:] + [value] for r in ROWS]
    with pytest.raises(CellTableError, match="ground_m.*outside -450..9000 m"):
        read_cells(write(tmp_path / "c.csv", header, rows))
