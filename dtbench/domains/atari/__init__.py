"""Atari domain (paper Table 1): Breakout, Qbert, Pong, Seaquest on DQN-replay-style data.

Three routes per game, each a dataset name of its own so every result says which data made it:
`mixed` is generated here (scripted RAM trackers mixed with random actions, `generate.py`),
`dqn-replay` samples the paper's 1% of the DQN-replay data from dopamine checkpoint files
(`dtbench.data.dqn_replay`), and `minari-expert` reads Minari's `atari/<game>/expert-v0`
(raw RGB frames, converted to 84x84 grayscale here). Every frame is stored once (uint8
84x84); 4-frame stacks are gathered by index when sampled. Scores are gamer-normalised with
the paper's constants.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from dtbench.config import Settings
from dtbench.data.download import RemoteFile
from dtbench.data.store import TrajectoryStore
from dtbench.domains.atari.ids import FRAME_STACK, GAMES, env_id, local_dataset_id
from dtbench.domains.atari.profiles import DQN_REPLAY_STEPS, PAPER, PONG, QUICK, SMOKE
from dtbench.registry import PAPER_ALGOS, DatasetSpec, Domain, Grid, Task, register_domain
from dtbench.runtime import PROJECT_ROOT

# Gamer normalisation (Hafner et al. 2020): the constants that reproduce the paper's Table 1 from
# its raw scores (Table 12); DreamerV2's baselines, rounded: (random, professional gamer).
GAMER_SCORES = {"breakout": (2.0, 30.0), "qbert": (164.0, 13455.0), "pong": (-21.0, 15.0),
                "seaquest": (68.0, 42055.0)}
# Target returns: the paper's Table 8 (the official code used Qbert 14000, Seaquest 1150).
TARGETS = {"breakout": 90.0, "qbert": 2500.0, "pong": 20.0, "seaquest": 1450.0}
CODE_TARGETS = {"breakout": 90.0, "qbert": 14000.0, "pong": 20.0, "seaquest": 1150.0}
DQN_REPLAY_URL = "gs://atari-replay-datasets/dqn"
DQN_REPLAY_HTTPS = "https://storage.googleapis.com/atari-replay-datasets/dqn"


def normalize(game: str, returns: np.ndarray) -> np.ndarray:
    """Gamer-normalised score: 100 * (score - random) / (gamer - random)."""
    low, high = GAMER_SCORES[game]
    return 100.0 * (np.asarray(returns, dtype=np.float64) - low) / (high - low)


def dqn_replay_dir(game: str) -> Path:
    """`$DTBENCH_DQN_REPLAY_DIR/<Game>/1/replay_logs` (default data/dqn-replay/...): run 1."""
    root = Path(os.environ.get("DTBENCH_DQN_REPLAY_DIR", PROJECT_ROOT / "data" / "dqn-replay"))
    return root / GAMES[game] / "1" / "replay_logs"


def dqn_replay_url() -> str:
    """Base URL of the DQN-replay bucket over HTTPS: $DTBENCH_DQN_REPLAY_URL, by default the
    public bucket (no gsutil needed)."""
    return os.environ.get("DTBENCH_DQN_REPLAY_URL", DQN_REPLAY_HTTPS).rstrip("/")


def _dqn_replay_spec(game: str) -> DatasetSpec:
    directory = dqn_replay_dir(game)
    how = (f"download it with `dtbench data download atari/{game} -d dqn-replay` (or by hand: "
           f"`gsutil -m cp -R {DQN_REPLAY_URL}/{GAMES[game]}/1 {directory.parent.parent}/`; "
           "or set $DTBENCH_DQN_REPLAY_DIR)")

    def remote() -> list[RemoteFile]:
        """The four arrays of each of the 50 checkpoints the paper's 1% recipe samples."""
        from urllib.parse import quote

        from dtbench.data.download import verify_gzip_npy
        from dtbench.data.dqn_replay import FIELDS, checkpoint_file

        base = f"{dqn_replay_url()}/{GAMES[game]}/1/replay_logs"
        return [RemoteFile(f"{base}/{quote(path.name)}", path, verify_gzip_npy)
                for n in range(50) for name in FIELDS
                if (path := checkpoint_file(dqn_replay_dir(game), name, n))]

    def load(how_to_get: str) -> TrajectoryStore:
        from dtbench.data.dqn_replay import sample_dataset

        return sample_dataset(dqn_replay_dir(game), num_steps=DQN_REPLAY_STEPS,
                              how_to_get=how_to_get)

    def present() -> bool:  # any checkpoint: the sampler uses the ones there (listing the rest)
        from dtbench.data.dqn_replay import present_checkpoints

        return bool(present_checkpoints(dqn_replay_dir(game)))

    def files() -> list[Path]:  # the four arrays of each checkpoint the sampler reads
        from dtbench.data.dqn_replay import FIELDS, checkpoint_file, present_checkpoints

        directory = dqn_replay_dir(game)
        return [checkpoint_file(directory, name, n) for n in present_checkpoints(directory)
                for name in FIELDS]

    return DatasetSpec("dqn-replay", f"dqn-replay/{game}/1", how_to_get=how, load=load,
                       present=present, source="DQN-replay 1% (run 1)", files=files,
                       remote=remote, route="dqn-replay")


def _minari_spec(game: str) -> DatasetSpec:
    dataset_id = f"atari/{game}/expert-v0"

    def load(how_to_get: str) -> TrajectoryStore:
        from dtbench.data import minari_io
        from dtbench.domains.atari.frames import rgb_to_frames

        store = minari_io.load_store(dataset_id, how_to_get=how_to_get, download=True)
        return rgb_to_frames(store)

    return DatasetSpec("minari-expert", dataset_id, load=load, download=True,
                       how_to_get=f"download it where there is network (`minari download "
                                  f"{dataset_id}`) into the Minari store",
                       source="Minari atari/*/expert-v0 (10 PPO episodes)", route="minari")


def _local_spec(game: str) -> DatasetSpec:
    def make(budget: str) -> None:
        from dtbench.domains.atari.generate import generate

        generate(game, budget)

    return DatasetSpec("mixed", local_dataset_id(game), make=make,
                       how_to_get=f"generate it with `dtbench data make atari/{game}`",
                       source="dtbench-generated (scripted + random mix)")


def _make_env(task: Task, settings: Settings):  # noqa: ANN202 - gymnasium.Env
    from dtbench.domains.atari.env import make_atari_env  # ale-py, when an env is made

    return make_atari_env(task.name, sticky_actions=settings.eval.sticky_actions)



DOMAIN = Domain(
    name="atari",
    tasks={
        game: Task(
            name=game,
            env_id=env_id(game),
            datasets={spec.name: spec for spec in (_local_spec(game), _dqn_replay_spec(game),
                                                   _minari_spec(game))},
            overrides={"eval.target_returns": (TARGETS[game],)},
            profile_overrides={"paper": PONG} if game == "pong" else {},
        )
        for game in GAMES
    },
    encoder="nature_cnn",
    action_kind="discrete",
    settings={"smoke": SMOKE, "quick": QUICK, "paper": PAPER},
    normalize=normalize,
    score_label="gamer-normalised score",
    # quick: the two games with scripted trackers, on locally generated data; paper: the
    # paper's four games on 1% DQN-replay, the official three seeds
    grids={
        "quick": Grid(("pong", "breakout"), ("mixed",)),
        # the official scripts' seeds (atari/run.sh)
        # with Table 4's %BC, Table 5's K=1 and Figure 4's target sweeps as parts
        # BC and %BC are the paper's own (`bc-paper`: DT without return tokens), not d3rlpy's
        "paper": Grid(tuple(GAMES), ("dqn-replay",), PAPER_ALGOS, seeds=(123, 231, 312),
                      real_data=True, parts=(
                          Grid(tuple(GAMES), ("dqn-replay",), ("bc25-paper", "bc40-paper"),
                               seeds=(123, 231, 312)),
                          Grid(tuple(GAMES), ("dqn-replay",), ("dt",), seeds=(123, 231, 312),
                               overrides=(("model.context_len", 1),)),
                          Grid(tuple(GAMES), ("dqn-replay",), ("dt",), seeds=(123, 231, 312),
                               overrides=(("eval.target_sweep", 8),)),
                      )),
    },
    description="Atari (Breakout, Qbert, Pong, Seaquest) on DQN-replay-style data (Table 1)",
    make_env=_make_env,
    frame_stack=FRAME_STACK,
)


def register() -> None:
    """Register the domain (called by `dtbench.plugins.load`)."""
    register_domain(DOMAIN)
