"""Frame conversion for Atari data that does not come preprocessed (Minari's raw RGB)."""

from __future__ import annotations

import cv2
import numpy as np

from dtbench.data.store import TrajectoryStore
from dtbench.errors import DTBenchError


def to_gray84(rgb: np.ndarray) -> np.ndarray:
    """(N, 210, 160, 3) uint8 RGB -> (N, 84, 84) uint8 grayscale, resized with INTER_AREA as
    gymnasium's AtariPreprocessing does (which reads ALE's own grayscale screen instead and
    max-pools the last two of every four frames; Minari's frames are every 4th frame only)."""
    if rgb.ndim != 4 or rgb.shape[-1] != 3:
        raise DTBenchError(f"expected RGB frames (N, H, W, 3), got {rgb.shape}")
    out = np.empty((len(rgb), 84, 84), np.uint8)
    for i, frame in enumerate(rgb):
        out[i] = cv2.resize(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), (84, 84),
                            interpolation=cv2.INTER_AREA)
    return out


def rgb_to_frames(store: TrajectoryStore) -> TrajectoryStore:
    """A store of raw RGB screens as one 84x84 grayscale frame per step."""
    if store.observations.shape[1:] == (84, 84):
        return store
    return TrajectoryStore(observations=to_gray84(store.observations), actions=store.actions,
                           rewards=store.rewards, terminated=store.terminated,
                           truncated=store.truncated, episode_starts=store.episode_starts,
                           metadata={**store.metadata, "frames": "RGB -> gray 84x84 (cv2)"})
