"""Context length: the paper's Table 5 (DT at the game's K against K=1) from stored runs.

A DT run with `model.context_len` overridden (`dtbench suite atari -a dt --set
model.context_len=1`, or `make ablation-context`) sits beside the run at the profile's K.
Rows for other domains appear when such runs exist for them.
"""

from __future__ import annotations

import pandas as pd

from dtbench import registry
from dtbench.report.cells import (
    INTERVAL_NOTE,
    best_target_cell,
    cells_phrase,
    data_words,
    pipeline_rows_note,
    settings_notes,
    source_label,
)
from dtbench.report.collected import Collected
from dtbench.report.paper import ATARI_TABLE5, QBERT_NOTE, paper_cell
from dtbench.report.table import Table
from dtbench.runs import only_overridden

KEY = "model.context_len"


def context_runs(collected: Collected) -> pd.DataFrame:
    """Dense DT runs at the profile's K or with only `model.context_len` overridden, with
    their K in a `context_len` column."""
    profile = collected.profile
    runs = collected.runs()
    if runs.empty:
        return runs
    runs = runs[(runs["algo"] == "dt") & (runs["variant"] == "dense")]
    def profile_k(domain: str, task: str) -> int:
        d, t = registry.get_task(domain, task)
        return d.settings_for(t, profile).model.context_len

    k = []
    for (_, row), ablated, plain in zip(runs.iterrows(), only_overridden(runs, KEY),
                                        only_overridden(runs), strict=True):
        if ablated:
            k.append(int(row[KEY]))
        elif plain:
            k.append(profile_k(row["domain"], row["task"]))
        else:
            k.append(None)  # other ablations
    return runs.assign(context_len=k).dropna(subset=["context_len"])


def context_table(collected: Collected) -> Table:
    profile = collected.profile
    runs = context_runs(collected)
    ablated = runs[runs["overrides"] != ""] if not runs.empty else runs
    header = ["Domain", "Task", "Dataset", "Data used", "K", "DT at K (ours)", "DT with K=1 (ours)",
              "DT at other K (ours)", "DT at K (paper)", "DT with K=1 (paper)"]
    def datasets_of(domain: str, task: str) -> set[str]:
        if runs.empty:
            return set()
        return set(runs[(runs["domain"] == domain) & (runs["task"] == task)]["dataset"])

    # the paper's four games always; other cells where a K ablation was run
    keys = {("atari", game, ds) for game in ATARI_TABLE5
            for ds in datasets_of("atari", game) or {"-"}}
    if not ablated.empty:
        keys |= set(zip(ablated["domain"], ablated["task"], ablated["dataset"], strict=True))
    lines = []
    for domain, task, dataset in sorted(keys):
        rows = runs[(runs["domain"] == domain) & (runs["task"] == task)
                    & (runs["dataset"] == dataset)] if not runs.empty else runs
        d, t = registry.get_task(domain, task)
        k = d.settings_for(t, profile).model.context_len
        paper = ATARI_TABLE5.get(task, {}) if domain == "atari" else {}
        at_k = rows[rows["context_len"] == k] if not rows.empty else rows
        at_1 = rows[rows["context_len"] == 1] if not rows.empty else rows
        others = sorted(set(rows["context_len"]) - {k, 1}) if not rows.empty else []
        sweep = "; ".join(f"K={int(o)}: {best_target_cell(rows[rows['context_len'] == o])}"
                          for o in others) or "-"
        lines.append([domain, task, dataset,
                      source_label(domain, task, dataset, rows) if dataset != "-" else "-",
                      str(k),
                      best_target_cell(at_k), best_target_cell(at_1), sweep,
                      paper_cell("ATARI_TABLE5", ATARI_TABLE5, task, "k") if paper else "-",
                      paper_cell("ATARI_TABLE5", ATARI_TABLE5, task, "k1") if paper else "-"])
    atari = registry.get_domain("atari")
    paper_k = atari.settings["paper"].model.context_len
    own_k = [f"{name.capitalize()} {k}" for name, task in atari.tasks.items()
             if (k := atari.settings_for(task, "paper").model.context_len) != paper_k]
    domains = sorted({key[0] for key in keys})
    has_runs = not ablated.empty
    caption = (
        "DT at the profile's context length K (column K) beside DT with K=1, each action from "
        "the current return-to-go and state alone, and at other K where run, on "
        f"{data_words(runs)} and each domain's score "
        f"scale, profile `{profile}`: {cells_phrase(runs)}. "
        f"The paper's columns are Chen et al. 2021 Table 5 (Atari on 1% DQN-replay, K={paper_k}, "
        f"{', '.join(own_k)}), with the paper's ±.")
    notes = [pipeline_rows_note(domains, profile), QBERT_NOTE, INTERVAL_NOTE,
             "Fill with `make ablation-context` (CONTEXT_DOMAIN and CONTEXT_LENGTHS pick the "
             "domain and the K values)."]
    return Table("context", "Context length (paper Table 5)", caption, header, lines,
                 "make ablation-context", has_runs, settings_notes(domains, profile), notes)
