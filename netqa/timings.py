"""Wall-clock time per phase of one command (input, engine, output), for ``--verbose`` and the benchmarks.

Library code marks its phases with :func:`phase`; the time of each name adds
up over the run (every tile).  The CLI logs the split at ``--verbose`` and,
when the environment variable :data:`ENV_VAR` names a file, writes it there
as JSON (``benchmarks/bench_e2e.py`` reads it)::

    {"command": "predict", "start_epoch_s": ..., "end_epoch_s": ...,
     "phases_s": {"input": 0.41, "engine": 0.57, "output": 0.38}}

``start_epoch_s`` is when the command began to run (after Python started and
the CLI imported), so a caller that noted the epoch before starting the process
gets the start-up time as the difference.  Phases run in this process only
(Dask workers' tiles are not counted).  Standard library only: importing this
costs nothing.

Examples
--------
>>> reset()
>>> with phase("engine"):
...     pass
>>> sorted(totals())
['engine']
"""

from __future__ import annotations

import contextlib
import json
import os
import time

#: Environment variable naming the JSON file the CLI writes the phase split to.
ENV_VAR = "NETQA_TIMINGS"

_totals: dict[str, float] = {}
_start_epoch_s: float | None = None


def reset() -> None:
    """Forget the phases so far and start the clock of a command."""
    global _start_epoch_s
    _totals.clear()
    _start_epoch_s = time.time()


@contextlib.contextmanager
def phase(name: str):
    """Add the wall-clock time of the block to phase ``name``. [s]"""
    t0 = time.perf_counter()
    try:
        yield
    finally:
        _totals[name] = _totals.get(name, 0.0) + time.perf_counter() - t0


def totals() -> dict[str, float]:
    """Seconds spent per phase since :func:`reset`. [s]"""
    return dict(_totals)


def summary() -> str:
    """One line: each phase's seconds, e.g. ``input 0.41 s, engine 0.57 s, output 0.38 s``."""
    return ", ".join(f"{k} {v:.2f} s" for k, v in _totals.items()) or "no timed phase"


def write_if_requested(command: str) -> None:
    """Write the split to the file named by ``$NETQA_TIMINGS`` (if set); never fails the command."""
    path = os.environ.get(ENV_VAR)
    if not path:
        return
    doc = {"command": command, "start_epoch_s": _start_epoch_s, "end_epoch_s": time.time(), "phases_s": totals()}
    with contextlib.suppress(OSError), open(path, "w", encoding="utf-8") as fh:
        json.dump(doc, fh)
