"""The fast training path (fused AdamW) gives the plain path's losses."""

import torch

from dtbench.config import ModelConfig, TrainConfig
from dtbench.data.sampler import WindowSampler
from dtbench.data.store import TrajectoryStore
from dtbench.models.dt import DecisionTransformer
from dtbench.training import make_optimizer
from tests.conftest import make_episodes


def _losses(optimizer_for, steps: int = 25) -> list[float]:
    store = TrajectoryStore.from_episodes(make_episodes([30, 25, 40], obs_dim=5, act_dim=2))
    mean, std = store.state_stats()
    sampler = WindowSampler(store, 6, 16, 10.0, 100, mean, std, seed=3)
    torch.manual_seed(0)
    model = DecisionTransformer(ModelConfig(context_len=6, embed_dim=32, n_layer=2, n_head=2,
                                            dropout=0.0, max_ep_len=100), (5,), 2, False)
    optimizer = optimizer_for(model)
    losses = []
    for _ in range(steps):
        b = sampler.sample()
        loss = model.action_loss(model(b.states, b.actions, b.returns_to_go, b.timesteps),
                                 b.actions, b.mask)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def test_fused_adamw_matches_the_plain_loop():
    cfg = TrainConfig(lr=1e-3, weight_decay=1e-2)
    fast = make_optimizer
    plain = lambda m: torch.optim.AdamW(m.parameters(), lr=cfg.lr, betas=cfg.betas,  # noqa: E731
                                        weight_decay=cfg.weight_decay, foreach=False)
    optimizer = fast(torch.nn.Linear(2, 2), cfg)
    assert optimizer.defaults["fused"]  # the fast path is the one dtbench trains with
    a, b = _losses(lambda m: fast(m, cfg)), _losses(plain)
    assert a[-1] < a[0]  # it trains
    torch.testing.assert_close(torch.tensor(a), torch.tensor(b), rtol=1e-4, atol=1e-5)
