"""dtbench: Decision Transformer beside offline-RL baselines.

Importing the package hands the registry its loader, so that the first lookup registers the
built-in domains and algorithms and the installed plug-ins (`dtbench.plugins.load`) whoever
makes it: `from dtbench import registry; registry.resolve("mujoco/hopper")` needs no set-up.
Neither module imports torch or a domain's environment. It also pins CPU runs to AVX2 kernels
(`dtbench.hardware`), so that they reproduce to the bit across x86 CPUs.
"""

from dtbench import hardware

hardware.pin_cpu_isa()  # before anything imports torch (dtbench/hardware.py says why)

from dtbench import plugins, registry  # noqa: E402 - after the pin, which must come first

registry.set_loader(plugins.load)
