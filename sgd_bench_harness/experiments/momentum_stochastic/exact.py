"""momentum_stochastic's exact expectations on least squares: E[f(x_k) - f*] of batch-1
preconditioned SGD from the recursion of the iterates' first and second moments, and the
Lyapunov limit of (k + k0) E[f - f*] under a decreasing step."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from sgd_bench_harness.toolkit import jackknife_slope


def second_moments(A, r, P, x0_err, steps):
    """Exact E[f(x_k) - f*] of batch-1 preconditioned SGD x <- x - a_k P a_i (a_i^T x - b_i), i
    uniform with replacement, on least squares (no ridge), for k = 0..len(steps).

    With e = x - x*, r_i = a_i^T x* - b_i (so sum_i r_i a_i = 0) and the moments m = E e,
    V = E e e^T, one step gives exactly
      m' = m - a P H m,
      V' = V - a (P H V + V H P) + a^2 P [(1/n) sum_i (a_i^T V a_i + 2 r_i a_i^T m + r_i^2) a_i a_i^T] P,
    and E[f - f*] = tr(H V)/2. The sum over i is a (d^2 x d^2) matrix on vec V, precomputed."""
    A, r, P = (np.asarray(v, np.float64) for v in (A, r, P))
    n, d = A.shape
    H = A.T @ A / n
    outer = np.einsum("ni,nj->nij", A, A).reshape(n, d * d)
    S4 = outer.T @ outer / n
    T3 = (outer * r[:, None]).T @ A / n
    sig = (outer * (r**2)[:, None]).sum(axis=0) / n
    e0 = np.asarray(x0_err, np.float64)
    gaps, last = _moment_scan(*(jnp.asarray(v) for v in (S4, T3, sig, P @ H, P, H, e0,
                                                         np.asarray(steps, np.float64))))
    return np.append(np.asarray(gaps), float(last))


@jax.jit
def _moment_scan(S4, T3, sig, PH, P, H, e0, steps):
    """The recursion of ``second_moments`` over the step sizes ``steps`` (one compiled program
    per shape): the expected gap before each step, and after the last."""
    d = e0.shape[0]

    def step(carry, a):
        V, m = carry
        W = (S4 @ V.reshape(-1) + 2.0 * T3 @ m + sig).reshape(d, d)
        V_next = V - a * (PH @ V + V @ PH.T) + a * a * (P @ W @ P)
        return (V_next, m - a * (PH @ m)), jnp.trace(H @ V) / 2

    (V, _), gaps = lax.scan(step, (jnp.outer(e0, e0), e0), steps)
    return gaps, jnp.trace(H @ V) / 2


def lyapunov_constant(A, r, P, c):
    """lim (k + k0) E[f - f*] for alpha_k = c/(k + k0): tr(H W)/2 with W solving
    (c P H - I/2) W + W (c H P - I/2) = c^2 P Sigma P, Sigma = (1/n) sum_i r_i^2 a_i a_i^T
    (the noise covariance at x*; the multiplicative noise is of higher order in 1/k)."""
    n, d = A.shape
    H = A.T @ A / n
    sigma = (A * (r**2)[:, None]).T @ A / n
    M = c * P @ H - np.eye(d) / 2
    lhs = np.kron(M, np.eye(d)) + np.kron(np.eye(d), M)   # row-major vec of M W + W M^T
    W = np.linalg.solve(lhs, (c * c * P @ sigma @ P).reshape(-1)).reshape(d, d)
    return float(np.trace(H @ W) / 2)


def expectations(qn, stoch, name, labels, entries, spec, measured, x_star):
    """For SGD and preconditioned SGD (those of ``labels``): the measured plateau and end gap
    against their exact expectations over the same logged k, the exact curve's slope and the
    Lyapunov constant."""
    exact = {}
    for label in ("SGD", "preconditioned SGD"):
        if label not in labels:
            continue
        P_m = np.eye(np.shape(x_star)[0]) if label == "SGD" else qn["P"]
        a, c_m, k0_m = qn["alpha"][label], qn["c"][label], entries[label][2]
        e0 = -np.asarray(x_star)
        out_m = {}
        for regime, n_steps in (("constant", spec["const_steps"]), ("decreasing", spec["dec_steps"])):
            ks = np.arange(n_steps)
            sizes = np.full(n_steps, a) if regime == "constant" else a / (1.0 + ks / k0_m)
            expected = second_moments(qn["A"], qn["r"], P_m, e0, sizes)
            k_r, gap_r, _ = stoch[name, regime, label]
            idx = k_r.astype(int)
            if regime == "constant":
                pred = float(expected[idx][k_r >= k_r[-1] / 2].mean())
                meas, se = measured[label]["plateau"], measured[label]["plateau_se"]
            else:
                pred = float(expected[idx][(k_r >= k_r[-1] / 10) & (k_r > 0)].mean())
                meas, se = measured[label]["end_gap"], measured[label]["end_gap_se"]
            out_m[regime] = dict(measured=meas, se=se, exact=pred,
                                 z=(meas - pred) / se)
            if regime == "decreasing":   # the slope of the exact curve, same window
                out_m["exact_slope"] = jackknife_slope(
                    k_r, expected[idx][None, :].repeat(2, axis=0), k0=k0_m)[0]
        out_m["asymptotic_k_gap"] = lyapunov_constant(qn["A"], qn["r"], P_m, c_m)
        exact[label] = out_m
    return exact

