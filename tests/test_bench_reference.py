"""The benchmark's one-episode-at-a-time loop plays the same episodes as dtbench's batched
evaluator, so `make bench` compares equal work."""

import gymnasium as gym
import numpy as np
import pytest
import torch

from benchmarks.reference import evaluate_one_at_a_time
from dtbench.config import ModelConfig
from dtbench.evaluation import evaluate
from dtbench.models.dt import DecisionTransformer
from dtbench.policies import DTPolicy


def test_one_at_a_time_evaluation_plays_the_batched_evaluators_episodes():
    torch.manual_seed(0)
    cfg = ModelConfig(context_len=4, embed_dim=16, n_layer=1, n_head=1, dropout=0.0,
                      max_ep_len=50)
    model = DecisionTransformer(cfg, (11,), 3, False).eval()
    mean, std = np.full(11, 0.1, np.float32), np.full(11, 2.0, np.float32)

    def make_env() -> gym.Env:
        return gym.make("Hopper-v5", terminate_when_unhealthy=False)

    batched = evaluate(DTPolicy(model, mean, std, 100.0), make_env, 3, 360.0, seed=5,
                       max_steps=12)
    single = evaluate_one_at_a_time(model, make_env, 3, 360.0, 100.0, 5, 12, mean, std)
    assert (batched.lengths == 12).all()  # no early ends here: lengths are the cap
    np.testing.assert_array_equal(single[:, 0], batched.lengths)
    np.testing.assert_allclose(single[:, 1], batched.returns, rtol=1e-4)


def test_the_interleaved_evaluation_rounds_and_the_machines_bound_are_reported():
    """`make bench`'s evaluation comparison: alternating rounds with the ceiling probed around
    each, the bound from counted FLOPs and stepping time, in the report's words."""
    from benchmarks.bench import eval_rounds_lines
    from benchmarks.workloads import evaluation_rounds

    r = evaluation_rounds(episodes=3, max_steps=4, rounds=2, repeats_ceiling=2)
    assert len(r["rounds"]) == 2 and all(x["dtbench"] > 0 and x["reference"] > 0
                                         for x in r["rounds"])
    assert r["model_flops_per_step"] > 0 and r["env_s"] > 0
    assert r["bound_steps_per_s"] == pytest.approx(
        3 / (r["model_flops_per_step"] / (1e9 * np.median([x["ceiling_after"]
                                                           for x in r["rounds"]])) + r["env_s"]))
    text = "\n".join(eval_rounds_lines(r))
    assert "| 1 |" in text and "| 2 |" in text and "This machine's bound" in text


def test_bench_gpu_runs_every_code_path_on_the_cpu_in_test_mode(tmp_path, monkeypatch):
    """`make bench-gpu` is run where a GPU is lent; here its test mode (toy sizes, CPU) goes
    through every measurement and the projection and writes the labelled report."""
    import sys

    from benchmarks import bench_gpu

    out = tmp_path / "bench-gpu.md"
    monkeypatch.setattr(sys, "argv", ["bench_gpu", "--device", "cpu", "--test", "--out",
                                      str(out)])
    bench_gpu.main()
    text = out.read_text()
    assert "TEST MODE" in text and "device `cpu`" in text
    for section in ("one run", "Seeds trained together", "Several runs on one device",
                    "Evaluation", "projected"):
        assert section in text
    assert "| fp32 |" in text and "| bf16 |" in text and "| 3 |" in text
    assert "device-hours" in text


def test_interleaved_rounds_rotate_flag_a_moving_ceiling_and_take_the_median(monkeypatch):
    """The harness behind the bench's interleaved ratios: the order rotates each round, a
    round whose matmul ceiling moved by more than 20% is flagged and left out, and the ratio
    is the first contender's rate over each other's, median of the kept rounds."""
    from benchmarks import workloads

    ceilings = iter([100, 100, 100, 150, 100, 105])  # round 2 moves by a third
    monkeypatch.setattr(workloads, "matmul_ceiling",
                        lambda device, repeats=10: {"gflops": next(ceilings)})
    order = []
    rates = {"a": iter([4.0, 40.0, 6.0]), "b": iter([2.0, 2.0, 2.0])}

    def contender(name):
        return lambda: order.append(name) or next(rates[name])

    r = workloads.interleaved_rounds({"a": contender("a"), "b": contender("b")}, 3, "cpu")
    assert order == ["a", "b", "b", "a", "a", "b"]
    assert [x["flagged"] for x in r["rounds"]] == [False, True, False]
    assert r["kept"] == 2
    assert r["ratios"]["b"] == {"median": 2.5, "min": 2.0, "max": 3.0}  # 2 and 3, not 20
