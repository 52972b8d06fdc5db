"""``netqa predict`` on Dask (``--scheduler``, ``--workers``): the same file as the run in this process."""

import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
import rasterio

from netqa import daskclient
from netqa.predict import dask_tiles as predict_dask
from netqa.predict import tiles as predict_tiles
from netqa.cli import main
from netqa.errors import InputError
from netqa.fileio import sha256_file
from netqa.predict import PredictConfig, predict, predict_to_file
from netqa.predict.tiles import compute_tile, make_plan
from propagation import ValidityRangeWarning

distributed = pytest.importorskip("distributed")

TESTDATA = Path(__file__).resolve().parents[1] / "testdata"
CELLS, DEM = TESTDATA / "cells.csv", TESTDATA / "dem.tif"
CLUTTER, TABLE = TESTDATA / "clutter.tif", TESTDATA / "clutter_classes.csv"
#: Coarse pixels, a small radius and 64-px tiles: about 160 x 160 px in 3 x 3 tiles, a second per run.
FAST = {"radius_km": 2.0, "resolution_m": 120.0, "tile_px": 64}
CONFIG = PredictConfig(model="fspl", terrain="delta-bullington", clutter_model="p2108", **FAST)
INPUTS = {"clutter": CLUTTER, "clutter_table": TABLE, "config": CONFIG}
FAST_FLAGS = ["--radius-km", "2", "--resolution-m", "120", "--tile-px", "64"]


def _quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ValidityRangeWarning)  # the 3500 MHz carrier lies above P.2108 3.1's 3 GHz
        return fn(*args, show_progress=False, **kw)


def _read(path):
    with rasterio.open(path) as ds:
        return {"data": ds.read(), "tags": ds.tags(), "descriptions": ds.descriptions, "units": ds.units,
                "band_tags": [ds.tags(i) for i in range(1, ds.count + 1)]}  # fmt: skip


@pytest.fixture(scope="module")
def cluster():
    """Two single-threaded workers in this process (fast to start; the task code is the same as in processes)."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as c:
        yield c


@pytest.fixture(scope="module")
def runs(tmp_path_factory, cluster):
    """The coverage and per-cell files written in this process and with the cluster's scheduler."""
    d = tmp_path_factory.mktemp("predict_dask")
    _quiet(predict_to_file, CELLS, DEM, d / "serial.tif", per_cell_out=d / "serial_cells.tif", **INPUTS)
    _quiet(predict_to_file, CELLS, DEM, d / "dask.tif", per_cell_out=d / "dask_cells.tif",
           scheduler=cluster.scheduler_address, **INPUTS)  # fmt: skip
    return d


@pytest.fixture(scope="module")
def plan():
    return _quiet(lambda **kw: make_plan(CELLS, DEM, grid=None, **INPUTS))


def test_the_test_case_spans_several_tiles(plan):
    assert plan.n_tiles == 9


@pytest.mark.parametrize("name", ["", "_cells"], ids=["coverage", "per-cell"])
def test_scheduler_run_writes_the_same_bands_and_tags(runs, name):
    serial, dask = _read(runs / f"serial{name}.tif"), _read(runs / f"dask{name}.tif")
    np.testing.assert_array_equal(dask["data"], serial["data"])
    for key in ("tags", "descriptions", "units", "band_tags"):
        assert dask[key] == serial[key], key


@pytest.mark.parametrize("name", ["", "_cells"], ids=["coverage", "per-cell"])
def test_scheduler_run_writes_the_same_file_bytes(runs, name):
    assert sha256_file(runs / f"dask{name}.tif") == sha256_file(runs / f"serial{name}.tif")


def test_predict_in_memory_on_the_scheduler_equals_the_local_arrays(cluster):
    local = _quiet(predict, CELLS, DEM, per_cell=True, **INPUTS)
    remote = _quiet(predict, CELLS, DEM, per_cell=True, scheduler=cluster.scheduler_address, **INPUTS)
    for name in ("rsrp_dbm", "best_cell", "sinr_db", "dl_mbps", "ul_mbps", "per_cell"):
        np.testing.assert_array_equal(getattr(remote, name), getattr(local, name), err_msg=name)


def test_plan_survives_pickling_with_the_same_tile_result(plan):
    tile = list(plan.grid.tiles(plan.config.tile_px))[4]  # the centre tile: margin on every side
    direct = compute_tile(plan, tile, True)
    again = compute_tile(pickle.loads(pickle.dumps(plan)), tile, True)
    for a, b in zip(direct.bands + (direct.per_cell,), again.bands + (again.per_cell,)):
        np.testing.assert_array_equal(a, b)
    assert direct[2:] == again[2:]


def test_tiles_come_back_in_order_with_a_bounded_number_in_flight(plan, cluster, monkeypatch):
    """Spy on the submissions: submitted minus handed-out tiles never exceeds 2 per worker thread."""
    state = {"submitted": 0, "yielded": 0, "max_held": 0}
    real = predict_dask._submit_tile

    def spy(*args, **kw):
        state["submitted"] += 1
        state["max_held"] = max(state["max_held"], state["submitted"] - state["yielded"])
        return real(*args, **kw)

    monkeypatch.setattr(predict_dask, "_submit_tile", spy)
    order = []
    for tile, _ in predict_dask.iter_tiles_dask(plan, per_cell=False, scheduler=cluster.scheduler_address):
        order.append(tile)
        state["yielded"] += 1
    assert order == list(plan.grid.tiles(plan.config.tile_px))
    assert state["submitted"] == 9
    assert state["max_held"] == predict_dask.TILES_IN_FLIGHT_PER_THREAD * 2  # 2 workers x 1 thread, 9 tiles > 4


def test_dem_unreadable_on_the_workers_is_a_one_line_input_error(cluster, tmp_path, monkeypatch):
    monkeypatch.setattr(predict_dask, "_readable", lambda path: False)  # what a worker without the file sees
    with pytest.raises(InputError, match=r"dem\.tif: the DEM is not readable on Dask worker .* readable from every worker") as exc:
        _quiet(predict_to_file, CELLS, DEM, tmp_path / "x.tif", scheduler=cluster.scheduler_address, **INPUTS)
    assert "\n" not in str(exc.value)
    assert not (tmp_path / "x.tif").exists()


def test_tile_reads_run_under_the_capped_gdal_cache(plan, monkeypatch):
    monkeypatch.delenv("GDAL_CACHEMAX", raising=False)
    seen = []
    real = predict_tiles.read_elevation

    def spy(p, sub):
        seen.append(rasterio.env.getenv().get("GDAL_CACHEMAX"))
        return real(p, sub)

    monkeypatch.setattr(predict_tiles, "read_elevation", spy)
    compute_tile(plan, next(iter(plan.grid.tiles(plan.config.tile_px))), False)
    assert seen == [predict_tiles.TILE_READ_CACHE_MB]


def test_tile_reads_keep_a_gdal_cachemax_the_user_set(plan, monkeypatch):
    seen = []
    real = predict_tiles.read_elevation

    def spy(p, sub):
        seen.append(rasterio.env.get_gdal_config("GDAL_CACHEMAX"))
        return real(p, sub)

    monkeypatch.setattr(predict_tiles, "read_elevation", spy)
    with rasterio.Env(GDAL_CACHEMAX=64):
        compute_tile(plan, next(iter(plan.grid.tiles(plan.config.tile_px))), False)
    assert seen == [64]


def test_cli_unreachable_scheduler_exits_2_with_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(daskclient, "CONNECT_TIMEOUT_S", 1)
    code = main(["--quiet", "predict", "--cells", str(CELLS), "--dem", str(DEM), "--out", str(tmp_path / "c.tif"), *FAST_FLAGS,
                 "--scheduler", "tcp://127.0.0.1:1"])  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert "--scheduler 'tcp://127.0.0.1:1': cannot connect to the Dask scheduler" in err
    assert len(err.splitlines()) == 1
    assert not (tmp_path / "c.tif").exists()


def test_cli_workers_0_exits_2(tmp_path, capsys):
    code = main(["predict", "--cells", str(CELLS), "--dem", str(DEM), "--out", str(tmp_path / "c.tif"), "--workers", "0"])
    assert code == 2
    assert "argument --workers: '0' is not a whole number >= 1" in capsys.readouterr().err  # at parse time


def test_library_workers_0_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="--workers 0"):
        predict_to_file(CELLS, DEM, tmp_path / "c.tif", workers=0, show_progress=False)


@pytest.mark.slow
def test_cli_two_worker_processes_write_the_same_file(runs, tmp_path):
    """A real local cluster of 2 processes (numba on one thread each): byte for byte the serial file."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ValidityRangeWarning)
        code = main(["--quiet", "predict", "--cells", str(CELLS), "--dem", str(DEM), "--clutter", str(CLUTTER),
                     "--clutter-table", str(TABLE), "--model", "fspl", "--terrain", "delta-bullington",
                     "--clutter-model", "p2108", *FAST_FLAGS, "--workers", "2", "--out", str(tmp_path / "w2.tif")])  # fmt: skip
    assert code == 0
    assert sha256_file(tmp_path / "w2.tif") == sha256_file(runs / "serial.tif")
