"""Benchmark of ``netqa kpi``: peak memory and time on N samples (default 10 M), with and without ``--bin-m``.

Run alone with ``python -m benchmarks.bench_kpi`` (``--samples 1000000`` for a
quick run) or through the benchmark runner, which calls :func:`main`.  The
samples are ``netqa ingest``'s output for the test world's three drives (every
column, strings as strings, WKB geometry: what ``netqa kpi`` reads in practice),
repeated with shifted positions up to N rows.  Each ``netqa kpi`` runs in its own process; its peak resident memory is
the ``ru_maxrss`` of that child as seen by a wrapper process (so neither the
generator nor this process counts).  Issue 13 asks for 10 M samples within 2 GB.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TESTDATA = Path(__file__).resolve().parents[1] / "testdata"
#: The peak memory ``netqa kpi`` must stay within on 10 M samples (issue 13). [MiB]
LIMIT_MIB = 2048.0

_GEN = """
import numpy as np, pyarrow as pa, pyarrow.compute as pc, pyarrow.parquet as pq
base = pq.read_table({base!r})
n0, n, out = base.num_rows, {n}, {out!r}
writer = pq.ParquetWriter(out, base.schema)
done, copy, parts = 0, 0, []
while done < n:
    t = base.slice(0, min(n0, n - done))
    # each copy of the drives shifted by up to 1 km, so positions (and bins) differ
    t = t.set_column(t.schema.get_field_index("lat"), "lat", pc.add(t["lat"], (copy % 100) * 1e-4))
    t = t.set_column(t.schema.get_field_index("lon"), "lon", pc.add(t["lon"], (copy // 100 % 100) * 1e-4))
    parts.append(t)
    done += t.num_rows
    copy += 1
    if sum(p.num_rows for p in parts) >= 1 << 20 or done >= n:
        writer.write_table(pa.concat_tables(parts), row_group_size=1 << 16)
        parts = []
writer.close()
"""

_WRAP = ("import resource, subprocess, sys; rc = subprocess.run(sys.argv[1:]).returncode; "
         "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(rc)")


def peak_mib(command: list[str]) -> tuple[float, float]:
    """(peak resident memory [MiB], wall time [s]) of ``command`` run in a child process."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _WRAP, *command], check=False, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {proc.stderr.strip()[-500:]}")
    return int(proc.stdout.strip().splitlines()[-1]) / 1024.0, seconds


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark, print one line per measurement, return the figures."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_kpi", description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=10_000_000)
    ap.add_argument("--bin-m", type=float, default=100.0)
    ap.add_argument("--dir", help="working folder (default: a temporary one)")
    ap.add_argument("--keep", metavar="PATH", help="also copy the generated samples file here")
    args = ap.parse_args(argv)
    figures: dict = {"samples": args.samples, "limit_mib": LIMIT_MIB}
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        drives = sorted(str(p) for p in (TESTDATA / "drives").glob("d*_*.csv") if ".events." not in p.name)
        subprocess.run([sys.executable, "-m", "netqa", "-q", "ingest", *drives, "--cells", str(TESTDATA / "cells.csv"),
                        "--out", str(tmp / "drives.parquet")], check=True)  # fmt: skip
        samples = str(tmp / "samples.parquet")
        subprocess.run([sys.executable, "-c", _GEN.format(base=str(tmp / "drives.parquet"), n=args.samples, out=samples)],
                       check=True)  # fmt: skip
        print(f"generated {args.samples:,} samples in {time.perf_counter() - t0:.1f} s", flush=True)
        if args.keep:
            import shutil

            shutil.copy(samples, args.keep)
        base = [sys.executable, "-m", "netqa", "-q", "kpi", samples, "--overwrite"]
        for label, extra in (("kpi", []), (f"kpi --bin-m {args.bin_m:g}", ["--bin-m", f"{args.bin_m:g}"])):
            mib, sec = peak_mib([*base, "--out", str(tmp / "kpi.json"), *extra])
            figures[label] = {"peak_mib": round(mib, 1), "seconds": round(sec, 1)}
            verdict = "within" if mib <= LIMIT_MIB else "OVER"
            print(f"netqa {label}: peak {mib:,.0f} MiB ({verdict} {LIMIT_MIB:,.0f}), {sec:.1f} s", flush=True)
    return figures


if __name__ == "__main__":  # pragma: no cover
    main()
