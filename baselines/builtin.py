"""The paper's baselines: CQL (strongest TD method), BC and %BC, plus the random policy.

Hyperparameters are d3rlpy's defaults except what `BaselineConfig` sets (batch, learning
rates, discount, CQL weight, MLP widths), so each profile can scale them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from baselines.registry import register_d3rlpy
from dtbench.config import BaselineConfig
from dtbench.contract import Algo, RunContext
from dtbench.registry import register_algo

if TYPE_CHECKING:
    import d3rlpy

    from dtbench.policies import RandomPolicy


def _d3rlpy():  # noqa: ANN202 - the d3rlpy module, imported (quietly) on first use
    from dtbench.d3rlpy_bridge import d3rlpy

    return d3rlpy

PERCENT_BC = (10, 25, 40)  # the paper's %BC fractions (Tables 3 and 4)


def cql(cfg: BaselineConfig, parts: dict[str, Any]) -> d3rlpy.algos.CQLConfig:
    enc = parts["encoder_factory"]
    return _d3rlpy().algos.CQLConfig(
        batch_size=cfg.batch_size, gamma=cfg.gamma, actor_learning_rate=cfg.actor_lr,
        critic_learning_rate=cfg.critic_lr, conservative_weight=cfg.cql_alpha,
        actor_encoder_factory=enc, critic_encoder_factory=enc,
        observation_scaler=parts["observation_scaler"],
    )


def target_update_interval(cfg: BaselineConfig) -> int:
    """Discrete CQL's steps between target syncs: the setting, but at most a tenth of the run,
    so that a short run syncs its target at least ten times (d3rlpy's 8,000 never syncs in a
    2,000-step run, and Q-learning without a target sync learns no credit assignment)."""
    return max(1, min(cfg.target_update_interval, cfg.steps // 10))


def discrete_cql(cfg: BaselineConfig, parts: dict[str, Any]) -> d3rlpy.algos.DiscreteCQLConfig:
    return _d3rlpy().algos.DiscreteCQLConfig(
        batch_size=cfg.batch_size, gamma=cfg.gamma, learning_rate=cfg.discrete_cql_lr,
        alpha=cfg.discrete_cql_alpha, target_update_interval=target_update_interval(cfg),
        encoder_factory=parts["encoder_factory"], observation_scaler=parts["observation_scaler"],
    )


def bc(cfg: BaselineConfig, parts: dict[str, Any]) -> d3rlpy.algos.BCConfig:
    return _d3rlpy().algos.BCConfig(
        batch_size=cfg.batch_size, learning_rate=cfg.bc_lr,
        encoder_factory=parts["encoder_factory"], observation_scaler=parts["observation_scaler"],
    )


def discrete_bc(cfg: BaselineConfig, parts: dict[str, Any]) -> d3rlpy.algos.DiscreteBCConfig:
    return _d3rlpy().algos.DiscreteBCConfig(
        batch_size=cfg.batch_size, learning_rate=cfg.bc_lr,
        encoder_factory=parts["encoder_factory"], observation_scaler=parts["observation_scaler"],
    )


def percent_bc(cfg: BaselineConfig, parts: dict[str, Any]) -> d3rlpy.algos.BCConfig:
    """%BC: BC's config at %BC's own lr (tuned apart from BC's: less data, other optimum)."""
    return bc(replace(cfg, bc_lr=cfg.pbc_lr), parts)


def discrete_percent_bc(cfg: BaselineConfig,
                        parts: dict[str, Any]) -> d3rlpy.algos.DiscreteBCConfig:
    return discrete_bc(replace(cfg, bc_lr=cfg.pbc_lr), parts)


def _random(ctx: RunContext) -> RandomPolicy:
    from dtbench.policies import RandomPolicy  # torch, when a run needs the policy

    return RandomPolicy(ctx.action_space, seed=ctx.spec.seed)


# the BaselineConfig fields each built-in reads (beside the evaluation's): a tuned value of one
# method (BC's lr) leaves the others' runs current (`Algo.reads`)
SHARED = ("baseline.steps", "baseline.batch_size", "baseline.hidden_units", "baseline.log_every",
          "eval")
CQL_READS = (*SHARED, "baseline.gamma", "baseline.critic_lr", "baseline.actor_lr",
             "baseline.cql_alpha", "baseline.discrete_cql_lr", "baseline.discrete_cql_alpha",
             "baseline.target_update_interval")


def register() -> None:
    """Register the built-in baselines (called by `dtbench.plugins.load`)."""
    register_algo(Algo(name="random", action_kinds=("continuous", "discrete"), train=_random,
                       description="uniform random policy (no training)", reads=("eval",)))
    register_d3rlpy("cql", continuous=cql, discrete=discrete_cql, reads=CQL_READS,
                    description="conservative Q-learning (d3rlpy CQL / DiscreteCQL)")
    register_d3rlpy("bc", continuous=bc, discrete=discrete_bc, reads=(*SHARED, "baseline.bc_lr"),
                    description="behaviour cloning on all data (d3rlpy BC / DiscreteBC)")
    for pct in PERCENT_BC:
        register_d3rlpy(f"bc{pct}", continuous=percent_bc, discrete=discrete_percent_bc,
                        top=pct / 100, reads=(*SHARED, "baseline.pbc_lr"),
                        description=f"%BC: behaviour cloning on the top {pct}% of timesteps by "
                                    "episode return")
