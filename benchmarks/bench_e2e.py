"""End to end (issue 14): whole ``netqa`` processes, their phase split and the goals against the engine alone.

Cases (each a fresh process, best of :data:`REPEAT` by total wall time):

* start-up: ``python -c pass`` (the interpreter, baseline), ``import netqa.cli`` and
  ``netqa predict --help``;
* ``netqa predict`` of one site, R = 30 km on a 30 m grid (2001 x 2001 px), Hata +
  delta-Bullington over synthetic hills; the phase split comes from the process
  itself (``NETQA_TIMINGS``, :mod:`netqa.timings`): start-up (process start to the
  command), input (cells, DEM read and warp), engine, output (GeoTIFF), other;
  the engine alone is also timed in this process on the same arrays (the baseline of
  the goal: whole process <= 2 x engine + 0.5 s);
* the network run: 999 cells over 100 x 100 km at 30 m, R = 15 km (one run; skipped
  with ``NETQA_BENCH_NETWORK=0`` or quick mode);
* ``netqa compare`` and ``netqa calibrate`` on the test world's three drives, with the goal line
  (whole process <= 2 x the process's own engine phase + 0.5 s);
* cold start: the first ``netqa predict`` of the test world (Hata + delta-Bullington, clutter table)
  with an empty numba cache (``NUMBA_CACHE_DIR`` pointed at a fresh folder, so the tree's own cache is
  left alone) against the second run on that cache (goal: within 10 s); skipped in quick mode or with
  ``NETQA_BENCH_COLD=0``.

``NETQA_BENCH_QUICK=1`` shrinks the single site to R = 5 km.  ``NETQA_BENCH_BASELINE=DIR`` (a copy of an
older tree, e.g. ``git archive COMMIT | tar -x -C DIR``) runs compare and calibrate from that tree too,
alternating with this one in the same run (the same-run A/B that timings on a shared machine need).
``python -m benchmarks.bench_e2e compare`` runs the compare and calibrate cases only.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

QUICK = os.environ.get("NETQA_BENCH_QUICK") == "1"
NETWORK = os.environ.get("NETQA_BENCH_NETWORK", "1") != "0" and not QUICK
COLD = os.environ.get("NETQA_BENCH_COLD", "1") != "0" and not QUICK
REPEAT = 3
ROOT = Path(__file__).resolve().parents[1]
BASELINE = Path(os.environ["NETQA_BENCH_BASELINE"]).resolve() if os.environ.get("NETQA_BENCH_BASELINE") else None
TESTDATA = ROOT / "testdata"
CRS = "EPSG:32630"
CENTRE = (500000.0, 4480000.0)  # UTM 30N, central Spain


def _env(timings: Path | None = None, root: Path = ROOT, **extra: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(root) + os.pathsep + os.environ.get("PYTHONPATH", ""), **extra)
    if timings is not None:
        env["NETQA_TIMINGS"] = str(timings)
    return env


def _run(args: list[str], timings: Path | None = None, root: Path = ROOT, **extra_env: str) -> tuple[float, dict]:
    """Wall time of one process (the code of the tree ``root``) and its phase split (``{}`` when it wrote none)."""
    if timings is not None and timings.exists():
        timings.unlink()
    t_epoch, t0 = time.time(), time.perf_counter()
    r = subprocess.run([sys.executable, *args], cwd=root, env=_env(timings, root, **extra_env), capture_output=True,
                       text=True, check=False)  # fmt: skip
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({r.returncode}): {r.stderr.strip()[-2000:]}")
    doc = json.loads(timings.read_text()) if timings is not None and timings.exists() else {}
    if doc:
        doc["startup_s"] = doc["start_epoch_s"] - t_epoch
        doc["wall_s"] = wall
    return wall, doc


def _best(args, timings=None, repeat=REPEAT, root=ROOT):
    runs = [_run(args, timings, root) for _ in range(repeat)]
    walls = [w for w, _ in runs]
    best = min(range(len(runs)), key=lambda i: walls[i])
    return runs[best][0], runs[best][1], max(walls)


def _write_dem(path: Path, n: int, px: float, seed: int) -> None:
    import rasterio
    from rasterio.transform import from_origin
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    e = gaussian_filter(rng.normal(size=(n, n)), 8.0)
    e = (250.0 + e / e.std() * 60.0).astype(np.float32)
    x0, y1 = CENTRE[0] - n * px / 2, CENTRE[1] + n * px / 2
    with rasterio.open(path, "w", driver="GTiff", width=n, height=n, count=1, dtype="float32", crs=CRS,
                       transform=from_origin(x0, y1, px, px), nodata=-9999.0, tiled=True, compress="deflate") as ds:  # fmt: skip
        ds.write(e, 1)


def _write_cells(path: Path, xy_m, azimuths) -> None:
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True).transform(*np.asarray(xy_m).T)
    lines = ["site_id,cell_id,lat,lon,height_m,azimuth_deg,mech_tilt_deg,elec_tilt_deg,tx_power_dbm,freq_mhz,bandwidth_mhz,tech"]
    for i, (la, lo, az) in enumerate(zip(np.atleast_1d(lat), np.atleast_1d(lon), azimuths)):
        lines.append(f"S{i // 3},C{i},{la:.7f},{lo:.7f},30,{az:g},0,4,46,1800,20,LTE")
    path.write_text("\n".join(lines) + "\n")


def _engine_alone(cells: Path, dem: Path, radius_km: float, repeat: int = REPEAT) -> float:
    """Best wall time of the engine call alone on the inputs the CLI would give it (compiled first). [s]"""
    from netqa import timings
    from netqa.predict import PredictConfig, predict_to_file

    config = PredictConfig(model="hata", terrain="delta-bullington", radius_km=radius_km, resolution_m=30.0)
    best = math.inf
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(repeat + 1):  # the first compiles/loads the kernels
            timings.reset()
            predict_to_file(cells, dem, Path(tmp) / f"c{i}.tif", config=config, show_progress=False)
            if i:
                best = min(best, timings.totals()["engine"])
    return best


def _split_line(doc: dict) -> str:
    ph = doc["phases_s"]
    known = doc["startup_s"] + sum(ph.values())
    parts = [f"start-up {doc['startup_s']:.2f}"] + [f"{k} {v:.2f}" for k, v in ph.items()]
    parts.append(f"other {doc['wall_s'] - known:.2f}")
    return ", ".join(parts) + " s"


def _why(wall: float, engine: float, doc: dict) -> str:
    """Why the goal (whole <= 2 x engine + 0.5 s) is missed: the non-engine part against its allowance (engine + 0.5 s)."""
    if wall <= 2 * engine + 0.5 or not doc:
        return ""
    ph = dict(doc["phases_s"])
    ph.pop("engine", None)
    ph["start-up"] = doc["startup_s"]
    ph["other"] = wall - doc["startup_s"] - sum(doc["phases_s"].values())
    top = sorted(ph.items(), key=lambda kv: -kv[1])[:3]
    return (f"  why not: the rest of the process takes {wall - engine:.2f} s against an allowance of engine + 0.5 s = "
            f"{engine + 0.5:.2f} s; largest: " + ", ".join(f"{k} {v:.2f} s" for k, v in top))


def _predict_case(name, cells, dem, out, radius_km, tmp, repeat=REPEAT):
    args = ["-m", "netqa", "-q", "predict", "--cells", str(cells), "--dem", str(dem), "--out", str(out),
            "--model", "hata", "--terrain", "delta-bullington", "--radius-km", str(radius_km), "--overwrite"]  # fmt: skip
    _run(args)  # warm: numba cache, page cache
    wall, doc, worst = _best(args, tmp / "t.json", repeat)
    engine_proc = doc["phases_s"].get("engine", math.nan)
    out_s = doc["phases_s"].get("output", math.nan)
    print(f"{name}: whole process {wall:.2f} s (worst of {repeat} {worst:.2f} s): {_split_line(doc)}")
    print(f"  output {100 * out_s / wall:.0f} % of the run (goal <= 25 %); "
          f"engine in the process {engine_proc:.2f} s")  # fmt: skip
    return wall, doc


def bench_startup() -> None:
    base, _, _ = _best(["-c", "pass"])
    imp, _, _ = _best(["-c", "import netqa.cli, netqa.commands.predict"])
    hlp, _, _ = _best(["-m", "netqa", "predict", "--help"])
    run_imp, _, _ = _best(["-c", "import netqa.cli, netqa.predict"])
    print(f"start-up: python -c pass {base:.2f} s; import netqa.cli + the predict command {imp:.2f} s "
          f"(+{imp - base:.2f} s; goal <= 0.3 s); netqa predict --help {hlp:.2f} s; "
          f"import netqa.predict (what a run needs) {run_imp:.2f} s (+{run_imp - base:.2f} s)")  # fmt: skip


def bench_single_site(tmp: Path) -> None:
    radius_km = 5.0 if QUICK else 30.0
    n = int(2 * (radius_km * 1000 + 1500) / 30)
    dem, cells = tmp / "site_dem.tif", tmp / "site_cells.csv"
    _write_dem(dem, n, 30.0, 2)
    _write_cells(cells, [CENTRE], [0.0])
    wall, _doc = _predict_case(f"predict, one site, R = {radius_km:g} km, 30 m", cells, dem, tmp / "site.tif", radius_km, tmp)
    eng = _engine_alone(cells, dem, radius_km)
    goal = 2 * eng + 0.5
    print(f"  engine alone (same run, in this process) {eng:.2f} s: whole / engine = {wall / eng:.1f}x; "
          f"goal <= 2 x engine + 0.5 s = {goal:.2f} s: {'met' if wall <= goal else 'not met'} ({wall / goal:.2f}x the goal)")  # fmt: skip
    if wall > goal:
        print(_why(wall, eng, _doc))


def bench_network(tmp: Path) -> None:
    if not NETWORK:
        print("predict, network: skipped (NETQA_BENCH_NETWORK=0 or quick mode)")
        return
    n = 3334
    dem, cells = tmp / "net_dem.tif", tmp / "net_cells.csv"
    _write_dem(dem, n + 200, 30.0, 9)
    rng = np.random.default_rng(4)
    side = n * 30.0
    xs = CENTRE[0] + (rng.uniform(0.02, 0.98, 333) - 0.5) * side
    ys = CENTRE[1] + (rng.uniform(0.02, 0.98, 333) - 0.5) * side
    xy = np.repeat(np.column_stack([xs, ys]), 3, axis=0)
    _write_cells(cells, xy, np.tile([0.0, 120.0, 240.0], 333))
    _predict_case("predict, network: 999 cells, ~100 x 100 km, 30 m, R = 15 km", cells, dem, tmp / "net.tif", 15.0, tmp,
                  repeat=1)  # fmt: skip


def bench_compare_calibrate(tmp: Path) -> None:
    samples = tmp / "samples.parquet"
    drives = sorted(str(p) for p in (TESTDATA / "drives").glob("d*_*.csv") if not p.name.endswith(".events.csv"))
    _run(["-m", "netqa", "-q", "ingest", *drives, "--out", str(samples), "--cells", str(TESTDATA / "cells.csv")])
    common = ["--samples", str(samples), "--cells", str(TESTDATA / "cells.csv"), "--dem", str(TESTDATA / "dem.tif")]
    cmp_args = ["-m", "netqa", "-q", "compare", *common, "--out", str(tmp / "cmp"), "--overwrite"]
    cal_args = ["-m", "netqa", "-q", "calibrate", *common, "--out", str(tmp / "tuned.toml"), "--overwrite"]
    import pandas as pd

    n = len(pd.read_parquet(samples, columns=["cell_id"]))
    cases = (("compare", cmp_args), ("compare --no-plots", [*cmp_args, "--no-plots"]), ("calibrate", cal_args))
    trees = [("", ROOT)] + ([(f" [baseline {BASELINE.name}]", BASELINE)] if BASELINE is not None else [])
    for name, args in cases:
        for _tag, root in trees:
            _run(args, root=root)  # warm: numba cache, page cache
        best = {tag: (math.inf, {}, 0.0) for tag, _ in trees}
        for _ in range(REPEAT):  # alternate the trees: the same load for both
            for tag, root in trees:
                wall, doc = _run(args, tmp / "t.json", root)
                b = best[tag]
                best[tag] = (wall, doc, max(b[2], wall)) if wall < b[0] else (b[0], b[1], max(b[2], wall))
        for tag, _root in trees:
            wall, doc, worst = best[tag]
            eng = doc["phases_s"].get("engine", math.nan)
            goal = 2 * eng + 0.5
            print(f"{name}{tag}, test world ({n} samples): whole process {wall:.2f} s (worst {worst:.2f} s): "
                  f"{_split_line(doc)}")  # fmt: skip
            print(f"  goal <= 2 x engine + 0.5 s = {goal:.2f} s: {'met' if wall <= goal else 'not met'} "
                  f"({wall / goal:.2f}x)")  # fmt: skip
            if wall > goal:
                print(_why(wall, eng, doc))


def bench_cold_start(tmp: Path) -> None:
    """First ``netqa predict`` of the test world on an empty numba cache vs the next run (goal: within 10 s)."""
    if not COLD:
        print("cold start: skipped (NETQA_BENCH_COLD=0 or quick mode)")
        return
    args = ["-m", "netqa", "-q", "predict", "--cells", str(TESTDATA / "cells.csv"), "--dem", str(TESTDATA / "dem.tif"),
            "--clutter", str(TESTDATA / "clutter.tif"), "--clutter-table", str(TESTDATA / "clutter_classes.csv"),
            "--model", "hata", "--terrain", "delta-bullington", "--out", str(tmp / "tw.tif"), "--overwrite"]  # fmt: skip
    cache = tmp / "numba-cache"
    cache.mkdir()
    cold, _ = _run(args, NUMBA_CACHE_DIR=str(cache))
    warm = min(_run(args, NUMBA_CACHE_DIR=str(cache))[0] for _ in range(2))
    print(f"cold start, test world predict (Hata + delta-Bullington, clutter table): first run {cold:.1f} s, "
          f"warm {warm:.1f} s: +{cold - warm:.1f} s (goal <= +10 s: {'met' if cold - warm <= 10 else 'not met'})")  # fmt: skip
    if cold - warm > 10:
        print("  why not: numba compiles the parallel kernels a run loads (the delta-Bullington sweep, the coverage "
              "kernel, the ray ordering: their parfor and inlining passes); cutting more costs run time (measured in "
              "benchmarks/README.md). `make setup` compiles them at install (python -m netqa.warmup), so a user's first "
              "run after it is warm, and a run that must compile says so first")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    with tempfile.TemporaryDirectory(prefix="netqa-bench-e2e-") as tmp:
        tmp = Path(tmp)
        if argv[:1] == ["compare"]:
            bench_compare_calibrate(tmp)
            return
        bench_startup()
        bench_single_site(tmp)
        bench_compare_calibrate(tmp)
        bench_cold_start(tmp)
        bench_network(tmp)


if __name__ == "__main__":
    main()
