"""FLOPs of one method step, read from XLA's cost analysis of the compiled step.

XLA's analysis counts a loop body once, not once per trip, so the step is compiled against a
copy of the problem whose full-data reductions run as a single block (no loop). Index sampling
is not part of the step and is not counted. It also adds up every branch of a ``lax.cond``: a
step that branches or loops itself (SVRG's and SARAH's snapshots, growing batches, L-BFGS's and
Armijo's line searches, the quasi-Newton updates) has no count that is the cost of its steps,
and ``step_flops`` warns (``FlopsWarning``) with the number it read.
"""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp

from sgd_bench import validation
from sgd_bench.compat import cost_flops
from sgd_bench.finite_sum import FiniteSum
from sgd_bench.methods import Method


class FlopsWarning(UserWarning):
    """A step's FLOPs were read from a program whose branches or loops the cost analysis does not
    count as its steps run them: the number is not the cost of a step."""


def _control_flow(jaxpr) -> set:
    """The kinds of control flow in ``jaxpr`` and the programs inside it: "cond", "loop"."""
    found = set()
    for eqn in jaxpr.eqns:
        if eqn.primitive.name in ("cond", "while", "scan"):
            found.add("cond" if eqn.primitive.name == "cond" else "loop")
        for value in eqn.params.values():
            for inner in value if isinstance(value, (tuple, list)) else (value,):
                inner = getattr(inner, "jaxpr", inner)  # a ClosedJaxpr holds its Jaxpr
                if hasattr(inner, "eqns"):
                    found |= _control_flow(inner)
    return found


def step_flops(problem: FiniteSum, method: Method, x0) -> float:
    """FLOPs of one ``method.step`` on ``problem`` at ``x0``, from the compiled program.

    Warns (``FlopsWarning``) where the step branches or loops (SVRG, SARAH, growing batches,
    L-BFGS, Armijo, stochastic L-BFGS, online Newton): the analysis adds up every branch and
    counts a loop's body once, so the number is no step's cost (SVRG's counted its snapshot's
    full gradient at every step); compare such methods by their exact gradient evaluations."""
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
    flops = cost_flops(compiled)
    # silently: SVRG's 4,235 per step (least squares, n = 100, d = 10) counted its snapshot's full
    # gradient at every step, where a step costs about 120; growing_batch's 17,245 were 3.7 GD steps
    kinds = _control_flow(jax.make_jaxpr(Method.step)(method, state, flat, idx, k).jaxpr)
    if kinds:
        how = ", and ".join(w for kind, w in (("cond", "adds up every branch of its lax.cond, as if each step "
                                              "took all of them"),
                                             ("loop", "counts the body of its loop once, whatever its trips"))
                           if kind in kinds)
        warnings.warn(f"step_flops: {flops:.6g} FLOPs is not the cost of a step of {method.name}: XLA's cost "
                      f"analysis {how}; compare it by its gradient evaluations (Trace.grad_evals), which are "
                      "exact", FlopsWarning, stacklevel=2)
    return flops
