"""Execute runs: train (or resume) their algorithm, evaluate them with the shared evaluator and
write their folders. A run whose result.json exists is finished and is not run again.

The executor knows no algorithm's internals: the `Algo` declares its checkpoint files (what an
evaluation-only run reuses and `dtbench eval` needs), its metrics file and time columns.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock, Timeout

from dtbench.atomic import copy_atomically, write_json
from dtbench.config import EVAL_ONLY, parse_overrides
from dtbench.contract import RunContext, RunSpec
from dtbench.data import minari_io
from dtbench.data.identity import data_identity
from dtbench.data.store import TrajectoryStore
from dtbench.data.transforms import delayed_rewards
from dtbench.errors import DTBenchError, NotTrained, RunLocked
from dtbench.evaluation import BatchPolicy, EvalResult, evaluate_together
from dtbench.runs import results
from dtbench.runs.code import code_record, fingerprint
from dtbench.runs.datasets import check_compatible, load_dataset
from dtbench.runs.resolve import ResolvedRun, resolve
from dtbench.runs.table import Unreadable, read_result
from dtbench.runs.triage import LOCK, unreadable_line
from dtbench.runtime import DEFAULT_RESULTS_DIR, resolve_device, seed_everything, setup
from dtbench.tracking import Tracker


def run(specs: Sequence[RunSpec], results_root: Path = DEFAULT_RESULTS_DIR,
        device: str = "auto", progress: bool = True, evaluate: bool = False,
        eval_overrides: Mapping[str, Any] | None = None, wait: bool = True,
        trackers: tuple[str, ...] = ("tensorboard",)) -> list[dict[str, Any]]:
    """Train (or resume) and evaluate runs, write their folders and return their results in
    order; finished runs come back as stored. One run is a list of one.

    Runs of one cell that differ only in their seeds train together when their algorithm can
    (`Algo.train_group`: DT's vmapped seeds), each written as its own run; other lists train one
    run after another. Which runs to give it (finished, stale, locked) is `runs.triage`'s.

    `evaluate`: evaluate trained runs again from their checkpoints (with `eval_overrides`);
    nothing trains, and a run without a usable trained state is an error that leaves its
    folder as it was. A run trains in one process at a time (a lock in its folder, released
    when the process ends, however it ends): another process's run is waited for, or with
    `wait=False` raises `RunLocked`; once it is ours, a run finished meanwhile is returned as
    stored."""
    setup()
    resolved = [resolve(spec, eval_overrides) for spec in specs]
    todo = [r for r in resolved if evaluate or not _is_finished(r, results_root)]
    if evaluate:
        for r in todo:
            _check_trained_files(r, results_root)
    if len(todo) > 1 and not (_one_cell(todo) and todo[0].algo.train_group is not None):
        for r in todo:
            run([r.spec], results_root, device, progress, evaluate, eval_overrides, wait,
                trackers)
    elif todo:
        folders = [r.spec.folder(results_root) for r in todo]
        try:
            with _locks(folders, wait=wait and len(todo) == 1):
                todo = [r for r in todo if evaluate or not _is_finished(r, results_root)]
                if todo:  # none finished meanwhile elsewhere
                    _train_and_finish(todo, results_root, device, progress, evaluate,
                                      eval_overrides, trackers)
        except RunLocked:
            if not wait or len(todo) == 1:
                raise
            for r in todo:  # a member is busy elsewhere: each alone, waiting for it
                run([r.spec], results_root, device, progress, evaluate, eval_overrides,
                    trackers=trackers)
    return [_finished(spec.folder(results_root)) for spec in specs]


def _is_finished(r: ResolvedRun, results_root: Path) -> bool:
    return (r.spec.folder(results_root) / results.RESULT).exists()


def _one_cell(rs: Sequence[ResolvedRun]) -> bool:
    """Whether the runs differ in their seeds only."""
    return len({dataclasses.replace(r.spec, seed=0) for r in rs}) == 1


@contextlib.contextmanager
def _locks(folders: Sequence[Path], wait: bool) -> Iterator[None]:
    """Hold each folder's lock (waiting for it, or `RunLocked` at once without `wait`)."""
    with contextlib.ExitStack() as held:
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)
            lock = FileLock(folder / LOCK)
            try:
                lock.acquire(timeout=-1 if wait else 0)
            except Timeout:
                raise RunLocked(f"running elsewhere: {folder}") from None
            held.callback(lock.release)
        yield


def _check_trained_files(r: ResolvedRun, results_root: Path) -> None:
    """Evaluating again needs the algorithm's checkpoint files: a missing one is an error
    before anything is opened or written."""
    folder = r.spec.folder(results_root)
    if not (folder / results.RESULT).exists() and not any(folder.glob("*")):
        raise DTBenchError(f"no trained run in {folder}; train it first with `dtbench train`")
    missing = [name for name in r.algo.checkpoint_files if not (folder / name).exists()]
    if missing:
        raise not_trained(r, results_root, f"no {missing[0]}")


def not_trained(r: ResolvedRun, results_root: Path, why: str) -> DTBenchError:
    """The one line for a run that cannot be evaluated again: why, and how to get a trained
    state back."""
    folder = r.spec.folder(results_root)
    return DTBenchError(
        f"cannot evaluate {r.spec.describe()} again: {why} in {folder} (nothing was changed); "
        "evaluate it where it was trained and its checkpoint kept (a workspace: promoted "
        "results keep none), or train it afresh into another --results folder")


def _train_and_finish(todo: list[ResolvedRun], results_root: Path, device: str,
                      progress: bool, evaluate: bool,
                      eval_overrides: Mapping[str, Any] | None,
                      trackers: tuple[str, ...]) -> None:
    """Train the runs (together when several) and evaluate them, each written as its own run;
    when evaluating again, nothing is written unless the trained state loaded."""
    store = _training_data(todo[0]) if len(todo) > 1 else None  # one cell: one dataset
    prepared = [_prepare(r, results_root, device, progress, eval_overrides, store)
                for r in todo]
    targets = prepared[0].targets  # one cell: the same for every member

    def during_training(step: int, policies: Sequence[BatchPolicy]) -> None:
        for p, evals in zip(prepared, _evaluate(todo, policies, targets), strict=True):
            results.append_curve(p.ctx.run_dir / results.CURVE, step, evals, p.normalize)
            _track(p.ctx.tracker, step, evals, p.normalize)

    try:
        for r, p in zip(todo, prepared, strict=True):
            p.ctx.during_training = during_training
            p.ctx.evaluate_only = evaluate
            if not evaluate:  # evaluating again writes only once the trained state loaded
                _start(r, p, results_root, trackers)
        seed_everything(todo[0].spec.seed)
        t0 = time.perf_counter()
        try:
            if len(todo) > 1:
                policies = todo[0].algo.train_group([p.ctx for p in prepared])
            else:
                policies = [todo[0].algo.train(prepared[0].ctx)]
        except NotTrained as exc:
            raise not_trained(todo[0], results_root, str(exc)) from None
        train_s = (time.perf_counter() - t0) / len(todo)
        if evaluate:
            for r, p in zip(todo, prepared, strict=True):
                _start(r, p, results_root, trackers)
        t1 = time.perf_counter()
        evals = _evaluate(todo, policies, targets)
        eval_s = (time.perf_counter() - t1) / len(todo)
        for r, p, e in zip(todo, prepared, evals, strict=True):
            _finish(r, p, e, train_s, eval_s)
    finally:
        for p in prepared:
            p.ctx.tracker.close()


@dataclasses.dataclass
class _Prepared:
    """A run ready to train: its context, config.json, data identity, targets and score
    normaliser."""

    ctx: RunContext
    config: dict[str, Any]
    identity: dict[str, Any]
    targets: tuple[float | None, ...]
    normalize: results.Normalize


def _prepare(r: ResolvedRun, results_root: Path, device: str, progress: bool,
             eval_overrides: Mapping[str, Any] | None,
             store: TrajectoryStore | None = None) -> _Prepared:
    """Load (or take) the run's data and build its RunContext and config.json (written by
    `_start`)."""
    spec = r.spec
    run_dir = spec.folder(results_root)
    store = _training_data(r) if store is None else store
    identity = data_identity(r.dataset.minari_id, r.dataset.data_files())
    torch_device = resolve_device(device)
    config = {
        "spec": spec.to_dict(),
        "settings": r.settings.to_dict(),
        "overrides": parse_overrides(eval_overrides or {}),
        "dataset": {"id": r.dataset.minari_id, "source": r.dataset.source,
                    "route": r.dataset.route, **store.summary(),
                    "provenance": minari_io.provenance(r.dataset.minari_id),
                    "identity": identity},
        "environment": results.environment_info(torch_device),
        "code": code_record(spec.algo, spec.domain),
    }
    ctx = RunContext(spec, r.settings, store, run_dir, torch_device, r.domain.encoder,
                     r.domain.action_kind, r.action_space, r.make_env, progress,
                     _targets(r, store))
    return _Prepared(ctx, config, identity, ctx.targets, _normalizer(r))


def _start(r: ResolvedRun, p: _Prepared, results_root: Path, trackers: tuple[str, ...]
           ) -> None:
    """Write the run's config.json and open its trackers; a run that changes only how it is
    evaluated starts from the plain run's trained state."""
    spec = r.spec
    if spec.overrides and all(key.removeprefix("eval.") in EVAL_ONLY
                              for key, _ in spec.overrides):
        _reuse_training(r, results_root)
    write_json(p.ctx.run_dir / results.CONFIG, p.config)
    p.ctx.tracker = Tracker(p.ctx.run_dir, trackers, spec.describe(), p.config["settings"])


def _finish(r: ResolvedRun, prepared: _Prepared, evals: list[EvalResult], train_s: float,
            eval_s: float) -> None:
    """Write the run's eval.csv, curve.csv and (last) result.json."""
    spec, run_dir = r.spec, prepared.ctx.run_dir
    normalize = prepared.normalize
    results.write_eval_csv(run_dir / results.EVAL, evals, normalize)
    curve = results.append_curve(run_dir / results.CURVE, r.algo.steps(r.settings), evals,
                                 normalize)
    _track(prepared.ctx.tracker, r.algo.steps(r.settings), evals, normalize)
    timing = results.training_time_split(run_dir / r.algo.metrics_file, r.algo.time_columns) \
        if r.algo.metrics_file else {}
    write_json(run_dir / results.RESULT, {
        "spec": spec.to_dict(),
        "dataset_id": r.dataset.minari_id,
        "data_digest": prepared.identity["digest"],
        "code_fingerprint": fingerprint(spec.algo, spec.domain),
        "score_label": r.domain.score_label,
        "targets": [{**results.summarise(e, normalize),
                     **results.best_on_curve(curve, e.target_return)} for e in evals],
        "data": results.data_scores(prepared.ctx.store, normalize),
        "train_seconds": round(train_s, 2),
        "eval_seconds": round(eval_s, 2),
        "timing": {**timing, "eval_s": round(eval_s, 2)},
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    })


def _track(tracker: Tracker, step: int, evals: list[EvalResult],
           normalize: results.Normalize) -> None:
    """An evaluation's mean score and return per target, to the run's trackers."""
    values = {}
    for e in evals:
        summary = results.summarise(e, normalize)
        name = "eval" if e.target_return is None else f"eval/target_{e.target_return:g}"
        values[f"{name}/score"] = summary["score_mean"]
        values[f"{name}/return"] = summary["return_mean"]
    tracker.log(step, values)


def _finished(run_dir: Path) -> dict[str, Any]:
    """A finished run's result; one that cannot be read is an error naming the folder."""
    try:
        return read_result(run_dir / results.RESULT)
    except Unreadable as exc:
        raise DTBenchError(unreadable_line(run_dir, exc)) from None


def sweep_targets(store: TrajectoryStore, points: int) -> tuple[float, ...]:
    """`points` target returns from the data's worst episode return to 1.5x its best."""
    returns = store.episode_returns
    low, high = float(returns.min()), float(returns.max())
    top = high * 1.5 if high > 0 else high * 0.5  # above the best, whatever its sign
    return tuple(round(float(t), 4) for t in np.linspace(low, top, points))


def _training_data(r: ResolvedRun) -> TrajectoryStore:
    """The run's dataset, checked against the task's spaces, with its reward variant applied."""
    store = load_dataset(r.domain, r.task, r.dataset)
    check_compatible(store, r.observation_space, r.action_space, r.task.env_id,
                     r.dataset.minari_id)
    return delayed_rewards(store) if r.spec.variant == "delayed" else store


def _targets(r: ResolvedRun, store: TrajectoryStore) -> tuple[float | None, ...]:
    """The target returns a return-conditioned algorithm is evaluated at; (None,) otherwise."""
    if not r.algo.conditions_on_return:
        return (None,)
    e = r.settings.eval
    return sweep_targets(store, e.target_sweep) if e.target_sweep else tuple(e.target_returns)


def _normalizer(r: ResolvedRun) -> results.Normalize:
    return lambda returns: r.domain.normalize(r.task.name, returns)


def _evaluate(rs: Sequence[ResolvedRun], policies: Sequence[BatchPolicy],
              targets: tuple[float | None, ...]) -> list[list[EvalResult]]:
    """Each run's evaluation, one list of results (one per target) per run: every target, the
    same episodes and seeds for every method; the runs of a group (one cell: the same
    evaluation settings) in one lock-step per target, each as if alone."""
    e = rs[0].settings.eval
    per_target = [evaluate_together(policies, rs[0].make_env, e.episodes, target, seed=e.seed,
                                    max_steps=e.max_episode_steps or None)
                  for target in targets]
    return [[results_of[i] for results_of in per_target] for i in range(len(policies))]


def _reuse_training(r: ResolvedRun, results_root: Path) -> None:
    """A run that only changes how it is evaluated trains exactly as the plain run (same
    settings, same seed): start from the plain run's checkpoints when they exist, so training
    resumes at its end and only the evaluation runs; otherwise it trains from scratch."""
    base = dataclasses.replace(r.spec, overrides=()).folder(results_root)
    target = r.spec.folder(results_root)
    files = [*r.algo.checkpoint_files, *([r.algo.metrics_file] if r.algo.metrics_file else [])]
    for name in files:
        if (base / name).exists() and not (target / name).exists():
            copy_atomically(base / name, target / name)  # whole or absent, never half a file
