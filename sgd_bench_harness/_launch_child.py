"""One process of a job started by ``sgd_bench_harness.launch``: join the JAX job, then run the target.

``python -m sgd_bench_harness._launch_child TARGET...`` reads its place in the job from the environment
variable ``SGD_BENCH_LAUNCH`` ("address,processes,process_id,devices,heartbeat,init_timeout"),
sets up JAX before anything else can start its backend, and runs TARGET as ``python TARGET``
would (a script, ``-m module`` or ``-c code``, with ``sys.argv`` set accordingly).
"""

from __future__ import annotations

import inspect
import os
import runpy
import sys
import threading
import time


def _exit_with_launcher(parent: int) -> None:
    """Exits this process when the launcher is gone (killed with SIGKILL, say): no orphans."""
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            try:  # the pipe to the launcher is usually broken by now
                sys.stderr.write("sgd-bench launch: the launcher is gone; exiting\n")
                sys.stderr.flush()
            except OSError:
                pass
            os._exit(1)


def _join(address: str, processes: int, process_id: int, devices: int, heartbeat: int,
          init_timeout: int) -> None:
    flags = os.environ.get("XLA_FLAGS", "")
    os.environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={devices}".strip()
    os.environ["JAX_PLATFORMS"] = "cpu"  # the devices are this machine's CPU devices
    import jax

    # gloo does the cross-process reductions on CPU; without it a collective between
    # processes fails. Newer JAX may drop the option once gloo is its default.
    try:
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
    except (AttributeError, KeyError, ValueError):
        pass
    # No persistent compilation cache inside a job: under jax 0.12.1 a process that loads a
    # program from it while its peer compiles the same program waits forever in the program's
    # first collective (test_launch hung with the suite's cache folder on). The cache gave a job
    # little anyway: JAX writes entries from process 0 only, under keys that name its devices.
    # Off here, before anything compiles, the process never opens the cache, whatever the
    # program's own configuration (the command line's compile_cache.enable() only names a folder).
    jax.config.update("jax_enable_compilation_cache", False)
    # Short timeouts where this JAX version lets us set them: the defaults (minutes) would keep a
    # process waiting for a dead peer long after the launcher or a person gave up.
    wanted = {"initialization_timeout": init_timeout, "heartbeat_timeout_seconds": heartbeat,
              "shutdown_timeout_seconds": max(heartbeat, 10)}
    accepted = inspect.signature(jax.distributed.initialize).parameters
    jax.distributed.initialize(coordinator_address=address, num_processes=processes,
                               process_id=process_id,
                               **{k: v for k, v in wanted.items() if k in accepted})


def main() -> None:
    spec = os.environ.get("SGD_BENCH_LAUNCH")
    if not spec:
        sys.exit("sgd_bench_harness._launch_child is started by python -m sgd_bench_harness.launch, not by hand")
    address, *numbers = spec.split(",")
    processes, process_id, devices, heartbeat, init_timeout = map(int, numbers)
    threading.Thread(target=_exit_with_launcher, args=(os.getppid(),), daemon=True).start()
    _join(address, processes, process_id, devices, heartbeat, init_timeout)

    target = sys.argv[1:]
    if target[0] == "-m":
        sys.argv = [target[1], *target[2:]]
        runpy.run_module(target[1], run_name="__main__", alter_sys=True)
    elif target[0] == "-c":
        sys.argv = ["-c", *target[2:]]
        exec(compile(target[1], "<string>", "exec"), {"__name__": "__main__"})
    else:
        sys.argv = list(target)
        sys.path.insert(0, os.path.dirname(os.path.abspath(target[0])))
        runpy.run_path(target[0], run_name="__main__")


if __name__ == "__main__":
    main()
