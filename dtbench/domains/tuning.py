"""The candidates every discrete domain's `quick` profile tunes each method over (`Tuning`):
four each, the authors' default first.

DT: the official Gym code's lr 1e-4 with dropout 0.1, then higher rates (the quick profiles'
models are 1 layer, 32 wide, for 8k steps at most), and the highest without dropout. CQL
(d3rlpy's DiscreteCQL): d3rlpy's defaults (DQN's lr 6.25e-5, alpha 1), higher rates, and a
stronger conservative weight. BC and %BC (d3rlpy's DiscreteBC), each its own lr: d3rlpy's
default 1e-3 and three others around it.
"""

from __future__ import annotations

from typing import Any

LRS = (1e-3, 1e-4, 3e-4, 3e-3)
DISCRETE: dict[str, tuple[dict[str, Any], ...]] = {
    "dt": tuple({"train.lr": lr, "model.dropout": dropout}
                for lr, dropout in ((1e-4, 0.1), (1e-3, 0.1), (3e-3, 0.1), (3e-3, 0.0))),
    "cql": tuple({"baseline.discrete_cql_lr": lr, "baseline.discrete_cql_alpha": alpha}
                 for lr, alpha in ((6.25e-5, 1.0), (1e-4, 1.0), (3e-4, 1.0), (1e-4, 4.0))),
    "bc": tuple({"baseline.bc_lr": lr} for lr in LRS),
    "bc10": tuple({"baseline.pbc_lr": lr} for lr in LRS),
}
