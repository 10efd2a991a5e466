"""dlcourse.models.transformer: torch's own layers, a GPT built from them, hand formulas."""

import inspect
import math
import re

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dlcourse.models import GPT, Block, CausalSelfAttention, LayerNorm, TransformerEncoderLayer, torch_gpt_twin
from dlcourse.models.attention import causal_mask
from dlcourse.models.transformer import sinusoidal_positions, torch_parameter_name

FLOAT64_TOLERANCE = 1e-12
FLOAT32_TOLERANCE = 1e-5


def randomise(module, scale=0.1, seed=0):
    """Add noise to every parameter, so biases (0) and norm weights (1) count in the comparisons."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.add_(scale * torch.randn(parameter.shape, generator=generator, dtype=parameter.dtype))
    return module


def relative_difference(ours, theirs):
    return ((ours - theirs).abs().max() / theirs.abs().max()).item()


# ---------------------------------------------------------------- LayerNorm

def test_layer_norm_by_hand():
    x = [1.0, 2.0, 3.0, 6.0]
    mean = sum(x) / 4
    variance = sum((v - mean) ** 2 for v in x) / 4                    # biased: / D
    norm = LayerNorm(4, eps=1e-5).double()
    with torch.no_grad():
        norm.weight.copy_(torch.tensor([1.0, 2.0, 3.0, 4.0]))
        norm.bias.copy_(torch.tensor([0.5, 0.0, -0.5, 1.0]))
    expected = [(v - mean) / math.sqrt(variance + 1e-5) * w + b
                for v, w, b in zip(x, [1, 2, 3, 4], [0.5, 0.0, -0.5, 1.0])]
    assert norm(torch.tensor([x], dtype=torch.float64))[0].tolist() == pytest.approx(expected, abs=1e-14)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_layer_norm_agrees_with_torch(bias, dtype):
    theirs = randomise(nn.LayerNorm(8, eps=1e-3, bias=bias, dtype=dtype))
    ours = LayerNorm(8, eps=1e-3, bias=bias, dtype=dtype)
    ours.load_state_dict(theirs.state_dict())
    x = 3 + 2 * torch.randn(2, 3, 8, dtype=dtype, generator=torch.Generator().manual_seed(1))
    tolerance = FLOAT32_TOLERANCE if dtype == torch.float32 else FLOAT64_TOLERANCE
    assert (ours(x) - theirs(x)).abs().max() < tolerance
    assert [name for name, _ in ours.named_parameters()] == [name for name, _ in theirs.named_parameters()]


def test_layer_norm_bad_input():
    with pytest.raises(ValueError, match="normalized_shape must be a positive int"):
        LayerNorm(0)
    with pytest.raises(ValueError, match=re.escape("input must have shape (..., 4), got (2, 3)")):
        LayerNorm(4)(torch.randn(2, 3))


# ---------------------------------------------------------------- sinusoidal positions

def test_sinusoidal_positions_by_hand():
    pe = sinusoidal_positions(50, 8)
    assert pe.shape == (50, 8) and pe.dtype == torch.get_default_dtype()
    for p in (0, 1, 7, 49):
        for i in range(4):
            angle = p / 10000 ** (2 * i / 8)
            assert pe[p, 2 * i].item() == pytest.approx(math.sin(angle), abs=1e-6)
            assert pe[p, 2 * i + 1].item() == pytest.approx(math.cos(angle), abs=1e-6)


def test_sinusoidal_position_plus_k_is_a_rotation():
    pe, k = sinusoidal_positions(30, 6).double(), 5
    for i in range(3):
        omega = 1 / 10000 ** (2 * i / 6)
        c, s = math.cos(k * omega), math.sin(k * omega)
        rotation = torch.tensor([[c, -s], [s, c]], dtype=torch.float64)   # (sin, cos)(a) -> (sin, cos)(a + k w)
        pairs = pe[:, 2 * i:2 * i + 2]
        assert (pairs[:-k] @ rotation - pairs[k:]).abs().max() < 1e-6


def test_sinusoidal_positions_bad_input():
    with pytest.raises(ValueError, match=re.escape("d_model must be even (sin, cos pairs), got 5")):
        sinusoidal_positions(4, 5)
    with pytest.raises(ValueError, match="length must be a positive int"):
        sinusoidal_positions(0, 4)


# ---------------------------------------------------------------- the encoder layer against torch's

D_MODEL, NHEAD, FEEDFORWARD, BATCH, LENGTH = 8, 2, 16, 3, 5


def encoder_pair(dtype=torch.float64, seed=0, **options):
    """torch's TransformerEncoderLayer and ours, with torch's (randomised) parameters loaded into ours."""
    torch.manual_seed(seed)
    theirs = randomise(nn.TransformerEncoderLayer(D_MODEL, NHEAD, FEEDFORWARD, dropout=0.0, dtype=dtype, **options))
    ours = TransformerEncoderLayer(D_MODEL, NHEAD, FEEDFORWARD, dtype=dtype, **options)
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


MASKS = ["none", "bool mask", "float mask", "padding", "bool mask + padding", "float mask + float padding",
         "causal", "causal + padding"]


def encoder_masks(kind, dtype, seed=2):
    """(our arguments, torch's arguments) for one kind of masking; key 0 is never masked, so no row is empty."""
    generator = torch.Generator().manual_seed(seed)
    bool_mask = torch.rand(LENGTH, LENGTH, generator=generator) < 0.4     # torch's meaning: True = NOT allowed
    bool_mask[:, 0] = False
    # 0 / -inf, as torch makes of a bool mask: its eval fast path reads no other values (see below)
    float_mask = torch.zeros(LENGTH, LENGTH, dtype=dtype).masked_fill(bool_mask, -math.inf)
    padding = torch.zeros(BATCH, LENGTH, dtype=torch.bool)                # True = ignore
    padding[1, 3:] = True
    padding[2, 2] = True
    float_padding = torch.zeros(BATCH, LENGTH, dtype=dtype).masked_fill(padding, -math.inf)
    torch_causal = ~causal_mask(LENGTH)                                   # torch wants the mask with is_causal
    ours, theirs = {
        "none": ((None, None, False), (None, None, False)),
        "bool mask": ((bool_mask, None, False),) * 2,
        "float mask": ((float_mask, None, False),) * 2,
        "padding": ((None, padding, False),) * 2,
        "bool mask + padding": ((bool_mask, padding, False),) * 2,
        "float mask + float padding": ((float_mask, float_padding, False),) * 2,
        "causal": ((None, None, True), (torch_causal, None, True)),
        "causal + padding": ((None, padding, True), (torch_causal, padding, True)),
    }[kind]
    return ours, theirs


def encoder_input(batch_first, dtype, seed=3):
    x = torch.randn(BATCH, LENGTH, D_MODEL, dtype=dtype, generator=torch.Generator().manual_seed(seed))
    return x if batch_first else x.transpose(0, 1)


def largest_difference(ours, theirs, x, our_masks, their_masks):
    src_mask, padding, is_causal = our_masks
    output = ours(x, src_mask=src_mask, src_key_padding_mask=padding, is_causal=is_causal)
    src_mask, padding, is_causal = their_masks
    expected = theirs(x, src_mask=src_mask, src_key_padding_mask=padding, is_causal=is_causal)
    assert output.shape == expected.shape == x.shape
    return (output - expected).abs().max().item()


@pytest.mark.parametrize("masks", MASKS)
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True], ids=["post-LN", "pre-LN"])
def test_encoder_layer_agrees_with_torch(norm_first, batch_first, activation, masks):
    for dtype, tolerance in ((torch.float32, FLOAT32_TOLERANCE), (torch.float64, FLOAT64_TOLERANCE)):
        ours, theirs = encoder_pair(dtype, norm_first=norm_first, batch_first=batch_first, activation=activation)
        x = encoder_input(batch_first, dtype)
        our_masks, their_masks = encoder_masks(masks, dtype)
        # train(): torch's Python code; eval() without gradients: torch's fused "fast path" kernel
        assert largest_difference(ours, theirs, x, our_masks, their_masks) < tolerance
        ours.eval(), theirs.eval()
        with torch.no_grad():
            assert largest_difference(ours, theirs, x, our_masks, their_masks) < tolerance


def test_encoder_layer_adds_any_float_mask_and_takes_masks_per_head():
    # A float mask is added to the scores, whatever its values (a bias such as ALiBi's, not only 0 / -inf).
    # Compared with torch's Python path (train mode) only: torch 2.13's eval fast path reads a float mask
    # as 0 / -inf and gives other outputs, or NaN, for other values.
    ours, theirs = encoder_pair(batch_first=True)
    generator = torch.Generator().manual_seed(4)
    x = encoder_input(True, torch.float64)
    for shape in ((LENGTH, LENGTH), (BATCH * NHEAD, LENGTH, LENGTH)):       # the same for all, or per head
        added = torch.randn(shape, generator=generator, dtype=torch.float64)
        assert largest_difference(ours, theirs, x, (added, None, False), (added, None, False)) < FLOAT64_TOLERANCE
    blocked = torch.rand(BATCH * NHEAD, LENGTH, LENGTH, generator=generator) < 0.5
    blocked[:, :, 0] = False
    for mode in ("train", "eval"):
        getattr(ours, mode)(), getattr(theirs, mode)()
        with torch.no_grad():
            assert largest_difference(ours, theirs, x, (blocked, None, False), (blocked, None, False)) < 1e-12


@pytest.mark.parametrize("norm_first", [False, True], ids=["post-LN", "pre-LN"])
def test_encoder_layer_without_bias_agrees_with_torch(norm_first):
    ours, theirs = encoder_pair(bias=False, norm_first=norm_first)
    assert {name: p.shape for name, p in ours.named_parameters()} == {
        name: p.shape for name, p in theirs.named_parameters()}
    our_masks, their_masks = encoder_masks("bool mask + padding", torch.float64)
    assert largest_difference(ours, theirs, encoder_input(False, torch.float64), our_masks,
                              their_masks) < FLOAT64_TOLERANCE


@pytest.mark.parametrize("norm_first", [False, True], ids=["post-LN", "pre-LN"])
def test_encoder_layer_gradients_agree_with_torch(norm_first):
    ours, theirs = encoder_pair(norm_first=norm_first, activation="gelu", batch_first=True)
    x = encoder_input(True, torch.float64)
    our_masks, their_masks = encoder_masks("causal + padding", torch.float64)
    target = torch.randn(x.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    for module, (src_mask, padding, is_causal) in ((ours, our_masks), (theirs, their_masks)):
        output = module(x, src_mask=src_mask, src_key_padding_mask=padding, is_causal=is_causal)
        (output * target).sum().backward()
    their_parameters = dict(theirs.named_parameters())
    for name, parameter in ours.named_parameters():
        assert parameter.grad.abs().sum() > 0
        assert (parameter.grad - their_parameters[name].grad).abs().max() < FLOAT64_TOLERANCE, name


def test_encoder_layer_state_dict_and_signature_are_torch_s():
    ours, theirs = TransformerEncoderLayer(8, 2, 16), nn.TransformerEncoderLayer(8, 2, 16)
    assert {k: v.shape for k, v in ours.state_dict().items()} == {k: v.shape for k, v in theirs.state_dict().items()}
    theirs.load_state_dict(ours.state_dict())
    assert list(inspect.signature(TransformerEncoderLayer).parameters) == list(
        inspect.signature(nn.TransformerEncoderLayer).parameters)
    assert list(inspect.signature(TransformerEncoderLayer.forward).parameters) == list(
        inspect.signature(nn.TransformerEncoderLayer.forward).parameters)


def test_encoder_layer_bad_input():
    cases = [
        (dict(dropout=0.1), "dropout is not supported"),
        (dict(activation="tanh"), "activation must be one of ['gelu', 'relu'], got 'tanh'"),
        (dict(nhead=3), "d_model=8 must be divisible by nhead=3"),
        (dict(dim_feedforward=0), "dim_feedforward must be a positive int"),
    ]
    for options, message in cases:
        with pytest.raises(ValueError, match=re.escape(message)):
            TransformerEncoderLayer(**{"d_model": 8, "nhead": 2, **options})
    layer = TransformerEncoderLayer(8, 2, 16)
    message = "src must have shape (S, N, E=8) (batch_first=False), got (5, 3, 6)"
    with pytest.raises(ValueError, match=re.escape(message)):
        layer(torch.randn(5, 3, 6))
    with pytest.raises(ValueError, match=re.escape("attn_mask must have shape (L=5, S=5)")):
        layer(torch.randn(5, 3, 8), src_mask=torch.zeros(4, 4, dtype=torch.bool))


# ---------------------------------------------------------------- GPT: size, tying, initialisation

def gpt2_parameter_count(vocab_size, context, n_layers, d, final_norm=True):
    """GPT-2's parameters by hand: embeddings, per block (2 LayerNorms, attention, MLP), final LayerNorm."""
    embeddings = vocab_size * d + context * d                 # wte, wpe (lm_head is wte)
    attention = (d * 3 * d + 3 * d) + (d * d + d)             # c_attn (q, k, v), c_proj
    mlp = (d * 4 * d + 4 * d) + (4 * d * d + d)               # c_fc, c_proj
    norms = 2 * (2 * d)                                       # ln_1, ln_2: weight and bias each
    return embeddings + n_layers * (attention + mlp + norms) + (2 * d if final_norm else 0)


def parameter_count(model):
    return sum(p.numel() for p in model.parameters())        # a shared Parameter counts once


def test_gpt2_small_has_124_million_parameters_on_the_meta_device():
    assert gpt2_parameter_count(50257, 1024, 12, 768) == 124_439_808
    with torch.device("meta"):
        gpt = GPT(50257, 1024, 12, 768, 12)
    assert all(p.is_meta for p in gpt.parameters())           # nothing allocated
    assert parameter_count(gpt) == 124_439_808
    idx = torch.zeros(2, 1024, dtype=torch.long, device="meta")
    assert gpt(idx).shape == (2, 1024, 50257)


@pytest.mark.parametrize("norm_first", [True, False], ids=["pre-LN", "post-LN"])
def test_small_gpt_count_follows_the_formula(norm_first):
    gpt = GPT(vocab_size=37, context=11, n_layers=3, d_model=16, n_heads=4, norm_first=norm_first)
    assert parameter_count(gpt) == gpt2_parameter_count(37, 11, 3, 16, final_norm=norm_first)


def test_output_layer_is_tied_to_the_token_embedding():
    gpt = GPT(vocab_size=20, context=6, n_layers=1, d_model=8, n_heads=2).double()
    assert gpt.lm_head.weight is gpt.wte.weight and gpt.lm_head.bias is None
    assert sum(p is gpt.wte.weight for p in gpt.parameters()) == 1
    assert {"wte.weight", "lm_head.weight"} <= set(gpt.state_dict())
    gpt(torch.tensor([[1, 2, 3]])).sum().backward()
    # the gradient holds both uses: rows 1-3 read in, and every row scored out
    assert gpt.wte.weight.grad[[0, 4, 5]].abs().sum() > 0


def test_gpt2_initialisation():
    torch.manual_seed(0)
    n_layers = 4
    gpt = GPT(vocab_size=2000, context=64, n_layers=n_layers, d_model=64, n_heads=4)
    residual_std = 0.02 / math.sqrt(2 * n_layers)
    for name, parameter in gpt.named_parameters():
        if name.endswith("bias") and ".ln_" not in name:
            assert torch.equal(parameter, torch.zeros_like(parameter)), name
        elif ".ln_" in name or name.startswith("ln_f"):
            expected = torch.ones_like(parameter) if name.endswith("weight") else torch.zeros_like(parameter)
            assert torch.equal(parameter, expected), name
        else:
            std = residual_std if name.endswith(("out_proj.weight", "c_proj.weight")) else 0.02
            assert parameter.mean().abs() < 3 * std / math.sqrt(parameter.numel()) + 1e-4, name
            assert parameter.std().item() == pytest.approx(std, rel=0.1), name


# ---------------------------------------------------------------- GPT: causality, attention maps

def small_gpt(norm_first=True, dtype=torch.float64, seed=0):
    torch.manual_seed(seed)
    return randomise(GPT(vocab_size=31, context=10, n_layers=2, d_model=16, n_heads=4, norm_first=norm_first)
                     .to(dtype), scale=0.05)


@pytest.mark.parametrize("norm_first", [True, False], ids=["pre-LN", "post-LN"])
def test_logits_do_not_read_the_future(norm_first):
    gpt = small_gpt(norm_first)
    generator = torch.Generator().manual_seed(7)
    idx = torch.randint(0, 31, (2, 10), generator=generator)
    logits = gpt(idx)
    for t in range(9):
        changed = idx.clone()
        changed[:, t + 1:] = torch.randint(0, 31, changed[:, t + 1:].shape, generator=generator)
        changed[:, t + 1] = (idx[:, t + 1] + 1) % 31                   # surely a different token at t + 1
        new_logits = gpt(changed)
        assert (new_logits[:, :t + 1] - logits[:, :t + 1]).abs().max() < FLOAT64_TOLERANCE
        assert (new_logits[:, t + 1:] - logits[:, t + 1:]).abs().max() > 1e-6


def test_attention_maps_are_causal_distributions():
    gpt = small_gpt()
    idx = torch.randint(0, 31, (3, 7), generator=torch.Generator().manual_seed(8))
    maps = gpt.attention_maps(idx)
    assert maps.shape == (2, 3, 4, 7, 7) and not maps.requires_grad
    assert torch.allclose(maps.sum(dim=-1), torch.ones(2, 3, 4, 7, dtype=torch.float64), atol=1e-14)
    above = ~causal_mask(7)
    assert torch.equal(maps[..., above], torch.zeros_like(maps[..., above]))
    assert torch.equal(maps[..., 0, 0], torch.ones_like(maps[..., 0, 0]))     # token 0 reads itself only


def test_first_attention_map_agrees_with_an_independent_formula():
    gpt = small_gpt()
    idx = torch.randint(0, 31, (2, 6), generator=torch.Generator().manual_seed(9))
    block = gpt.blocks[0]
    x = gpt.wte.weight[idx] + gpt.wpe.weight[:6]
    h = F.layer_norm(x, (16,), block.ln_1.weight, block.ln_1.bias, eps=1e-5)
    q, k, _ = (F.linear(h, w, b) for w, b in zip(block.attn.in_proj_weight.chunk(3), block.attn.in_proj_bias.chunk(3)))
    q, k = (t.reshape(2, 6, 4, 4).transpose(1, 2) for t in (q, k))             # (B, heads, T, head_dim)
    scores = (q @ k.transpose(-2, -1) / 2.0).masked_fill(~causal_mask(6), -math.inf)   # sqrt(head_dim) = 2
    assert (gpt.attention_maps(idx)[0] - torch.softmax(scores, dim=-1)).abs().max() < FLOAT64_TOLERANCE


# ---------------------------------------------------------------- GPT against its twin of torch layers

@pytest.mark.parametrize("norm_first", [True, False], ids=["pre-LN", "post-LN"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_gpt_agrees_with_its_torch_twin(norm_first, dtype):
    gpt = small_gpt(norm_first, dtype)
    twin = torch_gpt_twin(gpt)
    assert twin.lm_head.weight is twin.wte.weight
    assert all(isinstance(layer, nn.TransformerEncoderLayer) for layer in twin.layers)
    idx = torch.randint(0, 31, (3, 10), generator=torch.Generator().manual_seed(10))
    tolerance = FLOAT32_TOLERANCE if dtype == torch.float32 else FLOAT64_TOLERANCE
    assert relative_difference(gpt(idx), twin(idx)) < tolerance
    gpt.eval(), twin.eval()
    with torch.no_grad():                                                     # torch's fast path
        assert relative_difference(gpt(idx), twin(idx)) < tolerance


@pytest.mark.parametrize("norm_first", [True, False], ids=["pre-LN", "post-LN"])
def test_gpt_gradients_agree_with_its_torch_twin(norm_first):
    gpt = small_gpt(norm_first)
    twin = torch_gpt_twin(gpt)
    idx = torch.randint(0, 31, (3, 10), generator=torch.Generator().manual_seed(11))
    targets = torch.randint(0, 31, (3, 10), generator=torch.Generator().manual_seed(12))
    for model in (gpt, twin):
        F.cross_entropy(model(idx).flatten(0, 1), targets.flatten()).backward()
    twin_parameters = dict(twin.named_parameters())
    for name, parameter in gpt.named_parameters():
        expected = twin_parameters[torch_parameter_name(name)].grad
        assert parameter.grad.abs().sum() > 0, name
        assert relative_difference(parameter.grad, expected) < 1e-10, name


def test_torch_names_cover_every_parameter():
    gpt = small_gpt()
    assert sorted(torch_parameter_name(name) for name in gpt.state_dict()) == sorted(torch_gpt_twin(gpt).state_dict())


# ---------------------------------------------------------------- GPT: generation

def test_generate_is_repeatable_with_a_seeded_generator():
    gpt = small_gpt()
    prompt = torch.tensor([[1, 2, 3], [4, 5, 6]])
    first = gpt.generate(prompt, 8, generator=torch.Generator().manual_seed(0))
    again = gpt.generate(prompt, 8, generator=torch.Generator().manual_seed(0))
    assert first.shape == (2, 11) and torch.equal(first, again) and torch.equal(first[:, :3], prompt)
    assert not first.requires_grad and ((first >= 0) & (first < 31)).all()


def test_greedy_is_the_chain_of_argmaxes():
    gpt = small_gpt()
    prompt = torch.tensor([[7, 3], [2, 9]])
    expected = prompt
    for _ in range(12):                                   # past the context of 10: fed the last 10 tokens
        logits = gpt(expected[:, -10:])
        expected = torch.cat([expected, logits[:, -1].argmax(dim=-1, keepdim=True)], dim=1)
    assert torch.equal(gpt.generate(prompt, 12, greedy=True), expected)
    # a very low temperature samples the most likely token
    assert torch.equal(gpt.generate(prompt, 12, temperature=1e-4, generator=torch.Generator().manual_seed(1)),
                       expected)


@pytest.mark.parametrize("temperature", [0.5, 2.0])
def test_samples_follow_the_softmax_of_the_scaled_logits(temperature):
    torch.manual_seed(1)
    gpt = GPT(vocab_size=5, context=4, n_layers=1, d_model=8, n_heads=2).double()
    with torch.no_grad():
        gpt.wte.weight.mul_(10)                             # logits of about one unit: a spread distribution
    prompt = torch.tensor([[3, 1]])
    probabilities = torch.softmax(gpt(prompt)[0, -1] / temperature, dim=-1)
    samples = gpt.generate(prompt.repeat(4000, 1), 1, temperature, generator=torch.Generator().manual_seed(2))
    frequencies = torch.bincount(samples[:, -1], minlength=5) / 4000
    assert (frequencies - probabilities).abs().max() < 0.04   # 5 standard errors of a frequency
    assert probabilities.max() < 0.8 and probabilities.min() > 0.01


def test_generate_restores_the_mode():
    gpt = small_gpt()
    for mode in (True, False):
        gpt.train(mode)
        gpt.generate(torch.tensor([[1]]), 2, greedy=True)
        assert gpt.training is mode


# ---------------------------------------------------------------- bad input

def test_gpt_bad_input():
    cases = [
        (dict(d_model=10, n_heads=3), "d_model=10 must be divisible by n_heads=3"),
        (dict(vocab_size=0), "vocab_size must be a positive int, got 0"),
        (dict(context=2.5), "context must be a positive int, got 2.5"),
    ]
    for options, message in cases:
        with pytest.raises(ValueError, match=re.escape(message)):
            GPT(**{"vocab_size": 10, "context": 8, "n_layers": 1, "d_model": 8, "n_heads": 2, **options})
    gpt = GPT(vocab_size=10, context=8, n_layers=1, d_model=8, n_heads=2)
    calls = [
        (lambda: gpt(torch.zeros(1, 9, dtype=torch.long)), "idx must hold 1 to context=8 tokens per sequence, got T=9"),
        (lambda: gpt(torch.tensor([[1, 10]])), "token ids must be in [0, vocab_size=10), got ids from 1 to 10"),
        (lambda: gpt(torch.tensor([[-1, 2]])), "token ids must be in [0, vocab_size=10)"),
        (lambda: gpt(torch.zeros(1, 3)), "idx must be a (B, T) tensor of token ids (torch.long)"),
        (lambda: gpt(torch.zeros(3, dtype=torch.long)), "idx must be a (B, T) tensor of token ids"),
        (lambda: gpt.attention_maps(torch.zeros(1, 9, dtype=torch.long)), "got T=9"),
        (lambda: gpt.generate(torch.tensor([[1]]), 3, temperature=0.0), "temperature must be > 0"),
        (lambda: gpt.generate(torch.tensor([[1]]), -1), "max_new_tokens must be an int >= 0, got -1"),
        (lambda: torch_gpt_twin(nn.Linear(2, 2)), "gpt must be a dlcourse GPT, got Linear"),
    ]
    for call, message in calls:
        with pytest.raises(ValueError, match=re.escape(message)):
            call()


def test_block_and_causal_attention_check_their_sizes():
    with pytest.raises(ValueError, match=re.escape("d_model=12 must be divisible by n_heads=5")):
        CausalSelfAttention(12, 5)
    with pytest.raises(ValueError, match=re.escape("input must have shape (..., 8), got (2, 3, 6)")):
        Block(8, 2)(torch.randn(2, 3, 6))
    with pytest.raises(ValueError, match=re.escape("query must have shape (N, L, E=8) (batch_first=True)")):
        CausalSelfAttention(8, 2)(torch.randn(3, 6))
