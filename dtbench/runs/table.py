"""runs.csv: one tidy row per (finished run, target return), derived from the run folders and
never edited by hand. Each override is a column of its own (named by its setting), beside the
`overrides` label that names the run's folder."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from dtbench.config import SECTIONS, value_text
from dtbench.contract import RunSpec, overrides_label
from dtbench.runs.results import RESULT
from dtbench.runtime import DEFAULT_RESULTS_DIR


def collect(results_root: Path = DEFAULT_RESULTS_DIR) -> pd.DataFrame:
    """One row per (finished run, target return), from every run folder's result.json."""
    rows = []
    for path in sorted((results_root / "runs").glob("**/" + RESULT)):
        result = json.loads(path.read_text())
        spec = RunSpec.from_dict(result["spec"])
        columns = {**spec.to_dict(), "overrides": overrides_label(spec.overrides)}
        settings = {key: value_text(value) if isinstance(value, tuple) else value
                    for key, value in spec.overrides}
        for target in result["targets"]:
            rows.append({**columns, "dataset_id": result["dataset_id"],
                         "score_label": result["score_label"], **target,
                         **result.get("data", {}),  # absent in runs stored before it was
                         "train_seconds": result["train_seconds"],
                         "eval_seconds": result["eval_seconds"], **settings})
    table = pd.DataFrame(rows)
    overridden = sorted(override_columns(table))  # after the fixed columns, in key order
    table = table[[c for c in table.columns if c not in overridden] + overridden]
    for column in overridden:  # whole numbers stay whole beside the runs that lack them
        values = table[column].dropna()
        if len(values) and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            table[column] = table[column].astype("Int64")
    return table


def override_columns(runs: pd.DataFrame) -> list[str]:
    """The columns of `collect`'s table that hold overridden settings (`section.field`)."""
    return [c for c in runs.columns if c.partition(".")[0] in SECTIONS and "." in c]


def only_overridden(runs: pd.DataFrame, *keys: str) -> pd.Series:
    """Rows whose overrides are exactly `keys` (none: the plain runs of the profile)."""
    others = [c for c in override_columns(runs) if c not in keys]
    mask = runs[others].isna().all(axis=1) if others else pd.Series(True, index=runs.index)
    for key in keys:
        mask &= runs[key].notna() if key in runs else False
    return mask


def write_table(results_root: Path = DEFAULT_RESULTS_DIR) -> Path:
    """Regenerate `results/runs.csv` from the run folders."""
    path = results_root / "runs.csv"
    collect(results_root).to_csv(path, index=False)
    return path
