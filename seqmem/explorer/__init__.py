"""The explorer: one self-contained HTML page that runs the trained models in the browser.

A learner types a sequence, moves the -1 and watches each model's decision, its state's path among
the fixed points (plots/attractors.png's plane), and its memory over 100,000 steps; and drops in a
checkpoint of their own. The page is written here from the pipeline's artifacts: each model's
weights (base64 of little-endian float32, exact), its fixed points and its plane, inlined with the
page's HTML, CSS and JavaScript, which live beside this file. No torch: numpy and the standard library.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import math
import re
import typing
from importlib import resources

import numpy as np

from seqmem.checkpoint import FORMAT, MAX_CHECKPOINT_BYTES, MAX_HEADER_BYTES, Checkpoint
from seqmem.core.artifacts import ArtifactError
from seqmem.core.config import FLAVOR_NAMES, MAX_WEIGHTS, FlavorConfig, ModelConfig, TrainConfig, weight_shapes

# the page's scripts, in the order they load after engine.js and fast.js (which make the Web Worker too): each
# uses only those before it
SCRIPTS = ("charts.js", "checkpoint.js", "sequence.js", "traces.js", "plane.js", "memory.js", "app.js", "controls.js")
MAX_STEPS = 1000  # the longest sequence a learner can type or draw: every step is a cell and a point
MAX_DISTANCE = 100_000  # the memory view's longest run, as stage evaluate's retention.max_distance default
POINT_COLUMNS = ("digit", "kind", "p", "pc1", "pc2")  # plots/fixed_points/<flavor>.csv
# where there: a cycle's states are rows of period k > 1, phases 0..k-1 in turn; tau is a point's time constant
OPTIONAL_COLUMNS = ("period", "phase", "time_constant")


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def rules(cls: type) -> dict:
    """A params section's keys, each with its type and range, for the page to check a checkpoint's training params."""
    hints = typing.get_type_hints(cls)
    return {f.name: {"type": hints[f.name].__name__} | {k: list(v) if isinstance(v, tuple) else v
                                                        for k in ("ge", "gt", "le", "choices")
                                                        if (v := f.metadata.get(k)) is not None}
            for f in dataclasses.fields(cls) if f.name in cls.keys()}


def limits() -> dict:
    """What a dropped checkpoint must respect, as seqmem.checkpoint and seqmem.core.config say: one source of truth."""
    layers = next(f for f in dataclasses.fields(ModelConfig) if f.name == "num_layers").metadata["le"]
    return {"flavors": list(FLAVOR_NAMES), "max_weights": MAX_WEIGHTS, "max_layers": layers,
            "train": rules(TrainConfig), "train_flavor": rules(FlavorConfig),
            "max_header": MAX_HEADER_BYTES, "max_file": MAX_CHECKPOINT_BYTES, "format": FORMAT,
            "max_steps": MAX_STEPS, "max_distance": MAX_DISTANCE}


def weights_base64(ckpt: Checkpoint) -> str:
    """Every tensor's float32 values, little-endian, in weight_shapes' order, as one base64 string: exact, compact."""
    shapes = weight_shapes(ckpt.flavor, ckpt.hidden_size, ckpt.num_layers)
    flat = np.concatenate([np.asarray(ckpt.state_dict[k], np.float32).ravel() for k in shapes])
    return base64.b64encode(flat.astype("<f4").tobytes()).decode("ascii")


def view_box(trajectories: list[dict]) -> list[float]:
    """The neighbourhood of the committed trajectories that plots/attractors.png shows: [x0, x1, y0, y1]."""
    box = []
    for key in ("pc1", "pc2"):
        lo, hi = min(r[key] for r in trajectories), max(r[key] for r in trajectories)
        box += [lo - 0.3 * (hi - lo) - 0.1, hi + 0.3 * (hi - lo) + 0.1]  # seqmem.figures.attractors_figure's margins
    return [round(v, 6) for v in box]


def model_entry(ckpt: Checkpoint, points: list[dict], plane: dict, trajectories: list[dict]) -> dict:
    """One model as the page holds it: config, weights, fixed points (columns + rows), plane and view box."""
    columns = POINT_COLUMNS + tuple(c for c in OPTIONAL_COLUMNS if points and c in points[0])
    rows = [[_number(r[c]) if c != "kind" else r[c] for c in columns] for r in points]
    return {"flavor": ckpt.flavor, "hidden_size": ckpt.hidden_size, "num_layers": ckpt.num_layers,
            "weights": weights_base64(ckpt), "points": {"columns": list(columns), "rows": rows},
            "plane": {"mean": plane["mean"], "components": plane["components"]}, "box": view_box(trajectories)}


def _number(v: object) -> int | float | None:
    """A CSV cell as JSON: digits and periods as ints, an empty time constant (infinite) as null."""
    if v == "" or v is None:
        return None
    v = float(v)
    return int(v) if v.is_integer() and abs(v) < 2**53 else v


def _inline(text: str, tag: str) -> str:
    """Text that can sit inside a <script> or <style> element as it is."""
    if f"</{tag}" in text.lower() or "<!--" in text:
        raise ValueError(f"an explorer asset holds '</{tag}' or '<!--', which would end its element early")
    return text


def page(entries: list[dict], sequence: list[int], positions: list[int]) -> str:
    """The page: the HTML template with its CSS, scripts and models inlined; the same bytes for the same input."""
    data = {"format": 1, "limits": limits(), "models": entries, "sequence": sequence, "positions": positions}
    # "<" escaped, so no value (a model's name, one day) can end the data's <script> element
    blob = json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False).replace("<", "\\u003c")
    scripts = "\n".join(f"<script>/* {name} */\n{_inline(_asset(name), 'script')}</script>" for name in SCRIPTS)
    parts = {"style": _inline(_asset("style.css"), "style"), "data": blob, "scripts": scripts,
             "engine": _inline(_asset("engine.js"), "script"), "fast": _inline(_asset("fast.js"), "script")}
    html = _asset("page.html")
    found = re.findall(r"\{\{(\w+)\}\}", html)
    if sorted(found) != sorted(parts):
        raise ValueError(f"page.html must hold each of {sorted(parts)} once in double braces, holds {found}")
    return re.sub(r"\{\{(\w+)\}\}", lambda m: parts[m.group(1)], html)  # one pass: no part is searched again


def check_plane(plane: object, dim: int, where: str) -> dict:
    """plots/plane/<flavor>.json as probe wrote it: {"mean": (dim,), "components": (2, dim)}, finite; or an error."""
    ok = isinstance(plane, dict) and isinstance(plane.get("mean"), list) and isinstance(plane.get("components"), list)
    rows = [plane["mean"], *plane["components"]] if ok else []
    if not (ok and len(plane["components"]) == 2 and all(isinstance(r, list) and len(r) == dim for r in rows)
            and all(type(v) in (int, float) and math.isfinite(v) for r in rows for v in r)):
        raise ArtifactError(f"{where}: expected {{'mean': {dim} numbers, 'components': 2 x {dim}}}, finite, for a "
                            f"state of {dim}; run `dvc repro` to remake it")
    return plane
