"""Run every ``benchmarks/bench_*.py`` module's ``main()`` (``make bench``).

``python -m benchmarks [NAME ...]`` runs only the modules whose name contains
one of the given words (e.g. ``python -m benchmarks engine``).
"""

from __future__ import annotations

import importlib
import inspect
import os
import platform
import sys
import time
import traceback
from pathlib import Path


def _machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, nproc {os.cpu_count()}, {platform.python_implementation()} {platform.python_version()}"


def main(argv: list[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    here = Path(__file__).resolve().parent
    names = sorted(p.stem for p in here.glob("bench_*.py"))
    if words:
        names = [n for n in names if any(w in n for w in words)]
    print(f"# benchmarks on {_machine()}")
    failed = 0
    for name in names:
        print(f"\n## {name}", flush=True)
        t0 = time.perf_counter()
        try:
            bench_main = importlib.import_module(f"benchmarks.{name}").main
            # benchmarks with their own flags get none here (the runner's words are not theirs)
            bench_main([]) if inspect.signature(bench_main).parameters else bench_main()
        except Exception:  # one broken benchmark must not hide the others
            failed += 1
            traceback.print_exc()
        print(f"({name}: {time.perf_counter() - t0:.1f} s)", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
