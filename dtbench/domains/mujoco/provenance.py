"""A generated MuJoCo dataset's origin in words, from its provenance (`minari_io.provenance`,
or the copy a run records in its config.json): what `dtbench data info` prints and the MuJoCo
tier's caption quotes. Imported by neither the domain nor the executor, so no run's
fingerprint depends on it."""

from __future__ import annotations

from typing import Any

# The expert return a `bench` generation must reach to stand for D4RL's expert (D4RL's own:
# Hopper 3,234, HalfCheetah 12,135, Walker2d 4,592): the floors the tier was built against.
EXPERT_FLOORS = {"bench": {"hopper": 2_000.0, "halfcheetah": 5_000.0, "walker2d": 2_500.0}}


def describe(made: dict[str, Any]) -> str:
    """`SAC for 300,000 steps (budget bench, seed 0): expert 3,056 at step 260,000 (the
    budget's floor 2,000: met), medium 1,019 at step 220,000; 2.04 h wall (1.98 h of SAC)`;
    older generations recorded no wall time."""
    wall = made.get("wall_seconds")
    cost = f"{wall / 3600:.2f} h wall" if wall is not None else "wall time not recorded"
    floor = EXPERT_FLOORS.get(made["budget"], {}).get(made.get("task", ""))
    verdict = "" if floor is None else (
        f" (the budget's floor {floor:,.0f}: "
        f"{'met' if made['expert_return'] >= floor else 'NOT met'})")
    return (f"SAC for {made['sac_steps']:,} steps (budget {made['budget']}, seed "
            f"{made['seed']}): expert {made['expert_return']:,.0f} at step "
            f"{made['expert_step']:,}{verdict}, medium {made['medium_return']:,.0f} at step "
            f"{made['medium_step']:,}; {cost} ({made['sac_seconds'] / 3600:.2f} h of SAC)")


def snapshots(made: dict[str, Any]) -> str:
    """`10k 143, 20k 331, ...`: each SAC snapshot's evaluation return in step order. Two
    generations of one budget and seed are the same data only if these agree; on another kind
    of CPU they part at the first snapshot."""
    scores = sorted((int(step), value) for step, value in made.get("snapshot_returns", {}).items())
    return ", ".join(f"{step / 1000:g}k {value:,.0f}" for step, value in scores)
