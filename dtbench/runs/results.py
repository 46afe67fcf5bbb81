"""What a run writes besides its algorithm's own files: config.json, eval.csv, curve.csv and,
last and atomically, result.json; and the one-line summaries printed as runs finish."""

from __future__ import annotations

import os
import platform
import subprocess
from collections.abc import Callable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from dtbench import hardware
from dtbench.atomic import atomic_write
from dtbench.contract import RunSpec
from dtbench.data.store import TrajectoryStore
from dtbench.evaluation import EvalResult
from dtbench.runtime import PROJECT_ROOT

RESULT = "result.json"
CONFIG = "config.json"
EVAL = "eval.csv"
CURVE = "curve.csv"

Normalize = Callable[[np.ndarray], np.ndarray]  # raw returns -> the task's scores


def result_lines(spec: RunSpec, result: Mapping[str, Any]) -> list[str]:
    """One line per evaluated target of a finished run, for progress output."""
    lines = []
    for t in result["targets"]:
        target = "" if t["target_return"] is None else f" target={t['target_return']:g}"
        lines.append(f"{spec.describe()}{target}: {result['score_label']} "
                     f"{t['score_mean']:.1f} (return {t['return_mean']:.2f}, {t['episodes']} "
                     "episodes)")
    return lines


def summarise(e: EvalResult, normalize: Normalize) -> dict[str, Any]:
    """One target's evaluation as result.json reports it."""
    scores = normalize(e.returns)
    return {
        "target_return": e.target_return,
        "episodes": len(e.returns),
        "return_mean": float(np.mean(e.returns)),
        "return_std": float(np.std(e.returns)),
        "score_mean": float(np.mean(scores)),
        "score_std": float(np.std(scores)),
        "length_mean": float(np.mean(e.lengths)),
    }


def data_scores(store: TrajectoryStore, normalize: Normalize) -> dict[str, float]:
    """The training data's own episodes on the score scale: what "as good as the data" means."""
    scores = normalize(store.episode_returns)
    return {"data_score_mean": float(np.mean(scores)), "data_score_max": float(np.max(scores))}


def append_curve(path: Path, step: int, evals: list[EvalResult],
                 normalize: Normalize) -> pd.DataFrame:
    """Add one evaluation's scores at `step` to curve.csv and return the curve. Rows at `step`
    or later are dropped first: they belong to an interrupted attempt that is being redone."""
    rows = pd.read_csv(path) if path.exists() else pd.DataFrame()
    if not rows.empty:
        rows = rows[rows["step"] < step]
    new = pd.DataFrame([{"step": step, "target_return": e.target_return,
                         "episodes": len(e.returns),
                         "return_mean": float(np.mean(e.returns)),
                         "score_mean": float(np.mean(normalize(e.returns)))}
                        for e in evals])
    curve = pd.concat([rows, new], ignore_index=True) if not rows.empty else new
    with atomic_write(path) as tmp:
        curve.to_csv(tmp, index=False)
    return curve


def best_on_curve(curve: pd.DataFrame, target: float | None) -> dict[str, Any]:
    """The best evaluation of the run at this target (the final one when it has no curve)."""
    rows = curve[curve["target_return"].isna()] if target is None \
        else curve[curve["target_return"] == target]
    best = rows.loc[rows["score_mean"].idxmax()]
    return {"best_score_mean": float(best["score_mean"]), "best_step": int(best["step"]),
            "evaluations": len(rows)}


def write_eval_csv(path: Path, evals: list[EvalResult], normalize: Normalize) -> None:
    """Every evaluation episode: target, episode, seed, return, length, score."""
    frames = [pd.DataFrame({"target_return": e.target_return, "episode": np.arange(len(e.returns)),
                            "seed": e.seeds, "return": e.returns, "length": e.lengths,
                            "score": normalize(e.returns)}) for e in evals]
    with atomic_write(path) as tmp:
        pd.concat(frames).to_csv(tmp, index=False)


def training_time_split(metrics: Path, time_columns: Mapping[str, str]) -> dict[str, float]:
    """Seconds spent in each phase (sampling, updating) over the whole run (resumed parts
    included), from the per-row mean seconds per step in the algorithm's metrics file and the
    columns it declares; {} when it has none."""
    if not time_columns or not metrics.exists():
        return {}
    try:
        rows = pd.read_csv(metrics)
    except (pd.errors.ParserError, pd.errors.EmptyDataError):
        return {}  # timings are informative only; a damaged log must not fail the run
    if rows.empty or "step" not in rows:
        return {}
    steps = rows["step"].diff().fillna(rows["step"].iloc[0])
    return {name: round(float((rows[column] * steps).sum()), 2)
            for name, column in time_columns.items() if column in rows}


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
        "hardware": hardware.identity(str(device)),
    }
