"""Configuration dataclasses: one line of doc per field (cleanrl/CORL style).

A domain registers one `Settings` per profile (`smoke`, `quick`, `paper`); a run stores the
resolved settings in its folder so every number can be traced to the exact values used.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import typing
from collections.abc import Mapping
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
    activation: Literal["relu", "gelu", "gelu_new"] = "relu"  # GPT-2 MLP nonlinearity (relu Gym,
    # gelu_new Atari)
    max_ep_len: int = 1000  # size of the timestep embedding; later timesteps are clamped
    action_tanh: bool = True  # squash continuous actions with tanh (ignored for discrete)
    positions: Literal["per-step", "atari-global"] = "per-step"  # per-step: each step's own
    # timestep embedding on its tokens (official Gym); atari-global: one learned embedding of
    # the window's first timestep on every token, plus learned per-token positions, Tanh on the
    # return and action embeddings and no LayerNorm (official Atari minGPT)
    tokens: Literal["rsa", "sa"] = "rsa"  # (R, s, a) per step, or (s, a): no return tokens,
    # the paper's Atari BC (the official `--model_type naive`)
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
    schedule: Literal["constant", "cosine", "cosine-tokens"] = "constant"  # after warm-up:
    # constant or cosine over steps, or the official Atari warm-up and cosine over action tokens
    min_lr_ratio: float = 0.1  # cosine floor as a fraction of lr
    warmup_tokens: int = 0  # cosine-tokens: action tokens (B x K per step) of linear warm-up
    final_tokens: int = 0  # cosine-tokens: action tokens at which the cosine reaches its end
    grad_clip: float = 0.25  # max global gradient norm
    windows: Literal["official", "official-atari", "end-anchored"] = "official"  # how context
    # windows are drawn: the official Gym code's (uniform start, left padding), the official
    # Atari code's (full K steps, shifted back at an episode's end) or dtbench's (ending at a
    # uniform step, filled forward near an episode's start; see dtbench.data.sampler)
    return_loss_weight: float = 0.0  # > 0: also train the return head, weighted so, to predict
    # R_t (scaled) from the a_t token (DT as a critic; the paper's loss is on actions only)
    precision: Literal["fp32", "tf32", "bf16"] = "fp32"  # matmuls of the forward pass and
    # loss: fp32 (the paper), TF32 (CUDA) or bf16 autocast (dtbench.precision; make bench-gpu)
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
    lr: float = 1e-4  # BC's learning rate and discrete CQL's Q-network learning rate
    critic_lr: float = 3e-4  # continuous CQL critic learning rate (CQL paper, d3rlpy default)
    actor_lr: float = 1e-4  # continuous CQL actor learning rate (d3rlpy default)
    cql_alpha: float = 5.0  # continuous CQL conservative weight (d3rlpy default)
    discrete_cql_alpha: float = 1.0  # discrete CQL alpha (d3rlpy default)
    target_update_interval: int = 8_000  # discrete CQL: steps between target-network syncs
    # (d3rlpy's default), lowered to steps // 10 in shorter runs so the target syncs >= 10 times
    log_every: int = 1_000  # steps between rows of metrics.csv


@dataclass(frozen=True)
class Settings:
    """Everything a run needs besides the data: one per (domain, profile)."""

    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    baseline: BaselineConfig = field(default_factory=BaselineConfig)

    def override(self, assignments: Mapping[str, Any]) -> Settings:
        """Apply dotted overrides such as {"train.steps": 10, "model.context_len": "5"}; each
        value (text from the command line, or a Python value) is checked against the field's
        type first (`parse_overrides`)."""
        parts = {name: getattr(self, name) for name in SECTIONS}
        for key, value in parse_overrides(assignments).items():
            section, name = key.split(".")
            parts[section] = dataclasses.replace(parts[section], **{name: value})
        settings = Settings(**parts)
        settings.validate()
        return settings

    def validate(self) -> None:
        """Every value in its range (`RANGES`) and the fields that constrain each other
        consistent; the first problem is a one-line `DTBenchError` naming the setting."""
        for key, (low, high, inclusive_low) in RANGES.items():
            section, name = key.split(".")
            value = getattr(getattr(self, section), name)
            for v in value if isinstance(value, tuple) else (value,):
                too_low = v < low if inclusive_low else v <= low
                if too_low or (high is not None and v > high):
                    raise DTBenchError(f"setting {key}={value_text(value)}: must be "
                                       f"{_range_text(low, high, inclusive_low)}")
        m = self.model
        if m.embed_dim % m.n_head:
            raise DTBenchError(f"setting model.n_head={m.n_head}: must divide model.embed_dim="
                               f"{m.embed_dim} (e.g. n_head 1, 2 or 4 for width 64)")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# (lowest, highest or None, whether the lowest is allowed) per setting; tuples per element.
# Floats are finite already (`_float`).
_POSITIVE, _NON_NEGATIVE, _FRACTION = (1, None, True), (0, None, True), (0.0, 1.0, True)
RANGES: dict[str, tuple[float, float | None, bool]] = {
    **dict.fromkeys(("model.context_len", "model.embed_dim", "model.n_layer", "model.n_head",
                     "model.max_ep_len", "train.steps", "train.batch_size", "train.log_every",
                     "train.checkpoint_every", "eval.episodes", "baseline.steps",
                     "baseline.batch_size", "baseline.hidden_units", "baseline.log_every",
                     "baseline.target_update_interval"), _POSITIVE),
    **dict.fromkeys(("train.warmup_steps", "train.warmup_tokens", "train.final_tokens",
                     "train.weight_decay", "train.return_loss_weight",
                     "eval.seed", "eval.max_episode_steps", "eval.target_sweep",
                     "eval.during_training", "baseline.cql_alpha",
                     "baseline.discrete_cql_alpha"), _NON_NEGATIVE),
    **dict.fromkeys(("train.lr", "train.grad_clip", "eval.return_scale", "baseline.lr",
                     "baseline.critic_lr", "baseline.actor_lr"), (0.0, None, False)),
    **dict.fromkeys(("model.dropout", "train.min_lr_ratio", "eval.sticky_actions",
                     "baseline.gamma"), _FRACTION),
    "train.betas": (0.0, 1.0, True),
}


def _range_text(low: float, high: float | None, inclusive_low: bool) -> str:
    if high is not None:
        return f"between {low:g} and {high:g}"
    return f"at least {low:g}" if inclusive_low else f"greater than {low:g}"


SECTIONS = {"model": ModelConfig, "train": TrainConfig, "eval": EvalConfig,
            "baseline": BaselineConfig}


def parse_overrides(assignments: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted overrides with every value parsed into its field's type, sorted by key: the form
    in which a run stores them. A bad key or value is a one-line `DTBenchError`."""
    return {key: parse_value(key, value) for key, value in sorted(assignments.items())}


def field_type(key: str) -> Any:  # noqa: ANN401 - a typing annotation
    """The annotated type of a dotted setting, e.g. `train.steps` -> int."""
    section, _, name = key.partition(".")
    cls = SECTIONS.get(section)
    hints = typing.get_type_hints(cls) if cls is not None else {}
    if name not in hints:
        raise DTBenchError(f"unknown setting {key!r}; use section.field with section in "
                           f"{'/'.join(SECTIONS)} (fields: `dtbench list --settings`)")
    return hints[name]


def parse_value(key: str, value: Any) -> Any:  # noqa: ANN401 - any setting's value
    """`value` (command-line text or a Python value) as the type of setting `key`."""
    kind = field_type(key)
    try:
        return _parse(kind, value)
    except ValueError as exc:
        raise DTBenchError(f"setting {key}={_show(value)}: {exc}") from None


def _parse(kind: Any, value: Any) -> Any:  # noqa: ANN401 - recursive over annotations
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is Literal:
        if value not in args:
            raise ValueError(f"expected one of {', '.join(map(str, args))}")
        return value
    if origin is tuple:
        items = _items(value)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_parse(args[0], v) for v in items)
        if len(items) != len(args):
            raise ValueError(f"expected {len(args)} comma-separated values")
        return tuple(_parse(a, v) for a, v in zip(args, items, strict=True))
    if kind is bool:
        return _bool(value)
    if kind is int:
        return _int(value)
    if kind is float:
        return _float(value)
    if kind is str:
        if not isinstance(value, str):
            raise ValueError("expected text")
        return value
    raise ValueError(f"cannot set a field of type {kind}")  # pragma: no cover - a new type


def _items(value: Any) -> list[Any]:  # noqa: ANN401
    if isinstance(value, str):
        return [v.strip() for v in value.split(",")] if value.strip() else []
    if isinstance(value, (tuple, list)):
        return list(value)
    raise ValueError("expected comma-separated values, e.g. 1,2")


def _bool(value: Any) -> bool:  # noqa: ANN401
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if isinstance(value, (str, int)) else None
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise ValueError("expected true or false")


def _int(value: Any) -> int:  # noqa: ANN401
    if isinstance(value, bool):
        raise ValueError("expected a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip().replace("_", "")
        if text.lstrip("+-").isdigit():
            return int(text)
    raise ValueError("expected a whole number, e.g. 100")


def _float(value: Any) -> float:  # noqa: ANN401
    if isinstance(value, bool):
        raise ValueError("expected a number")
    number = None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        with contextlib.suppress(ValueError):
            number = float(value.strip())
    if number is None:
        raise ValueError("expected a number, e.g. 0.001")
    if not math.isfinite(number):
        raise ValueError("expected a finite number")
    return number


def _show(value: Any) -> str:  # noqa: ANN401
    return value if isinstance(value, str) else repr(value)


def value_text(value: Any) -> str:  # noqa: ANN401 - a parsed setting value
    """A parsed setting value as short text (folder names, tables): bools lower-case, floats
    without a needless ".0", tuples comma-separated; distinct values give distinct text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        short = f"{value:g}"
        return short if float(short) == value else repr(value)
    if isinstance(value, tuple):
        return ",".join(value_text(v) for v in value)
    return str(value)


def setting_types() -> dict[str, str]:
    """Every dotted setting `--set` accepts, with its type as text."""
    return {f"{section}.{name}": str(kind).replace("typing.", "")
            if not isinstance(kind, type) else kind.__name__
            for section, cls in SECTIONS.items()
            for name, kind in typing.get_type_hints(cls).items()}
