"""Every run records the identity of its data (file names, sizes, sha256, one digest); a
finished run whose data has changed since is stale: listed, not counted as finished, and run
again with --rerun-stale, its old folder kept."""

import dataclasses
import hashlib
import json

import pandas as pd
import pytest

from dtbench import api, registry
from dtbench.contract import RunSpec
from dtbench.data.identity import MANIFEST, data_identity, file_identity, sha256
from dtbench.errors import DTBenchError
from dtbench.registry import Grid
from dtbench.suite import Choice, mixed_data
from tests.test_d4rl_io import _write_d4rl

SPEC = RunSpec("mujoco", "hopper", "d4rl-medium", "dt", 0, "smoke")


@pytest.fixture
def d4rl_file(tmp_path, monkeypatch):
    monkeypatch.setenv("DTBENCH_D4RL_DIR", str(tmp_path / "d4rl"))
    (tmp_path / "d4rl").mkdir()
    return _write_d4rl(tmp_path / "d4rl" / "hopper_medium-v2.hdf5", [30, 20, 25],
                       ["terminal", "timeout", "terminal"])


def test_a_run_records_its_datas_identity_and_a_changed_file_makes_it_stale(
        tmp_path, d4rl_file, capsys):
    results = tmp_path / "results"
    api.train("mujoco/hopper", ["d4rl-medium"], profile="smoke", results_root=results,
              echo=lambda line: None)
    folder = SPEC.folder(results)
    config = json.loads((folder / "config.json").read_text())
    identity = config["dataset"]["identity"]
    assert identity["files"] == [{"path": str(d4rl_file), "size": d4rl_file.stat().st_size,
                                  "sha256": hashlib.sha256(d4rl_file.read_bytes()).hexdigest()}]
    result = json.loads((folder / "result.json").read_text())
    assert result["data_digest"] == identity["digest"]
    table = pd.read_csv(results / "runs.csv")
    assert set(table["data_digest"]) == {identity["digest"]}

    # the same file again: nothing is stale, the finished run is returned as stored
    assert api.stale_runs([SPEC], results) == {}
    # another file under the same name
    _write_d4rl(d4rl_file, [30, 20, 25], ["terminal", "timeout", "terminal"], offset=5.0)
    lines = api.stale_runs([SPEC], results)
    assert list(lines) == [SPEC] and lines[SPEC].startswith(
        "stale: data changed: mujoco/hopper d4rl-medium dense dt seed=0")
    said = []
    with pytest.raises(DTBenchError, match="pass --rerun-stale"):
        api.train("mujoco/hopper", ["d4rl-medium"], profile="smoke", results_root=results,
                  echo=said.append)
    assert said[0].startswith("stale: data changed")
    assert json.loads((folder / "result.json").read_text()) == result  # untouched

    # a suite lists it and skips it, then --rerun-stale runs it again, keeping the old folder
    choice = Choice(tasks=("hopper",), datasets=("d4rl-medium",), algos=("dt",), seeds=(0,))
    domain = registry.get_domain("mujoco")
    original = dict(domain.grids)
    domain.grids["smoke"] = Grid(("hopper",), ("d4rl-medium",), ("dt",))
    try:
        said = []
        assert api.suite(["mujoco"], "smoke", choice, results, echo=said.append) == 0
        assert any(line.startswith("stale: data changed") for line in said)
        assert "1 stale (skipped; --rerun-stale runs them)" in "\n".join(said)
        # a seed still to train on the changed data beside the skipped one: refused, none run
        # (and --dry-run's plan says so)
        two_seeds = Choice(tasks=("hopper",), datasets=("d4rl-medium",), algos=("dt",),
                           seeds=(0, 1))
        assert "mujoco/hopper d4rl-medium" in str(
            mixed_data(api.plan(["mujoco"], "smoke", two_seeds, results)))
        with pytest.raises(DTBenchError, match="two generations of the data.*nothing was run"):
            api.suite(["mujoco"], "smoke", two_seeds, results, echo=said.append)
        assert not dataclasses.replace(SPEC, seed=1).folder(results).exists()
        assert api.suite(["mujoco"], "smoke", choice, results, rerun_stale=True,
                         echo=said.append) == 1
    finally:
        domain.grids.clear()
        domain.grids.update(original)
    kept = list((results / "stale").glob("*/runs/mujoco/hopper/d4rl-medium/dense/dt/smoke/seed0"))
    assert len(kept) == 1 and json.loads((kept[0] / "result.json").read_text()) == result
    rerun = json.loads((folder / "result.json").read_text())
    assert rerun["data_digest"] != result["data_digest"]
    assert rerun["data_digest"] == data_identity("d4rl/hopper/medium-v2", [d4rl_file])["digest"]
    assert api.stale_runs([SPEC], results) == {}
    # the kept folder is out of every table (one row per target of the one run)
    assert set(pd.read_csv(results / "runs.csv")["data_digest"]) == {rerun["data_digest"]}


def test_checksums_follow_the_file_and_a_download_manifest_is_checked(tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(b"one")
    assert sha256(path) == hashlib.sha256(b"one").hexdigest()
    path.write_bytes(b"two!")  # another version (size and mtime change): hashed again
    assert sha256(path) == hashlib.sha256(b"two!").hexdigest()
    (tmp_path / MANIFEST).write_text(json.dumps(
        {"data.bin": {"size": 4, "sha256": hashlib.sha256(b"two!").hexdigest()}}))
    assert file_identity(path)["sha256"] == hashlib.sha256(b"two!").hexdigest()
    path.write_bytes(b"six!")  # same size, other bytes than were downloaded
    with pytest.raises(DTBenchError, match=r"data.bin is not the file that was downloaded .*"
                                           r"download it again"):
        file_identity(path)
    # the digest depends on names and contents, not on the folder
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "data.bin").write_bytes(b"six!")
    (tmp_path / MANIFEST).unlink()
    assert data_identity("x", [path])["digest"] == data_identity("x", [other / "data.bin"])[
        "digest"] != data_identity("y", [path])["digest"]


def test_a_suite_says_which_data_its_finished_runs_need_before_making_it(tmp_path):
    """Made data that finished runs were trained on is named with their digest before it is
    made again (hours for MuJoCo's bench data), since new runs train beside them only if it
    comes out the same."""
    import os
    import shutil

    results = tmp_path / "results"
    one = Choice(datasets=("random-1k",), algos=("random",), seeds=(0,))
    assert api.suite(["keydoor"], "smoke", one, results, echo=lambda line: None) == 1
    digest = json.loads((next(results.rglob("result.json"))).read_text())["data_digest"]
    shutil.rmtree(os.environ["MINARI_DATASETS_PATH"])  # a fresh machine: the data is gone
    from typer.testing import CliRunner

    from dtbench.cli import app

    dry = CliRunner().invoke(app, ["suite", "keydoor", "-p", "smoke", "-d", "random-1k", "-a",
                                   "random", "-s", "0", "-s", "1", "--results", str(results),
                                   "--dry-run"])
    assert dry.exit_code == 0, dry.output  # a dry run says it too, and makes nothing
    assert f"data: keydoor/keydoor random-1k is made here beside finished runs trained on " \
           f"data {digest}" in dry.output
    assert not os.path.exists(os.environ["MINARI_DATASETS_PATH"])
    said = []
    two = Choice(datasets=("random-1k",), algos=("random",), seeds=(0, 1))
    assert api.suite(["keydoor"], "smoke", two, results, echo=said.append) == 1
    heads_up = [line for line in said if line.startswith("data: keydoor/keydoor random-1k is")]
    assert len(heads_up) == 1 and digest in heads_up[0]
    assert "SAC snapshot" not in heads_up[0]  # Key-to-Door's data has no snapshots on the way
    # made again on the same machine: the same digest, so the second seed trained beside it
    assert said.index(heads_up[0]) < next(i for i, line in enumerate(said)
                                          if line.startswith("making missing data"))


def test_the_heads_up_names_the_first_score_their_generation_printed_on_the_way(tmp_path):
    """MuJoCo's generation prints each SAC snapshot's score as it goes (about 5 minutes to the
    first of the bench budget's); the suite names the one the finished runs' data recorded, so
    a run on another kind of CPU is stopped there instead of after its hours."""
    from dtbench.suite import _first_snapshot

    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"dataset": {"provenance": {
        "snapshot_returns": {"20000": 320.9, "10000": 168.28150294311496}}}}))
    said = _first_snapshot(run)
    assert "their generation's first SAC snapshot scored 168.3 at step 10,000" in said
    (run / "config.json").write_text(json.dumps({"dataset": {"provenance": {}}}))
    assert _first_snapshot(run) == ""
    assert _first_snapshot(tmp_path / "missing") == ""
