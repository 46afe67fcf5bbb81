"""Decision Transformer: interleaving, causality, padding, and equality with HF's model."""

import numpy as np
import pytest
import torch
from transformers import DecisionTransformerConfig, DecisionTransformerModel

from dtbench.config import ModelConfig
from dtbench.models.dt import DecisionTransformer
from dtbench.policies import DTPolicy

K, OBS, ACT = 6, 11, 3


def _model(discrete: bool = False, **kw) -> DecisionTransformer:
    torch.manual_seed(0)
    cfg = ModelConfig(context_len=K, embed_dim=32, n_layer=2, n_head=2, dropout=0.0,
                      max_ep_len=50, **kw)
    return DecisionTransformer(cfg, (OBS,), 4 if discrete else ACT, discrete=discrete).eval()


def _inputs(b: int = 3, discrete: bool = False, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    states = torch.randn(b, K, OBS, generator=g)
    actions = (torch.randint(0, 4, (b, K), generator=g) if discrete
               else torch.rand(b, K, ACT, generator=g) * 2 - 1)
    rtg = torch.randn(b, K, 1, generator=g)
    timesteps = torch.arange(K).repeat(b, 1) + 3
    return states, actions, rtg, timesteps


@pytest.mark.parametrize("discrete", [False, True])
def test_action_at_t_ignores_every_token_after_s_t(discrete):
    model = _model(discrete)
    s, a, r, ts = _inputs(discrete=discrete)
    base = model(s, a, r, ts).action_preds
    for t in range(K - 1):
        # a_t itself and everything at later steps may change: the prediction for a_t may not.
        s2, a2, r2 = s.clone(), a.clone(), r.clone()
        s2[:, t + 1:] += 5.0
        r2[:, t + 1:] -= 3.0
        a2[:, t:] = (a2[:, t:] + 1) % 4 if discrete else -a2[:, t:]
        out = model(s2, a2, r2, ts).action_preds
        torch.testing.assert_close(out[:, : t + 1], base[:, : t + 1])
        assert not torch.allclose(out[:, t + 1:], base[:, t + 1:])  # later steps do see it


def test_interleaving_matters_an_earlier_return_token_changes_later_actions():
    model = _model()
    s, a, r, ts = _inputs()
    r2 = r.clone()
    r2[:, 0] += 1.0
    out, base = model(s, a, r2, ts).action_preds, model(s, a, r, ts).action_preds
    assert not torch.allclose(out[:, 0], base[:, 0])  # R_1 precedes s_1
    assert not torch.allclose(out[:, -1], base[:, -1])


def test_real_token_predictions_do_not_depend_on_padding():
    model = _model()
    s, a, r, ts = _inputs(b=1)
    for length in range(1, K + 1):
        short = model(s[:, :length], a[:, :length], r[:, :length], ts[:, :length]).action_preds
        # right-pad to K with garbage and a mask; real positions must be unchanged
        s2, a2, r2 = s.clone(), a.clone(), r.clone()
        s2[:, length:], a2[:, length:], r2[:, length:] = 9.0, 0.7, -4.0
        mask = torch.arange(K)[None] < length
        for attention_mask in (None, mask):
            padded = model(s2, a2, r2, ts, attention_mask=attention_mask).action_preds
            torch.testing.assert_close(padded[:, :length], short, rtol=1e-5, atol=1e-6)


def test_outputs_equal_huggingface_decision_transformer_with_mapped_weights():
    ours = _model()
    hf = DecisionTransformerModel(DecisionTransformerConfig(
        state_dim=OBS, act_dim=ACT, hidden_size=32, n_layer=2, n_head=2, n_inner=128,
        activation_function="relu", max_ep_len=50, n_positions=3 * K,
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, action_tanh=True)).eval()
    mapped = {}
    for key, value in ours.state_dict().items():
        key = key.replace("transformer.", "encoder.").replace("embed_state.proj.", "embed_state.")
        mapped[key] = value
    hf.load_state_dict(mapped, strict=True)  # raises on any missing or unexpected key
    s, a, r, ts = _inputs(b=4)
    mask = torch.ones(4, K, dtype=torch.long)
    mask[1, 4:] = 0  # a right-padded row: compare real positions only
    with torch.no_grad():
        theirs = hf(states=s, actions=a, returns_to_go=r, timesteps=ts, attention_mask=mask)
        mine = ours(s, a, r, ts, attention_mask=mask.bool())
    torch.testing.assert_close(mine.action_preds, theirs.action_preds, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(mine.state_preds, theirs.state_preds, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(mine.return_preds, theirs.return_preds, rtol=1e-5, atol=1e-6)
    # without the mask we must still agree on every real position (causality makes pads inert)
    mine_unmasked = ours(s, a, r, ts).action_preds
    torch.testing.assert_close(mine_unmasked[1, :4], theirs.action_preds[1, :4], rtol=1e-5,
                               atol=1e-6)


def test_loss_ignores_padded_tokens():
    model = _model(discrete=True)
    s, a, r, ts = _inputs(discrete=True)
    mask = torch.ones(3, K, dtype=torch.bool)
    mask[:, 3:] = False
    out = model(s, a, r, ts)
    loss = model.action_loss(out, a, mask)
    a2 = a.clone()
    a2[:, 3:] = (a2[:, 3:] + 1) % 4  # change only padded targets
    assert torch.equal(loss, model.action_loss(out, a2, mask))
    expected = torch.nn.functional.cross_entropy(out.action_preds[:, :3].reshape(-1, 4),
                                                 a[:, :3].reshape(-1))
    torch.testing.assert_close(loss, expected)


def test_nature_cnn_shapes_follow_the_dqn_paper():
    from dtbench.models.encoders import NatureCNNEncoder

    enc = NatureCNNEncoder((4, 84, 84), 32)
    convs = [m for m in enc.conv if isinstance(m, torch.nn.Conv2d)]
    assert [(c.out_channels, c.kernel_size, c.stride) for c in convs] == [
        (32, (8, 8), (4, 4)), (64, (4, 4), (2, 2)), (64, (3, 3), (1, 1))]
    assert enc.head[0].in_features == 64 * 7 * 7  # 84 -> 20 -> 9 -> 7
    frames = torch.randint(0, 256, (2, 5, 4, 84, 84), dtype=torch.uint8)
    out = enc(frames)
    assert out.shape == (2, 5, 32) and out.abs().max() <= 1  # Linear + Tanh
    # each step is encoded on its own: a step's embedding ignores the other steps
    torch.testing.assert_close(enc(frames[:, 2:3])[:, 0], out[:, 2])


def _mingpt_logits(model, states, actions, rtg, timesteps, with_returns=True):
    """minGPT's Atari input (`model_atari.py`), written out: Tanh'd return and action
    embeddings, the state encoder, interleaved; one global timestep embedding (the window's
    first step) on every token, plus a per-token position embedding; then the blocks, and the
    action logits read at the state tokens."""
    b, k = actions.shape
    parts = [model.embed_state(states), torch.tanh(model.embed_action(actions))]
    if with_returns:
        parts.insert(0, torch.tanh(model.embed_return(rtg)))
    n = len(parts)
    tokens = torch.zeros(b, n * k, model.cfg.embed_dim)
    for i, part in enumerate(parts):
        tokens[:, i::n] = part
    tokens = tokens + model.embed_window_time[timesteps[:, :1]] + model.embed_position[None, :n * k]
    hidden = model.transformer(inputs_embeds=tokens, attention_mask=torch.ones(b, n * k),
                               position_ids=torch.zeros(b, n * k, dtype=torch.long))
    return model.predict_action(hidden.last_hidden_state[:, n - 2::n])


@pytest.mark.parametrize("tokens", ["rsa", "sa"])
def test_atari_global_positions_equal_a_minimal_mingpt_input(tokens):
    cfg = ModelConfig(context_len=4, embed_dim=16, n_layer=1, n_head=2, dropout=0.0,
                      activation="gelu_new", max_ep_len=50, positions="atari-global",
                      tokens=tokens)
    torch.manual_seed(0)
    model = DecisionTransformer(cfg, (4, 84, 84), 6, True, encoder="nature_cnn").eval()
    with torch.no_grad():  # minGPT starts them at zero, which would hide a wrong index
        model.embed_window_time.normal_()
        model.embed_position.normal_()
    states = torch.randint(0, 256, (2, 4, 4, 84, 84), dtype=torch.uint8)
    actions = torch.randint(0, 6, (2, 4))
    rtg = torch.randn(2, 4, 1)
    timesteps = torch.tensor([[7, 8, 9, 10], [0, 1, 2, 3]])
    with torch.no_grad():
        out = model(states, actions, rtg, timesteps)
        expected = _mingpt_logits(model, states, actions, rtg, timesteps, tokens == "rsa")
        torch.testing.assert_close(out.action_preds, expected, rtol=1e-5, atol=1e-5)
        # only the window's first timestep counts
        later = timesteps.clone()
        later[:, 1:] = 40
        torch.testing.assert_close(model(states, actions, rtg, later).action_preds,
                                   out.action_preds)
        if tokens == "sa":  # no return tokens: the returns do not matter
            torch.testing.assert_close(model(states, actions, rtg * 0 + 5, timesteps)
                                       .action_preds, out.action_preds)


def test_an_atari_global_rollout_gives_the_window_the_current_step():
    """The official evaluation's timestep: the current step, for every window position."""
    cfg = ModelConfig(context_len=3, embed_dim=16, n_layer=1, n_head=1, dropout=0.0,
                      max_ep_len=50, positions="atari-global")
    torch.manual_seed(1)
    model = DecisionTransformer(cfg, (5,), 3, True).eval()
    with torch.no_grad():
        model.embed_window_time.normal_()
    seen = []
    model.register_forward_hook(lambda m, args, out: seen.append(args[3].clone()))
    # the full forward pass, whose inputs the hook sees (the last-token path is tested to
    # give the same actions)
    policy = DTPolicy(model, None, None, return_scale=1.0, last_token_only=False)
    policy.reset(2, target_return=1.0)
    for _ in range(5):
        policy.act(np.random.default_rng(0).normal(size=(2, 5)).astype(np.float32),
                   np.array([True, True]))
        policy.observe(np.zeros(2), np.array([True, True]))
    assert [t[0].tolist() for t in seen] == [[0], [1, 1], [2, 2, 2], [3, 3, 3], [4, 4, 4]]
