"""Command line: argument parsing and printing over the Python API (`dtbench.api`).

Every user error ends as one line on stderr (a usage error adds the command's usage) and exit
code 2; Ctrl-C exits 130; finished results are never lost.

The API (with torch, transformers, d3rlpy and Ray behind it) is imported by the commands that
use it (`_api`), after their arguments and `--set` options have been checked: `--help`,
`list` and a usage or settings error answer without loading it (tests/test_cli.py).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Annotated

import typer

from dtbench import registry
from dtbench.config import parse_overrides
from dtbench.errors import DTBenchError, Terminated
from dtbench.runtime import DEFAULT_RESULTS_DIR, REFERENCE_DIR, setup_environment

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="dtbench: Decision Transformer beside offline-RL baselines.")
data_app = typer.Typer(no_args_is_help=True, help="Make or inspect datasets.")
app.add_typer(data_app, name="data")

TaskArg = Annotated[str, typer.Argument(help="domain or domain/task, e.g. keydoor, mujoco/hopper")]
DatasetOpt = Annotated[list[str], typer.Option("--dataset", "-d",
                                               help="dataset short name (repeatable)")]
AlgoOpt = Annotated[list[str], typer.Option("--algo", "-a",
                                            help="registered algorithm (repeatable)")]
SeedOpt = Annotated[list[int], typer.Option("--seed", "-s", help="seed (repeatable)")]
ProfileOpt = Annotated[str, typer.Option("--profile", "-p", help="smoke | quick | paper")]
VariantOpt = Annotated[str, typer.Option("--variant", help="reward variant: dense | delayed")]
SetOpt = Annotated[list[str], typer.Option("--set", help="override, e.g. train.steps=100")]
ResultsOpt = Annotated[Path, typer.Option(
    "--results", help="results folder (default workspace/; the committed reference: results/)")]
DeviceOpt = Annotated[str, typer.Option("--device", help="auto | cpu | cuda")]
# a grid narrowed (suite, compare)
TasksOpt = Annotated[list[str], typer.Option("--task", "-t", help="only these tasks (repeatable)")]
DatasetsOpt = Annotated[list[str], typer.Option("--dataset", "-d",
                                                help="only these datasets (repeatable)")]
VariantsOpt = Annotated[list[str], typer.Option(
    "--variant", help="reward variants, dense | delayed (repeatable)")]
JobsOpt = Annotated[int, typer.Option("--jobs", "-j", help="runs side by side (processes)")]
StackOpt = Annotated[bool | None, typer.Option(
    "--stack-seeds/--no-stack-seeds", help="train the seeds of a cell together as one model "
                                           "(default: on a GPU)")]
TrackerOpt = Annotated[list[str], typer.Option(
    "--tracker", help="also log to: wandb (TensorBoard files are always written)")]
RerunStaleOpt = Annotated[bool, typer.Option(
    "--rerun-stale", help="run again finished runs whose data has changed since or that other "
                          "code made (the old folder is kept under <results>/stale/)")]


def _assignments(items: list[str]) -> dict[str, str]:
    """`--set key=value` options as a dict (values are parsed against the settings' types)."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise DTBenchError(f"--set expects section.field=value, got {item!r}")
        out[key.strip()] = value.strip()
    return out


def _checked(items: list[str], spec: str | None = None, algos: Sequence[str] = (),
             profile: str = "quick") -> dict[str, str]:
    """`--set` options, checked before the API loads so that a mistake is answered at once:
    every key and value parsed against its setting's type and, given the task, the settings
    each algorithm would run with in range (the checks `dtbench.runs.resolve` repeats when
    the runs start)."""
    assignments = _assignments(items)
    parse_overrides(assignments)
    if spec is not None:
        domain, task = registry.resolve(spec)
        for name in algos:
            algo = registry.get_algo(name)
            registry.check_fits(domain, algo)
            domain.settings_for(task, profile).override(
                {**algo.fixed_settings.get(domain.action_kind, {}), **assignments})
    return assignments


def _api() -> ModuleType:
    """`dtbench.api`, imported (with torch and the rest) by the commands that run something,
    with the process set up as every entry point that trains or reads data is."""
    from dtbench import api
    from dtbench.runtime import setup

    setup()
    return api


def _progress() -> bool:
    return sys.stderr.isatty()


@app.command()
def train(spec: TaskArg, dataset: DatasetOpt, algo: AlgoOpt = None, seed: SeedOpt = None,
          profile: ProfileOpt = "quick", variant: VariantOpt = "dense", set: SetOpt = None,
          results: ResultsOpt = DEFAULT_RESULTS_DIR, device: DeviceOpt = "auto",
          jobs: JobsOpt = 1, rerun_stale: RerunStaleOpt = False,
          tracker: TrackerOpt = None, stack_seeds: StackOpt = None) -> None:
    """Train and evaluate runs (skipped when finished; resumed when interrupted); --set names
    runs of their own (ablations)."""
    overrides = _checked(set or [], spec, algo or ["dt"], profile)
    _api().train(spec, dataset, algo or ["dt"], seed or [0], profile, variant, overrides,
                 results, device, jobs, _progress(), rerun_stale=rerun_stale,
                 trackers=tracker or (), stack_seeds=stack_seeds, echo=typer.echo)


@app.command("eval")
def eval_(spec: TaskArg, dataset: DatasetOpt, algo: AlgoOpt = None, seed: SeedOpt = None,
          profile: ProfileOpt = "quick", variant: VariantOpt = "dense", set: SetOpt = None,
          results: ResultsOpt = DEFAULT_RESULTS_DIR, device: DeviceOpt = "auto",
          jobs: JobsOpt = 1) -> None:
    """Evaluate trained runs again from their checkpoints (e.g. with other --set eval.*)."""
    overrides = _checked(set or [])
    _api().train(spec, dataset, algo or ["dt"], seed or [0], profile, variant, overrides,
                 results, device, jobs, _progress(), reevaluate=True, echo=typer.echo)


@app.command()
def suite(domains: Annotated[list[str], typer.Argument(
        help="domain(s) whose benchmark grid to run, or all")],
          profile: ProfileOpt = "quick",
          task: TasksOpt = None, dataset: DatasetsOpt = None,
          algo: AlgoOpt = None, seed: SeedOpt = None, variant: VariantsOpt = None,
          set: Annotated[list[str], typer.Option(
              "--set", help="an ablation: runs with this setting changed, in their own "
                            "folders, e.g. model.context_len=1")] = None,
          jobs: JobsOpt = 1, results: ResultsOpt = DEFAULT_RESULTS_DIR,
          device: DeviceOpt = "auto",
          budget: Annotated[str, typer.Option(
              help="generation budget for missing local data (default: the profile)")] = "",
          data_jobs: Annotated[int, typer.Option(
              help="tasks whose data is made side by side (default: --jobs)")] = 0,
          data_only: Annotated[bool, typer.Option(
              "--data-only", help="only make the missing local data")] = False,
          dry_run: Annotated[bool, typer.Option(
              "--dry-run", help="list the runs and whether each is finished")] = False,
          stale: Annotated[bool, typer.Option(
              "--stale", help="list the grid's finished runs made by other code than this "
                              "checkout's or on other data, and stop")] = False,
          status_every: Annotated[float, typer.Option(
              help="seconds between progress lines of runs in flight")] = 60.0,
          launcher: Annotated[str, typer.Option(
              help="local (worker processes) | ray (tasks on a Ray cluster)")] = "local",
          address: Annotated[str, typer.Option(
              help="Ray cluster: auto | HOST:PORT | ray://HOST:PORT (default: start one "
                   "here)")] = "",
          cpus_per_run: Annotated[float, typer.Option(help="Ray: CPUs per run")] = 1.0,
          gpus_per_run: Annotated[float, typer.Option(
              help="Ray: GPU share per run, e.g. 0.25 (default: 1 when the cluster has "
                   "GPUs)")] = -1.0,
          allow_stand_in_data: Annotated[bool, typer.Option(
              "--allow-stand-in-data", help="run a grid on published data (paper MuJoCo, "
              "Atari) on data generated here when the real data is missing")] = False,
          rerun_stale: RerunStaleOpt = False, tracker: TrackerOpt = None,
          stack_seeds: StackOpt = None) -> None:
    """Run a domain's benchmark grid: finished runs are skipped, interrupted ones resume, local
    data that is missing is made first; locally or on a Ray cluster (--launcher ray)."""
    if launcher not in ("local", "ray"):
        raise DTBenchError(f"unknown launcher {launcher!r}; use local or ray")
    overrides = _checked(set or [])
    for name in [] if domains == ["all"] else domains:  # unknown names, before the API loads
        registry.get_domain(name)
    api = _api()
    from dtbench.launchers import RayOptions
    from dtbench.suite import Choice

    ray = RayOptions(address or None, cpus_per_run, None if gpus_per_run < 0 else gpus_per_run) \
        if launcher == "ray" else None
    choice = Choice(task or (), dataset or (), algo or (), variant or (), seed or (), overrides)
    if stale:
        plan = api.plan(domains, profile, choice, results)
        found = api.stale_runs([*plan.finished, *plan.changed], results, code=True)
        for line in found.values():
            typer.echo(line)
        typer.echo(f"{len(found)} of {len(plan.finished) + len(plan.changed)} finished run(s) "
                   "are stale" + ("; --rerun-stale runs them again (old folders kept under "
                                  f"{results}/stale/)" if found else ""))
        return
    if dry_run:
        from dtbench.suite import data_source

        plan = api.plan(domains, profile, choice, results)
        for spec in plan.specs:
            data = data_source(spec)
            state = ("stand-in" if data.stand_in else "present" if data.present
                     else "made here when run" if data.makeable else "missing")
            run_state = ("unreadable" if spec in plan.unreadable
                         else "stale: data changed" if spec in plan.changed
                         else "stale: code changed" if spec in plan.other_code
                         else "finished" if spec in plan.finished else "to run")
            typer.echo(f"{spec.describe()} [{spec.profile}]: {run_state}"
                       f"; data: {data.source} ({state})")
        typer.echo(f"plan: {plan.summary()}")
        api.check_real_data(plan.to_run, allow_stand_in_data, typer.echo)
        return
    api.suite(domains, profile, choice, results, jobs, device, budget, data_jobs, data_only,
              _progress(), status_every, ray, allow_stand_in_data, rerun_stale,
              tracker or (), stack_seeds, echo=typer.echo)


@app.command()
def tune(domains: Annotated[list[str], typer.Argument(help="domains whose methods to tune")],
         profile: ProfileOpt = "quick", jobs: JobsOpt = 1,
         results: ResultsOpt = DEFAULT_RESULTS_DIR, device: DeviceOpt = "auto",
         rerun_stale: RerunStaleOpt = False) -> None:
    """Run the probes that choose each method's key settings: the same number per method, on
    probe seeds no table uses (then `dtbench report probes`)."""
    api = _api()
    api.tune(domains, profile, results, jobs, device, _progress(), rerun_stale=rerun_stale,
             echo=typer.echo)


@app.command()
def compare(domains: Annotated[list[str], typer.Argument(help="domains whose grid to compare")],
            profile: ProfileOpt = "quick",
            task: TasksOpt = None, dataset: DatasetsOpt = None,
            algo: AlgoOpt = None, seed: SeedOpt = None, variant: VariantsOpt = None,
            results: ResultsOpt = DEFAULT_RESULTS_DIR,
            reference: Annotated[Path, typer.Option(
                help="the committed reference results")] = REFERENCE_DIR) -> None:
    """Your runs of a grid (--results, default workspace/) beside the committed reference
    (results/): per cell, bit-identical, consistent or differs (a t-test, Holm-corrected)."""
    api = _api()
    from dtbench.runs.compare import comparison_lines
    from dtbench.suite import Choice

    choice = Choice(task or (), dataset or (), algo or (), variant or (), seed or ())
    rows = api.compare(domains, profile, choice, results, reference)
    for line in comparison_lines(rows, results, reference):
        typer.echo(line)


@app.command()
def promote(domains: Annotated[list[str], typer.Argument(help="domains whose runs to promote")],
            results: ResultsOpt = DEFAULT_RESULTS_DIR,
            reference: Annotated[Path, typer.Option(
                help="the committed reference results")] = REFERENCE_DIR,
            set_aside_stale: Annotated[bool, typer.Option(
                "--set-aside-stale", help="also move the reference's runs of these domains "
                "made by other code under its stale/ folder (kept, out of the tables)")] = False
            ) -> None:
    """Copy finished runs made by the current code from a workspace (--results) into the
    committed reference (results/), without checkpoints; stale runs are refused, replaced
    ones kept under the reference's stale/ folder."""
    for line in _api().promote(domains, results, reference, set_aside_stale):
        typer.echo(line)


@app.command()
def critic(dataset: Annotated[str, typer.Option("--dataset", "-d", help="Key-to-Door dataset")]
           = "random-10k", seed: Annotated[int, typer.Option("--seed", "-s")] = 0,
           profile: ProfileOpt = "quick",
           per_kind: Annotated[int, typer.Option(help="probe episodes of each outcome kind")]
           = 100, results: ResultsOpt = DEFAULT_RESULTS_DIR) -> None:
    """DT as a critic on Key-to-Door (Figure 5): train a return-blind DT that also predicts
    returns, then record its predicted success through probe episodes and its attention."""
    for line in _api().critic(profile, dataset, seed, per_kind, results, _progress()):
        typer.echo(line)


@app.command("list")
def list_(settings: Annotated[bool, typer.Option(
        "--settings", help="list every setting --set accepts, with its type, range and "
                           "doc")] = False) -> None:
    """Domains, tasks, datasets and algorithms (with --settings: the settings)."""
    if settings:
        from dtbench.config import setting_docs, setting_types

        docs = setting_docs()
        for key, kind in setting_types().items():
            typer.echo(f"{key}: {kind} - {docs[key]}")
        return
    for domain in registry.domains().values():
        typer.echo(f"{domain.name}: {domain.description} [{domain.action_kind}, "
                   f"encoder {domain.encoder}, score: {domain.score_label}]")
        for task in domain.tasks.values():
            typer.echo(f"  {domain.name}/{task.name} ({task.env_id}): "
                       f"{', '.join(task.datasets)}")
    typer.echo("algorithms:")
    for algo in registry.algos().values():
        typer.echo(f"  {algo.name}: {algo.description} [{'/'.join(algo.action_kinds)}]")


@app.command()
def report(tables: Annotated[list[str], typer.Argument(
        help="tables to rebuild (keydoor, mujoco, atari, pbc-d4rl, pbc-atari, delayed, "
             "when-dt, context, target-sweep, graph, critic); none: every table, figure and "
             "aggregate")] = None,
           profile: ProfileOpt = "quick", results: ResultsOpt = DEFAULT_RESULTS_DIR) -> None:
    """Rebuild tables, figures and aggregates from the stored runs (no training); named tables
    are also printed."""
    lines = _api().report(tables or [], profile, results)
    for name in tables or []:
        typer.echo((results / f"{name}.md").read_text())
    for line in lines:
        typer.echo(line)


@data_app.command("make")
def data_make(specs: Annotated[list[str], typer.Argument(
        help="task(s), e.g. keydoor, mujoco/hopper mujoco/walker2d")],
              dataset: Annotated[list[str], typer.Option(
                  "--dataset", "-d", help="dataset(s) to make; default all")] = None,
              force: Annotated[bool, typer.Option(help="rebuild even if present")] = False,
              budget: Annotated[str, typer.Option(
                  help="generation budget where data is generated by training "
                       "(MuJoCo): smoke | quick | paper")] = "quick",
              jobs: Annotated[int, typer.Option(
                  "--jobs", "-j", help="tasks made side by side (processes)")] = 1) -> None:
    """Generate tasks' local datasets into the Minari store (once; cached)."""
    _api().make_data(specs, dataset or (), budget, force, jobs, echo=typer.echo)


@data_app.command("download")
def data_download(specs: Annotated[list[str], typer.Argument(
        help="task(s), e.g. mujoco/hopper; with --grid, domain(s) or all")],
                  dataset: Annotated[list[str], typer.Option(
                      "--dataset", "-d", help="dataset(s) to download; default every "
                                              "published one of the task")] = None,
                  grid: Annotated[bool, typer.Option(
                      "--grid", help="the published data the domains' grid under --profile "
                                     "reads")] = False,
                  profile: ProfileOpt = "paper") -> None:
    """Download published data: D4RL v2 HDF5 ($DTBENCH_D4RL_URL), DQN-replay checkpoints over
    HTTPS ($DTBENCH_DQN_REPLAY_URL), Minari datasets (minari's API). Resumes, verifies and
    records each file's sha256 in a manifest beside it."""
    api = _api()
    if grid:
        lines = api.download_grid(specs, profile, _progress(), echo=lambda line: None)
    else:
        lines = api.download(specs, dataset or (), _progress(), echo=lambda line: None)
    typer.echo("\n".join(lines))


@data_app.command("pick")
def data_pick(spec: TaskArg, names: Annotated[list[str], typer.Argument(
        help="dataset short names, e.g. medium medium-replay")],
              prefer: Annotated[list[str], typer.Option(
                  help="data routes tried in order, e.g. --prefer d4rl --prefer minari")]
              = None) -> None:
    """Print, for each name, the first dataset standing for it by a preferred route whose data
    is on this machine, else the name itself (real data when present, locally generated data
    when not)."""
    _, task = registry.resolve(spec)
    typer.echo(" ".join(registry.pick_present(task, name, prefer or []) for name in names))


@data_app.command("info")
def data_info(spec: TaskArg, dataset: DatasetOpt) -> None:
    """Summary and provenance of datasets."""
    from dtbench.data import minari_io
    from dtbench.runs import load_dataset
    from dtbench.runtime import setup

    setup()

    domain, task = registry.resolve(spec)
    for name in dataset:
        ds = registry.get_dataset(task, name)
        store = load_dataset(domain, task, ds)
        typer.echo(f"{ds.minari_id}: {store.summary()} ({store.bytes_per_step:.0f} bytes of "
                   f"observations per step, states {store.obs_shape})")
        typer.echo(f"provenance: {minari_io.provenance(ds.minari_id)}")


# typer's command list keeps a docstring's line breaks (a sentence would break where the source
# wraps); each command's help is its docstring on one line, wrapped to the terminal instead
for _info in [*app.registered_commands, *data_app.registered_commands]:
    _info.help = " ".join((_info.callback.__doc__ or "").split())


INTERRUPTED = 130  # what typer returns for Ctrl-C outside standalone mode (128 + SIGINT)
TERMINATED = 143  # 128 + SIGTERM


STOP_GRACE_S = 5.0  # after Ctrl-C or SIGTERM, the longest the process takes to leave
_said = threading.Event()  # the interrupted/terminated line has been printed


def _stop_line(code: int) -> str:
    return (f"dtbench: {'interrupted' if code == INTERRUPTED else 'terminated'}; finished "
            "runs are kept and unfinished ones resume from their last checkpoint")


def _leave(code: int) -> None:
    """Say the stop line once and leave now: everything dtbench reads back is written
    atomically, and workers die with their parent (parallel._init_worker)."""
    if not _said.is_set():
        _said.set()
        typer.echo(_stop_line(code), err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _on_signal(signum: int, frame: object) -> None:
    """Ctrl-C and SIGTERM stop the command through its exception path (workers stopped,
    locks released); a watchdog leaves after STOP_GRACE_S if that path is held up (a signal
    can land while the process pool is starting a worker)."""
    code = INTERRUPTED if signum == signal.SIGINT else TERMINATED
    watchdog = threading.Timer(STOP_GRACE_S, _leave, args=(code,))
    watchdog.daemon = True
    watchdog.start()
    raise KeyboardInterrupt if signum == signal.SIGINT else Terminated


def main() -> None:
    setup_environment()  # the rest of the set-up (torch's) comes with the API, in `_api`
    signal.signal(signal.SIGTERM, _on_signal)  # stop like Ctrl-C: workers too, results kept
    signal.signal(signal.SIGINT, _on_signal)
    try:
        code = app(prog_name="dtbench", standalone_mode=False)
    except DTBenchError as exc:
        typer.echo(f"dtbench: error: {exc}", err=True)
        raise SystemExit(2) from None
    except KeyboardInterrupt:  # raised outside a command's invocation
        code = INTERRUPTED
    except Terminated:
        code = TERMINATED
    except typer.Abort:
        typer.echo("dtbench: aborted", err=True)
        raise SystemExit(1) from None
    except typer.TyperException as exc:  # typer's (vendored click's) usage errors
        _usage_error(exc)
    if code in (INTERRUPTED, TERMINATED):
        _leave(code)  # without waiting at interpreter exit for the process pool's threads
    raise SystemExit(code if isinstance(code, int) else 0)


def _usage_error(exc: typer.TyperException) -> None:
    """One line naming the problem, then the command's usage (no traceback); exit 2."""
    ctx = getattr(exc, "ctx", None)
    if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:  # `dtbench` alone
        typer.echo(ctx.get_help())
        raise SystemExit(2)
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    typer.echo(f"dtbench: error: {' '.join(message.split())}", err=True)
    if ctx is not None:
        typer.echo(f"{ctx.get_usage()}  (more: {ctx.command_path} --help)", err=True)
    raise SystemExit(getattr(exc, "exit_code", 2))
