"""Linear models on sparse rows: logistic regression, least squares and the hinge loss as
``FiniteSum`` problems whose data is stored as padded rows, so that LIBSVM-scale data (rcv1,
real-sim, news20) runs without densifying.

- Logistic: f_i(x) = log(1 + exp(-y_i <a_i, x>)) + mu/2 ||x||^2, y_i in {-1, +1};
  L = lambda_max(A^T A / n) / 4 + mu, L_i = ||a_i||^2 / 4 + mu.
- Least squares: f_i(x) = 1/2 (<a_i, x> - b_i)^2 + mu/2 ||x||^2;
  L = lambda_max(A^T A / n) + mu, L_i = ||a_i||^2 + mu.
- Hinge: f_i(x) = max(0, 1 - y_i <a_i, x>) + mu/2 ||x||^2, class ``"nonsmooth"``,
  G_i = ||a_i||.

Layout (padded rows, "ELL"): the data is ``(SparseRows(cols, vals, nnz), targets)`` where
``cols`` (n, k) int32 and ``vals`` (n, k) hold each row's nonzeros in its first ``nnz[i]`` slots
and k is the longest row. Padding slots hold column 0 and value 0, so a gather reads x[0] and
multiplies it by 0 and the scatter of a gradient adds 0 to it: no mask is needed. Every leaf
has the leading axis n, so ``FiniteSum`` (row blocks, batches, sharding along n, ``vmap`` over
seeds) works on it unchanged: a per-sample loss gathers only its row's k entries of x, its
gradient scatters k entries into a zero vector, and the streamed full gradient is one pass
over the stored entries (a gather for the margins, a scatter-add for A^T r).

Why this layout: one full logistic gradient on rcv1-sized random rows (n = 20,242,
d = 47,236, 74 nonzeros in every row, float64, XLA:CPU, jax 0.10) took 33 ms with padded rows,
43 ms with CSR as flat arrays (``segment_sum`` over a row-id array, then a scatter-add) and
48 ms with ``jax.experimental.sparse.BCOO`` (``B @ x`` and ``r @ B``). Measured once, on a
shared 2-core machine under load ~7, so read the ratios, not the times. Padding costs memory
where row lengths are skewed: the data takes n * k * (4 + itemsize) bytes for k the longest
row, not nnz * (4 + itemsize); the synthetic stand-ins (``problems.sparse_data``) cap row
lengths for that reason, and real files with a few very long rows pay k / mean(nnz) extra.

Where a full gradient's time goes (HLO of ``FiniteSum.grad``'s block loop, rcv1-like rows
5,060 x 11,809 padded to 298 slots, 73 nonzeros a row on average, float64, XLA:CPU, jax 0.10):
a block of 73 rows is 21,754 slots, and its loop body runs 9 kernels: copies of the block's
values and column indices, the gather of x, the margins as a batched dot, phi', the scaled
values and the scatter-add into the accumulator. Every padded slot passes through five of them,
and there are 4.1 times as many slots as nonzeros (1,507,880 against 369,375). An estimate, not
a measurement of each kernel: at the ~1.3 ns a slot of a scatter-add read in isolation (a
``fori_loop`` of one-row scatters, CPU time under load), five passes over 1.5 million slots
make ~10 ms, the GD step's time in ``results/peers`` (18x one read of the CSR arrays). What would move it: fewer slots (rows grouped by length into blocks
of their own width, or long rows split), and no copies of the block (a gather straight from
the stored rows). Neither was done here; the batch-1 steps (``sgd_bench.lazy_sgd``,
``sgd_bench.lazy_saga``) are written down in their own modules.

The per-sample loss is a ``SparseLinear`` value: a margin z = <a_i, x> computed from the
padded row and a scalar loss phi(z, target). ``sgd_bench.gradient_table`` uses that split for
the O(n) table of SAG/SAGA (``linear=True``): s_i = phi'(z_i), and sum_j w_j s_j a_j is one
scatter of the batch's entries.

The constants are computed on the host from the CSR matrix in float64: L_max exactly from the
row norms; L from the largest eigenvalue of A^T A / n by Lanczos (``scipy.sparse.linalg.eigsh``
on the operator v -> A^T (A v) / n, sparse matvecs only, relative tolerance 1e-12), or in
closed form from the d x d matrix A^T A when d <= 256 (least squares then also gets its
strong convexity lambda_min(A^T A / n) + mu, as ``problems.least_squares`` does).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from sgd_bench import FiniteSum, L2
from sgd_bench import validation
from sgd_bench.memory import check_fits
from problems.linear import check_labels, softplus

_DENSE_EIG_MAX_D = 256
_LANCZOS_VECTORS = 24  # eigsh's default ncv (20) + v0 + ARPACK's 3-vector workspace


class SparseRows(NamedTuple):
    """Padded sparse rows: row i's nonzeros are ``vals[i, :nnz[i]]`` at columns
    ``cols[i, :nnz[i]]``; the remaining slots hold column 0 and value 0."""

    cols: jax.Array
    vals: jax.Array
    nnz: jax.Array


def row_dot(x, row: SparseRows) -> jax.Array:
    """<a, x> for one padded row (reads only the row's k entries of x)."""
    # Columns are checked to lie in [0, d) on construction, so the gather needs no bounds select.
    return jnp.sum(row.vals * x.at[row.cols].get(mode="promise_in_bounds"))


def logistic_margin(z, y):
    """log(1 + exp(-y z)): the logistic loss of the margin z."""
    return softplus(-y * z)


def squared_margin(z, b):
    """1/2 (z - b)^2: the squared loss of the prediction z."""
    return 0.5 * jnp.square(z - b)


def hinge_margin(z, y):
    """max(0, 1 - y z): the hinge loss of the margin z."""
    return jnp.maximum(0.0, 1.0 - y * z)


@dataclasses.dataclass(frozen=True)
class SparseLinear:
    """The per-sample loss phi(<a_i, x>, t_i) of a linear model on padded sparse rows, for
    datum = (SparseRows row, target). A frozen dataclass, compared by ``phi``, so two problems
    with the same loss share one compiled program.

    ``margin(x, datum)`` and ``phi(z, target)`` are the two halves that the O(n) gradient table
    of SAG/SAGA uses (``sgd_bench.gradient_table``)."""

    phi: Callable[[Any, Any], jax.Array]

    def margin(self, x, datum) -> jax.Array:
        return row_dot(x, datum[0])

    def target(self, datum):
        return datum[1]

    def support(self, datum):
        """(columns, values) of the row: a_i = sum_s values[s] e_{columns[s]}; the padding
        slots add 0 to column 0. Used by the lazy SAGA update (``sgd_bench.lazy_saga``)."""
        return datum[0].cols, datum[0].vals

    def __call__(self, x, datum) -> jax.Array:
        return self.phi(row_dot(x, datum[0]), datum[1])


# The loss family -> (phi, curvature factor of L, problem class when mu = 0).
_FAMILIES = {
    "logistic": (logistic_margin, 0.25, "convex"),
    "least_squares": (squared_margin, 1.0, "convex"),
    "hinge": (hinge_margin, None, "nonsmooth"),
}


def _as_csr(name: str, X):
    """``X`` as a canonical float CSR matrix (scipy.sparse, or a dense 2-D array converted)."""
    import scipy.sparse

    if scipy.sparse.issparse(X):
        X = scipy.sparse.csr_matrix(X)  # a copy for csr input too: the checks below edit it
    else:
        arr = validation.dense_array(name, X, real=True)
        if len(arr.shape) != 2:
            raise ValueError(f"{name} must be 2-D (n, d), got shape {tuple(arr.shape)}")
        X = scipy.sparse.csr_matrix(np.asarray(arr))
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"{name} must have at least one row and one column (n >= 1, d >= 1), "
                         f"got shape {X.shape}")
    if not np.issubdtype(X.dtype, np.floating):
        X = X.astype(np.float64)
    n, d = X.shape
    if X.indices.size and (X.indices.min() < 0 or X.indices.max() >= d):
        bad = int(X.indices.max() if X.indices.max() >= d else X.indices.min())
        raise ValueError(f"{name} has a column index {bad} outside [0, d) with d = {d}; give the "
                         "right number of columns (n_features) or fix the indices")
    if not np.all(np.isfinite(X.data)):
        bad = int(X.data.size - np.count_nonzero(np.isfinite(X.data)))
        raise ValueError(f"{name} contains {bad} NaN or Inf value(s); clean the data first")
    X.sum_duplicates()
    X.eliminate_zeros()
    empty = np.flatnonzero(np.diff(X.indptr) == 0)
    if empty.size:
        shown = ", ".join(map(str, empty[:5])) + (", ..." if empty.size > 5 else "")
        raise ValueError(f"{name} has {empty.size} empty row(s) (rows {shown}): a sample without "
                         "nonzero features carries no information; drop them first, e.g. "
                         f"{name}[{name}.getnnz(axis=1) > 0] (and the same rows of the targets)")
    return X


def padded_rows(X, dtype=None) -> SparseRows:
    """The padded rows (NumPy arrays) of a canonical CSR matrix ``X``; width = longest row.

    The memory guard is asked first, with the padded size."""
    n, _ = X.shape
    counts = np.diff(X.indptr).astype(np.int64)
    width = max(int(counts.max(initial=0)), 1)
    dt = np.dtype(dtype or X.dtype)
    check_fits(n * width * (4 + dt.itemsize) + 4 * n,
               f"storing padded sparse rows ({n} rows x {width} slots, {dt.name})",
               hint="drop or split the few longest rows, use float32, or a smaller n")
    cols = np.zeros((n, width), np.int32)
    vals = np.zeros((n, width), dt)
    # Slot of every stored entry within its row: its position minus the row's start.
    row_of = np.repeat(np.arange(n), counts)
    slot = np.arange(X.indices.size) - np.repeat(X.indptr[:-1], counts)
    cols[row_of, slot] = X.indices
    vals[row_of, slot] = X.data
    return SparseRows(cols, vals, counts.astype(np.int32))


def to_csr(rows: SparseRows, d: int):
    """The CSR matrix (n, d) that ``rows`` stores (for checks and scikit-learn)."""
    import scipy.sparse

    cols, vals, nnz = (np.asarray(a) for a in rows)
    n, width = cols.shape
    keep = np.arange(width)[None, :] < nnz[:, None]
    indptr = np.concatenate([[0], np.cumsum(nnz, dtype=np.int64)])
    return scipy.sparse.csr_matrix((vals[keep], cols[keep], indptr), shape=(n, d))


def _extreme_eigs(X) -> tuple[float | None, float]:
    """(smallest or None, largest) eigenvalue of X^T X / n in float64: both from the d x d
    matrix when d is small, else the largest alone, with sparse matvecs only."""
    import scipy.sparse.linalg

    n, d = X.shape
    X = X.astype(np.float64)
    if d <= _DENSE_EIG_MAX_D:
        eigs = np.linalg.eigvalsh((X.T @ X).toarray() / n)
        return float(eigs[0]), float(eigs[-1])
    # eigsh keeps about 20 Lanczos vectors of length d (and its workspace): a LIBSVM column index of
    # 2^31 - 1 was killed by the kernel's out-of-memory killer here instead of refused
    # the default hint (smaller n, float32, shard) fits nothing here: these are d-long float64 host vectors
    check_fits(_LANCZOS_VECTORS * d * 8, f"storing the Lanczos vectors for L (about {_LANCZOS_VECTORS} of length d = {d:,}, float64)",
               hint="only d counts here: a LIBSVM file's d is its largest column index, so renumber the columns it "
                    "uses to 1..k (a column index map) or keep fewer columns; a generated problem, a smaller d")
    op = scipy.sparse.linalg.LinearOperator(
        (d, d), matvec=lambda v: X.T @ (X @ np.ravel(v)) / n, dtype=np.float64)
    # Lanczos, started from a fixed vector so the value is reproducible.
    v0 = np.random.default_rng(0).standard_normal(d)
    return None, float(scipy.sparse.linalg.eigsh(op, k=1, which="LA", tol=1e-12, v0=v0,
                                                 return_eigenvectors=False)[0])


def _row_max_sq(X) -> float:
    return float(np.max(np.asarray(X.astype(np.float64).multiply(X).sum(axis=1)).ravel()))


def sparse_linear(X, t, mu: float = 0.0, *, loss: str = "logistic", name: str | None = None,
                  constants: bool = True, validate: bool = True) -> FiniteSum:
    """A linear model on sparse rows; see the module docstring for f, L and the layout.

    **Arguments:**

    - ``X``: features, a ``scipy.sparse`` matrix (n, d) (any format; or a dense 2-D array,
      converted). No empty row, no NaN or Inf, column indices in [0, d).
    - ``t``: targets, shape (n,): labels in {-1, +1} for ``"logistic"`` and ``"hinge"``.
    - ``mu``: ridge strength >= 0.
    - ``loss``: ``"logistic"``, ``"least_squares"`` or ``"hinge"``.
    - ``name``: a label for tables and plots (default: ``"sparse-<loss>"``).
    - ``constants``: compute L and L_max (G_max for the hinge) into ``problem.info``.
    - ``validate``: check the labels.

    The data keeps X's floating dtype (float64 input is cast to float32, with a warning, when
    ``jax_enable_x64`` is off).
    """
    loss = validation.choice("loss", str(loss).replace("-", "_"), tuple(_FAMILIES))
    mu = validation.nonnegative_float("mu", mu)
    # "no" is truthy: validate="no" checked the labels, silently (FiniteSum is built with validate=False)
    validate = validation.boolean("validate", validate)
    constants = validation.boolean("constants", constants)
    X = _as_csr("X", X)
    tname = "b" if loss == "least_squares" else "y"
    t = validation.dense_array(tname, t, real=True)
    if len(t.shape) != 1 or t.shape[0] != X.shape[0]:
        raise ValueError(f"{tname} must be a 1-D array of length n = {X.shape[0]} (one target per "
                         f"row of X), got shape {tuple(t.shape)}")
    validation.finite_array(tname, t)
    if validate and loss != "least_squares":
        check_labels(t)
    phi, factor, cls = _FAMILIES[loss]
    n, d = X.shape
    info = {"mu": mu}
    if constants:
        row_max = _row_max_sq(X)
        if factor is None:
            info["G_max"] = float(np.sqrt(row_max))
        else:
            low, high = _extreme_eigs(X)
            info["L"] = factor * high + mu
            info["L_max"] = factor * row_max + mu
            if loss == "least_squares" and low is not None and low + mu > 1e-10 * info["L"]:
                # As problems.least_squares: the data's own strong convexity, when known.
                info["mu"] = low + mu
                cls = "strongly_convex"
    if mu > 0 and cls == "convex":
        cls = "strongly_convex"
    rows = padded_rows(X)
    t = np.asarray(t).astype(rows.vals.dtype)
    # The data was checked above: FiniteSum's own finiteness pass would only repeat it.
    return FiniteSum(SparseLinear(phi), (rows, t), regularizer=L2(mu) if mu > 0 else None,
                     name=name or f"sparse-{loss.replace('_', '-')}", problem_class=cls,
                     x_shape=(d,), info=info, validate=False)


def sparse_logistic_regression(X, y, mu: float = 0.0, **kwargs) -> FiniteSum:
    """Logistic regression on sparse rows (``sparse_linear(X, y, mu, loss="logistic")``)."""
    return sparse_linear(X, y, mu, loss="logistic", **kwargs)


def sparse_least_squares(X, b, mu: float = 0.0, **kwargs) -> FiniteSum:
    """Least squares on sparse rows (``sparse_linear(X, b, mu, loss="least_squares")``)."""
    return sparse_linear(X, b, mu, loss="least_squares", **kwargs)


def sparse_hinge_svm(X, y, mu: float = 0.0, **kwargs) -> FiniteSum:
    """The hinge-loss SVM on sparse rows (``sparse_linear(X, y, mu, loss="hinge")``)."""
    return sparse_linear(X, y, mu, loss="hinge", **kwargs)


def is_sparse(problem) -> bool:
    """Whether ``problem`` is a linear model on padded sparse rows (built here)."""
    return isinstance(problem.loss_i, SparseLinear)


def csr_of(problem):
    """The features of a sparse problem as a SciPy CSR matrix (host copy)."""
    if not is_sparse(problem):
        raise TypeError(f"problem {problem.name!r} does not hold sparse rows")
    return to_csr(problem.data[0], problem.x_shape[0])
