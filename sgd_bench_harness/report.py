"""``sgd-bench report DIR``: rebuild each result under DIR from its stored files, and the index.

A result folder's figures, ``summary.md`` and ``summary.html`` are rebuilt by its experiment's
``report`` (or the grid's) from the records, ``meta.json`` and ``checks.json`` alone; ``index.md``
and ``index.html`` list every result under DIR. Only sgd-bench's own files are rewritten (see
``sgd_bench_harness.cli`` for the exit statuses).
"""

from __future__ import annotations

import errno
import html
import os
import re
from pathlib import Path

from sgd_bench_harness import experiment, experiments, folders, grid, grid_report, pages, records, results
from sgd_bench_harness.experiment import one_line, say


def _checks_line(folder: Path) -> str:
    checks = folders.read_json(folder / "checks.json")
    if not isinstance(checks, list) or not checks:
        return "-"
    states = [experiment.verdict(c) for c in checks]  # a text "false" does not hold
    skipped = states.count("skipped")
    held = f"{states.count('holds')}/{len(states) - skipped} hold"
    return held if not skipped else f"{held}, {skipped} not evaluated"


def _first_device(meta: dict) -> str:
    """The first device a result's meta.json names, for the index ("?" when it names none): a
    hand-edited ``"devices": 5`` stopped the whole index, and ``"cpu"`` showed as "c"."""
    devices = meta.get("devices")
    if isinstance(devices, str):
        return devices or "?"
    if isinstance(devices, list) and devices:
        return str(devices[0])
    return "?"


def _rebuild(folder: Path, meta: dict) -> str:
    """Rebuilds one result folder's summary and figures from its records, if it knows how."""
    if meta.get("kind") == grid.KIND:
        grid_report.report(folder)
        return "rebuilt from records"
    name = meta.get("experiment")
    try:
        module = experiments.load(name) if name else None
    except (ValueError, FileNotFoundError):
        module = None
    if module is not None and hasattr(module, "report"):
        # "config": [1] edited in: "not rebuilt (TypeError: list indices must be integers or slices, not str)"
        grid_report.check_meta({"config": meta["config"]} if "config" in meta else {})
        module.report(folder)
        return "rebuilt from records"
    return "as written by the run"


def _not_its_experiment(meta: dict) -> str | None:
    """Why ``meta.json`` does not fit the files it sits with, or None: its "experiment" is no name
    ([1] was "not rebuilt (TypeError: unhashable type: 'list')"), or its config is another registered
    experiment's and not that of the experiment it names (every option of an experiment's config is
    stored with its result, so the stored keys tell whose it is). A meta.json copied from another
    result, or its "experiment" edited, ran that experiment's report on these files: a raw TypeError,
    or a KeyError said as "an older version wrote them"."""
    name, config = meta.get("experiment"), meta.get("config")
    if name is not None and not isinstance(name, str):
        return f'its meta.json\'s "experiment" is a {type(name).__name__}, not an experiment\'s name (edited?)'
    if name not in experiments.NAMES or not isinstance(config, dict) or os.environ.get("SGD_BENCH_SCRIPTS"):
        return None
    keys = {other: set(getattr(experiments.module(other), "FULL", {None})) for other in experiments.NAMES}
    owners = [] if keys[name] <= set(config) else [other for other in keys if keys[other] <= set(config)]
    return None if not owners else (f"its meta.json says experiment {name}, but its config is that of "
                                    f"{' or '.join(owners)} (copied from such a result, or \"experiment\" "
                                    f"edited?): set \"experiment\" back to {owners[0]!r}")


# The index files ``report`` writes carry these lines; a file without them is the user's own
# and is never overwritten.
_INDEX_SIGNATURES = {"index.md": "Every result folder under this one, as `sgd-bench report` found it",
                     "index.html": "<title>sgd-bench results</title>"}


def _check_index_is_ours(root: Path) -> None:
    for name, signature in _INDEX_SIGNATURES.items():
        path = root / name
        if path.exists() and not path.is_file():  # a FIFO would block the read below
            raise ValueError(f"{path} is not a regular file, and report writes {name} there; move it, "
                             "or report another folder")
        if path.exists():
            try:
                ours = signature in path.read_text(errors="replace")
            except OSError:
                ours = False
            if not ours:
                raise ValueError(f"{path} was not written by sgd-bench report, which would overwrite it; "
                                 "move it, or report another folder")


def _find_results(root: Path) -> tuple[list[Path], list[str]]:
    """The result folders under ``root`` (``root`` itself when it is one), and a note for each
    folder with a meta.json that is not sgd-bench's (skipped, never rewritten)."""
    if folders.is_result(folders.read_json(root / "meta.json")):
        return [root], []
    # a result's own part (gpu_bench's scaling/) said "skipped, its meta.json is not an sgd-bench result's"
    above = list(Path(os.path.abspath(root)).parents) if (root / "meta.json").is_file() else []
    owner = next((i for i, p in enumerate(above) if folders.is_result(folders.read_json(p / "meta.json"))), None)
    if owner is not None:
        owner = root.parents[owner] if owner < len(root.parents) else above[owner]  # as typed, where it can be
        raise ValueError(f"report DIR: {root} is a part of the result {owner}, whose report rebuilds it: "
                         f"sgd-bench report {owner}")
    # Folders whose name starts with "_" (results/_quick) are scratch: reported only when asked.
    # A grid's cells and a script's parts are pieces of a result, not results; hidden folders are
    # sgd-bench's working folders (--overwrite's .NAME.replaced, listed while the new run went on).
    found = sorted(p.parent for p in _meta_files(root) if not _a_results_piece(root, p.relative_to(root).parts)
                   and not any(part.startswith(("_", ".")) for part in p.relative_to(root).parts))
    kept, notes = [], _linked_results(root) + [
        f"{folder}: {count} result(s) left out of the index: a folder whose name starts with _ holds scratch "
        f"runs (--quick writes runs/_quick); sgd-bench report {folder} reports them"
        for folder, count in _scratch_results(root).items()]
    for folder in found:
        try:  # the index and its page name it in UTF-8: such a name stopped the whole index (exit 2)
            str(folder.relative_to(root)).encode("utf-8")
        except UnicodeEncodeError:
            notes.append(f"{os.fsencode(folder)!r}: skipped, its name is not valid UTF-8; rename it to report it")
            continue
        meta = folders.read_json(folder / "meta.json")
        if folders.is_result(meta) or _corrupt_meta(folder):
            kept.append(folder)
        elif not any(result in folder.parents for result in kept):  # a result's own part (gpu_bench's
            # scaling/: its report rebuilds it, its page links it) was said to be "not sgd-bench's"
            notes.append(f"{results.printable(folder)}: skipped, its meta.json is not an sgd-bench result's")
    return kept, notes


def _meta_files(root: Path) -> list[Path]:
    """Every ``meta.json`` under ``root``, not through links. A folder that goes while it is walked (a
    run finishing beside removes its cells/ or parts/, --overwrite its .NAME.replaced) is passed over:
    rglob failed the whole report with "[Errno 2] No such file or directory: 'runs/x/cells'"."""
    return [Path(top) / "meta.json" for top, dirs, files in os.walk(root) if "meta.json" in (*files, *dirs)]


def _scratch_results(root: Path) -> dict[Path, int]:
    """{outermost scratch folder under ``root``: how many results it holds}: ``run --all --quick``
    then ``report`` said only "no results in runs (no folder with sgd-bench's meta.json)", and
    runs/_quick's results were left out of an index without a word."""
    counts: dict[Path, int] = {}
    for meta in _meta_files(root):
        parts = meta.relative_to(root).parts[:-1]
        scratch = next((i for i, part in enumerate(parts) if part.startswith("_")), None)
        if (scratch is None or any(part.startswith(".") for part in parts) or _a_results_piece(root, (*parts, ""))
                or not folders.is_result(folders.read_json(meta))):
            continue
        folder = root.joinpath(*parts[:scratch + 1])
        counts[folder] = counts.get(folder, 0) + 1
    return dict(sorted(counts.items()))


def _a_results_piece(root: Path, parts: tuple[str, ...]) -> bool:
    """Whether the path ``parts`` (under ``root``) lies in a result's own ``cells/`` or ``parts/``: a
    user's folder of that name (``--out runs/parts/a``) is walked as any other (its results were
    left out of the index without a word)."""
    return any(part in ("cells", experiment.PARTS) and (root.joinpath(*parts[:i]) / "meta.json").is_file()
               for i, part in enumerate(parts[:-1]))


def _linked_results(root: Path) -> list[str]:
    """A note for each symbolic link under ``root`` to a result folder: report does not follow
    links (a loop would never end, and a result would be listed twice), and such a result was
    left out without a word ("no results in DIR")."""
    notes = []
    for top, dirs, _ in os.walk(root):  # not into links, as _meta_files
        dirs[:] = sorted(d for d in dirs if not d.startswith(("_", "."))
                         and not _a_results_piece(root, (*Path(top).relative_to(root).parts, d, "")))
        for name in dirs:
            link = Path(top) / name
            if link.is_symlink() and folders.is_result(folders.read_json(link / "meta.json")):
                notes.append(f"{link}: skipped, it is a symbolic link (to {os.readlink(link)}) and report does "
                             "not follow links; report that folder itself, or copy it here")
    return notes


def _corrupt_meta(folder: Path) -> str | None:
    """Why a folder's meta.json is broken when the folder still holds records (a result whose
    meta.json was emptied or cut), or None."""
    if records.find_records(folder) is None:
        return None
    if not (folder / "meta.json").is_file():  # a FIFO blocked the read below; a link to /dev/zero filled memory
        return "meta.json is not a regular file"
    try:
        text = (folder / "meta.json").read_text(encoding="utf-8")
    except OSError as err:
        return f"meta.json cannot be read ({err.strerror})"
    if not text.strip():
        return "meta.json is empty"
    if folders.read_json(folder / "meta.json") is None:
        return "meta.json is not valid JSON"
    return None


def _corrupt_checks(folder: Path) -> str | None:
    """Why a result's ``checks.json`` is broken, or None (also when there is none: a grid has no
    claims). A byte appended said "not rebuilt (FileNotFoundError: ... lacks checks.json ...)" and a
    JSON object "not rebuilt (TypeError: string indices must be integers ...)", exit 0, with the
    index's checks column "-": its claims, failed ones included, went unshown."""
    path = folder / "checks.json"
    if not os.path.lexists(path):
        return None
    if not path.is_file():
        return "checks.json is not a regular file"
    checks = folders.read_json(path)
    if checks is None:
        return "checks.json is not valid JSON (or not UTF-8 text)"
    if not isinstance(checks, list) or not all(isinstance(c, dict) and "claim" in c for c in checks):
        return "checks.json is not a list of checks (objects with a claim)"
    return None


def _write_page(folder: Path, index: Path | None, done: set | None = None) -> Path | None:
    """The result's HTML page, or None; a page that cannot be written is said, and the index goes on."""
    source = folder / "summary.md"
    if source.exists() and not source.is_file():  # a folder stopped the whole report; a FIFO hung it
        say(f"{folder}: {pages.PAGE} not written: summary.md is not a regular file")
        return None
    try:
        written = pages.write_result_page(folder, index, done)
    except (OSError, ValueError, TypeError, AttributeError, RecursionError) as err:  # odd stored files: this page only
        if _no_space(err):
            raise
        # (RecursionError: a checks.json nested 900 deep parses, then its display recursed)
        why = (f"summary.md is not UTF-8 text: byte {err.object[err.start]:#04x} at offset {err.start}"
               if isinstance(err, UnicodeDecodeError) else f"{type(err).__name__}: {one_line(err)}")  # named no file
        say(f"{folder}: {pages.PAGE} not written ({why})")
        return None
    if written is None and source.exists():
        say(f"{folder}: {pages.PAGE} left as it is: sgd-bench did not write it")
    return written


def _no_space(err: BaseException) -> bool:
    """Whether ``err`` is a full disk or a file-size limit, which ``report`` does not pass over."""
    return isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def index_above(folder: Path) -> Path | None:
    """The ``index.html`` that ``report`` wrote in a folder above ``folder`` and that lists it
    (the nearest), or None: a result reported alone keeps the link back that reporting the whole
    tree gave its page, so that its committed page is rewritten with the same bytes."""
    folder = Path(os.path.abspath(folder))  # as the page's relative link is taken (no symlinks resolved)
    for above in folder.parents:
        index = above / "index.html"
        try:
            text = index.read_text(errors="replace") if index.is_file() else ""
        except OSError:
            continue
        if _INDEX_SIGNATURES["index.html"] not in text:
            continue
        links = {html.escape(os.path.relpath(folder / name, above)) for name in ("summary.html", "summary.md")}
        if any(f'href="{link}"' in text for link in links):
            return index
    return None


def cmd_report(args) -> int:
    """Rebuilds every result under the folder and writes the index; exits 1 when a result is
    corrupted (its records differ from the row count and checksum in its meta.json, or its
    meta.json is broken): such a result is listed, loudly, but not rebuilt."""
    if args.dir is not None and not args.dir.strip():  # Path("") is the current folder: an unset variable
        given = f"only white space, {args.dir!r}" if args.dir else "an empty string"  # a tab, a no-break space
        raise ValueError(f"report DIR must name a folder, got {given}")
    try:
        root = experiment.folder_path(args.dir) if args.dir else experiment.runs_root()  # report '~/x': the home's
        root.exists()  # a name of 300 bytes: "error: [Errno 36] File name too long: '<the whole path>'"
    except (ValueError, OSError) as err:  # ~nosuchuser: folder_path's words, as --out's
        from sgd_bench_harness.arg_types import abbreviated

        raise ValueError(f"report DIR {err}" if isinstance(err, ValueError) else
                         f"report DIR: {abbreviated(args.dir, 24)} cannot be read ({err.strerror})") from None
    typed = args.dir or root  # as typed: Path spelled file:///x as file:/x
    if root.exists() and not root.is_dir():
        raise ValueError(f"report DIR: {typed} is a file, not a folder of results")
    if not root.is_dir():
        raise FileNotFoundError(f"no results folder at {typed}: run an experiment first (sgd-bench run)")
    try:
        found, notes = _find_results(root)
    except RecursionError:  # os.walk recurses once per level: a tree ~1000 deep was a traceback
        raise ValueError(f"report DIR: the folders under {typed} nest deeper than report can walk "
                         "(Python's recursion limit); report a folder further down") from None
    single = found == [root]
    if not single:
        _check_index_is_ours(root)
    for note in notes:
        say(note)
    if not found:
        raise FileNotFoundError(f"no results in {typed} " + ("outside its scratch folders (said above)" if _scratch_results(root)
                                                                else "(no folder with sgd-bench's meta.json)"))
    rows, corrupted, page, done = [], 0, None, set()  # done: the pages written (a nested one by its parent's)
    for folder in found:
        meta = folders.read_meta(folder) or {}
        broken = _corrupt_meta(folder) if not meta else None
        if (broken is None and meta.get("status") == folders.STATUS_COMPLETE and "experiment" not in meta
                and records.find_records(folder) is None):
            # a fragment (a grid whose folder was moved while it ran wrote summary.md, grid.png and a
            # bare meta.json in the old path) was listed "as written by the run", exit 0
            broken = "its meta.json says complete, but it names no experiment and holds no records"
        if broken is None and "records" in meta and meta.get("status") == folders.STATUS_COMPLETE:
            broken = records.verify_records(folder, meta["records"])
        if broken is None and meta.get("status") == folders.STATUS_COMPLETE:
            broken = _corrupt_checks(folder) or _not_its_experiment(meta)
        holder = folders.lock_holder(folder)  # a run writing there now: its files are not final
        busy = None if holder is None else f"not rebuilt: a run is writing it now (pid {holder})"
        if holder is None and meta.get("status") == folders.STATUS_RUNNING:
            # killed (SIGTERM, kill -9, a crash): it said "not rebuilt (FileNotFoundError: no records
            # ...)" under the status "running"
            busy = "interrupted, not rebuilt: no run holds it now; run the same command again to resume it"
        shown = results.printable(folder)  # as the index shows it: a newline or ESC split or recoloured the line
        if busy:
            how, broken = busy, None
            say(f"{shown}: {how}")
        elif broken:
            corrupted += 1
            how = f"CORRUPTED, not rebuilt: {broken}"
            say(f"{shown}: {how}; re-run it to rebuild")
        else:
            try:
                how = _rebuild(folder, meta)
            except Exception as err:  # one broken folder must not stop the index
                if _no_space(err):  # a full disk stops them all: it said "not rebuilt (OSError: [Errno 28] ...)"
                    raise  # for each result, then "wrote index.md ...", exit 0 (cli: exit 3)
                if isinstance(err, KeyError):  # stored files without what this version's report reads
                    how = (f"not rebuilt: its stored files lack {err}, so an older version of "
                           f"{meta.get('experiment', 'the script')} wrote them" + (
                               ', or "config" was deleted from its meta.json (restore it)' if err.args == ("config",)
                               and "config" not in meta else "") + "; re-run it to rebuild")  # (hand-deleted)
                elif isinstance(err, OSError) and err.strerror and (err.filename2 or err.filename):
                    # a folder named grid.png: "IsADirectoryError: [Errno 21] Is a directory: '.../.grid.png.
                    # 27liqfew.tmp' -> 'grid.png'", naming first a temporary file that was gone
                    how = f"not rebuilt ({results.printable(err.filename2 or err.filename)}: {err.strerror})"
                else:
                    how = f"not rebuilt ({type(err).__name__}: {one_line(err)})"
                say(f"{shown}: {how}")
        if not busy and not broken:
            page = _write_page(folder, index_above(root) if single else root / "index.html", done)
        figures = sorted(p.name for p in folder.glob("*.png"))
        shown_meta = results.printable  # a meta.json's text on the pages: an ESC in "dtype" reached index.md raw
        rows.append(dict(result=str(folder.relative_to(root)) if folder != root else pages.folder_name(folder),
                         kind=shown_meta(meta.get("kind", "experiment")),
                         status="corrupted" if broken else "interrupted" if busy and holder is None
                         else shown_meta(meta.get("status", "?")),
                         created=shown_meta(meta.get("created", "?")),
                         # the commit's first 12 digits, and its +dirty (cut off with them: a changed checkout hid)
                         commit=shown_meta(re.sub(r"^(\w{12})\w*", r"\1", str(meta.get("git_commit") or "?"))),
                         device=shown_meta(_first_device(meta)),
                         dtype=shown_meta(meta.get("dtype", "?")), checks=_checks_line(folder), summary=shown_meta(how),
                         _folder=folder, _figures=figures))
        print(f"{results.printable(rows[-1]['result'])}: {rows[-1]['summary']}")
    if single:  # one result folder: its own page only, never index files inside a result
        if page is not None:  # not said of a result being written, corrupted or with a page of its own
            print(f"wrote {results.printable(page)}")
    else:
        _write_index(root, rows)
        print(f"wrote {results.printable(root / 'index.md')} and {results.printable(root / 'index.html')} "
              f"over {len(rows)} result(s)")
    if corrupted:
        say(f"{corrupted} corrupted result(s): see the lines above")
        return 1
    return 0


def _link_text(name: str) -> str:
    """A folder's name as the text of its Markdown link, shown as it is: each character Markdown
    could read as markup becomes its HTML entity (a folder named ``a]b`` or ``x*y*z`` broke its
    link, or showed in italics), except ``_`` inside a word, which never is (so the committed
    gallery's ``lecture_logreg`` stays as it was). Entities, not backslashes: the table's cells
    double a backslash."""
    def entity(match) -> str:
        ch, at = match.group(), match.start()
        inside = 0 < at < len(shown) - 1 and shown[at - 1].isalnum() and shown[at + 1].isalnum()
        return ch if ch == "_" and inside else f"&#{ord(ch)};"

    shown = results.printable(name)
    return re.sub(r"[\\`*_\[\]<~&|]", entity, shown)  # those that act inside a line of a table cell


def _write_index(root: Path, rows: list[dict]) -> None:

    def rel(folder: Path, name: str) -> str:
        return os.path.relpath(folder / name, root)

    md_rows = []
    for r in rows:
        link = f"[{_link_text(r['result'])}]({pages.url(rel(r['_folder'], 'summary.md'))})" \
            if (r["_folder"] / "summary.md").exists() else _link_text(r["result"])
        md_rows.append({**r, "result": link})
    columns = ["result", "kind", "status", "created", "commit", "device", "dtype", "checks", "summary"]
    text = ("# sgd-bench results\n\nEvery result folder under this one, as `sgd-bench report` found it; "
            "each link opens the run's summary.\n\n"  # a meta.json's words show as written, never as markup
            + results.markdown_table(md_rows, columns,
                                     literal=("kind", "status", "created", "commit", "device", "dtype"))
            + "\n")
    results.write_text(root / "index.md", text)
    cards = []
    for r in rows:
        imgs = "".join(f'<img src="{html.escape(pages.url(rel(r["_folder"], f)))}" alt="{html.escape(results.printable(f))}">'
                       for f in r["_figures"][:2])
        page = next((p for p in ("summary.html", "summary.md") if (r["_folder"] / p).exists()), None)
        # as in index.md, no link without a summary: an interrupted run's card linked a missing summary.md
        name = html.escape(results.printable(r["result"]))  # a folder's name: as in index.md
        title = name if page is None else f'<a href="{html.escape(pages.url(rel(r["_folder"], page)))}">{name}</a>'
        cards.append(
            f'<section><h2>{title}</h2>'
            f'<p>{html.escape(r["kind"])} · {html.escape(r["status"])} · {html.escape(r["created"])} · '
            f'commit {html.escape(r["commit"])} · {html.escape(r["device"])} · {html.escape(str(r["dtype"]))} · '
            f'checks: {html.escape(r["checks"])}</p>{imgs}</section>')
    page = ("<!doctype html><html><head><meta charset='utf-8'><title>sgd-bench results</title><style>"
            "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}"
            "section{border-top:1px solid #ddd;padding:.5em 0}img{max-width:49%;margin-right:1%}"
            "p{color:#555;font-size:.9em}</style></head><body><h1>sgd-bench results</h1>"
            + "".join(cards) + "</body></html>\n")
    results.write_text(root / "index.html", page)
