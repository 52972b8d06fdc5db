"""netqa.link and ``netqa link``: the path profile, its obstacles and losses, against hand-computed physics."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import rasterio
from rasterio.transform import from_origin

from netqa.cli import main
from netqa.link import analyse_link, site_cell_table, write_link
from propagation import free_space_loss_db, knife_edge_loss_db

# a 12 x 12 km UTM 30N square at the test world's latitude, 30 m pixels
X0, Y0, PX, N = 480000.0, 4490000.0, 30.0, 400
C = 299_792_458.0


def _dem(path, elev):
    with rasterio.open(path, "w", driver="GTiff", height=N, width=N, count=1, dtype="float32", crs="EPSG:32630",
                       transform=from_origin(X0, Y0, PX, PX), nodata=-32768.0) as ds:  # fmt: skip
        ds.write(elev.astype(np.float32), 1)
    return path


def _lonlat(x, y):
    from pyproj import Transformer

    return Transformer.from_crs("EPSG:32630", "EPSG:4326", always_xy=True).transform(x, y)


@pytest.fixture(scope="module")
def flat(tmp_path_factory):
    return _dem(tmp_path_factory.mktemp("link") / "flat.tif", np.full((N, N), 100.0))


@pytest.fixture(scope="module")
def ridge(tmp_path_factory):
    """Flat 100 m ground with a one-pixel-wide north-south wall 60 m high at x = X0 + 6000 m (column 200)."""
    elev = np.full((N, N), 100.0)
    elev[:, 199:201] = 160.0
    return _dem(tmp_path_factory.mktemp("link") / "ridge.tif", elev)


def _site(x, y, h=30.0, f=900.0):
    lon, lat = _lonlat(x, y)
    return site_cell_table(lat, lon, h, f, rs_power_dbm=15.0, gain_dbi=0.0)


def _bullington(link):
    from propagation import delta_bullington_loss_db

    return float(delta_bullington_loss_db(link.dist_km, link.ground_m, link.h_tx_m, link.h_rx_m, link.freq_mhz,
                                          link.k_factor, strict=False))  # fmt: skip


def test_flat_ground_is_line_of_sight_with_free_space_and_fresnel_radius(flat):
    x_tx, y_tx, x_rx = X0 + 1000.0, Y0 - 6000.0, X0 + 6000.0
    link = analyse_link(_site(x_tx, y_tx), flat, cell_id="site", rx_lonlat=_lonlat(x_rx, y_tx), terrain="none")
    assert link.line_of_sight and not link.fresnel_clear  # a 1.5 m receiver: the ground enters the zone near it
    assert all(o.clearance_m < 0 and o.v < 0 for o in link.obstacles)  # edges below the ray, inside the zone
    d_km = link.length_km
    assert d_km == pytest.approx(5.0, abs=0.02)  # UTM scale factor near the zone's edge
    rows = {r.model: r for r in link.losses}
    assert rows["free space"].loss_db == pytest.approx(float(free_space_loss_db(900.0, d_km)), abs=1e-6)
    assert rows["delta-Bullington terrain"].loss_db == pytest.approx(_bullington(link), abs=0.3)
    # omni, 0 dBi, RS 15 dBm: RSRP = 15 - FSPL
    assert rows["free space"].rx_power_dbm == pytest.approx(15.0 - rows["free space"].loss_db, abs=1e-6)
    mid = len(link.dist_km) // 2
    lam = C / 900e6
    d1, d2 = link.dist_km[mid] * 1e3, (d_km - link.dist_km[mid]) * 1e3
    assert link.fresnel_m[mid] == pytest.approx(math.sqrt(lam * d1 * d2 / (d_km * 1e3)), rel=1e-9)
    # earth bulge at mid-path: d1 d2 / (2 k a)
    assert link.bulge_m[mid] == pytest.approx(d1 * d2 / (2 * 4 / 3 * 6371e3), rel=1e-9)
    assert link.ray_m[0] == pytest.approx(130.0) and link.ray_m[-1] == pytest.approx(101.5)


def test_a_ridge_is_the_principal_edge_with_the_hand_computed_v(ridge):
    x_tx, y_tx, x_rx = X0 + 3000.0, Y0 - 6000.0, X0 + 9000.0
    link = analyse_link(_site(x_tx, y_tx), ridge, cell_id="site", rx_lonlat=_lonlat(x_rx, y_tx))
    assert not link.line_of_sight
    edge = link.obstacles[0]
    assert edge.rank == 1 and edge.dist_km == pytest.approx(3.0, abs=0.06)
    # hand computation at the edge's own distance: clearance over the ray, then v and J(v)
    d = link.length_km * 1e3
    d1 = edge.dist_km * 1e3
    d2 = d - d1
    ray = 130.0 + (101.5 - 130.0) * d1 / d
    bulge = d1 * d2 / (2 * 4 / 3 * 6371e3)
    clearance = edge.height_m - ray
    assert edge.height_m == pytest.approx(160.0 + bulge, abs=0.5)  # bilinear sampling of a 2-pixel wall
    v = clearance * math.sqrt(2 * d / ((C / 900e6) * d1 * d2))
    assert edge.clearance_m == pytest.approx(clearance, abs=1e-6)
    assert edge.v == pytest.approx(v, rel=1e-9)
    assert edge.knife_edge_db == pytest.approx(float(knife_edge_loss_db(v)), abs=1e-9)
    rows = {r.model: r for r in link.losses}
    # the engine's excess is P.526-15 4.5 over this very profile; a sharp edge costs at least its knife edge
    assert rows["delta-Bullington terrain"].loss_db == pytest.approx(_bullington(link), abs=0.3)
    assert rows["delta-Bullington terrain"].loss_db > edge.knife_edge_db
    assert rows["free space + delta-Bullington"].loss_db == pytest.approx(
        rows["free space"].loss_db + rows["delta-Bullington terrain"].loss_db, abs=1e-6)


def test_the_predict_row_agrees_with_the_coverage_raster(testdata):
    """The link's 'netqa predict' RSRP is the raster's value at a pixel centre (engine points mode vs the sweep)."""
    from pyproj import Transformer

    from netqa.predict import PredictConfig, predict

    cells = pd.read_csv(testdata / "cells.csv")
    cells = cells[cells["cell_id"].astype(str) == "7936001"].assign(antenna=lambda d: str(testdata) + "/" + d["antenna"])
    cfg = PredictConfig(model="hata", terrain="delta-bullington", radius_km=3.0)
    cov = predict(cells, testdata / "dem.tif", config=cfg, show_progress=False)
    x0, y0 = Transformer.from_crs("EPSG:4326", cov.grid.crs, always_xy=True).transform(
        float(cells["lon"].iloc[0]), float(cells["lat"].iloc[0]))
    rows, cols = np.nonzero(np.isfinite(cov.rsrp_dbm))
    x, y = cov.grid.xy(rows, cols)
    ring = np.flatnonzero((np.hypot(x - x0, y - y0) > 800.0) & (np.hypot(x - x0, y - y0) < 2500.0))
    to_ll = Transformer.from_crs(cov.grid.crs, "EPSG:4326", always_xy=True)
    for k in ring[:: max(1, ring.size // 4)][:4]:
        lon, lat = to_ll.transform(x[k], y[k])
        link = analyse_link(cells, testdata / "dem.tif", cell_id="7936001", rx_lonlat=(lon, lat), model="hata",
                            terrain="delta-bullington")  # fmt: skip
        assert link.predicted_rsrp_dbm == pytest.approx(float(cov.rsrp_dbm[rows[k], cols[k]]), abs=1.5)


def test_write_link_writes_the_picture_and_json(tmp_path, ridge):
    link = analyse_link(_site(X0 + 3000.0, Y0 - 6000.0), ridge, cell_id="site",
                        rx_lonlat=_lonlat(X0 + 9000.0, Y0 - 6000.0), measured_rsrp_dbm=-101.0)  # fmt: skip
    png, js = write_link(link, tmp_path / "p.png", json_out=tmp_path / "p.json")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    doc = json.loads(js.read_text())
    assert doc["measured_rsrp_dbm"] == -101.0 and doc["obstacles"][0]["rank"] == 1
    assert len(doc["profile"]["dist_km"]) == len(link.dist_km)
    svg = write_link(link, tmp_path / "p.svg")[0]
    assert svg.read_text().lstrip().startswith("<?xml")


def test_cli_on_the_test_world_with_clutter_and_a_sample(tmp_path, testdata):
    samples = tmp_path / "s.csv"
    samples.write_text("time,lat,lon,cell_id,rsrp_dbm\n2024-01-01T00:00:00Z,40.50,-3.14,7936001,-97.5\n")
    out, js = tmp_path / "p.png", tmp_path / "p.json"
    rc = main(["link", "--cells", str(testdata / "cells.csv"), "--dem", str(testdata / "dem.tif"), "--samples",
               str(samples), "--sample", "0", "--clutter", str(testdata / "clutter.tif"), "--clutter-table",
               str(testdata / "clutter_classes.csv"), "--out", str(out), "--json", str(js)])  # fmt: skip
    assert rc == 0 and out.is_file()
    doc = json.loads(js.read_text())
    assert doc["cell_id"] == "7936001" and doc["measured_rsrp_dbm"] == -97.5 and doc["rx_clutter"]
    models = [r["model"] for r in doc["losses"]]
    assert "P.2108 height gain at receiver" in models and any(m.startswith("clutter table") for m in models)


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--cells", "{cells}", "--cell", "nope", "--to", "40.50,-3.14"], "--cell 'nope' is not in the cell table"),
        (["--cells", "{cells}", "--cell", "7936001", "--to", "40.50"], "--to '40.50': give LAT,LON"),
        (["--cells", "{cells}", "--cell", "7936001", "--to", "95,-3.14"], "latitude must lie in -90..90"),
        (["--cells", "{cells}", "--cell", "7936001", "--to", "40.50,-2.90"], "no sample lies inside the DEM"),
        (["--site", "40.48,-3.13", "--cells", "{cells}", "--to", "40.50,-3.14"], "either --site or --cells"),
        (["--site", "40.48,-3.13", "--to", "40.50,-3.14"], "--site needs --height-m and --freq-mhz"),
        (["--cells", "{cells}", "--cell", "7936001"], "give the receiver either as --to"),
        (["--cells", "{cells}", "--cell", "7936001", "--to", "40.50,-3.14", "--k-factor", "nan"], "--k-factor"),
    ],
    ids=["unknown-cell", "bad-to", "lat-range", "rx-outside-dem", "site-and-cells", "site-incomplete",
         "no-receiver", "nan-k"],  # fmt: skip
)
def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, testdata, capsys, extra, message):
    args = [a.replace("{cells}", str(testdata / "cells.csv")) for a in extra]
    rc = main(["link", "--dem", str(testdata / "dem.tif"), "--out", str(tmp_path / "p.png"), *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and message in err[-1] and err[-1].startswith("netqa link: error:")
    assert not (tmp_path / "p.png").exists()


def test_cli_refuses_an_existing_output_and_a_wrong_extension(tmp_path, testdata, capsys):
    base = ["link", "--cells", str(testdata / "cells.csv"), "--cell", "7936001", "--dem", str(testdata / "dem.tif"),
            "--to", "40.50,-3.14"]  # fmt: skip
    (tmp_path / "p.png").write_bytes(b"old")
    assert main([*base, "--out", str(tmp_path / "p.png")]) == 2
    assert (tmp_path / "p.png").read_bytes() == b"old"
    assert main([*base, "--out", str(tmp_path / "p.jpg")]) == 2
    assert "must end in .png or .svg" in capsys.readouterr().err


def test_jacksboro_profile_with_a_bare_site(tmp_path, testdata):
    """The real SRTM terrain of Jacksboro (WGS84 DEM): a site on one side, a receiver 10 km away."""
    out, js = tmp_path / "j.svg", tmp_path / "j.json"
    rc = main(["link", "--site", "36.60,-84.30", "--height-m", "40", "--freq-mhz", "700", "--dem",
               str(testdata / "jacksboro_dem.tif"), "--to", "36.55,-84.20", "--out", str(out), "--json", str(js)])  # fmt: skip
    assert rc == 0 and out.read_text().lstrip().startswith("<?xml")
    doc = json.loads(js.read_text())
    assert doc["length_km"] == pytest.approx(10.4, abs=0.3)
    assert np.ptp(doc["profile"]["ground_m"]) > 50.0  # Appalachian ridges
    rows = {r["model"]: r for r in doc["losses"]}
    fs = rows["free space"]["loss_db"]
    assert fs == pytest.approx(float(free_space_loss_db(700.0, doc["length_km"])), abs=0.01)
    assert rows["free space + delta-Bullington"]["loss_db"] >= fs


def test_the_readme_link_command_runs_verbatim(tmp_path, testdata):
    import re
    import shlex
    import subprocess
    import sys

    readme = (testdata.parent / "README.md").read_text()
    block = readme[readme.index("## Path profile of one link"):]
    cmd = re.search(r"```sh\n(.*?)```", block, re.S).group(1).replace("\\\n", " ").strip()
    args = shlex.split(cmd)
    assert args[0] == ".venv/bin/netqa" and args[1] == "link"
    (tmp_path / "testdata").symlink_to(testdata)
    proc = subprocess.run([sys.executable, "-m", "netqa", *args[1:]], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "profile.png").is_file() and (tmp_path / "profile.json").is_file()


def test_the_itm_row_is_the_engines_itm_on_this_profile(ridge):
    from propagation import itm_p2p_loss_db

    link = analyse_link(_site(X0 + 3000.0, Y0 - 6000.0), ridge, cell_id="site",
                        rx_lonlat=_lonlat(X0 + 9000.0, Y0 - 6000.0), terrain="itm")  # fmt: skip
    row = {r.model: r for r in link.losses}["Longley-Rice ITM"]
    exact = float(itm_p2p_loss_db(link.ground_m, link.dist_km[1] * 1e3, link.h_tx_m, link.h_rx_m, link.freq_mhz,
                                  strict=False))  # fmt: skip
    assert row.loss_db == pytest.approx(exact, abs=0.5) and "delta h" in row.note  # ITM's mode and its delta h
