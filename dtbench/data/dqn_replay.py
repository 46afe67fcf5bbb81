"""The DQN-replay dataset (Agarwal et al. 2020), read as the DT paper's `create_dataset.py`
sampled it: the paper's "1%" is 500k transitions of run 1.

Format (dopamine's checkpointed replay buffers, one folder per game and run,
`<game>/1/replay_logs/`): for each checkpoint n = 0..49 the files
`$store$_<name>_ckpt.<n>.gz`, each a gzipped `np.save` of one array over the buffer's slots:
`observation` (C, 84, 84) uint8 (single frames), `action` (C,) int32, `reward` (C,) float32 (raw
game reward; DQN clips only in its loss), `terminal` (C,) uint8. Dopamine writes `stack - 1`
all-zero padding transitions before each episode (so stacks start on zero frames).

Sampling (the official code): repeatedly pick one of the last `num_buffers` checkpoints that
are on disk uniformly (seeded here; the official `FixedReplayBuffer` loads the ones that are
there; the missing ones are listed in one line), read its slots sequentially from where that
checkpoint was last left (starting at slot 0) until `trajectories_per_buffer` + 1 terminals;
only the first `max_slots` (100k) slots of a checkpoint are used, and a visit that runs past
them is thrown away. Stop once `num_steps` transitions are in. Differences from the official
code (listed in docs/implementation-details.md): dopamine's zero padding transitions are
dropped (the official code kept them as steps with all-zero states), and the stop/discard rules
apply to steps kept.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from dtbench.data.store import TrajectoryStore
from dtbench.errors import DTBenchError

FIELDS = ("observation", "action", "reward", "terminal")
FRAME_STACK = 4


def checkpoint_file(directory: Path, name: str, ckpt: int) -> Path:
    return Path(directory) / f"$store$_{name}_ckpt.{ckpt}.gz"


def present_checkpoints(directory: Path, candidates: range = range(50)) -> list[int]:
    """The checkpoints whose four files are all in `directory`."""
    return [n for n in candidates
            if all(checkpoint_file(directory, name, n).is_file() for name in FIELDS)]


def read_array(path: Path, max_rows: int | None = None, how_to_get: str = "") -> np.ndarray:
    """One gzipped `.npy` file, only its first `max_rows` rows (a checkpoint's frames are
    7 GB; the paper's sampling uses the first 100k slots, read sequentially from the stream)."""
    if not path.is_file():
        raise DTBenchError(f"DQN-replay file {path} not found; "
                           f"{how_to_get or 'download the DQN-replay data for this game'}")
    try:
        with gzip.open(path, "rb") as f:
            fmt = np.lib.format
            version = fmt.read_magic(f)
            read_header = {(1, 0): fmt.read_array_header_1_0,
                           (2, 0): fmt.read_array_header_2_0}.get(version)
            if read_header is None:
                raise ValueError(f"unsupported .npy version {version}")
            shape, fortran, dtype = read_header(f)
            rows = shape[0] if max_rows is None else min(shape[0], max_rows)
            count = rows * int(np.prod(shape[1:], dtype=np.int64))
            data = f.read(count * dtype.itemsize)
        if fortran or len(data) != count * dtype.itemsize:
            raise ValueError("truncated or Fortran-ordered array")
        return np.frombuffer(data, dtype=dtype).reshape(rows, *shape[1:])
    except (OSError, EOFError, ValueError) as exc:
        raise DTBenchError(f"DQN-replay file {path} could not be read ({exc}); it is "
                           "corrupt or truncated - download it again") from exc


def sample_dataset(directory: Path, num_steps: int = 500_000, num_buffers: int = 50,
                   trajectories_per_buffer: int = 10, max_slots: int = 100_000,
                   seed: int = 0, how_to_get: str = "") -> TrajectoryStore:
    """Episodes sampled from the checkpoints as the paper's create_dataset does (see above).
    The visits are planned on the small arrays first; then each checkpoint's frames are read
    once, up to the last slot used, so memory holds one checkpoint's frames at a time."""
    directory = Path(directory)
    rng = np.random.default_rng(seed)
    small: dict[int, dict[str, np.ndarray]] = {}
    wanted = range(50 - num_buffers, 50)
    present = present_checkpoints(directory, wanted)
    if not present:
        raise DTBenchError(f"no DQN-replay checkpoint files in {directory}; "
                           f"{how_to_get or 'download the DQN-replay data for this game'}")
    missing = [n for n in wanted if n not in present]
    if missing:
        import sys

        print(f"dtbench: DQN-replay in {directory}: sampling {len(present)} of {len(wanted)} "
              f"checkpoints; missing: {_ranges(missing)}", file=sys.stderr)
    position = dict.fromkeys(present, 0)
    plan: list[tuple[int, np.ndarray]] = []  # (checkpoint, slots) per episode, in order
    total = 0
    while total < num_steps and position:
        ckpt = int(rng.choice(list(position)))
        if ckpt not in small:
            small[ckpt] = {name: read_array(checkpoint_file(directory, name, ckpt), max_slots,
                                            how_to_get) for name in FIELDS if name != "observation"}
            head = read_array(checkpoint_file(directory, "observation", ckpt), FRAME_STACK - 1,
                              how_to_get)
            small[ckpt]["head_zero"] = ~head.reshape(len(head), -1).any(axis=1)
        visit, end = _visit(small[ckpt], position[ckpt], trajectories_per_buffer)
        if end is None:  # runs past the usable slots: dropped, as the official code does;
            del position[ckpt]  # this checkpoint has nothing more to give
            continue
        position[ckpt] = end
        plan += [(ckpt, rows) for rows in visit]
        total += sum(len(rows) for rows in visit)
    if not plan:
        raise DTBenchError(f"no complete episodes in the first {max_slots} slots of the "
                           f"checkpoints in {directory}; is it DQN-replay data?")
    frames: dict[int, list[np.ndarray]] = {}
    for ckpt in sorted({c for c, _ in plan}):
        mine = [rows for c, rows in plan if c == ckpt]
        obs = read_array(checkpoint_file(directory, "observation", ckpt),
                         int(max(rows[-1] for rows in mine)) + 1, how_to_get)
        if obs.shape[1:] != (84, 84):
            raise DTBenchError(f"{checkpoint_file(directory, 'observation', ckpt)}: frames of "
                               f"shape {obs.shape[1:]}, expected (84, 84)")
        frames[ckpt] = [obs[rows] for rows in mine]
    episodes = []
    for ckpt, rows in plan:
        episodes.append(_episode(small[ckpt], rows, frames[ckpt].pop(0)))
    return TrajectoryStore.from_episodes(episodes, frame_stack=FRAME_STACK,
                                         source="DQN-replay", directory=str(directory))


def _ranges(numbers: list[int]) -> str:
    """[0, 1, 2, 5, 7, 8] -> "0-2, 5, 7-8"."""
    groups: list[list[int]] = []
    for n in numbers:
        if groups and n == groups[-1][-1] + 1:
            groups[-1].append(n)
        else:
            groups.append([n])
    return ", ".join(f"{g[0]}-{g[-1]}" if len(g) > 1 else str(g[0]) for g in groups)


def _visit(data: dict[str, np.ndarray], start: int,
           trajectories: int) -> tuple[list[np.ndarray], int | None]:
    """Slots of the episodes read from `start` until `trajectories` + 1 terminals (the official
    loop stops at the terminal after its counter reaches 0), and the next slot; None when the
    usable slots end first."""
    ends = np.flatnonzero(data["terminal"][start:]) + start
    if len(ends) < trajectories + 1:
        return [], None
    episodes, first = [], start
    for last in ends[: trajectories + 1]:
        rows = np.arange(first, last + 1)
        rows = rows[_padding_run(data, rows):]
        if len(rows):
            episodes.append(rows)
        first = last + 1
    return episodes, int(first)


def _padding_run(data: dict[str, np.ndarray], rows: np.ndarray) -> int:
    """How many of the first rows are dopamine's zero padding: the `FRAME_STACK - 1` slots
    after a terminal. At slot 0 (a circular buffer's first slot usually continues an episode)
    the leading transitions count as padding only where their frames are zero too
    (`data["head_zero"]`: which of the checkpoint's first slots hold all-zero frames)."""
    first = int(rows[0])
    pad = rows[: FRAME_STACK - 1]
    blank = (data["action"][pad] == 0) & (data["reward"][pad] == 0)
    if first == 0:
        blank &= data["head_zero"][: len(pad)]
        return int(np.argmin(blank)) if not blank.all() else len(pad)
    if not data["terminal"][first - 1]:
        return 0
    if len(pad) < FRAME_STACK - 1 or not blank.all():
        raise DTBenchError(f"DQN-replay slots {first}..{first + FRAME_STACK - 2} after a terminal "
                           "are not dopamine's zero padding; the files are not DQN-replay data")
    return FRAME_STACK - 1


def _episode(data: dict[str, np.ndarray], rows: np.ndarray,
             frames: np.ndarray) -> dict[str, np.ndarray]:
    t = len(rows)
    terminated = np.zeros(t, bool)
    terminated[-1] = bool(data["terminal"][rows[-1]])
    # Minari layout: T+1 observations; the frame after the terminal one is not stored
    return {"observations": np.concatenate([frames, frames[-1:]]),
            "actions": data["action"][rows].astype(np.int64),
            "rewards": data["reward"][rows].astype(np.float32),
            "terminations": terminated, "truncations": np.zeros(t, bool)}
