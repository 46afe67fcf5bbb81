"""Reports: rebuilt from stored runs identically; aggregates agree with rliable; empty tables
say how to fill them."""

import dataclasses
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rliable import metrics

from dtbench.contract import overrides_label
from dtbench.domains.keydoor import make_dataset
from dtbench.launchers import launch
from dtbench.report import aggregates, stats
from dtbench.report.build import TABLES, build
from dtbench.report.collected import Collected
from dtbench.suite import Choice, expand


def test_batched_metrics_are_rliables():
    rng = np.random.default_rng(0)
    for runs, tasks in ((1, 9), (3, 2), (5, 4)):
        x = rng.normal(50, 20, size=(runs, tasks))
        y = np.round(rng.normal(50, 20, size=(runs + 1, tasks)))
        assert aggregates.iqm(x) == pytest.approx(metrics.aggregate_iqm(x))
        assert aggregates.mean(x) == pytest.approx(metrics.aggregate_mean(x))
        ties = np.round(x / 10)
        assert aggregates.probability_of_improvement(ties, np.round(y / 10)) == pytest.approx(
            metrics.probability_of_improvement(ties, np.round(y / 10)))
        batch = np.stack([x, 2 * x])  # leading axes are bootstrap samples
        assert aggregates.iqm(batch) == pytest.approx([metrics.aggregate_iqm(x),
                                                       metrics.aggregate_iqm(2 * x)])


def test_stratified_resampling_stays_within_each_task():
    m = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]])
    samples = stats.resample(m, np.random.default_rng(0), reps=200)
    assert samples.shape == (200, 3, 2)
    assert set(np.unique(samples[..., 0])) == {1.0, 2.0, 3.0}  # task 0 draws task 0's runs
    assert set(np.unique(samples[..., 1])) == {10.0, 20.0, 30.0}


def test_report_of_no_runs_says_which_target_fills_each_table(tmp_path):
    old = tmp_path / "figures" / "scores-mujoco.png"  # drawn from runs since set aside
    old.parent.mkdir()
    old.write_bytes(b"old drawing")
    lines = build(tmp_path, "quick")
    assert not old.exists()
    for name in TABLES:
        text = (tmp_path / f"{name}.md").read_text()
        if name == "budgets":  # made from the registered settings, never from runs
            assert "| keydoor | quick | CQL | 8,000 |" in text and "(10 syncs)" in text
            assert "| atari | paper | CQL | 19,531 (pong: 4,882) |" in text
            continue
        assert "No runs stored yet: `make" in text, name
        assert (tmp_path / "tables" / f"{name}.tex").read_text().startswith("\\begin{table}")
    assert any("figure scores-mujoco: no runs yet (make mujoco)" in line for line in lines)
    assert "no runs yet: `make atari`" in (tmp_path / "README.md").read_text()


def test_a_named_table_brings_its_figure_of_the_same_name_and_no_other(tmp_path):
    """`dtbench report mujoco-bench-curves` draws the tier's curves figure with its table
    (here: none to draw, so an old drawing goes), and leaves every other figure alone."""
    old = tmp_path / "figures" / "mujoco-bench-curves.png"
    other = tmp_path / "figures" / "scores-mujoco.png"
    old.parent.mkdir()
    old.write_bytes(b"old drawing")
    other.write_bytes(b"another figure")
    lines = build(tmp_path, "quick", ["mujoco-bench-curves"])
    assert "figure mujoco-bench-curves: no runs yet (make mujoco-bench-curves mujoco-bench)" \
        in lines
    assert not old.exists() and other.exists()
    assert not any(line.startswith("figure scores-") for line in lines)


def test_report_rebuilds_byte_identically_from_stored_runs(isolated_minari, tmp_path):
    make_dataset("random-1k")
    k1 = expand("keydoor", "smoke", Choice(algos=("dt",),
                                           overrides={"model.context_len": "1"}))
    sweep = expand("keydoor", "smoke", Choice(algos=("dt",),
                                              overrides={"eval.target_sweep": "3"}))
    launch(expand("keydoor", "smoke") + k1 + sweep, tmp_path, progress=False)
    build(tmp_path, "smoke")
    generated = sorted(p for p in tmp_path.rglob("*") if p.is_file() and "runs" not in
                       p.relative_to(tmp_path).parts[:1])
    first = {p: p.read_bytes() for p in generated}
    build(tmp_path, "smoke")
    for path, content in first.items():
        if path.suffix != ".png":  # PNG pixels may differ across font caches; the rest may not
            assert path.read_bytes() == content, path
    names = {p.name for p in generated}
    assert {"runs.csv", "keydoor.md", "aggregates.md", "aggregates.csv", "README.md",
            "scores-keydoor.png", "scores-keydoor.pdf", "aggregates.png",
            "probability-of-improvement.png", "learning-curves.png", "context.md",
            "context-length.png"} <= names
    table = (tmp_path / "keydoor.md").read_text()
    # the DT (ours) cell of the 1K row: mean ± sample std of our 2 smoke seeds and the
    # t interval of the mean (two seeds: 12.7 standard errors either side)
    runs = pd.read_csv(tmp_path / "runs.csv")
    dt = runs[(runs["algo"] == "dt") & runs["overrides"].isna()]["score_mean"]
    row = next(line for line in table.splitlines() if line.startswith("| 1K")).split(" | ")
    from dtbench.report.stats import fixed

    half = 12.706 * dt.std(ddof=1) / np.sqrt(2)
    spread = (f"[all 2 at {dt.iloc[0]:.1f}]" if dt.nunique() == 1 else
              f"[{fixed(dt.mean() - half)}, {fixed(dt.mean() + half)}]")
    assert row[1] == f"{dt.mean():.1f} ± {dt.std(ddof=1):.1f} {spread} (n=2)", row[1]
    assert row[6] == "71.8"
    context = (tmp_path / "context.md").read_text()  # the K=1 ablation beside K=30
    row = next(line for line in context.splitlines() if line.startswith("| keydoor"))
    assert row.count("(n=2)") == 2 and "| 30 |" in row
    assert "model.context_len=1" in (tmp_path / "runs.csv").read_text()
    # (the DT cell's n=2 above also shows the K=1 and sweep ablations stay out of it)
    # targets 0, 0.75, 1.5 ask 0%, 75% and (at most) 100% success
    swept = (tmp_path / "target-sweep.md").read_text()
    sweeps = runs[runs["eval.target_sweep"].notna()].groupby("target_return")["score_mean"]
    achieved = sweeps.mean()  # per target, over the 2 seeds
    assert (f"| keydoor | keydoor | random-1k | generated here | 0.0 to 100.0 (3) | "
            f"{achieved.min():.1f} to {achieved.max():.1f} |") in swept
    # each target's mean over the 2 seeds with its t interval (the text stats.mean_interval
    # writes, tested on its own)
    from dtbench.report.stats import mean_interval

    per_target = "; ".join(f"{100 * min(t / 1.0, 1.0):.1f}: {mean_interval(v.to_numpy())}"
                           for t, v in sweeps)
    row = next(line for line in swept.splitlines() if line.startswith("| keydoor | keydoor |"))
    assert row.endswith(f"| {per_target} |"), swept
    summary = (tmp_path / "aggregates.md").read_text()
    assert "| keydoor  | IQM      | dt" in summary and "| keydoor  | bc" in summary


def test_the_d4rl_table_has_reacher_rows_and_an_average_over_the_nine_cells():
    from dtbench.report.d4rl import OURS, ROWS, TASKS, _average_row, d4rl_table

    ALGOS = OURS[:4]  # DT, CQL, d3rlpy's BC and 10%BC

    rows = [{"domain": "mujoco", "task": task, "dataset": name, "variant": "dense", "algo": algo,
             "overrides": "", "profile": "quick", "seed": 0, "target_return": None,
             "score_mean": float(i)}
            for i, (name, task) in enumerate((n, t) for n in ROWS for t in TASKS)
            for algo in ("dt", "cql")]
    runs = pd.DataFrame(rows)
    average = _average_row(runs, ALGOS)
    assert average[4:6] == [f"{np.mean(range(9)):.1f}"] * 2  # DT, CQL: all nine cells ran
    assert average[6:8] == ["-", "-"]  # BC, 10%BC: none ran
    assert average[8:11] == ["74.7", "63.9", "47.7"]  # the paper's, apart
    assert _average_row(runs.iloc[2:], ALGOS)[4] == "-"  # eight cells are not an average
    table = d4rl_table(Collected.of_table(pd.DataFrame(), "quick")).markdown()
    assert table.count("| reacher | - | - | not run: no released Reacher data |") == 3


def test_bc_columns_are_the_kinds_the_profile_runs_or_that_ran():
    """Quick grids run d3rlpy's BC, paper grids the paper's own: a table shows the BC columns
    of the kind its profile's grid runs, and any kind that has runs, each labelled."""
    from dtbench.report.cells import shown_columns
    from dtbench.report.d4rl import OURS, d4rl_table

    quick = d4rl_table(Collected.of_table(pd.DataFrame(), "quick")).header
    paper = d4rl_table(Collected.of_table(pd.DataFrame(), "paper")).header
    assert "d3rlpy BC (ours)" in quick and not any("bc-paper" in h for h in quick)
    assert "BC [bc-paper] (ours)" in paper and not any("d3rlpy" in h for h in paper)
    assert "BC (paper)" in quick and "BC (paper)" in paper  # the paper's own BC, always
    ran = pd.DataFrame({"algo": ["dt", "bc-paper"]})  # a user ran bc-paper on quick
    assert [a for a, _ in shown_columns(ran, "mujoco", "quick", OURS)] == [
        "dt", "cql", "bc", "bc10", "bc-paper", "bc10-paper"]


def test_t_interval_welch_and_holm_hold_at_few_seeds():
    """The tables' interval is Student's t interval of the mean; a claim is Welch's t-test
    with its interval of the difference, Holm-corrected over a family: a difference that one
    test alone would claim is not claimed among many."""
    from scipy import stats

    from dtbench.report.stats import holm, t_interval, welch

    assert t_interval([5.0]) == (5.0, 5.0)
    low, high = t_interval([1.0, 2.0, 3.0, 4.0, 5.0])  # 3 +- t(0.975, 4) sqrt(2.5 / 5)
    assert np.isclose(high - 3.0, 2.7764 * np.sqrt(0.5), atol=1e-3) and np.isclose(low, 6 - high)
    a, b = [10.0, 11, 12, 11, 10], [8.0, 9, 10, 9, 9.5]
    d = welch(a, b)
    assert np.isclose(d.p, stats.ttest_ind(a, b, equal_var=False).pvalue)
    assert d.low < d.diff < d.high and d.low > 0 and d.p < 0.05  # resolved alone
    assert holm([d.p] * 10)[0] > 0.05  # not among ten such claims
    assert holm([0.01, 0.04, 0.03]) == [0.03, 0.06, 0.06]
    assert welch([1.0], [2.0, 3.0]).p is None  # one seed: nothing to test
    assert welch([96.8] * 5, [96.8] * 5).why_untested == "no spread on either side"


def test_a_rates_interval_stays_inside_0_to_100():
    """Seeds near the top of a rate give a t interval past 100, which the mean cannot reach:
    the cells of a bounded domain clip it, and an unbounded domain's (D4RL) do not."""
    from dtbench.report.cells import mean_std_cell, score_range
    from dtbench.report.stats import t_interval

    near_top = [100.0, 100.0, 90.0, 100.0, 100.0]
    assert t_interval(near_top)[1] > 100  # unclipped
    assert t_interval(near_top, bounds=(0.0, 100.0))[1] == 100.0
    assert score_range("keydoor") == score_range("graph") == (0.0, 100.0)
    assert score_range("mujoco") is None
    assert mean_std_cell(pd.Series(near_top), score_range("keydoor")).endswith(", 100.0] (n=5)")
    assert not mean_std_cell(pd.Series(near_top), score_range("mujoco")).endswith(
        ", 100.0] (n=5)")


def test_cells_never_print_a_negative_zero():
    """A score that rounds to zero prints without a sign ('-0.0' reads as a negative score)."""
    from dtbench.report.cells import mean_std_cell
    from dtbench.report.stats import fixed

    assert fixed(-0.04) == "0.0" and fixed(-0.004, 2) == "0.00" and fixed(-0.06) == "-0.1"
    assert mean_std_cell(pd.Series([-0.01])) == "0.0 (n=1)"
    assert mean_std_cell(pd.Series([-0.02, 0.0, 0.01])).startswith("0.0 ± 0.0 [0.0, 0.0]")
    from dtbench.report.stats import mean_interval  # the claims, sweep and critic cells' text

    assert mean_interval([5.0]) == "5.0"  # one seed: no interval
    assert mean_interval([-0.001, 0.0, 0.001], 2) == "0.00 [0.00, 0.00]"


def test_the_claims_table_claims_only_what_welch_and_holm_resolve():
    import dtbench.report.claims as claims
    from dtbench.report.keydoor import solvable_share

    def runs(algo, scores):
        return [{"domain": "keydoor", "task": "keydoor", "dataset": "random-10k",
                 "variant": "dense", "algo": algo, "seed": seed, "profile": "quick",
                 "overrides": "", "target_return": 1.0 if algo == "dt" else None,
                 "score_mean": score, "data_digest": "a"} for seed, score in enumerate(scores)]

    ceiling = solvable_share("quick")
    table = pd.DataFrame(runs("dt", [90, 95, 92, 97, 94]) + runs("cql", [2, 1, 3, 2, 1])
                         + runs("bc10", [80, 99, 85, 96, 90])
                         + [{**row, "dataset": "random-1k"} for row in
                            runs("dt", [ceiling] * 5) + runs("bc", [ceiling] * 5)]
                         + [{**runs("dt", [50])[0], "domain": "mujoco", "task": "hopper"}]
                         # a cell whose CQL ran on another generation of the data
                         + [{**row, "dataset": "random-100"} for row in runs("dt", [90, 95, 92])]
                         + [{**row, "dataset": "random-100", "data_digest": "b"}
                            for row in runs("cql", [2, 1, 3])])
    rows = claims.claims_table(Collected.of_table(table, "quick")).rows
    verdicts = {(row[1], row[3]): row[9] for row in rows}
    assert verdicts == {("random-10k", "CQL"): "DT higher",
                        ("random-10k", "d3rlpy 10%BC"): "not resolved",
                        ("random-1k", "d3rlpy BC"): "both at the ceiling",
                        ("random-100", "CQL"): "not tested (the sides ran on different data: "
                                               "two generations of it)"}
    assert all(row[0] == "keydoor/keydoor" for row in rows)  # MuJoCo quick: pipeline check
    cql = next(row for row in rows if row[1:4:2] == ["random-10k", "CQL"])
    assert cql[6].startswith("91.8 [") and float(cql[8]) < 0.05  # the difference, Holm p


def test_the_mujoco_tier_reads_exactly_its_grids_runs_and_keeps_the_curve_probe_apart(
        tmp_path):
    """The tier's tables read the runs its named grids make, found by their folders: the
    `bench` grid's seeds fill the tier table and the claims, the `bench-curves` probe (seed
    100) the curves table; a run of another budget (another folder) belongs to neither. The
    paper's Table 2 stands beside each method of the same kind."""
    import dtbench.report.claims as claims
    import dtbench.report.mujoco_bench as tier
    from dtbench.suite import Choice, expand, expand_tuning

    rows = []
    bases = {"dt": 40.0, "cql": 10.0, "bc": 20.0, "bc10": 30.0, "bc-paper": 25.0,
             "bc25": 38.0, "bc40": 39.0}
    specs = [*expand("mujoco", "paper", Choice(grid="bench")),
             *expand("mujoco", "paper", Choice(grid="bench-curves"))]
    stray = expand("mujoco", "paper", Choice(grid="bench", seeds=(0,),
                                             overrides={"train.steps": 500}))[0]
    probe = expand_tuning("mujoco", "paper", "bench")[0]
    for spec in [s for s in specs if s.dataset == "bench-medium-replay"] + [stray, probe]:
        folder = spec.folder(Path()).as_posix()
        (tmp_path / folder).mkdir(parents=True)
        target = 3600.0 if spec.algo == "dt" else None
        steps = dict(spec.overrides)["train.steps"]
        score = bases[spec.algo] + spec.seed % 3 + (50 if spec is stray else 0)
        pd.DataFrame({"step": [steps // 2, steps], "target_return": [target] * 2,
                      "score_mean": [bases[spec.algo] / 2, score]}).to_csv(
            tmp_path / folder / "curve.csv", index=False)
        rows.append({"domain": "mujoco", "task": "hopper", "dataset": spec.dataset,
                     "variant": "dense", "algo": spec.algo, "seed": spec.seed,
                     "profile": "paper", "overrides": "x", "folder": folder,
                     "target_return": target, "score_mean": score,
                     "best_score_mean": score + 1, "score_label": "D4RL normalised",
                     "code_current": True, "data_score_mean": 1.4, "data_score_max": 7.0,
                     "train.steps": steps, "train_seconds": 1500.0, "eval_seconds": 300.0,
                     "data_digest": "ab" * 32})
        made = {"budget": "bench", "sac_steps": 300_000, "seed": 0, "expert_return": 2512.3,
                "expert_step": 290_000, "medium_return": 830.0, "medium_step": 40_000,
                "wall_seconds": 5400.0, "sac_seconds": 5000.0}
        (tmp_path / folder / "config.json").write_text(
            json.dumps({"dataset": {"provenance": made}}))
    collected = Collected.of_table(pd.DataFrame(rows), "quick", tmp_path)

    table = tier.tier_table(collected)
    replay = table.rows[5:10]  # the second dataset's five methods
    assert [r[2] for r in replay] == ["DT", "CQL", "d3rlpy BC", "d3rlpy 10%BC", "BC [bc-paper]"]
    assert replay[0][:2] == ["hopper medium-replay", "1.4 / 7.0"]
    # seeds 0-4 score base + (0, 1, 2, 0, 1): mean base + 0.8, the stray run left out
    assert replay[0][3].startswith("40.8 ± 0.8 [") and replay[0][3].endswith("(n=5)")
    assert replay[0][4].startswith("41.8 ± 0.8")  # best during training
    assert [r[5] for r in replay] == ["82.7 ± 7.0", "48.6", "-", "70.6", "27.6"]
    assert table.rows[0][3] == "not run"  # no runs on bench-medium
    tasks, data, compute = table.notes[-3:]
    # the tasks it runs, and those whose bench data it leaves out with their floors
    assert tasks.startswith("Tasks: hopper. The bench budget also makes halfcheetah's and "
                            "walker2d's data") and "(halfcheetah 5,000, walker2d 2,500:" in tasks
    assert data.startswith("Data (hopper): made here by `dtbench data make mujoco/hopper "
                           "--budget bench`, SAC for 300,000 steps (budget bench, seed 0): "
                           "expert 2,512 at step 290,000, medium 830 at step 40,000; 1.50 h "
                           "wall (1.39 h of SAC)")
    assert "medium-replay abababababab" in data
    # 30 minutes a run: 5 curve runs, 1 probe, 35 tier runs on medium-replay (7 methods x 5
    # seeds; the stray run is none of them)
    assert ("learning curves (5 runs) 2.5 h, tuning probes (1 run) 0.5 h, tier runs (35 runs) "
            "17.5 h, generating hopper's data 1.5 h; 22.0 core-hours in all") in compute
    probes = {row[1]: row for row in tier.curves_table(collected).rows}
    assert set(probes) == {"DT", "CQL", "d3rlpy BC", "d3rlpy 10%BC", "BC [bc-paper]"}
    # two evaluations are too few for a level of three: no rise, no plateau step
    assert probes["DT"][2:] == ["15k: 20.0, 30k: 41.0", "41.0", "41.0 (30k)", "-", "-"]
    verdicts = {row[3]: row[9] for row in claims.claims_table(collected).rows
                if "benchmark tier" in row[0]}
    assert verdicts == {"CQL": "DT higher", "d3rlpy BC": "DT higher",
                        "d3rlpy 10%BC": "DT higher", "BC [bc-paper]": "DT higher",
                        "d3rlpy 25%BC": "DT higher", "d3rlpy 40%BC": "not resolved"}
    assert [p.name for p in tier.tier_curves(collected, tmp_path / "f")] == [
        "mujoco-bench-curves.png", "mujoco-bench-curves.pdf"]
    # CQL's seed 0 trained on another generation of the data: said, and its claim not tested
    mixed = pd.DataFrame(rows)
    mixed.loc[(mixed["algo"] == "cql") & (mixed["seed"] == 0), "data_digest"] = "cd" * 32
    mixed = Collected.of_table(mixed, "quick", tmp_path)
    assert ("The tier's runs on medium-replay used 2 generations of its data"
            in tier.tier_table(mixed).notes[-2])
    verdicts = {row[3]: row[9] for row in claims.claims_table(mixed).rows
                if "benchmark tier" in row[0]}
    assert verdicts["CQL"].startswith("not tested (the sides ran on different data")
    assert verdicts["d3rlpy BC"] == "DT higher"
    # the curves and the probe on another generation than the tier's runs: said, the tier's
    # own digests listed apart
    held = pd.DataFrame(rows)
    tuning = {s.folder(Path()).as_posix()
              for s in [*expand("mujoco", "paper", Choice(grid="bench-curves")), probe]}
    held.loc[held["folder"].isin(tuning), "data_digest"] = "ef" * 32
    held = Collected.of_table(held, "quick", tmp_path)
    assert tier.tuned_on_other_data(held) == {"hopper": {"medium-replay": ["ef" * 32]}}
    assert tier.tuned_on_other_data(collected) == {}
    note = tier.tier_table(held).notes[-2]
    assert "data digests medium-replay abababababab (another" in note
    assert ("The learning curves and tuning probes ran on another generation of the recipe "
            "(medium-replay efefefefefef): the step budget and the settings were chosen on "
            "data the tier's runs do not train on.") in note
    assert "generation of the recipe" not in data  # one generation throughout


def test_the_mujoco_tier_says_which_methods_its_steps_stop_before_they_level_off(tmp_path):
    """The tier table's budget note reads each method's learning curve: a flat one, one that
    had 90% of its gain within the tier's steps, and one whose curve levels off later, or is
    still rising at its end, named as understated."""
    import dtbench.report.mujoco_bench as tier
    from dtbench.domains.mujoco.profiles import BENCH_STEPS, CURVE_STEPS
    from dtbench.suite import Choice, expand

    # 10 evaluations over the curve's steps: the third within the tier's budget, the seventh
    # beyond it
    steps = [CURVE_STEPS * i // 10 for i in range(1, 11)]
    assert steps[2] <= BENCH_STEPS < steps[6]
    shapes = {"dt": [10, 30, 50, 52, 51, 52, 50, 51, 52, 51],  # levelled off by the third
              "cql": [10, 10, 11, 10, 12, 11, 60, 61, 60, 60],  # levels off at the seventh
              "bc": [5, 10, 15, 20, 25, 30, 35, 40, 45, 50],  # still rising at the end
              "bc-paper": [20, 30, 10, 25, 15, 22, 18, 30, 12, 20]}  # flat: noise only
    rows = []
    for spec in expand("mujoco", "paper", Choice(grid="bench-curves")):
        if spec.algo not in shapes:
            continue
        folder = spec.folder(Path()).as_posix()
        (tmp_path / folder).mkdir(parents=True)
        target = 3600.0 if spec.algo == "dt" else None
        pd.DataFrame({"step": steps, "target_return": target, "score_mean": shapes[spec.algo]}
                     ).to_csv(tmp_path / folder / "curve.csv", index=False)
        rows.append({"domain": "mujoco", "task": "hopper", "dataset": spec.dataset,
                     "variant": "dense", "algo": spec.algo, "seed": spec.seed,
                     "profile": "paper", "overrides": "x", "folder": folder,
                     "target_return": target, "score_mean": shapes[spec.algo][-1],
                     "score_label": "D4RL normalised", "code_current": True})
    note = tier.budget_note(Collected.of_table(pd.DataFrame(rows), "quick", tmp_path))
    assert note == (f"Budget: {BENCH_STEPS:,} steps, against each method's learning curve at "
                    f"its authors' settings (the curves ran before the tuning): flat within "
                    f"its evaluations' noise: BC [bc-paper]; 90% of its gain within "
                    f"the budget: DT ({steps[2]:,}); not levelled off by {BENCH_STEPS:,}, so the "
                    f"tier understates it: d3rlpy BC (still rising at the curve's end), CQL "
                    f"({steps[6]:,}).")
    collected = Collected.of_table(pd.DataFrame(rows), "quick", tmp_path)
    assert tier.tier_short_budget(collected) == ["d3rlpy BC", "CQL"]  # the claims' caveat


def test_the_mujoco_tiers_pbc_targets_and_delayed_tables_read_their_runs(tmp_path):
    """Table 3, Figure 4 and Table 7 on the tier's data: %BC's fractions beside DT on
    medium-replay, DT's achieved score at each of its targets (the per-seed slope tested
    against 0) and the delayed grid's DT and CQL beside the tier's dense runs of the cell,
    whose DT-against-CQL difference the claims table tests."""
    import dtbench.report.claims as claims
    import dtbench.report.mujoco_bench as tier
    from dtbench.suite import Choice, expand

    bases = {"dt": 40.0, "cql": 10.0, "bc": 20.0, "bc10": 30.0, "bc-paper": 25.0,
             "bc25": 33.0, "bc40": 35.0}
    specs = [s for s in expand("mujoco", "paper", Choice(grid="bench"))
             if s.dataset == "bench-medium-replay"]
    specs += expand("mujoco", "paper", Choice(grid="bench-delayed"))
    rows = []
    for spec in specs:
        folder = spec.folder(Path()).as_posix()
        targets = dict(spec.overrides).get("eval.target_returns", (3600.0,)) \
            if spec.algo == "dt" else (None,)
        delayed = spec.variant == "delayed"
        for target in targets:
            # DT follows its target (score about target / 50); delayed: DT 38, CQL 3
            score = ((target / 50 if target != 3600.0 else bases["dt"]) if spec.algo == "dt"
                     else bases[spec.algo]) + spec.seed % 3
            if delayed:
                score = (38.0 if spec.algo == "dt" else 3.0) + spec.seed % 3
            rows.append({"domain": "mujoco", "task": "hopper", "dataset": spec.dataset,
                         "variant": spec.variant, "algo": spec.algo, "seed": spec.seed,
                         "profile": "paper", "overrides": "x", "folder": folder,
                         "target_return": target, "score_mean": score,
                         "best_score_mean": score + 1, "score_label": "D4RL normalised",
                         "code_current": True, "data_score_mean": 1.4, "data_score_max": 7.0,
                         "evaluations": 10, "train.steps": 10_000, "data_route": "generated"})
    collected = Collected.of_table(pd.DataFrame(rows), "quick", tmp_path)

    pbc = tier.pbc_table(collected)
    assert len(pbc.rows) == 1 and pbc.rows[0][:2] == ["hopper medium-replay", "1.4 / 7.0"]
    assert [c.split(" ±")[0] for c in pbc.rows[0][2:7]] == ["40.8", "30.8", "33.8", "35.8",
                                                             "20.8"]
    assert pbc.rows[0][7:] == ["82.7 ± 7.0", "70.6", "58.6", "31.0", "27.6"]

    targets = tier.targets_table(collected).rows
    assert len(targets) == 1 and targets[0][2] == "600, 1,200, 1,800, 2,400, 3,000, 3,600"
    assert targets[0][-1] == "achieved rises with the target"

    delayed = tier.delayed_table(collected).rows
    # the dense side on the delayed grid's seeds only (0-2 of the tier's 0-4: base + 1.0)
    assert [c.split(" ±")[0] for c in delayed[0][2:6]] == ["39.0", "4.0", "41.0", "11.0"]
    assert delayed[0][6:] == ["78.5 ± 3.7", "2.0", "82.7", "48.6"]
    cells = {(row[2], row[3]): row[9] for row in claims.claims_table(collected).rows
             if "benchmark tier" in row[0]}
    assert cells[("delayed", "CQL")] == "DT higher"
    assert [p.name for p in tier.tier_targets(collected, tmp_path / "f")] == [
        "mujoco-bench-targets.png", "mujoco-bench-targets.pdf"]


def test_a_curve_levels_off_where_its_rise_is_beyond_its_noise():
    import dtbench.report.mujoco_bench as tier

    curve = pd.DataFrame({"step": [1, 2, 3, 4, 5], "score_mean": [0.0, 9.5, 8.0, 10.0, 12.0]})
    assert tier.gain_step(curve) == 2  # level 10 (last three), 90% of the gain: 9
    assert tier.gain_step(curve.assign(score_mean=[5.0, 4, 3, 2, 1])) == 1  # no gain
    assert tier.gain_step(curve.head(3)) is None
    # noise: median successive change 2.0, over 0.954: 2.1; rise 10 beyond twice that
    assert tier.rise_cell(curve) == "+10.0 (noise 2.1)"
    # a blip at 18k is not a rise (median change 0.2)
    blip = pd.DataFrame({"step": range(2000, 22000, 2000), "score_mean": [
        1.4, 1.3, 1.3, 1.3, 1.5, 1.2, 1.1, 1.4, 2.1, 1.3]})
    assert not tier.learns(blip) and tier.gain_step(blip) == 2000
    assert tier.rise_cell(blip) == "+0.2 (noise 0.2): flat"
    # flat at 0 until 9k, then up: a rise, not levelled off by the end
    late = pd.DataFrame({"step": range(1000, 11000, 1000),
                         "score_mean": [0.0] * 8 + [11.1, 8.3]})
    assert tier.learns(late) and tier.still_rising(late)
    assert tier.gain_step_cell(late) == "9,000 (still rising at the end)"
    assert tier.gain_step_cell(curve) == "2"  # levelled off before its last three


def test_the_budget_probe_reads_the_curve_at_and_after_the_profiles_steps(tmp_path):
    """A budget probe is a run on seed 100 given only a longer budget (the same steps for
    every method) with evaluations on the way: its row gives the score at the profile's
    budget and the mean and range after it; a plain or tuning probe, or a longer run on a
    table's seed, is none."""
    import dtbench.report.curves as curves
    import dtbench.report.probes as probes

    steps = probes.registry.get_domain("keydoor").settings["quick"].train.steps
    longer = {"train.steps": 3 * steps, "baseline.steps": 3 * steps, "eval.during_training": 2}
    rows = []
    for algo, seed, extra in (("dt", 100, longer), ("cql", 100, longer), ("dt", 100, {}),
                              ("dt", 0, longer), ("bc", 100, {**longer, "baseline.bc_lr": 1e-3})):
        folder = f"{algo}-seed{seed}-{len(extra)}"
        (tmp_path / folder).mkdir()
        pd.DataFrame({"step": [steps, 2 * steps, 3 * steps], "target_return": [1.0] * 3,
                      "score_mean": [40.0, 30.0, 50.0]}).to_csv(tmp_path / folder / "curve.csv",
                                                                 index=False)
        rows.append({"domain": "keydoor", "task": "keydoor", "dataset": "random-1k",
                     "variant": "dense", "algo": algo, "seed": seed, "profile": "quick",
                     "overrides": "x", "folder": folder, "code_current": True,
                     "target_return": 1.0, "score_mean": 50.0, **extra})
    table = probes.budget_probe_table(Collected.of_table(pd.DataFrame(rows), "quick", tmp_path))
    assert [row[2] for row in table.rows] == ["DT", "CQL"]  # in the runs' order
    assert table.rows[0][3:] == [f"{3 * steps:,} ({steps:,})",
                                 curves.curve_points(pd.DataFrame(
                                     {"step": [steps, 2 * steps, 3 * steps],
                                      "score_mean": [40.0, 30.0, 50.0]})),
                                 "40.0", "40.0 (30.0 to 50.0)", "50.0"]


def test_the_probe_table_shows_every_methods_probes_and_the_rules_pick(tmp_path):
    """Tuning probes (`registry.Tuning`): per method and candidate, the final score per probe
    dataset and the mean over probe seeds and datasets; the rule picks the best mean, a tie
    going to the candidate listed first (the authors' default); a candidate without every
    probe competes with none; runs on a table's seed or with other overrides are no probes;
    every method shows its probes."""
    import dtbench.report.probes as probes
    from dtbench import registry
    from dtbench.contract import canonical, overrides_label
    from dtbench.domains.tuning import DISCRETE

    tuning = registry.get_domain("keydoor").tuning["quick"]

    def run(algo, candidate, dataset, seed, score):
        return {"domain": "keydoor", "task": "keydoor", "dataset": dataset, "variant": "dense",
                "algo": algo, "seed": seed, "profile": "quick",
                "overrides": overrides_label(canonical(candidate)), "folder": "x",
                "code_current": True, "target_return": 1.0 if algo == "dt" else None,
                "score_mean": score}

    # DT: every candidate probed; scores by candidate index: 1 and 2 tie at the top
    dt_scores = (10.0, 50.0, 50.0, 20.0)
    rows = [run("dt", c, d, seed, dt_scores[i]) for i, c in enumerate(DISCRETE["dt"])
            for d in tuning.datasets for seed in tuning.seeds]
    # BC: the last candidate scores best but lacks a seed on one dataset: it competes with none
    bc = DISCRETE["bc"]
    rows += [run("bc", c, d, seed, 5.0 + i) for i, c in enumerate(bc[:3])
             for d in tuning.datasets for seed in tuning.seeds]
    rows += [run("bc", bc[3], d, seed, 99.0) for d in tuning.datasets for seed in tuning.seeds
             if (d, seed) != (tuning.datasets[0], tuning.seeds[0])]
    rows.append(run("dt", DISCRETE["dt"][0], tuning.datasets[0], 0, 99.0))  # a table's seed
    table = probes.probe_table(Collected.of_table(pd.DataFrame(rows), "quick", tmp_path))
    dt = [row for row in table.rows if row[1] == "dt"]
    assert [row[6] for row in dt] == ["", "yes", "", ""]  # the tie goes to the first listed
    assert dt[0][4] == "10.0" and dt[0][5] == str(len(tuning.datasets) * len(tuning.seeds))
    bc_rows = [row for row in table.rows if row[1] == "bc"]
    assert [row[6] for row in bc_rows] == ["", "", "yes", ""] and bc_rows[3][4] == "-"
    assert "bc_lr 0.001" in bc_rows[0][2]  # d3rlpy's default listed first
    assert "Probes per method: 15, 16." in table.notes



def test_eval_curves_draw_readable_curves_and_skip_the_rest(tmp_path):
    """The eval-curves figure reads each run's curve through `curves.run_curve`: DT's at its
    headline target only; a run whose curve is missing or unreadable is left out, and with no
    curve left there is no figure."""
    from dtbench.report import curves, figures

    rows = []
    for algo, target in (("dt", 1.0), ("cql", None), ("bc", None)):
        folder = f"runs/{algo}"
        (tmp_path / folder).mkdir(parents=True)
        rows.append({"domain": "keydoor", "task": "keydoor", "dataset": "random-1k",
                     "variant": "dense", "algo": algo, "seed": 0, "profile": "quick",
                     "overrides": "", "folder": folder, "target_return": target,
                     "score_mean": 1.0, "score_label": "success rate (%)",
                     "dataset_id": "dtbench/keydoor/random-1k-v0", "data_route": "generated"})
    pd.DataFrame({"step": [1, 2, 1, 2], "target_return": [1.0, 1.0, 0.5, 0.5],
                  "score_mean": [10.0, 20.0, 5.0, 6.0]}).to_csv(
        tmp_path / "runs/dt/curve.csv", index=False)
    (tmp_path / "runs/cql/curve.csv").write_text("not,a\ncurve")  # unreadable
    runs = pd.DataFrame(rows)
    assert curves.run_curve(tmp_path, runs.iloc[0])["score_mean"].tolist() == [10.0, 20.0]
    assert curves.run_curve(tmp_path, runs.iloc[1]).empty
    assert curves.run_curve(tmp_path, runs.iloc[2]).empty  # no curve.csv at all
    assert [p.name for p in figures.eval_curves(runs, tmp_path, tmp_path / "f")] == [
        "eval-curves.png", "eval-curves.pdf"]
    assert figures.eval_curves(runs.iloc[1:], tmp_path, tmp_path / "g") == []


def _stored_run(root: Path, spec, score: float, route: str | None = None) -> None:
    """A finished run folder as the report reads it: result.json, and config.json with the
    data route recorded or, as in runs made before runs recorded it, without."""
    folder = spec.folder(root)
    folder.mkdir(parents=True)
    target = {"target_return": 1.0 if spec.algo == "dt" else None, "episodes": 10,
              "return_mean": score / 100, "score_mean": score, "best_score_mean": score,
              "best_step": 100, "evaluations": 1}
    (folder / "result.json").write_text(json.dumps({
        "spec": spec.to_dict(), "dataset_id": f"test/{spec.dataset}", "data_digest": "d",
        "code_fingerprint": "f", "score_label": "success rate (%)", "targets": [target],
        "data": {"data_score_mean": 3.0, "data_score_max": 100.0}, "train_seconds": 1.0,
        "eval_seconds": 1.0}))
    dataset = {"id": f"test/{spec.dataset}"} | ({"route": route} if route else {})
    (folder / "config.json").write_text(json.dumps({"dataset": dataset}))


def test_a_report_reads_each_run_folder_once(tmp_path, monkeypatch):
    """One reading of the results folder per report call, handed to every table and figure."""
    import dtbench.runs.table as runs_table
    from dtbench.contract import RunSpec

    for algo in ("dt", "cql"):
        for seed in (0, 1):
            _stored_run(tmp_path, RunSpec("keydoor", "keydoor", "random-1k", algo, seed,
                                          "quick"), 50.0 + seed, route="generated")
    reads = Counter()
    read_result = runs_table.read_result
    monkeypatch.setattr(runs_table, "read_result",
                        lambda path: reads.update([path]) or read_result(path))
    lines = build(tmp_path, "quick")
    assert "figure scores-keydoor: " + str(tmp_path / "figures" / "scores-keydoor.png") in lines
    assert len(reads) == 4 and set(reads.values()) == {1}


def test_runs_without_a_recorded_route_take_their_registered_datasets(tmp_path):
    """runs.csv's data_route is what config.json records; a run made before runs recorded it
    takes its registered dataset's route, looked up by name; the D4RL table puts every route
    to `medium` in its own row of the medium rows, each saying where its data came from."""
    from dtbench import plugins
    from dtbench.contract import RunSpec
    from dtbench.report.collected import stands_for
    from dtbench.report.d4rl import d4rl_table
    from dtbench.runs import collect

    plugins.load()
    for dataset, route in (("d4rl-medium", None), ("medium", "generated"),
                           ("minari-medium", "minari")):
        _stored_run(tmp_path, RunSpec("mujoco", "hopper", dataset, "bc", 0, "quick"), 10.0,
                    route)
    runs = collect(tmp_path)
    assert dict(zip(runs["dataset"], runs["data_route"], strict=True)) == {
        "d4rl-medium": "d4rl", "medium": "generated", "minari-medium": "minari"}
    assert set(stands_for(runs)) == {"medium"}
    rows = d4rl_table(Collected.of_table(runs, "quick")).rows
    assert [row[2] for row in rows if row[:2] == ["medium", "hopper"]] == [
        "D4RL v2 (HDF5)", "generated here", "Minari (mujoco/*-v0)"]


def test_grids_pick_routes_by_their_fields_and_nothing_parses_a_dataset_name():
    """Where data comes from is a field (`DatasetSpec.route`, `stands_for`), never read back
    out of a dataset's name."""
    import dtbench
    from dtbench import plugins, registry
    from dtbench.errors import DTBenchError

    plugins.load()
    _, hopper = registry.get_task("mujoco", "hopper")
    assert [d.name for d in registry.routes_to(hopper, "medium", ("minari", "d4rl"))] == [
        "minari-medium", "d4rl-medium"]
    with pytest.raises(DTBenchError, match="unknown data route"):
        registry.pick_present(hopper, "medium", ("d4rl-",))
    for path in Path(dtbench.__file__).parent.rglob("*.py"):
        text = path.read_text()
        for parse in ('removeprefix("d4rl-', 'removeprefix("minari-', "d4rl-|minari-",
                      '"{p}-{', '"{prefix}-{'):
            assert parse not in text, (path, parse)


def test_the_probe_table_shows_a_named_grids_tuning_whatever_the_reports_profile():
    """MuJoCo's tier is tuned under the paper profile with the `bench` grid's budget: its
    probes (found by their overrides, the grid's plus one candidate) appear in a quick report
    as 'mujoco (bench grid)', each candidate's mean over the probe seeds, the rule's pick."""
    from dtbench.report.probes import probe_table
    from dtbench.suite import expand_tuning

    rows = []
    for spec in expand_tuning("mujoco", "paper", "bench"):
        if spec.algo != "dt":
            continue
        lr = dict(spec.overrides)["train.lr"]
        rows.append({"domain": "mujoco", "task": "hopper", "dataset": spec.dataset,
                     "variant": "dense", "algo": "dt", "seed": spec.seed, "profile": "paper",
                     "overrides": overrides_label(spec.overrides), "target_return": 3600.0,
                     "score_mean": 30.0 + (10 if lr == 3e-4 else 0) + spec.seed % 2,
                     "code_current": True})
    table = probe_table(Collected.of_table(pd.DataFrame(rows), "quick"))
    mine = [row for row in table.rows if row[0] == "mujoco (bench grid)"]
    assert [(row[2], row[4], row[5], row[6]) for row in mine] == [
        ("dropout 0.1, lr 0.0001", "30.5", "2", ""), ("dropout 0.1, lr 0.0003", "40.5", "2", "yes")]


def test_the_probe_table_reads_a_methods_settings_from_the_grid_part_that_runs_it(monkeypatch):
    """DT's and the paper BC's lr share a key (`train.lr`): where the tier gives DT its pick in
    a grid part of its own, 'The profile's' marks DT's 3e-4 and the paper BC's 1e-4."""
    import dataclasses

    from dtbench import registry
    from dtbench.report.probes import probe_table
    from dtbench.suite import expand_tuning

    grids = registry.get_domain("mujoco").grids
    bench = grids["bench"]
    dt_part = next(part for part in bench.parts if part.algos == ("dt",))
    dt_apart = dataclasses.replace(bench, parts=tuple(
        dataclasses.replace(part, overrides=(*part.overrides, ("train.lr", 3e-4)))
        if part is dt_part else part for part in bench.parts))
    monkeypatch.setitem(grids, "bench", dt_apart)
    rows = [{"domain": "mujoco", "task": "hopper", "dataset": spec.dataset, "variant": "dense",
             "algo": spec.algo, "seed": spec.seed, "profile": "paper",
             "overrides": overrides_label(spec.overrides), "target_return": 3600.0,
             "score_mean": 30.0, "code_current": True}
            for spec in expand_tuning("mujoco", "paper", "bench")
            if spec.algo in ("dt", "bc-paper")]
    table = probe_table(Collected.of_table(pd.DataFrame(rows), "quick"))
    held = {(row[1], row[2]): row[7] for row in table.rows if row[0] == "mujoco (bench grid)"}
    assert held == {("dt", "dropout 0.1, lr 0.0001"): "", ("dt", "dropout 0.1, lr 0.0003"): "yes",
                    ("bc-paper", "lr 0.0001"): "yes", ("bc-paper", "lr 0.001"): ""}


def test_the_mujoco_tier_settings_name_each_methods_tuned_settings(monkeypatch):
    """A tuned setting lives in a grid part of its method's own (DT and the paper BC share
    `train.lr`); the tier's Settings footnote names it per method, beside the shared budget."""
    import dtbench.report.mujoco_bench as tier
    from dtbench import registry
    from dtbench.registry import Grid

    budget = (("train.steps", 100), ("baseline.steps", 100))
    grids = registry.get_domain("mujoco").grids
    monkeypatch.setitem(grids, "bench", Grid(  # DT's pick at the top level: not shared
        ("hopper",), ("bench-medium",), ("dt",), seeds=(0,),
        overrides=(*budget, ("train.lr", 3e-4)),
        parts=(Grid(("hopper",), ("bench-medium",), ("bc",), seeds=(0,), overrides=budget),
               Grid(("hopper",), ("bench-medium-replay",), ("dt",), seeds=(0,),
                    overrides=(*budget, ("train.lr", 3e-4),
                               ("eval.target_returns", (1800.0, 3600.0)))),
               Grid(("hopper",), ("bench-medium",), ("cql",), seeds=(0,),
                    overrides=(*budget, ("baseline.cql_alpha", 1.0))),
               Grid(("hopper",), ("bench-medium",), ("bc10", "bc25"), seeds=(0,),
                    overrides=(*budget, ("baseline.pbc_lr", 3e-4))))))
    assert tier.tuned_text("bench") == (  # 25%BC has no probes: it takes 10%BC's pick
        "DT train.lr 0.0003; CQL baseline.cql_alpha 1; d3rlpy 10%BC baseline.pbc_lr 0.0003; "
        "d3rlpy 25%BC baseline.pbc_lr 0.0003 (not probed: d3rlpy 10%BC's); d3rlpy BC probed, "
        "keeping its authors' settings")  # probed, its authors' setting won: said too
    monkeypatch.setitem(grids, "bench", dataclasses.replace(grids["bench"],
                                                             parts=grids["bench"].parts[:3]))
    assert tier.settings_text("bench") == ("train.steps 100, baseline.steps 100; per method, "
                                           "from its tuning probes: DT train.lr 0.0003; CQL "
                                           "baseline.cql_alpha 1; d3rlpy BC probed, keeping its "
                                           "authors' settings")
    monkeypatch.setitem(grids, "bench", Grid(("hopper",), ("bench-medium",), ("bc",),
                                             overrides=budget))
    assert tier.settings_text("bench").endswith("per method, from its tuning probes: d3rlpy "
                                                "BC probed, keeping its authors' settings")
    monkeypatch.setitem(grids, "bench", Grid(("hopper",), ("bench-medium",), ("random",),
                                             overrides=budget))  # no probes, no picks
    assert tier.settings_text("bench").endswith("every method at the paper profile's key "
                                                "settings")


def test_each_claims_family_is_holm_corrected_on_its_own_and_stale_runs_are_not_tested():
    """The MuJoCo tier is an experiment apart: its verdicts do not move with how many other
    comparisons the report's profile makes; a side made by other code or settings (†) is not
    tested, and neither counts in a family's size."""
    from dtbench.report.claims import TIER_FAMILY, Claim, _lines
    from dtbench.report.stats import welch

    dt, cql = np.array([60.0, 62, 61]), np.array([40.0, 41, 43])
    tier = Claim("mujoco/hopper (benchmark tier, 15,000 steps)", "bench-medium", "dense",
                 "CQL", dt, cql, family=TIER_FAMILY)
    others = [Claim("keydoor/keydoor", f"random-{i}", "dense", "CQL", dt, cql,
                    family="profile `quick`") for i in range(9)]
    stale = Claim("keydoor/keydoor", "random-x", "dense", "BC", dt, cql, stale=True,
                  family="profile `quick`")
    rows, sizes = _lines([tier, *others, stale])
    p = welch(dt, cql).p
    assert float(rows[0][8]) == pytest.approx(float(f"{p:.2g}"))  # alone in its family
    assert float(rows[1][8]) == pytest.approx(float(f"{min(1.0, 9 * p):.2g}"))  # nine here
    assert rows[-1][7:] == ["-", "-", "not tested (runs by other code or settings: run them "
                                      "again)"]
    assert sizes == {TIER_FAMILY: 1, "profile `quick`": 9}
