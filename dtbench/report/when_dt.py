"""'When should we prefer DT?' (Bhargava et al., ICLR 2024) asked of our runs: DT, CQL and BC
side by side on dense and delayed rewards, per dataset, with the data's quality beside them.

Their abstract claims DT is the better choice with sparse rewards and low-quality data, while
CQL excels with high stochasticity and low-quality data; their per-dataset numbers are not in
our reference notes, so this table has no paper columns, only the claim in its caption.
"""

from __future__ import annotations

import pandas as pd

from dtbench.report.cells import (
    code_mark,
    pipeline_note,
    seeds_phrase,
    settings_notes,
    source_label,
    tier,
)
from dtbench.report.collected import Collected
from dtbench.report.scores import headline
from dtbench.report.table import Table

ALGOS = (("dt", "DT"), ("cql", "CQL"), ("bc", "BC"))
VARIANTS = ("dense", "delayed")
DOMAINS = ("mujoco", "atari")


def when_dt_table(collected: Collected) -> Table:
    profile = collected.profile
    frames = [collected.of(d, variants=VARIANTS) for d in DOMAINS]
    runs = pd.concat([f for f in frames if not f.empty], ignore_index=True) \
        if any(not f.empty for f in frames) else pd.DataFrame()
    header = ["Domain", "Task", "Dataset", "Data used", "Data: mean / best",
              *(f"{v}: {label}" for v in VARIANTS for _, label in ALGOS)]
    lines = []
    if not runs.empty:
        scores = headline(runs).groupby(["domain", "task", "dataset", "variant", "algo"])
        means = scores["score_mean"].mean()
        data = headline(runs).groupby(["domain", "task", "dataset"])[
            ["data_score_mean", "data_score_max"]].first()
        cells = means.reset_index()
        both = cells[cells["algo"].isin(dict(ALGOS))].groupby(
            ["domain", "task", "dataset"])["variant"].nunique()
        for (domain, task, dataset) in both[both == len(VARIANTS)].index:
            mean, best = data.loc[(domain, task, dataset)]
            cell = runs[(runs["domain"] == domain) & (runs["task"] == task)
                        & (runs["dataset"] == dataset)]
            row = [domain, task, dataset, source_label(domain, task, dataset, cell),
                   f"{mean:.1f} / {best:.1f}"]
            # no "best" column: which method is ahead is a claim for results/claims.md, which
            # tests it over seeds; a mean over one or few seeds names none
            for variant in VARIANTS:
                got = {algo: means.get((domain, task, dataset, variant, algo))
                       for algo, _ in ALGOS}
                row += ["-" if got[a] is None else f"{got[a]:.1f}" + code_mark(
                    cell[(cell["variant"] == variant) & (cell["algo"] == a)]) for a, _ in ALGOS]
            lines.append(row)
    seeds = seeds_phrase(runs[runs["algo"].isin(dict(ALGOS))]) if not runs.empty else ""
    caption = (
        pipeline_note("mujoco", profile)
        + "Bhargava et al.'s question (ICLR 2024: when should we prefer DT?) asked of our "
        "runs: DT, CQL and BC on dense and delayed rewards for "
        "every dataset with both variants run, beside the data's own quality, profile "
        f"`{profile}`, {seeds or 'no runs yet'}, each cell the mean over seeds of each run's "
        "score (no interval, and no method named better: that takes the seeds and tests of "
        "results/claims.md). "
        "Their per-dataset numbers are not reproduced, so there are no paper columns.")
    notes = [
        "Scores: D4RL normalised for MuJoCo, gamer-normalised for Atari; DT at its highest "
        "target. 'Data used' says which data produced our numbers; 'Data: mean / best' is the "
        "training data's own episodes on the same scale (low-quality data has a low mean).",
        "Their abstract's claims, for comparison: DT is a substantially better choice than CQL "
        "and BC with sparse rewards and low-quality data; CQL excels when high stochasticity "
        "meets low data quality; DT needs more data than CQL but is more robust.",
        "Fill with `make sparse`."]
    domains = sorted(set(runs["domain"])) if not runs.empty else list(DOMAINS)
    return Table("when-dt", "When should we prefer DT? (ICLR 2024) on our runs"
                 + tier("mujoco", profile), caption, header, lines, "make sparse", bool(lines),
                 settings_notes(domains, profile), notes)
