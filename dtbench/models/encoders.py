"""State encoders: map (B, K, *obs_shape) observations to (B, K, embed_dim) token embeddings.

Each domain names its encoder in the registry; adding one is a `register_encoder` call.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from dtbench.errors import unknown

EncoderFactory = Callable[[tuple[int, ...], int], nn.Module]
_ENCODERS: dict[str, EncoderFactory] = {}


def register_encoder(name: str) -> Callable[[EncoderFactory], EncoderFactory]:
    def deco(factory: EncoderFactory) -> EncoderFactory:
        _ENCODERS[name] = factory
        return factory

    return deco


def make_encoder(name: str, obs_shape: tuple[int, ...], embed_dim: int) -> nn.Module:
    if name not in _ENCODERS:
        raise unknown("encoder", name, list(_ENCODERS))
    return _ENCODERS[name](obs_shape, embed_dim)


class LinearEncoder(nn.Module):
    """One linear layer on the flattened state (the paper's MuJoCo encoder)."""

    def __init__(self, obs_shape: tuple[int, ...], embed_dim: int) -> None:
        super().__init__()
        self.proj = nn.Linear(math.prod(obs_shape), embed_dim)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        b, k = obs.shape[:2]
        return self.proj(obs.reshape(b, k, -1).float())


class NatureCNNEncoder(nn.Module):
    """The Nature-DQN CNN (32/64/64 channels, 8/4/3 kernels, strides 4/2/1) on uint8 frame
    stacks, then Linear + Tanh to the embedding, as in the official Atari code."""

    def __init__(self, obs_shape: tuple[int, ...], embed_dim: int) -> None:
        super().__init__()
        channels = obs_shape[0]
        self.conv = nn.Sequential(
            nn.Conv2d(channels, 32, 8, stride=4), nn.ReLU(),
            nn.Conv2d(32, 64, 4, stride=2), nn.ReLU(),
            nn.Conv2d(64, 64, 3, stride=1), nn.ReLU(),
            nn.Flatten(),
        )
        with torch.no_grad():
            n_flat = self.conv(torch.zeros(1, *obs_shape)).shape[1]
        self.head = nn.Sequential(nn.Linear(n_flat, embed_dim), nn.Tanh())

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        b, k = obs.shape[:2]
        x = obs.reshape(b * k, *obs.shape[2:]).float() / 255.0  # frames stay uint8 until here
        return self.head(self.conv(x)).reshape(b, k, -1)


register_encoder("linear")(LinearEncoder)
register_encoder("nature_cnn")(NatureCNNEncoder)
