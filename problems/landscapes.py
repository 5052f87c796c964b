"""Non-convex landscapes with one narrow and one wide minimum, written as finite sums.

Each landscape is a level ``base`` minus Gaussian wells,

    F(x) = base - sum_m a_m exp(-1/2 sum_j ((x_j - c_mj) / w_mj)^2),

and it is written as a finite sum over shifted copies: sample i sees the landscape through its
own datum, a shift s_i,

    f_i(x) = G(x - s_i),    f(x) = 1/n sum_i f_i(x).

The shifts are n standard normal quantiles (in 2-D a product grid of them), scaled to mean 0
and covariance tau^2 I exactly (``shift_std`` = tau), so SGD's noise is real sampling over the
f_i and the data need no seed. At a minimum x_m of a well of curvature h, grad f_i(x_m) ~ -h s_i:
the sampling noise is large where the landscape is sharp and small where it is flat.

Averaging over Gaussian shifts widens every well by tau, so G's wells are the narrowed ones,
width sqrt(w^2 - tau^2) and depth a prod_j w_j / sqrt(w_j^2 - tau^2), and the mean f is F up to
the finite-sample error of the n shifts. That error is measured on construction and stored as
``info["max_dev_from_F"]``: 1.8e-3 for the 1-D landscape, 1.5e-2 for the 2-D one (an 8 x 8
grid of shifts), against well depths of 0.3-0.45. Everything the experiments use, the minima,
their values, their Hessian eigenvalues (sharpness) and the saddle between them, is computed
from f itself in float64 (Newton's method on grad f = 0), not from F.

The "test" loss is the same landscape shifted by ``test_shift`` (delta), f_test(x) = f(x - delta):
the finite sum over the shifts s_i + delta, as unseen data shifts a loss. At a narrow minimum the
shifted loss is far above the train loss, at a wide one they nearly agree.

**landscape_1d** (the lecture's picture of narrow and wide minima): base 0.5, a narrow well at
0 (width 0.9, depth 0.45) and a wide well at 13 (width 5, depth 0.4); n = 64 shifts (normal
quantiles), tau = 0.6, delta = 1. With the defaults f has

- a narrow minimum at x = 0.013: f = 0.038, sharpness f'' = 0.544, f_test = 0.245 (gap 0.206);
- a wide minimum at x = 13.000: f = 0.100, sharpness f'' = 0.016, f_test = 0.108 (gap 0.008);
- the saddle (a local maximum) between them at x = 2.649, f = 0.447; the plateau f -> 0.5 beyond.

The narrow minimum is the deeper one on train data and the worse one on test data.

**landscape_2d**: base 0.5, a narrow isotropic well at (0, 0) (width 0.9, depth 0.3) on the flank
of a wide anisotropic bowl centred at (7, 0) (widths 5 and 3.5, depth 0.4); n = 8 x 8 shifts,
tau = 0.6, delta = (1, 0.5). With the defaults f has a narrow minimum at (0.138, 0) with f = 0.062
and Hessian eigenvalues 0.299, 0.322 (gap 0.159), a wide one at (7, 0) with f = 0.100 and
eigenvalues 0.016, 0.033 (gap 0.012), and a saddle at (2.144, 0) with f = 0.234. Sharpness is
the largest eigenvalue.

``Landscape.basin(points)`` says where end points are: the index of the minimum whose basin of
attraction (under gradient flow on f) holds them, or -1 on the plateau, where f is within
``plateau_gap`` of ``base`` and the gradient vanishes, so a run there has stopped nowhere.
"""

from __future__ import annotations

import dataclasses
import functools
import statistics
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from sgd_bench import validation
from sgd_bench.compat import enable_x64
from sgd_bench.memory import check_host_fits
from sgd_bench.finite_sum import FiniteSum

# Points whose loss is this close to the level are "on the plateau": the gradient there is
# below ~1e-2 of its largest value, so a run that ends there has not found a minimum.
PLATEAU_GAP = 0.01


@dataclasses.dataclass(frozen=True)
class GaussianWells:
    """The per-sample loss G(x - s) = base - sum_m depth_m exp(-1/2 ||(x - s - c_m) / width_m||^2).

    Hashable by value, so equal landscapes share compiled code. ``centers`` and ``widths`` are
    tuples of per-axis tuples, one per well.
    """

    base: float
    centers: tuple
    widths: tuple
    depths: tuple

    def __call__(self, x, s) -> jax.Array:
        # Written coordinate by coordinate: a reduction over an axis of length 1 or 2 inside
        # vmap(grad) keeps XLA:CPU from fusing the loop, and made full gradients ~15x slower.
        total = jnp.asarray(self.base, x.dtype)
        for c, w, a in zip(self.centers, self.widths, self.depths):
            q = 0.0
            for j in range(len(c)):
                u = (x[j] - s[j] - c[j]) / w[j]
                q = q + u * u
            total = total - a * jnp.exp(-0.5 * q)
        return total


def _normal_quantiles(m: int) -> np.ndarray:
    """m standard normal quantiles at (i + 1/2)/m, standardized to mean 0 and variance 1."""
    q = np.array([statistics.NormalDist().inv_cdf((i + 0.5) / m) for i in range(m)])
    q = q - q.mean()
    return q / q.std()


def quantile_shifts(n: int, d: int, shift_std: float) -> np.ndarray:
    """n shifts in d dimensions with mean exactly 0 and covariance exactly tau^2 I.

    1-D: the n normal quantiles. 2-D: the product grid of sqrt(n) quantiles per axis (n must be a
    square), whose coordinates are uncorrelated by construction.
    """
    if d == 1:
        return shift_std * _normal_quantiles(n)[:, None]
    if d == 2:
        m = int(round(np.sqrt(n)))
        if m * m != n:
            raise ValueError(f"n must be a perfect square for a 2-D landscape (an m x m grid), got {n}")
        q = _normal_quantiles(m)
        grid = np.stack(np.meshgrid(q, q, indexing="ij"), axis=-1).reshape(n, 2)
        return shift_std * grid
    raise ValueError(f"d must be 1 or 2, got {d}")


@dataclasses.dataclass(frozen=True, eq=False)
class Minimum:
    """A local minimum of the train loss f, in float64."""

    name: str
    x: np.ndarray
    value: float
    hessian_eigenvalues: np.ndarray
    test_value: float

    @property
    def sharpness(self) -> float:
        """The largest Hessian eigenvalue (the curvature along the sharpest direction)."""
        return float(np.max(self.hessian_eigenvalues))

    @property
    def gap(self) -> float:
        """Test loss minus train loss at the minimum."""
        return self.test_value - self.value


@dataclasses.dataclass(frozen=True, eq=False)
class Landscape:
    """A landscape and what is known about it.

    - ``problem``, ``test``: the train finite sum f and the shifted test one f_test.
    - ``intended``: the wells of F, the landscape f approximates (``intended_loss``).
    - ``minima``: the ``Minimum`` records, narrow first (``minimum(name)`` looks one up).
    - ``saddle``, ``saddle_value``, ``unstable``: the saddle between the minima, f there, and its
      unstable direction (unit, pointing from the first minimum's side to the second's).
    - ``shift_std``, ``test_shift``: tau and delta.
    - ``plateau_gap``: points with f > base - plateau_gap are on the plateau.
    """

    problem: FiniteSum
    test: FiniteSum
    intended: GaussianWells
    minima: tuple
    saddle: np.ndarray
    saddle_value: float
    unstable: np.ndarray
    shift_std: float
    test_shift: np.ndarray
    plateau_gap: float = PLATEAU_GAP

    @property
    def dim(self) -> int:
        return self.problem.x_shape[0]

    @property
    def plateau_level(self) -> float:
        return self.intended.base - self.plateau_gap

    def minimum(self, name: str) -> Minimum:
        """The minimum called ``name`` ("narrow" or "wide")."""
        for m in self.minima:
            if m.name == name:
                return m
        raise ValueError(f"no minimum {name!r}; known: {', '.join(m.name for m in self.minima)}")

    def losses(self, points) -> tuple[np.ndarray, np.ndarray]:
        """(train f, test f) at each of ``points`` (shape (S, d)), as NumPy arrays."""
        points = jnp.asarray(points, self.problem.dtype).reshape(-1, self.dim)
        return (np.asarray(_losses(self.problem, points)), np.asarray(_losses(self.test, points)))

    def sharpness(self, points) -> np.ndarray:
        """The largest Hessian eigenvalue of f at each of ``points`` (shape (S, d))."""
        points = jnp.asarray(points, self.problem.dtype).reshape(-1, self.dim)
        return np.asarray(_sharpness(self.problem, points))

    def basin(self, points, polish_steps: int = 200) -> np.ndarray:
        """Which basin each point lies in: the index into ``minima``, or -1 on the plateau.

        The two basins of attraction of the gradient flow are separated by the stable manifold
        of the saddle. Points below the plateau level are first moved ``polish_steps`` steps of
        gradient descent on f with step 1 / (largest sharpness of the minima), a discretization
        of the flow that does not cross that manifold and carries points along it towards the
        saddle, and then assigned by the side of the saddle they are on: the sign of
        (x - saddle) . v, with v the unstable direction of the saddle (in 1-D simply x > saddle).
        """
        points = jnp.asarray(points, self.problem.dtype).reshape(-1, self.dim)
        if self.dim == 1:  # the stable manifold of the saddle is the saddle itself: no flow needed
            polished, values = points, _losses(self.problem, points)
        else:
            alpha = 1.0 / max(m.sharpness for m in self.minima)
            polished, values = _polish(self.problem, points, alpha, validation.integer(
                "polish_steps", polish_steps, low=0))
        side = (np.asarray(polished, np.float64) - self.saddle[None]) @ self.unstable
        return np.where(np.asarray(values) > self.plateau_level, -1, np.where(side > 0, 1, 0))


@jax.jit
def _losses(problem, points):
    return jax.vmap(problem.loss)(points)


def _loss(problem, x) -> float:
    return float(_losses(problem, jnp.asarray(x)[None])[0])


@jax.jit
def _sharpness(problem, points):
    return jax.vmap(lambda p: jnp.linalg.eigvalsh(jax.hessian(problem.loss)(p))[-1])(points)


@functools.partial(jax.jit, static_argnames=("steps",))
def _polish(problem, points, alpha, steps):
    def descend(p):
        p = jax.lax.fori_loop(0, steps, lambda _, q: q - alpha * problem.grad(q), p)
        return p, problem.loss(p)

    values = jax.vmap(problem.loss)(points)
    polished, _ = jax.vmap(descend)(points)
    return polished, values


@jax.jit
def _grad_hessian(problem, x):
    return problem.grad(x), jax.hessian(problem.loss)(x)


def _hessian64(problem, x) -> np.ndarray:
    return np.asarray(_grad_hessian(problem, jnp.asarray(x, jnp.float64))[1])


def _critical_point(problem, x0, iterations: int = 50, tol: float = 1e-12) -> np.ndarray:
    """Newton's method on grad f = 0 from ``x0``: it converges to the critical point whose
    basin of quadratic convergence holds x0 (a minimum from a well's centre, the saddle from
    the highest point between two minima). Raises if the gradient does not reach ``tol``."""
    x = np.asarray(x0, np.float64)
    for _ in range(iterations):
        g, h = (np.asarray(v) for v in _grad_hessian(problem, jnp.asarray(x)))
        if np.linalg.norm(g) <= tol:
            return x
        x = x - np.linalg.solve(h, g)
    raise RuntimeError(f"Newton's method from {x0} did not reach ||grad f|| <= {tol:g} "
                       f"(||grad f|| = {np.linalg.norm(g):.2e} at {x})")


def _build(intended: GaussianWells, names, n, shift_std, test_shift, name, dtype) -> Landscape:
    d = len(intended.centers[0])
    n = validation.integer("n", n, low=2)
    tau = validation.nonnegative_float("shift_std", shift_std)
    if any(tau >= min(w) for w in intended.widths):
        narrowest = min(min(w) for w in intended.widths)
        raise ValueError(f"shift_std must be below the narrowest well width {narrowest:g}, got {tau:g}")
    delta = np.broadcast_to(np.asarray(test_shift, np.float64), (d,)).copy()
    if not np.all(np.isfinite(delta)):
        raise ValueError(f"test_shift must be finite, got {test_shift!r}")
    # Averaging over N(0, tau^2) shifts widens a well of width v to sqrt(v^2 + tau^2) and scales
    # its depth by prod v / sqrt(v^2 + tau^2); G's wells are narrowed so that f matches F.
    g_widths = tuple(tuple(float(np.sqrt(wj * wj - tau * tau)) for wj in w) for w in intended.widths)
    g_depths = tuple(float(a * np.prod([wj / vj for wj, vj in zip(w, v)]))
                     for a, w, v in zip(intended.depths, intended.widths, g_widths))
    loss_i = GaussianWells(intended.base, intended.centers, g_widths, g_depths)
    shifts = quantile_shifts(n, d, tau)
    dtype = validation.requested_dtype("dtype", dtype)
    data = jnp.asarray(shifts, dtype)
    problem = FiniteSum(loss_i, data, name=name, problem_class="nonconvex", x_shape=(d,))
    test = FiniteSum(loss_i, jnp.asarray(shifts + delta[None], dtype), name=f"{name} (test)",
                     problem_class="nonconvex", x_shape=(d,))

    with enable_x64():
        p64 = problem.replace(data=jnp.asarray(shifts, jnp.float64))
        t64 = test.replace(data=jnp.asarray(shifts + delta[None], jnp.float64))
        minima = []
        for label, center in zip(names, intended.centers):
            x = _critical_point(p64, center)
            eig = np.linalg.eigvalsh(_hessian64(p64, x))
            if not np.all(eig > 0):
                raise RuntimeError(f"Newton's method from the {label} well's centre of {name} "
                                   f"found a critical point with Hessian eigenvalues {eig}")
            minima.append(Minimum(label, x, float(_loss(p64, x)), eig, float(_loss(t64, x))))
        # The saddle: Newton from the highest point of f on the segment joining the minima.
        t = np.linspace(0.0, 1.0, 2001)[:, None]
        segment = minima[0].x[None] + t * (minima[1].x - minima[0].x)[None]
        start = segment[int(np.argmax(np.asarray(_losses(p64, jnp.asarray(segment)))))]
        saddle = _critical_point(p64, start)
        saddle_value = float(_loss(p64, saddle))
        eigvals, eigvecs = np.linalg.eigh(_hessian64(p64, saddle))
        if not (eigvals[0] < 0 and np.all(eigvals[1:] > 0)):
            raise RuntimeError(f"the critical point between the minima of {name} is not a saddle "
                               f"(Hessian eigenvalues {eigvals})")
        # The unstable direction, oriented from the first minimum's side to the second's.
        unstable = eigvecs[:, 0] * np.sign(eigvecs[:, 0] @ (minima[1].x - minima[0].x))
        # How far the finite sum is from F: the worst gap on a grid covering both wells.
        lo = np.min(np.asarray(intended.centers) - 4 * np.asarray(intended.widths), axis=0)
        hi = np.max(np.asarray(intended.centers) + 4 * np.asarray(intended.widths), axis=0)
        axes = [np.linspace(lo[j], hi[j], 801 if d == 1 else 121) for j in range(d)]
        grid = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, d)
        max_dev = float(np.max(np.abs(np.asarray(_losses(p64, jnp.asarray(grid))) - _F(intended, grid))))

    info: dict[str, float] = {"shift_std": tau, "max_dev_from_F": max_dev, "saddle_f": saddle_value}
    for j in range(d):
        info[f"test_shift{j if d > 1 else ''}"] = float(delta[j])
    for m in minima:
        for j in range(d):
            info[f"{m.name}_x{j if d > 1 else ''}"] = float(m.x[j])
        info[f"{m.name}_f"] = m.value
        info[f"{m.name}_sharpness"] = m.sharpness
        info[f"{m.name}_test_f"] = m.test_value
    problem = problem.replace(info=info)
    test = test.replace(info=info)
    return Landscape(problem, test, intended, tuple(minima), saddle, saddle_value, unstable, tau,
                     delta)


@functools.lru_cache(maxsize=8)
def _landscape_1d(n, shift_std, test_shift, dtype):
    intended = GaussianWells(0.5, ((0.0,), (13.0,)), ((0.9,), (5.0,)), (0.45, 0.4))
    return _build(intended, ("narrow", "wide"), n, shift_std, test_shift, "landscape-1d", dtype)


@functools.lru_cache(maxsize=8)
def _landscape_2d(n, shift_std, test_shift, dtype):
    intended = GaussianWells(0.5, ((0.0, 0.0), (7.0, 0.0)), ((0.9, 0.9), (5.0, 3.5)), (0.3, 0.4))
    return _build(intended, ("narrow", "wide"), n, shift_std, test_shift, "landscape-2d", dtype)


def _landscape_args(n, shift_std, test_shift, d, dtype):
    """Checks the arguments of ``landscape_1d`` / ``landscape_2d`` before the cached build: the
    cache key is (n, tau, delta, dtype name), with delta a float (1-D) or a tuple (2-D)."""
    n = validation.integer("n", n, low=2)
    tau = validation.nonnegative_float("shift_std", shift_std)
    try:
        delta = np.asarray(test_shift, np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"test_shift must be a number or a {d}-vector of numbers, "
                        f"got {test_shift!r}") from None
    if not (delta.ndim == 0 or delta.shape == (d,)):
        raise ValueError(f"test_shift must be a number or a {d}-vector, got shape {delta.shape}")
    if not np.all(np.isfinite(delta)):
        raise ValueError(f"test_shift must be finite, got {test_shift!r}")
    dt = validation.requested_dtype("dtype", dtype)
    key_dtype = None if dtype is None else dt.name
    # test_shift = 1e39 on float32 was refused as "data contains 64 NaN or Inf value(s)"
    validation.within_dtype([("test_shift", delta)], jax.dtypes.canonicalize_dtype(dt), "the data")
    # The shifts are normal quantiles computed one by one in Python (~100 bytes each with the
    # float64 copies); refuse an n whose shifts cannot fit before the loop starts.
    check_host_fits(128 * n, 2 * n * d * dt.itemsize, f"a {d}-D landscape with n={n}")
    delta = np.broadcast_to(delta, (d,))
    delta = float(delta[0]) if d == 1 else tuple(float(v) for v in delta)
    return n, tau, delta, key_dtype


def landscape_1d(n: int = 64, *, shift_std: float = 0.6, test_shift: float = 1.0,
                 dtype=None) -> Landscape:
    """The 1-D landscape: a narrow well at 0 (width 0.9) and a wide one at 13 (width 5), level 0.5.

    **Arguments:**

    - ``n``: the number of samples (shifts) in the finite sum.
    - ``shift_std``: tau, the spread of the per-sample shifts; the size of SGD's noise.
    - ``test_shift``: delta, how far the test loss is shifted.
    - ``dtype``: of the data (default: JAX's default float); minima are always float64.
    """
    return _landscape_1d(*_landscape_args(n, shift_std, test_shift, 1, dtype))


def landscape_2d(n: int = 64, *, shift_std: float = 0.6, test_shift=(1.0, 0.5),
                 dtype=None) -> Landscape:
    """The 2-D landscape: a narrow dimple at (0, 0) on the flank of a wide bowl at (7, 0).

    **Arguments:** as ``landscape_1d``; ``n`` must be a square (an m x m grid of shifts) and
    ``test_shift`` is a 2-vector (or a float used on both axes).
    """
    return _landscape_2d(*_landscape_args(n, shift_std, test_shift, 2, dtype))


def narrow_wide_1d(n: int = 64, *, shift_std: float = 0.6, test_shift: float = 1.0,
                   dtype=None) -> FiniteSum:
    """The train finite sum of ``landscape_1d`` (its minima and sharpness are in ``info``)."""
    return landscape_1d(n, shift_std=shift_std, test_shift=test_shift, dtype=dtype).problem


def narrow_wide_2d(n: int = 64, *, shift_std: float = 0.6, test_shift=(1.0, 0.5),
                   dtype=None) -> FiniteSum:
    """The train finite sum of ``landscape_2d`` (its minima and sharpness are in ``info``)."""
    return landscape_2d(n, shift_std=shift_std, test_shift=test_shift, dtype=dtype).problem


def _F(wells: GaussianWells, x) -> np.ndarray:
    x = np.asarray(x, np.float64).reshape(-1, len(wells.centers[0]))
    total = np.full(len(x), float(wells.base))
    for c, v, a in zip(wells.centers, wells.widths, wells.depths):
        u = (x - np.asarray(c)) / np.asarray(v)
        total -= a * np.exp(-0.5 * np.sum(u * u, axis=1))
    return total


def numpy_losses(landscape: Landscape, x: Any, *, test: bool = False) -> np.ndarray:
    """f(x) (or f_test(x)) at the points ``x`` (shape (S, d)), computed in NumPy float64 from the
    wells and the shifts, independently of JAX: mean_i G(x - s_i). For plots and tests."""
    problem = landscape.test if test else landscape.problem
    shifts = np.asarray(problem.data, np.float64)
    x = np.asarray(x, np.float64).reshape(-1, landscape.dim)
    total = np.zeros(len(x))
    for s in shifts:  # a loop over the n samples keeps memory at O(S)
        total += _F(problem.loss_i, x - s[None])
    return total / len(shifts)


def intended_loss(landscape: Landscape, x: Any) -> np.ndarray:
    """F at the points ``x`` (shape (S, d)), in NumPy float64: the landscape f approximates."""
    return _F(landscape.intended, x)
