"""Runs: one run = (task, dataset, reward variant, algorithm, overrides, profile, seed) and its
folder under `results/runs/`.

resolve.py   a spec -> everything a run needs (`ResolvedRun`), looked up once
datasets.py  load a run's data, check it fits the environment, make missing local data,
             download published data
stale.py     finished runs whose data or code has changed since
triage.py    which runs are finished, stale, unreadable, locked elsewhere or to run (`Plan`)
execute.py   train (or resume), evaluate, write the folders (`run`: a list of runs)
results.py   what a run writes: config.json, eval.csv, curve.csv, result.json
table.py     runs.csv from every finished run folder (`collect`, `write_table`)
"""

from dtbench.runs.datasets import (
    check_compatible,
    download_datasets,
    load_dataset,
    make_datasets,
)
from dtbench.runs.execute import run, sweep_targets
from dtbench.runs.resolve import REWARD_VARIANTS, ResolvedRun, resolve
from dtbench.runs.results import CONFIG, CURVE, EVAL, RESULT, result_lines
from dtbench.runs.table import collect, only_overridden, write_table
from dtbench.runs.triage import Plan, triage

__all__ = ["CONFIG", "CURVE", "EVAL", "RESULT", "REWARD_VARIANTS", "ResolvedRun",
           "check_compatible", "collect", "download_datasets", "load_dataset", "make_datasets",
           "only_overridden", "Plan", "resolve", "result_lines", "run", "sweep_targets", "triage",
           "write_table"]
