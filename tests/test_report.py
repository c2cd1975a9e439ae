"""`faultray-lab report`: one self-contained HTML file that renders in headless Chromium."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from faultray_lab import demo_topology_path, load_topology
from faultray_lab.cli import main
from faultray_lab.outputs.report import (
    REPORT_NOTEBOOK,
    describe_cascade,
    report_title,
    top_risks,
    worst_single_failure,
)

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium"
                                         if Path("/usr/bin/chromium").exists() else None)
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
