"""Stale runs: finished on data that has changed since under the same dataset name, or made by
other code than the current (what `runs.triage` does with them is said there).

Runs whose data is not on this machine cannot be compared and are left as they are.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

from dtbench import registry
from dtbench.contract import RunSpec
from dtbench.data.identity import data_identity
from dtbench.runs import code
from dtbench.runs.results import CONFIG, RESULT
from dtbench.runs.settings_drift import moved_settings
from dtbench.runs.table import Unreadable, read_result

STALE_DIR = "stale"  # under the results folder, beside runs/


def current_identity(spec: RunSpec) -> dict | None:
    """The identity of the spec's dataset as it is on disk now; None when it is not here."""
    _, task = registry.get_task(spec.domain, spec.task)
    dataset = registry.get_dataset(task, spec.dataset)
    files = dataset.data_files()
    return data_identity(dataset.minari_id, files) if files else None


def recorded_digest(run_dir: Path) -> str | None:
    """The data digest a finished run recorded (None: its result.json is unreadable)."""
    try:
        return read_result(run_dir / RESULT)["data_digest"]
    except Unreadable:
        return None


def find_stale(specs: Sequence[RunSpec], results_root: Path) -> dict[RunSpec, str]:
    """Finished runs whose data has changed, each with its one line."""
    now: dict[tuple[str, str, str], str | None] = {}
    out = {}
    for spec in specs:
        folder = spec.folder(results_root)
        if not (folder / RESULT).exists() or (old := recorded_digest(folder)) is None:
            continue
        key = (spec.domain, spec.task, spec.dataset)
        if key not in now:
            identity = current_identity(spec)
            now[key] = identity["digest"] if identity else None
        if now[key] is not None and now[key] != old:
            out[spec] = (f"stale: data changed: {spec.describe()} was trained on data {old}, "
                         f"{spec.dataset} is now {now[key]} ({folder}); --rerun-stale runs it "
                         "again (the old folder is kept)")
    return out


def recorded_code(run_dir: Path) -> tuple[str, str | None] | None:
    """The code fingerprint and git commit a finished run recorded (None: its result.json is
    unreadable; the commit None where git was not there)."""
    try:
        fingerprint = read_result(run_dir / RESULT)["code_fingerprint"]
    except Unreadable:
        return None
    commit = json.loads((run_dir / CONFIG).read_text())["code"]["commit"]
    return fingerprint, commit


def find_stale_code(specs: Sequence[RunSpec], results_root: Path) -> dict[RunSpec, str]:
    """Finished runs made by other code than the current for their algorithm and domain, or
    with other settings than their profile resolves to now (a domain's `profiles` module is
    compared by value, `runs.code`), each with its one line (unreadable runs are `triage`'s,
    listed as such)."""
    out = {}
    for spec in specs:
        folder = spec.folder(results_root)
        recorded = recorded_code(folder) if (folder / RESULT).exists() else None
        if recorded is None:
            continue
        old, commit = recorded
        now = code.fingerprint(spec.algo, spec.domain)
        if old != now:
            out[spec] = (f"stale: code changed: {spec.describe()} was made by code {old} "
                         f"(commit {commit or '?'}); the current code for {spec.algo} on "
                         f"{spec.domain} is {now} ({folder})")
        elif moved := moved_settings(spec, json.loads((folder / CONFIG).read_text())["settings"]):
            out[spec] = (f"stale: settings changed: {spec.describe()} was made with other "
                         f"{', '.join(moved[:3])}{' ...' if len(moved) > 3 else ''} than its "
                         f"profile gives now ({folder})")
    return out


def set_aside(spec: RunSpec, results_root: Path) -> Path:
    """Move a stale run's folder to `<results>/stale/<time>/<its path>`; return where."""
    folder = spec.folder(results_root)
    target = (Path(results_root) / STALE_DIR / time.strftime("%Y%m%d-%H%M%S")
              / folder.relative_to(results_root))
    target.parent.mkdir(parents=True, exist_ok=True)
    folder.replace(target)
    return target
