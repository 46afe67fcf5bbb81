"""The Decision Transformer as algorithm `dt`: the model, the window sampler and the training loop
(`dtbench.training`) wired to the run contract; `fit` is the one way DT-trained models (the
paper's BC too) go through the loop."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from dtbench.contract import Algo, RunContext
from dtbench.registry import register_algo

if TYPE_CHECKING:
    from torch import nn

    from dtbench.config import TrainConfig
    from dtbench.data.sampler import WindowSampler
    from dtbench.evaluation import BatchPolicy
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


def fit(ctxs: Sequence[RunContext], models: Sequence[nn.Module],
        samplers: Sequence[WindowSampler], cfg: TrainConfig,
        policy: Callable[[int, nn.Module], BatchPolicy]) -> list[BatchPolicy]:
    """Train the runs' models with the training loop (one run alone, or several seeds of one
    cell as one vmapped model) and return run i's policy, `policy(i, trained model)`, also
    evaluated on the way at the runs' evaluation steps."""
    from dtbench import training

    learner = (training.Single(models[0], cfg) if len(models) == 1
               else training.Stacked(models, cfg))

    def on_eval(step: int, members: list[nn.Module]) -> None:
        ctxs[0].during_training(step, [policy(i, m) for i, m in enumerate(members)])

    members = training.train(learner, samplers, cfg, [ctx.run_dir for ctx in ctxs],
                             on_log=[ctx.tracker.log for ctx in ctxs], on_eval=on_eval,
                             eval_at=ctxs[0].eval_steps(cfg.steps), progress=ctxs[0].progress,
                             trained_only=ctxs[0].evaluate_only)
    return [policy(i, m) for i, m in enumerate(members)]


def train_group(ctxs: list[RunContext]) -> list[BatchPolicy]:
    """Seeds of one cell trained together (several: one vmapped model); each member's model
    is built after seeding with its own seed, as a separate run's."""
    from dtbench.runtime import seed_everything

    parts = []
    for ctx in ctxs:
        seed_everything(ctx.spec.seed)
        parts.append(_parts(ctx))
    return fit(ctxs, [m for m, _, _ in parts], [p for _, p, _ in parts],
               ctxs[0].settings.train, lambda i, trained: parts[i][2](trained))


def train(ctx: RunContext) -> BatchPolicy:
    """Train DT on ctx.store (resuming from a checkpoint) and return its batched policy."""
    return train_group([ctx])[0]


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
    reads=("model", "train", "eval"),
)


def register() -> None:
    """Register `dt` (called by `dtbench.plugins.load`)."""
    register_algo(ALGO)
