"""Issue 13 item 4: the campaign report names the model that drew the coverage, not the compare stage's."""

from __future__ import annotations

import numpy as np
import rasterio
from rasterio.transform import from_origin

from netqa.report.run_folder import _coverage_model, _Run
from netqa.report.summary import _summary


def _coverage(path, **tags):
    with rasterio.open(path, "w", driver="GTiff", width=4, height=4, count=1, dtype="float32",
                       crs="EPSG:32630", transform=from_origin(480000, 4480000, 30, 30)) as ds:  # fmt: skip
        ds.write(np.full((1, 4, 4), -90.0, np.float32))
        ds.update_tags(**tags)
    return path


def test_coverage_model_comes_from_the_geotiff_tags(tmp_path):
    assert _coverage_model(_coverage(tmp_path / "a.tif", model="spm", model_file="tuned_model.toml")) == \
        "spm (tuned: tuned_model.toml)"
    assert _coverage_model(_coverage(tmp_path / "b.tif", model="cost231")) == "cost231"
    assert _coverage_model(_coverage(tmp_path / "c.tif")) is None


def test_summary_names_the_coverage_model_not_the_compare_model(tmp_path):
    run = _Run(tmp_path)
    run.predicted = {"rate": 0.9, "area_km2": 10.0, "rsrp_dbm_min": -110.0, "sinr_db_min": -3.0,
                     "model": "spm (tuned: tuned_model.toml)"}
    run.stats = [("configured model", tmp_path / "stats.json", {"model": {"model": "hata"}, "n": 10})]
    text, _ = _summary(run)
    assert "The prediction with the spm (tuned: tuned_model.toml) model covers" in text
    assert "prediction with the hata model" not in text
