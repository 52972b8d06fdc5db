"""Benchmark of ``netqa compare``: N samples (default 1 M) on the committed test world, goal < 30 s on 2 cores.

Run alone with ``python -m benchmarks.bench_compare`` or through the
benchmark runner, which calls :func:`main`.  The samples are the test world's
three drives resampled with replacement (positions jittered by 20 m, their
own serving cells), so the cell matrix, DEM and clutter are the real ones.
Model: ``--model`` (default spm), terrain none (``--terrain delta-bullington``
costs one terrain profile per sample and cell), no plots.  Prints the total
time, the rate and the peak memory.
"""

from __future__ import annotations

import argparse
import logging
import resource
import tempfile
import time
from pathlib import Path

TESTDATA = Path(__file__).resolve().parents[1] / "testdata"
SESSIONS = ("d1_highway_valdera", "d2_valdera_sotillo", "d3_north_loop")


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark, print one line per measurement, return the figures."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_compare", description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=1_000_000)
    ap.add_argument("--model", default="spm")
    ap.add_argument("--terrain", default="none")
    ap.add_argument("--dir", help="working folder (default: a temporary one)")
    args = ap.parse_args(argv)
    logging.getLogger("netqa").setLevel(logging.ERROR)

    import numpy as np
    import pandas as pd

    from netqa.compare.run import CompareConfig, compare
    from netqa.progress import set_enabled

    set_enabled(False)
    base = pd.concat([pd.read_csv(TESTDATA / "drives" / f"{s}.csv") for s in SESSIONS], ignore_index=True)
    base = base[base["rsrp_dbm"].notna()].reset_index(drop=True)
    rng = np.random.default_rng(1)
    idx = rng.integers(0, len(base), args.samples)
    s = base.iloc[idx].reset_index(drop=True)
    s["lat"] = s["lat"] + rng.normal(0, 20.0 / 111_000.0, len(s))
    s["lon"] = s["lon"] + rng.normal(0, 20.0 / 85_000.0, len(s))
    s["session"] = s["session"] + "-" + (np.arange(len(s)) // 100_000).astype(str)
    figures = {"samples": args.samples, "model": args.model, "terrain": args.terrain}
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        t0 = time.perf_counter()
        r = compare(s, TESTDATA / "cells.csv", TESTDATA / "dem.tif", Path(tmp) / "cmp",
                    clutter=TESTDATA / "clutter.tif", clutter_table=TESTDATA / "clutter_classes.csv",
                    config=CompareConfig(model=args.model, terrain=args.terrain, plots=False))  # fmt: skip
        dt = time.perf_counter() - t0
    figures.update({"seconds": round(dt, 2), "samples_per_s": round(args.samples / dt), "compared": r["n"],
                    "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0)})  # fmt: skip
    print(f"compare: {args.samples:,} samples ({args.model}, terrain {args.terrain}) in {dt:.1f} s "
          f"({figures['samples_per_s']:,} samples/s; goal < 30 s for 1 M on 2 cores), peak RSS {figures['peak_rss_mib']} MiB")  # noqa: T201
    return figures


if __name__ == "__main__":
    main()
