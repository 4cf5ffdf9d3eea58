"""What users see in `dvc plots show` and `dvc plots diff`: charts that say what they show, offline too."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.browser import CHROMIUM, FLAGS
from tests.helpers import ENV, ROOT, sh, tiny_params, write_params


def specs(repo: Path, *revs: str) -> dict[str, list[dict]]:
    """The filled Vega-Lite spec of each plot, as `dvc plots show/diff --json` gives them."""
    cmd = ["dvc", "plots", "diff", *revs] if revs else ["dvc", "plots", "show"]
    return json.loads(sh(*cmd, "--json", cwd=repo).stdout)["data"]


def layers(spec: dict) -> list[dict]:
    inner = spec.get("spec", spec)
    return inner.get("layer", [inner])


MODELS, COLORS = ["RNN", "LSTM", "GRU"], ["#1f77b4", "#ff7f0e", "#2ca02c"]
VEGA = ("loss", "val_acc", "traces", "retention", "length")


def _encodings(spec: dict) -> list[dict]:
    return [spec.get("encoding", {})] + [m.get("encoding", {}) for m in layers(spec)]


def test_every_chart_colours_and_shapes_by_model_in_fixed_colours_and_dashes_by_revision(repro_repo):
    data = specs(repro_repo)
    assert set(VEGA) <= set(data)
    for plot in VEGA:
        (entry,) = data[plot]
        encodings = _encodings(entry["content"])
        colors = [e["color"] for e in encodings if "color" in e]
        assert colors, plot
        for color in colors:  # the model, in the same colour whatever models are present
            assert color["field"] == "model" and color["scale"] == {"domain": MODELS, "range": COLORS}, plot
        assert any(e.get("strokeDash", {}).get("field") == "rev" for e in encodings), plot
        assert any(e.get("shape", {}).get("field") == "model" for e in encodings) or plot == "loss", plot
        facet = entry["content"].get("facet", {}).get("column", {})
        if facet.get("field") == "model":  # one panel a model, always in the same order
            assert facet["sort"] == MODELS, plot


def test_the_loss_chart_and_png_smooth_over_the_same_steps():
    from seqmem.figures import SMOOTH

    template = json.loads((ROOT / ".dvc/plots/training.json").read_text())
    window = next(t for t in template["transform"] if "window" in t)
    assert window["frame"] == [-(SMOOTH - 1), 0]
    assert f"mean of the last {SMOOTH} steps" in template["title"]["subtitle"]


@pytest.mark.slow
def test_every_flavor_appears_in_every_chart(repo):
    params = tiny_params()
    params["flavors"] = ["gru", "rnn", "lstm"]  # any order: the charts keep theirs
    write_params(repo, params)
    sh("dvc", "repro", cwd=repo)
    data = specs(repo)
    for plot in VEGA:
        (entry,) = data[plot]
        assert {v["model"] for v in entry["content"]["data"]["values"]} == set(MODELS), plot
    traces = data["traces"][0]["content"]
    assert {v["probe"] for v in traces["data"]["values"] if v["token"] == "-1"} == {"-1 at 0", "-1 at 4", "-1 at 8"}
    charts = (repo / "plots/charts/loss.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in charts[1:]] == sorted([line.split(",")[0] for line in charts[1:]],
                                                               key=MODELS.index)  # RNN, LSTM, GRU: the fixed order


@pytest.mark.slow
def test_a_two_revision_diff_tells_revisions_apart_and_renders_offline(repo, tmp_path):
    traces = repo / "plots/charts/traces.csv"
    traces.write_text(traces.read_text().replace(",0.", ",0.9"))  # a second revision: the workspace
    data = specs(repo, "HEAD")
    for plot in ("loss", "traces"):
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
            # loss, val_acc, traces, retention, length: 5 Vega charts, whatever the number of models
            assert len(ids) == 5, f"{folder}: not every chart was drawn"
            assert dom.count('class="marks"') >= 5, f"{folder}: not every chart was drawn"


@pytest.mark.slow
def test_export_plots_writes_a_png_per_plot_and_nothing_stale(repo):
    (repo / "png").mkdir()
    (repo / "png/old_export.png").write_bytes(b"\x89PNG stale")
    out = sh("python", "scripts/export_plots.py", "-o", "png", cwd=repo).stdout
    pngs = sorted(p.name for p in (repo / "png").iterdir())
    assert len(pngs) == 11  # 5 Vega charts, and the 6 matplotlib PNGs copied beside them
    assert out.count("wrote") == 11
    assert "old_export.png" not in pngs
    assert "vega_loss.png" in pngs
    assert "plots_loss.png" in pngs
    for png in pngs:
        data = (repo / "png" / png).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n", png
        assert len(data) > 5000, png
    assert subprocess.run(["python", "scripts/export_plots.py", "nosuchrev"], cwd=repo, env=ENV,
                          capture_output=True).returncode != 0
