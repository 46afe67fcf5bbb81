"""A run resolved once: its spec turned into everything that runs it (domain, task, dataset,
algorithm, settings with overrides applied, the environment's spaces and factory)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from dtbench import registry
from dtbench.config import Settings
from dtbench.contract import Algo, RunSpec
from dtbench.errors import unknown

if TYPE_CHECKING:
    import gymnasium as gym

REWARD_VARIANTS = ("dense", "delayed")


@dataclass
class ResolvedRun:
    """One run with its registry entries looked up and its settings applied."""

    spec: RunSpec  # what names the run
    domain: registry.Domain  # its domain
    task: registry.Task  # its task
    dataset: registry.DatasetSpec  # its dataset (by route: generated, D4RL, Minari, ...)
    algo: Algo  # its algorithm
    settings: Settings  # the profile's settings, task overrides and the run's overrides applied

    def make_env(self) -> gym.Env:
        """A fresh environment of the task, made with the run's settings."""
        return self.domain.env(self.task, self.settings)

    @cached_property
    def spaces(self) -> tuple[gym.Space, gym.Space]:
        """(observation space, action space) of the task's environment (built once)."""
        env = self.make_env()
        spaces = env.observation_space, env.action_space
        env.close()
        return spaces

    @property
    def observation_space(self) -> gym.Space:
        return self.spaces[0]

    @property
    def action_space(self) -> gym.Space:
        return self.spaces[1]


def resolve(spec: RunSpec, eval_overrides: Mapping[str, Any] | None = None) -> ResolvedRun:
    """Look everything up once; unknown names and settings fail here, before any work.

    `eval_overrides` change how a trained run is evaluated without naming another run
    (`dtbench eval --set eval.episodes=...`)."""
    domain, task = registry.get_task(spec.domain, spec.task)
    dataset = registry.get_dataset(task, spec.dataset)
    algo = registry.get_algo(spec.algo)
    registry.check_fits(domain, algo)
    if spec.variant not in REWARD_VARIANTS:
        raise unknown("reward variant", spec.variant, list(REWARD_VARIANTS))
    settings = domain.settings_for(task, spec.profile).override(
        {**algo.fixed_settings.get(domain.action_kind, {}), **dict(spec.overrides),
         **(eval_overrides or {})})
    return ResolvedRun(spec, domain, task, dataset, algo, settings)
