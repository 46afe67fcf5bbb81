"""The Python API: every workflow the CLI and the make targets offer, as one function each.

    from dtbench import api
    api.train("keydoor", ["random-1k"], algos=["dt", "cql"], seeds=[0, 1], profile="smoke")
    api.suite(["keydoor"], profile="quick", jobs=2)     # data, grid, runs, runs.csv
    api.report(profile="quick")                          # tables, figures, aggregates

The CLI (`dtbench.cli`) only parses arguments and prints; all decisions are made here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from dtbench import registry
from dtbench.config import EVAL_ONLY
from dtbench.contract import RunSpec, canonical
from dtbench.errors import DTBenchError
from dtbench.launchers import RayOptions, launch
from dtbench.parallel import map_in_processes
from dtbench.runs import (
    Plan,
    download_datasets,
    make_datasets,
    result_lines,
    stale,
    triage,
    write_table,
)
from dtbench.runs.compare import CellComparison, compare_cells
from dtbench.runtime import DEFAULT_RESULTS_DIR, REFERENCE_DIR, resolve_device, setup
from dtbench.suite import (
    Choice,
    data_to_match,
    expand_all,
    expand_tuning,
    make_missing_data,
    missing_real_data,
    published_sources,
    run_suite,
)
from dtbench.tracking import check_trackers

Echo = Callable[[str], None]


def check_options(seeds: Sequence[int] = (), device: str = "auto", jobs: int = 1,
                  data_jobs: int = 0) -> None:
    """Seeds, device and job counts are usable, before anything runs."""
    bad = [s for s in seeds if s < 0]
    if bad:
        raise DTBenchError(f"--seed {bad[0]}: seeds are whole numbers from 0")
    if jobs < 1:
        raise DTBenchError(f"--jobs {jobs}: run at least 1 job at a time")
    if data_jobs < 0:
        raise DTBenchError(f"--data-jobs {data_jobs}: use 1 or more (0: as --jobs)")
    resolve_device(device)


def check_results_root(results_root: Path) -> None:
    """The results folder is a folder this process can write in (made when missing)."""
    if results_root.exists() and not results_root.is_dir():
        raise DTBenchError(f"--results {results_root} is a file; give a folder")
    try:
        results_root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DTBenchError(f"--results {results_root} cannot be made ({exc.strerror}); give "
                           "a folder you can write in") from None
    probe = results_root / f".dtbench-write-test-{os.getpid()}"
    try:  # a real write: permission bits say nothing to root, a read-only mount does
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise DTBenchError(f"--results {results_root} is not writable ({exc.strerror}); give a "
                           "folder you can write in (finished runs there are untouched)") from None


def train(task: str, datasets: Sequence[str], algos: Sequence[str] = ("dt",),
          seeds: Sequence[int] = (0,), profile: str = "quick", variant: str = "dense",
          overrides: Mapping[str, Any] | None = None,
          results_root: Path = DEFAULT_RESULTS_DIR, device: str = "auto", jobs: int = 1,
          progress: bool = False, reevaluate: bool = False, rerun_stale: bool = False,
          trackers: Sequence[str] = (), stack_seeds: bool | None = None,
          echo: Echo = print) -> list[dict[str, Any]]:
    """Train and evaluate runs (finished ones are returned as stored, interrupted ones resume).

    `overrides` name other runs (ablations, in their own folders); with `reevaluate` (see
    `evaluate`) they may only change how the trained runs are evaluated. Every run is
    attempted; runs.csv is rewritten at the end whatever happened; the first error is raised."""
    setup()
    check_options(seeds, device, jobs)
    check_results_root(results_root)
    tracked = check_trackers(trackers)
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

    if not reevaluate:
        found = triage(specs, results_root, rerun_stale, echo)
        echo(f"train: {found.summary()}")
        refusal = found.refusal()
        if refusal is not None:
            raise refusal

    def show(spec: RunSpec, result: dict[str, Any]) -> None:
        echo("\n".join(result_lines(spec, result)))

    try:
        return launch(specs, results_root, jobs=jobs, device=device, progress=progress,
                      evaluate=reevaluate, eval_overrides=dict(eval_overrides),
                      on_result=show, trackers=tracked,
                      stack_seeds=_stack_seeds(stack_seeds, device))
    finally:
        echo(f"table: {write_table(results_root)}")


def _stack_seeds(asked: bool | None, device: str) -> bool:
    """Seeds of one cell train together (one vmapped model) when asked, by default on a GPU
    (where one small model leaves the device idle; on a CPU it measured no gain)."""
    return resolve_device(device).type == "cuda" if asked is None else asked


def evaluate(task: str, datasets: Sequence[str], **kwargs: Any) -> list[dict[str, Any]]:
    """Evaluate trained runs again from their checkpoints (`overrides`: eval.* only)."""
    return train(task, datasets, reevaluate=True, **kwargs)


def plan(domains: Sequence[str], profile: str = "quick", choice: Choice = Choice(),
         results_root: Path = DEFAULT_RESULTS_DIR) -> Plan:
    """The runs a suite would run, sorted by `runs.triage` (finished, stale, unreadable, to
    run); nothing is moved, made or run (`dtbench suite --dry-run`)."""
    return triage(expand_all(domains, profile, choice), results_root, echo=lambda line: None)


def stale_runs(specs: Sequence[RunSpec], results_root: Path = DEFAULT_RESULTS_DIR,
               code: bool = False) -> dict[RunSpec, str]:
    """Finished runs whose data has changed since they were trained, each with its line;
    with `code`, also those made by other code than the current (data first)."""
    found = stale.find_stale(specs, results_root)
    if code:
        found.update({s: line for s, line in stale.find_stale_code(specs, results_root).items()
                      if s not in found})
    return found


def compare(domains: Sequence[str], profile: str = "quick", choice: Choice = Choice(),
            results_root: Path = DEFAULT_RESULTS_DIR, reference: Path = REFERENCE_DIR
            ) -> list[CellComparison]:
    """Per cell of the (narrowed) grid: your runs in `results_root` against the committed
    reference runs of the same specs (`dtbench compare`; `make first-run` ends with it)."""
    if Path(results_root).resolve() == Path(reference).resolve():
        raise DTBenchError(f"--results and --reference are both {results_root}: compare a "
                           "workspace of your own runs with the committed results/")
    return compare_cells(expand_all(domains, profile, choice), results_root, reference)


def promote(domains: Sequence[str], results_root: Path = DEFAULT_RESULTS_DIR,
            reference: Path = REFERENCE_DIR, set_aside_stale: bool = False) -> list[str]:
    """Copy the finished runs of `domains` from a workspace (`results_root`) into the
    reference (`dtbench promote`): refused if any of them is stale or unreadable; reference
    runs they replace, and with `set_aside_stale` its runs of those domains made by other
    code, are moved under its stale/ folder (kept)."""
    from dtbench.runs.promote import check_folders
    from dtbench.runs.promote import promote as promote_runs

    setup()
    for name in domains:
        registry.get_domain(name)
    check_folders(results_root, reference)
    check_results_root(Path(reference))
    return promote_runs(Path(results_root), Path(reference), domains, set_aside_stale)


def suite(domains: Sequence[str], profile: str = "quick", choice: Choice = Choice(),
          results_root: Path = DEFAULT_RESULTS_DIR, jobs: int = 1, device: str = "auto",
          budget: str = "", data_jobs: int = 0, data_only: bool = False,
          progress: bool = False, status_every: float = 60.0, ray: RayOptions | None = None,
          allow_stand_in_data: bool = False, rerun_stale: bool = False,
          trackers: Sequence[str] = (), stack_seeds: bool | None = None,
          echo: Echo = print) -> int:
    """Run domains' benchmark grids: make the local data the unfinished runs lack (with the
    profile's generation budget unless `budget` is given), run every unfinished run, rewrite
    runs.csv. Returns how many runs were run.

    A grid on published data (the paper grids of MuJoCo and Atari) stops before anything runs
    when that data is missing, with one line per missing source saying how to get it; with
    `allow_stand_in_data` it runs on data generated here instead, and its tables say so."""
    setup()
    check_options(choice.seeds, device, jobs, data_jobs)
    check_results_root(results_root)
    tracked = check_trackers(trackers)
    if ray is not None:  # an unreachable cluster fails now, before any data is made
        from dtbench.launchers.ray import check_reachable

        check_reachable(ray.address)
    p = plan(domains, profile, choice, results_root)
    todo = p.to_run
    if rerun_stale:  # finished runs that will run again need their data too
        todo = [*todo, *p.changed, *p.other_code]
    check_real_data(todo, allow_stand_in_data, echo)
    for line in data_to_match(p.finished if todo else [], results_root):
        echo(line)
    make_missing_data(todo, budget or profile, data_jobs or jobs, echo=echo)
    if data_only:
        return 0
    try:
        return run_suite(p.specs, jobs, results_root, device, progress, status_every,
                         echo=echo, ray=ray, rerun_stale=rerun_stale, trackers=tracked,
                         stack_seeds=_stack_seeds(stack_seeds, device))
    finally:
        echo(f"table: {write_table(results_root)}")


def tune(domains: Sequence[str], profile: str = "quick",
         results_root: Path = DEFAULT_RESULTS_DIR, jobs: int = 1, device: str = "auto",
         progress: bool = False, rerun_stale: bool = False, grid: str = "",
         echo: Echo = print) -> int:
    """Run the probes that choose each method's key settings for `profile` (each domain's
    `registry.Tuning`; for a named `grid`, the grid's, under its overrides): make their
    missing data, run every unfinished probe (with `rerun_stale`, every stale one again, as
    `suite` does), rewrite runs.csv. `dtbench report probes` shows them and what the rule
    picks. Returns how many ran."""
    setup()
    check_options(device=device, jobs=jobs)
    check_results_root(results_root)
    specs = [spec for domain in domains for spec in expand_tuning(domain, profile, grid)]
    make_missing_data(specs, profile, jobs, echo=echo)
    try:
        return run_suite(specs, jobs, results_root, device, progress, echo=echo,
                         rerun_stale=rerun_stale)
    finally:
        echo(f"table: {write_table(results_root)}")


def check_real_data(specs: Sequence[RunSpec], allow_stand_in_data: bool = False,
                    echo: Echo = print) -> None:
    """Stop (one line per missing source, then the error) when runs of a grid on published
    data would run without it; with `allow_stand_in_data`, say so and go on."""
    missing = missing_real_data(specs)
    if not missing:
        return
    for line in missing:
        echo(line)
    if not allow_stand_in_data:
        raise DTBenchError(f"{len(missing)} data source(s) of this grid are not on this "
                           "machine (listed above): get them, or pass --allow-stand-in-data "
                           "to run on data generated here (its tables then say so)")
    echo("running on stand-in data generated here for the sources above (--allow-stand-in-data)")


def make_data(tasks: Sequence[str], datasets: Sequence[str] = (), budget: str = "quick",
              force: bool = False, jobs: int = 1, echo: Echo = print) -> None:
    """Generate tasks' local datasets into the Minari store (once; cached)."""
    setup()
    check_options(jobs=jobs)
    for task in tasks:
        registry.resolve(task)  # unknown tasks fail before any work starts
    jobs_ = [(t, tuple(datasets) or made_by(t, budget), budget, force) for t in tasks]
    map_in_processes(_make_data_of, jobs_, jobs,
                     on_result=lambda item, lines: echo("\n".join(lines)))


def made_by(task_path: str, budget: str) -> tuple[str, ...]:
    """The datasets a budget makes when none is named: those named after it where it names
    data of its own (MuJoCo's `bench-medium`, ...), else every makeable dataset that is no
    other route to another (`medium`, not `bench-medium`)."""
    _, task = registry.resolve(task_path)
    makeable = {name: ds for name, ds in task.datasets.items() if ds.make is not None}
    own = tuple(name for name in makeable if name.startswith(f"{budget}-"))
    return own or tuple(name for name, ds in makeable.items() if not ds.stands_for)


def download(tasks: Sequence[str], datasets: Sequence[str] = (), progress: bool = False,
             echo: Echo = print) -> list[str]:
    """Download tasks' published datasets (D4RL, DQN-replay, Minari); see
    `runs.download_datasets`. Returns one line per file or dataset."""
    setup()
    for task in tasks:
        registry.resolve(task)  # unknown tasks fail before any download starts
    return [line for task in tasks for line in download_datasets(task, datasets, progress, echo)]


def download_grid(domains: Sequence[str], profile: str = "paper", progress: bool = False,
                  echo: Echo = print) -> list[str]:
    """Download the published data the domains' benchmark grids under `profile` read (the
    paper grids: D4RL for MuJoCo, DQN-replay for Atari)."""
    setup()
    sources = published_sources(domains, profile)
    if not sources:
        echo(f"{', '.join(domains)}: the {profile} grid reads no published data (its data is "
             "made here)")
    return [line for task, names in sources.items()
            for line in download_datasets(task, names, progress, echo)]


def data_info(task_path: str, datasets: Sequence[str] = ()) -> list[str]:
    """Lines describing datasets of a task as they are on this machine: size and returns, the
    data digest runs record (`data.identity`; a generation on another kind of CPU gives
    another), how it was made, its provenance. No names: every dataset of the task that is
    present."""
    from dtbench.data import minari_io
    from dtbench.data.identity import data_identity
    from dtbench.domains.mujoco.provenance import describe, snapshots
    from dtbench.runs import load_dataset

    setup()
    domain, task = registry.resolve(task_path)
    names = list(datasets) or [name for name, ds in task.datasets.items() if ds.is_present()]
    if not names:
        raise DTBenchError(f"no dataset of {task_path} is on this machine; make one with "
                           f"`dtbench data make {task_path}` or download one with `dtbench "
                           f"data download {task_path} -d NAME`")
    lines = []
    for name in names:
        ds = registry.get_dataset(task, name)
        store = load_dataset(domain, task, ds)
        digest = data_identity(ds.minari_id, ds.data_files())["digest"]
        size = store.summary()
        lines.append(f"{ds.minari_id}: {size['episodes']:,} episodes, {size['steps']:,} steps, "
                     f"episode return mean {size['return_mean']:,.1f} (min "
                     f"{size['return_min']:,.1f}, max {size['return_max']:,.1f}); "
                     f"{store.bytes_per_step:.0f} bytes of observations per step, states "
                     f"{store.obs_shape}")
        lines.append(f"data digest: {digest}")
        made = minari_io.provenance(ds.minari_id)
        if "expert_return" in made:  # made here by SAC (domains/mujoco/generate.py)
            lines.append(f"generation: {describe(made)}")
            lines.append(f"snapshot scores: {snapshots(made)}")
        rest = {k: v for k, v in made.items() if k != "snapshot_returns"}
        lines.append("provenance: " + ", ".join(
            f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}" for k, v in rest.items()))
    return lines


def _make_data_of(job: tuple[str, tuple[str, ...], str, bool]) -> list[str]:
    task, datasets, budget, force = job
    return make_datasets(task, datasets, budget, force)


def report(tables: Sequence[str] = (), profile: str = "quick",
           results_root: Path = DEFAULT_RESULTS_DIR) -> list[str]:
    """Rebuild tables (all of them, the figures and aggregates when `tables` is empty) from
    the stored runs; returns one line per file written."""
    from dtbench.report.build import build

    setup()
    check_results_root(results_root)
    return build(results_root, profile, list(tables))


def critic(profile: str = "quick", dataset: str = "random-10k", seed: int = 0,
           per_kind: int = 100, results_root: Path = DEFAULT_RESULTS_DIR,
           progress: bool = False) -> list[str]:
    """DT as a critic on Key-to-Door: train the critic run, write its probes, rewrite
    runs.csv; returns lines saying what was done."""
    from dtbench.analyses.critic import run_critic

    setup()
    check_options([seed])
    check_results_root(results_root)
    lines = run_critic(profile, dataset, seed, per_kind, results_root, progress=progress)
    return [*lines, f"table: {write_table(results_root)}"]
