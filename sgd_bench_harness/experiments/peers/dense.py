"""peers' rows 1-4 on dense logistic regression: a GD step against a read of the data, SGD
against scikit-learn's SGDClassifier, many seeds against one, the jitted scan against a Python
loop of optax steps; and the NumPy and PyTorch loops timed for reference."""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import optax

import sgd_bench as sb
from problems.sparse import csr_of, is_sparse
from sgd_bench.solver import SEED_AXES, advance_state, init_state

from .comparisons import REFERENCES
from .timing import compiled_epochs, compiled_steps, interleaved_best, timing


def _reads(problem, x0) -> dict:
    """The candidates for "the fastest single read" of the features: label -> (zero-argument
    compiled call, bytes it reads). Dense data: ``jnp.sum(A)`` and ``A @ v``. Sparse rows: the
    values and column indices summed as stored (padded rows, ELL) and as CSR arrays (the
    nonzeros alone, no padding), and the gather ``sum_s vals[i, s] x[cols[i, s]]`` per row."""
    if not is_sparse(problem):
        A = problem.data[0]
        read_sum = jax.jit(jnp.sum).lower(A).compile()
        read_mv = jax.jit(lambda a, v: a @ v).lower(A, x0).compile()
        return {"sum": (lambda: read_sum(A), A.nbytes), "A @ v": (lambda: read_mv(A, x0), A.nbytes)}
    rows, X = problem.data[0], csr_of(problem)
    # The index sum is taken in the value dtype: an int32 sum of column indices overflows.
    total = jax.jit(lambda v, c: jnp.sum(v) + jnp.sum(c, dtype=v.dtype))
    gather = jax.jit(lambda v, c, x: jnp.sum(v * x.at[c].get(mode="promise_in_bounds"), axis=-1))
    ell = (rows.vals, rows.cols)
    csr = (jnp.asarray(X.data), jnp.asarray(X.indices, jnp.int32))
    reads = {"sum, padded rows": (total.lower(*ell).compile(), ell),
             "sum, CSR arrays": (total.lower(*csr).compile(), csr),
             "A @ v, padded rows": (gather.lower(*ell, x0).compile(), (*ell, x0))}
    return {label: (lambda fn=fn, args=args: fn(*args), sum(a.nbytes for a in args[:2]))
            for label, (fn, args) in reads.items()}


def measure_gd_vs_read(problem, alpha, repeats, comparison="read", sharded=None, **extra) -> list[dict]:
    """Timing records (``comparison``) of 10 GD steps and of each single read of the features
    (``_reads``); with ``sharded`` (the same problem, ``sgd_bench.shard``-ed over several
    devices) also of 10 GD steps on it and of ``jnp.sum`` of its sharded A. ``extra`` goes into
    every record."""
    x0 = jnp.zeros(problem.x_shape, problem.dtype)
    reads = _reads(problem, x0)
    steps = {"GD": compiled_steps(problem, sb.gd(alpha), x0, jax.random.key(0), 10)}
    if sharded is not None:
        where = f"sharded over {sharded.shards} {jax.default_backend().upper()} devices"
        steps[f"GD, data {where}"] = compiled_steps(sharded, sb.gd(alpha), x0, jax.random.key(0), 10)
        A = sharded.data[0]
        read_sum = jax.jit(jnp.sum).lower(A).compile()
        reads[f"sum, {where}"] = (lambda: read_sum(A), A.nbytes)
    t = interleaved_best({**steps, **{kind: fn for kind, (fn, _) in reads.items()}}, repeats)
    return [*(timing(comparison, "ours", label, t[label], 10, **extra) for label in steps),
            *(timing(comparison, "baseline", kind, t[kind], 1, bytes_read=nbytes, **extra)
              for kind, (_, nbytes) in reads.items())]


def measure_sgd_vs_sklearn(comparison, problem, features, labels, alpha, mu, repeats, lazy=False,
                           **extra) -> tuple[list[dict], float]:
    """Timing records (``comparison``) of 1 and 3 epochs of cyclic batch-1 SGD, ours (``sgd``, or
    ``lazy_sgd`` on sparse rows with ``lazy``) and scikit-learn's ``SGDClassifier`` doing the
    same updates on ``features`` (dense or CSR), and the largest coordinate difference of the
    two iterates after one epoch."""
    # scikit-learn is optional (the peers and test extras): imported where a row needs it, so
    # that the experiment loads (``sgd-bench list``) without it.
    from sklearn.linear_model import SGDClassifier

    n = problem.n
    x0 = jnp.zeros(problem.x_shape, problem.dtype)
    method = (sb.lazy_sgd if lazy else sb.sgd)(alpha, 1, "cyclic")
    ours = compiled_epochs(problem, method, x0, jax.random.key(0))

    def sklearn_epochs(epochs):
        clf = SGDClassifier(loss="log_loss", alpha=mu, learning_rate="constant", eta0=alpha,
                            shuffle=False, fit_intercept=False, max_iter=epochs, tol=None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning: max_iter reached, as intended
            clf.fit(features, labels)
        return clf.coef_

    t = interleaved_best({("ours", 1): ours[1], ("ours", 3): ours[3],
                           ("baseline", 1): lambda: sklearn_epochs(1),
                           ("baseline", 3): lambda: sklearn_epochs(3)}, repeats)
    label = f"{method.name}, batch 1, cyclic" if lazy else "SGD batch 1, cyclic"
    rows = [timing(comparison, side, label if side == "ours" else "SGDClassifier",
                    seconds, epochs * n, **extra) for (side, epochs), seconds in t.items()]
    same = float(np.max(np.abs(np.asarray(ours[1]()[0].x) - sklearn_epochs(1)[0])))
    return rows, same


def measure_seeds(problem, alpha, seeds, repeats, short=5_000, long=25_000) -> list[dict]:
    """Timing records ("seeds") of batch-1 SGD with one seed and with ``seeds`` seeds, each at
    two run lengths so that ``costs`` can take the marginal cost of a step."""
    method = sb.sgd(alpha, 1)
    x0 = jnp.zeros(problem.x_shape, problem.dtype)

    @jax.jit
    def many(problem, method, keys, steps):
        # run_seeds' program without the log points: init, then the steps, per seed
        def one(key):
            state = init_state(problem, method, x0, key, chunk=sb.solver.DEFAULT_CHUNK)
            return advance_state(problem, method, state, steps, chunk=sb.solver.DEFAULT_CHUNK)
        return jax.vmap(one, out_axes=SEED_AXES)(keys)

    def seeds_fn(count, steps):
        keys = sb.seed_keys(jax.random.key(0), count)
        fn = many.lower(problem, method, keys, jnp.int32(steps)).compile()
        return lambda: fn(problem, method, keys, jnp.int32(steps))

    runs = [(side, count, steps) for side, count in (("baseline", 1), ("ours", seeds)) for steps in (short, long)]
    t = interleaved_best({run: seeds_fn(*run[1:]) for run in runs}, repeats)
    return [timing("seeds", side, f"run_seeds, {count} seed(s)", t[side, count, steps], steps, count)
            for side, count, steps in runs]


def measure_loop(problem, alpha, steps, repeats) -> list[dict]:
    """Row 4: ``steps`` steps of the jitted scan against a Python loop calling a jitted optax step."""
    n = problem.n
    x0 = jnp.zeros(problem.x_shape[0])
    key = jax.random.key(0)
    tx = optax.sgd(alpha)
    scan = compiled_steps(problem, sb.from_optax(tx, 1, "cyclic"), x0, key, steps)

    @jax.jit
    def optax_step(x, opt_state, problem, i):
        g = problem.batch_grad(x, i[None])
        updates, opt_state = tx.update(g, opt_state, x)
        return optax.apply_updates(x, updates), opt_state

    def python_loop():
        x, s = x0, tx.init(x0)
        for i in range(steps):
            x, s = optax_step(x, s, problem, jnp.int32(i % n))
        return x

    jax.block_until_ready(python_loop())
    t = interleaved_best({"scan": scan, "loop": python_loop}, repeats)
    return [timing("loop", "ours", "scan", t["scan"], steps),
            timing("loop", "baseline", "Python loop of optax steps", t["loop"], steps)]


def measure_references(A_np, y_np, alpha, mu, m) -> list[dict]:
    """NumPy and (when installed) PyTorch loops of ``m`` batch-1 SGD steps, timed for reference."""
    n, d = A_np.shape
    rows = []

    def numpy_loop():
        x = np.zeros(d)
        for i in range(m):
            a, yi = A_np[i % n], y_np[i % n]
            x = (1 - alpha * mu) * x + alpha * yi * a / (1.0 + np.exp(yi * (a @ x)))
        return x

    rows.append(timing("numpy", "reference", REFERENCES["numpy"], interleaved_best({"np": numpy_loop}, 1)["np"], m))
    try:  # PyTorch is optional (the peers extra): its row is left out without it
        import torch

        At, yt = torch.from_numpy(A_np), torch.from_numpy(y_np)

        def torch_loop():
            x = torch.zeros(d, dtype=torch.float64)
            for i in range(m):
                a, yi = At[i % n], yt[i % n]
                x = (1 - alpha * mu) * x + alpha * yi * a * torch.sigmoid(-yi * (a @ x))
            return x

        rows.append(timing("torch", "reference", REFERENCES["torch"], interleaved_best({"t": torch_loop}, 1)["t"], m))
    except ImportError:
        pass
    return rows
