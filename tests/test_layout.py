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


def _modules():
    for package in ("sgd_bench", "sgd_bench_harness", "problems"):
        yield from sorted((ROOT / package).rglob("*.py"))


def test_no_module_is_longer_than_about_400_lines():
    long = {str(p.relative_to(ROOT)): n for p in _modules()
            if (n := len(p.read_text().splitlines())) > 430}
    assert not long, f"split these into modules of one idea each: {long}"


def test_no_private_name_is_imported_from_another_module():
    # A package-private module (sgd_bench._tree, _values) may be used inside its own package.
    for path in _modules():
        package = path.relative_to(ROOT).parts[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom) or not node.module:
                continue
            same_package = node.module.split(".")[0] == package
            for alias in node.names:
                private = alias.name.startswith("_") and not alias.name.startswith("__")
                module_private = any(part.startswith("_") and not part.startswith("__")
                                     for part in node.module.split(".")[1:])
                assert not (private and not (same_package and alias.name in ("_tree", "_values"))), \
                    (path, node.module, alias.name)
                assert not (module_private and not same_package), (path, node.module)



def test_the_wheel_takes_every_package_and_experiment():
    # pyproject.toml's [tool.setuptools.packages.find] include patterns, matched as setuptools
    # matches them (fnmatch on the dotted name): every package under the three roots is taken.
    import fnmatch
    import re

    text = (ROOT / "pyproject.toml").read_text()
    include = ast.literal_eval(re.search(r"\[tool\.setuptools\.packages\.find\]\s*include = (\[.*?\])",
                                         text, re.S).group(1))
    on_disk = {".".join(p.parent.relative_to(ROOT).parts)
               for root in ("sgd_bench", "sgd_bench_harness", "problems")
               for p in (ROOT / root).rglob("__init__.py")}
    assert {f"sgd_bench_harness.experiments.{n}" for n in ("peers", "local_minima")} <= on_disk
    left_out = {name for name in on_disk if not any(fnmatch.fnmatchcase(name, pat) for pat in include)}
    assert not left_out, f"packages the wheel would leave out: {sorted(left_out)}"
