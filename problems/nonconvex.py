"""Smooth non-convex finite sums: one that is PL with exactly known constants, and two that are not.

- ``sin2_pl`` (``sin2_finite_sum`` for given centres): the lecture's PL example
  g(t) = t^2 + 3 sin^2 t, shifted per sample and lifted to d dimensions, f_i(x) = sum_j g(x_j - c_ij).
  Non-convex (g'' = 2 + 6 cos 2t reaches -4) yet PL.
  Per coordinate the mean over i has the closed form
      h_j(t) = (t - cbar_j)^2 + s_j^2 + 3/2 - 3/2 r_j cos(2t - theta_j),
  with cbar_j, s_j^2 the mean and variance of c_.j and r_j e^{i theta_j} = mean_i e^{2i c_ij}.
  So L = max_j (2 + 6 r_j) and L_max = 8 exactly; x*_j and f* = sum_j h_j(x*_j) come from a
  1-D search polished by Newton; and since f is a sum of 1-D functions, its PL constant is the
  smallest of theirs, mu = min_j inf_t h_j'(t)^2 / (2 (h_j(t) - h_j*)), found on a fine grid
  and polished by a bounded 1-D minimization (relative accuracy ~1e-9).
- ``sigmoid_loss``: the smooth ramp f_i(x) = sigmoid(-y_i <a_i, x>) + lam/2 ||x||^2 on a linear
  classifier: non-convex, not PL (its gradient vanishes far out while f - f* does not). Only
  upper bounds of L are known: |sigmoid''| <= 1/(6 sqrt 3), so L <= lambda_max(A^T A/n)/(6 sqrt 3)
  + lam (stored as ``info["L_upper"]``).
- ``two_layer_net``: a teacher-student regression with a tanh hidden layer,
  f_i(theta) = 1/2 (v . tanh(W a_i) / sqrt(h) - y_i)^2 + lam/2 ||theta||^2, theta = (W, v)
  flattened. It is not globally L-smooth (the Hessian grows with the weights); its constants are
  local ones along a run. Start it at ``two_layer_init`` (theta = 0 is a saddle point).
"""

from __future__ import annotations

import dataclasses
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from sgd_bench import FiniteSum, L2
from sgd_bench import validation
from sgd_bench.memory import check_fits, check_host_fits

# max |sigmoid''(t)| = max s(1-s)|1-2s| = 1/(6 sqrt(3)), at s = (3 +- sqrt(3))/6.
SIGMOID_CURVATURE = 1.0 / (6.0 * np.sqrt(3.0))


def _dtype(dtype):
    return validation.requested_dtype("dtype", dtype)


# -- the lifted x^2 + 3 sin^2 x family ---------------------------------------------------------------
def sin2_loss(x, c):
    """f_i(x) = sum_j (x_j - c_j)^2 + 3 sin^2(x_j - c_j) for the datum c (one row of centres)."""
    u = x - c
    return jnp.sum(u * u + 3.0 * jnp.square(jnp.sin(u)))


def _coordinate_terms(C):
    """cbar, s^2, r, theta per coordinate, so that h_j is in closed form."""
    C = np.asarray(C, dtype=np.float64)
    m = np.mean(np.exp(2j * C), axis=0)
    # |mean of unit numbers| <= 1; rounding gave 1 + 2e-16 for one centre: L = 8.000000000000002 > L_max = 8
    return C.mean(axis=0), C.var(axis=0), np.minimum(np.abs(m), 1.0), np.angle(m)


def _h(t, cbar, s2, r, th):
    return (t - cbar) ** 2 + s2 + 1.5 - 1.5 * r * np.cos(2 * t - th)


def _dh(t, cbar, r, th):
    return 2 * (t - cbar) + 3 * r * np.sin(2 * t - th)


def _d2h(t, r, th):
    return 2 + 6 * r * np.cos(2 * t - th)


def sin2_solution(C) -> dict:
    """x*, f*, L, L_max and the PL constant mu of ``sin2_pl`` with centres C, in float64.

    Returns ``{"x_star", "f_star", "L", "L_max", "mu", "mu_per_coordinate"}``.
    """
    from scipy import optimize  # scipy ships with jax

    cbar, s2, r, th = _coordinate_terms(C)
    d = cbar.shape[0]
    x_star, f_star, mus = np.empty(d), 0.0, np.empty(d)
    for j in range(d):
        args = (cbar[j], s2[j], r[j], th[j])
        # The minimizer lies within sqrt(3 r) <= sqrt(3) of cbar: h >= (t-cbar)^2 + const - 1.5r
        # and h(cbar) <= const + 1.5r.
        grid = cbar[j] + np.linspace(-2.0, 2.0, 40_001)
        t = grid[np.argmin(_h(grid, *args))]
        for _ in range(50):  # Newton on h' from the grid point (h'' > 0 there)
            t -= _dh(t, cbar[j], r[j], th[j]) / _d2h(t, r[j], th[j])
        x_star[j] = t
        h_star = _h(t, *args)
        f_star += h_star
        # h - h* without the constant s^2 once it is large: with it (s^2 ~ spread^2) the difference
        # cancelled to 0 or rounding for spread >= 1e6 (NumPy's "divide by zero", mu 5.4 for 0.36 at
        # spread 1e10); below 1 it costs at most an ulp, and is kept so that mu stays bit for bit
        flat = args if s2[j] < 1.0 else (cbar[j], 0.0, r[j], th[j])

        def ratio(u, h0=_h(t, *flat), flat=flat):
            return _dh(u, cbar[j], r[j], th[j]) ** 2 / (2 * (_h(u, *flat) - h0))

        # h'^2 / (2 (h - h*)) tends to h''(x*) at the minimizer and to 2 as |t| -> infinity; its
        # infimum sits at moderate |t - x*| (where h' is smallest relative to h - h*).
        step = 1e-3
        offsets = np.arange(-50.0, 50.0 + step, step)
        offsets = offsets[np.abs(offsets) > 1e-2]
        values = ratio(t + offsets)
        i = int(np.argmin(values))
        best = float(values[i])
        lo, hi = t + offsets[max(i - 1, 0)], t + offsets[min(i + 1, len(offsets) - 1)]
        res = optimize.minimize_scalar(ratio, bounds=(lo, hi), method="bounded",
                                       options={"xatol": 1e-12})
        if res.success:
            best = min(best, float(res.fun))
        mus[j] = min(best, float(_d2h(t, r[j], th[j])))
    return {"x_star": x_star, "f_star": float(f_star), "L": float(np.max(2 + 6 * r)), "L_max": 8.0,
            "mu": float(np.min(mus)), "mu_per_coordinate": mus}


def sin2_pl(n: int = 200, d: int = 10, *, seed: int = 0, spread: float = 0.3, dtype=None) -> FiniteSum:
    """The lifted PL family f_i(x) = sum_j g(x_j - c_ij), g(t) = t^2 + 3 sin^2 t, c_ij ~ N(0, spread^2).

    The mean keeps g's negative curvature (non-convex) exactly when some coordinate has
    r_j > 1/3, that is L > 4 (its least curvature is 4 - L); for Gaussian centres r_j is about
    exp(-2 spread^2), so ``spread`` below about sqrt(ln 3 / 2) = 0.74. A wider ``spread`` builds
    with a ``UserWarning``: the mean is then convex (each f_i is not). ``info`` holds the exact L,
    L_max = 8, mu (PL) and f* of the drawn centres at any spread. Class ``"pl"``.
    """
    n = validation.integer("n", n, low=1)
    d = validation.integer("d", d, low=1)
    seed = validation.integer("seed", seed, low=0, high=validation.MAX_SEED)
    spread = validation.nonnegative_float("spread", spread)
    dt = _dtype(dtype)
    # Host: the centres in float64 and two complex128 temporaries of the closed form (n x d each).
    check_host_fits(40 * n * d, n * d * dt.itemsize, f"sin2-pl with n={n}, d={d}")
    C = spread * np.random.default_rng(seed).standard_normal((n, d))
    # spread = 1e39 on float32 was refused naming info['f_star'], an argument nobody passed. g grows
    # with |t|, so x* lies within the centres' range and the loss sums n terms below this bound:
    with np.errstate(over="ignore"):  # inf: refused below, no NumPy warning
        span = np.ptp(C, axis=0)
        bound = n * float(np.sum(span * span + 3.0))
    validation.derived_within_dtype("spread", spread, bound,
                                    "the loss's sum over samples near x* up to", jax.dtypes.canonicalize_dtype(dt))
    problem = _sin2(C, f"sin2-pl n={n} d={d}", dtype)
    # spread = 5.0 built silently as "non-convex but PL" while its mean is strongly convex
    _warn_if_convex(problem, f"sin2_pl: spread={spread:g} makes", "use spread below about 0.74 = sqrt(ln 3 / 2)")
    return problem


def sin2_finite_sum(C, *, name: str = "sin2", dtype=None) -> FiniteSum:
    """f_i(x) = sum_j g(x_j - C_ij), g(t) = t^2 + 3 sin^2 t, for given centres C (n, d).

    Raises ``ValueError`` when the mean has a stationary point that is not a minimizer (then
    it is not PL: mu = 0), which happens when the centres of a coordinate spread too widely.
    Warns (``UserWarning``), as ``sin2_pl`` does, when the mean is convex (L <= 4: no
    coordinate's centres close enough together to keep g's negative curvature).
    """
    problem = _sin2(C, name, dtype)
    _warn_if_convex(problem, "sin2_finite_sum: these centres make", "use centres closer together in some coordinate")
    return problem


def _sin2(C, name, dtype) -> FiniteSum:
    dt = _dtype(dtype)
    C = np.asarray(validation.dense_array("C", C, real=True), dtype=np.float64)
    if C.ndim != 2 or not C.size:
        raise ValueError(f"C must be a non-empty 2-D array (n, d), got shape {C.shape}")
    validation.finite_array("C", C)
    sol = sin2_solution(C)
    if not sol["mu"] > 1e-8:
        raise ValueError(f"these centres give a mean with a stationary point that is not a minimizer, so "
                         f"it is not PL (mu = {sol['mu']:.2e}); use centres with a smaller spread")
    info = {k: sol[k] for k in ("L", "L_max", "mu", "f_star")}
    return FiniteSum(sin2_loss, jnp.asarray(C, dt), name=name, problem_class="pl",
                     x_shape=(C.shape[1],), info=info, validate=False)


def _warn_if_convex(problem, what: str, fix: str) -> None:
    """The module's claim, non-convex but PL, fails when the mean is convex: said, not refused (L,
    mu and f* stay exact and the class "pl" true). The threshold is the maths', not a tuning."""
    least = 4.0 - problem.info["L"]  # min_j,t h_j''(t) = 2 - 6 max_j r_j
    if least >= 0:
        warnings.warn(f"{what} the mean f convex, not the non-convex PL example: its least curvature is "
                      f"4 - L = {least:.3g} >= 0 (each f_i stays non-convex; L, mu and f* in info still hold); "
                      f"{fix}", UserWarning, stacklevel=3)


# -- the sigmoid (smooth ramp) loss -------------------------------------------------------------------
def sigmoid_loss_i(x, datum):
    """The per-sample smooth ramp loss sigmoid(-y <a, x>) for datum = (a, y)."""
    a, y = datum
    return jax.nn.sigmoid(-y * jnp.dot(a, x))


def gaussian_classification(n, d, seed, noise):
    """Host float64 (A, y): Gaussian rows, labels the sign of a random linear score plus
    ``noise`` times Gaussian noise (so the classes overlap); shared by the sigmoid and
    non-separable logistic problems."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, d))
    w = rng.standard_normal(d) / np.sqrt(d)
    y = np.where(A @ w + noise * rng.standard_normal(n) >= 0, 1.0, -1.0)
    return A, y


def sigmoid_loss(n: int = 500, d: int = 10, *, seed: int = 0, lam: float = 1e-3, noise: float = 0.5,
                 dtype=None) -> FiniteSum:
    """The smooth ramp loss sigmoid(-y_i <a_i, x>) + lam/2 ||x||^2 on Gaussian data. Class ``"nonconvex"``.

    ``info["L_upper"]`` = lambda_max(A^T A/n)/(6 sqrt 3) + lam and ``info["L_max_upper"]`` =
    max_i ||a_i||^2/(6 sqrt 3) + lam are upper bounds: the tight global L has no closed form.
    """
    n = validation.integer("n", n, low=2)
    d = validation.integer("d", d, low=1)
    lam = validation.nonnegative_float("lam", lam)
    noise = validation.nonnegative_float("noise", noise)
    dt = _dtype(dtype)
    # Host float64: A and A * A (n x d each), a few n-vectors.
    check_host_fits(8 * (2 * n * d + 4 * n), (n * d + n) * dt.itemsize,
                    f"sigmoid-loss with n={n}, d={d}")
    A, y = gaussian_classification(n, d, validation.integer("seed", seed, low=0, high=validation.MAX_SEED), noise)
    info = {"L_upper": float(np.linalg.eigvalsh(A.T @ A / n)[-1]) * SIGMOID_CURVATURE + lam,
            "L_max_upper": float(np.max(np.sum(A * A, axis=1))) * SIGMOID_CURVATURE + lam}
    return FiniteSum(sigmoid_loss_i, (jnp.asarray(A, dt), jnp.asarray(y, dt)),
                     regularizer=L2(lam) if lam > 0 else None, name=f"sigmoid-loss n={n} d={d}",
                     problem_class="nonconvex", x_shape=(d,), info=info, validate=False)


# -- a small two-layer network --------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class TwoLayerLoss:
    """f_i(theta) = 1/2 (v . tanh(W a) / sqrt(h) - y)^2 with theta = concat(W.ravel(), v).

    Hashable by ``hidden``, so equal shapes share compiled code.
    """

    hidden: int

    def unpack(self, theta):
        d = theta.shape[0] // self.hidden - 1
        return theta[: self.hidden * d].reshape(self.hidden, d), theta[self.hidden * d:]

    def predict(self, theta, a):
        W, v = self.unpack(theta)
        return jnp.dot(v, jnp.tanh(W @ a)) / jnp.sqrt(float(self.hidden))

    def __call__(self, theta, datum):
        a, y = datum
        return 0.5 * jnp.square(self.predict(theta, a) - y)


def two_layer_net(n: int = 200, d: int = 5, hidden: int = 16, *, seed: int = 0, teacher_hidden: int = 4,
                  noise: float = 0.1, weight_decay: float = 1e-3, dtype=None) -> FiniteSum:
    """A two-layer tanh network fitted to a smaller teacher network's outputs plus noise.

    Parameters theta = (W: hidden x d, v: hidden) flattened to hidden (d + 1) numbers; targets
    y = v* . tanh(W* a) / sqrt(teacher_hidden) + noise eps, a ~ N(0, I). Class ``"nonconvex"``.
    """
    n = validation.integer("n", n, low=1)
    d = validation.integer("d", d, low=1)
    hidden = validation.integer("hidden", hidden, low=1)
    teacher_hidden = validation.integer("teacher_hidden", teacher_hidden, low=1)
    noise = validation.nonnegative_float("noise", noise)
    weight_decay = validation.nonnegative_float("weight_decay", weight_decay)
    dt = _dtype(dtype)
    # Host float64: A (n x d), the teacher's hidden layer and its tanh (n x teacher_hidden each).
    check_host_fits(8 * (n * d + 2 * n * teacher_hidden + 4 * n), (n * d + n) * dt.itemsize,
                    f"two-layer-net with n={n}, d={d}")
    # The iterate is not tied to the data's size: hidden = 10^9 passed the check above, then a
    # run (or the default step's constants) tried to allocate 48 GB. A method holds a few copies.
    check_fits(4 * hidden * (d + 1) * dt.itemsize, f"two-layer-net with hidden={hidden}, d={d}: a few "
               f"copies of its {hidden * (d + 1):,} parameters", hint="use a smaller hidden or d")
    rng = np.random.default_rng(validation.integer("seed", seed, low=0, high=validation.MAX_SEED))
    A = rng.standard_normal((n, d))
    W_t = rng.standard_normal((teacher_hidden, d)) / np.sqrt(d)
    v_t = rng.standard_normal(teacher_hidden)
    y = np.tanh(A @ W_t.T) @ v_t / np.sqrt(teacher_hidden) + noise * rng.standard_normal(n)
    # noise = 1e39 or 1e20 on float32 gave an inf loss everywhere, silently
    validation.squares_within_dtype("noise", noise, y, "squared targets up to", jax.dtypes.canonicalize_dtype(dt))
    return FiniteSum(TwoLayerLoss(hidden), (jnp.asarray(A, dt), jnp.asarray(y, dt)),
                     regularizer=L2(weight_decay) if weight_decay > 0 else None,
                     name=f"two-layer-net n={n} d={d} h={hidden}", problem_class="nonconvex",
                     x_shape=(hidden * (d + 1),), info={"hidden": float(hidden)}, validate=False)


def two_layer_init(problem: FiniteSum, seed: int = 0) -> jax.Array:
    """A random start for ``two_layer_net``: W ~ N(0, 1/d), v ~ N(0, 1), flattened."""
    validation.instance("problem", problem, FiniteSum, "a FiniteSum made by two_layer_net")
    if not isinstance(problem.loss_i, TwoLayerLoss):
        raise ValueError(f"two_layer_init needs a two_layer_net problem, got {problem.name!r}")
    hidden = problem.loss_i.hidden
    d = problem.x_shape[0] // hidden - 1
    rng = np.random.default_rng(validation.integer("seed", seed, low=0, high=validation.MAX_SEED))
    theta = np.concatenate([rng.standard_normal(hidden * d) / np.sqrt(d), rng.standard_normal(hidden)])
    return jnp.asarray(theta, problem.dtype)
