"""How a recorded check reads: its state (held, failed, or not evaluated), its line in words and
the summary's task list. ``experiment`` re-exports them; ``pages`` and ``report`` use the same
``verdict``, so that the console, ``summary.md``, the page and the index agree."""

from __future__ import annotations

from typing import Any, Mapping, Sequence


def readable(value: Any) -> str:
    """A measurement for people: floats to 4 significant digits, containers element by element."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {readable(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(readable(v) for v in value) + "]"
    return str(value)


def verdict(check: Any) -> str:
    """A recorded check's state: "holds" (``holds`` is true), "skipped" (``holds`` null, with the
    reason in ``skipped``: not evaluated, neither held nor failed) or "fails" (anything else, a
    hand-edited text "true" included)."""
    if not isinstance(check, Mapping):
        return "fails"
    if check.get("holds") is True:
        return "holds"
    return "skipped" if check.get("holds") is None and isinstance(check.get("skipped"), str) else "fails"


def check_line(check: Mapping[str, Any]) -> str:
    """One recorded check in words: its own ``summary`` if it has one, else the claim and the
    measurement (4 significant digits; ``checks.json`` keeps every digit); a check not evaluated
    gives why instead of the measurement."""
    if verdict(check) == "skipped":
        return check.get("summary") or f"{check['claim']} (not evaluated: {check['skipped']})"
    return check.get("summary") or f"{check['claim']} (measured: {readable(check['measured'])})"


MARKS = {"holds": ("x", "PASS"), "fails": (" ", "FAIL"), "skipped": ("-", "SKIP")}


def check_lines(checks: Sequence[Mapping[str, Any]]) -> str:
    """The checks as a Markdown task list: ``- [x]`` for those that hold, ``- [-]`` for those not
    evaluated."""
    return "\n".join(f"- [{MARKS[verdict(c)][0]}] {check_line(c)}" for c in checks)
