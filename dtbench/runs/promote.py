"""Promote finished runs from a working results folder into the reference one.

Long grids run into a workspace (git-ignored) and land in `results/` only when they are done.
Promoting copies each finished run folder (one with result.json) of the named domains, minus
the large reproducible files that `results/` never holds (checkpoints, TensorBoard logs, locks,
partial writes), and rewrites the target's runs.csv. It refuses, before copying anything, what
the reference must not hold: runs made by other code than the current (their numbers are not
HEAD's), runs on data that has changed since, and folders it cannot read as the run their
result names. A run the reference already holds, every file byte for byte (the same run,
promoted before), is left as it is. Nothing finished is deleted: a reference run that a
promoted one replaces, and with `set_aside_stale` every reference run of those domains made by
other code, is moved to `<target>/stale/<time>/` (kept, out of every table), as
`--rerun-stale` does.
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
from dtbench.runs.table import Unreadable, read_result, result_files, write_table

LEFT_BEHIND = ("checkpoint.pt", "d3rlpy_checkpoint.pt", "tensorboard", "wandb", ".lock")


def _is_left_behind(name: str) -> bool:
    return name in LEFT_BEHIND or ".tmp" in name or ".bad-" in name


def _left_behind(folder: str, names: list[str]) -> list[str]:
    return [n for n in names if _is_left_behind(n)]


def _copied(folder: Path) -> dict[Path, Path]:
    """The files promote copies from a run folder, by their path inside it."""
    return {path.relative_to(folder): path for path in folder.rglob("*") if path.is_file()
            and not any(_is_left_behind(part) for part in path.relative_to(folder).parts)}


def finished_runs(results_root: Path, domain: str) -> tuple[dict[Path, RunSpec], list[str]]:
    """Each finished run folder of `domain` under `results_root` with its spec, and a line per
    folder whose result cannot be read or names another folder than its own."""
    runs, bad = {}, []
    for path in result_files(results_root, domain):
        try:
            spec = RunSpec.from_dict(read_result(path)["spec"])
        except (Unreadable, KeyError, TypeError, ValueError) as exc:
            bad.append(f"{path.parent}: its {RESULT} cannot be read ({exc})")
            continue
        if spec.folder(results_root) != path.parent:
            bad.append(f"{path.parent}: its {RESULT} is the run of {spec.folder(results_root)}")
            continue
        runs[path.parent] = spec
    return runs, bad


def _same_run(folder: Path, out: Path) -> bool:
    """Whether the reference folder `out` already holds this very run and all of it: the same
    files, byte for byte (result.json records when the run finished, so two runs never
    match; a file added to the run later, such as the critic's, makes them differ)."""
    if not out.is_dir():
        return False
    mine, theirs = _copied(folder), _copied(out)
    try:
        return mine.keys() == theirs.keys() and all(
            path.read_bytes() == theirs[name].read_bytes() for name, path in mine.items())
    except OSError:
        return False


def _set_aside(folder: Path, target: Path, stamp: str) -> None:
    moved = target / STALE_DIR / stamp / folder.relative_to(target)
    moved.parent.mkdir(parents=True, exist_ok=True)
    folder.replace(moved)
    for parent in folder.parents:  # the folders it leaves empty, up to runs/
        if parent == target / "runs" or any(parent.iterdir()):
            break
        parent.rmdir()


def check_folders(source: Path, target: Path) -> tuple[Path, Path]:
    """Both folders, resolved; neither is the other or inside it."""
    source, target = Path(source).resolve(), Path(target).resolve()
    if source == target or source in target.parents or target in source.parents:
        raise DTBenchError(f"--results {source} and --reference {target} overlap: promote the "
                           "runs of a workspace into a separate reference (results/)")
    return source, target


def promote(source: Path, target: Path, domains: Sequence[str],
            set_aside_stale: bool = False) -> list[str]:
    """Copy the finished runs of `domains` from `source` into `target`; one line per domain,
    then the table written. Raises DTBenchError, with nothing copied, if a domain has no
    finished run there or any of them is stale or unreadable."""
    source, target = check_folders(source, target)
    found = {}
    for domain in domains:
        runs, bad = finished_runs(source, domain)
        if bad:
            raise DTBenchError(f"promote: {len(bad)} {domain} run folder(s) cannot be promoted, "
                               f"for example {bad[0]}; rerun or remove them, nothing was copied")
        if not runs:
            raise DTBenchError(f"promote: no finished {domain} runs under {source / 'runs'}; "
                               f"run them there first (dtbench suite {domain} --results "
                               f"{source})")
        found[domain] = runs
    specs = [spec for runs in found.values() for spec in runs.values()]
    stale = {**find_stale_code(specs, source), **find_stale(specs, source)}
    if stale:
        raise DTBenchError(
            f"promote: {len(stale)} of the {len(specs)} finished runs are stale, for example "
            f"{next(iter(stale.values()))}; rerun them (dtbench suite ... --rerun-stale "
            f"--results {source}) before promoting, nothing was copied")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    lines = []
    for domain, runs in found.items():
        replaced = unchanged = 0
        for folder in runs:
            out = target / folder.relative_to(source)
            if _same_run(folder, out):
                unchanged += 1
                continue
            # copied outside runs/ first, so that no table ever reads a half-copied run
            partial = target / STALE_DIR / f".promote-{stamp}" / folder.relative_to(source)
            if partial.exists():
                shutil.rmtree(partial)
            shutil.copytree(folder, partial, ignore=_left_behind)
            if out.exists():
                _set_aside(out, target, stamp)
                replaced += 1
            out.parent.mkdir(parents=True, exist_ok=True)
            partial.replace(out)
        line = f"promoted {len(runs) - unchanged} {domain} runs from {source} into {target}"
        if unchanged:
            line += f"; {unchanged} already there, unchanged"
        if replaced:
            line += f"; the {replaced} they replace kept under {target / STALE_DIR / stamp}"
        if set_aside_stale:
            old, _ = finished_runs(target, domain)
            others = find_stale_code(list(old.values()), target)
            for spec in others:
                _set_aside(spec.folder(target), target, stamp)
            line += (f"; {len(others)} other {domain} runs made by other code set aside under "
                     f"{target / STALE_DIR / stamp}")
        lines.append(line)
    shutil.rmtree(target / STALE_DIR / f".promote-{stamp}", ignore_errors=True)
    return [*lines, f"table: {write_table(target)}"]
