"""The run contract: what names a run (`RunSpec`), what an algorithm provides (`Algo`) and what
its train function is given (`RunContext`).

This module sits below the registry and every algorithm: an algorithm (DT, a d3rlpy baseline,
a plug-in) needs only this contract, never the code that resolves or executes runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from dtbench.config import Settings, parse_overrides, value_text
from dtbench.tracking import NoTracker, Tracker

if TYPE_CHECKING:
    import gymnasium as gym
    import torch

    from dtbench.data.store import TrajectoryStore
    from dtbench.evaluation import BatchPolicy

ActionKind = Literal["continuous", "discrete"]
Overrides = tuple[tuple[str, Any], ...]


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
    overrides: Overrides = ()
    """Settings changed from the profile's (an ablation), as sorted (key, typed value) pairs,
    e.g. (("model.context_len", 1),); part of the run's identity."""

    def __post_init__(self) -> None:
        # Text from the command line, a dict's items or stored JSON pairs all become the same
        # sorted, typed pairs, so equal settings always name the same run.
        object.__setattr__(self, "overrides", canonical(dict(self.overrides)))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunSpec:
        """A spec as stored in result.json / config.json (`asdict` of one)."""
        return cls(**{**data, "overrides": tuple(tuple(pair) for pair in
                                                 data.get("overrides", ()))})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def task_path(self) -> str:
        """`domain/task`, as the command line names it."""
        return f"{self.domain}/{self.task}"

    @property
    def algo_label(self) -> str:
        """The algorithm with its overrides, e.g. `dt@model.context_len=1`."""
        return f"{self.algo}@{overrides_label(self.overrides)}" if self.overrides else self.algo

    def folder(self, root: Path) -> Path:
        dataset = self.dataset.replace(":", "-").replace("/", "+")  # minari:<id> names
        return (root / "runs" / self.domain / self.task / dataset / self.variant
                / self.algo_label / self.profile / f"seed{self.seed}")

    def describe(self) -> str:
        """One-line name of the run for progress output."""
        return (f"{self.task_path} {self.dataset} {self.variant} {self.algo_label} "
                f"seed={self.seed}")


def canonical(overrides: Mapping[str, Any] | None) -> Overrides:
    """Overrides as a spec field: sorted (key, typed value) pairs (bad keys/values raise)."""
    return tuple(parse_overrides(overrides or {}).items())


def overrides_label(overrides: Sequence[tuple[str, Any]]) -> str:
    """`key=value,key=value`: the one place overrides become text (folder names, the
    `overrides` column of runs.csv). Derived only, never parsed back."""
    return ",".join(f"{k}={value_text(v)}" for k, v in overrides)


@dataclass(frozen=True)
class Algo:
    """What an algorithm provides: DT, a baseline or a plug-in's method.

    `train(ctx)` trains on `ctx.store`, resuming from its own files in `ctx.run_dir` when a
    previous attempt left them, and returns a `BatchPolicy` that the shared evaluator steps."""

    name: str  # command-line name, e.g. "dt", "cql", "bc10"
    action_kinds: tuple[ActionKind, ...]  # which domains it can run on
    train: Callable[[RunContext], BatchPolicy]  # trains (or resumes) and returns a policy
    description: str = ""  # one line for `dtbench list`
    conditions_on_return: bool = False  # evaluated at each target return (DT) or once
    steps: Callable[[Settings], int] = lambda s: s.baseline.steps
    """Its training length, for progress reports."""
    checkpoint_files: tuple[str, ...] = ()
    """Files in the run folder that hold its trained state: `dtbench eval` needs them,
    evaluation-only ablations start from the plain run's."""
    metrics_file: str | None = None
    """Its per-row training log in the run folder (with a `step` column), read for progress
    and timings; None: it logs nothing."""
    time_columns: Mapping[str, str] = field(default_factory=dict)
    """The metrics column holding the mean seconds per step of each phase:
    {"sample_s": ..., "update_s": ...}."""
    train_group: Callable[[list[RunContext]], list[BatchPolicy]] | None = None
    """Trains several seeds of one cell together (DT: one vmapped model, `training.Stacked`),
    each context its own run, and returns their policies in order; None: its runs train one at
    a time."""
    fixed_settings: Mapping[ActionKind, Mapping[str, Any]] = field(default_factory=dict)
    """Settings it always runs with on each action kind, applied over the profile's (and
    stored in the run's config.json), e.g. the paper's Atari BC:
    {"discrete": {"model.tokens": "sa"}}."""
    reads: tuple[str, ...] = ("model", "train", "eval", "baseline")
    """The settings its numbers depend on, as sections ("eval") or single settings
    ("baseline.bc_lr"): a finished run is stale when one of them, resolved now, differs from
    what the run recorded (`runs.stale`), so that adopting DT's tuned lr, or BC's, leaves a CQL
    run current. A plug-in is assumed to read every section."""


@dataclass
class RunContext:
    """Everything an algorithm's train function receives."""

    spec: RunSpec  # the run (seed, variant, ...)
    settings: Settings  # the profile's settings with the run's overrides applied
    store: TrajectoryStore  # the training data (reward variant already applied)
    run_dir: Path  # the run's folder: checkpoints and metrics go here
    device: torch.device  # where to train
    encoder: str  # the domain's registered state encoder (see dtbench.models.encoders)
    action_kind: ActionKind  # continuous or discrete
    action_space: gym.Space  # the task environment's action space
    make_env: Callable[[], gym.Env]  # a fresh environment of the task, for rollouts
    progress: bool = True  # show a progress bar
    targets: tuple[float | None, ...] = (None,)  # target returns it is evaluated at
    during_training: Callable[[int, Sequence[BatchPolicy]], None] = lambda step, policies: None
    """Set by the executor: evaluates the policies of the runs trained together (this one
    alone, or each member of its group, in order) at `step`, in one lock-step, and records
    each in its own run's learning curve."""
    tracker: Tracker = field(default_factory=NoTracker)
    """Set by the executor: TensorBoard (and W&B) scalars of the run; training logs its
    metrics rows to it."""
    evaluate_only: bool = False
    """Set by the executor for `dtbench eval`: load the trained state from the checkpoint
    files and train no step; a state that is missing, unreadable or short of the run's steps
    raises `errors.NotTrained` (one line) and leaves every file as it was."""

    @property
    def n_actions(self) -> int | None:
        """Number of discrete actions (None for continuous actions)."""
        return int(self.action_space.n) if self.action_kind == "discrete" else None

    def eval_steps(self, total: int) -> frozenset[int]:
        """Training steps (of `total`) after which to evaluate during training."""
        n = self.settings.eval.during_training
        return frozenset(round(total * i / (n + 1)) for i in range(1, n + 1)) - {0, total}

    def evaluate_during(self, step: int, policy: BatchPolicy) -> None:
        """Evaluate a run trained alone mid-training (every target); the scores go to the
        run's curve.csv."""
        self.during_training(step, [policy])
