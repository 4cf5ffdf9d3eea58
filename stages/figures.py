"""Stage figures: matplotlib PNGs of the loss curves, decision traces, staircases and hidden units."""

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from seqmem.core.artifacts import ArtifactError, read_csv
from seqmem.core.config import FLAVOR_NAMES
from seqmem.figures import hidden_figure, loss_figure, retention_figure, save, staircase_figure, traces_figure
from stages.common import command, load_flavors

FIGURES = {  # --<name>: folder of per-flavor CSVs with these columns -> --<name>-png
    "loss": (loss_figure, ("step", "loss")),
    "traces": (traces_figure, ("probe", "step", "token", "p")),
    "staircase": (staircase_figure, ("position", "step", "p")),
    "hidden": (hidden_figure, ("probe", "unit", "step", "token", "value")),
    "retention": (retention_figure, ("distance", "latched", "false_alarm")),
}


def _read_all(folder: str, flavors: list[str], columns: tuple[str, ...]) -> dict[str, list[dict]]:
    paths = {f: Path(folder) / f"{f}.csv" for f in flavors}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise ArtifactError(f"missing {missing[0]}; run `dvc repro` to make it")
    return {f: read_csv(p, columns) for f, p in paths.items()}


def main(args) -> None:
    flavors = sorted(load_flavors(args.params), key=FLAVOR_NAMES.index)  # the same figure whatever the list order
    # read and check everything before writing anything
    data = {name: _read_all(getattr(args, name), flavors, cols) for name, (_, cols) in FIGURES.items()}
    jobs = [(name, data[name], getattr(args, f"{name}_png")) for name in FIGURES]
    # matplotlib's layout and rendering are pure Python and take seconds: two forked workers halve
    # them, and a figure's bytes do not depend on which process drew it
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
        list(pool.map(_draw, jobs))


def _draw(job: tuple[str, dict, str]) -> None:
    name, data, png = job
    save(FIGURES[name][0](data), png)


cli = command(__doc__, main, {arg: help for name in FIGURES for arg, help in (
    (f"--{name}", f"folder of per-flavor {name} CSVs"), (f"--{name}-png", f"{name} figure to write"))})


if __name__ == "__main__":
    cli()
