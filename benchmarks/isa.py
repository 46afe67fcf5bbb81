"""The cost and the effect of pinning CPU runs to AVX2 (`dtbench.hardware`): the paper's D4RL DT
training step and d3rlpy's SAC update (the cost of MuJoCo data generation), each in processes
of its own under `avx2` (the pinned variables), `native` (the libraries' own choice, AVX-512
on this CPU) and `compatible` (pinned, with MKL's `MKL_CBWR=COMPATIBLE`, its code path meant to
give the same bits on every vendor's CPU), in interleaved rounds. Prints the median ms per step
of each, the ratios, and a digest of the weights after a fixed number of steps from a fixed
seed: equal digests within a setting, different ones across settings, show the lever is real;
a setting's digest equal on two kinds of CPU shows it repeats across them.

    .venv/bin/python -m benchmarks.isa [--rounds 3]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = ("avx2", "native", "compatible")
WORKLOADS = ("dt", "sac")


def _env(setting: str) -> dict[str, str]:
    from dtbench.hardware import CHOICE, PINNED

    env = {k: v for k, v in os.environ.items() if k not in PINNED}
    env[CHOICE] = "native" if setting == "native" else "avx2"
    if setting != "native":
        env.update(PINNED)
    if setting == "compatible":
        env["MKL_CBWR"] = "COMPATIBLE"
    return env


def _digest(tensors: list) -> str:
    return hashlib.sha256(b"".join(t.detach().cpu().contiguous().numpy().tobytes()
                                   for t in tensors)).hexdigest()[:16]


def dt_step(steps: int, timed: int) -> dict:
    import torch

    from benchmarks import workloads as w
    from dtbench.config import TrainConfig
    from dtbench.data.sampler import WindowSampler
    from dtbench.models.dt import DecisionTransformer
    from dtbench.training import Single

    torch.manual_seed(0)
    torch.set_flush_denormal(True)
    cfg = w.CONFIGS["d4rl"]
    store = w.synthetic_store(cfg)
    mean, std = store.state_stats()
    sampler = WindowSampler(store, cfg.context_len, cfg.batch_size, w.RETURN_SCALE,
                            w.MAX_EP_LEN, mean, std, seed=0)
    model = DecisionTransformer(w.model_config(cfg), cfg.obs_shape, cfg.act_dim, False)
    learner = Single(model, TrainConfig())

    def step() -> None:
        learner.update(learner.losses([sampler.sample()], mask_attention=True))

    for _ in range(steps):
        step()
    digest = _digest(list(model.parameters()))
    times = []
    for _ in range(timed):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return {"digest": digest, "ms": 1e3 * statistics.median(times)}


def sac_update(steps: int, timed: int) -> dict:
    import contextlib
    import io

    import torch

    with contextlib.redirect_stderr(io.StringIO()):
        import d3rlpy

    from benchmarks.generation import random_dataset

    d3rlpy.seed(0)
    torch.set_flush_denormal(True)
    dataset = random_dataset(5_000, 17, 6)  # HalfCheetah's sizes
    sac = d3rlpy.algos.SACConfig(batch_size=256).create(device="cpu:0")
    sac.build_with_dataset(dataset)
    times = []
    for i in range(steps + timed):
        batch = dataset.sample_transition_batch(256)
        t0 = time.perf_counter()
        sac.update(batch)
        if i >= steps:
            times.append(time.perf_counter() - t0)
    return {"digest": _digest(list(sac.impl.modules.policy.parameters())),
            "ms": 1e3 * statistics.median(times)}


def worker(workload: str) -> None:
    import torch

    torch.set_num_threads(1)  # a suite's worker: one thread a run on these 2 cores
    figures = {"dt": lambda: dt_step(20, 30), "sac": lambda: sac_update(50, 200)}[workload]()
    figures["capability"] = torch.backends.cpu.get_cpu_capability()
    print(json.dumps(figures))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("worker", nargs="?")
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return
    from dtbench.hardware import cpu_model

    results: dict = {(w, s): [] for w in WORKLOADS for s in SETTINGS}
    for _ in range(args.rounds):
        for workload in WORKLOADS:
            for setting in SETTINGS:
                out = subprocess.run([sys.executable, "-m", "benchmarks.isa", workload],
                                     cwd=ROOT, env=_env(setting), capture_output=True,
                                     text=True, check=True)
                results[workload, setting].append(json.loads(out.stdout.splitlines()[-1]))
    print(f"CPU: {cpu_model()}; one torch thread; {args.rounds} interleaved rounds")
    print("| workload | setting | torch dispatch | median ms | digests |")
    print("|---|---|---|---|---|")
    for (workload, setting), runs in results.items():
        ms = statistics.median(r["ms"] for r in runs)
        digests = sorted({r["digest"] for r in runs})
        print(f"| {workload} | {setting} | {runs[0]['capability']} | {ms:.2f} | "
              f"{', '.join(digests)} |")
    def ms(workload: str, setting: str) -> float:
        return statistics.median(r["ms"] for r in results[workload, setting])

    for workload in WORKLOADS:
        pinned = ms(workload, "avx2")
        print(f"{workload}: avx2 / native time = {pinned / ms(workload, 'native'):.3f}, "
              f"compatible / avx2 = {ms(workload, 'compatible') / pinned:.3f}")


if __name__ == "__main__":
    main()
