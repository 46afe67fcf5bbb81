"""Seeds trained together: S runs of one cell (the same settings and data, different seeds) as
one stacked model, for devices where one small model leaves most of the hardware idle (a GPU:
a 3-layer, 128-wide DT at batch 64 is bound by kernel launches, not FLOPs).

`torch.func.stack_module_state` stacks the members' parameters along a new first dimension and
`torch.func.vmap` runs the model once for all of them; each member keeps what makes it its own
run: its initial weights (built after seeding with its seed, as a separate run's), its sampler
and batches, its gradient-norm clipping, its AdamW state (AdamW is element-wise, so one
optimiser over the stacked tensors is S optimisers), its metrics and its checkpoint, written
in its own run folder in the format of a separate run's, from which a killed group resumes.
Dropout draws its masks from one generator for the whole group, so with dropout a member is
a run of the same distribution as its separate run, not the same numbers; without dropout it
follows its separate run to float rounding (tests/test_stacked.py).
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap
from torch.nn import functional as F
from transformers.pytorch_utils import Conv1D

from dtbench.config import TrainConfig
from dtbench.data.sampler import Batch, WindowSampler
from dtbench.models.dt import DecisionTransformer
from dtbench.precision import matmul_precision
from dtbench.training import (
    CHECKPOINT,
    METRICS,
    UnreadableCheckpoint,
    _append_metrics,
    _read_checkpoint,
    _trim_metrics,
    _truncate_metrics,
    lr_multiplier,
)


def token_mask(model: DecisionTransformer, mask: torch.Tensor, keys: bool) -> torch.Tensor:
    """The additive (B, 1, nK, nK) attention mask of a window batch: causal, and with `keys`
    the padding masked out as keys (left-padded windows; train_dt passes the same mask). A
    finite minimum, not -inf: a padding query with nothing to attend to stays finite (its
    output reaches no loss and no real token)."""
    b, k = mask.shape
    n = model.per_step
    length = n * k
    allowed = torch.ones(length, length, dtype=torch.bool, device=mask.device).tril()
    allowed = allowed.expand(b, 1, length, length)
    if keys:
        allowed = allowed & mask.repeat_interleave(n, dim=1)[:, None, None, :]
    zero = torch.zeros((), device=mask.device)
    return torch.where(allowed, zero, torch.finfo(torch.float32).min)


def masked_action_loss(model: DecisionTransformer, pred: torch.Tensor, actions: torch.Tensor,
                       mask: torch.Tensor) -> torch.Tensor:
    """`DecisionTransformer.action_loss` without boolean indexing (whose result's shape depends
    on the data, which vmap cannot batch): the mean over real action tokens, as a weighted
    sum."""
    weights = mask.float()
    if model.discrete:
        per_token = F.cross_entropy(pred.reshape(-1, pred.shape[-1]), actions.reshape(-1),
                                    reduction="none").reshape(mask.shape)
        return (per_token * weights).sum() / weights.sum()
    per_token = (pred - actions).pow(2).mean(-1)
    return (per_token * weights).sum() / weights.sum()


def _decayed_names(model: nn.Module, cfg: TrainConfig) -> set[str]:
    """Parameter names `make_optimizer` puts in its weight-decay group."""
    names = dict(model.named_parameters())
    if cfg.decay_all_params:
        return set(names)
    weighted = (nn.Linear, nn.Conv2d, Conv1D)
    ids = {id(m.weight) for m in model.modules() if isinstance(m, weighted)}
    return {n for n, p in names.items() if id(p) in ids}


def _groups(model: nn.Module, cfg: TrainConfig) -> list[list[str]]:
    """Parameter names per optimiser group, in `make_optimizer`'s order (so a member's state
    slices map one to one onto a separate run's optimiser state)."""
    names = [n for n, _ in model.named_parameters()]
    if cfg.decay_all_params:
        return [names]
    decayed = _decayed_names(model, cfg)
    return [[n for n in names if n in decayed], [n for n in names if n not in decayed]]


class StackedDT:
    """S members of one DT configuration, trained as one vmapped model."""

    def __init__(self, models: Sequence[DecisionTransformer], cfg: TrainConfig) -> None:
        self.cfg, self.size = cfg, len(models)
        self.template = copy.deepcopy(models[0])  # the module functional_call runs
        self.params, self.buffers = stack_module_state(list(models))
        self.groups = _groups(models[0], cfg)
        decay = [cfg.weight_decay] if cfg.decay_all_params else [cfg.weight_decay, 0.0]
        fused = all(p.device.type in ("cpu", "cuda") for p in self.params.values())
        self.optimizer = torch.optim.AdamW(
            [{"params": [self.params[n] for n in names], "weight_decay": wd}
             for names, wd in zip(self.groups, decay, strict=True)],
            lr=cfg.lr, betas=cfg.betas, fused=fused or None)

    def losses(self, batch: Batch, mask_attention: bool) -> torch.Tensor:
        """(S,) each member's action loss on its own batch (stacked on dim 0); the padding is
        masked out of attention when `mask_attention` (left-padded windows), as in train_dt."""
        model = self.template

        def one(params: dict, buffers: dict, states: torch.Tensor, actions: torch.Tensor,
                rtg: torch.Tensor, timesteps: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            out = functional_call(model, (params, buffers), (states, actions, rtg, timesteps),
                                  {"token_mask": token_mask(model, mask, mask_attention)})
            return masked_action_loss(model, out.action_preds, actions, mask)

        return vmap(one, randomness="same")(self.params, self.buffers, batch.states,
                                            batch.actions, batch.returns_to_go,
                                            batch.timesteps, batch.mask)

    def step(self, batch: Batch, mask_attention: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """One optimiser step of every member on its own batch; (losses, gradient norms)."""
        with matmul_precision(self.cfg.precision, batch.states.device):
            losses = self.losses(batch, mask_attention)
        self.optimizer.zero_grad(set_to_none=True)
        losses.sum().backward()  # members share no parameter: each gets its own gradient
        norms = self.clip()
        self.optimizer.step()
        return losses.detach(), norms.detach()

    def clip(self) -> torch.Tensor:
        """Clip each member's gradient to norm `cfg.grad_clip` (as clip_grad_norm_ does for a
        separate run: scale by clip / (norm + 1e-6) where that is below 1); its norms, (S,)."""
        grads = [p.grad for p in self.params.values() if p.grad is not None]
        norms = torch.stack([g.reshape(self.size, -1).pow(2).sum(1) for g in grads]).sum(0)
        norms = norms.sqrt()
        if math.isfinite(self.cfg.grad_clip):
            scale = (self.cfg.grad_clip / (norms + 1e-6)).clamp(max=1.0)
            for g in grads:
                g.mul_(scale.view(-1, *([1] * (g.dim() - 1))))
        return norms

    def member(self, i: int) -> dict[str, torch.Tensor]:
        """Member i's state dict (weights and buffers), as its own model's."""
        state = {n: p[i].detach().clone() for n, p in self.params.items()}
        state.update({n: b[i].clone() for n, b in self.buffers.items()})
        return state

    def member_optimizer_state(self, i: int) -> dict:
        """Member i's AdamW state in the layout `make_optimizer(model).state_dict()` has."""
        full = self.optimizer.state_dict()
        state = {}
        for index, values in full["state"].items():
            state[index] = {k: (v[i].clone() if k != "step" else v.clone())
                            for k, v in values.items()}
        return {"state": state, "param_groups": full["param_groups"]}

    def load_member(self, i: int, model_state: dict, optimizer_state: dict) -> None:
        with torch.no_grad():
            for n, p in self.params.items():
                p[i].copy_(model_state[n])
            for n, b in self.buffers.items():
                b[i].copy_(model_state[n])
        ours = self.optimizer.state_dict()
        for index, values in optimizer_state["state"].items():
            slot = ours["state"].setdefault(index, {})
            for k, v in values.items():
                if k == "step":
                    slot[k] = v.clone()
                else:
                    if k not in slot:
                        slot[k] = torch.zeros((self.size, *v.shape), dtype=v.dtype,
                                              device=v.device)
                    slot[k][i] = v
        ours["param_groups"] = optimizer_state["param_groups"]  # the lr it had reached
        self.optimizer.load_state_dict(ours)


def stack_batches(batches: Sequence[Batch]) -> Batch:
    """The members' batches as one, stacked on a new first dimension."""
    return Batch(*(torch.stack([getattr(b, f) for b in batches])
                   for f in ("states", "actions", "returns_to_go", "timesteps", "mask")))


def train_stacked(models: Sequence[DecisionTransformer], samplers: Sequence[WindowSampler],
                  cfg: TrainConfig, run_dirs: Sequence[Path],
                  on_log: Sequence[Callable[[int, dict[str, float]], None]] | None = None,
                  on_eval: Callable[[int, list[DecisionTransformer]], None] | None = None,
                  eval_at: frozenset[int] = frozenset()) -> list[DecisionTransformer]:
    """Train the members together for `cfg.steps`, resuming from their run folders'
    checkpoints (all at one step, or none); return each member as a model of its own.
    `on_log[i]` gets member i's metrics rows; `on_eval(step, members)` runs at `eval_at`."""
    for run_dir in run_dirs:
        Path(run_dir).mkdir(parents=True, exist_ok=True)
    stacked = StackedDT(models, cfg)
    tokens = samplers[0].batch_size * samplers[0].context_len
    scheduler = torch.optim.lr_scheduler.LambdaLR(stacked.optimizer,
                                                  lambda s: lr_multiplier(s, cfg, tokens))
    start = _resume_group(stacked, scheduler, samplers, run_dirs)
    for run_dir in run_dirs:
        metrics = Path(run_dir) / METRICS
        if start == 0 or not metrics.exists():
            _truncate_metrics(metrics)
        else:
            _trim_metrics(metrics, start)
    window = {"loss": torch.zeros(stacked.size), "grad_norm": torch.zeros(stacked.size),
              "n": 0, "sample_s": 0.0, "update_s": 0.0}
    stacked.template.train()
    for step in range(start, cfg.steps):
        t0 = time.perf_counter()
        batches = [s.sample() for s in samplers]
        batch = stack_batches(batches)
        t1 = time.perf_counter()
        losses, norms = stacked.step(batch, samplers[0].windows != "end-anchored")
        scheduler.step()
        t2 = time.perf_counter()
        window["loss"] += losses.cpu()
        window["grad_norm"] += norms.cpu()
        window["n"] += 1
        window["sample_s"] += t1 - t0
        window["update_s"] += t2 - t1
        done = step + 1
        if done % cfg.log_every == 0 or done == cfg.steps:
            n = window["n"]
            for i, run_dir in enumerate(run_dirs):
                row = {"loss": float(window["loss"][i]) / n, "lr": scheduler.get_last_lr()[0],
                       "grad_norm": float(window["grad_norm"][i]) / n,
                       "sample_s": window["sample_s"] / n / stacked.size,
                       "update_s": window["update_s"] / n / stacked.size}
                _append_metrics(Path(run_dir) / METRICS, {"step": done, **row})
                if on_log is not None:
                    on_log[i](done, {f"train/{key}": value for key, value in row.items()})
            window = {"loss": torch.zeros(stacked.size), "grad_norm": torch.zeros(stacked.size),
                      "n": 0, "sample_s": 0.0, "update_s": 0.0}
        if done % cfg.checkpoint_every == 0 or done == cfg.steps:
            _save_group(stacked, scheduler, samplers, run_dirs, done)
        if on_eval is not None and done in eval_at:
            on_eval(done, _members(stacked, models))
            stacked.template.train()
    return _members(stacked, models)


def _members(stacked: StackedDT, models: Sequence[DecisionTransformer]
             ) -> list[DecisionTransformer]:
    """The members' current weights, each in a model of its own (in eval mode)."""
    for i, model in enumerate(models):
        model.load_state_dict(stacked.member(i))
        model.eval()
    return list(models)


def _save_group(stacked: StackedDT, scheduler: torch.optim.lr_scheduler.LRScheduler,
                samplers: Sequence[WindowSampler], run_dirs: Sequence[Path], step: int) -> None:
    """Each member's checkpoint in its own folder, in a separate run's format."""
    from dtbench.atomic import atomic_write

    for i, (sampler, run_dir) in enumerate(zip(samplers, run_dirs, strict=True)):
        state = {"step": step, "model": stacked.member(i),
                 "optimizer": stacked.member_optimizer_state(i),
                 "scheduler": scheduler.state_dict(),
                 "sampler_rng": sampler.rng.bit_generator.state,
                 "torch_rng": torch.get_rng_state()}
        with atomic_write(Path(run_dir) / CHECKPOINT) as tmp:
            torch.save(state, tmp)


def _resume_group(stacked: StackedDT, scheduler: torch.optim.lr_scheduler.LRScheduler,
                  samplers: Sequence[WindowSampler], run_dirs: Sequence[Path]) -> int:
    """Load every member's checkpoint when all are there at one step; otherwise start the
    group from scratch (a member without one would otherwise lag behind the others)."""
    states = []
    for run_dir in run_dirs:
        try:
            states.append(_read_checkpoint(Path(run_dir) / CHECKPOINT,
                                           next(iter(stacked.params.values())).device,
                                           like=stacked.template))
        except UnreadableCheckpoint:
            states.append(None)
    if any(s is None for s in states) or len({int(s["step"]) for s in states}) != 1:
        return 0
    for i, (state, sampler) in enumerate(zip(states, samplers, strict=True)):
        stacked.load_member(i, state["model"], state["optimizer"])
        sampler.rng.bit_generator.state = state["sampler_rng"]
    scheduler.load_state_dict(states[0]["scheduler"])
    torch.set_rng_state(states[0]["torch_rng"])
    return int(states[0]["step"])
