"""peers' comparisons: what each row measures and its target, and the ratio and verdict of each
from the timing records alone."""

from __future__ import annotations

from .timing import costs

# Each comparison, in the table's order: what it measures and its target. A "<=" target bounds
# our cost over the baseline's, a ">=" target our speed over the baseline's.
COMPARISONS = {
    "read": ("one GD step / fastest read of A", ("<=", 1.5)),
    "sklearn": ("SGD batch 1 epoch, samples/s vs scikit-learn SGDClassifier", (">=", 1.5)),
    "seeds": ("per-seed SGD step with {seeds} seeds / one seed", ("<=", 0.3)),
    "loop": ("jitted scan vs Python loop of jitted optax steps", (">=", 20.0)),
    "second": ("second run_seeds call (new step size, new data) / first call", ("<=", 0.05)),
    "sweep": ("per (config, seed) step of a 16 x 64 sweep / one run's step", ("<=", 0.3)),
    "cache": ("first call, warm persistent cache / cache off (fresh processes)", ("<=", 0.3)),
    "saga": ("SAGA batch 1 epoch / scikit-learn saga epoch ({saga_n:,} x {saga_d}, same step)", ("<=", 1.0)),
    # Sparse rows: the stand-ins of problems.sparse_data at a scale; {ours} is the faster of our
    # eager and lazy SAGA, the one to pick on that data.
    "sparse_read": ("sparse: one GD step / fastest read of the nonzeros (rcv1-like x {sparse_rcv1_scale:g})",
                    ("<=", 2.0)),
    "saga_rcv1": ("sparse: SAGA batch 1 epoch, {ours} / scikit-learn saga epoch (rcv1-like x {sparse_rcv1_scale:g}, same step)",
                  ("<=", 1.0)),
    "saga_news20": ("sparse: SAGA batch 1 epoch, {ours} / scikit-learn saga epoch (news20-like x {sparse_news20_scale:g}, same step)",
                    ("<=", 1.0)),
    "sparse_sgd": ("sparse: SGD batch 1 epoch (lazy_sgd), samples/s vs scikit-learn SGDClassifier (rcv1-like x {sparse_rcv1_scale:g})",
                   (">=", 1.0)),
}

REFERENCES = {"numpy": "NumPy loop, batch-1 SGD", "torch": "PyTorch CPU loop, batch-1 SGD"}


def compare(rows, config: dict, targets: dict) -> list[dict]:
    """Per comparison: its measure, our and the baseline's cost, the ratio and whether it meets
    its target (from the timing records alone)."""
    cost = costs(rows)
    out = []
    for key, (measure, _) in COMPARISONS.items():
        if (key, "ours") not in cost:
            continue  # a row the quick run leaves out (the first-call subprocesses)
        op, target = targets[key]
        ours, base = cost[key, "ours"][0], cost[key, "baseline"][0]
        ratio = ours / base if op == "<=" else base / ours
        out.append(dict(key=key, measure=measure.format(**config, ours=cost[key, "ours"][1]), ours=ours, base=base, ratio=ratio,
                        target=f"{op} {target:g}x", holds=bool(ratio <= target if op == "<=" else ratio >= target)))
    return out
