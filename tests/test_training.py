"""The fast training path (fused AdamW) gives the plain path's losses; the learning-rate
schedules are the official code's."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

from dtbench.config import ModelConfig, TrainConfig
from dtbench.data.sampler import WindowSampler
from dtbench.data.store import TrajectoryStore
from dtbench.domains.keydoor.env import random_walk_episodes
from dtbench.models.dt import DecisionTransformer
from dtbench.training import Single, lr_multiplier, make_optimizer, train
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


def _official_atari_lrs(steps: int, batch: int, k: int, lr: float, warmup_tokens: int,
                        final_tokens: int) -> list[float]:
    """The official `trainer_atari.py` run_epoch loop, written out: each optimiser step runs at
    the current lr, then the counter adds the batch's action tokens and sets the next lr."""
    current, tokens, lrs = lr, 0, []
    for _ in range(steps):
        lrs.append(current)  # optimizer.step() at this lr
        tokens += batch * k  # (y >= 0).sum(): every action token of full windows
        if tokens < warmup_tokens:
            lr_mult = float(tokens) / float(max(1, warmup_tokens))
        else:
            progress = float(tokens - warmup_tokens) / float(max(1, final_tokens - warmup_tokens))
            lr_mult = max(0.1, 0.5 * (1.0 + math.cos(math.pi * progress)))
        current = lr * lr_mult
    return lrs


@pytest.mark.parametrize("batch, k", [(128, 30), (512, 50)])
def test_token_schedule_equals_the_official_atari_trainer(batch, k):
    steps = 5 * 500_000 // batch
    cfg = TrainConfig(steps=steps, batch_size=batch, lr=6e-4, schedule="cosine-tokens",
                      warmup_tokens=512 * 20, final_tokens=2 * 500_000 * k * 3)
    official = _official_atari_lrs(steps, batch, k, 6e-4, 512 * 20, 2 * 500_000 * k * 3)
    at = [0, 1, 2, 3, steps // 2, int(0.95 * steps), steps - 1]
    ours = [6e-4 * lr_multiplier(s, cfg, batch * k) for s in at]
    np.testing.assert_allclose(ours, [official[s] for s in at], rtol=1e-12)
    floor = next(s for s, lr in enumerate(official) if lr == pytest.approx(6e-5))
    assert 0.9 < floor / steps < 0.97  # the 10% floor comes late, near the end


def test_the_scheduler_gives_each_optimiser_step_its_multiplier(tmp_path):
    """Through torch's LambdaLR as the training loop builds it: the lr logged at each step."""
    store = TrajectoryStore.from_episodes(random_walk_episodes(30, seed=0))
    model = DecisionTransformer(ModelConfig(context_len=5, embed_dim=16, n_layer=1,
                                            dropout=0.0, max_ep_len=60), store.obs_shape, 4, True)
    sampler = WindowSampler(store, 5, 4, 1.0, 60)
    cfg = TrainConfig(steps=6, batch_size=4, lr=1e-3, schedule="cosine-tokens",
                      warmup_tokens=50, final_tokens=100, log_every=1, checkpoint_every=6)
    train(Single(model, cfg), [sampler], cfg, [tmp_path], progress=False)
    logged = pd.read_csv(tmp_path / "metrics.csv")["lr"].to_numpy()
    # the row after step s holds the lr set for step s + 1
    expected = [1e-3 * lr_multiplier(s, cfg, 20) for s in range(1, 7)]
    np.testing.assert_allclose(logged, expected, rtol=1e-5)


def test_train_precision_is_applied_to_the_step(tmp_path):
    """`train.precision`: fp32 is the default; bf16 autocast runs the forward pass in bf16 (a
    real change of the losses, still training), and TF32 (a CUDA setting) leaves a CPU run's
    numbers exactly fp32's."""
    store = TrajectoryStore.from_episodes(make_episodes([30, 25, 40], obs_dim=5, act_dim=2))
    mean, std = store.state_stats()
    losses = {}
    for precision in ("fp32", "tf32", "bf16"):
        torch.manual_seed(0)
        model = DecisionTransformer(ModelConfig(context_len=6, embed_dim=32, n_layer=2,
                                                n_head=2, dropout=0.0, max_ep_len=100),
                                    (5,), 2, False)
        sampler = WindowSampler(store, 6, 16, 10.0, 100, mean, std, seed=3)
        cfg = TrainConfig(steps=30, batch_size=16, lr=1e-3, warmup_steps=0, log_every=1,
                          checkpoint_every=30, precision=precision)
        train(Single(model, cfg), [sampler], cfg, [tmp_path / precision], progress=False)
        losses[precision] = pd.read_csv(tmp_path / precision / "metrics.csv")["loss"].to_numpy()
    assert TrainConfig().precision == "fp32"
    np.testing.assert_array_equal(losses["tf32"], losses["fp32"])
    assert not np.allclose(losses["bf16"], losses["fp32"], rtol=1e-4)
    np.testing.assert_allclose(losses["bf16"], losses["fp32"], rtol=0.1)  # bf16, the same run
    assert losses["bf16"][-5:].mean() < losses["bf16"][:5].mean()
