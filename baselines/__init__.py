"""Baselines beside DT, registered in the same algorithm registry as DT.

Built in: `random` (uniform random policy), and from d3rlpy `cql`, `bc` (= 100%) and the
paper's %BC `bc10`, `bc25`, `bc40` (BC on the top X% of timesteps by episode return).

Adding one is one call, from any module imported before the run, e.g. IQL:

    import d3rlpy
    from baselines import register_d3rlpy

    register_d3rlpy(
        "iql",
        continuous=lambda cfg, parts: d3rlpy.algos.IQLConfig(
            batch_size=cfg.batch_size, actor_encoder_factory=parts["encoder_factory"],
            critic_encoder_factory=parts["encoder_factory"],
            observation_scaler=parts["observation_scaler"]),
        description="implicit Q-learning (d3rlpy)",
    )
"""

from __future__ import annotations

from baselines import builtin  # noqa: F401  (registers the built-in baselines)
from baselines.registry import register_d3rlpy

__all__ = ["register_d3rlpy"]
