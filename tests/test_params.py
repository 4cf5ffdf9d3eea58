"""params.yaml is read exactly as DVC reads it, so the numbers in dvc.lock are the numbers a stage uses."""

from __future__ import annotations

import pytest
from dvc.utils.serialize import parse_yaml

from seqmem.core.config import ConfigError
from stages.common import load_params

CORNERS = {  # YAML 1.1 (PyYAML) reads each of these differently
    "steps: 017": {"steps": 17},  # 1.1: octal 15
    "steps: 1:30": {"steps": "1:30"},  # 1.1: sexagesimal 90
    "steps: 0o17": {"steps": 15},  # 1.1: a string
    "lr: 1e-3": {"lr": 0.001},  # 1.1: a string
    "flag: yes": {"flag": "yes"},  # 1.1: True
    "lr: .inf": {"lr": float("inf")},
}


@pytest.mark.parametrize("text", CORNERS)
def test_reads_what_dvc_reads(tmp_path, text):
    path = tmp_path / "params.yaml"
    path.write_text(text + "\n")
    assert load_params(path) == parse_yaml(text, str(path)) == CORNERS[text]


def test_a_missing_or_broken_params_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"params.yaml: cannot read the params file: No such file"):
        load_params(tmp_path / "params.yaml")
    (tmp_path / "params.yaml").write_text("train: [1, 2\n")
    with pytest.raises(ConfigError, match="params.yaml: not valid YAML"):
        load_params(tmp_path / "params.yaml")
    (tmp_path / "params.yaml").write_text("- 1\n")
    with pytest.raises(ConfigError, match="must be a mapping of sections, got list"):
        load_params(tmp_path / "params.yaml")


def test_a_params_file_nested_deep_or_huge_is_refused_not_a_crash(tmp_path):
    # 200,000 nested brackets overflowed the C YAML parser's stack: a segfault in every stage
    path = tmp_path / "params.yaml"
    path.write_text("flavors: " + "[" * 200_000 + "]" * 200_000 + "\n")
    with pytest.raises(ConfigError, match="params.yaml: nested too deep to read"):
        load_params(path)
    path.write_text("flavors: [rnn]\n" + "# padding\n" * 200_000)
    with pytest.raises(ConfigError, match="characters; a params file is a few thousand"):
        load_params(path)
    path.write_bytes(b"flavors: [\xff]\n")
    with pytest.raises(ConfigError, match="params.yaml: cannot read the params file: 'utf-8' codec"):
        load_params(path)
