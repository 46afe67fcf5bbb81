"""Probe runs and the budget table: how each method's key settings were chosen (the domains'
`registry.Tuning`, run by `dtbench tune`), whether DT's step budget holds it back, and what
every method on a cell is given.

A tuning probe is a run on a probe seed no table uses with exactly one candidate's settings
overridden, all of them given so that a probe means the same run whatever the profile holds.
A budget probe (`make budget-probe`) trains every method at the profile's (tuned) settings on
the probe seed for longer than the profile, evaluated along the way, to show whether the
profile's steps stop a method early.
The budget table is derived from the registered settings, so it is always what the code runs.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from dtbench import registry
from dtbench.config import PROFILES, BaselineConfig, Settings
from dtbench.contract import canonical, overrides_label
from dtbench.report.cells import code_mark, settings_notes
from dtbench.report.collected import Collected
from dtbench.report.curves import curve_points, run_curve
from dtbench.report.figures import ALGO_LABELS
from dtbench.report.scores import headline
from dtbench.report.table import Table
from dtbench.runs import only_overridden
from dtbench.suite import Choice, expand, shared_overrides

PROBE_SEED = 100
PROBE_DOMAINS = ("keydoor", "graph")
# what a budget probe sets (the same longer budget for every method), and nothing else
LONGER = ("train.steps", "baseline.steps", "eval.during_training")


def probe_table(collected: Collected) -> Table:
    """Each domain's tuning probes (`dtbench tune`): per method and candidate setting, its
    final score per probe dataset (mean over the probe seeds) and overall, the candidate the
    rule picks and whether the profile has it."""
    profile = collected.profile
    header = ["Domain", "Method", "Setting", "Final score per dataset (mean over seeds)",
              "Mean", "Probes", "The rule's pick", "The profile's"]
    lines, counts = [], {}
    for name, domain, key, base in _tunings(profile):
        tuning = domain.tuning[key]
        runs = collected.runs() if key == profile else collected.every
        if runs.empty:
            continue
        for algo, candidates in tuning.candidates.items():
            rows = [(candidate, _probes(runs, name, tuning, algo, {**base, **candidate}))
                    for candidate in candidates]
            if not any(len(r) for _, r in rows):
                continue
            means = [_mean_final(r, tuning) for _, r in rows]
            pick = _pick(means)
            counts[(name, algo)] = sum(len(r) for _, r in rows)
            ran = next(r for _, r in rows if len(r))["profile"].iloc[0]
            held = base if key == profile else _grid_overrides(name, key, ran, algo, tuning)
            settings = domain.settings_for(domain.task(tuning.task), ran).override(
                held).to_dict()
            for i, (candidate, probes) in enumerate(rows):
                per = headline(probes).groupby("dataset")["score_mean"].mean() \
                    if len(probes) else pd.Series(dtype=float)
                lines.append([
                    name if key == profile else f"{name} ({key} grid)", algo,
                    _setting_text(candidate),
                    ", ".join(f"{d}: {per[d]:.1f}" for d in tuning.datasets if d in per) or "-",
                    "-" if means[i] is None else f"{means[i]:.1f}{code_mark(probes)}",
                    str(len(headline(probes)) if len(probes) else 0),
                    "yes" if i == pick else "",
                    "yes" if _has(settings, candidate) else ""])
    per_method = sorted(set(counts.values()))
    domains = [name for name, domain in registry.domains().items() if profile in domain.tuning]
    grids = [f"{name}'s {key} grid" for name, _, key, base in _tunings(profile) if base]
    caption = (
        f"How each method's key settings were chosen for profile `{profile}` (`dtbench tune`): "
        "every method gets the same number of probe runs over its own key settings, on the "
        "same probe datasets made here and on probe seeds no table uses, and each cell is a "
        "candidate's final score per dataset, the mean over those seeds (no interval). "
        "The rule, fixed before any probe ran, picks the candidate with the best mean final "
        "evaluation at the headline target over the probe seeds and datasets, a tie going to "
        "the one listed first (the authors' default).")
    notes = [
        "Key settings: DT's lr and dropout; CQL's learning rate(s) and conservative weight; BC's, "
        "%BC's and the paper BC's lr. A setting not probed on every dataset and seed competes "
        "with none.",
        f"Probes per method: {', '.join(map(str, per_method))}." if per_method else "",
        f"Also the tuning of {', '.join(grids)}: its probes carry the grid's settings (its "
        "table's), and 'The profile's' says whether the grid holds the candidate."
        if grids else ""]
    return Table("probes", f"Tuning probes: each method's key settings (profile {profile})",
                 caption, header, lines, "make probes", bool(lines),
                 settings_notes(domains, profile), notes)


def _tunings(profile: str) -> list[tuple[str, registry.Domain, str, dict]]:
    """(domain name, domain, tuning key, the overrides every probe carries) of the tunings a
    report at `profile` shows: the profile's own, and every named grid's (MuJoCo's `bench`
    tier, whose probes carry the grid's overrides, whatever profile they ran under)."""
    found = []
    for name, domain in registry.domains().items():
        for key in domain.tuning:
            if key == profile:
                found.append((name, domain, key, {}))
            elif key not in PROFILES and key in domain.grids:
                found.append((name, domain, key, shared_overrides(name, profile, key)))
    return found


def _grid_overrides(domain: str, grid: str, profile: str, algo: str,
                    tuning: registry.Tuning) -> dict:
    """The overrides a named grid gives `algo`'s dense runs on a tuning dataset (a grid part
    may hold a method's tuned settings apart from the others'); the grid's own where it runs
    none there."""
    for spec in expand(domain, profile, Choice(grid=grid, algos=(algo,),
                                               tasks=(tuning.task,))):
        if spec.dataset in tuning.datasets and spec.variant == "dense":
            return dict(spec.overrides)
    return shared_overrides(domain, profile, grid)


def _probes(runs: pd.DataFrame, domain: str, tuning: registry.Tuning, algo: str,
            candidate: dict) -> pd.DataFrame:
    """The runs of one candidate: its overrides exactly, on the probe task, datasets and seeds."""
    label = overrides_label(canonical(candidate))
    keep = ((runs["domain"] == domain) & (runs["task"] == tuning.task)
            & (runs["algo"] == algo) & runs["dataset"].isin(tuning.datasets)
            & runs["seed"].isin(tuning.seeds) & (runs["variant"] == "dense")
            & (runs["overrides"] == label))
    return runs[keep]


def _mean_final(probes: pd.DataFrame, tuning: registry.Tuning) -> float | None:
    """The rule's score of a candidate: mean final headline score over its probes, when it was
    probed on every probe dataset with every probe seed (else None: it does not compete)."""
    if probes.empty:
        return None
    top = headline(probes)
    done = set(zip(top["dataset"], top["seed"], strict=True))
    every = {(d, seed) for d in tuning.datasets for seed in tuning.seeds}
    return float(top["score_mean"].mean()) if done == every else None


def _pick(means: list[float | None]) -> int | None:
    """The candidate the rule picks: the best mean, the first listed on a tie."""
    scored = [(m, -i) for i, m in enumerate(means) if m is not None]
    return -max(scored)[1] if scored else None


def _setting_text(candidate: dict) -> str:
    return ", ".join(f"{key.partition('.')[2]} {value:g}" for key, value in
                     sorted(candidate.items()))


def _has(settings: dict, candidate: dict) -> bool:
    """Whether the profile's settings hold the candidate's values."""
    return all(settings[key.partition(".")[0]][key.partition(".")[2]] == value
               for key, value in canonical(candidate))


def budget_probe_table(collected: Collected) -> Table:
    profile = collected.profile
    runs = collected.runs()
    if not runs.empty:
        runs = headline(runs[(runs["seed"] == PROBE_SEED) & runs["domain"].isin(PROBE_DOMAINS)
                             & only_overridden(runs, *LONGER)])
        longer = runs.reindex(columns=list(LONGER))  # a column no run overrides is missing
        runs = runs[longer.notna().all(axis=1)]  # a plain probe is none
    header = ["Domain", "Dataset", "Method", "Steps (the profile's)",
              "Score during training (step: score)", "At the profile's steps",
              "Mean of the later evaluations", "Final"]
    lines = []
    for index, run in runs.iterrows() if not runs.empty else ():
        steps = registry.get_domain(run["domain"]).settings[profile].train.steps
        curve = run_curve(collected.root, run)
        at = curve.loc[curve["step"] == steps, "score_mean"]
        later = curve.loc[curve["step"] > steps, "score_mean"]
        lines.append([run["domain"], run["dataset"], ALGO_LABELS.get(run["algo"], run["algo"]),
                      f"{int(run['train.steps']):,} ({steps:,})", curve_points(curve) or "-",
                      f"{at.iloc[0]:.1f}" if len(at) else "-",
                      f"{later.mean():.1f} ({later.min():.1f} to {later.max():.1f})"
                      if len(later) else "-",
                      f"{run['score_mean']:.1f}{code_mark(runs.loc[[index]])}"])
    caption = (
        f"Whether profile `{profile}`'s step budget stops a method before it has learned what "
        f"it will: every method at the profile's (tuned) settings on the probe seed "
        f"{PROBE_SEED} (no table's seed), on data made here, all given the same longer step "
        "budget and evaluated along the way (`make budget-probe`). "
        "Scores as in each domain's table, DT at its highest target return; 'later' are the "
        "evaluations after the profile's steps (mean, range). "
        "One run per method and dataset: it shows a trend, not an interval.")
    domains = sorted(set(runs["domain"])) if not runs.empty else list(PROBE_DOMAINS)
    return Table("budget-probe", f"Budget probes on seed {PROBE_SEED} (profile {profile})",
                 caption, header, lines, "make budget-probe", bool(lines),
                 settings_notes(domains, profile))


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
        "read from the registered settings (a task's own settings, such as Pong's, in the "
        "cells). Every method on a cell gets the same number of gradient steps (tested for "
        "every domain, task and profile); batches differ in kind: DT's batch is context "
        "windows (each K transitions), the baselines' batch is transitions, each at its "
        "authors' default size.")
    notes = [
        "On Atari `paper` the steps are those of DT's 5 epochs over 1% of DQN-replay (the "
        f"official code's; Pong's batch of {pong.batch_size} makes them {pong.steps:,}); the "
        "CQL paper trained its Atari agents far longer, so its published numbers are not a "
        "same-budget comparison.",
        "Continuous CQL's critic learns at 3e-4 (the CQL paper and d3rlpy), DiscreteCQL's one "
        "Q-network at the lr shown. BC and %BC learn at their own lrs (`baseline.bc_lr`, "
        "`baseline.pbc_lr`), chosen by the tuning probes where a domain has them "
        "(results/probes.md); on Atari they are DQN's, below d3rlpy's own BC default, so BC "
        "is likely under-trained there (docs/implementation-details.md, Baselines).",
        "DiscreteCQL's target interval is d3rlpy's "
        f"{BaselineConfig().target_update_interval:,} steps, lowered to a tenth of the run so "
        "it syncs at least ten times. Every method is evaluated on the same episodes with the "
        "same reset seeds."]
    settings = ("Settings: this table is the registered settings themselves; each domain's "
                "other tables list where a profile departs from the paper's.")
    return Table("budgets", "Training budgets per method and profile", caption, header, lines,
                 "make report", bool(lines), settings, notes)


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
    rows.append([name, profile, "BC", steps, batch, f"{b.bc_lr:g}", "d3rlpy (Discrete)BC"])
    rows.append([name, profile, "%BC", steps, batch, f"{b.pbc_lr:g}",
                 "d3rlpy (Discrete)BC on the top X% of timesteps"])
    return rows
