"""One progress-reporting helper for long jobs, on top of ``tqdm``.

Library code reports progress through :class:`Progress` or :func:`progress`;
the CLI decides whether it is shown (``--quiet`` hides it).  On a terminal the
bar is tqdm's (rate, ETA, redrawn in place); when stderr is not a terminal
(a log file, CI) tqdm's carriage-return redraws would garble the file, so the
same text (tqdm's :meth:`tqdm.tqdm.format_meter`) is written as sparse whole
lines, at most one every 5 s, plus a final line.

tqdm was chosen over rich: one pure-Python package with no dependencies.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")

_enabled = True

#: Shortest interval between two progress lines when stderr is not a terminal. [s]
NON_TTY_INTERVAL_S = 5.0


def set_enabled(enabled: bool) -> None:
    """Turn progress output on or off (the CLI's ``--quiet`` turns it off)."""
    global _enabled
    _enabled = enabled


class Progress:
    """A counter shown as ``desc: done/total unit [elapsed<ETA, rate]`` on stderr.

    Use as a context manager and call :meth:`update` with the amount done::

        with Progress("predict", total=n_tiles, unit="tiles") as bar:
            for tile in tiles:
                ...
                bar.update(1)
    """

    def __init__(self, desc: str, total: int | None = None, unit: str = "items", min_interval_s: float = 0.5):
        self.desc = desc
        self.total = total
        self.unit = unit
        self.done = 0
        self._t0 = time.monotonic()
        self._last = 0.0
        self._tty = sys.stderr.isatty()
        self._min_interval_s = min_interval_s if self._tty else max(min_interval_s, NON_TTY_INTERVAL_S)
        self._bar = None
        if _enabled and self._tty:
            self._bar = tqdm(total=total, desc=desc, unit=f" {unit}", file=sys.stderr, mininterval=min_interval_s,
                             dynamic_ncols=True, leave=True)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def update(self, n: int = 1) -> None:
        """Count ``n`` more units done."""
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
            return
        now = time.monotonic()
        if now - self._last >= self._min_interval_s:
            self._last = now
            self._line()

    def close(self) -> None:
        """Finish: the bar's last state, or one final line."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self.done or self.total:
            self._line()

    def _line(self) -> None:
        if not _enabled:
            return
        text = tqdm.format_meter(self.done, self.total, time.monotonic() - self._t0, prefix=self.desc, unit=f" {self.unit}", ncols=0)
        print(text, file=sys.stderr, flush=True)


def progress(items: Iterable[T], desc: str, total: int | None = None, unit: str = "items") -> Iterator[T]:
    """Iterate over ``items`` while reporting progress."""
    if total is None:
        try:
            total = len(items)  # type: ignore[arg-type]
        except TypeError:
            total = None
    with Progress(desc, total=total, unit=unit) as bar:
        for item in items:
            yield item
            bar.update(1)
