"""Transformers written from scratch: layer normalisation, the encoder layer, and GPT-2.

- ``LayerNorm``: normalises each vector over its features (Ba et al., 2016); loads
  ``torch.nn.LayerNorm``'s state dict.
- ``TransformerEncoderLayer``: a drop-in for ``torch.nn.TransformerEncoderLayer`` (Vaswani et al.,
  2017): self-attention (the course's ``MultiHeadAttention``) and a position-wise feed-forward
  network, each inside a residual connection with a LayerNorm, after the sum (post-LN, the paper's)
  or before the sublayer (pre-LN, ``norm_first=True``).  Same arguments, same parameter names, so
  ``ours.load_state_dict(theirs.state_dict())`` works and gives torch's outputs.
- ``sinusoidal_positions``: the original Transformer's fixed position encodings (GPT learns its own).
- ``GPT``: a decoder-only language model in GPT-2's layout (Radford et al., 2019): token and position
  embeddings, ``Block``s of ``CausalSelfAttention`` and a 4x MLP, a final LayerNorm, and an output
  layer tied to the token embedding.  ``GPT(50257, 1024, 12, 768, 12)`` has GPT-2 small's
  124,439,808 parameters.  ``torch_gpt_twin(gpt)`` builds the same network from PyTorch's own
  layers and copies the weights in: the tests check that both give the same logits and gradients.

Causal masking comes from ``dlcourse.models.attention`` (``causal_mask``, ``is_causal``): one
attention for the whole course.

>>> gpt = GPT(vocab_size=10, context=8, n_layers=2, d_model=16, n_heads=2)
>>> idx = torch.tensor([[1, 2, 3]])                       # one sequence of 3 tokens
>>> gpt(idx).shape                                        # logits (B, T, vocab_size)
torch.Size([1, 3, 10])
>>> gpt.generate(idx, max_new_tokens=4, greedy=True).shape
torch.Size([1, 7])
"""

from __future__ import annotations

import math
from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

from dlcourse.models.attention import MultiHeadAttention, causal_mask
from dlcourse.validation import checked_int

ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu}   # torch's strings; "gelu" is the exact (erf) GELU


def _check_positive(**sizes: int) -> None:
    """ValueError unless every size is a positive int (``dlcourse.validation.checked_int``)."""
    for name, size in sizes.items():
        checked_int(name, size)


def _check_divisible(d_model: int, heads: int, d_name: str, heads_name: str) -> None:
    if d_model % heads:
        raise ValueError(f"{d_name}={d_model} must be divisible by {heads_name}={heads}: "
                         f"each head gets {d_name} / {heads_name} features")


def sinusoidal_positions(length: int, d_model: int) -> torch.Tensor:
    """The fixed position encodings (length, d_model) of Vaswani et al.

    PE[p, 2i] = sin(p / 10000^(2i / d)), PE[p, 2i + 1] = cos(same angle).

    >>> sinusoidal_positions(2, 4)     # row 1: sin 1, cos 1, sin 0.01, ...
    tensor([[0.0000, 1.0000, 0.0000, 1.0000],
            [0.8415, 0.5403, 0.0100, 0.9999]])
    """
    _check_positive(length=length, d_model=d_model)
    if d_model % 2:
        raise ValueError(
            f"d_model must be even (sin, cos pairs), got {d_model}")
    p = torch.arange(length, dtype=torch.float64)[:, None]    # (T, 1)
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64)  # 0, 2, 4, ...
    angle = p / 10000 ** (two_i / d_model)                    # (T, d / 2)
    pe = torch.zeros(length, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle)
    return pe.to(torch.get_default_dtype())


class LayerNorm(nn.Module):
    """Layer normalisation (Ba et al., 2016) over the last dimension, from scratch.

    Each vector x of D features is normalised by its own mean and variance, then scaled and shifted::

        y = (x - mean(x)) / sqrt(var(x) + eps) * weight + bias

    with the biased variance (divided by D, not D - 1), as ``torch.nn.LayerNorm``.  ``weight``
    starts at 1 and ``bias`` at 0; their names are torch's, so ``load_state_dict`` takes an
    ``nn.LayerNorm(D)``'s state dict.  Unlike batch normalisation, nothing depends on the other
    items of the batch, and training and evaluation compute the same thing.

    >>> norm = LayerNorm(4)
    >>> norm(torch.tensor([[1.0, 2.0, 3.0, 6.0]])).detach()   # mean 3, variance (4 + 1 + 0 + 9) / 4 = 3.5
    tensor([[-1.0690, -0.5345,  0.0000,  1.6036]])
    """

    def __init__(
        self,
        normalized_shape: int,
        eps: float = 1e-5,
        bias: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        _check_positive(normalized_shape=normalized_shape)
        if not eps >= 0:
            raise ValueError(f"eps must be >= 0, got {eps}")
        self.normalized_shape, self.eps = normalized_shape, eps
        self.weight = nn.Parameter(torch.ones(normalized_shape, device=device, dtype=dtype))
        if bias:
            self.bias = nn.Parameter(torch.zeros(normalized_shape, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, bias={self.bias is not None}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Each vector of the last dimension normalised, scaled and shifted."""
        self._check_input(x)
        mean = x.mean(dim=-1, keepdim=True)
        # the biased variance: divided by D, not D - 1
        variance = (x - mean).square().mean(dim=-1, keepdim=True)
        x_hat = (x - mean) / torch.sqrt(variance + self.eps)  # mean 0, var 1
        y = x_hat * self.weight
        return y if self.bias is None else y + self.bias

    def _check_input(self, x: torch.Tensor) -> None:
        if x.dim() == 0 or x.shape[-1] != self.normalized_shape:
            raise ValueError(f"input must have shape (..., {self.normalized_shape}), got {tuple(x.shape)}")


class TransformerEncoderLayer(nn.Module):
    """The Transformer's encoder layer (Vaswani et al., 2017), a drop-in for ``torch.nn.TransformerEncoderLayer``.

    Two sublayers, each with a residual connection and a LayerNorm::

        post-LN (norm_first=False, the paper's):   x = norm1(x + SA(x));     x = norm2(x + FF(x))
        pre-LN  (norm_first=True, GPT-2's):        x = x + SA(norm1(x));     x = x + FF(norm2(x))

    SA is multi-head self-attention (``self_attn``, the course's ``MultiHeadAttention``) and
    FF(x) = linear2(activation(linear1(x))) acts on each position alone.  Parameter names and
    shapes are torch's (``self_attn.*``, ``linear1``, ``linear2``, ``norm1``, ``norm2``), so
    ``load_state_dict`` takes an ``nn.TransformerEncoderLayer``'s state dict.

    The arguments are torch's, in torch's order; ``activation`` is "relu" or "gelu" (the exact, erf
    GELU, as torch's "gelu").  ``dropout`` must be 0 (the default here; torch's is 0.1), as in
    ``MultiHeadAttention``.  ``forward(src, src_mask, src_key_padding_mask, is_causal)`` takes
    torch's masks with torch's meaning (True = NOT allowed; float = added to the scores), and
    ``is_causal=True`` applies the causal mask itself (torch also wants it as ``src_mask``).

    >>> layer = TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=32, batch_first=True)
    >>> x = torch.randn(3, 5, 8)                        # 3 sequences of 5 vectors
    >>> y = layer(x, is_causal=True)
    >>> y.shape
    torch.Size([3, 5, 8])
    >>> y.mean(dim=-1).abs().max() < 1e-6             # post-LN: each output vector normalised
    tensor(True)
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.0,
        activation: str = "relu",
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        _check_positive(d_model=d_model, nhead=nhead, dim_feedforward=dim_feedforward)
        _check_divisible(d_model, nhead, "d_model", "nhead")
        if dropout != 0:
            raise ValueError(f"dropout is not supported: leave it at 0.0 (got {dropout})")
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        factory = {"device": device, "dtype": dtype}
        self.d_model, self.batch_first, self.norm_first = d_model, batch_first, norm_first
        self.self_attn = MultiHeadAttention(d_model, nhead, bias=bias, batch_first=batch_first, **factory)
        self.linear1 = nn.Linear(d_model, dim_feedforward, bias=bias, **factory)
        self.linear2 = nn.Linear(dim_feedforward, d_model, bias=bias, **factory)
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.activation_name = activation
        self.activation = ACTIVATIONS[activation]

    def extra_repr(self) -> str:
        return f"activation={self.activation_name!r}, norm_first={self.norm_first}"

    def forward(
        self,
        src: torch.Tensor,
        src_mask: torch.Tensor | None = None,
        src_key_padding_mask: torch.Tensor | None = None,
        is_causal: bool = False,
    ) -> torch.Tensor:
        """Output shaped as ``src``: (S, N, E), or (N, S, E) if batch_first."""
        self._check_input(src)
        x, mask, padding = src, src_mask, src_key_padding_mask
        if self.norm_first:     # pre-LN: x + sublayer(norm(x))
            x = x + self._sa_block(self.norm1(x), mask, padding, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:                   # post-LN: norm(x + sublayer(x))
            x = self.norm1(x + self._sa_block(x, mask, padding, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(
        self,
        x: torch.Tensor,
        attn_mask: torch.Tensor | None,
        key_padding_mask: torch.Tensor | None,
        is_causal: bool,
    ) -> torch.Tensor:
        """Self-attention: query, key and value are all ``x``."""
        output, _ = self.self_attn(
            x, x, x, key_padding_mask=key_padding_mask, need_weights=False,
            attn_mask=attn_mask, is_causal=is_causal)
        return output

    def _ff_block(self, x: torch.Tensor) -> torch.Tensor:
        """Position-wise feed-forward network: linear2(act(linear1(x)))."""
        return self.linear2(self.activation(self.linear1(x)))

    def _check_input(self, src: torch.Tensor) -> None:
        if src.dim() != 3 or src.shape[-1] != self.d_model:
            expected = "(N, S, E" if self.batch_first else "(S, N, E"
            raise ValueError(f"src must have shape {expected}={self.d_model}) (batch_first={self.batch_first}), "
                             f"got {tuple(src.shape)}")


class CausalSelfAttention(MultiHeadAttention):
    """GPT's masked self-attention: ``MultiHeadAttention`` of a sequence with itself, under the causal mask.

    Position t attends positions 0..t only: the prediction of token t + 1 cannot read it, nor later ones.
    Inputs are batch-first, (B, T, d_model).  The parameters are ``MultiHeadAttention``'s (and
    torch's): ``in_proj_weight`` (3 d, d) stacks W^Q, W^K, W^V (GPT-2's ``c_attn``, transposed),
    ``out_proj`` is GPT-2's ``c_proj``.

    >>> attention = CausalSelfAttention(d_model=8, n_heads=2)
    >>> x = torch.randn(1, 4, 8)
    >>> attention(x).shape
    torch.Size([1, 4, 8])
    >>> weights = attention.weights(x).detach()      # (B, n_heads, T, T)
    >>> weights[0, 0, 0]                             # position 0 reads itself only
    tensor([1., 0., 0., 0.])
    >>> torch.equal(weights[0, 1] > 0, causal_mask(4))   # nothing above the diagonal
    True
    """

    def __init__(
        self, d_model: int, n_heads: int, device: torch.device | str | None = None, dtype: torch.dtype | None = None
    ) -> None:
        _check_positive(d_model=d_model, n_heads=n_heads)
        _check_divisible(d_model, n_heads, "d_model", "n_heads")
        super().__init__(d_model, n_heads, batch_first=True, device=device, dtype=dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Causal self-attention of ``x`` (B, T, d_model): (B, T, d_model)."""
        output, _ = super().forward(x, x, x, need_weights=False,
                                    is_causal=True)
        return output

    def weights(self, x: torch.Tensor) -> torch.Tensor:
        """Weights (B, n_heads, T, T) of each head: how t reads 0..t."""
        _, weights = super().forward(x, x, x, average_attn_weights=False,
                                     is_causal=True)
        return weights


class Block(nn.Module):
    """One GPT-2 block: causal self-attention and a 4x MLP, each in a residual connection with a LayerNorm.

    ``norm_first=True`` (GPT-2, pre-LN) normalises each sublayer's input, and the residual path
    x -> x + ... stays an identity from the embeddings to the output::

        x = x + attn(ln_1(x));   x = x + mlp(ln_2(x))

    ``norm_first=False`` is the post-LN block of the original Transformer (and GPT-1)::

        x = ln_1(x + attn(x));   x = ln_2(x + mlp(x))

    ``mlp`` is c_fc (d -> 4 d), GELU, c_proj (4 d -> d), GPT-2's names; every layer has a bias.
    The GELU is the exact one (``nn.GELU()``); GPT-2 used its tanh approximation.

    >>> block = Block(d_model=8, n_heads=2)
    >>> block(torch.randn(3, 5, 8)).shape
    torch.Size([3, 5, 8])
    """

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        norm_first: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.norm_first = norm_first
        self.ln_1 = LayerNorm(d_model, **factory)
        self.attn = CausalSelfAttention(d_model, n_heads, **factory)
        self.ln_2 = LayerNorm(d_model, **factory)
        self.mlp = nn.Sequential(OrderedDict(
            c_fc=nn.Linear(d_model, 4 * d_model, **factory),
            gelu=nn.GELU(),
            c_proj=nn.Linear(4 * d_model, d_model, **factory),
        ))

    def extra_repr(self) -> str:
        return f"norm_first={self.norm_first}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The block's output (B, T, d_model) for ``x`` (B, T, d_model)."""
        if self.norm_first:     # pre-LN (GPT-2)
            x = x + self.attn(self.ln_1(x))
            x = x + self.mlp(self.ln_2(x))
        else:                   # post-LN (the original Transformer)
            x = self.ln_1(x + self.attn(x))
            x = self.ln_2(x + self.mlp(x))
        return x

    def attention_weights(self, x: torch.Tensor) -> torch.Tensor:
        """Weights (B, n_heads, T, T) of the attention, for block input x."""
        return self.attn.weights(self.ln_1(x) if self.norm_first else x)


class GPT(nn.Module):
    """A GPT-2 language model (Radford et al., 2019), from scratch: it predicts each next token.

    idx (B, T) token ids -> token embedding ``wte`` + learned position embedding ``wpe`` ->
    ``n_layers`` ``Block``s -> ``ln_f`` -> ``lm_head`` -> logits (B, T, vocab_size); the logits at
    position t score the token t + 1, and read tokens 0..t only (causal attention).

    - ``norm_first=True``: GPT-2's pre-LN blocks and a final LayerNorm ``ln_f``;
      ``norm_first=False``: post-LN blocks, whose output is normalised already (``ln_f`` is the identity).
    - ``lm_head`` (no bias) is TIED to ``wte``: one Parameter (vocab_size, d_model) both reads a
      token in and scores it out.
    - The MLP's GELU is exact (``nn.GELU()``); GPT-2 used the tanh approximation.  No dropout.
    - GPT-2's initialisation: weights normal(0, 0.02), biases 0, LayerNorms (1, 0); the two
      projections that write into the residual stream in each block (``attn.out_proj`` and
      ``mlp.c_proj``) get std 0.02 / sqrt(2 n_layers), so the stream's variance does not grow with depth.

    ``GPT(50257, 1024, 12, 768, 12)`` is GPT-2 small, 124,439,808 parameters; build it under
    ``with torch.device("meta"):`` to count them without allocating memory.

    >>> gpt = GPT(vocab_size=100, context=16, n_layers=2, d_model=32, n_heads=4)
    >>> gpt.lm_head.weight is gpt.wte.weight
    True
    >>> gpt(torch.randint(0, 100, (2, 16))).shape
    torch.Size([2, 16, 100])
    """

    def __init__(
        self, vocab_size: int, context: int, n_layers: int, d_model: int, n_heads: int, norm_first: bool = True
    ) -> None:
        super().__init__()
        _check_positive(vocab_size=vocab_size, context=context, n_layers=n_layers, d_model=d_model, n_heads=n_heads)
        _check_divisible(d_model, n_heads, "d_model", "n_heads")
        self.vocab_size, self.context, self.n_layers = vocab_size, context, n_layers
        self.d_model, self.n_heads, self.norm_first = d_model, n_heads, norm_first
        self.wte = nn.Embedding(vocab_size, d_model)          # token embedding
        self.wpe = nn.Embedding(context, d_model)             # position embedding
        self.blocks = nn.ModuleList(Block(d_model, n_heads, norm_first) for _ in range(n_layers))
        self.ln_f = LayerNorm(d_model) if norm_first else nn.Identity()
        self.lm_head = nn.Linear(d_model, vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight                 # tied: one Parameter
        self._init_gpt2()

    def extra_repr(self) -> str:
        return f"context={self.context}, norm_first={self.norm_first}"

    def _init_gpt2(self) -> None:
        """GPT-2's initialisation (see the class docstring)."""
        std = 0.02
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, mean=0.0, std=std)
            if isinstance(module, nn.Linear) and module.bias is not None:
                nn.init.zeros_(module.bias)
            if isinstance(module, CausalSelfAttention):
                nn.init.normal_(module.in_proj_weight, mean=0.0, std=std)
                nn.init.zeros_(module.in_proj_bias)
        for block in self.blocks:   # the residual projections
            for projection in (block.attn.out_proj, block.mlp.c_proj):
                nn.init.normal_(projection.weight, mean=0.0, std=std / math.sqrt(2 * self.n_layers))

    def _embed(self, idx: torch.Tensor) -> torch.Tensor:
        """Token + position embeddings (B, T, d_model) of ``idx`` (B, T), after checking it."""
        if idx.dim() != 2 or idx.dtype not in (torch.int64, torch.int32):
            raise ValueError(f"idx must be a (B, T) tensor of token ids (torch.long), got shape {tuple(idx.shape)} "
                             f"and dtype {idx.dtype}")
        length = idx.shape[1]
        if not 1 <= length <= self.context:
            raise ValueError(f"idx must hold 1 to context={self.context} tokens per sequence, got T={length}")
        if idx.device.type != "meta" and bool((idx < 0).any() or (idx >= self.vocab_size).any()):
            raise ValueError(f"token ids must be in [0, vocab_size={self.vocab_size}), got ids from "
                             f"{idx.min().item()} to {idx.max().item()}")
        positions = torch.arange(length, device=idx.device)
        return self.wte(idx) + self.wpe(positions)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        """Logits (B, T, vocab_size) of the token after each position."""
        x = self._embed(idx)
        for block in self.blocks:
            x = block(x)
        return self.lm_head(self.ln_f(x))

    @torch.no_grad()
    def attention_maps(self, idx: torch.Tensor) -> torch.Tensor:
        """Attention weights (n_layers, B, n_heads, T, T), without gradients.

        Entry [layer, b, head, t, s]: how much position t reads position s
        (0 for s > t); each row sums to 1.
        """
        x = self._embed(idx)
        maps = []
        for block in self.blocks:
            maps.append(block.attention_weights(x))
            x = block(x)
        return torch.stack(maps)

    @torch.no_grad()
    def generate(
        self,
        idx: torch.Tensor,
        max_new_tokens: int,
        temperature: float = 1.0,
        greedy: bool = False,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """``idx`` (B, T) extended by ``max_new_tokens`` predicted tokens.

        Each step feeds the last ``context`` tokens and picks the next token
        from the logits of the last position: the most likely (``greedy``),
        or a sample from softmax(logits / ``temperature``) drawn with
        ``generator`` (seed it for a repeatable text).  Low temperatures
        sharpen the distribution towards greedy, high ones flatten it.  Runs
        in evaluation mode, without gradients; the mode is restored after.
        """
        _check_generation(max_new_tokens, temperature)
        was_training = self.training
        self.eval()
        try:
            for _ in range(max_new_tokens):
                # the scores of the next token, (B, vocab_size)
                logits = self(idx[:, -self.context:])[:, -1, :]
                if greedy:
                    next_token = logits.argmax(dim=-1, keepdim=True)
                else:
                    probabilities = torch.softmax(logits / temperature, dim=-1)
                    next_token = torch.multinomial(probabilities, 1,
                                                   generator=generator)
                idx = torch.cat([idx, next_token], dim=1)
        finally:
            self.train(was_training)
        return idx


def _check_generation(max_new_tokens: int, temperature: float) -> None:
    checked_int("max_new_tokens", max_new_tokens, minimum=0)
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0 (softmax(logits / temperature)), got {temperature}")


class _TorchGPT(nn.Module):
    """``GPT`` built from PyTorch's own layers (see ``torch_gpt_twin``)."""

    def __init__(self, gpt: GPT, device: torch.device, dtype: torch.dtype) -> None:
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        d_model = gpt.d_model
        self.wte = nn.Embedding(gpt.vocab_size, d_model, **factory)
        self.wpe = nn.Embedding(gpt.context, d_model, **factory)
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(d_model, gpt.n_heads, 4 * d_model, dropout=0.0, activation="gelu",
                                       batch_first=True, norm_first=gpt.norm_first, **factory)
            for _ in range(gpt.n_layers))
        self.ln_f = nn.LayerNorm(d_model, **factory) if gpt.norm_first else nn.Identity()
        self.lm_head = nn.Linear(d_model, gpt.vocab_size, bias=False, **factory)
        self.lm_head.weight = self.wte.weight

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        length = idx.shape[1]
        # torch's attn_mask: True = may NOT attend
        not_allowed = ~causal_mask(length, device=idx.device)
        positions = torch.arange(length, device=idx.device)
        x = self.wte(idx) + self.wpe(positions)
        for layer in self.layers:
            x = layer(x, src_mask=not_allowed, is_causal=True)
        return self.lm_head(self.ln_f(x))


def torch_parameter_name(name: str) -> str:
    """Our GPT's parameter name -> the name in its twin of torch layers.

    >>> torch_parameter_name("blocks.3.mlp.c_fc.weight")
    'layers.3.linear1.weight'
    >>> torch_parameter_name("blocks.0.attn.in_proj_weight")  # q, k, v
    'layers.0.self_attn.in_proj_weight'
    """
    ours_to_torch = (                       # wte, wpe, ln_f, lm_head: the same
        ("blocks.", "layers."),
        (".ln_1.", ".norm1."),
        (".ln_2.", ".norm2."),
        (".attn.", ".self_attn."),          # in_proj_*, out_proj.*: the same
        (".mlp.c_fc.", ".linear1."),
        (".mlp.c_proj.", ".linear2."),
    )
    for ours, theirs in ours_to_torch:
        name = name.replace(ours, theirs)
    return name


def torch_gpt_twin(gpt: GPT) -> nn.Module:
    """``gpt``'s network built from PyTorch's layers, with its weights.

    ``nn.Embedding``s; per block, one ``nn.TransformerEncoderLayer(d,
    n_heads, 4 d, activation="gelu", batch_first=True, norm_first=...)``
    under a causal ``src_mask``; ``nn.LayerNorm``; the tied head.  Its
    ``forward(idx)`` returns the logits.  It has ``gpt``'s device, dtype and
    mode; the names map by ``torch_parameter_name``.

    >>> gpt = GPT(vocab_size=50, context=8, n_layers=2, d_model=16, n_heads=2)
    >>> twin = torch_gpt_twin(gpt)
    >>> idx = torch.randint(0, 50, (2, 8))
    >>> (gpt(idx) - twin(idx)).abs().max() < 1e-5
    tensor(True)
    """
    if not isinstance(gpt, GPT):
        raise ValueError(f"gpt must be a dlcourse GPT, got {type(gpt).__name__}")
    twin = _TorchGPT(gpt, gpt.wte.weight.device, gpt.wte.weight.dtype)
    state = {torch_parameter_name(name): value
             for name, value in gpt.state_dict().items()}
    twin.load_state_dict(state)
    return twin.train(gpt.training)
