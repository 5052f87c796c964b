"""The package layout: the engine imports no harness, every experiment is registered by name and
importable as a module, and ``scripts/`` only launches registered experiments."""

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import sgd_bench_harness.experiments as registry

ROOT = Path(__file__).resolve().parents[1]


def test_importing_the_engine_imports_neither_the_harness_nor_matplotlib():
    code = ("import sys, sgd_bench; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('sgd_bench_harness', 'matplotlib', 'problems')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"JAX_PLATFORMS": "cpu", "PATH": "/usr/bin:/bin"}, cwd="/")
    assert out.stdout.strip() == "[]"


def test_the_engine_modules_import_nothing_from_the_harness_or_the_problems():
    for path in (ROOT / "sgd_bench").rglob("*.py"):
        if path.name == "__main__.py":  # `python -m sgd_bench` forwards to the harness's CLI
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert name.split(".")[0] not in ("sgd_bench_harness", "problems"), (path, name)


def test_every_experiment_module_is_registered_and_every_name_imports():
    found = {m.name for m in pkgutil.iter_modules(registry.__path__) if not m.name.startswith("_")}
    assert found == set(registry.NAMES)
    for name in registry.NAMES:
        module = registry.module(name)
        assert module.NAME == name and callable(module.main) and module.DESCRIPTION


def test_scripts_are_launchers_of_registered_experiments():
    launchers = {p.stem: p.read_text() for p in (ROOT / "scripts").glob("*.py")}
    assert set(launchers) == set(registry.NAMES)
    for name, text in launchers.items():
        assert f"from sgd_bench_harness.experiments import {name}\n" in text
        assert len(text.splitlines()) < 10, f"scripts/{name}.py holds more than a launcher"
