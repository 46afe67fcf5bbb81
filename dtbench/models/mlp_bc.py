"""The paper's BC for Gym (the official code's `models/mlp_bc.py`): an MLP over the last K
states, concatenated, predicting the action taken at the last of them.

`n_layer` hidden layers of width `embed_dim` with ReLU and dropout, a Tanh output. It takes the
same (B, K) windows as DT (left-padded, the real steps last) and exposes DT's training
interface (`forward(...).action_preds`, `action_loss`), so `dtbench.training.train` trains
it with checkpoints, resumption and metrics like DT.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from dtbench.config import ModelConfig


@dataclass
class BCOutput:
    action_preds: torch.Tensor  # (B, 1, act_dim): the action at each window's last step


class MLPBC(nn.Module):
    def __init__(self, cfg: ModelConfig, state_dim: int, act_dim: int) -> None:
        super().__init__()
        self.cfg, self.state_dim, self.act_dim = cfg, state_dim, act_dim
        layers: list[nn.Module] = [nn.Linear(cfg.context_len * state_dim, cfg.embed_dim)]
        for _ in range(cfg.n_layer - 1):
            layers += [nn.ReLU(), nn.Dropout(cfg.dropout), nn.Linear(cfg.embed_dim, cfg.embed_dim)]
        layers += [nn.ReLU(), nn.Dropout(cfg.dropout), nn.Linear(cfg.embed_dim, act_dim), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, states: torch.Tensor, *_: torch.Tensor) -> BCOutput:
        """`states` (B, K, state_dim), left-padded with zeros; the rest of DT's inputs (actions,
        returns, timesteps, mask) are ignored."""
        flat = states[:, -self.cfg.context_len:].reshape(len(states), -1)
        return BCOutput(self.model(flat)[:, None])

    def action_loss(self, out: BCOutput, actions: torch.Tensor, mask: torch.Tensor,
                    fixed_shape: bool = False) -> torch.Tensor:
        """MSE against each window's last action (always real: padding comes first, so the
        mask is not needed and the shape never depends on the data: `fixed_shape` changes
        nothing)."""
        return F.mse_loss(out.action_preds[:, 0], actions[:, -1])
