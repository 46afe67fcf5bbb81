"""dtbench's own algorithms (the d3rlpy baselines live in `baselines/`): `dt.py` the Decision
Transformer, `bc_paper.py` the paper's own BC and %BC. Each module's `register()` is called by
`dtbench.plugins.load`."""
