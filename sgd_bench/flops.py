"""FLOPs of one method step, read from XLA's cost analysis of the compiled step.

XLA's analysis counts a loop body once, not once per trip, so the step is compiled against a
copy of the problem whose full-data reductions run as a single block (no loop). Index sampling
is not part of the step and is not counted.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from sgd_bench import validation
from sgd_bench.compat import cost_flops
from sgd_bench.finite_sum import FiniteSum
from sgd_bench.methods import Method


def step_flops(problem: FiniteSum, method: Method, x0) -> float:
    """FLOPs of one ``method.step`` on ``problem`` at ``x0``, from the compiled program."""
    validation.instance("problem", problem, FiniteSum, "a sgd_bench.FiniteSum")
    validation.instance("method", method, Method, "a sgd_bench.Method (gd, sgd, from_optax, ...)")
    from sgd_bench.solver import check_method_state, check_x

    x0 = validation.float_leaves(x0, problem.dtype)  # an int x0 was jax.grad's error, as run casts it
    check_x("x0", x0, problem)  # a wrong shape was JAX's dot_general error
    x0 = jax.tree_util.tree_map(validation.native_order, x0)  # big-endian: JAX's error from inside
    check_method_state(problem, method, x0)
    flat = problem.replace(block_rows=problem.n)
    x0 = jnp.asarray(x0) if hasattr(x0, "shape") else x0
    state = jax.jit(Method.init)(method, x0, flat, jax.random.key(0))
    b = 0 if method.batch_size is None else method.batch_size
    idx = jnp.zeros((b,), jnp.int32)
    k = jnp.zeros((), jnp.int32)
    compiled = jax.jit(Method.step).lower(method, state, flat, idx, k).compile()
    return cost_flops(compiled)
