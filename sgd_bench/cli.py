"""The ``sgd-bench`` command line: ``run`` experiments, ``list`` what exists, show the ``env``.

Experiments are the files of the repository's ``scripts/`` folder (or of ``$SGD_BENCH_SCRIPTS``);
each defines ``NAME``, ``DESCRIPTION`` and ``main(argv)``. ``sgd-bench run`` with no name runs
the default suite, the experiments in ``DEFAULT_SUITE``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

DEFAULT_SUITE = ("lecture_logreg",)


def scripts_dir() -> Path:
    """Where the experiment scripts live."""
    env = os.environ.get("SGD_BENCH_SCRIPTS")
    return Path(env) if env else Path(__file__).resolve().parents[1] / "scripts"


def experiments() -> dict[str, Path]:
    """{name: path} of every experiment script."""
    folder = scripts_dir()
    if not folder.is_dir():
        raise FileNotFoundError(
            f"no experiment scripts at {folder}: install sgd-bench from a checkout "
            "(pip install -e .) or set SGD_BENCH_SCRIPTS to the scripts/ folder")
    return {p.stem: p for p in sorted(folder.glob("*.py")) if not p.name.startswith("_")}


def load(name: str) -> ModuleType:
    """Imports the experiment script ``name``; unknown names list the known ones."""
    known = experiments()
    if name not in known:
        raise ValueError(f"unknown experiment {name!r}; known experiments: {', '.join(known)}")
    spec = importlib.util.spec_from_file_location(f"sgd_bench_experiments.{name}", known[name])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cmd_run(args) -> int:
    names = args.experiments or list(DEFAULT_SUITE)
    modules = [load(name) for name in names]  # fail on a bad name before running anything
    for name, module in zip(names, modules):
        argv = []
        if args.quick:
            argv.append("--quick")
        if args.seeds is not None:
            argv += ["--seeds", str(args.seeds)]
        if args.out is not None:
            argv += ["--out", str(Path(args.out) / name)]
        code = module.main(argv)
        if code:
            return code
    return 0


def _cmd_list(args) -> int:
    del args
    import problems
    import sgd_bench

    print("experiments (sgd-bench run NAME):")
    for name in experiments():
        module = load(name)
        marker = " [default]" if name in DEFAULT_SUITE else ""
        print(f"  {name:<18} {getattr(module, 'DESCRIPTION', '')}{marker}")
    print("problems (problems.get(NAME, **kwargs)):")
    for name, text in problems.describe().items():
        print(f"  {name:<18} {text}")
    print("methods:")
    for sig, text in [("gd(step_size)", "full-gradient descent"),
                      ("sgd(step_size, batch_size, sampling)", "mini-batch SGD"),
                      ("from_optax(tx, batch_size, sampling)", "any optax GradientTransformation")]:
        print(f"  {sig:<38} {text}")
    print(f"samplings: {', '.join(sgd_bench.SAMPLINGS)}")
    print("schedules: constant(a), lecture_decreasing(mu), inverse_time(a, k0), inverse_sqrt(a)")
    return 0


def _cmd_env(args) -> int:
    del args
    from sgd_bench import results

    env = results.environment()
    for key, value in env.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in value.items() if v)
        print(f"{key:>13}: {value}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="sgd-bench", description="SGD theory next to measured numbers.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run experiments (default: the default suite)")
    run.add_argument("experiments", nargs="*", help=f"experiment names (default: {' '.join(DEFAULT_SUITE)})")
    run.add_argument("--quick", action="store_true", help="seconds-long runs into results/_quick/")
    run.add_argument("--seeds", type=int, help="seeds per method (overrides the experiment's default)")
    run.add_argument("--out", help="output root folder (each experiment writes OUT/NAME)")
    run.set_defaults(func=_cmd_run)
    sub.add_parser("list", help="list experiments, problems, methods and schedules").set_defaults(func=_cmd_list)
    sub.add_parser("env", help="show versions, devices and precision").set_defaults(func=_cmd_env)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError) as err:
        print(f"sgd-bench: error: {err}", file=sys.stderr)
        return 2
