"""The one bridge to d3rlpy: a dtbench store becomes an `MDPDataset`, a trained d3rlpy algorithm
becomes a batched policy the shared evaluator can step. The d3rlpy baselines (`baselines/`) and
the MuJoCo data generator (SAC) both go through it.

Why each choice:
* `terminals` are the store's `terminated` flags and `timeouts` mark every other episode end
  (truncated, or a data-collection boundary), so d3rlpy bootstraps exactly where the MDP goes
  on. d3rlpy drops the last transition of a non-terminated episode (its next observation is
  not stored); nothing is shifted: observation t is the one action t was taken in.
* Losses and timings go to the run's `metrics.csv`, one row per `log_every` steps; d3rlpy's own
  logger is the no-op one, so no `d3rlpy_logs/` folder ever appears. At each row the weights
  and optimiser states are checkpointed too, so a killed run resumes from its last row.
* `import d3rlpy` imports the old `gym`, which prints a deprecation notice; that one import's
  stderr is swallowed, and d3rlpy's structlog messages below warning level are dropped.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import structlog
import torch

from dtbench.atomic import atomic_write, set_aside
from dtbench.config import BaselineConfig
from dtbench.contract import RunContext
from dtbench.data.store import TrajectoryStore
from dtbench.errors import DTBenchError, NotTrained
from dtbench.tracking import TENSORBOARD_DIR

with contextlib.redirect_stderr(io.StringIO()):
    import d3rlpy

# d3rlpy reports through structlog at info level (dataset signatures, ...); keep warnings only.
structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

# the run folder's files (baselines/registry.py declares the same names on each Algo)
METRICS = "metrics.csv"
CHECKPOINT = "d3rlpy_checkpoint.pt"

def to_mdp_dataset(
    store: TrajectoryStore, n_actions: int | None = None
) -> d3rlpy.dataset.MDPDataset:
    """The store as a d3rlpy `MDPDataset` (same steps, same episode boundaries)."""
    last = np.zeros(store.num_steps, dtype=bool)
    last[store.episode_starts[1:] - 1] = True
    if np.any(store.terminated & ~last):
        raise DTBenchError("dataset has `terminated` inside an episode; it is corrupt")
    terminals = (store.terminated & last).astype(np.float32)
    timeouts = (last & ~store.terminated).astype(np.float32)
    kwargs: dict[str, Any] = {}
    if store.discrete:
        kwargs = {"action_space": d3rlpy.ActionSpace.DISCRETE, "action_size": n_actions}
    else:
        kwargs = {"action_space": d3rlpy.ActionSpace.CONTINUOUS}
    actions = store.actions if not store.discrete else store.actions.reshape(-1, 1)
    observations = store.observations
    if store.frame_stack > 1:  # frames stored once (N, 1, H, W); d3rlpy stacks them when it
        # samples, zero-padded before an episode's start (a store's `lead_frames`, DQN-replay's
        # official stacks over an episode's first 3 steps, have no place in d3rlpy's dataset)
        observations = observations[:, None]
        kwargs["transition_picker"] = d3rlpy.dataset.FrameStackTransitionPicker(
            store.frame_stack)
        kwargs["trajectory_slicer"] = d3rlpy.dataset.FrameStackTrajectorySlicer(
            store.frame_stack)  # the same for K-step windows (d3rlpy's Atari DT)
    return d3rlpy.dataset.MDPDataset(
        observations=observations, actions=actions, rewards=store.rewards,
        terminals=terminals, timeouts=timeouts, **kwargs,
    )


def components(ctx: RunContext) -> dict[str, Any]:
    """Encoder and observation scaler for the domain: MLP + standardisation for vector states,
    d3rlpy's Nature-DQN pixel encoder + /255 for uint8 frames."""
    hidden = list(ctx.settings.baseline.hidden_units)
    if ctx.store.observations.dtype == np.uint8:
        return {"encoder_factory": d3rlpy.models.PixelEncoderFactory(),
                "observation_scaler": d3rlpy.preprocessing.PixelObservationScaler()}
    return {"encoder_factory": d3rlpy.models.VectorEncoderFactory(hidden_units=hidden),
            "observation_scaler": d3rlpy.preprocessing.StandardObservationScaler()}


class D3rlpyPolicy:
    """A trained d3rlpy algorithm stepped by the shared evaluator (one call for all episodes)."""

    def __init__(self, algo: Any) -> None:
        self.algo = algo

    def reset(self, n_episodes: int, target_return: float | None) -> None:
        pass

    def act(self, obs: np.ndarray, live: np.ndarray) -> np.ndarray:
        actions = np.zeros((len(obs), *self._shape(obs)), dtype=self._dtype)
        if live.any():
            actions[live] = self.algo.predict(obs[live])
        return actions

    def observe(self, rewards: np.ndarray, live: np.ndarray) -> None:
        pass

    @property
    def _dtype(self) -> type:
        return np.float32 if self._continuous else np.int64

    @property
    def _continuous(self) -> bool:
        return self.algo.get_action_type() == d3rlpy.ActionSpace.CONTINUOUS

    def _shape(self, obs: np.ndarray) -> tuple[int, ...]:
        return (self.algo.action_size,) if self._continuous else ()


def train_d3rlpy(ctx: RunContext, make_config: Callable[[BaselineConfig, dict[str, Any]], Any],
                 store: TrajectoryStore | None = None) -> D3rlpyPolicy:
    """Fit the d3rlpy algorithm `make_config` builds on `store` (default: the run's data)."""
    store = ctx.store if store is None else store
    cfg = ctx.settings.baseline
    d3rlpy.seed(ctx.spec.seed)
    dataset = to_mdp_dataset(store, ctx.n_actions)
    config = make_config(cfg, components(ctx))
    device = "cuda:0" if ctx.device.type == "cuda" else "cpu:0"
    algo = config.create(device=device)
    start, rows = _resume(ctx.run_dir / CHECKPOINT, algo, dataset, ctx.evaluate_only)
    if ctx.evaluate_only and start < cfg.steps:
        raise NotTrained(f"{CHECKPOINT} is at step {start} of {cfg.steps}" if start
                         else f"no {CHECKPOINT}")
    if start < cfg.steps:
        fit = functools.partial(
            algo.fitter, dataset,
            # d3rlpy's own TensorBoard adapter: <run>/tensorboard/runs/d3rlpy
            logger_adapter=d3rlpy.logging.TensorboardAdapterFactory(
                root_dir=str(ctx.run_dir / TENSORBOARD_DIR)),
            experiment_name="d3rlpy", with_timestamp=False,
            show_progress=ctx.progress,
            save_interval=10**9,
        )
        t0 = time.perf_counter() - (rows[-1]["seconds"] if rows else 0.0)
        eval_at = ctx.eval_steps(cfg.steps)  # each done at the first metrics row past it
        step = start
        with contextlib.redirect_stdout(io.StringIO()):  # d3rlpy prints its config at start
            for size, metrics in _epochs(fit, cfg.steps - start, cfg.log_every):
                before, step = step, step + size
                rows.append({"step": step, "seconds": round(time.perf_counter() - t0, 3),
                             **metrics})
                _save(ctx.run_dir / CHECKPOINT, algo, step, rows)
                _write_metrics(ctx.run_dir / METRICS, rows)
                ctx.tracker.log(step, {f"train/{k}": v for k, v in metrics.items()},
                                tensorboard=False)  # d3rlpy's adapter wrote those
                if any(before < s <= step for s in eval_at):
                    ctx.evaluate_during(step, D3rlpyPolicy(algo))
    return D3rlpyPolicy(algo)


def _epochs(fit: Callable[..., Any], steps: int, per_epoch: int
            ) -> Iterator[tuple[int, dict[str, float]]]:
    """(its steps, its metrics) for each epoch of `steps` gradient steps, `per_epoch` at a time.
    d3rlpy's fitter trains whole epochs only (n_steps // n_steps_per_epoch of them), so the
    remainder, when `per_epoch` does not divide `steps`, is fitted as one shorter epoch last:
    the run trains exactly `steps` steps whatever the logging interval."""
    whole, rest = divmod(steps, per_epoch)
    for n, size in ((whole * per_epoch, per_epoch), (rest, rest)):
        if n:
            for _, metrics in fit(n_steps=n, n_steps_per_epoch=size):
                yield size, metrics


def _save(path: Path, algo: Any, step: int, rows: list[dict[str, Any]]) -> None:
    """Weights and optimiser states (d3rlpy's own checkpoint bytes), the step and the metric
    rows in one file, replaced atomically: a run killed at any moment resumes consistently."""
    buffer = io.BytesIO()
    algo.impl.save_model(buffer)
    with atomic_write(path) as tmp:
        torch.save({"step": step, "rows": rows, "algo": buffer.getvalue()}, tmp)


def _resume(path: Path, algo: Any, dataset: d3rlpy.dataset.MDPDataset,
            trained_only: bool = False) -> tuple[int, list[dict[str, Any]]]:
    """(steps done, metric rows) from the run's checkpoint, loading it into `algo`; (0, [])
    when there is none. Resumed training is not bit-identical to an uninterrupted run (d3rlpy's
    sampling RNG is not restored), unlike DT's. A checkpoint that cannot be read is set aside
    and training starts from scratch; with `trained_only` (evaluating again) it raises
    `NotTrained` instead and stays where it is."""
    if not path.exists():
        return 0, []
    from d3rlpy.algos.utility import build_scalers_with_transition_picker

    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
        if not isinstance(state, dict) or not {"step", "rows", "algo"} <= set(state):
            raise ValueError("not a dtbench d3rlpy checkpoint")
    except Exception as exc:  # noqa: BLE001 - torch raises many types for a damaged file
        why = str(exc) if isinstance(exc, ValueError) else type(exc).__name__
        if trained_only:
            raise NotTrained(f"{CHECKPOINT} could not be read ({why})") from None
        set_aside(path, why)
        return 0, []
    build_scalers_with_transition_picker(algo, dataset)  # fitting them is deterministic
    algo.build_with_dataset(dataset)
    algo.impl.load_model(io.BytesIO(state["algo"]))
    return int(state["step"]), list(state["rows"])


def _write_metrics(path: Path, rows: list[dict[str, Any]]) -> None:
    """Rewrite metrics.csv (small: one row per `log_every` steps) atomically."""
    fields = list(dict.fromkeys(k for row in rows for k in row))
    with atomic_write(path) as tmp, tmp.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
