"""DT as a critic on Key-to-Door (paper Figure 5): the predicted probability of success through
episodes of three outcome kinds, and where the last layer's attention goes in a successful
episode. Read from the probes `make critic` stores in the critic run's folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from dtbench.analyses.critic import ATTENTION, CRITIC, PROBES
from dtbench.contract import canonical, overrides_label
from dtbench.domains.keydoor.env import OUTCOMES, KeyToDoorEnv
from dtbench.report import figures
from dtbench.report.cells import code_mark, settings_note
from dtbench.report.collected import Collected
from dtbench.report.stats import mean_interval
from dtbench.report.table import Table
from dtbench.runs import only_overridden


def critic_runs(collected: Collected) -> list[tuple[Path, pd.DataFrame]]:
    """(folder, rows) of each finished critic run that holds both probes."""
    runs = collected.of("keydoor", ablations=True)
    if runs.empty:
        return []
    runs = runs[only_overridden(runs, *CRITIC)]
    found = [(collected.root / folder, rows) for folder, rows in runs.groupby("folder", sort=False)]
    return [(f, rows) for f, rows in found if (f / PROBES).exists() and (f / ATTENTION).exists()]


def phase_ends() -> tuple[int, int]:
    """Last step of phase 1 and of phase 2 (0-based)."""
    first, second, _ = KeyToDoorEnv().phase_lengths
    return first - 1, first + second - 1


def attention_by_step(attention: pd.DataFrame) -> np.ndarray:
    """(T, T): attention from step i's tokens (mean over its three queries) to step j's
    tokens (summed over their three), so each row sums to 1."""
    steps = int(attention["query"].max()) // 3 + 1
    grid = np.zeros((steps, steps))
    np.add.at(grid, (attention["query"] // 3, attention["key"] // 3), attention["weight"])
    return grid / 3


def door_attention(attention: pd.DataFrame) -> tuple[float, float, list[int]]:
    """From the door room's steps (phase 3): the attention share on the key room (phase 1,
    where the key is taken or not), what a uniform spread over the steps each can see would
    give, and the three steps that get the most."""
    grid = attention_by_step(attention)
    key_room, door_room = phase_ends()
    rows = grid[door_room + 1:]
    share = float(rows[:, :key_room + 1].sum(1).mean())
    uniform = float(np.mean([(key_room + 1) / (i + 1) for i in range(door_room + 1, len(grid))]))
    top = [int(s) for s in np.argsort(-rows.mean(0), kind="stable")[:3]]
    return share, uniform, top


def _estimate(values: pd.Series) -> str:
    return mean_interval(values.to_numpy(), 2)


def critic_table(collected: Collected) -> Table:
    profile = collected.profile
    folders = critic_runs(collected)
    end1, end2 = phase_ends()
    header = ["Run", "Episode kind", "Episodes", "After step 0", f"End of key room (step {end1})",
              f"End of distractor (step {end2})", "Last step", "Actual success"]
    rows, notes = [], []
    for folder, runs in folders:
        probes = pd.read_csv(folder / PROBES)
        label = f"{runs['dataset'].iloc[0]} seed {runs['seed'].iloc[0]}"
        mark = code_mark(runs)
        for kind in OUTCOMES:
            part = probes[probes["kind"] == kind]
            last = part[part["step"] == part["length"] - 1]
            rows.append([label + mark, kind, str(part["episode"].nunique()),
                         *(_estimate(part.loc[part["step"] == s, "predicted_success"])
                           for s in (0, end1, end2)),
                         _estimate(last["predicted_success"]),
                         "1.00" if kind == OUTCOMES[0] else "0.00"])
        share, uniform, top = door_attention(pd.read_csv(folder / ATTENTION))
        notes.append(f"{label}: in the successful probe episode, the door room's tokens put "
                     f"{100 * share:.0f}% of their last-layer attention on the key room "
                     f"(steps 0-{end1}; uniform attention: {100 * uniform:.0f}%); most-attended "
                     f"steps {', '.join(map(str, top))}")
    overrides = overrides_label(canonical(CRITIC))
    caption = (
        "DT as a critic on Key-to-Door: a return-blind DT (return tokens carry 0) trained on "
        "dtbench's random walks to predict actions and, with its return head, the return still "
        f"to come, profile `{profile}`, one trained critic per run (`make critic`). "
        "Each cell is its mean predicted probability of success after the given step, over "
        "fresh random-walk episodes (not in the data) of one outcome kind, with a 95% t "
        "interval over those episodes, not over training seeds. "
        "The paper shows this as a figure (Figure 5), with no numbers to compare.")
    notes = [
        "A critic that assigns credit raises its estimate when the key is taken and resolves "
        "it at the door.",
        *(note + "." for note in notes),
        f"The critic runs are DT with the overrides {overrides}; regenerate with `make critic`."]
    return Table("critic", "DT as a critic on Key-to-Door (paper Figure 5)", caption, header,
                 rows, "make critic", bool(folders), settings_note("keydoor", profile), notes)


def draw_critic(collected: Collected, folder: Path) -> list[Path]:
    """The critic figure from the first critic run (by dataset, then seed)."""
    folders = critic_runs(collected)
    if not folders:
        return []
    run, rows = folders[0]
    attention = pd.read_csv(run / ATTENTION)
    title = (f"DT as a critic on Key-to-Door ({rows['dataset'].iloc[0]} random walks made by "
             f"dtbench, profile {collected.profile}, seed {rows['seed'].iloc[0]}; return-blind "
             "DT with a trained return head)")
    return figures.critic(pd.read_csv(run / PROBES), attention_by_step(attention),
                          int(attention["key_step"].iloc[0]), phase_ends(), title, folder)
