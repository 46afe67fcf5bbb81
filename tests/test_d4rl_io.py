"""D4RL HDF5 reader on small files written in D4RL's exact layout."""

import h5py
import numpy as np
import pytest

from dtbench.data.d4rl_io import read_d4rl, read_d4rl_files
from dtbench.errors import DTBenchError


def _write_d4rl(path, lengths, ends, obs_dim=11, act_dim=3, offset=0.0):
    """Episodes of the given lengths ending by 'terminal', 'timeout' or None (cut off)."""
    n = sum(lengths)
    obs = (offset + np.arange(n, dtype=np.float32))[:, None].repeat(obs_dim, 1)
    terminals, timeouts = np.zeros(n, bool), np.zeros(n, bool)
    at = np.cumsum(lengths) - 1
    for i, end in zip(at, ends, strict=True):
        if end == "terminal":
            terminals[i] = True
        elif end == "timeout":
            timeouts[i] = True
    with h5py.File(path, "w") as f:
        f["observations"] = obs
        f["next_observations"] = obs + 1
        f["actions"] = np.tile(np.linspace(-1, 1, act_dim, dtype=np.float32), (n, 1))
        f["rewards"] = np.arange(n, dtype=np.float32) / 10
        f["terminals"] = terminals
        f["timeouts"] = timeouts
        f["infos/qpos"] = np.zeros((n, 6))
        f["metadata/algorithm"] = "SAC"
    return path


def test_episodes_split_on_terminals_and_timeouts(tmp_path):
    path = _write_d4rl(tmp_path / "hopper_medium-v2.hdf5", [4, 3, 5, 2],
                       ["terminal", "timeout", "terminal", None])
    official = read_d4rl(path)  # the last 2 steps end no episode: dropped, as the official
    np.testing.assert_array_equal(official.episode_lengths, [4, 3, 5])  # script drops them
    np.testing.assert_allclose(official.observations[:, 0], np.arange(12))
    store = read_d4rl(path, keep_partial=True)
    np.testing.assert_array_equal(store.episode_lengths, [4, 3, 5, 2])
    ends = store.episode_starts[1:] - 1
    np.testing.assert_array_equal(store.terminated[ends], [True, False, True, False])
    np.testing.assert_array_equal(store.truncated[ends], [False, True, False, True])
    assert store.terminated.sum() == 2 and store.truncated.sum() == 2  # only at episode ends
    np.testing.assert_allclose(store.observations[:, 0], np.arange(14))  # nothing shifted
    np.testing.assert_allclose(store.episode_returns[0], (0 + 1 + 2 + 3) / 10, rtol=1e-6)
    assert store.actions.shape == (14, 3) and store.observations.dtype == np.float32


def test_medium_expert_is_medium_then_expert(tmp_path):
    medium = _write_d4rl(tmp_path / "m.hdf5", [3, 2], ["terminal", "timeout"])
    expert = _write_d4rl(tmp_path / "e.hdf5", [4], ["timeout"], offset=100.0)
    store = read_d4rl_files([medium, expert])
    np.testing.assert_array_equal(store.episode_lengths, [3, 2, 4])
    np.testing.assert_allclose(store.observations[5:, 0], 100 + np.arange(4))
    assert store.terminated.tolist().count(True) == 1 and store.truncated.sum() == 2


def test_bad_files_are_clear_errors(tmp_path):
    with pytest.raises(DTBenchError, match="not found; get it from here"):
        read_d4rl(tmp_path / "absent.hdf5", how_to_get="get it from here")
    (tmp_path / "junk.hdf5").write_bytes(b"not an hdf5 file")
    with pytest.raises(DTBenchError, match="could not be read as HDF5"):
        read_d4rl(tmp_path / "junk.hdf5")
    with h5py.File(tmp_path / "partial.hdf5", "w") as f:
        f["observations"] = np.zeros((3, 2))
    with pytest.raises(DTBenchError, match="not a D4RL dataset: no actions, rewards, terminals"):
        read_d4rl(tmp_path / "partial.hdf5")
    with h5py.File(tmp_path / "ragged.hdf5", "w") as f:
        f["observations"], f["actions"] = np.zeros((3, 2)), np.zeros((3, 1))
        f["rewards"], f["terminals"] = np.zeros(2), np.zeros(3)
    with pytest.raises(DTBenchError, match="arrays of different lengths"):
        read_d4rl(tmp_path / "ragged.hdf5")
