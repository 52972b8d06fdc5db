"""The campaign report's 'Worst cells' table from the per-cell statistics (netqa kpi --per-cell)."""

import pandas as pd
from test_maps_report import _text, run_dir  # noqa: F401  (the report tests' run folder fixture)

from netqa.kpi_cells import PER_CELL_COLUMNS
from netqa.report import write_report


def _cells_table(rows):
    df = pd.DataFrame(rows)
    for c in PER_CELL_COLUMNS:
        if c not in df:
            df[c] = float("nan")
    return df[list(PER_CELL_COLUMNS)]


def test_worst_cells_table_in_order_and_few_sample_cells_left_out(tmp_path, run_dir):  # noqa: F811
    _cells_table([
        {"cell_id": "GOOD", "n_samples": 200, "coverage_rate": 0.99, "n_calls": 10, "n_drops": 0, "drop_rate": 0.0},
        {"cell_id": "BAD", "n_samples": 120, "coverage_rate": 0.61, "coverage_rate_ci_low": 0.52,
         "coverage_rate_ci_high": 0.69, "rsrp_dbm_mean_lin": -101.3, "n_calls": 4, "n_drops": 1, "drop_rate": 0.25},
        {"cell_id": "TINY", "n_samples": 5, "coverage_rate": 0.0},
    ]).to_csv(run_dir / "kpi_cells.csv", index=False)
    text = _text(write_report(run_dir, tmp_path / "r.html"))
    part = text.split("Worst cells", 1)[1]
    assert part.index("BAD") < part.index("GOOD")
    assert "TINY" not in part.split("From", 1)[0]  # 5 samples: too few to rank
    assert "61.0 %" in part and "52.0–69.0 %" in part and "-101.3" in part.replace("−", "-")
    assert "25.0 % (1/4)" in part


def test_no_per_cell_table_no_section(tmp_path, run_dir):  # noqa: F811
    assert "Worst cells" not in _text(write_report(run_dir, tmp_path / "r.html"))
