"""Launchers: where a list of runs executes. `local` runs them `jobs` at a time in worker
processes on this machine, `ray` as tasks on a Ray cluster (`launchers/ray.py`); both attempt
every run, report each as it finishes and raise the first error at the end, and both write to
the same results store, so a suite can move between them and resume."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dtbench.contract import RunSpec
from dtbench.errors import DTBenchError
from dtbench.parallel import map_in_processes
from dtbench.runs import run

OnResult = Callable[[RunSpec, dict[str, Any]], None]


@dataclass(frozen=True)
class RayOptions:
    """Where and how runs go when the launcher is Ray (see `dtbench.launchers.ray`)."""

    address: str | None = None  # "auto", "HOST:PORT" or "ray://HOST:PORT"; None: start locally
    cpus_per_run: float = 1.0  # CPUs each run's task reserves (and its torch threads)
    gpus_per_run: float | None = None  # GPU share per run; None: 1 when the cluster has GPUs


def launch(specs: Sequence[RunSpec], results_root: Path, *, jobs: int = 1,
           device: str = "auto", progress: bool = True, reevaluate: bool = False,
           eval_overrides: Mapping[str, Any] | None = None, ray: RayOptions | None = None,
           on_result: OnResult | None = None,
           echo: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """Run every spec (each once: duplicates are dropped) and return their results in order.

    Locally, one job runs them here in order (with progress bars when `progress`); more run in
    spawned worker processes. With `ray`, each is a Ray task."""
    specs = list(dict.fromkeys(specs))  # a run listed twice must not train twice at once
    if ray is not None:
        if reevaluate or eval_overrides:
            raise DTBenchError("the Ray launcher trains suites; re-evaluate runs locally "
                               "(dtbench eval)")
        from dtbench.launchers.ray import run_on_ray

        return run_on_ray(specs, results_root, device, ray.address, ray.cpus_per_run,
                          ray.gpus_per_run, on_result=on_result, echo=echo)
    one_run = functools.partial(run, eval_overrides=eval_overrides, results_root=results_root,
                                device=device, progress=progress and jobs <= 1,
                                reevaluate=reevaluate)
    return map_in_processes(one_run, specs, jobs, on_result)
