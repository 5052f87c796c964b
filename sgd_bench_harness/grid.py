"""Ad-hoc grids from the command line: problems x methods x seed blocks, resumable, reported.

``sgd-bench run --problem lecture-logreg --method gd --method sgd:step=0.1,batch=10
--method optax:adam,lr=1e-3 --seeds 100`` builds every problem and method from its spec, runs
each (problem, method, seed block) cell with ``run_keys`` and stores the cell's per-seed
records as soon as it finishes. The folder is keyed by the config hash: an interrupted grid
run again with the same arguments skips the finished cells, and its final records equal an
uninterrupted run's. ``report`` rebuilds the summary and the figure from the records alone.

Spec syntax: ``NAME`` or ``NAME:key=value,key=value``; for optax, ``optax:NAME,key=value``
where the keys are the optax constructor's (``lr`` stands for ``learning_rate``). Specs are
parsed by ``sgd_bench.spec_parsing`` and methods built by the engine's registry
``sgd_bench.specs``; this module builds problems, runs and resumes cells and writes records, and
``sgd_bench_harness.grid_report`` writes the summary and the figure. Running needs
``jax_enable_x64`` on (float64 problems and reference values, 63-bit seed keys): ``sgd-bench
run`` turns it on once; these functions never switch it themselves.

Everything is checked before the result folder is created or anything compiles, and every
refusal names ``--problem``/``--method``, the spec as typed and the key as typed (``step``, with
the Python API's ``step_size`` in brackets). Decisions:

- the same ``--problem`` (or ``--method``) given twice, also when spelled differently
  (``lecture-logreg`` and ``lecture_logreg``, keys in another order, ``libsvm:path=X`` and
  ``libsvm:path=./X``: one file, whose path is resolved for identity), is refused, not merged:
  the grid would store every record twice, and a repeat is usually a typo for another spec;
- a word in a spec is read as names are, in any case and with ``-`` for ``_``: the problem and
  method names, and the choices ``sampling``, ``schedule``, ``support``, ``of``, optax's optimizer,
  and a problem's ``dtype``, ``split`` and ``preset`` (``sgd:sampling=Cyclic`` runs
  sgd:sampling=cyclic, and the two given together are the same spec twice); messages echo the
  spec as typed. The Python API takes the exact strings of its constants (``SAMPLINGS``, ...);
- a grid point's refusal names the spec as typed and the point (``at batch=3.16228``); a grid
  whose points need two programs (a batch size, a memory length, noise through 0) is refused
  naming two such points;
- ``--block`` is stored as the split it makes (``split_block``): two values that split the seeds into the
  same blocks key one folder; a plan of more cells than ``work.GRID_MAX_CELLS`` is refused (``work.grid_cells``);
- a spec that ends in ``:`` with nothing after it (``lecture-logreg:``, ``sgd:``) is refused, for ``--problem``
  and ``--method`` alike, not read as "no options": a dangling colon usually lost them (an unset shell variable);
- a ``dtype`` key in a ``--problem`` must be float32 or float64 and equal ``--dtype`` (one run, one precision);
- the memory of the largest cell (data + seeds x (state + logs + sampler), see ``sgd_bench.memory.
  estimate_run_bytes``) and the host memory of the merged records are estimated first; a grid that cannot
  fit is refused with the numbers (exit status 3).
"""

from __future__ import annotations

import inspect
import math
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from sgd_bench.flags import RISE_FACTOR
from sgd_bench.solver import MAX_STEPS
from sgd_bench.spec_parsing import Spec, is_number, keyword_mismatch, parse_spec, words
from sgd_bench.specs import MethodGroup, build_methods
from sgd_bench_harness import work
from sgd_bench_harness.records import cell_records  # noqa: F401  (grid.cell_records, as before)
from sgd_bench_harness.grid_report import report, rise_factor
from sgd_bench_harness.spec_identity import PROBLEM_CHOICE_KEYS, same_run
from sgd_bench_harness.work import grid_f_star as _f_star  # here: tests stand in for it

KIND = "grid"
DEFAULT_BLOCK = 32
MAX_KEY = 2**63 - 1  # the API's int seed range too (solver.MAX_SEED)
# Host memory per stored record row (a dict of ten values while the records are merged).
ROW_BYTES = 1000


def build_problem(spec: Spec, dtype: str):
    """The registry problem of ``spec`` in ``dtype``. A ``dtype`` key in the spec must say the
    same as ``--dtype``: one run, one precision. Errors name ``--problem`` and the spec as typed.
    A float64 problem needs ``jax_enable_x64`` on (the caller's switch, see the module's text)."""
    import jax
    import jax.numpy as jnp

    import problems

    kwargs = {k: words(v) if k in PROBLEM_CHOICE_KEYS and isinstance(v, str) else v
              for k, v in spec.options.items()}
    try:
        factory = problems.factory(spec.typed or spec.name)
    except ValueError as err:
        raise ValueError(f"--problem {spec.text!r}: {err}") from None
    params = inspect.signature(factory).parameters
    counts = [k for k, p in params.items() if "int" in str(p.annotation).replace(" ", "").split("|")]
    kwargs |= {k: v for k, v in spec.counted(counts).items() if k in counts}  # n=1e4 is 10000, as --seeds 1e4 is
    reason = keyword_mismatch(spec.typed or spec.name, params, kwargs, given={"dtype"})
    if reason:
        raise ValueError(f"--problem {spec.text!r}: {reason}")
    if spec.positional is not None:
        raise ValueError(f"--problem {spec.text!r}: {spec.positional!r} is not key=value")
    if "dtype" in kwargs and str(kwargs["dtype"]) not in ("float32", "float64"):
        raise ValueError(f"--problem {spec.text!r}: dtype must be a floating type, float32 or float64, "
                         f"got {kwargs['dtype']!r}; give it with --dtype")
    if "dtype" in kwargs and str(kwargs["dtype"]) != str(dtype):
        # Refused rather than overridden: a problem built in another dtype than the one the
        # run is labelled with would be a silently wrong result.
        raise ValueError(f"--problem {spec.text!r}: dtype={kwargs['dtype']} differs from --dtype {dtype} "
                         "(float32 or float64); give the dtype once, with --dtype")
    if "dtype" in params:
        kwargs["dtype"] = jnp.dtype(dtype)
    else:
        kwargs.pop("dtype", None)
    try:
        problem = factory(**kwargs)
    except (ValueError, TypeError, OSError) as err:  # OSError: a data file that cannot be read
        raise ValueError(f"--problem {spec.text!r}: {spec.echo_typed(str(err))}") from None
    except MemoryError as err:
        raise MemoryError(f"--problem {spec.text!r}: {err}") from None
    if problem.dtype != jnp.dtype(dtype):
        problem = problem.replace(data=jax.tree_util.tree_map(
            lambda a: a.astype(dtype) if jnp.issubdtype(a.dtype, jnp.floating) else a, problem.data))
    return problem


# -- the grid ----------------------------------------------------------------------------------
def grid_config(problems_: list[str], methods: list[str], *, seeds: int, steps: int,
                log_every: int | None, dtype: str, key: int, block: int,
                rise_factor: float | None = None) -> dict[str, Any]:
    """The config that keys a grid run (its hash names the folder; a default rise_factor is left out)."""
    if not problems_:
        raise ValueError("give at least one --problem (sgd-bench list shows them)")
    if not methods:
        raise ValueError("give at least one --method, such as --method gd --method sgd:batch=10")
    for name, value, high in (("--seeds", seeds, math.inf), ("--steps", steps, MAX_STEPS), ("--block", block, math.inf)):
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= high:
            raise ValueError(f"{name} must be a positive integer{f' <= {high}' if high < math.inf else ''}, got {value!r}")
    log_every = log_every or max(1, steps // 100)
    if not 1 <= log_every <= steps:
        raise ValueError(f"--log-every must be in [1, steps] = [1, {steps}], got {log_every}")
    if dtype not in ("float32", "float64"):
        raise ValueError(f"--dtype must be float32 or float64, got {dtype!r}")
    if not isinstance(key, int) or isinstance(key, bool) or not 0 <= key <= MAX_KEY:
        raise ValueError(f"--key must be an integer in [0, 2**63 - 1] = [0, {MAX_KEY}], got {key!r}")
    if rise_factor is not None and not (is_number(rise_factor) and 1 <= rise_factor < math.inf):
        raise ValueError(f"--rise-factor must be a finite number >= 1 (a multiple of max(|f(x_0)|, 1); "
                         f"default {RISE_FACTOR:g}), got {rise_factor!r}")
    for what, texts in (("--problem", problems_), ("--method", methods)):
        seen: dict[tuple, str] = {}
        for text in texts:
            spec = parse_spec(text, what)
            # Equal after normalizing (lecture-logreg = lecture_logreg, key order): the same
            # run twice, which would store every record twice. Refused, as a typo usually is.
            same = same_run(spec, what)
            if same in seen:
                raise ValueError(f"{what} {text!r} is given twice" + (
                    f" (also as {seen[same]!r})" if seen[same] != text else "") +
                    f"; each {what} must differ from the others (they label the results)")
            seen[same] = text
    labels: dict[tuple, str] = {}
    shown: dict[str, str] = {}  # label -> spec: the records of two runs under one label would mix
    for text in methods:
        for point in parse_spec(text, "--method").expand():
            same = same_run(point, "--method")
            if same in labels and labels[same] != text:
                raise ValueError(f"--method {text!r} and --method {labels[same]!r} both run "
                                 f"{point.text!r}; each method may appear once")
            if shown.get(point.text, text) != text:
                raise ValueError(f"--method {text!r} and --method {shown[point.text]!r} label two different "
                                 f"runs {point.text!r}; write the values with more digits")
            labels[same], shown[point.text] = text, text
    extra = {} if rise_factor is None or rise_factor == RISE_FACTOR else {"rise_factor": float(rise_factor)}
    # Capped by default since 2026-12-07: an older grid must not resume here, mixing two different steps.
    extra |= {"lecture_decreasing_default_cap": "safe"} if any("decreasing" in m.lower() for m in methods) else {}
    return dict(problems=list(problems_), methods=list(methods), seeds=seeds, steps=steps, log_every=log_every,
                dtype=dtype, key=key, block=split_block(seeds, block), **extra)


def split_block(seeds: int, block: int) -> int:
    """The ``--block`` a config stores: one value per split of the seeds into blocks, so that two
    values that split them alike key one folder (--seeds 100: --block 50 and --block 60 both run two
    blocks of 50, and made two folders). DEFAULT_BLOCK where it splits them so (the default runs keep
    their hashes; one block of every seed too), else the largest block's size."""
    count = -(-seeds // block)
    return DEFAULT_BLOCK if count == -(-seeds // DEFAULT_BLOCK) else -(-seeds // count)


def check_resources(config: dict, problem, methods) -> None:
    """Refuses (MemoryError, with the numbers) a grid whose largest cell cannot fit on the
    device, or whose seed keys and merged records cannot fit in host memory; called for each
    problem before anything is compiled or the result folder exists."""
    from sgd_bench import memory

    largest = -(-config["seeds"] // -(-config["seeds"] // config["block"]))  # seed_blocks' largest (listing them hung)
    for mtext, group in zip(config["methods"], methods):
        if not isinstance(group, MethodGroup):
            group = MethodGroup([mtext], [group], (), {})
        runs = largest * len(group.methods)  # a grid's configurations run as one program
        estimate = memory.estimate_run_bytes(problem, group.methods[0], runs, config["steps"],
                                             config["log_every"])
        size = (f"{memory.shown_count(largest)} seeds of --block" if len(group.methods) == 1 else
                f"{len(group.methods)} configurations x {memory.shown_count(largest)} seeds of --block")
        memory.check_run_fits(estimate, f"a cell of --method {mtext!r} ({size})")
    steps, every = config["steps"], config["log_every"]
    logged = steps // every + 1 + (1 if steps % every else 0)
    count = sum(len(parse_spec(m, "--method").expand()) for m in config["methods"])
    rows = len(config["problems"]) * count * config["seeds"] * logged
    host = config["seeds"] * memory.KEY_BYTES + rows * ROW_BYTES
    sizes = " x ".join(f"{memory.shown_count(n)} {w}{'s' * (n != 1)}" for n, w in ((config["seeds"], "seed"), (logged, "logged step"),
                       (len(config["methods"]), "method"), (len(config["problems"]), "problem")))  # "1 methods"
    memory.check_host_fits(host, 0, f"storing the grid's seed keys and its {memory.shown_count(rows)} record row{'s' * (rows != 1)} ({sizes})",
                           hint="use fewer --seeds or a larger --log-every")


# Settings that take effect at a step: at or beyond --steps, the run is another method under the
# spec's label (plain SGD's iterate for averaged, averaged SGD alone for online_newton).
_LATE_SETTINGS = {"start": "no iterate would be averaged", "phase1_steps": "no Newton step would run"}


def check_steps(config: dict, methods) -> None:
    """Refuses a method whose averaging start or phase-1 length is not below ``--steps``."""
    from sgd_bench import Method

    steps = config["steps"]
    for mtext, group in zip(config["methods"], methods):
        stack = list(group.methods if isinstance(group, MethodGroup) else [group])
        while stack:
            hyper = stack.pop().hyperparams
            stack += [v for v in hyper.values() if isinstance(v, Method)]
            for key, why in _LATE_SETTINGS.items():
                if key in hyper and int(np.asarray(hyper[key])) >= steps:
                    raise ValueError(f"--method {mtext!r}: {key}={int(np.asarray(hyper[key]))} is not below "
                                     f"--steps {steps}: {why}; give {key} < {steps}")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9=-]+", "_", text).strip("_")[:60]


def cell_name(i: int, problem: str, j: int, method: str, start: int, stop: int) -> str:
    """The file stem of one cell: problem and method indices and slugs, and the seed range."""
    return f"p{i}-{_slug(problem)}__m{j}-{_slug(method)}__seeds{start}-{stop - 1}"


def seed_blocks(seeds: int, block: int) -> list[tuple[int, int]]:
    """[start, stop) seed ranges of at most ``block`` seeds, as equal as possible, so that every
    cell has one of at most two shapes (one or two compiled programs per method)."""
    count = -(-seeds // block)
    base, extra = divmod(seeds, count)
    bounds, start = [], 0
    for i in range(count):
        stop = start + base + (1 if i < extra else 0)
        bounds.append((start, stop))
        start = stop
    return bounds


def run_grid(config: dict, out: Path, *, resume: bool = False, log: Callable[[str], None] | None = None,
             command: str | None = None, keep_cells: bool = False, known: dict | None = None) -> list[dict]:
    """Runs every cell of ``config`` not already stored in ``out/cells``, then writes the
    records, ``meta.json``, ``summary.md`` and the figure; returns the summary rows.

    The cell files exist for resumption; once their rows are merged into the records and the
    folder is marked complete they are removed (``keep_cells=True`` keeps them). ``known``:
    {problem spec: its L, L_max, mu and f*} already computed (``work.said_constants``).
    """
    import jax

    if not jax.config.jax_enable_x64:
        # float64 problems, reference values and 63-bit seed keys need it; turning it on here
        # would change the whole process behind its back (the command line turns it on once).
        raise RuntimeError("run_grid needs jax_enable_x64 on: call jax.config.update('jax_enable_x64', "
                           "True) first (sgd-bench run does)")

    from sgd_bench import runner
    from sgd_bench_harness import results
    from sgd_bench_harness import records
    from sgd_bench_harness import folders

    emit = log or (lambda text: print(text, file=sys.stderr, flush=True))

    def log(text: str) -> None:  # labels are typed by the user: an ESC, U+202E or newline in one shows
        emit(results.printable(text))  # as its escape, as in the final table, not as a terminal effect
    out = Path(out)
    cells_dir = out / "cells"
    if (cells_dir.exists() or cells_dir.is_symlink()) and not cells_dir.is_dir():  # was "[Errno 17] File exists"
        raise ValueError(f"{cells_dir} is not a folder, and the grid stores its cells there; move or remove it, "
                         "then run the same command again (or remove the folder to start the grid over)")
    digest = results.config_hash(KIND, config, dtype=config["dtype"])
    folders.mark(out, folders.STATUS_RUNNING, digest, {"experiment": KIND, "kind": KIND,
                                                             "config": config})
    meta = folders.read_meta(out) or {}
    files = {p: records.files_digest(parse_spec(p, "--problem").options) for p in config["problems"]}
    stored = meta.get("input_files") if isinstance(meta.get("input_files"), dict) else {}
    changed = [p for p, digest in stored.items() if isinstance(digest, dict)  # per file: {} is an older record
               and any(files.get(p, {}).get(k) != v for k, v in digest.items())]
    if changed:  # the stored cells and f* are of the old file: resuming would mix the two
        raise ValueError(f"--problem {changed[0]!r}: its file changed since the interrupted run in {out} "
                         "stored its first cells; remove that folder to start again, or restore the file")
    folders.mark(out, folders.STATUS_RUNNING, digest, {"input_files": files})
    # an f* that is not [number, how] (a meta.json edited by hand) is computed again, as if absent
    f_stars = {p: v for p, v in (meta.get("f_star") if isinstance(meta.get("f_star"), dict) else {}).items()
               if isinstance(v, list) and len(v) == 2 and type(v[0]) in (int, float) and isinstance(v[1], str)}
    blocks = seed_blocks(config["seeds"], config["block"])
    # compiled: the (problem, method, block size) programs timed already; later cells reuse them
    total, done, compiled = len(config["problems"]) * len(config["methods"]) * len(blocks), 0, set()
    for i, ptext in enumerate(config["problems"]):
        problem = build_problem(parse_spec(ptext, "--problem"), config["dtype"])
        constants = work.said_constants(problem, ptext, log, (known or {}).get(ptext))
        methods = [build_methods(parse_spec(m, "--method"), problem, constants) for m in config["methods"]]
        names = [cell_name(i, ptext, j, m, a, b) for j, m in enumerate(config["methods"]) for a, b in blocks]
        if ptext in f_stars and all(records.read_cell(cells_dir, n) is not None for n in names):
            done += len(names)
            log(f"[{done}/{total}] {ptext}: every cell already stored")
            continue
        if ptext not in f_stars:
            f_stars[ptext] = work.kept_f_star(problem, constants) or _f_star(problem, log)  # solved once
            folders.check_still_there(out, keep=lambda now: folders.mark(now, folders.STATUS_RUNNING, digest, {
                "f_star": f_stars}) or f"f* of {ptext}", log=log)
            folders.mark(out, folders.STATUS_RUNNING, digest, {"f_star": f_stars})
        f_star = f_stars[ptext][0]
        x0 = problem.zeros()
        keys = runner.seed_keys(jax.random.key(config["key"]), config["seeds"])
        for j, (mtext, method) in enumerate(zip(config["methods"], methods)):
            for a, b in blocks:
                done += 1
                name = cell_name(i, ptext, j, mtext, a, b)
                marker = cells_dir / f"{name}.json"
                if marker.exists() and records.read_cell(cells_dir, name) is not None:
                    log(f"[{done}/{total}] {ptext} / {mtext} / seeds {a}-{b - 1}: stored, skipped")
                    continue
                if marker.exists():  # damaged on disk: computed again, not failed at the end
                    log(f"{ptext} / {mtext} / seeds {a}-{b - 1}: the stored cell does not read back; computed again")
                began = time.perf_counter()
                # One program whether a bar is drawn or not: a run resumed without a terminal
                # computes exactly what the interrupted one did with one.
                traces = _run_cell(problem, method, x0, keys[a:b], config,
                                   label=results.printable(f"{mtext} seeds {a}-{b - 1}"))
                seconds = time.perf_counter() - began
                rows = [row for label, trace in zip(method.labels, traces)
                        for row in cell_records(trace, problem=ptext, method=label, start=a,
                                                 f_star=f_star)]
                n_div = int(sum(np.sum(np.asarray(t.diverged)) for t in traces))
                n_rose = int(sum(np.sum(np.asarray(t.rose)) for t in traces))
                cell = dict(seconds=seconds, diverged=n_div, seeds=b - a, labels=method.labels)
                folders.check_still_there(out, keep=lambda now: records.write_cell(now / "cells", name, rows, cell)
                                          or f"the cell it had just finished ({ptext} / {mtext} / seeds {a}-{b - 1})", log=log)
                records.write_cell(cells_dir, name, rows, cell)
                rose_text = f", {n_rose} rose above {rise_factor(config):g}x their start" if n_rose else ""
                log(f"[{done}/{total}] {ptext} / {mtext} / seeds {a}-{b - 1}: {seconds:.2f} s "  # every cell said
                    f"{'' if (i, j, b - a) in compiled else '(with compilation), '}{n_div} diverged{rose_text}")
                compiled.add((i, j, b - a))  # "(with compilation)", the 1,000,000th of --block 1 too
                for label, trace in zip(method.labels, traces):
                    at = np.asarray(trace.negative_step_at)
                    if np.any(at >= 0):
                        log(f"warning: {ptext} / {label}: the step size is negative from step "
                            f"k = {int(at[at >= 0].min())}: the run climbs uphill from there")
        del problem
    folders.check_still_there(out)
    rows, timings = [], {}
    for i, ptext in enumerate(config["problems"]):
        for j, mtext in enumerate(config["methods"]):
            for a, b in blocks:
                name = cell_name(i, ptext, j, mtext, a, b)
                stored, cell = records.read_cell(cells_dir, name)
                rows.extend(stored)
                labels = cell.get("labels", [mtext])
                for c, label in enumerate(labels):
                    # a grid's cell is one program: its time is split evenly between its points
                    timings[f"{name}#{c}"] = dict(problem=ptext, method=label,
                                                  seconds=cell["seconds"] / len(labels))
    written = records.write_records(out / "records", rows)
    extra = {"kind": KIND, "f_star": f_stars, "cells": timings,
             "records": records.records_digest(written, len(rows)),
             **{k: v for k, v in results.metadata_record(KIND, config, dtype=config["dtype"]).items()
                if k not in ("wall_seconds",)}}
    if command:
        extra["command"] = command
    folders.mark(out, folders.STATUS_RUNNING, digest, extra)
    summary = report(out)
    folders.check_still_there(out, drop=("summary.md", "grid.png"))
    folders.mark(out, folders.STATUS_COMPLETE, digest)
    if not keep_cells:
        shutil.rmtree(cells_dir, ignore_errors=True)
    return summary


def _run_cell(problem, group: MethodGroup, x0, keys, config, *, label):
    """The traces of one cell: ``run_keys`` for a single method, one sweep program (every
    configuration x the block's seeds) for a grid; a list with one trace per configuration."""
    import jax
    import jax.numpy as jnp

    from sgd_bench import runner
    from sgd_bench.sweep import swept_positions

    steps, every, rise = config["steps"], config["log_every"], rise_factor(config)
    if len(group.methods) == 1:
        trace = runner.run_keys_chunked(problem, group.methods[0], x0, keys, steps=steps,
                                        log_every=every, label=label, rise_factor=rise)
        return [jax.block_until_ready(trace)]
    base = group.methods[0]
    x0, _, steps, every, _ = runner.check_args(problem, base, x0, 0, steps, every, None)
    positions = swept_positions(base, list(group.swept))
    values = tuple(jnp.asarray(group.values[name]) for name in group.swept)
    trace = runner.execute(problem, base, x0, keys, None, steps=steps, log_every=every,
                           mode="sweep", swept=positions, values=values,
                           progress=runner.use_progress(None) and steps > every, label=label,
                           rise_factor=rise)
    jax.block_until_ready(trace)
    return [jax.tree_util.tree_map(lambda a, c=c: a[c], trace) for c in range(len(group.methods))]
