"""The explorer in a real browser, driven as a learner drives it: type, click, reload, drop a file, run the memory.

The committed page (plots/explorer.html, the full models) shows what a learner sees; the page that a real
`dvc repro` makes on tiny params (`repro_repo`) is checked against the library's own decisions.
"""

from __future__ import annotations

import csv
import shutil
import struct

import numpy as np
import pytest

from seqmem.checkpoint import Checkpoint, read_checkpoint
from seqmem.core.config import ModelConfig
from seqmem.inference import decisions
from stages import explorer
from tests.browser import (
    NEEDS_CHROMIUM,
    checkpoint_bytes,
    drop,
    launch,
    memory_done,
    model_path,
    open_page,
    page_digits,
    random_state,
    safetensors_bytes,
)
from tests.crafted_checkpoints import CRAFTED
from tests.helpers import ROOT

pytestmark = NEEDS_CHROMIUM
COMMITTED = ROOT / "plots" / "explorer.html"


@pytest.fixture(scope="module")
def browser():
    yield from launch()


@pytest.fixture
def page(browser):
    page = open_page(browser, COMMITTED)
    yield page
    assert page.errors == [] and page.fetched == []  # nothing broke, nothing went to the network
    page.context.close()


def traces(page) -> dict[str, list[float]]:
    return page.evaluate("explorer.traces()")


def committed_traces(folder) -> dict[str, dict[str, list[dict]]]:
    """{flavor: {probe: rows}} from plots/traces/<flavor>.csv."""
    out = {}
    for path in sorted(folder.glob("*.csv")):
        with open(path) as f:
            for row in csv.DictReader(f):
                out.setdefault(path.stem, {}).setdefault(row["probe"], []).append(row)
    return out


def test_typing_and_clicking_moves_the_minus_one_and_every_decision_flips_there(page):
    page.fill("#typed", "3 1 4 1 5 9 2 6 5 3 5")
    assert page.evaluate("explorer.view().tokens") == [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5]
    for at in (4, 8, 0):  # put the -1 there, then move it
        page.click(f"#cells button[data-step='{at}']")
        tokens = page.evaluate("explorer.view().tokens")
        assert tokens.index(-1) == at and tokens.count(-1) == 1
        assert page.input_value("#typed").split().index("-1") == at
        for flavor, p in traces(page).items():
            assert all(v < 0.5 for v in p[:at]), (flavor, at, p)
            assert all(v > 0.5 for v in p[at:]), (flavor, at, p)
    assert page.evaluate("explorer.view().tokens") == [-1, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5]  # each digit came back
    page.click("#cells button[data-step='0']")  # the -1 clicked again: gone, its digit back
    assert page.evaluate("explorer.view().tokens") == [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5]
    assert all(v < 0.5 for p in traces(page).values() for v in p)


def test_the_url_holds_the_view_and_a_reload_brings_it_back(page):
    page.click("#cells button[data-step='5']")
    page.mouse.move(0, 0)  # off the cells: hovering a step picks it too
    page.keyboard.press("ArrowLeft")  # the chosen step, from the keyboard
    page.keyboard.press("ArrowLeft")
    view = page.evaluate("explorer.view()")
    assert view["selected"] == 3
    page.wait_for_function("location.hash === '#seq=1,2,3,4,5,-1,7,8,9&under=6&step=3&n=100000&seed=0'")
    before = traces(page)
    page.reload()
    page.wait_for_function("window.explorer !== undefined")
    assert page.evaluate("explorer.view()") == view
    assert traces(page) == before
    page.click("#cells button[data-step='5']")  # the digit under the -1 came back with the link
    assert page.evaluate("explorer.view().tokens") == [1, 2, 3, 4, 5, 6, 7, 8, 9]


def test_a_bad_link_says_so_in_one_line_and_keeps_the_exercise(browser):
    page = open_page(browser, COMMITTED, "#seq=1,2,x&step=99")
    assert page.evaluate("explorer.view().tokens") == [1, 2, 3, 4, 5, 6, 7, 8, 9]
    message = page.text_content("#sequence-message")
    assert '"x" is not a digit' in message and "\n" not in message
    assert page.errors == []
    page.context.close()


def test_each_committed_probe_is_drawn_as_the_pipeline_traced_it(page):
    committed = committed_traces(ROOT / "plots" / "traces")
    probes = next(iter(committed.values()))
    assert len(probes) >= 2
    for probe in probes:
        page.click(f"#presets button:text-is('{probe}')")
        drawn = traces(page)
        for flavor, by_probe in committed.items():
            rows = by_probe[probe]
            assert page.evaluate("explorer.view().tokens") == [int(r["token"]) for r in rows]
            assert np.abs(np.array(drawn[flavor]) - [float(r["p"]) for r in rows]).max() <= 1e-5, (flavor, probe)


def test_a_random_sequence_of_a_chosen_length_comes_with_its_minus_one(page):
    page.fill("#random-length", "1000")
    page.click("#random")
    tokens = page.evaluate("explorer.view().tokens")
    assert len(tokens) == 1000 and tokens.count(-1) == 1
    assert all(len(p) == 1000 for p in traces(page).values())
    page.fill("#random-length", "1001")
    page.click("#random")
    assert "from 1 to 1000" in page.text_content("#sequence-message")
    assert len(page.evaluate("explorer.view().tokens")) == 1000  # unchanged


def test_the_plane_shows_the_digit_read_at_the_chosen_step(page):
    page.click("#cells button[data-step='4']")  # selects step 4, the -1: it has no fixed points
    page.mouse.move(0, 0)
    assert "kicks the state" in page.text_content("#planes")
    page.keyboard.press("ArrowRight")  # step 5 reads a 6: its fixed points, stable and saddle
    for caption in page.query_selector_all(".caption"):
        text = caption.text_content()
        assert text.startswith("Step 5 reads 6") and "stable" in text


def test_a_cycle_of_the_digit_read_is_drawn_and_named(browser, repro_repo, tmp_path):
    points = tmp_path / "fixed_points"
    shutil.copytree(repro_repo / "plots" / "fixed_points", points)
    with open(points / "rnn.csv") as f:
        header = f.readline().strip().split(",")
    assert header[-2:] == ["period", "phase"]
    cycle = [dict(zip(header, ["RNN", 5, "stable", p, 0.1, 2.0, 1e-30, x, 0.5, 2, phase], strict=True))
             for phase, (p, x) in enumerate([(0.97, 1.0), (0.93, 1.5)])]
    with open(points / "rnn.csv", "a", newline="") as f:
        csv.DictWriter(f, header).writerows(cycle)
    explorer.cli(["--params", str(repro_repo / "params.yaml"), "--model", str(model_path(repro_repo, "{flavor}")),
                  "--fixed-points", str(points), "--trajectories", str(repro_repo / "plots/trajectories"),
                  "--plane", str(repro_repo / "plots/plane"), "--out", str(tmp_path / "page.html")])
    page = open_page(browser, tmp_path / "page.html", "#seq=1,2,-1,5&step=3")
    assert "stable 2-cycle 0.97, 0.93" in page.text_content("#caption-rnn")
    assert "a cycle's states" in page.text_content("#shapes")
    assert page.errors == []
    page.context.close()


def test_the_memory_run_stays_off_the_page_and_leaves_it_live(page):
    page.fill("#memory-n", "100000")
    page.fill("#memory-seed", "7")
    # an edit while the run goes on is drawn at once: the run is in workers, not on the page's thread. Both
    # clicks in one task, so the run (0.6 s) can't end between them however slow the round trip to the page
    state = page.evaluate("""() => {
        document.getElementById("memory-run").click();
        const t0 = performance.now();
        document.querySelector("#cells button[data-step='2']").click();
        return [performance.now() - t0, document.getElementById('memory-box').dataset.state,
                explorer.view().tokens.indexOf(-1)];
    }""")
    assert state[1:] == ["running", 2], state
    result = memory_done(page)
    assert (result["n"], result["seed"]) == (100_000, 7)
    assert all(r["done"] and r["filled"] == 100_001 for r in result["results"].values())
    page.wait_for_function("location.hash.endsWith('&n=100000&seed=7')")


def test_the_memory_run_is_the_librarys_on_the_same_digits(browser, repro_repo):
    page = open_page(browser, repro_repo / "plots" / "explorer.html", "#n=3000&seed=5")
    result = memory_done(page)
    X = np.concatenate([[-1], page_digits(5, 3000)])[None, :, None]  # a -1, then the page's digits
    for flavor in result["results"]:
        p = decisions(read_checkpoint(model_path(repro_repo, flavor)), X)[0]
        drawn = np.array(page.evaluate(f"explorer.memoryP('{flavor}', 3001)"))
        assert np.abs(drawn - p).max() <= 1e-5, flavor
    page.context.close()


@pytest.mark.slow  # 100 sequences of up to 1,000 steps, each through the page and the library: ~15 s
def test_the_page_of_a_real_repro_agrees_with_the_library_on_random_sequences(browser, repro_repo):
    page = open_page(browser, repro_repo / "plots" / "explorer.html")
    ckpts = {f: read_checkpoint(model_path(repro_repo, f)) for f in traces(page)}
    rng = np.random.default_rng(30)
    worst, disagree = 0.0, 0
    for i in range(100):  # lengths 1..1000, log-uniform; a -1 in half of them
        T = int(np.exp(rng.uniform(0, np.log(1000)))) if i else 1000
        x = rng.integers(0, 10, T)
        if i % 2:
            x[rng.integers(T)] = -1
        page.fill("#typed", " ".join(map(str, x)))  # typed: a hash per sequence would trip Chromium's 200 in 10 s
        assert page.evaluate("explorer.view().tokens") == x.tolist()
        drawn = traces(page)
        for f, ckpt in ckpts.items():
            p, q = decisions(ckpt, x[None, :, None])[0], np.array(drawn[f])
            worst = max(worst, float(np.abs(p - q).max()))
            clear = np.abs(p - 0.5) > 1e-3
            disagree += int(((p > 0.5) != (q > 0.5))[clear].sum())
    assert worst <= 1e-5
    assert disagree == 0
    committed = committed_traces(repro_repo / "plots" / "traces")  # and the probes its pipeline traced
    for probe in next(iter(committed.values())):
        page.click(f"#presets button:text-is('{probe}')")
        drawn = traces(page)
        for f, by_probe in committed.items():
            assert np.abs(np.array(drawn[f]) - [float(r["p"]) for r in by_probe[probe]]).max() <= 1e-5
    assert page.errors == []
    page.context.close()


def test_a_dropped_checkpoint_joins_the_decisions_and_the_memory(page):
    cfg = {"flavor": "gru", "hidden_size": 5, "num_layers": 2}  # odd sizes and two layers: every padding path
    state = random_state(**cfg, seed=3)
    drop(page, "my gru.safetensors", checkpoint_bytes(state, cfg))
    page.wait_for_function("explorer.models().length === 3")
    assert "Added my gru.safetensors" in page.text_content("#drop-message")
    assert "GRU from my gru.safetensors" in page.text_content("#legend")
    page.fill("#typed", "1 2 -1 4 5 6 7 8 9 0 1 2")
    x = np.array([1, 2, -1, 4, 5, 6, 7, 8, 9, 0, 1, 2])
    ckpt = Checkpoint(ModelConfig.from_dict(cfg, "config"), state)
    assert np.abs(np.array(traces(page)["file1"]) - decisions(ckpt, x[None, :, None])[0]).max() <= 1e-5
    result = memory_done(page)
    assert result["results"]["file1"]["filled"] == result["n"] + 1
    X = np.concatenate([[-1], page_digits(result["seed"], 2000)])[None, :, None]
    drawn = page.evaluate("explorer.memoryP('file1', 2001)")
    assert np.abs(np.array(drawn) - decisions(ckpt, X)[0]).max() <= 1e-5
    page.click("#legend .remove")
    assert [m["key"] for m in page.evaluate("explorer.models()")] == ["rnn", "lstm"]
    page.set_input_files("#file", files=[{"name": "again.safetensors", "mimeType": "application/octet-stream",
                                          "buffer": checkpoint_bytes(state, cfg)}])  # "Add a checkpoint..."
    page.wait_for_function("explorer.models().length === 3")
    assert np.abs(np.array(traces(page)["file2"]) - decisions(ckpt, x[None, :, None])[0]).max() <= 1e-5


def test_a_pipeline_checkpoint_dropped_on_its_page_draws_the_same_line(browser, repro_repo):
    page = open_page(browser, repro_repo / "plots" / "explorer.html", "#seq=3,1,4,-1,5,9,2,6")
    drop(page, "lstm.safetensors", model_path(repro_repo, "lstm").read_bytes())  # with its training params
    page.wait_for_function("explorer.models().length === 3")
    drawn = traces(page)
    assert drawn["file1"] == drawn["lstm"]  # the same weights, the same arithmetic: the same bits
    assert page.errors == []
    page.context.close()


def _corrupt() -> dict[str, bytes]:
    """Files that are not valid checkpoints, each one way; name -> bytes."""
    cfg = {"flavor": "lstm", "hidden_size": 4, "num_layers": 1}
    good = safetensors_bytes(random_state(**cfg), cfg)
    n = struct.unpack("<Q", good[:8])[0]
    header = good[8 : 8 + n].decode()

    def with_header(text: str, data: bytes = good[8 + n :]) -> bytes:
        raw = text.encode()
        return struct.pack("<Q", len(raw)) + raw + data

    def swap(old: str, new: str) -> bytes:
        assert old in header, old  # the change is made, or the file would be good
        return with_header(header.replace(old, new, 1))

    nan = random_state(**cfg)
    nan["rnn.bias_hh_l0"][2] = np.nan
    return {
        "empty.safetensors": b"",
        "random.safetensors": bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8)),
        "huge_header.safetensors": struct.pack("<Q", 1 << 40) + good[8:],
        "truncated.safetensors": good[: len(good) // 2],
        "not_json.safetensors": with_header(header.rstrip()[:-1]),  # the closing brace gone
        "model.pt": b"PK\x03\x04" + good,
        "f16.safetensors": swap('"F32"', '"F16"'),
        "wrong_shape.safetensors": swap('"shape":[16,4]', '"shape":[4,16]'),
        "nan.safetensors": safetensors_bytes(nan, cfg),
        "no_config.safetensors": safetensors_bytes(random_state(**cfg), None),
        "layers.safetensors": safetensors_bytes(random_state(**cfg), {**cfg, "num_layers": 0}),
        "flavor.safetensors": safetensors_bytes(random_state(**cfg), {**cfg, "flavor": "transformer"}),
        "width.safetensors": safetensors_bytes(random_state(**cfg), {**cfg, "hidden_size": 4.5}),
        "extra_bytes.safetensors": good + b"\0\0\0\0",
        "overlap.safetensors": swap('"data_offsets":[0,4]', '"data_offsets":[4,8]'),
        "outside.safetensors": swap('"data_offsets":[0,4]', '"data_offsets":[0,9999999]'),
        "two_metadata.safetensors": swap('"__metadata__":{', '"__metadata__":{"other":"x",'),
    }


def test_a_corrupt_file_gets_one_line_and_changes_nothing(page):
    page.click("#cells button[data-step='3']")
    page.wait_for_function("location.hash.startsWith('#seq=1,2,3,-1,')")
    before = (page.evaluate("explorer.models()"), traces(page), page.url)
    # ours, and every crafted file the library refuses (tests/crafted_checkpoints.py): the page refuses them too
    crafted = {f"{what.replace(' ', '_')}.safetensors": data for what, data, _ in CRAFTED}
    for name, data in (_corrupt() | crafted).items():
        drop(page, name, data)
        page.wait_for_function(f"document.getElementById('drop-message').textContent.startsWith({name!r})")
        message = page.text_content("#drop-message")
        assert message.startswith(f"{name}: not a seqmem checkpoint: ") and "\n" not in message, message
        assert (page.evaluate("explorer.models()"), traces(page), page.url) == before, name
    page.evaluate("""() => {  // past the largest model's size: refused before it is read
        const dt = new DataTransfer();
        dt.items.add(new File([new Uint8Array(20 << 20)], "big.safetensors"));
        document.body.dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true}));
    }""")
    page.wait_for_function("document.getElementById('drop-message').textContent.startsWith('big')")
    assert "bytes; a seqmem checkpoint is at most" in page.text_content("#drop-message")
    assert (page.evaluate("explorer.models()"), traces(page), page.url) == before
