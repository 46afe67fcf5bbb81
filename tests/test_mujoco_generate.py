"""Local D4RL-style generation on the smoke budget: real SAC (d3rlpy), real Hopper-v5."""

import dataclasses
import json
import os
import shutil
import subprocess
import sys

import gymnasium
import numpy as np
import pytest

from dtbench import registry
from dtbench.data import minari_io
from dtbench.data.identity import data_identity
from dtbench.domains.mujoco import generate as gen
from dtbench.domains.mujoco import local_dataset_id
from dtbench.errors import DTBenchError


def _make(tmp_path, monkeypatch, name):
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / name / "minari"))
    summary = gen.generate("hopper", "Hopper-v5", "smoke", seed=0, work_dir=tmp_path / name)
    stores = {d: minari_io.load_store(local_dataset_id("hopper", d)) for d in gen.DATASETS}
    for d, store in stores.items():
        store.metadata["provenance"] = minari_io.provenance(local_dataset_id("hopper", d))
    return summary, stores


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    try:
        yield _make(tmp_path_factory.mktemp("gen"), mp, "a")
    finally:
        mp.undo()


def test_recipe_writes_every_dataset_with_its_provenance(made):
    summary, stores = made
    budget = gen.BUDGETS["smoke"]
    assert set(summary["snapshot_returns"]) == {"100", "200", "300"}
    returns = {int(k): v for k, v in summary["snapshot_returns"].items()}
    assert summary["expert_return"] == max(returns.values())
    target = summary["medium_target_return"]
    closest = min((r for s, r in returns.items() if s <= summary["expert_step"]),
                  key=lambda r: abs(r - target))
    assert summary["medium_return"] == closest
    for name in ("random", "medium", "expert"):
        store = stores[name]
        assert store.num_steps >= budget.dataset_steps
        assert store.episode_lengths.max() <= budget.max_episode_steps
        ends = store.episode_starts[1:] - 1
        assert np.all(store.terminated[ends] | store.truncated[ends])  # every episode ends
        assert not (store.terminated | store.truncated)[np.setdiff1d(
            np.arange(store.num_steps), ends)].any()  # and only at its end
        prov = store.metadata["provenance"]
        assert prov["dataset"] == name and prov["steps"] == store.num_steps
        assert prov["expert_return"] == summary["expert_return"]
    me = stores["medium-expert"]
    assert me.num_episodes == stores["medium"].num_episodes + stores["expert"].num_episodes
    np.testing.assert_array_equal(me.observations[: stores["medium"].num_steps],
                                  stores["medium"].observations)
    replay = stores["medium-replay"]
    assert replay.num_steps <= summary["medium_step"]  # the buffer up to the medium snapshot
    actions = stores["random"].actions
    assert actions.min() >= -1 and actions.max() <= 1 and actions.std() > 0.3


def test_generation_is_deterministic_and_cached(made, tmp_path, monkeypatch):
    summary, stores = made
    again, stores2 = _make(tmp_path, monkeypatch, "b")
    assert again["snapshot_returns"] == summary["snapshot_returns"]
    for name in gen.DATASETS:
        np.testing.assert_array_equal(stores[name].observations, stores2[name].observations)
        np.testing.assert_array_equal(stores[name].actions, stores2[name].actions)
    stamp = minari_io.dataset_dir(local_dataset_id("hopper", "expert")) / "dtbench.json"
    before = stamp.stat().st_mtime_ns
    gen.generate("hopper", "Hopper-v5", "smoke", seed=0, work_dir=tmp_path / "b")  # cached
    assert stamp.stat().st_mtime_ns == before


def test_interrupted_generation_resumes_from_its_checkpoint(tmp_path, monkeypatch):
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "minari"))
    full = gen.BUDGETS["smoke"]
    monkeypatch.setitem(gen.BUDGETS, "smoke", dataclasses.replace(full, sac_steps=100))
    work = tmp_path / "work" / "hopper-smoke-seed0"  # where generate() keeps its checkpoints
    gen._train_sac(lambda: gymnasium.make("Hopper-v5", max_episode_steps=40),
                   gen.BUDGETS["smoke"], 0, work, "hopper")  # "killed" after its first chunk
    first = json.loads((work / "state.json").read_text())
    assert first["step"] == 100
    monkeypatch.setitem(gen.BUDGETS, "smoke", full)
    summary = gen.generate("hopper", "Hopper-v5", "smoke", seed=0, work_dir=tmp_path / "work")
    state = json.loads((work / "state.json").read_text())
    assert state["step"] == 300 and state["snapshots"]["100"] == first["snapshots"]["100"]
    assert state["replay_counts"]["300"] > state["replay_counts"]["100"]
    assert summary["snapshot_returns"]["100"] == first["snapshots"]["100"]["return"]


def test_expert_is_the_best_snapshot_and_medium_comes_no_later():
    # a short run is not converged: its best policy may come before its last
    scores = {100: 50.0, 200: 600.0, 300: 300.0, 400: 190.0}
    assert gen.pick_snapshots(scores, 1 / 3) == (200, 100)  # 400 is closer to 200 but later
    assert gen.pick_snapshots({100: 10.0, 200: 30.0, 300: 30.0}, 1 / 3) == (300, 100)


def test_a_dataset_id_names_one_generation(made, tmp_path, monkeypatch):
    """A missing dataset is remade from the same generation beside the present ones (which are
    left as they are); one from another generation is refused, with the command that remakes
    them together."""
    summary, stores = made
    _make(tmp_path, monkeypatch, "c")
    kept = minari_io.dataset_dir(local_dataset_id("hopper", "expert")) / "dtbench.json"
    before = kept.stat().st_mtime_ns
    shutil.rmtree(minari_io.dataset_dir(local_dataset_id("hopper", "medium-replay")))
    again = gen.generate("hopper", "Hopper-v5", "smoke", seed=0, work_dir=tmp_path / "c")
    assert kept.stat().st_mtime_ns == before and again["wall_seconds"] > 0
    np.testing.assert_array_equal(
        minari_io.load_store(local_dataset_id("hopper", "medium-replay")).observations,
        stores["medium-replay"].observations)
    shutil.rmtree(minari_io.dataset_dir(local_dataset_id("hopper", "medium-replay")))
    with pytest.raises(DTBenchError, match=r"comes from another generation.*--budget smoke "
                                           r"--force"):
        gen.generate("hopper", "Hopper-v5", "smoke", seed=1, work_dir=tmp_path / "c")


def test_data_info_shows_the_generation_and_its_wall_time(tmp_path, monkeypatch, capfd):
    from typer.testing import CliRunner

    from dtbench.cli import app

    summary, _ = _make(tmp_path, monkeypatch, "d")
    # each snapshot's score printed as it came: the progress of hours, and the score
    # `suite.data_to_match` names for a check against the reference's generation
    printed = [line for line in capfd.readouterr().err.splitlines() if "SAC step" in line]
    assert printed == [f"hopper (smoke budget): SAC step {step:,} of 300: snapshot scored "
                       f"{summary['snapshot_returns'][str(step)]:,.1f} ({m} min of SAC)"
                       for step, m in zip((100, 200, 300), ("0", "0", "0"), strict=True)]
    out = CliRunner().invoke(app, ["data", "info", "mujoco/hopper", "-d", "expert"])
    assert out.exit_code == 0, out.output
    line = next(x for x in out.output.splitlines() if x.startswith("generation: SAC for "))
    assert f"expert {summary['expert_return']:,.0f} at step {summary['expert_step']:,}" in line
    assert f"{summary['wall_seconds'] / 3600:.2f} h wall" in line
    # every snapshot's score, to set a regenerated dataset's generation beside the reference's
    assert "snapshot scores: " + ", ".join(
        f"{step / 1000:g}k {summary['snapshot_returns'][str(step)]:,.0f}"
        for step in (100, 200, 300)) in out.output.splitlines()
    # the digest runs record, to check a regenerated dataset against a reference's
    ds = registry.get_dataset(registry.resolve("mujoco/hopper")[1], "expert")
    digest = data_identity(ds.minari_id, ds.data_files())["digest"]
    assert f"data digest: {digest}" in out.output.splitlines()
    # no name: every dataset of the task on this machine, the generated ones here
    every = CliRunner().invoke(app, ["data", "info", "mujoco/hopper"])
    assert every.exit_code == 0, every.output
    shown = {line.split(":")[0] for line in every.output.splitlines()
             if line.startswith("dtbench/mujoco/hopper/")}
    assert shown == {local_dataset_id("hopper", d) for d in gen.DATASETS}


def test_data_info_with_no_data_here_says_how_to_get_it(tmp_path):
    env = {**os.environ, "MINARI_DATASETS_PATH": str(tmp_path / "empty")}
    out = subprocess.run([sys.executable, "-m", "dtbench", "data", "info", "mujoco/walker2d"],
                         capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 2 and out.stderr.count("\n") == 1, out.stderr
    assert "no dataset of mujoco/walker2d is on this machine; make one with `dtbench data " \
           "make mujoco/walker2d`" in out.stderr


def test_a_bench_generation_says_whether_its_expert_reached_the_budgets_floor():
    from dtbench.domains.mujoco.provenance import describe

    made = {"budget": "bench", "task": "hopper", "sac_steps": 300_000, "seed": 0,
            "expert_return": 1_999.0, "expert_step": 290_000, "medium_return": 700.0,
            "medium_step": 90_000, "wall_seconds": 7_200.0, "sac_seconds": 7_000.0}
    assert "expert 1,999 at step 290,000 (the budget's floor 2,000: NOT met)," in describe(made)
    assert "(the budget's floor 2,000: met)" in describe({**made, "expert_return": 2_000.0})
    assert "floor" not in describe({**made, "budget": "quick"})


def test_generation_trains_on_one_torch_thread_and_restores_the_count(monkeypatch):
    import torch

    seen, before = [], torch.get_num_threads()
    monkeypatch.setattr(gen, "_generate", lambda *a: seen.append(torch.get_num_threads()))
    torch.set_num_threads(2)
    try:
        gen.generate("hopper", "Hopper-v5", "smoke")
        assert seen == [1] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
