"""DT as a critic on Key-to-Door (paper Section 5.3, Figure 5).

A return-blind DT (its return tokens carry 0) is trained on the random walks with its return
head predicting R_t from each action token as well as the actions (`CRITIC` overrides; a
return-conditioned DT would be told the outcome in its first token). After training, the run
folder gets two probes the report draws:

* `critic.csv`: the predicted probability of success (the return head, returns being 0 or 1)
  after every step of fresh random-walk episodes of three kinds: took the key and reached the
  door, took the key and missed the door, missed the key (key_step -1: never took it).
* `attention.csv`: the last layer's attention weights (mean over heads) for the first of those
  successful episodes, token by token (token 3t + j: step t's return, state or action).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from dtbench.atomic import atomic_write
from dtbench.contract import RunSpec, canonical
from dtbench.data.store import TrajectoryStore
from dtbench.domains.keydoor.env import outcome_episodes
from dtbench.errors import DTBenchError
from dtbench.models.dt import DecisionTransformer
from dtbench.runs import load_dataset, resolve, run
from dtbench.runtime import DEFAULT_RESULTS_DIR
from dtbench.training import load_weights

# Return-blind model, return head trained beside the actions, returns in raw units (0 or 1)
CRITIC = {"model.condition_on_return": False, "train.return_loss_weight": 1.0,
          "eval.return_scale": 1.0}
PROBES, ATTENTION = "critic.csv", "attention.csv"
PROBE_SEED = 5_000_000  # random-walk seeds far from the datasets' (1M and 2M on)


def critic_spec(profile: str = "quick", dataset: str = "random-10k", seed: int = 0) -> RunSpec:
    return RunSpec("keydoor", "keydoor", dataset, "dt", seed, profile,
                   overrides=canonical(CRITIC))


def run_critic(profile: str = "quick", dataset: str = "random-10k", seed: int = 0,
               per_kind: int = 100, results_root: Path = DEFAULT_RESULTS_DIR,
               progress: bool = True) -> list[str]:
    """Train the critic run (or find it finished) and write its probes; lines saying what."""
    spec = critic_spec(profile, dataset, seed)
    folder = spec.folder(results_root)
    if (folder / PROBES).exists() and (folder / ATTENTION).exists():
        return [f"critic: probes present in {folder}"]
    if (folder / "result.json").exists() and not (folder / "checkpoint.pt").exists():
        raise DTBenchError(f"{folder} holds a finished critic run without its checkpoint (not "
                           "kept in git); delete the folder and run `make critic` again")
    run([spec], results_root=results_root, progress=progress)
    model, store, scale = _load(spec, folder)
    episodes = outcome_episodes(per_kind, PROBE_SEED)
    mean, std = store.state_stats()
    rows = []
    for index, (kind, key_step, episode) in enumerate(episodes):
        predicted = _predicted_returns(model, episode, mean, std) * scale
        rows += [{"episode": index, "kind": kind, "step": t,
                  "key_step": -1 if key_step is None else key_step,
                  "length": len(predicted), "predicted_success": round(float(p), 6)}
                 for t, p in enumerate(predicted)]
    with atomic_write(folder / PROBES) as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False)
    success = next(i for i, (kind, _, _) in enumerate(episodes) if kind == "key, door")
    weights = last_layer_attention(model, episodes[success][2], mean, std)
    n = len(weights)
    query, key = np.tril_indices(n)  # causal: nothing above the diagonal
    frame = pd.DataFrame({"episode": success, "key_step": episodes[success][1],
                          "query": query, "key": key,
                          "weight": np.round(weights[query, key], 6)})
    with atomic_write(folder / ATTENTION) as tmp:
        frame.to_csv(tmp, index=False)
    return [f"critic: {len(episodes)} probe episodes -> {folder / PROBES}",
            f"critic: last-layer attention of episode {success} -> {folder / ATTENTION}"]


def _load(spec: RunSpec, folder: Path) -> tuple[DecisionTransformer, TrajectoryStore, float]:
    """The trained critic, its training data (for the state normalisation) and return scale."""
    r = resolve(spec)
    settings = r.settings
    store = load_dataset(r.domain, r.task, r.dataset)
    config = json.loads((folder / "config.json").read_text())
    if config["settings"] != json.loads(json.dumps(settings.to_dict())):
        raise DTBenchError(f"{folder} was trained with other settings; delete it and rerun")
    model = DecisionTransformer(settings.model, store.obs_shape, int(r.action_space.n), True,
                                encoder=r.domain.encoder)
    load_weights(model, folder)
    return model.eval(), store, settings.eval.return_scale


def _inputs(episode: dict[str, np.ndarray], mean: np.ndarray,
            std: np.ndarray) -> tuple[torch.Tensor, ...]:
    """One whole episode as a batch of one (return tokens are blind, so zeros)."""
    t = len(episode["actions"])
    states = torch.as_tensor((episode["observations"][:t] - mean) / std, dtype=torch.float32)
    return (states[None], torch.as_tensor(episode["actions"])[None], torch.zeros(1, t, 1),
            torch.arange(t)[None])


@torch.no_grad()
def _predicted_returns(model: DecisionTransformer, episode: dict[str, np.ndarray],
                       mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """The return head after each action: the predicted return still to come from step t."""
    return model(*_inputs(episode, mean, std)).return_preds[0, :, 0].numpy()


def last_layer_attention(model: DecisionTransformer, episode: dict[str, np.ndarray],
                         mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """(3T, 3T) attention weights of the last layer, averaged over heads (rows: queries)."""
    out = model.with_attentions(*_inputs(episode, mean, std))
    return out.attentions[-1][0].mean(0).numpy()
