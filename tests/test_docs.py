"""The README, .ci/run and the GitHub workflow say the same thing, and the README covers every param."""

import dataclasses
import re

import yaml

from seqmem.config import DataConfig, EvalConfig, ProbeConfig, TrainConfig
from tests.helpers import ROOT

README = (ROOT / "README.md").read_text()


def readme_commands() -> list[str]:
    """The two commands: the first two bash blocks under '## Two commands'."""
    section = README.split("## Two commands", 1)[1]
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", section, re.S)[:2]]


def test_ci_runs_the_readme_commands_verbatim():
    install, test = readme_commands()
    assert "pip install" in install and "dvc repro" in install and "pytest" in test
    ci = (ROOT / ".ci/run").read_text().splitlines()
    assert install in ci and test in ci
    assert ci.index(install) < ci.index("ruff check .") < ci.index(test) < ci.index("python scripts/check_repro.py")


def test_github_workflow_is_valid_and_mirrors_the_readme():
    wf = yaml.safe_load((ROOT / ".github/workflows/ci.yml").read_text())
    triggers = wf[True]  # YAML 1.1 reads the key `on` as True
    assert "pull_request" in triggers
    (job,) = wf["jobs"].values()
    assert job["runs-on"] and all(isinstance(s, dict) for s in job["steps"])
    runs = [s["run"].strip() for s in job["steps"] if "run" in s]
    install, test = readme_commands()
    assert install in runs and test in runs
    assert any("scripts/check_repro.py" in r for r in runs)
    summary = next(r for r in runs if "GITHUB_STEP_SUMMARY" in r)
    assert "dvc metrics diff --md" in summary and "dvc params diff --md" in summary
    assert "base_ref" in summary


def test_readme_documents_every_param():
    keys = [f"data.{k}" for k in DataConfig.keys()] + [f"evaluate.{k}" for k in EvalConfig.keys()]
    keys += [f"probe.{k}" for k in ProbeConfig.keys()] + [f"train.{k}" for k in TrainConfig.keys("shared")]
    keys += [f"train.<flavor>.{k}" for k in TrainConfig.keys("flavor")]
    missing = [k for k in keys if f"`{k}`" not in README]
    assert not missing, f"README's params table lacks {missing}"
    # and params.yaml holds exactly the keys the configs declare
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    for section, cls in (("data", DataConfig), ("evaluate", EvalConfig), ("probe", ProbeConfig)):
        assert set(params[section]) == {f.name for f in dataclasses.fields(cls)}, section


def test_the_pipeline_trains_with_the_library_defaults():
    # train(torch.nn.LSTM) and the train@lstm stage must build the same model the same way
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    defaults = TrainConfig()
    for flavor in ("rnn", "lstm", "gru"):
        assert TrainConfig.from_params(params["train"], flavor) == defaults, flavor
