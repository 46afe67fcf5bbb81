"""Baselines beside DT, registered in the same algorithm registry as DT.

Built in: `random` (uniform random policy), and from d3rlpy `cql`, `bc` (= 100%) and the
paper's %BC `bc10`, `bc25`, `bc40` (BC on the top X% of timesteps by episode return).

Adding one is one call, in a function that a plug-in's entry point names (see
`dtbench.plugins`), e.g. IQL:

    # dtbench_iql.py; pyproject.toml: [project.entry-points."dtbench.plugins"]
    #                                   iql = "dtbench_iql:register"
    from baselines import register_d3rlpy

    def iql(cfg, parts):
        import d3rlpy

        return d3rlpy.algos.IQLConfig(
            batch_size=cfg.batch_size, actor_encoder_factory=parts["encoder_factory"],
            critic_encoder_factory=parts["encoder_factory"],
            observation_scaler=parts["observation_scaler"])

    def register():
        register_d3rlpy("iql", continuous=iql, description="implicit Q-learning (d3rlpy)")
"""

from __future__ import annotations

from baselines.registry import register_d3rlpy

__all__ = ["register_d3rlpy"]
