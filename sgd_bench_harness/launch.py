"""Run one Python program as N JAX processes on this machine: ``python -m sgd_bench_harness.launch``.

    python -m sgd_bench_harness.launch -n 2 -- my_script.py ARGS...
    python -m sgd_bench_harness.launch -n 2 -- -m some.module ARGS...
    python -m sgd_bench_harness.launch -n 2 -- -c "python code"

Each process runs ``sgd_bench_harness._launch_child``, which sets up the process before the program
starts: the CPU backend with ``--xla_force_host_platform_device_count=K`` (``-d K``, default 2),
the gloo CPU collectives, and ``jax.distributed.initialize`` with a coordinator on a free port of
127.0.0.1, ``num_processes=N`` and ``process_id=i``; it also turns JAX's persistent compilation
cache off (``jax_enable_compilation_cache``), whatever the environment or the program sets: under
jax 0.12.1 a job in which process 0 loaded a program from the cache hung in that program's
first collective. The program then sees all N x K devices in
``jax.devices()``, ``sgd_bench.shard`` spreads the rows over them, and every array that the
runner returns is replicated, so each process holds the whole result. It must not call
``jax.distributed.initialize`` itself.

Output: every line a process writes is prefixed with ``[i]``. Failure: when a process exits with
a non-zero status or is killed, the launcher stops the others (SIGTERM, then SIGKILL after
``--grace`` seconds), prints one line naming the process and how it ended, and exits with that
process's status (1 when it was killed by a signal). It does not wait for JAX to notice: a
process blocked in a collective whose peer is gone may otherwise wait for minutes. Each process
also exits when the launcher disappears, and JAX's heartbeat timeout is set to ``--heartbeat``
seconds, so that processes started by hand (without this launcher) also give up in bounded
time.

A job stuck with every process alive (all waiting in a collective for each other) is stopped
too, with one line and exit status 1: when for ``--idle-timeout`` seconds (default 600; 0: never)
no process wrote a line or used more than 2% of a core, and when a process is still running
``--exit-wait`` seconds after another exited with 0 (every process waits at exit in JAX's shutdown
barrier for the others, so one still running after it is stuck). ``--timeout`` has no default: a
long computation uses CPU and is never stopped for its length. See ``job_watch``.

At most ``max_processes()`` processes (4 per core, at least 8), and as many CPU devices in all as
half the machine's threads and memory hold (``job_watch.check_devices``): more is refused with
exit status 3, before any starts. Output that cannot be written (a full disk) is read and
dropped, so that no process blocks on it, and a job that succeeded then exits with status 3,
saying so.

Needs jax >= 0.4.35: with 0.4.30 the gloo collectives aborted. The launcher checks the
arguments, then the installed version, and refuses older ones with exit status 2, as it does any
bad argument.

This is several processes on one machine: the same code runs across machines when every host
starts its process with the same coordinator address (see the README), but only the one-machine
form is tested here.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import importlib.machinery
import importlib.util
from importlib import metadata
from pathlib import Path
from typing import Callable

from sgd_bench_harness import arg_types, job_watch

MIN_JAX = (0, 4, 35)
ENV = "SGD_BENCH_LAUNCH"  # how the launcher tells a child its place in the job
CHILD = ["-m", "sgd_bench_harness._launch_child"]  # what each process runs before the target


def _version_tuple(text: str) -> tuple[int, ...]:
    """(0, 4, 35) from "0.4.35" (and from "0.4.35.dev2024..." or "0.5.0rc1")."""
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def check_jax(version: str | None = None) -> None:
    """Raises ``RuntimeError`` when the installed jax is older than the launcher needs."""
    if version is None:
        try:
            version = metadata.version("jax")
        except metadata.PackageNotFoundError:
            raise RuntimeError("jax is not installed") from None
    if _version_tuple(version) < MIN_JAX:
        need = ".".join(map(str, MIN_JAX))
        raise RuntimeError(f"several processes need jax >= {need} (the gloo CPU collectives of "
                           f"older versions abort); this is jax {version}: "
                           f"pip install 'jax>={need}'")


def max_processes() -> int:
    """The most processes ``launch`` starts on this machine: 4 per core (at least 8). Each is a
    whole JAX runtime (a few hundred MB and threads of its own); ``-n 100000`` started processes
    until the machine stalled (load average 320 on 2 cores) before this limit."""
    return max(8, 4 * (os.cpu_count() or 1))


def check_port_free(port: int) -> None:
    """Raises ValueError when something listens on ``port`` of 127.0.0.1: the coordinator could not
    start there (process 0 died with a JAX traceback, "Failed to start RPC server")."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # as a server binds (gRPC sets it): a port left in TIME_WAIT is usable, a listened one is not
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError as err:
            raise ValueError(f"port {port} on 127.0.0.1 cannot be used for the coordinator "
                             f"({err.strerror}); give another, or leave --port out for a free one") from None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pump(stream, out, prefix: bytes, lost: list, seen: list) -> None:
    """Copies a child's output line by line, each line prefixed with its process number, and
    notes in ``seen[0]`` when the last line came. When ``out`` cannot be written (a full disk),
    the error goes to ``lost`` and the rest is read and dropped: the thread died with a
    traceback, the job exited 0, and a child whose pipe filled would have blocked."""
    broken = False
    for line in iter(stream.readline, b""):
        seen[0] = time.monotonic()
        if broken:
            continue
        if not line.endswith(b"\n"):  # a last line without one ran into the next process's line
            line += b"\n"
        try:
            out.write(prefix + line)
            out.flush()
        except (OSError, ValueError) as err:
            lost.append(err)
            broken = True
    stream.close()


def _how(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with status {code}"


def _failed_line(failed: list, running: int, processes: int) -> str:  # "stopped the 0 still running": none was
    return "; ".join(f"process {i} of {processes} {_how(c)}" for i, c in failed) + (
        f"; stopped the {running} still running" if running else "")


def _names(indices, processes: int) -> str:
    """Names processes: "process 1 of 2", or "processes 1, 3 of 4"."""
    return (f"process {indices[0]}" if len(indices) == 1 else
            "processes " + ", ".join(map(str, indices))) + f" of {processes}"


def _module_found(name: str) -> bool:
    """Whether the top-level package of ``-m name`` is importable here or from the current
    folder (the processes' first path entry); found without importing anything."""
    top = name.split(".")[0]
    if not top:  # '' or '.x': python -m refuses them in every process, after each started (exit 1)
        return False
    return (importlib.util.find_spec(top) is not None
            or importlib.machinery.PathFinder.find_spec(top, [os.getcwd()]) is not None)


def launch(target: list[str], processes: int = 2, *, devices: int = 2, port: int | None = None,
           heartbeat: int = 30, init_timeout: int = 60, grace: float = 3.0,
           timeout: float | None = None, idle_timeout: float | None = 600.0,
           exit_wait: float | None = None, stdout=None, stderr=None, named: Callable[[str], str] = str) -> int:
    """Runs ``python TARGET...`` as ``processes`` JAX processes; returns the job's exit status.

    **Arguments:**

    - ``target``: what follows ``python`` on a command line: ``["script.py", ...]``,
      ``["-m", "module", ...]`` or ``["-c", "code", ...]``.
    - ``processes``: the number of processes N.
    - ``devices``: CPU devices per process (``--xla_force_host_platform_device_count``).
    - ``port``: the coordinator's port on 127.0.0.1 (default: a free one).
    - ``heartbeat``: seconds after which JAX itself declares a silent process dead.
    - ``init_timeout``: seconds a process waits for the others to join.
    - ``grace``: seconds between SIGTERM and SIGKILL when the job is stopped.
    - ``timeout``: stop the job after this many seconds (default: no limit).
    - ``idle_timeout``: stop the job when for this many seconds no process wrote a line or used
      more than 2% of a core: all of them wait (in a collective, for each other) and none will
      go on (default 600; None: never).
    - ``exit_wait``: stop the processes still running this many seconds after one exited with 0
      (default: JAX's shutdown barrier, max(heartbeat, 10) s, plus 30 s; None in the call
      means that default). Every process waits at exit in that barrier for the others, so a
      process still running after it is stuck.
    - ``stdout``, ``stderr``: binary streams for the prefixed output (default: this process's).
    - ``named``: how messages name a keyword (as ``check_options``): the keyword for Python, the
      option as typed for the command line.

    **Returns:** 0 when every process exited with 0 (3 when their output could not be written);
    otherwise the status of the first process that failed (1 when it was killed by a signal, or
    when the launcher stopped the job: ``timeout``, ``idle_timeout``, ``exit_wait``).
    """
    exit_wait = check_options(processes, devices=devices, port=port, heartbeat=heartbeat,
                              init_timeout=init_timeout, timeout=timeout, idle_timeout=idle_timeout,
                              exit_wait=exit_wait, named=named)
    target = [str(t) for t in target]
    if not target:
        raise ValueError("target is empty: give a script, -m MODULE or -c CODE")
    if target[0] in ("-m", "-c"):
        if len(target) < 2:
            raise ValueError(f"target {target[0]} needs an argument")
        if target[0] == "-m" and not _module_found(target[1]):
            # as a missing script: it started every process, each printing runpy's ImportError
            top = target[1].split(".")[0]
            why = f"no {top!r} on the Python path" if top else "python -m takes no relative or empty module name"
            raise ValueError(f"target module {target[1]!r} is not found ({why})")
    elif target[0].startswith("-"):
        raise ValueError(f"target must be a script, -m MODULE or -c CODE, got {target[0]!r}")
    elif not Path(target[0]).is_file():
        raise ValueError(f"target script {target[0]!r} is not a file")
    if port:
        check_port_free(port)
    check_jax()  # after the arguments: a bad one is named on every jax version
    # a closed stream (>&-) is None in Python: its output is dropped, as print drops it
    stdout = stdout or getattr(sys.stdout, "buffer", None) or open(os.devnull, "wb")
    stderr = stderr or getattr(sys.stderr, "buffer", None) or open(os.devnull, "wb")
    lost, seen = [], [0.0]
    address = f"127.0.0.1:{port or free_port()}"
    procs, pumps = [], []
    try:
        for i in range(processes):
            env = dict(os.environ, PYTHONUNBUFFERED="1",
                       **{ENV: f"{address},{processes},{i},{devices},{heartbeat},{init_timeout}"})
            # A session of its own: stopping a process also stops whatever it started.
            try:
                p = subprocess.Popen([sys.executable, *CHILD, *target],
                                     env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     start_new_session=True)
            except OSError as err:  # ulimit -n / -u too small: OSError's traceback, exit 1
                raise MemoryError(f"cannot start process {i} of {processes} ({err.strerror or err}): raise "
                                  "the limit (ulimit -n for open files, ulimit -u for processes) or start "
                                  f"fewer; stopped the {len(procs)} already started") from None
            procs.append(p)
            prefix = f"[{i}] ".encode()
            for stream, out in ((p.stdout, stdout), (p.stderr, stderr)):
                t = threading.Thread(target=_pump, args=(stream, out, prefix, lost, seen), daemon=True)
                t.start()
                pumps.append(t)
        start = time.monotonic()
        idle = job_watch.Idle(procs, idle_timeout, seen) if idle_timeout is not None else None
        failed, stopped, first_ok = None, "", None
        while failed is None:
            codes = [job_watch.exit_code(p) for p in procs]  # not reaped: see stop_groups
            now = time.monotonic()
            bad = [(i, c) for i, c in enumerate(codes) if c not in (None, 0)]
            if first_ok is None and 0 in codes:
                first_ok = (now, codes.index(0))
            running = [i for i, c in enumerate(codes) if c is None]
            if bad:
                failed = bad
            elif all(c == 0 for c in codes):
                break
            elif timeout is not None and now - start > timeout:
                failed, stopped = [], (f"the job ran past {_setting(named, 'timeout', f'{timeout:g}')} s; stopped all "
                                       f"{processes} processes")
            elif first_ok is not None and now - first_ok[0] > exit_wait:
                failed = []
                stopped = (f"{_names(running, processes)} still running {exit_wait:g} s after process "
                           f"{first_ok[1]} exited with status 0 (waiting for a peer that has left?); stopped "
                           f"{'it' if len(running) == 1 else 'them'} ({named('exit_wait')})")
            elif idle is not None and idle.stuck(now):
                failed = []
                stopped = (f"the job looks stuck: for {idle_timeout:g} s no process wrote a line or used more "
                           f"than {job_watch.Idle.SHARE:.0%} of a core (all waiting for each other, in a collective?); "
                           f"stopped all {len(running)} running ({_setting(named, 'idle_timeout', None)} turns this "
                           "check off)")
            else:
                time.sleep(0.05)
    finally:
        # Reached on failure, on timeout and on Ctrl-C / SIGTERM of the launcher alike.
        job_watch.stop_groups(procs, grace)
        job_watch.drain(pumps, seen)
    if failed is None and lost:  # the job ran, but its output was not written: not a success
        err = lost[0]
        with contextlib.suppress(OSError, ValueError):
            stderr.write(f"sgd-bench launch: error: the job's output could not be written "
                         f"({getattr(err, 'strerror', None) or err})\n".encode())
            stderr.flush()
        return 3
    if failed is None:
        return 0
    if not failed:
        msg, code = stopped, 1
    else:
        # Usually one process; several only when they ended within the same poll.
        code = failed[0][1]
        msg = _failed_line(failed, len(running), processes)
    stderr.write(f"sgd-bench launch: {msg}\n".encode())
    stderr.flush()
    return code if code and code > 0 else 1


def _setting(named: Callable[[str], str], keyword: str, value) -> str:
    """A setting as the caller writes it: ``--timeout 5`` on the command line, ``timeout=5`` in
    Python (the runtime messages said "--idle-timeout 0" to Python callers too). A value of None
    is the one that turns the check off: 0 for an option, None for a keyword."""
    name = named(keyword)
    if name.startswith("-"):
        return f"{name} {0 if value is None else value}"
    return f"{name}={value}"


def check_options(processes: int, *, devices: int, port: int | None, heartbeat: int, init_timeout: int,
                  timeout: float | None, idle_timeout: float | None, exit_wait: float | None,
                  named: Callable[[str], str] = str) -> float:
    """Refuses a bad number of ``launch`` (ValueError; MemoryError when the machine cannot run it),
    naming it by ``named(keyword)``: the keyword for Python, the option as typed for the command
    line. Returns exit_wait, its default filled in."""
    if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535):
        # -1 crashed a child with SIGSEGV inside JAX's coordinator; 70000 is no port either
        raise ValueError(f"{named('port')} must be an integer in [0, 65535] (0: a free one), got {port!r}")
    for name, value, low in [("processes", processes, 1), ("devices", devices, 1),
                             ("heartbeat", heartbeat, 1), ("init_timeout", init_timeout, 1)]:
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{named(name)} must be an integer >= {low}, got {value!r}")
        if name != "processes" and value > 2**31 - 1:  # JAX and XLA take a C int: the children died
            raise ValueError(f"{named(name)} must be at most 2**31 - 1, got {value!r}")  # (a traceback, XLA's flags)
    for name, value in [("timeout", timeout), ("idle_timeout", idle_timeout), ("exit_wait", exit_wait)]:
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or not value > 0):  # NaN too
            raise ValueError(f"{named(name)} must be a number of seconds > 0 (or None), got {value!r}")
    if processes > max_processes():  # a resource, not a typo: exit 3, as the CLI's memory guard
        raise MemoryError(f"{named('processes')} {processes} is more than this machine runs at once: at most "
                          f"{max_processes()} (4 per core, {os.cpu_count()} core(s)); each process is a "
                          "whole JAX runtime")
    job_watch.check_devices(processes, devices, named("devices"))
    return max(heartbeat, 10) + 30.0 if exit_wait is None else exit_wait


def _typed(argv: list[str]) -> Callable[[str], str]:
    """Names a keyword of ``launch`` by its option as typed in ``argv`` (-n or --processes): the
    messages said "processes", "heartbeat" where the main checks said "--idle-timeout"."""
    options = argv[:argv.index("--")] if "--" in argv else argv
    short = {"processes": "-n", "devices": "-d"}

    def named(keyword: str) -> str:
        flag = short.get(keyword)
        if flag and any(o.startswith(flag) and not o.startswith("--") for o in options):
            return flag
        return "--" + keyword.replace("_", "-")
    return named


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m sgd_bench_harness.launch",
        description="Run a Python program as N JAX processes on this machine (CPU devices, gloo "
                    "collectives, coordinator on 127.0.0.1).",
        epilog="example: python -m sgd_bench_harness.launch -n 2 -- my_script.py --steps 100")
    p.add_argument("-n", "--processes", type=int, default=2, help="number of processes (default 2)")
    p.add_argument("-d", "--devices", type=int, default=2, help="CPU devices per process (default 2)")
    p.add_argument("--port", type=int, help="coordinator port on 127.0.0.1 (default: a free one)")
    p.add_argument("--heartbeat", type=int, default=30,
                   help="seconds after which JAX declares a silent process dead (default 30)")
    p.add_argument("--init-timeout", type=int, default=60,
                   help="seconds a process waits for the others to join (default 60)")
    # the seconds are read as text, and judged in main on the text typed (1e400 was "got inf")
    p.add_argument("--grace", default="3",
                   help="seconds between SIGTERM and SIGKILL when stopping the job (default 3)")
    p.add_argument("--timeout", help="stop the job after this many seconds (default: no limit)")
    p.add_argument("--idle-timeout", default="600",
                   help="stop the job when for this many seconds no process wrote a line or used more than "
                        "2%% of a core: stuck, each waiting for another (default 600; 0: never)")
    p.add_argument("--exit-wait",
                   help="stop the processes still running this many seconds after one exited with status 0 "
                        "(default: max(heartbeat, 10) + 30, JAX's shutdown barrier and a margin)")
    p.add_argument("target", nargs=argparse.REMAINDER,
                   help="after --: script.py ARGS, -m MODULE ARGS or -c CODE ARGS")
    return p


def _seconds(text: str | None, option: str, within, what: str) -> float | None:
    """An option's seconds, or a ValueError that echoes the text typed (``--grace 1e400`` said "got inf")."""
    try:
        return None if text is None else arg_types.number(text, within, what)
    except argparse.ArgumentTypeError as err:
        raise ValueError(f"{option} {err}") from None


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    target = args.target[1:] if args.target[:1] == ["--"] else args.target
    try:
        # written so that NaN fails too: --timeout nan never stopped the job
        args.grace = _seconds(args.grace, "--grace", lambda v: 0 <= v < float("inf"), ">= 0 and finite (seconds)")
        args.timeout = _seconds(args.timeout, "--timeout", lambda v: v > 0, "> 0 (seconds; inf for no limit)")
        args.idle_timeout = _seconds(args.idle_timeout, "--idle-timeout", lambda v: v >= 0,
                                     ">= 0 (seconds; 0 or inf: never)")
        args.exit_wait = _seconds(args.exit_wait, "--exit-wait", lambda v: v > 0, "> 0 (seconds; inf: never)")
        check_options(args.processes, devices=args.devices, port=args.port, heartbeat=args.heartbeat,
                      init_timeout=args.init_timeout, timeout=args.timeout, idle_timeout=args.idle_timeout or None,
                      exit_wait=args.exit_wait, named=_typed(list(sys.argv[1:] if argv is None else argv)))
        # Ctrl-C or SIGTERM of the launcher: stop the children (launch's finally) and exit 130.
        # Restored at the end: a Python caller (a test's process) kept SIGTERM as Ctrl-C after main.
        previous = signal.signal(signal.SIGTERM, _interrupt)
        return launch(target, args.processes, devices=args.devices, port=args.port,
                      heartbeat=args.heartbeat, init_timeout=args.init_timeout, grace=args.grace,
                      timeout=args.timeout, idle_timeout=args.idle_timeout or None,
                      exit_wait=args.exit_wait, named=_typed(list(sys.argv[1:] if argv is None else argv)))
    except (ValueError, RuntimeError) as err:
        print(f"sgd-bench launch: error: {err}", file=sys.stderr)
        return 2
    except MemoryError as err:
        print(f"sgd-bench launch: error: {err}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("sgd-bench launch: interrupted; stopped all processes", file=sys.stderr)
        return 130
    finally:
        if "previous" in locals():
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
