"""The paper grid never runs on stand-in data unless told: without the D4RL and DQN-replay
files it lists every run with its data source and stops, naming each missing source and how
to get it; with files in the real formats in place it is the full grid on them."""

import gzip
import os
import subprocess
import sys

import h5py
import numpy as np
import pandas as pd
import pytest

from dtbench.data.dqn_replay import checkpoint_file
from dtbench.domains.atari import GAMES, dqn_replay_dir
from dtbench.report.cells import stand_in_note

TASKS = ("hopper", "halfcheetah", "walker2d")
OBS_ACT = {"hopper": (11, 3), "halfcheetah": (17, 6), "walker2d": (17, 6)}


def _dtbench(*args, env):
    return subprocess.run([sys.executable, "-m", "dtbench", *args], capture_output=True,
                          text=True, env={**os.environ, **env}, timeout=600)


@pytest.fixture
def env(tmp_path, isolated_minari):
    return {"MINARI_DATASETS_PATH": str(isolated_minari),
            "DTBENCH_D4RL_DIR": str(tmp_path / "d4rl"),
            "DTBENCH_DQN_REPLAY_DIR": str(tmp_path / "dqn")}


def _expected_runs() -> int:
    """Three seeds of: MuJoCo 3 tasks x 3 datasets x 4 algorithms (Table 2), + 3 x 2 x 2
    (Table 3's 25/40%BC), + Hopper 3 datasets x DT, CQL delayed (Table 7), + 3 target sweeps
    (Figure 4); Atari 4 games x 4 (Table 1), + 4 x 2 (Table 4), + 4 K=1 (Table 5), + 4 sweeps;
    Five seeds of: Key-to-Door 2 datasets x 5 algorithms (Table 6); the graph 5 (Figure 6),
    the stitching test 5 + DT without the cap."""
    mujoco = 3 * 3 * 4 + 3 * 2 * 2 + 3 * 2 + 3
    atari = 4 * 4 + 4 * 2 + 4 + 4
    return 3 * (mujoco + atari) + 5 * (2 * 5 + 5 + 5 + 1)


def test_without_the_files_the_paper_grid_lists_its_runs_and_stops(env, tmp_path):
    out = _dtbench("suite", "all", "-p", "paper", "--dry-run", "--results", str(tmp_path / "r"),
                   env=env)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    runs = [line for line in out.stdout.splitlines() if "[paper]: " in line]
    assert len(runs) == _expected_runs()
    assert all(line.endswith("(stand-in)") for line in runs if line.startswith("mujoco/"))
    assert all("DQN-replay 1% (run 1) (missing)" in line for line in runs
               if line.startswith("atari/"))
    assert {line.split(" seed=")[1].split(" ")[0] for line in runs
            if line.startswith("atari/")} == {"123", "231", "312"}  # the official seeds
    missing = [line for line in out.stdout.splitlines() if line.startswith("missing: ")]
    assert len(missing) == 3 * 3 + 4  # one per task and dataset, one per game
    assert any("hopper_medium-v2.hdf5 and" in line and "hopper_expert-v2.hdf5" in line
               for line in missing if "hopper medium-expert" in line)
    assert out.stderr.strip().splitlines() == [
        "dtbench: error: 13 data source(s) of this grid are not on this machine (listed "
        "above): get them, or pass --allow-stand-in-data to run on data generated here (its "
        "tables then say so)"]


def test_without_the_files_a_paper_suite_stops_before_making_or_training_anything(env,
                                                                                   tmp_path):
    out = _dtbench("suite", "mujoco", "-p", "paper", "--results", str(tmp_path / "r"), env=env)
    assert out.returncode == 2 and "data source(s) of this grid" in out.stderr
    assert not (tmp_path / "r" / "runs").exists()
    assert not list((tmp_path / "minari").glob("**/*.hdf5"))  # no SAC data generated


def _write_d4rl(path, obs_dim, act_dim, n=40):
    rng = np.random.default_rng(0)
    with h5py.File(path, "w") as f:
        f["observations"] = rng.normal(size=(n, obs_dim)).astype(np.float32)
        f["actions"] = rng.uniform(-1, 1, (n, act_dim)).astype(np.float32)
        f["rewards"] = np.ones(n, np.float32)
        f["terminals"] = np.zeros(n, bool)
        f["timeouts"] = np.arange(n) % 20 == 19


def _write_dqn_replay_files(game: str) -> None:
    directory = dqn_replay_dir(game)
    directory.mkdir(parents=True)
    for name in ("observation", "action", "reward", "terminal"):
        with gzip.open(checkpoint_file(directory, name, 49), "wb") as f:
            np.save(f, np.zeros(4, np.uint8), allow_pickle=False)


def test_with_the_files_in_place_the_paper_grid_is_the_full_grid_on_them(env, tmp_path,
                                                                          monkeypatch):
    (tmp_path / "d4rl").mkdir()
    for task in TASKS:
        for part in ("medium", "medium-replay", "expert"):
            _write_d4rl(tmp_path / "d4rl" / f"{task}_{part}-v2.hdf5", *OBS_ACT[task])
    monkeypatch.setenv("DTBENCH_DQN_REPLAY_DIR", env["DTBENCH_DQN_REPLAY_DIR"])
    for game in GAMES:
        _write_dqn_replay_files(game)
    out = _dtbench("suite", "all", "-p", "paper", "--dry-run", "--results", str(tmp_path / "r"),
                   env=env)
    assert out.returncode == 0, out.stderr
    runs = [line for line in out.stdout.splitlines() if "[paper]: " in line]
    assert len(runs) == _expected_runs() and "missing: " not in out.stdout
    mujoco = [line for line in runs if line.startswith("mujoco/")]
    assert all(" d4rl-medium" in line.split(" dense")[0] or " d4rl-medium-" in line
               for line in mujoco)
    assert all(line.endswith("data: D4RL v2 (HDF5) (present)") for line in mujoco)
    assert all(line.endswith("(present)") for line in runs
               if line.startswith(("mujoco/", "atari/")))
    # Key-to-Door and the graph are dtbench's own data (the paper's was never released)
    assert all(line.endswith("(made here when run)") for line in runs
               if line.startswith(("keydoor/", "graph/")))


def test_a_paper_table_on_stand_in_data_says_so():
    runs = pd.DataFrame({"task": ["hopper", "hopper"], "dataset": ["medium", "d4rl-medium"],
                         "data_route": ["generated", "d4rl"]})
    note = stand_in_note(runs, "mujoco", "paper")
    assert note.startswith("STAND-IN DATA:") and "(medium)" in note
    assert stand_in_note(runs[runs["dataset"] == "d4rl-medium"], "mujoco", "paper") == ""
    assert stand_in_note(runs, "mujoco", "quick") == ""  # quick is about generated data
