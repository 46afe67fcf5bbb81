"""Key-to-Door: a three-phase gridworld that tests long-range credit assignment.

The Decision Transformer paper (Chen et al. 2021, Table 6) never released its Key-to-Door code,
so this is dtbench's own version, built from the paper's description and the pycolab task of
Hung et al. (2019). An episode is three rooms visited in a fixed order, each for a fixed number
of steps: (1) a key room, (2) an empty distractor room, (3) a door room. Reaching the door in
phase 3 pays 1.0 only if the key was picked up in phase 1, so the credit for the final reward
must flow back across the whole distractor phase.

Design choices (and why):

* The observation is symbolic (15 floats) so that a linear encoder suffices and a whole episode
  fits in a DT context on a CPU. It shows only the current room and never whether the key is
  held: the agent at the door has to remember phase 1, which is the point of the task.
* The horizon is part of the task. When phase 3's steps run out the episode ends with
  ``terminated=True`` (there is no future reward to bootstrap from), and ``truncated`` is always
  False; the env therefore needs no ``TimeLimit`` wrapper.
* All randomness of a layout (three start cells, key, door) is drawn at ``reset``, never during
  ``step``, so two episodes with the same seed share their layout whatever the actions were.
* Defaults (4x4 rooms, phases of 5/20/5 steps, 30 in all) make a uniformly random policy
  succeed about 3% of the time, close to the paper's 3.1% random column: each of the key and
  door is hit by a 5-step random walk with probability ~0.18, and 0.18**2 ~= 0.033. They are
  smaller than the pycolab task's (7x11 rooms, 15/90/15 steps) so that DT, which sees the whole
  episode as context, trains in minutes on a CPU; the 20-step distractor phase still separates
  the key from the door.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

ENV_ID = "dtbench/KeyToDoor-v1"
# phase one-hot (3) + agent (2) + key flag/pos (3) + door flag/pos (3) + key/door offsets (2+2)
OBS_DIM = 15
# Actions 0=N, 1=S, 2=W, 3=E as (d_row, d_col); row 0 is the top (north) wall.
_MOVES: tuple[tuple[int, int], ...] = ((-1, 0), (1, 0), (0, -1), (0, 1))


class KeyToDoorEnv(gymnasium.Env):
    """Key room -> distractor room -> door room; reward 1.0 at the door only with the key.

    Observation (float32): ``[phase one-hot (3), agent row, agent col, key visible, key row,
    key col, door visible, door row, door col, key d_row, key d_col, door d_row, door d_col]``.
    Positions are divided by ``room_size - 1`` (in [0, 1]); the last four are the object's
    offset from the agent on the same scale (in [-1, 1]), the egocentric view of the pycolab
    task in two numbers. Key fields are zero outside phase 1 and after the pickup; door fields
    are zero outside phase 3. ``info`` holds ``phase`` (1, 2 or 3, the phase of the returned
    observation), ``has_key`` and ``success``; it is not part of the observation.
    """

    metadata: dict[str, Any] = {"render_modes": ["ansi"]}

    def __init__(
        self,
        room_size: int = 4,
        phase_lengths: tuple[int, int, int] = (5, 20, 5),
        render_mode: str | None = None,
    ) -> None:
        if room_size < 2:
            raise ValueError(
                f"room_size must be >= 2 (key and start need distinct cells), got {room_size}"
            )
        if len(phase_lengths) != 3 or min(phase_lengths) < 1:
            raise ValueError(f"phase_lengths must be three positive ints, got {phase_lengths}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"unsupported render_mode {render_mode!r}")
        self.room_size = int(room_size)
        self.phase_lengths = tuple(int(x) for x in phase_lengths)
        self.render_mode = render_mode
        low = np.zeros(OBS_DIM, dtype=np.float32)
        low[11:] = -1.0  # offsets can be negative
        self.observation_space = spaces.Box(low, 1.0, shape=(OBS_DIM,), dtype=np.float32)
        self.action_space = spaces.Discrete(4)
        self._scale = 1.0 / (self.room_size - 1)
        self._starts: list[tuple[int, int]] = [(0, 0)] * 3
        self._key = self._door = (0, 0)
        self._pos = (0, 0)
        self._phase = 0  # 0-based internally
        self._t_phase = 0
        self._has_key = self._key_present = self._success = False

    @property
    def max_episode_length(self) -> int:
        """Longest possible episode (the sum of the phase lengths)."""
        return sum(self.phase_lengths)

    def _cell(self, flat: int) -> tuple[int, int]:
        return divmod(int(flat), self.room_size)

    def _cell_except(self, avoid: tuple[int, int]) -> tuple[int, int]:
        """Uniform cell other than ``avoid`` (one draw, so rng use never depends on the layout)."""
        n_cells = self.room_size * self.room_size
        flat = int(self.np_random.integers(n_cells - 1))
        if flat >= avoid[0] * self.room_size + avoid[1]:
            flat += 1
        return self._cell(flat)

    def _obs(self) -> np.ndarray:
        s = self._scale
        obs = [0.0] * OBS_DIM
        obs[self._phase] = 1.0
        obs[3], obs[4] = self._pos[0] * s, self._pos[1] * s
        row, col = self._pos
        if self._phase == 0 and self._key_present:
            obs[5:8] = (1.0, self._key[0] * s, self._key[1] * s)
            obs[11:13] = ((self._key[0] - row) * s, (self._key[1] - col) * s)
        elif self._phase == 2:
            obs[8:11] = (1.0, self._door[0] * s, self._door[1] * s)
            obs[13:15] = ((self._door[0] - row) * s, (self._door[1] - col) * s)
        return np.array(obs, dtype=np.float32)

    def _info(self) -> dict[str, Any]:
        return {"phase": self._phase + 1, "has_key": self._has_key, "success": self._success}

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        n_cells = self.room_size * self.room_size
        self._starts = [self._cell(f) for f in self.np_random.integers(n_cells, size=3)]
        self._key = self._cell_except(self._starts[0])
        self._door = self._cell_except(self._starts[2])
        self._pos, self._phase, self._t_phase = self._starts[0], 0, 0
        self._has_key, self._key_present, self._success = False, True, False
        return self._obs(), self._info()

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        d_row, d_col = _MOVES[int(action)]
        hi = self.room_size - 1
        pos = (min(max(self._pos[0] + d_row, 0), hi), min(max(self._pos[1] + d_col, 0), hi))
        self._pos = pos
        self._t_phase += 1
        reward, terminated = 0.0, False
        if self._phase == 0 and self._key_present and pos == self._key:
            self._has_key, self._key_present = True, False
        elif self._phase == 2 and self._has_key and pos == self._door:
            reward, terminated, self._success = 1.0, True, True
        if not terminated and self._t_phase >= self.phase_lengths[self._phase]:
            if self._phase == 2:
                terminated = True  # fixed horizon: the task is over, nothing left to earn
            else:
                self._phase += 1
                self._t_phase = 0
                self._pos = self._starts[self._phase]
        return self._obs(), reward, terminated, False, self._info()

    def render(self) -> str | None:
        """Text view of the current room: A agent, K key, D door, . floor."""
        if self.render_mode != "ansi":
            return None
        grid = [["."] * self.room_size for _ in range(self.room_size)]
        if self._phase == 0 and self._key_present:
            grid[self._key[0]][self._key[1]] = "K"
        if self._phase == 2:
            grid[self._door[0]][self._door[1]] = "D"
        grid[self._pos[0]][self._pos[1]] = "A"
        return f"phase {self._phase + 1}\n" + "\n".join("".join(row) for row in grid)


def random_walk_episodes(
    n_episodes: int, seed: int, **env_kwargs: Any
) -> list[dict[str, np.ndarray]]:
    """Roll out the uniformly random policy, the paper's offline data for this task.

    Actions come from ``np.random.default_rng(seed)``; episode ``i`` resets the env with
    ``seed + i``. Returns Minari-style dicts: ``observations`` (T+1, OBS_DIM) float32 including
    the final observation, ``actions`` (T,) int64, ``rewards`` (T,) float32, ``terminations``
    and ``truncations`` (T,) bool. The unwrapped env is stepped directly for speed.
    """
    env = KeyToDoorEnv(**env_kwargs)
    rng = np.random.default_rng(seed)
    horizon = env.max_episode_length
    episodes: list[dict[str, np.ndarray]] = []
    for i in range(n_episodes):
        actions = rng.integers(0, 4, size=horizon, dtype=np.int64)
        obs_buf = np.empty((horizon + 1, OBS_DIM), dtype=np.float32)
        rewards = np.zeros(horizon, dtype=np.float32)
        obs_buf[0], _ = env.reset(seed=seed + i)
        t = 0
        terminated = False
        while not terminated:
            obs_buf[t + 1], rewards[t], terminated, _, _ = env.step(int(actions[t]))
            t += 1
        terms = np.zeros(t, dtype=bool)
        terms[-1] = True
        episodes.append(
            {
                "observations": obs_buf[: t + 1].copy(),
                "actions": actions[:t].copy(),
                "rewards": rewards[:t].copy(),
                "terminations": terms,
                "truncations": np.zeros(t, dtype=bool),
            }
        )
    return episodes


if ENV_ID not in gymnasium.registry:
    gymnasium.register(
        id=ENV_ID,
        entry_point="dtbench.domains.keydoor.env:KeyToDoorEnv",
        max_episode_steps=None,
    )


OUTCOMES = ("key, door", "key, no door", "no key")  # the three kinds of episode (Figure 5)


def outcome_of(episode: dict[str, np.ndarray], room_size: int = 4) -> tuple[str, int | None]:
    """(kind, step whose action picked up the key, or None) from an episode's observations and
    actions: in the key room, an action takes the key when it moves by exactly the key's
    offset (a move toward a cell inside the room is never blocked). A step's observation is
    not enough, since the last key-room step shows the next room. Success: a positive return."""
    obs, actions = episode["observations"], np.asarray(episode["actions"])
    moves = np.array(_MOVES, dtype=np.float32)[actions] / (room_size - 1)
    t = len(actions)
    visible = (obs[:t, 0] == 1.0) & (obs[:t, 5] == 1.0)  # key room, key still there
    taken = np.flatnonzero(visible & np.isclose(obs[:t, 11:13], moves).all(1))
    key_step = int(taken[0]) if len(taken) else None
    if episode["rewards"].sum() > 0:
        return OUTCOMES[0], key_step
    return (OUTCOMES[1] if key_step is not None else OUTCOMES[2]), key_step


def outcome_episodes(per_kind: int, seed: int,
                     **env_kwargs: Any) -> list[tuple[str, int | None, dict[str, np.ndarray]]]:
    """Fresh random-walk episodes (seeds from `seed` on, apart from the datasets'), the first
    `per_kind` of each outcome kind, as (kind, key step, episode)."""
    chosen: dict[str, list] = {kind: [] for kind in OUTCOMES}
    start = seed
    while min(len(v) for v in chosen.values()) < per_kind:
        for episode in random_walk_episodes(2_000, start, **env_kwargs):
            kind, key_step = outcome_of(episode, **{k: v for k, v in env_kwargs.items()
                                                    if k == "room_size"})
            if len(chosen[kind]) < per_kind:
                chosen[kind].append((kind, key_step, episode))
        start += 2_000
    return [item for kind in OUTCOMES for item in chosen[kind]]
