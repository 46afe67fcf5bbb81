"""Time the K-window sampler per batch (prints figures; speed goals live here, not in tests).

    python benchmarks/sampler_speed.py [--batch 64] [--context 20] [--episodes 1000]

The default shape is the paper's D4RL batch (64 windows of K=20) over a D4RL-sized store:
1000 episodes of 1000 steps, 17-float states (Hopper/Walker-like) and 6-float actions.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from dtbench.data.sampler import WindowSampler
from dtbench.data.store import TrajectoryStore


def synthetic_store(episodes: int, length: int, obs_dim: int, act_dim: int) -> TrajectoryStore:
    rng = np.random.default_rng(0)
    n = episodes * length
    return TrajectoryStore(
        observations=rng.standard_normal((n, obs_dim), dtype=np.float32),
        actions=rng.uniform(-1, 1, (n, act_dim)).astype(np.float32),
        rewards=rng.uniform(0, 1, n).astype(np.float32),
        terminated=np.zeros(n, dtype=bool),
        truncated=np.zeros(n, dtype=bool),
        episode_starts=np.arange(0, n + 1, length, dtype=np.int64),
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--context", type=int, default=20)
    p.add_argument("--episodes", type=int, default=1000)
    p.add_argument("--length", type=int, default=1000)
    p.add_argument("--repeats", type=int, default=2000)
    a = p.parse_args()
    store = synthetic_store(a.episodes, a.length, 17, 6)
    mean, std = store.state_stats()
    sampler = WindowSampler(store, a.context, a.batch, 1000.0, 1000, mean, std)
    for _ in range(50):
        sampler.sample()  # warm-up
    times = []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        sampler.sample()
        times.append(time.perf_counter() - t0)
    ms = np.array(times) * 1e3
    print(f"sampler: batch {a.batch} x K={a.context} over {store.num_steps:,} steps, "
          f"torch threads {torch.get_num_threads()}: median {np.median(ms):.3f} ms/batch, "
          f"p90 {np.percentile(ms, 90):.3f} ms, mean {ms.mean():.3f} ms ({a.repeats} batches)")


if __name__ == "__main__":
    main()
