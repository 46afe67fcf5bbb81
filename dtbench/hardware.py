"""What a CPU run's bits depend on besides the code and the data: the hardware identity each run
records in config.json, and the one instruction set dtbench pins CPU runs to.

Floating-point sums round differently in wider vector kernels. torch (ATen) dispatches to its
AVX-512 kernels where the CPU has them, MKL picks its own code path and oneDNN its own ISA, so
the same run gives other bits on an AVX-512 machine than on an AVX2 one. dtbench pins all three
to AVX2, which every x86-64 CPU of the last decade runs, before torch loads: with the same
torch build and thread count, a CPU run then reproduces to the bit across the CPUs of one
vendor, AVX-512 or not (measured on AMD EPYCs). Across vendors it does not (an Intel Xeon moved
d3rlpy's losses and MuJoCo returns by a float32 rounding), so `runs.compare` asks for the same
vendor as well (docs/implementation-details.md, Reproducing).

`DTBENCH_CPU_ISA=native` leaves the choice to the libraries (each its widest), and a variable
the user set is left as it is; either way the run records what was in force.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

# the library variables that choose a CPU code path, at AVX2
PINNED = {"ATEN_CPU_CAPABILITY": "avx2", "MKL_CBWR": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2"}
CHOICE = "DTBENCH_CPU_ISA"  # avx2 (the default) | native


def pin_cpu_isa() -> None:
    """Set the PINNED variables (those the user has not set) unless `DTBENCH_CPU_ISA=native`;
    only effective before torch is imported (dtbench/__init__.py calls it)."""
    if os.environ.get(CHOICE, "avx2") == "native":
        return
    for name, value in PINNED.items():
        os.environ.setdefault(name, value)


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo), else what platform knows."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def widest_isa() -> str:
    """The widest x86 vector extension the CPU offers (AVX512, AVX2, older), from
    /proc/cpuinfo: the CPU model name alone does not tell an AVX-512 EPYC from an AVX2 one,
    and bit-identity across the two is what the pin promises."""
    cpuinfo = Path("/proc/cpuinfo")
    flags: set[str] = set()
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    if not flags:
        return "unknown"
    return "AVX512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "older"


def identity(device: str = "cpu") -> dict[str, Any]:
    """The hardware identity of this process's runs on `device`."""
    import torch

    config = torch.__config__.show()
    capability = torch.backends.cpu.get_cpu_capability()
    return {
        "cpu": cpu_model(),
        "cpu_widest_isa": widest_isa(),
        "torch_cpu_capability": capability,
        "isa": "pinned" if pinned() and capability == "AVX2" else "chosen by the libraries",
        **{name.lower(): os.environ.get(name) for name in PINNED},
        "blas": "mkl" if "BLAS_INFO=mkl" in config else "other",
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "device": str(device),
        "cuda_device": (torch.cuda.get_device_name(torch.device(device))
                        if torch.device(device).type == "cuda" else None),
    }


def pinned() -> bool:
    """Whether every PINNED variable is in force at its pinned value (torch reads its own when
    it first dispatches an operation: `identity` checks what it chose)."""
    return all(os.environ.get(name) == value for name, value in PINNED.items())


MATCH_KEYS = ("torch_cpu_capability", "isa", "aten_cpu_capability", "mkl_cbwr",
              "onednn_max_cpu_isa", "blas", "torch", "torch_threads", "device", "cuda_device")


def matches(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether runs on identities `a` and `b` chose the same code paths: pinned alike (or, not
    pinned, on the same CPU model), the same capability torch dispatched to, BLAS, torch
    build, threads and device. Same bits need the same CPU vendor too (`runs.compare`)."""
    same = all(a.get(key) == b.get(key) for key in MATCH_KEYS)
    return same and (a.get("isa") == "pinned" or a.get("cpu") == b.get("cpu"))
