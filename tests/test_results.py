"""scripts/results.py, the README's first look: every model's headline numbers on one screen."""

from __future__ import annotations

import sys

from tests.helpers import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import results  # noqa: E402


def test_the_committed_models_fit_one_screen_side_by_side():
    models, table = results.rows(ROOT)
    lines = results.plain(models, table).splitlines()
    assert max(map(len, lines)) <= results.SCREEN
    assert len(lines) == len(table) + 1  # a row per measure, labels beside their values
    assert not {"None", "-", "nan", ""} & {v for _, values in table for v in values}  # a null reads in words


def test_three_models_still_fit_one_screen():
    # a gru added to `flavors` made the side-by-side table 116 columns wide
    models, table = results.rows(ROOT)
    wide = [(label, values + [max(values, key=len)]) for label, values in table]
    lines = results.plain([*models, "GRU"], wide).splitlines()
    assert max(map(len, lines)) <= results.SCREEN
    assert len(lines) <= 40
    assert lines[1] == table[0][0]  # each label on a line of its own
