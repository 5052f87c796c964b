"""Methods as pairs of pure functions, ``init(x0, problem) -> state`` and
``step(state, problem, idx, k) -> state``, in the spirit of optax's GradientTransformation.

A method never samples: the runner's sampler hands ``step`` the batch indices ``idx`` (shape
(B,)) of step ``k``. Every state is a NamedTuple carrying the evaluated iterate ``x`` and an
exact, overflow-free count ``grad_evals`` of per-sample gradient evaluations (a full gradient
counts n, a batch of B counts B).
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import optax

from sgd_bench import _checks
from sgd_bench import _tree
from sgd_bench.counting import Count
from sgd_bench.finite_sum import FiniteSum
from sgd_bench.sampling import SAMPLINGS
from sgd_bench.schedules import as_schedule


class Method(NamedTuple):
    """An optimization method for finite sums.

    - ``init(x0, problem) -> state``;
    - ``step(state, problem, idx, k) -> state``, with ``idx`` the B indices of step k;
    - ``batch_size``: B, or ``None`` for full-gradient methods (they get no indices);
    - ``sampling``: one of ``SAMPLINGS``, how the runner draws indices;
    - ``name``: a label for tables and plots.
    """

    init: Callable[[Any, FiniteSum], Any]
    step: Callable[[Any, FiniteSum, jax.Array, jax.Array], Any]
    batch_size: int | None
    sampling: str
    name: str


class GDState(NamedTuple):
    """State of gradient descent: the iterate and the gradient-evaluation count."""

    x: Any
    grad_evals: Count


class SGDState(NamedTuple):
    """State of mini-batch SGD: the iterate and the gradient-evaluation count."""

    x: Any
    grad_evals: Count


class OptaxMethodState(NamedTuple):
    """State of an optax-driven method: iterate, optax state, gradient-evaluation count."""

    x: Any
    opt_state: Any
    grad_evals: Count


def _check_batch(batch_size, sampling):
    b = _checks.integer("batch_size", batch_size, low=1)
    return b, _checks.choice("sampling", sampling, SAMPLINGS)


def gd(step_size) -> Method:
    """Gradient descent, x_{k+1} = x_k - alpha_k grad f(x_k), one full gradient per step.

    **Arguments:**

    - ``step_size``: a float alpha > 0 or a schedule ``k -> alpha_k``.
    """
    schedule = as_schedule(step_size)

    def init(x0, problem):
        del problem
        return GDState(x0, Count.zero())

    def step(state, problem, idx, k):
        del idx
        g = problem.grad(state.x)
        return GDState(_tree.sub_scaled(state.x, schedule(k), g), state.grad_evals.add(problem.n))

    return Method(init, step, None, "with_replacement", "GD")


def sgd(step_size, batch_size: int = 1, sampling: str = "with_replacement") -> Method:
    """Mini-batch SGD, x_{k+1} = x_k - alpha_k / |B_k| sum_{i in B_k} grad f_i(x_k).

    **Arguments:**

    - ``step_size``: a float alpha > 0 or a schedule ``k -> alpha_k``.
    - ``batch_size``: |B_k| >= 1 (and <= n, checked when run).
    - ``sampling``: ``"with_replacement"``, ``"reshuffle"`` or ``"cyclic"``.
    """
    schedule = as_schedule(step_size)
    b, sampling = _check_batch(batch_size, sampling)

    def init(x0, problem):
        del problem
        return SGDState(x0, Count.zero())

    def step(state, problem, idx, k):
        g = problem.batch_grad(state.x, idx)
        return SGDState(_tree.sub_scaled(state.x, schedule(k), g), state.grad_evals.add(idx.shape[0]))

    name = "SGD" if b == 1 else f"SGD batch {b}"
    return Method(init, step, b, sampling, name)


def from_optax(
    transformation: optax.GradientTransformation,
    batch_size: int | None = 1,
    sampling: str = "with_replacement",
    name: str | None = None,
) -> Method:
    """Runs any optax ``GradientTransformation`` on mini-batch gradients.

    Each step computes the batch gradient g, then ``updates, s = tx.update(g, s, x)`` and
    ``x = optax.apply_updates(x, updates)``, exactly as optax's own loop does.

    **Arguments:**

    - ``transformation``: for example ``optax.sgd(0.1, momentum=0.9, nesterov=True)``.
    - ``batch_size``: |B_k| >= 1, or ``None`` for full gradients.
    - ``sampling``: ``"with_replacement"``, ``"reshuffle"`` or ``"cyclic"``.
    - ``name``: a label; defaults to ``"optax"`` with the batch size.
    """
    if not (callable(getattr(transformation, "init", None))
            and callable(getattr(transformation, "update", None))):
        hint = (" (call the factory: optax.adam(1e-3), not optax.adam)"
                if callable(transformation) and getattr(transformation, "__module__", "").startswith("optax")
                else "")
        raise TypeError("transformation must be an optax.GradientTransformation "
                        f"(with callable init and update), got {transformation!r}{hint}")
    if batch_size is None:
        _checks.choice("sampling", sampling, SAMPLINGS)
        b = None
    else:
        b, sampling = _check_batch(batch_size, sampling)

    def init(x0, problem):
        del problem
        return OptaxMethodState(x0, transformation.init(x0), Count.zero())

    def step(state, problem, idx, k):
        del k  # optax keeps its own step count in its state
        if b is None:
            g, used = problem.grad(state.x), problem.n
        else:
            g, used = problem.batch_grad(state.x, idx), idx.shape[0]
        updates, opt_state = transformation.update(g, state.opt_state, state.x)
        x = optax.apply_updates(state.x, updates)
        return OptaxMethodState(x, opt_state, state.grad_evals.add(used))

    if name is None:
        name = "optax" + ("" if b in (None, 1) else f" batch {b}") + (" (full)" if b is None else "")
    return Method(init, step, b, sampling, str(name))

