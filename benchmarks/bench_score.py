"""Benchmark of ``netqa score``: N samples × K² regions, locally and on a Dask LocalCluster.

Run alone with ``python -m benchmarks.bench_score`` (defaults: 10 M samples,
32 × 32 = 1,024 regions, a 640 × 640 coverage raster, 10,000 complaints, 2
campaigns), or through the benchmark runner, which calls :func:`main`.  Each
configuration runs ``--repeat`` times and the best time is kept (the machine's
cores may be shared); the Dask 2-vs-1-worker speed-up is a ratio of times from
the same run.  The clusters are started before the clock starts (a cluster is
usually already running when ``--scheduler`` is used).  Peak memory is this
process's maximum RSS (the driver; the world is generated in a child process) and
each Dask worker's maximum RSS.
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _peak_mib() -> float:
    """This process's peak resident memory [MiB]: VmHWM (ru_maxrss survives exec, so a spawned
    Dask worker would report its parent's peak)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def _world_in_subprocess(folder: Path, side: int, n_samples: int):
    from netqa.score.synthetic import World

    code = ("from netqa.score.synthetic import make_world; "
            f"make_world({str(folder)!r}, k={side}, side_m=1000.0, n_samples={n_samples}, "
            f"n_complaints={max(n_samples // 1000, 10)}, pixel_m=50.0, campaigns=2, seed=11)")  # fmt: skip
    subprocess.run([sys.executable, "-c", code], check=True)
    return World(folder / "regions.gpkg", folder / "samples.parquet", folder / "samples.events.parquet", folder / "complaints.csv",
                 folder / "coverage.tif", folder / "cells.csv", 1000.0, side)  # fmt: skip


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark, print one line per measurement, return the figures."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_score", description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=10_000_000)
    ap.add_argument("--side", type=int, default=32, help="regions per side (side² regions)")
    ap.add_argument("--repeat", type=int, default=2, help="runs per configuration; the best is kept")
    ap.add_argument("--dask", action=argparse.BooleanOptionalAction, default=True, help="also time LocalCluster 1 vs 2 workers")
    ap.add_argument("--dir", help="working folder (default: a temporary one)")
    args = ap.parse_args(argv)
    logging.getLogger("netqa").setLevel(logging.WARNING)
    logging.getLogger("distributed").setLevel(logging.ERROR)

    from netqa.progress import set_enabled
    from netqa.score import score_regions

    set_enabled(False)
    figures: dict = {"samples": args.samples, "regions": args.side**2, "cpu_count": os.cpu_count(), "repeat": args.repeat}
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        w = _world_in_subprocess(tmp / "world", args.side, args.samples)  # keeps this process's peak RSS for scoring
        figures["generate_s"] = time.perf_counter() - t0
        n_reg = args.side**2
        kw = dict(samples=w.samples, coverage=w.coverage, complaints=w.complaints, cells=w.cells, overwrite=True)
        print(f"bench_score: {args.samples:,} samples × {n_reg:,} regions, best of {args.repeat} "
              f"({os.cpu_count()} cores, shared with other users; world written in {figures['generate_s']:.1f} s)")  # fmt: skip

        dt = _best(lambda: score_regions(w.regions, tmp / "local.gpkg", **kw), args.repeat)
        figures.update(local_s=dt, local_samples_per_s=args.samples / dt, local_regions_per_s=n_reg / dt, peak_mib_local=_peak_mib())
        print(f"  local (1 process): {dt:.1f} s  {args.samples / dt:,.0f} samples/s  {n_reg / dt:,.1f} regions/s  "
              f"peak RSS {figures['peak_mib_local']:,.0f} MiB")  # fmt: skip

        if args.dask:
            from dask.distributed import Client, LocalCluster

            for n in (1, 2):
                with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
                    addr = cluster.scheduler_address
                    dt = _best(lambda: score_regions(w.regions, tmp / f"dask{n}.gpkg", scheduler=addr, **kw), args.repeat)
                    with Client(cluster) as client:
                        peaks = client.run(_peak_mib)
                figures[f"dask{n}_s"] = dt
                figures[f"dask{n}_worker_peak_mib"] = max(peaks.values())
                print(f"  LocalCluster {n} worker(s): {dt:.1f} s  {args.samples / dt:,.0f} samples/s  {n_reg / dt:,.1f} regions/s  "
                      f"peak RSS per worker {max(peaks.values()):,.0f} MiB")  # fmt: skip
            figures["dask_speedup_2_vs_1"] = figures["dask1_s"] / figures["dask2_s"]
            figures["peak_mib_driver"] = _peak_mib()
            print(f"  speed-up 2 vs 1 workers (same run): {figures['dask_speedup_2_vs_1']:.2f}×  "
                  f"local vs 1 worker: {figures['dask1_s'] / figures['local_s']:.2f}×  peak RSS (driver) {_peak_mib():,.0f} MiB")  # fmt: skip
    return figures


if __name__ == "__main__":
    main()
