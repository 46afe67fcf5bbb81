"""Built-in domains; importing a domain module registers it."""

from dtbench.domains import (
    keydoor,  # noqa: F401
    mujoco,  # noqa: F401
)
