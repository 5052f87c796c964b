"""The abstract checks (``jax.eval_shape``: nothing runs or compiles) that a problem's loss and a
``Method``'s init and step fit an iterate, before anything compiles.

``check_loss``: ``loss_i`` and the regularizer at an iterate must give a real floating scalar;
``fits_x_shape`` runs it at a problem's ``x_shape`` (a ``FiniteSum`` being built: ``Shapes``).

A user-written method (the README's extension point) is traced once abstractly with
``jax.eval_shape``: a state that is not a NamedTuple with ``x`` and a ``grad_evals`` Count, or a
step that changes the state's structure, shapes or dtypes, is named here in one line rather than
failing inside the runner or JAX's scan. ``sgd_bench.solver`` re-exports both.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from sgd_bench.counting import Count


def check_method_state(problem, method, x0) -> None:
    """A user-written ``Method``'s init and step, traced once abstractly (``jax.eval_shape``:
    nothing runs or compiles): its state must be a NamedTuple with the iterate ``x`` and a
    ``grad_evals`` Count (an AttributeError / KeyError from inside the runner said neither), and a
    step must return a state of init's structure, shapes and dtypes (JAX's scan error otherwise).
    The package's own methods are not traced again here, except their init for a problem without
    ``x_shape`` (a pytree iterate), whose shapes only a trace shows (``preconditioned_sgd``'s D):
    its ValueError comes out here as one line, without the note JAX adds inside a run."""
    own = all(getattr(f, "__module__", "").startswith("sgd_bench.") for f in (method.init_fn, method.step_fn))
    if own and problem.x_shape is not None:
        return
    shape_of = lambda a: jax.ShapeDtypeStruct(jnp.shape(a), jnp.result_type(a))  # noqa: E731
    key = jax.eval_shape(lambda: jax.random.key(0))
    try:
        state = jax.eval_shape(lambda x, k: method.init(x, problem, k), jax.tree_util.tree_map(shape_of, x0), key)
    except ValueError as err:
        if not own:
            raise
        raise ValueError(str(err)) from None
    if own:
        return
    what = f"the state of method {method.name!r} (a user-written init)"
    if not hasattr(state, "x") or not isinstance(getattr(state, "grad_evals", None), Count):
        fields = getattr(state, "_fields", None)
        raise TypeError(f"{what} must be a NamedTuple with the iterate x and a grad_evals Count, got a "
                        f"{type(state).__name__}" + (f" with fields {list(fields)}" if fields is not None else ""))
    idx, k = jax.ShapeDtypeStruct((method.batch_size or 0,), jnp.int32), jax.ShapeDtypeStruct((), jnp.int32)
    after = jax.eval_shape(lambda s, i, j: method.step(s, problem, i, j), state, idx, k)
    want, got = jax.tree_util.tree_structure(state), jax.tree_util.tree_structure(after)
    if want == got:
        for (path, a), b in zip(jax.tree_util.tree_flatten_with_path(state)[0], jax.tree_util.tree_leaves(after)):
            if (a.shape, a.dtype) != (b.shape, b.dtype):
                raise TypeError(f"method {method.name!r}: step must return a state of the shapes and dtypes "
                                f"init gives; state{jax.tree_util.keystr(path)} went from {a.dtype}{list(a.shape)} "
                                f"to {b.dtype}{list(b.shape)}")
    else:  # one type name can hide a list for a tuple inside: "(S), got S" said nothing, so show both
        a, b = type(state).__name__, type(after).__name__
        raise TypeError(f"method {method.name!r}: step must return a state of the structure init gives "
                        f"({a}), got " + (b if a != b else f"another {b}: init gives {want}, step gives {got}"))


def check_loss(problem, x, name="x0"):
    """One abstract evaluation (``jax.eval_shape``: nothing runs or compiles) of ``loss_i`` and
    the regularizer at ``x``: each must be a real floating scalar, or a ValueError says what is
    wrong before anything is compiled (a vector loss would otherwise be summed silently)."""
    datum = jax.tree_util.tree_map(lambda a: jax.ShapeDtypeStruct(a.shape[1:], a.dtype),
                                   problem.data)
    x_abs = jax.tree_util.tree_map(lambda a: jax.ShapeDtypeStruct(jnp.shape(a), jnp.result_type(a)), x)
    parts = [("loss_i(x, datum)", lambda: jax.eval_shape(problem.loss_i, x_abs, datum))]
    if problem.regularizer is not None:
        parts.append(("the regularizer r(x)", lambda: jax.eval_shape(problem.regularizer, x_abs)))
    for what, evaluate in parts:
        try:
            out = evaluate()
        except Exception as err:
            raise ValueError(f"{name} does not fit problem {problem.name!r}: {what} failed with "
                             f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}") from None
        shape, dtype = getattr(out, "shape", None), getattr(out, "dtype", None)
        if shape != ():
            raise ValueError(f"{what} of problem {problem.name!r} must return a scalar; with {name} "
                             f"it returns shape {shape} (a vector loss would be summed silently)")
        if dtype is None or not jnp.issubdtype(dtype, jnp.floating):
            raise ValueError(f"{what} of problem {problem.name!r} must return a real floating "
                             f"scalar, got dtype {dtype} (integer or complex outputs have no "
                             "real gradient)")


def fits_x_shape(problem):
    """``problem`` after ``check_loss`` at an abstract iterate of its ``x_shape`` (nothing runs):
    ``FiniteSum.replace(x_shape=(11,))`` on 10-column data was taken, and refused only later."""
    if problem.x_shape is not None:
        check_loss(problem, jax.ShapeDtypeStruct(problem.x_shape, problem.dtype), "x_shape")
    return problem


class Shapes:
    """What ``fits_x_shape`` reads of a FiniteSum being built (its constructor's arguments), with the data
    leaves as abstract values, as JAX will hold them (float64 is float32 with x64 off): a refused x_shape
    then transferred nothing to a device and compiled nothing (leftovers34b)."""

    def __init__(self, loss_i, treedef, leaves, regularizer, name, x_shape):
        abstract = [jax.ShapeDtypeStruct(leaf.shape, jax.dtypes.canonicalize_dtype(leaf.dtype)) for _, leaf in leaves]
        self.loss_i, self.regularizer, self.name, self.x_shape = loss_i, regularizer, name, x_shape
        self.data = jax.tree_util.tree_unflatten(treedef, abstract)
        floats = [a.dtype for a in abstract if jnp.issubdtype(a.dtype, jnp.floating)]
        self.dtype = floats[0] if floats else jnp.result_type(float)  # as FiniteSum.dtype
