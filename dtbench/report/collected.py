"""What one `dtbench report` call reads of a results folder, once: every run folder's
result.json (with its data route), handed to every table and figure builder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dtbench import registry
from dtbench.runs import only_overridden
from dtbench.runs.table import read_runs


@dataclass(frozen=True)
class Collected:
    """The stored runs of a results folder (`runs.table.read_runs`) and the profile the report
    is for; the tables and figures select from it, none reads the folders again."""

    root: Path  # the results folder: run folders' own files are under root / row["folder"]
    profile: str
    every: pd.DataFrame  # one row per (readable run, target return), every profile
    unreadable: list[str]  # one line per run folder with a file that cannot be read

    @classmethod
    def read(cls, root: Path, profile: str) -> Collected:
        collection = read_runs(root)
        return cls(root, profile, collection.table, collection.unreadable)

    @classmethod
    def of_table(cls, table: pd.DataFrame, profile: str, root: Path = Path()) -> Collected:
        """Runs given as a table (tests; a selection of another collection)."""
        return cls(root, profile, table, [])

    def runs(self) -> pd.DataFrame:
        """The profile's runs, ablations included."""
        every = self.every
        return every[every["profile"] == self.profile] if not every.empty else every

    def plain(self) -> pd.DataFrame:
        """The profile's runs without overridden settings (no ablations)."""
        runs = self.runs()
        return runs[runs["overrides"] == ""] if not runs.empty else runs

    def of(self, domain: str, variants: tuple[str, ...] = ("dense",),
           ablations: bool = False) -> pd.DataFrame:
        """A domain's runs (one row per run and target) at the profile and reward variants;
        runs with settings overridden (ablations) only when asked for."""
        runs = self.runs()
        if runs.empty:
            return runs
        keep = (runs["domain"] == domain) & runs["variant"].isin(variants)
        if not ablations:
            keep &= only_overridden(runs)
        return runs[keep]


def stands_for(runs: pd.DataFrame) -> pd.Series:
    """Each row's dataset by the name it stands for in tables (`d4rl-medium` and
    `minari-medium`: `medium`), from the registered dataset: a lookup, never a parse."""
    names = {key: registry.find_dataset(*key).plain_name
             for key in set(zip(runs["domain"], runs["task"], runs["dataset"], strict=True))}
    return pd.Series([names[key] for key in zip(runs["domain"], runs["task"], runs["dataset"],
                                                strict=True)], index=runs.index, dtype=object)
