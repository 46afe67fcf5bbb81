"""DT as a critic: return-blind inputs, the return loss, attention extraction, outcome labels
and the probes `make critic` stores."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from dtbench.analyses.critic import ATTENTION, PROBES, critic_spec, run_critic
from dtbench.config import ModelConfig
from dtbench.domains.keydoor import make_dataset
from dtbench.domains.keydoor.env import OUTCOMES, KeyToDoorEnv, outcome_of
from dtbench.models.dt import DecisionTransformer
from dtbench.report.collected import Collected
from dtbench.report.critic import attention_by_step, critic_table


def _model(**kw) -> DecisionTransformer:
    torch.manual_seed(0)
    cfg = ModelConfig(context_len=6, embed_dim=16, n_layer=2, n_head=2, dropout=0.0,
                      max_ep_len=10, **kw)
    return DecisionTransformer(cfg, (5,), 4, True).eval()


def _batch(b: int = 2, k: int = 6) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(1)
    return (torch.randn(b, k, 5, generator=g), torch.randint(0, 4, (b, k), generator=g),
            torch.randn(b, k, 1, generator=g), torch.arange(k).repeat(b, 1))


def test_attention_extraction_matches_a_manual_last_layer() -> None:
    model = _model()
    states, actions, rtg, timesteps = _batch()
    plain = model(states, actions, rtg, timesteps)
    out = model.with_attentions(states, actions, rtg, timesteps)
    assert model.transformer.config._attn_implementation != "eager"  # restored afterwards
    torch.testing.assert_close(out.action_preds, plain.action_preds)
    weights = out.attentions[-1]  # (B, heads, 3K, 3K)
    assert len(out.attentions) == 2 and weights.shape == (2, 2, 18, 18)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 2, 18))
    assert torch.all(weights.triu(1) == 0)  # causal: no token sees a later one
    # recompute the last block's attention from the hidden state entering it
    captured = {}
    block = model.transformer.h[-1]
    hook = block.register_forward_pre_hook(lambda _, args, kw: captured.update(
        x=args[0] if args else kw["hidden_states"]), with_kwargs=True)
    model(states, actions, rtg, timesteps)
    hook.remove()
    q, k, _ = block.attn.c_attn(block.ln_1(captured["x"])).split(16, dim=-1)
    q, k = (t.reshape(2, 18, 2, 8).transpose(1, 2) for t in (q, k))
    scores = q @ k.transpose(-1, -2) / math.sqrt(8)
    scores = scores.masked_fill(torch.ones(18, 18, dtype=torch.bool).triu(1), float("-inf"))
    torch.testing.assert_close(weights, scores.softmax(-1), atol=1e-5, rtol=1e-4)


def test_return_blind_model_ignores_the_returns_it_is_given() -> None:
    states, actions, rtg, timesteps = _batch()
    blind = _model(condition_on_return=False)
    a = blind(states, actions, rtg, timesteps).return_preds
    b = blind(states, actions, rtg * 7 + 3, timesteps).return_preds
    torch.testing.assert_close(a, b)
    seeing = _model()
    assert not torch.allclose(seeing(states, actions, rtg, timesteps).return_preds,
                              seeing(states, actions, rtg * 7 + 3, timesteps).return_preds)


def test_return_loss_is_masked_mse_of_the_return_head() -> None:
    model = _model()
    states, actions, rtg, timesteps = _batch()
    out = model(states, actions, rtg, timesteps)
    mask = torch.tensor([[True] * 6, [True] * 3 + [False] * 3])
    expected = ((out.return_preds - rtg)[mask] ** 2).mean()
    torch.testing.assert_close(model.return_loss(out, rtg, mask), expected)


def test_outcome_labels_agree_with_the_environment() -> None:
    env = KeyToDoorEnv(room_size=3)  # small rooms: all three kinds appear in a few episodes
    rng = np.random.default_rng(0)
    seen = set()
    for seed in range(300):
        obs, info = env.reset(seed=seed)
        observations, rewards, actions, key_step, done, t = [obs], [], [], None, False, 0
        while not done:
            actions.append(int(rng.integers(4)))
            obs, reward, done, _, info = env.step(actions[-1])
            if info["has_key"] and key_step is None:
                key_step = t
            observations.append(obs)
            rewards.append(reward)
            t += 1
        kind, found = outcome_of({"observations": np.stack(observations),
                                  "actions": np.array(actions), "rewards": np.array(rewards)},
                                 room_size=3)
        expected = OUTCOMES[0] if info["success"] else OUTCOMES[1] if key_step is not None \
            else OUTCOMES[2]
        assert (kind, found) == (expected, key_step)
        seen.add(kind)
    assert seen == set(OUTCOMES)


@pytest.mark.usefixtures("isolated_minari")
def test_critic_run_stores_probes_and_the_report_reads_them(tmp_path) -> None:
    make_dataset("random-1k")
    lines = run_critic("smoke", "random-1k", 0, per_kind=2, results_root=tmp_path,
                       progress=False)
    folder = critic_spec("smoke", "random-1k", 0).folder(tmp_path)
    assert str(folder / PROBES) in lines[0]
    probes = pd.read_csv(folder / PROBES)
    assert list(probes.groupby("kind")["episode"].nunique()) == [2, 2, 2]
    attention = pd.read_csv(folder / ATTENTION)
    assert (attention["key"] <= attention["query"]).all()
    np.testing.assert_allclose(attention.groupby("query")["weight"].sum(), 1.0, atol=1e-4)
    np.testing.assert_allclose(attention_by_step(attention).sum(1), 1.0, atol=1e-4)
    assert run_critic("smoke", "random-1k", 0, results_root=tmp_path,
                      progress=False) == [f"critic: probes present in {folder}"]
    table = critic_table(Collected.read(tmp_path, "smoke")).markdown()
    assert table.count("| random-1k seed 0 |") == 3 and "last-layer attention" in table
