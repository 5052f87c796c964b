"""Linear-model finite sums: logistic regression and least squares, each with a ridge term.

- Logistic: f_i(x) = log(1 + exp(-y_i <a_i, x>)) + mu/2 ||x||^2, labels y_i in {-1, +1}.
  L = lambda_max(A^T A / n) / 4 + mu, L_i = ||a_i||^2 / 4 + mu; strongly convex with mu if
  mu > 0, convex otherwise (x* exists when the data is not separable).
- Least squares: f_i(x) = 1/2 (<a_i, x> - b_i)^2 + mu/2 ||x||^2.
  L = lambda_max(A^T A / n) + mu, strong convexity lambda_min(A^T A / n) + mu,
  x* = (A^T A / n + mu I)^{-1} A^T b / n.

The constants are computed in closed form (a d x d eigendecomposition) when the data is small
enough (n d <= 2e7 and d <= 4096) and stored in ``problem.info``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from sgd_bench import FiniteSum, L2
from sgd_bench.validation import warn_if_downcast
from sgd_bench import validation

_CLOSED_FORM_MAX_ND = 2 * 10**7
_CLOSED_FORM_MAX_D = 4096


@jax.custom_jvp
def softplus(t):
    """log(1 + exp(t)), stable for large |t|, with the hand-given derivative sigmoid(t).

    The custom JVP keeps autodiff for everything around it and avoids the slow derivative
    of ``logaddexp`` on XLA:CPU.
    """
    return jnp.maximum(t, 0.0) + jnp.log1p(jnp.exp(-jnp.abs(t)))


@softplus.defjvp
def _softplus_jvp(primals, tangents):
    (t,), (dt,) = primals, tangents
    return softplus(t), jax.nn.sigmoid(t) * dt


def dense_margin(x, datum):
    """<a, x> for datum = (a, target): the margin of a dense linear model."""
    return jnp.dot(datum[0], x)


def dense_target(datum):
    """The target (label or value) of datum = (a, target)."""
    return datum[1]


def logistic_phi(z, y):
    """log(1 + exp(-y z)): the logistic loss of the margin z."""
    return softplus(-y * z)


def squared_phi(z, b):
    """1/2 (z - b)^2: the squared loss of the prediction z."""
    return 0.5 * jnp.square(z - b)


def _split(loss, phi):
    # The margin / target / phi halves let the O(n) gradient table of SAG and SAGA
    # (sgd_bench.gradient_table) take s_i = phi'(<a_i, x>) with one dot product: through the
    # loss alone it needs a second one, ||a_i||^2, which was ~30% of a batch-1 SAGA step.
    loss.margin, loss.target, loss.phi = dense_margin, dense_target, phi
    return loss


def logistic_loss(x, datum):
    """The per-sample logistic loss log(1 + exp(-y <a, x>)) for datum = (a, y)."""
    return logistic_phi(dense_margin(x, datum), dense_target(datum))


def squared_loss(x, datum):
    """The per-sample squared loss 1/2 (<a, x> - b)^2 for datum = (a, b)."""
    return squared_phi(dense_margin(x, datum), dense_target(datum))


_split(logistic_loss, logistic_phi)
_split(squared_loss, squared_phi)


def _shown(v) -> str:
    """A label as typed: ``:g`` read 1.0000001 as "1", a valid label, in the refusal of it."""
    text = f"{v:g}"
    if float(text) != float(v):
        text = np.format_float_positional(v if isinstance(v, np.floating) else float(v), unique=True, trim="-")
    return text


def check_labels(y) -> None:
    """Raises ValueError unless every label is -1 or +1 (host check; {0, 1} gets a hint)."""
    values = np.unique(np.asarray(y))
    if not np.all(np.isin(values, (-1.0, 1.0))):
        shown = ", ".join(_shown(v) for v in values[:6]) + (", ..." if len(values) > 6 else "")
        hint = " (for 0/1 labels use y = 2*y - 1)" if set(values) <= {0.0, 1.0} else ""
        raise ValueError(f"labels y must be in {{-1, +1}}, got values {{{shown}}}{hint}")


def check_design(name_a, A, name_b, b, *, labels: bool = False, gram: bool = False):
    """(A, b) as JAX arrays of one floating dtype, after checking that A is a finite n x d
    matrix and b a finite n-vector (with ``labels``, in {-1, +1}; with ``gram``, small enough
    that A^T A, which gives L, stays finite); errors name the arguments."""
    # Sparse matrices, strings and complex numbers are refused by name, and every check runs on
    # the arrays as given, before anything is transferred to a device or compiled.
    traced = [name for name, value in ((name_a, A), (name_b, b)) if isinstance(value, jax.core.Tracer)]
    if traced or isinstance(jnp.zeros(()), jax.core.Tracer):  # under grad / jit: JAX's TracerArrayConversionError
        what = f"{traced[0]} is traced (inside jit / vmap / grad)" if traced else "this runs inside a jax.jit"
        raise TypeError(f"{what}, but the problem's checks and closed-form constants (L from A^T A) run on the "
                        "host: build it outside, or inside use problem.replace(data=..., info=...) or "
                        "FiniteSum(loss_i, data)")
    A = validation.dense_array(name_a, A, real=True)
    b = validation.dense_array(name_b, b, real=True)
    if len(A.shape) != 2:
        raise ValueError(f"{name_a} must be a 2-D array (n, d), got shape {tuple(A.shape)}")
    if A.shape[0] < 1 or A.shape[1] < 1:
        raise ValueError(f"{name_a} must have at least one row and one column (n >= 1, d >= 1), "
                         f"got shape {tuple(A.shape)}")
    if len(b.shape) != 1:
        raise ValueError(f"{name_b} must be a 1-D array (n,), got shape {tuple(b.shape)}")
    if b.shape[0] != A.shape[0]:
        raise ValueError(f"{name_a} and {name_b} must have the same length n; got "
                         f"{A.shape[0]} rows in {name_a} and {b.shape[0]} entries in {name_b}")
    validation.finite_array(name_a, A)
    validation.finite_array(name_b, b)
    if labels:
        check_labels(b)
    warn_if_downcast([(name_a, A), (name_b, b)])
    A = jnp.asarray(A)
    if not jnp.issubdtype(A.dtype, jnp.floating):
        A = A.astype(jnp.result_type(float))
    if gram:  # on the array _closed_form will see (after any cast)
        _check_gram(name_a, A)
    return A, jnp.asarray(b).astype(A.dtype)


def _check_gram(name_a, A) -> None:
    """Refuses, by the caller's name, data whose A^T A / n (computed by ``_closed_form``) or row
    norms overflow float64. Column and row sums of squares suffice: by Cauchy-Schwarz every
    entry of A^T A, and every partial sum of one, is at most the larger of two column sums."""
    if _closed_form_size(A):
        a64 = np.asarray(A, dtype=np.float64)
        with np.errstate(over="ignore", invalid="ignore"):
            sums = (np.einsum("ij,ij->j", a64, a64), np.einsum("ij,ij->i", a64, a64))
        if not all(np.isfinite(s).all() for s in sums):  # was NumPy's "Eigenvalues did not converge"
            raise ValueError(f"{name_a}'s entries reach {np.max(np.abs(a64)):.3g}: {name_a}^T {name_a} / n, which "
                             "gives L, overflows float64 (beyond 1.8e308); rescale the features")


def _closed_form_size(A) -> bool:
    n, d = A.shape
    return n * d <= _CLOSED_FORM_MAX_ND and d <= _CLOSED_FORM_MAX_D


def _closed_form(A) -> tuple[np.ndarray, float] | None:
    """Eigenvalues of A^T A / n and max_i ||a_i||^2 in float64, when the data is small enough
    (``check_design(..., gram=True)`` has checked that they are finite)."""
    if not _closed_form_size(A):
        return None
    a64 = np.asarray(A, dtype=np.float64)
    gram, rows = a64.T @ a64 / A.shape[0], np.einsum("ij,ij->i", a64, a64)
    return np.linalg.eigvalsh(gram), float(np.max(rows))


def _build(loss, A, b, mu, name, problem_class, info, validate):
    return FiniteSum(loss, (A, b), regularizer=L2(mu) if mu > 0 else None, name=name,
                     problem_class=problem_class, x_shape=(A.shape[1],), info=info,
                     validate=validate)


def logistic_regression(A, y, mu: float = 0.0, *, name: str = "logistic",
                        validate: bool = True) -> FiniteSum:
    """Logistic regression f_i(x) = log(1 + exp(-y_i <a_i, x>)) + mu/2 ||x||^2.

    **Arguments:**

    - ``A``: features, shape (n, d).
    - ``y``: labels in {-1, +1}, shape (n,). Labels in {0, 1} are refused, never remapped.
    - ``mu``: ridge strength >= 0.
    - ``name``: a label for tables and plots.
    - ``validate``: check labels and finiteness on the host (skip only for data made here).
    """
    mu = validation.nonnegative_float("mu", mu)
    validate = validation.boolean("validate", validate)  # "no" checked the labels, then FiniteSum refused it
    A, y = check_design("A", A, "y", y, labels=validate, gram=True)
    info = {"mu": mu}
    closed = _closed_form(A)
    if closed is not None:
        eigs, row_max = closed
        info["L"] = float(eigs[-1]) / 4 + mu
        info["L_max"] = row_max / 4 + mu
    cls = "strongly_convex" if mu > 0 else "convex"
    return _build(logistic_loss, A, y, mu, name, cls, info, validate)


def least_squares(A, b, mu: float = 0.0, *, name: str = "least-squares",
                  validate: bool = True) -> FiniteSum:
    """Least squares f_i(x) = 1/2 (<a_i, x> - b_i)^2 + mu/2 ||x||^2.

    **Arguments:**

    - ``A``: design, shape (n, d).
    - ``b``: targets, shape (n,).
    - ``mu``: ridge strength >= 0.
    - ``name``: a label for tables and plots.
    - ``validate``: check finiteness on the host.
    """
    mu = validation.nonnegative_float("mu", mu)
    A, b = check_design("A", A, "b", b, gram=True)
    info = {"mu": mu}
    closed = _closed_form(A)
    cls = "strongly_convex" if mu > 0 else "convex"
    if closed is not None:
        eigs, row_max = closed
        info["L"] = float(eigs[-1]) + mu
        info["L_max"] = row_max + mu
        strong = float(eigs[0]) + mu
        if strong > 1e-10 * info["L"]:
            info["mu"] = strong
            cls = "strongly_convex"
    return _build(squared_loss, A, b, mu, name, cls, info, validate)
