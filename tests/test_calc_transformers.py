"""calc.transformers: GPT parameters, forward MACs, training FLOPs and KV cache against sums written differently,
``summarize`` and PyTorch's FlopCounterMode on GPTs built from torch.nn parts (on the meta device when large)."""

import math

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode, flop_registry

from dlcourse.calc import (
    GPT2_PRESETS,
    GPTConfig,
    gpt_forward_macs,
    gpt_forward_macs_by_term,
    gpt_params,
    gpt_training_flops,
    kv_cache_bytes,
    op_rules,
    summarize,
    training_flops,
)
from dlcourse.models.transformer import GPT

aten = torch.ops.aten
GPT2 = GPT2_PRESETS["gpt2"]
SMALL = GPTConfig(vocab_size=97, context=16, n_layers=2, d_model=32, n_heads=4)


class TorchGPT(nn.Module):
    """GPT-2's layout from torch.nn parts: pre-LN encoder layers (fused QKV with bias, GELU MLP d -> 4d -> d) under
    a causal mask, a final LayerNorm, an output layer tied to the token embedding unless ``tied=False``."""

    def __init__(self, config, tied=True, dropout=0.1):
        super().__init__()
        d = config.d_model
        self.tokens, self.positions = nn.Embedding(config.vocab_size, d), nn.Embedding(config.context, d)
        self.blocks = nn.ModuleList(
            nn.TransformerEncoderLayer(d, config.n_heads, 4 * d, dropout, activation="gelu", batch_first=True,
                                       norm_first=True)
            for _ in range(config.n_layers))
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, config.vocab_size, bias=False)
        if tied:
            self.head.weight = self.tokens.weight

    def forward(self, ids):
        length = ids.shape[1]
        x = self.tokens(ids) + self.positions(torch.arange(length, device=ids.device))
        mask = nn.Transformer.generate_square_subsequent_mask(length, device=ids.device)
        for block in self.blocks:
            x = block(x, src_mask=mask, is_causal=True)
        return self.head(self.norm(x))


def meta_gpt(config, **options):
    with torch.device("meta"):
        return TorchGPT(config, **options)


def ids(batch, length, device="meta"):
    return torch.zeros(batch, length, dtype=torch.long, device=device)


def forward_macs_written_out(config, tokens):
    """The forward MACs summed product by product, head by head, layer by layer."""
    t, d, head = tokens, config.d_model, config.head_dim
    total = 0
    for _ in range(config.n_layers):
        total += t * d * (3 * d)                     # QKV: (T, d) @ (d, 3d)
        for _ in range(config.n_heads):
            total += t * head * t                    # scores: (T, d/h) @ (d/h, T)
            total += t * t * head                    # mix: (T, T) @ (T, d/h)
        total += t * d * d                           # output projection
        total += t * d * (4 * d) + t * (4 * d) * d   # MLP up and down
    return total + t * d * config.vocab_size         # logits


# --- parameters -------------------------------------------------------------------------------------------------

def test_gpt2_small_parameters_part_by_part():
    p = gpt_params(GPT2)
    assert (p.token_embedding, p.position_embedding) == (50257 * 768, 1024 * 768)
    assert p.attention == 768 * 3 * 768 + 3 * 768 + 768 * 768 + 768
    assert p.mlp == 768 * 3072 + 3072 + 3072 * 768 + 768 and p.norms == 4 * 768
    assert p.per_block == 7_087_872 and p.blocks == 12 * 7_087_872 and p.final_norm == 1536 and p.head == 0
    assert p.total == 124_439_808 == p.embeddings + p.blocks + p.final_norm
    assert gpt_params(GPT2, tied=False).head == 50257 * 768


def test_presets_have_the_released_checkpoints_parameter_counts():
    # the counts of the four checkpoints OpenAI released (Hugging Face's num_parameters())
    released = {"gpt2": 124_439_808, "gpt2-medium": 354_823_168, "gpt2-large": 774_030_080,
                "gpt2-xl": 1_557_611_200}
    assert {name: gpt_params(config).total for name, config in GPT2_PRESETS.items()} == released
    assert [GPT2_PRESETS[name].head_dim for name in released] == [64, 64, 64, 64]


@pytest.mark.parametrize("name", ["gpt2", "gpt2-xl", "small"])
@pytest.mark.parametrize("tied", [True, False])
def test_parameters_equal_a_torch_model(name, tied):
    config = SMALL if name == "small" else GPT2_PRESETS[name]
    model = meta_gpt(config, tied=tied)
    assert sum(p.numel() for p in model.parameters()) == gpt_params(config, tied=tied).total
    blocks = sum(p.numel() for p in model.blocks.parameters())
    assert blocks == gpt_params(config).blocks


# --- forward MACs -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("config, tokens", [(GPT2, 1024), (GPT2, 100), (GPT2_PRESETS["gpt2-medium"], 1),
                                            (SMALL, 16), (GPT2_PRESETS["gpt2-xl"], 333)])
def test_forward_macs_equal_a_sum_written_out(config, tokens):
    assert gpt_forward_macs(config, tokens) == forward_macs_written_out(config, tokens)
    assert sum(gpt_forward_macs_by_term(config, tokens).values()) == gpt_forward_macs(config, tokens)


def test_gpt2_small_forward_macs_by_hand():
    assert gpt_forward_macs(GPT2, 1024) == 145_824_153_600 == gpt_forward_macs(GPT2)  # the whole context
    terms = gpt_forward_macs_by_term(GPT2, 1024)
    assert terms["attention scores and mix"] == 2 * 12 * 1024 ** 2 * 768
    assert terms["output layer"] == 1024 * 50257 * 768


@pytest.mark.parametrize("config, tokens", [(GPT2, 1024), (GPT2, 77), (SMALL, 16)])
def test_forward_macs_equal_summarize_on_a_torch_gpt(config, tokens):
    summary = summarize(meta_gpt(config), (1, tokens), dtype=torch.long)
    assert summary.macs == gpt_forward_macs(config, tokens)
    assert summary.params == gpt_params(config).total
    batched = summarize(meta_gpt(config), (3, tokens), dtype=torch.long)
    assert batched.macs == 3 * gpt_forward_macs(config, tokens)


def test_forward_macs_equal_summarize_on_the_course_gpt():
    for config, tokens in [(GPT2, 1024), (SMALL, 9)]:
        with torch.device("meta"):
            model = GPT(config.vocab_size, config.context, config.n_layers, config.d_model, config.n_heads)
        summary = summarize(model, (2, tokens), dtype=torch.long)
        assert summary.params == gpt_params(config).total
        unknown = {row.name: row.note for row in summary.unknown_rows}
        assert not unknown, f"summarize has no MAC rule for an operator of the course's GPT: {unknown}"
        assert summary.macs == 2 * gpt_forward_macs(config, tokens)


def test_flop_counter_mode_agrees_on_the_meta_device_forward_and_backward():
    # on the meta device scaled_dot_product_attention runs its math path: bmm's, which FlopCounterMode counts
    model, tokens = meta_gpt(GPT2), 1024
    with FlopCounterMode(display=False) as forward:
        loss = model(ids(2, tokens)).sum()
    assert forward.get_total_flops() == 2 * 2 * gpt_forward_macs(GPT2, tokens)  # 2 sequences, 2 FLOPs a MAC
    with FlopCounterMode(display=False) as backward:
        loss.backward()
    assert backward.get_total_flops() == 2 * forward.get_total_flops()  # backward: twice the forward, exactly
    whole_step = forward.get_total_flops() + backward.get_total_flops()
    assert whole_step == gpt_training_flops(GPT2, train_tokens=2 * tokens, tokens=tokens)


def test_flop_counter_mode_misses_the_cpus_fused_attention_kernels():
    """On real CPU tensors FlopCounterMode has no formula for two fused kernels that summarize counts (summarize
    runs on the meta device, where neither is chosen, and op_rules knows the first):

    * training with dropout 0: scaled_dot_product_attention runs _scaled_dot_product_flash_attention_for_cpu;
      FlopCounterMode's formulas cover the CUDA flash, efficient and cuDNN kernels only, so 2 L T^2 d MACs go
      uncounted;
    * eval under no_grad: nn.TransformerEncoderLayer's fast path runs a whole block as one operator,
      _transformer_encoder_layer_fwd, and FlopCounterMode counts nothing of the blocks, only the output layer.
    """
    torch.manual_seed(0)
    model, tokens = TorchGPT(SMALL, dropout=0.0), SMALL.context
    terms = gpt_forward_macs_by_term(SMALL, tokens)
    seen = []

    class Operators(torch.utils._python_dispatch.TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            seen.append((func, args, out))
            return out

    with torch.no_grad(), FlopCounterMode(display=False) as training, Operators():
        model.train()(ids(1, tokens, "cpu"))
    cpu_flash = aten._scaled_dot_product_flash_attention_for_cpu.default
    flash = [(args, out) for func, args, out in seen if func == cpu_flash]
    assert len(flash) == SMALL.n_layers
    # summarize's rule for the kernel: T^2 d per layer for QK^T and as much for AV
    assert sum(op_rules.op_macs(cpu_flash, args, out[0]) for args, out in flash) == terms["attention scores and mix"]
    if aten._scaled_dot_product_flash_attention_for_cpu not in flop_registry:
        assert training.get_total_flops() // 2 == gpt_forward_macs(SMALL, tokens) - terms["attention scores and mix"]
    else:  # a later PyTorch with the formula
        assert training.get_total_flops() // 2 == gpt_forward_macs(SMALL, tokens)
    seen.clear()
    with torch.no_grad(), FlopCounterMode(display=False) as inference, Operators():
        model.eval()(ids(1, tokens, "cpu"))
    assert sum(func == aten._transformer_encoder_layer_fwd.default for func, _, _ in seen) == SMALL.n_layers
    if aten._transformer_encoder_layer_fwd not in flop_registry:
        assert inference.get_total_flops() // 2 == terms["output layer"]


# --- training FLOPs ---------------------------------------------------------------------------------------------

def test_training_flops_six_n_d_and_eight_with_checkpointing():
    assert training_flops(124_439_808, 10 ** 9) == 6 * 124_439_808 * 10 ** 9
    assert training_flops(124_439_808, 10 ** 9, checkpointing=True) == 8 * 124_439_808 * 10 ** 9
    assert training_flops(10 ** 12, 10 ** 13) == 6 * 10 ** 25  # exact: Python integers do not overflow


def test_exact_training_flops_of_gpt2_small_against_6nd():
    n, d, layers, tokens, train_tokens = 124_439_808, 768, 12, 1024, 9 * 10 ** 9
    exact = gpt_training_flops(GPT2, train_tokens, tokens)
    # 6 D (N + 2 L T d - what N counts but no product does: position embedding, biases and norms)
    not_products = 1024 * d + layers * 13 * d + 2 * d
    assert exact == 6 * train_tokens * (n + 2 * layers * tokens * d - not_products)
    assert exact == 3 * 2 * gpt_forward_macs(GPT2, tokens) * train_tokens // tokens
    assert round(exact / training_flops(n, train_tokens), 4) == 1.1444
    short = gpt_training_flops(GPT2, train_tokens, tokens=128)  # a short context: the T^2 term shrinks
    assert 1 < short / training_flops(n, train_tokens) < exact / training_flops(n, train_tokens)


def test_exact_training_flops_with_checkpointing_equal_flop_counter_mode():
    # with dropout after the last linear layer its output is saved (the mask), so PyTorch recomputes each block
    # whole: the backward pass does one more forward of the blocks, not of the output layer
    from torch.utils.checkpoint import checkpoint  # noqa: PLC0415

    model, tokens = meta_gpt(SMALL), 16
    for block in model.blocks:
        block.forward = (lambda forward: lambda *a, **k: checkpoint(forward, *a, use_reentrant=False,
                                                                     preserve_rng_state=False, **k))(block.forward)
    with FlopCounterMode(display=False) as step:
        model(ids(3, tokens)).sum().backward()
    assert step.get_total_flops() == gpt_training_flops(SMALL, 3 * tokens, tokens, checkpointing=True)
    blocks = gpt_forward_macs(SMALL, tokens) - gpt_forward_macs_by_term(SMALL, tokens)["output layer"]
    assert step.get_total_flops() == gpt_training_flops(SMALL, 3 * tokens, tokens) + 3 * 2 * blocks


# --- KV cache ---------------------------------------------------------------------------------------------------

def test_kv_cache_of_gpt2_small_by_hand():
    assert kv_cache_bytes(12, 768, 1024, bytes_per_value=2) == 2 * 12 * 1024 * 768 * 2 == 36 * 2 ** 20
    assert kv_cache_bytes(12, 768, 1024, batch=8) == 8 * 4 * 2 * 12 * 1024 * 768


@pytest.mark.parametrize("layers, heads, kv_heads, head_dim, tokens, batch, dtype", [
    (12, 12, None, 64, 1024, 1, torch.float16),   # GPT-2 small
    (2, 4, None, 8, 7, 3, torch.float32),
    (80, 64, 8, 128, 4096, 1, torch.bfloat16),    # Llama 2 70B: 8 key/value heads for 64 query heads
])
def test_kv_cache_equals_the_tensors_a_cache_holds(layers, heads, kv_heads, head_dim, tokens, batch, dtype):
    cache = [(torch.empty(batch, kv_heads or heads, tokens, head_dim, dtype=dtype, device="meta"),
              torch.empty(batch, kv_heads or heads, tokens, head_dim, dtype=dtype, device="meta"))
             for _ in range(layers)]
    held = sum(k.numel() * k.element_size() + v.numel() * v.element_size() for k, v in cache)
    grouped = {} if kv_heads is None else {"n_kv_heads": kv_heads, "head_dim": head_dim}
    assert kv_cache_bytes(layers, heads * head_dim, tokens, batch, torch.empty(0, dtype=dtype).element_size(),
                          **grouped) == held


# --- bad input --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, message", [
    (lambda: GPTConfig(50257, 1024, 12, 768, 5), "d_model 768 must be divisible by n_heads 5"),
    (lambda: GPTConfig(50257, 1024, 0, 768, 12), "n_layers must be a positive int, got 0"),
    (lambda: GPTConfig(50257.0, 1024, 12, 768, 12), "vocab_size must be a positive int, got 50257.0"),
    (lambda: gpt_params((50257, 1024, 12, 768, 12)), "config must be a GPTConfig"),
    (lambda: gpt_params(GPT2, tied="yes"), "tied must be True or False"),
    (lambda: gpt_forward_macs(GPT2, 2048), "tokens must be at most the context 1024"),
    (lambda: gpt_forward_macs(GPT2, 0), "tokens must be a positive int, got 0"),
    (lambda: training_flops(0, 10), "n_params must be a positive int"),
    (lambda: training_flops(10, True), "train_tokens must be a positive int (tokens), got True"),
    (lambda: gpt_training_flops(GPT2, 10, checkpointing=1), "checkpointing must be True or False"),
    (lambda: kv_cache_bytes(12, 768, 1024, bytes_per_value=0), "bytes_per_value must be a positive int"),
    (lambda: kv_cache_bytes(12, 768, 1024, n_kv_heads=4), "give n_kv_heads and head_dim together"),
    (lambda: kv_cache_bytes(12, 768, 1024, n_kv_heads=24, head_dim=64), "is more than d_model 768"),
    (lambda: kv_cache_bytes(12, 768, 0), "tokens must be a positive int"),
])
def test_errors_say_what_was_wrong_and_what_was_expected(call, message):
    with pytest.raises(ValueError) as error:
        call()
    assert message in str(error.value)


def test_results_are_exact_integers_for_large_models():
    huge = GPTConfig(256_000, 8192, 126, 16384, 128)  # about 405 billion parameters
    assert isinstance(gpt_forward_macs(huge), int)
    assert gpt_forward_macs(huge) == forward_macs_written_out(huge, 8192)
    assert math.isclose(gpt_params(huge).total, 4.1e11, rel_tol=0.05)
