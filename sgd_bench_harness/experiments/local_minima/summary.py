"""local_minima's ``summary.md``: the landscapes' minima, the transition steps and the cells."""

from __future__ import annotations

import numpy as np

from sgd_bench_harness import experiment, results


def _method_label(c):
    if c["method"] == "GD":
        return "GD"
    if c["method"] == "SGD":
        return "SGD" if c["batch"] == 1 else f"SGD batch {c['batch']}"
    return f"GD + N(0, {c['noise_std']:.2f}²)"


def text(config, land, land2, cells, checks, meta):
    """The text of ``summary.md``, its table of transition steps and its table of 1-D cells."""

    def vec(v, digits):
        return "(" + ", ".join(f"{x:.{digits}f}" for x in np.round(np.asarray(v), digits) + 0.0) + ")"

    mins = [{"landscape": name, "minimum": m.name, "x": vec(m.x, 3), "f": f"{m.value:.4f}",
             "f_test (shifted f)": f"{m.test_value:.4f}",
             "Hessian eigenvalues": vec(m.hessian_eigenvalues, 4)}
            for name, lscape in (("1-D", land), ("2-D", land2)) for m in lscape.minima]
    trans = next(c["measured"]["step where P(wide) reaches 1/2"] for c in checks
                 if "step where P(wide) reaches 1/2" in c["measured"])
    trans_rows = [{"": "α where P(wide) = 1/2", **{k: f"{v:.2f}" for k, v in trans.items()}}]
    table = []
    for c in cells:
        if c["landscape"] != "1d":
            continue
        table.append({"method": _method_label(c), "α": f"{c['alpha']:g}",
                      "P(narrow)": f"{c['p_narrow']:.3f}", "P(wide) ± se": f"{c['p_wide']:.3f} ± {c['se_wide']:.3f}",
                      "P(plateau)": f"{c['p_plateau']:.3f}", "mean f''": f"{c['sharpness']:.3f}",
                      "train": f"{c['train']:.3f}"})
    table2 = [{"method": _method_label(c), "α": f"{c['alpha']:g}", "P(narrow)": f"{c['p_narrow']:.3f}",
               "P(wide) ± se": f"{c['p_wide']:.3f} ± {c['se_wide']:.3f}", "P(plateau)": f"{c['p_plateau']:.3f}",
               "mean sharpness": f"{c['sharpness']:.3f}"}
              for c in cells if c["landscape"] == "2d"]
    sigma1 = meta["noise_at_narrow_minimum"]
    wall = meta.get("wall_seconds") or 0.0
    text = f"""# Narrow against wide minima (1-D and 2-D landscapes, {config['seeds']} seeds)

The 1-D landscape is f(w) = 1/n Σ_i G(w − s_i), n = {land.n} shifted copies (shift std
{land.shift_std:g}) of a level 0.5 minus a narrow well at 0 (width 0.9) and a wide one at 13 (width 5);
its mean is within {land.max_dev_from_F:.1e} of 0.5 − 0.45 e^(−w²/(2·0.9²)) − 0.4 e^(−(w−13)²/(2·5²)).
The "test" loss f_test is f shifted by {land.test_shift[0]:g}: an illustration (the lecture's sam_c.png),
under which a flat minimum loses less by construction, so no check rests on it; held-out data is
measured in `sharp_minima`. Every run starts at x0 ~ U({config['x0_low']:g}, {config['x0_high']:g}),
inside the narrow basin, and takes {config['steps']} steps; SGD samples with replacement; the saddle
between the basins is at w = {land.saddle[0]:.3f} (f = {land.saddle_value:.3f}); "plateau" means f > {land.plateau_level:g}.
SGD's gradient noise (per-sample spread) is {sigma1:.3f} at the narrow minimum; the Gaussian-noise runs
add N(0, σ²) with σ = {sigma1:.3f}/√B to the full gradient.

{results.markdown_table(mins, list(mins[0]))}

![landscape and end points](local_minima.png)

![P(wide) and sharpness against the step](local_minima_pwide.png)

![heatmap](local_minima_heatmap.png)

{results.markdown_table(trans_rows, list(trans_rows[0]))}

{results.markdown_table(table, list(table[0]))}

## 2-D

![2-D](local_minima_2d.png)

{results.markdown_table(table2, list(table2[0]))}

## Checks

{experiment.check_lines(checks)}

Wall time {wall:.1f} s (compilation included); device {meta['devices'][0]}; float64.
"""
    return text, trans_rows, table

