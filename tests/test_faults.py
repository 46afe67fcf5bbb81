"""Faults around a suite: its parent killed or stopped (no worker outlives it, prompt exit codes),
two suites on one results folder (each run trained once), and kills between the steps of the
writes that are read back (the next run reads a consistent state)."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dtbench.contract import RunSpec
from dtbench.domains.keydoor import make_dataset
from dtbench.runs import run

# long enough that the runs are mid-training when the signal comes
LONG = ("--set", "train.steps=3000", "--set", "baseline.steps=3000")
SHORT = ("--set", "train.steps=300", "--set", "baseline.steps=300")


def _suite(results: Path, *extra: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "dtbench", "suite", "keydoor", "-p", "smoke", "--results",
           str(results), *extra]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _children(pid: int) -> list[int]:
    """Every process below `pid` (workers and multiprocessing's helpers)."""
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    kids = [int(k) for k in out.split()]
    return kids + [g for k in kids for g in _children(k)]


def _alive(pids: list[int]) -> list[int]:
    alive = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split()[2]
        except OSError:
            continue
        if state != "Z":  # a zombie is gone, only not yet reaped
            alive.append(pid)
    return alive


def _wait_for_workers(proc: subprocess.Popen, n: int, timeout: float = 60) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        kids = _children(proc.pid)
        if len(kids) >= n:
            time.sleep(3)  # let them start training
            return _children(proc.pid)
        time.sleep(0.2)
    raise AssertionError("the suite started no workers")


@pytest.fixture
def keydoor_data(isolated_minari):
    make_dataset("random-1k")


@pytest.mark.slow
@pytest.mark.parametrize("sig, code, word", [(signal.SIGKILL, -9, None),
                                             (signal.SIGTERM, 143, "terminated"),
                                             (signal.SIGINT, 130, "interrupted")])
def test_a_stopped_suite_leaves_no_process_and_says_so(keydoor_data, tmp_path, sig, code,
                                                        word):
    suite = _suite(tmp_path, "--jobs", "2", *LONG)
    workers = _wait_for_workers(suite, 2)
    sent = time.monotonic()
    suite.send_signal(sig)
    out, err = suite.communicate(timeout=30)
    assert suite.returncode == code and time.monotonic() - sent < 10, err
    deadline = time.monotonic() + 10
    while _alive(workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _alive(workers) == [], "workers outlived their parent"
    if word is not None:
        assert "Traceback" not in err
        assert err.strip().splitlines()[-1] == (
            f"dtbench: {word}; finished runs are kept and unfinished ones resume from their "
            "last checkpoint")


@pytest.mark.slow
def test_two_suites_at_once_train_each_run_once(keydoor_data, tmp_path):
    both, lone = tmp_path / "both", tmp_path / "lone"
    first, second = _suite(both, *SHORT), _suite(both, *SHORT)
    outs = [p.communicate(timeout=300) for p in (first, second)]
    assert first.returncode == 0 and second.returncode == 0, outs
    assert any("running elsewhere: " in out for out, _ in outs)  # one waited for the other
    assert _suite(lone, *SHORT).wait(timeout=300) == 0
    folders = sorted(p.parent for p in lone.glob("runs/**/result.json"))
    assert len(folders) == 6 and sum((f / "metrics.csv").exists() for f in folders) == 4
    for folder in folders:
        mirror = both / folder.relative_to(lone)
        if (folder / "metrics.csv").exists():  # every method but random logs its training
            a, b = pd.read_csv(folder / "metrics.csv"), pd.read_csv(mirror / "metrics.csv")
            assert b["step"].is_unique  # trained once: every row once
            losses = [c for c in a if "loss" in c]
            pd.testing.assert_frame_equal(a[["step", *losses]], b[["step", *losses]])
        pd.testing.assert_frame_equal(pd.read_csv(folder / "eval.csv"),
                                      pd.read_csv(mirror / "eval.csv"))


def _dt_spec(**overrides) -> RunSpec:
    return RunSpec("keydoor", "keydoor", "random-1k", "dt", 0, "smoke",
                   overrides=tuple({"train.steps": 8, "train.checkpoint_every": 4,
                                    **overrides}.items()))


def test_a_kill_during_the_metrics_trim_or_an_append_leaves_a_readable_log(keydoor_data,
                                                                           tmp_path):
    """The resumed run's metrics equal an uninterrupted run's, whether the kill came between a
    checkpoint and later log rows, inside an append (a torn last line), or inside the trim
    (the old file is still whole: the trim writes a new one and renames it)."""
    whole = tmp_path / "whole"
    run([_dt_spec()], results_root=whole, progress=False)
    expected = pd.read_csv(_dt_spec().folder(whole) / "metrics.csv")
    cut = tmp_path / "cut"
    run([_dt_spec(**{"train.steps": 4})], results_root=cut, progress=False)  # checkpoint at 4
    source = _dt_spec(**{"train.steps": 4}).folder(cut)
    folder = _dt_spec().folder(cut)
    folder.mkdir(parents=True)
    (folder / "checkpoint.pt").write_bytes((source / "checkpoint.pt").read_bytes())
    rows = (source / "metrics.csv").read_text()
    # rows 5 and 6 logged after the checkpoint, then a kill in the middle of writing row 7
    (folder / "metrics.csv").write_text(rows + "5,1.0,0.1,0.1,0.1,0.1\n6,1.0,0.1,0.1,0.1,0.1\n7,1.")
    damaged = (folder / "metrics.csv").read_text()
    # a kill at the trim's last step (the rename of the trimmed file over the old one)
    real_replace = Path.replace

    def killed(self, target):
        if Path(target).name == "metrics.csv":
            raise KeyboardInterrupt
        return real_replace(self, target)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Path, "replace", killed)
        with pytest.raises(KeyboardInterrupt):
            run([_dt_spec()], results_root=cut, progress=False)
    assert (folder / "metrics.csv").read_text() == damaged  # the old file, whole
    run([_dt_spec()], results_root=cut, progress=False)
    got = pd.read_csv(folder / "metrics.csv")
    columns = ["step", "loss", "lr", "grad_norm"]
    pd.testing.assert_frame_equal(got[columns], expected[columns])


def test_a_kill_during_the_checkpoint_copy_is_copied_again(keydoor_data, tmp_path, monkeypatch):
    """An evaluation-only run copies the plain run's checkpoint; a kill mid-copy leaves no
    half file where the run would read it, and the next attempt copies it whole."""
    import shutil

    plain = RunSpec("keydoor", "keydoor", "random-1k", "dt", 0, "smoke")
    run([plain], results_root=tmp_path, progress=False)
    sweep = RunSpec("keydoor", "keydoor", "random-1k", "dt", 0, "smoke",
                    overrides=(("eval.target_sweep", 3),))
    real_copy = shutil.copy2

    def killed_half_way(source, target):
        Path(target).write_bytes(Path(source).read_bytes()[:100])
        raise KeyboardInterrupt  # the kill

    monkeypatch.setattr(shutil, "copy2", killed_half_way)
    with pytest.raises(KeyboardInterrupt):
        run([sweep], results_root=tmp_path, progress=False)
    folder = sweep.folder(tmp_path)
    assert not (folder / "checkpoint.pt").exists()
    assert not [p for p in folder.iterdir() if ".tmp" in p.name]
    monkeypatch.setattr(shutil, "copy2", real_copy)
    run([sweep], results_root=tmp_path, progress=False)
    assert (folder / "checkpoint.pt").read_bytes() == \
        (plain.folder(tmp_path) / "checkpoint.pt").read_bytes()
    assert np.isfinite(json.loads((folder / "result.json").read_text())["targets"][0]
                       ["score_mean"])


def test_the_suite_reports_the_runs_own_steps_with_overrides(keydoor_data, tmp_path):
    from dtbench.suite import _Monitor

    spec = _dt_spec(**{"train.steps": 12})
    folder = spec.folder(tmp_path)
    folder.mkdir(parents=True)
    (folder / "metrics.csv").write_text("step,loss\n5,1.0\n")
    line = _Monitor([spec], tmp_path, 60, print).status(spec)
    assert line is not None and line.endswith("step 5/12")

