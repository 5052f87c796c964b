"""The sharp-minima experiment and its parts: the digits MLP against a NumPy forward pass and
scikit-learn's log loss, the fixed train/test split, Lanczos's top Hessian eigenvalue against
NumPy's eigvalsh of the dense Hessian, the vmapped training against the engine's own runs, the
paired intervals and the matched-train-loss choice, and the quick run's results layout."""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import helpers
import problems
import quick_runs
import sgd_bench as sb
from problems import mlp
from sgd_bench import curvature
from sgd_bench_harness import cli, records


@pytest.fixture(scope="module")
def script():
    return cli.load("sharp_minima")


@pytest.fixture(scope="module")
def small():
    """A 64-4-10 network (310 parameters: small enough for a dense Hessian) and its test part."""
    return mlp.digits_mlp(4), mlp.digits_mlp(4, split="test")


def numpy_forward(theta, A, hidden):
    d, c = A.shape[1], 10
    W1 = theta[:hidden * d].reshape(hidden, d)
    b1 = theta[hidden * d:hidden * d + hidden]
    W2 = theta[hidden * d + hidden:hidden * d + hidden + c * hidden].reshape(c, hidden)
    b2 = theta[-c:]
    return np.tanh(A @ W1.T + b1) @ W2.T + b2


def test_split_is_fixed_disjoint_and_complete():
    from sklearn.datasets import load_digits

    A_tr, Y_tr, A_te, Y_te = mlp.digits_split()
    assert A_tr.shape == (1300, 64) and A_te.shape == (497, 64)
    raw = load_digits()
    # Every image appears exactly once across the two parts (rows as bytes of the scaled pixels).
    both = {(a.tobytes(), int(y.argmax())) for a, y in zip(np.vstack([A_tr, A_te]), np.vstack([Y_tr, Y_te]))}
    want = {((a / 16.0).tobytes(), int(t)) for a, t in zip(raw.data.astype(np.float64), raw.target)}
    assert both == want
    assert set(Y_te.argmax(1)) == set(range(10)) and set(Y_tr.argmax(1)) == set(range(10))
    again = mlp.digits_split()
    np.testing.assert_array_equal(again[2], A_te)
    assert not np.array_equal(mlp.digits_split(split_seed=1)[2], A_te)


def test_loss_and_accuracy_match_numpy_and_sklearn(small):
    from sklearn.metrics import log_loss

    train_p, test_p = small
    theta = np.asarray(mlp.mlp_init(train_p, jax.random.key(3))) + 0.3 * np.random.default_rng(0).standard_normal(310)
    for p in (train_p, test_p):
        A, Y = (np.asarray(a) for a in p.data)
        z = numpy_forward(theta, A, 4)
        probs = np.exp(z - z.max(1, keepdims=True))
        probs /= probs.sum(1, keepdims=True)
        np.testing.assert_allclose(float(p.loss(jnp.asarray(theta))),
                                   log_loss(Y.argmax(1), probs, labels=range(10)), rtol=1e-10)
        assert float(mlp.accuracy(p, jnp.asarray(theta))) == pytest.approx(np.mean(z.argmax(1) == Y.argmax(1)))
    assert problems.get("digits-mlp", hidden=4).n == 1300


def test_init_is_random_per_key_and_not_a_saddle(small):
    train_p, _ = small
    a, b = mlp.mlp_init(train_p, jax.random.key(0)), mlp.mlp_init(train_p, jax.random.key(1))
    assert a.shape == (310,) and not np.allclose(a, b)
    assert float(sb.FiniteSum.grad(train_p, a) @ sb.FiniteSum.grad(train_p, a)) > 1e-6
    with pytest.raises(ValueError, match="digits_mlp"):
        mlp.mlp_init(helpers.tiny_logistic(), jax.random.key(0))


def test_top_eigenvalue_matches_the_dense_hessian(small):
    jax.config.update("jax_enable_x64", True)
    train_p, _ = small
    points = jnp.stack([mlp.mlp_init(train_p, jax.random.key(k)) for k in range(2)])
    keys = jax.random.split(jax.random.key(7), 2)
    lam, res = jax.jit(jax.vmap(lambda x, k: curvature.top_eigenvalue(train_p, x, k, iters=25)))(points, keys)
    for x, l_, r in zip(points, np.asarray(lam), np.asarray(res)):
        top = np.linalg.eigvalsh(np.asarray(curvature.dense_hessian(train_p, x)))[-1]
        assert abs(l_ - top) <= 1e-8 * top, (l_, top)
        assert r < 1e-6 * top
    # A quadratic with a closed form: least squares has Hessian A^T A / n (+ mu I).
    ls = helpers.tiny_least_squares()
    A = np.asarray(ls.data[0])
    want = np.linalg.eigvalsh(A.T @ A / ls.n)[-1] + helpers.LS_MU
    got, _ = curvature.top_eigenvalue(ls, jnp.zeros(A.shape[1]), jax.random.key(0), iters=3)
    assert float(got) == pytest.approx(want, rel=1e-12)


def test_training_equals_the_engines_runs(script, small):
    train_p, _ = small
    keys = sb.seed_keys(5, 3)
    x0s = jax.vmap(lambda k: mlp.mlp_init(train_p, k))(keys)
    xs = np.asarray(script.train(train_p, jnp.asarray(0.5), x0s, keys, jnp.asarray([30, 20]),
                                 batch_size=16, chunk=30))
    assert xs.shape == (3, 2, 310)
    # other checkpoints (and another step) run in the same program
    with helpers.compiles_nothing():
        again = np.asarray(script.train(train_p, jnp.asarray(0.25), x0s, keys, jnp.asarray([10, 40]),
                                        batch_size=16, chunk=30))
    assert again.shape == xs.shape and not np.allclose(again, xs)
    single = sb.run(train_p, sb.sgd(0.5, 16, "reshuffle"), x0s[1], keys[1], steps=50, log_every=10,
                    log_iterates=True)
    assert list(np.asarray(single.step)) == [0, 10, 20, 30, 40, 50]
    np.testing.assert_allclose(xs[1, 0], single.xs[3], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(xs[1, 1], single.x, rtol=1e-9, atol=1e-12)
    assert not np.allclose(xs[0, 1], xs[1, 1])


def test_steps_and_paired_intervals(script):
    assert script.steps_for(1, 1300, 16) == 81 and script.steps_for(40, 1300, 256) == 203
    assert script.steps_for(0.001, 1300, 650) == 1
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(50) + 1.0, rng.standard_normal(50)
    d = a - b
    p = script.paired(a, b)
    assert p["mean"] == pytest.approx(d.mean())
    assert p["se"] == pytest.approx(np.std(d, ddof=1) / np.sqrt(50))
    assert p["low"] == pytest.approx(d.mean() - 1.96 * p["se"]) and p["low"] > 0


def test_matched_checkpoint_picks_the_nearest_train_loss(script):
    rows = []
    for label, losses in (("small", {1.0: 1.0, 2.0: 0.3, 4.0: 0.05}), ("large", {1.0: 2.0, 2.0: 0.9, 4.0: 0.25})):
        for e, v in losses.items():
            rows += [dict(batch_label=label, epoch=e, seed=s, train_loss=v) for s in range(3)]
    assert script.matched_checkpoint(rows, (1.0, 2.0, 4.0)) == 2.0


quick_root, test_quick_run_writes_its_layout_and_claims_and_its_report_rebuilds = \
    quick_runs.quick_run_tests("test_sharp_minima", in_process=True)


def test_quick_run_stores_the_models_measurements(quick_root, script):
    quick_run = quick_root / "sharp_minima"
    meta = json.loads((quick_run / "meta.json").read_text())
    config = script.QUICK
    assert meta["config"]["seeds"] == config["seeds"]
    rows = records.read_records(quick_run)
    assert len(rows) == 2 * config["seeds"] * len(config["checkpoints"])
    # The stored measurements are the model's: accuracies in [0, 1], eigenvalues converged.
    for r in rows:
        assert 0 <= r["test_acc"] <= 1 and r["residual"] <= 1e-3 * abs(r["sharpness"])
    assert len(json.loads((quick_run / "checks.json").read_text())) == 3
    text = (quick_run / "summary.md").read_text()
    assert "Matched-train-loss control" in text and "Readings" in text
