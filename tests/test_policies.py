"""Batched policies: the DT rollout (state embeddings reused exactly) and the random policy
(one seeded draw per step, inside the action space)."""

import gymnasium as gym
import numpy as np
import pytest
import torch

from dtbench.config import ModelConfig
from dtbench.models.dt import DecisionTransformer
from dtbench.policies import DTPolicy, RandomPolicy


def test_random_policy_discrete_is_uniform_and_seeded():
    space = gym.spaces.Discrete(4)
    a = RandomPolicy(space, seed=3).act(np.zeros((4000, 2)), np.ones(4000, bool))
    b = RandomPolicy(gym.spaces.Discrete(4), seed=3).act(np.zeros((4000, 2)), np.ones(4000, bool))
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.int64 and a.shape == (4000,)
    counts = np.bincount(a, minlength=4)
    assert counts.min() > 900 and counts.max() < 1100  # ~1000 each


def test_random_policy_box_stays_in_bounds():
    space = gym.spaces.Box(-2.0, np.array([1.0, 3.0]), dtype=np.float32)
    actions = RandomPolicy(space, seed=0).act(np.zeros((500, 5)), np.ones(500, bool))
    assert actions.shape == (500, 2) and actions.dtype == np.float32
    assert all(space.contains(a) for a in actions)
    assert actions[:, 1].max() > 2.5 and actions[:, 0].min() < -1.5  # spans the box


@pytest.mark.parametrize("encoder", ["linear", "nature_cnn"])
def test_dt_policy_encodes_each_state_once_and_matches_full_windows(encoder):
    """The rollout caches state embeddings; a plain re-encode of the last K states each step
    must choose the same actions (vector states and frame stacks alike)."""
    torch.manual_seed(0)
    k, n, steps = 4, 3, 9
    obs_shape = (5,) if encoder == "linear" else (4, 84, 84)
    discrete = encoder == "nature_cnn"
    cfg = ModelConfig(context_len=k, embed_dim=16, n_layer=1, n_head=1, dropout=0.0,
                      max_ep_len=50)
    model = DecisionTransformer(cfg, obs_shape, 3, discrete, encoder=encoder).eval()
    policy = DTPolicy(model, None, None, return_scale=10.0)
    policy.reset(n, target_return=5.0)
    rng = np.random.default_rng(0)
    history: list[tuple] = []  # (obs, rtg) per step, for the reference
    rtg = np.full(n, 5.0)
    actions_so_far = []
    for t in range(steps):
        obs = (rng.normal(size=(n, *obs_shape)).astype(np.float32) if not discrete
               else rng.integers(0, 256, size=(n, *obs_shape), dtype=np.uint8))
        live = np.ones(n, bool)
        chosen = policy.act(obs, live)
        history.append((obs, rtg.copy()))
        window = history[-k:]
        first = t + 1 - len(window)
        states = torch.as_tensor(np.stack([o for o, _ in window], 1))
        returns = torch.as_tensor(np.stack([r for _, r in window], 1) / 10.0).float()[..., None]
        past = actions_so_far[first:t] + [np.zeros_like(chosen)]
        acts = torch.as_tensor(np.stack(past, 1))
        timesteps = torch.arange(first, t + 1).repeat(n, 1)
        with torch.no_grad():
            pred = model(states, acts, returns, timesteps).action_preds[:, -1]
        expected = pred.argmax(-1).numpy() if discrete else pred.numpy()
        np.testing.assert_allclose(chosen, expected, rtol=1e-5, atol=1e-5)
        actions_so_far.append(chosen)
        rewards = rng.normal(size=n)
        policy.observe(rewards, live)
        rtg = rtg - rewards


@pytest.mark.parametrize("domain_name,task_name", [("keydoor", "keydoor"), ("graph", "graph"),
                                                   ("mujoco", "hopper"), ("atari", "pong")])
def test_last_token_evaluation_plays_the_full_forward_passs_episodes(domain_name, task_name):
    """Evaluation computes the last layer for the one token it reads: on every domain's real
    environment, with the domain's paper model scheme (3 layers, so the layers below see the
    whole window), the episodes are the full forward pass's, action for action."""
    import dataclasses

    from dtbench import registry
    from dtbench.evaluation import evaluate

    domain, task = registry.get_task(domain_name, task_name)
    settings = domain.settings["paper"]
    env = domain.env(task, settings)
    discrete = hasattr(env.action_space, "n")
    act_dim = int(env.action_space.n) if discrete else int(env.action_space.shape[0])
    cfg = dataclasses.replace(settings.model, embed_dim=32, n_layer=3, n_head=2,
                              context_len=4, dropout=0.1)
    torch.manual_seed(0)
    model = DecisionTransformer(cfg, env.observation_space.shape, act_dim, discrete,
                                domain.encoder).eval()
    for p in model.parameters():  # far from the initialisation: distinct, confident actions
        torch.nn.init.normal_(p, std=0.3)
    make = lambda: domain.env(task, settings)  # noqa: E731
    played = {}
    for fast in (True, False):
        recorded = []
        # sampled actions (the official Atari evaluation's): the same logits draw the same
        policy = DTPolicy(model, None, None, return_scale=1.0, greedy=False,
                          last_token_only=fast)
        act = policy.act
        policy.act = lambda obs, live, act=act, recorded=recorded: recorded.append(
            out := act(obs, live)) or out
        result = evaluate(policy, make, 3, 1.0, seed=0, max_steps=25)
        played[fast] = (result, np.stack(recorded))
    (fast_result, fast_actions), (full_result, full_actions) = played[True], played[False]
    if discrete:
        np.testing.assert_array_equal(fast_actions, full_actions)
        np.testing.assert_array_equal(fast_result.returns, full_result.returns)
    else:
        np.testing.assert_allclose(fast_actions, full_actions, atol=1e-5)
        np.testing.assert_allclose(fast_result.returns, full_result.returns, rtol=1e-4)
    assert len(np.unique(fast_actions)) > 1  # the episodes are not one action repeated


@pytest.mark.parametrize("domain_name,task_name", [("mujoco", "hopper"), ("atari", "pong")])
def test_environment_workers_play_the_same_episodes_as_one_process(domain_name, task_name):
    """Stepping the episodes' environments in worker processes changes nothing: the same
    returns and lengths as in the evaluating process, episodes ending at different steps."""
    from dtbench import registry
    from dtbench.evaluation import evaluate
    from dtbench.policies import RandomPolicy

    domain, task = registry.get_task(domain_name, task_name)
    settings = domain.settings["smoke"]
    make = lambda: domain.env(task, settings)  # noqa: E731
    space = make().action_space
    results = [evaluate(RandomPolicy(space, seed=3), make, 5, None, seed=0, max_steps=120,
                        workers=workers) for workers in (0, 2)]
    np.testing.assert_array_equal(results[0].returns, results[1].returns)
    np.testing.assert_array_equal(results[0].lengths, results[1].lengths)
    if domain_name == "mujoco":  # a random Hopper falls: episodes end at different steps
        assert len(set(results[0].lengths.tolist())) > 1


def test_members_evaluated_together_play_what_each_plays_alone():
    """A stacked group's evaluation (`evaluate_together`): every member's episodes in one
    lock-step, in process and across workers, give each member exactly its results alone,
    also when one member's episodes all end while another's still run."""
    from dtbench import registry
    from dtbench.evaluation import evaluate, evaluate_together

    domain, task = registry.get_task("mujoco", "hopper")
    settings = domain.settings["smoke"]
    make = lambda: domain.env(task, settings)  # noqa: E731
    env = make()
    cfg = ModelConfig(context_len=4, embed_dim=16, n_layer=1, n_head=1, max_ep_len=1000,
                      dropout=0.0)
    models = []
    for seed, std in ((0, 0.3), (1, 0.02)):  # the first falls early, the second stands longer
        torch.manual_seed(seed)
        model = DecisionTransformer(cfg, env.observation_space.shape, 3, False, "linear")
        for p in model.parameters():
            torch.nn.init.normal_(p, std=std)
        models.append(model.eval())

    def policies() -> list[DTPolicy]:
        return [DTPolicy(m, None, None, return_scale=100.0) for m in models]

    alone = [evaluate(p, make, 4, 300.0, seed=7, max_steps=60) for p in policies()]
    assert alone[0].lengths.max() < alone[1].lengths.max()  # one member ends first
    for workers in (0, 2):
        together = evaluate_together(policies(), make, 4, 300.0, seed=7, max_steps=60,
                                     workers=workers)
        for a, t in zip(alone, together, strict=True):
            np.testing.assert_array_equal(a.seeds, t.seeds)
            np.testing.assert_array_equal(a.lengths, t.lengths)
            np.testing.assert_allclose(a.returns, t.returns, rtol=1e-6)
