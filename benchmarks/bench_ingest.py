"""Ingest rate and peak memory: canonical CSV -> validated GeoParquet.

Goals (issue #5): >= 1 M rows/s on 2 cores; a 10 M-row log in under 4 GB peak.
Each run happens in a fresh subprocess so that its peak RSS is its own.

    python -m benchmarks.bench_ingest                       # 2 M rows, best of 3 (+ baseline)
    python -m benchmarks.bench_ingest --rows 10000000 --repeat 1
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HEADER = "time,lat,lon,session,tech,cell_id,rsrp_dbm,rsrq_db,sinr_db,dl_mbps,ul_mbps\n"


def make_log(path: Path, n_rows: int, seed: int = 1, chunk: int = 1_000_000) -> None:
    """A synthetic 1 Hz drive log with stale GPS, cell changes and 0.1 % bad rows."""
    rng = np.random.default_rng(seed)
    t0 = np.datetime64("2024-03-01T00:00:00", "s")
    with open(path, "w") as fh:
        fh.write(HEADER)
        for start in range(0, n_rows, chunk):
            n = min(chunk, n_rows - start)
            i = np.arange(start, start + n)
            t = (t0 + i.astype("timedelta64[s]")).astype(str)
            fix = (i // 15) * 15  # a GPS fix every 15 rows
            lat = 51.90 + 1e-5 * (fix % 200_000)  # a 2-degree track, driven round and round
            lon = -8.40 + 1e-5 * (fix % 200_000)
            rsrp = np.round(rng.normal(-95, 12, n)).astype(int)
            rsrp[rng.random(n) < 0.001] = -200  # sentinels to reject
            rsrq = np.round(rng.uniform(-18, -5, n), 1)
            sinr = np.round(rng.normal(8, 7, n), 1)
            dl = np.round(rng.gamma(2.0, 15.0, n), 3)
            cell = 1000 + (i // 300) % 50
            lines = [f"{a}Z,{b:.6f},{c:.6f},bench,LTE,{d},{e},{f},{g},{h},{h / 8:.3f}\n"
                     for a, b, c, d, e, f, g, h in zip(t, lat, lon, cell, rsrp, rsrq, sinr, dl)]
            fh.write("".join(lines))


def _child(log: str, out: str) -> None:
    import resource

    from netqa.ingest import ingest_logs
    from netqa.progress import set_enabled

    set_enabled(False)
    t = time.perf_counter()
    res = ingest_logs([log], out, overwrite=True)
    dt = time.perf_counter() - t
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rows": res.n_read, "accepted": res.n_accepted, "rejected": res.n_rejected, "seconds": dt, "peak_mb": peak_mb}))


def _baseline(log: str, out: str) -> None:
    """pyarrow alone (CSV read + Parquet write, no validation): the floor this machine allows now."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    t = time.perf_counter()
    tbl = pacsv.read_csv(log, convert_options=pacsv.ConvertOptions(column_types={"time": pa.timestamp("ns", tz="UTC"), "cell_id": pa.string()}))
    pq.write_table(tbl, out, compression="snappy")
    print(json.dumps({"seconds": time.perf_counter() - t}))


def _subprocess(call: str) -> dict:
    cmd = [sys.executable, "-c", f"from benchmarks.bench_ingest import {call.split('(')[0]}; {call}"]
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(n_rows: int, repeat: int = 3, workdir: Path | None = None, baseline: bool = True) -> dict:
    """Ingest (and the pyarrow baseline) ``repeat`` times each, alternating; the best of each counts.

    The machine is shared, so single runs are noisy; the best run is the one
    least disturbed, and the baseline runs beside it measure what the machine
    allowed at that time.
    """
    with tempfile.TemporaryDirectory(dir=workdir) as d:
        log = Path(d) / "bench.csv"
        t = time.perf_counter()
        make_log(log, n_rows)
        gen_s = time.perf_counter() - t
        size_mb = log.stat().st_size / 1e6
        runs, base_runs = [], []
        for _ in range(repeat):
            runs.append(_subprocess(f"_child({str(log)!r}, {str(Path(d) / 'o.parquet')!r})"))
            if baseline:
                base_runs.append(_subprocess(f"_baseline({str(log)!r}, {str(Path(d) / 'b.parquet')!r})"))
        best = min(runs, key=lambda r: r["seconds"])
        res = dict(best)
        res.update(csv_mb=size_mb, generate_s=gen_s, rows_per_s=best["rows"] / best["seconds"],
                   all_seconds=[round(r["seconds"], 3) for r in runs], peak_mb=max(r["peak_mb"] for r in runs), repeat=repeat)
        if base_runs:
            b = min(r["seconds"] for r in base_runs)
            res["baseline_rows_per_s"] = n_rows / b
            res["baseline_all_seconds"] = [round(r["seconds"], 3) for r in base_runs]
            res["ratio"] = res["rows_per_s"] / res["baseline_rows_per_s"]
        return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each (ingest, baseline); the best counts")
    ap.add_argument("--no-baseline", action="store_true", help="skip the pyarrow read+write baseline")
    args = ap.parse_args(argv)
    r = run(args.rows, args.repeat, baseline=not args.no_baseline)
    print(f"ingest {r['rows']:,} rows ({r['csv_mb']:.0f} MB CSV) -> validated GeoParquet: best of {r['repeat']} "
          f"{r['seconds']:.2f} s = {r['rows_per_s'] / 1e6:.2f} M rows/s (runs {r['all_seconds']} s), peak RSS {r['peak_mb']:.0f} MB "
          f"(accepted {r['accepted']:,}, rejected {r['rejected']:,}; {os.cpu_count()} cores)")
    if "baseline_rows_per_s" in r:
        print(f"  baseline, pyarrow alone (read CSV + write Parquet, no validation), same run: best "
              f"{r['baseline_rows_per_s'] / 1e6:.2f} M rows/s (runs {r['baseline_all_seconds']} s); "
              f"ingest / baseline = {r['ratio']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
