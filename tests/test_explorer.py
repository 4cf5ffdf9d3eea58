"""Stage explorer without a browser: what the page holds, that it holds it exactly, and what the stage refuses."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from seqmem.checkpoint import read_checkpoint
from seqmem.core.config import weight_shapes
from seqmem.explorer import SCRIPTS
from stages import explorer
from tests.browser import model_path
from tests.helpers import ENV, ROOT, sh

MAX_PAGE = 300_000  # bytes: the budget for the whole page, models included


def page_data(html: str) -> dict:
    """The JSON the page holds, as its script reads it."""
    blob = re.search(r'<script type="application/json" id="seqmem-data">(.*?)</script>', html, re.S).group(1)
    return json.loads(blob)


def args(repo: Path, out: Path, **change: str) -> list[str]:
    given = {"--model": str(model_path(repo, "{flavor}")), "--fixed-points": str(repo / "plots/fixed_points"),
             "--trajectories": str(repo / "plots/trajectories"), "--plane": str(repo / "plots/plane"),
             "--out": str(out)} | change
    return ["--params", str(repo / "params.yaml"), *[x for kv in given.items() for x in kv]]


def test_the_page_holds_every_models_weights_bit_for_bit(repro_repo):
    data = page_data((repro_repo / "plots/explorer.html").read_text())
    assert [m["flavor"] for m in data["models"]] == ["rnn", "lstm"]
    for m in data["models"]:
        ckpt = read_checkpoint(model_path(repro_repo, m["flavor"]))
        flat = np.frombuffer(base64.b64decode(m["weights"]), "<f4")
        offset = 0
        for key, shape in weight_shapes(ckpt.flavor, ckpt.hidden_size, ckpt.num_layers).items():
            n = int(np.prod(shape))
            assert flat[offset : offset + n].tobytes() == ckpt.state_dict[key].astype("<f4").ravel().tobytes(), key
            offset += n
        assert offset == len(flat)
        plane = json.loads((repro_repo / f"plots/plane/{m['flavor']}.json").read_text())
        assert m["plane"] == {"mean": plane["mean"], "components": plane["components"]}
        with open(repro_repo / f"plots/fixed_points/{m['flavor']}.csv") as f:
            assert len(m["points"]["rows"]) == len(f.read().splitlines()) - 1
    assert data["sequence"] == [1, 2, 3, 4, 5, 6, 7, 8, 9]


def test_the_committed_page_is_small_self_contained_and_made_from_the_committed_files():
    page = (ROOT / "plots/explorer.html").read_text()
    assert len(page.encode()) < MAX_PAGE
    assert not re.search(r"""(src|href)\s*=|https?://|@import|url\(""", page)  # nothing to fetch: it opens offline
    for name in SCRIPTS + ("engine.js", "fast.js", "style.css"):
        assert (ROOT / "seqmem/explorer" / name).read_text() in page, name  # inlined as the files are
    assert page.count("<script") == len(SCRIPTS) + 3  # the data, the engine, its fast path, the scripts: no other


def test_the_stage_writes_the_same_bytes_twice_and_never_imports_torch(repro_repo, tmp_path):
    code = (f"import sys; from stages import explorer; explorer.cli({args(repro_repo, tmp_path / 'a.html')!r}); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'numba', 'matplotlib')))")
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=ENV, capture_output=True, text=True, check=True)
    assert res.stdout.splitlines()[-1] == "[]"
    explorer.cli(args(repro_repo, tmp_path / "b.html"))
    assert (tmp_path / "a.html").read_bytes() == (tmp_path / "b.html").read_bytes() == \
        (repro_repo / "plots/explorer.html").read_bytes()


def _spoil_plane(repo: Path) -> None:
    path = repo / "plots/plane/lstm.json"
    plane = json.loads(path.read_text())
    plane["mean"] = plane["mean"][:-1]
    path.write_text(json.dumps(plane))


def _swap_models(repo: Path) -> None:
    shutil.copy(model_path(repo, "rnn"), model_path(repo, "lstm"))


@pytest.mark.parametrize("spoil, expect", [
    (_spoil_plane, "plots/plane/lstm.json: expected {'mean': 16 numbers"),
    (_swap_models, "holds an RNN model, but this is the LSTM's place"),
    (lambda repo: (repo / "params.yaml").write_text((repo / "params.yaml").read_text().replace("steps: 20", "steps: 21",
                                                                                                  1)),
     "was trained with other params than params.yaml's: train.rnn.steps 20 (params.yaml: 21)"),
    (lambda repo: (repo / "plots/fixed_points/rnn.csv").write_text("model,digit\nRNN,1\n"),
     "plots/fixed_points/rnn.csv: expected a non-empty CSV with columns"),
    (lambda repo: (repo / "plots/plane/rnn.json").unlink(), "missing"),
], ids=["plane size", "swapped models", "other params", "points columns", "no plane"])
def test_a_bad_input_is_one_line_and_no_page(spoil, expect, repo, tmp_path, capsys):
    spoil(repo)
    with pytest.raises(SystemExit) as e:
        explorer.cli(args(repo, tmp_path / "page.html"))
    err = capsys.readouterr().err
    assert e.value.code == 2 and err.count("\n") == 1 and expect in err, err
    assert not (tmp_path / "page.html").exists()


def test_a_model_path_without_its_flavor_is_refused(repro_repo, tmp_path, capsys):
    with pytest.raises(SystemExit):
        explorer.cli(args(repro_repo, tmp_path / "page.html", **{"--model": str(model_path(repro_repo, "rnn"))}))
    assert "--model: must name each model's path with {flavor}" in capsys.readouterr().err


@pytest.mark.slow
def test_a_wheel_carries_the_pages_parts(tmp_path):
    """A non-editable install builds the page too: its HTML, CSS and scripts are package data."""
    src = tmp_path / "src"  # a copy: building writes build/ and egg-info beside the sources
    shutil.copytree(ROOT / "seqmem", src / "seqmem", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    sh(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
       "-w", str(tmp_path), ".", cwd=src)
    (wheel,) = tmp_path.glob("seqmem-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in (*SCRIPTS, "engine.js", "fast.js", "style.css", "page.html", "__init__.py"):
        assert f"seqmem/explorer/{name}" in names, name
