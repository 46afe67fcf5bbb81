"""Tests for the Key-to-Door environment: rules, seeding, memory requirement and random data."""

from __future__ import annotations

import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from dtbench.domains.keydoor.env import (
    ENV_ID,
    OBS_DIM,
    KeyToDoorEnv,
    random_walk_episodes,
)

N, S, W, E = 0, 1, 2, 3
# Mechanics tests use roomier rooms and longer phases than the defaults, so that a scripted walk
# always reaches the key within phase 1 whatever the layout.
ROOMY = {"room_size": 6, "phase_lengths": (12, 36, 12)}


def _cell(obs: np.ndarray, i: int, size: int = 6) -> tuple[int, int]:
    """Decode the (row, col) stored at obs[i:i+2]."""
    return int(round(obs[i] * (size - 1))), int(round(obs[i + 1] * (size - 1)))


def _path(src: tuple[int, int], dst: tuple[int, int]) -> list[int]:
    """Actions walking rows first, then columns, from src to dst."""
    d_row, d_col = dst[0] - src[0], dst[1] - src[1]
    return [S if d_row > 0 else N] * abs(d_row) + [E if d_col > 0 else W] * abs(d_col)


def _away(agent: tuple[int, int], target: tuple[int, int]) -> int:
    """An action that, repeated, never reaches target (moves away along a differing axis)."""
    if agent[0] != target[0]:
        return N if target[0] > agent[0] else S
    return W if target[1] > agent[1] else E


def _run(env: KeyToDoorEnv, actions: list[int]) -> list[tuple]:
    return [env.step(a) for a in actions]


def _finish_phase(env: KeyToDoorEnv, action: int) -> list[tuple]:
    """Repeat action until the phase changes or the episode ends; return the step results."""
    out, phase = [], env._phase
    while True:
        out.append(env.step(action))
        if out[-1][2] or env._phase != phase:
            return out


def test_registered_env_passes_checker() -> None:
    env = gymnasium.make(ENV_ID)
    assert env.spec is not None and env.spec.max_episode_steps is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped, skip_render_check=True)
    assert env.unwrapped.max_episode_length == 30  # defaults: 4x4 rooms, phases 5/20/5
    assert env.observation_space.shape == (OBS_DIM,)
    env.close()


def test_bad_params_rejected() -> None:
    with pytest.raises(ValueError):
        KeyToDoorEnv(room_size=1)
    with pytest.raises(ValueError):
        KeyToDoorEnv(phase_lengths=(5, 0, 5))


def test_walls_keep_agent_in_place() -> None:
    env = KeyToDoorEnv(phase_lengths=(40, 5, 5))
    obs, _ = env.reset(seed=3)
    for a, axis, edge in ((N, 3, 0.0), (W, 4, 0.0), (S, 3, 1.0), (E, 4, 1.0)):
        for _ in range(env.room_size + 2):  # more steps than the room is wide
            obs, *_ = env.step(a)
        assert obs[axis] == edge
        before = obs.copy()
        obs, *_ = env.step(a)  # into the wall again
        np.testing.assert_array_equal(obs[3:5], before[3:5])


def test_key_pickup_hides_key() -> None:
    env = KeyToDoorEnv(**ROOMY)
    obs, info = env.reset(seed=7)
    assert obs[5] == 1.0 and not info["has_key"]
    key = _cell(obs, 6)
    assert key != _cell(obs, 3)
    results = _run(env, _path(_cell(obs, 3), key))
    obs, reward, terminated, truncated, info = results[-1]
    assert info["has_key"] and info["phase"] == 1
    assert reward == 0.0 and not terminated and not truncated
    np.testing.assert_array_equal(obs[5:8], 0.0)
    assert _cell(obs, 3) == key
    assert all(not r[4]["has_key"] for r in results[:-1])


def test_door_with_key_rewards_and_terminates() -> None:
    env = KeyToDoorEnv(**ROOMY)
    obs, _ = env.reset(seed=11)
    _run(env, _path(_cell(obs, 3), _cell(obs, 6)))
    _finish_phase(env, N)
    obs = _finish_phase(env, S)[-1][0]
    assert obs[2] == 1.0 and obs[8] == 1.0
    door = _cell(obs, 9)
    assert door != _cell(obs, 3)
    results = _run(env, _path(_cell(obs, 3), door))
    assert all(r[1] == 0.0 and not r[2] for r in results[:-1])
    obs, reward, terminated, truncated, info = results[-1]
    assert reward == 1.0 and terminated and not truncated and info["success"]


def test_door_without_key_gives_nothing() -> None:
    env = KeyToDoorEnv(**ROOMY)
    obs, _ = env.reset(seed=11)
    _finish_phase(env, _away(_cell(obs, 3), _cell(obs, 6)))
    assert not env._has_key
    _finish_phase(env, E)
    obs = env._obs()
    results = _run(env, _path(_cell(obs, 3), _cell(obs, 9)))
    obs, reward, terminated, _, info = results[-1]
    assert _cell(obs, 3) == _cell(obs, 9)  # standing on the door
    assert reward == 0.0 and not terminated and not info["success"]
    rest = _finish_phase(env, N)
    assert sum(r[1] for r in results + rest) == 0.0
    assert rest[-1][2] and not rest[-1][3]  # the horizon ends the episode as termination


def test_phase_transitions_at_fixed_steps() -> None:
    lengths = (4, 7, 5)
    env = KeyToDoorEnv(room_size=5, phase_lengths=lengths)
    obs, info = env.reset(seed=2)
    assert info["phase"] == 1 and obs[0] == 1.0
    action = _away(_cell(obs, 3, 5), _cell(obs, 6, 5))  # never picks the key: no early end
    for t in range(1, sum(lengths) + 1):
        obs, reward, terminated, truncated, info = env.step(action)
        phase = 1 if t < lengths[0] else 2 if t < lengths[0] + lengths[1] else 3
        assert info["phase"] == phase and obs[phase - 1] == 1.0 and obs[:3].sum() == 1.0
        assert obs[5] == (phase == 1) and obs[8] == (phase == 3)
        assert terminated == (t == sum(lengths)) and not truncated and reward == 0.0
        if t in (lengths[0], lengths[0] + lengths[1]):  # just arrived: at the room's start
            assert _cell(obs, 3, 5) == env._starts[phase - 1]
    assert env._door != env._starts[2] and env._key != env._starts[0]


def test_seeding() -> None:
    def rollout(seed: int) -> np.ndarray:
        env = KeyToDoorEnv(**ROOMY)
        obs, _ = env.reset(seed=seed)
        acts = np.random.default_rng(0).integers(0, 4, size=env.max_episode_length)
        seq = [obs]
        for a in acts:
            obs, _, terminated, _, _ = env.step(int(a))
            seq.append(obs)
            if terminated:
                break
        return np.stack(seq)

    np.testing.assert_array_equal(rollout(5), rollout(5))
    layouts = set()
    for seed in range(10):
        env = KeyToDoorEnv(**ROOMY)
        env.reset(seed=seed)
        layouts.add((tuple(env._starts), env._key, env._door))
    assert len(layouts) == 10


def test_phase3_observation_does_not_reveal_key() -> None:
    """Two episodes differing only in the key pickup must look identical from phase 2 on."""
    seed = 4
    phase3_actions = list(np.random.default_rng(1).integers(0, 4, size=12))

    def episode(take_key: bool) -> tuple[list[np.ndarray], bool, list[float]]:
        env = KeyToDoorEnv(**ROOMY)
        obs, _ = env.reset(seed=seed)
        agent, key = _cell(obs, 3), _cell(obs, 6)
        if take_key:
            _run(env, _path(agent, key))
            _finish_phase(env, N)
        else:
            _finish_phase(env, _away(agent, key))
        has_key = env._has_key
        seen, rewards = [env._obs()], []
        for a in [S] * 36 + [int(a) for a in phase3_actions]:
            obs, reward, terminated, _, _ = env.step(a)
            seen.append(obs)
            rewards.append(reward)
            if terminated:
                break
        return seen, has_key, rewards

    with_key, had_a, rewards_a = episode(True)
    without_key, had_b, rewards_b = episode(False)
    assert had_a and not had_b
    assert sum(o[2] for o in with_key) > 0  # phase 3 was reached and compared
    for obs_a, obs_b in zip(with_key, without_key, strict=False):
        np.testing.assert_array_equal(obs_a, obs_b)
    assert sum(rewards_b) == 0.0


def test_random_walk_episodes_format() -> None:
    episodes = random_walk_episodes(20, seed=0)
    assert len(episodes) == 20
    space = KeyToDoorEnv().observation_space
    horizon = KeyToDoorEnv().max_episode_length
    for ep in episodes:
        t = len(ep["actions"])
        assert 1 <= t <= horizon
        assert ep["observations"].shape == (t + 1, OBS_DIM)
        assert ep["observations"].dtype == np.float32
        assert ep["actions"].dtype == np.int64 and ep["actions"].shape == (t,)
        assert ep["rewards"].dtype == np.float32 and ep["rewards"].shape == (t,)
        for key in ("terminations", "truncations"):
            assert ep[key].dtype == np.bool_ and ep[key].shape == (t,)
        assert ep["terminations"][-1] and not ep["terminations"][:-1].any()
        assert not ep["truncations"].any()
        assert t == horizon or ep["rewards"][-1] == 1.0
        assert all(space.contains(o) for o in ep["observations"])
    again = random_walk_episodes(20, seed=0)
    for a, b in zip(episodes, again, strict=True):
        np.testing.assert_array_equal(a["observations"], b["observations"])
        np.testing.assert_array_equal(a["actions"], b["actions"])


def test_random_success_rate_is_a_few_percent() -> None:
    episodes = random_walk_episodes(3000, seed=123)
    rate = np.mean([ep["rewards"].sum() > 0 for ep in episodes])
    assert 0.01 <= rate <= 0.07, rate


def test_key_and_door_never_on_start_cells() -> None:
    env = KeyToDoorEnv(room_size=2)  # 4 cells: a collision would show up within a few seeds
    keys = set()
    for seed in range(300):
        env.reset(seed=seed)
        assert env._key != env._starts[0] and env._door != env._starts[2]
        keys.add(env._key)
    assert len(keys) == 4


def test_offsets_point_from_agent_to_visible_object() -> None:
    env = KeyToDoorEnv(**ROOMY)
    obs, _ = env.reset(seed=3)
    agent, key = np.array(_cell(obs, 3)), np.array(_cell(obs, 6))
    np.testing.assert_allclose(obs[11:13] * 5, key - agent, atol=1e-5)
    np.testing.assert_array_equal(obs[13:15], 0.0)  # no door in phase 1
    obs = _finish_phase(env, S)[-1][0]  # phase 2: nothing visible
    np.testing.assert_array_equal(obs[11:15], 0.0)
    obs = _finish_phase(env, S)[-1][0]  # phase 3: the door
    agent, door = np.array(_cell(obs, 3)), np.array(_cell(obs, 9))
    np.testing.assert_allclose(obs[13:15] * 5, door - agent, atol=1e-5)
    np.testing.assert_array_equal(obs[11:13], 0.0)



def test_the_reports_ceiling_counts_the_episodes_that_can_succeed() -> None:
    """`report.keydoor.solvable_share` (read from observations) agrees with the layouts the env
    drew: key and door each within Manhattan reach of their phase's start; some of the quick
    profile's evaluation episodes cannot succeed."""
    from dtbench import plugins
    from dtbench.domains.keydoor import QUICK
    from dtbench.report.keydoor import solvable_share

    plugins.load()
    env, e = KeyToDoorEnv(), QUICK.eval

    def solvable(seed: int) -> bool:
        env.reset(seed=seed)
        (r0, c0), (rk, ck) = env._starts[0], env._key
        (r2, c2), (rd, cd) = env._starts[2], env._door
        return (abs(r0 - rk) + abs(c0 - ck) <= env.phase_lengths[0]
                and abs(r2 - rd) + abs(c2 - cd) <= env.phase_lengths[2])

    brute = sum(solvable(s) for s in range(e.seed, e.seed + e.episodes))
    assert solvable_share("quick") == 100.0 * brute / e.episodes
    assert 90.0 < solvable_share("quick") < 100.0
