"""Shortest path on a fixed random directed graph, posed as RL (paper Figure 2 and Figure 6).

The paper's toy: a random directed graph of 20 nodes with edge probability 0.1, 1,000 random
walks of 10 steps as data, reward -1 per step and 0 at the goal; a DT conditioned on the best
return finds shortest paths although the data holds only random walks. The paper never
released it, so this is dtbench's own version of that description:

* The graph is drawn once from `graph_seed` (every ordered pair of distinct nodes is an edge
  with probability `edge_prob`). The goal is fixed: the node that the most other nodes can
  reach (ties: the lowest index), so that most start nodes have a path.
* The observation is the current node, one-hot (so the linear encoder of the Gym domains fits);
  the action is the index of the next node. A move along an existing edge goes there; any other
  action leaves the agent where it is (the paper's rule).
* Each step pays -1, the step that arrives at the goal pays 0 and ends the episode; an episode
  that has not arrived after `max_steps` steps is truncated. A path of L steps therefore returns
  -(L - 1), and a miss returns -max_steps, so a return above -max_steps means "reached".
* Start nodes are drawn at reset among the nodes other than the goal (seeded), so every
  algorithm meets the same starts through the shared evaluator's reset seeds.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

ENV_ID = "dtbench/ShortestPath-v1"


def random_graph(n_nodes: int, edge_prob: float, seed: int) -> np.ndarray:
    """Adjacency matrix (bool, [from, to]) of a random directed graph without self-loops."""
    adjacency = np.random.default_rng(seed).random((n_nodes, n_nodes)) < edge_prob
    np.fill_diagonal(adjacency, False)
    return adjacency


def distances_to(adjacency: np.ndarray, goal: int) -> np.ndarray:
    """Fewest edges from every node to `goal` (BFS over reversed edges); -1 where unreachable."""
    dist = np.full(len(adjacency), -1, dtype=np.int64)
    dist[goal] = 0
    queue = deque([goal])
    while queue:
        node = queue.popleft()
        for parent in np.flatnonzero(adjacency[:, node]):
            if dist[parent] < 0:
                dist[parent] = dist[node] + 1
                queue.append(parent)
    return dist


def best_goal(adjacency: np.ndarray) -> int:
    """The node that the most other nodes can reach (lowest index on ties)."""
    reach = [(distances_to(adjacency, g) > 0).sum() for g in range(len(adjacency))]
    return int(np.argmax(reach))


class ShortestPathEnv(gymnasium.Env):
    """Walk a fixed random directed graph to its goal node; -1 per step, 0 on arrival.

    ``info`` holds ``node``, ``goal`` and ``distance`` (the fewest steps from the current node
    to the goal, -1 when it cannot be reached).
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, n_nodes: int = 20, edge_prob: float = 0.1, graph_seed: int = 0,
                 max_steps: int = 10, start_nodes: tuple[int, ...] | None = None) -> None:
        if n_nodes < 2 or not 0.0 < edge_prob <= 1.0 or max_steps < 1:
            raise ValueError(f"need n_nodes >= 2, 0 < edge_prob <= 1, max_steps >= 1; got "
                             f"{n_nodes}, {edge_prob}, {max_steps}")
        self.adjacency = random_graph(n_nodes, edge_prob, graph_seed)
        self.goal = best_goal(self.adjacency)
        # episodes start uniformly at these nodes (default: every node but the goal)
        self.start_nodes = None if start_nodes is None else tuple(int(n) for n in start_nodes)
        if self.start_nodes is not None and (not self.start_nodes or self.goal in
                                             self.start_nodes):
            raise ValueError(f"start_nodes must be non-empty and exclude the goal "
                             f"{self.goal}; got {self.start_nodes}")
        self.distances = distances_to(self.adjacency, self.goal)
        self.max_steps = int(max_steps)
        self.observation_space = spaces.Box(0.0, 1.0, shape=(n_nodes,), dtype=np.float32)
        self.action_space = spaces.Discrete(n_nodes)
        self.node = 0
        self.t = 0

    @property
    def n_nodes(self) -> int:
        return len(self.adjacency)

    def _obs(self) -> np.ndarray:
        obs = np.zeros(self.n_nodes, dtype=np.float32)
        obs[self.node] = 1.0
        return obs

    def _info(self) -> dict[str, Any]:
        return {"node": self.node, "goal": self.goal, "distance": int(self.distances[self.node])}

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        if self.start_nodes is None:
            start = int(self.np_random.integers(self.n_nodes - 1))
            self.node = start + (start >= self.goal)  # uniform over the nodes but the goal
        else:
            self.node = self.start_nodes[int(self.np_random.integers(len(self.start_nodes)))]
        self.t = 0
        return self._obs(), self._info()

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self.adjacency[self.node, int(action)]:
            self.node = int(action)
        self.t += 1
        arrived = self.node == self.goal
        truncated = not arrived and self.t >= self.max_steps
        return self._obs(), 0.0 if arrived else -1.0, arrived, truncated, self._info()


def random_walk_step(env: ShortestPathEnv, rng: np.random.Generator) -> int:
    """A random walk's next move: a uniformly chosen out-edge (any node where there is none,
    which leaves the agent in place)."""
    out = np.flatnonzero(env.adjacency[env.node])
    return int(rng.choice(out)) if len(out) else int(rng.integers(env.n_nodes))


def random_walk_episodes(n_episodes: int, seed: int,
                         **env_kwargs: Any) -> list[dict[str, np.ndarray]]:
    """Random walks along out-edges, the paper's offline data: episode i resets with seed + i,
    moves come from ``np.random.default_rng(seed)``. Minari-style dicts (observations include
    the final one)."""
    env = ShortestPathEnv(**env_kwargs)
    rng = np.random.default_rng(seed)
    episodes = []
    for i in range(n_episodes):
        obs, _ = env.reset(seed=seed + i)
        observations, actions, rewards = [obs], [], []
        done = truncated = False
        while not (done or truncated):
            action = random_walk_step(env, rng)
            obs, reward, done, truncated, _ = env.step(action)
            observations.append(obs)
            actions.append(action)
            rewards.append(reward)
        terminations = np.zeros(len(actions), dtype=bool)
        truncations = np.zeros(len(actions), dtype=bool)
        terminations[-1], truncations[-1] = done, truncated
        episodes.append({"observations": np.stack(observations),
                         "actions": np.asarray(actions, dtype=np.int64),
                         "rewards": np.asarray(rewards, dtype=np.float32),
                         "terminations": terminations, "truncations": truncations})
    return episodes


def holds_optimal_walk(nodes: np.ndarray, held_out: tuple[int, ...],
                       distances: np.ndarray) -> bool:
    """Whether a walk (its node at every step, the start included) passes a held-out node and
    from there reaches the goal in exactly that node's BFS distance: an optimal walk from it."""
    nodes = np.asarray(nodes)
    goal_at = np.flatnonzero(distances[nodes] == 0)
    if not len(goal_at):
        return False
    for t in np.flatnonzero(np.isin(nodes[:goal_at[0]], held_out)):
        if goal_at[0] - t == distances[nodes[t]]:
            return True
    return False


def stitching_episodes(n_episodes: int, seed: int, held_out: tuple[int, ...],
                       **env_kwargs: Any) -> list[dict[str, np.ndarray]]:
    """Random walks (as `random_walk_episodes`, from every start) with every walk that holds
    an optimal walk from a held-out node left out, drawn until `n_episodes` are kept: the data
    shows walks from the held-out nodes and the sub-paths of optimal paths that other starts
    reach, never an optimal walk from a held-out node. A policy that reaches the goal from one
    in its shortest distance has composed a path it never saw."""
    env = ShortestPathEnv(**env_kwargs)
    kept: list[dict[str, np.ndarray]] = []
    offset = 0
    while len(kept) < n_episodes:
        batch = random_walk_episodes(n_episodes, seed + offset, **env_kwargs)
        for episode in batch:
            nodes = episode["observations"].argmax(axis=1)
            if not holds_optimal_walk(nodes, held_out, env.distances):
                kept.append(episode)
        offset += 1_000_003  # fresh reset seeds and moves for the next batch
    return kept[:n_episodes]


def steps_to_goal(returns: np.ndarray, lengths: np.ndarray, max_steps: int) -> np.ndarray:
    """Steps each episode took to reach the goal, -1 for episodes that never arrived."""
    reached = np.asarray(returns) > -max_steps
    return np.where(reached, np.asarray(lengths), -1)


if ENV_ID not in gymnasium.registry:
    gymnasium.register(id=ENV_ID, entry_point="dtbench.domains.graph.env:ShortestPathEnv",
                       max_episode_steps=None)
