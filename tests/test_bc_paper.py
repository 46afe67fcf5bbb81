"""The paper's own BC (`bc-paper`, `bc10-paper`, ...): the official Gym MLP over the last K
states, trained on each window's last action without gradient clipping, beside d3rlpy's BC."""

import json

import numpy as np
import pytest
import torch
from torch import nn

from dtbench import registry
from dtbench.config import ModelConfig
from dtbench.contract import RunSpec
from dtbench.data.sampler import WindowSampler
from dtbench.data.store import TrajectoryStore
from dtbench.models.mlp_bc import MLPBC
from dtbench.policies import MLPBCPolicy
from dtbench.runs import run
from tests.conftest import make_episodes
from tests.test_mujoco_domain import _write_d4rl


def _official_mlp(state_dim, act_dim, hidden, n_layer, k):
    """The official `MLPBCModel.model`, layer for layer."""
    layers = [nn.Linear(k * state_dim, hidden)]
    for _ in range(n_layer - 1):
        layers.extend([nn.ReLU(), nn.Dropout(0.1), nn.Linear(hidden, hidden)])
    layers.extend([nn.ReLU(), nn.Dropout(0.1), nn.Linear(hidden, act_dim), nn.Tanh()])
    return nn.Sequential(*layers)


def test_the_model_is_the_official_mlp_over_the_last_k_states():
    cfg = ModelConfig(context_len=4, embed_dim=32, n_layer=3, dropout=0.1)
    ours = MLPBC(cfg, 5, 2).eval()
    theirs = _official_mlp(5, 2, 32, 3, 4).eval()
    theirs.load_state_dict(ours.model.state_dict())  # same layers, same order
    states = torch.randn(6, 4, 5)
    torch.testing.assert_close(ours(states).action_preds[:, 0],
                               theirs(states.reshape(6, -1)))


def test_it_learns_each_windows_last_action_and_its_policy_pads_the_front():
    store = TrajectoryStore.from_episodes(make_episodes([6, 3, 5], obs_dim=5, act_dim=2))
    mean, std = store.state_stats()
    model = MLPBC(ModelConfig(context_len=4, embed_dim=16, n_layer=2, dropout=0.0), 5, 2)
    batch = WindowSampler(store, 4, 8, 1.0, 10, mean, std, windows="official").sample()
    out = model(batch.states)
    loss = model.action_loss(out, batch.actions, batch.mask)
    torch.testing.assert_close(loss, ((out.action_preds[:, 0] - batch.actions[:, -1]) ** 2)
                               .mean())
    assert batch.mask[:, -1].all()  # the last step of an official window is always real
    policy = MLPBCPolicy(model.eval(), mean, std)
    policy.reset(1, None)
    first = store.observations[:1]
    action = policy.act(first, np.array([True]))
    padded = torch.zeros(1, 4, 5)
    padded[0, -1] = torch.as_tensor((first[0] - mean) / std)
    np.testing.assert_allclose(action, model(padded).action_preds[:, 0].detach().numpy(),
                               rtol=1e-6)


def test_paper_bc_is_listed_apart_from_d3rlpys():
    algos = registry.algos()
    for name in ("bc-paper", "bc10-paper", "bc25-paper", "bc40-paper"):
        assert algos[name].action_kinds == ("continuous", "discrete")
        assert "paper" in algos[name].description
        assert algos[name].fixed_settings == {"discrete": {"model.tokens": "sa"}}
    assert "d3rlpy" in algos["bc"].description


@pytest.mark.parametrize("algo", ["bc-paper", "bc10-paper"])
def test_a_smoke_run_trains_and_evaluates_on_hopper(algo, tmp_path, monkeypatch):
    import dtbench.training

    monkeypatch.setenv("DTBENCH_D4RL_DIR", str(tmp_path / "d4rl"))
    (tmp_path / "d4rl").mkdir()
    _write_d4rl(tmp_path / "d4rl" / "hopper_medium-v2.hdf5", [30, 20, 25, 28],
                ["terminal", "timeout", "terminal", "timeout"])
    seen = {}
    original = dtbench.training.train_dt

    def spy(model, sampler, cfg, run_dir, **kwargs):
        seen.update(clip=cfg.grad_clip, steps=sampler.num_steps, windows=sampler.windows)
        return original(model, sampler, cfg, run_dir, **kwargs)

    monkeypatch.setattr(dtbench.training, "train_dt", spy)
    spec = RunSpec("mujoco", "hopper", "d4rl-medium", algo, seed=0, profile="smoke")
    result = run(spec, results_root=tmp_path / "results", progress=False)
    assert seen["clip"] == float("inf") and seen["windows"] == "official"
    # all 103 steps; the top 10% by return: the best episode alone (the file's rewards grow
    # along it, so the last: 28 steps)
    assert seen["steps"] == (103 if algo == "bc-paper" else 28)
    folder = spec.folder(tmp_path / "results")
    assert json.loads((folder / "result.json").read_text()) == result
    assert result["targets"][0]["target_return"] is None and result["targets"][0]["episodes"] == 2
    assert (folder / "metrics.csv").read_text().splitlines()[0].startswith("step,loss")


@pytest.mark.parametrize("algo", ["bc-paper", "bc10-paper"])
def test_on_discrete_actions_it_is_dt_without_return_tokens(algo, tmp_path, isolated_minari):
    """The official `--model_type naive`: the run's settings say (s, a) tokens, the model has
    no return tokens, and it evaluates once (no target return)."""
    from dtbench.domains.keydoor import make_dataset
    from dtbench.training import CHECKPOINT

    make_dataset("random-1k")
    spec = RunSpec("keydoor", "keydoor", "random-1k", algo, seed=0, profile="smoke")
    result = run(spec, results_root=tmp_path, progress=False)
    folder = spec.folder(tmp_path)
    config = json.loads((folder / "config.json").read_text())
    assert config["settings"]["model"]["tokens"] == "sa"
    weights = torch.load(folder / CHECKPOINT, weights_only=False)["model"]
    k = config["settings"]["model"]["context_len"]
    assert weights["transformer.wpe.weight"].shape[0] == 2 * k  # 2 tokens per step
    assert [t["target_return"] for t in result["targets"]] == [None]
