"""The Decision Transformer as algorithm `dt`: the model, the window sampler and the training loop
(`dtbench.training`) wired to the run contract."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from dtbench.contract import Algo, RunContext, evaluate_group_during
from dtbench.registry import register_algo

if TYPE_CHECKING:
    from dtbench.data.sampler import WindowSampler
    from dtbench.models.dt import DecisionTransformer
    from dtbench.policies import DTPolicy

# What `dtbench.training` writes in a run's folder. Named here, not imported from there, so
# that registering `dt` imports neither torch nor transformers (the functions below import
# them when a run trains); tests/test_plugins.py checks that the names agree.
CHECKPOINT, METRICS = "checkpoint.pt", "metrics.csv"


def build_model(ctx: RunContext) -> DecisionTransformer:
    from dtbench.models.dt import DecisionTransformer

    store = ctx.store
    act_dim = ctx.n_actions if store.discrete else store.action_dim
    return DecisionTransformer(ctx.settings.model, store.obs_shape, act_dim, store.discrete,
                               encoder=ctx.encoder).to(ctx.device)


def _parts(ctx: RunContext) -> tuple[DecisionTransformer, WindowSampler,
                                     Callable[[DecisionTransformer], DTPolicy]]:
    """The run's model (built now: seed first), its sampler and how to make its policy."""
    from dtbench.data.sampler import WindowSampler
    from dtbench.data.state_best import BestReturnFromStart
    from dtbench.data.transforms import rtg_rewards
    from dtbench.policies import DTPolicy

    s = ctx.settings
    mean, std = ctx.store.state_stats() if ctx.store.observations.dtype != "uint8" else (None, None)
    model = build_model(ctx)
    store = ctx.store
    if s.eval.rtg_rewards != "raw":  # returns-to-go from transformed rewards (Atari: clipped)
        store = store.with_rewards(rtg_rewards(store.rewards, s.eval.rtg_rewards))
    sampler = WindowSampler(store, s.model.context_len, s.train.batch_size,
                            s.eval.return_scale, s.model.max_ep_len, mean, std, ctx.device,
                            seed=ctx.spec.seed, windows=s.train.windows)
    cap = BestReturnFromStart(store) if s.eval.cap_at_data_best else None

    def policy(trained: DecisionTransformer) -> DTPolicy:
        return DTPolicy(trained, mean, std, s.eval.return_scale, greedy=s.eval.greedy,
                        delayed=ctx.spec.variant == "delayed", seed=ctx.spec.seed,
                        rtg_rewards=s.eval.rtg_rewards, cap=cap)

    return model, sampler, policy


def train(ctx: RunContext) -> DTPolicy:
    """Train DT on ctx.store (resuming from a checkpoint) and return its batched policy."""
    from dtbench.training import train_dt

    s = ctx.settings
    model, sampler, policy = _parts(ctx)
    train_dt(model, sampler, s.train, ctx.run_dir, progress=ctx.progress,
             on_log=ctx.tracker.log,
             on_eval=lambda step: ctx.evaluate_during(step, policy(model)),
             eval_at=ctx.eval_steps(s.train.steps))
    return policy(model)


def train_group(ctxs: list[RunContext]) -> list[DTPolicy]:
    """Seeds of one cell trained together as one vmapped model (`dtbench.stacked`); each
    member's model is built after seeding with its own seed, as a separate run's."""
    from dtbench.runtime import seed_everything
    from dtbench.stacked import train_stacked

    parts = []
    for ctx in ctxs:
        seed_everything(ctx.spec.seed)
        parts.append(_parts(ctx))
    s = ctxs[0].settings

    def on_eval(step: int, members: list[DecisionTransformer]) -> None:
        evaluate_group_during(ctxs, step, [policy(member) for (_, _, policy), member
                                           in zip(parts, members, strict=True)])

    members = train_stacked([m for m, _, _ in parts], [p for _, p, _ in parts], s.train,
                            [ctx.run_dir for ctx in ctxs],
                            on_log=[ctx.tracker.log for ctx in ctxs], on_eval=on_eval,
                            eval_at=ctxs[0].eval_steps(s.train.steps))
    return [policy(member) for (_, _, policy), member in zip(parts, members, strict=True)]


ALGO = Algo(
    name="dt",
    action_kinds=("continuous", "discrete"),
    train=train,
    train_group=train_group,
    description="Decision Transformer (Chen et al. 2021), GPT-2 over (R, s, a) tokens",
    conditions_on_return=True,
    steps=lambda s: s.train.steps,
    checkpoint_files=(CHECKPOINT,),
    metrics_file=METRICS,
    time_columns={"sample_s": "sample_s", "update_s": "update_s"},
)


def register() -> None:
    """Register `dt` (called by `dtbench.plugins.load`)."""
    register_algo(ALGO)
