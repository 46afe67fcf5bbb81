"""Run a suite's runs as Ray tasks: the same command on a laptop or a cluster (`dtbench suite
... --launcher ray --address auto|HOST:PORT`).

Each run is one task that calls `dtbench.runs.run`, exactly as a local worker process does,
so results land in the same store and the same rules hold: a finished run (its `result.json`)
is never run again, a run whose worker dies is retried by Ray and resumes from its last
checkpoint, and
a second `suite` call submits only what is missing. Every node must reach the results folder
and the Minari folder at the same paths (a shared filesystem); the driver makes missing data
before it submits anything, so datasets are made once and read by every task.

Ray is optional (`pip install dtbench[ray]`); nothing here imports it until it is used.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from dtbench.contract import RunSpec
from dtbench.errors import DTBenchError
from dtbench.parallel import Outcomes

# environment every task needs: where the data is, and no network for the hub
FORWARDED_ENV = ("MINARI_DATASETS_PATH", "HF_HUB_OFFLINE")


def _ray() -> Any:  # noqa: ANN401 - the ray module
    try:
        import ray
    except ImportError:
        raise DTBenchError("the Ray launcher needs Ray: pip install 'dtbench[ray]'") from None
    return ray


def check_reachable(address: str | None, timeout: float = 5.0) -> None:
    """A HOST:PORT or ray://HOST:PORT address answers within `timeout` seconds: an unreachable
    cluster is one line in seconds, not minutes of Ray retrying."""
    if address is None or address == "auto" or address.startswith("local"):
        return
    client = address.startswith("ray://")
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        host, port = address.removeprefix("ray://"), "10001" if client else "6379"
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise DTBenchError(f"the Ray cluster at {address} is unreachable ({exc.strerror or exc}); "
                           "check the address (ray status on the head node) or leave out "
                           "--address to start one here") from None


def _run_task(spec: RunSpec, results_root: str, device: str, threads: int) -> dict[str, Any]:
    """Body of one Ray task: the run, as a local worker would do it."""
    import torch

    from dtbench.runs import run
    from dtbench.runs.resumed import keep_earlier_hardware

    torch.set_num_threads(threads)
    keep_earlier_hardware(spec, Path(results_root), device)
    return run([spec], results_root=Path(results_root), device=device, progress=False)[0]


def run_on_ray(specs: Sequence[RunSpec], results_root: Path, device: str = "auto",
               address: str | None = None, cpus_per_run: float = 1.0,
               gpus_per_run: float | None = None, max_retries: int = 3,
               on_result: Callable[[RunSpec, dict[str, Any]], None] | None = None,
               echo: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """Submit every run as a task and collect results as they finish (in `specs` order).

    `address`: a running cluster ("auto", "HOST:PORT", "ray://HOST:PORT"); None starts a local
    one. `gpus_per_run`: GPU share of each task (0.25 puts four runs on one GPU); by default
    one GPU when the cluster has any and `device` allows CUDA, else none. A task whose worker
    process or node dies is retried up to `max_retries` times; an error raised by the run
    itself (bad data, NaN loss) is not retried: the other runs go on, then it is raised."""
    ray = _ray()
    env = {key: os.environ[key] for key in FORWARDED_ENV if key in os.environ}
    if not ray.is_initialized():
        check_reachable(address)
        try:
            ray.init(address=address, runtime_env={"env_vars": env}, log_to_driver=False,
                     include_dashboard=False, logging_level="ERROR")
        except ConnectionError as exc:  # e.g. "auto" with no cluster on this machine
            raise DTBenchError(f"no Ray cluster at {address!r} ({exc}); start one with `ray "
                               "start --head` or leave out --address") from None
    resources = ray.cluster_resources()
    if gpus_per_run is None:
        gpus_per_run = 1.0 if device != "cpu" and resources.get("GPU", 0) > 0 else 0.0
    if device == "cuda" and not gpus_per_run:
        raise DTBenchError("--device cuda but the Ray cluster has no GPUs; use --device auto")
    echo(f"ray: {len(specs)} tasks on {resources.get('CPU', 0):g} CPUs, "
         f"{resources.get('GPU', 0):g} GPUs ({cpus_per_run:g} CPU, {gpus_per_run:g} GPU each)")
    task = ray.remote(num_cpus=cpus_per_run, num_gpus=gpus_per_run, max_retries=max_retries,
                      retry_exceptions=False)(_run_task)
    threads = max(1, int(cpus_per_run))
    pending = {task.remote(spec, str(results_root.resolve()), device, threads): i
               for i, spec in enumerate(specs)}
    outcomes = Outcomes(specs, on_result)

    def result(ref: Any, spec: RunSpec) -> dict[str, Any]:  # noqa: ANN401 - a Ray ObjectRef
        try:
            return ray.get(ref)
        except ray.exceptions.RayTaskError as exc:  # the run's own error, e.g. DTBenchError
            raise exc.as_instanceof_cause() from None
        except ray.exceptions.RayError as exc:  # retries used up: the worker kept dying
            raise DTBenchError(f"run {spec.folder(results_root)} failed on Ray: {exc}; rerun "
                               "the suite to resume it") from None

    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        i = pending.pop(ready[0])
        outcomes.record(i, lambda ref=ready[0], spec=specs[i]: result(ref, spec))
    return outcomes.results()
