"""Triage: for a list of runs, which are finished, which to run, and which need a word first
(trained on data that has changed since, made by other code, unreadable, or being trained by
another process). `dtbench train`, `suite` and the API print its plan and its lines; every
message about a run's state is written here, once.

Stale data: a run records its data's digest (`dtbench.data.identity`); a finished run whose
dataset now has another digest is not the result of the data there now. Other code: a run
records the fingerprint of the code that made it (`runs.code`); such a run stays finished (its
numbers are what that code made) and tables mark its cells. `--rerun-stale` moves either kind
to `<results>/stale/<time>/...` (kept, out of every table) and runs it again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from filelock import FileLock, Timeout

from dtbench.contract import RunSpec
from dtbench.errors import DTBenchError
from dtbench.runs import stale
from dtbench.runs.results import RESULT
from dtbench.runs.table import Unreadable, read_result

LOCK = ".lock"  # held in a run's folder while a process trains it


@dataclass(frozen=True)
class Plan:
    """What triage found for a list of runs (each in exactly one of the lists)."""

    specs: list[RunSpec]
    """Every run asked for, in order."""
    to_run: list[RunSpec]
    """Unfinished (resumed where they stopped), or stale and rerun."""
    finished: list[RunSpec]
    """Finished: returned as stored."""
    changed: dict[RunSpec, str] = field(default_factory=dict)
    """Finished on other data than is there now, not rerun: each with its line."""
    other_code: list[RunSpec] = field(default_factory=list)
    """Finished by other code, kept as finished (also in `finished`)."""
    unreadable: dict[RunSpec, str] = field(default_factory=dict)
    """Result.json unreadable."""
    elsewhere: list[RunSpec] = field(default_factory=list)
    """To run, but another process holds their lock now (also in `to_run`: waited for after the
    others)."""

    def summary(self) -> str:
        """The plan in one line."""
        parts = [f"{len(self.specs)} runs, {len(self.finished)} finished, "
                 f"{len(self.to_run)} to run"]
        if self.elsewhere:
            parts.append(f"{len(self.elsewhere)} of them running elsewhere (waited for)")
        if self.unreadable:
            parts.append(f"{len(self.unreadable)} unreadable (skipped)")
        if self.changed:
            parts.append(f"{len(self.changed)} stale (skipped; --rerun-stale runs them)")
        line = ", ".join(parts)
        if self.other_code:
            line += (f"; {len(self.other_code)} of the finished were made by other code than "
                     "this checkout's (--stale lists them, --rerun-stale runs them again)")
        return line

    def refusal(self) -> DTBenchError | None:
        """For runs asked for by name (`dtbench train`): the error when some cannot be given
        (unreadable, or finished on data that has changed), else None."""
        if self.unreadable:
            return DTBenchError(next(iter(self.unreadable.values())))
        if self.changed:
            return DTBenchError(f"{len(self.changed)} finished run(s) were trained on other "
                                "data than is there now (listed above); pass --rerun-stale to "
                                "run them again")
        return None


def triage(specs: Sequence[RunSpec], results_root: Path, rerun_stale: bool = False,
           echo: Callable[[str], None] = print) -> Plan:
    """Sort the runs; print one line per unreadable or data-stale run; with `rerun_stale`,
    move every data- or code-stale run aside (under `<results>/stale/`, one line each) so that
    it runs again."""
    specs = list(dict.fromkeys(specs))
    done = [s for s in specs if (s.folder(results_root) / RESULT).exists()]
    unreadable = {}
    for spec in done:
        try:
            read_result(spec.folder(results_root) / RESULT)
        except Unreadable as exc:
            unreadable[spec] = unreadable_line(spec.folder(results_root), exc)
    readable = [s for s in done if s not in unreadable]
    changed = stale.find_stale(readable, results_root)
    other_code = [s for s in stale.find_stale_code(readable, results_root) if s not in changed]
    for line in [*unreadable.values(), *changed.values()]:
        echo(line)
    rerun: list[RunSpec] = []
    if rerun_stale:
        rerun = [*changed, *other_code]
        for spec in rerun:
            echo(f"kept the stale run's folder as {stale.set_aside(spec, results_root)}")
        changed, other_code = {}, []
    to_run = [s for s in specs if s not in done or s in rerun]
    finished = [s for s in readable if s not in changed and s not in rerun]
    return Plan(specs, to_run, finished, changed, other_code, unreadable,
                [s for s in to_run if locked_elsewhere(s.folder(results_root))])


def unreadable_line(folder: Path, why: object) -> str:
    """The line for a finished run whose result.json cannot be read."""
    return f"unreadable: {folder}: {why}; move the folder aside to rerun the run"


def locked_elsewhere(folder: Path) -> bool:
    """Whether another process holds the run's lock now (it is training the run)."""
    if not (folder / LOCK).exists():
        return False
    lock = FileLock(folder / LOCK)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return True
    lock.release()
    return False
