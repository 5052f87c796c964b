"""Progress bars for long runs: one line on stderr per run, redrawn after each chunk of steps
with the rate and an ETA.

The library is silent by default. The ``sgd-bench`` command line and the experiment scripts
(``experiment.main``) hold ``with mode("auto"):`` around their work, which draws bars only when
stderr is a terminal, so CI logs and redirected output stay clean. The mode lives in a context
variable set only inside such a block: nothing a caller does leaks to the next caller.
``SGD_BENCH_PROGRESS=0`` or ``=1`` overrides the mode from the environment.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import sys
import time
from typing import IO, Iterator

from sgd_bench import validation

MODES = ("off", "auto", "on")
_MODE = contextvars.ContextVar("sgd_bench_progress_mode", default="off")


def get_mode() -> str:
    """The default for runs that do not pass ``progress`` here: "off" unless inside ``mode``."""
    return _MODE.get()


@contextlib.contextmanager
def mode(value: str) -> Iterator[None]:
    """Within this ``with`` block, runs that do not pass ``progress`` use ``value``: "off",
    "auto" (bars when stderr is a terminal) or "on"; the previous mode is back after it."""
    token = _MODE.set(validation.choice("mode", value, MODES))
    try:
        yield
    finally:
        _MODE.reset(token)


def forced() -> bool | None:
    """``SGD_BENCH_PROGRESS`` read: True for "1", False for "0", None when unset or empty; any
    other value is a ValueError (a typo must not silently mean the mode's default)."""
    value = os.environ.get("SGD_BENCH_PROGRESS", "").strip()
    if value and value not in ("0", "1"):
        raise ValueError(f"SGD_BENCH_PROGRESS must be 0 or 1 (or unset), got {value!r}")
    return None if not value else value == "1"


def enabled(stream: IO | None = None) -> bool:
    """Whether a run that did not pass ``progress`` should draw a bar on ``stream``."""
    setting = forced()
    if setting is not None:
        return setting
    current = _MODE.get()
    if current == "on":
        return True
    if current == "off":
        return False
    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # closed or replaced streams
        return False


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _rate(per_second: float) -> str:
    if per_second >= 1e5:
        return f"{per_second:.2e}"
    if per_second >= 100:
        return f"{per_second:,.0f}"
    return f"{per_second:.3g}"


class Bar:
    """A one-line bar: ``label [#####.....]  50%  500/1,000 steps  2.1e+04 steps/s  ETA 0:03``.

    ``update(done)`` redraws it (at most every ``min_interval`` seconds, and always at the end);
    ``close()`` ends the line. ``width`` is the number of cells of the bar itself.
    """

    def __init__(self, total: int, label: str = "", *, unit: str = "steps", stream: IO | None = None,
                 width: int = 24, min_interval: float = 0.1):
        self.total = max(int(total), 1)
        self.label = label
        self.unit = unit
        self.stream = sys.stderr if stream is None else stream
        self.width = width
        self.min_interval = min_interval
        self.started = time.perf_counter()
        self._last_draw = -float("inf")
        self._done = 0
        self._closed = False

    def line(self, done: int, elapsed: float) -> str:
        """The text of the bar after ``done`` units in ``elapsed`` seconds."""
        frac = min(max(done / self.total, 0.0), 1.0)
        cells = int(round(frac * self.width))
        rate = done / elapsed if elapsed > 0 else float("nan")
        eta = (self.total - done) / rate if rate == rate and rate > 0 else float("nan")
        parts = [f"{self.label} " if self.label else "",
                 f"[{'#' * cells}{'.' * (self.width - cells)}] {frac:4.0%}  ",
                 f"{done:,}/{self.total:,} {self.unit}"]
        if rate == rate:
            parts.append(f"  {_rate(rate)} {self.unit}/s")
        if done >= self.total:
            parts.append(f"  in {_clock(elapsed)}")
        elif eta == eta:
            parts.append(f"  ETA {_clock(eta)}")
        return "".join(parts)

    def update(self, done: int) -> None:
        """Records that ``done`` units are finished and redraws the bar if it is due."""
        self._done = int(done)
        now = time.perf_counter()
        if self._done < self.total and now - self._last_draw < self.min_interval:
            return
        self._last_draw = now
        self._write("\r" + self.line(self._done, now - self.started) + "\x1b[K")

    def _write(self, text: str) -> None:
        # A bar is cosmetic: a full (2>/dev/full), closed (2>&-) or missing (sys.stderr None)
        # stderr raised from inside the run and lost its finished result. The bar stops instead.
        if self.stream is None:
            return
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError, AttributeError):
            self.stream = None

    def close(self) -> None:
        """Draws the final state and ends the line."""
        if self._closed:
            return
        self._closed = True
        self._last_draw = -float("inf")
        self.update(self._done)
        self._write("\n")

    def __enter__(self) -> "Bar":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
