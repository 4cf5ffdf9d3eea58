"""docs/library.md and notebooks/exercise.ipynb run as written: their code, in order, in a fresh interpreter."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.helpers import ENV, ROOT


def _run_python(code: str, cwd) -> subprocess.CompletedProcess:
    # warnings as errors: an example that warns (an unpinned import order, say) is a broken example
    return subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-c", code], cwd=cwd, capture_output=True,
                          text=True, env=ENV | {"PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}, timeout=600)


def _workdir(tmp_path):
    (tmp_path / "models").symlink_to(ROOT / "models")  # the pipeline's models, as in a clone after dvc repro
    if not (ROOT / "models/lstm.safetensors").exists():
        pytest.skip("models/*.safetensors not built: run `dvc repro` first")
    return tmp_path


def test_every_code_block_of_the_library_page_runs_as_written(tmp_path):
    page = (ROOT / "docs/library.md").read_text()
    blocks = re.findall(r"```(python|bash)\n(.*?)```", page, re.S)
    python = "\n".join(code for lang, code in blocks if lang == "python")
    assert python.startswith("import seqmem  # first")  # before torch: the pinned arithmetic, no warning
    cwd = _workdir(tmp_path)
    res = _run_python(python, cwd)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "Warning" not in res.stderr, res.stderr
    for line in (ln for lang, code in blocks if lang == "bash" for ln in code.splitlines() if ln.strip()):
        out = subprocess.run(["bash", "-c", line], cwd=cwd, env=ENV, capture_output=True, text=True)
        assert out.returncode == 0, f"{line}: {out.stderr}"
        assert "the -1 arrives at step 3" in out.stdout  # the page's own probe


def _cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def test_the_notebook_is_committed_without_outputs():
    nb = json.loads((ROOT / "notebooks/exercise.ipynb").read_text())
    for cell in _cells(nb):
        assert cell.get("outputs", []) == [] and cell.get("execution_count") is None, "".join(cell["source"])[:60]


@pytest.mark.slow
def test_the_notebook_runs_top_to_bottom(tmp_path):
    nb = json.loads((ROOT / "notebooks/exercise.ipynb").read_text())
    code = "\n\n".join("".join(c["source"]) for c in _cells(nb))
    assert not re.search(r"^\s*[%!]", code, re.M)  # plain Python: it runs the same in any kernel
    res = _run_python(code, _workdir(tmp_path))
    assert res.returncode == 0, res.stderr[-3000:]
