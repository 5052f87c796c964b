"""What a user waits for: the wall time of whole ``sgd-bench`` commands, from a cold and from a
warm persistent compilation cache.

Nearly all of a short run's time is compiling. ``sgd-bench`` keeps JAX's persistent
compilation cache in a user folder (``sgd_bench_harness.compile_cache``), so a second process can load
its programs instead of compiling them. This script runs each command in a fresh process, once
with an empty cache folder ("cold", what a new user sees) and then again with the folder that
run filled ("warm"), ``repeats`` times, and compares the medians with the targets of the
README: the main job (``sgd-bench run``, the lecture experiment) within 30 s cold and 10 s warm,
and ``sgd-bench run --quick`` within 5 s warm.

A wall time means something only with its machine: the records hold the device, the CPU count
and the load average before each command, and the summary warns when the machine was busy. They
also hold each command's CPU seconds (user + system, the process and its children): on a busy
machine those grow far less than the wall time, so runs on a shared machine compare by them.

    python scripts/startup.py [--quick] [--out DIR] [--overwrite]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from sgd_bench_harness import experiment, plots, results, toolkit
from sgd_bench_harness.toolkit import Check

NAME = "startup"
DESCRIPTION = "wall time of whole sgd-bench commands in a fresh process, cold and warm compilation cache"

# (label, arguments after `sgd-bench`): the README's main job and its quick variant.
FULL = dict(commands=(("main job", ("run",)), ("--quick", ("run", "--quick"))), repeats=3)
# A seconds-long grid stands in for them in the quick run (its timings are not claims).
QUICK = dict(commands=(("tiny grid", ("run", "--problem", "lecture-logreg", "--method", "gd",
                                      "--steps", "5", "--seeds", "2")),), repeats=1)

# The targets of the README (issue "Performance round 2"), on the 2-core CPU it names: seconds
# for (label, cache) where the command is in the run.
TARGETS = {("main job", "cold"): 30.0, ("main job", "warm"): 10.0, ("--quick", "warm"): 5.0}
# Above this one-minute load average a timing is flagged in the summary as taken on a busy machine.
QUIET_LOAD = 0.5


def _time_command(args, cache: Path, out: Path) -> float:
    """Seconds of one ``sgd-bench ARGS --out OUT`` in a fresh Python process with ``cache`` as
    its compilation cache folder; raises with the command's output when it fails."""
    env = dict(os.environ, SGD_BENCH_COMPILATION_CACHE=str(cache))
    command = [sys.executable, "-m", "sgd_bench", *args, "--out", str(out)]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[2:])} exited with {done.returncode}:\n"
                           f"{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return seconds


def _children_cpu() -> float:
    """CPU seconds (user + system) of this process's finished child processes so far."""
    import resource  # POSIX only; imported here so that the module loads everywhere

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _medians(rows, column: str = "seconds") -> dict[tuple[str, str], float]:
    """{(command label, cache state): median of ``column`` over the repeats}."""
    groups: dict[tuple[str, str], list[float]] = {}
    for r in rows:
        groups.setdefault((r["command"], r["cache"]), []).append(r[column])
    return {k: statistics.median(v) for k, v in groups.items()}


def _checks(rows) -> list[dict]:
    """One check per target whose command was timed, from the records alone."""
    medians = _medians(rows)
    repeats = {(r["command"], r["cache"]) for r in rows}
    checks = []
    for (label, cache), target in TARGETS.items():
        if (label, cache) not in repeats:
            continue
        seconds = medians[(label, cache)]
        n = sum(1 for r in rows if (r["command"], r["cache"]) == (label, cache))
        claim = f"`sgd-bench {_shown(rows, label)}` takes at most {target:g} s with a {cache} compilation cache"
        checks.append(Check(claim=claim, measured=dict(median_seconds=seconds, repeats=n),
                            holds=bool(seconds <= target), wallclock=True,
                            summary=f"{claim} (measured: median {seconds:.1f} s of {n})"))
    return toolkit.records(checks)


def _shown(rows, label: str) -> str:
    return next(r["arguments"] for r in rows if r["command"] == label)


def run(config: dict, out: Path) -> dict:
    """Times every command cold then warm, ``repeats`` times, and stores one row per timing."""
    started = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory(prefix="sgd-bench-startup-") as scratch:
        scratch = Path(scratch)
        for repeat in range(config["repeats"]):
            for label, args in config["commands"]:
                cache = scratch / f"cache-{label.strip('-').replace(' ', '-')}-{repeat}"
                cache.mkdir()
                for state in ("cold", "warm"):
                    load = os.getloadavg()[0]
                    cpu = _children_cpu()
                    seconds = _time_command(args, cache, scratch / f"out-{len(rows)}")
                    cpu = _children_cpu() - cpu
                    rows.append(dict(command=label, arguments=" ".join(args), cache=state, repeat=repeat,
                                     seconds=seconds, cpu_seconds=round(cpu, 2), load_before=round(load, 2)))
                    print(f"[{repeat + 1}/{config['repeats']}] {label}, {state} cache: {seconds:.1f} s, "
                          f"{cpu:.1f} CPU s (load {load:.2f})", flush=True)
    device = results.device_label()
    wall = time.perf_counter() - started
    meta = results.metadata_record(NAME, config, dtype="n/a", wall_seconds=round(wall, 1))
    experiment.save(out, rows=[dict(device=device, **r) for r in rows], meta=meta, checks=_checks(rows))
    return report(out, echo=True)


def report(out: Path, echo: bool = False) -> dict:
    """Draws the figure and writes ``summary.md`` from the stored timings alone."""
    out = Path(out)
    rows, meta, _ = experiment.open_report(out)

    checks = _checks(rows)
    results.write_json(out / "checks.json", checks)
    medians = _medians(rows)
    labels = list(dict.fromkeys(r["command"] for r in rows))
    device = rows[0]["device"]

    fig, ax = plt.subplots(figsize=(7, 4))
    width = 0.38
    for j, (state, color) in enumerate([("cold", plots.COLORS[3]), ("warm", plots.COLORS[0])]):
        xs = np.arange(len(labels)) + (j - 0.5) * width
        ax.bar(xs, [medians[(c, state)] for c in labels], width, color=color, label=f"{state} cache (median)")
        for i, c in enumerate(labels):
            each = [r["seconds"] for r in rows if (r["command"], r["cache"]) == (c, state)]
            ax.plot([xs[i]] * len(each), each, "k.", ms=5)
            target = TARGETS.get((c, state))
            if target is not None:
                ax.plot([xs[i] - width / 2, xs[i] + width / 2], [target] * 2, "k--", lw=1.2)
    ax.plot([], [], "k--", lw=1.2, label="target")
    ax.plot([], [], "k.", label="each repeat")
    ax.set_xticks(np.arange(len(labels)), [f"sgd-bench {_shown(rows, c)}" for c in labels])
    ax.set(ylabel="seconds, whole process", title=f"Start-up cost on {device} ({meta['cpu_count']} CPU cores)")
    ax.legend()
    toolkit.save(fig, out / "startup.png")
    plt.close(fig)

    # Records written before the CPU seconds were recorded rebuild their summary as it was.
    cpu = _medians(rows, "cpu_seconds") if all(r.get("cpu_seconds") is not None for r in rows) else None
    table = []
    for c in labels:
        cold, warm = medians[(c, "cold")], medians[(c, "warm")]
        line = dict(command=f"sgd-bench {_shown(rows, c)}", cold_s=f"{cold:.1f}", warm_s=f"{warm:.1f}",
                    warm_vs_cold=f"{warm / cold:.2f}x")
        if cpu is not None:
            line.update(cold_cpu_s=f"{cpu[(c, 'cold')]:.1f}", warm_cpu_s=f"{cpu[(c, 'warm')]:.1f}")
        table.append(dict(line, targets=", ".join(f"{s} <= {TARGETS[(c, s)]:g} s" for s in ("cold", "warm")
                                                  if (c, s) in TARGETS) or "-"))
    # The one-minute load average before a later command includes the commands timed before
    # it (each keeps both cores busy); only the first one says how busy the machine was.
    first, loads = rows[0]["load_before"], [r["load_before"] for r in rows[1:]] or [rows[0]["load_before"]]
    load_text = (f"One-minute load average before the first command: {first:.2f}"
                 + (f" (above {QUIET_LOAD}: the machine was busy, read these times as upper bounds)"
                    if first > QUIET_LOAD else "")
                 + f"; before the others {min(loads):.2f}-{max(loads):.2f}, which includes the commands"
                 " timed just before them.")
    cpu_text = ("" if cpu is None else "\n*_cpu_s: the median CPU seconds (user + system) of the same processes, "
                "which a busy machine inflates far less than their wall time.")
    wall = meta.get("wall_seconds") or 0.0
    text = f"""# Start-up cost: whole commands, cold and warm compilation cache

Each command ran in a fresh Python process on {device} ({meta['cpu_count']} CPU cores visible,
jax {meta['versions']['jax']}), {meta['config']['repeats']} time(s): first with an empty compilation cache folder
(cold, as for a new user), then again with the folder that run filled (warm). The time is the
whole process: interpreter start, imports, compiling or loading the programs, the run, the
figures and the files. {load_text}{cpu_text}

![start-up](startup.png)

{results.markdown_table(table, list(table[0]))}

## Checks

{experiment.check_lines(checks) if checks else "No target applies to the commands of this run."}

Wall time {wall:.0f} s.
"""
    experiment.close(out, text, checks=checks, echo=echo, wall=wall,
                     header=f"{NAME}: whole commands on {device}", tables=[(table, list(table[0]))])
    return {"rows": table, "checks": checks}


def main(argv=None) -> int:
    # No --seeds, --steps or --dtype: the commands timed are fixed (they are the README's).
    return experiment.main(argv, name=NAME, doc=__doc__, full=FULL, quick=QUICK, run=run, overrides={})


if __name__ == "__main__":
    sys.exit(main())
