"""This host's numeric fingerprint under the default and the pinned arithmetic, against other hosts'.

    python scripts/fingerprint.py                  # compare with every host in benchmarks/fingerprints/
    python scripts/fingerprint.py --save my-host   # also write benchmarks/fingerprints/my-host.jsonl

Each setting runs in a fresh process, since torch, oneDNN and MKL read their variables when they
load. It hashes the bytes of small seeded computations that an RNN or LSTM training step is made
of, and the weights after 300 training steps, where chaos amplifies any last-bit difference. Two
hosts with the same hash computed the same bits; on a new kind of CPU, the first line that
differs names the operation. "pinned" is seqmem.core.numerics.PIN; "default" unsets it.

Some rows are vendor-dependent even pinned (VENDOR): torch's sqrt kernel refines the CPU's rsqrt
estimate, and Intel's and AMD's estimates differ, so torch.optim.Adam, which uses it, trains
different weights on each. seqmem's Adam (seqmem/optim.py) takes an IEEE sqrt instead; its rows
(`*_train300_seqmem`) are the ones the pipeline's bits rest on.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCES = ROOT / "benchmarks" / "fingerprints"
# rows that differ between Intel and AMD under the pin too: torch's sqrt, and what torch's Adam trains with it
VENDOR = {"sqrt", "rnn_train300", "rnn_train300_loss", "lstm_train300", "lstm_train300_loss"}


def cpu() -> str:
    """Vendor, model and widest vector ISA, e.g. 'AuthenticAMD AMD EPYC avx512'."""
    info: dict[str, str] = {}
    for line in Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []:
        key, _, value = line.partition(":")
        info.setdefault(key.strip(), value.strip())
    flags = info.get("flags", "").split()
    isa = "avx512" if "avx512f" in flags else "avx2" if "avx2" in flags else "no-avx2"
    return f"{info.get('vendor_id', '?')} {info.get('model name', '?')} {isa}"


def _hash(*tensors) -> str:
    return hashlib.sha256(b"".join(t.detach().contiguous().numpy().tobytes() for t in tensors)).hexdigest()[:16]


def _module(name: str):
    """seqmem/<name>.py without the seqmem package, whose import would pin this process. It keeps its own
    name, seqmem.<name>, so that numba's cached kernel (which names its module) loads here and elsewhere."""
    spec = importlib.util.spec_from_file_location(f"seqmem.{name}", ROOT / "seqmem" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _train300(torch, cls, adam) -> tuple[list, float]:
    """300 Adam steps on seeded batches of the task: the weights and the last loss."""
    F = torch.nn.functional
    torch.manual_seed(0)
    rnn, head = cls(1, 32, batch_first=True), torch.nn.Linear(32, 1)
    params = list(rnn.parameters()) + list(head.parameters())
    opt, gen = adam(params, lr=1e-2), torch.Generator().manual_seed(1)
    for _ in range(300):
        x = torch.randint(0, 10, (64, 20, 1), generator=gen)  # (B, T, 1)
        pos, has = torch.randint(0, 20, (64,), generator=gen), torch.rand(64, generator=gen) < 0.5
        x[has, pos[has], 0] = -1
        x = x.float()
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(head(rnn(x)[0]), (x == -1).float().cummax(dim=1).values)
        loss.backward()
        opt.step()
    return params, loss.item()


def measure() -> dict:
    """The hashes of this process's arithmetic, one thread."""
    import torch

    optim, kernels = _module("optim"), _module("kernels")
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(0)
    a, b, x = torch.randn(64, 32, generator=g), torch.randn(32, 32, generator=g), torch.randn(10000, generator=g)
    bias, col, row = torch.randn(32, generator=g), torch.randn(64, 1, generator=g), torch.randn(1, 32, generator=g)
    out = {"matmul_64x32x32": _hash(a @ b), "addmm_64x1x32": _hash(torch.addmm(bias, col, row)),
           "tanh": _hash(torch.tanh(x)), "sigmoid": _hash(torch.sigmoid(x)), "exp": _hash(torch.exp(x)),
           "log1p_exp": _hash(torch.log1p(torch.exp(-x.abs()))), "sqrt": _hash(x.abs().sqrt()),
           "sqrt_seqmem": _hash(optim.sqrt(x.abs()))}
    seq = torch.randint(-1, 10, (64, 25, 1), generator=g).float()  # (B, T, 1)
    target = (seq == -1).float().cummax(dim=1).values
    for cls in (torch.nn.RNN, torch.nn.LSTM):
        name = cls.__name__.lower()
        torch.manual_seed(0)
        rnn, head = cls(1, 32, batch_first=True), torch.nn.Linear(32, 1)
        h, _ = rnn(seq)  # (B, T, 32)
        torch.nn.functional.binary_cross_entropy_with_logits(head(h), target).backward()
        params, loss = _train300(torch, cls, lambda ps, lr: torch.optim.Adam(ps, lr=lr, foreach=False))
        ours, our_loss = _train300(torch, cls, optim.Adam)
        weights = {f"rnn.{k}": v.detach().numpy() for k, v in rnn.state_dict().items()} | \
            {f"head.0.{k}": v.detach().numpy() for k, v in head.state_dict().items()}
        decided = kernels.Kernel(name, weights, 32, 1, 64).decisions(seq.numpy(), 0, 25)  # seqmem.kernels
        out |= {f"{name}_decisions": hashlib.sha256(decided.tobytes()).hexdigest()[:16]}
        out |= {f"{name}_forward": _hash(h), f"{name}_grads": _hash(*[p.grad for p in rnn.parameters()]),
                f"{name}_train300": _hash(*params), f"{name}_train300_loss": f"{loss:.9g}",
                f"{name}_train300_seqmem": _hash(*ours), f"{name}_train300_seqmem_loss": f"{our_loss:.9g}"}
    return {"cpu": cpu(), "torch": torch.__version__, "capability": torch.backends.cpu.get_cpu_capability(),
            "hashes": out}


def fingerprints() -> list[dict]:
    """This host's record under each setting, each measured in its own process."""
    sys.path.insert(0, str(ROOT))
    from seqmem.core.numerics import PIN  # here, not at the top: importing seqmem pins, and a child must not

    records = []
    for setting in ("default", "pinned"):
        env = {k: v for k, v in os.environ.items() if k not in PIN} | (PIN if setting == "pinned" else {})
        res = subprocess.run([sys.executable, __file__, "--child"], env=env, capture_output=True, text=True,
                             check=True)
        records.append({"setting": setting, **json.loads(res.stdout)})
    return records


def compare(mine: list[dict], theirs: list[dict]) -> list[str]:
    """One line per (setting, other host): identical, or the operations that differ.

    Pinned, the VENDOR rows are set apart ("identical but for torch's sqrt: ..."); a row the other
    host's record lacks (recorded before the row existed) is not compared.
    """
    lines = []
    for m in mine:
        for t in (t for t in theirs if t["setting"] == m["setting"]):
            diff = [k for k, v in m["hashes"].items() if k in t["hashes"] and t["hashes"][k] != v]
            apart = [k for k in diff if k in VENDOR] if m["setting"] == "pinned" else []
            rest = [k for k in diff if k not in apart]
            verdict = "identical" if not rest else "differs in " + ", ".join(rest)
            if apart:
                verdict += " but for torch's sqrt: " + ", ".join(apart)
            lines.append(f"{m['setting']}: this host ({m['cpu']}, {m['capability']}) vs {t['cpu']} "
                         f"({t['capability']}): {verdict}")
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--save", metavar="NAME", help="write this host's fingerprint as benchmarks/fingerprints/NAME.jsonl")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(measure()))
        return
    mine = fingerprints()
    for record in mine:
        print(json.dumps(record))
    theirs = [json.loads(line) for path in sorted(REFERENCES.glob("*.jsonl")) for line in path.read_text().splitlines()]
    print("\n".join(compare(mine, theirs)))
    if args.save:
        (REFERENCES / f"{args.save}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in mine))
        print(f"wrote {REFERENCES / args.save}.jsonl")


if __name__ == "__main__":
    main()
