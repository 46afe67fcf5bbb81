"""Read D4RL HDF5 files (e.g. `hopper_medium-v2.hdf5`) with h5py, without d4rl or mujoco-py.

The layout D4RL's gym-mujoco files share: flat arrays `observations` (N, obs), `actions`
(N, act), `rewards` (N,), `terminals` (N,) and `timeouts` (N,), plus `next_observations` in the
v2 files. Episodes end where `terminals` (the MDP ended) or `timeouts` (the 1000-step limit)
is set. Steps after the last end (an episode the file cut short) are dropped, as the official
code's `download_d4rl_datasets.py` drops them (`keep_partial=True` keeps them as a truncated
episode). Observation t is the one action t was taken in, so nothing is shifted.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dtbench.data.store import TrajectoryStore
from dtbench.errors import DTBenchError

REQUIRED = ("observations", "actions", "rewards", "terminals")


def read_d4rl(path: Path, how_to_get: str = "", keep_partial: bool = False) -> TrajectoryStore:
    """One D4RL HDF5 file as a TrajectoryStore (terminated vs truncated kept apart)."""
    import h5py

    path = Path(path)
    if not path.is_file():
        raise DTBenchError(f"D4RL file {path} not found; {how_to_get or 'download it first'}")
    try:
        with h5py.File(path, "r") as f:
            missing = [k for k in REQUIRED if k not in f]
            if missing:
                raise DTBenchError(f"{path} is not a D4RL dataset: no {', '.join(missing)}; "
                                   "delete it and download it again")
            arrays = {k: f[k][()] for k in (*REQUIRED, "timeouts") if k in f}
    except DTBenchError:
        raise
    except Exception as exc:  # noqa: BLE001 - h5py raises OSError, KeyError, ... on bad files
        raise DTBenchError(f"{path} could not be read as HDF5 ({type(exc).__name__}: "
                           f"{' '.join(str(exc).split())}); delete it and download it "
                           "again") from None
    n = len(arrays["rewards"])
    if n == 0:
        raise DTBenchError(f"{path} holds no steps; delete it and download it again")
    if any(len(a) != n for a in arrays.values()):
        lengths = {k: len(a) for k, a in arrays.items()}
        raise DTBenchError(f"{path}: arrays of different lengths {lengths}; the file is corrupt")
    terminals = arrays["terminals"].astype(bool).reshape(n)
    timeouts = arrays.get("timeouts", np.zeros(n)).astype(bool).reshape(n)
    ends = terminals | timeouts
    if keep_partial:
        ends[-1] = True  # steps after the last marked end form a (truncated) episode
    elif not ends.any():
        raise DTBenchError(f"{path} holds no complete episode (no terminal or timeout); delete "
                           "it and download it again")
    else:  # the official script keeps whole episodes only
        n = int(np.flatnonzero(ends)[-1]) + 1
        arrays = {k: a[:n] for k, a in arrays.items()}
        terminals, ends = terminals[:n], ends[:n]
    starts = np.concatenate([[0], np.flatnonzero(ends) + 1])
    return TrajectoryStore(
        observations=arrays["observations"].astype(np.float32),
        actions=arrays["actions"].astype(np.float32),
        rewards=arrays["rewards"].astype(np.float32).reshape(n),
        terminated=terminals,
        truncated=ends & ~terminals,
        episode_starts=starts.astype(np.int64),
        metadata={"source": str(path)},
    )


def read_d4rl_files(paths: Sequence[Path], how_to_get: str = "") -> TrajectoryStore:
    """Several D4RL files as one store (`medium-expert` = medium + expert, in that order)."""
    stores = [read_d4rl(p, how_to_get) for p in paths]
    if len(stores) == 1:
        return stores[0]
    offsets = np.cumsum([0] + [s.num_steps for s in stores[:-1]])
    return TrajectoryStore(
        observations=np.concatenate([s.observations for s in stores]),
        actions=np.concatenate([s.actions for s in stores]),
        rewards=np.concatenate([s.rewards for s in stores]),
        terminated=np.concatenate([s.terminated for s in stores]),
        truncated=np.concatenate([s.truncated for s in stores]),
        episode_starts=np.concatenate(
            [[0]] + [s.episode_starts[1:] + o for s, o in zip(stores, offsets, strict=True)]
        ).astype(np.int64),
        metadata={"source": [str(p) for p in paths]},
    )
