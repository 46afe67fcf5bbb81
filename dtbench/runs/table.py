"""runs.csv: one tidy row per (finished run, target return), derived from the run folders and
never edited by hand. Each override is a column of its own (named by its setting), beside the
`overrides` label that names the run's folder.

A run folder whose files cannot be read (a truncated result.json, a metrics.csv without its
columns) is skipped by every reader here and listed by `unreadable_runs`, one line each: one
bad folder never takes the table down.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from dtbench import registry
from dtbench.atomic import atomic_write
from dtbench.config import SECTIONS, value_text
from dtbench.contract import RunSpec, overrides_label
from dtbench.errors import DTBenchError
from dtbench.runs.code import fingerprint
from dtbench.runs.results import CONFIG, CURVE, EVAL, RESULT
from dtbench.runs.settings_drift import moved_settings
from dtbench.runtime import DEFAULT_RESULTS_DIR

# what each file must hold to be read back: result.json keys, CSV columns
RESULT_KEYS = ("spec", "dataset_id", "data_digest", "code_fingerprint", "score_label", "data",
               "targets", "train_seconds", "eval_seconds")
TARGET_KEYS = ("target_return", "episodes", "return_mean", "score_mean", "best_score_mean",
               "best_step", "evaluations")
CSV_COLUMNS = {"metrics.csv": ("step",), CURVE: ("step", "target_return", "score_mean"),
               EVAL: ("target_return", "seed", "return", "length")}


class Unreadable(DTBenchError):
    """A file of a run folder that cannot be read back."""


def read_result(path: Path) -> dict[str, Any]:
    """A run's result.json, checked to hold what the tables read (else `Unreadable`)."""
    try:
        result = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Unreadable(f"{path.name}: {type(exc).__name__}") from None
    if not isinstance(result, dict):
        raise Unreadable(f"{path.name}: not a JSON object")
    missing = [k for k in RESULT_KEYS if k not in result]
    if missing:
        raise Unreadable(f"{path.name}: no {', '.join(missing)}")
    if not result["targets"] or any(
            not isinstance(t, dict) or any(k not in t for k in TARGET_KEYS)
            for t in result["targets"]):
        raise Unreadable(f"{path.name}: targets without {', '.join(TARGET_KEYS)}")
    try:
        RunSpec.from_dict(result["spec"])
    except (DTBenchError, TypeError, ValueError) as exc:
        raise Unreadable(f"{path.name}: bad spec ({exc})") from None
    return result


def read_run_csv(path: Path, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """One of a run folder's CSV files with the columns it must have (else `Unreadable`)."""
    columns = CSV_COLUMNS.get(path.name, ()) if columns is None else columns
    try:
        frame = pd.read_csv(path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise Unreadable(f"{path.name}: {type(exc).__name__}") from None
    missing = [c for c in columns if c not in frame]
    if missing:
        raise Unreadable(f"{path.name}: no column {', '.join(missing)}")
    return frame


def result_files(results_root: Path, under: str = "") -> list[Path]:
    """The result.json of every finished run under `results_root/runs/<under>`, in path order:
    the one walk over run folders that the tables, `unreadable_runs` and promote share."""
    return sorted((results_root / "runs" / under).glob("**/" + RESULT))


@dataclass(frozen=True)
class Collection:
    """Every run folder under a results folder, read once: the readable runs as a table and a
    line for each folder with a file that cannot be read."""

    table: pd.DataFrame  # one row per (finished run, target return)
    unreadable: list[str]  # `unreadable: <folder>: <why>`, in path order


def read_runs(results_root: Path = DEFAULT_RESULTS_DIR, check_files: bool = True) -> Collection:
    """One walk over the run folders: each readable result.json becomes rows of the table;
    with `check_files`, a folder whose CSV files cannot be read is listed too (its rows stay:
    the tables read only result.json)."""
    rows, unreadable = [], []
    for path in result_files(results_root):
        try:
            result = read_result(path)
        except Unreadable as exc:
            unreadable.append(f"unreadable: {path.parent}: {exc}")
            continue
        rows += _rows(result, path, results_root)
        if check_files:
            try:
                for name in CSV_COLUMNS:
                    if (path.parent / name).exists():
                        read_run_csv(path.parent / name)
            except Unreadable as exc:
                unreadable.append(f"unreadable: {path.parent}: {exc}")
    return Collection(_table(rows), unreadable)


def unreadable_runs(results_root: Path = DEFAULT_RESULTS_DIR) -> list[str]:
    """One line per run folder with a file that cannot be read: `unreadable: <folder>: <why>`."""
    return read_runs(results_root).unreadable


def collect(results_root: Path = DEFAULT_RESULTS_DIR) -> pd.DataFrame:
    """One row per (finished run, target return), from every readable run folder."""
    return read_runs(results_root, check_files=False).table


def recorded_route(folder: Path, spec: RunSpec) -> str:
    """Where the run's data came from: the route its config.json records, or for a run made
    before runs recorded it, the route of the dataset registered under its name."""
    try:
        return json.loads((folder / CONFIG).read_text())["dataset"]["route"]
    except (OSError, ValueError, KeyError, TypeError):
        return registry.find_dataset(spec.domain, spec.task, spec.dataset).route


def _settings_moved(spec: RunSpec, folder: Path) -> bool:
    """Whether the settings the run's algorithm reads resolve now to other values than its
    config.json records (False where it records none, or the spec no longer resolves)."""
    try:
        recorded = json.loads((folder / CONFIG).read_text())["settings"]
        return bool(moved_settings(spec, recorded))
    except (OSError, ValueError, KeyError, TypeError, DTBenchError):
        return False


def _rows(result: dict[str, Any], path: Path, results_root: Path) -> list[dict[str, Any]]:
    """A readable run's rows: one per evaluated target."""
    spec = RunSpec.from_dict(result["spec"])
    columns = {**spec.to_dict(), "overrides": overrides_label(spec.overrides),
               # where the run's own files are, so that readers never rebuild its spec
               "folder": path.parent.relative_to(results_root).as_posix()}
    settings = {key: value_text(value) if isinstance(value, tuple) else value
                for key, value in spec.overrides}
    recorded = {"dataset_id": result["dataset_id"],
                "data_route": recorded_route(path.parent, spec),
                "data_digest": result["data_digest"],
                "code_fingerprint": result["code_fingerprint"],
                "settings_moved": _settings_moved(spec, path.parent),
                "score_label": result["score_label"]}
    return [{**columns, **recorded, **target, **result["data"],
             "train_seconds": result["train_seconds"], "eval_seconds": result["eval_seconds"],
             **settings} for target in result["targets"]]


def _table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    table = pd.DataFrame(rows)
    if not table.empty:  # made by the code there is now (its fingerprint for algo and domain)
        now = {key: fingerprint(*key) for key in set(zip(table["algo"], table["domain"],
                                                         strict=True))}  # and settings
        current = [bool(f) and f == now[(a, d)] and not moved for f, a, d, moved in
                   zip(table["code_fingerprint"], table["algo"], table["domain"],
                       table.pop("settings_moved"), strict=True)]
        table.insert(table.columns.get_loc("code_fingerprint") + 1, "code_current", current)
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


def write_table(results_root: Path = DEFAULT_RESULTS_DIR,
                table: pd.DataFrame | None = None) -> Path:
    """Regenerate `results/runs.csv` from the run folders (or from their `collect` table,
    when the caller has read it already)."""
    path = results_root / "runs.csv"
    with atomic_write(path) as tmp:
        (collect(results_root) if table is None else table).to_csv(tmp, index=False)
    return path
