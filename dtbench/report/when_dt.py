"""'When should we prefer DT?' (Bhargava et al., ICLR 2024) asked of our runs: DT, CQL and BC
side by side on dense and delayed rewards, per dataset, with the data's quality beside them.

Their abstract claims DT is the better choice with sparse rewards and low-quality data, while
CQL excels with high stochasticity and low-quality data; their per-dataset numbers are not in
our reference notes, so this table has no paper columns, only the claim in its caption.
"""

from __future__ import annotations

import pandas as pd

from dtbench.report.cells import code_mark, pipeline_note, source_label, tier
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
              *(f"{v}: {label}" for v in VARIANTS for _, label in ALGOS),
              *(f"{v}: best" for v in VARIANTS)]
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
            winners = []
            for variant in VARIANTS:
                got = {algo: means.get((domain, task, dataset, variant, algo))
                       for algo, _ in ALGOS}
                row += ["-" if got[a] is None else f"{got[a]:.1f}" + code_mark(
                    cell[(cell["variant"] == variant) & (cell["algo"] == a)]) for a, _ in ALGOS]
                ran = {a: round(v, 1) for a, v in got.items() if v is not None}  # as shown
                top = max(ran.values())
                winners.append(" = ".join(label for a, label in ALGOS
                                          if a in ran and ran[a] == top))
            lines.append(row + winners)
    caption = (
        "When should we prefer DT? (Bhargava et al., ICLR 2024): DT, CQL and BC on dense and "
        f"delayed rewards, profile `{profile}`, our runs only (mean over seeds of each run's "
        "score: D4RL normalised for MuJoCo, gamer normalised for Atari; DT at its highest "
        "target). Rows list every dataset with both reward variants run (`make sparse`). "
        "'Data: mean / best' is the training data's own episodes on the same scale: low-quality "
        "data has a low mean. Their abstract's claims, for comparison: DT is a substantially "
        "better choice than CQL and BC with sparse rewards and low-quality data; CQL excels "
        "when high stochasticity meets low data quality; DT needs more data than CQL but is more "
        "robust. Their per-dataset numbers are not reproduced here.")
    return Table("when-dt", "When should we prefer DT? (ICLR 2024) on our runs"
                 + tier("mujoco", profile), pipeline_note("mujoco", profile) + caption,
                 header, lines, "make sparse", bool(lines))
