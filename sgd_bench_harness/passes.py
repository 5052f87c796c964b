"""A run of several experiments in turn, ``sgd-bench run --all`` or ``sgd-bench run A B``, as a
pass that resumes: a line before and after each experiment, and the pass's progress in
``OUT/.sgd-bench-all.json`` (what it finished, and in how long), so that the same command after an
interruption skips what the pass finished (and the interrupted experiment resumes its own stored
parts), as long as its result is still there, complete, and of the config the experiment's checked argv now
runs (``experiment.CHECKED``): one deleted, emptied, or of a config since changed runs again.
The file goes when all are done.

Decided (issue 18): a plain run of two or more named experiments is such a pass, as ``--all`` is.
``run A B`` interrupted in B, run again, ran A again and wrote a second result beside its first;
the same command now skips A. A pass is keyed by the experiments' argvs (each ``--out`` absolute):
another command, ``--overwrite`` or other options included, starts a pass of its own (which keeps what an unfinished pass of more experiments in the root had
finished, for that pass's command). One experiment
named is one run, which resumes its own stored parts and keeps no pass file. ``--all`` hands
``--seeds``, ``--steps`` and ``--dtype`` to the experiments that take them, saying which run without
(``options_for_all``); experiments named are given them all, and one that does not take it refuses.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from sgd_bench_harness import experiment, folders
from sgd_bench_harness.experiment import say
from sgd_bench_harness.experiments import experiments, scripts_dir

# Experiments that measure an accelerator: ``run --all`` leaves them out when JAX sees only a CPU
# (gpu_bench's full size, n = 10^8, is sized for a GPU's memory).
ACCELERATOR_ONLY = ("gpu_bench",)
ALL_STATE = ".sgd-bench-all.json"  # a pass in progress: what it finished, and in how long
ALLOW_FAILED = "--allow-failed-claims"
NO_LIMIT = "--no-work-limit"  # like ALLOW_FAILED, not in a pass's key: it changes no result


def failed_claims_status(failed: list[str], total: int) -> int:
    """0, or ``FAILED_CLAIMS`` with a line naming the experiments whose claims failed (of several)."""
    if not failed:
        return 0
    if total > 1:
        say(f"claims failed in {len(failed)} of {total} experiments: {', '.join(failed)}")
    return experiment.FAILED_CLAIMS


def exit_status(name: str, code) -> int:
    """The exit status that experiment ``name``'s ``main(argv)`` returned (None: 0): a script of
    one's own returning 300 exited 44 (the shell keeps the status mod 256; 256 was a silent 0),
    and one returning a text printed it and exited 1. An integer outside 0-255 or any other value
    is refused with a line naming it (ValueError, exit 2), after the run it ended."""
    import operator

    from sgd_bench_harness.arg_types import abbreviated, printable

    if code is None:
        return 0
    try:
        status = operator.index(code)  # a bool or NumPy integer too (sys.exit(np.int64(3)) exited 1)
    except TypeError:
        status = None
    if status is not None and 0 <= status <= 255:
        return int(status)
    shown = printable(abbreviated(repr(code), 30))
    raise ValueError(f"experiment {name}: its main(argv) returned {shown}"
                     f"{'' if status is not None else f' (a {type(code).__name__})'}, which is no exit status: "
                     "return None or 0 for success, an integer 1-255 for a failure (raise an exception "
                     "to stop with a message)")


COUNTS = ("--seeds", "--steps")  # handed on as typed (cli._cmd_run); keyed as the number they are


def _counted(text: str) -> str:
    """A count as its number's digits: --seeds 1e3 and --seeds 1000 are one pass."""
    import argparse

    from sgd_bench_harness.arg_types import integer

    try:
        return str(integer(text))
    except argparse.ArgumentTypeError:  # not a count: the experiment's check refuses it
        return text


def all_experiments() -> list[str]:
    """The experiments ``run --all`` runs: every script, less ``ACCELERATOR_ONLY`` on a CPU."""
    import jax

    names = list(experiments())
    if jax.default_backend() == "cpu":
        names = [n for n in names if n not in ACCELERATOR_ONLY]
    if not names:  # an empty $SGD_BENCH_SCRIPTS folder: "all 0 experiments done", exit 0
        raise ValueError(f"--all: no experiment to run in {scripts_dir()} (found {', '.join(experiments()) or 'no *.py file'}"
                         f"; {', '.join(ACCELERATOR_ONLY)} runs only where JAX sees an accelerator)")
    return names


def options_for_all(names, modules, argvs, given, checks_only) -> list[list[str]]:
    """``argvs`` with each of ``given`` ([(--seeds/--steps/--dtype, value)]) added for the experiments
    that take it, and a line naming those that run without it: ``run --all --seeds 5`` was always
    refused, by batch_cost (which takes none of them). An experiment's options are known from its
    check (``experiment.TAKES``); a script of one's own with a bare main(argv) gets them all. An option
    that no experiment takes is refused, as a grid's options are for experiments."""
    with experiment.checking_only():  # parses and checks only: what each experiment takes
        for module, argv in zip(modules, argvs):
            if checks_only(module):
                module.main(argv)
    takes = {name: experiment.TAKES.get(name, experiment.OPTIONS) for name in names}
    for option, value in given:
        without = [name for name in names if option[2:] not in takes[name]]
        if len(without) == len(names):
            raise ValueError(f"{option} is not for --all here: none of its {len(names)} experiments takes it")
        takers = [name for name in names if name not in without]
        if without and len(takers) <= len(without):
            say(f"--all: {option} {value} goes only to {', '.join(takers)}, which take{'s' * (len(takers) == 1)} "
                f"it; the other {len(without)} run{'s' * (len(without) == 1)} without it")
        elif without:
            say(f"--all: {option} {value} goes to every experiment that takes it; {', '.join(without)} "
                f"do{'es' * (len(without) == 1)} not, and run{'s' * (len(without) == 1)} without it")
    quick = [argv[:1] == ["--quick"] for argv in argvs]
    return [argv[:q] + [w for o, v in given if o[2:] in takes[name] for w in (o, v)] + argv[q:]
            for name, argv, q in zip(names, argvs, quick)]


def run_all(root: Path, names, modules, argvs, every: bool) -> int:
    """Runs the experiments ``names`` in turn into ``root`` as a pass (``every``: ``--all``'s,
    which says what it leaves out). The pass holds ``root``'s lock: a second pass into this root
    at once would overwrite its progress file."""
    folders.check_writable(root)
    try:
        with folders.lock(root):
            return _run_pass(root, names, modules, argvs, every)
    except KeyboardInterrupt as err:  # its progress file is said (run_words.interrupted)
        err.pass_root = root
        raise


def _run_pass(root, names, modules, argvs, every: bool) -> int:
    """``run_all``'s pass, run while it holds ``root``'s lock."""
    from sgd_bench_harness import results

    state_path = root / ALL_STATE
    # each --out as an absolute path: results, ./results/ and /abs/results resumed none of each other's passes
    # and without --allow-failed-claims, which changes the exit status only: the same command with it,
    # after a pass stopped, ran every finished experiment again, each into NAME-DATE beside its result
    keyed = [[os.path.abspath(a) if i and v[i - 1] == "--out" else _counted(a) if i and v[i - 1] in COUNTS else a
              for i, a in enumerate(v) if a not in (ALLOW_FAILED, NO_LIMIT)] for v in argvs]
    allowed = bool(argvs) and all(ALLOW_FAILED in v for v in argvs)
    key = {"argvs": keyed}
    state = folders.read_pass(state_path, key, dict(zip(names, keyed)))  # a damaged entry: it runs again
    left_out = sorted(set(experiments()) - set(names)) if every else []
    if left_out:
        say(f"--all leaves out {', '.join(left_out)}: JAX sees no accelerator here (run it by name to force it)")
    total = len(names)
    # kept with the progress, so a resumed pass still reports them (a name of no experiment here gave exit 4)
    failed = [n for n in state["failed"] if n in names]
    others = [n for n in state["failed"] if n not in names]  # an unfinished pass's (folders.read_pass)
    for i, (name, module, argv) in enumerate(zip(names, modules, argvs), start=1):
        if name in state["done"]:
            # where it wrote (NAME, or NAME-DATE); a progress file from before this was kept is trusted
            gone = _result_gone(root / state["where"][name]) if name in state["where"] else None
            stored = (folders.read_meta(root / state["where"][name]) or {}) if name in state["where"] else {}
            was = stored.get("config_hash")
            if not gone and stored and experiment.CHECKED.get(name, was) != was:
                # its config changed since (a default of a newer sgd-bench): it was skipped, the pass then
                # mixing results of two configs; it runs again, beside (output_folder) the one of the old config
                gone = (f"its config has changed since (the result's {was}, now "
                        f"{experiment.CHECKED[name]}: another sgd-bench version?)")
            if not gone:
                say(f"[{i}/{total}] {name}: finished earlier in this pass ({state['done'][name]:.0f} s), skipped"
                    + ("" if every else " (--overwrite runs every one again)"))
                continue
            # deleted or emptied by hand since: the pass said "all N experiments done" with it missing
            if gone.endswith("has no meta.json"):  # its run would refuse the folder ("choose another --out")
                raise ValueError(f"{name} finished earlier in this pass, but {gone}, so no run may write there: "
                                 "move or remove that folder, then run the same command again")
            say(f"[{i}/{total}] {name}: finished earlier in this pass, but {gone}: running it again")
            del state["done"][name]
            failed[:] = [n for n in failed if n != name]
        say(f"[{i}/{total}] {name}: running")
        started, completed = time.perf_counter(), len(folders.COMPLETED)
        code = exit_status(name, module.main(argv))
        if code == experiment.FAILED_CLAIMS:
            if name not in failed:
                failed.append(name)
        elif code:
            return code
        state["done"][name] = time.perf_counter() - started
        if folders.COMPLETED[completed:]:  # NAME, or NAME-DATE beside a result it did not replace
            state["where"][name] = folders.COMPLETED[-1].name
        # the root moved while NAME ran (mv R R2): its progress goes there, and the pass stops before
        # the next experiment re-creates R (the old path was left behind, an empty folder at the end)
        folders.check_not_moved(root, what="the pass", keep=lambda now: results.write_json(
            now / ALL_STATE, {**state, "failed": failed + others}) or f"its progress ({name} done)")
        root.mkdir(parents=True, exist_ok=True)
        results.write_json(state_path, {**state, "failed": failed + others})
        say(f"[{i}/{total}] {name}: done in {state['done'][name]:.0f} s")
    seconds = sum(state["done"][n] for n in names)
    # `run A B` into the root of an interrupted --all (or run A B C): that pass resumes what it finished.
    # --all's own end drops them: experiments of no script here.
    if state["others"] and not every:
        results.write_json(state_path, {**state, "key": None, "failed": failed + others})
    else:
        state_path.unlink(missing_ok=True)
    print(f"all {total} experiments done into {results.printable(root)}/: {seconds / 60:.1f} minutes of running "
          "(resumed passes included)")
    status = failed_claims_status(list(failed), total)  # said either way; a claim failed earlier in the pass too
    return 0 if allowed else status


def _result_gone(folder: Path) -> str | None:
    """Why the result a pass finished in ``folder`` is no longer there, or None when it is."""
    from sgd_bench_harness.results import printable

    meta, shown = folders.read_meta(folder), printable(folder)  # said on one line: a newline in --out
    if meta is None:  # an emptied folder is as good as gone: its run writes there again
        if not folder.exists() or not any(folder.iterdir()):
            return f"{shown} is gone"
        return f"{shown} has no meta.json"
    if not folders.is_result(meta) or meta.get("status") != folders.STATUS_COMPLETE:
        return f"{shown}'s meta.json does not say it is complete"
    return None
