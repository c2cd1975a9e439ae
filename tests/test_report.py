"""`faultray-lab report`: one self-contained HTML file that renders in headless Chromium."""

from __future__ import annotations

import base64
import html
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from faultray_lab import demo_topology_path, load_topology
from faultray_lab.cli import main
from faultray_lab.outputs.report import (
    REPORT_NOTEBOOK,
    describe_cascade,
    md_code,
    md_text,
    report_title,
    table,
    top_risks,
    worst_single_failure,
)


def _find_chromium() -> str | None:
    found = shutil.which("chromium") or ("/usr/bin/chromium"
                                         if Path("/usr/bin/chromium").exists() else None)
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        # root on Debian: install it (the tests below skip only when this is impossible)
        subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], capture_output=True,
                       timeout=900, check=False)
        found = shutil.which("chromium")
    return found


CHROMIUM = _find_chromium()
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium is not installed "
    "(apt-get install -y chromium); it renders the report to check its title and images")

# Test-only probe appended to a copy of the report: after the page has loaded, record how many
# images there are and how many decoded to a real bitmap.
PROBE = """<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  document.body.setAttribute('data-images', imgs.length + '/' + ok);
});
</script>
</body>"""


# Hostile ids and names: each payload would set window.PWNED if it ever ran as markup.
HOSTILE = {
    "script": "<script>window.PWNED=1</script>",
    "img": '<img src=x onerror="window.PWNED=2">',
    "link": "[x](javascript:window.PWNED=3)",
    "quotes": "q'\"`b` ``c``",
    "html": "<b onmouseover=\"window.PWNED=4\">&amp;</b>",
}
# A file name can carry a payload too (no "/" in a file name)
HOSTILE_FILE = "topo<img src=x onerror=window.PWNED=5>.yaml"

# Test-only probe for the hostile report: after load, record whether any payload ran, how many
# scripts, event-handler attributes and javascript: links the page has, and whether each hostile
# string is visible as text.
XSS_PROBE = """<script>
window.addEventListener('load', function () {
  var b = document.body, text = b.innerText;
  b.setAttribute('data-pwned', String(window.PWNED));
  b.setAttribute('data-scripts', document.scripts.length);
  b.setAttribute('data-handlers', document.querySelectorAll(
    '[onerror],[onload],[onmouseover],[onclick]').length);
  b.setAttribute('data-js-links', document.querySelectorAll('a[href^="javascript"]').length);
  var shown = %s.filter(function (s) { return text.indexOf(s) >= 0; });
  b.setAttribute('data-shown', shown.length);
  b.setAttribute('data-probe', 'done');
});
</script>
</body>"""


def hostile_topology(folder: Path) -> Path:
    ids = list(HOSTILE.values())
    doc = {"components": [
        {"id": ids[0], "name": HOSTILE["img"], "type": "load_balancer"},
        {"id": ids[1], "name": HOSTILE["link"], "type": "app_server"},
        {"id": ids[2], "name": HOSTILE["script"], "type": "database"},
        {"id": ids[3], "name": HOSTILE["quotes"], "type": "cache"},
        {"id": ids[4], "name": HOSTILE["html"], "type": "queue"}],
        "dependencies": [{"source": ids[0], "target": ids[1], "type": "requires"},
                         {"source": ids[1], "target": ids[2], "type": "requires"},
                         {"source": ids[1], "target": ids[3], "type": "requires"},
                         {"source": ids[1], "target": ids[4], "type": "requires"}]}
    path = folder / HOSTILE_FILE
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile")
    out = d / "report.html"
    assert main(["report", str(hostile_topology(d)), "-o", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "sub" / "report.html"
    assert main(["report", str(demo_topology_path()), "-o", str(out)]) == 0
    return out


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "chromium-profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120, check=False)


def test_report_is_one_self_contained_file(report):
    html = report.read_text(encoding="utf-8")
    assert [p.name for p in report.parent.iterdir()] == ["report.html"]
    assert "<title>faultray-lab report: demo</title>" in html
    for section in ("Worst single failure", "Resilience score", "Top 10 risks",
                    "Single points of failure", "Availability layers", "Every single failure"):
        assert section in html, section
    # nothing is fetched from the network: no external scripts, stylesheets or images
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<script src" not in html
    images = re.findall(r'<img [^>]*src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert "No description has been provided" not in html  # every image has alt text
    assert len(images) >= 3  # cascade, risk distribution, availability layers
    for b64 in images:
        assert base64.b64decode(b64).startswith(b"\x89PNG\r\n\x1a\n")
    assert "def " not in html and "import faultray_lab" not in html  # no input cells
    assert "postgres" in html and "Resilience score <strong>50</strong>" in html


def test_report_content_from_the_engine():
    topo = load_topology(demo_topology_path())
    worst = worst_single_failure(topo)
    assert worst.target == "postgres" and worst.severity == 5.3
    assert "takes 6 down" in describe_cascade(worst)
    assert report_title(topo) == "faultray-lab report: demo"
    import pandas as pd

    sweep = pd.DataFrame({"id": ["a", "b", "c"], "traffic_multiplier": [1.0] * 3,
                          "risk": [2.0, 7.5, 7.5], "class": ["passed", "critical", "critical"],
                          "affected": [1, 3, 4], "down": [0, 3, 4]})
    assert top_risks(sweep, 2).id.tolist() == ["b", "c"]  # ties keep sweep order


def test_report_notebook_is_shipped_without_outputs():
    import nbformat

    nb = nbformat.read(REPORT_NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    assert all(not c.get("outputs") for c in code)


def test_report_bad_input(tmp_path, capsys):
    out = tmp_path / "r.html"
    assert main(["report", str(tmp_path / "missing.yaml"), "-o", str(out)]) == 2
    assert "file not found" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("components:\n  - {id: a, type: databse}\n")
    assert main(["report", str(bad), "-o", str(out)]) == 2
    assert "did you mean 'database'" in capsys.readouterr().err
    assert main(["report", str(demo_topology_path()), "-o", str(out), "--top", "0"]) == 2
    assert not out.exists()


@needs_chromium
def test_report_renders_in_chromium(report, tmp_path):
    probe = tmp_path / "probe.html"
    probe.write_text(report.read_text(encoding="utf-8").replace("</body>", PROBE),
                     encoding="utf-8")
    res = _chromium(tmp_path, "--virtual-time-budget=10000", "--dump-dom", probe.as_uri())
    assert res.returncode == 0, res.stderr[-2000:]
    dom = res.stdout
    assert "<title>faultray-lab report: demo</title>" in dom
    m = re.search(r'data-images="(\d+)/(\d+)"', dom)
    assert m, "the page did not finish loading"
    total, decoded = int(m.group(1)), int(m.group(2))
    assert total >= 3 and decoded == total, f"{decoded} of {total} images rendered"


@needs_chromium
def test_report_screenshot_is_not_blank(report, tmp_path):
    import matplotlib.image as mpimg

    shot = tmp_path / "shot.png"
    res = _chromium(tmp_path, "--window-size=1000,2400", f"--screenshot={shot}",
                    report.as_uri())
    assert res.returncode == 0 and shot.is_file(), res.stderr[-2000:]
    pixels = mpimg.imread(shot)[..., :3]
    # the report's figures put colour on the page: the health colours of the cascade picture
    coloured = (pixels.max(axis=2) - pixels.min(axis=2)) > 0.3
    assert coloured.mean() > 0.005


def test_hostile_ids_are_escaped_in_the_html(hostile_report):
    page = hostile_report.read_text(encoding="utf-8")
    # no payload survives as markup: no script element, no handler attribute, no js link
    assert "<script" not in page.lower()
    assert not re.search(r"<[a-z][^>]*\son(error|mouseover)\s*=", page, re.I)
    assert not re.search(r"""href\s*=\s*["']?\s*javascript:""", page, re.I)
    # ... and every payload is there as escaped text (sections, tables, title, file name)
    assert "&lt;script&gt;window.PWNED=1&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=" in page
    assert "[x](javascript:window.PWNED=3)" in page
    assert "<title>faultray-lab report: topo&lt;img src=x onerror=window.PWNED=5&gt;</title>" \
        in page


def test_tables_escape_every_cell():
    import pandas as pd

    df = pd.DataFrame({"component": [HOSTILE["script"], HOSTILE["img"]], "severity": [1.0, 2]})
    out = table(df).to_html()
    assert "<script" not in out and "<img" not in out
    assert "&lt;script&gt;window.PWNED=1&lt;/script&gt;" in out


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_markdown_escaping_renders_the_string_itself(text: str):
    """Through nbconvert's own Markdown renderer, md_text and md_code give exactly the string
    as text (control characters as spaces): never a tag, a link or emphasis."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    expected = re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", " ", text)
    if not expected.strip():
        return
    for fn, start, end in ((md_text, "<p>x ", " y</p>"), (md_code, "<p>x <code>", "</code> y</p>")):
        out = markdown2html_mistune(f"x {fn(text)} y").strip()
        assert out.startswith(start) and out.endswith(end), (fn.__name__, text, out)
        body = out[len(start):-len(end)]
        assert "<" not in body, (fn.__name__, text, out)
        got = html.unescape(body)
        assert (got.strip() if fn is md_text else got) == (
            expected.strip() if fn is md_text else expected), (fn.__name__, text, out)


@needs_chromium
def test_hostile_report_runs_no_script_in_chromium(hostile_report, tmp_path):
    import json

    probe = tmp_path / "probe.html"
    page = hostile_report.read_text(encoding="utf-8")
    wanted = json.dumps(list(HOSTILE.values())).replace("</", "<\\/")  # inside a <script>
    probe.write_text(page.replace("</body>", XSS_PROBE % wanted), encoding="utf-8")
    res = _chromium(tmp_path, "--virtual-time-budget=10000", "--dump-dom", probe.as_uri())
    assert res.returncode == 0, res.stderr[-2000:]
    body = re.search(r"<body([^>]*)>", res.stdout)
    assert body and 'data-probe="done"' in body.group(1), "the page did not finish loading"
    attrs = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', body.group(1)))
    assert attrs["pwned"] == "undefined", f"a payload ran: window.PWNED = {attrs['pwned']}"
    assert attrs["scripts"] == "1"          # only the probe itself
    assert attrs["handlers"] == "0" and attrs["js-links"] == "0"
    assert attrs["shown"] == str(len(HOSTILE)), "a hostile id is not visible as text"


def test_report_refuses_a_device_or_folder_output_before_running(tmp_path, capsys):
    assert main(["report", str(demo_topology_path()), "-o", "/dev/null"]) == 2
    assert "character device" in capsys.readouterr().err
    assert main(["report", str(demo_topology_path()), "-o", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err


def test_kernel_log_shown_only_on_failure(tmp_path, capfd):
    import os

    from faultray_lab.outputs.notebooks import kernel_log

    with kernel_log(tmp_path / "ok.log"):
        os.write(2, b"kernel noise\n")
    assert "kernel noise" not in capfd.readouterr().err
    with pytest.raises(RuntimeError), kernel_log(tmp_path / "bad.log"):
        os.write(2, b"kernel traceback\n")
        raise RuntimeError("cell failed")
    assert "kernel traceback" in capfd.readouterr().err
