"""Your runs beside the committed reference: per table cell, reproduced or the difference.

A cell is one (task, dataset, reward variant, algorithm) of a grid over its seeds. Each of
its runs is compared with the reference run of the same spec on every number its result
records per target (mean and std of return and score, mean length). "reproduced" means every
one is equal to the last bit; otherwise the cell shows both means and the largest per-seed
difference. Training is deterministic for a given code, data, torch build, CPU kind and
thread count; elsewhere (another CPU, a GPU, other threads) floating-point sums round
differently and small differences are expected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dtbench.contract import RunSpec
from dtbench.runs.results import RESULT
from dtbench.runs.table import Unreadable, read_result

COMPARED = ("return_mean", "return_std", "score_mean", "score_std", "length_mean")


@dataclass(frozen=True)
class CellComparison:
    cell: str  # "task dataset variant algo"
    seeds: int  # runs of the cell in your workspace
    yours: float  # mean over seeds of the headline score (DT: its highest target)
    reference: float | None  # the same over the reference's runs (None: none there)
    verdict: str  # "reproduced", "differs: ...", "no reference run", "not run"

    @property
    def reproduced(self) -> bool:
        return self.verdict == "reproduced"


def _read(folder: Path) -> dict | None:
    try:
        return read_result(folder / RESULT)
    except Unreadable:
        return None


def _headline(result: dict) -> dict:
    """The target row a table shows: DT's highest target, a baseline's only row."""
    rows = result["targets"]
    with_target = [r for r in rows if r.get("target_return") is not None]
    return max(with_target, key=lambda r: r["target_return"]) if with_target else rows[0]


def compare_cells(specs: Sequence[RunSpec], yours: Path, reference: Path
                  ) -> list[CellComparison]:
    """One comparison per cell of `specs` (grouped over seeds), in the specs' order."""
    cells: dict[tuple, list[RunSpec]] = {}
    for spec in specs:
        key = (spec.task, spec.dataset, spec.variant, spec.algo, spec.overrides)
        cells.setdefault(key, []).append(spec)
    out = []
    for key, members in cells.items():
        name = " ".join(str(k) for k in key[:4]) + (f" {key[4]}" if key[4] else "")
        mine = {s.seed: _read(s.folder(yours)) for s in members}
        theirs = {s.seed: _read(s.folder(reference)) for s in members}
        ran = {seed: r for seed, r in mine.items() if r is not None}
        if not ran:
            out.append(CellComparison(name, 0, float("nan"), None, "not run"))
            continue
        ours_mean = float(np.mean([_headline(r)["score_mean"] for r in ran.values()]))
        known = {seed: theirs[seed] for seed in ran if theirs.get(seed) is not None}
        ref_mean = float(np.mean([_headline(r)["score_mean"] for r in known.values()])) \
            if known else None
        if len(known) < len(ran):
            missing = sorted(set(ran) - set(known))
            out.append(CellComparison(name, len(ran), ours_mean, ref_mean,
                                      f"no reference run for seed(s) {missing}"))
            continue
        worst, where = 0.0, None
        for seed, result in ran.items():
            for a, b in zip(result["targets"], known[seed]["targets"], strict=False):
                for field in COMPARED:
                    x, y = a.get(field), b.get(field)
                    if x != y and not (x is None or y is None):
                        gap = abs(float(x) - float(y))
                        if where is None or gap > worst:
                            worst, where = gap, (seed, field, x, y)
                    elif (x is None) != (y is None):
                        where = where or (seed, field, x, y)
            if len(result["targets"]) != len(known[seed]["targets"]):
                where = where or (seed, "targets", len(result["targets"]),
                                  len(known[seed]["targets"]))
        if where is None:
            verdict = "reproduced"
        else:
            seed, field, x, y = where
            verdict = (f"differs: mean {ours_mean - ref_mean:+.2f}; largest at seed {seed}: "
                       f"{field} {x} vs {y}")
        out.append(CellComparison(name, len(ran), ours_mean, ref_mean, verdict))
    return out


def comparison_lines(rows: Sequence[CellComparison], yours: Path, reference: Path
                     ) -> list[str]:
    """The comparison as a markdown table and a one-line summary."""
    lines = [f"Your runs ({yours}) beside the committed reference ({reference}), per cell "
             "(mean over seeds of each run's headline score; every recorded number compared):",
             "", "| Cell | Seeds | Yours | Reference | |", "|---|---|---|---|---|"]
    for r in rows:
        ref = "-" if r.reference is None else f"{r.reference:.2f}"
        mine = "-" if not r.seeds else f"{r.yours:.2f}"
        lines.append(f"| {r.cell} | {r.seeds} | {mine} | {ref} | {r.verdict} |")
    same = sum(r.reproduced for r in rows)
    lines += ["", f"{same} of {len(rows)} cells reproduced"
              + ("." if same == len(rows) else
                 " (equality is expected on the same kind of CPU with the same torch threads; "
                 "see README, 'Reproducing the committed results').")]
    return lines
