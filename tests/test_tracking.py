"""Trackers: every run writes TensorBoard event files that TensorBoard's own reader reads back
(DT's training metrics through dtbench, a d3rlpy baseline's through d3rlpy's adapter, both
runs' evaluation scores), and `--tracker wandb` logs the same to W&B, offline here."""

import json
import time

import pytest

from dtbench import api, registry
from dtbench.contract import RunSpec
from dtbench.errors import DTBenchError
from tests.test_d4rl_io import _write_d4rl


@pytest.fixture
def hopper_file(tmp_path, monkeypatch):
    monkeypatch.setenv("DTBENCH_D4RL_DIR", str(tmp_path / "d4rl"))
    (tmp_path / "d4rl").mkdir()
    _write_d4rl(tmp_path / "d4rl" / "hopper_medium-v2.hdf5", [30, 20, 25],
                ["terminal", "timeout", "terminal"])


def _scalars(folder):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(folder))
    events.Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)]
            for tag in events.Tags()["scalars"]}


def test_tensorboard_events_of_dt_and_a_d3rlpy_baseline_read_back(tmp_path, hopper_file):
    results = tmp_path / "results"
    api.train("mujoco/hopper", ["d4rl-medium"], algos=["dt", "bc"], profile="smoke",
              results_root=results, echo=lambda line: None)
    dt = RunSpec("mujoco", "hopper", "d4rl-medium", "dt", 0, "smoke").folder(results)
    scalars = _scalars(dt / "tensorboard")
    assert [step for step, _ in scalars["train/loss"]] == [1, 2, 3]  # log_every 1, 3 steps
    metrics = (dt / "metrics.csv").read_text().splitlines()
    first_loss = float(metrics[1].split(",")[metrics[0].split(",").index("loss")])
    assert scalars["train/loss"][0][1] == pytest.approx(first_loss, rel=1e-5)  # csv: 6 digits
    assert {"train/lr", "train/grad_norm", "train/sample_s", "train/update_s"} <= set(scalars)
    result = json.loads((dt / "result.json").read_text())
    for target in result["targets"]:
        tag = f"eval/target_{target['target_return']:g}/score"
        assert scalars[tag] == [(3, pytest.approx(target["score_mean"], rel=1e-6))]
    bc = RunSpec("mujoco", "hopper", "d4rl-medium", "bc", 0, "smoke").folder(results)
    d3rlpy_scalars = _scalars(bc / "tensorboard" / "runs" / "d3rlpy")  # d3rlpy's own adapter
    assert "metrics/loss" in d3rlpy_scalars
    ours = _scalars(bc / "tensorboard")
    bc_result = json.loads((bc / "result.json").read_text())
    steps = registry.get_domain("mujoco").settings["smoke"].baseline.steps
    assert ours["eval/score"] == [(steps, pytest.approx(bc_result["targets"][0]["score_mean"],
                                                        rel=1e-6))]


def test_wandb_logs_offline_and_an_unknown_tracker_is_one_line(tmp_path, hopper_file,
                                                              monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    results = tmp_path / "results"
    api.train("mujoco/hopper", ["d4rl-medium"], profile="smoke", results_root=results,
              trackers=["wandb"], echo=lambda line: None)
    dt = RunSpec("mujoco", "hopper", "d4rl-medium", "dt", 0, "smoke").folder(results)
    runs = list((dt / "wandb").glob("offline-run-*"))
    assert len(runs) == 1
    # the run's record log (what `wandb sync` uploads) holds the logged keys; W&B's own
    # service process writes it, and on a loaded machine it may finish after finish() returns
    keys = (b"train/loss", b"train/grad_norm", b"eval/target_3600/score",
            b"eval/target_1800/return")
    deadline = time.monotonic() + 60
    while True:
        log = next(runs[0].glob("run-*.wandb")).read_bytes()
        if all(key in log for key in keys) or time.monotonic() > deadline:
            break
        time.sleep(1)
    for key in keys:
        assert key in log
    assert (dt / "tensorboard").is_dir()  # TensorBoard too, always
    with pytest.raises(DTBenchError, match="unknown tracker 'mlflow'; use tensorboard or wandb"):
        api.train("mujoco/hopper", ["d4rl-medium"], profile="smoke", results_root=results,
                  trackers=["mlflow"], echo=lambda line: None)
