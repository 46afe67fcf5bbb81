"""The paper's own BC and %BC, beside d3rlpy's (`bc`, `bc10`, ...): `bc-paper`, `bc10-paper`,
`bc25-paper`, `bc40-paper`.

On Gym (continuous actions) the official code's BC: an MLP over the last K states
(`dtbench.models.mlp_bc`), trained with DT's optimiser, warm-up, batch, K and number of steps on
the official windows, on the last action of each window, with no gradient clipping
(`act_trainer.py` clips nothing). On discrete domains (Atari) the official `--model_type naive`:
the DT network and training with (s, a) tokens only (`model.tokens = sa`, fixed on the Algo so
the run's config says so). %BC trains either on the top X% of timesteps by episode return,
whole episodes as the official `pct_traj` keeps them.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING

from dtbench.algos import dt
from dtbench.algos.dt import CHECKPOINT, METRICS
from dtbench.contract import Algo, RunContext
from dtbench.registry import register_algo

if TYPE_CHECKING:
    from dtbench.policies import DTPolicy, MLPBCPolicy

PERCENT = (10, 25, 40)  # the paper's %BC fractions (Tables 3 and 4)


def _trainer(top: float | None):  # noqa: ANN202 - the Algo's train function
    def train(ctx: RunContext) -> MLPBCPolicy | DTPolicy:
        # torch and the models load when a run trains, not when the algorithm is registered
        from dtbench.data.sampler import WindowSampler
        from dtbench.data.transforms import top_fraction
        from dtbench.models.mlp_bc import MLPBC
        from dtbench.policies import MLPBCPolicy

        store = top_fraction(ctx.store, top) if top is not None else ctx.store
        if ctx.action_kind == "discrete":  # the DT network without returns (model.tokens=sa)
            return dt.train(dataclasses.replace(ctx, store=store))
        s = ctx.settings
        mean, std = ctx.store.state_stats()  # the full data's statistics, as the official code
        sampler = WindowSampler(store, s.model.context_len, s.train.batch_size, 1.0,
                                s.model.max_ep_len, mean, std, ctx.device, seed=ctx.spec.seed,
                                windows="official")
        model = MLPBC(s.model, store.obs_shape[0], store.action_dim).to(ctx.device)
        cfg = dataclasses.replace(s.train, grad_clip=math.inf)  # the official BC never clips
        return dt.fit([ctx], [model], [sampler], cfg,
                      lambda _, trained: MLPBCPolicy(trained, mean, std))[0]

    return train


def _algo(name: str, top: float | None, description: str) -> Algo:
    return Algo(name=name, action_kinds=("continuous", "discrete"), train=_trainer(top),
                description=description, steps=lambda s: s.train.steps,
                checkpoint_files=(CHECKPOINT,), metrics_file=METRICS,
                time_columns={"sample_s": "sample_s", "update_s": "update_s"},
                fixed_settings={"discrete": {"model.tokens": "sa"}},
                reads=("model", "train", "eval"))


def register() -> None:
    """Register the paper's BC and %BC (called by `dtbench.plugins.load`)."""
    register_algo(_algo("bc-paper", None, "the paper's BC, not d3rlpy's (Gym: the official MLP "
                                          "over the last K states; Atari: DT without returns)"))
    for pct in PERCENT:
        register_algo(_algo(f"bc{pct}-paper", pct / 100,
                            f"the paper's %BC: its BC on the top {pct}% of timesteps by "
                            "episode return"))
