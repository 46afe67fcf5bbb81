"""Bad input, one case each: exit code 2, one line naming the problem and the fix, no
traceback, and no finished run changed. Derived files that fail to read are rebuilt, bad run
folders are reported and skipped, damaged checkpoints restart their run.

Each case runs `dtbench ...` in this process (the CLI's own `main`) against a world holding a
finished DT and CQL run on Key-to-Door; files are damaged in per-test copies.
"""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

from dtbench.cli import main
from dtbench.data import minari_io
from dtbench.domains.keydoor import make_dataset
from dtbench.domains.keydoor.env import ENV_ID, random_walk_episodes

KEYDOOR = "dtbench/keydoor/random-1k-v1"
FINISHED = "runs/keydoor/keydoor/random-1k/dense/{algo}/smoke/seed0"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Key-to-Door data and two finished smoke runs (dt, cql), made once."""
    root = tmp_path_factory.mktemp("world")
    old = os.environ.get("MINARI_DATASETS_PATH")
    os.environ["MINARI_DATASETS_PATH"] = str(root / "minari")
    try:
        make_dataset("random-1k")
        code, _, err = _dtbench("train", "keydoor", "-d", "random-1k", "-a", "dt", "-a", "cql",
                                "-p", "smoke", "--results", str(root / "results"))
        assert code == 0, err
    finally:
        if old is not None:
            os.environ["MINARI_DATASETS_PATH"] = old
    return root


@pytest.fixture
def here(world, tmp_path, monkeypatch):
    """A copy of the world for one test, its Minari folder in use."""
    shutil.copytree(world, tmp_path / "w")
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "w" / "minari"))
    return tmp_path / "w"


def _dtbench(*args: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `dtbench *args`, run here through the CLI's main."""
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    argv, handler = sys.argv, signal.getsignal(signal.SIGTERM)
    sys.argv = ["dtbench", *args]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
                pytest.raises(SystemExit) as exit_:
            main()
    finally:
        sys.argv = argv
        signal.signal(signal.SIGTERM, handler)
    return exit_.value.code, out.getvalue(), err.getvalue()


def _hashes(results: Path) -> dict[str, str]:
    """Every file of the finished runs, by content."""
    return {str(p.relative_to(results)): hashlib.sha256(p.read_bytes()).hexdigest()
            for algo in ("dt", "cql") for p in (results / FINISHED.format(algo=algo)).rglob("*")
            if p.is_file() and p.name != ".lock"}


def _one_line_error(code: int, err: str, message: str) -> None:
    lines = err.strip().splitlines()
    assert code == 2 and "Traceback" not in err, err
    assert len(lines) == 1 and lines[0].startswith("dtbench: error: "), err
    assert message in lines[0], err


SMOKE = ("train", "keydoor", "-d", "random-1k", "-p", "smoke")


@pytest.mark.parametrize("args, message", [
    (("--set", "train.lr=abc"), "setting train.lr=abc: expected a number"),
    (("--set", "train.steps=nan"), "setting train.steps=nan: expected a whole number"),
    (("--set", "train.steps=inf"), "setting train.steps=inf: expected a whole number"),
    (("--set", "train.steps="), "setting train.steps=: expected a whole number"),
    (("--set", "eval.target_returns=a,b"), "setting eval.target_returns=a,b: expected a number"),
    (("--set", "train.batch_size=0"), "setting train.batch_size=0: must be at least 1"),
    (("--set", "train.batch_size=-3"), "setting train.batch_size=-3: must be at least 1"),
    (("--set", "model.context_len=0"), "setting model.context_len=0: must be at least 1"),
    (("--set", "model.n_head=3"), "setting model.n_head=3: must divide model.embed_dim=16"),
    (("--set", "eval.episodes=0"), "setting eval.episodes=0: must be at least 1"),
    (("--set", "baseline.batch_size=0"), "setting baseline.batch_size=0: must be at least 1"),
    (("--set", "train.lr=nan"), "setting train.lr=nan: expected a finite number"),
    (("--set", "train.steps=-5"), "setting train.steps=-5: must be at least 1"),
    (("--set", "train.steps=2.5"), "setting train.steps=2.5: expected a whole number"),
    (("--set", "eval.greedy=ture"), "setting eval.greedy=ture: expected true or false"),
    (("--set", "train.schedule=cosin"), "setting train.schedule=cosin: expected one of"),
    (("--seed", "-1"), "--seed -1: seeds are whole numbers from 0"),
    (("--device", "nosuch"), "unknown device 'nosuch'; use auto, cpu, cuda or cuda:N"),
    (("--jobs", "0"), "--jobs 0: run at least 1 job at a time"),
])
def test_bad_settings_and_options(here, args, message):
    before = _hashes(here / "results")
    code, _, err = _dtbench(*SMOKE, "-s", "1", *args, "--results", str(here / "results"))
    _one_line_error(code, err, message)
    assert _hashes(here / "results") == before
    assert not (here / "results" / FINISHED.format(algo="dt").replace("seed0", "seed1")).exists()


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_is_one_line(here):
    code, _, err = _dtbench(*SMOKE, "-s", "1", "--device", "cuda", "--results",
                            str(here / "results"))
    _one_line_error(code, err, "--device cuda: this machine has no CUDA devices")


def _write_minari(episodes, sidecar=True):
    minari_io.write_dataset(KEYDOOR, episodes, ENV_ID, algorithm_name="test", description="t",
                            provenance={"test": True})
    if not sidecar:
        (minari_io.dataset_dir(KEYDOOR) / minari_io.SIDECAR).unlink()


def _data_file() -> Path:
    return next((minari_io.dataset_dir(KEYDOOR) / "data").glob("*.hdf5"))


def _nan_observations():
    episodes = random_walk_episodes(20, seed=1)
    episodes[3]["observations"] = episodes[3]["observations"].astype(np.float32)
    episodes[3]["observations"][2, 0] = np.nan
    _write_minari(episodes)


def _empty_dataset():
    _write_minari([])


def _truncated_data_file():
    _write_minari(random_walk_episodes(20, seed=1))
    path = _data_file()
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _corrupt_data_file():
    _write_minari(random_walk_episodes(20, seed=1))
    path = _data_file()
    data = bytearray(path.read_bytes())
    data[len(data) // 3: len(data) // 3 + 4096] = os.urandom(4096)
    path.write_bytes(bytes(data))


def _corrupt_sidecar():
    (minari_io.dataset_dir(KEYDOOR) / minari_io.SIDECAR).write_text("{not json")


@pytest.mark.parametrize("algo", ["dt", "cql"])
@pytest.mark.parametrize("damage, message", [
    (_nan_observations, f"dataset {KEYDOOR} has NaN or inf observations at 1 step(s)"),
    (_empty_dataset, f"dataset {KEYDOOR} holds no episodes"),
    (_truncated_data_file, f"dataset {KEYDOOR}: its data file could not be read"),
    (_corrupt_data_file, f"dataset {KEYDOOR}: its data file could not be read"),
    (_corrupt_sidecar, "dtbench.json is corrupt"),
], ids=["nan-observations", "empty", "truncated-file", "corrupt-file", "corrupt-sidecar"])
def test_bad_minari_data_is_one_line_naming_it(here, algo, damage, message):
    before = _hashes(here / "results")
    (minari_io.dataset_dir(KEYDOOR) / minari_io.CACHE).unlink(missing_ok=True)
    damage()
    code, _, err = _dtbench(*SMOKE, "-a", algo, "-s", "1", "--results", str(here / "results"))
    _one_line_error(code, err, message)
    assert _hashes(here / "results") == before


def test_a_truncated_cache_is_rebuilt_not_fatal(here):
    cache = minari_io.dataset_dir(KEYDOOR) / minari_io.CACHE
    assert cache.is_file()  # written by the first load
    cache.write_bytes(cache.read_bytes()[:1000])
    code, _, err = _dtbench(*SMOKE, "-s", "1", "--results", str(here / "results"))
    assert code == 0 and "could not be read (" in err and "rebuilding it" in err, err
    assert np.load(cache)["rewards"].shape == (minari_io.load_store(KEYDOOR).num_steps,)


def _write_d4rl(path: Path, n: int, actions=None, rewards=None) -> None:
    rng = np.random.default_rng(0)
    with h5py.File(path, "w") as f:
        f["observations"] = rng.normal(size=(n, 11)).astype(np.float32)
        f["actions"] = rng.uniform(-1, 1, (n, 3)).astype(np.float32) if actions is None \
            else actions
        f["rewards"] = np.ones(n, np.float32) if rewards is None else rewards
        f["terminals"] = np.zeros(n, bool)
        f["timeouts"] = np.eye(1, n, n - 1, dtype=bool)[0] if n else np.zeros(0, bool)


@pytest.mark.parametrize("algo, content, message", [
    ("dt", {"n": 0}, "hopper_medium-v2.hdf5 holds no steps"),
    ("bc", {"n": 40, "actions": np.full((40, 3), np.nan, np.float32)},
     "has NaN or inf actions at 40 step(s)"),
    ("cql", {"n": 40, "rewards": np.r_[np.ones(39), np.inf].astype(np.float32)},
     "has NaN or inf rewards at 1 step(s), the first at step 39"),
], ids=["empty", "nan-actions", "inf-rewards"])
def test_bad_d4rl_files_are_one_line(here, monkeypatch, algo, content, message):
    monkeypatch.setenv("DTBENCH_D4RL_DIR", str(here / "d4rl"))
    (here / "d4rl").mkdir()
    _write_d4rl(here / "d4rl" / "hopper_medium-v2.hdf5", **content)
    code, _, err = _dtbench("train", "mujoco/hopper", "-d", "d4rl-medium", "-a", algo, "-p",
                            "smoke", "--results", str(here / "results"))
    _one_line_error(code, err, message)


@pytest.mark.parametrize("content", ["", '{"spec": {"domain": "keydoor"', '{"spec": {}}'],
                         ids=["empty", "truncated", "no-keys"])
def test_a_bad_result_json_is_reported_not_fatal(here, content):
    results = here / "results"
    bad = results / FINISHED.format(algo="cql") / "result.json"
    bad.write_text(content)
    code, out, err = _dtbench("report", "keydoor", "-p", "smoke", "--results", str(results))
    assert code == 0 and "Traceback" not in err, err
    unreadable = [line for line in out.splitlines() if line.startswith("unreadable: ")]
    assert len(unreadable) == 1 and str(bad.parent) in unreadable[0]
    row = next(line for line in out.splitlines() if line.startswith("| 1K"))
    assert "(n=1)" in row.split(" | ")[1]  # DT's run is still in its table
    code, out, _ = _dtbench("suite", "keydoor", "-p", "smoke", "-a", "cql", "-a", "dt",
                            "--seed", "0", "--results", str(results))
    assert code == 0 and f"unreadable: {bad.parent}" in out
    assert "2 runs, 1 finished, 0 to run, 1 unreadable (skipped)" in out
    assert bad.read_text() == content  # left for the user to look at
    code, _, err = _dtbench(*SMOKE, "-a", "cql", "--results", str(results))
    _one_line_error(code, err, f"unreadable: {bad.parent}: result.json")


def test_metrics_without_columns_are_reported_and_the_report_goes_on(here):
    results = here / "results"
    metrics = results / FINISHED.format(algo="dt") / "metrics.csv"
    metrics.write_text("nothing,here\n1,2\n")
    code, out, err = _dtbench("report", "-p", "smoke", "--results", str(results))
    assert code == 0 and "Traceback" not in err, err
    assert f"unreadable: {metrics.parent}: metrics.csv: no column step" in out


@pytest.mark.parametrize("algo, checkpoint", [("dt", "checkpoint.pt"),
                                              ("cql", "d3rlpy_checkpoint.pt")])
@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_damaged_checkpoint_restarts_its_run_from_scratch(here, algo, checkpoint, damage):
    """An unfinished run whose checkpoint cannot be read is set aside and retrained: the same
    numbers as a run trained in one go."""
    results = here / "results"
    folder = results / FINISHED.format(algo=algo)
    expected = json.loads((folder / "result.json").read_text())["targets"]
    losses = _losses(folder / "metrics.csv")
    assert losses.size and np.isfinite(losses).all()
    (folder / "result.json").unlink()  # unfinished: it will resume from its checkpoint
    path = folder / checkpoint
    path.write_bytes(os.urandom(300) if damage == "garbage"
                     else path.read_bytes()[: path.stat().st_size // 2])
    code, _, err = _dtbench(*SMOKE, "-a", algo, "--results", str(results))
    assert code == 0 and "Traceback" not in err, err
    assert f"{path} could not be read" in err and "kept as checkpoint" in err.replace(
        "d3rlpy_checkpoint", "checkpoint")
    assert (folder / f"{checkpoint}.bad-1").exists()
    again = json.loads((folder / "result.json").read_text())["targets"]
    assert [t["score_mean"] for t in again] == [t["score_mean"] for t in expected]
    np.testing.assert_array_equal(_losses(folder / "metrics.csv"), losses)  # trained afresh


@pytest.mark.parametrize("algo, checkpoint", [("dt", "checkpoint.pt"),
                                              ("cql", "d3rlpy_checkpoint.pt")])
@pytest.mark.parametrize("damage", ["garbage", "truncated", "missing"])
def test_evaluating_a_run_whose_checkpoint_is_damaged_never_trains(here, algo, checkpoint,
                                                                    damage):
    """`dtbench eval` of a finished run whose checkpoint is damaged or gone: one line saying
    which and how to get one back, exit code 2, and every file of the run as it was."""
    results = here / "results"
    folder = results / FINISHED.format(algo=algo)
    path = folder / checkpoint
    if damage == "missing":
        path.unlink()
    else:
        path.write_bytes(os.urandom(300) if damage == "garbage"
                         else path.read_bytes()[: path.stat().st_size // 2])
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    code, _, err = _dtbench("eval", "keydoor", "-d", "random-1k", "-a", algo, "-p", "smoke",
                            "--results", str(results))
    _one_line_error(code, err, f"cannot evaluate keydoor/keydoor random-1k dense {algo} seed=0 "
                               "again: ")
    assert (f"no {checkpoint}" if damage == "missing" else f"{checkpoint} could not be read") \
        in err and "train it afresh" in err
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("algo, checkpoint", [("dt", "checkpoint.pt"),
                                              ("cql", "d3rlpy_checkpoint.pt")])
def test_evaluating_a_finished_run_again_trains_nothing(here, algo, checkpoint):
    """`dtbench eval` of a finished run with its checkpoint: evaluated again (here on 3
    episodes), its trained state and training log untouched."""
    folder = here / "results" / FINISHED.format(algo=algo)
    kept = {name: (folder / name).read_bytes() for name in (checkpoint, "metrics.csv")}
    code, out, err = _dtbench("eval", "keydoor", "-d", "random-1k", "-a", algo, "-p", "smoke",
                              "--set", "eval.episodes=3", "--results", str(here / "results"))
    assert code == 0, err
    assert {name: (folder / name).read_bytes() for name in kept} == kept
    result = json.loads((folder / "result.json").read_text())
    assert [t["episodes"] for t in result["targets"]] == [3] * len(result["targets"])


def _losses(metrics: Path) -> np.ndarray:
    """The loss columns of a metrics.csv (timings left out)."""
    import pandas as pd

    frame = pd.read_csv(metrics)
    return frame[[c for c in frame if "loss" in c]].to_numpy()


def test_results_that_is_a_file_is_one_line(here):
    (here / "file").write_text("x")
    code, _, err = _dtbench(*SMOKE, "--results", str(here / "file"))
    _one_line_error(code, err, "is a file; give a folder")


def test_a_read_only_results_folder_is_one_line(here):
    results = here / "results"
    before = _hashes(results)
    if os.geteuid() == 0:  # permission bits do not stop root: mount it read-only
        ro = here / "ro"
        ro.mkdir()
        mounted = subprocess.run(["mount", "--bind", "-o", "ro", str(results), str(ro)],
                                 capture_output=True).returncode == 0
        if not mounted:
            pytest.skip("cannot make a read-only folder here")
        target = ro
    else:
        results.chmod(0o555)
        target = results
    try:
        code, _, err = _dtbench(*SMOKE, "-s", "1", "--results", str(target))
        _one_line_error(code, err, f"--results {target} is not writable")
        code, _, err = _dtbench("report", "-p", "smoke", "--results", str(target))
        _one_line_error(code, err, "is not writable")
    finally:
        if os.geteuid() == 0:
            subprocess.run(["umount", str(target)], check=True)
        else:
            results.chmod(0o755)
    assert _hashes(results) == before


def test_a_missing_atari_rom_is_one_line(here, monkeypatch):
    (here / "roms").mkdir()
    monkeypatch.setenv("ALE_ROMS_DIR", str(here / "roms"))
    code, _, err = _dtbench("data", "make", "atari/pong", "--budget", "smoke")
    _one_line_error(code, err, "the Pong ROM is missing")
    assert "unset ALE_ROMS_DIR" in err


def test_evaluating_a_never_trained_baseline_is_one_line(here):
    code, _, err = _dtbench("eval", "keydoor", "-d", "random-1k", "-a", "cql", "-s", "3", "-p",
                            "smoke", "--results", str(here / "results"))
    _one_line_error(code, err, "no trained run in")
    assert not (here / "results" / FINISHED.format(algo="cql").replace("seed0", "seed3")
                / "result.json").exists()


def test_an_unreachable_ray_cluster_is_one_line_within_seconds(here):
    import socket
    import time

    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.monotonic()
    code, _, err = _dtbench("suite", "keydoor", "-p", "smoke", "--launcher", "ray", "--address",
                            f"127.0.0.1:{port}", "--results", str(here / "results"))
    _one_line_error(code, err, f"the Ray cluster at 127.0.0.1:{port} is unreachable")
    assert time.monotonic() - start < 15


def test_promote_copies_current_runs_and_keeps_what_it_replaces(here):
    """`dtbench promote` copies finished runs (no checkpoints, locks or TensorBoard logs) into
    the reference and writes its runs.csv; a reference run it replaces is kept under stale/,
    and --set-aside-stale moves the reference's runs by other code there too."""
    ws, ref = here / "results", here / "ref"
    dt = ws / FINISHED.format(algo="dt")
    assert (dt / "checkpoint.pt").exists() and (dt / "tensorboard").exists()
    (dt / ".lock").touch()
    code, out, err = _dtbench("promote", "keydoor", "--results", str(ws), "--reference", str(ref))
    assert code == 0 and "promoted 2 keydoor runs" in out and "replace" not in out, err
    for algo in ("dt", "cql"):
        copied = ref / FINISHED.format(algo=algo)
        assert (copied / "result.json").read_bytes() == \
            (ws / FINISHED.format(algo=algo) / "result.json").read_bytes()
        assert {p.name for p in copied.iterdir()} & {"checkpoint.pt", ".lock", "tensorboard"} \
            == set()
    old = ref / FINISHED.format(algo="dt").replace("seed0", "seed7")  # by other code
    shutil.copytree(ref / FINISHED.format(algo="dt"), old)
    result = json.loads((old / "result.json").read_text())
    result["spec"]["seed"], result["code_fingerprint"] = 7, "0" * 16
    (old / "result.json").write_text(json.dumps(result))
    rerun = ws / FINISHED.format(algo="dt") / "result.json"  # as if DT's run were made again
    rerun.write_text(json.dumps({**json.loads(rerun.read_text()), "finished_at": "later"}))
    (ws / FINISHED.format(algo="cql") / "critic.csv").write_text("x\n")  # a file added later
    code, out, err = _dtbench("promote", "keydoor", "--set-aside-stale", "--results", str(ws),
                              "--reference", str(ref))
    assert code == 0 and "promoted 2 keydoor runs" in out and "already there" not in out, err
    assert "the 2 they replace kept under" in out
    assert (ref / FINISHED.format(algo="dt") / "result.json").read_bytes() == rerun.read_bytes()
    assert (ref / FINISHED.format(algo="cql") / "critic.csv").exists()
    assert "1 other keydoor runs made by other code set aside" in out
    assert not old.exists() and len(list((ref / "stale").rglob("seed7"))) == 1
    assert not old.parent.exists() or any(old.parent.iterdir())  # no empty folders left
    assert len(list((ref / "stale").rglob("result.json"))) == 3  # the replaced two, seed 7
    assert sorted(set(pd.read_csv(ref / "runs.csv")["seed"])) == [0]
    code, out, err = _dtbench("promote", "keydoor", "--results", str(ws), "--reference", str(ref))
    assert code == 0 and "promoted 0 keydoor runs" in out and "2 already there" in out, err


@pytest.mark.parametrize("damage, message", [
    ("code", "stale: code changed"),
    ("unreadable", "cannot be read"),
    ("moved", "is the run of"),
    ("none", "no finished graph runs under"),
    ("same", "overlap: promote the runs of a workspace"),
    ("inside", "overlap: promote the runs of a workspace"),
    ("domain", "unknown domain 'nosuch'"),
])
def test_promote_refuses_what_the_reference_must_not_hold(here, damage, message):
    ws, ref = here / "results", here / "ref"
    domain = {"none": "graph", "domain": "nosuch"}.get(damage, "keydoor")
    cql = ws / FINISHED.format(algo="cql")
    if damage == "code":  # a run made by other code than this checkout's
        result = json.loads((cql / "result.json").read_text())
        (cql / "result.json").write_text(json.dumps({**result, "code_fingerprint": "0" * 16}))
    elif damage == "unreadable":
        (cql / "result.json").write_text("{not json")
    elif damage == "moved":  # a run folder copied by hand to another run's place
        shutil.copytree(cql, cql.parent / "seed3")
    before = _hashes(ws)
    reference = {"same": ws, "inside": ws / "ref"}.get(damage, ref)
    code, _, err = _dtbench("promote", domain, "--results", str(ws), "--reference",
                            str(reference))
    _one_line_error(code, err, message)
    assert _hashes(ws) == before and not (ws / "ref").exists() and not (ref / "runs").exists()
