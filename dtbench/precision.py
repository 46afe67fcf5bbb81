"""How a training step's matmuls run on a GPU (`train.precision`): the paper's fp32, TF32
matmuls (fp32 storage, tensor-core products with a 10-bit mantissa) or bf16 autocast of the
forward pass and the loss (fp32 weights, optimiser and gradients). `make bench-gpu` measures
each; the default is fp32 so a run's numbers do not depend on the device's tensor cores."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Literal

import torch

Precision = Literal["fp32", "tf32", "bf16"]


@contextlib.contextmanager
def matmul_precision(precision: Precision, device: torch.device | str) -> Iterator[None]:
    """The block's forward pass and loss at `precision` on `device` (TF32 is a CUDA setting:
    on a CPU it changes nothing)."""
    kind = torch.device(device).type
    if precision == "tf32":
        previous = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
        try:
            yield
        finally:
            torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = previous
    elif precision == "bf16":
        with torch.autocast(device_type=kind, dtype=torch.bfloat16):
            yield
    else:
        yield
