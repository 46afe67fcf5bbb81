"""Settings: one frozen dataclass per section, each field with its doc and its range beside it
(`setting(default, doc, range)`, kept in the field's metadata; cleanrl/CORL style).

A domain registers one `Settings` per profile (`smoke`, `quick`, `paper`); a run stores the
resolved settings in its folder so every number can be traced to the exact values used.
`--set section.field=value` text (or a Python value) is coerced to the field's annotated type
by pydantic (`parse_value`); every value is then checked against its field's range
(`Settings.validate`). A bad key or value is one `DTBenchError` line.
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from dtbench.errors import DTBenchError

PROFILES = ("smoke", "quick", "paper")


@dataclass(frozen=True)
class Range:
    """The values a numeric setting may take; a tuple setting's elements each. Floats are
    finite already (`parse_value`)."""

    low: float
    high: float | None = None
    inclusive_low: bool = True  # False: `low` itself is out

    def holds(self, value: float) -> bool:
        above = value >= self.low if self.inclusive_low else value > self.low
        return above and (self.high is None or value <= self.high)

    def text(self) -> str:
        if self.high is not None:
            return f"between {self.low:g} and {self.high:g}"
        return f"at least {self.low:g}" if self.inclusive_low else f"greater than {self.low:g}"


POSITIVE, NON_NEGATIVE = Range(1), Range(0)
ABOVE_ZERO, FRACTION = Range(0.0, inclusive_low=False), Range(0.0, 1.0)


def setting(default: Any, doc: str, range: Range | None = None) -> Any:  # noqa: ANN401, A002
    """A settings field: its default, one line of doc and the range its values must be in."""
    return field(default=default, metadata={"doc": doc, "range": range})


@dataclass(frozen=True)
class ModelConfig:
    """Decision Transformer architecture."""

    context_len: int = setting(20, "K: timesteps of (R, s, a) in one context window (3K "
                                   "tokens)", POSITIVE)
    embed_dim: int = setting(128, "width of every token embedding and of the GPT-2 residual "
                                  "stream", POSITIVE)
    n_layer: int = setting(3, "GPT-2 blocks", POSITIVE)
    n_head: int = setting(1, "attention heads per block (must divide embed_dim)", POSITIVE)
    dropout: float = setting(0.1, "embedding, residual and attention dropout", FRACTION)
    activation: Literal["relu", "gelu", "gelu_new"] = setting(
        "relu", "GPT-2 MLP nonlinearity (relu Gym, gelu_new Atari)")
    max_ep_len: int = setting(1000, "size of the timestep embedding; later timesteps are "
                                    "clamped", POSITIVE)
    action_tanh: bool = setting(True, "squash continuous actions with tanh (ignored for "
                                      "discrete)")
    positions: Literal["per-step", "atari-global"] = setting(
        "per-step", "per-step: each step's own timestep embedding on its tokens (official Gym); "
        "atari-global: one learned embedding of the window's first timestep on every token, "
        "plus learned per-token positions, Tanh on the return and action embeddings and no "
        "LayerNorm (official Atari minGPT)")
    tokens: Literal["rsa", "sa"] = setting(
        "rsa", "(R, s, a) per step, or (s, a): no return tokens, the paper's Atari BC (the "
        "official `--model_type naive`)")
    condition_on_return: bool = setting(
        True, "False: every return token carries 0, a return-blind model (a critic must "
        "predict the return, not be told it; see train.return_loss_weight)")


@dataclass(frozen=True)
class TrainConfig:
    """Optimiser, schedule and training length."""

    steps: int = setting(100_000, "gradient steps", POSITIVE)
    batch_size: int = setting(64, "context windows per step", POSITIVE)
    lr: float = setting(1e-4, "peak learning rate (AdamW)", ABOVE_ZERO)
    betas: tuple[float, float] = setting((0.9, 0.999), "AdamW betas", FRACTION)
    weight_decay: float = setting(1e-4, "AdamW weight decay", NON_NEGATIVE)
    decay_all_params: bool = setting(True, "decay every parameter (official Gym) vs matrices "
                                           "only (Atari)")
    warmup_steps: int = setting(10_000, "linear warm-up from 0 to lr", NON_NEGATIVE)
    schedule: Literal["constant", "cosine", "cosine-tokens"] = setting(
        "constant", "after warm-up: constant or cosine over steps, or the official Atari "
        "warm-up and cosine over action tokens")
    min_lr_ratio: float = setting(0.1, "cosine floor as a fraction of lr", FRACTION)
    warmup_tokens: int = setting(0, "cosine-tokens: action tokens (B x K per step) of linear "
                                    "warm-up", NON_NEGATIVE)
    final_tokens: int = setting(0, "cosine-tokens: action tokens at which the cosine reaches "
                                   "its end", NON_NEGATIVE)
    grad_clip: float = setting(0.25, "max global gradient norm", ABOVE_ZERO)
    windows: Literal["official", "official-atari", "end-anchored"] = setting(
        "official", "how context windows are drawn: the official Gym code's (uniform start, "
        "left padding), the official Atari code's (full K steps, shifted back at an episode's "
        "end) or dtbench's (ending at a uniform step, filled forward near an episode's start; "
        "see dtbench.data.sampler)")
    return_loss_weight: float = setting(
        0.0, "> 0: also train the return head, weighted so, to predict R_t (scaled) from the "
        "a_t token (DT as a critic; the paper's loss is on actions only)", NON_NEGATIVE)
    precision: Literal["fp32", "tf32", "bf16"] = setting(
        "fp32", "matmuls of the forward pass and loss: fp32 (the paper), TF32 (CUDA) or bf16 "
        "autocast (dtbench.precision; make bench-gpu)")
    log_every: int = setting(100, "steps between metric rows", POSITIVE)
    checkpoint_every: int = setting(1_000, "steps between checkpoints (resume point)", POSITIVE)


@dataclass(frozen=True)
class EvalConfig:
    """Return-conditioned evaluation."""

    episodes: int = setting(100, "episodes per target return, stepped together", POSITIVE)
    target_returns: tuple[float, ...] = setting((3600.0,), "initial return-to-go values")
    return_scale: float = setting(1000.0, "RTG is divided by this in training and evaluation",
                                  ABOVE_ZERO)
    greedy: bool = setting(True, "discrete actions: argmax (True) or sample from the softmax")
    seed: int = setting(10_000, "episode i is reset with seed + i (same for every algorithm)",
                        NON_NEGATIVE)
    max_episode_steps: int = setting(0, "cap on an evaluation episode, in agent steps (0: the "
                                        "env's own)", NON_NEGATIVE)
    rtg_rewards: Literal["raw", "clipped"] = setting(
        "raw", "rewards the return-to-go is built from, in training and in evaluation alike "
        "(clipped = sign, DQN's); scores always use raw rewards")
    target_sweep: int = setting(
        0, "> 0: evaluate at this many targets, evenly spaced from the data's worst episode "
        "return to 1.5x its best, instead of `target_returns` (achieved vs target)",
        NON_NEGATIVE)
    during_training: int = setting(
        0, "evaluations before the final one, evenly spaced over training (each at every "
        "target, `episodes` episodes); they make curve.csv and the \"best\" scores",
        NON_NEGATIVE)
    cap_at_data_best: bool = setting(
        False, "start each episode at min(target, the best return of the data's episodes "
        "that started in the same state): a prior for \"the highest return possible from "
        "here\" (exact-match states, e.g. graph nodes; unseen start states keep the target)")
    sticky_actions: float = setting(
        0.0, "Atari: ALE repeat_action_probability when evaluating (the paper: 0; the "
        "DQN-replay data was collected with 0.25)", FRACTION)


# EvalConfig fields that change only how a trained policy is evaluated (return_scale and
# rtg_rewards also shape the training RTGs; evaluations during training could touch RNGs)
EVAL_ONLY = frozenset({"episodes", "target_returns", "target_sweep", "greedy", "seed",
                       "max_episode_steps", "sticky_actions", "cap_at_data_best"})


@dataclass(frozen=True)
class BaselineConfig:
    """d3rlpy baselines (CQL, BC, %BC): what dtbench sets; the rest are d3rlpy's defaults."""

    steps: int = setting(100_000, "gradient steps (d3rlpy `n_steps`)", POSITIVE)
    batch_size: int = setting(256, "transitions per step", POSITIVE)
    hidden_units: tuple[int, ...] = setting((256, 256), "MLP encoder widths for vector "
                                                        "observations", POSITIVE)
    gamma: float = setting(0.99, "discount (CQL)", FRACTION)
    bc_lr: float = setting(1e-4, "BC's learning rate (d3rlpy's own default: 1e-3)", ABOVE_ZERO)
    pbc_lr: float = setting(1e-4, "%BC's learning rate (BC on the top fraction of the data, "
                                  "tuned apart from BC's; d3rlpy's default: 1e-3)", ABOVE_ZERO)
    discrete_cql_lr: float = setting(1e-4, "discrete CQL's Q-network learning rate (d3rlpy's "
                                           "default: DQN's 6.25e-5)", ABOVE_ZERO)
    critic_lr: float = setting(3e-4, "continuous CQL critic learning rate (CQL paper, d3rlpy "
                                     "default)", ABOVE_ZERO)
    actor_lr: float = setting(1e-4, "continuous CQL actor learning rate (d3rlpy default)",
                              ABOVE_ZERO)
    cql_alpha: float = setting(5.0, "continuous CQL conservative weight (d3rlpy default)",
                               NON_NEGATIVE)
    discrete_cql_alpha: float = setting(1.0, "discrete CQL alpha (d3rlpy default)",
                                        NON_NEGATIVE)
    target_update_interval: int = setting(
        8_000, "discrete CQL: steps between target-network syncs (d3rlpy's default), lowered "
        "to steps // 10 in shorter runs so the target syncs >= 10 times", POSITIVE)
    log_every: int = setting(1_000, "steps between rows of metrics.csv", POSITIVE)


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
        """Every value in its field's range and the fields that constrain each other
        consistent; the first problem is a one-line `DTBenchError` naming the setting."""
        for section, cls in SECTIONS.items():
            for f in dataclasses.fields(cls):
                bounds = f.metadata.get("range")
                value = getattr(getattr(self, section), f.name)
                if bounds is not None and not all(
                        bounds.holds(v) for v in (value if isinstance(value, tuple) else (value,))):
                    raise DTBenchError(f"setting {section}.{f.name}={value_text(value)}: must be "
                                       f"{bounds.text()}")
        m = self.model
        if m.embed_dim % m.n_head:
            raise DTBenchError(f"setting model.n_head={m.n_head}: must divide model.embed_dim="
                               f"{m.embed_dim} (e.g. n_head 1, 2 or 4 for width 64)")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


SECTIONS = {"model": ModelConfig, "train": TrainConfig, "eval": EvalConfig,
            "baseline": BaselineConfig}


# settings that were split or renamed, with what to set instead
RENAMED = {"baseline.lr": "set baseline.bc_lr (BC), baseline.pbc_lr (%BC) or "
                          "baseline.discrete_cql_lr (DiscreteCQL) instead"}


def parse_overrides(assignments: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted overrides with every value parsed into its field's type, sorted by key: the form
    in which a run stores them. A bad key or value is a one-line `DTBenchError`."""
    return {key: parse_value(key, value) for key, value in sorted(assignments.items())}


def field_type(key: str) -> Any:  # noqa: ANN401 - a typing annotation
    """The annotated type of a dotted setting, e.g. `train.steps` -> int."""
    section, _, name = key.partition(".")
    cls = SECTIONS.get(section)
    hints = typing.get_type_hints(cls) if cls is not None else {}
    if key in RENAMED:
        raise DTBenchError(f"setting {key} was split: {RENAMED[key]}")
    if name not in hints:
        raise DTBenchError(f"unknown setting {key!r}; use section.field with section in "
                           f"{'/'.join(SECTIONS)} (fields: `dtbench list --settings`)")
    return hints[name]


def parse_value(key: str, value: Any) -> Any:  # noqa: ANN401 - any setting's value
    """`value` (command-line text or a Python value) as the type of setting `key`, coerced by
    pydantic's lax mode (text to numbers, "true"/"no" to bools, lists to tuples), except that
    a bool is no number, floats are finite and a tuple may be given as comma-separated text."""
    from pydantic import ValidationError

    kind = field_type(key)
    try:
        return _adapter(kind).validate_python(value)
    except ValidationError as exc:
        errors = exc.errors()  # a wrong count of items first, as the text shows it first
        error = next((e for e in errors if e["type"] in _COUNT_ERRORS), errors[0])
        raise DTBenchError(f"setting {key}={_show(value)}: {_expected(kind, error)}") from None


@functools.cache
def _adapter(kind: Any) -> Any:  # noqa: ANN401 - a pydantic TypeAdapter of the annotation
    # pydantic loads on the first value parsed, not when the settings module is imported
    from pydantic import BeforeValidator, ConfigDict, TypeAdapter

    def lax(kind: Any) -> Any:  # noqa: ANN401 - the annotation with dtbench's two exceptions
        origin, args = typing.get_origin(kind), typing.get_args(kind)
        if origin is tuple:
            items = (lax(args[0]), ...) if args[1:] == (Ellipsis,) else tuple(map(lax, args))
            return typing.Annotated[tuple[items], BeforeValidator(_items)]
        if kind in (int, float):
            return typing.Annotated[kind, BeforeValidator(_no_bool)]
        return kind

    return TypeAdapter(lax(kind), config=ConfigDict(allow_inf_nan=False))


def _no_bool(value: Any) -> Any:  # noqa: ANN401
    if isinstance(value, bool):  # pydantic reads True as 1; a bool given for a number is a slip
        raise ValueError("a bool")
    return value


def _items(value: Any) -> Any:  # noqa: ANN401
    if isinstance(value, str):
        return [v.strip() for v in value.split(",")] if value.strip() else []
    return value


_COUNT_ERRORS = ("missing", "too_short", "too_long")  # pydantic's, for a fixed-length tuple


def _expected(kind: Any, error: Mapping[str, Any]) -> str:  # noqa: ANN401
    """What the setting accepts, in words, for pydantic's first error (at its tuple item)."""
    if error["type"] in _COUNT_ERRORS:
        return f"expected {len(typing.get_args(kind))} comma-separated values"
    for index in error["loc"]:
        args = typing.get_args(kind)
        kind = args[0] if args[1:] == (Ellipsis,) else args[index]
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is tuple:
        return "expected comma-separated values, e.g. 1,2"
    if origin is Literal:
        return f"expected one of {', '.join(map(str, args))}"
    if kind is bool:
        return "expected true or false"
    slip = isinstance(error.get("input"), bool)  # an example would not help
    if kind is int:
        return "expected a whole number" + ("" if slip else ", e.g. 100")
    if error["type"] == "finite_number":
        return "expected a finite number"
    if kind is float:
        return "expected a number" + ("" if slip else ", e.g. 0.001")
    return "expected text"


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


def setting_docs() -> dict[str, str]:
    """Every dotted setting with its range (where it has one) and its doc, as text."""
    docs = {}
    for section, cls in SECTIONS.items():
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            bounds, each = f.metadata["range"], typing.get_origin(hints[f.name]) is tuple
            docs[f"{section}.{f.name}"] = (f"{'each ' if each else ''}{bounds.text()}; "
                                           if bounds else "") + f.metadata["doc"]
    return docs
