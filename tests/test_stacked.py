"""Seeds trained together (`training.Stacked`): each member of a vmapped group follows its
separate run (losses, gradient norms, weights) to float rounding without dropout, continuous
and discrete, left-padded windows, clipping and the return loss included; its checkpoint is a
separate run's, so a separate run resumes from it; a group killed mid-way resumes exactly."""

import dataclasses
import shutil

import numpy as np
import pandas as pd
import pytest
import torch

from dtbench.config import ModelConfig, TrainConfig
from dtbench.data.sampler import WindowSampler
from dtbench.data.store import TrajectoryStore
from dtbench.models.dt import DecisionTransformer
from dtbench.training import CHECKPOINT, METRICS, Single, Stacked, train
from tests.conftest import make_episodes

SEEDS = (0, 1, 2)


def _setup(discrete):
    store = TrajectoryStore.from_episodes(make_episodes([12, 9, 15, 7, 11, 14], obs_dim=3,
                                                        act_dim=2, discrete=discrete))
    model_cfg = dataclasses.replace(ModelConfig(), embed_dim=16, n_layer=2, n_head=2,
                                    context_len=4, dropout=0.0, max_ep_len=50)
    train_cfg = dataclasses.replace(TrainConfig(), steps=200, batch_size=4, warmup_steps=20,
                                    log_every=1, checkpoint_every=50, grad_clip=0.25,
                                    windows="official", lr=1e-3)
    act_dim = 4 if discrete else 2

    def model(seed):
        torch.manual_seed(seed)  # as a separate run builds its model after seeding
        return DecisionTransformer(model_cfg, (3,), act_dim, discrete)

    def sampler(seed):
        return WindowSampler(store, 4, 4, 1.0, 50, seed=seed, windows="official")

    return model, sampler, train_cfg


def _metrics(folder):
    return pd.read_csv(folder / METRICS)


def train_dt(model, sampler, cfg, folder):
    return train(Single(model, cfg), [sampler], cfg, [folder], progress=False)[0]


def train_stacked(models, samplers, cfg, folders):
    return train(Stacked(models, cfg), samplers, cfg, folders, progress=False)


@pytest.mark.parametrize("discrete", [False, True])
def test_each_member_follows_its_separate_run(tmp_path, discrete):
    model, sampler, cfg = _setup(discrete)
    separate = []
    for seed in SEEDS:
        m = model(seed)
        train_dt(m, sampler(seed), cfg, tmp_path / f"alone{seed}")
        separate.append(m)
    folders = [tmp_path / f"group{seed}" for seed in SEEDS]
    members = train_stacked([model(s) for s in SEEDS], [sampler(s) for s in SEEDS], cfg,
                            folders)
    for seed, alone, member, folder in zip(SEEDS, separate, members, folders, strict=True):
        a, b = _metrics(tmp_path / f"alone{seed}"), _metrics(folder)
        assert len(a) == len(b) == 200
        np.testing.assert_allclose(b["loss"], a["loss"], rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(b["grad_norm"], a["grad_norm"], rtol=1e-4, atol=1e-6)
        np.testing.assert_array_equal(b["lr"], a["lr"])
        # the trained models act alike (their weights agree too, except the attention's key
        # bias: softmax ignores it, so its gradient is rounding noise that AdamW scales up)
        batch = sampler(7).sample()
        with torch.no_grad():
            torch.testing.assert_close(
                member(batch.states, batch.actions, batch.returns_to_go, batch.timesteps,
                       batch.mask).action_preds,
                alone(batch.states, batch.actions, batch.returns_to_go, batch.timesteps,
                      batch.mask).action_preds, rtol=1e-4, atol=1e-5)
    # the members differ from one another (their own seeds, batches and weights)
    assert not np.allclose(_metrics(folders[0])["loss"], _metrics(folders[1])["loss"])


def test_the_return_loss_trains_each_members_return_head(tmp_path):
    """`train.return_loss_weight` (DT as a critic) holds for stacked members as for separate
    runs: the same losses (actions + weighted return), the same return predictions."""
    model, sampler, cfg = _setup(False)
    cfg = dataclasses.replace(cfg, steps=60, return_loss_weight=1.0)
    seeds = SEEDS[:2]
    alone = [train_dt(model(s), sampler(s), cfg, tmp_path / f"alone{s}") for s in seeds]
    group = train_stacked([model(s) for s in seeds], [sampler(s) for s in seeds], cfg,
                          [tmp_path / f"group{s}" for s in seeds])
    start = model(seeds[0]).predict_return.weight
    assert not torch.allclose(group[0].predict_return.weight, start)  # the head trained
    batch = sampler(7).sample()
    for seed, a, b in zip(seeds, alone, group, strict=True):
        np.testing.assert_allclose(_metrics(tmp_path / f"group{seed}")["loss"],
                                   _metrics(tmp_path / f"alone{seed}")["loss"],
                                   rtol=1e-4, atol=1e-6)
        with torch.no_grad():
            inputs = (batch.states, batch.actions, batch.returns_to_go, batch.timesteps,
                      batch.mask)
            torch.testing.assert_close(b(*inputs).return_preds, a(*inputs).return_preds,
                                       rtol=1e-4, atol=1e-5)


def test_a_stacked_loss_that_is_not_finite_stops_the_group_naming_the_member(tmp_path,
                                                                              monkeypatch):
    """The NaN guard holds for a group as for a separate run: one line naming the member's
    folder and its last good checkpoint."""
    from dtbench.errors import DTBenchError

    model, sampler, cfg = _setup(False)
    cfg = dataclasses.replace(cfg, steps=10, checkpoint_every=2)
    calls = {"n": 0}
    original = DecisionTransformer.action_loss

    def poisoned(self, out, actions, mask, **kwargs):
        calls["n"] += 1  # once a step: the vmapped loss is traced once for all members
        loss = original(self, out, actions, mask, **kwargs)
        return loss * float("nan") if calls["n"] == 4 else loss

    monkeypatch.setattr(DecisionTransformer, "action_loss", poisoned)
    folders = [tmp_path / f"group{s}" for s in SEEDS]
    with pytest.raises(DTBenchError, match=f"loss became nan at step 3; last good checkpoint "
                                           f"is step 2 in {folders[0]}"):
        train_stacked([model(s) for s in SEEDS], [sampler(s) for s in SEEDS], cfg, folders)


def test_stacked_attention_is_batched_by_vmap_without_a_fallback(tmp_path):
    """The stacked model runs an attention vmap has a batching rule for: no "falling back to
    the slow path" warning on this device."""
    import warnings

    model, sampler, cfg = _setup(False)
    cfg = dataclasses.replace(cfg, steps=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        train_stacked([model(s) for s in SEEDS], [sampler(s) for s in SEEDS], cfg,
                      [tmp_path / f"group{s}" for s in SEEDS])


def test_a_member_checkpoint_is_a_separate_runs_and_a_killed_group_resumes_exactly(tmp_path):
    model, sampler, cfg = _setup(False)
    # the uninterrupted group
    whole = [tmp_path / f"whole{s}" for s in SEEDS]
    train_stacked([model(s) for s in SEEDS], [sampler(s) for s in SEEDS], cfg, whole)
    # a group killed at step 120 (its last checkpoint: 100), then run again
    killed = [tmp_path / f"killed{s}" for s in SEEDS]
    samplers = [sampler(s) for s in SEEDS]
    calls = {"n": 0}
    original = samplers[0].sample

    def dies_at_120():
        calls["n"] += 1
        if calls["n"] > 120:
            raise KeyboardInterrupt
        return original()

    samplers[0].sample = dies_at_120
    with pytest.raises(KeyboardInterrupt):
        train_stacked([model(s) for s in SEEDS], samplers, cfg, killed)
    assert torch.load(killed[1] / CHECKPOINT, weights_only=False)["step"] == 100
    # a separate run resumes from a member's checkpoint as from its own
    member = tmp_path / "member"
    member.mkdir()
    shutil.copy(killed[1] / CHECKPOINT, member / CHECKPOINT)
    shutil.copy(killed[1] / METRICS, member / METRICS)
    train_stacked([model(s) for s in SEEDS], [sampler(s) for s in SEEDS], cfg, killed)
    numbers = ["step", "loss", "lr", "grad_norm"]  # (the timing columns differ)
    for a, b in zip(whole, killed, strict=True):
        pd.testing.assert_frame_equal(_metrics(a)[numbers], _metrics(b)[numbers])
    train_dt(model(1), sampler(1), cfg, member)  # resumes at 100 -> 200
    np.testing.assert_allclose(_metrics(member)["loss"], _metrics(whole[1])["loss"],
                               rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(_metrics(member)["grad_norm"], _metrics(whole[1])["grad_norm"],
                               rtol=1e-4, atol=1e-6)


def test_a_suite_trains_the_seeds_of_a_cell_together_with_the_numbers_of_separate_runs(
        tmp_path, monkeypatch):
    """`--stack-seeds` (the default on a GPU): the seeds of one cell train as one vmapped
    model, each written as its own run; without dropout (the smoke profile) their losses,
    evaluations and folders are those of separate runs."""
    from dtbench import api
    from dtbench.contract import RunSpec
    from tests.test_d4rl_io import _write_d4rl

    monkeypatch.setenv("DTBENCH_D4RL_DIR", str(tmp_path / "d4rl"))
    (tmp_path / "d4rl").mkdir()
    _write_d4rl(tmp_path / "d4rl" / "hopper_medium-v2.hdf5", [30, 20, 25],
                ["terminal", "timeout", "terminal"])
    quiet = lambda line: None  # noqa: E731
    overrides = {"train.steps": 40, "train.log_every": 1, "train.checkpoint_every": 20,
                 "eval.during_training": 1}
    from dtbench import training

    groups = []
    real = training.train
    monkeypatch.setattr(training, "train",
                        lambda learner, *a, **k: groups.append(learner.size) or real(learner, *a,
                                                                                    **k))
    import dtbench.runs.execute

    lock_steps = []  # members per evaluation call: all three in one lock-step
    real_eval = dtbench.runs.execute.evaluate_together
    monkeypatch.setattr(dtbench.runs.execute, "evaluate_together",
                        lambda policies, *a, **k: lock_steps.append(len(policies))
                        or real_eval(policies, *a, **k))
    together = api.train("mujoco/hopper", ["d4rl-medium"], seeds=[0, 1, 2], profile="smoke",
                         overrides=overrides, results_root=tmp_path / "together",
                         stack_seeds=True, echo=quiet)
    assert groups == [3]  # one group of the three seeds
    targets = len(together[0]["targets"])
    assert lock_steps == [3] * (2 * targets)  # during training and after, per target
    alone = api.train("mujoco/hopper", ["d4rl-medium"], seeds=[0, 1, 2], profile="smoke",
                      overrides=overrides, results_root=tmp_path / "alone",
                      stack_seeds=False, echo=quiet)
    assert groups == [3, 1, 1, 1]  # the separate runs trained alone
    for a, b in zip(together, alone, strict=True):
        assert a["spec"] == b["spec"]
        for ta, tb in zip(a["targets"], b["targets"], strict=True):
            np.testing.assert_allclose(ta["return_mean"], tb["return_mean"], rtol=1e-3)
    for seed in (0, 1, 2):
        spec = RunSpec("mujoco", "hopper", "d4rl-medium", "dt", seed, "smoke",
                       overrides=tuple(sorted(overrides.items())))
        a = pd.read_csv(spec.folder(tmp_path / "together") / "metrics.csv")
        b = pd.read_csv(spec.folder(tmp_path / "alone") / "metrics.csv")
        np.testing.assert_allclose(a["loss"], b["loss"], rtol=1e-4, atol=1e-6)
        # each member has its own curve (the evaluation during training) and checkpoint
        assert len(pd.read_csv(spec.folder(tmp_path / "together") / "curve.csv")) == 4
        assert (spec.folder(tmp_path / "together") / CHECKPOINT).is_file()
