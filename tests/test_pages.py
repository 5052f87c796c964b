"""The report a person opens: ``sgd-bench report`` writes a ``summary.html`` per result (tables,
every check with ✓/✗ and its numbers, figures inline, metadata) and an ``index.html`` that links
to each page; the pages load in headless Chromium from the file system, with every image
decoded, every link resolving and nothing logged to the console."""

import json
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlparse

import numpy as np
import pytest

from sgd_bench_harness import cli, pages, report
from sgd_bench_harness import folders

ROOT = Path(__file__).resolve().parents[1]


def _png(path, h=12, w=20):
    import matplotlib.image

    matplotlib.image.imsave(path, np.linspace(0, 1, h * w).reshape(h, w))


def _result(folder: Path, *, checks, extra_figure=None):
    """A finished result of an experiment this checkout does not have (report keeps its files
    as written): a summary with a table and an inline figure, checks, meta."""
    folder.mkdir(parents=True)
    _png(folder / "main.png")
    if extra_figure:
        _png(folder / extra_figure)
    (folder / "summary.md").write_text(
        f"# A result in {folder.name}\n\nSome words.\n\n![main](main.png)\n\n"
        "| method | gap |\n|---|---|\n| gd | 1.5e-08 |\n| sgd | 0.0031 |\n\n"
        "<script>console.error('raw html must not run')</script>\n")
    (folder / "checks.json").write_text(json.dumps(checks))
    (folder / "records.csv").write_text("method,gap\ngd,1.5e-08\n")
    meta = {"experiment": "not_in_this_checkout", "created": "2026-12-06T16:00:00", "dtype": "float64",
            "devices": ["cpu:0"], "config": {"seeds": 4, "steps": 10}}
    (folder / "meta.json").write_text(json.dumps(meta))
    folders.mark(folder, folders.STATUS_COMPLETE, "abc123")


CHECKS = [{"claim": "GD converges linearly", "holds": True,
           "measured": {"rate": 0.7912345, "ci": [0.78, 0.80]}},
          {"claim": "SGD beats GD", "holds": False, "summary": "SGD beats GD: fails (ratio 3.25)",
           "measured": {"ratio": 3.2512}}]


@pytest.fixture
def gallery(tmp_path, capsys):
    root = tmp_path / "gallery"
    _result(root / "alpha", checks=CHECKS, extra_figure="extra.png")
    _result(root / "beta", checks=CHECKS[:1])
    assert cli.main(["report", str(root)]) == 0
    capsys.readouterr()
    return root


def test_a_page_per_result_with_tables_checks_figures_and_metadata(gallery):
    page = (gallery / "alpha" / "summary.html").read_text()
    assert "<table>" in page and "<td>1.5e-08</td>" in page  # the summary's table, rendered
    assert '<img src="main.png" alt="main"' in page and '<img src="extra.png"' in page
    assert "Checks: 1 of 2 hold" in page
    held, failed = re.findall(r'<li class="(holds|fails)"><span class="mark">(.)</span>', page)
    assert held == ("holds", "✓") and failed == ("fails", "✗")
    assert "<td>0.7912</td>" in page and "<td>[0.78, 0.8]</td>" in page and "<td>3.251</td>" in page
    assert "<th>created</th><td>2026-12-06T16:00:00</td>" in page and "&quot;seeds&quot;: 4" in page
    assert "<script>console" not in page  # raw HTML in a summary is escaped, never run
    assert '<a href="../index.html">all results</a>' in page
    index = (gallery / "index.html").read_text()
    assert 'href="alpha/summary.html"' in index and 'href="beta/summary.html"' in index
    # index.md still links the Markdown summary, which GitHub renders
    assert "[alpha](alpha/summary.md)" in (gallery / "index.md").read_text()


def test_report_on_one_result_writes_its_page_and_no_index_inside_it(gallery, capsys):
    one = gallery / "beta"
    (one / "summary.html").unlink()
    assert cli.main(["report", str(one)]) == 0
    assert (one / "summary.html").exists()
    assert not (one / "index.md").exists() and not (one / "index.html").exists()
    # the link back to the index above that lists it, as reporting the gallery gave (leftovers22:
    # the page had lost it, so that reporting a committed result alone changed its page)
    assert '<a href="../index.html">all results</a>' in (one / "summary.html").read_text()
    (gallery / "index.html").unlink()
    assert cli.main(["report", str(one)]) == 0
    assert "all results" not in (one / "summary.html").read_text()  # no index to go back to


def test_a_users_own_summary_html_is_left_alone(gallery, capsys):
    mine = gallery / "alpha" / "summary.html"
    mine.write_text("<p>my notes</p>")
    assert cli.main(["report", str(gallery)]) == 0
    assert mine.read_text() == "<p>my notes</p>"
    assert "summary.html left as it is" in capsys.readouterr().err


# -- in a real browser ---------------------------------------------------------------------------
def _chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser")


# Injected into a copy of each page, beside it: it records every image's decoded width, every
# link's resolved URL and every error event (a failed resource load included) into the DOM,
# which --dump-dom prints. The page itself has no script.
PROBE = """<script>
var probe = {images: [], links: [], errors: []};
window.addEventListener("error", function (e) {
  probe.errors.push(e.message || ("failed to load " + (e.target.src || e.target.href)));
}, true);
window.addEventListener("load", function () {
  for (const img of document.images) probe.images.push([img.getAttribute("src"), img.naturalWidth]);
  for (const a of document.querySelectorAll("a[href]")) probe.links.push(a.href);
  var out = document.createElement("pre"); out.id = "sgd-bench-probe";
  out.textContent = JSON.stringify(probe); document.body.appendChild(out);
});
</script>"""


def _load(browser, page: Path):
    probe_page = page.with_name(f"_probe_{page.name}")
    probe_page.write_text(page.read_text().replace("<head>", "<head>" + PROBE, 1))
    try:
        done = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr",
             "--v=0", "--virtual-time-budget=5000", "--dump-dom", probe_page.as_uri()],
            capture_output=True, text=True, timeout=120)
    finally:
        probe_page.unlink()
    found = re.search(r'<pre id="sgd-bench-probe">(.*?)</pre>', done.stdout, flags=re.S)
    assert found, f"no probe output from chromium for {page}: {done.stderr[-2000:]}"
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&")), console


def test_index_and_every_page_load_in_headless_chromium(gallery, tmp_path, monkeypatch, capsys):
    browser = _chromium()
    if browser is None:
        pytest.skip("no chromium binary on PATH (.ci/run installs Debian's chromium with apt-get)")
    # Beside the made-up results, a real one as a run wrote it (its figures and a GIF link);
    # its rebuild is left out, only the pages are under test here.
    shutil.copytree(ROOT / "results" / "sgd_trajectories", gallery / "sgd_trajectories")
    monkeypatch.setattr(report, "_rebuild", lambda folder, meta: "as written by the run")
    assert cli.main(["report", str(gallery)]) == 0
    capsys.readouterr()
    index = gallery / "index.html"
    probe, console = _load(browser, index)
    linked = {Path(unquote(urlparse(u).path)) for u in probe["links"]}
    result_pages = sorted(gallery.glob(f"*/{pages.PAGE}"))
    assert len(result_pages) == 3 and set(result_pages) <= linked  # each page one click away
    for page in [index, *result_pages]:
        probe, console = (probe, console) if page == index else _load(browser, page)
        assert probe["images"], page
        assert all(width > 0 for _, width in probe["images"]), (page, probe["images"])
        for url in probe["links"]:
            parsed = urlparse(url)
            assert parsed.scheme == "file", f"{page} links off the file system (offline): {url}"
            assert Path(unquote(parsed.path)).exists(), f"{page}: broken link {url}"
        assert not probe["errors"], (page, probe["errors"])
        assert not console, (page, console)


def test_odd_folder_names_are_paths_in_a_real_browser(tmp_path, capsys):
    # A folder named javascript:alert(1) was a script link in index.html; "#", "?" and "%" in a
    # name gave links and images that did not resolve (hostile22).
    browser = _chromium()
    if browser is None:
        pytest.skip("no chromium binary on PATH (.ci/run installs Debian's chromium with apt-get)")
    root = tmp_path / "gallery"
    for name in ("javascript:alert(1)", "run #2 100%?"):
        _result(root / name, checks=CHECKS[:1])
    assert cli.main(["report", str(root)]) == 0
    capsys.readouterr()
    for page in [root / "index.html", root / "run #2 100%?" / pages.PAGE]:
        probe, console = _load(browser, page)
        assert probe["images"] and all(width > 0 for _, width in probe["images"]), (page, probe["images"])
        for url in probe["links"]:
            parsed = urlparse(url)
            assert parsed.scheme == "file" and Path(unquote(parsed.path)).exists(), f"{page}: {url}"
        assert not probe["errors"] and not console, (page, probe["errors"], console)
