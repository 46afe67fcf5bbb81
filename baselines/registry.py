"""One registration per baseline: `register_d3rlpy(name, continuous=..., discrete=...)`.

A baseline is an `Algo` in dtbench's registry (name, action kinds, train function), so the CLI,
the suite, the evaluator and the results store treat it exactly like DT.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dtbench.config import BaselineConfig
from dtbench.contract import Algo, RunContext
from dtbench.data.transforms import top_fraction
from dtbench.registry import register_algo

# A config factory turns dtbench's baseline settings and the domain's encoder/scaler choices
# into a d3rlpy algorithm config (e.g. `d3rlpy.algos.CQLConfig`).
ConfigFactory = Callable[[BaselineConfig, dict[str, Any]], Any]
# What every d3rlpy baseline leaves in its run folder (written by dtbench.d3rlpy_bridge, which
# is not imported here: it imports d3rlpy) and d3rlpy's names for its mean seconds per step
CHECKPOINT, METRICS = "d3rlpy_checkpoint.pt", "metrics.csv"
TIME_COLUMNS = {"sample_s": "time_sample_batch", "update_s": "time_algorithm_update"}


def register_d3rlpy(
    name: str,
    continuous: ConfigFactory | None = None,
    discrete: ConfigFactory | None = None,
    top: float | None = None,
    description: str = "",
    reads: tuple[str, ...] = ("baseline", "eval"),
) -> Algo:
    """Register a d3rlpy algorithm under `name`.

    `continuous` / `discrete` build the d3rlpy config for each action kind from
    (BaselineConfig, {"encoder_factory", "observation_scaler"}); the kinds given are the kinds
    supported. `top` trains on the top fraction of timesteps by episode return (the paper's %BC).
    `reads`: the settings its numbers depend on (`Algo.reads`); by default all of
    `BaselineConfig` and the evaluation's.
    """
    factories = {"continuous": continuous, "discrete": discrete}
    kinds = tuple(kind for kind, factory in factories.items() if factory is not None)
    if not kinds:
        raise ValueError(f"baseline {name!r}: give a continuous and/or a discrete config factory")

    def train(ctx: RunContext):  # noqa: ANN202 - a D3rlpyPolicy
        # d3rlpy (and the old gym it imports) loads only when a baseline trains, so the CLI's
        # other commands stay fast
        from dtbench.d3rlpy_bridge import train_d3rlpy

        store = top_fraction(ctx.store, top) if top is not None else ctx.store
        return train_d3rlpy(ctx, factories[ctx.action_kind], store)

    return register_algo(Algo(name=name, action_kinds=kinds, train=train,
                              description=description, checkpoint_files=(CHECKPOINT,),
                              metrics_file=METRICS, time_columns=TIME_COLUMNS,
                              reads=reads))
