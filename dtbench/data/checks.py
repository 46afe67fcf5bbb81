"""Checks on loaded data, run once when a dataset is loaded: an empty dataset or a NaN/inf
value is one line naming the dataset, what is wrong, where, and what to do."""

from __future__ import annotations

import numpy as np

from dtbench.data.store import TrajectoryStore
from dtbench.errors import DTBenchError


def check_store(store: TrajectoryStore, name: str, fix: str) -> None:
    """`store` (from dataset `name`) has steps and only finite values; `fix` says what to do."""
    if store.num_steps == 0 or len(store.episode_starts) == 0:
        raise DTBenchError(f"dataset {name} holds no steps; {fix}")
    for field in ("observations", "actions", "rewards"):
        values = getattr(store, field)
        if not np.issubdtype(values.dtype, np.floating):
            continue  # integer frames and discrete actions cannot be NaN
        finite = np.isfinite(values).reshape(len(values), -1).all(axis=1)
        if not finite.all():
            bad = np.flatnonzero(~finite)
            raise DTBenchError(f"dataset {name} has NaN or inf {field} at {len(bad)} step(s), "
                               f"the first at step {bad[0]}; {fix}")
