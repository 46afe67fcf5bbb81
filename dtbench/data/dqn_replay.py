"""The DQN-replay dataset (Agarwal et al. 2020), read as the DT paper's `create_dataset.py`
read it: the paper's "1%" is 500k transitions of run 1.

Format (dopamine's checkpointed replay buffers, one folder per game and run,
`<game>/1/replay_logs/`): for each checkpoint n = 0..49 the files
`$store$_<name>_ckpt.<n>.gz`, each a gzipped `np.save` of one array over the buffer's C slots
(a circular buffer: C = 1M, the newest slot just before the cursor): `observation` (C, 84, 84)
uint8 (single frames), `action` (C,) int32, `reward` (C,) float32 (raw game reward; DQN clips
only in its loss), `terminal` (C,) uint8. Before each episode dopamine adds `stack - 1` padding
transitions (zero frame, action 0, reward 0, not terminal).

Sampling (the official code): repeatedly pick one of the last `num_buffers` checkpoints that
are on disk uniformly (seeded here; the official `FixedReplayBuffer` loads the ones that are
there; the missing ones are listed in one line), read its slots sequentially from where that
checkpoint was last left (starting at slot 0) until `trajectories_per_buffer` + 1 terminals;
only the first `max_slots` (100k) slots of a checkpoint are used, and a visit that runs past
them is thrown away. Stop once `num_steps` transitions are in. As the official code, every slot
read is a step, padding transitions included (they open the episode after a terminal), and the
state at slot i is dopamine's stack of slots i-3..i taken modulo C (`get_range`): no masking at
episode starts, so a padding step's stack shows the previous episode's last frames, and slots
0-2 of a checkpoint show its last slots. Frames are stored once; the three frames before each
episode's first slot go to `TrajectoryStore.lead_frames`, from which the sampler builds those
stacks. A checkpoint's last slots sit at the end of its 7 GB gzip stream: they are read once and
kept in dtbench's cache (`file_cache`).
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from dtbench.data.file_cache import cached_array
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


def _read(path: Path, how_to_get: str, rows: int | None = None,
          skip: int = 0) -> tuple[np.ndarray, int]:
    """Rows `skip`..`skip + rows` of a gzipped `.npy` file (to its end when `rows` is None) and
    the file's row count; the rows skipped are decompressed and thrown away."""
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
            if fortran:
                raise ValueError("Fortran-ordered array")
            row_bytes = int(np.prod(shape[1:], dtype=np.int64)) * dtype.itemsize
            skip = min(skip, shape[0])
            take = shape[0] - skip if rows is None else min(shape[0] - skip, rows)
            if skip:
                f.seek(f.tell() + skip * row_bytes)
            data = f.read(take * row_bytes)
        if len(data) != take * row_bytes:
            raise ValueError("truncated array")
        return np.frombuffer(data, dtype=dtype).reshape(take, *shape[1:]), int(shape[0])
    except (OSError, EOFError, ValueError, zlib.error) as exc:
        raise DTBenchError(f"DQN-replay file {path} could not be read ({exc}); it is "
                           "corrupt or truncated - download it again") from exc


def read_array(path: Path, max_rows: int | None = None, how_to_get: str = "") -> np.ndarray:
    """One gzipped `.npy` file, only its first `max_rows` rows (a checkpoint's frames are
    7 GB; the paper's sampling uses the first 100k slots, read sequentially from the stream)."""
    return _read(path, how_to_get, max_rows)[0]


def wrap_frames(path: Path, capacity: int, how_to_get: str = "") -> np.ndarray:
    """Slots capacity-3..capacity-1 of a checkpoint's frames: what the stacks of its slots 0-2
    show (dopamine's `get_range` wraps modulo the buffer's capacity, which the official code
    sets to 100k, the slots it reads). Kept in the cache: reaching them means decompressing
    700 MB of the stream."""
    lead = FRAME_STACK - 1
    return cached_array(f"dqn-replay-wrap-{capacity}", path,
                        lambda: _read(path, how_to_get, lead, skip=capacity - lead)[0])


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
    frames: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
    for ckpt in sorted({c for c, _ in plan}):
        mine = [rows for c, rows in plan if c == ckpt]
        path = checkpoint_file(directory, "observation", ckpt)
        obs, slots = _read(path, how_to_get, int(max(rows[-1] for rows in mine)) + 1)
        if obs.shape[1:] != (84, 84):
            raise DTBenchError(f"{path}: frames of shape {obs.shape[1:]}, expected (84, 84)")
        capacity = min(slots, max_slots)  # the official buffer's: stacks wrap modulo it
        lead = FRAME_STACK - 1
        read = len(obs)
        if any(rows[0] < lead for rows in mine):  # stacks of slots 0-2 wrap round to the end
            obs = np.concatenate([obs, wrap_frames(path, capacity, how_to_get)])
        frames[ckpt] = []
        for rows in mine:
            slots = (rows[0] - np.arange(lead, 0, -1)) % capacity  # dopamine's get_range
            at = np.where(slots < read, slots, read + slots - (capacity - lead))
            frames[ckpt].append((obs[rows], obs[at]))
    episodes, leads = [], []
    for ckpt, rows in plan:
        steps, lead = frames[ckpt].pop(0)
        episodes.append(_episode(small[ckpt], rows, steps))
        leads.append(lead)
    return TrajectoryStore.from_episodes(episodes, frame_stack=FRAME_STACK,
                                         lead_frames=np.stack(leads), source="DQN-replay",
                                         directory=str(directory))


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
    usable slots end first. Every slot is a step (dopamine's padding too, as the official)."""
    ends = np.flatnonzero(data["terminal"][start:]) + start
    if len(ends) < trajectories + 1:
        return [], None
    episodes, first = [], start
    for last in ends[: trajectories + 1]:
        episodes.append(np.arange(first, last + 1))
        first = last + 1
    return episodes, int(first)


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
