"""Stage check_params: refuse bad params before any other stage runs, so a refusal costs no output.

DVC deletes a stage's outputs before it runs the stage's command, so a stage that refuses its
params has already lost them. Every stage depends on this one's stamp, and DVC runs it first
whenever any param changed: bad params stop the pipeline here, with every output as it was, and so
do params whose stages would not fit in memory or whose git-tracked outputs would grow too big
(seqmem.budget). The stamp is `persist` (DVC leaves it in place when this stage runs) and its bytes
never change, so passing this check re-runs nothing downstream. It imports no torch: the answer takes ~0.3 s.
"""

from seqmem import budget
from seqmem.core.artifacts import write_text
from seqmem.core.config import SECTIONS, ConfigError, DataConfig, EvalConfig, ProbeConfig, RetentionConfig, TrainConfig
from stages.common import check_flavors, command, load_params

STAMP = "params checked: every stage may run\n"


def main(args) -> None:
    params = load_params(args.params)
    unknown = [k for k in params if k not in SECTIONS]
    if unknown:
        raise ConfigError(str(unknown[0]), f"unknown section in {args.params}; the sections are {list(SECTIONS)}")
    missing = [k for k in SECTIONS if k not in params]
    if missing:
        raise ConfigError(missing[0], f"missing section in {args.params}")
    flavors = check_flavors(params["flavors"])
    train = TrainConfig.from_params(params["train"], flavors)
    data = DataConfig.from_dict(params["data"], "data")
    evaluate = EvalConfig.from_dict(params["evaluate"], "evaluate")
    probe = ProbeConfig.from_dict(params["probe"], "probe")
    retention = RetentionConfig.from_dict(params["retention"], "retention")
    budget.check(flavors, data, train, evaluate, retention, probe)
    write_text(STAMP, args.out)


cli = command(__doc__, main, {
    "--out": "stamp to write when every param is good",
})


if __name__ == "__main__":
    cli()
