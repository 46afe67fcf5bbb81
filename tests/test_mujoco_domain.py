"""MuJoCo domain: both real-data routes (D4RL HDF5, Minari) on files in their real formats,
normalisation against D4RL's reference returns, and smoke runs on the real Hopper-v5 env."""

import gymnasium
import numpy as np
import pytest

from dtbench import registry
from dtbench.contract import RunSpec
from dtbench.data import minari_io
from dtbench.data.collect import collect_episodes
from dtbench.domains.mujoco import REF_SCORES, normalize
from dtbench.errors import DTBenchError
from dtbench.report.collected import Collected
from dtbench.report.d4rl import d4rl_table
from dtbench.runs import load_dataset, run
from tests.test_d4rl_io import _write_d4rl


def test_normalisation_uses_d4rl_reference_returns():
    for task, (low, high) in REF_SCORES.items():
        np.testing.assert_allclose(normalize(task, [low, high, (low + high) / 2]), [0, 100, 50])
    np.testing.assert_allclose(normalize("hopper", [3234.3 * 0.5]),
                               100 * (1617.15 + 20.272305) / (3234.3 + 20.272305))


@pytest.fixture
def d4rl_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("DTBENCH_D4RL_DIR", str(tmp_path / "d4rl"))
    (tmp_path / "d4rl").mkdir()
    return tmp_path / "d4rl"


def test_d4rl_route_medium_expert_and_missing_file(d4rl_dir):
    domain, task = registry.resolve("mujoco/hopper")
    spec = registry.get_dataset(task, "d4rl-medium-expert")
    with pytest.raises(DTBenchError, match=r"hopper_medium-v2.hdf5 not found; download it "
                                           r"with `dtbench data download mujoco/hopper -d "
                                           r"d4rl-medium-expert` \(or by hand: http"):
        load_dataset(domain, task, spec)
    _write_d4rl(d4rl_dir / "hopper_medium-v2.hdf5", [5, 3], ["terminal", "timeout"])
    _write_d4rl(d4rl_dir / "hopper_expert-v2.hdf5", [6], ["timeout"], offset=50.0)
    store = load_dataset(domain, task, spec)
    np.testing.assert_array_equal(store.episode_lengths, [5, 3, 6])
    assert store.obs_shape == (11,) and store.action_dim == 3


def _write_minari_hopper(dataset_id, n_episodes=3, steps=15):
    env = gymnasium.make("Hopper-v5", max_episode_steps=steps)
    env.action_space.seed(0)
    buffers = collect_episodes(env, lambda obs: env.action_space.sample(), 0,
                               n_episodes=n_episodes)
    # the same call (minari.create_dataset_from_buffers) Minari's own datasets are written with
    minari_io.write_dataset(dataset_id, buffers, "Hopper-v5", algorithm_name="random",
                            description="test", provenance={})
    return buffers


def test_minari_route_reads_the_real_format_and_fails_clearly_offline(isolated_minari):
    domain, task = registry.resolve("mujoco/hopper")
    spec = registry.get_dataset(task, "minari-medium")
    with pytest.raises(DTBenchError, match=r"downloading Minari dataset mujoco/hopper/medium-v0 "
                                           r"failed .*minari download mujoco/hopper/medium-v0"):
        load_dataset(domain, task, spec)
    buffers = _write_minari_hopper("mujoco/hopper/medium-v0")
    store = load_dataset(domain, task, spec)
    np.testing.assert_array_equal(store.episode_lengths, [len(b["rewards"]) for b in buffers])
    np.testing.assert_allclose(store.observations[0], buffers[0]["observations"][0], rtol=1e-6)
    ends = store.episode_starts[1:] - 1
    np.testing.assert_array_equal(store.truncated[ends],
                                  [bool(b["truncations"][-1]) for b in buffers])


def test_real_data_is_picked_when_present_else_generated(d4rl_dir, isolated_minari):
    # what `make mujoco PROFILE=paper` runs on: D4RL files, else Minari's, else generated data
    _, task = registry.resolve("mujoco/hopper")
    prefer = ["d4rl", "minari"]
    assert registry.pick_present(task, "medium", prefer) == "medium"
    _write_minari_hopper("mujoco/hopper/medium-v0")
    assert registry.pick_present(task, "medium", prefer) == "minari-medium"
    _write_d4rl(d4rl_dir / "hopper_medium-v2.hdf5", [5], ["timeout"])
    assert registry.pick_present(task, "medium", prefer) == "d4rl-medium"
    assert registry.pick_present(task, "medium-expert", prefer) == "medium-expert"  # half there
    assert registry.pick_present(task, "medium", []) == "medium"
    with pytest.raises(DTBenchError, match="unknown dataset.*known: bench-expert"):
        registry.pick_present(task, "meduim", prefer)


@pytest.mark.parametrize("algo", ["dt", "bc"])
def test_smoke_runs_on_hopper_with_d4rl_file(algo, d4rl_dir, tmp_path):
    _write_d4rl(d4rl_dir / "hopper_medium-v2.hdf5", [30, 20, 25], ["terminal", "timeout", None])
    spec = RunSpec("mujoco", "hopper", "d4rl-medium", algo, seed=0, profile="smoke")
    result = run([spec], results_root=tmp_path / "results", progress=False)[0]
    targets = [t["target_return"] for t in result["targets"]]
    assert targets == ([3600.0, 1800.0] if algo == "dt" else [None])
    for t in result["targets"]:
        assert t["episodes"] == 2 and 1 <= t["length_mean"] <= 1000
        low, high = REF_SCORES["hopper"]
        np.testing.assert_allclose(t["score_mean"], 100 * (t["return_mean"] - low) / (high - low))
    table = d4rl_table(Collected.read(tmp_path / "results", "smoke")).markdown()
    row = next(line for line in table.splitlines() if line.startswith("| medium | hopper"))
    cells = [c.strip() for c in row.split("|")[1:-1]]
    ours = cells[4 if algo == "dt" else 6]  # DT (ours) or BC (ours): this run's headline score
    assert cells[2] == "D4RL v2 (HDF5)"
    assert ours == f"{result['targets'][0]['score_mean']:.1f} (n=1)"
    assert cells[8] == "67.6 ± 1.0"  # the paper's DT with its ±, in its own column
    # the file's own whole episodes (its last 25 steps end none: dropped, as officially)
    returns = np.array([np.arange(a, b).sum() / 10 for a, b in ((0, 30), (30, 50))])
    data = normalize("hopper", [returns.mean(), returns.max()])
    assert f"| {data[0]:.1f} / {data[1]:.1f} |" in row


def test_the_bench_budgets_data_has_names_of_its_own():
    """One id names one generation: the bench budget's datasets are `bench-<name>`, read by
    nothing that reads the quick budget's `<name>`, and made by the bench budget whatever
    budget a suite asks for."""
    from dtbench.domains.mujoco.ids import local_dataset_id

    _, task = registry.resolve("mujoco/hopper")
    bench, quick = task.datasets["bench-medium"], task.datasets["medium"]
    assert bench.minari_id == "dtbench/mujoco/hopper/bench-medium-v1" != quick.minari_id
    assert bench.plain_name == "medium" and bench.route == "generated"
    assert local_dataset_id("hopper", "medium", "smoke") == quick.minari_id
    # the paper grid's stand-in for `medium` stays the plain name, never the bench data
    assert registry.pick_present(task, "medium", ("d4rl", "minari")) != "bench-medium"


def test_a_budget_makes_its_own_datasets_when_none_is_named():
    from dtbench.api import made_by

    assert made_by("mujoco/hopper", "quick") == ("medium", "medium-replay", "medium-expert",
                                                 "expert", "random")
    assert made_by("mujoco/hopper", "bench") == tuple(
        f"bench-{n}" for n in ("medium", "medium-replay", "medium-expert", "expert", "random"))
    assert made_by("keydoor", "quick") == ("random-1k", "random-10k")
    with pytest.raises(DTBenchError, match="the bench budget makes `bench-medium`"):
        registry.resolve("mujoco/hopper")[1].datasets["medium"].make("bench")
