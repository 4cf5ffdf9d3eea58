"""The README, .ci/run and the GitHub workflow say the same thing; the docs are fresh and self-contained."""

import inspect
import re
import subprocess
import sys

import pytest
import yaml

from seqmem.core.artifacts import read_metrics
from seqmem.core.config import (
    FLAVOR_NAMES,
    AttractorsConfig,
    DataConfig,
    EvalConfig,
    FlavorConfig,
    ProbeConfig,
    RetentionConfig,
    TrainConfig,
)
from seqmem.core.numerics import exactness
from seqmem.train import train
from stages import check_params
from stages.common import load_params
from tests.helpers import ROOT

README = (ROOT / "README.md").read_text()


def readme_commands() -> list[str]:
    """The two commands: the first two bash blocks under '## Two commands'."""
    section = README.split("## Two commands", 1)[1]
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", section, re.S)[:2]]


def test_ci_runs_the_readme_commands_verbatim():
    install, test = readme_commands()
    assert "pip install" in install
    assert "dvc repro" in install
    assert "pytest" in test
    ci = (ROOT / ".ci/run").read_text().splitlines()
    assert install in ci
    assert test in ci
    assert ci.index(install) < ci.index("ruff check .") < ci.index(test) < ci.index("python scripts/check_repro.py")


def powershell_commands() -> list[str]:
    """docs/install.md's Windows commands: the first two powershell blocks."""
    page = (ROOT / "docs/install.md").read_text()
    return [block.strip() for block in re.findall(r"```powershell\n(.*?)```", page, re.S)[:2]]


def test_github_workflow_is_valid_and_mirrors_the_readme_on_every_platform():
    wf = yaml.safe_load((ROOT / ".github/workflows/ci.yml").read_text())
    triggers = wf[True]  # YAML 1.1 reads the key `on` as True
    assert "pull_request" in triggers
    (job,) = wf["jobs"].values()
    matrix = job["strategy"]["matrix"]["include"]
    assert {m["os"].split("-")[0] for m in matrix} == {"ubuntu", "macos", "windows"}
    supported = re.search(r'requires-python = ">=3.(\d+),<3.(\d+)"', (ROOT / "pyproject.toml").read_text())
    oldest, newest = f"3.{supported[1]}", f"3.{int(supported[2]) - 1}"
    assert {m["python"] for m in matrix} == {oldest, newest}  # the oldest and the newest supported Python
    assert all(isinstance(s, dict) for s in job["steps"])
    runs = [s["run"].strip() for s in job["steps"] if "run" in s]
    install, test = readme_commands()
    assert install in runs
    assert test in runs
    assert set(powershell_commands()) <= set(runs)
    assert any("scripts/check_repro.py" in r for r in runs)
    summary = next(r for r in runs if "GITHUB_STEP_SUMMARY" in r)
    assert "dvc metrics diff --md" in summary
    assert "dvc params diff --md" in summary
    assert "base_ref" in summary


def test_the_generated_docs_are_fresh():
    # the params reference (from the configs), the results (from the committed metrics), seqmem-probe --help
    moved = subprocess.run(["git", "diff", "--quiet", "--", "metrics"], cwd=ROOT).returncode
    exact, why = exactness()
    if moved and not exact:  # dvc repro wrote this machine's metrics: within tolerance of the committed ones
        pytest.skip(f"the docs hold the committed metrics, and this machine's differ within tolerance ({why})")
    res = subprocess.run([sys.executable, str(ROOT / "scripts/docs.py"), "--check"], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_the_params_reference_lists_every_key():
    page = (ROOT / "docs/params.md").read_text()
    keys = [f"data.{k}" for k in DataConfig.keys()] + [f"evaluate.{k}" for k in EvalConfig.keys()]
    keys += [f"probe.{k}" for k in ProbeConfig.keys()] + [f"train.{k}" for k in TrainConfig.keys()]
    keys += [f"train.<flavor>.{k}" for k in FlavorConfig.keys()] + [f"retention.{k}" for k in RetentionConfig.keys()]
    keys += [f"attractors.{k}" for k in AttractorsConfig.keys()]
    missing = [k for k in keys if f"| `{k}` |" not in page]
    assert not missing, f"docs/params.md lacks {missing}"


def test_the_readme_is_a_front_page_whose_links_resolve():
    assert len(README.splitlines()) <= 200
    assert len(README.split()) <= 2000
    links = re.findall(r"\]\((?!https?:)([^)#]+)\)", README)
    assert {"docs/params.md", "docs/timings.md", "plots/traces.png"} <= set(links)
    assert [link for link in links if not (ROOT / link).exists()] == []


def test_every_docs_page_starts_with_what_it_answers():
    for page in sorted((ROOT / "docs").glob("*.md")):
        title, blank, answers = page.read_text().splitlines()[:3]
        assert title.startswith("# "), page.name
        assert answers.startswith("*Answers: "), page.name
        assert blank == "", page.name


def test_nothing_tracked_refers_outside_the_repository():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    outside = ".." + "/shared"  # the folder beside the repo that only its developers have (split: not a hit here)
    texts = [p for p in tracked if p.endswith((".py", ".md", ".yaml", ".yml", ".toml", ".cfg", "run"))]
    offenders = [p for p in texts if (ROOT / p).is_file() and outside in (ROOT / p).read_text(errors="ignore")]
    assert offenders == []


def test_committed_params_pass_the_check_for_every_flavor(tmp_path):
    # tuned values are welcome in params.yaml; invalid ones, even for an unused flavor, are not
    check_params.cli(["--params", str(ROOT / "params.yaml"), "--out", str(tmp_path / "ok")])
    assert (tmp_path / "ok").read_text() == check_params.STAMP
    params = load_params(ROOT / "params.yaml")
    TrainConfig.from_params(params["train"], list(FLAVOR_NAMES))


def test_train_shows_every_key_with_the_config_default():
    sig = inspect.signature(train).parameters
    for cls in (TrainConfig, FlavorConfig):
        for key in cls.keys():
            assert sig[key].kind is inspect.Parameter.KEYWORD_ONLY, key
            assert sig[key].default == getattr(cls, key), key
    assert "steps: int = 600" in str(inspect.signature(train))


def _shown(share: float) -> str:
    return f"{share * 100:.1f}".removesuffix(".0") + "%"  # 1.0 -> 100%, 0.608 -> 60.8%


def test_the_memory_pages_committed_columns_are_the_committed_results():

    metrics, retention = read_metrics(ROOT / "metrics/evaluate"), read_metrics(ROOT / "metrics/retention")
    followed = load_params(ROOT / "params.yaml")["retention"]["max_distance"]
    rows = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]]
            for line in (ROOT / "docs/memory.md").read_text().split("| seed 0 |", 1)[1].splitlines()[2:5]}
    for flavor, column in (("rnn", 0), ("lstm", 2)):  # the middle column is an experiment, not committed
        half = retention[flavor]["half_life"]
        assert rows["memory half-life"][column] == (f"> {followed:,} steps" if half is None else f"{half:,} steps")
        at = metrics[flavor]["accuracy_by_length"]
        assert rows["accuracy at length 1,000 / 10,000"][column] == f"{_shown(at['1000'])} / {_shown(at['10000'])}"
        alarms = retention[flavor]["false_alarm_at_max"]
        assert rows[f"false alarms within {followed:,} steps"][column] == _shown(alarms)


def test_the_reproducibility_page_states_the_committed_tolerances():
    import json

    tolerances = json.loads((ROOT / "benchmarks/tolerances.json").read_text())
    page = " ".join((ROOT / "docs/reproducibility.md").read_text().split())
    evaluated = json.loads((ROOT / "metrics/evaluate/rnn.json").read_text())["rnn"]
    shares = {v for k, v in tolerances.items() if k.split(".")[1] in evaluated and not k.endswith(".loss")}
    assert shares == {0.0005}
    assert "(tolerance 0.0005)" in page
    assert f"the loss spreads by {tolerances['rnn.loss']:g} (RNN)" in page
    assert f"floored at {tolerances['lstm.loss']:g})" in page


def test_each_committed_prediction_lies_in_its_measured_bracket_as_the_readme_says():
    import json

    rows = json.loads((ROOT / "benchmarks/memory_prediction.json").read_text())["rows"]
    assert [r["seed"] for r in rows] == [0, 1, 2, 3, 4]
    for r in rows:  # the true crossing lies after the last distance where half still remembered
        assert r["measured_after"] < r["predicted"] <= r["measured"], r
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert "Every prediction falls between the last distance at which half still remembered" in readme


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation but - and _ dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(page) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)  # a '#' in a code block is no heading
    return {_slug(h) for h in re.findall(r"^#{1,6} (.+)$", text, re.M)}


def test_every_page_and_anchor_that_a_message_comment_or_link_names_exists():
    tracked = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.split()
    texts = [p for p in tracked if p.endswith((".py", ".md", ".yaml", ".yml", ".toml", ".json", "run", ".js", ".html"))
             and (ROOT / p).is_file()]
    named, bad = 0, []
    for rel in texts:
        text = (ROOT / rel).read_text(errors="ignore")
        # a section of the README or a page named in words, not by its file and anchor, can't be checked
        bad += [f"{rel}: {m.group(0)!r}: name a section as docs/<page>.md#<anchor>"
                for m in re.finditer(r"README[:,] ?[\"'(]?[A-Z]", text)]
        # in code and config, a page is docs/<page>.md; in a page, a relative link may name a sibling
        page_ref = r"(?<![\w./])((?:docs/)?[\w-]+\.md\b)" if rel.endswith(".md") else r"(?<![\w./])(docs/[\w-]+\.md\b)"
        for m in re.finditer(page_ref + r"(#[\w-]+)?", text):
            page, anchor = m.group(1), m.group(2)
            base = (ROOT / rel).parent if rel.endswith(".md") and "/" not in page else ROOT
            target = base / page if (base / page).exists() else ROOT / "docs" / page
            named += 1
            if not target.exists():
                bad.append(f"{rel}: {m.group(0)}: no such page")
            elif anchor and anchor[1:] not in _anchors(target):
                bad.append(f"{rel}: {m.group(0)}: no such heading in {target.relative_to(ROOT)}")
    assert named > 20 and bad == []
