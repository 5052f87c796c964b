"""Checks that .ci/lower-bounds.txt pins every dependency of pyproject.toml (and of its test
extra) to exactly its declared lower bound, so `.ci/versions lower` tests what we claim.

    python .ci/check_lower_bounds.py              the two files agree
    python .ci/check_lower_bounds.py --installed  ... and the running environment has the pins

Prints one line per problem and exits 1 if there is any.
"""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pytest brings tomli
    import tomli as tomllib
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
EXTRAS = ("test",)


def declared(root: Path = ROOT) -> dict[str, Version | None]:
    """{package: its '>=' lower bound (None when it has none)} over the dependencies and EXTRAS."""
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in EXTRAS:
        reqs += project["optional-dependencies"][extra]
    out = {}
    for text in reqs:
        req = Requirement(text)
        lows = [Version(s.version) for s in req.specifier if s.operator == ">="]
        out[canonicalize_name(req.name)] = max(lows) if lows else None
    return out


def pinned(root: Path = ROOT) -> dict[str, Version]:
    """{package: version} from the 'name==version' lines of .ci/lower-bounds.txt."""
    out = {}
    for line in (root / ".ci" / "lower-bounds.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            if not sep:
                raise ValueError(f"lower-bounds.txt: {line!r} is not 'name==version'")
            out[canonicalize_name(name.strip())] = Version(version.strip())
    return out


def problems(root: Path = ROOT, installed: bool = False) -> list[str]:
    """Every disagreement between pyproject.toml, lower-bounds.txt (and the environment)."""
    found = []
    low, pins = declared(root), pinned(root)
    for name, bound in sorted(low.items()):
        if bound is None:
            found.append(f"{name}: pyproject.toml gives no '>=' lower bound")
        elif name not in pins:
            found.append(f"{name}: lower bound {bound} in pyproject.toml but no pin in lower-bounds.txt")
        elif pins[name] != bound:
            found.append(f"{name}: pyproject.toml says >={bound}, lower-bounds.txt pins =={pins[name]}")
    for name in sorted(set(pins) - set(low)):
        found.append(f"{name}: pinned in lower-bounds.txt but not a dependency in pyproject.toml")
    if installed:
        for name, version in sorted(pins.items()):
            try:
                have = Version(metadata.version(name))
            except metadata.PackageNotFoundError:
                found.append(f"{name}: pinned to {version} but not installed")
                continue
            if have != version:
                found.append(f"{name}: pinned to {version} but {have} is installed")
    return found


def main(argv: list[str]) -> int:
    found = problems(installed="--installed" in argv)
    for line in found:
        print(f"lower bounds: {line}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
