"""Stage check_params: refuse bad params before any other stage runs, so a refusal costs no output.

DVC deletes a stage's outputs before it runs the stage's command, so a stage that refuses its
params has already lost them. Every stage depends on this one's stamp, and DVC runs it first
whenever any param changed: bad params stop the pipeline here, with every output as it was, and so
do params whose stages would not fit in memory or whose git-tracked outputs would grow too big
(seqmem.budget). The stamp is `persist` (DVC leaves it in place when this stage runs) and its bytes
never change, so passing this check re-runs nothing downstream. It imports no torch: the answer takes ~0.3 s.
"""

from seqmem import budget
from seqmem.core import config as c
from seqmem.core.artifacts import write_text
from stages.common import check_flavors, command, load_params

STAMP = "params checked: every stage may run\n"


def main(args) -> None:
    params = load_params(args.params)
    unknown = [k for k in params if k not in c.SECTIONS]
    if unknown:
        raise c.ConfigError(str(unknown[0]), f"unknown section in {args.params}; the sections are {list(c.SECTIONS)}")
    missing = [k for k in c.SECTIONS if k not in params]
    if missing:
        raise c.ConfigError(missing[0], f"missing section in {args.params}")
    flavors = check_flavors(params["flavors"])
    train = c.TrainConfig.from_params(params["train"], flavors)
    data = c.DataConfig.from_dict(params["data"], "data")
    evaluate = c.EvalConfig.from_dict(params["evaluate"], "evaluate")
    probe = c.ProbeConfig.from_dict(params["probe"], "probe")
    retention = c.RetentionConfig.from_dict(params["retention"], "retention")
    attractors = c.AttractorsConfig.from_dict(params["attractors"], "attractors")
    budget.check(flavors, data, train, evaluate, retention, probe, attractors)
    write_text(STAMP, args.out)


cli = command(__doc__, main, {
    "--out": "stamp to write when every param is good",
})


if __name__ == "__main__":
    cli()
