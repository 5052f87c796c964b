"""The report of a grid folder, rebuilt from its records and meta alone: the summary table
(final gap over the seeds that did not diverge), the figure and ``summary.md``.

Seeds whose loss rose above the grid's rise factor (``--rise-factor``, default ``RISE_FACTOR``)
x max(|f(x_0)|, 1) but stayed finite (``Trace.rose``) are counted in a ``rose`` column, shown only
when there is one, and kept in the statistics; records written before the column existed are
judged from their losses by the same rule.

``sgd_bench_harness.grid`` runs the cells and calls ``report`` at the end; ``sgd-bench report``
calls it again on a finished folder, and the output is the same byte for byte.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sgd_bench import stats
from sgd_bench.flags import RISE_FACTOR, above_start, check_rise_factor
from sgd_bench_harness.toolkit import GAP_FLOOR


def rise_factor(config: dict) -> float:
    """A grid's ``--rise-factor`` (``RISE_FACTOR`` when not given), checked: a hand-edited
    meta.json's config may hold anything."""
    return check_rise_factor(config.get("rise_factor") if isinstance(config, dict) else None)


def check_meta(meta: dict) -> None:
    """Raises ValueError naming the first entry of a grid's ``meta.json`` that ``report`` cannot read
    (a hand edit): ``"config": [1, 2]`` or ``"f_star": null`` stopped the rebuild with "AttributeError:
    'list' object has no attribute 'get'", naming nothing. ``report`` checks an experiment's config here too."""
    def number(value) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool)

    shapes = {"config": (dict, "a JSON object"), "cells": (dict, "a JSON object"), "f_star": (dict, "a JSON object"),
              "versions": (dict, "a JSON object"), "devices": (list, "a list")}
    for key, (kind, what) in shapes.items():
        if key in meta and not isinstance(meta[key], kind):
            given = {dict: "a JSON object", list: "a list", str: "a text", type(None): "null", bool: "true/false"}.get(
                type(meta[key]), "a number")
            raise ValueError(f'meta.json\'s "{key}" is {given}, not {what} (edited?); '
                             "restore it, or re-run it to rebuild it")
    for key, ok, what in (
            ("cells", lambda c: isinstance(c, dict) and isinstance(c.get("problem"), str)
             and isinstance(c.get("method"), str) and number(c.get("seconds")), "{problem, method, seconds}"),
            ("f_star", lambda v: isinstance(v, list) and len(v) == 2 and (v[0] is None or number(v[0]))
             and isinstance(v[1], str), "[f* or null, how it was found]")):
        bad = next((name for name, value in meta.get(key, {}).items() if not ok(value)), None)
        if bad is not None:
            raise ValueError(f'meta.json\'s "{key}" entry {bad!r} is not {what} (edited?); restore it, or re-run '
                             "it to rebuild it")


def check_config_kept(meta: dict) -> None:
    """Raises ValueError when a ``meta.json`` has lost its "config" (a grid's summary said "? seeds x ?
    steps", an experiment's report blamed "an older version" of the script); no meta.json at all
    (records alone) is rebuilt as before. After the records' own checks, whose faults come first."""
    if meta and "config" not in meta:
        raise ValueError('meta.json has no "config" (deleted?); restore it, or re-run it to rebuild it')
    config, stored = meta.get("config"), meta.get("config_hash")
    if isinstance(stored, str) and isinstance(config, dict) and isinstance(meta.get("backend"), str):
        from sgd_bench_harness import grid, results  # a grid's config is what its hash keys (an edit: "7 seeds x")

        now = results.config_hash(grid.KIND, config, dtype=str(config.get("dtype")), backend=meta["backend"])
        if now != stored:
            raise ValueError(f'meta.json\'s "config" is not the one its run was keyed by (config hash {stored}, '
                             f"now {now}: edited?); restore it, or re-run it to rebuild it")


def _count(value, word: str) -> str:
    """``1 seed``, ``2 seeds``: the summary said "1 seeds x 1 steps" and "seed run(s)"."""
    return f"{value} {word}{'' if value == 1 else 's'}"


def _fmt(value: float) -> str:
    return "-" if value != value else f"{value:.4g}"


# The columns ``summarize`` reads in every row, and what each must hold.
_KEY_COLUMNS = {"problem": str, "method": str, "seed": int, "step": int, "grad_evals": int, "diverged": bool}


def check_rows(rows: list[dict], where: str) -> None:
    """Refuses records whose key cells are empty or of another kind, naming the file (``where``),
    the row and the column: an empty problem or seed cell in CSV records gave "TypeError: '<' not
    supported between instances of 'NoneType' and 'int'"."""
    for i, row in enumerate(rows):
        for column, kind in _KEY_COLUMNS.items():
            value = row.get(column)
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                what = {str: "a text", int: "an integer", bool: "True or False"}[kind]
                raise ValueError(f"{where}: row {i + 1}, column {column} is "
                                 f"{'empty' if value is None else repr(value)[:40]}, where a grid's records hold {what}")


def summarize(rows: list[dict], factor: float = RISE_FACTOR) -> tuple[list[dict], dict]:
    """Per (problem, method): the final gap's mean and stderr over seeds that did not diverge,
    and the per-step curves (mean, q05, q95 over those seeds) for the figure. ``factor``: the
    grid's rise factor, to judge records written before the ``rose`` column."""
    table, curves = [], {}
    keyed: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        keyed.setdefault((row["problem"], row["method"]), []).append(row)
    for (ptext, mtext), group in keyed.items():
        metric = "f_gap" if group[0].get("f_gap") is not None else "loss"
        seeds = sorted({r["seed"] for r in group})
        steps = sorted({r["step"] for r in group})
        index = {s: t for t, s in enumerate(steps)}
        sid = {s: i for i, s in enumerate(seeds)}
        values = np.full((len(seeds), len(steps)), np.nan)
        losses = np.full((len(seeds), len(steps)), np.nan)
        evals = np.zeros(len(steps))
        diverged = np.zeros(len(seeds), bool)
        first_div = []
        # Step sizes depend on the method, not the seed; records older than the column lack it.
        negative = [int(r["negative_step_at"]) for r in group
                    if r.get("negative_step_at") is not None and int(r["negative_step_at"]) >= 0]
        rose_at = {}  # seed -> the first logged step where its loss rose (Trace.rose_step)
        unflagged = set()  # seeds whose records predate the column (a grid resumed across versions)
        for r in group:
            values[sid[r["seed"]], index[r["step"]]] = r[metric]
            losses[sid[r["seed"]], index[r["step"]]] = r["loss"]
            if r.get("rose") is None:
                unflagged.add(sid[r["seed"]])
            elif r["rose"]:
                rose_at[r["seed"]] = r["rose_step"]
            evals[index[r["step"]]] = r["grad_evals"]
            if r["diverged"]:
                diverged[sid[r["seed"]]] = True
                if r["step"] == steps[0]:
                    first_div.append(r["diverged_step"])
        bad = above_start(losses, factor)  # the runner's rule, for records without the column
        rose_at.update({seeds[i]: steps[int(np.argmax(bad[i]))] for i in sorted(unflagged) if bad[i].any()})
        ok = values[~diverged]
        # The final values' statistics over the column of seeds (a 1-d reduction, as the
        # committed summaries were computed), the curves' over the seed axis of the whole table.
        final = ok[:, -1]
        final_mean, final_se = float(stats.mean(final)), float(stats.stderr(final))
        median = float(np.median(final)) if ok.size else float("nan")
        with np.errstate(invalid="ignore"):  # a non-finite logged value (records kept as they are) is a
            # gap in the figure's curve, and shows in the table: NumPy's RuntimeWarning said nothing more
            band = stats.quantiles(ok, (0.05, 0.95)) if ok.size else {0.05: None, 0.95: None}
            mean = stats.mean(ok) if ok.size else None
        curves[(ptext, mtext)] = dict(
            metric=metric, steps=np.array(steps), grad_evals=evals, mean=mean, lo=band[0.05], hi=band[0.95])
        n_div = int(diverged.sum())
        table.append(dict(
            problem=ptext, method=mtext, seeds=len(seeds),
            diverged=f"{n_div}/{len(seeds)}" + (f" (first at step {min(first_div)})" if n_div else ""),
            negative_step=f"from k = {min(negative)}" if negative else "-",
            rose=(f"{len(rose_at)}/{len(seeds)} (first at step {min(rose_at.values())})"
                  if rose_at else "-"),
            metric=("f - f*" if metric == "f_gap" else "f"),
            final_mean=_fmt(final_mean), final_stderr=_fmt(final_se), final_median=_fmt(median),
            steps=steps[-1], grad_evals=f"{int(evals[-1]):,}"))
    return table, curves


# The most characters of a label a figure shows: a 200-character label widened grid.png to 4,389
# pixels (the title and legend are kept whole by the saved bounding box). A longer label keeps its
# two ends (specs differ in their last values, file names in their ends) around an ellipsis; the
# summary table shows it whole.
LABEL_MAX = 40
TITLE_ONE_LINE = 24  # the longest problem label a panel's title holds on one line with its axis's words


def figure_text(label: str) -> str:
    """A label as matplotlib draws it literally: ``$`` escaped (a file named ``p$^$q.svm`` was read as
    mathtext, and its ParseSyntaxException failed the grid after every cell had run, and again at
    every resume), control characters as their escapes (a tab or ESC: missing-glyph warnings), and
    at most ``LABEL_MAX`` characters."""
    from sgd_bench_harness.results import printable

    text = printable(label)
    if len(text) > LABEL_MAX:
        head = 2 * LABEL_MAX // 3
        text = text[:head] + "…" + text[len(text) - (LABEL_MAX - head - 1):]
    return text.replace("$", r"\$")


def figure_texts(labels) -> dict[str, str]:
    """Each label's ``figure_text``, told apart: labels that differ only where the ellipsis falls
    (``sgd:step=0.1,batch=10,sampling=cyclic,schedule=inverse_sqrt`` and ``...=shuffle,...``) were
    drawn alike, two curves of one legend under one name. Such labels show their first characters,
    then the part from the key or folder where they differ (or a few characters before)."""
    import os

    from sgd_bench_harness.results import printable

    shown = {label: figure_text(label) for label in labels}
    for text in set(shown.values()):
        group = [label for label in shown if shown[label] == text]
        if len(group) > 1:
            common = os.path.commonprefix([printable(label) for label in group])
            cut = max(common.rfind(sep, max(len(common) - 20, 0)) for sep in ",:/")  # from the key or folder that differs
            start = cut + 1 if cut >= 0 else max(len(common) - 6, 0)
            for label in group:
                whole = printable(label)
                part = whole[:10] + "…" + whole[max(start, 10):] if start > 11 else whole
                shown[label] = (part if len(part) <= LABEL_MAX else part[:LABEL_MAX - 1] + "…").replace("$", r"\$")
    seen: dict[str, int] = {}
    for label, text in shown.items():  # three or more that differ at different places: numbered
        seen[text] = seen.get(text, 0) + 1
        if seen[text] > 1:
            shown[label] = f"{text} ({seen[text]})"
    return shown


def panel_title(label: str, what: str, shown: str | None = None) -> str:
    """A panel's title: ``LABEL: what``, or the label on a line of its own when it is longer than
    ``TITLE_ONE_LINE`` ("LABEL: against gradient evaluations" overran its panel and widened the figure);
    ``shown``: the label as ``figure_texts`` tells it from the grid's other problems."""
    shown = figure_text(label) if shown is None else shown
    return f"{shown}{': ' if len(shown) <= TITLE_ONE_LINE else chr(10)}{what}"


# The most curves a panel names in a legend: beyond, matplotlib spent minutes placing it (and
# warned on stderr) for a grid of thousands of points, and no one reads such a legend.
LEGEND_MAX = 20
LINE_STYLES = ("-", "--", ":", "-.")  # with the colours, 40 curves told apart (a legend names 20 at most)

COLUMNS = ["problem", "method", "seeds", "diverged", "metric", "final_mean", "final_stderr",
           "final_median", "steps", "grad_evals", "seconds"]


def summary_columns(table: list[dict]) -> list[str]:
    """``COLUMNS``, with ``rose`` and ``negative_step`` after ``diverged`` when a seed's loss rose
    above the rise factor or a method's step size went negative: a column appears only when it
    has something to say."""
    extra = [c for c in ("rose", "negative_step") if any(r.get(c, "-") != "-" for r in table)]
    return COLUMNS[:4] + extra + COLUMNS[4:]


def report(out: Path) -> list[dict]:
    """Rebuilds ``summary.md`` and ``grid.png`` of a grid folder from its records and meta;
    returns the summary table's rows."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sgd_bench_harness import plots, results
    from sgd_bench_harness import records
    from sgd_bench_harness import folders

    out = Path(out)
    meta = folders.read_meta(out) or {}
    check_meta(meta)
    rows = records.read_records(out)
    check_rows(rows, records.find_records(out).name)
    check_config_kept(meta)
    factor = rise_factor(meta.get("config", {}))
    table, curves = summarize(rows, factor)
    seconds: dict[tuple[str, str], float] = {}
    for cell in meta.get("cells", {}).values():
        key = (cell["problem"], cell["method"])
        seconds[key] = seconds.get(key, 0.0) + cell["seconds"]
    for row in table:
        key = (row["problem"], row["method"])
        row["seconds"] = f"{seconds[key]:.2f}" if key in seconds else "-"
    problems_ = list(dict.fromkeys(r["problem"] for r in table))
    plots.style()
    fig, axes = plt.subplots(len(problems_), 2, figsize=(11, 3.8 * len(problems_)), squeeze=False)
    titles = figure_texts(problems_)
    for row_axes, ptext in zip(axes, problems_):
        methods = [r["method"] for r in table if r["problem"] == ptext]
        metric = curves[(ptext, methods[0])]["metric"]
        gap = metric == "f_gap"
        # |f - f*| on log axes, floored at float64's rounding of f*: below it is noise.
        shown = (lambda v: np.maximum(np.abs(v), GAP_FLOOR)) if gap else (lambda v: v)
        positive = gap or all(curves[(ptext, m)]["mean"] is None or np.all(curves[(ptext, m)]["lo"] > 0)
                              for m in methods)
        names = figure_texts(methods)
        for c, mtext in enumerate(methods):
            cur = curves[(ptext, mtext)]
            if cur["mean"] is None:
                continue
            # past the 10 colours, a line style of its own: sgd:step=0.01 and step=1 (11th) drew the same blue line
            color, dashes = plots.COLORS[c % len(plots.COLORS)], LINE_STYLES[c // len(plots.COLORS) % len(LINE_STYLES)]
            for ax, x in zip(row_axes, (cur["steps"], cur["grad_evals"])):
                keep = x > 0 if ax is row_axes[1] else slice(None)  # log-x: no zero evaluations
                ax.plot(x[keep], shown(cur["mean"])[keep], color=color, ls=dashes, label=names[mtext])
                lo, hi = shown(cur["lo"]), shown(cur["hi"])
                ax.fill_between(x[keep], np.minimum(lo, hi)[keep], np.maximum(lo, hi)[keep],
                                color=color, alpha=0.15, lw=0)
        ylabel = r"$|f(x_k) - f^*|$" if gap else r"$f(x_k)$"
        for ax, xlabel, what in zip(row_axes, ("step k", "per-sample gradient evaluations"),
                                    ("against steps", "against gradient evaluations")):
            ax.set(xlabel=xlabel, ylabel=ylabel, title=panel_title(ptext, what, titles[ptext]))
            if positive:
                ax.set_yscale("log")
            curves_drawn = len(ax.get_legend_handles_labels()[0])
            if curves_drawn > LEGEND_MAX:  # a 3000-point grid spent minutes placing its legend
                ax.text(0.02, 0.02, f"{curves_drawn} curves: too many to name here; the table below names them",
                        transform=ax.transAxes, fontsize=8)
            elif curves_drawn:  # every seed diverged: no curve, no legend
                ax.legend(fontsize=8)
            else:  # (matplotlib's own warning would reach the user's terminal as a Python warning)
                ax.text(0.5, 0.5, "every seed diverged", transform=ax.transAxes, ha="center", fontsize=8)
        row_axes[1].set_xscale("log")
    fig.suptitle("mean over the seeds that did not diverge; band: 5%-95% of them", fontsize=9)
    with plots.missing_glyphs_said(str(out / "grid.png")):  # labels are the user's: a CJK file name
        fig.tight_layout()
        results.save_figure(fig, out / "grid.png")
    plt.close(fig)
    config = meta.get("config", {})
    f_star = meta.get("f_star", {})
    lit = results.markdown_literal  # labels the user chose (a libsvm file _t_.svm) show as typed
    shown = results.printable  # a meta.json's own words (an ESC in a hand-edited "devices"): escaped, as labels
    f_lines = "\n".join(f"- {lit(p)}: f* = {v[0]:.12g} ({shown(v[1])})" if v[0] is not None else
                        f"- {lit(p)}: f* {shown(v[1])}" for p, v in f_star.items())
    diverged_total = sum(int(r["diverged"].split("/")[0]) for r in table)
    uphill = [r for r in table if r["negative_step"] != "-"]
    columns = summary_columns(table)
    rose_note = ""
    if "rose" in columns:
        rose_note = (f"Column rose: seeds whose loss rose above {factor:g} x max(|f(x_0)|, 1) at a "
                     "log point (diverged ones included); those that stayed finite are in the "
                     "statistics.\n")
    warning = ""
    if uphill:
        warning = ("\n**Warning: a step size went negative** (or NaN) in "
                   + ", ".join(f"{lit(r['problem'])} / {lit(r['method'])} ({r['negative_step']})" for r in uphill)
                   + ": from that step on the run climbs uphill, so its numbers are not a descent "
                   "method's (column negative_step).\n")
    text = f"""# Grid: {', '.join(map(lit, problems_))}

Command: {results.markdown_code(meta.get('command', '?'))}

{lit(_count(config.get('seeds', '?'), 'seed'))} x {lit(_count(config.get('steps', '?'), 'step'))} (logged every
{lit(config.get('log_every', '?'))}), {lit(config.get('dtype', '?'))}, key {lit(config.get('key', '?'))}, device
{', '.join(map(lit, meta.get('devices', []))) or '?'}, jax {lit(meta.get('versions', {}).get('jax', '?'))}, commit
{lit(meta.get('git_commit', '?'))}, config hash {lit(meta.get('config_hash', '?'))}.

![grid](grid.png)

Final values: mean and standard error over the seeds that did not diverge (NaN, Inf or a loss
above 1e6 x max(|f(x_0)|, 1)); {_count(diverged_total, 'seed run')} diverged in all. Seconds: wall-clock
of the method's cells, compilation included (sgd-bench's timing scripts measure speed).
{rose_note}{warning}
{results.markdown_table(table, columns, literal=("problem", "method"))}

Reference values:
{f_lines or '- none'}
"""
    results.write_text(out / "summary.md", text)
    return table
