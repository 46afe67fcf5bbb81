"""MuJoCo domain (paper Table 2): Hopper, HalfCheetah, Walker2d with D4RL-style datasets.

Three routes (`DatasetSpec.route`), each a dataset name of its own so every result says which
data made it:
`<name>` (e.g. `medium`) is generated here by `generate.py` (SAC online, D4RL's recipe; the
quick budget's 30k SAC steps: pipeline-check data), `bench-<name>` too, by the `bench` budget
whose experts reach D4RL's range (the MuJoCo benchmark tier's data);
`d4rl-<name>` reads D4RL v2 HDF5 files from `data/d4rl/` with h5py (no d4rl, no
mujoco-py; `medium-expert` = medium + expert), and `minari-<name>` reads Minari's
`mujoco/<task>/<name>-v0` from the Minari store (downloading it when the network allows).
Scores are normalised with D4RL's reference random and expert returns.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from dtbench.data.d4rl_io import read_d4rl_files
from dtbench.data.download import RemoteFile
from dtbench.data.store import TrajectoryStore
from dtbench.domains.mujoco.ids import ENV_IDS, NAMED_BUDGETS, local_dataset_id
from dtbench.domains.mujoco.profiles import GRIDS, PAPER, QUICK, SMOKE, TUNING
from dtbench.errors import DTBenchError
from dtbench.registry import DatasetSpec, Domain, Task, register_domain
from dtbench.runtime import PROJECT_ROOT

D4RL_URL = "http://rail.eecs.berkeley.edu/datasets/offline_rl/gym_mujoco_v2"
DATASETS = ("medium", "medium-replay", "medium-expert", "expert", "random")

# D4RL's reference returns (d4rl/infos.py; v2 reuses the -random-v0 values): (random, expert).
REF_SCORES = {
    "hopper": (-20.272305, 3234.3),
    "halfcheetah": (-280.178953, 12135.0),
    "walker2d": (1.629008, 4592.3),
}
BENCH_BUDGET = NAMED_BUDGETS[0]
# The official code evaluates two target returns per task (paper Table 9 lists the first).
TARGETS = {"hopper": (3600.0, 1800.0), "halfcheetah": (12000.0, 6000.0),
           "walker2d": (5000.0, 2500.0)}


def normalize(task: str, returns: np.ndarray) -> np.ndarray:
    """D4RL normalised score: 100 * (return - random) / (expert - random)."""
    low, high = REF_SCORES[task]
    return 100.0 * (np.asarray(returns, dtype=np.float64) - low) / (high - low)


def d4rl_dir() -> Path:
    """Where D4RL HDF5 files are looked for: $DTBENCH_D4RL_DIR, by default data/d4rl/."""
    return Path(os.environ.get("DTBENCH_D4RL_DIR", PROJECT_ROOT / "data" / "d4rl"))


def d4rl_files(task: str, dataset: str) -> list[Path]:
    """D4RL v2 file names (`hopper_medium-v2.hdf5`); medium-expert is two files."""
    parts = ("medium", "expert") if dataset == "medium-expert" else (dataset,)
    return [d4rl_dir() / f"{task}_{part}-v2.hdf5" for part in parts]


def d4rl_url() -> str:
    """Base URL of the D4RL v2 files: $DTBENCH_D4RL_URL, by default D4RL's own host."""
    return os.environ.get("DTBENCH_D4RL_URL", D4RL_URL).rstrip("/")


def _d4rl_spec(task: str, dataset: str) -> DatasetSpec:
    names = [f.name for f in d4rl_files(task, dataset)]
    how = (f"download it with `dtbench data download mujoco/{task} -d d4rl-{dataset}` (or by "
           "hand: " + " and ".join(f"{D4RL_URL}/{n}" for n in names)
           + " into data/d4rl/ or $DTBENCH_D4RL_DIR)")

    def remote() -> list[RemoteFile]:
        from dtbench.data.d4rl_io import REQUIRED
        from dtbench.data.download import verify_hdf5

        return [RemoteFile(f"{d4rl_url()}/{f.name}", f, verify_hdf5((*REQUIRED, "timeouts")))
                for f in d4rl_files(task, dataset)]

    def load(how_to_get: str) -> TrajectoryStore:
        return read_d4rl_files(d4rl_files(task, dataset), how_to_get)

    # not a Minari id: a label for tables and run configs (the data is read from the files)
    return DatasetSpec(f"d4rl-{dataset}", f"d4rl/{task}/{dataset}-v2", how_to_get=how,
                       load=load, source="D4RL v2 (HDF5)",
                       present=lambda: all(f.is_file() for f in d4rl_files(task, dataset)),
                       files=lambda: d4rl_files(task, dataset), remote=remote, route="d4rl",
                       stands_for=dataset)


def _minari_spec(task: str, dataset: str) -> DatasetSpec:
    dataset_id = f"mujoco/{task}/{dataset}-v0"
    how = (f"download it where there is network (`minari download {dataset_id}`) into "
           "the Minari store (MINARI_DATASETS_PATH)")
    return DatasetSpec(f"minari-{dataset}", dataset_id, how_to_get=how, download=True,
                       source="Minari (mujoco/*-v0)", route="minari", stands_for=dataset)


def _local_spec(task: str, dataset: str) -> DatasetSpec:
    def make(budget: str) -> None:
        if budget in NAMED_BUDGETS:
            raise DTBenchError(f"the {budget} budget makes `{budget}-{dataset}`, not "
                               f"`{dataset}`: `dtbench data make mujoco/{task} -d "
                               f"{budget}-{dataset}`")
        from dtbench.domains.mujoco.generate import generate  # imports d3rlpy: only when used

        generate(task, ENV_IDS[task], budget)

    return DatasetSpec(dataset, local_dataset_id(task, dataset), make=make,
                       how_to_get=f"generate it with `dtbench data make mujoco/{task}` "
                                  "(trains SAC online; see README)",
                       source="dtbench-generated (SAC, D4RL recipe)")


def _bench_spec(task: str, dataset: str) -> DatasetSpec:
    """`bench-<dataset>`: made by the `bench` generation budget whatever budget is asked for,
    since its name says which data it is."""
    def make(_budget: str) -> None:
        from dtbench.domains.mujoco.generate import generate

        generate(task, ENV_IDS[task], BENCH_BUDGET)

    return DatasetSpec(f"{BENCH_BUDGET}-{dataset}",
                       local_dataset_id(task, dataset, BENCH_BUDGET), make=make,
                       how_to_get=f"generate it with `dtbench data make mujoco/{task} "
                                  f"-d {BENCH_BUDGET}-{dataset}` (trains SAC online, hours)",
                       source="dtbench-generated (SAC, D4RL recipe, bench budget)",
                       stands_for=dataset)



DOMAIN = Domain(
    name="mujoco",
    tasks={
        task: Task(
            name=task,
            env_id=ENV_IDS[task],
            datasets={spec.name: spec for dataset in DATASETS
                      for spec in (_local_spec(task, dataset), _bench_spec(task, dataset),
                                   _d4rl_spec(task, dataset), _minari_spec(task, dataset))},
            overrides={"eval.target_returns": TARGETS[task]},
        )
        for task in ENV_IDS
    },
    encoder="linear",
    action_kind="continuous",
    settings={"smoke": SMOKE, "quick": QUICK, "paper": PAPER},
    normalize=normalize,
    score_label="D4RL normalised score",
    grids=GRIDS,
    tuning=TUNING,
    description="MuJoCo locomotion (Hopper, HalfCheetah, Walker2d) on D4RL-style data (Table 2)",
)


def register() -> None:
    """Register the domain (called by `dtbench.plugins.load`)."""
    register_domain(DOMAIN)
