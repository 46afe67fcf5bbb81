"""What `make bench` measures, one function per measurement; each runs in a process of its own
(`python -m benchmarks.bench worker ...`) so implementations never share warm caches or
threads. Every function returns a dict of plain numbers.

Configurations (the issue's): `d4rl` is the paper's Gym DT (state 11, action 3, K=20, 128 wide,
3 layers, 1 head, batch 64) on a D4RL-sized synthetic store (1,000 episodes of 1,000 steps);
`atari` is the paper's Atari DT (K=30, 6 layers, 8 heads, 128 wide, 4x84x84 frame stacks) at a
reduced batch on a 10,000-frame synthetic store.
"""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F
from torch.utils.flop_counter import FlopCounterMode

from benchmarks.reference import (
    evaluate_one_at_a_time,
    prestacked_frames,
    reference_batch,
)
from dtbench.config import ModelConfig, TrainConfig
from dtbench.data.sampler import Batch, WindowSampler
from dtbench.data.store import TrajectoryStore
from dtbench.models.dt import DecisionTransformer
from dtbench.training import make_optimizer


@dataclass(frozen=True)
class Config:
    name: str
    obs_shape: tuple[int, ...]
    act_dim: int  # action size (continuous) or number of actions (discrete)
    discrete: bool
    context_len: int
    n_layer: int
    n_head: int
    batch_size: int
    activation: str
    episodes: int
    episode_len: int


CONFIGS = {
    "d4rl": Config("d4rl", (11,), 3, False, 20, 3, 1, 64, "relu", 1_000, 1_000),
    "atari": Config("atari", (4, 84, 84), 4, True, 30, 6, 8, 16, "gelu_new", 10, 1_000),
}
EMBED, MAX_EP_LEN, RETURN_SCALE = 128, 1_000, 1_000.0


def synthetic_store(cfg: Config) -> TrajectoryStore:
    """Random data of the configuration's shapes (the timings do not depend on the values)."""
    rng = np.random.default_rng(0)
    n = cfg.episodes * cfg.episode_len
    if cfg.discrete:  # frames stored once, stacked by index (the store's Atari layout)
        observations = rng.integers(0, 256, (n, *cfg.obs_shape[1:]), dtype=np.uint8)
        actions = rng.integers(0, cfg.act_dim, n)
    else:
        observations = rng.standard_normal((n, *cfg.obs_shape), dtype=np.float32)
        actions = rng.uniform(-1, 1, (n, cfg.act_dim)).astype(np.float32)
    return TrajectoryStore(
        observations=observations, actions=actions,
        rewards=rng.uniform(0, 1, n).astype(np.float32),
        terminated=np.zeros(n, dtype=bool), truncated=np.zeros(n, dtype=bool),
        episode_starts=np.arange(0, n + 1, cfg.episode_len, dtype=np.int64),
        frame_stack=cfg.obs_shape[0] if cfg.discrete else 1)


def model_config(cfg: Config) -> ModelConfig:
    return ModelConfig(context_len=cfg.context_len, embed_dim=EMBED, n_layer=cfg.n_layer,
                       n_head=cfg.n_head, dropout=0.1, activation=cfg.activation,
                       max_ep_len=MAX_EP_LEN)


def _stats(store: TrajectoryStore) -> tuple[np.ndarray | None, np.ndarray | None]:
    return (None, None) if store.frame_stack > 1 else store.state_stats()


def _time(step: Callable[[], object], warmup: int, repeats: int) -> float:
    """Median seconds of `step` after `warmup` calls."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def _flops(step: Callable[[], object]) -> int:
    """Floating-point operations of one call (matmuls and convolutions, as torch counts)."""
    counter = FlopCounterMode(display=False)
    with counter:
        step()
    return int(counter.get_total_flops())


# ---- the machine ------------------------------------------------------------------------------
def matmul_ceiling(device: str, size: int = 2048, repeats: int = 20) -> dict[str, float]:
    """Measured fp32 matmul throughput: the ceiling every implementation is compared with."""
    a = torch.randn(size, size, device=device)
    b = torch.randn(size, size, device=device)

    def mm() -> None:
        a @ b
        if device == "cuda":
            torch.cuda.synchronize()

    seconds = _time(mm, 3, repeats)
    return {"gflops": 2 * size**3 / seconds / 1e9, "size": size}


# ---- training step ----------------------------------------------------------------------------
def _dtbench_setup(cfg: Config, device: str) -> tuple[WindowSampler, Callable[[Batch], None]]:
    """dtbench's sampler and its update (the training loop's, without logging)."""
    store = synthetic_store(cfg)
    mean, std = _stats(store)
    sampler = WindowSampler(store, cfg.context_len, cfg.batch_size, RETURN_SCALE, MAX_EP_LEN,
                            mean, std, device)
    model = DecisionTransformer(model_config(cfg), cfg.obs_shape, cfg.act_dim, cfg.discrete,
                                encoder="nature_cnn" if cfg.discrete else "linear").to(device)
    optimizer = make_optimizer(model, TrainConfig())

    def update(b: Batch) -> None:
        out = model(b.states, b.actions, b.returns_to_go, b.timesteps)
        loss = model.action_loss(out, b.actions, b.mask)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        optimizer.step()

    return sampler, update


Step = tuple[Callable[[], object], Callable[[object], object]]  # (sample, update)


def _dtbench_step(cfg: Config, device: str) -> Step:
    sampler, update = _dtbench_setup(cfg, device)
    return sampler.sample, update


def train_dtbench(cfg: Config, device: str, repeats: int) -> dict[str, float]:
    sample, update = _dtbench_step(cfg, device)
    return _train_figures(sample, update, sample(), device, repeats)


def train_hf(cfg: Config, device: str, repeats: int) -> dict[str, float]:
    sample, update = _hf_step(cfg, device)
    return _train_figures(sample, update, sample(), device, repeats)


def _hf_step(cfg: Config, device: str) -> Step:
    """transformers.DecisionTransformerModel with the HuggingFace example's training step: the
    per-sample batch loop, MSE on real action tokens, AdamW, clipping."""
    from transformers import DecisionTransformerConfig, DecisionTransformerModel

    store = synthetic_store(cfg)
    mean, std = _stats(store)
    model = DecisionTransformerModel(DecisionTransformerConfig(
        state_dim=cfg.obs_shape[0], act_dim=cfg.act_dim, hidden_size=EMBED,
        max_ep_len=MAX_EP_LEN, n_layer=cfg.n_layer, n_head=cfg.n_head, n_inner=4 * EMBED,
        activation_function=cfg.activation, n_positions=1024, resid_pdrop=0.1,
        embd_pdrop=0.1, attn_pdrop=0.1, use_cache=False, bos_token_id=None,
        eos_token_id=None)).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=1e-4)
    rng = np.random.default_rng(0)

    def sample() -> Batch:
        ends = _ends(store, cfg, rng)
        batch = reference_batch(store, ends, cfg.context_len, RETURN_SCALE, MAX_EP_LEN, mean,
                                std)
        return Batch(*(t.to(device) for t in (batch.states, batch.actions,
                                              batch.returns_to_go, batch.timesteps,
                                              batch.mask)))

    def update(b: Batch) -> None:
        out = model(states=b.states, actions=b.actions, rewards=None,
                    returns_to_go=b.returns_to_go, timesteps=b.timesteps,
                    attention_mask=b.mask.long(), return_dict=True)
        loss = F.mse_loss(out.action_preds[b.mask], b.actions[b.mask])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        optimizer.step()

    return sample, update


def train_d3rlpy(cfg: Config, device: str, repeats: int) -> dict[str, float]:
    sample, update = _d3rlpy_step(cfg, device)
    return _train_figures(sample, update, sample(), device, repeats)


def _d3rlpy_step(cfg: Config, device: str) -> Step:
    """d3rlpy's DecisionTransformer / DiscreteDecisionTransformer at the same sizes, sampling
    with its own trajectory slicer and updating with `algo.update`."""
    with contextlib.redirect_stderr(io.StringIO()):
        import d3rlpy

        from dtbench.d3rlpy_bridge import to_mdp_dataset
    store = synthetic_store(cfg)
    dataset = to_mdp_dataset(store, n_actions=cfg.act_dim if cfg.discrete else None)
    common = {"batch_size": cfg.batch_size, "context_size": cfg.context_len,
              "max_timestep": MAX_EP_LEN, "num_heads": cfg.n_head, "num_layers": cfg.n_layer,
              "learning_rate": 1e-4}
    if cfg.discrete:
        algo = d3rlpy.algos.DiscreteDecisionTransformerConfig(
            encoder_factory=d3rlpy.models.PixelEncoderFactory(feature_size=EMBED),
            activation_type="gelu", **common).create(device=device)
    else:
        algo = d3rlpy.algos.DecisionTransformerConfig(
            encoder_factory=d3rlpy.models.VectorEncoderFactory(hidden_units=[EMBED]),
            observation_scaler=d3rlpy.preprocessing.StandardObservationScaler(),
            activation_type="relu", **common).create(device=device)
    algo.build_with_dataset(dataset)
    if algo.observation_scaler is not None:
        algo.observation_scaler.fit_with_transition_picker(dataset.episodes,
                                                           dataset.transition_picker)
    buffer = dataset

    def sample():  # noqa: ANN202 - d3rlpy's TrajectoryMiniBatch
        return buffer.sample_trajectory_batch(cfg.batch_size, length=cfg.context_len)

    return sample, algo.update


def _ends(store: TrajectoryStore, cfg: Config, rng: np.random.Generator) -> np.ndarray:
    """Window ends drawn as dtbench draws them (a uniform step, window filled forward)."""
    steps = rng.integers(0, store.num_steps, cfg.batch_size)
    first = store.episode_starts[store.episode_ids[steps]]
    last = store.episode_starts[store.episode_ids[steps] + 1] - 1
    return np.minimum(np.maximum(steps, first + cfg.context_len - 1), last)


def _train_figures(sample: Callable, update: Callable, batch: object, device: str,
                   repeats: int) -> dict[str, float]:
    """Median ms of sampling, of an update on a fixed batch and of a whole step; the three are
    timed in turn within each repeat, so a slow phase of the machine hits them alike."""
    def sync() -> None:
        if device == "cuda":
            torch.cuda.synchronize()

    phases = {"sample_ms": lambda: (sample(), sync()),
              "update_ms": lambda: (update(batch), sync()),
              "step_ms": lambda: (update(sample()), sync())}
    for _ in range(3):
        for phase in phases.values():
            phase()
    times: dict[str, list[float]] = {name: [] for name in phases}
    for _ in range(repeats):
        for name, phase in phases.items():
            t0 = time.perf_counter()
            phase()
            times[name].append(1e3 * (time.perf_counter() - t0))
    figures = {name: float(np.median(ms)) for name, ms in times.items()}
    return {**figures, "update_flops": _flops(lambda: update(batch))}


TRAIN = {"dtbench": train_dtbench, "hf": train_hf, "d3rlpy": train_d3rlpy}
STEPS = {"dtbench": _dtbench_step, "hf": _hf_step, "d3rlpy": _d3rlpy_step}


def interleaved_rounds(contenders: dict[str, Callable[[], float]], rounds: int, device: str,
                       repeats_ceiling: int = 10) -> dict[str, Any]:
    """Measure the contenders (each a call returning a rate, higher is better) in alternating
    rounds in this process (A, B, C, A, B, C, ...; the order rotated each round), the matmul
    ceiling probed before and after each round: each round's ratios are taken while the machine
    was in one state, and a round during which the ceiling moved by more than 20% is flagged
    and left out of the ratios (unless every round is). Ratios are the first contender's rate
    over each other's: median of rounds with min and max."""
    names = list(contenders)
    out: list[dict[str, Any]] = []
    for i in range(rounds):
        before = matmul_ceiling(device, repeats=repeats_ceiling)["gflops"]
        rates = {}
        for name in names[i % len(names):] + names[:i % len(names)]:
            rates[name] = contenders[name]()
        after = matmul_ceiling(device, repeats=repeats_ceiling)["gflops"]
        out.append({"rates": rates, "ceiling_before": before, "ceiling_after": after,
                    "flagged": abs(after - before) / max(before, after) > 0.2})
    kept = [r for r in out if not r["flagged"]] or out
    first = names[0]
    ratios = {}
    for name in names[1:]:
        per_round = [r["rates"][first] / r["rates"][name] for r in kept]
        ratios[name] = {"median": float(np.median(per_round)), "min": float(min(per_round)),
                        "max": float(max(per_round))}
    return {"rounds": out, "ratios": ratios, "kept": len(kept)}


def training_rounds(cfg: Config, impls: tuple[str, ...], device: str, rounds: int = 3,
                    steps: int = 8) -> dict[str, Any]:
    """The training step of each implementation (dtbench first) in interleaved rounds in one
    process: each round times `steps` whole steps (sample + update) of each, as steps/s."""
    built = {impl: STEPS[impl](cfg, device) for impl in impls}

    def rate(sample: Callable[[], object], update: Callable[[object], object]) -> float:
        def step() -> None:
            update(sample())
            if device == "cuda":
                torch.cuda.synchronize()
        return 1.0 / _time(step, 1, steps)

    for sample, update in built.values():  # warm every one up before the first round
        for _ in range(2):
            update(sample())
    measured = interleaved_rounds({impl: (lambda s=s, u=u: rate(s, u))
                                   for impl, (s, u) in built.items()}, rounds, device)
    return {**measured, "steps": steps}

# where an update's time goes, by the operators' self time
TIME_GROUPS = {"matmul (mm, addmm, bmm)": ("aten::mm", "aten::addmm", "aten::bmm"),
               "dropout masks (bernoulli)": ("aten::bernoulli_",),
               "softmax, layer norm, activations": ("aten::_softmax", "aten::native_layer_norm",
                                                    "aten::native_layer_norm_backward",
                                                    "aten::_softmax_backward_data",
                                                    "aten::threshold_backward",
                                                    "aten::clamp_min", "aten::gelu",
                                                    "aten::gelu_backward", "aten::tanh",
                                                    "aten::tanh_backward"),
               "optimizer (fused AdamW)": ("aten::_fused_adamw_",)}


def profile_dtbench(cfg: Config, device: str, steps: int = 5) -> dict[str, float]:
    """Share of a dtbench update's operator time per group (the rest: copies, element-wise
    arithmetic, reductions, gathers)."""
    from torch.profiler import profile

    sampler, step = _dtbench_setup(cfg, device)
    batch = sampler.sample()

    def update() -> None:
        step(batch)

    for _ in range(3):
        update()
    with profile() as prof:
        for _ in range(steps):
            update()
    self_us = {e.key: e.self_cpu_time_total for e in prof.key_averages()}
    total = sum(self_us.values())
    shares = {group: 100 * sum(self_us.get(op, 0) for op in ops) / total
              for group, ops in TIME_GROUPS.items()}
    shares["other (copies, element-wise, reductions)"] = 100 - sum(shares.values())
    return shares


# ---- sampling -------------------------------------------------------------------------------
def sampling(cfg: Config, impl: str, repeats: int) -> dict[str, float]:
    """ms per batch: dtbench's index-arithmetic sampler or the per-sample reference loop."""
    store = synthetic_store(cfg)
    mean, std = _stats(store)
    if impl == "dtbench":
        sampler = WindowSampler(store, cfg.context_len, cfg.batch_size, RETURN_SCALE,
                                MAX_EP_LEN, mean, std)
        return {"ms": 1e3 * _time(sampler.sample, 5, repeats)}
    rng = np.random.default_rng(0)
    stacked = prestacked_frames(store) if cfg.discrete else None
    return {"ms": 1e3 * _time(lambda: reference_batch(
        store, _ends(store, cfg, rng), cfg.context_len, RETURN_SCALE, MAX_EP_LEN, mean, std,
        stacked), 2, max(10, repeats // 10))}


# ---- Atari memory ---------------------------------------------------------------------------
def atari_memory(impl: str) -> dict[str, float]:
    """Bytes stored per transition, and the peak resident memory that sampling one batch adds
    (Linux: the high-water mark is reset first, via /proc/self/clear_refs)."""
    cfg = CONFIGS["atari"]
    store = synthetic_store(cfg)
    if impl == "dtbench":
        sampler = WindowSampler(store, cfg.context_len, cfg.batch_size, RETURN_SCALE,
                                MAX_EP_LEN)
        per_step = store.bytes_per_step
        sample = sampler.sample
    else:
        stacked = prestacked_frames(store)
        per_step = stacked.nbytes / store.num_steps
        rng = np.random.default_rng(0)

        def sample() -> Batch:
            return reference_batch(store, _ends(store, cfg, rng), cfg.context_len,
                                   RETURN_SCALE, MAX_EP_LEN, stacked=stacked)
    sample()
    peak = _peak_added_bytes(sample)
    return {"bytes_per_transition": float(per_step),
            "sample_peak_mb": peak / 2**20 if peak is not None else float("nan")}


def _peak_added_bytes(fn: Callable[[], object]) -> int | None:
    status = Path("/proc/self/status")
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset the peak (VmHWM) to the current
    except OSError:
        return None

    def read(key: str) -> int:
        line = next(x for x in status.read_text().splitlines() if x.startswith(key))
        return int(line.split()[1]) * 1024

    before = read("VmRSS")
    keep = fn()  # noqa: F841 - the batch stays alive while the peak is read
    return read("VmHWM") - before


# ---- evaluation -----------------------------------------------------------------------------
def hopper_rollouts(device: str = "cpu") -> tuple[DecisionTransformer, np.ndarray, np.ndarray,
                                                  Callable[[], Any]]:
    """What the evaluation figures roll out: the `d4rl` model (untrained, seed 0), unit state
    statistics and Hopper-v5 kept alive to the step cap (every episode as long)."""
    import gymnasium as gym

    cfg = CONFIGS["d4rl"]
    torch.manual_seed(0)
    model = DecisionTransformer(model_config(cfg), cfg.obs_shape, cfg.act_dim,
                                False).to(device).eval()

    def make_env() -> gym.Env:
        return gym.make("Hopper-v5", terminate_when_unhealthy=False)

    return model, np.zeros(11, np.float32), np.ones(11, np.float32), make_env


def evaluation(impl: str, episodes: int, max_steps: int = 200) -> dict[str, float]:
    """Environment steps per second of DT rollouts on Hopper (states 11, actions 3; kept alive
    to `max_steps` so every episode has the same length): dtbench's lock-stepped evaluator or
    the official one-episode-at-a-time loop, same untrained model."""
    from dtbench.evaluation import evaluate
    from dtbench.policies import DTPolicy

    model, mean, std, make_env = hopper_rollouts()

    t0 = time.perf_counter()
    if impl == "dtbench":
        result = evaluate(DTPolicy(model, mean, std, RETURN_SCALE), make_env, episodes, 3600.0,
                          seed=0, max_steps=max_steps)
        steps = int(result.lengths.sum())
    else:
        steps = int(evaluate_one_at_a_time(model, make_env, episodes, 3600.0, RETURN_SCALE, 0,
                                           max_steps, mean, std)[:, 0].sum())
    seconds = time.perf_counter() - t0
    return {"env_steps": steps, "seconds": seconds, "steps_per_s": steps / seconds}


def evaluation_rounds(episodes: int = 100, max_steps: int = 50, rounds: int = 3,
                      repeats_ceiling: int = 10) -> dict[str, Any]:
    """dtbench's evaluator and the one-episode loop in alternating rounds in this process
    (A, B, A, B, ...), the matmul ceiling probed before and after each round: each round's
    ratio is taken while the machine was in one state, and a round during which the ceiling
    moved by more than 20% is flagged. Also the machine's bound for dtbench's evaluator: per
    lock-step, the model's counted FLOPs at the measured ceiling plus the time the episodes'
    environments take to step (measured alone)."""
    from dtbench.evaluation import evaluate
    from dtbench.policies import DTPolicy

    model, mean, std, make_env = hopper_rollouts()

    def ours() -> float:
        t0 = time.perf_counter()
        result = evaluate(DTPolicy(model, mean, std, RETURN_SCALE), make_env, episodes,
                          3600.0, seed=0, max_steps=max_steps)
        return float(result.lengths.sum()) / (time.perf_counter() - t0)

    def theirs() -> float:
        t0 = time.perf_counter()
        lengths = evaluate_one_at_a_time(model, make_env, episodes, 3600.0, RETURN_SCALE, 0,
                                         max_steps, mean, std)[:, 0]
        return float(lengths.sum()) / (time.perf_counter() - t0)

    measured = interleaved_rounds({"dtbench": ours, "reference": theirs}, rounds, "cpu",
                                  repeats_ceiling)
    out = [{**r["rates"], "ratio": r["rates"]["dtbench"] / r["rates"]["reference"],
            "ceiling_before": r["ceiling_before"], "ceiling_after": r["ceiling_after"],
            "flagged": r["flagged"]} for r in measured["rounds"]]
    # the bound: model FLOPs per lock-step (a full window) at the ceiling + stepping alone
    cfg = CONFIGS["d4rl"]
    k = cfg.context_len
    window = (torch.zeros(episodes, k, cfg.act_dim), torch.zeros(episodes, k, 1),
              torch.arange(k).repeat(episodes, 1))
    embeddings = model.embed_state(torch.zeros(episodes, k, 11))
    flops = _flops(lambda: model.predict_last_action(*window, embeddings))
    envs = [make_env() for _ in range(episodes)]
    for i, env in enumerate(envs):
        env.reset(seed=i)
    zero = np.zeros(cfg.act_dim, np.float32)
    t0 = time.perf_counter()
    for _ in range(max_steps):
        for env in envs:
            env.step(zero)
    env_s = (time.perf_counter() - t0) / max_steps
    ceiling = float(np.median([r["ceiling_after"] for r in out]))
    model_s = flops / (ceiling * 1e9)
    bound = episodes / (model_s + env_s)
    ratio = measured["ratios"]["reference"]
    return {"rounds": out, "ratio_median": ratio["median"],
            "ratio_min": ratio["min"], "ratio_max": ratio["max"],
            "model_flops_per_step": flops, "model_s_at_ceiling": model_s, "env_s": env_s,
            "bound_steps_per_s": bound,
            "achieved_fraction": float(np.median([r["dtbench"] for r in out])) / bound,
            "episodes": episodes, "max_steps": max_steps}
