"""Formatting shared by every results table."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from dtbench import registry
from dtbench.config import Settings
from dtbench.registry import Grid
from dtbench.report.collected import stands_for
from dtbench.report.scores import headline
from dtbench.report.stats import INTERVAL, Bounds, fixed, interval_text

STALE_MARK = "†"  # a cell with runs made by other code or settings than the current
STALE_NOTE = (f"{STALE_MARK}: the cell includes runs made by other training code or settings "
              "than the current (their code fingerprint differs from this checkout's for their "
              "algorithm and domain, or their profile now resolves to other values; `dtbench "
              "suite <domain> --stale` lists them, `--rerun-stale` reruns them).")


# domains whose runs at a profile test the pipeline, not the paper's claims: at `quick` nothing
# there trains long enough to learn (benchmark results: Key-to-Door and the graph)
PIPELINE_CHECKS = {"quick": ("mujoco", "atari"), "smoke": ("keydoor", "graph", "mujoco",
                                                           "atari")}


def tier(domain: str, profile: str) -> str:
    """' - pipeline check' for a domain whose runs at this profile are one, else ''."""
    return " - pipeline check" if domain in PIPELINE_CHECKS.get(profile, ()) else ""


def pipeline_note(domain: str, profile: str) -> str:
    """The opening sentence of a pipeline-check table, else ''."""
    if not tier(domain, profile):
        return ""
    return (f"Pipeline check: at profile `{profile}` the methods do not learn this domain (their "
            "scores sit near the data's or a random policy's), so the table shows that every "
            "part runs end to end and carries no claim about the methods. ")


def pipeline_rows_note(domains: Sequence[str], profile: str) -> str:
    """A footnote for a table over several domains naming those whose rows are pipeline
    checks at this profile, else ''."""
    checks = [d for d in domains if tier(d, profile)]
    if not checks:
        return ""
    return (f"Rows of {', '.join(checks)} are pipeline checks at profile `{profile}`: the methods "
            "do not learn there at this budget, and no claim about them is drawn from those "
            "rows.")


def code_mark(rows: pd.DataFrame) -> str:
    """' †' when any of the rows' runs was made by other code than the current, else ''."""
    if rows.empty or rows["code_current"].all():
        return ""
    return f" {STALE_MARK}"


def score_range(domain: str) -> Bounds:
    """The bounds of the domain's scores (None: unbounded), for clipping intervals."""
    return registry.get_domain(domain).score_range


def mean_std_cell(scores: pd.Series, bounds: Bounds = None) -> str:
    """'mean ± sample std [95% t interval of the mean, clipped to `bounds`] (n=seeds)' over
    per-seed scores; one seed has no spread to show ('mean (n=1)'); 'not run' when empty."""
    if scores.empty:
        return "not run"
    scores = scores.dropna()  # e.g. steps when reached, for a seed that never arrived
    if scores.empty:
        return "-"
    if len(scores) == 1:
        return f"{fixed(scores.mean())} (n=1)"
    return (f"{fixed(scores.mean())} ± {scores.std(ddof=1):.1f} "
            f"{interval_text(scores.to_numpy(), bounds=bounds)} (n={len(scores)})")


# the caption's words for mean_std_cell's format; INTERVAL_NOTE, a footnote, says the rest
SPREAD = "mean ± sample std [95% t interval of the mean] (n)"
INTERVAL_NOTE = f"Intervals: {INTERVAL}; one seed has none."


def seeds_phrase(runs: pd.DataFrame) -> str:
    """How many training seeds a table's cells have: 'one training seed per cell', '5 training
    seeds per cell', '1 to 5 ...'; '' without runs. A cell is one method on one dataset, reward
    variant and set of overrides."""
    if runs.empty:
        return ""
    keys = [k for k in ("domain", "task", "dataset", "variant", "algo", "overrides")
            if k in runs.columns]
    counts = runs.groupby(keys, dropna=False)["seed"].nunique()
    low, high = int(counts.min()), int(counts.max())
    if high == 1:
        return "one training seed per cell"
    return f"{low if low == high else f'{low} to {high}'} training seeds per cell"


def cells_phrase(runs: pd.DataFrame) -> str:
    """What a table's cells of ours are, with how many training seeds, for its opening."""
    seeds = seeds_phrase(runs)
    if not seeds:
        return "no runs yet"
    if seeds.startswith("one "):
        return f"{seeds}, so each cell is one run's score (n=1), with no interval"
    return f"{seeds}, each cell their {SPREAD}"


def data_phrase(runs: pd.DataFrame, generated: str, published: str) -> str:
    """Which data a table's runs trained on, by the routes they recorded: `generated` when all
    of it was made here, `published` when none was, else both, named row by row in the 'Data
    used' column."""
    if runs.empty:
        return "the data the runs will record (none yet)"
    if "data_route" not in runs.columns:  # runs given without their routes (tests)
        return "the data each domain's table names"
    routes = set(runs["data_route"])
    if routes == {"generated"}:
        return generated
    if "generated" not in routes:
        return published
    return f"{published} or {generated}, as the 'Data used' column says"


def data_words(runs: pd.DataFrame) -> str:
    """`data_phrase` for a table over several domains."""
    return data_phrase(runs, "data generated here", "published data")


def source_label(domain: str, task: str, dataset: str, rows: pd.DataFrame) -> str:
    """Where a table row's data comes from, for the 'Data used' column: by the route its runs
    recorded (`data_route`; a row without runs: its registered dataset's route)."""
    spec = registry.find_dataset(domain, task, dataset)
    route = rows["data_route"].iloc[0] if not rows.empty else spec.route
    return "generated here" if route == "generated" else spec.source


def data_cell(rows: pd.DataFrame) -> str:
    """'mean / best episode' score of the training data, as recorded by its runs."""
    if rows.empty or rows["data_score_mean"].isna().all():
        return "-"
    first = rows.dropna(subset=["data_score_mean"]).iloc[0]
    return f"{first['data_score_mean']:.1f} / {first['data_score_max']:.1f}"


def best_target_cell(rows: pd.DataFrame) -> str:
    """Our cell at DT's highest target return (the paper's); the only row for baselines."""
    if rows.empty:
        return "not run"
    runs = headline(rows)
    cell = mean_std_cell(runs["score_mean"], score_range(rows["domain"].iloc[0]))
    if (runs["evaluations"] > 1).any():  # evaluated during training
        best = f"{runs['best_score_mean'].mean():.1f}"
        cell = f"{cell}; best {best}"
    return cell + code_mark(rows)


def budget_phrase(domain_name: str, profile: str) -> str:
    """What each method is given: gradient steps and batches (their kinds differ: DT's are
    context windows, the baselines' transitions)."""
    s = registry.get_domain(domain_name).settings[profile]
    t, b = s.train, s.baseline
    steps = (f"every method {t.steps:,} gradient steps" if t.steps == b.steps else
             f"DT {t.steps:,} and the baselines {b.steps:,} gradient steps")
    return (f"{steps}, DT's batch {t.batch_size} windows of K={s.model.context_len} steps, the "
            f"baselines' {b.batch_size} transitions (results/budgets.md)")


# settings that change how often things are logged or saved, not what is measured
_BOOKKEEPING = {"train.log_every", "train.checkpoint_every", "baseline.log_every"}


def settings_note(domain_name: str, profile: str) -> str:
    """A table's Settings footnote for one domain: evaluation episodes, each method's budget,
    and every setting where `profile` departs from the domain's `paper` profile (task-level
    overrides such as Pong's K included; target returns are shared by both)."""
    domain = registry.get_domain(domain_name)
    s = domain.settings[profile]
    head = (f"Settings, {domain_name} (profile `{profile}`): {s.eval.episodes} evaluation "
            "episodes per run and target with the same reset seeds for every method; "
            f"{budget_phrase(domain_name, profile)}")
    # the paper gave no settings for some domains: their `paper` profile is ours
    whose = "paper" if domain.paper_gave_settings else "our paper profile"
    if profile == "paper":
        return head + ("; the paper's settings." if domain.paper_gave_settings else
                       "; our paper profile (the paper gives no settings for this task).")
    diffs = _diffs(s, domain.settings["paper"], whose)
    for task in domain.tasks.values():  # per-task paper settings (e.g. Pong's K and batch)
        keys = {**task.profile_overrides.get("paper", {}),
                **task.profile_overrides.get(profile, {})}
        if keys:
            mine, theirs = domain.settings_for(task, profile), domain.settings_for(task, "paper")
            more = [d for d in _diffs(mine, theirs, whose) if d.split(" ")[0] in keys]
            if more:
                diffs.append(f"on {task.name}: {', '.join(more)}")
    reference = ("the paper's settings" if domain.paper_gave_settings else
                 "our paper profile (the paper gives no settings for this task)")
    if not diffs:
        return head + f"; equal to {reference}."
    return head + f"; departs from {reference} in: {'; '.join(diffs)}."


def settings_notes(domains: Sequence[str], profile: str) -> str:
    """Settings footnotes for a table over several domains, one paragraph each (a table
    whose domains come from its rows, before it has any, says so)."""
    if not domains:
        return "Settings: those of each row's domain, listed here once the table has rows."
    return "\n".join(settings_note(d, profile) for d in domains)


def _diffs(ours_settings: Settings, paper_settings: Settings, whose: str) -> list[str]:
    ours, paper = ours_settings.to_dict(), paper_settings.to_dict()
    return [f"{section}.{name} {value} ({whose} {paper[section][name]})"
            for section, fields in ours.items() for name, value in fields.items()
            if value != paper[section][name] and f"{section}.{name}" not in _BOOKKEEPING]


# Which BC a column is: d3rlpy's (s -> a) BC (`bc`, `bc10`, ...) or the paper's own BC as
# dtbench runs it (`bc-paper`, `bc10-paper`, ...); the paper's columns are always its own
BC_NOTE = ("Whose BC each of our columns is: 'd3rlpy BC' is d3rlpy's (s -> a) BC (`bc`, "
           "`bc10`, ...); '[bc-paper]' columns are the paper's own BC as dtbench runs it "
           "(`bc-paper`, `bc10-paper`, ...: the K-state MLP on Gym, DT without returns on "
           "Atari); the paper's BC columns are its own BC.")


def bc_kind(algo: str) -> str:
    return "paper" if algo.endswith("-paper") else "d3rlpy"


def grid_algos(grid: Grid) -> set[str]:
    """Every algorithm a grid runs, its parts' included."""
    return set(grid.algos).union(*(grid_algos(part) for part in grid.parts))


def shown_columns(runs: pd.DataFrame, domain_name: str, profile: str,
                  columns: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Our (algorithm, label) columns a table shows: every non-BC column, and the BC columns
    of each kind (d3rlpy's, the paper's) that the profile's grid runs or that have runs."""
    ran = set(runs["algo"]) if not runs.empty else set()
    planned = grid_algos(registry.get_domain(domain_name).grid(profile))
    kinds = {bc_kind(a) for a in ran | planned if a.startswith("bc")}
    return [c for c in columns if not c[0].startswith("bc") or bc_kind(c[0]) in kinds]


def stand_in_note(runs: pd.DataFrame, domain_name: str, profile: str) -> str:
    """A caption sentence when a grid on published data (`Grid.real_data`) ran on data
    generated here for some rows (`--allow-stand-in-data`); "" otherwise."""
    grid = registry.get_domain(domain_name).grids.get(profile)
    if runs.empty or grid is None or not grid.real_data:
        return ""
    generated = sorted(set(runs.loc[runs["data_route"] == "generated", "dataset"]))
    if not generated:
        return ""
    return ("STAND-IN DATA: the rows whose 'Data used' is 'generated here' "
            f"({', '.join(generated)}) ran the `{profile}` grid on data generated by dtbench "
            "(--allow-stand-in-data), not the paper's data; they are not the paper's experiment.")


def data_sources(runs: pd.DataFrame, task: str, name: str | None = None,
                 fallback: str = "-") -> list[tuple[str, pd.DataFrame]]:
    """A table row's runs split by the dataset that produced them: (dataset, runs) for each
    dataset that stands for `name` (made here, from D4RL, from Minari: `collected.stands_for`),
    or for every dataset of the task when `name` is None; one (name or fallback, no runs) when
    none ran."""
    mine = runs[runs["task"] == task] if not runs.empty else runs
    if name is not None and not mine.empty:
        mine = mine[stands_for(mine) == name]
    if mine.empty:
        return [(name or fallback, mine)]
    return [(ds, mine[mine["dataset"] == ds]) for ds in sorted(set(mine["dataset"]))]


def algo_cells(rows: pd.DataFrame, algos: list[str]) -> list[str]:
    """One cell per algorithm, from a table row's runs."""
    return [best_target_cell(rows[rows["algo"] == a] if not rows.empty else rows)
            for a in algos]
