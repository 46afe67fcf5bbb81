"""checkpoint.pt of a DT run: weights, AdamW state, lr schedule and both random generators at a
step, written atomically, so a killed run resumes exactly where its last checkpoint left it.
A member of a stacked group writes the same file in its own folder (a separate run resumes
from it, and the other way round)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn

from dtbench.atomic import atomic_write, set_aside
from dtbench.data.sampler import WindowSampler
from dtbench.errors import DTBenchError, NotTrained

CHECKPOINT = "checkpoint.pt"
KEYS = frozenset({"step", "model", "optimizer", "scheduler", "sampler_rng", "torch_rng"})


class Unreadable(Exception):
    """A checkpoint file that exists but cannot be loaded."""


class Members(Protocol):
    """What holds the members' trained state (`training.learners`)."""

    size: int
    like: nn.Module  # a model of the members' architecture
    device: torch.device

    def member_state(self, i: int) -> tuple[dict[str, torch.Tensor], dict[str, Any]]: ...

    def load_member(self, i: int, model: dict[str, torch.Tensor],
                    optimizer: dict[str, Any]) -> None: ...


def save(members: Members, scheduler: torch.optim.lr_scheduler.LRScheduler,
         samplers: Sequence[WindowSampler], run_dirs: Sequence[Path], step: int) -> None:
    """Each member's checkpoint in its own run folder (a crash never leaves half a file)."""
    for i, (sampler, run_dir) in enumerate(zip(samplers, run_dirs, strict=True)):
        model, optimizer = members.member_state(i)
        state = {"step": step, "model": model, "optimizer": optimizer,
                 "scheduler": scheduler.state_dict(),
                 "sampler_rng": sampler.rng.bit_generator.state,
                 "torch_rng": torch.get_rng_state()}
        with atomic_write(Path(run_dir) / CHECKPOINT) as tmp:
            torch.save(state, tmp)


def read(path: Path, device: torch.device | str = "cpu",
         like: nn.Module | None = None) -> dict | None:
    """The checkpoint's state, or None when there is none; one that cannot be read (truncated,
    garbage, or, with `like`, another model's weights) raises `Unreadable`."""
    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location=device, weights_only=False)
    except Exception as exc:  # noqa: BLE001 - torch raises many types for a damaged file
        raise Unreadable(f"{type(exc).__name__}") from None
    if not isinstance(state, dict) or not set(state) >= KEYS:
        raise Unreadable("not a dtbench DT checkpoint")
    if like is not None:
        expected = {k: v.shape for k, v in like.state_dict().items()}
        found = {k: getattr(v, "shape", None) for k, v in state["model"].items()}
        if found != expected:
            raise Unreadable("weights of another model")
    return state


def resume(members: Members, scheduler: torch.optim.lr_scheduler.LRScheduler,
           samplers: Sequence[WindowSampler], run_dirs: Sequence[Path], steps: int,
           trained_only: bool = False) -> int:
    """Load every member's checkpoint when all are there at one step and return that step;
    otherwise 0: the members start from scratch together (one without a checkpoint would
    otherwise lag behind the others), and a checkpoint that cannot be read is set aside.

    `trained_only` (evaluating a trained run again): nothing may train, so a checkpoint that is
    missing, unreadable or short of `steps` raises `NotTrained` and no file is touched."""
    states = []
    for run_dir in run_dirs:
        path = Path(run_dir) / CHECKPOINT
        try:
            state = read(path, members.device, like=members.like)
        except Unreadable as exc:
            if trained_only:
                raise NotTrained(f"{CHECKPOINT} could not be read ({exc})") from None
            set_aside(path, str(exc))
            state = None
        if trained_only and (state is None or int(state["step"]) < steps):
            raise NotTrained(f"no {CHECKPOINT}" if state is None else
                             f"{CHECKPOINT} is at step {int(state['step'])} of {steps}")
        states.append(state)
    if any(s is None for s in states) or len({int(s["step"]) for s in states}) != 1:
        return 0
    for i, (state, sampler) in enumerate(zip(states, samplers, strict=True)):
        members.load_member(i, state["model"], state["optimizer"])
        sampler.rng.bit_generator.state = state["sampler_rng"]
    scheduler.load_state_dict(states[0]["scheduler"])
    torch.set_rng_state(states[0]["torch_rng"])
    return int(states[0]["step"])


def last_step(path: Path) -> int:
    """The step of the checkpoint at `path` (0: none, or unreadable)."""
    try:
        state = read(path)
    except Unreadable:
        return 0
    return 0 if state is None else int(state["step"])


def load_weights(model: nn.Module, run_dir: Path) -> int:
    """Load a trained run's weights into `model` (DT as a critic); returns the step."""
    path = run_dir / CHECKPOINT
    try:
        state = read(path, like=model)
    except Unreadable as exc:
        raise DTBenchError(f"{path} could not be read ({exc}); train the run again with "
                           "`dtbench train` (it restarts from scratch)") from None
    if state is None:
        raise DTBenchError(f"no checkpoint in {run_dir}; train the run first with `dtbench train`")
    model.load_state_dict(state["model"])
    return int(state["step"])
