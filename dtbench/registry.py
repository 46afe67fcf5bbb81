"""The registry at the centre of dtbench: domains (environment, datasets, encoder, settings,
score normaliser) and algorithms (DT and the baselines), each added by one registration.

The registry imports no domain or algorithm. Its first lookup (or registration) runs the loader
that `dtbench/__init__.py` hands it, `dtbench.plugins.load`: the built-ins (each module's
`register()`) and every plug-in of the `dtbench.plugins` entry-point group, once per process.
So `from dtbench import registry; registry.resolve("mujoco/hopper")` works as it stands, as
gymnasium's registry does, and registering imports no torch (the algorithms import it when
they train).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from dtbench.config import PROFILES, Settings
from dtbench.contract import ActionKind, Algo
from dtbench.errors import DTBenchError, unknown

if TYPE_CHECKING:
    import gymnasium as gym
    import numpy as np

    from dtbench.data.download import RemoteFile
    from dtbench.data.store import TrajectoryStore


# Where a dataset's data comes from: made here by dtbench (`DatasetSpec.make`), D4RL's HDF5
# files, a Minari dataset, or the DQN-replay logs; recorded with every run (config.json, runs.csv)
Route = Literal["generated", "d4rl", "minari", "dqn-replay"]
ROUTES: tuple[Route, ...] = ("generated", "d4rl", "minari", "dqn-replay")


@dataclass(frozen=True)
class DatasetSpec:
    """One offline dataset of a task."""

    name: str
    """Short name used on the command line, e.g. "random-1k"."""
    minari_id: str
    """Where it lives in the Minari store, e.g. "dtbench/keydoor/random-1k-v1"."""
    make: Callable[[str], None] | None = None
    """Generates it locally, given a budget name (smoke | quick | paper; datasets without budgets
    ignore it); None: download only."""
    how_to_get: str = ""
    """One line telling the user how to obtain it when missing."""
    load: Callable[[str], TrajectoryStore] | None = None
    """Another format (D4RL HDF5), called with how_to_get; None: read `minari_id` from the Minari
    store."""
    download: bool = False
    """Fetch `minari_id` from Minari's remote when it is not local."""
    source: str = "dtbench-generated"
    """Where the data comes from, shown in tables."""
    present: Callable[[], bool] | None = None
    """Is it on this machine? None: a complete dataset at `minari_id` in the Minari store."""
    files: Callable[[], list[Path]] | None = None
    """The files it is read from, whose checksums are its identity; None: the Minari dataset's data
    files."""
    remote: Callable[[], list[RemoteFile]] | None = None
    """Where `dtbench data download` fetches its files from (published data); None: not downloadable
    over HTTP."""
    route: Route = "generated"
    stands_for: str = ""
    """The dataset this one is another route to (`d4rl-medium`: `medium`), so that tables put both
    in one row and a grid's `prefer` finds it; "": none."""

    def __post_init__(self) -> None:
        if self.route not in ROUTES:
            raise ValueError(f"dataset {self.name!r}: route {self.route!r} is none of "
                             f"{', '.join(ROUTES)}")

    @property
    def plain_name(self) -> str:
        """The dataset name this one stands for in tables and grids: `medium` for every route
        to MuJoCo's medium data."""
        return self.stands_for or self.name

    def is_present(self) -> bool:
        """Whether the data can be read without making or downloading anything."""
        from dtbench.data import minari_io

        if self.present is not None:
            return self.present()
        if self.make is None:  # downloaded Minari datasets carry no dtbench sidecar
            return (minari_io.dataset_dir(self.minari_id) / "data").is_dir()
        return minari_io.is_complete(self.minari_id)

    def data_files(self) -> list[Path]:
        """The files the dataset is read from, as they are now (for its identity)."""
        from dtbench.data import minari_io

        if self.files is not None:
            return [f for f in self.files() if f.is_file()]
        data = minari_io.dataset_dir(self.minari_id) / "data"
        return sorted(f for f in data.rglob("*") if f.is_file()) if data.is_dir() else []


@dataclass(frozen=True)
class Task:
    """One environment of a domain with its datasets."""

    name: str
    """E.g. "hopper"."""
    env_id: str
    """Gymnasium id."""
    datasets: dict[str, DatasetSpec]
    """By short name."""
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    """Passed to gymnasium.make."""
    overrides: dict[str, Any] = field(default_factory=dict)
    """Dotted Settings overrides."""
    profile_overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    """More, for one profile only (e.g. Pong's K=50 and batch 512 under `paper`)."""


# The paper's Tables 1 and 2 columns with the paper's own BC and 10%BC (the algorithms
# `dtbench.algos.bc_paper` registers), for grids that reproduce the paper
PAPER_ALGOS = ("dt", "cql", "bc-paper", "bc10-paper")


@dataclass(frozen=True)
class Grid:
    """The runs that make up a domain's benchmark under one profile (`dtbench suite`)."""

    tasks: tuple[str, ...]
    """Task names of the domain."""
    datasets: tuple[str, ...]
    """Dataset short names, run on every task."""
    algos: tuple[str, ...] = ("dt", "cql", "bc", "bc10")
    """Registered algorithms."""
    variants: tuple[str, ...] = ("dense",)
    """Reward variants: dense, delayed."""
    seeds: tuple[int, ...] = (0,)
    """Training seeds."""
    prefer: tuple[Route, ...] = ()
    """Data routes tried first for each dataset name, in order (e.g. ("d4rl", "minari"): real data
    when it is on this machine; see `pick_present`)."""
    real_data: bool = False
    """The grid is an experiment on published data: data generated here is only a stand-in, and a
    suite stops when the real data is missing unless told otherwise."""
    overrides: tuple[tuple[str, Any], ...] = ()
    """Settings changed on every run of this grid (an ablation part, e.g. (("model.context_len",
    1),))."""
    parts: tuple[Grid, ...] = ()
    """More runs of the same benchmark, each a grid of its own (e.g. Table 7's delayed Hopper runs);
    they share this grid's `prefer` and `real_data`."""


@dataclass(frozen=True)
class Tuning:
    """How a profile's key settings of each method are chosen (`dtbench tune`): every method
    gets the same number of probe runs over its own key settings, on the same probe datasets
    and seeds (seeds no table uses), and the rule, fixed before any probe ran, reads each
    probe's final evaluation at its headline target: the candidate with the best mean over the
    probe seeds and datasets wins, a tie going to the one listed first (the authors' default)."""

    task: str
    """The task the probes run on."""
    datasets: tuple[str, ...]
    """Its probe datasets."""
    candidates: dict[str, tuple[dict[str, Any], ...]]
    """Per algorithm, the settings its probes try (each a full assignment of its key settings,
    `--set` keys), the authors' default first; the same number for every algorithm."""
    seeds: tuple[int, ...] = (100, 101)
    """Probe seeds: none a benchmark table uses."""

    def __post_init__(self) -> None:
        counts = {algo: len(c) for algo, c in self.candidates.items()}
        if len(set(counts.values())) > 1:
            raise DTBenchError(f"tuning gives the methods unequal numbers of probes ({counts}); "
                               "give every method the same number of candidates")


@dataclass(frozen=True)
class Domain:
    """A family of tasks that share an encoder, an action kind and settings."""

    name: str
    """E.g. "keydoor"."""
    tasks: dict[str, Task]
    """By name."""
    encoder: str
    """Registered encoder name (see dtbench.models.encoders)."""
    action_kind: ActionKind
    """Continuous (MSE, tanh head) or discrete (cross-entropy)."""
    settings: dict[str, Settings]
    """One per profile: smoke, quick, paper."""
    normalize: Callable[[str, np.ndarray], np.ndarray]
    """(task, raw returns) -> scores."""
    score_label: str = "normalised score"
    """What `normalize` returns, for tables."""
    score_range: tuple[float, float] | None = None
    """The bounds every score lies in (a rate: 0 to 100), to which the tables clip the t
    interval of a mean; None: unbounded (D4RL and gamer-normalised scores)."""
    description: str = ""
    """One line for `dtbench list`."""
    make_env: Callable[[Task, Settings], gym.Env] | None = None
    """Default: gymnasium.make( task.env_id, **task.env_kwargs); given the run's settings (e.g.
    sticky actions)."""
    frame_stack: int = 1
    """> 1: datasets hold single frames, states are stacks of this many."""
    grids: dict[str, Grid] = field(default_factory=dict)
    """Benchmark grid per profile; a profile without one uses the `quick` grid."""
    tuning: dict[str, Tuning] = field(default_factory=dict)
    """How each method's key settings are chosen, per profile (`dtbench tune`)."""
    paper_gave_settings: bool = True
    """False: the paper gives no hyperparameters for this domain, so its `paper` profile is
    dtbench's choice (captions say "our paper profile")."""

    def grid(self, profile: str) -> Grid:
        if profile not in PROFILES:
            raise unknown("profile", profile, list(PROFILES))
        grid = self.grids.get(profile) or self.grids.get("quick")
        if grid is None:
            raise DTBenchError(f"domain {self.name!r} registers no suite grid; run its tasks "
                               "with `dtbench train`")
        return grid

    def task(self, name: str | None) -> Task:
        if name is None:
            if len(self.tasks) == 1:
                return next(iter(self.tasks.values()))
            raise DTBenchError(f"domain {self.name!r} has several tasks; name one of "
                               f"{', '.join(self.tasks)} as {self.name}/<task>")
        if name not in self.tasks:
            raise unknown(f"task of domain {self.name!r}", name, list(self.tasks))
        return self.tasks[name]

    def settings_for(self, task: Task, profile: str) -> Settings:
        if profile not in self.settings:
            raise unknown("profile", profile, list(PROFILES))
        return self.settings[profile].override(
            {**task.overrides, **task.profile_overrides.get(profile, {})})

    def env(self, task: Task, settings: Settings | None = None) -> gym.Env:
        import gymnasium as gym

        if self.make_env is not None:
            return self.make_env(task, settings or self.settings["smoke"])
        return gym.make(task.env_id, **task.env_kwargs)


_DOMAINS: dict[str, Domain] = {}
_ALGOS: dict[str, Algo] = {}
# What registers the built-ins and the installed plug-ins, run before the first lookup or
# registration. It is handed over (`set_loader`, by `dtbench/__init__.py`) rather than imported:
# the loader imports every domain and algorithm, which sit above the registry in the layers
# (pyproject.toml), and a hook keeps that dependency visible where it is made instead of hiding
# it in an import by name.
_loader: Callable[[], None] | None = None


def set_loader(load: Callable[[], None] | None) -> None:
    """Run `load` (idempotent: it is called before every lookup) before the registry is read
    or added to; None: no loader (the registry holds only what is registered by hand)."""
    global _loader
    _loader = load


def _load() -> None:
    # the loader registers the built-ins through register_domain/register_algo, which come back
    # here: it must return at once when already running (plugins.load marks itself loaded first)
    if _loader is not None:
        _loader()


def register_domain(domain: Domain) -> Domain:
    """Add (or replace) a domain; every profile must have settings. The built-ins are
    registered first, so that a domain of the same name replaces the built-in one."""
    _load()
    missing = [p for p in PROFILES if p not in domain.settings]
    if missing:
        raise ValueError(f"domain {domain.name!r} lacks settings for profiles {missing}")
    _DOMAINS[domain.name] = domain
    return domain


def register_algo(algo: Algo) -> Algo:
    """Add (or replace) an algorithm (after the built-ins, as `register_domain`)."""
    _load()
    _ALGOS[algo.name] = algo
    return algo


def domains() -> dict[str, Domain]:
    _load()
    return dict(_DOMAINS)


def algos() -> dict[str, Algo]:
    _load()
    return dict(_ALGOS)


def get_domain(name: str) -> Domain:
    known = domains()
    if name not in known:
        raise unknown("domain", name, list(known))
    return known[name]


def get_algo(name: str) -> Algo:
    known = algos()
    if name not in known:
        raise unknown("algorithm", name, list(known))
    return known[name]


def check_fits(domain: Domain, algo: Algo) -> None:
    """An algorithm runs only on the action kinds it supports."""
    if domain.action_kind not in algo.action_kinds:
        raise DTBenchError(f"algorithm {algo.name!r} supports {'/'.join(algo.action_kinds)} "
                           f"actions; domain {domain.name!r} is {domain.action_kind}")


def get_task(domain_name: str, task_name: str | None = None) -> tuple[Domain, Task]:
    """(domain, task) by name; the task may be left out when the domain has only one."""
    domain = get_domain(domain_name)
    return domain, domain.task(task_name)


def resolve(path: str) -> tuple[Domain, Task]:
    """A command-line task path, 'keydoor' or 'mujoco/hopper' -> (domain, task)."""
    domain_name, _, task_name = path.partition("/")
    return get_task(domain_name, task_name or None)


MINARI_PREFIX = "minari:"  # `-d minari:<dataset-id>`: any Minari dataset, by its id


def get_dataset(task: Task, name: str) -> DatasetSpec:
    """A task's registered dataset, or `minari:<id>`: any Minari dataset (downloaded through
    minari when it is not local; whether it fits the task is checked when it is loaded)."""
    if name.startswith(MINARI_PREFIX):
        dataset_id = name.removeprefix(MINARI_PREFIX)
        if not dataset_id or dataset_id.startswith("/") or ".." in dataset_id.split("/"):
            raise DTBenchError(f"dataset {name!r}: give a Minari id after 'minari:', e.g. "
                               "minari:mujoco/hopper/medium-v0")
        return DatasetSpec(name, dataset_id, download=True, source=f"Minari ({dataset_id})",
                           how_to_get=f"download it with `dtbench data download "
                                      f"<task> -d {name}` or check the id", route="minari")
    if name not in task.datasets:
        raise unknown(f"dataset of task {task.name!r}", name,
                      [*task.datasets, f"{MINARI_PREFIX}<dataset-id>"])
    return task.datasets[name]


def routes_to(task: Task, name: str, routes: Sequence[Route]) -> list[DatasetSpec]:
    """The task's datasets that stand for `name` by one of `routes`, in `routes` order."""
    found = {spec.route: spec for spec in task.datasets.values() if spec.stands_for == name}
    return [found[route] for route in routes if route in found]


def pick_present(task: Task, name: str, routes: Sequence[Route]) -> str:
    """The first dataset standing for `name` by one of `routes` (in that order) whose data is
    on this machine, else `name` itself: e.g. real D4RL data when it is there, locally
    generated data when not."""
    bad = [route for route in routes if route not in ROUTES]
    if bad:
        raise unknown("data route", bad[0], list(ROUTES))
    for candidate in routes_to(task, name, routes):
        if candidate.is_present():
            return candidate.name
    get_dataset(task, name)  # unknown names fail here, with the known ones listed
    return name


def find_dataset(domain_name: str, task_name: str, dataset: str) -> DatasetSpec:
    """The dataset a run names, by domain, task and dataset name (`get_dataset`)."""
    _, task = get_task(domain_name, task_name)
    return get_dataset(task, dataset)
