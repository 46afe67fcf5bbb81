"""The MuJoCo tasks' env ids and the Minari ids of the datasets generated here (shared by the
domain, its profiles and `generate.py`)."""

ENV_IDS = {"hopper": "Hopper-v5", "halfcheetah": "HalfCheetah-v5", "walker2d": "Walker2d-v5"}

# Generation budgets whose datasets carry the budget in their name (`bench-medium`): they are a
# benchmark's data of their own, never read where the plain names (`medium`) are, so one id
# names one recipe. The other budgets (smoke, quick, paper) make the plain names.
NAMED_BUDGETS = ("bench",)


def local_dataset_id(task: str, dataset: str, budget: str = "quick") -> str:
    """Minari id of a dataset generated here by `budget`."""
    name = f"{budget}-{dataset}" if budget in NAMED_BUDGETS else dataset
    return f"dtbench/mujoco/{task}/{name}-v1"
