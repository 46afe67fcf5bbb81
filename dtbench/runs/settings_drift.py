"""Which settings a finished run was made with that its profile no longer resolves to: a
domain's `profiles` module is compared by value, not by its text (`runs.code`)."""

from __future__ import annotations

import json

from dtbench.contract import RunSpec
from dtbench.runs.resolve import resolve


def moved_settings(spec: RunSpec, recorded: dict) -> list[str]:
    """The settings (`section.key`) the spec's algorithm reads (`Algo.reads`: sections or
    single settings) whose value resolved now differs from the one the run recorded in
    config.json."""
    r = resolve(spec)
    now = json.loads(json.dumps(r.settings.to_dict()))  # as config.json holds them
    read = [(section, key) for section, _, key in (name.partition(".") for name in r.algo.reads)]
    return [f"{section}.{key}" for section, only in read
            for key in ([only] if only else
                        sorted(set(now.get(section, {})) | set(recorded.get(section, {}))))
            if now.get(section, {}).get(key) != recorded.get(section, {}).get(key)]
