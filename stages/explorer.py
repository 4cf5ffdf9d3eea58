"""Stage explorer: plots/explorer.html, one page that runs every model of `flavors` in the browser.

It holds each model's weights, its fixed points and the plane of plots/attractors.png, and starts
at the exercise's probe sequence (`probe`). Numpy and the standard library only, no torch: the
stage costs a fraction of a second (seqmem.checkpoint reads the models).
"""

import json
from pathlib import Path

from seqmem.checkpoint import check_provenance, read_checkpoint
from seqmem.core.artifacts import ArtifactError, read_csv, write_text
from seqmem.core.config import FLAVOR_NAMES, ConfigError, ProbeConfig
from seqmem.explorer import POINT_COLUMNS, check_plane, model_entry, page
from stages.common import check_flavors, command, load_params, section, trained_from


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise ArtifactError(f"missing {path}; run `dvc repro` to make it") from None
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise ArtifactError(f"{path}: not JSON ({e})") from None


def main(args) -> None:
    params = load_params(args.params)
    flavors = sorted(check_flavors(section(params, "flavors", args.params)), key=FLAVOR_NAMES.index)
    probe = ProbeConfig.from_dict(section(params, "probe", args.params), "probe")
    if "{flavor}" not in args.model:
        raise ConfigError("--model", f"must name each model's path with {{flavor}} in it, got {args.model!r}")
    trained = {f: trained_from(params, f, args.params) for f in flavors}  # what each model must be trained from
    entries = []  # read and check everything before writing anything
    for f in flavors:
        path = args.model.replace("{flavor}", f)
        ckpt = read_checkpoint(path)
        check_provenance(ckpt, path, f, trained[f])  # the flavor, and the training params.yaml says
        points = read_csv(Path(args.fixed_points) / f"{f}.csv", POINT_COLUMNS)
        trajectories = read_csv(Path(args.trajectories) / f"{f}.csv", ("pc1", "pc2"))
        dim = ckpt.hidden_size * ckpt.num_layers * (2 if f == "lstm" else 1)
        plane_path = Path(args.plane) / f"{f}.json"
        plane = check_plane(_read_json(plane_path), dim, str(plane_path))
        entries.append(model_entry(ckpt, points, plane, trajectories))
    write_text(page(entries, probe.sequence, probe.positions), args.out)


cli = command(__doc__, main, {
    "--model": "each model's checkpoint, with {flavor} in the path (models/{flavor}.pt)",
    "--fixed-points": "folder of per-flavor fixed-point CSVs (stage probe)",
    "--trajectories": "folder of per-flavor trajectory CSVs, for the view box of plots/attractors.png",
    "--plane": "folder of per-flavor plane JSONs (stage probe)",
    "--out": "page to write",
})


if __name__ == "__main__":
    cli()
