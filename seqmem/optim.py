"""Adam, written out: torch.optim would import torch._dynamo (1.3-1.8 s) the moment one is built."""

import math
from collections.abc import Iterable

import numpy as np
import torch


def sqrt(t: torch.Tensor) -> torch.Tensor:
    """Correctly rounded sqrt: the same bits on every CPU.

    torch 2.13's sqrt kernels refine the CPU's rsqrt estimate, and that estimate differs between
    Intel and AMD: a sixth of float32 results come out 1 ulp apart, and training forked after a
    few dozen steps. numpy's sqrt is the IEEE instruction (sqrtps), exact on every x86-64 CPU.
    """
    if t.device.type != "cpu":  # a GPU run is not pinned anyway
        return t.sqrt()
    return torch.from_numpy(np.sqrt(t.numpy()))


class Adam:
    """torch.optim.Adam's update (no weight decay, no amsgrad), written out.

    Why not torch.optim: every torch optimizer imports torch._dynamo when built, which costs
    1.3-1.8 s on this 2-core machine, as long as training itself. tests/test_train.py checks
    that this matches torch.optim.Adam step for step.
    """

    def __init__(self, params: Iterable[torch.Tensor], lr: float, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8):
        self.params = list(params)
        self.lr, self.betas, self.eps, self.t = lr, betas, eps, 0
        self.m = [torch.zeros_like(p) for p in self.params]  # first moment
        self.v = [torch.zeros_like(p) for p in self.params]  # second moment

    def zero_grad(self) -> None:
        """Drop the gradients."""
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        """One bias-corrected Adam step."""
        self.t += 1
        b1, b2 = self.betas
        c1, c2 = 1 - b1**self.t, 1 - b2**self.t
        for p, m, v in zip(self.params, self.m, self.v, strict=True):
            if p.grad is None:
                continue
            m.lerp_(p.grad, 1 - b1)
            v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
            denom = (sqrt(v) / math.sqrt(c2)).add_(self.eps)
            p.addcdiv_(m, denom, value=-self.lr / c1)
