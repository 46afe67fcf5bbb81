"""Probe runs and the budget table: how the quick profiles' DT learning rate and dropout were
chosen, whether their step budget holds DT back, and what every method on a cell is given.

Probes are DT runs on a seed no table uses (`PROBE_SEED`) with exactly `train.lr` and
`model.dropout` overridden (`make probes`): the lr first at dropout 0, then dropout 0.1 at the
chosen lr. Both are given on every probe so that a probe means the same run whatever the
profile's own dropout is. The profile takes the setting with the best mean final score over
the domain's probe datasets, so the evaluation seeds never choose a hyperparameter. A budget
probe (`make budget-probe`) trains the chosen setting on the probe seed for longer than the
profile, evaluated along the way, to show whether the profile's steps stop DT early. The
budget table is derived from the registered settings, so it is always what the code runs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from dtbench import registry
from dtbench.config import BaselineConfig, Settings
from dtbench.report.cells import code_mark
from dtbench.report.collected import Collected
from dtbench.report.curves import curve_points, run_curve
from dtbench.report.scores import headline
from dtbench.report.table import Table
from dtbench.runs import only_overridden
from dtbench.runs.results import CONFIG

PROBE_SEED = 100
PROBE_DOMAINS = ("keydoor", "graph")
KEY = "train.lr"
REGULARISATION = "model.dropout"  # probed at the chosen lr
LONGER = ("train.steps", "eval.during_training")  # what a budget probe adds to a probe


def probe_runs(collected: Collected) -> pd.DataFrame:
    """DT runs on the probe seed with exactly `train.lr` and `model.dropout` overridden, or
    only `train.lr` (probes made before both were given: their dropout is read from the
    settings the run recorded, never from today's profile)."""
    runs = collected.runs()
    if runs.empty:
        return runs
    keep = ((runs["algo"] == "dt") & (runs["seed"] == PROBE_SEED)
            & runs["domain"].isin(PROBE_DOMAINS)
            & (only_overridden(runs, KEY, REGULARISATION) | only_overridden(runs, KEY)))
    runs = runs[keep]
    recorded = [_recorded_dropout(collected.root / folder) for folder in runs["folder"]]
    given = runs[REGULARISATION] if REGULARISATION in runs else pd.Series(float("nan"),
                                                                           index=runs.index)
    return runs.assign(**{REGULARISATION: given.fillna(pd.Series(recorded, index=runs.index))})


def _recorded_dropout(folder: Path) -> float:
    try:
        return float(json.loads((folder / CONFIG).read_text())["settings"]["model"]["dropout"])
    except (OSError, ValueError, KeyError, TypeError):
        return float("nan")  # unreadable: the row shows no dropout and competes with none


def probe_table(collected: Collected) -> Table:
    profile = collected.profile
    runs = probe_runs(collected)
    header = ["Domain", "Dataset", "DT lr", "Dropout", "Final score", "Best during training",
              "Chosen for the profile"]
    lines = []
    for (domain, dataset, lr, dropout), rows in (
            runs.groupby(["domain", "dataset", KEY, REGULARISATION], dropna=False)
            if not runs.empty else []):
        chosen = registry.get_domain(domain).settings[profile]
        top = rows.loc[rows["target_return"].fillna(0).idxmax()]
        mark = lr == chosen.train.lr and dropout == chosen.model.dropout
        lines.append([domain, dataset, f"{lr:g}", f"{dropout:g}",
                      f"{top['score_mean']:.1f}{code_mark(rows)}",
                      f"{top['best_score_mean']:.1f}", "yes" if mark else ""])
    verdicts = []
    for domain, rows in runs.groupby("domain") if not runs.empty else []:
        s = registry.get_domain(domain).settings[profile]
        verdicts.append(choice_text(domain, setting_scores(rows), (s.train.lr, s.model.dropout)))
    caption = (
        f"DT learning-rate and dropout probes, profile `{profile}`: one run per setting on seed "
        f"{PROBE_SEED}, a seed no table uses, so the settings of the benchmark runs are chosen "
        "without their evaluation seeds (`make probes`): the lr first at dropout 0, then "
        "dropout 0.1 at the chosen lr. Score as in each domain's table; 'best' "
        "is the best of the evaluations during training. The profile takes the setting with the "
        "best mean final score over the domain's probe datasets (marked)"
        + (f"; by that rule {'; '.join(verdicts)}." if verdicts else "."))
    return Table("probes", "DT learning-rate and dropout probes (quick profiles)", caption,
                 header, lines, "make probes", bool(lines))


def budget_probe_table(collected: Collected) -> Table:
    profile = collected.profile
    runs = collected.runs()
    if not runs.empty:
        runs = headline(runs[(runs["algo"] == "dt")
                             & (runs["seed"] == PROBE_SEED) & runs["domain"].isin(PROBE_DOMAINS)
                             & only_overridden(runs, KEY, REGULARISATION, *LONGER)])
    header = ["Domain", "Dataset", "DT lr", "Dropout", "Steps (the profile's)",
              "Score during training (step: score)", "At the profile's steps",
              "Mean of the later evaluations", "Final"]
    lines = []
    for index, run in runs.iterrows() if not runs.empty else ():
        steps = registry.get_domain(run["domain"]).settings[profile].train.steps
        curve = run_curve(collected.root, run)
        at = curve.loc[curve["step"] == steps, "score_mean"]
        later = curve.loc[curve["step"] > steps, "score_mean"]
        lines.append([run["domain"], run["dataset"], f"{run[KEY]:g}", f"{run[REGULARISATION]:g}",
                      f"{int(run['train.steps']):,} ({steps:,})", curve_points(curve) or "-",
                      f"{at.iloc[0]:.1f}" if len(at) else "-",
                      f"{later.mean():.1f} ({later.min():.1f} to {later.max():.1f})"
                      if len(later) else "-",
                      f"{run['score_mean']:.1f}{code_mark(runs.loc[[index]])}"])
    caption = (
        f"Budget probes, profile `{profile}`: DT at the profile's chosen lr and dropout on the "
        f"probe seed {PROBE_SEED} (no table's seed), trained for longer than the profile's step "
        "budget and evaluated along the way (`make budget-probe`), to show whether that budget "
        "stops DT before it has learned what it will. Score as in each domain's table, DT at "
        "its highest target return; 'later' are the evaluations after the profile's steps "
        "(mean, range). One run per dataset: it shows a trend, not an interval.")
    return Table("budget-probe", f"DT budget probes on seed {PROBE_SEED} (profile {profile})",
                 caption, header, lines, "make budget-probe", bool(lines))


def setting_scores(runs: pd.DataFrame) -> dict[tuple, float]:
    """Mean final score over the datasets per probed (lr, dropout); a setting not probed on
    every dataset of the domain does not compete."""
    top = headline(runs)
    per = top.groupby([KEY, REGULARISATION])
    full = per["dataset"].nunique() == top["dataset"].nunique()
    return {key: float(v) for key, v in per["score_mean"].mean()[full].items()}


def choice_text(domain: str, scores: dict[tuple, float], ours: tuple[float, float]) -> str:
    """What the rule picks for a domain, and whether the profile has it (ties named)."""
    best = max(scores.values())
    winners = [k for k, v in scores.items() if v == best]
    if ours in winners:
        tie = f", tied with {len(winners) - 1} other setting(s)" if len(winners) > 1 else ""
        return f"{domain}: lr {ours[0]:g}, dropout {ours[1]:g} (the profile's{tie})"
    lr, dropout = winners[0]
    return (f"{domain}: lr {lr:g}, dropout {dropout:g} (the profile has lr {ours[0]:g}, "
            f"dropout {ours[1]:g})")


def budget_table(collected: Collected) -> Table:
    """Per domain and profile (the report's, and `paper` beside it): each method's gradient
    steps, batch and learning rate(s), and why they differ where they do."""
    profile = collected.profile
    header = ["Domain", "Profile", "Method", "Gradient steps", "Batch", "Learning rate", "Notes"]
    lines = []
    profiles = list(dict.fromkeys((profile, "paper")))
    for name, domain in registry.domains().items():
        for shown in profiles:
            if shown in domain.settings and domain.grids:
                lines += _budget_rows(name, domain, shown)
    atari = registry.get_domain("atari")
    pong = atari.settings_for(atari.task("pong"), "paper").train
    caption = (
        f"What each method is given in profiles {' and '.join(f'`{p}`' for p in profiles)}, "
        "from the registered settings (a task's own settings, such as Pong's, in the steps "
        "column). Every method on a cell gets the same number of gradient steps (tested for "
        "every domain, task and profile); batches differ in kind: DT's batch is context "
        "windows (each K transitions), the baselines' batch is transitions, each at its "
        "authors' default size (d3rlpy's 256 for vector states, DQN's 32 for Atari). On Atari "
        "`paper` the steps are those of DT's 5 epochs over 1% of DQN-replay (the official "
        f"code's; Pong's batch of {pong.batch_size} makes them {pong.steps:,}); the CQL paper "
        "trained its Atari agents "
        "far longer, so its published numbers are not a same-budget comparison. Continuous "
        "CQL's critic learns at 3e-4 (the CQL paper and d3rlpy), DiscreteCQL's one Q-network "
        "at the lr shown. BC and %BC learn at their own lr (`baseline.bc_lr`), still at "
        "DiscreteCQL's value, below d3rlpy's own BC default; on Atari, where it is DQN's, BC "
        "is likely under-trained (docs/implementation-details.md, Baselines). "
        f"DiscreteCQL's target interval is d3rlpy's {BaselineConfig().target_update_interval:,} "
        "steps, lowered to a "
        "tenth of the run so it syncs at least ten times. Every method is evaluated on the "
        "same episodes with the same reset seeds.")
    return Table("budgets", "Training budgets per method and profile", caption, header, lines,
                 "make report", bool(lines))


def _budget_rows(name: str, domain: registry.Domain, profile: str) -> list[list[str]]:
    """DT's, CQL's and BC's row, each from its own settings: a task whose own settings differ
    from the domain's (Pong's) is named in the cell."""
    s = domain.settings[profile]
    own = {task.name: domain.settings_for(task, profile) for task in domain.tasks.values()}

    def cell(text: Callable[[Settings], str]) -> str:
        base = text(s)
        return base + "".join(f" ({n}: {text(o)})" for n, o in own.items() if text(o) != base)

    rows = [[name, profile, "DT", cell(lambda x: f"{x.train.steps:,}"),
             cell(lambda x: f"{x.train.batch_size} windows of K={x.model.context_len} steps"),
             f"{s.train.lr:g}",
             f"AdamW, warm-up {s.train.warmup_steps:,}, clip {s.train.grad_clip:g}"]]
    steps = cell(lambda x: f"{x.baseline.steps:,}")
    batch = f"{s.baseline.batch_size} transitions"
    b = s.baseline
    if domain.action_kind == "discrete":
        from baselines.builtin import target_update_interval

        def syncs(x: Settings) -> str:
            interval = target_update_interval(x.baseline)
            return f"every {interval:,} steps ({x.baseline.steps // interval} syncs)"

        cql = (f"{b.discrete_cql_lr:g}",
               f"DiscreteCQL, alpha {b.discrete_cql_alpha:g}, target synced " + cell(syncs))
    else:
        cql = (f"critic {b.critic_lr:g}, actor {b.actor_lr:g}",
               f"CQL, conservative weight {b.cql_alpha:g}")
    rows.append([name, profile, "CQL", steps, batch, *cql])
    rows.append([name, profile, "BC, %BC", steps, batch, f"{b.bc_lr:g}",
                 "d3rlpy (Discrete)BC; %BC on the top X% of timesteps"])
    return rows
