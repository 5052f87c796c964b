"""momentum_stochastic's methods of the stochastic regime: SGD, heavy ball, Nesterov and Adam at
SGD's effective step, and on least squares preconditioned SGD and stochastic L-BFGS, each with a
constant and a decreasing step."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import optax

import sgd_bench as sb

METHODS = ("SGD", "heavy ball", "Nesterov", "Adam")  # the stochastic regime's, on every problem
QN_METHODS = ("preconditioned SGD", "stochastic L-BFGS")  # on least squares only
SQN_LARGE_C = "stochastic L-BFGS, large c"  # the same with c = config["sqn_c_large"]
SQN = dict(memory_size=10, update_every=10, hessian_batch=64)
NEVER = 1e300               # inverse_time(a, NEVER) is the constant step a, in SGD's program


def stochastic_methods(problem, ref, g_rms: float, labels, config: dict):
    """The methods of ``labels`` on ``problem``: ``{label: (constant-step method,
    decreasing-step method, its k0, its step in words)}``; the quasi-Newton data (``{}`` when no
    quasi-Newton method runs); and SGD's steps (``alpha``, ``c``, ``k0``, ``lr_adam``)."""
    beta = config["beta"]
    mu, l_max = problem.info["mu"], problem.info["L_max"]
    alpha = 1.0 / (2.0 * l_max)      # SGD's step; alpha L_max = 1/2
    c = 1.0 / mu                     # alpha_k = c/(k + k0): c mu = 1 > 1/2 gives O(1/k)
    k0 = c / alpha                   # so that alpha_0 = alpha
    lr_adam = alpha * g_rms
    dec = sb.schedules.inverse_time(alpha, k0)          # = c / (k + k0)
    scaled = lambda s, f: (lambda k: f * s(k))
    # label -> (constant-step method, decreasing-step method, its k0, its step in words).
    # SGD and the quasi-Newton methods write the constant step as inverse_time(a, NEVER),
    # alpha_k = a exactly in float64, so that both regimes run one compiled program.
    entries = {
        "SGD": (sb.sgd(sb.schedules.inverse_time(alpha, NEVER)), sb.sgd(dec), k0, f"{alpha:.3g}"),
        "heavy ball": (
            sb.from_optax(optax.sgd((1 - beta) * alpha, momentum=beta), 1, name="heavy ball"),
            sb.from_optax(optax.sgd(scaled(dec, 1 - beta), momentum=beta), 1, name="heavy ball"),
            k0, f"{(1 - beta) * alpha:.3g}, beta {beta}"),
        "Nesterov": (
            sb.from_optax(optax.sgd((1 - beta) * alpha, momentum=beta, nesterov=True), 1,
                          name="Nesterov"),
            sb.from_optax(optax.sgd(scaled(dec, 1 - beta), momentum=beta, nesterov=True), 1,
                          name="Nesterov"),
            k0, f"{(1 - beta) * alpha:.3g}, beta {beta}"),
        "Adam": (sb.from_optax(optax.adam(lr_adam), 1, name="Adam"),
                 sb.from_optax(optax.adam(scaled(dec, lr_adam / alpha)), 1, name="Adam"),
                 k0, f"lr {lr_adam:.3g}"),
    }
    qn = {}
    if any(m in QN_METHODS + (SQN_LARGE_C,) for m in labels):
        # Least squares: the per-sample Hessian is a_i a_i^T, so preconditioned SGD's
        # smoothness constant is max_i a_i^T P a_i and its safe step 1/(2 max_i a_i^T P a_i).
        A, b_vec = (np.asarray(v, np.float64) for v in problem.data)
        P = np.asarray(sb.inverse_hessian(problem, jnp.asarray(ref.x)))
        l_p = float(np.max(np.einsum("ij,jk,ik->i", A, P, A)))
        alpha_p = 1.0 / (2.0 * l_p)
        c_p, c_q = 1.0, float(config["sqn_c"])   # c_p lambda(P H) = 1 > 1/2
        k0_p, k0_q = c_p / alpha_p, c_q / alpha_p
        entries["preconditioned SGD"] = (
            sb.preconditioned_sgd(sb.schedules.inverse_time(alpha_p, NEVER), P),
            sb.preconditioned_sgd(sb.schedules.inverse_time(alpha_p, k0_p), P),
            k0_p, f"{alpha_p:.3g}, P = H^-1, c = {c_p:g}")
        entries["stochastic L-BFGS"] = (
            sb.stochastic_lbfgs(sb.schedules.inverse_time(alpha_p, NEVER), **SQN),
            sb.stochastic_lbfgs(sb.schedules.inverse_time(alpha_p, k0_q), **SQN),
            k0_q, f"{alpha_p:.3g}, c = {c_q:g}, M {SQN['memory_size']}, "
                  f"L {SQN['update_every']}, b_H {SQN['hessian_batch']}")
        if config.get("sqn_c_large"):   # a c large enough for c lambda_min(H_t H) > 1/2
            c_l = float(config["sqn_c_large"])
            entries[SQN_LARGE_C] = (
                entries["stochastic L-BFGS"][0],
                sb.stochastic_lbfgs(sb.schedules.inverse_time(alpha_p, c_l / alpha_p), **SQN),
                c_l / alpha_p, f"{alpha_p:.3g}, c = {c_l:g}, as above")
        qn = dict(A=A, r=A @ np.asarray(ref.x) - b_vec, P=P, alpha_p=alpha_p, l_p=l_p,
                  c={"SGD": c, "preconditioned SGD": c_p}, alpha={"SGD": alpha,
                                                                  "preconditioned SGD": alpha_p})
    return entries, qn, dict(alpha=alpha, lr_adam=lr_adam, c=c, k0=k0)
