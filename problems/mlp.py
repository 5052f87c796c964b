"""A small multilayer perceptron on real data: scikit-learn's bundled digits, with a fixed split.

``digits_mlp`` is the finite sum of the softmax cross-entropy of a one-hidden-layer tanh network
(64 pixels -> ``hidden`` -> 10 classes) over the training part of the 1797 8x8 digit images;
``digits_mlp(split="test")`` is the same loss over the held-out part. The split is fixed (a
permutation drawn with ``split_seed``; with 497 test images every class has about 50 in each
part), so a test loss is measured on images the training never saw, not a function of the
training loss. Pixels are scaled by 1/16 to [0, 1] (no statistic of the test part is used).

Parameters theta = (W1: hidden x 64, b1: hidden, W2: 10 x hidden, b2: 10), flattened into one
vector so that Hessian-vector products and the curvature module see one array. Start a run at
``mlp_init`` (theta = 0 is a saddle point of the network). ``accuracy`` gives the fraction of
samples of a problem's data classified correctly.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from sgd_bench import FiniteSum
from sgd_bench import validation

CLASSES = 10
PIXELS = 64
SPLITS = ("train", "test")


@dataclasses.dataclass(frozen=True)
class MLPLoss:
    """f_i(theta) = logsumexp(z) - z[y_i], z = W2 tanh(W1 a_i + b1) + b2 (y_i one-hot).

    Hashable by its shape, so equal shapes share compiled code."""

    hidden: int
    inputs: int = PIXELS
    classes: int = CLASSES

    @property
    def size(self) -> int:
        h, d, c = self.hidden, self.inputs, self.classes
        return h * d + h + c * h + c

    def unpack(self, theta):
        h, d, c = self.hidden, self.inputs, self.classes
        sizes = np.cumsum([h * d, h, c * h])
        W1, b1, W2, b2 = jnp.split(theta, sizes)
        return W1.reshape(h, d), b1, W2.reshape(c, h), b2

    def logits(self, theta, a):
        W1, b1, W2, b2 = self.unpack(theta)
        return W2 @ jnp.tanh(W1 @ a + b1) + b2

    def __call__(self, theta, datum):
        a, y = datum
        z = self.logits(theta, a)
        return jax.nn.logsumexp(z) - jnp.dot(z, y)


def digits_split(test_size: int = 497, split_seed: int = 0):
    """(A_train, Y_train, A_test, Y_test) in float64: pixels / 16, one-hot labels."""
    test_size = validation.integer("test_size", test_size, low=1, high=1796)
    split_seed = validation.integer("split_seed", split_seed, low=0, high=validation.MAX_SEED)
    from problems.datasets import sklearn_datasets

    data = sklearn_datasets().load_digits()
    A = np.asarray(data.data, np.float64) / 16.0
    Y = np.eye(CLASSES)[data.target]
    perm = np.random.default_rng(split_seed).permutation(len(A))
    test, train = perm[:test_size], perm[test_size:]
    return A[train], Y[train], A[test], Y[test]


def digits_mlp(hidden: int = 32, *, split: str = "train", test_size: int = 497, split_seed: int = 0,
               dtype=None) -> FiniteSum:
    """Softmax cross-entropy of a 64-``hidden``-10 tanh MLP on the digits ``split``
    ("train": 1797 - ``test_size`` images, "test": ``test_size``). Class ``"nonconvex"``."""
    hidden = validation.integer("hidden", hidden, low=1)
    split = validation.choice("split", split, SPLITS)
    dt = validation.requested_dtype("dtype", dtype)
    A_tr, Y_tr, A_te, Y_te = digits_split(test_size, split_seed)
    A, Y = (A_tr, Y_tr) if split == "train" else (A_te, Y_te)
    loss = MLPLoss(hidden)
    return FiniteSum(loss, (jnp.asarray(A, dt), jnp.asarray(Y, dt)), name=f"digits-mlp h={hidden} {split}",
                     problem_class="nonconvex", x_shape=(loss.size,),
                     info={"hidden": float(hidden)}, validate=False)


def _mlp_loss(problem: FiniteSum) -> MLPLoss:
    validation.instance("problem", problem, FiniteSum, "a FiniteSum made by digits_mlp")
    if not isinstance(problem.loss_i, MLPLoss):
        raise ValueError(f"needs a digits_mlp problem, got {problem.name!r}")
    return problem.loss_i


def mlp_init(problem: FiniteSum, key) -> jax.Array:
    """A random start (traceable, so it vmaps over keys): W1 ~ N(0, 1/64), W2 ~ N(0, 1/hidden),
    biases 0, flattened."""
    loss = _mlp_loss(problem)
    k1, k2 = jax.random.split(key)
    h, d, c = loss.hidden, loss.inputs, loss.classes
    W1 = jax.random.normal(k1, (h * d,), problem.dtype) / np.sqrt(d)
    W2 = jax.random.normal(k2, (c * h,), problem.dtype) / np.sqrt(h)
    return jnp.concatenate([W1, jnp.zeros(h, problem.dtype), W2, jnp.zeros(c, problem.dtype)])


def accuracy(problem: FiniteSum, theta) -> jax.Array:
    """The fraction of the problem's samples whose largest logit is their label (traceable)."""
    loss = _mlp_loss(problem)
    A, Y = problem.data
    z = jax.vmap(lambda a: loss.logits(theta, a))(A)
    return jnp.mean(jnp.argmax(z, axis=1) == jnp.argmax(Y, axis=1))
