"""netqa.compare.plots: the fixed margins hold every label, title and colour bar inside the figure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from netqa.compare import plots


def _residuals(n: int, cell_names) -> pd.DataFrame:
    rng = np.random.default_rng(2)
    meas = rng.normal(-95.0, 12.0, n)
    pred = meas + rng.normal(-3.0, 8.0, n)
    return pd.DataFrame({"rsrp_measured_dbm": meas, "rsrp_predicted_dbm": pred, "error_db": pred - meas,
                         "dist_km": 10 ** rng.uniform(-1.5, 1.2, n), "cell_id": rng.choice(cell_names, n),
                         "dl_measured_mbps": rng.uniform(1, 80, n), "dl_predicted_mbps": rng.uniform(1, 80, n),
                         "ul_measured_mbps": np.nan, "ul_predicted_mbps": np.nan})  # fmt: skip


@pytest.mark.parametrize(("n", "names"), [(3000, [f"{7936000 + i}" for i in range(40)]),
                                          (25000, [f"a-long-cell-name-{i:04d}" for i in range(12)])])  # fmt: skip
def test_every_text_lies_inside_its_figure(tmp_path, monkeypatch, n, names):
    figs = []
    save = plots._save

    def keep(fig, path, overwrite, outputs=None):
        figs.append((path.name, fig))
        return save(fig, path, overwrite, outputs)

    monkeypatch.setattr(plots, "_save", keep)
    res = _residuals(n, names)
    stats = {"rsrp": {"n": n, "mean_error_db": -3.0, "std_error_db": 8.0, "rmse_db": 8.5, "correlation": 0.8},
             "mean_error_db": -3.0}  # fmt: skip
    written = plots.write_plots(res, stats, tmp_path)
    assert [p.name for p in written] == [name for name, _ in figs]
    assert {"scatter.png", "per_cell.png", "cdf_dl_mbps.png"} <= {p.name for p in written}
    assert "cdf_ul_mbps.png" not in {p.name for p in written}  # no UL throughput: no plot
    for name, fig in figs:
        renderer = fig.canvas.get_renderer()
        box = fig.get_tightbbox(renderer)  # inches; every artist, tick labels and colour bar included
        w, h = fig.get_size_inches()
        assert box.x0 >= -0.01 and box.y0 >= -0.01 and box.x1 <= w + 0.01 and box.y1 <= h + 0.01, (name, box, (w, h))
