"""The shims of sgd_bench.compat (each path, old-JAX fallbacks included, against a plain
reference), the seed-to-data stream being the same on every JAX version, and the lower bounds of
pyproject.toml staying pinned in .ci/lower-bounds.txt."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sgd_bench import compat

ROOT = Path(__file__).resolve().parent.parent


def _f(x):
    """A pytree in, a pytree out: checks that both sides of lax.map's contract are kept."""
    a, b = x
    return {"s": jnp.sum(a * a) + b, "v": a[::-1] * b}


def _reference(xs):
    a, b = (np.asarray(t) for t in xs)
    return {"s": np.array([np.sum(r * r) + c for r, c in zip(a, b)]),
            "v": np.stack([r[::-1] * c for r, c in zip(a, b)])}


@pytest.mark.parametrize("native", [True, False], ids=["lax.map", "fallback"])
@pytest.mark.parametrize("n,batch", [(10, 3), (12, 4), (2, 5), (7, 1), (5, None)])
def test_batched_map_matches_a_python_loop(monkeypatch, native, n, batch):
    if native and not compat.MAP_HAS_BATCH_SIZE:
        pytest.skip("this JAX's lax.map has no batch_size (the fallback case covers it)")
    monkeypatch.setattr(compat, "MAP_HAS_BATCH_SIZE", native)
    rng = np.random.default_rng(n)
    xs = (rng.normal(size=(n, 3)), rng.normal(size=n))
    got = jax.jit(lambda xs: compat.batched_map(_f, xs, batch))(xs)
    want = _reference(xs)
    for k in want:
        assert got[k].shape == want[k].shape
        np.testing.assert_allclose(np.asarray(got[k]), want[k], rtol=1e-13)


def test_batched_map_fallback_scans_over_batches(monkeypatch):
    # The fallback must be lax.map's batching (a scan over n // B batches of vmap(f), then vmap(f)
    # over the rest), not one vmap over all n rows, so memory stays bounded by the batch.
    monkeypatch.setattr(compat, "MAP_HAS_BATCH_SIZE", False)
    jaxpr = jax.make_jaxpr(lambda x: compat.batched_map(jnp.sin, x, 4))(jnp.ones((10, 3)))
    scans = [e for e in jaxpr.jaxpr.eqns if e.primitive.name == "scan"]
    assert [e.params["length"] for e in scans] == [2]
    assert scans[0].outvars[-1].aval.shape == (2, 4, 3)
    with pytest.raises(ValueError, match="batch_size"):
        compat.batched_map(jnp.sin, jnp.ones(3), 0)


def test_enable_x64_switches_both_ways():
    with compat.enable_x64(False):
        assert jnp.zeros(1).dtype == jnp.float32
        with compat.enable_x64():
            assert jnp.zeros(1).dtype == jnp.float64
        assert jnp.zeros(1).dtype == jnp.float32


def test_a_seed_names_the_same_data_on_every_jax_version():
    # Drawn once under jax 0.10 (partitionable threefry, the default since 0.5) and once under
    # jax 0.4.30 with the same numbers; the older default stream gave -1.4572 0.2474 ... here.
    import problems

    with jax.threefry_partitionable(False):  # a caller's setting does not change the data
        p = problems.lecture_logreg(seed=0)
    a, y = (np.asarray(t) for t in jax.tree_util.tree_leaves(p.data))
    np.testing.assert_allclose(a[0, :3], [-0.99845144, 0.92376886, 1.5244678], rtol=0, atol=1e-8)
    np.testing.assert_array_equal(y[:2], [1.0, -1.0])


def _checker():
    spec = importlib.util.spec_from_file_location("check_lower_bounds", ROOT / ".ci" / "check_lower_bounds.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_lower_bound_is_pinned_in_lower_bounds_txt():
    assert _checker().problems(ROOT) == []


def test_the_check_catches_a_bound_that_moved(tmp_path):
    check = _checker()
    (tmp_path / ".ci").mkdir()
    shutil.copy(ROOT / ".ci" / "lower-bounds.txt", tmp_path / ".ci")
    text = (ROOT / "pyproject.toml").read_text()
    assert '"optax>=' in text and '"scipy>=' in text
    text = text.replace('"optax>=', '"optax>=9!').replace('"scipy>=', '"scipy<=')
    text = text.replace('"pytest>=7"', '"pytest>=7", "tomli-w>=1"')
    (tmp_path / "pyproject.toml").write_text(text)
    found = "\n".join(check.problems(tmp_path))
    assert "optax: pyproject.toml says >=9!" in found
    assert "scipy: pyproject.toml gives no '>=' lower bound" in found
    assert "tomli-w: lower bound 1 in pyproject.toml but no pin" in found
