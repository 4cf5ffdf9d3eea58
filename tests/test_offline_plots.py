"""What users see in `dvc plots show` and `dvc plots diff`: charts that say what they show, offline too."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import ENV, sh

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic"]


def specs(repo: Path, *revs: str) -> dict[str, list[dict]]:
    """The filled Vega-Lite spec of each plot, as `dvc plots show/diff --json` gives them."""
    cmd = ["dvc", "plots", "diff", *revs] if revs else ["dvc", "plots", "show"]
    return json.loads(sh(*cmd, "--json", cwd=repo).stdout)["data"]


def layers(spec: dict) -> list[dict]:
    inner = spec.get("spec", spec)
    return inner.get("layer", [inner])


def test_every_chart_names_models_not_files_and_shows_every_flavor(repro_repo):
    data = specs(repro_repo)
    for plot in ("loss", "val_acc"):
        (entry,) = data[plot]
        values = entry["content"]["data"]["values"]
        assert {"rnn.csv", "lstm.csv"} == {v["filename"] for v in values}
        spec = json.dumps(entry["content"])
        assert "upper(replace(datum.filename, '.csv', ''))" in spec
        assert '"field": "model"' in spec
    assert '"type": "log"' in json.dumps(data["loss"][0]["content"])  # loss spans 4 decades
    (length,) = data["length"]
    assert {v["model"] for v in length["content"]["data"]["values"]} == {"rnn", "lstm"}
    assert length["content"]["facet"]["column"]["field"] == "model"  # one panel a model: none hides another
    training_range = layers(length["content"])[0]["encoding"]
    assert (training_range["x"]["datum"], training_range["x2"]["datum"]) == (10, 25)


def test_each_trace_chart_is_headed_by_its_model_and_marks_half_and_each_minus_one(repro_repo):
    data = specs(repro_repo)
    for flavor in ("rnn", "lstm"):
        (entry,) = data[f"plots/traces/{flavor}.csv"]
        spec = entry["content"]
        assert spec["facet"]["column"]["field"] == "model"
        assert {v["model"] for v in spec["data"]["values"]} == {flavor.upper()}
        marks = layers(spec)
        assert any(m["mark"]["type"] == "rule" and m["encoding"]["y"] == {"datum": 0.5} for m in marks)
        minus = [m for m in marks if m.get("transform") == [{"filter": "datum.token == -1"}]]
        assert minus
        assert minus[0]["mark"]["type"] == "rule"
        probes_with_minus = {v["probe"] for v in spec["data"]["values"] if v["token"] == "-1"}
        assert probes_with_minus == {"-1 at 0", "-1 at 4", "-1 at 8"}


@pytest.mark.slow
def test_a_two_revision_diff_tells_revisions_apart_and_renders_offline(repo, tmp_path):
    traces = repo / "plots/traces/rnn.csv"
    traces.write_text(traces.read_text().replace(",0.", ",0.9"))  # a second revision: the workspace
    data = specs(repo, "HEAD")
    for plot in ("loss", "plots/traces/rnn.csv"):
        (entry,) = data[plot]
        dash = next(m["encoding"]["strokeDash"] for m in layers(entry["content"])
                    if "strokeDash" in m.get("encoding", {})) if plot != "loss" else \
            entry["content"]["encoding"]["strokeDash"]
        assert dash["field"] == "rev"
        assert dash["legend"]["symbolType"] == "stroke"
        assert len({str(r) for r in dash["scale"]["range"][:2]}) == 2  # solid and dashed
    for cmd, folder in ((["show"], "show"), (["diff", "HEAD"], "diff")):
        sh("dvc", "plots", *cmd, "-o", folder, cwd=repo)
        page = (repo / folder / "index.html").read_text()
        assert not re.search(r"<script[^>]+src=", page)  # Vega is inline: nothing to fetch
        if CHROMIUM:
            ids = re.findall(r"vegaEmbed\('#([^']+)'", page)
            dom = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / folder}",
                                  "--virtual-time-budget=20000", "--dump-dom", (repo / folder / "index.html").as_uri()],
                                 capture_output=True, text=True, timeout=120).stdout
            # loss, val_acc, and a traces and a retention chart per model, length: 7 Vega charts
            assert len(ids) == 7, f"{folder}: not every chart was drawn"
            assert dom.count('class="marks"') >= 7, f"{folder}: not every chart was drawn"


@pytest.mark.slow
def test_export_plots_writes_a_png_per_plot_and_nothing_stale(repo):
    (repo / "png").mkdir()
    (repo / "png/old_export.png").write_bytes(b"\x89PNG stale")
    out = sh("python", "scripts/export_plots.py", "-o", "png", cwd=repo).stdout
    pngs = sorted(p.name for p in (repo / "png").iterdir())
    assert len(pngs) == 13  # 7 Vega charts, and the 6 matplotlib PNGs copied beside them
    assert out.count("wrote") == 13
    assert "old_export.png" not in pngs
    assert "vega_loss.png" in pngs
    assert "plots_loss.png" in pngs
    for png in pngs:
        data = (repo / "png" / png).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n", png
        assert len(data) > 5000, png
    assert subprocess.run(["python", "scripts/export_plots.py", "nosuchrev"], cwd=repo, env=ENV,
                          capture_output=True).returncode != 0
