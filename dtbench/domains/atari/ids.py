"""Minari ids of the Atari datasets generated here (shared by the domain and `generate.py`)."""


def local_dataset_id(game: str, name: str = "mixed") -> str:
    """Minari id of a dataset generated here."""
    return f"dtbench/atari/{game}/{name}-v0"
