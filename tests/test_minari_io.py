"""Minari datasets: round trip, N+1 alignment, missing/corrupt/incomplete datasets."""

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
