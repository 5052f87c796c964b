"""Synthetic sparse classification data with the statistics of the LIBSVM sets that SGD and
variance-reduction papers use, for runs where the real files cannot be downloaded.

Presets (n, d and the mean nonzeros per row of the real sets; the labels are synthetic):

| preset | n | d | nonzeros (n x mean row length) |
|---|---|---|---|
| ``rcv1`` | 20,242 | 47,236 | ~1.50 M (74.3 per row) |
| ``real-sim`` | 72,309 | 20,958 | ~3.71 M (51.3 per row) |
| ``news20`` | 19,996 | 1,355,191 | ~9.10 M (455 per row) |

What is matched and how:

- Row lengths: 1 + Poisson(G), G ~ Gamma(2, (mean - 1) / 2), so no row is empty, the mean is
  the preset's and lengths spread (coefficient of variation ~0.7), capped at ``max_row =
  4 x mean`` (the padded layout of ``problems.sparse`` stores every row at the longest row's
  width; the real sets have a few much longer rows, which this does not copy). The cap trims
  the mean by a few percent.
- Columns: drawn with probability proportional to 1 / (rank + 1)^``alpha`` (a Zipf-like power
  law; ``alpha`` = 1.1 by default, as word frequencies roughly follow), with the ranks
  scattered over the columns by a fixed permutation. A row takes the first distinct columns of
  2 x ``max_row`` draws, so repeats of frequent columns do not shorten it (a row runs short
  only if the draws hold too few distinct columns).
- Values: positive (term-frequency-like, |N(0, 1)| + 0.1), each row scaled to unit norm, as
  rcv1, real-sim and news20 are distributed (so L_max = 1/4 for the logistic loss).
- Labels: y = sign(<a_i, w> - median + noise) for a fixed Gaussian w (the median of the
  margins of each block of rows, so the classes are balanced), with ``flip`` of them flipped,
  so the classes overlap and the unregularized problem has a minimizer.

Generation runs in blocks of rows on the device (``jax.random``), with the columns drawn by
inverse-CDF sampling from the power law, so host memory holds the result and one block; the
padded result's size is checked by the memory guard (``sgd_bench.memory``) before anything is
drawn. The row lengths (n integers) are drawn on the host with NumPy, and every block has the
same shape, with the power-law exponent and the flip rate as traced values, so one data set
compiles one block program (a few seconds on a 2-core CPU) and data sets of nearby sizes share
it. The same (preset, seed) always gives the same data.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from sgd_bench import validation
from sgd_bench.memory import check_host_fits


class SparseStats(NamedTuple):
    """The shape of a sparse data set: n rows, d columns, mean nonzeros per row."""

    n: int
    d: int
    row_nnz: float


PRESETS = {
    "rcv1": SparseStats(20_242, 47_236, 74.3),
    "real-sim": SparseStats(72_309, 20_958, 51.3),
    "news20": SparseStats(19_996, 1_355_191, 455.1),
}

_BLOCK_ROWS = 4096


def _preset(name: str) -> SparseStats:
    key = str(name).strip().lower().replace("_", "-")
    if key not in PRESETS:
        raise ValueError(f"unknown sparse preset {name!r}; known presets: {', '.join(PRESETS)}")
    return PRESETS[key]


def _row_lengths(seed: int, n: int, mean: float, width: int) -> np.ndarray:
    """Row lengths 1 + Poisson(G), G ~ Gamma(2, (mean - 1) / 2), capped at ``width``: a negative
    binomial with mean ``mean`` and coefficient of variation about 0.7.

    Drawn on the host with NumPy: n small integers are cheap there, while JAX's gamma and
    Poisson samplers cost about 4 s of XLA compilation per block shape on a 2-core CPU, more
    than drawing every column of a full-size preset."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x5BA25E]))
    rate = rng.gamma(2.0, (mean - 1.0) / 2.0, n)
    return np.minimum(1 + rng.poisson(rate), width).astype(np.int32)


def _block(key, length, valid, alpha, flip, perm, w, *, width: int):
    """One block of ``length.shape[0]`` rows, of which the first ``valid`` are kept (the last
    block is padded to the block's size, so that every block reuses one compiled program):
    (cols (rows, width) int32, vals (rows, width), nnz (rows,), y (rows,))."""
    rows = length.shape[0]
    d = perm.shape[0]
    dtype = w.dtype
    k_col, k_val, k_noise, k_flip = jax.random.split(key, 4)
    # Twice as many candidate columns as slots: frequent columns repeat within a row, and a
    # repeat is skipped, so the row is filled from the later candidates.
    draws = 2 * width
    # Inverse CDF of the continuous power law p(r) ~ (r + 1)^-alpha on [0, d): a rank per draw.
    # alpha = 1 is the log limit of the general formula; both branches are computed (alpha is
    # a traced value, so that a new alpha does not compile again) and the other discarded.
    u = jax.random.uniform(k_col, (rows, draws), dtype)
    near_one = jnp.abs(alpha - 1.0) < 1e-12
    expo = jnp.where(near_one, 0.5, 1.0 - alpha)
    top = (d + 1.0) ** expo
    general = (1.0 + u * (top - 1.0)) ** (1.0 / expo) - 1.0
    rank = jnp.where(near_one, jnp.expm1(u * math.log1p(d)), general)
    rank = jnp.clip(jnp.floor(rank).astype(jnp.int32), 0, d - 1)
    cand = perm[rank]
    # First occurrence of each column in draw order: sort, mark the first of each run, and
    # write the marks back to the draw positions.
    order = jnp.argsort(cand, axis=1, stable=True)
    ordered = jnp.take_along_axis(cand, order, axis=1)
    first_sorted = jnp.concatenate(
        [jnp.ones((rows, 1), bool), ordered[:, 1:] != ordered[:, :-1]], axis=1)
    first = jnp.zeros((rows, draws), bool).at[jnp.arange(rows)[:, None], order].set(first_sorted)
    keep = first & (jnp.cumsum(first, axis=1) <= length[:, None])
    # Pack the kept candidates to the front of the row, then cut to the width.
    pack = jnp.argsort(~keep, axis=1, stable=True)[:, :width]
    cols = jnp.take_along_axis(jnp.where(keep, cand, 0), pack, axis=1)
    keep = jnp.take_along_axis(keep, pack, axis=1)
    vals = jnp.abs(jax.random.normal(k_val, (rows, width), dtype)) + 0.1
    vals = jnp.where(keep, vals, 0)
    vals = vals / jnp.sqrt(jnp.sum(vals * vals, axis=1, keepdims=True))
    margin = jnp.sum(vals * w[cols], axis=1)
    # Centered at the median margin of the block's kept rows: with positive values the raw
    # margins lean to the sign of the frequent columns' weights, and the classes would be
    # unbalanced.
    kept = jnp.where(jnp.arange(rows) < valid, margin, jnp.nan)
    margin = margin - jnp.nanmedian(kept) + 0.1 * jnp.nanstd(kept) * jax.random.normal(
        k_noise, (rows,), dtype)
    y = jnp.where(margin >= 0, 1.0, -1.0)
    y = jnp.where(jax.random.uniform(k_flip, (rows,)) < flip, -y, y).astype(dtype)
    return cols.astype(jnp.int32), vals, jnp.sum(keep, axis=1).astype(jnp.int32), y


_block_jit = jax.jit(_block, static_argnames=("width",))


def _block_rows(n: int) -> int:
    """Rows per block: ``_BLOCK_ROWS``, or for smaller n the next power of two (at least 64), so
    that data sets of nearby sizes share one compiled block."""
    return min(_BLOCK_ROWS, max(64, 1 << (n - 1).bit_length()))


def sparse_classification(n: int, d: int, row_nnz: float, *, seed: int = 0, alpha: float = 1.1,
                          flip: float = 0.05, max_row: int | None = None, dtype=None):
    """Synthetic sparse rows and labels: ``(X, y)`` with X a SciPy CSR matrix (n, d) and y in
    {-1, +1}; see the module docstring for what is matched.

    **Arguments:**

    - ``n``, ``d``: rows and columns.
    - ``row_nnz``: mean nonzeros per row, in [1, d].
    - ``seed``: the data's seed.
    - ``alpha``: the power-law exponent of the column frequencies, >= 0 (0: uniform).
    - ``flip``: the share of labels flipped, in [0, 0.5).
    - ``max_row``: the longest row (default: 4 x ``row_nnz``, at most d).
    - ``dtype``: float32 or float64 (default: JAX's default float).
    """
    import scipy.sparse

    n = validation.integer("n", n, low=1)
    d = validation.integer("d", d, low=1)
    row_nnz = validation.positive_float("row_nnz", row_nnz)
    if not 1.0 <= row_nnz <= d:
        raise ValueError(f"row_nnz must be in [1, d] = [1, {d}], got {row_nnz:g}")
    seed = validation.jax_seed("seed", seed)  # jax.random.key: 32 bits with x64 off
    alpha = validation.nonnegative_float("alpha", alpha)
    flip = validation.nonnegative_float("flip", flip)
    if flip >= 0.5:
        raise ValueError(f"flip must be in [0, 0.5), got {flip:g}")
    width = (min(d, max(1, math.ceil(4 * row_nnz))) if max_row is None
             else validation.integer("max_row", max_row, low=1, high=d))
    dt = validation.requested_dtype("dtype", dtype)
    # Host: the CSR result (values, int32 columns) plus the padded block being packed; device:
    # one block of padded rows and its sort temporaries.
    nnz_bound = n * min(width, row_nnz * 1.2 + 8)
    block = _block_rows(n)
    # device: also the column permutation of d (an int64 iota and its sort, ~32 bytes a column) and
    # the d weights: d = 2^31 - 1 passed the check, then allocated 16 GiB at once
    check_host_fits(int(nnz_bound * (dt.itemsize + 4) + 16 * n + block * width * 24),
                    int(block * width * 48 + d * (32 + dt.itemsize)),
                    f"sparse data with n={n}, d={d}, {row_nnz:g} nonzeros per row ({dt.name})")
    key = jax.random.key(seed)
    k_perm, k_w, k_rows = jax.random.split(key, 3)
    perm = jax.random.permutation(k_perm, d).astype(jnp.int32)
    w = jax.random.normal(k_w, (d,), dt)
    lengths = _row_lengths(seed, n, float(row_nnz), width)
    parts = []
    for start in range(0, n, block):
        rows = min(block, n - start)
        length = np.ones(block, np.int32)
        length[:rows] = lengths[start:start + rows]
        cols, vals, nnz, y = _block_jit(jax.random.fold_in(k_rows, start), length, rows,
                                        jnp.asarray(alpha, dt), jnp.asarray(flip, dt), perm, w,
                                        width=width)
        cols, vals = np.asarray(cols)[:rows], np.asarray(vals)[:rows]
        nnz, y = np.asarray(nnz)[:rows], np.asarray(y)[:rows]
        keep = np.arange(width)[None, :] < nnz[:, None]
        parts.append((cols[keep], vals[keep], nnz, y))
    indices = np.concatenate([p[0] for p in parts])
    data = np.concatenate([p[1] for p in parts])
    counts = np.concatenate([p[2] for p in parts]).astype(np.int64)
    y = np.concatenate([p[3] for p in parts])
    indptr = np.concatenate([[0], np.cumsum(counts)])
    X = scipy.sparse.csr_matrix((data, indices, indptr), shape=(n, d))
    X.sort_indices()
    return X, y


def preset_data(name: str, *, seed: int = 0, scale: float = 1.0, dtype=None):
    """The synthetic stand-in for ``name`` (``"rcv1"``, ``"real-sim"``, ``"news20"``) as
    ``(X, y)``; ``scale`` < 1 keeps the mean row length and shrinks n and d by that factor."""
    stats = _preset(name)
    scale = validation.positive_float("scale", scale)
    if scale > 1:
        raise ValueError(f"scale must be in (0, 1], got {scale:g}")
    n = max(2, round(stats.n * scale))
    d = max(2, round(stats.d * scale))
    return sparse_classification(n, d, min(stats.row_nnz, d), seed=seed, dtype=dtype)


def sparse_logreg(n: int = 20_242, d: int = 47_236, density: float | None = None,
                  row_nnz: float | None = None, mu: float = 0.0, seed: int = 0,
                  alpha: float = 1.1, constants: bool = True, dtype=None):
    """Logistic regression on synthetic sparse data (``sparse_classification``) as a sparse
    ``FiniteSum``. Give the sparsity as ``density`` (nonzeros / (n d)) or ``row_nnz`` (mean
    nonzeros per row), not both; default: rcv1's 74.3 per row."""
    from problems.sparse import sparse_logistic_regression

    if density is not None and row_nnz is not None:
        raise ValueError("give density or row_nnz, not both")
    d_ = validation.integer("d", d, low=1)
    if density is not None:
        density = validation.positive_float("density", density)
        if density > 1:
            raise ValueError(f"density must be in (0, 1], got {density:g}")
        row_nnz = max(1.0, density * d_)
    # An explicit row_nnz above d is refused by sparse_classification, not clamped.
    X, y = sparse_classification(n, d, min(74.3, d_) if row_nnz is None else row_nnz, seed=seed,
                                 alpha=alpha, dtype=dtype)
    return sparse_logistic_regression(X, y, mu, name="sparse-logreg", constants=constants)


def sparse_preset_logreg(preset: str = "rcv1", *, mu: float = 0.0, seed: int = 0,
                         scale: float = 1.0, constants: bool = True, dtype=None):
    """Logistic regression on the synthetic stand-in for ``preset`` (see ``preset_data``)."""
    from problems.sparse import sparse_logistic_regression

    _preset(preset)
    X, y = preset_data(preset, seed=seed, scale=scale, dtype=dtype)
    return sparse_logistic_regression(X, y, mu, name=f"{str(preset).strip().lower()}-like",
                                      constants=constants)
