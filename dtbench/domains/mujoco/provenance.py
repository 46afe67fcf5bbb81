"""A generated MuJoCo dataset's origin in words, from its provenance (`minari_io.provenance`,
or the copy a run records in its config.json): what `dtbench data info` prints and the MuJoCo
tier's caption quotes. Imported by neither the domain nor the executor, so no run's
fingerprint depends on it."""

from __future__ import annotations

from typing import Any


def describe(made: dict[str, Any]) -> str:
    """`SAC for 300,000 steps (budget bench, seed 0): expert 3,056 at step 260,000, medium
    1,019 at step 220,000; 2.04 h wall (1.98 h of SAC)`; older generations recorded no wall
    time."""
    wall = made.get("wall_seconds")
    cost = f"{wall / 3600:.2f} h wall" if wall is not None else "wall time not recorded"
    return (f"SAC for {made['sac_steps']:,} steps (budget {made['budget']}, seed "
            f"{made['seed']}): expert {made['expert_return']:,.0f} at step "
            f"{made['expert_step']:,}, medium {made['medium_return']:,.0f} at step "
            f"{made['medium_step']:,}; {cost} ({made['sac_seconds'] / 3600:.2f} h of SAC)")
