"""The best return the data shows from each start state: a prior for return conditioning.

The paper conditions its graph DT on "the highest possible return"; what is possible depends
on where an episode starts. Offline, the honest estimate is the best return of the data's
episodes that started in that very state (exact matches: meant for discrete states such as
graph nodes, where start states repeat). Only episode starts count: a return-to-go from the
middle of a truncated episode is cut short by the truncation, not earned, and a DT sees its
timestep, so a start is compared with starts.
"""

from __future__ import annotations

import numpy as np

from dtbench.data.store import TrajectoryStore


class BestReturnFromStart:
    """Highest episode return in `store` for each distinct start observation."""

    def __init__(self, store: TrajectoryStore) -> None:
        first = store.episode_starts[:-1]
        flat = store.observations[first].reshape(len(first), -1)
        states, which = np.unique(flat, axis=0, return_inverse=True)
        best = np.full(len(states), -np.inf)
        np.maximum.at(best, which.ravel(), store.returns_to_go[first].astype(np.float64))
        self.best = {row.tobytes(): float(b) for row, b in zip(states, best, strict=True)}
        self.dtype = flat.dtype

    def cap(self, obs: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """min(target, best return from the start state) per row; unseen starts keep theirs."""
        flat = np.ascontiguousarray(obs.reshape(len(obs), -1), dtype=self.dtype)
        best = np.array([self.best.get(row.tobytes(), np.inf) for row in flat])
        return np.minimum(targets, best)
