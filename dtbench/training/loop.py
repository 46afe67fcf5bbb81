"""The one training loop of DT (and the paper's BC): a single run, or the seeds of one cell
stacked into one vmapped model (`learners.Stacked`), step for step the same loop.

Each step: every member draws its batch, the learner gives each member's loss, a loss that is
not finite stops the run (its last checkpoint kept), then backward, clipping, AdamW and the lr
schedule. Every `log_every` steps a metrics row per member, every `checkpoint_every` steps a
checkpoint per member, and at `eval_at` the caller evaluates the members.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from torch import nn
from tqdm import tqdm

from dtbench.config import TrainConfig
from dtbench.data.sampler import WindowSampler
from dtbench.errors import DTBenchError
from dtbench.training import checkpoint, metrics
from dtbench.training.checkpoint import CHECKPOINT
from dtbench.training.learners import Single, Stacked
from dtbench.training.metrics import METRICS
from dtbench.training.optim import schedule

OnLog = Callable[[int, dict[str, float]], None]
OnEval = Callable[[int, list[nn.Module]], None]


def train(learner: Single | Stacked, samplers: Sequence[WindowSampler], cfg: TrainConfig,
          run_dirs: Sequence[Path], on_log: Sequence[OnLog] | None = None,
          on_eval: OnEval | None = None, eval_at: frozenset[int] = frozenset(),
          progress: bool = True, trained_only: bool = False) -> list[nn.Module]:
    """Train the learner's members for `cfg.steps`, member i on `samplers[i]` with its files in
    `run_dirs[i]`, resuming from their checkpoints; return the trained members (eval mode).

    `on_log[i](step, values)` gets member i's metrics rows (trackers); `on_eval(step, members)`
    runs after each step in `eval_at`. `trained_only` (evaluating a trained run again) trains
    no step: a checkpoint short of the end raises `NotTrained` before any file is touched."""
    run_dirs = [Path(d) for d in run_dirs]
    for run_dir in run_dirs:
        run_dir.mkdir(parents=True, exist_ok=True)
    tokens = samplers[0].batch_size * samplers[0].context_len  # action tokens per step (Atari)
    scheduler = schedule(learner.optimizer, cfg, tokens)
    start = checkpoint.resume(learner, scheduler, samplers, run_dirs, cfg.steps, trained_only)
    if trained_only:
        return learner.members()
    for run_dir in run_dirs:
        metrics.start(run_dir / METRICS, start)
    mask_attention = samplers[0].windows != "end-anchored"  # left-padded windows mask keys
    window = _Window(learner.size)
    learner.train()
    bar = tqdm(range(start, cfg.steps), initial=start, total=cfg.steps, disable=not progress,
               desc="train", leave=False, dynamic_ncols=True)
    for step in bar:
        t0 = time.perf_counter()
        batches = [sampler.sample() for sampler in samplers]
        t1 = time.perf_counter()
        losses = learner.losses(batches, mask_attention)
        if not torch.isfinite(losses).all():
            i = int((~torch.isfinite(losses)).nonzero()[0])
            last = checkpoint.last_step(run_dirs[i] / CHECKPOINT)
            raise DTBenchError(
                f"loss became {losses[i].item()} at step {step}; last good checkpoint is step "
                f"{last} in {run_dirs[i]}; lower train.lr or check the dataset for NaN/inf "
                "values")
        norms = learner.update(losses)
        scheduler.step()
        t2 = time.perf_counter()
        window.add(losses.tolist(), norms.tolist(), t1 - t0, t2 - t1)
        done = step + 1
        if done % cfg.log_every == 0 or done == cfg.steps:
            for i, run_dir in enumerate(run_dirs):
                row = window.row(i, scheduler.get_last_lr()[0])
                metrics.append(run_dir / METRICS, {"step": done, **row})
                if on_log is not None:  # trackers (TensorBoard, W&B) mirror metrics.csv
                    on_log[i](done, {f"train/{key}": value for key, value in row.items()})
            bar.set_postfix(loss=f"{window.mean_loss():.4f}")
            window = _Window(learner.size)
        if done % cfg.checkpoint_every == 0 or done == cfg.steps:
            checkpoint.save(learner, scheduler, samplers, run_dirs, done)
        if on_eval is not None and done in eval_at:
            on_eval(done, learner.members())
            learner.train()
    bar.close()
    return learner.members()


class _Window:
    """Sums over the steps since the last metrics row: each member's loss and gradient norm,
    the group's seconds of sampling and updating (a member's share: divided by the size)."""

    def __init__(self, size: int) -> None:
        self.size, self.n = size, 0
        self.loss, self.grad_norm = [0.0] * size, [0.0] * size
        self.sample_s = self.update_s = 0.0

    def add(self, losses: list[float], norms: list[float], sample_s: float,
            update_s: float) -> None:
        for i in range(self.size):
            self.loss[i] += losses[i]
            self.grad_norm[i] += norms[i]
        self.sample_s += sample_s
        self.update_s += update_s
        self.n += 1

    def row(self, i: int, lr: float) -> dict[str, float]:
        n = self.n
        return {"loss": self.loss[i] / n, "lr": lr, "grad_norm": self.grad_norm[i] / n,
                "sample_s": self.sample_s / n / self.size,
                "update_s": self.update_s / n / self.size}

    def mean_loss(self) -> float:
        return sum(self.loss) / self.size / self.n
