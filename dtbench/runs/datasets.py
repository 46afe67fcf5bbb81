"""The dataset catalogue: load a run's data (made locally, read from files or from the Minari
store), check it fits the task's environment, and make missing local datasets."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence

import gymnasium as gym

from dtbench import registry
from dtbench.data import minari_io
from dtbench.data.checks import check_store
from dtbench.data.store import TrajectoryStore
from dtbench.errors import DTBenchError


def load_dataset(domain: registry.Domain, task: registry.Task,
                 dataset: registry.DatasetSpec) -> TrajectoryStore:
    """Load a registered dataset; a local one that is missing is a one-line error saying how
    to make it."""
    how = dataset.how_to_get or (
        f"make it with `dtbench data make {domain.name}/{task.name} --dataset {dataset.name}`"
    )
    if dataset.load is not None:
        store = dataset.load(how)
    elif dataset.make is not None and not minari_io.is_complete(dataset.minari_id):
        raise DTBenchError(f"dataset {dataset.minari_id} is missing under "
                           f"{minari_io.minari_root()}; {how}")
    else:
        store = minari_io.load_store(dataset.minari_id, how_to_get=how,
                                     download=dataset.download)
    store.frame_stack = domain.frame_stack  # datasets of such domains hold single frames
    check_store(store, dataset.minari_id, "fix or replace the data" if dataset.make is None
                else f"remake it with `dtbench data make {domain.name}/{task.name} -d "
                     f"{dataset.name} --force`")
    return store


def check_compatible(store: TrajectoryStore, observation_space: gym.Space,
                     action_space: gym.Space, env_id: str, dataset_id: str) -> None:
    """The dataset's observations and actions must fit the task's environment."""
    obs_shape = tuple(observation_space.shape)
    if store.obs_shape != obs_shape:
        raise DTBenchError(f"dataset {dataset_id} has observations of shape {store.obs_shape} "
                           f"but {env_id} expects {obs_shape}; it belongs to another "
                           "task or is corrupt - remake or re-download it")
    if isinstance(action_space, gym.spaces.Discrete):
        n = int(action_space.n)
        if not store.discrete or store.actions.max() >= n or store.actions.min() < 0:
            raise DTBenchError(f"dataset {dataset_id} actions do not fit {env_id}'s "
                               f"Discrete({n}) action space; remake or re-download it")
    elif store.discrete or store.actions.shape[1:] != action_space.shape:
        raise DTBenchError(f"dataset {dataset_id} actions of shape {store.actions.shape[1:]} do "
                           f"not fit {env_id}'s {action_space.shape}; remake or re-download it")


def make_datasets(path: str, names: Sequence[str] = (), budget: str = "quick",
                  force: bool = False) -> list[str]:
    """Make a task's local datasets (all makeable ones when `names` is empty) that are missing
    (all of them with `force`); return one line per dataset saying what was done."""
    _, task = registry.resolve(path)
    wanted = [registry.get_dataset(task, n) for n in names
              or [n for n, ds in task.datasets.items() if ds.make is not None]]
    for ds in wanted:
        if ds.make is None:
            raise DTBenchError(f"dataset {ds.minari_id} cannot be made locally; {ds.how_to_get}")
    if force:  # remade from scratch (MuJoCo reuses its checkpointed SAC run)
        for ds in wanted:
            shutil.rmtree(minari_io.dataset_dir(ds.minari_id), ignore_errors=True)
    present = {ds.minari_id for ds in wanted if minari_io.is_complete(ds.minari_id)}
    for ds in wanted:
        if not minari_io.is_complete(ds.minari_id):  # one make can write several datasets
            ds.make(budget)
    return [f"{ds.minari_id}: present" if ds.minari_id in present
            else f"{ds.minari_id}: made in {minari_io.dataset_dir(ds.minari_id)}"
            for ds in wanted]


def download_datasets(path: str, names: Sequence[str] = (), progress: bool = False,
                      echo: Callable[[str], None] = print) -> list[str]:
    """Download a task's published datasets (all the downloadable ones when `names` is
    empty): files over HTTP (resumed, verified, in the manifest), Minari datasets through
    minari. One line per file or dataset."""
    _, task = registry.resolve(path)
    wanted = [registry.get_dataset(task, n) for n in names] or [
        ds for ds in task.datasets.values() if ds.remote is not None or ds.download]
    if not wanted:
        raise DTBenchError(f"{path} has no published datasets to download; its data is made "
                           f"here (`dtbench data make {path}`)")
    lines = []
    for ds in wanted:
        if ds.remote is not None:
            from dtbench.data.download import download

            lines += download(ds.remote(), progress, echo)
        elif ds.download:
            lines.append(minari_io.fetch_dataset(ds.minari_id))
        else:
            raise DTBenchError(f"dataset {ds.minari_id} is made here, not downloaded: "
                               f"`dtbench data make {path} -d {ds.name}`")
    return lines
