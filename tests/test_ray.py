"""The Ray launcher on a real local cluster (a head and one more worker node on this machine):
a smoke grid runs to the end although one task's worker is killed mid-run, every run finishes
exactly once, results have the local launcher's schema, and a second call submits nothing."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from dtbench.domains.keydoor import make_dataset
from dtbench.launchers import RayOptions
from dtbench.runs import RESULT, run
from dtbench.suite import Choice, expand, run_suite

ray = pytest.importorskip("ray")
from ray.cluster_utils import Cluster  # noqa: E402


def _task_pids() -> list[int]:
    """Worker processes running a dtbench run task (Ray names them ray::<function>). Read from
    /proc/<pid>/comm: reading cmdline takes each process's memory lock and slows it down."""
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if (proc / "comm").read_text().strip() == "ray::_run_task":
                    pids.append(int(proc.name))
            except OSError:
                continue
    return pids


@pytest.fixture
def cluster():
    nodes = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    nodes.add_node(num_cpus=1)
    nodes.wait_for_nodes()
    yield nodes
    ray.shutdown()
    nodes.shutdown()


@pytest.mark.usefixtures("isolated_minari")
@pytest.mark.slow
def test_smoke_grid_survives_a_killed_worker_and_finishes_each_run_once(cluster, tmp_path):
    make_dataset("random-1k")
    # long enough for DT to be killed mid-training, checkpointing every 25 steps
    choice = Choice(overrides={"train.steps": "400", "train.checkpoint_every": "25"})
    specs = expand("keydoor", "smoke", choice)
    root = tmp_path / "results"
    reported: list = []
    outcome: dict = {}

    def sweep() -> None:
        try:
            outcome["ran"] = run_suite(specs, results_root=root, progress=False,
                                       echo=reported.append, ray=RayOptions(cluster.address))
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assertion below
            outcome["error"] = exc

    thread = threading.Thread(target=sweep)
    thread.start()
    killed = None
    deadline = time.monotonic() + 480  # a loaded machine starts Ray and the runs slowly
    while killed is None and thread.is_alive() and time.monotonic() < deadline:
        training = [s for s in specs if s.algo == "dt"
                    and (s.folder(root) / "checkpoint.pt").exists()
                    and not (s.folder(root) / RESULT).exists()]
        pids = _task_pids() if training else []
        if pids:
            os.kill(pids[0], signal.SIGKILL)
            killed = pids[0]
        time.sleep(0.25)
    thread.join(timeout=600)
    assert "error" not in outcome, outcome.get("error")
    assert killed is not None, "no task was caught mid-training"
    assert outcome["ran"] == len(specs) == 6
    # each run reported once, finished once: one result, metrics without repeated steps
    done_lines = [line for line in reported if line.startswith("[")]
    assert len(done_lines) == len(specs)
    for spec in specs:
        folder = spec.folder(root)
        assert (folder / RESULT).exists()
        if spec.algo == "dt":
            steps = [int(line.split(",")[0]) for line in
                     (folder / "metrics.csv").read_text().splitlines()[1:]]
            assert steps == sorted(set(steps)) and steps[-1] == 400
    # the same schema as the local launcher's result for the same run
    local = run([specs[0]], results_root=tmp_path / "local", progress=False)[0]
    on_ray = json.loads((specs[0].folder(root) / RESULT).read_text())
    assert set(local) == set(on_ray)
    assert set(local["targets"][0]) == set(on_ray["targets"][0])
    # a second call finds everything finished and submits nothing
    assert run_suite(specs, results_root=root, progress=False, echo=reported.append,
                     ray=RayOptions(cluster.address)) == 0
