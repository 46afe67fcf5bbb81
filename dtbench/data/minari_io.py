"""Read and write trajectory stores as Minari datasets (the on-disk format of dtbench).

Datasets dtbench makes live under the `dtbench/` namespace of the Minari store
(`$MINARI_DATASETS_PATH`, by default `data/minari/` in the project). Each carries a sidecar
`dtbench.json` with how it was made; it is written last, so a dataset without it is an
interrupted write and is rebuilt. A flat `.npz` cache makes later loads fast: beside the data
for datasets dtbench wrote, in dtbench's cache folder for any other (`cache_path`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from dtbench.atomic import atomic_write, write_json
from dtbench.data.file_cache import cache_dir, file_key
from dtbench.data.store import TrajectoryStore
from dtbench.errors import DTBenchError
from dtbench.runtime import minari_root

SIDECAR = "dtbench.json"
CACHE = "dtbench_store.npz"


def dataset_dir(dataset_id: str) -> Path:
    """Folder of a dataset id in the local Minari store (it may not exist)."""
    return minari_root() / dataset_id  # Minari nests namespace/env/name-vN as folders


def is_complete(dataset_id: str) -> bool:
    d = dataset_dir(dataset_id)
    return (d / "data").is_dir() and (d / SIDECAR).is_file()


def write_dataset(
    dataset_id: str,
    episodes: Sequence[dict[str, np.ndarray]],
    env_id: str,
    *,
    algorithm_name: str,
    description: str,
    provenance: dict[str, Any],
    ref_min_score: float | None = None,
    ref_max_score: float | None = None,
    observation_space: Any = None,
) -> Path:
    """Write Minari-style episodes (T+1 observations each) as a Minari hdf5 dataset.

    `observation_space` overrides the env's (Atari: one 84x84 frame per step where the env
    gives 4-frame stacks). Frames are stored raw: Minari would JPEG-encode (lossy) 2-D uint8
    image spaces by default."""
    import minari
    from minari.data_collector import EpisodeBuffer

    minari_root()  # sets MINARI_DATASETS_PATH before minari reads it
    target = dataset_dir(dataset_id)
    if target.exists():  # an interrupted earlier write, or an explicit rebuild
        shutil.rmtree(target)
    buffers = []
    for i, ep in enumerate(episodes):
        if len(ep["observations"]) != len(ep["rewards"]) + 1:
            raise DTBenchError(f"episode {i}: Minari needs T+1 observations for T actions")
        buffers.append(EpisodeBuffer(
            id=i, observations=ep["observations"], actions=ep["actions"], rewards=ep["rewards"],
            terminations=ep["terminations"], truncations=ep["truncations"], infos={},
        ))
    scores = {}
    if ref_max_score is not None and ref_min_score is not None:
        scores = {"ref_min_score": ref_min_score, "ref_max_score": ref_max_score}
    minari.create_dataset_from_buffers(
        dataset_id=dataset_id, buffer=buffers, env=env_id, eval_env=env_id,
        algorithm_name=algorithm_name,
        author="dtbench", author_email="dtbench@localhost", code_permalink="dtbench",
        description=description, data_format="hdf5", observation_space=observation_space,
        jpeg_encoding=False, **scores,
    )
    write_json(target / SIDECAR, provenance, sort_keys=True)
    return target


def load_store(dataset_id: str, how_to_get: str = "", download: bool = False) -> TrajectoryStore:
    """Load a Minari dataset into a TrajectoryStore, aligning its N+1 observations."""
    directory = dataset_dir(dataset_id)
    if dataset_id.startswith("dtbench/") and (directory / "data").is_dir() and not is_complete(
        dataset_id
    ):
        raise DTBenchError(f"dataset {dataset_id} at {directory} is incomplete (an interrupted "
                           f"write); {how_to_get or 'make it again'}")
    cache = cache_path(dataset_id)
    if cache is not None and cache.is_file():
        try:
            return _load_cache(cache, dataset_id)
        except Exception as exc:  # noqa: BLE001 - a derived file: rebuild it from the dataset
            print(f"dtbench: the cache {cache} could not be read ({type(exc).__name__}); "
                  "rebuilding it from the dataset", file=sys.stderr)
            cache.unlink(missing_ok=True)
    store = _load_minari(dataset_id, how_to_get, download)
    if cache is None:  # downloaded just now: its files exist only now
        cache = cache_path(dataset_id)
    if cache is not None:
        _save_cache(store, cache)
    return store


def cache_path(dataset_id: str) -> Path | None:
    """Where the flat cache of a dataset goes: beside the data for datasets dtbench wrote (it
    owns their folders), in dtbench's cache folder for any other (a dataset dtbench did not
    write is never written into), keyed by its data files' versions; None before it is here."""
    directory = dataset_dir(dataset_id)
    if dataset_id.startswith("dtbench/"):
        return directory / CACHE
    files = sorted(f for f in (directory / "data").rglob("*") if f.is_file()) \
        if (directory / "data").is_dir() else []
    if not files:
        return None
    key = hashlib.sha1("|".join(file_key(f) for f in files).encode()).hexdigest()[:20]
    folder = cache_dir() / "minari"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{key}.npz"


def provenance(dataset_id: str) -> dict[str, Any]:
    """The dtbench sidecar of a dataset made here ({} for one made elsewhere)."""
    path = dataset_dir(dataset_id) / SIDECAR
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DTBenchError(f"{path} is corrupt ({type(exc).__name__}); remake the dataset with "
                           "`dtbench data make ... --force`") from None
    if not isinstance(data, dict):
        raise DTBenchError(f"{path} is corrupt (not a JSON object); remake the dataset with "
                           "`dtbench data make ... --force`")
    return data


def fetch_dataset(dataset_id: str, hint: str = "") -> str:
    """Fetch a dataset from Minari's remote through minari's own API (`$MINARI_REMOTE`, by
    default Farama's Hugging Face hub) unless it is here; one line saying which. It runs in a
    child process: dtbench keeps the hub offline in its own process (no stray look-ups)."""
    import subprocess

    target = dataset_dir(dataset_id)
    if (target / "data").is_dir():
        return f"{dataset_id}: present in {target}"
    env = {**os.environ, "HF_HUB_OFFLINE": "0", "MINARI_DATASETS_PATH": str(minari_root())}
    code = "import sys, minari; minari.download_dataset(sys.argv[1])"
    done = subprocess.run([sys.executable, "-c", code, dataset_id], env=env,
                          capture_output=True, text=True)
    if done.returncode != 0 or not (target / "data").is_dir():
        last = (done.stderr.strip().splitlines() or ["no data arrived"])[-1]
        raise DTBenchError(f"downloading Minari dataset {dataset_id} failed ({last[:160]}); "
                           f"{hint or 'check the network and the id (minari list remote)'}")
    return f"{dataset_id}: downloaded into {target}"


def _load_minari(dataset_id: str, how_to_get: str, download: bool) -> TrajectoryStore:
    import minari

    root = minari_root()
    hint = how_to_get or "download it with minari or make it locally"
    if not (dataset_dir(dataset_id) / "data").is_dir():
        if not download:
            raise DTBenchError(f"dataset {dataset_id} not found under {root}; {hint}")
        fetch_dataset(dataset_id, hint)
    try:
        dataset = minari.load_dataset(dataset_id)
    except FileNotFoundError as exc:
        raise DTBenchError(f"dataset {dataset_id} not found under {root}; {hint}") from exc
    except Exception as exc:  # noqa: BLE001 - h5py/minari raise many types for a broken file
        raise DTBenchError(f"dataset {dataset_id} could not be read ({type(exc).__name__}: "
                           f"{exc}); delete {dataset_dir(dataset_id)} and make it again") from exc
    try:
        episodes = _episodes(dataset, dataset_id)
    except DTBenchError:
        raise
    except Exception as exc:  # noqa: BLE001 - a truncated or corrupt data file
        raise DTBenchError(f"dataset {dataset_id}: its data file could not be read "
                           f"({type(exc).__name__}: {' '.join(str(exc).split())[:120]}); delete "
                           f"{dataset_dir(dataset_id)} and {hint}") from None
    if not episodes:
        raise DTBenchError(f"dataset {dataset_id} holds no episodes; delete "
                           f"{dataset_dir(dataset_id)} and {hint}")
    return TrajectoryStore.from_episodes(episodes, dataset_id=dataset_id)


def _episodes(dataset: Any, dataset_id: str) -> list[dict[str, np.ndarray]]:  # noqa: ANN401
    """A Minari dataset's episodes as dicts of arrays (N+1 observations checked)."""
    episodes = []
    for ep in dataset.iterate_episodes():
        n = len(ep.rewards)
        if len(ep.observations) != n + 1:
            raise DTBenchError(
                f"dataset {dataset_id} episode {ep.id}: {len(ep.observations)} observations for "
                f"{n} actions; Minari stores N+1 (the final one) - the file is corrupt or was "
                "written without final observations"
            )
        episodes.append({"observations": ep.observations, "actions": ep.actions,
                         "rewards": ep.rewards, "terminations": ep.terminations,
                         "truncations": ep.truncations})
    return episodes


def _save_cache(store: TrajectoryStore, path: Path) -> None:
    if not path.parent.is_dir() or not os.access(path.parent, os.W_OK):
        return
    with atomic_write(path) as tmp:
        np.savez(tmp, observations=store.observations, actions=store.actions,
                 rewards=store.rewards, terminated=store.terminated, truncated=store.truncated,
                 episode_starts=store.episode_starts)


def _load_cache(path: Path, dataset_id: str) -> TrajectoryStore:
    with np.load(path) as f:
        return TrajectoryStore(**{k: f[k] for k in f.files}, metadata={"dataset_id": dataset_id})


