"""peers' ``summary.md``: the ratio table with a note per row, the race table and the reference
loops, from the stored timings alone."""

from __future__ import annotations

import math

from sgd_bench_harness import results

from .comparisons import REFERENCES, compare
from .race import race_table
from .timing import costs, timing_costs


def _sparse_note(meta, preset) -> str:
    data = meta[f"sparse_{preset}"]
    return (f"{preset}-like {data['n']:,} x {data['d']:,}, {data['nnz']:,} nonzeros "
            f"(padded rows {data['width']} wide)")


def text(rows, meta):
    """The text of ``summary.md`` and its tables (the ratio table first)."""
    config = meta["config"]
    n, d, reps = config["n"], config["d"], config["repeats"]
    device = rows[0]["device"]
    read = {(r["comparison"], r["timing"]): r for r in rows if r["comparison"] in ("read", "sparse_read")}
    cost = costs(rows)
    table = []
    for c in compare(rows, config, meta["targets"]):
        ours, base, note = c["ours"], c["base"], ""
        if c["key"] in ("read", "sparse_read"):
            kind = cost[c["key"], "baseline"][1]
            ours = f"{ours * 1e3:.3g} ms"
            base = f"{base * 1e3:.3g} ms ({read[c['key'], kind]['bytes_read'] / base / 1e9:.1f} GB/s, {kind})"
            if c["key"] == "sparse_read":
                note = _sparse_note(meta, "rcv1")
            else:
                note = f"ours: {cost['read', 'ours'][1]}"
        elif c["key"] in ("sklearn", "sparse_sgd"):
            ours, base = f"{1 / ours / 1e6:.2f} M/s", f"{1 / base / 1e6:.2f} M/s"
            diff = meta["sklearn_max_abs_diff" if c["key"] == "sklearn" else "sparse_sgd_max_abs_diff"]
            note = f"max |x_ours - x_sklearn| after 1 epoch = {diff:.1e}"
            if c["key"] == "sparse_sgd":
                note = f"{_sparse_note(meta, 'rcv1')}; step {config['sparse_alpha']:g}; {note}"
        elif c["key"] in ("seeds", "sweep"):
            unit = "seed" if c["key"] == "seeds" else "(config, seed)"
            ours, base = f"{ours * 1e9:.0f} ns/{unit}/step", f"{base * 1e9:.0f} ns/step"
            if c["key"] == "sweep":
                note = f"n = {config['sweep_n']:,}, d = {config['sweep_d']}, batch 1"
            if math.isnan(c["ratio"]):
                note = "not measurable: long minus short run was not positive (noisy machine)"
        elif c["key"] == "saga":
            ours, base = f"{ours * 1e6:.2f} us/sample", f"{base * 1e6:.2f} us/sample"
            dist = meta["saga_distance"]
            note = (f"step {meta['saga_step']:.3g}; after 3 epochs ||x - x*|| = {dist['ours']:.1e} (ours), "
                    f"{dist['sklearn']:.1e} (scikit-learn): the two draw their indices from different "
                    "generators, so the iterates agree in law, not to 1e-10")
        elif c["key"].startswith("saga_"):
            preset = c["key"][len("saga_"):]
            saga, other = meta[c["key"]], "eager" if cost[c["key"], "ours"][1] == "lazy" else "lazy"
            ours = (f"{ours * 1e6:.2f} us/sample ({other}: "
                    f"{timing_costs(rows)[c['key'], 'ours', other] * 1e6:.2f})")
            base = f"{base * 1e6:.2f} us/sample"
            dist = saga["distance"]
            note = (f"{_sparse_note(meta, preset)}; step {saga['step']:.3g}; after 3 epochs ||x - x*|| = "
                    f"{dist['eager']:.1e} (ours), {dist['sklearn']:.1e} (scikit-learn), from {dist['start']:.1e} "
                    "at x0 = 0: the index streams differ, and scikit-learn starts its table at zero (dividing "
                    "by the samples seen so far) where ours starts at the gradients at x0, so the iterates "
                    "are not equal to 1e-8")
        elif c["key"] in ("second", "cache"):
            ours, base = f"{ours:.2f} s", f"{base:.2f} s"
            note = ("logistic regression 20,000 x 50, SGD batch 8, 2,000 steps, 4 seeds; "
                    + ("compilation included" if c["key"] == "second" else "each in a fresh process"))
        else:
            ours, base = f"{ours * 1e6:.2f} us/step", f"{base * 1e6:.1f} us/step"
        table.append(dict(measure=c["measure"], ours=ours, baseline=base, ratio=f"{c['ratio']:.2f}",
                          target=c["target"], met="yes" if c["holds"] else "MISSED", note=note))
    ours_step = cost["sklearn", "ours"][0]
    references = [dict(measure=label, per_step=f"{cost[key, 'reference'][0] * 1e6:.2f} us",
                       vs_ours=f"{cost[key, 'reference'][0] / ours_step:.0f}x slower")
                  for key, label in REFERENCES.items() if (key, "reference") in cost]
    if ("torch", "reference") not in cost:
        references.append(dict(measure="PyTorch CPU loop", per_step="not run",
                               vs_ours="torch is not installed (pip install -e '.[peers]')"))
    columns, ref_columns = ["measure", "ours", "baseline", "ratio", "target", "met", "note"], ["measure", "per_step", "vs_ours"]
    race, race_columns = race_table(rows), ["size", "solver", "ran", "seconds", "compile", "vs_sklearn_saga"]
    missed = [f"{r['measure']} at {r['ratio']}x (target {r['target']})" for r in table if r["met"] != "yes"]
    missed += [f"time to {config['race_eps']:g}, {r['size']}: SAGA at {r['vs_sklearn_saga']} scikit-learn saga's (target <= 1.0x)"
               for r in race if r["solver"] == "SAGA" and not r["ratio"] <= 1.0]
    verdict = "Every target is met." if not missed else "Missed: " + "; ".join(missed) + "."
    wall = meta.get("wall_seconds") or 0.0
    text = f"""# Speed against peers

Logistic regression, n = {n:,}, d = {d}, float64, device {device} ({meta['cpu_count']} CPU cores
visible), jax {meta['versions']['jax']}, scikit-learn {meta['versions']['scikit-learn']}. Every ratio
compares two timings taken in the same run on the same data, interleaved, best of {reps}.

{results.markdown_table(table, columns)}

{verdict}

Time to f - f* <= {config['race_eps']:g} on the sum scale (benchopt's L2 logistic regression, lambda =
{config['race_lambda']:g}; ours: f - f* <= {config['race_eps']:g}/n), best of {max(2, reps // 2)}; compilation apart:

{results.markdown_table(race, race_columns)}

References (not targets):

{results.markdown_table(references, ref_columns)}

Wall time {wall:.0f} s.
"""
    tables = [(table, columns), (race, race_columns), (references, ref_columns)]
    return text, tables
