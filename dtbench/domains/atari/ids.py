"""Names of the Atari games, their environments and the datasets generated here (shared by the
domain, `env.py` and `generate.py`), apart from `env.py` so that registering the domain
imports neither ale-py nor gymnasium's wrappers."""

GAMES = {"breakout": "Breakout", "qbert": "Qbert", "pong": "Pong", "seaquest": "Seaquest"}
FRAME_STACK = 4


def env_id(game: str) -> str:
    return f"{GAMES[game]}NoFrameskip-v4"


def local_dataset_id(game: str, name: str = "mixed") -> str:
    """Minari id of a dataset generated here."""
    return f"dtbench/atari/{game}/{name}-v0"
