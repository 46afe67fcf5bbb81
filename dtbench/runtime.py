"""Process-wide set-up shared by every entry point: paths, threads, device, seeds.

Why here: the same few lines (offline Hugging Face, a project-local Minari folder, flushing CPU
denormals) must run before any training or data code, whether called from the CLI or the API.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import torch

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "data" / "minari"
# your runs go to a workspace git ignores; the committed reference results stay in results/
# (written there only when asked: --results results, make ... RESULTS=results)
DEFAULT_RESULTS_DIR = PROJECT_ROOT / "workspace"
REFERENCE_DIR = PROJECT_ROOT / "results"


def setup_environment() -> None:
    """The environment variables of `setup`, without importing torch: what a command that
    trains nothing (`dtbench list`, a usage error) needs before anything else is imported."""
    # Dataset hosts are unreachable here: make any stray hub look-up fail fast, not hang.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    # Keep Minari datasets in the project, never in the home folder.
    os.environ.setdefault("MINARI_DATASETS_PATH", str(DEFAULT_DATA_DIR))


def setup() -> None:
    """Idempotent environment set-up; call at the start of every entry point that reads data,
    trains or evaluates."""
    setup_environment()
    import torch

    # Denormal floats made d3rlpy updates 4-13x slower on a 2-core EPYC (measured when the
    # baselines were added; docs/implementation-details.md).
    torch.set_flush_denormal(True)


def minari_root() -> Path:
    setup()
    return Path(os.environ["MINARI_DATASETS_PATH"])


def resolve_device(device: str = "auto") -> torch.device:
    """'auto' picks CUDA when present, else CPU; 'cpu', 'cuda' and 'cuda:N' are checked
    against this machine (a one-line `DTBenchError` when they cannot be used)."""
    import torch

    from dtbench.errors import DTBenchError

    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    kind, _, index = device.partition(":")
    if kind not in ("cpu", "cuda") or (index and not index.isdigit()) or (kind == "cpu" and index):
        raise DTBenchError(f"unknown device {device!r}; use auto, cpu, cuda or cuda:N")
    if kind == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if int(index or 0) >= count:
            raise DTBenchError(f"--device {device}: this machine has "
                               f"{count or 'no'} CUDA device{'s' if count != 1 else ''}; "
                               "use --device auto or cpu")
    return torch.device(device)


def seed_everything(seed: int) -> np.random.Generator:
    """Seed python, numpy and torch; return a numpy Generator for explicit use."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return np.random.default_rng(seed)
