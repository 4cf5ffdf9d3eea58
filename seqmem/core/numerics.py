"""Pinned CPU arithmetic on x86-64: the same float32 bits from one seed on every x86-64 CPU with AVX2.

torch's vector kernels (ATen) and oneDNN pick code paths by the CPU's ISA, MKL's sgemm by its
vendor and ISA, so an AMD EPYC and an Intel Xeon train different weights from the same seed.
Capping ATen and oneDNN at AVX2 and putting MKL in its vendor-neutral conditional numerical
reproducibility mode makes them agree (Deep-MI/FastSurfer #886/#892 measured it on AMD EPYC
7763/9V74/9V45 and Intel Xeon 8573C). Each library reads its variable once, at its first use,
so `import seqmem` sets them, before any torch kernel can run.

The pin exists on x86-64 only: ARM builds of torch reject `ATEN_CPU_CAPABILITY=avx2` with a
warning, oneDNN's aarch64 code ignores its variable and there is no MKL. Elsewhere nothing is set,
and results match the committed ones within tolerance, not bit for bit (docs/reproducibility.md).
"""

from __future__ import annotations

import os
import platform
import sys
import warnings
from pathlib import Path

PIN = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_CBWR": "COMPATIBLE"}
X86_64 = platform.machine().lower() in ("x86_64", "amd64")

_LATE = False  # torch chose its code paths before seqmem could pin them (pin() decides, once)


def pin() -> None:
    """On x86-64, set the pinned variables, unless the caller chose a value: an explicit choice wins.

    Each library reads its variable lazily, at its first use, not at `import torch` (measured: MKL_CBWR
    set after the import still pins a matrix product), so `import torch` before seqmem is fine as long
    as nothing was computed in between. Whether something was shows in ATen's choice, which asking for
    it also makes: if it is not the pinned one, torch computed unpinned first, and train() says so.
    MKL's and oneDNN's choices can't be asked; a product computed before `import seqmem` goes unseen.
    """
    global _LATE
    if not X86_64:
        return
    for key, value in PIN.items():
        os.environ.setdefault(key, value)
    torch = sys.modules.get("torch")
    if torch is not None and os.environ["ATEN_CPU_CAPABILITY"] == PIN["ATEN_CPU_CAPABILITY"]:
        _LATE = torch.backends.cpu.get_cpu_capability() != PIN["ATEN_CPU_CAPABILITY"].upper()


def _has_avx2() -> bool:
    try:
        return any(line.startswith("flags") and " avx2" in line for line in Path("/proc/cpuinfo").open())
    except OSError:
        return False


def platform_reason() -> str | None:
    """Why bit-exactness is not expected on this machine at all, or None where it has been shown: Linux x86-64, AVX2."""
    if not X86_64:
        return f"this is {platform.machine() or 'an unknown CPU'}, and the pinned arithmetic exists on x86-64 only"
    if sys.platform != "linux":
        return f"bit-exactness has been shown on Linux only, and this is {sys.platform}"
    if not _has_avx2():
        return "this CPU has no AVX2, so its kernels can't compute the pinned AVX2 bits"
    return None


def unpinned() -> list[str]:
    """Why this process may not compute the pinned bits on a machine that could: empty when it does, or off x86-64."""
    if not X86_64:
        return []
    why = [f"{k}={os.environ.get(k)!r} (pinned: {v!r})" for k, v in PIN.items() if os.environ.get(k) != v]
    if _LATE:
        why.append("torch computed before seqmem was imported, so its kernels already run unpinned")
    return why


def exactness() -> tuple[bool, str]:
    """(bit for bit here?, the reason in words): what check_repro.py and the train stage say about this process."""
    reason = platform_reason()
    if reason:
        return False, f"results match the committed ones within tolerance, not bit for bit: {reason}"
    why = unpinned()
    if why:
        return False, (f"the arithmetic is not pinned in this environment ({'; '.join(why)}), so results can "
                       "match the committed ones only within tolerance; unset those variables for the exact check")
    return True, "the pinned arithmetic is in force on Linux x86-64 with AVX2: results match bit for bit"


def warn_if_unpinned() -> None:
    """Say so (once per process) when training here may not give the pipeline's bits on a machine that could."""
    why = unpinned()
    if why:
        warnings.warn("seqmem: CPU arithmetic is not pinned, so the weights may differ in the last bits from "
                      f"`dvc repro`'s: {'; '.join(why)}. Import seqmem first, before torch computes anything "
                      "(restart the kernel in a notebook): docs/reproducibility.md#the-pin", RuntimeWarning,
                      stacklevel=3)
