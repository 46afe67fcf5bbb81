"""Analyses of trained runs beyond scoring them (DT as a critic)."""
