"""Minari datasets: round trip, N+1 alignment, missing/corrupt/incomplete datasets."""

import json

import minari
import numpy as np
import pytest
from minari.data_collector import EpisodeBuffer

from dtbench.data import minari_io
from dtbench.data.store import TrajectoryStore
from dtbench.domains.keydoor.env import ENV_ID, random_walk_episodes
from dtbench.errors import DTBenchError


def test_round_trip_keeps_every_step_aligned():
    episodes = random_walk_episodes(20, seed=3)
    minari_io.write_dataset("dtbench/test/rt-v0", episodes, ENV_ID, algorithm_name="random",
                            description="test", provenance={"seed": 3})
    store = minari_io.load_store("dtbench/test/rt-v0")
    direct = TrajectoryStore.from_episodes(episodes)
    np.testing.assert_array_equal(store.observations, direct.observations)
    np.testing.assert_array_equal(store.actions, direct.actions)
    np.testing.assert_array_equal(store.rewards, direct.rewards)
    np.testing.assert_array_equal(store.episode_starts, direct.episode_starts)
    np.testing.assert_array_equal(store.terminated, direct.terminated)
    # the loaded file really is a Minari dataset with N+1 observations per episode
    ds = minari.load_dataset("dtbench/test/rt-v0")
    ep = next(ds.iterate_episodes())
    assert len(ep.observations) == len(ep.actions) + 1
    assert minari_io.provenance("dtbench/test/rt-v0") == {"seed": 3}
    # the second load comes from the flat cache and is identical
    assert (minari_io.dataset_dir("dtbench/test/rt-v0") / minari_io.CACHE).is_file()
    again = minari_io.load_store("dtbench/test/rt-v0")
    for field in ("observations", "actions", "rewards", "terminated", "episode_starts",
                  "returns_to_go"):
        np.testing.assert_array_equal(getattr(again, field), getattr(store, field))


def test_dataset_without_final_observations_is_reported_as_corrupt():
    # Minari accepts T observations for T actions without complaint; we must not.
    ep = random_walk_episodes(2, seed=0)
    buffers = [EpisodeBuffer(id=i, observations=e["observations"][:-1], actions=e["actions"],
                             rewards=e["rewards"], terminations=e["terminations"],
                             truncations=e["truncations"], infos={}) for i, e in enumerate(ep)]
    minari.create_dataset_from_buffers("other/test/bad-v0", buffers, env=ENV_ID,
                                       algorithm_name="x", author="x", author_email="x",
                                       code_permalink="x", description="x", eval_env=ENV_ID)
    with pytest.raises(DTBenchError, match="N\\+1"):
        minari_io.load_store("other/test/bad-v0")


def test_missing_dataset_names_how_to_get_it():
    with pytest.raises(DTBenchError, match="not found.*run this"):
        minari_io.load_store("other/test/missing-v0", how_to_get="run this")


def test_interrupted_write_is_not_used():
    episodes = random_walk_episodes(3, seed=0)
    minari_io.write_dataset("dtbench/test/half-v0", episodes, ENV_ID, algorithm_name="r",
                            description="t", provenance={})
    (minari_io.dataset_dir("dtbench/test/half-v0") / minari_io.SIDECAR).unlink()
    assert not minari_io.is_complete("dtbench/test/half-v0")
    with pytest.raises(DTBenchError, match="incomplete"):
        minari_io.load_store("dtbench/test/half-v0")


def test_any_minari_dataset_trains_by_id_and_its_folder_is_left_as_it_was(tmp_path):
    """`-d minari:<id>`: a dataset written by minari itself (not by dtbench) trains a run;
    dtbench's flat cache goes to its own cache folder, never into that dataset."""
    from dtbench import api

    rng = np.random.default_rng(0)
    buffers = []
    for i, t in enumerate((40, 30, 35)):
        buffers.append(EpisodeBuffer(
            id=i, observations=rng.normal(size=(t + 1, 11)).astype(np.float64),
            actions=rng.uniform(-1, 1, (t, 3)).astype(np.float32),
            rewards=rng.normal(size=t), terminations=np.eye(t, dtype=bool)[-1],
            truncations=np.zeros(t, bool), infos={}))
    minari.create_dataset_from_buffers("someone/hopper/mine-v0", buffers, env="Hopper-v5",
                                       algorithm_name="x", author="x", author_email="x",
                                       code_permalink="x", description="x")
    folder = minari_io.dataset_dir("someone/hopper/mine-v0")
    before = {p: p.stat().st_mtime_ns for p in folder.rglob("*")}
    results = api.train("mujoco/hopper", ["minari:someone/hopper/mine-v0"], profile="smoke",
                        results_root=tmp_path / "results", echo=lambda line: None)
    assert results[0]["dataset_id"] == "someone/hopper/mine-v0"
    config = json.loads((tmp_path / "results" / "runs" / "mujoco" / "hopper"
                         / "minari-someone+hopper+mine-v0" / "dense" / "dt" / "smoke" / "seed0"
                         / "config.json").read_text())
    assert config["dataset"]["episodes"] == 3 and config["dataset"]["identity"]["files"]
    again = api.train("mujoco/hopper", ["minari:someone/hopper/mine-v0"], profile="smoke",
                      results_root=tmp_path / "results", echo=lambda line: None)
    assert again == results  # finished: returned as stored
    assert {p: p.stat().st_mtime_ns for p in folder.rglob("*")} == before  # untouched
    assert list((tmp_path / "results" / "runs" / "mujoco" / "hopper").iterdir())[0].name == \
        "minari-someone+hopper+mine-v0"
    # one that does not fit the task is one line; a bare prefix too
    with pytest.raises(DTBenchError, match=r"dataset someone/hopper/mine-v0 has observations "
                                           r"of shape \(11,\) but .*Walker2d"):
        api.train("mujoco/walker2d", ["minari:someone/hopper/mine-v0"], profile="smoke",
                  results_root=tmp_path / "results", echo=lambda line: None)
    with pytest.raises(DTBenchError, match="give a Minari id after 'minari:'"):
        api.train("mujoco/hopper", ["minari:"], profile="smoke",
                  results_root=tmp_path / "results", echo=lambda line: None)
