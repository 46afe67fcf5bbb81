"""The Atari environment as the DQN-replay data and the paper's evaluation define it.

`<Game>NoFrameskip-v4` (ale-py 0.10.2, ROMs bundled) under gymnasium's AtariPreprocessing:
84x84 grayscale, action repeat 4 with a max-pool over the last two frames, up to 30 no-ops at
reset, a life loss is not terminal; then a 4-frame stack padded with zero frames at an
episode's start (dopamine, which wrote the DQN-replay data, pads its stacks with zeros).
Sticky actions (ALE `repeat_action_probability`) are a setting: the paper evaluates without
them (0.0); the DQN-replay data was collected with 0.25.
"""

from __future__ import annotations

import os

import ale_py
import gymnasium as gym
import numpy as np
from gymnasium.wrappers import AtariPreprocessing, FrameStackObservation, TimeLimit

from dtbench.domains.atari.ids import FRAME_STACK, GAMES, env_id
from dtbench.errors import DTBenchError

gym.register_envs(ale_py)

FRAME_SKIP = 4
MAX_FRAMES = 108_000  # 30 minutes of play at 60 Hz: the official evaluation's cap


def make_atari_env(game: str, sticky_actions: float = 0.0, noop_max: int = 30,
                   max_episode_steps: int | None = None) -> gym.Env:
    """One preprocessed, frame-stacked env; observations (4, 84, 84) uint8.
    `max_episode_steps` (agent steps) truncates earlier than the 108k-frame cap."""
    try:
        env = gym.make(env_id(game), repeat_action_probability=sticky_actions,
                       max_num_frames_per_episode=MAX_FRAMES)
    except FileNotFoundError as exc:  # ale-py looks for <game>.bin in $ALE_ROMS_DIR
        where = os.environ.get("ALE_ROMS_DIR", "ale-py's bundled ROMs")
        raise DTBenchError(f"the {GAMES[game]} ROM is missing ({exc.filename or where}); "
                           "unset ALE_ROMS_DIR to use ale-py's bundled ROMs, or put "
                           f"{game}.bin there") from None
    env = AtariPreprocessing(env, noop_max=noop_max, frame_skip=FRAME_SKIP, screen_size=84,
                             terminal_on_life_loss=False, grayscale_obs=True, scale_obs=False)
    if max_episode_steps is not None:  # counted in agent steps, after the action repeat
        env = TimeLimit(env, max_episode_steps)
    return FrameStackObservation(env, FRAME_STACK, padding_type="zero")


def ram(env: gym.Env) -> np.ndarray:
    """The emulator's 128 bytes of RAM (for scripted behaviour policies)."""
    return env.unwrapped.ale.getRAM()
