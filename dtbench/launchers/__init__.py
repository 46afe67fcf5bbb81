"""Launchers: where a list of runs executes. `local` runs them `jobs` at a time in worker
processes on this machine, `ray` as tasks on a Ray cluster (`launchers/ray.py`); both attempt
every run, report each as it finishes and raise the first error at the end, and both write to
the same results store, so a suite can move between them and resume."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dtbench.contract import RunSpec
from dtbench.errors import DTBenchError, RunLocked
from dtbench.parallel import map_in_processes
from dtbench.registry import get_algo
from dtbench.runs import run
from dtbench.runs.resumed import keep_earlier_hardware

OnResult = Callable[[RunSpec, dict[str, Any]], None]


@dataclass(frozen=True)
class RayOptions:
    """Where and how runs go when the launcher is Ray (see `dtbench.launchers.ray`)."""

    address: str | None = None  # "auto", "HOST:PORT" or "ray://HOST:PORT"; None: start locally
    cpus_per_run: float = 1.0  # CPUs each run's task reserves (and its torch threads)
    gpus_per_run: float | None = None  # GPU share per run; None: 1 when the cluster has GPUs


def launch(specs: Sequence[RunSpec], results_root: Path, *, jobs: int = 1,
           device: str = "auto", progress: bool = True, evaluate: bool = False,
           eval_overrides: Mapping[str, Any] | None = None, ray: RayOptions | None = None,
           on_result: OnResult | None = None, echo: Callable[[str], None] = print,
           trackers: tuple[str, ...] = ("tensorboard",),
           stack_seeds: bool = False) -> list[dict[str, Any]]:
    """Run every spec (each once: duplicates are dropped) and return their results in order.

    With `stack_seeds`, the seeds of a cell whose algorithm trains seeds together go as one
    group (`runs.run` of the group), one group at a time: a group fills the device. Locally,
    one job runs the rest here in order (with progress bars when `progress`); more run in
    spawned worker processes. A run that another process is training (a second suite on the
    same results) is skipped and reported, then waited for once the others are done: it is
    taken over if that process dies, returned as stored if it finishes. With `ray`, each is a
    Ray task."""
    specs = list(dict.fromkeys(specs))  # a run listed twice must not train twice at once
    groups, singles = seed_groups(specs) if stack_seeds and not evaluate and ray is None \
        else ([], specs)
    options = {"eval_overrides": eval_overrides, "results_root": results_root, "device": device,
               "progress": progress and jobs <= 1, "evaluate": evaluate,
               "trackers": trackers}
    done: dict[RunSpec, dict[str, Any]] = {}
    for group in groups:
        for spec in group:
            keep_earlier_hardware(spec, results_root, device)
        for spec, result in zip(group, run(group, **options), strict=True):
            done[spec] = result
            if on_result is not None:
                on_result(spec, result)
    if ray is not None:
        if evaluate or eval_overrides:
            raise DTBenchError("the Ray launcher trains suites; re-evaluate runs locally "
                               "(dtbench eval)")
        from dtbench.launchers.ray import run_on_ray

        if trackers != ("tensorboard",):
            raise DTBenchError("the Ray launcher writes TensorBoard files only; use --tracker "
                               "wandb with the local launcher")
        return run_on_ray(specs, results_root, device, ray.address, ray.cpus_per_run,
                          ray.gpus_per_run, on_result=on_result, echo=echo)
    locked: list[RunSpec] = []

    def first_pass(spec: RunSpec, result: dict[str, Any] | str) -> None:
        if result == LOCKED:
            locked.append(spec)
            echo(f"running elsewhere: {spec.describe()}; waiting for it after the others")
        elif on_result is not None:
            on_result(spec, result)

    done.update(zip(singles, map_in_processes(functools.partial(_run_unless_locked, **options),
                                              singles, jobs, first_pass), strict=True))
    if locked:  # wait for each (its lock); a finished one comes back as stored
        later = map_in_processes(functools.partial(_run_one, **options), locked, jobs,
                                 on_result)
        done.update(zip(locked, later, strict=True))
    return [done[spec] for spec in specs]


def seed_groups(specs: Sequence[RunSpec]) -> tuple[list[list[RunSpec]], list[RunSpec]]:
    """Runs that differ only in their seeds, grouped when their algorithm trains seeds
    together (`Algo.train_group`) and there are at least two; the rest one by one."""
    cells: dict[RunSpec, list[RunSpec]] = {}
    for spec in specs:
        cells.setdefault(dataclasses.replace(spec, seed=0), []).append(spec)
    groups, singles = [], []
    for members in cells.values():
        if len(members) > 1 and get_algo(members[0].algo).train_group is not None:
            groups.append(members)
        else:
            singles += members
    return groups, singles


LOCKED = "locked"  # what `_run_unless_locked` returns for a run another process is training


def _run_one(spec: RunSpec, **options: Any) -> dict[str, Any]:
    keep_earlier_hardware(spec, options["results_root"], options["device"])
    return run([spec], **options)[0]


def _run_unless_locked(spec: RunSpec, **options: Any) -> dict[str, Any] | str:
    keep_earlier_hardware(spec, options["results_root"], options["device"])
    try:
        return run([spec], wait=False, **options)[0]
    except RunLocked:
        return LOCKED
