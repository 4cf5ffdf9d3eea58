"""dvc plots pages that render with no network, checked in headless Chromium; PNG export of the Vega plots."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import ENV, sh

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic"]


pytestmark = pytest.mark.slow  # every test here is a long end-to-end run

def rendered(page: Path, profile: Path) -> dict[str, str]:
    """Each Vega plot's div after Chromium ran the page's scripts: plot id -> its rendered HTML."""
    ids = re.findall(r"vegaEmbed\('#([^']+)'", page.read_text())
    dom = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=20000",
                          "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    starts = {i: dom.find(f'id="{i}"') for i in ids}
    ends = sorted(starts.values()) + [len(dom)]
    return {i: dom[s : min(e for e in ends if e > s)] if s >= 0 else "" for i, s in starts.items()}


@pytest.mark.skipif(not CHROMIUM, reason="needs Chromium (Debian's chromium, which .ci/run installs) or Chrome")
@pytest.mark.skipif(not shutil.which("npm"), reason="needs npm to fetch the Vega packages")
def test_offline_template_renders_every_plot_in_show_and_diff(repo, tmp_path):
    sh("python", "scripts/offline_plots.py", cwd=repo)  # npm fetch + .dvc/config.local
    sh("dvc", "plots", "show", "-o", "show", cwd=repo)
    page = (repo / "show/index.html").read_text()
    assert "cdn.jsdelivr" not in page and "vega-embed@6.18.2" in page
    plots = rendered(repo / "show/index.html", tmp_path / "chromium")
    assert len(plots) == 5  # loss, val_acc, traces per model, length
    drawn = {i for i, html in plots.items() if "<canvas" in html or "<svg" in html}
    assert drawn == set(plots), f"not drawn: {set(plots) - drawn}"
    assert len(re.findall(r'<img[^>]*src="static/', page)) == 4  # the matplotlib PNGs

    # a second revision: the workspace with other traces, against HEAD
    traces = repo / "plots/traces/rnn.csv"
    traces.write_text(traces.read_text().replace(",0.", ",0.9"))
    sh("dvc", "plots", "diff", "HEAD", "-o", "diff", cwd=repo)
    page = (repo / "diff/index.html").read_text()
    assert "HEAD" in page and "workspace" in page
    plots = rendered(repo / "diff/index.html", tmp_path / "chromium")
    assert plots and all("<canvas" in html or "<svg" in html for html in plots.values())


def test_export_plots_writes_a_png_per_vega_plot(repo):
    out = sh("python", "scripts/export_plots.py", "-o", "png", cwd=repo).stdout
    pngs = sorted((repo / "png").iterdir())
    assert len(pngs) == 9 and out.count("wrote") == 9  # 5 Vega plots rendered, 4 matplotlib PNGs copied
    for png in pngs:
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000, png.name
    assert subprocess.run(["python", "scripts/export_plots.py", "nosuchrev"], cwd=repo, env=ENV,
                          capture_output=True).returncode != 0
