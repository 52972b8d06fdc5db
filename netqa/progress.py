"""One progress-reporting helper for long jobs.

Library code reports progress through :func:`progress`; the CLI decides whether
it is shown (``--quiet`` hides it, a non-terminal stderr gets sparse lines).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

_enabled = True


def set_enabled(enabled: bool) -> None:
    """Turn progress output on or off (the CLI's ``--quiet`` turns it off)."""
    global _enabled
    _enabled = enabled


class Progress:
    """A counter that prints ``desc: done/total (pct) rate ETA`` to stderr.

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
        self._min_interval_s = min_interval_s if self._tty else max(min_interval_s, 5.0)

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def update(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if now - self._last >= self._min_interval_s:
            self._last = now
            self._print(final=False)

    def close(self) -> None:
        if self.done or self.total:
            self._print(final=True)

    def _print(self, final: bool) -> None:
        if not _enabled:
            return
        elapsed = max(time.monotonic() - self._t0, 1e-9)
        rate = self.done / elapsed
        if self.total:
            pct = 100.0 * self.done / self.total
            eta = (self.total - self.done) / rate if rate > 0 else float("nan")
            text = f"{self.desc}: {self.done}/{self.total} {self.unit} ({pct:5.1f} %), {rate:,.1f}/s"
            if not final:
                text += f", ETA {eta:,.0f} s"
        else:
            text = f"{self.desc}: {self.done} {self.unit}, {rate:,.1f}/s"
        if final:
            text += f", {elapsed:,.1f} s"
        end = "\n" if (final or not self._tty) else "\r"
        print(text, end=end, file=sys.stderr, flush=True)


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
