"""Local D4RL-style datasets for a MuJoCo task, because no dataset host is reachable here.

Recipe (D4RL's, scaled to a budget): train SAC online with d3rlpy, snapshotting and scoring
the policy every `checkpoint_every` steps. The best-scoring snapshot is the expert (D4RL's
expert was the final policy of a converged 1M-step run; a short run is not converged and its
last snapshot can score below an earlier one); the medium policy is the snapshot, no later than
the expert, whose score is closest to `medium_fraction` of the expert's (D4RL: a policy stopped
at about a third of expert return), so "medium" is relative to what the run reached.

    random         rollouts of the uniform policy
    medium         rollouts of the medium snapshot
    medium-replay  SAC's replay buffer up to the medium snapshot
    expert         rollouts of the best snapshot
    medium-expert  medium + expert

Rollouts use one env, stepped by hand: a gymnasium 1.0 vector env would auto-reset on the step
after an episode ends, and that step must not be recorded as a transition. SAC training
checkpoints (model, optimiser, replay buffer) after every chunk, so an interrupted generation
resumes; runs are deterministic from the seed when not interrupted; finished datasets are
cached in the Minari store and never made twice.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import torch

from dtbench.atomic import atomic_write, write_json
from dtbench.d3rlpy_bridge import D3rlpyPolicy, d3rlpy
from dtbench.data import minari_io
from dtbench.data.collect import collect_episodes
from dtbench.domains.mujoco.ids import local_dataset_id as dataset_id
from dtbench.errors import DTBenchError
from dtbench.evaluation import evaluate
from dtbench.runtime import PROJECT_ROOT

DATASETS = ("random", "medium", "medium-replay", "expert", "medium-expert")
WORK_DIR = PROJECT_ROOT / "data" / "generation"


@dataclass(frozen=True)
class GenerationBudget:
    """How much compute one task's generation gets."""

    sac_steps: int  # online SAC env + update steps
    checkpoint_every: int  # steps between policy snapshots (each scored) and resume points
    random_steps: int  # uniform-action steps that start SAC's replay buffer
    eval_episodes: int  # episodes that score each snapshot
    dataset_steps: int  # transitions in each rollout dataset (random, medium, expert)
    max_episode_steps: int = 1000  # time limit of an episode (truncated there)
    medium_fraction: float = 1 / 3  # medium = snapshot scoring closest to this x expert
    batch_size: int = 256  # SAC batch


BUDGETS = {
    "smoke": GenerationBudget(sac_steps=300, checkpoint_every=100, random_steps=50,
                              eval_episodes=1, dataset_steps=120, max_episode_steps=40,
                              batch_size=32),
    "quick": GenerationBudget(sac_steps=30_000, checkpoint_every=3_000, random_steps=5_000,
                              eval_episodes=5, dataset_steps=50_000),
    # the MuJoCo benchmark tier's data (`bench-<name>`): SAC long enough for experts in D4RL's
    # range (docs/implementation-details.md, "MuJoCo data"), 200k transitions per rollout set
    "bench": GenerationBudget(sac_steps=300_000, checkpoint_every=10_000, random_steps=10_000,
                              eval_episodes=10, dataset_steps=200_000),
    "paper": GenerationBudget(sac_steps=1_000_000, checkpoint_every=50_000,
                              random_steps=10_000, eval_episodes=10, dataset_steps=1_000_000),
}


def generate(task: str, env_id: str, budget_name: str = "quick", seed: int = 0,
             work_dir: Path | None = None) -> dict[str, Any]:
    """Make every local dataset of `task` that is missing; return the generation summary.

    One id names one generation: datasets of the task already present must come from this
    same generation (seed, budget, the SAC run's snapshot scores), else nothing is written and
    the error says how to remake them together. SAC runs on one torch thread whatever the
    machine: its small updates gain little from a second thread (benchmarks/generation.py),
    a second thread on a busy core stalls every update at torch's thread barrier, and a
    generation repeats to the bit only at one thread count."""
    if budget_name not in BUDGETS:
        raise DTBenchError(f"unknown generation budget {budget_name!r}; known: "
                           f"{', '.join(BUDGETS)}")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _generate(task, env_id, budget_name, seed, work_dir)
    finally:
        torch.set_num_threads(threads)


def _generate(task: str, env_id: str, budget_name: str, seed: int,
              work_dir: Path | None) -> dict[str, Any]:
    budget = BUDGETS[budget_name]
    if all(minari_io.is_complete(dataset_id(task, name, budget_name)) for name in DATASETS):
        return minari_io.provenance(dataset_id(task, "expert", budget_name))
    work = (work_dir or WORK_DIR) / f"{task}-{budget_name}-seed{seed}"
    make_env = lambda: gymnasium.make(env_id, max_episode_steps=budget.max_episode_steps)  # noqa: E731
    sac, snapshots, replay_counts, sac_seconds = _train_sac(make_env, budget, seed, work,
                                                            f"{task} ({budget_name} budget)")
    scores = {step: s["return"] for step, s in snapshots.items()}
    expert, medium = pick_snapshots(scores, budget.medium_fraction)
    target = budget.medium_fraction * scores[expert]
    started = time.perf_counter()
    summary = {"task": task, "env_id": env_id, "budget": budget_name, **asdict(budget),
               "seed": seed, "sac_seconds": round(sac_seconds, 1),
               "snapshot_returns": {str(k): v for k, v in sorted(scores.items())},
               "expert_step": expert, "expert_return": scores[expert],
               "medium_step": medium, "medium_return": scores[medium],
               "medium_target_return": target}
    present = [name for name in DATASETS
               if minari_io.is_complete(dataset_id(task, name, budget_name))]
    for name in present:
        made = minari_io.provenance(dataset_id(task, name, budget_name))
        if (made.get("seed"), made.get("snapshot_returns")) != (seed, summary["snapshot_returns"]):
            raise DTBenchError(
                f"{dataset_id(task, name, budget_name)} comes from another generation than the "
                f"one now making the task's missing datasets (its SAC run scored otherwise); "
                f"remake them together: `dtbench data make mujoco/{task} --budget "
                f"{budget_name} --force`")
    episodes = {}
    rng = np.random.default_rng(seed)
    episodes["random"] = _rollouts(make_env, None, budget.dataset_steps, rng, seed + 1_000)
    for name, step in (("medium", medium), ("expert", expert)):
        sac.load_model(str(work / f"snapshot-{step}.d3"))
        episodes[name] = _rollouts(make_env, sac, budget.dataset_steps, rng, seed + 2_000)
    episodes["medium-expert"] = episodes["medium"] + episodes["expert"]
    episodes["medium-replay"] = _replay_episodes(work, replay_counts[medium])
    summary["wall_seconds"] = round(sac_seconds + time.perf_counter() - started, 1)
    for name in DATASETS:
        if name in present:
            continue
        returns = [float(ep["rewards"].sum()) for ep in episodes[name]]
        provenance = {**summary, "dataset": name, "episodes": len(returns),
                      "steps": int(sum(len(ep["rewards"]) for ep in episodes[name])),
                      "return_mean": float(np.mean(returns)),
                      "return_max": float(np.max(returns))}
        if name == "medium-replay":
            provenance["note"] = ("d3rlpy's replay buffer keeps no final observation; each "
                                  "episode's last observation is repeated as its final one")
        minari_io.write_dataset(dataset_id(task, name, budget_name), episodes[name], env_id,
                                algorithm_name=f"SAC (d3rlpy) {name}",
                                description=f"dtbench local D4RL-style {task} {name}",
                                provenance=provenance)
    return summary


def pick_snapshots(scores: dict[int, float], medium_fraction: float) -> tuple[int, int]:
    """(expert step, medium step): the best-scoring snapshot (the later one on a tie), and the
    snapshot no later than it whose score is closest to `medium_fraction` x the expert's."""
    expert = max(scores, key=lambda s: (scores[s], s))
    target = medium_fraction * scores[expert]
    medium = min((s for s in scores if s <= expert), key=lambda s: (abs(scores[s] - target), s))
    return expert, medium


def _train_sac(make_env, budget: GenerationBudget, seed: int, work: Path,  # noqa: ANN001, ANN202
               label: str):
    """Online SAC in chunks of `checkpoint_every` steps, resuming from `work`; each snapshot's
    score is printed (stderr) as it comes, the progress of a run of hours and the point where
    a run on another kind of CPU shows it makes other data (`suite.data_to_match`)."""
    work.mkdir(parents=True, exist_ok=True)
    env = make_env()
    d3rlpy.seed(seed)
    sac = d3rlpy.algos.SACConfig(batch_size=budget.batch_size).create(device="cpu:0")
    sac.build_with_env(env)
    state_path = work / "state.json"
    state = json.loads(state_path.read_text()) if state_path.is_file() else {
        "step": 0, "snapshots": {}, "replay_counts": {}, "seconds": 0.0}
    buffer = d3rlpy.dataset.create_infinite_replay_buffer(env=env)
    if state["step"]:
        sac.load_model(str(work / "sac.d3"))
        with (work / "replay.h5").open("rb") as f:
            buffer = d3rlpy.dataset.ReplayBuffer.load(f, d3rlpy.dataset.InfiniteBuffer())
    env.reset(seed=seed + state["step"])
    env.action_space.seed(seed + state["step"])
    while state["step"] < budget.sac_steps:
        chunk = min(budget.checkpoint_every, budget.sac_steps - state["step"])
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            sac.fit_online(env, buffer, n_steps=chunk, n_steps_per_epoch=chunk,
                           random_steps=max(0, budget.random_steps - state["step"]),
                           logger_adapter=d3rlpy.logging.NoopAdapterFactory(),
                           show_progress=False, save_interval=10**9)
        state["seconds"] += time.perf_counter() - t0
        state["step"] += chunk
        step = state["step"]
        score = evaluate(D3rlpyPolicy(sac), make_env, budget.eval_episodes, None, seed=seed + 500)
        sac.save_model(str(work / f"snapshot-{step}.d3"))
        state["snapshots"][str(step)] = {"return": float(score.returns.mean())}
        print(f"{label}: SAC step {step:,} of {budget.sac_steps:,}: snapshot scored "
              f"{float(score.returns.mean()):,.1f} ({state['seconds'] / 60:.0f} min of SAC)",
              file=sys.stderr, flush=True)
        state["replay_counts"][str(step)] = len(buffer.episodes)
        with atomic_write(work / "sac.d3") as tmp:
            sac.save_model(str(tmp))
        with atomic_write(work / "replay.h5") as tmp, tmp.open("w+b") as f:
            buffer.dump(f)
        write_json(state_path, state, indent=1)  # the resume point: written last
    env.close()
    snapshots = {int(k): v for k, v in state["snapshots"].items()}
    counts = {int(k): v for k, v in state["replay_counts"].items()}
    return sac, snapshots, counts, state["seconds"]


def _rollouts(make_env, policy, n_steps: int, rng: np.random.Generator,  # noqa: ANN001
              seed: int) -> list[dict[str, np.ndarray]]:
    """Whole episodes until at least `n_steps` transitions; `policy` None = uniform actions.
    SAC's stochastic actions (sample_action), as D4RL's data came from its SAC policies."""
    env = make_env()
    env.action_space.seed(int(rng.integers(2**31)))
    if policy is None:
        act = lambda obs: env.action_space.sample()  # noqa: E731
    else:
        act = lambda obs: policy.sample_action(obs[None].astype(np.float32))[0]  # noqa: E731
    episodes = collect_episodes(env, act, seed, min_steps=n_steps)
    env.close()
    return episodes


def _replay_episodes(work: Path, n_episodes: int) -> list[dict[str, np.ndarray]]:
    """The first `n_episodes` episodes of SAC's saved replay buffer, in collection order."""
    with (work / "replay.h5").open("rb") as f:
        buffer = d3rlpy.dataset.ReplayBuffer.load(f, d3rlpy.dataset.InfiniteBuffer())
    out = []
    for ep in buffer.episodes[:n_episodes]:
        t = len(ep.rewards)
        terms = np.zeros(t, bool)
        truncs = np.zeros(t, bool)
        (terms if ep.terminated else truncs)[-1] = True
        obs = np.concatenate([ep.observations, ep.observations[-1:]])
        out.append(_episode(obs, ep.actions, ep.rewards.reshape(t), terms, truncs))
    return out


def _episode(obs, acts, rews, terms, truncs) -> dict[str, np.ndarray]:  # noqa: ANN001
    return {"observations": np.asarray(obs, np.float32), "actions": np.asarray(acts, np.float32),
            "rewards": np.asarray(rews, np.float32), "terminations": np.asarray(terms, bool),
            "truncations": np.asarray(truncs, bool)}
