"""Pinned CPU arithmetic: the same float32 bits from one seed on every x86-64 CPU with AVX2.

torch's vector kernels (ATen) and oneDNN pick code paths by the CPU's ISA, MKL's sgemm by its
vendor and ISA, so an AMD EPYC and an Intel Xeon train different weights from the same seed.
Capping ATen and oneDNN at AVX2 and putting MKL in its vendor-neutral conditional numerical
reproducibility mode makes them agree (Deep-MI/FastSurfer #886/#892 measured it on AMD EPYC
7763/9V74/9V45 and Intel Xeon 8573C). Each library reads its variable once, at its first use,
so `import seqmem` sets them, before any torch kernel can run.
"""

from __future__ import annotations

import os
import sys
import warnings

PIN = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_CBWR": "COMPATIBLE"}

# torch already loaded, without the pin in its environment: it may have computed (and so chosen
# its code paths) before we could set anything. Decided once, when seqmem is first imported.
_LATE = "torch" in sys.modules and any(os.environ.get(k) != v for k, v in PIN.items())


def pin() -> None:
    """Set the pinned variables, unless the caller chose a value: an explicit choice wins."""
    for key, value in PIN.items():
        os.environ.setdefault(key, value)


def unpinned() -> list[str]:
    """Why this process may not compute the pinned bits; empty when it does."""
    why = [f"{k}={os.environ.get(k)!r} (pinned: {v!r})" for k, v in PIN.items() if os.environ.get(k) != v]
    if _LATE:
        why.append("torch was imported before seqmem, so its kernels may already run unpinned")
    return why


def warn_if_unpinned() -> None:
    """Say so (once per process) when training here may not give the pipeline's bits."""
    why = unpinned()
    if why:
        warnings.warn("seqmem: CPU arithmetic is not pinned, so the weights may differ in the last bits from "
                      f"`dvc repro`'s: {'; '.join(why)}. Import seqmem before torch (README: Reproducibility).",
                      RuntimeWarning, stacklevel=3)
