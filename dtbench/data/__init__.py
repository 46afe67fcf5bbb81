"""Trajectory data: the store, the window sampler, transforms, Minari I/O."""
