"""The method registry (``sgd_bench.specs``): every Method factory of ``sgd_bench`` has a spec,
a spec builds the method the Python API builds, and the one default-step formula
(``sgd_bench.default_steps``) keeps steps traced, so a problem with other constants reuses the
compiled program."""

from __future__ import annotations

import inspect

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import problems
import sgd_bench as sb
from helpers import count_compiles
from sgd_bench import specs
from sgd_bench.default_steps import require_constant, theory_step
from sgd_bench.spec_parsing import parse_spec


def _factories() -> set[str]:
    """The names ``sgd_bench`` exports whose call returns a ``Method``."""
    out = set()
    for name in dir(sb):  # not vars: sgd_bench imports each name on first use
        value = getattr(sb, name)
        if name.startswith("_") or not callable(value) or isinstance(value, type):
            continue
        try:
            returns = inspect.signature(value).return_annotation
        except (TypeError, ValueError):
            continue
        if returns in ("Method", sb.Method):
            out.add(name)
    return out


def test_every_method_factory_of_sgd_bench_has_a_spec():
    factories = _factories()
    # the scan itself finds the zoo (else the check below would pass on an empty set)
    assert {"gd", "sgd", "saga", "online_newton", "growing_batch", "averaged", "from_optax"} <= factories
    covered = {entry.factory.__name__ for entry in specs.METHODS.values()}
    assert factories - covered == set(), "a Method factory without a spec in sgd_bench.specs.METHODS"


def test_the_catalog_lists_every_spec_with_its_keys():
    catalog = specs.method_catalog()
    assert list(catalog) == list(specs.METHODS)
    assert catalog["gd"] == "full-gradient descent (default step 1/L); keys: step"
    assert "keys: step, noise, batch, sampling" in catalog["noisy_sgd"]


@pytest.fixture(scope="module")
def lecture():
    return problems.lecture_logreg()


def _build(text, problem):
    return specs.build_method(parse_spec(text, "--method"), problem)


def test_a_spec_builds_what_the_python_api_builds(lecture):
    L, L_max = lecture.info["L"], lecture.info["L_max"]
    sgd_step = 1.0 / (2 * (L + L_max / 5))
    x_star = sb.reference_solution(lecture).x
    pairs = [
        ("gd", sb.gd(1.0 / L)),
        ("sgd:batch=5", sb.sgd(sgd_step, 5)),
        ("noisy_sgd:noise=0.1,batch=5", sb.noisy_sgd(sgd_step, 0.1, 5)),
        ("growing_batch:q=1.5", sb.growing_batch(q=1.5)),
        ("online_newton:phase1_steps=10", sb.online_newton(phase1_steps=10)),
        ("online_newton:support=running_average,step=0.01",
         sb.online_newton(0.01, support="running_average")),
        ("stochastic_lbfgs:step=0.01,update_every=5", sb.stochastic_lbfgs(0.01, update_every=5)),
        ("preconditioned_sgd:step=0.1,batch=2",
         sb.preconditioned_sgd(0.1, sb.inverse_hessian(lecture, x_star), 2)),
        ("averaged:of=sgd,batch=5,start=10", sb.averaged(sb.sgd(sgd_step, 5), 10)),
        ("averaged:of=SGD,batch=5", sb.averaged(sb.sgd(sgd_step, 5))),  # hostile19: of= spelled as --method
        ("saga", sb.saga()),
    ]
    for text, want in pairs:
        assert _build(text, lecture) == want, text


def test_build_method_matches_the_python_api():
    p = problems.lecture_logreg()
    L, L_max = p.info["L"], p.info["L_max"]
    assert _build("gd", p).name == "GD"
    m = _build("sgd:batch=10", p)
    assert m.batch_size == 10 and m.sampling == "with_replacement"
    x0 = jnp.full(p.x_shape, 0.5)
    # The default step is 1/(2 (L + L_max / B)): one step from x0 on a fixed batch shows it.
    idx = jnp.arange(10, dtype=jnp.int32)
    key = jax.random.key(0)
    state = m.step(m.init(x0, p, key), p, idx, 0)
    expected = x0 - p.batch_grad(x0, idx) / (2 * (L + L_max / 10))
    np.testing.assert_allclose(state.x, expected, rtol=1e-12)
    state = _build("gd", p).step(_build("gd", p).init(x0, p, key), p, jnp.zeros((0,), jnp.int32), 0)
    np.testing.assert_allclose(state.x, x0 - p.grad(x0) / L, rtol=1e-12)
    tx = _build("optax:adam,lr=0.01,batch=4", p)
    assert tx.batch_size == 4 and tx.name == "optax:adam,lr=0.01,batch=4"
    ref = optax.adam(0.01)
    s0 = tx.init(x0, p, key)
    s1 = tx.step(s0, p, idx[:4], 0)
    upd, _ = ref.update(p.batch_grad(x0, idx[:4]), ref.init(x0), x0)
    np.testing.assert_allclose(s1.x, optax.apply_updates(x0, upd), rtol=1e-12)


@pytest.mark.parametrize("text, match", [
    ("newton", "unknown method 'newton'"),
    ("gd:batch=3", "gd takes step"),
    ("optax", "name the optax optimizer"),
    ("optax:nosuch,lr=1", "optax has no optimizer 'nosuch'"),
    ("optax:adam", "give the learning rate"),
    ("optax:adam,lr=1e-3,bogus=2", "takes no bogus"),
    ("sgd:schedule=cosine", "schedule must be one of"),
    ("sgd:step=0", "step_size"),
    ("sgd:sampling=random", "sampling"),
])
def test_build_method_refuses_bad_specs(text, match):
    with pytest.raises((ValueError, TypeError), match=match):
        _build(text, problems.lecture_logreg())



@pytest.mark.parametrize("text, match", [
    ("noisy_sgd", r"give the noise's standard deviation, as in noisy_sgd:noise=0.1$"),
    ("noisy_sgd:noise=-1", r"noise \(noise_std in Python\) must be"),
    ("stochastic_lbfgs", r"stochastic_lbfgs has no theory-safe default step; give step=\.\.\.$"),
    ("averaged:start=3", r"name the averaged method with of=NAME, one of gd, sgd,"),
    ("averaged:of=optax", r"name the averaged method with of=NAME"),
    ("averaged:of=sgd,bogus=1", r"averaged takes of, start, step"),
    ("growing_batch:initial_batch=201", r"initial_batch must be in \[1, n\] = \[1, 200\]"),
    ("online_newton", r"phase1_steps is required"),
    # hostile19: the inner method's refusals named the inner spec ('sgd:memory=5', 'noisy_sgd'),
    # which the user never typed
    ("averaged:of=sgd,memory=5", r"sgd takes step, batch, sampling, schedule, cap; not memory$"),
    ("averaged:of=noisy_sgd", r"give the noise's standard deviation"),
    ("averaged:of=Lazy-Saga", r"lazy_saga runs on sparse rows only"),  # was: "name ... with of=NAME"
])
def test_the_new_specs_refuse_bad_input_by_key(text, match, lecture):
    with pytest.raises(ValueError, match=rf"^--method '{text}': .*" + match):
        _build(text, lecture)


def _first_step(method):
    (_, schedule), = sb.methods.step_sizes(method)
    return float(schedule(0))


def test_lecture_decreasing_from_a_spec_is_capped_at_the_safe_step_unless_told():
    # mu small next to L: the lecture's first step 1/(2 mu) is far above the stable step
    problem = problems.synthetic_logreg(60, 4, seed=1, mu=1e-3)
    L, L_max, mu = (float(problem.info[k]) for k in ("L", "L_max", "mu"))
    safe = 1.0 / (2 * (L + L_max / 4))
    assert 1 / (2 * mu) > 10 * safe
    capped = _build("sgd:schedule=lecture_decreasing,batch=4", problem)
    np.testing.assert_allclose(_first_step(capped), safe, rtol=1e-9)
    np.testing.assert_allclose(_first_step(_build("sgd:schedule=lecture_decreasing,batch=4,cap=SAFE", problem)),
                               safe, rtol=1e-9)
    np.testing.assert_allclose(_first_step(_build("sgd:schedule=lecture_decreasing,cap=none", problem)),
                               1 / (2 * mu), rtol=1e-9)
    np.testing.assert_allclose(_first_step(_build("sgd:schedule=lecture_decreasing,cap=0.01", problem)),
                               0.01, rtol=1e-12)


@pytest.mark.parametrize("text, match", [
    ("sgd:cap=0.1", r"cap= caps schedule=lecture_decreasing only$"),
    ("sgd:schedule=lecture_decreasing,cap=-1", r"cap must be a finite number > 0, safe .* got -1$"),
    ("sgd:schedule=lecture_decreasing,cap=tiny", r"cap must be a finite number > 0, safe .* got 'tiny'$"),
])
def test_a_bad_cap_is_refused_by_key(text, match, lecture):
    with pytest.raises(ValueError, match=rf"^--method '{text}': .*" + match):
        _build(text, lecture)


def test_theory_step_is_one_formula_for_every_default():
    values = {"L": 2.0, "L_max": 8.0}
    assert theory_step(values, 1.0, "L") == 0.5
    assert theory_step(values, 0.25) == 1 / 32
    # SGD's 1/(2 (L + L_max/B)), written as 0.5 / (...): the same float (doubling is exact)
    for L, L_max, b in ((1.37, 4.1, 3), (0.1, 7.3, 10), (2.0 / 3, 1e3 / 7, 7)):
        assert theory_step({"L": L, "L_max": L_max}, 0.5, batch=b) == 1.0 / (2 * (L + L_max / b))


def test_a_missing_constant_is_refused_naming_the_argument_to_pass(tiny_logistic):
    bare = tiny_logistic.replace(info={})
    with pytest.raises(ValueError, match=r"^saga\(\) with its default step needs problem.info\['L_max'\] > 0 "
                                         r"\(problem .* has \{\}\); pass step_size$"):
        require_constant(bare, "L_max", "saga")
    with pytest.raises(ValueError, match=r"^online_newton\(\) with its default phase1_step_size needs "
                                         r".*; pass phase1_step_size$"):
        sb.online_newton(phase1_steps=2, phase1_step_size=None, step_size=0.1).validate(bare)


@pytest.mark.parametrize("method", [sb.saga(), sb.growing_batch(), sb.online_newton(support="running_average")],
                         ids=["saga", "growing_batch", "online_newton"])
def test_default_steps_stay_traced_when_the_constants_change(method, tiny_logistic):
    """The default reads problem.info inside the step: other constants, same program (counted
    compilations, not timings), and the step follows the new constant."""
    key = "L" if method.name.startswith("growing") else "L_max"
    first = tiny_logistic.replace(info={"L": 2.0, "L_max": 4.0})
    other = tiny_logistic.replace(info={"L": 8.0, "L_max": 16.0})
    x0 = jnp.zeros(first.x_shape)
    a = sb.run(first, method, x0, 0, steps=3, log_every=1)
    with count_compiles() as names:
        b = sb.run(other, method, x0, 0, steps=3, log_every=1)
    assert names == [], f"changing problem.info[{key!r}] recompiled {names}"
    assert not np.allclose(np.asarray(a.loss), np.asarray(b.loss))


def test_the_grid_leaves_jaxs_x64_switch_to_its_caller(tmp_path):
    """Building a problem does not turn x64 on behind the caller's back, and run_grid refuses to
    run without it rather than switching it (``sgd-bench run`` turns it on once). In this process,
    with the switch off for the test (it was a subprocess, for JAX's default, off: the same switch)."""
    from sgd_bench_harness import grid

    jax.config.update("jax_enable_x64", False)
    try:
        grid.build_problem(parse_spec("logreg:n=20,d=2", "--problem"), "float32")
        assert not jax.config.jax_enable_x64, "build_problem turned x64 on"
        config = grid.grid_config(["logreg:n=20,d=2"], ["gd"], seeds=1, steps=2, log_every=None,
                                  dtype="float32", key=0, block=1)
        with pytest.raises(RuntimeError, match=r"^run_grid needs jax_enable_x64 on"):
            grid.run_grid(config, tmp_path / "g", log=lambda t: None)
        assert not jax.config.jax_enable_x64
    finally:
        jax.config.update("jax_enable_x64", True)  # conftest's, for every other test


@pytest.mark.parametrize("name", ["sag", "saga", "svrg", "sarah", "lazy_saga"])
def test_the_registry_states_the_engines_own_default_step(name):
    """A method whose default step is its own (factor / L_max, traced): the registry's formula
    says the factor the engine runs."""
    factor = getattr(sb, name)().options["step_factor"]
    assert specs.METHODS[name].default_step == f"1/({round(1 / factor)} L_max)"
    assert round(1 / factor) == pytest.approx(1 / factor)
