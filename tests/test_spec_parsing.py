"""Spec text (``sgd_bench.spec_parsing``): the forms of ``NAME[:key=value,...]``, refusals that
name the option and the spec, and grids of values expanded to one spec per point."""

from __future__ import annotations

import numpy as np
import pytest

import problems
from sgd_bench import specs
from sgd_bench.spec_parsing import parse_spec


def test_parse_spec_forms():
    s = parse_spec("sgd:step=0.1,batch=10,sampling=cyclic", "--method")
    assert (s.name, s.positional, s.options) == ("sgd", None, {"step": 0.1, "batch": 10, "sampling": "cyclic"})
    s = parse_spec("optax:adam,lr=1e-3,b1=0.8", "--method")
    assert (s.name, s.positional, s.options) == ("optax", "adam", {"lr": 1e-3, "b1": 0.8})
    s = parse_spec("Lecture-Logreg", "--problem")
    assert (s.name, s.options) == ("lecture_logreg", {})
    assert parse_spec("logreg:n=100,standardize=true", "--problem").options == {"n": 100, "standardize": True}


@pytest.mark.parametrize("text, match", [
    ("", "non-empty"),
    ("sgd:step=", "step has no value"),
    ("sgd:=0.1", "is not key=value"),
    ("sgd:step=0.1,,batch=2", "empty item"),
    ("sgd:step=0.1,step=0.2", "given twice"),
    ("sgd:step=0.1,cyclic", "is not key=value"),
    ("9sgd", "is not a name"),
])
def test_parse_spec_refuses_malformed_text(text, match):
    with pytest.raises(ValueError, match=match):
        parse_spec(text, "--method")


def test_an_empty_spec_gets_an_example_of_its_own_kind():
    with pytest.raises(ValueError, match="--problem must be a non-empty spec such as 'logreg:"):
        parse_spec(" ", "--problem")
    with pytest.raises(ValueError, match="--method must be a non-empty spec such as 'sgd:"):
        parse_spec("", "--method")


def test_a_spec_with_grid_values_expands_to_one_method_per_point():
    spec = parse_spec("sgd:step=logspace(-3,0,4),batch=10,sampling=reshuffle", "--method")
    assert list(spec.grid) == ["step"] and len(spec.grid["step"].values) == 4
    texts = [s.text for s in spec.expand()]
    assert texts[0] == "sgd:step=0.001,batch=10,sampling=reshuffle" and texts[-1].startswith("sgd:step=1,")
    two = parse_spec("optax:adam,lr=0.1|0.01,b1=0.8|0.9,batch=4", "--method").expand()
    assert [s.text for s in two] == ["optax:adam,lr=0.1,b1=0.8,batch=4", "optax:adam,lr=0.1,b1=0.9,batch=4",
                                     "optax:adam,lr=0.01,b1=0.8,batch=4", "optax:adam,lr=0.01,b1=0.9,batch=4"]
    p = problems.lecture_logreg()
    group = specs.build_methods(parse_spec("optax:adam,lr=0.1|0.01,b1=0.8|0.9,batch=4", "--method"), p)
    assert group.swept == ("b1", "learning_rate")
    np.testing.assert_allclose(group.values["learning_rate"], [0.1, 0.1, 0.01, 0.01])


@pytest.mark.parametrize("text, match", [
    ("sgd:batch=1|10", "points batch=1 and batch=10 need two compiled programs"),
    ("sgd:step=logspace(-3,0)", "logspace takes two numbers and a count"),
    ("sgd:step=0.1|abc", "numbers separated by"),
])
def test_bad_grid_values_are_refused_by_name(text, match):
    p = problems.lecture_logreg()
    with pytest.raises(ValueError, match=match) as info:
        specs.build_methods(parse_spec(text, "--method"), p)
    assert "--method" in str(info.value)
