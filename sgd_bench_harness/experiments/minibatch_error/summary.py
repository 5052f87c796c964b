"""minibatch_error's ``summary.md``: the error tables, the payoff table and the checks."""

from __future__ import annotations

from sgd_bench_harness import experiment, results

from .errors import MODES, Z_FAMILY


def text(meta, checks, c, errors, along, payoff):
    """The text of ``summary.md``, its payoff table and its table of the checks along runs."""
    config, info = meta["config"], meta["problem"]
    n, d, mu, L, alpha, delta0 = info["n"], info["d"], c.mu, c.L, config["alpha"], meta["delta0"]
    batches = config["batches"]
    formula_ok = all(r["agrees"] for r in errors)
    fixed_rows = [{"point": r["point"], "sampling": MODES[r["sampling"]], "B": r["batch"],
                   "measured E||e||^2": f"{r['err_sq']:.4e} ± {r['err_sq_stderr']:.1e}",
                   "formula": f"{r['formula']:.4e}",
                   "ratio": "-" if r["formula"] == 0 else f"{r['err_sq'] / r['formula']:.3f}"}
                  for r in errors if r["point"] == "x*"]
    along_rows = [{"B": a["batch"], "steps x seeds": f"{a['steps']} x {a['seeds']}",
                   "one-step bound violations": a["violations"], "min relative slack": f"{a['min_relative_slack']:.2e}",
                   "mean ||e_k||^2": f"{a['err_sq']:.4e}",
                   "mean v(x_k)/B": f"{a['formula']:.4e} (± {a['diff_stderr']:.1e})"} for a in along]
    payoff_rows = []
    for p in payoff:
        measured = "GD" if p["best"] is None or (p["gd"] is not None and p["gd"] < p["evals"][p["best"]]) else p["best"]
        payoff_rows.append({"target eps": f"{p['eps']:.2e} (= {p['frac']:g} Delta_0)",
                            **{f"B={b}": "-" if e is None else f"{e:,}" for b, e in p["evals"].items()},
                            "GD": "-" if p["gd"] is None else f"{p['gd']:,}", "B* measured": measured,
                            "B* quadratic model": p["model"], "B* from the bound": p["bound"]})
    step_ok = all(a["violations"] == 0 for a in along)
    held_text = (("both E||e||^2 formulas at every B, at x_0 and at x*" if formula_ok else
                  "NOT every E||e||^2 formula (see the checks)") + "; " +
                 (f"the one-step bound at every step of every seed for B = {', '.join(str(a['batch']) for a in along)}"
                  if step_ok else "NOT the one-step bound everywhere (see the checks)") + ".")
    wall = meta.get("wall_seconds") or 0.0
    text = f"""# Mini-batch SGD as gradient descent with error (logistic regression, n={n}, d={d}, mu={mu:g})

Constants (float64):

{c.describe()}

Step alpha = 1/L = {alpha:.4f}; x_0 = 0, Delta_0 = f(x_0) - f* = {delta0:.4f}; {config['seeds']} seeds;
device {meta['devices'][0]}.

## The error of a mini-batch gradient

e = g_B - grad f(x). Measured over {config['draws']} batches per B drawn by the engine's samplers
(`sampling.indices` with batch n: each step of `with_replacement` gives n iid indices, each step of
`reshuffle` one fresh permutation, whose first B entries are a uniform subset drawn without replacement),
against v/B and (n-B)/(n-1) v/B with v = E_i ||grad f_i(x) - grad f(x)||^2. Intervals are
99.9% (z = {Z_FAMILY}), since {2 * 2 * len(batches)} comparisons are made. At x*:

{results.markdown_table(fixed_rows, list(fixed_rows[0]))}

![error](minibatch_error.png)

Along SGD runs at alpha = 1/L (with replacement), e_k = (x_k - x_(k+1))/alpha - grad f(x_k) at every step:

{results.markdown_table(along_rows, list(along_rows[0]))}

Which bounds held: {held_text}

## Convergence against B

![convergence](minibatch_convergence.png)

Gradient evaluations to reach E f(x_k) - f* <= eps (first logged k where the seed mean is below eps; "-":
not within {config['steps']} steps). B* is the batch size that needs the fewest: beyond it mini-batching
stops paying off in gradient evaluations. The predictions use Delta_k <= (1 - mu/L)^k Delta_0 + P_B with
P_B = E||e||^2/(2 mu) from the GD-with-error bound, or P_B = alpha E||e||^2/4 from SGD's stationary
distribution on the quadratic model around x* (v = sigma_*^2 = {c.sigma2_star:.4f}).

{results.markdown_table(payoff_rows, list(payoff_rows[0]))}

The bound's plateau v/(2 mu B) is 2L/mu = {2 * L / mu:.0f} times the quadratic model's alpha v/(4B) at
alpha = 1/L, so the bound alone would send every target to far larger batches than the measured B*.

## Checks

{experiment.check_lines(checks)}

Wall time {wall:.1f} s (compilation included).
"""
    return text, payoff_rows, along_rows
