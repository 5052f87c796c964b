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

At most ``max_processes()`` processes (4 per core, at least 8): more is refused with exit status 3,
before any starts. Output that cannot be written (a full disk) is read and dropped, so that no
process blocks on it, and a job that succeeded then exits with status 3, saying so.

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
from importlib import metadata
from pathlib import Path

MIN_JAX = (0, 4, 35)
ENV = "SGD_BENCH_LAUNCH"  # how the launcher tells a child its place in the job


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


def _pump(stream, out, prefix: bytes, lost: list) -> None:
    """Copies a child's output line by line, each line prefixed with its process number. When
    ``out`` cannot be written (a full disk), the error goes to ``lost`` and the rest is read and
    dropped: the thread died with a traceback, the job exited 0, and a child whose pipe filled
    would have blocked."""
    broken = False
    for line in iter(stream.readline, b""):
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


def _stop(procs, grace: float) -> None:
    """SIGTERM to every live process group, then SIGKILL to what is left after ``grace`` s."""
    for p in procs:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    end = time.monotonic() + grace
    for p in procs:
        try:
            p.wait(max(0.0, end - time.monotonic()))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()


def launch(target: list[str], processes: int = 2, *, devices: int = 2, port: int | None = None,
           heartbeat: int = 30, init_timeout: int = 60, grace: float = 3.0,
           timeout: float | None = None, stdout=None, stderr=None) -> int:
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
    - ``stdout``, ``stderr``: binary streams for the prefixed output (default: this process's).

    **Returns:** 0 when every process exited with 0 (3 when their output could not be written);
    otherwise the status of the first process that failed (1 when it was killed by a signal, or
    on ``timeout``).
    """
    if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535):
        # -1 crashed a child with SIGSEGV inside JAX's coordinator; 70000 is no port either
        raise ValueError(f"port must be an integer in [0, 65535] (0: a free one), got {port!r}")
    for name, value, low in [("processes", processes, 1), ("devices", devices, 1),
                             ("heartbeat", heartbeat, 1), ("init_timeout", init_timeout, 1)]:
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        if name != "processes" and value > 2**31 - 1:  # JAX and XLA take a C int: the children died
            raise ValueError(f"{name} must be at most 2**31 - 1, got {value!r}")  # (a traceback, XLA's flag list)
    if processes > max_processes():  # a resource, not a typo: exit 3, as the CLI's memory guard
        raise MemoryError(f"processes {processes} is more than this machine runs at once: at most "
                          f"{max_processes()} (4 per core, {os.cpu_count()} core(s)); each process is a "
                          "whole JAX runtime")
    target = [str(t) for t in target]
    if not target:
        raise ValueError("target is empty: give a script, -m MODULE or -c CODE")
    if target[0] in ("-m", "-c"):
        if len(target) < 2:
            raise ValueError(f"target {target[0]} needs an argument")
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
    lost = []
    address = f"127.0.0.1:{port or free_port()}"
    procs, pumps = [], []
    try:
        for i in range(processes):
            env = dict(os.environ, PYTHONUNBUFFERED="1",
                       **{ENV: f"{address},{processes},{i},{devices},{heartbeat},{init_timeout}"})
            # A session of its own: stopping a process also stops whatever it started.
            try:
                p = subprocess.Popen([sys.executable, "-m", "sgd_bench_harness._launch_child", *target],
                                     env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     start_new_session=True)
            except OSError as err:  # ulimit -n / -u too small: OSError's traceback, exit 1
                raise MemoryError(f"cannot start process {i} of {processes} ({err.strerror or err}): raise "
                                  "the limit (ulimit -n for open files, ulimit -u for processes) or start "
                                  f"fewer; stopped the {len(procs)} already started") from None
            procs.append(p)
            prefix = f"[{i}] ".encode()
            for stream, out in ((p.stdout, stdout), (p.stderr, stderr)):
                t = threading.Thread(target=_pump, args=(stream, out, prefix, lost), daemon=True)
                t.start()
                pumps.append(t)
        start = time.monotonic()
        failed = None
        while failed is None:
            codes = [p.poll() for p in procs]
            bad = [(i, c) for i, c in enumerate(codes) if c not in (None, 0)]
            if bad:
                failed = bad
                running = sum(c is None for c in codes)
            elif all(c == 0 for c in codes):
                break
            elif timeout is not None and time.monotonic() - start > timeout:
                failed = []
            else:
                time.sleep(0.05)
    finally:
        # Reached on failure, on timeout and on Ctrl-C / SIGTERM of the launcher alike.
        _stop(procs, grace)
        for t in pumps:
            t.join(1.0)
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
        msg = f"the job ran past --timeout {timeout:g} s; stopped all {processes} processes"
        code = 1
    else:
        # Usually one process; several only when they ended within the same poll.
        code = failed[0][1]
        msg = "; ".join(f"process {i} of {processes} {_how(c)}" for i, c in failed)
        msg += f"; stopped the {running} still running"
    stderr.write(f"sgd-bench launch: {msg}\n".encode())
    stderr.flush()
    return code if code and code > 0 else 1


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
    p.add_argument("--grace", type=float, default=3.0,
                   help="seconds between SIGTERM and SIGKILL when stopping the job (default 3)")
    p.add_argument("--timeout", type=float, help="stop the job after this many seconds")
    p.add_argument("target", nargs=argparse.REMAINDER,
                   help="after --: script.py ARGS, -m MODULE ARGS or -c CODE ARGS")
    return p


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    target = args.target[1:] if args.target[:1] == ["--"] else args.target
    try:
        # written so that NaN fails too: --timeout nan never stopped the job
        if not 0 <= args.grace < float("inf"):
            raise ValueError(f"--grace must be >= 0 and finite (seconds), got {args.grace:g}")
        if args.timeout is not None and not args.timeout > 0:
            raise ValueError(f"--timeout must be > 0 (seconds; inf for no limit), got {args.timeout:g}")
        # Ctrl-C or SIGTERM of the launcher: stop the children (launch's finally) and exit 130.
        signal.signal(signal.SIGTERM, _interrupt)
        return launch(target, args.processes, devices=args.devices, port=args.port,
                      heartbeat=args.heartbeat, init_timeout=args.init_timeout, grace=args.grace,
                      timeout=args.timeout)
    except (ValueError, RuntimeError) as err:
        print(f"sgd-bench launch: error: {err}", file=sys.stderr)
        return 2
    except MemoryError as err:
        print(f"sgd-bench launch: error: {err}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("sgd-bench launch: interrupted; stopped all processes", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
