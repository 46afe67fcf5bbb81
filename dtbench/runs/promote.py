"""Promote finished runs from a working results folder into the reference one.

Long grids run into a workspace (git-ignored) and land in `results/` only when they are done.
Promoting copies each finished run folder (one with result.json) of the named domains, minus
the large reproducible files that `results/` never holds (checkpoints, TensorBoard logs, locks,
partial writes), and rewrites the target's runs.csv. It refuses runs that the reference must
not hold: made by other code than the current (their numbers are not HEAD's) or trained on
data that has changed since. With `replace`, the target's other runs of those domains are set
aside under `<target>/stale/<time>/` (kept, out of every table), so that the domain holds
exactly what the workspace made.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from pathlib import Path

from dtbench.contract import RunSpec
from dtbench.errors import DTBenchError
from dtbench.runs.results import RESULT
from dtbench.runs.stale import STALE_DIR, find_stale, find_stale_code
from dtbench.runs.table import Unreadable, read_result, write_table

LEFT_BEHIND = ("checkpoint.pt", "d3rlpy_checkpoint.pt", "tensorboard", "wandb", ".lock")


def _left_behind(folder: str, names: list[str]) -> list[str]:
    return [n for n in names if n in LEFT_BEHIND or ".tmp" in n or ".bad-" in n]


def finished_runs(results_root: Path, domain: str) -> dict[Path, RunSpec]:
    """Each finished, readable run folder of `domain` under `results_root`, with its spec."""
    runs = {}
    for path in sorted((results_root / "runs" / domain).glob("**/" + RESULT)):
        try:
            runs[path.parent] = RunSpec.from_dict(read_result(path)["spec"])
        except (Unreadable, KeyError, TypeError, ValueError):
            continue
    return runs


def promote(source: Path, target: Path, domains: Sequence[str],
            replace: bool = False) -> list[str]:
    """Copy the finished runs of `domains` from `source` into `target`; one line per domain,
    then the table written. Raises DTBenchError (nothing copied) if a domain has no finished
    run there or any of them is stale."""
    source, target = Path(source), Path(target)
    if source.resolve() == target.resolve():
        raise DTBenchError(f"promote: source and target are the same folder ({source}); "
                           "give the workspace the runs were made in and the reference")
    found = {domain: finished_runs(source, domain) for domain in domains}
    for domain, runs in found.items():
        if not runs:
            raise DTBenchError(f"promote: no finished {domain} runs under {source / 'runs'}; "
                               f"run them there first (dtbench suite {domain} --results "
                               f"{source})")
    specs = [spec for runs in found.values() for spec in runs.values()]
    stale = {**find_stale_code(specs, source), **find_stale(specs, source)}
    if stale:
        raise DTBenchError(
            f"promote: {len(stale)} of the {len(specs)} finished runs are stale, for example "
            f"{next(iter(stale.values()))}; rerun them (dtbench suite ... --rerun-stale "
            f"--results {source}) before promoting, nothing was copied")
    lines = []
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for domain, runs in found.items():
        kept = {folder.relative_to(source) for folder in runs}
        aside = 0
        if replace:
            for folder in finished_runs(target, domain):
                if folder.relative_to(target) not in kept:
                    moved = target / STALE_DIR / stamp / folder.relative_to(target)
                    moved.parent.mkdir(parents=True, exist_ok=True)
                    folder.replace(moved)
                    aside += 1
        for folder in runs:
            out = target / folder.relative_to(source)
            if out.exists():
                shutil.rmtree(out)
            shutil.copytree(folder, out, ignore=_left_behind)
        lines.append(f"promoted {len(runs)} {domain} runs from {source} into {target}"
                     + (f"; {aside} other {domain} runs set aside under "
                        f"{target / STALE_DIR / stamp}" if aside else ""))
    return [*lines, f"table: {write_table(target)}"]
