"""`make bench-gpu`: the paper's configurations on the device a GPU session has, in one script.

    python -m benchmarks.bench_gpu [--device cuda] [--out results/bench-gpu.md] [--test]

Measures, for the paper's D4RL DT (K=20, 3 layers, 128 wide, batch 64): the training step of
one run with each device setting on and off (`train.precision` TF32 / bf16 autocast, and
torch.compile), 1-8 separate runs sharing the device (`--jobs`), a stacked group of S seeds
trained as one model (`dtbench.training.Stacked`; S = 3, 9, 27), evaluation
throughput of 100 Hopper episodes with environment workers and without; the Atari DT's
training step; then projects the paper's D4RL DT grid (9 datasets x 3 seeds x 100k steps, and
its evaluations: 10 x 2 targets x 100 episodes of up to 1000 steps per run) in device-hours from
the measured rates. `--test` runs every code path at toy sizes on any device (CI runs it on
the CPU); its figures mean nothing.
"""

from __future__ import annotations

import argparse
import dataclasses
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmarks.workloads import (
    CONFIGS,
    MAX_EP_LEN,
    RETURN_SCALE,
    Config,
    hopper_rollouts,
    model_config,
    synthetic_store,
)
from dtbench.atomic import atomic_write
from dtbench.config import TrainConfig
from dtbench.data.sampler import WindowSampler
from dtbench.models.dt import DecisionTransformer
from dtbench.precision import matmul_precision
from dtbench.training import Stacked, make_optimizer

ROOT = Path(__file__).resolve().parents[1]
GRID_RUNS, GRID_STEPS = 27, 100_000  # the paper's D4RL DT grid: 9 datasets x 3 seeds
EVAL_STEPS_PER_RUN = 10 * 2 * 100 * 1000  # 10 evaluations x 2 targets x 100 episodes x 1000


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _median_s(step: Callable[[], object], device: str, warmup: int, repeats: int) -> float:
    for _ in range(warmup):
        step()
    _sync(device)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        step()
        _sync(device)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def training_step(cfg: Config, device: str, name: str = "fp32") -> Callable[[], None]:
    """One run's training step (sample + update), with setting `name`."""
    store = synthetic_store(cfg)
    mean, std = (None, None) if store.frame_stack > 1 else store.state_stats()
    sampler = WindowSampler(store, cfg.context_len, cfg.batch_size, RETURN_SCALE, MAX_EP_LEN,
                            mean, std, device)
    model = DecisionTransformer(model_config(cfg), cfg.obs_shape, cfg.act_dim, cfg.discrete,
                                encoder="nature_cnn" if cfg.discrete else "linear").to(device)
    optimizer = make_optimizer(model, TrainConfig())
    forward = torch.compile(model) if name == "compile" else model

    def step() -> None:
        b = sampler.sample()
        with matmul_precision(name if name in ("tf32", "bf16") else "fp32", device):
            out = forward(b.states, b.actions, b.returns_to_go, b.timesteps)
            loss = model.action_loss(out, b.actions, b.mask)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        optimizer.step()

    return step


def single_step_ms(cfg: Config, device: str, name: str, repeats: int) -> float:
    """ms per training step (sample + update) of one run, with setting `name`."""
    step = training_step(cfg, device, name)
    return 1e3 * _median_s(step, device, 3 if name != "compile" else 5, repeats)


def concurrent_steps_per_s(device: str, jobs: int, seconds: float, test: bool) -> float:
    """Training steps per second of `jobs` separate runs sharing the device (what `dtbench
    suite --jobs N` does on one GPU): each a process stepping the D4RL DT for `seconds`."""
    cmd = [sys.executable, "-m", "benchmarks.bench_gpu", "--steps-for", str(seconds),
           "--device", device, *(["--test"] if test else [])]
    procs = [subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
             for _ in range(jobs)]
    rates = []
    for proc in procs:
        out, _ = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"bench-gpu: a concurrent run failed (exit {proc.returncode})")
        rates.append(float(out.strip().splitlines()[-1]))
    return sum(rates)


def steps_for(device: str, seconds: float, test: bool) -> float:
    """One run's steps per second over `seconds` (after warm-up): a concurrent job's rate."""
    step = training_step(_d4rl(test), device)
    for _ in range(3):
        step()
    _sync(device)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        step()
        n += 1
    _sync(device)
    return n / (time.perf_counter() - t0)


def _d4rl(test: bool) -> Config:
    cfg = CONFIGS["d4rl"]
    return dataclasses.replace(cfg, episodes=4, episode_len=50, batch_size=4) if test else cfg


def stacked_step_ms(cfg: Config, device: str, size: int, repeats: int) -> float:
    """ms per step of a group of `size` members (each its own batch)."""
    store = synthetic_store(cfg)
    mean, std = store.state_stats()
    samplers = [WindowSampler(store, cfg.context_len, cfg.batch_size, RETURN_SCALE,
                              MAX_EP_LEN, mean, std, device, seed=i) for i in range(size)]
    models = []
    for i in range(size):
        torch.manual_seed(i)
        models.append(DecisionTransformer(model_config(cfg), cfg.obs_shape, cfg.act_dim,
                                          cfg.discrete).to(device))
    group = Stacked(models, TrainConfig())

    def step() -> None:
        group.update(group.losses([s.sample() for s in samplers], mask_attention=False))

    return 1e3 * _median_s(step, device, 2, repeats)


def eval_steps_per_s(episodes: int, max_steps: int, workers: int, device: str) -> float:
    """Environment steps per second of DT rollouts on Hopper (the d4rl model, untrained)."""
    from dtbench.evaluation import evaluate
    from dtbench.policies import DTPolicy

    model, mean, std, make_env = hopper_rollouts(device)

    t0 = time.perf_counter()
    result = evaluate(DTPolicy(model, mean, std, RETURN_SCALE), make_env, episodes, 3600.0,
                      seed=0, max_steps=max_steps, workers=workers)
    return float(result.lengths.sum()) / (time.perf_counter() - t0)


def measure(device: str, test: bool) -> dict[str, Any]:
    from dtbench.env_workers import default_workers

    d4rl, atari = _d4rl(test), CONFIGS["atari"]
    repeats = 2 if test else 20
    if test:  # every code path, toy sizes
        atari = dataclasses.replace(atari, episodes=2, episode_len=40, batch_size=2,
                                    context_len=4, n_layer=1, n_head=1)
    settings = ["fp32", "bf16"] + (["tf32"] if device.startswith("cuda") else [])
    settings += [] if test else ["compile"]
    figures: dict[str, Any] = {"device": device, "device_name": device_name(device),
                               "test": test, "single": {}, "stacked": {}, "eval": {}}
    for name in settings:
        figures["single"][name] = single_step_ms(d4rl, device, name, repeats)
    for size in ((2, 3) if test else (3, 9, 27)):
        figures["stacked"][size] = stacked_step_ms(d4rl, device, size, repeats)
    figures["atari_ms"] = single_step_ms(atari, device, "fp32", repeats)
    figures["jobs"] = {jobs: concurrent_steps_per_s(device, jobs, 1.0 if test else 20.0, test)
                       for jobs in ((1, 2) if test else (1, 2, 4, 8))}
    episodes, steps = (4, 5) if test else (100, 200)
    for workers in dict.fromkeys((0, default_workers(episodes) or (2 if test else 0))):
        figures["eval"][workers] = eval_steps_per_s(episodes, steps, workers, device)
    return figures


def device_name(device: str) -> str:
    if device.startswith("cuda") and torch.cuda.is_available():
        return torch.cuda.get_device_name(torch.device(device))
    import platform

    return f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


def projection(f: dict[str, Any]) -> dict[str, float]:
    """The paper's D4RL DT grid in device-hours from the measured rates: training at the best
    of one run per step and the stacked groups (member-steps per second), evaluation at the
    best measured environment-steps rate."""
    rates = {"single": 1e3 / min(f["single"].values())}
    rates.update({f"{jobs} runs per device": rate for jobs, rate in f["jobs"].items()})
    rates.update({f"stacked S={s}": 1e3 * s / ms for s, ms in f["stacked"].items()})
    best = max(rates, key=rates.get)
    train_h = GRID_RUNS * GRID_STEPS / rates[best] / 3600
    eval_h = GRID_RUNS * EVAL_STEPS_PER_RUN / max(f["eval"].values()) / 3600
    return {"best": best, "member_steps_per_s": rates[best], "train_h": train_h,
            "eval_h": eval_h, "total_h": train_h + eval_h}


def report(f: dict[str, Any], seconds: float) -> str:
    p = projection(f)
    lines = [
        "# GPU benchmark (`make bench-gpu`)\n",
        ("**TEST MODE: toy sizes, the figures below mean nothing.**\n" if f["test"] else ""),
        f"Measured {time.strftime('%Y-%m-%d')} on {f['device_name']} (device `{f['device']}`) "
        f"in {seconds / 60:.1f} min; medians. Regenerate with `make bench-gpu`.\n",
        "## The paper's D4RL DT, one run\n",
        "| Setting | Step (ms) |", "|---|---|",
        *(f"| {name} | {ms:.2f} |" for name, ms in f["single"].items()),
        "\n## Seeds trained together (`dtbench.training.Stacked`)\n",
        "| Members S | Group step (ms) | Member-steps/s |", "|---|---|---|",
        *(f"| {s} | {ms:.2f} | {1e3 * s / ms:.0f} |" for s, ms in f["stacked"].items()),
        "\n## Several runs on one device (`dtbench suite --jobs N`)\n",
        "Separate processes, each training the D4RL DT (fp32) for the same wall time; steps/s "
        "summed over the runs.\n",
        "| Runs | Steps/s (all runs) |", "|---|---|",
        *(f"| {jobs} | {rate:.0f} |" for jobs, rate in f["jobs"].items()),
        f"\nAtari DT (paper model), one run at the bench's batch: {f['atari_ms']:.1f} ms/step.\n",
        "Batches are made on the device (the sampler keeps the store there), so no batch "
        "crosses from host memory and pinned memory has nothing to speed up.\n",
        "## Evaluation (Hopper, lock-stepped episodes)\n",
        "| Environment workers | Env steps/s |", "|---|---|",
        *(f"| {w} | {r:.0f} |" for w, r in f["eval"].items()),
        "\n## The paper's D4RL DT grid, projected\n",
        f"{GRID_RUNS} runs x {GRID_STEPS:,} steps at {p['member_steps_per_s']:.0f} steps/s "
        f"({p['best']}): {p['train_h']:.2f} h of training; evaluations "
        f"({EVAL_STEPS_PER_RUN:,} env steps per run at most) {p['eval_h']:.2f} h; "
        f"**{p['total_h']:.2f} device-hours** (goal: under one GPU-hour).\n",
    ]
    return "\n".join(line for line in lines if line != "")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--out", type=Path, default=ROOT / "results" / "bench-gpu.md")
    p.add_argument("--test", action="store_true", help="toy sizes: every code path, fast")
    p.add_argument("--steps-for", type=float, default=0.0,
                   help="(internal) print one run's steps/s over this many seconds")
    a = p.parse_args()
    if a.steps_for:
        print(steps_for(a.device, a.steps_for, a.test))
        return
    torch.manual_seed(0)
    t0 = time.perf_counter()
    figures = measure(a.device, a.test)
    text = report(figures, time.perf_counter() - t0)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(a.out) as tmp:
        tmp.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
