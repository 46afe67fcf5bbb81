"""The paper profile end to end on this CPU: MuJoCo and Atari through `make paper`'s code path
(`api.suite` on the paper grids, then `api.report`) on small files in the real formats (D4RL
v2 HDF5, dopamine checkpoints), with the paper settings shortened in place (steps, width,
episodes) so the runs are the paper grid's own, not ablations; the paper-layout tables they
write carry our cells beside the paper's."""

import dataclasses

import pytest

from dtbench import api, registry
from dtbench.suite import Choice
from tests.test_atari import _write_dopamine
from tests.test_d4rl_io import _write_d4rl

PAPER_BC = ("bc-paper", "bc10-paper", "bc25-paper", "bc40-paper")
SHORT = {"train.steps": 3, "train.warmup_steps": 1, "train.batch_size": 4,
         "train.checkpoint_every": 3, "train.log_every": 1, "train.warmup_tokens": 8,
         "train.final_tokens": 64, "model.embed_dim": 16, "model.n_layer": 1,
         "model.n_head": 1, "model.context_len": 4, "model.max_ep_len": 200,
         "eval.episodes": 2, "eval.during_training": 0, "eval.max_episode_steps": 30,
         "baseline.steps": 4, "baseline.batch_size": 8, "baseline.log_every": 2,
         "baseline.hidden_units": (16,)}


def _shorten(monkeypatch, domain_name: str) -> None:
    """The domain's paper settings (and its tasks' paper-only ones) at smoke size."""
    domain = registry.get_domain(domain_name)
    monkeypatch.setitem(domain.settings, "paper", domain.settings["paper"].override(SHORT))
    for name, task in domain.tasks.items():
        if "paper" in task.profile_overrides:  # e.g. Pong's K=50, batch 512
            monkeypatch.setitem(domain.tasks, name, dataclasses.replace(
                task, profile_overrides={**task.profile_overrides, "paper": {}}))


@pytest.mark.slow
def test_the_paper_profile_runs_end_to_end_on_real_format_files(tmp_path, monkeypatch,
                                                                 isolated_minari):
    monkeypatch.setenv("DTBENCH_D4RL_DIR", str(tmp_path / "d4rl"))
    monkeypatch.setenv("DTBENCH_DQN_REPLAY_DIR", str(tmp_path / "dqn"))
    (tmp_path / "d4rl").mkdir()
    _write_d4rl(tmp_path / "d4rl" / "hopper_medium-v2.hdf5", [30, 20, 25, 28],
                ["terminal", "timeout", "terminal", "timeout"])
    from dtbench.domains.atari import dqn_replay_dir

    for ckpt, seed in ((48, 1), (49, 2)):
        # the official sampler reads 11 episodes per visit
        _write_dopamine(dqn_replay_dir("pong"), ckpt, [20, 15, 25, 18, 22, 16, 24, 19, 21, 17,
                                                       23, 20], seed=seed)
    for domain in ("mujoco", "atari"):
        _shorten(monkeypatch, domain)
    results = tmp_path / "results"
    lines = []
    api.suite(["mujoco"], "paper", Choice(tasks=("hopper",), datasets=("medium",),
                                          seeds=(0,)), results, echo=lines.append)
    api.suite(["atari"], "paper", Choice(tasks=("pong",), seeds=(123,)), results,
              echo=lines.append)
    assert not [line for line in lines if line.startswith("missing: ")]
    # MuJoCo: Table 2's four methods, Table 3's 25/40%BC, Table 7's delayed DT and CQL;
    # Atari: Table 1's four, Table 4's 25/40%BC, Table 5's K=1, Figure 4's sweep; BC and %BC
    # are the paper's own (bc-paper, ...), not d3rlpy's
    runs = sorted(p.parent.relative_to(results / "runs")
                  for p in results.glob("runs/**/result.json"))
    labels = {(str(r).split("/")[0], r.parts[3], r.parts[4]) for r in runs}
    assert labels == {
        *(("mujoco", "dense", a) for a in ("dt", "cql", *PAPER_BC)),
        ("mujoco", "delayed", "dt"), ("mujoco", "delayed", "cql"),
        *(("atari", "dense", a) for a in ("dt", "cql", *PAPER_BC, "dt@model.context_len=1",
                                           "dt@eval.target_sweep=8"))}
    api.report(profile="paper", results_root=results)

    def row(table: str, start: str) -> list[str]:
        text = (results / f"{table}.md").read_text()
        line = next(line for line in text.splitlines() if line.startswith(start))
        return [c.strip() for c in line.split("|")[1:-1]]

    header = row("mujoco", "| Dataset |")
    assert header[4:8] == ["DT (ours)", "CQL (ours)", "BC [bc-paper] (ours)",
                           "10%BC [bc10-paper] (ours)"]  # no d3rlpy BC columns: none ran
    mujoco = row("mujoco", "| medium | hopper | D4RL v2 (HDF5)")
    assert all(c.endswith("(n=1)") for c in mujoco[4:8]) and mujoco[8] == "67.6 ± 1.0"
    assert "STAND-IN" not in (results / "mujoco.md").read_text()
    atari = row("atari", "| pong | DQN-replay 1% (run 1)")
    assert all(c.endswith("(n=1)") for c in atari[3:7]) and atari[7] == "106.1 ± 8.1"
    delayed = row("delayed", "| medium | hopper | D4RL v2 (HDF5)")
    assert delayed[3].endswith("(n=1)") and delayed[4].endswith("(n=1)")
    pbc = row("pbc-atari", "| pong |")
    assert sum(c.endswith("(n=1)") for c in pbc) >= 5  # DT, 10/25/40%BC, BC
    context = row("context", "| atari | pong | dqn-replay")
    assert context[6].endswith("(n=1)") and context[9] == "2.5 ± 0.2"  # K=1, ours and paper
    sweep = (results / "target-sweep.md").read_text()
    assert "| atari | pong | dqn-replay | DQN-replay 1% (run 1) |" in sweep
