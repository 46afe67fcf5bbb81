"""One run = (domain/task, dataset, reward variant, algorithm, profile, seed).

A run owns a folder under `results/runs/` holding its full config (with package versions, git
commit and hardware), training metrics, per-episode evaluation returns and, written last and
atomically, `result.json`. A run whose `result.json` exists is finished and is not run again.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import platform
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from dtbench import registry
from dtbench.atomic import atomic_write, write_json
from dtbench.config import EVAL_ONLY, Settings
from dtbench.data import minari_io
from dtbench.data.store import TrajectoryStore
from dtbench.data.transforms import delayed_rewards
from dtbench.errors import DTBenchError
from dtbench.evaluation import BatchPolicy, EvalResult, evaluate
from dtbench.parallel import map_in_processes
from dtbench.runtime import (
    DEFAULT_RESULTS_DIR,
    PROJECT_ROOT,
    resolve_device,
    seed_everything,
    setup,
)

RESULT = "result.json"
CURVE = "curve.csv"
REWARD_VARIANTS = ("dense", "delayed")


@dataclass(frozen=True)
class RunSpec:
    """What identifies a run; everything else is derived from the registry and profile."""

    domain: str  # registered domain, e.g. "keydoor"
    task: str  # task of the domain, e.g. "keydoor" or "hopper"
    dataset: str  # dataset short name, e.g. "random-1k"
    algo: str = "dt"  # registered algorithm
    seed: int = 0  # training seed (evaluation seeds come from the settings)
    profile: str = "quick"  # smoke | quick | paper
    variant: str = "dense"  # reward variant: dense or delayed (sparse)
    overrides: tuple[tuple[str, str], ...] = ()  # settings changed from the profile's (an
    # ablation, e.g. (("model.context_len", "1"),)); part of the run's identity and folder

    def folder(self, root: Path) -> Path:
        return (root / "runs" / self.domain / self.task / self.dataset / self.variant
                / self.algo_label / self.profile / f"seed{self.seed}")

    @property
    def algo_label(self) -> str:
        """The algorithm with its overrides, e.g. `dt@model.context_len=1`."""
        return f"{self.algo}@{overrides_text(self.overrides)}" if self.overrides else self.algo

    @staticmethod
    def canonical(overrides: dict[str, Any] | None) -> tuple[tuple[str, str], ...]:
        """Overrides as a spec field: sorted (key, value-as-text) pairs."""
        return tuple(sorted((k, str(v)) for k, v in (overrides or {}).items()))


def overrides_text(overrides: Sequence[Sequence[str]]) -> str:
    """`key=value,key=value`: how overrides name a run's folder and its rows in runs.csv."""
    return ",".join(f"{k}={v}" for k, v in overrides)


@dataclass
class RunContext:
    """Everything an algorithm's train function receives."""

    spec: RunSpec
    domain: registry.Domain
    task: registry.Task
    settings: Settings
    store: TrajectoryStore
    run_dir: Path
    device: torch.device
    progress: bool = True
    targets: tuple[float | None, ...] = (None,)  # target returns it is evaluated at

    def make_env(self):  # noqa: ANN201 - gymnasium.Env
        return self.domain.env(self.task, self.settings)

    def evaluate(self, policy: BatchPolicy) -> list[EvalResult]:
        """The run's evaluation: every target, the same episodes and seeds for every method."""
        e = self.settings.eval
        return [evaluate(policy, self.make_env, e.episodes, target, seed=e.seed,
                         max_steps=e.max_episode_steps or None) for target in self.targets]

    def eval_steps(self, total: int) -> frozenset[int]:
        """Training steps (of `total`) after which to evaluate during training."""
        n = self.settings.eval.during_training
        return frozenset(round(total * i / (n + 1)) for i in range(1, n + 1)) - {0, total}

    def evaluate_during(self, step: int, policy: BatchPolicy) -> None:
        """Evaluate mid-training and add the scores to curve.csv (the learning curve)."""
        _append_curve(self.run_dir / CURVE, step, self.evaluate(policy), self.domain,
                      self.task.name)


def run(
    spec: RunSpec,
    overrides: dict[str, Any] | None = None,
    results_root: Path = DEFAULT_RESULTS_DIR,
    device: str = "auto",
    progress: bool = True,
    reevaluate: bool = False,
) -> dict[str, Any]:
    """Train (or resume) and evaluate one run; return its result (cached when finished)."""
    setup()
    domain, task = registry.resolve(f"{spec.domain}/{spec.task}")
    dataset = registry.get_dataset(task, spec.dataset)
    algo = registry.get_algo(spec.algo)
    registry.check_fits(domain, algo)
    if spec.variant not in REWARD_VARIANTS:
        raise registry.unknown("reward variant", spec.variant, list(REWARD_VARIANTS))
    settings = domain.settings_for(task, spec.profile).override(
        {**dict(spec.overrides), **(overrides or {})})
    run_dir = spec.folder(results_root)
    result_path = run_dir / RESULT
    if result_path.exists() and not reevaluate:
        return json.loads(result_path.read_text())
    if reevaluate and not (run_dir / "checkpoint.pt").exists() and algo.name == "dt":
        raise DTBenchError(f"no trained run in {run_dir}; train it first with `dtbench train`")

    store = load_dataset(domain, task, dataset)
    check_compatible(store, domain, task, dataset.minari_id)
    if spec.variant == "delayed":
        store = delayed_rewards(store)
    run_dir.mkdir(parents=True, exist_ok=True)
    if spec.overrides and all(key.removeprefix("eval.") in EVAL_ONLY
                              for key, _ in spec.overrides):
        _reuse_training(spec, results_root)
    torch_device = resolve_device(device)
    config = {
        "spec": dataclasses.asdict(spec),
        "settings": settings.to_dict(),
        "overrides": overrides or {},
        "dataset": {"id": dataset.minari_id, "source": dataset.source, **store.summary(),
                    "provenance": minari_io.provenance(dataset.minari_id)},
        "environment": environment_info(torch_device),
    }
    write_json(run_dir / "config.json", config)

    seed_everything(spec.seed)
    targets = (None,)
    if algo.conditions_on_return:
        targets = (sweep_targets(store, settings.eval.target_sweep)
                   if settings.eval.target_sweep else tuple(settings.eval.target_returns))
    ctx = RunContext(spec, domain, task, settings, store, run_dir, torch_device, progress,
                     targets)
    t0 = time.perf_counter()
    policy = algo.train(ctx)
    train_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    evals = ctx.evaluate(policy)
    eval_s = time.perf_counter() - t1
    _write_eval_csv(run_dir / "eval.csv", evals, domain, task.name)
    curve = _append_curve(run_dir / CURVE, algo.steps(settings), evals, domain, task.name)
    result = {
        "spec": dataclasses.asdict(spec),
        "dataset_id": dataset.minari_id,
        "score_label": domain.score_label,
        "targets": [{**_summarise(e, domain, task.name), **_best(curve, e.target_return)}
                    for e in evals],
        "data": _data_scores(store, domain, task.name),
        "train_seconds": round(train_s, 2),
        "eval_seconds": round(eval_s, 2),
        "timing": {**_training_time_split(run_dir / "metrics.csv"), "eval_s": round(eval_s, 2)},
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    write_json(result_path, result)
    return json.loads(result_path.read_text())  # as stored, the same as a finished run's


def result_lines(spec: RunSpec, result: dict[str, Any]) -> list[str]:
    """One line per evaluated target of a finished run, for progress output."""
    lines = []
    for t in result["targets"]:
        target = "" if t["target_return"] is None else f" target={t['target_return']:g}"
        lines.append(f"{spec.domain}/{spec.task} {spec.dataset} {spec.variant} "
                     f"{spec.algo_label} seed={spec.seed}{target}: {result['score_label']} "
                     f"{t['score_mean']:.1f} (return {t['return_mean']:.2f}, {t['episodes']} "
                     "episodes)")
    return lines


def run_many(
    specs: list[RunSpec],
    overrides: dict[str, Any] | None = None,
    results_root: Path = DEFAULT_RESULTS_DIR,
    device: str = "auto",
    progress: bool = True,
    reevaluate: bool = False,
    jobs: int = 1,
    on_result: Callable[[RunSpec, dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Run several runs, `jobs` at a time in worker processes (in order when jobs == 1).

    See `dtbench.parallel`: each worker gets cores // jobs threads, and a failing run does not
    stop the others (every run that can finish writes its result, then the first error is
    raised).
    """
    specs = list(dict.fromkeys(specs))  # a run listed twice must not train twice at once
    if jobs <= 1 or len(specs) <= 1:
        results = []
        for spec in specs:
            results.append(run(spec, overrides, results_root, device, progress, reevaluate))
            if on_result is not None:
                on_result(spec, results[-1])
        return results
    one_run = functools.partial(run, overrides=overrides, results_root=results_root,
                                device=device, progress=False, reevaluate=reevaluate)
    return map_in_processes(one_run, specs, jobs, on_result)


def sweep_targets(store: TrajectoryStore, points: int) -> tuple[float, ...]:
    """`points` target returns from the data's worst episode return to 1.5x its best."""
    returns = store.episode_returns
    low, high = float(returns.min()), float(returns.max())
    top = high * 1.5 if high > 0 else high * 0.5  # above the best, whatever its sign
    return tuple(round(float(t), 4) for t in np.linspace(low, top, points))


def _reuse_training(spec: RunSpec, results_root: Path) -> None:
    """A run that only changes how it is evaluated trains exactly as the plain run (same
    settings, same seed): start from the plain run's checkpoints when they exist, so training
    resumes at its end and only the evaluation runs; otherwise it trains from scratch."""
    base = dataclasses.replace(spec, overrides=()).folder(results_root)
    target = spec.folder(results_root)
    for name in ("checkpoint.pt", "d3rlpy_checkpoint.pt", "metrics.csv"):
        if (base / name).exists() and not (target / name).exists():
            shutil.copy2(base / name, target / name)


def make_datasets(spec: str, names: Sequence[str] = (), budget: str = "quick",
                  force: bool = False) -> list[str]:
    """Make a task's local datasets (all makeable ones when `names` is empty) that are missing
    (all of them with `force`); return one line per dataset saying what was done."""
    setup()
    _, task = registry.resolve(spec)
    wanted = [registry.get_dataset(task, n) for n in names
              or [n for n, ds in task.datasets.items() if ds.make is not None]]
    for ds in wanted:
        if ds.make is None:
            raise DTBenchError(f"dataset {ds.minari_id} cannot be made locally; {ds.how_to_get}")
    if force:  # remade from scratch (MuJoCo reuses its checkpointed SAC run)
        for ds in wanted:
            shutil.rmtree(minari_io.dataset_dir(ds.minari_id), ignore_errors=True)
    present = {ds.minari_id for ds in wanted if minari_io.is_complete(ds.minari_id)}
    for ds in wanted:
        if not minari_io.is_complete(ds.minari_id):  # one make can write several datasets
            ds.make(budget)
    lines = [f"{ds.minari_id}: present" if ds.minari_id in present
             else f"{ds.minari_id}: made in {minari_io.dataset_dir(ds.minari_id)}"
             for ds in wanted]
    return lines


def load_dataset(domain: registry.Domain, task: registry.Task,
                 dataset: registry.DatasetSpec) -> TrajectoryStore:
    """Load a registered dataset; make it first when it is local and missing."""
    how = dataset.how_to_get or (
        f"make it with `dtbench data make {domain.name}/{task.name} --dataset {dataset.name}`"
    )
    if dataset.load is not None:
        store = dataset.load(how)
    elif dataset.make is not None and not minari_io.is_complete(dataset.minari_id):
        raise DTBenchError(f"dataset {dataset.minari_id} is missing under "
                           f"{minari_io.minari_root()}; {how}")
    else:
        store = minari_io.load_store(dataset.minari_id, how_to_get=how,
                                     download=dataset.download)
    store.frame_stack = domain.frame_stack  # datasets of such domains hold single frames
    return store


def check_compatible(store: TrajectoryStore, domain: registry.Domain, task: registry.Task,
                     dataset_id: str) -> None:
    """The dataset's observations and actions must fit the task's environment."""
    env = domain.env(task)
    obs_shape, space = env.observation_space.shape, env.action_space
    env.close()
    if store.obs_shape != tuple(obs_shape):
        raise DTBenchError(f"dataset {dataset_id} has observations of shape {store.obs_shape} "
                           f"but {task.env_id} expects {tuple(obs_shape)}; it belongs to another "
                           "task or is corrupt - remake or re-download it")
    if domain.action_kind == "discrete":
        n = getattr(space, "n", None)
        if not store.discrete or n is None or store.actions.max() >= n or store.actions.min() < 0:
            raise DTBenchError(f"dataset {dataset_id} actions do not fit {task.env_id}'s "
                               f"Discrete({n}) action space; remake or re-download it")
    elif store.discrete or store.actions.shape[1:] != space.shape:
        raise DTBenchError(f"dataset {dataset_id} actions of shape {store.actions.shape[1:]} do "
                           f"not fit {task.env_id}'s {space.shape}; remake or re-download it")


# Per-step seconds in metrics.csv: dtbench's DT loop, then d3rlpy's fitter.
_TIME_COLUMNS = {"sample_s": ("sample_s", "time_sample_batch"),
                 "update_s": ("update_s", "time_algorithm_update")}


def _training_time_split(metrics: Path) -> dict[str, float]:
    """Seconds spent sampling batches and updating over the whole run (resumed parts included),
    from the per-row step averages of its metrics.csv; {} when it has none."""
    if not metrics.exists():
        return {}
    rows = pd.read_csv(metrics)
    if rows.empty or "step" not in rows:
        return {}
    steps = rows["step"].diff().fillna(rows["step"].iloc[0])
    split = {}
    for name, columns in _TIME_COLUMNS.items():
        column = next((c for c in columns if c in rows), None)
        if column is not None:
            split[name] = round(float((rows[column] * steps).sum()), 2)
    return split


def _data_scores(store: TrajectoryStore, domain: registry.Domain, task: str) -> dict[str, float]:
    """The training data's own episodes on the score scale: what "as good as the data" means."""
    scores = domain.normalize(task, store.episode_returns)
    return {"data_score_mean": float(np.mean(scores)), "data_score_max": float(np.max(scores))}


def _summarise(e: EvalResult, domain: registry.Domain, task: str) -> dict[str, Any]:
    scores = domain.normalize(task, e.returns)
    return {
        "target_return": e.target_return,
        "episodes": len(e.returns),
        "return_mean": float(np.mean(e.returns)),
        "return_std": float(np.std(e.returns)),
        "score_mean": float(np.mean(scores)),
        "score_std": float(np.std(scores)),
        "length_mean": float(np.mean(e.lengths)),
    }


def _append_curve(path: Path, step: int, evals: list[EvalResult], domain: registry.Domain,
                  task: str) -> pd.DataFrame:
    """Add one evaluation's scores at `step` to curve.csv and return the curve. Rows at `step`
    or later are dropped first: they belong to an interrupted attempt that is being redone."""
    rows = pd.read_csv(path) if path.exists() else pd.DataFrame()
    if not rows.empty:
        rows = rows[rows["step"] < step]
    new = pd.DataFrame([{"step": step, "target_return": e.target_return,
                         "episodes": len(e.returns),
                         "return_mean": float(np.mean(e.returns)),
                         "score_mean": float(np.mean(domain.normalize(task, e.returns)))}
                        for e in evals])
    curve = pd.concat([rows, new], ignore_index=True) if not rows.empty else new
    with atomic_write(path) as tmp:
        curve.to_csv(tmp, index=False)
    return curve


def _best(curve: pd.DataFrame, target: float | None) -> dict[str, Any]:
    """The best evaluation of the run at this target (the final one when it has no curve)."""
    rows = curve[curve["target_return"].isna()] if target is None \
        else curve[curve["target_return"] == target]
    best = rows.loc[rows["score_mean"].idxmax()]
    return {"best_score_mean": float(best["score_mean"]), "best_step": int(best["step"]),
            "evaluations": len(rows)}


def _write_eval_csv(path: Path, evals: list[EvalResult], domain: registry.Domain,
                    task: str) -> None:
    frames = [pd.DataFrame({"target_return": e.target_return, "episode": np.arange(len(e.returns)),
                            "seed": e.seeds, "return": e.returns, "length": e.lengths,
                            "score": domain.normalize(task, e.returns)}) for e in evals]
    with atomic_write(path) as tmp:
        pd.concat(frames).to_csv(tmp, index=False)


def environment_info(device: torch.device) -> dict[str, Any]:
    """Versions of the key packages, git commit and hardware, for the run's config."""
    versions = {}
    for pkg in ("dtbench", "torch", "transformers", "gymnasium", "minari", "d3rlpy", "numpy",
                "mujoco", "ale-py"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT,
                                capture_output=True, text=True, timeout=5).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        commit = None
    return {
        "versions": versions,
        "git_commit": commit,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "device": str(device),
        "cuda_device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }


def collect(results_root: Path = DEFAULT_RESULTS_DIR) -> pd.DataFrame:
    """One tidy row per (finished run, target return), derived from the run folders."""
    rows = []
    for path in sorted((results_root / "runs").glob("**/" + RESULT)):
        result = json.loads(path.read_text())
        for target in result["targets"]:
            spec = {**result["spec"],  # "" when none (and in runs stored before overrides)
                    "overrides": overrides_text(result["spec"].get("overrides", ()))}
            rows.append({**spec, "dataset_id": result["dataset_id"],
                         "score_label": result["score_label"], **target,
                         **result.get("data", {}),  # absent in runs stored before it was
                         "train_seconds": result["train_seconds"],
                         "eval_seconds": result["eval_seconds"]})
    return pd.DataFrame(rows)


def write_table(results_root: Path = DEFAULT_RESULTS_DIR) -> Path:
    """Regenerate `results/runs.csv` from the run folders (never edited by hand)."""
    path = results_root / "runs.csv"
    collect(results_root).to_csv(path, index=False)
    return path
