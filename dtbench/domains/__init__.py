"""Built-in domains; importing a domain module registers it."""

from dtbench.domains import (
    atari,  # noqa: F401
    graph,  # noqa: F401
    keydoor,  # noqa: F401
    mujoco,  # noqa: F401
)
