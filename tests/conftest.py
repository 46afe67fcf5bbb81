"""Shared fixtures. Every test gets its own Minari folder and results folder, offline."""

import os

import numpy as np
import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
# Minari downloads run in a child process with the hub online: in tests its hub is a closed
# port on the loopback address, so no test ever reaches another machine
os.environ["HF_ENDPOINT"] = "http://127.0.0.1:9"

from dtbench import plugins  # noqa: E402

plugins.load()  # the built-in domains and algorithms, as every entry point registers them


@pytest.fixture(autouse=True, scope="session")
def _own_cache_folder(tmp_path_factory):
    """dtbench's cache (checksums, DQN-replay wrap frames) in a folder of the test session."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DTBENCH_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture(autouse=True)
def isolated_minari(tmp_path, monkeypatch):
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "minari"))
    return tmp_path / "minari"


def make_episodes(lengths, obs_dim=3, act_dim=2, discrete=False, seed=0, final_obs=True):
    """Small Minari-style episodes with distinct, checkable values."""
    rng = np.random.default_rng(seed)
    episodes = []
    for e, t in enumerate(lengths):
        n_obs = t + 1 if final_obs else t
        obs = (100 * e + np.arange(n_obs))[:, None] + np.zeros((n_obs, obs_dim))
        actions = (rng.integers(0, 4, size=t) if discrete
                   else rng.uniform(-1, 1, size=(t, act_dim)).astype(np.float32))
        episodes.append({
            "observations": obs.astype(np.float32),
            "actions": actions,
            "rewards": rng.uniform(0, 1, size=t).astype(np.float32),
            "terminations": np.eye(1, t, t - 1, dtype=bool)[0] if e % 2 == 0 else np.zeros(t, bool),
            "truncations": np.zeros(t, bool) if e % 2 == 0 else np.eye(1, t, t - 1, dtype=bool)[0],
        })
    return episodes
