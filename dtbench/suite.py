"""Suites: a domain's benchmark grid (`registry.Grid`) expanded into runs and run to the end.

Every run is a folder under `results/runs/` whose `result.json` (written last, atomically)
marks it finished, so a suite is resumable by construction: finished runs are skipped, a run
killed mid-training restarts from its last checkpoint, and nothing finished is ever redone.
Runs go through a launcher (`dtbench.launchers`): local worker processes or a Ray cluster,
with the same results store.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dtbench import registry
from dtbench.contract import RunSpec, canonical
from dtbench.errors import DTBenchError, unknown
from dtbench.launchers import RayOptions, launch
from dtbench.parallel import map_in_processes
from dtbench.runs import (
    CONFIG,
    RESULT,
    REWARD_VARIANTS,
    Plan,
    make_datasets,
    resolve,
    result_lines,
    stale,
    triage,
)
from dtbench.runtime import DEFAULT_RESULTS_DIR

Echo = Callable[[str], None]


@dataclass(frozen=True)
class Choice:
    """What a user narrows a grid to on the command line; empty fields keep the grid's."""

    tasks: Sequence[str] = ()  # task names of the domain
    datasets: Sequence[str] = ()  # dataset short names (before the grid's preferred routes)
    algos: Sequence[str] = ()  # registered algorithms
    variants: Sequence[str] = ()  # reward variants
    seeds: Sequence[int] = ()  # training seeds
    overrides: Mapping[str, Any] = field(default_factory=dict)  # an ablation: settings changed
    grid: str = ""  # a named grid of the domain instead of the profile's (MuJoCo's `bench` tier)


def expand(domain_name: str, profile: str, choice: Choice = Choice()) -> list[RunSpec]:
    """The runs of a domain's grid for `profile` (narrowed by `choice`), in a stable order.

    Dataset names go through the grid's preferred routes: under `paper`, MuJoCo's `medium`
    becomes the dataset that stands for it by route `d4rl` (`d4rl-medium`) when the D4RL file
    is on this machine. The grid's parts (other tables' runs) follow, with the choice's names
    acting as filters on them; an explicit ablation (`choice.overrides`) leaves them out. On a
    named grid (a tier, often one part per method with its own settings) the names filter
    every part, its first included, so a narrowed tier runs only the tier's own runs, and an
    ablation changes the runs of every part (each method's, at its own settings)."""
    domain = registry.get_domain(domain_name)
    grid = named_grid(domain, choice.grid) if choice.grid else domain.grid(profile)
    if choice.grid:
        specs = []
        for part in (grid, *grid.parts):
            narrowed = _narrow(part, choice)
            if narrowed is not None:
                specs += _expand_grid(domain, dataclasses.replace(
                    narrowed, prefer=grid.prefer, real_data=grid.real_data), profile,
                    Choice(overrides=choice.overrides))
        return list(dict.fromkeys(specs))
    specs = _expand_grid(domain, grid, profile, choice)
    if not choice.overrides:
        for part in grid.parts:
            narrowed = _narrow(part, choice)
            if narrowed is not None:
                specs += _expand_grid(domain, dataclasses.replace(
                    narrowed, prefer=grid.prefer, real_data=grid.real_data), profile, Choice())
    return list(dict.fromkeys(specs))


def named_grid(domain: registry.Domain, name: str) -> registry.Grid:
    """The domain's grid called `name` (`--grid`): a grid of its own beside the profiles' (a
    benchmark tier run under a profile's settings with the grid's overrides)."""
    if name not in domain.grids:
        raise unknown(f"grid of domain {domain.name!r}", name, list(domain.grids))
    return domain.grids[name]


def _narrow(part: registry.Grid, choice: Choice) -> registry.Grid | None:
    """`part` with only the tasks, datasets, algorithms, variants and seeds `choice` names
    (where it names any); None when nothing is left."""
    fields = {}
    for name, chosen in (("tasks", choice.tasks), ("datasets", choice.datasets),
                         ("algos", choice.algos), ("variants", choice.variants),
                         ("seeds", choice.seeds)):
        values = getattr(part, name)
        fields[name] = tuple(v for v in values if v in chosen) if chosen else values
        if not fields[name]:
            return None
    return dataclasses.replace(part, **fields)


def _expand_grid(domain: registry.Domain, grid: registry.Grid, profile: str,
                 choice: Choice) -> list[RunSpec]:
    algos = list(choice.algos or grid.algos)
    for algo in algos:
        registry.check_fits(domain, registry.get_algo(algo))
    variants = list(choice.variants or grid.variants)
    for variant in variants:
        if variant not in REWARD_VARIANTS:
            raise unknown("reward variant", variant, list(REWARD_VARIANTS))
    overrides = canonical({**dict(grid.overrides), **choice.overrides})  # bad ones fail here
    specs = []
    for task_name in choice.tasks or grid.tasks:
        task = domain.task(task_name)
        domain.settings_for(task, profile).override(dict(overrides))
        for name in choice.datasets or grid.datasets:
            dataset = registry.pick_present(task, name, grid.prefer)
            specs += [RunSpec(domain.name, task.name, dataset, algo, seed, profile, variant,
                              overrides)
                      for variant in variants for algo in algos
                      for seed in choice.seeds or grid.seeds]
    return specs


def expand_tuning(domain_name: str, profile: str, grid: str = "") -> list[RunSpec]:
    """The probe runs of a domain's tuning under `profile` (`registry.Tuning`), or of its
    named `grid` (keyed by the grid's name, the probes then carrying the grid's overrides too):
    every candidate of every method on every probe dataset and seed, each candidate's settings
    given in full as the run's overrides."""
    domain = registry.get_domain(domain_name)
    base = shared_overrides(domain_name, profile, grid) if grid else {}
    tuning = domain.tuning.get(grid or profile)
    if tuning is None:
        tuned = [f"{name} ({', '.join(d.tuning)})" for name, d in registry.domains().items()
                 if d.tuning]
        raise DTBenchError(f"domain {domain_name!r} registers no tuning for "
                           f"{f'grid {grid}' if grid else f'profile {profile}'}; "
                           f"tuned: {'; '.join(tuned) or 'none'}")
    return [RunSpec(domain.name, tuning.task, dataset, algo, seed, profile, "dense",
                    canonical({**base, **candidate}))
            for algo, candidates in tuning.candidates.items() for candidate in candidates
            for dataset in tuning.datasets for seed in tuning.seeds]


def shared_overrides(domain_name: str, profile: str, grid: str) -> dict[str, Any]:
    """The named grid's overrides that every one of its runs has (its budget; not a method's
    tuned settings, held in a grid part of its own), in the grid's order."""
    top = named_grid(registry.get_domain(domain_name), grid).overrides
    typed = dict(canonical(dict(top)))
    specs = expand(domain_name, profile, Choice(grid=grid))
    return {k: typed[k] for k, _ in top
            if all(dict(spec.overrides).get(k) == typed[k] for spec in specs)}


def expand_all(domains: Sequence[str], profile: str, choice: Choice = Choice()) -> list[RunSpec]:
    """`expand` over several domains; "all" means every domain with a grid."""
    names = list(domains)
    if names == ["all"]:
        names = [n for n, d in registry.domains().items() if d.grids]
    specs = [spec for name in names for spec in expand(name, profile, choice)]
    if not specs:  # names that no run of the grid has (a tier's %BC on another dataset, say)
        grid = f" --grid {choice.grid}" if choice.grid else ""
        raise DTBenchError(f"no run of {' '.join(names)}'s {choice.grid or profile} grid has "
                           f"the tasks, datasets, algorithms, variants and seeds named; `dtbench "
                           f"suite {' '.join(names)} -p {profile}{grid} --dry-run` lists its runs")
    return specs


@dataclass(frozen=True)
class DataSource:
    """Where a run's data comes from, and whether it is the data its grid is about."""

    source: str  # e.g. "D4RL v2 (HDF5)", "dtbench-generated (SAC, D4RL recipe)"
    present: bool  # on this machine now
    stand_in: bool  # generated here for a grid about published data (`Grid.real_data`)
    missing: str | None  # one line naming the real data that is not here and how to get it
    makeable: bool  # dtbench makes it when it is missing (`DatasetSpec.make`)


def data_source(spec: RunSpec) -> DataSource:
    """The run's dataset: its source, presence, and for a grid on published data whether it is
    the real data or a stand-in made here (the real routes then say how to get them)."""
    domain, task = registry.get_task(spec.domain, spec.task)
    grid = domain.grids.get(spec.profile)
    ds = registry.get_dataset(task, spec.dataset)
    present = ds.is_present()
    # made here for a grid on published data, and published data it stands in for exists (a
    # tier's own generated data, MuJoCo's `bench-medium`, stands in for nothing)
    real = registry.routes_to(task, spec.dataset, grid.prefer) if grid is not None else []
    stand_in = bool(grid is not None and grid.real_data and ds.make is not None and real)
    missing = None
    if stand_in:
        missing = (f"missing: {spec.task_path} {spec.dataset}: "
                   f"{' or '.join(r.source for r in real)}; {real[0].how_to_get}")
    elif not present and ds.make is None:
        missing = f"missing: {spec.task_path} {spec.dataset}: {ds.source}; {ds.how_to_get}"
    return DataSource(ds.source, present, stand_in, missing, ds.make is not None)


def missing_real_data(specs: Sequence[RunSpec]) -> list[str]:
    """One line per real data source the runs need and this machine lacks (deduplicated)."""
    return list(dict.fromkeys(line for spec in specs
                              if (line := data_source(spec).missing) is not None))


def data_to_match(finished: Sequence[RunSpec], results_root: Path) -> list[str]:
    """One line per dataset to be made here that finished runs were trained on: the suite
    trains beside them only if the data comes out as they recorded it (`mixed_data`), and
    generated data repeats only on the kind of CPU that made it, so say so before the hours of
    making it, with the first score their generation recorded on the way (MuJoCo's SAC
    snapshots), which the generation here prints when it gets there."""
    recorded: dict[tuple[str, str], set[str]] = {}
    first: dict[tuple[str, str], str] = {}
    for spec in finished:
        _, task = registry.get_task(spec.domain, spec.task)
        ds = registry.get_dataset(task, spec.dataset)
        digest = stale.recorded_digest(spec.folder(results_root))
        if ds.make is not None and not ds.is_present() and digest is not None:
            key = (spec.task_path, spec.dataset)
            recorded.setdefault(key, set()).add(digest)
            first.setdefault(key, _first_snapshot(spec.folder(results_root)))
    return [f"data: {task} {dataset} is made here beside finished runs trained on data "
            f"{' and '.join(sorted(digests))}: new runs train beside them only if it comes out "
            "the same (generated data repeats only on the kind of CPU that made it; else the "
            f"suite refuses after making it){first[task, dataset]}"
            for (task, dataset), digests in recorded.items()]


def _first_snapshot(run_dir: Path) -> str:
    """'; their generation's first SAC snapshot scored R at step S: ...', from the data
    provenance a run's config.json recorded; '' where it recorded none."""
    try:
        made = json.loads((run_dir / CONFIG).read_text())["dataset"]["provenance"]
        step, score = min((int(k), v) for k, v in made["snapshot_returns"].items())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return ""
    return (f"; their generation's first SAC snapshot scored {score:,.1f} at step {step:,}: "
            "where the generation here prints another score there, its data will not be "
            "theirs (stop it with Ctrl-C: its SAC state is kept)")


def make_missing_data(specs: Sequence[RunSpec], budget: str, jobs: int = 1,
                      echo: Echo = print) -> None:
    """Make the local datasets the given runs need and lack, tasks side by side."""
    wanted: dict[str, list[str]] = {}
    for spec in specs:
        _, task = registry.get_task(spec.domain, spec.task)
        ds = registry.get_dataset(task, spec.dataset)
        if ds.make is not None and not ds.is_present():
            names = wanted.setdefault(spec.task_path, [])
            if ds.name not in names:
                names.append(ds.name)
    if not wanted:
        echo("data: every dataset the unfinished runs need is present")
        return
    listed = ", ".join(f"{task} ({' '.join(names)})" for task, names in wanted.items())
    echo(f"making missing data: {listed}")
    make = functools.partial(_make_task_data, wanted=wanted, budget=budget)
    map_in_processes(make, list(wanted), jobs,
                     on_result=lambda task, lines: echo("\n".join(lines)))


def _make_task_data(task: str, wanted: dict[str, list[str]], budget: str) -> list[str]:
    return make_datasets(task, wanted[task], budget)


def run_suite(specs: Sequence[RunSpec], jobs: int = 1,
              results_root: Path = DEFAULT_RESULTS_DIR, device: str = "auto",
              progress: bool = True, status_every: float = 60.0,
              echo: Echo = print, ray: RayOptions | None = None,
              rerun_stale: bool = False, trackers: tuple[str, ...] = ("tensorboard",),
              stack_seeds: bool = False) -> int:
    """Run every unfinished run of `specs`; return how many were run. What is finished, stale
    or to run is `runs.triage`'s plan, printed first: finished runs whose data has changed
    since are skipped, or with `rerun_stale` moved aside (to `<results>/stale/`) and run
    again; so are, with `rerun_stale`, finished runs made by other code than this checkout's
    (without it they count as finished). Unfinished runs on the dataset of such a skipped run
    are refused, nothing run (`mixed_data`): they would train on other data than it did.

    Prints runs done / left as each finishes and, every `status_every` seconds, the step each
    unfinished run in flight has reached (from its metrics file); with one job and a terminal,
    the run's own progress bar shows instead. With `ray`, the runs are Ray tasks instead of
    local worker processes (`jobs` is then the cluster's business)."""
    plan = triage(specs, results_root, rerun_stale, echo)
    echo(f"suite: {plan.summary()}")
    if (mixing := mixed_data(plan)) is not None:
        raise mixing
    todo, done = plan.to_run, len(plan.finished)
    if not todo:
        return 0
    counter = {"done": done}

    def finished(spec: RunSpec, result: dict) -> None:
        counter["done"] += 1
        echo(f"[{counter['done']}/{len(plan.specs)} done, "
             f"{len(plan.specs) - counter['done']} left]")
        echo("\n".join(f"  {line}" for line in result_lines(spec, result)))

    bars = progress and jobs <= 1 and ray is None
    monitor = _Monitor(todo, results_root, status_every, echo) if not bars else None
    if monitor is not None:
        monitor.start()
    try:
        launch(todo, results_root, jobs=jobs, device=device, progress=bars, ray=ray,
               on_result=finished, echo=echo, trackers=trackers, stack_seeds=stack_seeds)
    finally:
        if monitor is not None:
            monitor.stop()
    return len(todo)


def mixed_data(plan: Plan) -> DTBenchError | None:
    """The error when a suite would train runs beside finished runs of the same dataset that
    were trained on other data than is there now (the data made again, say on another kind of
    CPU, whose floats differ), else None: both in one table would compare runs on two
    generations of one dataset. (Here, not in `runs.triage`, which the executor imports: a
    run's code fingerprint covers triage, and this check moves no number.)"""
    changed = {(s.domain, s.task, s.dataset) for s in plan.changed}
    mixed = sorted({f"{s.task_path} {s.dataset}" for s in plan.to_run
                    if (s.domain, s.task, s.dataset) in changed})
    if not mixed:
        return None
    return DTBenchError(
        f"{len(plan.changed)} finished run(s) were trained on other data than is there now "
        f"(listed above), and runs to train share their data ({', '.join(mixed)}): both in one "
        "table would compare runs on two generations of the data. Make the data they were "
        "trained on (their config.json records its provenance; generated data repeats only on "
        "the kind of CPU that made it), or pass --rerun-stale to run them again on this data; "
        "nothing was run")


class _Monitor(threading.Thread):
    """Every `every` seconds, prints the step of each unfinished run that is training."""

    def __init__(self, specs: Sequence[RunSpec], root: Path, every: float, echo: Echo) -> None:
        super().__init__(daemon=True)
        self.specs, self.root, self.every, self.echo = list(specs), root, every, echo
        self._stop_event = threading.Event()
        self._runs = {spec: resolve(spec) for spec in self.specs}

    def run(self) -> None:
        while not self._stop_event.wait(self.every):
            for spec in self.specs:
                line = self.status(spec)
                if line:
                    self.echo(line)

    def status(self, spec: RunSpec) -> str | None:
        folder = spec.folder(self.root)
        algo = self._runs[spec].algo
        if (folder / RESULT).exists() or not folder.exists() or algo.metrics_file is None:
            return None
        metrics = folder / algo.metrics_file
        if not metrics.exists() or time.time() - metrics.stat().st_mtime > 4 * self.every + 600:
            return None  # not started, or left over from an earlier, interrupted suite
        step = _last_step(metrics)
        total = algo.steps(self._runs[spec].settings)  # the run's own, its overrides applied
        phase = "evaluating" if step >= total else f"step {step}/{total}"
        return f"  running {spec.describe()}: {phase}"

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)


def _last_step(metrics: Path) -> int:
    try:
        with metrics.open() as f:
            rows = list(csv.DictReader(f))
        return int(float(rows[-1]["step"])) if rows else 0
    except (OSError, KeyError, ValueError):
        return 0


def published_sources(domains: Sequence[str], profile: str) -> dict[str, list[str]]:
    """{task path: dataset names} of the published data the domains' grids under `profile`
    read: for each dataset name, the first of the grid's preferred routes that can be
    downloaded, or the dataset itself when it can."""
    out: dict[str, list[str]] = {}
    for domain_name in (list(registry.domains()) if list(domains) == ["all"]
                        else domains):
        domain = registry.get_domain(domain_name)
        grids = [domain.grid(profile)]
        while grids:
            grid = grids.pop(0)
            grids += list(grid.parts)
            for task_name in grid.tasks:
                task = domain.task(task_name)
                for name in grid.datasets:
                    for ds in [*registry.routes_to(task, name, grid.prefer),
                               registry.get_dataset(task, name)]:
                        if ds.remote is not None or ds.download:
                            names = out.setdefault(f"{domain.name}/{task_name}", [])
                            if ds.name not in names:
                                names.append(ds.name)
                            break
    return out
