"""O(1/K) without strong convexity, measured across horizons (Bach & Moulines 2013).

Two problems whose Hessian spectrum spreads over many decades, down below 1/(gamma K) for every
horizon K used, so that no method can profit from strong convexity (gamma mu K < 1):
least squares with covariance eigenvalues i^-power (``problems.spectral_least_squares``) and
unregularized logistic regression with features of geometric scales
(``problems.geometric_logistic``); both know their minimizer exactly, and the start x0 is away
from x* along every eigendirection, the smallest ones included.

For each horizon K = k_min ... k_max (log-spaced) every method runs K batch-1 steps with the
parameters it prescribes for K, over S seeds vmapped in one program (the step count and the
parameters are traced: one compilation per program and problem), and E[f(x_K) - f*] is fitted
against K with a bootstrap interval over the seeds (``sgd_bench.horizons``). Methods:

- the two-phase method (``online_newton``): averaged SGD with gamma = 1/(4 L_max) for the first
  ``phase1_fraction`` K steps, then averaged SGD on the local quadratic model around that
  average (the online Newton step), the average restarted there; evaluated: that average;
- averaged constant-step SGD, gamma = 1/(4 L_max) (Bach & Moulines: O(1/K) for least squares);
- SGD with alpha_k = 1/(L_max sqrt(k + 1)) (O(1/sqrt(K)) without strong convexity);
- plain constant-step SGD with gamma (a plateau at the noise level).

Checks, per problem: gamma mu K_max < 1; the two-phase slope's interval meets the band
[-1 - tol, -1 + tol] (and is no wider than it) and excludes -1/2; the 1/sqrt(k) slope's interval
excludes -1; and on least squares averaged SGD's interval meets the -1 band. Why a band: a fit over finite horizons of a
rate C/K + (terms of higher order, and the log-growing effective dimension of a spread
spectrum) has a slope within a few hundredths of -1, and with 128 seeds its bootstrap interval
is narrower than that bias. ``tol`` is ``sgd_bench.rates.MATCH_TOL`` (0.05), the rates table's
band; whether the interval contains -1 itself is printed beside it as a reading.

Where the time goes (issue 16; full size, cache off, load 14-18 on the shared 2-core machine,
CPU seconds, readings): batch-1 steps of 128 seeds at 7 horizons (1.46 M steps per method and
problem), least squares (d = 80) most; ~150 small op-by-op compiles (Hessian spectrum, f*) beside
the real programs; the report ~3 s. Every run at horizon K draws its indices from the same keys
(``horizons.horizon_keys``), so the methods share work: constant-step SGD is averaged SGD's inner
iterate, the two-phase method's first K/2 steps are that averaged SGD, and SGD 1/sqrt(k) steps on
the same indices. ``shared_runs`` runs all four in ``lockstep`` in one program per problem (one
draw and gather of indices a step, one loop), bit for bit the numbers of separate runs (a test
compares them): 240 -> 176 CPU s in all, 4 -> 2 programs (92 -> 59 s wall of compiling).

    python scripts/two_phase.py [--quick] [--seeds S] [--steps K_MAX] [--out DIR] [--overwrite]
"""

from __future__ import annotations

import functools
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

import sgd_bench as sb
from problems import spectral
from sgd_bench import horizons as hz
from sgd_bench.averaging import averaged
from sgd_bench.solver import DEFAULT_CHUNK, METHOD_KEY_TAG, advance_state, cast_x, init_state
from sgd_bench.two_phase import online_newton
from sgd_bench_harness import experiment, plots, results, toolkit
from sgd_bench_harness.toolkit import Check

NAME = "two_phase"
DESCRIPTION = ("across horizons K = 10^3..10^6 on spectra below 1/(gamma K): the two-phase "
               "method and averaged SGD reach O(1/K), SGD with 1/sqrt(k) does not")

# Least squares with eigenvalues i^-2 would need d ~ 400 for gamma mu K < 1 at K = 10^6, and
# 128 seeds of batch-1 steps at d = 400 cost ~0.6 ms a step on the shared 2-core machine:
# i^-3 reaches below 1/(gamma K) with d = 80 (the full run took 637 s there, load ~9-11).
# Logistic x0 = 5: the bias term, an exact 1/K, dominates the variance term, whose effective
# dimension grows with K (x0 = 1 gives a slope of -0.88 over 10^3..10^5, the log K / K of that
# growth; x0 = 3 gives -0.95 over 10^3..10^6 with 32 seeds).
FULL = dict(seeds=128, k_min=1_000, k_max=1_000_000, per_decade=2, phase1_fraction=0.5, key=0,
            tol=0.05,
            spectral_ls=dict(n=1_000, d=80, power=3.0, decay=0.5, noise=0.1, seed=0),
            geometric_logistic=dict(n=3_000, d=12, ratio=0.5, seed=1), logistic_x0=5.0)
# Quick: horizons from K = 300, where x0 = 5 on the logistic problem is still in its nonlinear
# transient (slopes -1.08 to -1.11 over three keys); x0 = 3 gives -0.99 to -1.02.
QUICK = dict(seeds=32, k_min=300, k_max=30_000, per_decade=2, phase1_fraction=0.5, key=0,
             tol=0.05,
             spectral_ls=dict(n=300, d=30, power=3.0, decay=0.5, noise=0.1, seed=0),
             geometric_logistic=dict(n=600, d=8, ratio=0.5, seed=1), logistic_x0=3.0)

TWO_PHASE, AVERAGED, SQRT, CONSTANT = ("two-phase (online Newton)", "averaged SGD, constant step",
                                       "SGD, 1/sqrt(k)", "SGD, constant step")
METHODS = (TWO_PHASE, AVERAGED, SQRT, CONSTANT)


def build_problems(config):
    """[(key, problem, x0, x*)] of the two problems of ``config``."""
    ls = config["spectral_ls"]
    lg = config["geometric_logistic"]
    d_ls, d_lg = ls["d"], lg["d"]
    x0_lg = np.full(d_lg, float(config["logistic_x0"]))
    x0_lg[0] = 0.0  # the intercept starts at 0; every scaled feature at logistic_x0
    return [
        ("spectral_ls", spectral.spectral_least_squares(**ls), np.zeros(d_ls),
         spectral.spectral_least_squares_solution(d_ls, decay=ls["decay"])),
        ("geometric_logistic", spectral.geometric_logistic(**lg), x0_lg,
         spectral.geometric_logistic_solution(d_lg)),
    ]


def method_factories(problem, phase1_fraction):
    """{label: K -> Method}: the parameters each method prescribes for the horizon K."""
    l_max = problem.info["L_max"]
    gamma = 0.25 / l_max
    return {
        TWO_PHASE: lambda k: online_newton(phase1_steps=max(1, int(phase1_fraction * k))),
        AVERAGED: lambda k: averaged(sb.sgd(gamma)),
        SQRT: lambda k: sb.sgd(sb.schedules.inverse_sqrt(1.0 / l_max)),
        CONSTANT: lambda k: sb.sgd(gamma),
    }


def _lockstep_init(p, x0, problem, key):
    return tuple(p[f"m{i}"].init(x0, problem, key) for i in range(p.count))


def _lockstep_step(p, state, problem, idx, k):
    return tuple(p[f"m{i}"].step(s, problem, idx, k) for i, s in enumerate(state))


def lockstep(*methods) -> sb.Method:
    """One method that steps every one of ``methods`` (same batch size and sampling) on the same
    indices at the same step k; its state is the tuple of theirs. Member i runs exactly as it
    would alone on the same key, but the indices are drawn (and their rows gathered) once per
    step for all, and the loop runs once."""
    return sb.Method(_lockstep_init, _lockstep_step,
                     hyperparams={f"m{i}": m for i, m in enumerate(methods)},
                     options={"count": len(methods)}, batch_size=methods[0].batch_size,
                     sampling=methods[0].sampling, name=" + ".join(m.name for m in methods))


@functools.partial(jax.jit, static_argnames=("chunk",))
def _shared_final(problem, first, both, x0, keys, phase1, steps, *, chunk):
    """``first`` = lockstep(averaged SGD, SGD 1/sqrt(k)) for ``phase1`` steps, then ``both`` =
    lockstep(two-phase method, the same two) on to ``steps``."""
    def one(key):
        state = advance_state(problem, first, init_state(problem, first, x0, key, chunk=chunk),
                              phase1, chunk=chunk)
        avg, sqrt = state.method
        # The two-phase method at k = phase1: its phase-1 average is averaged SGD's (it becomes
        # the support point and the start of phase 2 at this step; the rest of its state is reset).
        fresh = both.hyperparams["m0"].init(x0, problem, jax.random.fold_in(key, METHOD_KEY_TAG))
        newton = fresh._replace(x=avg.x, grad_evals=avg.grad_evals)
        state = advance_state(problem, both, state._replace(method=(newton, avg, sqrt)),
                              steps - phase1, chunk=chunk)
        newton, avg, sqrt = state.method
        done = (newton, avg, avg.inner, sqrt)
        return [m.x for m in done], [m.grad_evals for m in done]

    xs, evals = jax.vmap(one)(keys)
    # The full loss per seed, one seed at a time: memory stays at one pass over the data.
    return [jax.lax.map(problem.loss, x) for x in xs], evals


def shared_runs(problem, x0, key, *, horizons, seeds, f_star, phase1_fraction,
                chunk=DEFAULT_CHUNK) -> dict:
    """The runs of every method of ``method_factories`` at every horizon, in one program per
    problem ({label: ``horizons.HorizonRuns``}): what ``horizons.run_horizons`` gives for each
    (the same keys, the same indices), without running the shared steps twice or drawing the
    indices four times."""
    factories = method_factories(problem, phase1_fraction)
    labels = (TWO_PHASE, AVERAGED, CONSTANT, SQRT)
    out = {label: ([], [], [], []) for label in labels}
    x0 = cast_x(jnp.asarray(x0), problem)
    start = problem.loss(x0)  # f(x_0): divergence is judged against it (hz.judge_final)
    for k in (int(k) for k in horizons):
        newton, avg_sgd, sqrt_sgd = (factories[label](k) for label in (TWO_PHASE, AVERAGED, SQRT))
        phase1 = newton.hyperparams["phase1_steps"]
        losses, evals = _shared_final(problem, lockstep(avg_sgd, sqrt_sgd),
                                      lockstep(newton, avg_sgd, sqrt_sgd),
                                      x0, hz.horizon_keys(key, k, seeds), jnp.int32(phase1),
                                      jnp.int32(k), chunk=chunk)
        for label, loss, ev, method in zip(labels, losses, evals,
                                           (newton, avg_sgd, factories[CONSTANT](k), sqrt_sgd)):
            gaps, bad = hz.judge_final(loss, start, f_star)
            for part, value in zip(out[label], (gaps, bad, ev.to_numpy(), method)):
                part.append(value)
    return {label: hz.HorizonRuns(np.asarray(horizons, np.int64), np.stack(g, axis=1),
                                  np.stack(d, axis=1), np.stack(e, axis=1), tuple(m))
            for label, (g, d, e, m) in out.items()}


def hessian_spectrum(problem, x_star):
    """The eigenvalues of the Hessian at x* (float64, ascending)."""
    h = jax.hessian(problem.loss)(jnp.asarray(x_star))
    return np.linalg.eigvalsh(np.asarray(h, np.float64))


def slope_checks(pname, fits, *, tol, least_squares):
    """The recorded checks of one problem from its fits {label: RateFit} (slope = -p)."""
    def interval(label):
        return -fits[label].hi, -fits[label].lo

    def measured(label):
        return {"slope": -fits[label].value, "lo": interval(label)[0], "hi": interval(label)[1]}

    # Decided (issue 18): an interval meeting the band must be no wider than it (2 tol), so all of it
    # lies within 3 tol of -1 (quick --seeds 3 met it with [-1.055, -0.939]). Its line says why.
    def meets_band(claim, label):
        lo, hi = interval(label)
        wide = None if hi - lo <= 2 * tol else (
            f"{claim} (measured: {experiment.readable(measured(label))}; the interval is {hi - lo:.3g} wide, "
            f"wider than the band's {2 * tol:g}: too wide to place the slope at -1)")
        return Check(claim=claim, measured=measured(label), summary=wide,
                     holds=bool(wide is None and lo <= -1 + tol and hi >= -1 - tol))

    def excludes(label, value):
        return not interval(label)[0] <= value <= interval(label)[1]

    checks = [
        meets_band(f"{pname}: the two-phase slope's interval meets [-1 - {tol:g}, -1 + {tol:g}] "
                   f"(O(1/K) without strong convexity)", TWO_PHASE),
        Check(claim=f"{pname}: the two-phase slope's interval excludes -1/2",
              measured=measured(TWO_PHASE), holds=bool(excludes(TWO_PHASE, -0.5))),
        Check(claim=f"{pname}: the 1/sqrt(k) SGD slope's interval excludes -1",
              measured=measured(SQRT), holds=bool(excludes(SQRT, -1.0))),
    ]
    if least_squares:
        checks.append(meets_band(f"{pname}: averaged constant-step SGD's slope interval meets [-1 - {tol:g}, "
                                 f"-1 + {tol:g}] (Bach & Moulines' O(1/K) for least squares)", AVERAGED))
    return toolkit.records(checks)


def run(config: dict, out: Path) -> dict:
    """Runs every method at every horizon on both problems, stores one record per seed and
    horizon, the fits in ``meta.json`` and the checks; then ``report``."""
    jax.config.update("jax_enable_x64", True)
    start = time.perf_counter()
    key = jax.random.key(config["key"])
    ks = hz.log_horizons(config["k_min"], config["k_max"], config["per_decade"])
    seeds, tol = config["seeds"], config["tol"]
    rows, checks, infos = [], [], {}
    for kind, problem, x0, x_star in build_problems(config):
        pname = problem.name
        f_star = float(problem.loss(jnp.asarray(x_star)))
        l_max = problem.info["L_max"]
        gamma = 0.25 / l_max
        eig = hessian_spectrum(problem, x_star)
        mu = float(eig[0])
        info = dict(kind=kind, n=problem.n, d=problem.x_shape[0], f_star=f_star,
                    ref_grad_norm=float(jnp.linalg.norm(problem.grad(jnp.asarray(x_star)))),
                    x_star_norm=float(np.linalg.norm(x_star)),
                    dist0=float(np.linalg.norm(x0 - x_star)), L_max=l_max, gamma=gamma,
                    eigenvalues=eig.tolist(), mu=mu,
                    gamma_mu_k=[gamma * mu * float(ks[0]), gamma * mu * float(ks[-1])],
                    below=[int(np.sum(eig < 1.0 / (gamma * float(k)))) for k in (ks[0], ks[-1])],
                    fits={})
        fits = {}
        shared = shared_runs(problem, x0, key, horizons=ks, seeds=seeds, f_star=f_star,
                             phase1_fraction=config["phase1_fraction"])
        for label in METHODS:
            runs = shared[label]
            fits[label] = hz.fit_horizons(runs.horizons, runs.gaps)
            info["fits"][label] = dict(fits[label].as_dict(), diverged=int(runs.diverged.sum()))
            for s in range(seeds):
                for h, k in enumerate(runs.horizons):
                    rows.append(dict(experiment=NAME, problem=pname, method=label, statistic="seed",
                                     seed=s, step=int(k), grad_evals=int(runs.grad_evals[s, h]),
                                     f_gap=float(runs.gaps[s, h]),
                                     diverged=int(runs.diverged[s, h])))
        infos[pname] = info
        checks.append(Check(
            claim=f"{pname}: no strong convexity at any horizon: gamma mu K < 1 at K = {ks[-1]} "
                  f"(mu = the smallest Hessian eigenvalue at x*, gamma = 1/(4 L_max))",
            measured={"gamma_mu_K_max": info["gamma_mu_k"][1], "mu": mu, "gamma": gamma},
            holds=bool(info["gamma_mu_k"][1] < 1.0)))
        checks += slope_checks(pname, fits, tol=tol, least_squares=kind == "spectral_ls")

    wall = time.perf_counter() - start
    meta = results.metadata_record(NAME, dict(config), dtype="float64", wall_seconds=round(wall, 2))
    meta["problems"] = infos
    meta["horizons"] = [int(k) for k in ks]
    experiment.save(out, rows=rows, meta=meta, checks=toolkit.records(checks))
    return report(out, echo=True)


def _gap_table(rows, pname, label):
    """(K, mean, stderr) over the seeds of one problem and method from the per-seed records."""
    per_k: dict[int, list[float]] = {}
    for r in rows:
        if r["problem"] == pname and r["method"] == label and not r["diverged"]:
            per_k.setdefault(int(r["step"]), []).append(float(r["f_gap"]))
    ks = np.array(sorted(per_k), np.float64)
    vals = [np.asarray(per_k[int(k)]) for k in ks]
    mean = np.array([v.mean() for v in vals])
    se = np.array([v.std(ddof=1) / np.sqrt(len(v)) for v in vals])
    return ks, mean, se


def report(out: Path, echo: bool = False) -> dict:
    """Draws ``two_phase.png`` and writes ``summary.md`` from the stored records (the figure)
    and the fits and spectra in ``meta.json``; ``sgd-bench report`` calls it without running."""
    out = Path(out)
    rows, meta, checks = experiment.open_report(out)

    config, infos, ks = meta["config"], meta["problems"], meta["horizons"]
    names = list(infos)
    tol = config["tol"]

    table, spectra = [], []
    for pname in names:
        info = infos[pname]
        eig = np.asarray(info["eigenvalues"])
        spectra.append({
            "problem": pname, "n": info["n"], "d": info["d"],
            "Hessian eigenvalues at x*": f"{eig[0]:.2e} ... {eig[-1]:.2e}",
            "decades": f"{np.log10(eig[-1] / eig[0]):.1f}",
            "gamma = 1/(4 L_max)": f"{info['gamma']:.3g}",
            "1/(gamma K), K = K_min ... K_max": f"{1 / (info['gamma'] * ks[0]):.1e} ... "
                                               f"{1 / (info['gamma'] * ks[-1]):.1e}",
            "eigenvalues below 1/(gamma K)": f"{info['below'][0]} ... {info['below'][1]} of {info['d']}",
            "gamma mu K": f"{info['gamma_mu_k'][0]:.1e} ... {info['gamma_mu_k'][1]:.2f}",
            "||x0 - x*||": f"{info['dist0']:.2f}",
        })
        for label, fit in info["fits"].items():
            slope, lo, hi = -fit["value"], -fit["hi"], -fit["lo"]
            _, mean, se = _gap_table(rows, pname, label)
            table.append({
                "problem": pname, "method": label,
                "E[f - f*] at K_min": f"{mean[0]:.2e} ± {se[0]:.1e}",
                "E[f - f*] at K_max": f"{mean[-1]:.2e} ± {se[-1]:.1e}",
                "slope over K [95% bootstrap]": f"{slope:+.3f} [{lo:+.3f}, {hi:+.3f}]",
                "rmse of the fit (log)": f"{fit['rmse']:.3f}",
                "contains -1 (reading)": "yes" if lo <= -1 <= hi else "no",
                "diverged": fit["diverged"],
            })

    fig, axes = plt.subplots(3, len(names), figsize=(11.5, 10.4), squeeze=False)
    for col, pname in enumerate(names):
        for i, (label, fit) in enumerate(infos[pname]["fits"].items()):
            k, mean, se = _gap_table(rows, pname, label)
            plots.band(axes[0, col], k, mean, se, label=label, color=plots.COLORS[i], marker="o", ms=3)
            plots.band(axes[1, col], k, k * mean, k * se, label=label, color=plots.COLORS[i],
                       marker="o", ms=3)
            axes[0, col].plot(k, np.exp(fit["log_c"]) * k ** -fit["value"], color=plots.COLORS[i],
                              lw=0.8, ls=":")
        for row, ylabel in enumerate([r"$\mathbb{E}\,[f(x_K) - f^*]$", r"$K\,\mathbb{E}\,[f(x_K) - f^*]$"]):
            ax = axes[row, col]
            toolkit.log_axes(ax)
            ax.set_xlabel("horizon K (separate runs of K batch-1 steps)")
            ax.set_ylabel(ylabel)
        axes[0, col].set_title(pname, fontsize=10)
        # The spectrum against the horizons: directions below 1/(gamma K) are not yet resolved
        # at horizon K, so no rate that needs mu applies there.
        info = infos[pname]
        eig = np.asarray(info["eigenvalues"])
        ax = axes[2, col]
        ax.semilogy(np.arange(1, len(eig) + 1), eig[::-1], "k.", ms=4, label="Hessian eigenvalues at x*")
        for k, ls_ in ((ks[0], "--"), (ks[-1], ":")):
            ax.axhline(1 / (info["gamma"] * k), color="0.4", ls=ls_, lw=1, label=f"1/(gamma K), K = {k:,}")
        ax.set_xlabel("index (descending)")
        ax.set_ylabel("eigenvalue")
        ax.legend(fontsize=7)
    fig.suptitle(f"Rates across horizons without strong convexity: mean of {config['seeds']} seeds per K, "
                 "95% band; dotted: power-law fits; evaluated: the average (plain SGD: x_K)")
    plots.legend_below(fig, axes[0], ncol=4)
    # Fixed margins: tight_layout measured every tick label of six log axes again (half the
    # report's time).
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.1, top=0.93, hspace=0.38, wspace=0.22)
    results.save_figure(fig, out / "two_phase.png")
    plt.close(fig)

    ls, lg = config["spectral_ls"], config["geometric_logistic"]
    spec_cols, cols = list(spectra[0]), list(table[0])
    wall = meta.get("wall_seconds") or 0.0
    text = f"""# O(1/K) without strong convexity, measured across horizons

**Claim (Bach & Moulines 2013; the lecture's conclusion), checked below:** without strong
convexity (gamma mu K < 1 at every horizon), the two-phase Newton-like method (averaged SGD,
then averaged SGD on the local quadratic model around the first phase's average) reaches
E[f(x̄_K) - f*] = O(1/K) on least squares and on logistic regression, and so does averaged
constant-step SGD on least squares; SGD with 1/sqrt(k) steps does not reach O(1/K). Readings of
the figure and the table, not checked: constant-step SGD levels off (its noise floor), and
averaged constant-step SGD on logistic regression falls slower than 1/K (its bias).

Setup: for each horizon K in {ks} a separate run of K batch-1 steps (with replacement) per
method, with the parameters the method prescribes for K, {config['seeds']} seeds per K (keys of
their own per K), float64, device {meta['devices'][0]}. gamma = 1/(4 L_max) for averaged SGD,
constant-step SGD and both phases of the two-phase method (= 1/(4 R^2) on least squares, 1/R^2
on logistic regression, R = max ||a_i||); phase 1 = {config['phase1_fraction']:g} K steps; SGD
alpha_k = 1/(L_max sqrt(k + 1)), evaluated at x_K. Problems (both with exact x*):
**{names[0]}**: rows D z_i with Rademacher z_i, covariance eigenvalues i^-{ls['power']:g}, x* with
x*_i = i^-{ls['decay']:g}, x0 = 0, residual at x* of rms {ls['noise']:g} (orthogonal to the
design); **{names[1]}**: an intercept and features of scales {lg['ratio']:g}^j, each feature vector
with labels +1, +1, -1 (the classes overlap; x* = (log 2, 0, ..., 0)), x0 = {config['logistic_x0']:g}
on every scaled feature.

The slope is that of log E[f(x_K) - f*] against log K over all the horizons, with a 95% bootstrap
interval over the seeds (``sgd_bench.horizons.fit_horizons``).

{results.markdown_table(spectra, spec_cols)}

![two phase](two_phase.png)

{results.markdown_table(table, cols)}

Why a band and not "the interval contains -1": a fit over finite horizons of C/K plus terms of
higher order (and the effective dimension of a spread spectrum, which grows with K) has a slope
within a few hundredths of -1, and {config['seeds']} seeds make the bootstrap interval narrower than
that. The checks ask the interval to meet [-1 - {tol:g}, -1 + {tol:g}] (the rates table's band,
``sgd_bench.rates.MATCH_TOL``); the column "contains -1" says whether the interval holds -1
itself (a reading, not a check).

## Checks

{experiment.check_lines(checks)}

Wall time {wall:.1f} s (compilation included).
"""
    experiment.close(out, text, checks=checks, echo=echo, wall=wall, header=NAME,
                     tables=[(spectra, spec_cols), (table, cols)])
    return {"summary": table, "checks": checks}


def main(argv=None) -> int:
    # --steps is the largest horizon K_max (float64 only).
    return experiment.main(argv, name=NAME, doc=__doc__, full=FULL, quick=QUICK, run=run,
                           overrides={"seeds": experiment.at_least("seeds", 3, "bootstrap intervals over seeds"),
                                      "steps": experiment.at_least(
                                          "steps", lambda c: 10 * c["k_min"],
                                          "the horizons span at least a decade from k_min",
                                          key="k_max")})


if __name__ == "__main__":
    sys.exit(main())
