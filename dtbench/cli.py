"""Command line: argument parsing and printing over the Python API (`dtbench.api`).

Every user error ends as one line on stderr (a usage error adds the command's usage) and exit
code 2; Ctrl-C exits 130; finished results are never lost.

The API (with torch, transformers, d3rlpy and Ray behind it) is imported by the commands that
use it (`_api`), after their arguments and `--set` options have been checked: `--help`,
`list` and a usage or settings error answer without loading it (tests/test_cli.py).
"""

from __future__ import annotations

import os
import re
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

# Plain click help (rich_markup_mode=None): rich's boxed tables squeeze the help column at 80
# columns and cut words with '…'; click wraps whole words. Every help text is written as whole
# sentences (tests/test_cli.py reads each at 80 columns).
app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  rich_markup_mode=None,
                  help="Decision Transformer beside offline-RL baselines: train, evaluate, "
                       "compare and report.")
data_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                       help="Make, download or inspect datasets.")
app.add_typer(data_app, name="data")

TaskArg = Annotated[str, typer.Argument(
    metavar="TASK", help="A domain or domain/task, e.g. keydoor or mujoco/hopper.")]
DatasetOpt = Annotated[list[str], typer.Option(
    "--dataset", "-d", metavar="NAME", help="A dataset's short name (repeatable).")]
AlgoOpt = Annotated[list[str], typer.Option(
    "--algo", "-a", metavar="ALGO", help="A registered algorithm (repeatable; default dt).")]
SeedOpt = Annotated[list[int], typer.Option(
    "--seed", "-s", metavar="SEED", help="A training seed (repeatable; default 0).")]
ProfileOpt = Annotated[str, typer.Option(
    "--profile", "-p", metavar="PROFILE", help="The settings profile: smoke, quick or paper.")]
VariantOpt = Annotated[str, typer.Option(
    "--variant", metavar="VARIANT", help="The reward variant: dense or delayed.")]
SetOpt = Annotated[list[str], typer.Option(
    "--set", metavar="KEY=VALUE", help="A setting changed, e.g. train.steps=100 (repeatable). "
    "Runs with changed settings are runs of their own, in their own folders (ablations).")]
ResultsOpt = Annotated[Path, typer.Option(
    "--results", metavar="FOLDER", show_default="workspace/",
    help="The results folder. The committed reference is results/.")]
DeviceOpt = Annotated[str, typer.Option(
    "--device", metavar="DEVICE", help="Where to train: auto, cpu or cuda.")]
# a grid narrowed (suite, compare): a given list replaces the grid's
TasksOpt = Annotated[list[str], typer.Option(
    "--task", "-t", metavar="TASK", help="Only these tasks (repeatable).")]
DatasetsOpt = Annotated[list[str], typer.Option(
    "--dataset", "-d", metavar="NAME", help="Only these datasets (repeatable).")]
AlgosOpt = Annotated[list[str], typer.Option(
    "--algo", "-a", metavar="ALGO", help="These algorithms instead of the grid's (repeatable).")]
SeedsOpt = Annotated[list[int], typer.Option(
    "--seed", "-s", metavar="SEED", help="These seeds instead of the grid's (repeatable).")]
VariantsOpt = Annotated[list[str], typer.Option(
    "--variant", metavar="VARIANT", help="Only these reward variants, dense or delayed "
                                         "(repeatable).")]
GridOpt = Annotated[str, typer.Option(
    "--grid", metavar="NAME", show_default="the profile's",
    help="A named grid of the domain instead of the profile's, e.g. bench (MuJoCo's "
         "benchmark tier, run under the paper profile).")]
JobsOpt = Annotated[int, typer.Option(
    "--jobs", "-j", metavar="N", help="How many runs train side by side, one process each.")]
StackOpt = Annotated[bool | None, typer.Option(
    "--stack-seeds/--no-stack-seeds", show_default=False,
    help="Train the seeds of a cell together as one model (default: on a GPU).")]
TrackerOpt = Annotated[list[str], typer.Option(
    "--tracker", metavar="NAME", help="Also log to this tracker: wandb. TensorBoard files are "
                                      "always written.")]
RerunStaleOpt = Annotated[bool, typer.Option(
    "--rerun-stale", help="Run again the finished runs whose data has changed since or that "
                          "other code made. The old folders are kept under <results>/stale/.")]


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
    """Train and evaluate runs. Finished runs are skipped and interrupted ones resume. Runs
    with --set options are runs of their own (ablations), in their own folders."""
    overrides = _checked(set or [], spec, algo or ["dt"], profile)
    _api().train(spec, dataset, algo or ["dt"], seed or [0], profile, variant, overrides,
                 results, device, jobs, _progress(), rerun_stale=rerun_stale,
                 trackers=tracker or (), stack_seeds=stack_seeds, echo=typer.echo)


@app.command("eval")
def eval_(spec: TaskArg, dataset: DatasetOpt, algo: AlgoOpt = None, seed: SeedOpt = None,
          profile: ProfileOpt = "quick", variant: VariantOpt = "dense", set: SetOpt = None,
          results: ResultsOpt = DEFAULT_RESULTS_DIR, device: DeviceOpt = "auto",
          jobs: JobsOpt = 1) -> None:
    """Evaluate trained runs again from their checkpoints. Options --set eval.* change how
    they are evaluated."""
    overrides = _checked(set or [])
    _api().train(spec, dataset, algo or ["dt"], seed or [0], profile, variant, overrides,
                 results, device, jobs, _progress(), reevaluate=True, echo=typer.echo)


@app.command()
def suite(domains: Annotated[list[str], typer.Argument(
        metavar="DOMAIN", help="The domains whose benchmark grids to run, or all.")],
          profile: ProfileOpt = "quick",
          task: TasksOpt = None, dataset: DatasetsOpt = None,
          algo: AlgosOpt = None, seed: SeedsOpt = None, variant: VariantsOpt = None,
          set: Annotated[list[str], typer.Option(
              "--set", metavar="KEY=VALUE", help="An ablation: the grid's runs with this "
              "setting changed, in their own folders, e.g. model.context_len=1.")] = None,
          jobs: JobsOpt = 1, results: ResultsOpt = DEFAULT_RESULTS_DIR,
          device: DeviceOpt = "auto",
          budget: Annotated[str, typer.Option(
              metavar="PROFILE", show_default="the profile",
              help="The generation budget for missing local data.")] = "",
          data_jobs: Annotated[int, typer.Option(
              metavar="N", show_default="--jobs",
              help="How many tasks' data is made side by side.")] = 0,
          data_only: Annotated[bool, typer.Option(
              "--data-only", help="Only make the missing local data.")] = False,
          dry_run: Annotated[bool, typer.Option(
              "--dry-run", help="List the runs and whether each is finished, and stop.")] = False,
          stale: Annotated[bool, typer.Option(
              "--stale", help="List the grid's finished runs made by other code than this "
                              "checkout's or on other data, and stop.")] = False,
          status_every: Annotated[float, typer.Option(
              metavar="SECONDS", help="Seconds between progress lines of runs in flight.")]
          = 60.0,
          launcher: Annotated[str, typer.Option(
              metavar="NAME", help="Where runs execute: local (worker processes) or ray (tasks "
                                   "on a Ray cluster).")] = "local",
          address: Annotated[str, typer.Option(
              metavar="ADDRESS", show_default="start one here",
              help="The Ray cluster: auto, HOST:PORT or ray://HOST:PORT.")] = "",
          cpus_per_run: Annotated[float, typer.Option(
              metavar="N", help="Ray: the CPUs each run reserves.")] = 1.0,
          gpus_per_run: Annotated[float, typer.Option(
              metavar="SHARE", show_default="1 when the cluster has GPUs",
              help="Ray: the GPU share each run reserves, e.g. 0.25.")] = -1.0,
          allow_stand_in_data: Annotated[bool, typer.Option(
              "--allow-stand-in-data", help="Run a grid on published data (paper MuJoCo, "
              "Atari) on data generated here when the published data is missing.")] = False,
          rerun_stale: RerunStaleOpt = False, tracker: TrackerOpt = None,
          stack_seeds: StackOpt = None, grid: GridOpt = "") -> None:
    """Run domains' benchmark grids. Finished runs are skipped, interrupted ones resume, and
    local data that is missing is made first. Runs execute in local worker processes or, with
    --launcher ray, on a Ray cluster."""
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
    choice = Choice(task or (), dataset or (), algo or (), variant or (), seed or (), overrides,
                    grid)
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
        from dtbench.suite import data_source, data_to_match, mixed_data

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
        if (mixing := mixed_data(plan)) is not None:
            typer.echo(f"a suite would refuse: {mixing}")
        for line in data_to_match(plan.finished if plan.to_run else [], results):
            typer.echo(line)
        api.check_real_data(plan.to_run, allow_stand_in_data, typer.echo)
        return
    api.suite(domains, profile, choice, results, jobs, device, budget, data_jobs, data_only,
              _progress(), status_every, ray, allow_stand_in_data, rerun_stale,
              tracker or (), stack_seeds, echo=typer.echo)


@app.command()
def tune(domains: Annotated[list[str], typer.Argument(
        metavar="DOMAIN", help="The domains whose methods to tune.")],
         profile: ProfileOpt = "quick", jobs: JobsOpt = 1,
         results: ResultsOpt = DEFAULT_RESULTS_DIR, device: DeviceOpt = "auto",
         rerun_stale: RerunStaleOpt = False, grid: GridOpt = "") -> None:
    """Run the probes that choose each method's key settings. Every method gets the same
    number of probes, on probe seeds no table uses; `dtbench report probes` then shows
    them."""
    api = _api()
    api.tune(domains, profile, results, jobs, device, _progress(), rerun_stale=rerun_stale,
             grid=grid, echo=typer.echo)


@app.command()
def compare(domains: Annotated[list[str], typer.Argument(
        metavar="DOMAIN", help="The domains whose grids to compare.")],
            profile: ProfileOpt = "quick",
            task: TasksOpt = None, dataset: DatasetsOpt = None,
            algo: AlgosOpt = None, seed: SeedsOpt = None, variant: VariantsOpt = None,
            results: ResultsOpt = DEFAULT_RESULTS_DIR,
            reference: Annotated[Path, typer.Option(
                metavar="FOLDER", show_default="results/",
                help="The committed reference results.")] = REFERENCE_DIR,
            grid: GridOpt = "") -> None:
    """Compare your runs of a grid with the committed reference. Each cell of your runs
    (--results) is bit-identical to the reference's, consistent with it or differs from it,
    by a t-test Holm-corrected over the cells."""
    api = _api()
    from dtbench.runs.compare import comparison_lines
    from dtbench.suite import Choice

    choice = Choice(task or (), dataset or (), algo or (), variant or (), seed or (), grid=grid)
    rows = api.compare(domains, profile, choice, results, reference)
    for line in comparison_lines(rows, results, reference):
        typer.echo(line)


@app.command()
def promote(domains: Annotated[list[str], typer.Argument(
        metavar="DOMAIN", help="The domains whose runs to promote.")],
            results: ResultsOpt = DEFAULT_RESULTS_DIR,
            reference: Annotated[Path, typer.Option(
                metavar="FOLDER", show_default="results/",
                help="The committed reference results.")] = REFERENCE_DIR,
            set_aside_stale: Annotated[bool, typer.Option(
                "--set-aside-stale", help="Also move the reference's runs of these domains "
                "made by other code under its stale/ folder, kept out of the tables.")] = False
            ) -> None:
    """Copy finished runs from a workspace into the committed reference. Only runs made by
    the current code are copied (--results into results/), without checkpoints; stale runs
    are refused, and replaced runs are kept under the reference's stale/ folder."""
    for line in _api().promote(domains, results, reference, set_aside_stale):
        typer.echo(line)


@app.command()
def critic(dataset: Annotated[str, typer.Option(
        "--dataset", "-d", metavar="NAME", help="The Key-to-Door dataset.")] = "random-10k",
           seed: Annotated[int, typer.Option(
               "--seed", "-s", metavar="SEED", help="The training seed.")] = 0,
           profile: ProfileOpt = "quick",
           per_kind: Annotated[int, typer.Option(
               metavar="N", help="Probe episodes of each outcome kind.")] = 100,
           results: ResultsOpt = DEFAULT_RESULTS_DIR) -> None:
    """Train DT as a critic on Key-to-Door (paper Figure 5). The critic is a return-blind DT
    that also predicts returns; its predicted success through probe episodes and its
    attention are recorded."""
    for line in _api().critic(profile, dataset, seed, per_kind, results, _progress()):
        typer.echo(line)


@app.command("list")
def list_(settings: Annotated[bool, typer.Option(
        "--settings", help="List every setting --set accepts, with its type, range and "
                           "doc.")] = False) -> None:
    """List domains, tasks, datasets and algorithms. With --settings, list the settings
    instead."""
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
        metavar="TABLE", show_default=False,
        help="Tables to rebuild, e.g. keydoor or claims; without any, every table, figure and "
             "aggregate, and the index.")] = None,
           profile: ProfileOpt = "quick", results: ResultsOpt = DEFAULT_RESULTS_DIR) -> None:
    """Rebuild tables, figures and aggregates from the stored runs, without training. Named
    tables are also printed. A report of results/ also rewrites README.md's headline."""
    lines = _api().report(tables or [], profile, results)
    for name in tables or []:
        typer.echo((results / f"{name}.md").read_text())
    for line in lines:
        typer.echo(line)


@data_app.command("make")
def data_make(specs: Annotated[list[str], typer.Argument(
        metavar="TASK", help="Tasks, e.g. keydoor or mujoco/hopper mujoco/walker2d.")],
              dataset: Annotated[list[str], typer.Option(
                  "--dataset", "-d", metavar="NAME",
                  help="A dataset to make (repeatable; default all).")] = None,
              force: Annotated[bool, typer.Option(
                  help="Make it again even if it is present.")] = False,
              budget: Annotated[str, typer.Option(
                  metavar="BUDGET", help="The generation budget where data is made by "
                  "training (MuJoCo's SAC): smoke, quick, bench (MuJoCo's bench-* data, "
                  "hours a task) or paper.")] = "quick",
              jobs: Annotated[int, typer.Option(
                  "--jobs", "-j", metavar="N",
                  help="How many tasks' data is made side by side.")] = 1) -> None:
    """Make tasks' local datasets in the Minari store. A dataset is made once and then
    cached."""
    _api().make_data(specs, dataset or (), budget, force, jobs, echo=typer.echo)


@data_app.command("download")
def data_download(specs: Annotated[list[str], typer.Argument(
        metavar="TASK", help="Tasks, e.g. mujoco/hopper; with --grid, domains or all.")],
                  dataset: Annotated[list[str], typer.Option(
                      "--dataset", "-d", metavar="NAME", help="A dataset to download "
                      "(repeatable; default every published one of the task).")] = None,
                  grid: Annotated[bool, typer.Option(
                      "--grid", help="Download the published data the domains' grids read "
                                     "under --profile.")] = False,
                  profile: ProfileOpt = "paper") -> None:
    """Download published data, resumed and verified. It reads D4RL v2 HDF5 files
    ($DTBENCH_D4RL_URL), DQN-replay checkpoints over HTTPS ($DTBENCH_DQN_REPLAY_URL) and
    Minari datasets (minari's API), and records each file's sha256 in a manifest beside
    it."""
    api = _api()
    if grid:
        lines = api.download_grid(specs, profile, _progress(), echo=lambda line: None)
    else:
        lines = api.download(specs, dataset or (), _progress(), echo=lambda line: None)
    typer.echo("\n".join(lines))


@data_app.command("pick")
def data_pick(spec: TaskArg, names: Annotated[list[str], typer.Argument(
        metavar="NAME", help="Dataset short names, e.g. medium medium-replay.")],
              prefer: Annotated[list[str], typer.Option(
                  metavar="ROUTE", help="A data route to try, in the order given, e.g. "
                  "--prefer d4rl --prefer minari (repeatable).")] = None) -> None:
    """Print the dataset each name would use on this machine. That is the first dataset
    standing for the name by a preferred route whose data is present, else the name itself
    (locally generated data)."""
    _, task = registry.resolve(spec)
    typer.echo(" ".join(registry.pick_present(task, name, prefer or []) for name in names))


@data_app.command("info")
def data_info(spec: TaskArg, dataset: Annotated[list[str], typer.Option(
        "--dataset", "-d", metavar="NAME",
        help="A dataset's short name (repeatable; default: every dataset of the task on this "
        "machine).")] = None) -> None:
    """Show datasets' summaries, data digests and provenance."""
    typer.echo("\n".join(_api().data_info(spec, dataset or ())))


def _first_sentence(text: str) -> str:
    return re.split(r"(?<=\.)\s+(?=[A-Z`$-])", text, maxsplit=1)[0]


# A docstring's line breaks are the source's, not the terminal's: each command's help is its
# docstring on one line, wrapped to the terminal, and the command list shows its first
# sentence whole (click would cut it at 45 characters with '...')
for _info in [*app.registered_commands, *data_app.registered_commands]:
    _info.help = " ".join((_info.callback.__doc__ or "").split())
    _info.short_help = _first_sentence(_info.help)


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
