"""Execute one run: train (or resume) its algorithm, evaluate it with the shared evaluator and
write its folder. A run whose result.json exists is finished and is not run again.

The executor knows no algorithm's internals: the `Algo` declares its checkpoint files (what an
evaluation-only run reuses and `dtbench eval` needs), its metrics file and time columns.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
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
from dtbench.errors import DTBenchError, RunLocked
from dtbench.evaluation import BatchPolicy, EvalResult, evaluate, evaluate_together
from dtbench.runs import results, stale
from dtbench.runs.code import code_record, fingerprint
from dtbench.runs.datasets import check_compatible, load_dataset
from dtbench.runs.resolve import ResolvedRun, resolve
from dtbench.runs.table import Unreadable, read_result
from dtbench.runtime import DEFAULT_RESULTS_DIR, resolve_device, seed_everything, setup
from dtbench.tracking import Tracker


def run(
    spec: RunSpec,
    eval_overrides: Mapping[str, Any] | None = None,
    results_root: Path = DEFAULT_RESULTS_DIR,
    device: str = "auto",
    progress: bool = True,
    reevaluate: bool = False,
    wait: bool = True,
    rerun_stale: bool = False,
    trackers: tuple[str, ...] = ("tensorboard",),
) -> dict[str, Any]:
    """Train (or resume) and evaluate one run; return its result (cached when finished).

    A finished run whose data has changed since (`stale`) is an error, or with `rerun_stale`
    moved aside to `<results>/stale/` and run again.

    `reevaluate`: evaluate a trained run again from its checkpoint (with `eval_overrides`).
    A run trains in one process at a time (a lock in its folder, released when the process
    ends, however it ends): another process's run is waited for, or with `wait=False` raises
    `RunLocked`; once it is ours, a run finished meanwhile is returned as stored."""
    setup()
    r = resolve(spec, eval_overrides)
    run_dir = spec.folder(results_root)
    if (run_dir / results.RESULT).exists() and not reevaluate:
        line = stale.find_stale([spec], results_root).get(spec)
        if line is None:
            return _finished(run_dir)
        if not rerun_stale:
            raise DTBenchError(line)
        stale.set_aside(spec, results_root)
    run_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(run_dir / LOCK)
    try:
        lock.acquire(timeout=-1 if wait else 0)
    except Timeout:
        raise RunLocked(f"running elsewhere: {spec.describe()} ({run_dir})") from None
    with lock:
        tracker = Tracker(run_dir, trackers, spec.describe(), r.settings.to_dict())
        try:
            return _run_locked(r, results_root, device, progress, reevaluate, eval_overrides,
                               tracker)
        finally:
            tracker.close()


def _run_locked(r: ResolvedRun, results_root: Path, device: str, progress: bool,
                reevaluate: bool, eval_overrides: Mapping[str, Any] | None,
                tracker: Tracker) -> dict[str, Any]:
    spec = r.spec
    run_dir = spec.folder(results_root)
    if (run_dir / results.RESULT).exists() and not reevaluate:  # finished meanwhile elsewhere
        return _finished(run_dir)
    if reevaluate and r.algo.checkpoint_files and not all(
            (run_dir / name).exists() for name in r.algo.checkpoint_files):
        raise DTBenchError(f"no trained run in {run_dir}; train it first with `dtbench train`")
    prepared = _prepare(r, results_root, device, progress, eval_overrides, tracker)
    seed_everything(spec.seed)
    t0 = time.perf_counter()
    policy = r.algo.train(prepared.ctx)
    return _finish(r, prepared, policy, time.perf_counter() - t0)


@dataclasses.dataclass
class _Prepared:
    """A run ready to train: its context, data identity, targets and score normaliser."""

    ctx: RunContext
    identity: dict[str, Any]
    targets: tuple[float | None, ...]
    normalize: results.Normalize


def _prepare(r: ResolvedRun, results_root: Path, device: str, progress: bool,
             eval_overrides: Mapping[str, Any] | None, tracker: Tracker,
             store: TrajectoryStore | None = None) -> _Prepared:
    """Load (or take) the run's data, write its config.json, build its RunContext."""
    spec = r.spec
    run_dir = spec.folder(results_root)
    store = _training_data(r) if store is None else store
    identity = data_identity(r.dataset.minari_id, r.dataset.data_files())
    if spec.overrides and all(key.removeprefix("eval.") in EVAL_ONLY
                              for key, _ in spec.overrides):
        _reuse_training(r, results_root)
    torch_device = resolve_device(device)
    write_json(run_dir / results.CONFIG, {
        "spec": spec.to_dict(),
        "settings": r.settings.to_dict(),
        "overrides": parse_overrides(eval_overrides or {}),
        "dataset": {"id": r.dataset.minari_id, "source": r.dataset.source,
                    "route": r.dataset.route, **store.summary(),
                    "provenance": minari_io.provenance(r.dataset.minari_id),
                    "identity": identity},
        "environment": results.environment_info(torch_device),
        "code": code_record(spec.algo, spec.domain),
    })
    targets = _targets(r, store)
    normalize = _normalizer(r)

    def during_training(step: int, policy: BatchPolicy) -> None:
        evals = _evaluate(r, policy, targets)
        results.append_curve(run_dir / results.CURVE, step, evals, normalize)
        _track(tracker, step, evals, normalize)

    ctx = RunContext(spec, r.settings, store, run_dir, torch_device, r.domain.encoder,
                     r.domain.action_kind, r.action_space, r.make_env, progress, targets,
                     during_training, tracker)
    return _Prepared(ctx, identity, targets, normalize)


def _finish(r: ResolvedRun, prepared: _Prepared, policy: BatchPolicy, train_s: float,
            done: tuple[list[EvalResult], float] | None = None) -> dict[str, Any]:
    """Evaluate the trained policy (unless `done` brings its evaluations and their seconds,
    from a group's lock-step) and write eval.csv, curve.csv and (last) result.json."""
    spec, run_dir = r.spec, prepared.ctx.run_dir
    targets, normalize = prepared.targets, prepared.normalize
    if done is None:
        t1 = time.perf_counter()
        evals = _evaluate(r, policy, targets)
        eval_s = time.perf_counter() - t1
    else:
        evals, eval_s = done
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
    return _finished(run_dir)  # as stored, the same as a finished run's


def run_group(specs: list[RunSpec], results_root: Path = DEFAULT_RESULTS_DIR,
              device: str = "auto", progress: bool = True,
              trackers: tuple[str, ...] = ("tensorboard",)) -> list[dict[str, Any]]:
    """Runs of one cell that differ only in their seeds, trained together by their
    algorithm's `train_group` (DT: one vmapped model), each evaluated and written as its own
    run. Finished members are returned as stored; with fewer than two left, or any of them
    locked by another process, the runs go one at a time (`run`)."""
    setup()
    resolved = [resolve(spec) for spec in specs]
    todo = [r for r in resolved if not (r.spec.folder(results_root) / results.RESULT).exists()]
    if len(todo) < 2 or todo[0].algo.train_group is None:
        return [run(spec, results_root=results_root, device=device, progress=progress,
                    trackers=trackers) for spec in specs]
    locks = []
    try:
        for r in todo:
            folder = r.spec.folder(results_root)
            folder.mkdir(parents=True, exist_ok=True)
            lock = FileLock(folder / LOCK)
            lock.acquire(timeout=0)
            locks.append(lock)
    except Timeout:
        for lock in locks:
            lock.release()
        return [run(spec, results_root=results_root, device=device, progress=progress,
                    trackers=trackers) for spec in specs]
    trackers_of = [Tracker(r.spec.folder(results_root), trackers, r.spec.describe(),
                           r.settings.to_dict()) for r in todo]
    try:
        store = _training_data(todo[0])  # one cell: the same data for every member
        prepared = [_prepare(r, results_root, device, progress, None, tracker, store)
                    for r, tracker in zip(todo, trackers_of, strict=True)]
        together = len({p.targets for p in prepared}) == 1  # one cell: always, but checked

        def during_training(step: int, policies: list[BatchPolicy]) -> None:
            group = _evaluate_group(todo, policies, prepared[0].targets)
            for p, evals in zip(prepared, group, strict=True):
                results.append_curve(p.ctx.run_dir / results.CURVE, step, evals, p.normalize)
                _track(p.ctx.tracker, step, evals, p.normalize)

        for p in prepared:
            p.ctx.group_during_training = during_training if together else None
        t0 = time.perf_counter()
        policies = todo[0].algo.train_group([p.ctx for p in prepared])
        train_s = (time.perf_counter() - t0) / len(todo)
        t1 = time.perf_counter()
        evals = _evaluate_group(todo, policies, prepared[0].targets) if together else None
        eval_s = (time.perf_counter() - t1) / len(todo)
        for i, (r, p, policy) in enumerate(zip(todo, prepared, policies, strict=True)):
            _finish(r, p, policy, train_s, None if evals is None else (evals[i], eval_s))
    finally:
        for tracker in trackers_of:
            tracker.close()
        for lock in locks:
            lock.release()
    return [_finished(spec.folder(results_root)) for spec in specs]


LOCK = ".lock"  # held while a process trains the run


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
        raise DTBenchError(f"unreadable: {run_dir}: {exc}; move the folder aside to rerun the "
                           "run") from None


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


def _evaluate(r: ResolvedRun, policy: BatchPolicy,
              targets: tuple[float | None, ...]) -> list[EvalResult]:
    """The run's evaluation: every target, the same episodes and seeds for every method."""
    e = r.settings.eval
    return [evaluate(policy, r.make_env, e.episodes, target, seed=e.seed,
                     max_steps=e.max_episode_steps or None) for target in targets]


def _evaluate_group(rs: list[ResolvedRun], policies: list[BatchPolicy],
                    targets: tuple[float | None, ...]) -> list[list[EvalResult]]:
    """`_evaluate` of a group's members (one cell: the same evaluation settings), all
    members' episodes in one lock-step per target; one list of results per member."""
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
