"""Additive Gaussian gradient noise: the textbook stand-in for the noise of sampling.

``noisy_sgd(step_size, noise_std, batch_size)`` takes the step

    x_{k+1} = x_k - alpha_k (g_k + sigma xi_k),   xi_k ~ N(0, I),

where g_k is the mini-batch gradient over the sampled indices (the full gradient when
``batch_size`` is None). With ``batch_size=None`` it is gradient descent with injected Gaussian
noise; with ``noise_std=0`` it is plain GD or SGD. Putting it next to finite-sum SGD separates
what sampling noise does from what any noise of the same size does: sampling noise depends on
where the iterate is (on a landscape made of shifted copies it grows with the curvature),
additive noise does not.

The noise comes from the method's own key, which ``init`` receives (the runner derives it from
each run's key, ``sgd_bench.solver``), so seeds get independent noise and the sampler's index
stream is unchanged. Step k draws xi_k with ``fold_in(key, k)``, so the noise does not depend on
how the run is cut into logging chunks.

The step size and sigma are traced hyperparameters, so a sweep over either is one compiled
program (``sgd_bench.sweep``); a Python ``noise_std=0.0`` is a different structure that draws
no noise at all.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from sgd_bench import validation
from sgd_bench import _tree
from sgd_bench.counting import Count
from sgd_bench.methods import Method
from sgd_bench.sampling import SAMPLINGS
from sgd_bench.schedules import as_schedule


class NoisySGDState(NamedTuple):
    """State of noisy SGD: the iterate, the gradient-evaluation count, and the noise key."""

    x: Any
    grad_evals: Count
    key: Any


def _noise_scale(noise_std):
    if isinstance(noise_std, jax.core.Tracer):
        return noise_std
    return validation.nonnegative_float("noise_std", noise_std)


def _init(p, x0, problem, key):
    del p, problem
    return NoisySGDState(x0, Count.zero(), key)


def _step(p, state, problem, idx, k):
    if p.batch_size is None:
        g, used = problem.grad(state.x), problem.n
    else:
        g, used = problem.batch_grad(state.x, idx), idx.shape[0]
    if not p.silent:
        leaves, treedef = jax.tree_util.tree_flatten(g)
        keys = jax.random.split(jax.random.fold_in(state.key, k), len(leaves))
        xi = [jax.random.normal(kk, leaf.shape, leaf.dtype) for kk, leaf in zip(keys, leaves)]
        g = jax.tree_util.tree_map(lambda gi, ni: gi + jnp.asarray(p.noise_std, gi.dtype) * ni,
                                   g, jax.tree_util.tree_unflatten(treedef, xi))
    x = _tree.sub_scaled(state.x, p.step_size(k), g)
    return NoisySGDState(x, state.grad_evals.add(used), state.key)


def noisy_sgd(step_size, noise_std, batch_size: int | None = None,
              sampling: str = "with_replacement", name: str | None = None) -> Method:
    """SGD (or GD) with additive Gaussian gradient noise, x_{k+1} = x_k - alpha_k (g_k + sigma xi_k).

    **Arguments:**

    - ``step_size``: a float alpha > 0, a schedule ``k -> alpha_k``, or a traced scalar.
    - ``noise_std``: sigma >= 0, the standard deviation of each coordinate of the added noise
      (a float, or a traced scalar). A Python ``0.0`` draws no noise at all.
    - ``batch_size``: |B_k| >= 1 for mini-batch gradients, or ``None`` for full gradients.
    - ``sampling``: ``"with_replacement"``, ``"reshuffle"`` or ``"cyclic"`` (mini-batches only).
    - ``name``: a label; by default it says the batch and sigma.

    **Returns:** a ``Method`` whose state keeps its noise key.
    """
    schedule = as_schedule(step_size)
    sigma = _noise_scale(noise_std)
    sampling = validation.choice("sampling", sampling, SAMPLINGS)
    b = None if batch_size is None else validation.integer("batch_size", batch_size, low=1)
    silent = isinstance(sigma, float) and sigma == 0.0
    if name is None:
        base = "GD" if b is None else ("SGD" if b == 1 else f"SGD batch {b}")
        name = base if silent else f"{base} + N(0, sigma^2) noise"
    return Method(_init, _step, hyperparams={"step_size": schedule, "noise_std": sigma},
                  options={"silent": silent}, batch_size=b, sampling=sampling, name=str(name),
                  check=_check)


def _check(p, problem) -> None:
    """``noise_std`` as the constructor takes it, after ``replace`` or a sweep (-1 ran)."""
    validation.each("noise_std", p.noise_std, validation.nonnegative_float)
    traced = isinstance(p.noise_std, jax.core.Tracer)
    if p.silent and (traced or np.any(np.asarray(p.noise_std) != 0)):
        # built with 0.0, its program draws no noise: replace(noise_std=1.0), or a sweep from it,
        # ran plain SGD under the label noise_std=1
        given = "a traced value" if traced else repr(np.ravel(p.noise_std)[np.ravel(p.noise_std) != 0][0].item())
        raise ValueError(f"noise_std = {given} on a method built with noise_std=0.0, whose program "
                         "draws no noise at all; build it with the noise to run (noisy_sgd(step, 1.0)), "
                         "or one with noise_std > 0 to sweep or replace it")
