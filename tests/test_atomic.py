"""Atomic writes: a failed write keeps the old file; concurrent writers never collide."""

import multiprocessing

import numpy as np
import pytest

from dtbench.atomic import atomic_write, write_json
from dtbench.data import minari_io
from dtbench.data.store import TrajectoryStore
from tests.conftest import make_episodes


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "result.json"
    write_json(path, {"score": 1})
    with pytest.raises(RuntimeError), atomic_write(path) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed mid-write")
    assert path.read_text() == '{\n  "score": 1\n}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]


def _cache(path, barrier):
    store = TrajectoryStore.from_episodes(make_episodes([5, 7], obs_dim=20_000))
    barrier.wait()  # both processes write from the same moment on
    for _ in range(100):
        minari_io._save_cache(store, path)


def test_processes_caching_one_dataset_at_once_do_not_collide(tmp_path):
    # `make atari` once failed here: two runs of one dataset shared one temporary name
    path = tmp_path / minari_io.CACHE
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    workers = [ctx.Process(target=_cache, args=(path, barrier)) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert [w.exitcode for w in workers] == [0, 0]
    with np.load(path) as f:
        assert f["rewards"].shape == (12,)
    assert [p.name for p in tmp_path.iterdir()] == [minari_io.CACHE]
