"""Baselines: store -> MDPDataset conversion, every built-in baseline on a discrete and a
continuous task (smoke profile, real d3rlpy), a baseline registered from outside, bad input."""

import json

import d3rlpy
import gymnasium
import numpy as np
import pytest

from baselines import register_d3rlpy
from dtbench import registry
from dtbench.config import BaselineConfig, EvalConfig, ModelConfig, Settings, TrainConfig
from dtbench.contract import RunSpec
from dtbench.d3rlpy_bridge import to_mdp_dataset
from dtbench.data import minari_io
from dtbench.data.collect import collect_episodes
from dtbench.data.store import TrajectoryStore
from dtbench.domains.keydoor import make_dataset
from dtbench.errors import DTBenchError
from dtbench.runs import run
from tests.conftest import make_episodes

BUILT_IN = ("cql", "bc", "bc10", "bc25", "bc40", "random")
PENDULUM_STEPS = 20


def _pendulum_episodes(n: int, seed: int) -> list[dict[str, np.ndarray]]:
    """Uniformly random Pendulum episodes cut by a 20-step time limit (truncated)."""
    env = gymnasium.make("Pendulum-v1", max_episode_steps=PENDULUM_STEPS)
    env.action_space.seed(seed)
    return collect_episodes(env, lambda obs: env.action_space.sample(), seed, n_episodes=n)


@pytest.fixture
def pendulum(monkeypatch, isolated_minari):
    """A tiny continuous-action domain registered for the test only."""
    def make() -> None:
        minari_io.write_dataset("dtbench/pendulum-test/random-v0", _pendulum_episodes(12, 0),
                                "Pendulum-v1", algorithm_name="random", description="test",
                                provenance={"episodes": 12})

    smoke = Settings(
        model=ModelConfig(context_len=5, embed_dim=16, n_layer=1, dropout=0.0,
                          max_ep_len=PENDULUM_STEPS),
        train=TrainConfig(steps=3, batch_size=4, lr=1e-3, warmup_steps=1, checkpoint_every=3,
                          log_every=1),
        eval=EvalConfig(episodes=3, target_returns=(-100.0,), return_scale=100.0),
        baseline=BaselineConfig(steps=4, batch_size=8, hidden_units=(16,), log_every=2),
    )
    dataset = registry.DatasetSpec("random", "dtbench/pendulum-test/random-v0", make=make)
    task = registry.Task("pendulum", "Pendulum-v1", {"random": dataset},
                         env_kwargs={"max_episode_steps": PENDULUM_STEPS})
    domain = registry.Domain("pendulum-test", {"pendulum": task}, "linear", "continuous",
                             {"smoke": smoke, "quick": smoke, "paper": smoke},
                             normalize=lambda task, returns: np.asarray(returns, float),
                             score_label="return")
    monkeypatch.setitem(registry._DOMAINS, domain.name, domain)
    make()
    return domain


@pytest.fixture
def keydoor_1k(isolated_minari):
    make_dataset("random-1k")


def test_mdp_dataset_keeps_steps_boundaries_and_alignment():
    store = TrajectoryStore.from_episodes(make_episodes([3, 4, 2, 5]))  # ends: term, trunc, ...
    dataset = to_mdp_dataset(store)
    assert len(dataset.episodes) == 4
    picker = d3rlpy.dataset.BasicTransitionPicker()
    for e, episode in enumerate(dataset.episodes):
        rows = slice(store.episode_starts[e], store.episode_starts[e + 1])
        np.testing.assert_array_equal(episode.observations, store.observations[rows])
        np.testing.assert_array_equal(episode.actions, store.actions[rows])
        np.testing.assert_allclose(episode.rewards[:, 0], store.rewards[rows])
        assert episode.terminated == bool(store.terminated[rows][-1])
        # d3rlpy drops the last step of a truncated episode (its next observation is unknown)
        assert episode.transition_count == len(episode.observations) - (not episode.terminated)
        for t in range(episode.transition_count):
            tr = picker(episode, t)
            np.testing.assert_array_equal(tr.observation, store.observations[rows][t])
            last = t == len(episode.observations) - 1
            assert tr.terminal == float(episode.terminated and last)
            if not last:
                np.testing.assert_array_equal(tr.next_observation,
                                              store.observations[rows][t + 1])


def test_mdp_dataset_discrete_actions_and_corrupt_terminal():
    store = TrajectoryStore.from_episodes(make_episodes([3, 2], discrete=True))
    dataset = to_mdp_dataset(store, n_actions=4)
    assert dataset.dataset_info.action_size == 4
    np.testing.assert_array_equal(dataset.episodes[0].actions[:, 0], store.actions[:3])
    store.terminated[0] = True  # a terminal inside episode 0
    with pytest.raises(DTBenchError, match="terminated. inside an episode"):
        to_mdp_dataset(store, n_actions=4)


@pytest.mark.parametrize("algo", BUILT_IN)
def test_builtin_baselines_train_and_evaluate_on_discrete_and_continuous(
        algo, keydoor_1k, pendulum, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # d3rlpy would write d3rlpy_logs/ here if it logged to files
    for spec in (RunSpec("keydoor", "keydoor", "random-1k", algo, seed=0, profile="smoke"),
                 RunSpec("pendulum-test", "pendulum", "random", algo, seed=0, profile="smoke")):
        result = run([spec], results_root=tmp_path / "results", progress=False)[0]
        folder = spec.folder(tmp_path / "results")
        assert json.loads((folder / "result.json").read_text()) == result
        assert result["targets"][0]["target_return"] is None  # evaluated once, no target
        assert result["targets"][0]["episodes"] == (4 if spec.domain == "keydoor" else 3)
        if algo != "random":
            metrics = (folder / "metrics.csv").read_text().splitlines()
            assert metrics[0].startswith("step,") and [r.split(",")[0] for r in metrics[1:]] \
                == ["2", "4"]
    assert not (tmp_path / "d3rlpy_logs").exists()


def test_percent_bc_trains_on_the_top_episodes_only(keydoor_1k, tmp_path, monkeypatch):
    seen = {}
    original = to_mdp_dataset

    def spy(store, n_actions=None):
        seen["returns"] = store.episode_returns
        seen["steps"] = store.num_steps
        return original(store, n_actions)

    monkeypatch.setattr("dtbench.d3rlpy_bridge.to_mdp_dataset", spy)
    spec = RunSpec("keydoor", "keydoor", "random-1k", "bc10", seed=0, profile="smoke")
    run([spec], results_root=tmp_path, progress=False)
    full = minari_io.load_store("dtbench/keydoor/random-1k-v1")
    # the top 10% of timesteps, up to the end of the episode that crosses the threshold
    assert 0.10 * full.num_steps <= seen["steps"] < 0.12 * full.num_steps
    assert seen["returns"].sum() == full.episode_returns.sum()  # every success is kept


def test_a_baseline_registered_from_outside_runs_through_the_suite(
        pendulum, keydoor_1k, tmp_path, monkeypatch):
    monkeypatch.setitem(registry._ALGOS, "iql-test", None)  # removed again after the test
    register_d3rlpy(
        "iql-test",
        continuous=lambda cfg, parts: d3rlpy.algos.IQLConfig(
            batch_size=cfg.batch_size, actor_encoder_factory=parts["encoder_factory"],
            critic_encoder_factory=parts["encoder_factory"],
            observation_scaler=parts["observation_scaler"]),
        description="implicit Q-learning (test)",
    )
    spec = RunSpec("pendulum-test", "pendulum", "random", "iql-test", seed=0, profile="smoke")
    result = run([spec], results_root=tmp_path, progress=False)[0]
    assert np.isfinite(result["targets"][0]["return_mean"])
    with pytest.raises(DTBenchError, match="'iql-test' supports continuous actions; domain "
                                           "'keydoor' is discrete"):
        run([RunSpec("keydoor", "keydoor", "random-1k", "iql-test", profile="smoke")],
            results_root=tmp_path, progress=False)


def test_unknown_baseline_is_a_clear_error(keydoor_1k, tmp_path):
    with pytest.raises(DTBenchError, match="unknown algorithm 'cq1'.*cql"):
        run([RunSpec("keydoor", "keydoor", "random-1k", "cq1", profile="smoke")],
            results_root=tmp_path, progress=False)


def test_a_killed_baseline_run_resumes_from_its_last_checkpoint(keydoor_1k, tmp_path,
                                                                 monkeypatch):
    import dtbench.d3rlpy_bridge as adapter

    spec = RunSpec("keydoor", "keydoor", "random-1k", "cql", seed=0, profile="smoke")
    folder = spec.folder(tmp_path)
    # the first attempt is cut short after its first checkpointed row (step 2 of 4)
    run([spec], eval_overrides={"baseline.steps": 2}, results_root=tmp_path, progress=False)
    first_row = (folder / "metrics.csv").read_text().splitlines()[1]
    (folder / "result.json").unlink()  # as if killed before it finished
    starts = []
    original = adapter._resume

    def spy(path, algo, dataset, *args):
        starts.append(original(path, algo, dataset, *args))
        return starts[-1]

    monkeypatch.setattr(adapter, "_resume", spy)
    result = run([spec], results_root=tmp_path, progress=False)[0]
    assert starts[0][0] == 2  # trained from step 2, not from scratch
    rows = (folder / "metrics.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["2", "4"] and rows[1] == first_row
    assert set(result["timing"]) == {"sample_s", "update_s", "eval_s"}


@pytest.mark.parametrize("steps,log_every,rows", [(5, 2, ["2", "4", "5"]), (4, 2, ["2", "4"]),
                                                 (3, 500, ["3"])])
def test_a_baseline_trains_every_step_whatever_its_logging_interval(keydoor_1k, tmp_path,
                                                                      monkeypatch, steps,
                                                                      log_every, rows):
    """d3rlpy fits whole epochs only; a run whose steps the logging interval does not divide
    (Atari paper: 19,531 steps, logged every 1,000) still makes every gradient step, the
    remainder as a last shorter epoch with its own metrics row. d3rlpy's updates counted."""
    from d3rlpy.algos.qlearning.base import QLearningAlgoBase

    updates = []
    real = QLearningAlgoBase.update
    monkeypatch.setattr(QLearningAlgoBase, "update",
                        lambda self, batch: updates.append(1) or real(self, batch))
    monkeypatch.chdir(tmp_path)
    spec = RunSpec("keydoor", "keydoor", "random-1k", "bc", seed=0, profile="smoke",
                   overrides=(("baseline.steps", steps), ("baseline.log_every", log_every)))
    run([spec], results_root=tmp_path / "results", progress=False)
    assert len(updates) == steps
    metrics = (spec.folder(tmp_path / "results") / "metrics.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in metrics[1:]] == rows


def test_every_method_on_a_cell_gets_the_same_gradient_steps_in_every_profile():
    """DT's steps and the baselines' are one budget for every task of every domain and
    profile (a task's own overrides, such as Pong's, included)."""
    unequal = []
    for name, domain in registry.domains().items():
        for profile in domain.settings:
            for task in domain.tasks.values():
                s = domain.settings_for(task, profile)
                if s.train.steps != s.baseline.steps:
                    unequal.append((name, task.name, profile, s.train.steps, s.baseline.steps))
    assert unequal == []


@pytest.mark.parametrize("steps,syncs", [(40, 10), (2_000, 10), (100_000, 12)])
def test_discrete_cql_syncs_its_target_at_least_ten_times(keydoor_1k, tmp_path, monkeypatch,
                                                          steps, syncs):
    """d3rlpy's DiscreteCQL syncs its target every 8,000 steps by default, never in a short
    run; dtbench lowers the interval to a tenth of the run. The syncs counted in real d3rlpy
    training, and (for the long runs, not trained here) the interval the config gets."""
    from d3rlpy.algos.qlearning.torch.dqn_impl import DQNImpl

    from baselines.builtin import target_update_interval

    cfg = BaselineConfig(steps=steps)
    assert steps // target_update_interval(cfg) == syncs
    if steps > 40:
        return
    counted = []
    real = DQNImpl.update_target
    monkeypatch.setattr(DQNImpl, "update_target",
                        lambda self: counted.append(1) or real(self))
    monkeypatch.chdir(tmp_path)
    spec = RunSpec("keydoor", "keydoor", "random-1k", "cql", seed=0, profile="smoke",
                   overrides=(("baseline.steps", steps), ("baseline.log_every", 20)))
    run([spec], results_root=tmp_path / "results", progress=False)
    assert len(counted) >= syncs
