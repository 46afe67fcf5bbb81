"""The one loader of domains and algorithms: the built-ins, then installed plug-ins.

A plug-in is any installed package that declares an entry point in the `dtbench.plugins`
group, naming a function that registers what it adds, e.g. in its pyproject.toml:

    [project.entry-points."dtbench.plugins"]
    iql = "dtbench_iql:register"

where `dtbench_iql.register()` calls `baselines.register_d3rlpy("iql", ...)` (or
`dtbench.registry.register_algo` / `register_domain`). After `pip install` it appears in
`dtbench list` and runs like a built-in; dtbench itself is not edited.
"""

from __future__ import annotations

import importlib

from dtbench.errors import DTBenchError

GROUP = "dtbench.plugins"
# Built-in modules, each with a `register()`; algorithms first, so `dtbench list` keeps its order
BUILTINS = (
    "baselines.builtin",
    "dtbench.algos.dt",
    "dtbench.algos.bc_paper",
    "dtbench.domains.atari",
    "dtbench.domains.graph",
    "dtbench.domains.keydoor",
    "dtbench.domains.mujoco",
)

_loaded = False


def load() -> None:
    """Register the built-ins and every installed plug-in (once per process; the registry
    calls it before its first lookup)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    from importlib import metadata  # 80 ms of e-mail parsing: not for `dtbench --help`

    for name in BUILTINS:
        importlib.import_module(name).register()
    for entry in metadata.entry_points(group=GROUP):
        try:
            register = entry.load()
            register()
        except Exception as exc:  # noqa: BLE001 - a broken plug-in: say which, and how to fix
            where = entry.dist.name if entry.dist is not None else entry.value
            raise DTBenchError(f"plug-in {entry.name!r} ({entry.value}) failed to load: "
                               f"{type(exc).__name__}: {exc}; fix or uninstall {where}") from None
