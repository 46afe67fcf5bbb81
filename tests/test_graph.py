"""The shortest-path graph domain: graph, BFS distances, rules, random walks, the data-best cap."""

from __future__ import annotations

import warnings

import gymnasium
import networkx as nx
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from dtbench.config import ModelConfig
from dtbench.data.state_best import BestReturnFromStart
from dtbench.data.store import TrajectoryStore
from dtbench.domains.graph import make_dataset
from dtbench.domains.graph.env import (
    ENV_ID,
    ShortestPathEnv,
    distances_to,
    random_graph,
    random_walk_episodes,
    steps_to_goal,
)
from dtbench.launchers import launch
from dtbench.models.dt import DecisionTransformer
from dtbench.policies import DTPolicy
from dtbench.report import figures
from dtbench.report.collected import Collected
from dtbench.report.graph import SHORTEST, WALK, graph_table, path_lengths
from dtbench.suite import expand


def _networkx(adjacency: np.ndarray) -> nx.DiGraph:
    graph = nx.DiGraph()
    graph.add_nodes_from(range(len(adjacency)))
    graph.add_edges_from(zip(*np.nonzero(adjacency), strict=True))
    return graph


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize(("n", "p"), [(20, 0.1), (12, 0.3)])
def test_bfs_distances_match_networkx(seed: int, n: int, p: float) -> None:
    adjacency = random_graph(n, p, seed)
    graph = _networkx(adjacency)
    for goal in range(n):
        ours = distances_to(adjacency, goal)
        theirs = nx.single_target_shortest_path_length(graph, goal)
        expected = np.full(n, -1)
        for node, d in dict(theirs).items():
            expected[node] = d
        np.testing.assert_array_equal(ours, expected)


def test_graph_is_the_papers_size_and_the_goal_is_widely_reachable() -> None:
    env = ShortestPathEnv()
    assert env.n_nodes == 20 and env.max_steps == 10
    assert not env.adjacency.diagonal().any()
    reach = [(distances_to(env.adjacency, g) > 0).sum() for g in range(env.n_nodes)]
    assert reach[env.goal] == max(reach)
    assert 0.05 < env.adjacency.mean() < 0.15  # edge probability 0.1


def test_registered_env_passes_checker() -> None:
    env = gymnasium.make(ENV_ID)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped, skip_render_check=True)


def test_moves_follow_edges_only_and_rewards_count_steps() -> None:
    env = ShortestPathEnv()
    obs, info = env.reset(seed=3)
    start = info["node"]
    assert obs.argmax() == start and obs.sum() == 1.0 and start != env.goal
    non_edge = next(j for j in range(env.n_nodes) if not env.adjacency[start, j])
    obs, reward, done, truncated, info = env.step(non_edge)
    assert info["node"] == start and reward == -1.0 and not done and not truncated
    # follow a shortest path: each move lowers the distance by one, arrival pays 0 and ends
    env.reset(seed=3)
    while True:
        node = env.node
        nxt = next(j for j in np.flatnonzero(env.adjacency[node])
                   if env.distances[j] == env.distances[node] - 1)
        _, reward, done, truncated, info = env.step(int(nxt))
        assert info["distance"] == env.distances[node] - 1
        if done:
            assert reward == 0.0 and info["node"] == env.goal
            break
        assert reward == -1.0
    assert env.t == env.distances[start]


def test_episode_truncates_after_max_steps_without_arriving() -> None:
    env = ShortestPathEnv(max_steps=4)
    env.reset(seed=0)
    stay = next(j for j in range(env.n_nodes) if not env.adjacency[env.node, j])
    results = [env.step(stay) for _ in range(4)]
    assert [r[3] for r in results] == [False, False, False, True]
    assert sum(r[1] for r in results) == -4 and not any(r[2] for r in results)


def test_random_walks_move_along_edges_and_returns_encode_arrival() -> None:
    env = ShortestPathEnv()
    episodes = random_walk_episodes(200, seed=5)
    returns, lengths = [], []
    for ep in episodes:
        nodes = ep["observations"].argmax(1)
        for a, b, action in zip(nodes[:-1], nodes[1:], ep["actions"], strict=True):
            # moved along the chosen edge, or stayed where no edge leaves
            assert (b == action and env.adjacency[a, b]) or (b == a and not env.adjacency[a].any())
        assert ep["terminations"][-1] == (nodes[-1] == env.goal)
        assert ep["terminations"][-1] or ep["truncations"][-1] and len(ep["rewards"]) == 10
        returns.append(ep["rewards"].sum())
        lengths.append(len(ep["rewards"]))
    steps = steps_to_goal(np.array(returns), np.array(lengths), env.max_steps)
    arrived = [ep["terminations"][-1] for ep in episodes]
    np.testing.assert_array_equal(steps > 0, arrived)
    assert 0 < np.mean(arrived) < 1


def test_best_return_from_start_caps_targets_at_the_data_best() -> None:
    # A starts two episodes (returns -3 and -1); B starts one (-4) and is passed mid-episode
    # with a better return-to-go (-2), which must not count: only starts are compared
    a, b, c = np.eye(3, dtype=np.float32)
    store = TrajectoryStore.from_episodes([
        {"observations": np.stack([a, b, c]), "actions": np.array([1, 2]),
         "rewards": np.array([-1.0, -2.0]), "terminations": np.array([False, True]),
         "truncations": np.zeros(2, bool)},
        {"observations": np.stack([a, c]), "actions": np.array([2]),
         "rewards": np.array([-1.0]), "terminations": np.array([True]),
         "truncations": np.zeros(1, bool)},
        {"observations": np.stack([b, c]), "actions": np.array([2]),
         "rewards": np.array([-4.0]), "terminations": np.array([True]),
         "truncations": np.zeros(1, bool)},
    ])
    cap = BestReturnFromStart(store)
    unseen = np.array([1.0, 1.0, 0.0], dtype=np.float32)
    capped = cap.cap(np.stack([a, b, unseen]), np.zeros(3))
    np.testing.assert_array_equal(capped, [-1.0, -4.0, 0.0])
    np.testing.assert_array_equal(cap.cap(a[None], np.array([-5.0])), [-5.0])  # min(target, best)


def test_dt_policy_starts_each_episode_at_its_capped_target() -> None:
    env = ShortestPathEnv()
    store = TrajectoryStore.from_episodes(random_walk_episodes(300, seed=1))
    cap = BestReturnFromStart(store)
    cfg = ModelConfig(context_len=10, embed_dim=8, n_layer=1, n_head=1, dropout=0.0,
                      max_ep_len=10)
    model = DecisionTransformer(cfg, (env.n_nodes,), env.n_nodes, True).eval()
    policy = DTPolicy(model, None, None, return_scale=1.0, cap=cap)
    seeds = [*range(6), 56]  # seed 56 starts at node 6, from which no path reaches the goal
    starts = [env.reset(seed=s)[0] for s in seeds]
    policy.reset(len(seeds), target_return=0.0)
    policy.act(np.stack(starts), np.ones(len(seeds), bool))
    np.testing.assert_array_equal(policy.rtg, cap.cap(np.stack(starts), np.zeros(len(seeds))))
    # the data's best from a start is never better than the true shortest path allows
    distance = env.distances[np.stack(starts).argmax(1)]
    assert np.all(policy.rtg[distance > 0] <= -(distance[distance > 0] - 1))
    assert (distance < 0).sum() == 1 and (distance > 0).sum() == 6
    assert np.all(policy.rtg[distance < 0] == -env.max_steps)  # no path: every start misses


@pytest.mark.usefixtures("isolated_minari")
def test_graph_smoke_grid_runs_and_the_report_draws_it(tmp_path) -> None:
    make_dataset("random-walk-1k")
    launch(expand("graph", "smoke"), tmp_path, progress=False)
    collected = Collected.read(tmp_path, "smoke")
    lengths = path_lengths(collected)
    assert set(lengths["method"]) == {WALK, SHORTEST, "DT", "BC"}
    shortest = lengths[lengths["method"] == SHORTEST]
    env, graph = ShortestPathEnv(), _networkx(ShortestPathEnv().adjacency)
    for seed, steps in zip(shortest["episode_seed"], shortest["steps"], strict=True):
        start = env.reset(seed=int(seed))[1]["node"]  # BFS against networkx's shortest path
        expected = nx.shortest_path_length(graph, start, env.goal) \
            if nx.has_path(graph, start, env.goal) else -1
        assert steps == expected
    dt = lengths[lengths["method"] == "DT"]
    assert set(dt["episode_seed"]) == set(shortest["episode_seed"])
    assert (dt["steps"][dt["steps"] > 0] >= dt["shortest"][dt["steps"] > 0]).all()
    table = graph_table(collected).markdown()
    assert "| DT | " in table and "| Shortest path (BFS) | " in table
    assert figures.graph_paths(lengths, [WALK, SHORTEST, "DT"], tmp_path / "figures")


def test_stitching_data_holds_no_optimal_walk_from_the_held_out_starts() -> None:
    """The stitch data, checked with networkx's shortest paths: no walk passes a held-out node
    and then reaches the goal in its shortest distance, yet walks from those nodes and the
    moves of their optimal paths are in the data; the stitch env starts only there."""
    from dtbench.domains.graph import STITCH_STARTS
    from dtbench.domains.graph.env import stitching_episodes

    env = ShortestPathEnv()
    graph = _networkx(env.adjacency)
    episodes = stitching_episodes(300, 5, STITCH_STARTS)
    assert len(episodes) == 300
    moves = set()
    for episode in episodes:
        nodes = episode["observations"].argmax(1).tolist()
        moves.update(zip(nodes, nodes[1:], strict=False))
        for t, node in enumerate(nodes):
            if node in STITCH_STARTS and env.goal in nodes[t:]:
                arrived = nodes.index(env.goal, t)
                assert arrived - t > nx.shortest_path_length(graph, node, env.goal)
    starts = {e["observations"][0].argmax() for e in episodes}
    assert set(STITCH_STARTS) <= starts  # walks from the held-out nodes (none optimal)
    for start in STITCH_STARTS:  # every move of every optimal path from them appears
        for path in nx.all_shortest_paths(graph, start, env.goal):
            assert all(move in moves for move in zip(path, path[1:], strict=False))
    held = ShortestPathEnv(start_nodes=STITCH_STARTS)
    assert {held.reset(seed=s)[1]["node"] for s in range(50)} == set(STITCH_STARTS)


@pytest.mark.usefixtures("isolated_minari")
def test_the_stitch_table_shows_dt_with_and_without_the_cap(tmp_path) -> None:
    from dtbench.contract import RunSpec
    from dtbench.domains.graph import make_stitch_dataset
    from dtbench.report.graph import NO_CAP, stitch_table

    make_stitch_dataset()
    specs = [RunSpec("graph", "stitch", "stitch-1k", "dt", 0, "smoke"),
             RunSpec("graph", "stitch", "stitch-1k", "dt", 0, "smoke",
                     overrides=(("eval.cap_at_data_best", False),)),
             RunSpec("graph", "stitch", "stitch-1k", "bc", 0, "smoke")]
    launch(specs, tmp_path, progress=False)
    collected = Collected.read(tmp_path, "smoke")
    lengths = path_lengths(collected, "stitch")
    assert set(lengths["method"]) == {WALK, SHORTEST, "DT", NO_CAP, "BC"}
    assert set(lengths["shortest"]) == {4, 5}  # every episode from a held-out node
    table = stitch_table(collected).markdown()
    assert f"| {NO_CAP} | " in table and "| DT | " in table and "held-out" in table
