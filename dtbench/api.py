"""The Python API: every workflow the CLI and the make targets offer, as one function each.

    from dtbench import api
    api.train("keydoor", ["random-1k"], algos=["dt", "cql"], seeds=[0, 1], profile="smoke")
    api.suite(["keydoor"], profile="quick", jobs=2)     # data, grid, runs, runs.csv
    api.report(profile="quick")                          # tables, figures, aggregates

The CLI (`dtbench.cli`) only parses arguments and prints; all decisions are made here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dtbench import plugins, registry
from dtbench.config import EVAL_ONLY
from dtbench.contract import RunSpec, canonical
from dtbench.errors import DTBenchError
from dtbench.launchers import RayOptions, launch
from dtbench.parallel import map_in_processes
from dtbench.runs import make_datasets, result_lines, write_table
from dtbench.runtime import DEFAULT_RESULTS_DIR, setup
from dtbench.suite import Choice, expand_all, is_finished, make_missing_data, run_suite

Echo = Callable[[str], None]


def train(task: str, datasets: Sequence[str], algos: Sequence[str] = ("dt",),
          seeds: Sequence[int] = (0,), profile: str = "quick", variant: str = "dense",
          overrides: Mapping[str, Any] | None = None,
          results_root: Path = DEFAULT_RESULTS_DIR, device: str = "auto", jobs: int = 1,
          progress: bool = False, reevaluate: bool = False,
          echo: Echo = print) -> list[dict[str, Any]]:
    """Train and evaluate runs (finished ones are returned as stored, interrupted ones resume).

    `overrides` name other runs (ablations, in their own folders); with `reevaluate` (see
    `evaluate`) they may only change how the trained runs are evaluated. Every run is
    attempted; runs.csv is rewritten at the end whatever happened; the first error is raised."""
    setup()
    plugins.load()
    domain, t = registry.resolve(task)
    for dataset in datasets:
        registry.get_dataset(t, dataset)
    for algo in algos:
        registry.check_fits(domain, registry.get_algo(algo))
    if reevaluate:
        spec_overrides, eval_overrides = (), canonical(overrides)
        if any(key.removeprefix("eval.") not in EVAL_ONLY for key, _ in eval_overrides):
            raise DTBenchError("dtbench eval changes only how a run is evaluated (eval."
                               f"{', eval.'.join(sorted(EVAL_ONLY))}); other settings name "
                               "another run: train it with dtbench train --set")
    else:
        spec_overrides, eval_overrides = canonical(overrides), ()
    specs = [RunSpec(domain.name, t.name, dataset, algo, seed, profile, variant, spec_overrides)
             for algo in algos for dataset in datasets for seed in seeds or (0,)]

    def show(spec: RunSpec, result: dict[str, Any]) -> None:
        echo("\n".join(result_lines(spec, result)))

    try:
        return launch(specs, results_root, jobs=jobs, device=device, progress=progress,
                      reevaluate=reevaluate, eval_overrides=dict(eval_overrides),
                      on_result=show)
    finally:
        echo(f"table: {write_table(results_root)}")


def evaluate(task: str, datasets: Sequence[str], **kwargs: Any) -> list[dict[str, Any]]:
    """Evaluate trained runs again from their checkpoints (`overrides`: eval.* only)."""
    return train(task, datasets, reevaluate=True, **kwargs)


@dataclass(frozen=True)
class SuitePlan:
    """What `suite` found: the runs of the grid and which are finished."""

    specs: list[RunSpec]  # every run of the (narrowed) grid, in order
    finished: list[bool]  # whether each has its result.json


def plan(domains: Sequence[str], profile: str = "quick", choice: Choice = Choice(),
         results_root: Path = DEFAULT_RESULTS_DIR) -> SuitePlan:
    """The runs a suite would run and which of them are finished (`dtbench suite --dry-run`)."""
    specs = expand_all(domains, profile, choice)
    return SuitePlan(specs, [is_finished(s, results_root) for s in specs])


def suite(domains: Sequence[str], profile: str = "quick", choice: Choice = Choice(),
          results_root: Path = DEFAULT_RESULTS_DIR, jobs: int = 1, device: str = "auto",
          budget: str = "", data_jobs: int = 0, data_only: bool = False,
          progress: bool = False, status_every: float = 60.0, ray: RayOptions | None = None,
          echo: Echo = print) -> int:
    """Run domains' benchmark grids: make the local data the unfinished runs lack (with the
    profile's generation budget unless `budget` is given), run every unfinished run, rewrite
    runs.csv. Returns how many runs were run."""
    setup()
    p = plan(domains, profile, choice, results_root)
    todo = [s for s, done in zip(p.specs, p.finished, strict=True) if not done]
    make_missing_data(todo, budget or profile, data_jobs or jobs, echo=echo)
    if data_only:
        return 0
    try:
        return run_suite(p.specs, jobs, results_root, device, progress, status_every,
                         echo=echo, ray=ray)
    finally:
        echo(f"table: {write_table(results_root)}")


def make_data(tasks: Sequence[str], datasets: Sequence[str] = (), budget: str = "quick",
              force: bool = False, jobs: int = 1, echo: Echo = print) -> None:
    """Generate tasks' local datasets into the Minari store (once; cached)."""
    setup()
    plugins.load()
    for task in tasks:
        registry.resolve(task)  # unknown tasks fail before any work starts
    map_in_processes(_make_data_of, [(t, tuple(datasets), budget, force) for t in tasks], jobs,
                     on_result=lambda item, lines: echo("\n".join(lines)))


def _make_data_of(job: tuple[str, tuple[str, ...], str, bool]) -> list[str]:
    task, datasets, budget, force = job
    return make_datasets(task, datasets, budget, force)


def report(tables: Sequence[str] = (), profile: str = "quick",
           results_root: Path = DEFAULT_RESULTS_DIR) -> list[str]:
    """Rebuild tables (all of them, the figures and aggregates when `tables` is empty) from
    the stored runs; returns one line per file written."""
    from dtbench.report.build import build

    setup()
    plugins.load()
    return build(results_root, profile, list(tables))
