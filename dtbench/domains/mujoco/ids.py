"""Minari ids of the MuJoCo datasets generated here (shared by the domain and `generate.py`)."""


def local_dataset_id(task: str, dataset: str) -> str:
    """Minari id of a dataset generated here."""
    return f"dtbench/mujoco/{task}/{dataset}-v1"
