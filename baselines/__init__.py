"""Baselines beside DT, registered in the dtbench algorithm registry.

`random` is the uniform random policy (the paper reports it for Key-to-Door). The d3rlpy
baselines (CQL, BC, %BC) are issue #3.
"""

from __future__ import annotations

from dtbench.policies import RandomPolicy
from dtbench.registry import Algo, register_algo
from dtbench.runs import RunContext


def _random(ctx: RunContext) -> RandomPolicy:
    env = ctx.make_env()
    space = env.action_space
    env.close()
    return RandomPolicy(space, seed=ctx.spec.seed)


register_algo(Algo(
    name="random",
    action_kinds=("continuous", "discrete"),
    train=_random,
    description="uniform random policy (no training)",
))
