"""Configuration dataclasses: one line of doc per field (cleanrl/CORL style).

A domain registers one `Settings` per profile (`smoke`, `quick`, `paper`); a run stores the
resolved settings in its folder so every number can be traced to the exact values used.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

from dtbench.errors import DTBenchError

PROFILES = ("smoke", "quick", "paper")


@dataclass(frozen=True)
class ModelConfig:
    """Decision Transformer architecture."""

    context_len: int = 20  # K: timesteps of (R, s, a) in one context window (3K tokens)
    embed_dim: int = 128  # width of every token embedding and of the GPT-2 residual stream
    n_layer: int = 3  # GPT-2 blocks
    n_head: int = 1  # attention heads per block
    dropout: float = 0.1  # embedding, residual and attention dropout
    activation: str = "relu"  # GPT-2 MLP nonlinearity ("relu" Gym, "gelu_new" Atari)
    max_ep_len: int = 1000  # size of the timestep embedding; later timesteps are clamped
    action_tanh: bool = True  # squash continuous actions with tanh (ignored for discrete)
    condition_on_return: bool = True  # False: every return token carries 0, a return-blind
    # model (a critic must predict the return, not be told it; see train.return_loss_weight)


@dataclass(frozen=True)
class TrainConfig:
    """Optimiser, schedule and training length."""

    steps: int = 100_000  # gradient steps
    batch_size: int = 64  # context windows per step
    lr: float = 1e-4  # peak learning rate (AdamW)
    betas: tuple[float, float] = (0.9, 0.999)  # AdamW betas
    weight_decay: float = 1e-4  # AdamW weight decay
    decay_all_params: bool = True  # decay every parameter (official Gym) vs matrices only (Atari)
    warmup_steps: int = 10_000  # linear warm-up from 0 to lr
    schedule: Literal["constant", "cosine"] = "constant"  # after warm-up: constant or cosine
    min_lr_ratio: float = 0.1  # cosine floor as a fraction of lr
    grad_clip: float = 0.25  # max global gradient norm
    return_loss_weight: float = 0.0  # > 0: also train the return head, weighted so, to predict
    # R_t (scaled) from the a_t token (DT as a critic; the paper's loss is on actions only)
    log_every: int = 100  # steps between metric rows
    checkpoint_every: int = 1_000  # steps between checkpoints (resume point)


@dataclass(frozen=True)
class EvalConfig:
    """Return-conditioned evaluation."""

    episodes: int = 100  # episodes per target return, stepped together
    target_returns: tuple[float, ...] = (3600.0,)  # initial return-to-go values
    return_scale: float = 1000.0  # RTG is divided by this in training and evaluation
    greedy: bool = True  # discrete actions: argmax (True) or sample from the softmax
    seed: int = 10_000  # episode i is reset with seed + i (same for every algorithm)
    max_episode_steps: int = 0  # cap on an evaluation episode, in agent steps (0: the env's own)
    rtg_rewards: Literal["raw", "clipped"] = "raw"  # rewards the return-to-go is built from, in
    # training and in evaluation alike (clipped = sign, DQN's); scores always use raw rewards
    target_sweep: int = 0  # > 0: evaluate at this many targets, evenly spaced from the data's
    # worst episode return to 1.5x its best, instead of `target_returns` (achieved vs target)
    during_training: int = 0  # evaluations before the final one, evenly spaced over training
    # (each at every target, `episodes` episodes); they make curve.csv and the "best" scores
    cap_at_data_best: bool = False  # start each episode at min(target, the best return of the
    # data's episodes that started in the same state): a prior for "the highest return possible
    # from here" (exact-match states, e.g. graph nodes; unseen start states keep the target)
    sticky_actions: float = 0.0  # Atari: ALE repeat_action_probability when evaluating (the
    # paper: 0; the DQN-replay data was collected with 0.25)


# EvalConfig fields that change only how a trained policy is evaluated (return_scale and
# rtg_rewards also shape the training RTGs; evaluations during training could touch RNGs)
EVAL_ONLY = frozenset({"episodes", "target_returns", "target_sweep", "greedy", "seed",
                       "max_episode_steps", "sticky_actions", "cap_at_data_best"})


@dataclass(frozen=True)
class BaselineConfig:
    """d3rlpy baselines (CQL, BC, %BC): what dtbench sets; the rest are d3rlpy's defaults."""

    steps: int = 100_000  # gradient steps (d3rlpy `n_steps`)
    batch_size: int = 256  # transitions per step
    hidden_units: tuple[int, ...] = (256, 256)  # MLP encoder widths for vector observations
    gamma: float = 0.99  # discount (CQL)
    lr: float = 1e-4  # BC learning rate; CQL's critic (and discrete Q) learning rate
    actor_lr: float = 1e-4  # continuous CQL actor learning rate
    cql_alpha: float = 5.0  # continuous CQL conservative weight (d3rlpy default)
    discrete_cql_alpha: float = 1.0  # discrete CQL alpha (d3rlpy default)
    log_every: int = 1_000  # steps between rows of metrics.csv


@dataclass(frozen=True)
class Settings:
    """Everything a run needs besides the data: one per (domain, profile)."""

    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    baseline: BaselineConfig = field(default_factory=BaselineConfig)

    def override(self, assignments: dict[str, Any]) -> Settings:
        """Apply dotted overrides such as {"train.steps": 10, "model.context_len": 5}."""
        parts = {"model": self.model, "train": self.train, "eval": self.eval,
                 "baseline": self.baseline}
        for key, value in assignments.items():
            section, _, name = key.partition(".")
            known = {f.name for f in dataclasses.fields(parts[section])} if section in parts else ()
            if name not in known:
                raise DTBenchError(
                    f"unknown setting {key!r}; use section.field with section in "
                    "model/train/eval/baseline"
                )
            current = getattr(parts[section], name)
            parts[section] = dataclasses.replace(parts[section], **{name: _coerce(value, current)})
        return Settings(**parts)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _coerce(value: Any, like: Any) -> Any:
    """Parse a CLI string into the type of the current value."""
    if not isinstance(value, str):
        return value
    if isinstance(like, bool):
        return value.lower() in ("1", "true", "yes")
    if isinstance(like, tuple):
        kind = type(like[0]) if like else float
        return tuple(kind(float(v)) for v in value.split(",")) if value else ()
    if isinstance(like, (int, float)):
        return type(like)(float(value)) if isinstance(like, int) else float(value)
    return value
