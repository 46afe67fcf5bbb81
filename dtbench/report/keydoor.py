"""Key-to-Door table (the paper's Table 6) from stored runs, with the paper's numbers beside."""

from __future__ import annotations

import pandas as pd

from dtbench import registry
from dtbench.domains.keydoor.env import KeyToDoorEnv
from dtbench.report.cells import (
    INTERVAL_NOTE,
    cells_phrase,
    code_mark,
    mean_std_cell,
    score_range,
    settings_note,
)
from dtbench.report.collected import Collected
from dtbench.report.paper import KEYDOOR_TABLE6
from dtbench.report.table import Table

DATASET_LABELS = {"random-1k": "1K random trajectories", "random-10k": "10K random trajectories"}
# (registered algorithm, column label); %BC is BC on the top 10% of timesteps by return.
OUR_ALGOS = (("dt", "DT"), ("cql", "CQL"), ("bc", "d3rlpy BC"), ("bc10", "d3rlpy %BC (10%)"),
             ("random", "Random"))
PAPER_COLUMNS = (("dt", "DT"), ("cql", "CQL"), ("bc", "BC"), ("pbc", "%BC"), ("random", "Random"))


def solvable_share(profile: str) -> float:
    """Share (%) of the profile's evaluation episodes that can succeed at all: the key within
    reach of the start in the key phase and the door within reach in the door phase. Read
    through the env's public API: the offsets in the first observation of each phase (in
    units of 1 / (room_size - 1))."""
    e = registry.get_domain("keydoor").settings[profile].eval
    env = KeyToDoorEnv()
    key_steps, _, door_steps = env.phase_lengths
    solvable = 0
    for seed in range(e.seed, e.seed + e.episodes):
        obs, _ = env.reset(seed=seed)
        key = round(abs(obs[11:13]).sum() * (env.room_size - 1))
        for _ in range(key_steps + env.phase_lengths[1]):  # to the door room's first step
            obs, _, _, _, _ = env.step(0)
        door = round(abs(obs[13:15]).sum() * (env.room_size - 1))
        solvable += key <= key_steps and door <= door_steps
    return 100.0 * solvable / e.episodes


def keydoor_table(collected: Collected) -> Table:
    profile = collected.profile
    runs = collected.of("keydoor")
    ours = [f"{label} (ours)" for _, label in OUR_ALGOS]
    header = ["Dataset", *ours, *(f"{label} (paper)" for _, label in PAPER_COLUMNS)]
    lines = []
    episodes = set()
    for dataset, label in DATASET_LABELS.items():
        cells = [label]
        for algo, _ in OUR_ALGOS:
            rows = runs[(runs["dataset"] == dataset) & (runs["algo"] == algo)] if not runs.empty \
                else runs
            episodes.update(rows["episodes"].tolist() if not rows.empty else [])
            scores = rows["score_mean"] if not rows.empty else pd.Series(dtype=float)
            cells.append(mean_std_cell(scores, score_range("keydoor")) + code_mark(rows))
        cells += [f"{KEYDOOR_TABLE6[dataset][key]:.1f}" for key, _ in PAPER_COLUMNS]
        lines.append(cells)
    env = KeyToDoorEnv()
    domain, task = registry.resolve("keydoor")
    s = domain.settings_for(task, profile)
    ids = [spec.minari_id for spec in task.datasets.values()]
    caption = (
        "Key-to-Door success rate (%) of each method trained on dtbench's own random-walk "
        f"datasets (1K and 10K episodes, made here), profile `{profile}`: "
        f"{cells_phrase(runs)}, each seed evaluated on "
        f"{', '.join(map(str, sorted(episodes))) or 'the same'} episodes. "
        "The paper's columns are Chen et al. 2021 Table 6, on the paper's own Key-to-Door, "
        "which was never released: not the same environment.")
    notes = [
        f"Data: {env.room_size}x{env.room_size} rooms, phases "
        f"{'/'.join(map(str, env.phase_lengths))} steps; "
        f"{', '.join(f'`{i}`' for i in ids)}, made by `make keydoor-data`.",
        f"Ceiling: {solvable_share(profile):.1f}% of the evaluation episodes can succeed at all "
        "(the key and the door within reach in their phases); a score there succeeds in every "
        "one that can.",
        "DT is conditioned on target return "
        f"{', '.join(f'{t:g}' for t in s.eval.target_returns)} (return scale "
        f"{s.eval.return_scale:g}) with the whole episode ({s.model.context_len} steps) as "
        "context, greedy actions.",
        f"CQL (DiscreteCQL), BC and %BC are d3rlpy {_d3rlpy_version()}'s, MLP "
        f"{list(s.baseline.hidden_units)}, greedy; %BC is BC on the top 10% of timesteps by "
        "episode return (with few successful episodes, every success plus the first failures "
        "in dataset order).",
        INTERVAL_NOTE,
        "Regenerate with `make keydoor`."]
    return Table("keydoor", "Key-to-Door (paper Table 6)", caption, header, lines,
                 "make keydoor", not runs.empty, settings_note("keydoor", profile), notes)


def _d3rlpy_version() -> str:
    from importlib import metadata

    return metadata.version("d3rlpy")
