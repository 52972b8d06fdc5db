"""Streamed prediction (``predict_to_file``, ``netqa predict``): tile by tile into the GeoTIFF, equal to the in-memory path."""

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import rasterio

import netqa.predict.run as predict_run
import netqa.predict.tiles as predict_tiles
from netqa.cli import main
from netqa.errors import ConfigError, OutputExistsError, RasterError
from netqa.grid import Grid
from netqa.io.raster import read_clutter, read_clutter_window, read_clutter_table
from netqa.predict import TILE_MARGIN_PX, PredictConfig, predict, predict_to_file, write_coverage, write_per_cell
from propagation import ValidityRangeWarning

TESTDATA = Path(__file__).resolve().parents[1] / "testdata"
CELLS, DEM = TESTDATA / "cells.csv", TESTDATA / "dem.tif"
CLUTTER, TABLE = TESTDATA / "clutter.tif", TESTDATA / "clutter_classes.csv"
#: Coarse pixels, a small radius and 64-px tiles: about 160 x 160 px in 3 x 3 tiles, a second per run.
FAST = dict(radius_km=2.0, resolution_m=120.0, tile_px=64)
CASES = {
    "hata-no-terrain": (dict(model="hata", terrain="none"), False),
    "hata-bullington-table": (dict(model="hata", terrain="delta-bullington"), True),
    "fspl-bullington-p2108": (dict(model="fspl", terrain="delta-bullington", clutter_model="p2108"), True),
    "fspl-none-p2108-statistical": (dict(model="fspl", terrain="none", clutter_model="p2108-statistical"), True),
}


def _inputs(with_clutter):
    return dict(clutter=CLUTTER, clutter_table=TABLE) if with_clutter else {}


def _quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ValidityRangeWarning)  # the 3500 MHz carrier lies above P.2108 3.1's 3 GHz
        return fn(*args, show_progress=False, **kw)


def _read(path):
    with rasterio.open(path) as ds:
        return {
            "data": ds.read(), "profile": {k: v for k, v in ds.profile.items()}, "tags": ds.tags(),
            "descriptions": ds.descriptions, "units": ds.units, "band_tags": [ds.tags(i) for i in range(1, ds.count + 1)],
        }  # fmt: skip


@pytest.fixture(scope="module", params=list(CASES), ids=list(CASES))
def pair(request, tmp_path_factory):
    """The in-memory path (predict + write_coverage/write_per_cell) and the streamed one, on the same inputs."""
    settings, with_clutter = CASES[request.param]
    cfg = PredictConfig(**FAST, **settings)
    d = tmp_path_factory.mktemp(request.param)
    result = _quiet(predict, CELLS, DEM, config=cfg, per_cell=True, **_inputs(with_clutter))
    write_coverage(result, d / "memory.tif")
    write_per_cell(result, d / "memory_cells.tif")
    _quiet(predict_to_file, CELLS, DEM, d / "stream.tif", config=cfg, per_cell_out=d / "stream_cells.tif",
           **_inputs(with_clutter))  # fmt: skip
    return request.param, result, d


def test_the_test_case_spans_several_tiles_with_coverage(pair):
    _, result, _ = pair
    assert result.grid.height > 2 * FAST["tile_px"] and result.grid.width > 2 * FAST["tile_px"]
    assert 0.2 < np.isfinite(result.rsrp_dbm).mean() < 1.0


def test_streamed_bands_equal_the_in_memory_file_pixel_for_pixel(pair):
    _, _, d = pair
    memory, stream = _read(d / "memory.tif"), _read(d / "stream.tif")
    np.testing.assert_array_equal(stream["data"], memory["data"])  # nodata (-9999) positions included


def test_streamed_file_has_the_same_profile_descriptions_units_and_tags(pair):
    _, _, d = pair
    memory, stream = _read(d / "memory.tif"), _read(d / "stream.tif")
    for key in ("profile", "tags", "descriptions", "units", "band_tags"):
        assert stream[key] == memory[key], key
    assert stream["descriptions"] == ("rsrp_dbm", "best_cell", "sinr_db", "dl_mbps", "ul_mbps")
    assert len(json.loads(stream["tags"]["best_cell"])) == 84


def test_streamed_per_cell_file_equals_the_in_memory_one(pair):
    _, _, d = pair
    memory, stream = _read(d / "memory_cells.tif"), _read(d / "stream_cells.tif")
    np.testing.assert_array_equal(stream["data"], memory["data"])
    for key in ("profile", "tags", "descriptions", "units"):
        assert stream[key] == memory[key], key


def test_small_tiles_equal_one_tile_over_the_whole_grid_to_float_rounding(pair):
    # the tiles change only the memory and, at a few pixels, the last bits (the DEM resampled per window, the
    # pixel coordinates from the window's origin): equal here, allowed 1e-3 dB and one best server in 10^4
    case, result, _ = pair
    settings, with_clutter = CASES[case]
    whole = _quiet(predict, CELLS, DEM, config=PredictConfig(**{**FAST, "tile_px": 4096}, **settings),
                   **_inputs(with_clutter))  # fmt: skip
    for name in ("rsrp_dbm", "sinr_db", "dl_mbps", "ul_mbps"):
        np.testing.assert_allclose(result.band(name), whole.band(name), rtol=0, atol=1e-3, err_msg=name)
    assert np.mean(result.best_cell != whole.best_cell) <= 1e-4


class _EngineSpy:
    """Records the arrays and region the netqa side hands to the engine, then runs it."""

    def __init__(self, engine):
        self.engine, self.calls = engine, []

    def __call__(self, matrix, elev_m, spec, config, **kw):
        self.calls.append((np.shape(elev_m), np.shape(kw.get("clutter_db")), kw.get("region")))
        return self.engine(matrix, elev_m, spec, config, **kw)


def test_engine_never_gets_terrain_larger_than_a_tile_and_its_margin(monkeypatch, tmp_path):
    spy = _EngineSpy(predict_tiles.predict_coverage)
    monkeypatch.setattr(predict_tiles, "predict_coverage", spy)
    cfg = PredictConfig(**FAST, model="hata", terrain="delta-bullington")
    _quiet(predict_to_file, CELLS, DEM, tmp_path / "c.tif", config=cfg, **_inputs(True))
    margin_px = int(np.ceil(cfg.radius_km * 1000.0 / cfg.resolution_m)) + TILE_MARGIN_PX
    side = cfg.tile_px + 2 * margin_px
    with rasterio.open(tmp_path / "c.tif") as ds:
        n_tiles = int(np.ceil(ds.height / cfg.tile_px) * np.ceil(ds.width / cfg.tile_px))
        assert max(ds.height, ds.width) > side  # the bound below is smaller than the grid
    assert len(spy.calls) == n_tiles
    for elev_shape, clutter_shape, (r0, r1, c0, c1) in spy.calls:
        assert elev_shape[0] <= side and elev_shape[1] <= side
        assert clutter_shape == elev_shape
        assert r1 - r0 <= cfg.tile_px and c1 - c0 <= cfg.tile_px


def test_progress_is_reported_once_per_tile(monkeypatch, tmp_path):
    updates = []

    class FakeProgress:
        def __init__(self, desc, total=None, unit="items"):
            updates.append(("total", total, unit))

        def update(self, n=1):
            updates.append(("update", n))

        def close(self):
            updates.append(("close",))

    monkeypatch.setattr(predict_run, "Progress", FakeProgress)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ValidityRangeWarning)
        predict_to_file(CELLS, DEM, tmp_path / "c.tif", config=PredictConfig(**FAST))
    n_tiles = updates[0][1]
    assert updates[0] == ("total", n_tiles, "tiles") and n_tiles == 9
    assert updates[1:] == [("update", 1)] * n_tiles + [("close",)]


@pytest.fixture(scope="module")
def holed_dem(tmp_path_factory):
    """The test-world DEM with a 5 x 5 px void near its south-east corner (x 496000.., y 4472000..)."""
    path = tmp_path_factory.mktemp("holed") / "dem_void.tif"
    with rasterio.open(DEM) as src:
        elev, profile = src.read(1), src.profile
        row, col = src.index(496_000.0, 4_472_150.0)
    elev[row : row + 5, col : col + 5] = profile["nodata"]
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(elev, 1)
    return path


def test_dem_void_under_a_tile_fails_naming_its_extent_and_writes_nothing(holed_dem, tmp_path):
    out = tmp_path / "c.tif"
    with pytest.raises(RasterError, match=r"25 void or gap pixels \(no data\) lie under the requested bounds"):
        _quiet(predict_to_file, CELLS, holed_dem, out, config=PredictConfig(**FAST), per_cell_out=tmp_path / "p.tif")
    assert list(tmp_path.iterdir()) == []  # no output, no temporary file


def test_dem_void_message_names_the_tile_window_and_the_void(holed_dem, tmp_path):
    cfg = PredictConfig(**FAST)
    with pytest.raises(RasterError) as info:
        _quiet(predict_to_file, CELLS, holed_dem, tmp_path / "c.tif", config=cfg)
    msg = str(info.value)
    left, bottom, right, top = (float(v) for v in msg.split("requested bounds (")[1].split(")")[0].split(","))
    assert left <= 496_000 <= right and bottom <= 4_472_150 <= top  # the window holds the void ...
    margin_m = (np.ceil(cfg.radius_km * 1000.0 / cfg.resolution_m) + TILE_MARGIN_PX) * cfg.resolution_m
    assert right - left <= cfg.tile_px * cfg.resolution_m + 2 * margin_m  # ... and is one tile's, not the area's
    lon, lat = (float(v) for v in msg.split("the first at lon ")[1].split(";")[0].split(", lat "))
    assert lon == pytest.approx(-3.0471, abs=2e-3) and lat == pytest.approx(40.3999, abs=2e-3)


def test_dem_not_covering_the_area_fails_before_any_tile(tmp_path):
    cfg = PredictConfig(**FAST, bounds=(478_000.0, 4_470_000.0, 500_000.0, 4_490_000.0), bounds_crs="EPSG:32630")
    with pytest.raises(RasterError, match="uncovered west of x 480000"):
        _quiet(predict_to_file, CELLS, DEM, tmp_path / "c.tif", config=cfg)
    assert list(tmp_path.iterdir()) == []


def test_existing_output_is_refused_before_any_work(tmp_path, monkeypatch):
    out = tmp_path / "c.tif"
    out.write_bytes(b"keep me")
    monkeypatch.setattr(predict_run, "make_plan", lambda *a, **k: pytest.fail("work started"))
    with pytest.raises(OutputExistsError, match="--overwrite"):
        predict_to_file(CELLS, DEM, out, config=PredictConfig(**FAST), show_progress=False)
    assert out.read_bytes() == b"keep me"


@pytest.mark.parametrize("tile_px", [8, 64.5, True], ids=["too-small", "fraction", "bool"])
def test_bad_tile_size_is_named(tile_px):
    with pytest.raises(ConfigError, match="--tile-px"):
        PredictConfig(tile_px=tile_px)


@pytest.mark.parametrize("window", [(0, 0, 40, 50), (100, 90, 61, 70), (30, 140, 50, 40)], ids=["nw", "se", "east"])
def test_windowed_clutter_read_equals_the_whole_read(window):
    table = read_clutter_table(TABLE)
    grid = Grid.from_bounds("EPSG:32630", (480_840.0, 4_470_240.0, 499_800.0, 4_489_560.0), 120.0)
    whole, _ = read_clutter(CLUTTER, TABLE, grid=grid)
    part = read_clutter_window(CLUTTER, table, grid.window(*window))
    r0, c0, rows, cols = window
    np.testing.assert_array_equal(part.values, whole.values[r0 : r0 + rows, c0 : c0 + cols][: part.grid.height, : part.grid.width])
    np.testing.assert_array_equal(part.nodata_mask, whole.nodata_mask[r0 : r0 + rows, c0 : c0 + cols][: part.grid.height, : part.grid.width])


def test_cli_streams_and_equals_the_library_file(tmp_path):
    result = _quiet(predict, CELLS, DEM, config=PredictConfig(**FAST, model="hata"))
    write_coverage(result, tmp_path / "memory.tif")
    out = tmp_path / "cli.tif"
    argv = ["--quiet", "predict", "--cells", str(CELLS), "--dem", str(DEM), "--out", str(out), "--model", "hata",
            "--resolution-m", "120", "--radius-km", "2", "--tile-px", "64"]  # fmt: skip
    assert main(argv) == 0
    np.testing.assert_array_equal(_read(out)["data"], _read(tmp_path / "memory.tif")["data"])
    assert main(argv) == 2  # exists: refused without --overwrite
