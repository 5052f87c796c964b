"""A result as a web page: ``summary.html`` beside ``summary.md``, for people who open the gallery
in a browser (which shows a ``.md`` file as raw text).

``write_result_page(folder)`` renders the folder's ``summary.md`` with markdown-it-py (its tables
and inline figures as they are), then adds what the Markdown leaves to other files: every check
of ``checks.json`` with ✓ or ✗ (– for one not evaluated) and its measured numbers, the figures
the summary does not show, the run's metadata from ``meta.json``, and links to the stored files. A link to the ``summary.md`` of
a result below (gpu_bench's ``scaling/``) goes to that result's page, written with it. Everything is relative and
local (no script, no font or style sheet from the network), so a page works offline, straight
from the file system. Only pages this module wrote (they carry ``GENERATOR``) are rewritten.
"""

from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import quote, unquote

from sgd_bench_harness.check_words import readable, verdict

PAGE = "summary.html"
MARKS = {"holds": "✓", "fails": "✗", "skipped": "–"}  # a check not evaluated is neither held nor failed
GENERATOR = '<meta name="generator" content="sgd-bench report">'
FIGURE_SUFFIXES = (".png", ".gif", ".svg", ".jpg", ".jpeg")
STORED_FILES = ("summary.md", "records.csv", "records.parquet", "meta.json", "checks.json")

STYLE = ("body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;"
         "color:#222;line-height:1.45}img{max-width:100%}table{border-collapse:collapse;margin:.6em 0;"
         "font-size:.92em}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left;"
         "vertical-align:top}pre{white-space:pre-wrap;margin:0;font-size:.9em}nav{margin-bottom:1em}"
         "ul.checks{list-style:none;padding-left:0}ul.checks li{margin:.5em 0}"
         ".mark{font-weight:bold;margin-right:.4em}.holds .mark{color:#1a7f37}"
         ".fails .mark{color:#cf222e}code{background:#f4f4f4;padding:0 .2em}")


def _markdown():
    from markdown_it import MarkdownIt

    # Raw HTML in a summary is shown as text, never run: the page stays what report wrote.
    return MarkdownIt("commonmark", {"html": False}).enable("table")


def render_markdown(text: str) -> str:
    """A Markdown text (GitHub's tables included) as HTML."""
    return _markdown().render(text)


def url(path: str | os.PathLike) -> str:
    """A relative file path as a link target: percent-encoded, so that a folder named
    ``javascript:alert(1)`` is a folder (a bare one was a link that ran script) and ``#``, ``?``,
    ``%`` and spaces in a name still reach the file. Not HTML-escaped (``html.escape`` it inside an
    attribute)."""
    return quote(Path(path).as_posix())


def _shown(value: Any) -> str:
    """A stored text (a meta.json's, a checks.json's) for the page: control characters as their
    escapes (``printable``: an ESC in a hand-edited claim reached the page raw), then HTML-escaped."""
    from sgd_bench_harness.arg_types import printable

    return html.escape(printable(value))


def _controls_escaped(page: str) -> str:
    """``page`` with each control character other than a line break or a tab as its escape (``\\x1b``): a
    summary.md of one's own script holding an ESC reached its page raw."""
    return re.sub(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", lambda m: m.group().encode("unicode_escape").decode(), page)


def _checks_html(checks: Any) -> str:
    if not isinstance(checks, list) or not checks:
        return ""
    items = []
    states = []
    for check in checks:
        if not isinstance(check, Mapping):
            continue
        state = verdict(check)  # a text "false" is not a held claim
        states.append(state)
        text = check.get("summary") or check.get("claim") or "(no claim stored)"
        if state == "skipped" and not check.get("summary"):
            text = f"{text} (not evaluated: {check['skipped']})"
        measured = check.get("measured")
        rows = ""
        if isinstance(measured, Mapping) and measured:
            rows = "<table>" + "".join(
                f"<tr><th>{_shown(k)}</th><td>{_shown(readable(v))}</td></tr>"
                for k, v in measured.items()) + "</table>"
        elif measured is not None:
            rows = f"<p>measured: {_shown(readable(measured))}</p>"
        # inline, not in STYLE: a page without such a check stays byte for byte what it was
        grey = ' style="color:#6e7781"' if state == "skipped" else ""
        items.append(f'<li class="{state}"><span class="mark"{grey}>{MARKS[state]}</span>'
                     f'{_shown(text)}{rows}</li>')
    skipped = states.count("skipped")
    return (f'<h2 id="checks">Checks: {states.count("holds")} of {len(items) - skipped} hold'
            f'{f", {skipped} not evaluated" if skipped else ""}</h2>'
            f'<p>Every claim of this run, as recorded in <a href="checks.json">checks.json</a> '
            f'(which keeps every digit; shown here to 4 significant digits).</p>'
            f'<ul class="checks">{"".join(items)}</ul>')


def _meta_html(meta: Mapping[str, Any]) -> str:
    rows = []
    for key, value in meta.items():  # a control character (an ESC in a hand-edited "dtype") as its escape
        if isinstance(value, (dict, list)):  # (JSON escapes those inside, as \u001b)
            shown = f"<pre>{html.escape(json.dumps(value, indent=1, default=str))}</pre>"
        else:
            shown = _shown(value)
        rows.append(f"<tr><th>{_shown(key)}</th><td>{shown}</td></tr>")
    return '<h2 id="metadata">Run metadata</h2><table>' + "".join(rows) + "</table>"


def _is_ours(path: Path) -> bool:
    # Only a regular file's head: a FIFO named summary.html blocked report, a link to /dev/zero
    # filled the memory. GENERATOR is in the first few hundred bytes of every page written here.
    if not path.is_file():
        return False
    try:
        with open(path, "rb") as f:
            return GENERATOR.encode() in f.read(4096)
    except OSError:
        return False


def folder_name(folder: Path) -> str:
    """The folder's own name, also when it is given as "." or ".." (whose ``name`` is empty or "..")."""
    return Path(os.path.abspath(folder)).name


def _nested_pages(folder: Path, body: str, index: Path | None, done: set) -> str:
    """``body`` with each link to the ``summary.md`` of a result below ``folder`` (gpu_bench links
    ``scaling/summary.md``) pointed at that result's page instead, which is written first (it was
    only when missing, and so stale once the parent's report rebuilt that summary; ``done``: the
    pages written already): a browser shows the ``.md`` as raw text. A link whose page cannot be had stays."""
    def to_page(match: re.Match) -> str:
        parts = Path(unquote(match.group(1))).parts
        nested = folder.joinpath(*parts)
        if ".." in parts or not (nested / "summary.md").is_file() or not (nested / "meta.json").is_file():
            return match.group(0)
        # a link to this summary (./summary.md) or to a folder above through a link: writing that page
        # first wrote this one first, without end ("summary.html not written (RecursionError: ...)")
        here, there = Path(os.path.realpath(folder)), Path(os.path.realpath(nested))
        if there == here:
            return f'href="{match.group(1)}/{PAGE}"'
        if there in here.parents:
            return match.group(0)
        page = nested / PAGE
        if os.path.realpath(page) not in done and (not page.exists() or _is_ours(page)):
            write_result_page(nested, index, done)
        return f'href="{match.group(1)}/{PAGE}"' if _is_ours(page) else match.group(0)

    return re.sub(r'href="([^":?#]+)/summary\.md"', to_page, body)


def write_result_page(folder: Path, index: Path | None = None, done: set | None = None) -> Path | None:
    """Writes ``folder/summary.html`` from the stored files and returns its path; ``index`` (an
    index page) gets a link back. Returns None, writing nothing, when the folder has no
    ``summary.md`` or holds a ``summary.html`` that sgd-bench did not write. ``done`` (a set of
    real paths, kept by ``report``): a page in it was written already, and is not written again."""
    from sgd_bench_harness import results
    from sgd_bench_harness import folders

    folder = Path(folder)
    source = folder / "summary.md"
    target = folder / PAGE
    if not source.exists() or (target.exists() and not _is_ours(target)):
        return None
    done = set() if done is None else done
    if os.path.realpath(target) in done:  # gpu_bench's page wrote scaling's: the walk comes to it after
        return target
    done.add(os.path.realpath(target))
    text = source.read_text(encoding="utf-8")  # as written (results.write_text), whatever the locale
    body = _nested_pages(folder, _controls_escaped(render_markdown(text)), index, done)
    # the heading's text without Markdown's backslash escapes (CommonMark: before ASCII punctuation):
    # a grid's label my_file.svm, escaped my\_file.svm in summary.md, showed so in the title
    title = next((re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", line.lstrip("# ").strip())
                  for line in text.splitlines() if line.startswith("#")), folder_name(folder))
    shown = set(re.findall(r"\]\(([^)\s]+)\)", text))  # files the summary already shows or links
    figures = sorted(p.name for p in folder.iterdir()
                     if p.suffix.lower() in FIGURE_SUFFIXES and p.name not in shown)
    extra = "".join(f'<figure><img src="{html.escape(url(f))}" alt="{html.escape(results.printable(f))}">'
                    f"<figcaption>{html.escape(results.printable(f))}</figcaption></figure>" for f in figures)
    files = [name for name in STORED_FILES if (folder / name).exists()]
    nav = [f'<a href="{html.escape(url(os.path.relpath(index, folder)))}">all results</a>'] if index else []
    nav += [f'<a href="{html.escape(url(name))}">{html.escape(name)}</a>' for name in files]
    meta = folders.read_meta(folder) or {}
    page = ("<!doctype html><html lang='en'><head><meta charset='utf-8'>" + GENERATOR
            + f"<title>{html.escape(results.printable(title))} · sgd-bench</title><style>{STYLE}</style></head><body>"
            + f"<nav>{' · '.join(nav)}</nav><p><em>{html.escape(results.printable(folder_name(folder)))}</em></p>"
            + f"<main>{body}</main>"
            + _checks_html(folders.read_json(folder / "checks.json"))
            + (f'<h2 id="figures">More figures</h2>{extra}' if extra else "")
            + (_meta_html(meta) if meta else "")
            + "<footer><p>Written by <code>sgd-bench report</code> from the files above; "
              "rebuild with <code>sgd-bench report</code>.</p></footer></body></html>\n")
    results.write_text(target, page)
    return target
