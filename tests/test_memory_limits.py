"""The memory guard's idea of free memory: the host's MemAvailable, capped by the process's
cgroup memory limit (a container's --memory, a batch job's limit), read from fake cgroup trees
of both versions laid out as the kernel does."""

from __future__ import annotations

import pytest

from sgd_bench import memory

GiB = 2**30


def _cgroup(tmp_path, monkeypatch, self_line: str, files: dict[str, str]):
    for rel, text in files.items():
        path = tmp_path / "fs" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (tmp_path / "self").write_text(self_line + "\n")
    monkeypatch.setattr(memory, "_CGROUP_FS", str(tmp_path / "fs"))
    monkeypatch.setattr(memory, "_CGROUP_SELF", str(tmp_path / "self"))


def test_v2_limit_minus_usage_plus_inactive_page_cache(tmp_path, monkeypatch):
    _cgroup(tmp_path, monkeypatch, "0::/job", {
        "job/memory.max": f"{4 * GiB}\n", "job/memory.current": f"{3 * GiB}\n",
        "job/memory.stat": f"anon 100\ninactive_file {GiB // 2}\nactive_file 7\n"})
    assert memory._cgroup_room() == 4 * GiB - 3 * GiB + GiB // 2


def test_v2_without_a_limit_and_the_tightest_ancestor(tmp_path, monkeypatch):
    _cgroup(tmp_path, monkeypatch, "0::/a/b", {
        "a/b/memory.max": "max\n", "a/b/memory.current": f"{GiB}\n"})
    assert memory._cgroup_room() is None
    _cgroup(tmp_path, monkeypatch, "0::/a/b", {
        "a/memory.max": f"{2 * GiB}\n", "a/memory.current": f"{GiB + 5}\n"})
    assert memory._cgroup_room() == GiB - 5  # the parent's limit binds its children


def test_v1_limit_and_no_limit(tmp_path, monkeypatch):
    line = "12:cpu,cpuacct:/x\n4:memory:/docker/abc"
    _cgroup(tmp_path, monkeypatch, line, {
        "memory/docker/abc/memory.limit_in_bytes": f"{GiB}\n",
        "memory/docker/abc/memory.usage_in_bytes": f"{GiB // 4}\n",
        "memory/docker/abc/memory.stat": "cache 9\ntotal_inactive_file 1000\n"})
    assert memory._cgroup_room() == GiB - GiB // 4 + 1000
    _cgroup(tmp_path, monkeypatch, line, {
        "memory/docker/abc/memory.limit_in_bytes": "9223372036854771712\n"})
    assert memory._cgroup_room() is None


def test_v1_inside_a_namespace_reads_the_mounts_root(tmp_path, monkeypatch):
    # /proc/self/cgroup names the host's path, but the container sees its own cgroup at the root
    _cgroup(tmp_path, monkeypatch, "4:memory:/docker/abc", {
        "memory/memory.limit_in_bytes": f"{GiB}\n", "memory/memory.usage_in_bytes": "0\n"})
    assert memory._cgroup_room() == GiB


def test_no_cgroup_file_means_no_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(memory, "_CGROUP_SELF", str(tmp_path / "missing"))
    assert memory._cgroup_room() is None


def test_the_guard_refuses_what_only_the_cgroup_cannot_hold(tmp_path, monkeypatch):
    # MemAvailable would let 1 GiB through; a 512 MiB container must refuse it before allocating
    # (the OOM killer ended such a run with SIGKILL)
    monkeypatch.setattr(memory, "_meminfo_available", lambda: 64 * GiB)
    monkeypatch.setattr(memory, "_address_space_room", lambda: None)
    _cgroup(tmp_path, monkeypatch, "0::/", {"memory.max": f"{GiB // 2}\n", "memory.current": "0\n"})
    with pytest.raises(MemoryError, match=r"bootstrap needs 1\.00 GiB of host memory, but the host has 0\.50 GiB"):
        memory.check_host_memory(GiB, "bootstrap", hint="use fewer")
    with pytest.raises(MemoryError, match=r"data needs 1\.00 GiB, but cpu device 0 has 0\.50 GiB free"):
        memory.check_fits(GiB, "data")
    memory.check_fits(GiB // 4, "data")  # what fits passes
