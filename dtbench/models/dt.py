"""Decision Transformer (Chen et al. 2021) on `transformers.GPT2Model`.

Each timestep t contributes three tokens, interleaved (R_1, s_1, a_1, R_2, s_2, a_2, ...):
the return-to-go R_t, the state s_t (through the domain's encoder) and the action a_t. A learned
timestep embedding is added to all three tokens of a step and GPT-2's own position ids are all
zero, so order comes only from the timestep embedding and the causal mask. The action a_t is
predicted from the hidden state of the s_t token, i.e. from (R_<=t, s_<=t, a_<t).

`model.positions = atari-global` is the official Atari model's scheme instead: one learned
embedding of the window's first timestep added to every token, a learned embedding per token
position (3K), Tanh after the return and action embeddings and no LayerNorm before the blocks
(minGPT's `model_atari.py`). `model.tokens = sa` drops the return tokens: (s_1, a_1, ...), the
paper's Atari BC.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F
from transformers import GPT2Config, GPT2Model

from dtbench.config import ModelConfig
from dtbench.models.encoders import make_encoder


@dataclass
class DTOutput:
    action_preds: torch.Tensor
    """(B, K, act_dim): actions (continuous) or logits (discrete)."""
    return_preds: torch.Tensor
    """(B, K, 1): predicted next return, read from the action token."""
    state_preds: torch.Tensor | None
    """(B, K, obs_dim) for vector states, else None."""
    hidden: torch.Tensor
    """(B, n, K, H): last hidden states of (R, s, a) tokens (n = 3) or of (s, a) tokens (n = 2,
    `model.tokens = sa`)."""
    attentions: tuple[torch.Tensor, ...] | None = None
    """Per layer (B, heads, 3K, 3K), only from `with_attentions`; token 3t + j is step t's return
    (0), state (1) or action (2)."""


class DecisionTransformer(nn.Module):
    def __init__(
        self,
        cfg: ModelConfig,
        obs_shape: tuple[int, ...],
        act_dim: int,
        discrete: bool,
        encoder: str = "linear",
    ) -> None:
        super().__init__()
        self.cfg, self.act_dim, self.discrete = cfg, act_dim, discrete
        h = cfg.embed_dim
        self.per_step = len(cfg.tokens)  # tokens per step: 3 (R, s, a) or 2 (s, a)
        gpt_cfg = GPT2Config(
            vocab_size=1,  # tokens arrive as embeddings; the word table is unused
            n_positions=self.per_step * cfg.context_len,
            n_embd=h,
            n_layer=cfg.n_layer,
            n_head=cfg.n_head,
            n_inner=4 * h,
            activation_function=cfg.activation,
            resid_pdrop=cfg.dropout,
            embd_pdrop=cfg.dropout,
            attn_pdrop=cfg.dropout,
            bos_token_id=None,
            eos_token_id=None,
            use_cache=False,
        )
        self.transformer = GPT2Model(gpt_cfg)
        self.global_positions = cfg.positions == "atari-global"
        if self.global_positions:  # zero-initialised parameters, as minGPT's
            self.embed_window_time = nn.Parameter(torch.zeros(cfg.max_ep_len, h))
            self.embed_position = nn.Parameter(torch.zeros(self.per_step * cfg.context_len, h))
        else:
            self.embed_timestep = nn.Embedding(cfg.max_ep_len, h)
            self.embed_ln = nn.LayerNorm(h)
        self.embed_return = nn.Linear(1, h)
        self.embed_state = make_encoder(encoder, obs_shape, h)
        self.embed_action = nn.Embedding(act_dim, h) if discrete else nn.Linear(act_dim, h)
        # minGPT's Atari model puts Tanh after the return and action embeddings
        self.squash = nn.Tanh() if self.global_positions else nn.Identity()
        head = [nn.Linear(h, act_dim)]
        if not discrete and cfg.action_tanh:
            head.append(nn.Tanh())
        self.predict_action = nn.Sequential(*head)
        self.predict_return = nn.Linear(h, 1)
        vector_obs = len(obs_shape) == 1
        self.predict_state = nn.Linear(h, obs_shape[0]) if vector_obs else None

    def forward(
        self,
        states: torch.Tensor,
        actions: torch.Tensor,
        returns_to_go: torch.Tensor,
        timesteps: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        state_embeddings: torch.Tensor | None = None,
        token_mask: torch.Tensor | None = None,
    ) -> DTOutput:
        """states (B,K,*obs), actions (B,K,A) or (B,K), returns_to_go (B,K,1), timesteps (B,K).

        `attention_mask` (B,K) is optional: with right padding (our sampler) causal attention
        alone keeps real tokens from seeing pads, so leaving it out is exact for real tokens.
        `state_embeddings` (B,K,H) replaces `embed_state(states)`: the encoder sees one step at a
        time, so a rollout can encode each new state once and reuse the earlier embeddings.
        `token_mask` (B, 1, nK, nK), additive, replaces the mask GPT-2 builds from
        `attention_mask`: vmapped training (`training.Stacked`) passes a ready one, because
        transformers' mask construction branches on the mask's values, which vmap cannot."""
        b, k = timesteps.shape
        n = self.per_step
        if state_embeddings is None:
            state_embeddings = self.embed_state(states)
        tokens = self._tokens(state_embeddings, actions, returns_to_go, timesteps)
        if attention_mask is None:
            attention_mask = torch.ones((b, k), dtype=torch.long, device=tokens.device)
        # Always pass a 2-D mask: without one, transformers >= 5 reads all-zero position ids
        # as "packed sequences" and lets every token attend only to itself.
        mask_tokens = attention_mask.repeat_interleave(n, dim=1).long()
        gpt = self.transformer(
            inputs_embeds=tokens,
            attention_mask=mask_tokens if token_mask is None else token_mask,
            position_ids=torch.zeros((b, n * k), dtype=torch.long, device=tokens.device),
            output_attentions=self._attentions,
        )
        x = gpt.last_hidden_state.reshape(b, k, n, -1).permute(0, 2, 1, 3)  # (B, n, K, H)
        state, action = n - 2, n - 1  # token indices within a step
        return DTOutput(
            action_preds=self.predict_action(x[:, state]),  # from the state token
            return_preds=self.predict_return(x[:, action]),
            state_preds=(self.predict_state(x[:, action]) if self.predict_state is not None
                         else None),
            hidden=x,
            attentions=gpt.attentions if self._attentions else None,
        )

    def _tokens(self, state_embeddings: torch.Tensor, actions: torch.Tensor,
                returns_to_go: torch.Tensor, timesteps: torch.Tensor) -> torch.Tensor:
        """The (B, n K, H) input tokens: R_1, s_1, a_1, R_2, ... with their positions."""
        b, k = timesteps.shape
        n = self.per_step
        if not self.cfg.condition_on_return:
            returns_to_go = torch.zeros_like(returns_to_go)
        kinds = [state_embeddings, self.squash(self.embed_action(actions))]
        if n == 3:
            kinds.insert(0, self.squash(self.embed_return(returns_to_go)))
        if not self.global_positions:
            time = self.embed_timestep(timesteps)
            kinds = [kind + time for kind in kinds]
        tokens = torch.stack(kinds, dim=2).reshape(b, n * k, -1)  # interleave: R_1, s_1, a_1, ...
        if self.global_positions:  # the window's first timestep on every token, per-token pos
            return (tokens + self.embed_window_time[timesteps[:, 0]][:, None]
                    + self.embed_position[: n * k])
        return self.embed_ln(tokens)

    @torch.no_grad()
    def predict_last_action(self, actions: torch.Tensor, returns_to_go: torch.Tensor,
                            timesteps: torch.Tensor,
                            state_embeddings: torch.Tensor) -> torch.Tensor:
        """`forward(...).action_preds[:, -1]` of full (unpadded) windows, the action (or logits)
        of each window's last step, for less work at evaluation: the trailing a_t token is left
        out (causal attention: no token before it sees it) and the last layer is computed for
        the s_t token alone (the layers below still see the whole window). Equal to the full
        forward pass up to float rounding (tests/test_model.py)."""
        tokens = self._tokens(state_embeddings, actions, returns_to_go, timesteps)[:, :-1]
        gpt = self.transformer
        hidden = gpt.drop(tokens + gpt.wpe.weight[0])  # GPT-2 adds wpe(position 0) everywhere
        length = hidden.shape[1]
        causal = torch.full((length, length), float("-inf"), device=hidden.device).triu(1)
        *below, last = gpt.h
        for block in below:
            hidden = block(hidden, attention_mask=causal[None, None])
        return self.predict_action(gpt.ln_f(_last_query(last, hidden))[:, 0])

    _attentions = False  # set by `with_attentions`

    @torch.no_grad()
    def with_attentions(self, *args: torch.Tensor) -> DTOutput:
        """`forward` that also returns every layer's attention weights (B, heads, 3K, 3K).
        PyTorch's fused attention never forms the weights, so this one call runs GPT-2's plain
        ("eager") attention, which computes the same outputs."""
        previous = self.transformer.config._attn_implementation
        self.transformer.set_attn_implementation("eager")
        self._attentions = True
        try:
            return self(*args)
        finally:
            self._attentions = False
            self.transformer.set_attn_implementation(previous)

    def action_loss(self, out: DTOutput, actions: torch.Tensor, mask: torch.Tensor,
                    fixed_shape: bool = False) -> torch.Tensor:
        """MSE (continuous) or cross-entropy (discrete) on real action tokens only, averaged
        over them (padding never enters the numerator or the denominator).

        Two reductions of one loss: the mean over the real tokens picked out by the mask (a
        run's canonical numbers), or with `fixed_shape` a mask-weighted mean over every token,
        whose shape does not depend on the data, so vmap can batch it (stacked seeds); the two
        agree to float rounding."""
        if not fixed_shape:
            pred = out.action_preds[mask]
            if self.discrete:
                return F.cross_entropy(pred, actions[mask])
            return F.mse_loss(pred, actions[mask])
        pred = out.action_preds
        if self.discrete:
            per_token = F.cross_entropy(pred.reshape(-1, pred.shape[-1]), actions.reshape(-1),
                                        reduction="none").reshape(mask.shape)
        else:
            per_token = (pred - actions).pow(2).mean(-1)
        return _weighted_mean(per_token, mask)

    def return_loss(self, out: DTOutput, returns_to_go: torch.Tensor, mask: torch.Tensor,
                    fixed_shape: bool = False) -> torch.Tensor:
        """MSE of the return head (read at a_t) against R_t, the scaled return still to come
        from step t on, on real tokens: with a return-blind model, the critic's value of
        (history, a_t). `fixed_shape` as in `action_loss`."""
        if not fixed_shape:
            return F.mse_loss(out.return_preds[mask], returns_to_go[mask])
        return _weighted_mean((out.return_preds - returns_to_go).pow(2).mean(-1), mask)


def _weighted_mean(per_token: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The mean of (B, K) per-token losses over the real tokens, as a weighted sum."""
    weights = mask.float()
    return (per_token * weights).sum() / weights.sum()


def _last_query(block: nn.Module, hidden: torch.Tensor) -> torch.Tensor:
    """A GPT-2 block's output for the last token only, (B, 1, H): its attention over every
    token of `hidden` (all are at or before it), the residuals and the MLP."""
    b, _, h = hidden.shape
    attn = block.attn
    q, k, v = attn.c_attn(block.ln_1(hidden)).split(h, dim=2)
    heads = lambda x: x.view(b, x.shape[1], attn.num_heads, attn.head_dim).transpose(1, 2)  # noqa: E731
    out = F.scaled_dot_product_attention(heads(q[:, -1:]), heads(k), heads(v),
                                         scale=attn.scaling)
    x = hidden[:, -1:] + attn.c_proj(out.transpose(1, 2).reshape(b, 1, h))
    return x + block.mlp(block.ln_2(x))
