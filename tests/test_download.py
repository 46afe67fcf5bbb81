"""`dtbench data download` against a real HTTP server on the loopback address standing in for
the data hosts: a clean download, a connection dropped half way (the next call resumes with a
Range request and the file is byte-identical), a corrupt file, a missing file, no server at
all; then a smoke run trains on what was downloaded. Minari's failure path goes through
minari's own API."""

import gzip
import hashlib
import io
import json
import subprocess
import sys

import numpy as np
import pytest

from dtbench import api
from dtbench.data.dqn_replay import FIELDS, checkpoint_file
from dtbench.data.identity import MANIFEST
from dtbench.errors import DTBenchError
from tests.http_server import DataHost
from tests.test_d4rl_io import _write_d4rl

NAME = "hopper_medium-v2.hdf5"


@pytest.fixture
def d4rl_bytes(tmp_path):
    return _write_d4rl(tmp_path / "served.hdf5", [30, 20, 25],
                       ["terminal", "timeout", "terminal"]).read_bytes()


@pytest.fixture
def d4rl_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("DTBENCH_D4RL_DIR", str(tmp_path / "d4rl"))
    return tmp_path / "d4rl"


def _quiet(line: str) -> None:
    pass


def test_a_dropped_download_resumes_to_the_same_bytes_then_trains(tmp_path, monkeypatch,
                                                                  d4rl_bytes, d4rl_dir):
    with DataHost({f"/v2/{NAME}": d4rl_bytes}) as host:
        monkeypatch.setenv("DTBENCH_D4RL_URL", f"{host.url}/v2")
        host.drop_once[f"/v2/{NAME}"] = len(d4rl_bytes) // 2
        with pytest.raises(DTBenchError, match=rf"the download of {NAME} stopped after "
                                               rf"{len(d4rl_bytes) // 2:,} of "
                                               rf"{len(d4rl_bytes):,} bytes .*it resumes"):
            api.download(["mujoco/hopper"], ["d4rl-medium"], echo=_quiet)
        assert not (d4rl_dir / NAME).exists()  # nothing half-written where dtbench reads
        assert (d4rl_dir / f"{NAME}.part").stat().st_size == len(d4rl_bytes) // 2
        lines = api.download(["mujoco/hopper"], ["d4rl-medium"], echo=_quiet)
        assert host.requests[-1] == (f"/v2/{NAME}", f"bytes={len(d4rl_bytes) // 2}-")
        assert lines == [f"{d4rl_dir / NAME}: downloaded ({len(d4rl_bytes):,} bytes, verified)"]
        assert (d4rl_dir / NAME).read_bytes() == d4rl_bytes
        assert not (d4rl_dir / f"{NAME}.part").exists()
        manifest = json.loads((d4rl_dir / MANIFEST).read_text())
        assert manifest[NAME]["sha256"] == hashlib.sha256(d4rl_bytes).hexdigest()
        assert manifest[NAME]["url"] == f"{host.url}/v2/{NAME}"
        # a second call finds it in place and verified, and fetches nothing
        served = len(host.requests)
        assert "present (sha256 as downloaded)" in api.download(
            ["mujoco/hopper"], ["d4rl-medium"], echo=_quiet)[0]
        assert len(host.requests) == served
    results = api.train("mujoco/hopper", ["d4rl-medium"], profile="smoke",
                        results_root=tmp_path / "results", echo=_quiet)
    assert results[0]["dataset_id"] == "d4rl/hopper/medium-v2"


def test_corrupt_missing_and_unreachable_files_are_one_line_each(tmp_path, monkeypatch,
                                                                 d4rl_dir):
    with DataHost({f"/v2/{NAME}": b"<html>not a dataset</html>"}) as host:
        monkeypatch.setenv("DTBENCH_D4RL_URL", f"{host.url}/v2")
        with pytest.raises(DTBenchError, match=rf"the downloaded {NAME} is corrupt .*deleted"):
            api.download(["mujoco/hopper"], ["d4rl-medium"], echo=_quiet)
        assert not list(d4rl_dir.glob("*hdf5*"))  # neither the file nor a part is left
        with pytest.raises(DTBenchError, match=r"answered 404 .*walker2d_medium-v2.hdf5"):
            api.download(["mujoco/walker2d"], ["d4rl-medium"], echo=_quiet)
    monkeypatch.setenv("DTBENCH_D4RL_URL", host.url)  # the server is gone now
    with pytest.raises(DTBenchError, match=rf"cannot reach {host.url}/{NAME} for {NAME}"):
        api.download(["mujoco/hopper"], ["d4rl-medium"], echo=_quiet)
    # the CLI: one line, exit 2
    done = subprocess.run([sys.executable, "-m", "dtbench", "data", "download", "mujoco/hopper",
                           "-d", "d4rl-medium"], capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert done.stderr.startswith("dtbench: error: cannot reach")
    with pytest.raises(DTBenchError, match="has no published datasets"):
        api.download(["keydoor"], echo=_quiet)


def _checkpoint_files(lengths, rng):
    """Dopamine-format arrays of one checkpoint: padding before each episode, then steps."""
    obs, act, rew, term = [], [], [], []
    for t in lengths:
        obs += [np.zeros((3, 84, 84), np.uint8), rng.integers(0, 4, (t, 84, 84), np.uint8)]
        act += [np.zeros(3, np.int32), rng.integers(0, 6, t).astype(np.int32)]
        rew += [np.zeros(3, np.float32), rng.choice([0.0, 1.0], t).astype(np.float32)]
        term += [np.zeros(3, np.uint8), np.eye(t, dtype=np.uint8)[-1]]
    arrays = {"observation": np.concatenate(obs), "action": np.concatenate(act),
              "reward": np.concatenate(rew), "terminal": np.concatenate(term)}
    out = {}
    for name, array in arrays.items():
        buffer = io.BytesIO()
        with gzip.GzipFile(fileobj=buffer, mode="wb") as f:
            np.save(f, array, allow_pickle=False)
        out[name] = buffer.getvalue()
    return out


def test_dqn_replay_downloads_the_recipes_checkpoints_over_http_and_trains(tmp_path,
                                                                           monkeypatch):
    rng = np.random.default_rng(0)
    served = {}
    for n in range(50):
        for name, body in _checkpoint_files([12, 9, 14, 10, 11, 13, 9, 12, 10, 11, 12,
                                                   9], rng).items():
            served[f"/dqn/Pong/1/replay_logs/{checkpoint_file('.', name, n).name}"] = body
    bad = "/dqn/Pong/1/replay_logs/$store$_reward_ckpt.7.gz"
    good = served[bad]
    served[bad] = good[: len(good) // 2]  # a truncated gzip stream
    monkeypatch.setenv("DTBENCH_DQN_REPLAY_DIR", str(tmp_path / "dqn"))
    with DataHost(served) as host:
        monkeypatch.setenv("DTBENCH_DQN_REPLAY_URL", f"{host.url}/dqn")
        with pytest.raises(DTBenchError, match=r"reward_ckpt.7.gz is corrupt .*does not "
                                               r"decompress"):
            api.download(["atari/pong"], ["dqn-replay"], echo=_quiet)
        host.files[bad] = good
        lines = api.download(["atari/pong"], ["dqn-replay"], echo=_quiet)
        # the URL's `$` goes percent-encoded and comes back as the file's own name
        assert all(raw.startswith("/dqn/Pong/1/replay_logs/%24store%24_") for raw in host.raw)
        # checkpoints 0-6 and 7's first two arrays arrived before the corrupt one
        assert sum(": downloaded (" in line for line in lines) == 200 - 30
        assert sum("present (sha256 as downloaded)" in line for line in lines) == 30
    logs = tmp_path / "dqn" / "Pong" / "1" / "replay_logs"
    assert sorted(p.name for p in logs.glob("*.gz")) == sorted(
        checkpoint_file(logs, name, n).name for n in range(50) for name in FIELDS)
    results = api.train("atari/pong", ["dqn-replay"], profile="smoke",
                        results_root=tmp_path / "results", echo=_quiet)
    assert results[0]["dataset_id"] == "dqn-replay/pong/1"


def _minari_hopper(root, dataset_id):
    """A Hopper dataset written by minari itself under the Minari folder `root`."""
    import os

    import minari
    from minari.data_collector import EpisodeBuffer

    rng = np.random.default_rng(0)
    buffers = [EpisodeBuffer(id=i, observations=rng.normal(size=(t + 1, 11)),
                             actions=rng.uniform(-1, 1, (t, 3)).astype(np.float32),
                             rewards=rng.normal(size=t), terminations=np.eye(t, dtype=bool)[-1],
                             truncations=np.zeros(t, bool), infos={})
               for i, t in enumerate((40, 30, 35))]
    before = os.environ["MINARI_DATASETS_PATH"]
    os.environ["MINARI_DATASETS_PATH"] = str(root)
    try:
        minari.create_dataset_from_buffers(dataset_id, buffers, env="Hopper-v5",
                                           algorithm_name="x", author="x", author_email="x",
                                           code_permalink="x", description="x",
                                           eval_env="Hopper-v5")
    finally:
        os.environ["MINARI_DATASETS_PATH"] = before
    return root / dataset_id


def test_minari_downloads_through_minaris_api_resume_and_train(tmp_path, monkeypatch,
                                                               isolated_minari):
    """Minari datasets come through minari's own API (a child process with the hub online)
    from a stand-in for Farama's Hugging Face organisation on the loopback address: after a
    connection dropped half way through the data file, the file arrives byte-identical (Hugging
    Face's client retries it), and a smoke run trains on it."""
    from tests.hf_hub import MinariHub

    source = _minari_hopper(tmp_path / "published", "mujoco/hopper/medium-v0")
    data = (source / "data" / "main_data.hdf5").read_bytes()
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with MinariHub() as hub:
        hub.add_dataset("mujoco/hopper/medium-v0", source)
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        hub.drop_once["hopper/medium-v0/data/main_data.hdf5"] = len(data) // 2
        try:
            lines = api.download(["mujoco/hopper"], ["minari-medium"], echo=_quiet)
        except DTBenchError as exc:  # the client gave up: one line; the next call resumes
            assert "downloading Minari dataset mujoco/hopper/medium-v0 failed" in str(exc)
            lines = api.download(["mujoco/hopper"], ["minari-medium"], echo=_quiet)
        assert lines == [f"mujoco/hopper/medium-v0: downloaded into "
                         f"{isolated_minari / 'mujoco' / 'hopper' / 'medium-v0'}"]
        # the first GET of the data file was cut off; Hugging Face's client fetched it again
        gets = [r for r in hub.requests if r.startswith("GET") and "main_data.hdf5" in r]
        assert len(gets) == 2
    got = isolated_minari / "mujoco" / "hopper" / "medium-v0" / "data" / "main_data.hdf5"
    assert got.read_bytes() == data
    results = api.train("mujoco/hopper", ["minari-medium"], profile="smoke",
                        results_root=tmp_path / "results", echo=_quiet)
    assert results[0]["dataset_id"] == "mujoco/hopper/medium-v0"


def test_minari_download_failure_is_one_line_through_minaris_api(tmp_path, monkeypatch):
    """A hub that knows no such dataset is one line."""
    with DataHost({}) as host:
        monkeypatch.setenv("HF_ENDPOINT", host.url)
        with pytest.raises(DTBenchError, match=r"downloading Minari dataset "
                                               r"mujoco/hopper/medium-v0 failed"):
            api.download(["mujoco/hopper"], ["minari-medium"], echo=_quiet)
    assert not (tmp_path / "minari" / "mujoco").exists()
