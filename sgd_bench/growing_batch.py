"""Growing-batch SGD (Friedlander & Schmidt 2012): control the sample size instead of the step.

The batch grows geometrically, |B_{k+1}| = min(ceil(q |B_k|) + 1, n), so the gradient error
shrinks geometrically and a constant step converges linearly in iterations; once |B_k| = n the
step takes the full gradient exactly as ``gd`` does.

How varying sizes avoid a recompile per step (the scheme, and what it costs):

- *Power-of-two buckets with masking.* The sizes are known on the host before the run (they
  depend on k and n only, never on the seed). Each size B_k < n is padded to its bucket P_k,
  the smallest power of two >= B_k (or n when that power exceeds n); the step computes the
  weighted gradient sum_{j < P_k} w_j grad f_{i_j}(x) with w_j = 1/B_k for j < B_k and 0
  after. Sizes up to ``MIN_BUCKET`` = 64 share one bucket. A ``lax.switch`` over the buckets
  the run actually uses, plus one full-gradient branch, picks the branch from a host table
  indexed by k. Since k is the same for every seed, the switch stays a real branch under
  ``vmap`` over seeds. One compile holds at most log2(n / 64) + 2 branches; a step costs
  O(P_k d) <= O(max(2 B_k, 64) d) flops.
- *The method draws its own indices* (from the key its ``init`` receives),
  O(P_k) per step. The runner's sampler hands every step a fixed-width block, which would
  have to be n wide here: n indices per step (about 0.7 of a full gradient's time at
  n = 10^5, d = 20 on XLA:CPU) or a permutation of n per step with reshuffling (35 full
  gradients' time), which would dwarf the small early batches. The index streams follow the
  samplers' definitions (``sgd_bench.sampling``), with stream positions advancing by B_k:

  - ``"with_replacement"``: step k draws P_k indices uniformly with ``fold_in(key, k)`` and
    uses the first B_k;
  - ``"reshuffle"``: epoch e is ``permutation(fold_in(key, e), n)`` and step k takes the next
    B_k positions of the stream of epochs; the state carries the current and the next
    permutation (2n int32 per seed), one new permutation per epoch boundary;
  - ``"cyclic"``: the same stream with the identity permutation.

  For the same reason ``batch_size`` is ``None`` (the runner samples nothing for it).
"""

from __future__ import annotations

import fractions
import functools
import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from sgd_bench import validation
from sgd_bench import _tree
from sgd_bench.counting import Count
from sgd_bench.default_steps import require_constant, theory_step
from sgd_bench.gradient_table import regularizer_grad
from sgd_bench.methods import Method
from sgd_bench.sampling import SAMPLINGS, permutation
from sgd_bench.schedules import as_schedule


# Sizes up to this share one bucket: padding a tiny batch costs little, while every extra
# branch of the switch costs compile time (about a second on a 2-core CPU).
MIN_BUCKET = 64


class GrowingBatchState(NamedTuple):
    """Iterate, count, the method's own key (from ``init``), and for reshuffling the
    permutations of the current and the next epoch of the sample stream."""

    x: Any
    grad_evals: Count
    key: Any
    perms: Any


def batch_sizes(n: int, q: float = 1.1, initial_batch: int = 1) -> np.ndarray:
    """B_0, B_1, ..., up to the first B_K = n, with B_{k+1} = min(ceil(q B_k) + 1, n).

    q is read as the decimal it prints as (``Fraction(repr(q))``), so q = 1.1 gives
    ceil(1.1 * 10) = 11 and not 12 from binary rounding.

    >>> batch_sizes(20, q=1.5).tolist()
    [1, 3, 6, 10, 16, 20]
    """
    n = validation.integer("n", n, low=1)
    b0 = validation.integer("initial_batch", initial_batch, low=1, high=n)
    ratio = _growth(q)
    return _sizes(n, ratio, b0)


def _growth(q) -> fractions.Fraction:
    q = validation.positive_float("q", q)
    if q < 1.0:
        raise ValueError(f"q must be >= 1 (|B_k+1| = ceil(q |B_k|) + 1), got {q!r}")
    return fractions.Fraction(repr(q))


MAX_SIZES = 2**20  # batch sizes in a plan: built by a host loop (~3 s for 2**20 under load)


def _count_bound(n: int, ratio: fractions.Fraction, b0: int) -> float:
    """An upper bound on the number of sizes: each step adds at least 1 while (q - 1) B < 1,
    then multiplies B by at least q."""
    if n <= b0:
        return 1
    q = float(ratio)
    if q <= 1.0:
        return n - b0 + 1
    knee = max(float(b0), 1.0 / (q - 1.0))
    linear = max(0.0, knee - b0)
    geometric = max(0.0, math.log(n / knee) / math.log(q)) if n > knee else 0.0
    return min(n - b0, linear + geometric + 2) + 1


@functools.lru_cache(maxsize=64)
def _sizes(n: int, ratio: fractions.Fraction, b0: int) -> np.ndarray:
    bound = _count_bound(n, ratio, b0)
    if bound > MAX_SIZES:
        # q = 1 on n = 10^8 would loop 10^8 times in Python and hold the list: refused
        raise ValueError(f"q = {float(ratio)!r} grows the batch from {b0} to n = {n:,} in up to {bound:,.0f} "
                         f"steps, above the {MAX_SIZES:,} sizes a plan may hold; use a larger q or "
                         "initial_batch")
    sizes = [b0]
    while sizes[-1] < n:
        sizes.append(min(math.ceil(ratio * sizes[-1]) + 1, n))
    out = np.asarray(sizes, np.int64)
    out.setflags(write=False)
    return out


class _Plan(NamedTuple):
    """Host tables of the run, indexed by min(k, K) with K the first step at full size."""

    sizes: np.ndarray      # B_k
    branch: np.ndarray     # which switch branch step k takes
    buckets: tuple         # padded size per branch (the last branch is the full gradient)
    offset: np.ndarray     # stream position of step k's first sample, mod n
    epoch: np.ndarray      # the epoch of that position
    refresh: np.ndarray    # reshuffling: 0 keep perms, 1 build epochs 0 and 1, 2 shift by one


@functools.lru_cache(maxsize=64)
def _plan(n: int, ratio: fractions.Fraction, b0: int) -> _Plan:
    sizes = _sizes(n, ratio, b0)
    partial = sizes[:-1]
    pow2 = 2 ** np.ceil(np.log2(np.maximum(partial, MIN_BUCKET))).astype(np.int64)
    buckets_k = np.minimum(pow2, n)
    buckets = tuple(int(b) for b in np.unique(buckets_k))
    branch = np.append(np.searchsorted(buckets, buckets_k), len(buckets)).astype(np.int32)
    start = np.concatenate([[0], np.cumsum(sizes[:-1])])  # stream positions, exact in int64
    epoch = start // n
    refresh = np.where(np.diff(epoch, prepend=0) > 0, 2, 0)
    refresh[0] = 1
    refresh[-1] = 0  # full-size steps read no stream (and every k >= K maps here)
    return _Plan(sizes.astype(np.int32), branch, buckets, (start % n).astype(np.int32),
                 epoch.astype(np.int32), refresh.astype(np.int32))


def growing_batch(step_size=None, *, q: float = 1.1, initial_batch: int = 1,
                  sampling: str = "with_replacement") -> Method:
    """Growing-batch SGD, x_{k+1} = x_k - alpha_k / |B_k| sum_{i in B_k} grad f_i(x_k), with
    |B_{k+1}| = min(ceil(q |B_k|) + 1, n) (Friedlander & Schmidt 2012).

    With a constant step alpha = 1/L and a batch whose gradient error decays geometrically,
    f(x_k) - f* converges linearly in iterations (the paper's Theorem 2.2 with sampling
    error O(1/|B_k|)). Once |B_k| = n every step is a GD step, identical to ``gd(alpha)``.

    **Arguments:**

    - ``step_size``: alpha, a float or a schedule; default 1/L from ``problem.info["L"]``.
    - ``q``: growth factor >= 1 (1 grows the batch by one sample per step).
    - ``initial_batch``: |B_0| >= 1 (and <= n, checked when run).
    - ``sampling``: ``"with_replacement"``, ``"reshuffle"`` or ``"cyclic"``; how the method
      draws its indices (see the module docstring).

    **Returns:** a ``Method`` with ``batch_size=None`` whose state holds the per-run ``key``;
    each step counts |B_k| gradient evaluations.

    References: M. P. Friedlander, M. Schmidt, "Hybrid deterministic-stochastic methods for
    data fitting", SIAM J. Sci. Comput. 34(3), 2012.
    """
    ratio = _growth(q)
    b0 = validation.integer("initial_batch", initial_batch, low=1)
    sampling = validation.choice("sampling", sampling, SAMPLINGS)
    return Method(_init, _step,
                  hyperparams={"step_size": None if step_size is None else as_schedule(step_size)},
                  options={"ratio": ratio, "initial_batch": b0, "grow_sampling": sampling},
                  sampling=sampling, name=f"growing batch q={float(q):g}", check=_check)


def _check(p, problem):
    if p.initial_batch > problem.n:
        raise ValueError(f"initial_batch must be in [1, n] = [1, {problem.n}] for problem "
                         f"{problem.name!r}, got {p.initial_batch}")
    if p.step_size is None:
        require_constant(problem, "L", "growing_batch", "step 1/L")


def _init(p, x0, problem, key):
    n = problem.n
    perms = (jnp.zeros((n,), jnp.int32),) * 2 if p.grow_sampling == "reshuffle" else ()
    return GrowingBatchState(x0, Count.zero(), key, perms)


def _step(p, state, problem, idx, k):
    del idx  # the runner samples nothing for this method (batch_size=None)
    plan = _plan(problem.n, p.ratio, p.initial_batch)
    sampling = p.grow_sampling
    n = problem.n
    at = jnp.minimum(k, len(plan.sizes) - 1)
    size = jnp.asarray(plan.sizes)[at]
    offset = jnp.asarray(plan.offset)[at]
    perms = state.perms
    if sampling == "reshuffle":
        epoch = jnp.asarray(plan.epoch)[at]
        perms = lax.switch(jnp.asarray(plan.refresh)[at], [
            lambda ps: ps,
            lambda ps: (permutation(state.key, 0, n), permutation(state.key, 1, n)),
            lambda ps: (ps[1], permutation(state.key, epoch + 1, n)),
        ], perms)

    def indices(width):
        if sampling == "with_replacement":
            key = jax.random.fold_in(state.key, k)
            return jax.random.randint(key, (width,), 0, n, dtype=jnp.int32)
        pos = offset + jnp.arange(width, dtype=jnp.int32)
        wrapped = pos >= n  # positions span at most two epochs: B_k < n
        row = jnp.where(wrapped, pos - n, pos)
        if sampling == "cyclic":
            return row
        return jnp.where(wrapped, perms[1][row], perms[0][row])

    def partial_branch(width):
        def grad(x):
            rows = indices(width)
            dtype = jax.tree_util.tree_leaves(x)[0].dtype
            w = jnp.where(jnp.arange(width) < size, 1.0, 0.0).astype(dtype) / size.astype(dtype)
            batch = problem.batch(rows)
            weighted = lambda z: jnp.vdot(w, jax.vmap(problem.loss_i, in_axes=(None, 0))(z, batch))
            return jax.tree_util.tree_map(jnp.add, jax.grad(weighted)(x),
                                          regularizer_grad(problem, x))
        return grad

    branches = [partial_branch(width) for width in plan.buckets] + [problem.grad]
    g = lax.switch(jnp.asarray(plan.branch)[at], branches, state.x)
    alpha = p.step_size(k) if p.step_size is not None else theory_step(problem.info, 1.0, "L")
    x = _tree.sub_scaled(state.x, alpha, g)
    return GrowingBatchState(x, state.grad_evals.add(size), state.key, perms)
