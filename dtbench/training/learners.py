"""What the training loop updates: one model (`Single`) or the seeds of one cell stacked into
one vmapped model (`Stacked`, for a GPU, where one small model leaves the device idle). Both
give each member's loss on its own batch, update each member with its own gradient clipping,
and hand out or take in a member's state in a separate run's checkpoint format, so the loop
(`training.loop`) is the same for both.

Stacking: `torch.func.stack_module_state` stacks the members' parameters along a new first
dimension and `torch.func.vmap` runs the model once for all of them. Each member keeps what
makes it its own run: its initial weights (built after seeding with its seed), its sampler and
batches, its clipping, its AdamW state (AdamW is element-wise, so one optimiser over stacked
tensors is S optimisers). Dropout draws one mask for the whole group, so with dropout a member
is a run of the same distribution as its separate run, not the same numbers; without it, it
follows its separate run to float rounding (tests/test_stacked.py).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from dtbench.config import TrainConfig
from dtbench.data.sampler import Batch
from dtbench.models.dt import DecisionTransformer
from dtbench.precision import matmul_precision
from dtbench.training.optim import adamw, make_optimizer, param_groups


def loss_of(model: nn.Module, out: Any, batch: Batch, cfg: TrainConfig,
            fixed_shape: bool = False) -> torch.Tensor:
    """The training loss: on actions (the paper's), plus `train.return_loss_weight` x the
    return head's (DT as a critic). `fixed_shape`: the reduction vmap can batch (see
    `DecisionTransformer.action_loss`)."""
    loss = model.action_loss(out, batch.actions, batch.mask, fixed_shape=fixed_shape)
    if cfg.return_loss_weight:
        loss = loss + cfg.return_loss_weight * model.return_loss(
            out, batch.returns_to_go, batch.mask, fixed_shape=fixed_shape)
    return loss


class Single:
    """One model and its AdamW: a run trained alone (the canonical numbers)."""

    size = 1

    def __init__(self, model: nn.Module, cfg: TrainConfig) -> None:
        self.model, self.cfg, self.like = model, cfg, model
        self.optimizer = make_optimizer(model, cfg)
        self.device = next(model.parameters()).device

    def losses(self, batches: Sequence[Batch], mask_attention: bool) -> torch.Tensor:
        """(1,) the loss on the batch; with `mask_attention` (left-padded windows) the padding
        is masked out of attention (right padding never reaches a real token through causal
        attention, so those windows go without)."""
        b = batches[0]
        with matmul_precision(self.cfg.precision, b.states.device):
            out = self.model(b.states, b.actions, b.returns_to_go, b.timesteps,
                             b.mask if mask_attention else None)
            return loss_of(self.model, out, b, self.cfg).reshape(1)

    def update(self, losses: torch.Tensor) -> torch.Tensor:
        """Backward, clip to `train.grad_clip`, one AdamW step; (1,) the gradient norm."""
        self.optimizer.zero_grad(set_to_none=True)
        losses.sum().backward()
        norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
        self.optimizer.step()
        return norm.reshape(1)

    def train(self, mode: bool = True) -> None:
        self.model.train(mode)

    def members(self) -> list[nn.Module]:
        """The model (in eval mode)."""
        self.model.eval()
        return [self.model]

    def member_state(self, i: int) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        return self.model.state_dict(), self.optimizer.state_dict()

    def load_member(self, i: int, model: dict[str, torch.Tensor],
                    optimizer: dict[str, Any]) -> None:
        self.model.load_state_dict(model)
        self.optimizer.load_state_dict(optimizer)


class Stacked:
    """S members of one DT configuration (models built with their own seeds), as one vmapped
    model with one AdamW over the stacked parameters."""

    def __init__(self, models: Sequence[DecisionTransformer], cfg: TrainConfig) -> None:
        self.models, self.cfg, self.size = list(models), cfg, len(models)
        # the module functional_call runs: GPT-2's plain attention, which vmap batches (the
        # fused kernel has no batching rule on a CPU and would fall back to a slow loop);
        # both compute the same attention, to float rounding
        self.like = copy.deepcopy(models[0])
        self.like.transformer.set_attn_implementation("eager")
        self.params, self.buffers = stack_module_state(self.models)
        self.groups = param_groups(models[0], cfg)
        self.optimizer = adamw([([self.params[n] for n in names], wd)
                                for names, wd in self.groups], cfg)
        self.device = next(iter(self.params.values())).device

    def losses(self, batches: Sequence[Batch], mask_attention: bool) -> torch.Tensor:
        """(S,) each member's loss on its own batch."""
        model, cfg = self.like, self.cfg

        def one(params: dict, buffers: dict, *fields: torch.Tensor) -> torch.Tensor:
            batch = Batch(*fields)
            out = functional_call(model, (params, buffers),
                                  (batch.states, batch.actions, batch.returns_to_go,
                                   batch.timesteps),
                                  {"token_mask": token_mask(model, batch.mask, mask_attention)})
            return loss_of(model, out, batch, cfg, fixed_shape=True)

        batch = stack_batches(batches)
        with matmul_precision(cfg.precision, batch.states.device):
            return vmap(one, randomness="same")(self.params, self.buffers, *_tensors(batch))

    def update(self, losses: torch.Tensor) -> torch.Tensor:
        """Backward (members share no parameter: each gets its own gradient), clip each
        member's gradient to `train.grad_clip` as `clip_grad_norm_` does a separate run's
        (scale by clip / (norm + 1e-6) where that is below 1), one AdamW step; (S,) norms."""
        self.optimizer.zero_grad(set_to_none=True)
        losses.sum().backward()
        grads = [p.grad for p in self.params.values() if p.grad is not None]
        norms = torch.stack([g.reshape(self.size, -1).pow(2).sum(1) for g in grads]).sum(0)
        norms = norms.sqrt()
        if math.isfinite(self.cfg.grad_clip):
            scale = (self.cfg.grad_clip / (norms + 1e-6)).clamp(max=1.0)
            for g in grads:
                g.mul_(scale.view(-1, *([1] * (g.dim() - 1))))
        self.optimizer.step()
        return norms

    def train(self, mode: bool = True) -> None:
        self.like.train(mode)

    def members(self) -> list[nn.Module]:
        """Each member's current weights in a model of its own (in eval mode)."""
        for i, model in enumerate(self.models):
            model.load_state_dict(self.member_state(i)[0])
            model.eval()
        return list(self.models)

    def member_state(self, i: int) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """Member i's weights and buffers, and its AdamW state in the layout a separate run's
        optimiser (`make_optimizer`) has."""
        model = {n: p[i].detach().clone() for n, p in self.params.items()}
        model.update({n: b[i].clone() for n, b in self.buffers.items()})
        full = self.optimizer.state_dict()
        state = {index: {k: (v[i].clone() if k != "step" else v.clone())
                         for k, v in values.items()}
                 for index, values in full["state"].items()}
        return model, {"state": state, "param_groups": full["param_groups"]}

    def load_member(self, i: int, model: dict[str, torch.Tensor],
                    optimizer: dict[str, Any]) -> None:
        with torch.no_grad():
            for n, p in self.params.items():
                p[i].copy_(model[n])
            for n, b in self.buffers.items():
                b[i].copy_(model[n])
        ours = self.optimizer.state_dict()
        for index, values in optimizer["state"].items():
            slot = ours["state"].setdefault(index, {})
            for k, v in values.items():
                if k == "step":
                    slot[k] = v.clone()
                    continue
                if k not in slot:
                    slot[k] = torch.zeros((self.size, *v.shape), dtype=v.dtype,
                                          device=v.device)
                slot[k][i] = v
        ours["param_groups"] = optimizer["param_groups"]  # the lr it had reached
        self.optimizer.load_state_dict(ours)


def token_mask(model: DecisionTransformer, mask: torch.Tensor, keys: bool) -> torch.Tensor:
    """The additive (B, 1, nK, nK) attention mask of a window batch: causal, and with `keys`
    the padding masked out as keys (left-padded windows, as `Single` masks them). Built here
    because transformers' own mask construction branches on the mask's values, which vmap
    cannot. A finite minimum, not -inf: a padding query with nothing to attend to stays finite
    (its output reaches no loss and no real token)."""
    b, k = mask.shape
    n = model.per_step
    length = n * k
    allowed = torch.ones(length, length, dtype=torch.bool, device=mask.device).tril()
    allowed = allowed.expand(b, 1, length, length)
    if keys:
        allowed = allowed & mask.repeat_interleave(n, dim=1)[:, None, None, :]
    zero = torch.zeros((), device=mask.device)
    return torch.where(allowed, zero, torch.finfo(torch.float32).min)


def stack_batches(batches: Sequence[Batch]) -> Batch:
    """The members' batches as one, stacked on a new first dimension."""
    return Batch(*(torch.stack(fields) for fields in zip(*map(_tensors, batches), strict=True)))


def _tensors(batch: Batch) -> tuple[torch.Tensor, ...]:
    """The batch's tensors in field order (`dataclasses.astuple` would deep-copy them)."""
    return tuple(getattr(batch, f.name) for f in fields(batch))
