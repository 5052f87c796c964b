"""Plot helpers shared by the experiments: one house style, mean curves with confidence bands.

Matplotlib runs with the non-interactive Agg backend, so scripts work on headless machines.
"""

from __future__ import annotations

import contextlib
import re
import sys
import warnings
from typing import Iterator, Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

# The lecture's figures use matplotlib's default cycle; keeping it lets ours be read side by side.
COLORS = plt.rcParams["axes.prop_cycle"].by_key()["color"]


def style() -> None:
    """Applies the house style: dotted grid, readable sizes, no top/right spines."""
    plt.rcParams.update({
        "axes.grid": True,
        "grid.linestyle": ":",
        "grid.alpha": 0.7,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "font.size": 10,
        "axes.titlesize": 11,
        "legend.frameon": False,
        "figure.dpi": 100,
    })


def band(ax, x, mean, stderr=None, *, label: str, color=None, z: float = 1.96,
         floor: float | None = None, **line_kwargs):
    """Plots ``mean`` against ``x`` with a shaded mean +/- z * stderr band.

    ``floor`` clips the curve and band from below (for log axes, where a band reaching 0 or
    a value at the rounding floor would vanish or dominate).
    """
    x = np.asarray(x, dtype=np.float64)
    mean = np.asarray(mean, dtype=np.float64)
    lo = hi = None
    if stderr is not None:
        stderr = np.nan_to_num(np.asarray(stderr, dtype=np.float64))
        lo, hi = mean - z * stderr, mean + z * stderr
    if floor is not None:
        mean = np.maximum(mean, floor)
        if lo is not None:
            lo, hi = np.maximum(lo, floor), np.maximum(hi, floor)
    (line,) = ax.plot(x, mean, label=label, color=color, lw=1.6, **line_kwargs)
    if lo is not None:
        ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.2, lw=0)
    return line


def legend_below(fig, axes: Sequence, ncol: int | None = None) -> None:
    """One legend for the figure, centred under the panels, as in the lecture's slides."""
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=ncol or len(labels), frameon=True,
               bbox_to_anchor=(0.5, -0.02))


_GLYPH = re.compile(r"Glyph (\d+) .*missing from font\(s\) (.+?)\.?$")


@contextlib.contextmanager
def missing_glyphs_said(figure: str) -> Iterator[None]:
    """Within the block, matplotlib's "Glyph N missing from font(s) F" warnings (one per character
    and per draw, two lines each with matplotlib's own source line: a grid label with a CJK file name
    printed 8 lines for 2 characters) become one line on stderr naming the characters and ``figure``;
    other warnings are shown as they would have been."""
    with warnings.catch_warnings(record=True) as caught:
        yield
    missing, fonts = [], []
    for w in caught:
        match = _GLYPH.search(str(w.message))
        if match is None or not issubclass(w.category, UserWarning):
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
            continue
        missing += [chr(int(match.group(1)))] if chr(int(match.group(1))) not in missing else []
        fonts += [match.group(2)] if match.group(2) not in fonts else []
    if missing:
        print(f"sgd-bench: {figure}: the font ({', '.join(fonts)}) has no {', '.join(missing)}, which a "
              "label uses: drawn as boxes there (the records and summary.md keep them)", file=sys.stderr)
