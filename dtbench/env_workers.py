"""The environments of one evaluation, stepped in this process or in worker processes.

`Envs` steps N environments in lock-step without auto-reset: `step` moves only the episodes
still running, so a finished episode is never stepped again (gymnasium 1.0's vector envs
reset an env on the step after its episode ends and keep stepping it). With `workers` > 0
the environments are split into that many contiguous slices, each stepped by a forked
process, so their stepping runs side by side; the observations, rewards and flags are the
same as in-process (each environment still sees exactly its own seed and actions).

How many workers a run uses: `$DTBENCH_ENV_WORKERS`, by default half the cores on machines
with more than 4 (GPU machines, where stepping is most of an evaluation) and none on smaller
ones (on 2 cores the model's matmuls already use both).
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

import gymnasium as gym
import numpy as np

from dtbench.errors import DTBenchError
from dtbench.parallel import PR_SET_PDEATHSIG


def default_workers(n_envs: int) -> int:
    """`$DTBENCH_ENV_WORKERS`, else half the cores above 4 cores, never more than envs."""
    text = os.environ.get("DTBENCH_ENV_WORKERS")
    if text is not None:
        if not text.strip().isdigit():
            raise DTBenchError(f"DTBENCH_ENV_WORKERS={text!r}: give a whole number (0: step "
                               "the environments in the evaluating process)")
        workers = int(text)
    else:
        cores = os.cpu_count() or 1
        workers = cores // 2 if cores > 4 else 0
    return min(workers, n_envs)


class Envs:
    """N environments made by `make_env`, reset with given seeds and stepped where live."""

    def __init__(self, make_env: Callable[[], gym.Env], n: int, workers: int = 0) -> None:
        self.n = n
        self.slices = np.array_split(np.arange(n), workers) if workers else []
        self.local: list[gym.Env] = [] if workers else [make_env() for _ in range(n)]
        self.pipes: list[Connection] = []
        self.processes: list[multiprocessing.Process] = []
        if workers:
            context = multiprocessing.get_context("fork")  # the env factory is not pickled
            for part in self.slices:
                ours, theirs = context.Pipe()
                process = context.Process(target=_serve, args=(make_env, len(part), theirs,
                                                               os.getpid()), daemon=True)
                process.start()
                theirs.close()
                self.pipes.append(ours)
                self.processes.append(process)
            self.action_space = self._ask([("space", None)] * len(self.pipes))[0]
        else:
            self.action_space = self.local[0].action_space

    def reset(self, seeds: np.ndarray) -> np.ndarray:
        if not self.pipes:
            return np.stack([env.reset(seed=int(s))[0]
                             for env, s in zip(self.local, seeds, strict=True)])
        parts = self._ask([("reset", seeds[part]) for part in self.slices])
        return np.concatenate(parts)

    def step(self, obs: np.ndarray, actions: np.ndarray, live: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Step the live episodes: `obs` is updated in place for them; returns the rewards
        (zero elsewhere) and which episodes are still live."""
        rewards = np.zeros(self.n)
        live = live.copy()
        if not self.pipes:
            for i in np.flatnonzero(live):
                obs[i], rewards[i], terminated, truncated, _ = self.local[i].step(actions[i])
                live[i] = not (terminated or truncated)
            return obs, rewards, live
        parts = self._ask([("step", (actions[part], live[part])) for part in self.slices])
        for part, (o, r, alive) in zip(self.slices, parts, strict=True):
            moved = live[part]
            obs[part[moved]] = o[moved]
            rewards[part], live[part] = r, alive
        return obs, rewards, live

    def close(self) -> None:
        for env in self.local:
            env.close()
        for pipe in self.pipes:
            with contextlib.suppress(OSError, BrokenPipeError):
                pipe.send(("close", None))
        for process in self.processes:
            process.join(5)
            if process.is_alive():
                process.kill()

    def _ask(self, messages: list[tuple[str, Any]]) -> list[Any]:
        for pipe, message in zip(self.pipes, messages, strict=True):
            pipe.send(message)
        answers = []
        for pipe in self.pipes:
            try:
                kind, value = pipe.recv()
            except EOFError:
                raise DTBenchError("an environment worker process died; run with "
                                   "DTBENCH_ENV_WORKERS=0 to see its error here") from None
            if kind == "error":
                raise DTBenchError(f"an environment worker failed: {value}")
            answers.append(value)
        return answers


def _serve(make_env: Callable[[], gym.Env], n: int, pipe: Connection, parent: int) -> None:
    """A worker: makes `n` environments and answers reset / step / space / close."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)
    try:
        envs = [make_env() for _ in range(n)]
        while True:
            kind, value = pipe.recv()
            if kind == "close":
                break
            if kind == "space":
                pipe.send(("ok", envs[0].action_space))
            elif kind == "reset":
                pipe.send(("ok", np.stack([env.reset(seed=int(s))[0]
                                           for env, s in zip(envs, value, strict=True)])))
            elif kind == "step":
                actions, live = value
                obs = None
                rewards = np.zeros(n)
                alive = live.copy()
                for i in np.flatnonzero(live):
                    o, rewards[i], terminated, truncated, _ = envs[i].step(actions[i])
                    if obs is None:
                        obs = np.zeros((n, *np.shape(o)), dtype=np.asarray(o).dtype)
                    obs[i] = o
                    alive[i] = not (terminated or truncated)
                if obs is None:  # nothing live in this slice
                    obs = np.zeros((n, *envs[0].observation_space.shape),
                                   dtype=envs[0].observation_space.dtype)
                pipe.send(("ok", (obs, rewards, alive)))
        for env in envs:
            env.close()
    except Exception as exc:  # noqa: BLE001 - reported to the parent as one line
        with contextlib.suppress(OSError, BrokenPipeError):
            pipe.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        os._exit(0)
