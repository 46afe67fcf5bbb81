"""dtbench's own algorithms (the d3rlpy baselines live in `baselines/`): `dt.py` the Decision
Transformer. Each module's `register()` is called by `dtbench.plugins.load`."""
