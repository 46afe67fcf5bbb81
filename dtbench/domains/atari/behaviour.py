"""Behaviour policies for local Atari data: scripted trackers that read the emulator RAM,
mixed with uniformly random actions in different amounts so episode returns spread from poor
to good (the DQN-replay data spans a whole DQN training run, from random to good play).

RAM addresses and action meanings: the AtariARI annotations (Anand et al. 2019,
atariari/benchmark/ram_annotations.py), checked against rendered frames.
"""

from __future__ import annotations

from collections.abc import Callable

import gymnasium as gym
import numpy as np

from dtbench.domains.atari.env import ram

# Pong: RIGHT (2) moves the paddle up, LEFT (3) down; the paddle centre meets the ball at
# ram[54] ~ ram[51] + 7. On this env (NoFrameskip + AtariPreprocessing, no sticky actions) the
# centred tracker without lead scored best of a small grid: 10, -3, -1 over 3 episodes (5000-
# step cap); the reference's best on ALE/Pong-v5 (top of the paddle, 2-step lead) got -18,
# -21, -20 here.
PONG_BALL_Y, PONG_PADDLE_Y = 54, 51
# Breakout: FIRE (1) launches a ball; RIGHT 2, LEFT 3; the paddle centre meets the ball at
# ram[99] ~ ram[72] + 9.
BREAKOUT_BALL_X, BREAKOUT_PADDLE_X = 99, 72


class Tracker:
    """A scripted policy for one env: `reset()` at each episode start, `act(env)` each step."""

    def reset(self, env: gym.Env) -> None: ...

    def act(self, env: gym.Env) -> int: ...


class PongTracker(Tracker):
    """Moves the paddle (its point `offset` below the top) towards where the ball will be
    `lead` steps from now."""

    def __init__(self, offset: int = 7, deadband: int = 2, lead: int = 0) -> None:
        self.offset, self.deadband, self.lead = offset, deadband, lead

    def reset(self, env: gym.Env) -> None:
        self.prev_y: int | None = None

    def act(self, env: gym.Env) -> int:
        mem = ram(env)
        ball_y = int(mem[PONG_BALL_Y])
        velocity = 0 if self.prev_y is None else ball_y - self.prev_y
        self.prev_y = ball_y
        dy = ball_y + self.lead * velocity - (int(mem[PONG_PADDLE_Y]) + self.offset)
        return 2 if dy < -self.deadband else 3 if dy > self.deadband else 0


class BreakoutTracker(Tracker):
    """Keeps the paddle under the ball; fires after a reset and after each lost life."""

    def reset(self, env: gym.Env) -> None:
        self.lives = -1

    def act(self, env: gym.Env) -> int:
        lives = env.unwrapped.ale.lives()
        if lives != self.lives:  # a new ball is waiting to be launched
            self.lives = lives
            return 1
        dx = int(ram(env)[BREAKOUT_BALL_X]) - (int(ram(env)[BREAKOUT_PADDLE_X]) + 9)
        return 2 if dx > 2 else 3 if dx < -2 else 0


class NoTracker(Tracker):
    """For games without a tracker: only ever mixed at epsilon 1, i.e. uniform play."""

    def act(self, env: gym.Env) -> int:
        return 0


TRACKERS: dict[str, Callable[[], Tracker]] = {"pong": PongTracker, "breakout": BreakoutTracker}


def epsilon_mix(tracker: Tracker, epsilon: float, n_actions: int,
                rng: np.random.Generator) -> Callable[[gym.Env], int]:
    """The tracker's action, replaced by a uniform one with probability `epsilon`."""

    def act(env: gym.Env) -> int:
        scripted = tracker.act(env)  # always called, so trackers keep their state up to date
        return int(rng.integers(n_actions)) if rng.random() < epsilon else scripted

    return act
