"""dtbench: Decision Transformer beside offline-RL baselines.

Importing the package hands the registry its loader, so that the first lookup registers the
built-in domains and algorithms and the installed plug-ins (`dtbench.plugins.load`) whoever
makes it: `from dtbench import registry; registry.resolve("mujoco/hopper")` needs no set-up.
Neither module imports torch or a domain's environment.
"""

from dtbench import plugins, registry

registry.set_loader(plugins.load)
