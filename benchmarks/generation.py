"""What D4RL-grade MuJoCo data would cost to make here: d3rlpy's SAC and TD3 update under the
settings that decide it (threads, batch, network width), and a MuJoCo env step, each in a process
of its own, in interleaved rounds. Prints ms per update and per env step and, for a budget of
online steps with one update per step, the hours of one generation.

    .venv/bin/python -m benchmarks.generation [--rounds 3] [--steps 1000000] [--updates 300]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# name: (algorithm, batch, hidden width, torch threads)
CONFIGS = {
    "sac b256 w256 t1": ("sac", 256, 256, 1),
    "sac b256 w256 t2": ("sac", 256, 256, 2),
    "sac b256 w128 t1": ("sac", 256, 128, 1),
    "sac b128 w256 t1": ("sac", 128, 256, 1),
    "td3 b256 w256 t1": ("td3", 256, 256, 1),
}
ENV = "Hopper-v5"


def random_dataset(n: int, obs_dim: int, act_dim: int) -> Any:  # noqa: ANN401 - d3rlpy's
    """A d3rlpy MDPDataset of `n` random transitions (seed 0) in episodes of 1,000 steps: what an
    update costs does not depend on the data's values."""
    import contextlib
    import io

    import numpy as np

    with contextlib.redirect_stderr(io.StringIO()):  # `import d3rlpy` warns about old gym
        import d3rlpy

    rng = np.random.default_rng(0)
    return d3rlpy.dataset.MDPDataset(
        rng.normal(size=(n, obs_dim)).astype(np.float32),
        rng.uniform(-1, 1, (n, act_dim)).astype(np.float32),
        rng.normal(size=n).astype(np.float32), np.zeros(n, np.float32),
        timeouts=(np.arange(n) % 1000 == 999).astype(np.float32))


def update_ms(algo: str, batch: int, width: int, threads: int, updates: int) -> float:
    """Median ms of one update on a random Hopper-sized dataset."""
    import contextlib
    import io

    import torch

    with contextlib.redirect_stderr(io.StringIO()):
        import d3rlpy

    torch.set_num_threads(threads)
    torch.set_flush_denormal(True)
    d3rlpy.seed(0)
    dataset = random_dataset(10_000, 11, 3)  # Hopper's sizes
    encoder = d3rlpy.models.VectorEncoderFactory(hidden_units=[width, width])
    make = d3rlpy.algos.SACConfig if algo == "sac" else d3rlpy.algos.TD3Config
    agent = make(batch_size=batch, actor_encoder_factory=encoder,
                 critic_encoder_factory=encoder).create(device="cpu:0")
    agent.build_with_dataset(dataset)
    times = []
    for i in range(updates + 20):
        sample = dataset.sample_transition_batch(batch)
        t0 = time.perf_counter()
        agent.update(sample)
        if i >= 20:
            times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def env_ms(steps: int) -> float:
    """Median ms of one env step with uniform actions."""
    import gymnasium as gym

    env = gym.make(ENV)
    env.reset(seed=0)
    env.action_space.seed(0)
    times = []
    for _ in range(steps):
        action = env.action_space.sample()
        t0 = time.perf_counter()
        _, _, terminated, truncated, _ = env.step(action)
        times.append(time.perf_counter() - t0)
        if terminated or truncated:
            env.reset()
    return 1e3 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=1_000_000, help="online steps to project")
    parser.add_argument("--updates", type=int, default=300, help="timed updates per process")
    parser.add_argument("worker", nargs="*")
    args = parser.parse_args()
    if args.worker:
        name = " ".join(args.worker)
        ms = env_ms(args.updates) if name == "env" else update_ms(*CONFIGS[name],
                                                                  updates=args.updates)
        print(json.dumps({"ms": ms}))
        return
    results: dict[str, list[float]] = {name: [] for name in [*CONFIGS, "env"]}
    for _ in range(args.rounds):
        for name in results:
            out = subprocess.run([sys.executable, "-m", "benchmarks.generation",
                                  "--updates", str(args.updates), *name.split()],
                                 cwd=ROOT, capture_output=True, text=True, check=True)
            results[name].append(json.loads(out.stdout.splitlines()[-1])["ms"])
    step = statistics.median(results.pop("env"))
    print(f"{args.rounds} interleaved rounds; {ENV} step {step:.3f} ms")
    print("| setting | ms per update | hours for "
          f"{args.steps:,} steps (one update each, env included) |")
    print("|---|---|---|")
    for name, runs in results.items():
        ms = statistics.median(runs)
        print(f"| {name} | {ms:.2f} | {args.steps * (ms + step) / 3.6e6:.1f} |")


if __name__ == "__main__":
    main()
