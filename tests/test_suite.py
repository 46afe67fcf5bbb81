"""Suites: grids expand into runs; a killed sweep resumes, repeating and losing nothing."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dtbench.errors import DTBenchError
from dtbench.suite import Choice, expand, expand_all


def test_grids_expand_into_runs_and_choices_narrow_them():
    smoke = expand("keydoor", "smoke")
    assert [(s.algo, s.seed) for s in smoke] == [("dt", 0), ("dt", 1), ("bc", 0), ("bc", 1),
                                                 ("random", 0), ("random", 1)]
    assert {s.profile for s in smoke} == {"smoke"}
    quick = expand("mujoco", "quick")
    assert len(quick) == 3 * 3 * 4 and {s.dataset for s in quick} == {
        "medium", "medium-replay", "medium-expert"}
    paper = expand("atari", "paper", Choice(algos=("dt",)))
    plain = [s.task for s in paper if s.seed == 123 and not s.overrides]
    assert plain == ["breakout", "qbert", "pong", "seaquest"]
    assert sorted({s.seed for s in paper}) == [123, 231, 312]  # the official Atari seeds
    # the grid's parts come along, narrowed by the choice: Table 5's K=1, Figure 4's sweeps
    assert sorted({s.algo_label for s in paper}) == [
        "dt", "dt@eval.target_sweep=8", "dt@model.context_len=1"]
    assert not [s for s in expand("atari", "paper", Choice(algos=("cql",))) if s.overrides]
    k1 = expand("atari", "paper", Choice(overrides={"model.context_len": 1}))
    assert {s.algo_label for s in k1} == {f"{a}@model.context_len=1"
                                          for a in ("dt", "cql", "bc-paper", "bc10-paper")}
    narrowed = expand("mujoco", "quick", Choice(tasks=("hopper",), datasets=("medium",),
                                                variants=("delayed",), seeds=(3, 4)))
    assert len(narrowed) == 4 * 2 and {s.variant for s in narrowed} == {"delayed"}
    every = {s.domain for s in expand_all(["all"], "quick")}
    assert every == {"keydoor", "mujoco", "atari", "graph"}
    k1 = expand("atari", "quick", Choice(algos=("dt",), overrides={"model.context_len": 1}))
    assert [s.algo_label for s in k1] == ["dt@model.context_len=1"] * 2
    assert "dt@model.context_len=1" in str(k1[0].folder(Path("results")))
    with pytest.raises(DTBenchError, match="unknown setting 'model.nope'"):
        expand("atari", "quick", Choice(overrides={"model.nope": 1}))
    with pytest.raises(DTBenchError, match="unknown reward variant"):
        expand("keydoor", "quick", Choice(variants=("sparse!",)))
    with pytest.raises(DTBenchError, match="unknown algorithm 'zzz'"):
        expand("mujoco", "quick", Choice(algos=("zzz",)))


def _suite(results, minari, *extra):
    env = {**os.environ, "MINARI_DATASETS_PATH": str(minari)}
    return subprocess.Popen([sys.executable, "-m", "dtbench", "suite", "keydoor", "-p", "smoke",
                             "--results", str(results), *extra], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)


@pytest.mark.slow
def test_a_killed_sweep_resumes_without_repeating_or_losing_runs(isolated_minari, tmp_path):
    results = tmp_path / "results"
    specs = expand("keydoor", "smoke")
    paths = [spec.folder(results) / "result.json" for spec in specs]
    sweep = _suite(results, isolated_minari)  # makes the missing dataset, then runs
    deadline = time.monotonic() + 240
    while not any(p.exists() for p in paths) and time.monotonic() < deadline:
        assert sweep.poll() is None, sweep.stdout.read()
        time.sleep(0.02)
    os.killpg(sweep.pid, signal.SIGKILL)  # no chance to clean up
    sweep.wait()
    before = {p: p.read_text() for p in paths if p.exists()}
    assert 1 <= len(before) < len(paths), "the kill should land mid-sweep"

    rerun = _suite(results, isolated_minari)
    out, _ = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, out
    assert f"{len(before)} finished, {len(paths) - len(before)} to run" in out
    assert all(p.exists() for p in paths)  # nothing lost
    for p, text in before.items():  # nothing repeated: finished results untouched
        assert p.read_text() == text
    for p in paths:
        result = json.loads(p.read_text())
        assert result["targets"] and "timing" in result
    assert f"{len(paths)} finished, 0 to run" in _suite(results, isolated_minari).communicate(
        timeout=120)[0]


def test_tuning_gives_every_method_the_same_probes_on_seeds_no_table_uses():
    """`dtbench tune`: every candidate of every method on every probe dataset and seed; the same
    number of probes per method; no probe seed is a benchmark seed; unequal candidates are
    refused; a domain without tuning is one line naming those with it."""
    from collections import Counter

    import pytest

    from dtbench import registry
    from dtbench.errors import DTBenchError
    from dtbench.registry import Tuning
    from dtbench.suite import expand, expand_tuning

    for domain in ("keydoor", "graph"):
        specs = expand_tuning(domain, "quick")
        per_algo = Counter(spec.algo for spec in specs)
        assert set(per_algo) == {"dt", "cql", "bc", "bc10"} and len(set(per_algo.values())) == 1
        assert {s.seed for s in specs}.isdisjoint({s.seed for s in expand(domain, "quick")})
        assert all(s.overrides for s in specs)  # every probe gives its settings in full
    assert len(expand_tuning("keydoor", "quick")) == 4 * 4 * 2 * 2
    with pytest.raises(DTBenchError, match="unequal numbers of probes"):
        Tuning("keydoor", ("random-1k",), {"dt": ({"train.lr": 1e-3},), "bc": ()})
    with pytest.raises(DTBenchError, match="registers no tuning for profile quick; tuned: "):
        expand_tuning("atari", "quick")
    assert registry.get_domain("keydoor").tuning["quick"].seeds == (100, 101)


def test_a_named_grid_runs_under_a_profile_with_its_overrides_and_its_own_tuning():
    """`--grid bench`: MuJoCo's benchmark tier under the paper profile; its runs carry the
    grid's budget, its probes the grid's budget and one candidate each, the same number per
    method on seeds no tier run uses; an unknown grid is one line naming the known ones."""
    from collections import Counter

    import pytest

    from dtbench.errors import DTBenchError
    from dtbench.suite import Choice, expand, expand_tuning

    tier = expand("mujoco", "paper", Choice(grid="bench"))
    assert {s.dataset for s in tier} == {"bench-medium", "bench-medium-replay",
                                         "bench-medium-expert"}
    assert all(s.profile == "paper" and dict(s.overrides)["train.steps"]
               == dict(s.overrides)["baseline.steps"] for s in tier)
    seeds = Counter((s.dataset, s.algo) for s in tier)
    assert seeds[("bench-medium-replay", "dt")] == 5 and seeds[("bench-medium", "cql")] == 3
    probes = expand_tuning("mujoco", "paper", "bench")
    per_algo = Counter(s.algo for s in probes)
    assert len(set(per_algo.values())) == 1 and set(per_algo) == {
        "dt", "cql", "bc", "bc10", "bc-paper"}
    assert {s.seed for s in probes}.isdisjoint({s.seed for s in tier})
    budget = dict(tier[0].overrides)
    assert all(dict(s.overrides)["train.steps"] == budget["train.steps"] for s in probes)
    with pytest.raises(DTBenchError, match="unknown grid of domain 'mujoco' 'nope'; known: "):
        expand("mujoco", "paper", Choice(grid="nope"))
    # a method's tuned settings put it in a part of its own; a narrowed tier (`make mujoco-bench
    # ALGOS=cql`) is the tier's own runs of that method, never the first part's settings on it
    cql = expand("mujoco", "paper", Choice(grid="bench", algos=("cql",)))
    assert cql == [s for s in tier if s.algo == "cql"] and len(cql) == 11
    assert "train.lr" in dict(tier[0].overrides) and "train.lr" not in dict(cql[0].overrides)
    # the probes carry only what every tier run shares, never DT's tuned lr
    assert all("train.lr" not in dict(s.overrides) for s in probes if s.algo == "cql")
    # an ablation of the tier (`--set`) changes every method's runs, each at its own settings
    short = expand("mujoco", "paper", Choice(grid="bench", algos=("cql", "bc25"), seeds=(0,),
                                             overrides={"baseline.steps": 300}))
    assert sorted((s.algo, s.dataset) for s in short) == [
        ("bc25", "bench-medium-replay"), ("cql", "bench-medium"), ("cql", "bench-medium-expert"),
        ("cql", "bench-medium-replay")]
    assert all(dict(s.overrides)["baseline.steps"] == 300 for s in short)
    assert dict(next(s for s in short if s.algo == "bc25").overrides)["baseline.pbc_lr"] == 3e-4
    # names that no run of the grid has: one line that says how to list its runs
    from dtbench.suite import expand_all

    with pytest.raises(DTBenchError, match=r"no run of mujoco's bench grid has the tasks, .*"
                                           r"`dtbench suite mujoco -p paper --grid bench "
                                           r"--dry-run` lists its runs"):
        expand_all(["mujoco"], "paper", Choice(grid="bench", algos=("bc25",),
                                               datasets=("bench-medium",)))



def test_every_grids_d3rlpy_runs_evaluate_as_often_as_their_settings_ask():
    """d3rlpy's baselines train in chunks of `baseline.log_every` steps and evaluate at the
    first chunk's end past each evaluation step, so evaluation steps closer together than a
    chunk share one evaluation: every registered grid (each profile's and each named grid)
    must give its d3rlpy runs as many evaluations as `eval.during_training` says."""
    from types import SimpleNamespace

    from dtbench import registry
    from dtbench.contract import RunContext
    from dtbench.d3rlpy_bridge import CHECKPOINT
    from dtbench.runs.resolve import resolve

    checked = set()
    for name, domain in registry.domains().items():
        specs = [s for profile in domain.settings for s in expand(name, profile)]
        specs += [s for grid in domain.grids for s in expand(name, "paper", Choice(grid=grid))]
        for spec in specs:
            key = (name, spec.task, spec.profile, spec.algo, spec.overrides)
            if key in checked or CHECKPOINT not in registry.get_algo(spec.algo).checkpoint_files:
                continue
            checked.add(key)
            settings = resolve(spec).settings
            steps, every = settings.baseline.steps, settings.baseline.log_every
            wanted = RunContext.eval_steps(SimpleNamespace(settings=settings), steps)
            rows = [min(k * every, steps) for k in range(1, -(-steps // every) + 1)]
            done = {min(r for r in rows if r >= step) for step in wanted}
            assert len(done) == len(wanted), key
    assert len(checked) > 10
