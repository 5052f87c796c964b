"""L-BFGS with a zoom line search on full gradients: the strong deterministic baseline that a
comparison of SGD against gradient descent at 1/L alone would leave out.

The update is optax's (``optax.lbfgs``: two-loop recursion over the last ``memory_size``
curvature pairs, then a zoom line search for the strong Wolfe conditions). What this module
adds is the accounting. Every point the line search tries costs one ``value_and_grad`` of the
full objective, that is n per-sample loss and n per-sample gradient evaluations; the value and
gradient at the accepted point come out of the search's state and are reused by the next step
(optax keeps the "safe" point's value and gradient too, so this holds when the search falls
back to it). So the counts are exact: n of each in ``init`` for f(x_0) and its gradient, then
n of each per line-search trial.

References: D. C. Liu and J. Nocedal, "On the limited memory BFGS method for large scale
optimization", Math. Programming 45, 1989; J. Nocedal and S. Wright, Numerical Optimization,
2nd ed., Algorithm 3.5-3.6 (the zoom line search).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from sgd_bench import validation
from sgd_bench.counting import Count
from sgd_bench.methods import Method


# A step counts as uphill when f rose by more than this many ulps of f(x_k) (rounding of f near its
# floor is no climb): only a line search that ended without sufficient decrease takes such a point.
UPHILL_ULPS = 64


class LBFGSState(NamedTuple):
    """Iterate, optax's state, f and grad f at the iterate, the evaluation counts, the last
    step's number of line-search trials, and how many steps went uphill (``uphill_steps``)."""

    x: Any
    opt_state: Any
    f: jax.Array
    g: Any
    grad_evals: Count
    loss_evals: Count
    trials: jax.Array
    uphill_steps: Count


def lbfgs(memory_size: int = 10, *, max_linesearch_steps: int = 20) -> Method:
    """L-BFGS with the zoom line search (strong Wolfe conditions), on full gradients.

    **Arguments:**

    - ``memory_size``: how many curvature pairs (s_k, y_k) the two-loop recursion keeps, >= 1.
      It sets array shapes, so it is static: another value compiles another program.
    - ``max_linesearch_steps``: trial points per step at most, >= 1 (traced).

    **Returns:** a full-gradient ``Method`` (``batch_size=None``) whose state counts n gradient
    and n loss evaluations for f(x_0), then n of each per line-search trial, and the steps whose
    line search failed and took a point above f(x_k) (``uphill_steps``:
    ``trace.counts["uphill_steps"]``; ``sgd_bench.run`` warns with ``UphillStepWarning``).
    """
    memory_size = validation.integer("memory_size", memory_size, low=1)
    max_linesearch_steps = _trials("max_linesearch_steps", max_linesearch_steps)
    return Method(_lbfgs_init, _lbfgs_step, hyperparams={"max_linesearch_steps": max_linesearch_steps},
                  options={"memory_size": memory_size}, name="L-BFGS", check=_check)


def _trials(name, value) -> int:
    return validation.integer(name, value, low=1, high=2**31 - 1)  # int32, the loop counter's type


def _check(p, problem) -> None:
    """``max_linesearch_steps`` as the constructor takes it, after ``replace`` or a sweep."""
    validation.each("max_linesearch_steps", p.max_linesearch_steps, _trials)


def _transformation(p):
    search = optax.scale_by_zoom_linesearch(max_linesearch_steps=p.max_linesearch_steps)
    return optax.lbfgs(memory_size=p.memory_size, linesearch=search)


def _lbfgs_init(p, x0, problem, key):
    del key
    f, g = problem.value_and_grad(x0)
    first = Count.zero().add(problem.n)
    tx = _transformation(p)
    opt_state = tx.init(x0)
    # The state must keep its types from step to step (it is a scan carry). optax 0.2.3 starts
    # the line search's step counter as a default int (int64 with x64 on) and updates it as
    # int32; so give the initial state the types one update returns (traced only, not run).
    after = jax.eval_shape(lambda s: tx.update(g, s, x0, value=f, grad=g, value_fn=problem.loss)[1],
                           opt_state)
    opt_state = jax.tree_util.tree_map(lambda a, t: jnp.asarray(a, t.dtype), opt_state, after)
    return LBFGSState(x0, opt_state, f, g, first, first, jnp.zeros((), jnp.int32), Count.zero())


def _streamed_loss(problem):
    """``problem.loss`` whose derivative is the gradient of ``problem.value_and_grad``: the line
    search's ``jax.value_and_grad`` of it then costs one streamed pass over the data. Plain
    reverse mode through the loss's block scan keeps every block as a residual, a copy of the
    data written and read back per trial: a step cost 13x a GD step at n = 1e6, d = 100."""
    @jax.custom_jvp
    def loss(x):
        return problem.loss(x)

    @loss.defjvp
    def loss_jvp(primals, tangents):
        value, g = problem.value_and_grad(primals[0])
        slope = sum(jnp.vdot(a, b) for a, b in zip(jax.tree_util.tree_leaves(g),
                                                   jax.tree_util.tree_leaves(tangents[0])))
        return value, slope

    return loss


def _lbfgs_step(p, state, problem, idx, k):
    del idx, k
    tx = _transformation(p)
    updates, opt_state = tx.update(state.g, state.opt_state, state.x, value=state.f, grad=state.g,
                                   value_fn=_streamed_loss(problem))
    x = optax.apply_updates(state.x, updates)
    # The search's final value and gradient are those of the accepted point x.
    f = optax.tree_utils.tree_get(opt_state, "value")
    g = optax.tree_utils.tree_get(opt_state, "grad")
    trials = optax.tree_utils.tree_get(opt_state, "num_linesearch_steps").astype(jnp.int32)
    used = trials.astype(jnp.uint32) * jnp.uint32(problem.n)
    f = f.astype(state.f.dtype)
    # A search that ends without sufficient decrease takes its last (or safe) trial: at mu = 1e9 the
    # first step raised f(x) - f* from 1.7e-11 to 6e-5 without a word. Counted (above rounding of f).
    slack = UPHILL_ULPS * jnp.finfo(f.dtype).eps * jnp.abs(state.f)
    uphill = ~(f <= state.f + slack)  # NaN too
    return LBFGSState(x, opt_state, f, g, state.grad_evals.add(used), state.loss_evals.add(used), trials,
                      state.uphill_steps.add(uphill.astype(jnp.uint32)))
