"""Built-in domains, one package each; each package's `register()` is called by
`dtbench.plugins.load`."""
