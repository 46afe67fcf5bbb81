"""Your runs beside the committed reference: per table cell, bit-identical, consistent with the
reference's seeds, or different.

A cell is one (task, dataset, reward variant, algorithm, overrides) of a grid. Its verdict:

* `bit-identical`: each of your runs equals the reference run of the same seed in every number
  its result records per target. Expected only where the two runs' hardware identities match
  (`same_bits_expected`: the same code paths by `hardware.matches`, pinned alike, the same
  torch build, BLAS and threads, and the same CPU vendor); elsewhere float sums round
  differently and a run follows another trajectory.
* otherwise a statistical verdict on the score every table reads (each run's final evaluation
  at its headline target): your seeds against every seed of the cell in the reference, by a
  two-sided two-sample t-test (Student's, pooled variance: under "the same benchmark" both
  sets of seeds come from one distribution), Holm-corrected over the cells compared at level
  0.05: `consistent` or `differs`, with the adjusted p and the means. A cell with too few
  seeds to test says so.

A cell whose runs trained on other data than the reference's (another data digest: MuJoCo's
SAC-made data differs between CPU kinds) says so beside its verdict: differences are then
expected whatever the code does, and bit-identity is not.
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats

from dtbench.contract import RunSpec
from dtbench.hardware import matches
from dtbench.runs.results import CONFIG, RESULT
from dtbench.runs.resumed import trained_on_one_machine
from dtbench.runs.table import Unreadable, read_result

OTHER_DATA = ("your data is not the reference's (another digest, e.g. regenerated on another "
              "CPU kind): differences are expected")
COMPARED = ("return_mean", "return_std", "score_mean", "score_std", "length_mean")
LEVEL = 0.05  # family-wise, over the cells of one comparison (Holm)
TEST = ("two-sided two-sample t-test (pooled variance) of the per-seed headline scores, your "
        f"seeds against all of the reference's, Holm-corrected over the cells at level {LEVEL}")


@dataclass(frozen=True)
class CellComparison:
    cell: str  # "task dataset variant algo [overrides]"
    seeds: int  # your runs of the cell
    yours: float  # mean over your seeds of the headline score
    reference: float | None  # mean over every reference seed of the cell (None: none there)
    reference_seeds: int  # the reference's runs of the cell
    verdict: str  # bit-identical | consistent | differs | too few seeds | not run | no reference
    detail: str = ""  # the figure behind the verdict (adjusted p, or the first difference)
    p: float | None = None  # the t-test's raw p (None: not tested)
    identities_match: bool | None = None  # every seed's hardware identity matches its
    # reference run's (None: a run recorded none)
    other_data: bool = False  # a run of yours trained on data with another digest than the
    # reference's runs of the cell

    @property
    def reproduced(self) -> bool:
        """Bit-identical or statistically consistent."""
        return self.verdict in ("bit-identical", "consistent")


def headline(result: dict) -> dict:
    """The target row a table shows: DT's highest target, a baseline's only row."""
    rows = result["targets"]
    with_target = [r for r in rows if r["target_return"] is not None]
    return max(with_target, key=lambda r: r["target_return"]) if with_target else rows[0]


def compare_cells(specs: Sequence[RunSpec], yours: Path, reference: Path
                  ) -> list[CellComparison]:
    """One comparison per cell of `specs` (grouped over seeds), in the specs' order."""
    cells: dict[tuple, list[RunSpec]] = {}
    for spec in specs:
        key = (spec.task, spec.dataset, spec.variant, spec.algo, spec.overrides)
        cells.setdefault(key, []).append(spec)
    rows = [_cell(key, members, yours, reference) for key, members in cells.items()]
    return _holm(rows)


def _cell(key: tuple, members: list[RunSpec], yours: Path, reference: Path) -> CellComparison:
    name = " ".join(str(k) for k in key[:4]) + (f" {key[4]}" if key[4] else "")
    mine = {s.seed: r for s in members if (r := _read(s.folder(yours))) is not None}
    theirs = _every_seed(members[0], reference)
    if not mine:
        return CellComparison(name, 0, float("nan"), None, len(theirs), "not run")
    ours = np.array([headline(r)["score_mean"] for r in mine.values()])
    if not theirs:
        return CellComparison(name, len(mine), float(ours.mean()), None, 0, "no reference run")
    ref = np.array([headline(r)["score_mean"] for r in theirs.values()])
    same_seeds = [seed for seed in mine if seed in theirs]
    identities = [_identity_match(members[0], seed, yours, reference) for seed in same_seeds]
    match = None if not same_seeds or None in identities else all(identities)
    other_data = bool({r.get("data_digest") for r in mine.values()}
                      - {r.get("data_digest") for r in theirs.values()})
    base = dict(cell=name, seeds=len(mine), yours=float(ours.mean()),
                reference=float(ref.mean()), reference_seeds=len(ref),
                identities_match=match, other_data=other_data)
    difference = _first_difference(mine, theirs) if same_seeds else "no seed in common"
    if difference is None and len(same_seeds) == len(mine):
        return CellComparison(**base, verdict="bit-identical")
    if len(ours) + len(ref) < 3:
        return CellComparison(**base, verdict="too few seeds", detail=difference or "")
    return CellComparison(**base, verdict="tested", detail=difference or "",
                          p=_t_test(ours, ref))


def _t_test(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided p of Student's two-sample t-test; seeds that do not vary at all are equal
    (p = 1) or not (p = 0) outright."""
    pooled = np.concatenate([a - a.mean(), b - b.mean()])
    if not np.any(pooled):
        return 1.0 if a.mean() == b.mean() else 0.0
    with warnings.catch_warnings():  # seeds that nearly agree: scipy warns, its p stands
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(stats.ttest_ind(a, b, equal_var=True).pvalue)


def _holm(rows: list[CellComparison]) -> list[CellComparison]:
    """The tested cells' verdicts at family-wise level LEVEL (Holm's step-down)."""
    tested = sorted((r.p, i) for i, r in enumerate(rows) if r.p is not None)
    adjusted, running = {}, 0.0
    for rank, (p, i) in enumerate(tested):
        running = max(running, min(1.0, (len(tested) - rank) * p))
        adjusted[i] = running
    out = []
    for i, r in enumerate(rows):
        if i in adjusted:
            verdict = "differs" if adjusted[i] < LEVEL else "consistent"
            detail = f"Holm p = {adjusted[i]:.3g}"
            if r.identities_match and not r.other_data:
                detail += "; hardware identities match, so the bits were expected to"
            r = CellComparison(r.cell, r.seeds, r.yours, r.reference, r.reference_seeds,
                               verdict, detail, r.p, r.identities_match, r.other_data)
        if r.other_data:
            r = dataclasses.replace(r, detail="; ".join(
                part for part in (r.detail, OTHER_DATA) if part))
        out.append(r)
    return out


def _every_seed(spec: RunSpec, root: Path) -> dict[int, dict]:
    """Every readable run of the spec's cell in `root`, by seed."""
    runs = {}
    for folder in sorted(spec.folder(root).parent.glob("seed*")):
        seed = folder.name.removeprefix("seed")
        if seed.isdigit() and (result := _read(folder)) is not None:
            runs[int(seed)] = result
    return runs


def _read(folder: Path) -> dict | None:
    try:
        return read_result(folder / RESULT)
    except Unreadable:
        return None


def cpu_vendor(identity: dict) -> str:
    """The CPU's vendor, from its model name (AMD, Intel, else the name itself)."""
    name = str(identity.get("cpu", ""))
    return next((v for v in ("AMD", "Intel") if v.lower() in name.lower()), name)


# The vendor is judged here, beside the verdicts, not in `hardware.matches`: hardware.py is in
# every run's code fingerprint, and a rule for reading identities moves no number.
def same_bits_expected(a: dict, b: dict) -> bool:
    """Whether runs on hardware identities `a` and `b` should give the same bits: the same code
    paths (`hardware.matches`) on CPUs of one vendor. Why the vendor: pinned to AVX2, an AMD
    EPYC with AVX-512 and one without gave the same bits on the golden grid, and an Intel Xeon
    did not (d3rlpy's losses and MuJoCo returns moved by a float32 rounding; DT's Key-to-Door
    numbers did not), MKL choosing its kernels by vendor (docs/implementation-details.md)."""
    return matches(a, b) and cpu_vendor(a) == cpu_vendor(b)


def _identity_match(spec: RunSpec, seed: int, yours: Path, reference: Path) -> bool | None:
    """Whether the two runs of `seed` recorded matching hardware identities (None: one of
    them recorded none)."""
    found = []
    for root in (yours, reference):
        folder = RunSpec(**{**spec.to_dict(), "seed": seed}).folder(root)
        try:
            found.append(json.loads((folder / CONFIG).read_text())["environment"]["hardware"])
        except (OSError, ValueError, KeyError):
            return None
        if not trained_on_one_machine(folder):
            return False  # trained on two machines: its bits are that sequence's
    return same_bits_expected(*found)


def _first_difference(mine: dict[int, dict], theirs: dict[int, dict]) -> str | None:
    """The first recorded number in which a run of yours differs from the reference's run of
    the same seed (None: every number equal to the bit)."""
    for seed, result in mine.items():
        other = theirs.get(seed)
        if other is None:
            return f"seed {seed} has no reference run"
        if len(result["targets"]) != len(other["targets"]):
            return f"seed {seed}: {len(result['targets'])} targets against {len(other['targets'])}"
        for a, b in zip(result["targets"], other["targets"], strict=True):
            for field in COMPARED:
                if a[field] != b[field]:
                    return f"seed {seed}: {field} {a[field]:.6g} vs {b[field]:.6g}"
    return None


def comparison_lines(rows: Sequence[CellComparison], yours: Path, reference: Path
                     ) -> list[str]:
    """The comparison as a markdown table and a summary saying how it was judged."""
    lines = [f"Your runs ({yours}) beside the committed reference ({reference}), per cell: the "
             "mean headline score of your seeds and of every reference seed (n), then the "
             "verdict.", "", "| Cell | Yours (n) | Reference (n) | Verdict | |",
             "|---|---|---|---|---|"]
    for r in rows:
        ref = "-" if r.reference is None else f"{r.reference:.2f} ({r.reference_seeds})"
        mine = "-" if not r.seeds else f"{r.yours:.2f} ({r.seeds})"
        lines.append(f"| {r.cell} | {mine} | {ref} | {r.verdict} | {r.detail} |")
    counts = {v: sum(r.verdict == v for r in rows)
              for v in ("bit-identical", "consistent", "differs")}
    lines += ["", f"{len(rows)} cells: " + ", ".join(f"{n} {v}" for v, n in counts.items())
              + f". Not bit-identical cells are judged by a {TEST}; bit-identity is expected "
              "only where the hardware identities match (docs/usage.md, 'Reproducing the committed "
              "results')."]
    return lines
