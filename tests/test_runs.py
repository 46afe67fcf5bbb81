"""End to end on the smoke profile: runs, results, resume, determinism, NaN, evaluation."""

import json

import numpy as np
import pytest
import torch

from dtbench.config import ModelConfig, TrainConfig
from dtbench.contract import RunSpec
from dtbench.data import minari_io
from dtbench.data.sampler import WindowSampler
from dtbench.data.store import TrajectoryStore
from dtbench.domains.keydoor import make_dataset
from dtbench.domains.keydoor.env import random_walk_episodes
from dtbench.errors import DTBenchError
from dtbench.launchers import launch
from dtbench.models.dt import DecisionTransformer
from dtbench.policies import DTPolicy
from dtbench.runs import collect, run, write_table
from dtbench.training import Single, train


@pytest.fixture
def keydoor_1k(isolated_minari):
    make_dataset("random-1k")


def test_smoke_run_writes_everything_and_is_not_run_twice(keydoor_1k, tmp_path):
    spec = RunSpec("keydoor", "keydoor", "random-1k", "dt", seed=0, profile="smoke")
    result = run([spec], results_root=tmp_path, progress=False)[0]
    folder = spec.folder(tmp_path)
    for name in ("config.json", "metrics.csv", "eval.csv", "result.json", "checkpoint.pt"):
        assert (folder / name).exists(), name
    config = json.loads((folder / "config.json").read_text())
    assert config["settings"]["model"]["context_len"] == 30  # whole episode as context
    assert config["dataset"]["episodes"] == 1000 and config["environment"]["versions"]["torch"]
    assert result["targets"][0]["target_return"] == 1.0
    stamp = (folder / "result.json").stat().st_mtime_ns
    assert run([spec], results_root=tmp_path, progress=False)[0] == result
    assert (folder / "result.json").stat().st_mtime_ns == stamp
    run([RunSpec("keydoor", "keydoor", "random-1k", "random", 0, "smoke")], results_root=tmp_path)
    table = collect(tmp_path)
    assert set(table["algo"]) == {"dt", "random"} and write_table(tmp_path).exists()


@pytest.mark.parametrize("jobs", [1, 2])
def test_runs_finish_what_they_can_then_raise_the_first_error(keydoor_1k, tmp_path, jobs):
    """One job (in this process) and worker processes alike attempt every run."""
    good = RunSpec("keydoor", "keydoor", "random-1k", "dt", seed=0, profile="smoke")
    missing = RunSpec("keydoor", "keydoor", "random-10k", "dt", seed=0, profile="smoke")
    seen = []
    with pytest.raises(DTBenchError, match="random-10k-v1 is missing"):
        launch([missing, good], tmp_path, jobs=jobs,
               on_result=lambda spec, result: seen.append(spec))
    assert seen == [good] and (good.folder(tmp_path) / "result.json").exists()
    assert not (missing.folder(tmp_path) / "result.json").exists()
    # the finished run is served from its folder the second time, in one process
    again = launch([good], tmp_path, jobs=2)
    assert again[0] == json.loads((good.folder(tmp_path) / "result.json").read_text())


def test_missing_dataset_and_bad_names_are_clear_errors(tmp_path):
    with pytest.raises(DTBenchError, match="dtbench data make keydoor"):
        run([RunSpec("keydoor", "keydoor", "random-1k", "dt", 0, "smoke")], results_root=tmp_path)
    with pytest.raises(DTBenchError, match="unknown algorithm 'nope'; known: .*dt"):
        run([RunSpec("keydoor", "keydoor", "random-1k", "nope", 0, "smoke")], results_root=tmp_path)
    with pytest.raises(DTBenchError, match="unknown profile"):
        run([RunSpec("keydoor", "keydoor", "random-1k", "dt", 0, "huge")], results_root=tmp_path)
    assert not list(tmp_path.glob("**/result.json"))


def _tiny(store, steps, seed=0, run_dir=None, **train_kw):
    torch.manual_seed(seed)
    model = DecisionTransformer(ModelConfig(context_len=5, embed_dim=16, n_layer=1, n_head=1,
                                            dropout=0.1, max_ep_len=60), store.obs_shape, 4, True)
    sampler = WindowSampler(store, 5, 8, 1.0, 60, seed=seed)
    cfg = TrainConfig(steps=steps, batch_size=8, lr=1e-3, warmup_steps=2, log_every=1,
                      checkpoint_every=2, **train_kw)
    train(Single(model, cfg), [sampler], cfg, [run_dir], progress=False)
    return model


def _losses(run_dir):
    import pandas as pd

    return pd.read_csv(run_dir / "metrics.csv")["loss"].to_numpy()


def test_training_is_deterministic_and_resumes_exactly(tmp_path):
    store = TrajectoryStore.from_episodes(random_walk_episodes(30, seed=0))
    a = _tiny(store, 6, run_dir=tmp_path / "a")
    b = _tiny(store, 6, run_dir=tmp_path / "b")
    np.testing.assert_array_equal(_losses(tmp_path / "a"), _losses(tmp_path / "b"))
    # interrupted after 4 steps, then resumed to 6: same losses and weights as in one go
    _tiny(store, 4, run_dir=tmp_path / "c")
    c = _tiny(store, 6, seed=123, run_dir=tmp_path / "c")  # seed ignored: state comes from disk
    np.testing.assert_allclose(_losses(tmp_path / "c"), _losses(tmp_path / "a"), rtol=1e-6)
    for pa, pb, pc in zip(a.parameters(), b.parameters(), c.parameters(), strict=True):
        torch.testing.assert_close(pa, pb, rtol=0, atol=0)  # same seed: the same weights
        torch.testing.assert_close(pa, pc)


def test_nan_loss_stops_with_one_line_and_keeps_last_good_checkpoint(tmp_path, monkeypatch):
    store = TrajectoryStore.from_episodes(random_walk_episodes(10, seed=0))
    calls = {"n": 0}
    original = DecisionTransformer.action_loss

    def poisoned(self, out, actions, mask, **kwargs):
        calls["n"] += 1
        loss = original(self, out, actions, mask, **kwargs)
        return loss * float("nan") if calls["n"] == 4 else loss

    monkeypatch.setattr(DecisionTransformer, "action_loss", poisoned)
    with pytest.raises(DTBenchError, match="loss became nan at step 3; last good checkpoint "
                                           "is step 2"):
        _tiny(store, 10, run_dir=tmp_path)
    assert torch.load(tmp_path / "checkpoint.pt", weights_only=False)["step"] == 2


def test_evaluation_context_matches_training_windows_when_replaying_an_episode():
    episodes = random_walk_episodes(40, seed=5)
    store = TrajectoryStore.from_episodes(episodes)
    e = int(np.flatnonzero(store.episode_returns > 0)[0])  # a successful episode
    start, end = store.episode_starts[e], store.episode_starts[e + 1]
    mean, std = store.state_stats()
    k = 8
    model = DecisionTransformer(ModelConfig(context_len=k, embed_dim=16, n_layer=1, dropout=0.0,
                                            max_ep_len=60), store.obs_shape, 4, True).eval()
    seen = []
    model.register_forward_hook(
        lambda m, args, kwargs, out: seen.append(
            [kwargs["state_embeddings"].clone(), *(a.clone() for a in args[1:])]),
        with_kwargs=True)  # the rollout passes cached state embeddings, not raw states
    # the full forward pass, whose inputs the hook sees (the last-token path is tested to
    # give the same actions)
    policy = DTPolicy(model, mean, std, return_scale=1.0, last_token_only=False)
    policy.reset(1, target_return=float(store.episode_returns[e]))
    for t in range(end - start):
        policy.act(store.observations[start + t][None], np.array([True]))
        policy.observe(store.rewards[start + t: start + t + 1].astype(float), np.array([True]))
    sampler = WindowSampler(store, k, 1, 1.0, 60, mean, std)
    assert len(seen) == end - start  # one model call per step
    for t, (state_emb, _, rtg, timesteps) in enumerate(seen):
        ref = sampler.batch_at(torch.tensor([start + t]))
        n = int(ref.mask.sum())
        with torch.no_grad():
            torch.testing.assert_close(state_emb[0], model.embed_state(ref.states)[0, :n])
        torch.testing.assert_close(rtg[0], ref.returns_to_go[0, :n])  # RTG drops by each reward
        torch.testing.assert_close(timesteps[0], ref.timesteps[0, :n])


def test_make_datasets_skips_present_data_and_remakes_it_with_force(isolated_minari):
    from dtbench.runs import make_datasets

    (line,) = make_datasets("keydoor", ["random-1k"])
    assert line.startswith("dtbench/keydoor/random-1k-v1: made in")
    sidecar = minari_io.dataset_dir("dtbench/keydoor/random-1k-v1") / minari_io.SIDECAR
    stamp = sidecar.stat().st_mtime_ns
    assert make_datasets("keydoor", ["random-1k"]) == ["dtbench/keydoor/random-1k-v1: present"]
    assert sidecar.stat().st_mtime_ns == stamp
    (line,) = make_datasets("keydoor", ["random-1k"], force=True)
    assert "made in" in line and sidecar.stat().st_mtime_ns != stamp


def test_evaluations_during_training_make_a_curve_and_the_best_score(keydoor_1k, tmp_path):
    import pandas as pd

    from dtbench.runs import CURVE

    spec = RunSpec("keydoor", "keydoor", "random-1k", "dt", seed=0, profile="smoke")
    result = run([spec], results_root=tmp_path, progress=False,
                 eval_overrides={"eval.during_training": 1})[0]
    curve = pd.read_csv(spec.folder(tmp_path) / CURVE)
    assert curve["step"].tolist() == [2, 4]  # halfway (smoke trains 4 steps) and final
    target = result["targets"][0]
    assert target["evaluations"] == 2 and target["best_score_mean"] == curve["score_mean"].max()
    assert target["score_mean"] == curve["score_mean"].iloc[-1]
    # a resumed attempt that evaluates at step 2 again replaces the old rows from step 2 on
    from dtbench import registry
    from dtbench.evaluation import EvalResult
    from dtbench.runs.results import append_curve

    domain, task = registry.resolve("keydoor")
    again = EvalResult(target_return=1.0, returns=np.array([1.0]), lengths=np.array([30]),
                       seeds=np.array([0]))
    redone = append_curve(spec.folder(tmp_path) / CURVE, 2, [again],
                          lambda returns: domain.normalize(task.name, returns))
    assert redone["step"].tolist() == [2] and redone["score_mean"].tolist() == [100.0]


def test_a_target_sweep_reuses_the_trained_run_and_spans_the_data(keydoor_1k, tmp_path,
                                                                  monkeypatch):
    from dtbench import training

    started_from = []  # was there a checkpoint to resume when training began?
    original = training.train

    def spy(learner, samplers, cfg, run_dirs, **kwargs):
        started_from.append((run_dirs[0] / "checkpoint.pt").exists())
        return original(learner, samplers, cfg, run_dirs, **kwargs)

    monkeypatch.setattr(training, "train", spy)
    plain = RunSpec("keydoor", "keydoor", "random-1k", "dt", seed=0, profile="smoke")
    run([plain], results_root=tmp_path, progress=False)
    sweep = RunSpec("keydoor", "keydoor", "random-1k", "dt", seed=0, profile="smoke",
                    overrides=(("eval.target_sweep", "3"),))
    result = run([sweep], results_root=tmp_path, progress=False)[0]
    # random walks return 0 or 1: targets from the worst (0) to 1.5x the best
    assert [t["target_return"] for t in result["targets"]] == [0.0, 0.75, 1.5]
    same = [(folder / "checkpoint.pt").read_bytes() for folder in
            (plain.folder(tmp_path), sweep.folder(tmp_path))]
    assert same[0] == same[1]  # the plain run's training, evaluated differently
    assert started_from == [False, True]  # ... copied, not trained again
    assert "dt@eval.target_sweep=3" in str(sweep.folder(tmp_path))
    # settings that shape training (here the RTG scale) train a run of their own
    scaled = RunSpec("keydoor", "keydoor", "random-1k", "dt", seed=0, profile="smoke",
                     overrides=(("eval.return_scale", "1.0"),))
    run([scaled], results_root=tmp_path, progress=False)
    assert started_from[-1] is False
    assert (scaled.folder(tmp_path) / "checkpoint.pt").read_bytes() != same[0]
