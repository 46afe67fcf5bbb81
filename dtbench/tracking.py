"""Experiment trackers: every run writes TensorBoard event files to `<run>/tensorboard/`;
`--tracker wandb` also logs to Weights & Biases (`pip install "dtbench[wandb]"`; offline with
`WANDB_MODE=offline`). Trackers only mirror what the run folder's own files hold
(metrics.csv, curve.csv, eval.csv, result.json), from which every result is rebuilt."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dtbench.errors import DTBenchError

TRACKERS = ("tensorboard", "wandb")
TENSORBOARD_DIR = "tensorboard"  # in the run's folder


def check_trackers(names: Sequence[str]) -> tuple[str, ...]:
    """The trackers a run logs to: TensorBoard always, plus those named."""
    bad = [n for n in names if n not in TRACKERS]
    if bad:
        raise DTBenchError(f"unknown tracker {bad[0]!r}; use {' or '.join(TRACKERS)}")
    if "wandb" in names:
        try:
            import wandb  # noqa: F401
        except ImportError:
            raise DTBenchError("--tracker wandb needs the wandb package: pip install "
                               "'dtbench[wandb]'") from None
    return tuple(dict.fromkeys(("tensorboard", *names)))


class Tracker:
    """Scalars of one run, to each of its trackers. Closing it flushes them."""

    def __init__(self, run_dir: Path, names: Sequence[str] = ("tensorboard",), run_name: str = "",
                 config: Mapping[str, Any] | None = None) -> None:
        self._tb = self._wandb = None
        if "tensorboard" in names:
            from tensorboardX import SummaryWriter

            self._tb = SummaryWriter(logdir=str(Path(run_dir) / TENSORBOARD_DIR))
        if "wandb" in names:
            import wandb

            self._wandb = wandb.init(project=os.environ.get("WANDB_PROJECT", "dtbench"),
                                     name=run_name, dir=str(run_dir), config=dict(config or {}),
                                     reinit="create_new")

    def log(self, step: int, values: Mapping[str, float], tensorboard: bool = True) -> None:
        """`values` at training step `step`; `tensorboard=False`: to the other trackers only
        (d3rlpy's own TensorBoard adapter already wrote them)."""
        for key, value in values.items():
            if self._tb is not None and tensorboard:
                self._tb.add_scalar(key, float(value), step)
        if self._wandb is not None:
            self._wandb.log({k: float(v) for k, v in values.items()}, step=step)

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()
        if self._wandb is not None:
            self._wandb.finish()


class NoTracker(Tracker):
    def __init__(self) -> None:
        self._tb = self._wandb = None
