"""Stage figures: every model's data in one CSV per Vega chart, and the matplotlib PNGs.

The PNGs: loss, decision traces, staircases, hidden units, memory and attractors. The CSVs under
--charts (loss, val_acc, length, traces, retention, each with a `model` column) are what `dvc plots`
draws: one file per chart, whatever `flavors` holds, so dvc.yaml names no model.
"""

import csv
import io
import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from seqmem.core.artifacts import ArtifactError, read_csv, write_text
from seqmem.core.config import FLAVOR_NAMES
from seqmem.figures import (
    attractors_figure,
    hidden_figure,
    loss_figure,
    retention_figure,
    save,
    staircase_figure,
    traces_figure,
)
from stages.common import command, load_flavors

FIGURES = {  # --<name>: folder of per-flavor CSVs with these columns -> --<name>-png
    "loss": (loss_figure, ("step", "loss")),
    "traces": (traces_figure, ("probe", "step", "token", "p")),
    "staircase": (staircase_figure, ("position", "step", "p")),
    "hidden": (hidden_figure, ("probe", "unit", "step", "token", "value")),
    "retention": (retention_figure, ("distance", "latched", "false_alarm")),
}
# the Vega charts' data: --<name> folder of per-flavor CSVs -> <name>.csv in --charts, every model in it
CHARTS = {"loss": ("step", "loss"), "val_acc": ("step", "val_acc"), "length": ("length", "accuracy"),
          "traces": ("probe", "step", "token", "p"), "retention": ("distance", "latched", "false_alarm")}
# the attractors figure reads two folders: each model's fixed points, and its trajectories on their plane
ATTRACTORS = {"fixed_points": ("digit", "kind", "p", "pc1", "pc2"), "trajectories": ("sequence", "step", "token",
                                                                                      "pc1", "pc2")}


def _read_all(folder: str, flavors: list[str], columns: tuple[str, ...]) -> dict[str, list[dict]]:
    paths = {f: Path(folder) / f"{f}.csv" for f in flavors}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise ArtifactError(f"missing {missing[0]}; run `dvc repro` to make it")
    return {f: read_csv(p, columns) for f, p in paths.items()}


def _combined(folder: str, flavors: list[str], columns: tuple[str, ...]) -> str:
    """The per-flavor CSVs of `folder` as one CSV text, a `model` column first (RNN, LSTM, GRU), cells as written."""
    _read_all(folder, flavors, columns)  # checked, as every input
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for i, flavor in enumerate(flavors):
        with open(Path(folder) / f"{flavor}.csv", newline="") as f:
            header, *rows = list(csv.reader(f))
        keep = [j for j, h in enumerate(header) if h != "model"]  # some write their own: one model column
        if i == 0:
            writer.writerow(["model", *(header[j] for j in keep)])
        writer.writerows([flavor.upper(), *(row[j] for j in keep)] for row in rows)
    return out.getvalue()


def main(args) -> None:
    flavors = sorted(load_flavors(args.params), key=FLAVOR_NAMES.index)  # the same figure whatever the list order
    # read and check everything before writing anything
    data = {name: _read_all(getattr(args, name), flavors, cols) for name, (_, cols) in FIGURES.items()}
    charts = {name: _combined(getattr(args, name), flavors, cols) for name, cols in CHARTS.items()}
    parts = {name: _read_all(getattr(args, name), flavors, cols) for name, cols in ATTRACTORS.items()}
    panels = {f: {"points": parts["fixed_points"][f], "trajectories": parts["trajectories"][f]} for f in flavors}
    jobs = [(name, data[name], getattr(args, f"{name}_png")) for name in FIGURES]
    jobs.append(("attractors", panels, args.attractors_png))
    # matplotlib's layout and rendering are pure Python and take seconds: two forked workers halve
    # them, and a figure's bytes do not depend on which process drew it. Fork is Linux's; elsewhere
    # (macOS, Windows) a worker would re-import everything, so the figures are drawn here, in turn
    if sys.platform != "linux":
        list(map(_draw, jobs))
    else:
        with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
            list(pool.map(_draw, jobs))
    for name, text in charts.items():
        write_text(text, Path(args.charts) / f"{name}.csv")


def _draw(job: tuple[str, dict, str]) -> None:
    name, data, png = job
    save((attractors_figure if name == "attractors" else FIGURES[name][0])(data), png)


cli = command(__doc__, main, {arg: help for name in FIGURES for arg, help in (
    (f"--{name}", f"folder of per-flavor {name} CSVs"), (f"--{name}-png", f"{name} figure to write"))} | {
    "--fixed-points": "folder of per-flavor fixed-point CSVs", "--trajectories": "folder of per-flavor trajectory CSVs",
    "--attractors-png": "attractors figure to write", "--val-acc": "folder of per-flavor val_acc CSVs",
    "--length": "folder of per-flavor length CSVs", "--charts": "folder to write the Vega charts' CSVs into"})


if __name__ == "__main__":
    cli()
