"""The one trajectory store shared by DT and every baseline.

Episodes are concatenated into flat arrays (one row per step) with an offsets array marking
episode boundaries. Everything derived per step (returns-to-go, timesteps, episode ids) is
computed once, vectorised, when the store is built.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dtbench.errors import DTBenchError


@dataclass
class TrajectoryStore:
    """Flat per-step arrays for a set of episodes.

    `terminated[t]` marks a true end of the MDP at step t (no bootstrapping past it);
    `truncated[t]` marks an episode cut short (time limit or data collection boundary).
    """

    observations: np.ndarray
    """(N, *obs_shape): the observation each action was taken in."""
    actions: np.ndarray
    """(N, act_dim) float32 or (N,) int64."""
    rewards: np.ndarray
    """(N,) float32."""
    terminated: np.ndarray
    """(N,) bool."""
    truncated: np.ndarray
    """(N,) bool."""
    episode_starts: np.ndarray
    """(E + 1,) int64 offsets; episode e is [starts[e], starts[e+1])."""
    metadata: dict[str, Any] = field(default_factory=dict)
    """Provenance (dataset id, ...)."""
    frame_stack: int = 1
    """> 1: `observations` hold one frame per step and the state at step t is the last `frame_stack`
    frames of its episode, zeros before the episode's start (Atari: every frame stored once, stacks
    gathered by index when sampled)."""
    lead_frames: np.ndarray | None = None
    """(E, frame_stack - 1, *frame): the frames an episode's first stacks show before its first
    step, where they are not zeros (DQN-replay read as the official code does: dopamine's stacks
    reach back past an episode's start)."""

    def __post_init__(self) -> None:
        n = len(self.rewards)
        for name in ("observations", "actions", "terminated", "truncated"):
            if len(getattr(self, name)) != n:
                raise DTBenchError(
                    f"trajectory store: {name} has {len(getattr(self, name))} rows, rewards {n}; "
                    "every per-step array needs one row per step"
                )
        starts = np.asarray(self.episode_starts, dtype=np.int64)
        if starts[0] != 0 or starts[-1] != n or np.any(np.diff(starts) <= 0):
            raise DTBenchError(
                "trajectory store: episode offsets must rise from 0 to the step count"
            )
        self.episode_starts = starts
        if self.lead_frames is not None:
            want = (len(starts) - 1, self.frame_stack - 1, *self.observations.shape[1:])
            if self.lead_frames.shape != want:
                raise DTBenchError(f"trajectory store: lead_frames of shape "
                                   f"{self.lead_frames.shape}, expected {want}")
        self.rewards = np.asarray(self.rewards, dtype=np.float32)
        lengths = np.diff(starts)
        self.episode_ids = np.repeat(np.arange(len(lengths)), lengths)
        self.timesteps = np.arange(n) - np.repeat(starts[:-1], lengths)
        self.returns_to_go = _returns_to_go(self.rewards, starts)

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def from_episodes(
        cls, episodes: Sequence[dict[str, np.ndarray]], frame_stack: int = 1,
        lead_frames: np.ndarray | None = None, **metadata: Any
    ) -> TrajectoryStore:
        """Build from Minari-style episode dicts.

        Each episode has `observations` with T+1 rows (Minari keeps the final observation)
        or T rows, and `actions`, `rewards`, `terminations`, `truncations` with T rows.
        """
        if not episodes:
            raise DTBenchError("trajectory store: no episodes")
        obs, lengths = [], []
        for i, ep in enumerate(episodes):
            t = len(ep["rewards"])
            o = np.asarray(ep["observations"])
            if len(o) == t + 1:
                o = o[:-1]  # the final observation has no action: drop it to align
            elif len(o) != t:
                raise DTBenchError(
                    f"episode {i}: {len(o)} observations for {t} actions; expected {t + 1} "
                    "(Minari keeps the final observation) or {t}"
                )
            if t == 0:
                raise DTBenchError(f"episode {i} is empty")
            obs.append(o)
            lengths.append(t)
        return cls(
            observations=np.concatenate(obs),
            actions=np.concatenate([np.asarray(ep["actions"]) for ep in episodes]),
            rewards=np.concatenate([np.asarray(ep["rewards"], np.float32) for ep in episodes]),
            terminated=np.concatenate([np.asarray(ep["terminations"], bool) for ep in episodes]),
            truncated=np.concatenate([np.asarray(ep["truncations"], bool) for ep in episodes]),
            episode_starts=np.concatenate([[0], np.cumsum(lengths)]),
            metadata=dict(metadata),
            frame_stack=frame_stack,
            lead_frames=lead_frames,
        )

    def select_episodes(self, episode_indices: np.ndarray) -> TrajectoryStore:
        """A new store holding the given episodes (in the given order)."""
        episode_indices = np.asarray(episode_indices, dtype=np.int64)
        starts = self.episode_starts[:-1][episode_indices]
        lengths = self.episode_lengths[episode_indices]
        rows = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths)
        rows = rows + np.arange(lengths.sum())
        return TrajectoryStore(
            observations=self.observations[rows],
            actions=self.actions[rows],
            rewards=self.rewards[rows],
            terminated=self.terminated[rows],
            truncated=self.truncated[rows],
            episode_starts=np.concatenate([[0], np.cumsum(lengths)]),
            metadata=dict(self.metadata),
            frame_stack=self.frame_stack,
            lead_frames=None if self.lead_frames is None else self.lead_frames[episode_indices],
        )

    def with_rewards(self, rewards: np.ndarray, **metadata: Any) -> TrajectoryStore:
        """The same episodes with other rewards (returns-to-go recomputed)."""
        return TrajectoryStore(
            observations=self.observations,
            actions=self.actions,
            rewards=rewards,
            terminated=self.terminated,
            truncated=self.truncated,
            episode_starts=self.episode_starts,
            metadata={**self.metadata, **metadata},
            frame_stack=self.frame_stack,
            lead_frames=self.lead_frames,
        )

    def episodes(self) -> list[dict[str, np.ndarray]]:
        """Minari-style episode dicts (observations without a final row)."""
        s = self.episode_starts
        return [
            {
                "observations": self.observations[a:b],
                "actions": self.actions[a:b],
                "rewards": self.rewards[a:b],
                "terminations": self.terminated[a:b],
                "truncations": self.truncated[a:b],
            }
            for a, b in zip(s[:-1], s[1:], strict=True)
        ]

    # ---- derived quantities ---------------------------------------------------------------
    @property
    def num_steps(self) -> int:
        return len(self.rewards)

    @property
    def num_episodes(self) -> int:
        return len(self.episode_starts) - 1

    @property
    def episode_lengths(self) -> np.ndarray:
        return np.diff(self.episode_starts)

    @property
    def episode_returns(self) -> np.ndarray:
        return np.add.reduceat(self.rewards.astype(np.float64), self.episode_starts[:-1])

    @property
    def obs_shape(self) -> tuple[int, ...]:
        """Shape of one state, as the environment gives it (frame stacks included)."""
        frame = tuple(self.observations.shape[1:])
        return (self.frame_stack, *frame) if self.frame_stack > 1 else frame

    @property
    def bytes_per_step(self) -> float:
        """Memory of the stored observations per transition."""
        return self.observations.nbytes / self.num_steps

    @property
    def discrete(self) -> bool:
        return np.issubdtype(self.actions.dtype, np.integer)

    @property
    def action_dim(self) -> int:
        """Action vector size (continuous) or number of actions seen (discrete)."""
        if self.discrete:
            return int(self.actions.max()) + 1
        return int(self.actions.shape[1])

    def state_stats(self, eps: float = 1e-6) -> tuple[np.ndarray, np.ndarray]:
        """Mean and std (+eps, as the official code) over every stored observation."""
        obs = self.observations.astype(np.float64)
        return obs.mean(0).astype(np.float32), (obs.std(0) + eps).astype(np.float32)

    def summary(self) -> dict[str, Any]:
        r = self.episode_returns
        return {
            "episodes": self.num_episodes,
            "steps": self.num_steps,
            "return_mean": float(r.mean()),
            "return_min": float(r.min()),
            "return_max": float(r.max()),
        }


def _returns_to_go(rewards: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Undiscounted R_t = sum_{t' >= t} r_t' within each episode (R_t includes r_t)."""
    r = rewards.astype(np.float64)
    # Reverse cumulative sum over the whole array, then subtract what belongs to later episodes.
    rev = np.cumsum(r[::-1])[::-1]
    after_episode = np.append(rev, 0.0)[starts[1:]]  # sum of rewards after each episode's end
    lengths = np.diff(starts)
    return (rev - np.repeat(after_episode, lengths)).astype(np.float32)
