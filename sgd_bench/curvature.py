"""Curvature of a finite sum in float64: ||grad^2 f(x)||, its spectrum, and the per-sample L_i.

These give the smoothness constants where a problem has no closed form: the largest Hessian
eigenvalue in magnitude at a point, by an exact eigendecomposition of the Hessian (dimension
<= 2048) or by power iteration on Hessian-vector products run until its residual is small, and
the same per sample for L_i = ||grad^2 f_i(x)|| (a linear model's in closed form, O(n D)). A value
at points is local: a lower bound on the global sup_x ||grad^2 f(x)||, and exact where the
curvature is largest at one of the points.

``top_eigenvalue`` is the sharpness of Keskar et al. (2017): the largest (algebraic) Hessian
eigenvalue at a point, by Lanczos on Hessian-vector products, traceable so that it vmaps over
the end points of many seeds in one program.
"""

from __future__ import annotations

import functools
import math
import warnings
from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.flatten_util import ravel_pytree

from sgd_bench import _tree, validation
from sgd_bench.compat import batched_map, enable_x64
from sgd_bench.finite_sum import L2, FiniteSum

DENSE_MAX_DIM = 2048
# Per-sample Hessians are formed densely up to this dimension (memory: block x D^2 floats).
_DENSE_SAMPLE_MAX_DIM = 512


def to_float64(tree):
    """A ``FiniteSum`` (its data) or a pytree with every floating leaf cast to float64."""
    if isinstance(tree, FiniteSum):
        return tree.replace(data=_tree.cast_floating(tree.data, jnp.float64), info=tree.info)  # a cast: same facts
    return _tree.cast_floating(tree, jnp.float64)



def check_point(problem: FiniteSum, x, name: str = "x"):
    """``x`` as a point of ``problem``, refused when it does not fit (``solver.check_x``: shape, a
    real scalar loss, finite) before anything is computed: a NaN x was LAPACK's "Eigenvalues did
    not converge", a (3, 1) x for a (3,) problem broadcast into a wrong Hessian, silently. A list
    of numbers for an array iterate is taken as that array, as it was before the check."""
    from sgd_bench import solver  # solver's imports reach this module's users

    validation.instance("problem", problem, FiniteSum, "a sgd_bench.FiniteSum")
    if problem.x_shape is not None and isinstance(x, (list, tuple)):
        x = validation.real_array(name, x, nan=True)  # NumPy float64: no float32 rounding on the way
    x = validation.float_leaves(x, np.float64)  # an int array was jax.grad's "requires real-valued inputs"
    solver.check_x(name, x, problem)
    return jax.tree_util.tree_map(validation.native_order, x)  # big-endian: JAX's error from inside


# -- Hessian norms ---------------------------------------------------------------------------------
def flat_size(x) -> int:
    """The number of scalars in the pytree ``x``."""
    return int(sum(np.size(leaf) for leaf in jax.tree_util.tree_leaves(x)))


@jax.jit
def dense_hessian(problem, x):
    """The dense Hessian of f at ``x`` (flattened: D x D for D scalars in ``x``)."""
    flat, unravel = ravel_pytree(x)
    return jax.hessian(lambda z: problem.loss(unravel(z)))(flat)


# Give up on H's power iteration (for H^2's) when, checked every _STALL_WINDOW iterations, its relative
# residual is above _STALL_RES and moved by less than _STALL_BAND (relative) since the last check.
# Such a residual comes from eigenvalues within a relative 1e-5 of each other in magnitude, far from
# the Rayleigh quotient (the swing of equal and opposite extremes), which 20,000 iterations cannot
# separate either: a case that settles is not cut short (a same-sign neighbour's residual is far
# below 0.1; an opposite one's rises or falls by more than the band while the pair separates, never
# flat), and one that does not stops after a few hundred iterations (digits-mlp at 0 wasted 20,000).
_STALL_WINDOW, _STALL_RES, _STALL_BAND = 100, 0.1, 1e-3


@functools.partial(jax.jit, static_argnames=("max_iter", "squared"))
def _power_iteration(problem, x, v0, tol, *, max_iter, squared=False):
    """Power iteration on v -> grad^2 f(x) v (``squared``: on v -> H H v) until
    ||H v - lambda v|| <= tol |lambda|; on H, also until the residual stalls (``_STALL_WINDOW``)."""
    _, unravel = ravel_pytree(x)

    def matvec(v):
        w = ravel_pytree(problem.hvp(x, unravel(v)))[0]
        return ravel_pytree(problem.hvp(x, unravel(w)))[0] if squared else w

    def cond(state):
        it, _, _, res = state[:4]
        go = (it < max_iter) & (res > tol)
        return go if squared else go & ~state[5]

    def body(state):
        it, v, _, _ = state[:4]
        w = matvec(v)
        lam = jnp.vdot(v, w)
        res = jnp.linalg.norm(w - lam * v) / jnp.maximum(jnp.abs(lam), jnp.finfo(w.dtype).tiny)
        out = (it + 1, w / jnp.linalg.norm(w), lam, res)
        if squared:  # H^2 is positive semi-definite: no swing
            return out
        last, stalled = state[4:]
        check = (it + 1) % _STALL_WINDOW == 0
        stalled = check & (res > _STALL_RES) & jnp.isfinite(last) & (jnp.abs(res - last) <= _STALL_BAND * last)
        return out + (jnp.where(check, res, last), stalled)

    v0 = v0 / jnp.linalg.norm(v0)
    init = (jnp.zeros((), jnp.int32), v0, jnp.zeros((), v0.dtype), jnp.asarray(jnp.inf, v0.dtype))
    if not squared:
        init += (jnp.asarray(jnp.inf, v0.dtype), jnp.zeros((), bool))
    it, _, lam, res = lax.while_loop(cond, body, init)[:4]
    return lam, res, it


def hessian_norm(problem: FiniteSum, x, *, dense_max_dim: int = DENSE_MAX_DIM, tol: float = 1e-8,
                 max_iter: int = 20_000) -> tuple[float, str]:
    """||grad^2 f(x)||_2 (the largest |eigenvalue|) in float64, and how it was computed.

    Dimension <= ``dense_max_dim``: ``eigvalsh`` of the dense Hessian (exact). Beyond: power
    iteration on Hessian-vector products until the residual ||H v - lambda v|| is at most
    ``tol`` |lambda| (then lambda is within a relative ``tol`` of an eigenvalue; the random start
    makes it the largest in magnitude); when it does not settle, on H^2 (sqrt of its top eigenvalue),
    at once when H's residual stalls above 0.1 (``_STALL_WINDOW``: equal and opposite extremes).
    A ``RuntimeWarning`` says when ``max_iter`` ran out.
    """
    x = check_point(problem, x)
    with enable_x64():
        p64, x64 = to_float64(problem), to_float64(x)
        size = flat_size(x64)
        if size <= dense_max_dim:
            eigs = np.linalg.eigvalsh(np.asarray(dense_hessian(p64, x64)))
            return float(np.max(np.abs(eigs))), "eigendecomposition of the Hessian"
        v0 = jax.random.normal(jax.random.key(0), (size,), jnp.float64)
        lam, res, it = _power_iteration(p64, x64, v0, float(tol), max_iter=int(max_iter))
        lam, res, it = float(lam), float(res), int(it)
        how = "power iteration on Hessian-vector products"
        if not res <= tol:
            # +-sigma both extreme (a saddle, as an MLP's at 0): v swings between their eigenvectors and
            # v.Hv is no eigenvalue (digits-mlp: 0.021 for ||H|| = 0.242). On H^2 sigma^2 leads alone.
            lam2, res, it2 = _power_iteration(p64, x64, v0, float(tol), max_iter=int(max_iter), squared=True)
            lam, res, it = math.sqrt(max(float(lam2), 0.0)), float(res), it + int(it2)
            how = "power iteration on H^2 after H's did not settle"
    if not res <= tol:
        warnings.warn(f"power iteration on {problem.name!r} stopped after {it} iterations with "
                      f"relative residual {res:.1e} > tol = {tol:.0e}", RuntimeWarning, stacklevel=2)
    return abs(lam), f"{how} ({it} iterations, residual {res:.0e})"


def lanczos_top(matvec, v0, iters: int):
    """The largest eigenvalue of the symmetric operator ``matvec`` (flat vectors) and the
    residual bound of its Ritz pair, from ``iters`` Lanczos steps started at ``v0`` (traceable).

    Every new vector is orthogonalized against all earlier ones twice (full
    reorthogonalization): without it rounding makes copies of the top eigenvalue ("ghosts")
    and the Krylov basis loses rank. The residual ||H y - theta y|| of the Ritz vector y equals
    |beta_m s_m| (s_m the last component of theta's eigenvector of the tridiagonal matrix), so
    theta is within that distance of an eigenvalue of H.
    """
    n = v0.shape[0]
    m = int(iters)
    V = jnp.zeros((m + 1, n), v0.dtype).at[0].set(v0 / jnp.linalg.norm(v0))

    def body(j, carry):
        V, alpha, beta = carry
        w = matvec(V[j])
        a = jnp.vdot(V[j], w)
        mask = (jnp.arange(m + 1) <= j)[:, None]
        for _ in range(2):
            w = w - (V * mask).T @ ((V * mask) @ w)
        b = jnp.linalg.norm(w)
        V = V.at[j + 1].set(w / jnp.maximum(b, jnp.finfo(w.dtype).tiny))
        return V, alpha.at[j].set(a), beta.at[j].set(b)

    V, alpha, beta = lax.fori_loop(0, m, body, (V, jnp.zeros(m, v0.dtype), jnp.zeros(m, v0.dtype)))
    T = jnp.diag(alpha) + jnp.diag(beta[:-1], 1) + jnp.diag(beta[:-1], -1)
    theta, S = jnp.linalg.eigh(T)
    return theta[-1], jnp.abs(beta[-1] * S[-1, -1])


def top_eigenvalue(problem: FiniteSum, x, key, *, iters: int = 30):
    """The largest eigenvalue of grad^2 f(x) and its residual bound (traceable; ``vmap`` it
    over points and keys): ``lanczos_top`` on ``problem.hvp`` from a random start drawn with
    ``key``, ``iters`` Lanczos steps (at most the dimension)."""
    flat, unravel = ravel_pytree(x)
    iters = min(int(iters), flat.shape[0])
    v0 = jax.random.normal(key, flat.shape, flat.dtype)
    return lanczos_top(lambda v: ravel_pytree(problem.hvp(x, unravel(v)))[0], v0, iters)


def hessian_eigenvalues(problem: FiniteSum, x) -> np.ndarray:
    """All eigenvalues of grad^2 f(x), ascending, from the dense Hessian (dimension <= 2048)."""
    x = check_point(problem, x)
    with enable_x64():
        p64, x64 = to_float64(problem), to_float64(x)
        if flat_size(x64) > DENSE_MAX_DIM:
            raise ValueError(f"hessian_eigenvalues forms the dense Hessian; the dimension "
                             f"{flat_size(x64)} is above {DENSE_MAX_DIM}")
        return np.linalg.eigvalsh(np.asarray(dense_hessian(p64, x64)))


def _flat_sample_loss(problem, unravel):
    """f_i(z, datum) = loss_i + r at the iterate ``unravel(z)``: a function of the flat vector z."""
    def f_i(z, datum):
        xi = unravel(z)
        reg = 0.0 if problem.regularizer is None else problem.regularizer(xi)
        return problem.loss_i(xi, datum) + reg

    return f_i


def _sample_hessian_norms_dense(problem, x):
    """max |eig grad^2 f_i(x)| for every i, by dense per-sample Hessians in row blocks."""
    flat, unravel = ravel_pytree(x)
    f_i = _flat_sample_loss(problem, unravel)

    def one(datum):
        return jnp.max(jnp.abs(jnp.linalg.eigvalsh(jax.hessian(f_i)(flat, datum))))

    block = max(1, min(problem.n, 2**22 // max(flat.size**2, 1)))
    return batched_map(one, problem.data, block)


def _sample_hessian_norms_power(problem, x, iters):
    """Per-sample power iteration with a fixed number of steps (dimension > 512)."""
    flat, unravel = ravel_pytree(x)
    f_i = _flat_sample_loss(problem, unravel)

    def one(datum):
        hv = lambda v: jax.jvp(lambda z: jax.grad(f_i)(z, datum), (flat,), (v,))[1]
        v = jax.random.normal(jax.random.key(0), flat.shape, flat.dtype)

        def body(v, _):
            w = hv(v)
            return w / jnp.maximum(jnp.linalg.norm(w), jnp.finfo(w.dtype).tiny), None

        v, _ = lax.scan(body, v / jnp.linalg.norm(v), None, length=iters)
        return jnp.abs(jnp.vdot(v, hv(v)))

    return batched_map(one, problem.data, 64)


def linear_split(problem):
    """The ridge mu of ``problem`` when it is a linear model whose per-sample Hessian has a closed
    form, else None: loss_i declares ``margin``/``target``/``phi`` (loss_i(x, d) = phi(margin(x, d),
    target(d)) with a margin linear in x, as the catalog's dense and sparse linear models and
    ``sgd_bench.gradient_table`` read them) and the regularizer is none or ``L2``."""
    loss, reg = problem.loss_i, problem.regularizer
    if not all(callable(getattr(loss, a, None)) for a in ("margin", "target", "phi")):
        return None
    return 0.0 if reg is None else reg.mu if isinstance(reg, L2) else None


def _sample_hessian_norms_linear(problem, x, mu):
    """||grad^2 f_i(x)|| = max(|phi''(z_i) ||a_i||^2 + mu|, mu) for a linear model: its Hessian is
    phi''(z_i) a_i a_i^T + mu I (a_i = grad of the margin, z_i = the margin at x), O(D) per sample."""
    loss, size = problem.loss_i, flat_size(x)

    def one(datum):
        a = jax.grad(loss.margin)(x, datum)
        c = jax.grad(jax.grad(loss.phi))(loss.margin(x, datum), loss.target(datum))
        top = jnp.abs(c * _tree.sq_norm(a) + mu)
        return jnp.maximum(top, jnp.abs(mu)) if size > 1 else top  # the other D - 1 eigenvalues are mu

    return batched_map(one, problem.data, max(1, min(problem.n, 2**22 // max(size, 1))))


_sample_norms_dense_jit = jax.jit(_sample_hessian_norms_dense)
_sample_norms_power_jit = jax.jit(_sample_hessian_norms_power, static_argnames=("iters",))
_sample_norms_linear_jit = jax.jit(_sample_hessian_norms_linear)

# Per-sample work (flops, estimated) beyond which per_sample_smoothness says what it is about to run:
# logreg n = 10^5, d = 300 without the closed form was 10^5 dense 300 x 300 eigendecompositions (> 10 min).
LONG_WORK = 1e11


def _say_long(problem, size: int, points: int, power_iters: int) -> None:
    dense = size <= _DENSE_SAMPLE_MAX_DIM
    work = problem.n * points * (10.0 * size**3 if dense else 8.0 * power_iters * size)
    if work > LONG_WORK:
        what = (f"{size} x {size} Hessian and its eigendecomposition" if dense
                else f"{power_iters} power-iteration steps on {size}-dimensional Hessian-vector products")
        warnings.warn(f"per-sample curvature of problem {problem.name!r}: {problem.n:,} samples x {points} point(s), "
                      f"each a {what} (about {work:.1e} flops): this can take minutes; info['L_max'] (or a "
                      "loss_i that declares margin/target/phi, a linear model) skips it", UserWarning, stacklevel=3)


def per_sample_smoothness(problem: FiniteSum, points: Sequence[Any] | None = None, *,
                          power_iters: int = 500) -> np.ndarray:
    """L_i = max over ``points`` of ||grad^2 f_i(x)||, for every sample i, in float64.

    For a linear model f_i(x) = phi(<a_i, x>) + mu/2 ||x||^2 this is ||a_i||^2 sup phi'' + mu
    once a point where phi'' is largest is among ``points`` (x = 0 for the logistic loss, any
    point for the squared loss). In general it is the local value at ``points`` (a lower bound
    on sup_x ||grad^2 f_i(x)||).

    **Arguments:**

    - ``problem``: a ``FiniteSum``.
    - ``points``: iterates to evaluate at (default: zeros of ``problem.x_shape``).
    - ``power_iters``: power-iteration steps per sample when the dimension is above 512
      (smaller dimensions use an exact per-sample eigendecomposition).

    A linear model (``linear_split``: loss_i declares margin/target/phi, the regularizer is none or
    ``L2``) gets the closed form max(|phi''(<a_i, x>) ||a_i||^2 + mu|, mu), O(n D) per point: the
    value an eigendecomposition gives, to rounding. Otherwise a ``UserWarning`` says what runs
    first when the work passes ``LONG_WORK`` flops (estimated).
    """
    if points is None:
        points = [problem.zeros()]
    try:  # 5 was "'int' object is not iterable", and [] returned None for the L_i
        points = list(points)
    except TypeError:
        raise TypeError(f"points must be a list of iterates, got {type(points).__name__}") from None
    if not points:
        raise ValueError("points must hold at least one iterate (None: the zeros of the problem)")
    points = [check_point(problem, x, f"points[{i}]") for i, x in enumerate(points)]  # a NaN one gave NaN L_i
    power_iters = validation.integer("power_iters", power_iters, low=1)
    mu = linear_split(problem)
    if mu is None:
        _say_long(problem, flat_size(points[0]), len(points), power_iters)
    with enable_x64():
        p64 = to_float64(problem)
        out = None
        for x in points:
            x64 = to_float64(x)
            if mu is not None:  # closed form: O(n D), not n eigendecompositions
                norms = np.asarray(_sample_norms_linear_jit(p64, x64, jnp.float64(mu)))
            elif flat_size(x64) <= _DENSE_SAMPLE_MAX_DIM:
                norms = np.asarray(_sample_norms_dense_jit(p64, x64))
            else:
                norms = np.asarray(_sample_norms_power_jit(p64, x64, iters=power_iters))
            out = norms if out is None else np.maximum(out, norms)
    return out
