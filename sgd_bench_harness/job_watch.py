"""How the launcher (``sgd_bench_harness.launch``) tells a job that cannot run or will not end.

- ``check_devices``: ``-d K`` CPU devices per process are K threads of XLA each, with about
  100 KiB of memory; ``-d 2147483647`` passed every argument check and would have exhausted the
  machine. A count beyond half the machine's threads or memory is refused before any process
  starts.
- ``Idle``: a job whose processes all wait in a collective for each other is alive, so neither
  a process's exit nor JAX's heartbeat ends it (under jax 0.12.1 this happened, with the
  persistent compilation cache on). Such processes use almost no CPU and write nothing, which a
  computing job does not do for minutes on end: ``Idle`` says when that has lasted long enough.
- ``stop_groups`` / ``drain``: the end of every job. Each process has a session (process group)
  of its own; a process that exited 0 may leave a long-lived child there holding its output pipe.
  Such children outlived the launcher, and each output thread waited out a 1 s join for them
  (a job ended ~5 s late, and a line still in a pipe could be dropped at exit).
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import time
from pathlib import Path

# XLA:CPU runs each device on a thread of its own with about 100 KiB of memory (jax 0.10.2: 4,000
# devices in one process added 4,252 threads and 407 MiB); -d 2147483647 would exhaust the machine
_DEVICE_BYTES = 100 * 2**10


def thread_limit() -> tuple[int, str] | None:
    """The most threads this machine runs, and the limit that says so: the smallest of
    kernel.threads-max, kernel.pid_max (a thread takes a PID) and ``ulimit -u``."""
    limits = []
    for name in ("threads-max", "pid_max"):
        try:
            limits.append((int(Path(f"/proc/sys/kernel/{name}").read_text()), f"kernel.{name}"))
        except (OSError, ValueError):
            pass
    soft = resource.getrlimit(resource.RLIMIT_NPROC)[0]
    if soft != resource.RLIM_INFINITY:
        limits.append((soft, "ulimit -u"))
    return min(limits) if limits else None


def check_devices(processes: int, devices: int, name: str = "devices") -> None:
    """Raises MemoryError with the numbers when ``processes x devices`` CPU devices cannot run here:
    more threads than half of what the machine allows (the rest is for everything else), or more
    memory than half of the machine's. ``name``: how the caller's user typed devices."""
    total = processes * devices
    what = f"{name} {devices} per process x {processes} processes is {total:,} CPU devices"
    fix = f"use -d up to the number of cores ({os.cpu_count()})"
    limit = thread_limit()
    if limit and total > limit[0] // 2:
        raise MemoryError(f"{what}, and XLA runs each on a thread of its own: this machine runs at most "
                          f"{limit[0]:,} threads ({limit[1]}), so a job may have {limit[0] // 2:,} devices "
                          f"(half of that); {fix}")
    try:
        memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return
    if total * _DEVICE_BYTES > memory // 2:
        raise MemoryError(f"{what}, each about {_DEVICE_BYTES // 2**10} KiB of memory in XLA: "
                          f"{total * _DEVICE_BYTES / 2**30:,.1f} GiB, more than half of this machine's "
                          f"{memory / 2**30:.1f} GiB; {fix}")


def _members(pgid: int):
    """/proc's stat fields (after the name) of each process of group ``pgid``, or None where /proc
    does not say (not Linux)."""
    try:
        entries = [name for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return None
    members = []
    for name in entries:
        try:
            fields = Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):  # gone since the listing
            continue
        if int(fields[2]) == pgid:
            members.append(fields)
    return members


def cpu_seconds(pgid: int) -> float | None:
    """The CPU seconds (user + system, all threads) that the live processes of process group
    ``pgid`` have used (a launched process leads a group of its own, with whatever it started),
    or None where /proc does not say (not Linux)."""
    members = _members(pgid)
    if not members:
        return None
    return sum(int(f[11]) + int(f[12]) for f in members) / os.sysconf("SC_CLK_TCK")


def exit_code(p) -> int | None:
    """``p.poll()`` without reaping ``p``: its exit status (-N for signal N), or None while it runs.
    Unreaped (a zombie at worst), a group's leader keeps its pid, so the group id names this job's
    group to the end; once reaped, the number may be reused by another group (``stop_groups``)."""
    if p.returncode is not None or not hasattr(os, "waitid"):
        return p.poll()
    try:
        info = os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:  # reaped elsewhere
        return p.poll()
    if info is None:
        return None
    return -info.si_status if info.si_code in (os.CLD_KILLED, os.CLD_DUMPED) else info.si_status


class Idle:
    """Tells when a job looks stuck: for ``limit`` seconds no process wrote a line or used more
    than ``SHARE`` of a core. Measured (jax 0.10.2, 2 processes): a process waiting in a gloo
    collective for a peer that sleeps used 0.4% of a core, its peer 0.35%; a computing process
    uses most of one. A process whose CPU time /proc does not give counts as busy; the CPU of
    what a process started (its process group) counts as its own."""

    SHARE = 0.02

    def __init__(self, procs, limit: float, seen: list):
        self.procs, self.limit, self.seen = procs, limit, seen
        self.every = min(10.0, limit / 4)  # samples a few times per limit, at most every 10 s
        self.since = self.at = time.monotonic()
        self.cpu = self._sample()

    def _sample(self):
        return [None if exit_code(p) is not None else cpu_seconds(p.pid) for p in self.procs]

    def stuck(self, now: float) -> bool:
        if now - self.at < self.every:
            return False
        cpu = self._sample()
        busy = any(exit_code(p) is None and (a is None or b is None or a - b > self.SHARE * (now - self.at))
                   for p, a, b in zip(self.procs, cpu, self.cpu))
        if busy or self.seen[0] > self.at:
            self.since = now
        self.at, self.cpu = now, cpu
        return now - self.since >= self.limit


def _group_alive(p) -> bool:
    """Whether ``p`` (unreaped) or a process it started is still running in its group: a zombie
    leader does not count (killpg(pgid, 0) counts it, so that test needed the leader reaped).
    Without /proc the leader alone is known."""
    if exit_code(p) is None:
        return True
    members = _members(p.pid)
    return bool(members) and any(f[0] != "Z" for f in members)


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def stop_groups(procs, grace: float) -> None:
    """SIGTERM to every process's group, exited processes' too (what they started is still
    there), then SIGKILL to any group with a member left after ``grace`` s. Each process leads its
    group (``start_new_session``), so its pid names the group. Leaders are reaped only after the
    last signal (``exit_code`` does not reap): a reaped leader's group id may since name another
    group, which the SIGKILL at the end reached, in principle. A process reaped before (by
    ``poll``) is not signalled at all."""
    mine = [p for p in procs if p.returncode is None]
    for p in mine:
        _signal_group(p.pid, signal.SIGTERM)
    end = time.monotonic() + grace
    while any(_group_alive(p) for p in mine) and time.monotonic() < end:
        time.sleep(0.02)
    for p in mine:
        _signal_group(p.pid, signal.SIGKILL)
    for p in procs:
        p.wait()


def drain(threads, seen: list, quiet: float = 1.0) -> None:
    """Waits for the output threads to reach the end of their pipes, which they do once the
    groups are stopped; gives up only after ``quiet`` s with no new line (``seen[0]``): a process
    that left its group (setsid) may hold a pipe for ever."""
    since = time.monotonic()
    for t in threads:
        while t.is_alive() and time.monotonic() - max(seen[0], since) < quiet:
            t.join(0.05)
