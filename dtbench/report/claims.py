"""Which differences the data carries: DT against each other method on every benchmark cell,
each difference tested by Welch's t-test and Holm-corrected within its family: the benchmark
cells of the report's profile, and the MuJoCo benchmark tier, an experiment of its own whose
verdicts do not move with the other domains' runs. The README and captions make a claim ("DT >
CQL") only where this table resolves it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dtbench.report.cells import PIPELINE_CHECKS, data_words, score_range, settings_notes
from dtbench.report.collected import Collected
from dtbench.report.figures import ALGO_LABELS
from dtbench.report.graph import ALGOS as GRAPH_ALGOS
from dtbench.report.graph import NO_CAP, SHORTEST, path_lengths, per_seed_rates
from dtbench.report.keydoor import solvable_share
from dtbench.report.mujoco_bench import claim_runs, tier_short_budget
from dtbench.report.scores import headline
from dtbench.report.stats import (
    INTERVAL,
    LEVEL,
    Bounds,
    Difference,
    fixed,
    holm,
    mean_interval,
    welch,
)
from dtbench.report.table import Table
from dtbench.runs import only_overridden

CLAIM_LEVEL = 1 - LEVEL  # family-wise, over every claim of a family (Holm)
TIER_FAMILY = "the MuJoCo benchmark tier"


@dataclass(frozen=True)
class Claim:
    """DT against one method on one cell: both sides' per-seed scores, and the cell's ceiling
    (the best score possible; None where there is none)."""

    cell: str
    dataset: str
    variant: str
    versus: str
    dt: np.ndarray
    other: np.ndarray
    ceiling: float | None = None
    bounds: Bounds = None
    other_data: bool = False
    """The two sides' runs recorded different data digests (the dataset made again between
    them, say on another kind of CPU): no test, since the difference is not the methods'."""
    stale: bool = False
    """A side's runs were made by other code or settings than the current (the tables' †): no
    test until they are run again."""
    family: str = ""
    """The Holm family: the report profile's benchmark cells, or `TIER_FAMILY`."""


def claims_table(collected: Collected) -> Table:
    profile = collected.profile
    runs = collected.runs()
    claims: list[Claim] = []
    cells = []
    if not runs.empty:
        runs = runs[only_overridden(runs) & ~runs["domain"].isin(PIPELINE_CHECKS.get(profile, ()))]
        cells = [(key, cell) for key, cell in headline(runs).groupby(
                     ["domain", "task", "dataset", "variant"])] if not runs.empty else []
    domains = sorted({domain for (domain, *_), _ in cells})
    # the MuJoCo benchmark tier's cells, whatever the report's profile (they run under paper)
    tier = claim_runs(collected)
    cells = [(key, cell, f"profile `{profile}`") for key, cell in cells]
    cells += [((d, f"{t} (benchmark tier, {int(n):,} steps)", ds, v), cell, TIER_FAMILY)
              for (d, t, ds, v, n), cell in tier.groupby(
                  ["domain", "task", "dataset", "variant", "train.steps"])] \
        if not tier.empty else []
    if cells:
        for (domain, task, dataset, variant), cell, family in cells:
            dt = cell[cell["algo"] == "dt"]["score_mean"]
            if dt.empty:
                continue
            ceiling = _ceiling(collected, domain, task)
            for algo in [a for a in ALGO_LABELS if a != "dt" and a in set(cell["algo"])]:
                other = cell[cell["algo"] == algo]["score_mean"]
                versus = "Uniform random actions" if algo == "random" else ALGO_LABELS[algo]
                sides = cell[cell["algo"].isin(["dt", algo])]
                digests = sides["data_digest"].dropna() if "data_digest" in sides else ()
                claims.append(Claim(f"{domain}/{task}", dataset, variant, versus,
                                    dt.to_numpy(), other.to_numpy(), ceiling,
                                    score_range(domain), len(set(digests)) > 1,
                                    "code_current" in sides
                                    and not sides["code_current"].fillna(False).all(),
                                    family))
        claims += _shortest_path_claims(collected, f"profile `{profile}`")
    lines, tested = _lines(claims)
    tier_claims = [c for c in claims if c.family == TIER_FAMILY]
    short = tier_short_budget(collected) if tier_claims else []
    caption = (
        f"DT against each other method on every benchmark cell of profile `{profile}` "
        "(pipeline-check domains left out) and of the MuJoCo benchmark tier, on "
        f"{data_words(runs)}, on the score every table "
        "reads (each run's final evaluation at its headline target, fixed before any result), "
        "with each side's mean, its 95% t interval over training seeds and n. "
        "The difference DT minus the other is tested by Welch's two-sided t-test with its 95% "
        "Welch interval, the p-values Holm-corrected within each family ("
        + ("; ".join(f"{family}: {n} test{'' if n == 1 else 's'}" for family, n in tested.items())
           or "no tests yet")
        + f"), and a difference is claimed only where the corrected p is below "
        f"{CLAIM_LEVEL:.2f}.")
    notes = [
        "A side with one seed, or two sides whose seeds do not vary at all, has nothing to test "
        "('both at the ceiling' where every seed of both scores the best possible).",
        "The graph's rows 'on a shortest path' compare the share of episodes that arrive in "
        "the BFS distance (on the stitching test for DT capped at the data's best return and "
        "without the cap). A graph seed's score is over evaluation episodes that start from "
        "few distinct nodes: the seeds, not the episodes, are the sample.",
        "'Uniform random actions' is the random policy, not the data's random walk, whose own "
        "score is in each domain's table.",
        f"Intervals: {INTERVAL}.",
        "The MuJoCo benchmark tier's rows ('benchmark tier') run under the paper profile "
        "with the settings of results/mujoco-bench.md, on data made here, and form a Holm "
        "family of their own: an experiment apart, whose verdicts do not move with the other "
        "domains' runs." if tier_claims else "",
        f"The tier's step budget stops {' and '.join(short)} before "
        f"{'its learning curve' if len(short) == 1 else 'their learning curves'} levelled off "
        "(results/mujoco-bench-curves.md): DT against "
        f"{'it' if len(short) == 1 else 'them'} there is a comparison at that budget, not at "
        "each method's plateau." if short else "",
        "A row whose runs were made by other code or settings than the current (the tables' "
        "†) is not tested until they run again." if any(c.stale for c in claims) else ""]
    return Table("claims", f"Which differences the data carries (profile {profile})", caption,
                 ["Cell", "Dataset", "Rewards", "Versus", "DT", "Other",
                  "DT - other [95% interval]", "Welch p", "Holm p", "Verdict"], lines,
                 "make keydoor graph", bool(lines), settings_notes(domains, profile), notes)


def _ceiling(collected: Collected, domain: str, task: str) -> float | None:
    """The best score a method can reach on a cell (None: no ceiling): on Key-to-Door the
    evaluation episodes that can succeed at all, on the graph the starts that can reach the
    goal (the shortest path's rate, which is also its rate on a shortest path)."""
    if domain == "keydoor":
        return solvable_share(collected.profile)
    if domain == "graph":
        return _bfs_rate(path_lengths(collected, task.partition(" ")[0]))
    return None


def _bfs_rate(lengths: pd.DataFrame) -> float | None:
    """The shortest path's (BFS's) goal-reached rate over the evaluation's starts."""
    rates = per_seed_rates(lengths)
    if SHORTEST not in rates.index.get_level_values("method"):
        return None
    return float(rates.loc[SHORTEST]["reached"].mean())


def _side(values: np.ndarray, bounds: Bounds) -> str:
    return f"{mean_interval(values, bounds=bounds)} (n={len(values)})"


def _lines(claims: list[Claim]) -> tuple[list[list[str]], dict[str, int]]:
    """One row per claim (both sides, the Welch difference, raw and Holm p, the verdict), and
    how many tests each Holm family counts (the comparisons with something to test)."""
    tests = [welch(c.dt, c.other) for c in claims]
    adjusted: list[float | None] = [None] * len(claims)
    sizes: dict[str, int] = {}
    for family in dict.fromkeys(c.family for c in claims):
        members = [i for i, c in enumerate(claims) if c.family == family]
        testable = [_testable_p(claims[i], tests[i]) for i in members]
        if tested := sum(p is not None for p in testable):
            sizes[family] = tested
        for i, p in zip(members, holm(testable), strict=True):
            adjusted[i] = p
    lines = []
    for c, t, p_holm in zip(claims, tests, adjusted, strict=True):
        if c.other_data:
            verdict = "not tested (the sides ran on different data: two generations of it)"
            interval, p_texts = fixed(t.diff), ["-", "-"]
        elif c.stale:
            verdict = "not tested (runs by other code or settings: run them again)"
            interval, p_texts = fixed(t.diff), ["-", "-"]
        elif p_holm is None:  # nothing to test: the difference alone, no zero-width interval
            at_ceiling = (c.ceiling is not None
                          and np.allclose(np.concatenate([c.dt, c.other]), c.ceiling))
            verdict = "both at the ceiling" if at_ceiling else f"not tested ({t.why_untested})"
            interval = fixed(t.diff)
            p_texts = ["-", "-"]
        else:
            verdict = ("not resolved" if p_holm >= CLAIM_LEVEL
                       else "DT higher" if t.diff > 0 else "DT lower")
            low, high = t.low, t.high
            if c.bounds is not None:  # two bounded scores differ by at most their range
                span = c.bounds[1] - c.bounds[0]
                low, high = max(low, -span), min(high, span)
            interval = f"{fixed(t.diff)} [{fixed(low)}, {fixed(high)}]"
            p_texts = [f"{t.p:.2g}", f"{p_holm:.2g}"]
        lines.append([c.cell, c.dataset, c.variant, c.versus, _side(c.dt, c.bounds),
                      _side(c.other, c.bounds), interval, *p_texts, verdict])
    return lines, sizes


def _testable_p(claim: Claim, test: Difference) -> float | None:
    """The p-value that enters its Holm family: none for sides on different data or stale."""
    return None if claim.other_data or claim.stale else test.p


def _shortest_path_claims(collected: Collected, family: str) -> list[Claim]:
    """The graph's second measure, 'on a shortest path' (%) per seed, for both graph tasks:
    DT (on the stitching test capped and without the cap) against every other learned
    method."""
    claims = []
    for task, dataset in (("graph", "random-walk-1k"), ("stitch", "stitch-1k")):
        lengths = path_lengths(collected, task)
        if lengths.empty:
            continue
        optimal = per_seed_rates(lengths)["optimal"]
        methods = set(optimal.index.get_level_values("method"))
        for dt in [m for m in ("DT", NO_CAP) if m in methods]:
            which = ("" if task == "graph" else
                     ", DT capped at the data's best" if dt == "DT" else ", DT without the cap")
            for other in [label for algo, label in GRAPH_ALGOS
                          if algo != "dt" and label in methods]:
                claims.append(Claim(f"graph/{task}: on a shortest path{which}", dataset,
                                    "dense", other, optimal.loc[dt].to_numpy(),
                                    optimal.loc[other].to_numpy(), _bfs_rate(lengths),
                                    score_range("graph"), family=family))
    return claims
