"""The arithmetic of GPT-style language models: parameters, forward MACs, training FLOPs, KV cache.

The layout is GPT-2's: learned token and position embeddings; ``n_layers`` pre-LN blocks,
each a LayerNorm, a fused QKV projection ``d -> 3d`` with bias, an output projection
``d -> d`` with bias, a LayerNorm and an MLP ``d -> 4d -> d`` with biases; a final
LayerNorm; an output layer ``d -> V`` without bias whose weight is the token embedding's
(tied; ``tied=False`` gives it a weight of its own).  Every count is a closed form in
``V`` (vocabulary), ``C`` (context), ``L`` (layers), ``d`` (model width) and ``T`` (tokens
in the sequence), checked in tests/test_calc_transformers.py against ``summarize`` and
PyTorch's ``FlopCounterMode`` on a model built from ``torch.nn`` parts.

>>> gpt2 = GPT2_PRESETS["gpt2"]
>>> gpt_params(gpt2).total, gpt_forward_macs(gpt2, tokens=1024)
(124439808, 145824153600)

MACs follow ``dlcourse.calc``'s convention (matrix products only, no bias additions,
norms or softmax; FLOPs = 2 x MACs).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dlcourse.validation import checked_int


@dataclass(frozen=True)
class GPTConfig:
    """A GPT's sizes: vocabulary ``V``, context ``C`` (positions), layers ``L``, width ``d``, heads.

    >>> GPTConfig(50257, 1024, 12, 768, 12).head_dim
    64
    """

    vocab_size: int
    context: int
    n_layers: int
    d_model: int
    n_heads: int

    def __post_init__(self) -> None:
        for name in ("vocab_size", "context", "n_layers", "d_model", "n_heads"):
            checked_int(name, getattr(self, name))
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model {self.d_model} must be divisible by n_heads {self.n_heads} "
                             "(each head gets d_model / n_heads values)")

    @property
    def head_dim(self) -> int:
        """The width of one head, ``d_model / n_heads``."""
        return self.d_model // self.n_heads


#: GPT-2's four published sizes (Radford et al., 2019; the released checkpoints' shapes).
GPT2_PRESETS: dict[str, GPTConfig] = {
    "gpt2": GPTConfig(50257, 1024, 12, 768, 12),
    "gpt2-medium": GPTConfig(50257, 1024, 24, 1024, 16),
    "gpt2-large": GPTConfig(50257, 1024, 36, 1280, 20),
    "gpt2-xl": GPTConfig(50257, 1024, 48, 1600, 25),
}


@dataclass(frozen=True)
class GPTParams:
    """The parameters of a GPT, part by part; ``head`` is 0 when the output layer is tied.

    ``per_block = attention + mlp + norms`` (one block); ``blocks = n_layers x per_block``.
    """

    token_embedding: int
    position_embedding: int
    attention: int
    mlp: int
    norms: int
    n_layers: int
    final_norm: int
    head: int
    per_block: int = field(init=False)
    blocks: int = field(init=False)
    total: int = field(init=False)

    def __post_init__(self) -> None:
        per_block = self.attention + self.mlp + self.norms
        object.__setattr__(self, "per_block", per_block)
        object.__setattr__(self, "blocks", self.n_layers * per_block)
        object.__setattr__(self, "total", self.token_embedding + self.position_embedding + self.blocks
                           + self.final_norm + self.head)

    @property
    def embeddings(self) -> int:
        """Token and position embeddings together."""
        return self.token_embedding + self.position_embedding


def gpt_params(config: GPTConfig, tied: bool = True) -> GPTParams:
    """The parameters of a GPT in GPT-2's layout, with their breakdown.

    * embeddings: ``V x d`` (tokens) + ``C x d`` (positions);
    * one block: attention ``d x 3d + 3d`` (QKV) ``+ d x d + d`` (output) = ``4d^2 + 4d``;
      MLP ``d x 4d + 4d + 4d x d + d = 8d^2 + 5d``; two LayerNorms ``2 x 2d``:
      ``12d^2 + 13d`` in all;
    * the final LayerNorm ``2d``; the output layer ``d x V`` (no bias) only when ``tied=False``.

    >>> p = gpt_params(GPT2_PRESETS["gpt2"])
    >>> p.embeddings, p.per_block, p.blocks, p.final_norm, p.head
    (39383808, 7087872, 85054464, 1536, 0)
    >>> p.total, gpt_params(GPT2_PRESETS["gpt2"], tied=False).total   # + 50257 x 768 untied
    (124439808, 163037184)
    """
    _check_config(config)
    _check_flag("tied", tied)
    d = config.d_model
    return GPTParams(
        token_embedding=config.vocab_size * d,
        position_embedding=config.context * d,
        attention=4 * d * d + 4 * d,
        mlp=8 * d * d + 5 * d,
        norms=4 * d,
        n_layers=config.n_layers,
        final_norm=2 * d,
        head=0 if tied else d * config.vocab_size,
    )


def gpt_forward_macs_by_term(config: GPTConfig, tokens: int | None = None) -> dict[str, int]:
    """The four terms of ``gpt_forward_macs`` (MACs of one sequence of ``tokens`` tokens), by name.

    >>> for name, macs in gpt_forward_macs_by_term(GPT2_PRESETS["gpt2"], 1024).items():
    ...     print(f"{name:<26} {macs:>16,}")
    attention projections        28,991,029,248
    MLP                          57,982,058,496
    attention scores and mix     19,327,352,832
    output layer                 39,523,713,024
    """
    _check_config(config)
    t = _check_tokens(config, tokens)
    layers, d = config.n_layers, config.d_model
    return {
        "attention projections": layers * 4 * t * d * d,   # QKV 3Td^2 + output Td^2, per layer
        "MLP": layers * 8 * t * d * d,                     # d -> 4d and 4d -> d, per layer
        "attention scores and mix": layers * 2 * t * t * d,  # QK^T and AV, T^2 d each, per layer
        "output layer": t * config.vocab_size * d,         # the logits of every position
    }


def gpt_forward_macs(config: GPTConfig, tokens: int | None = None) -> int:
    """MACs of one forward pass over a sequence of ``tokens`` tokens (default: the whole context).

    ``T x (12 L d^2 + V d) + 2 L T^2 d``, the sum of four terms:

    * **attention projections**, ``4 T d^2`` per layer: every token's ``d`` values times the
      fused ``d x 3d`` QKV matrix (``3 T d^2``), then the ``d x d`` output projection (``T d^2``);
    * **MLP**, ``8 T d^2`` per layer: ``d x 4d`` up and ``4d x d`` down, ``4 T d^2`` each;
    * **attention scores and mix**, ``2 T^2 d`` per layer: in each of ``h`` heads ``Q K^T`` is
      a ``T x d/h`` by ``d/h x T`` product (``T^2 d/h``) and ``A V`` a ``T x T`` by
      ``T x d/h`` one (``T^2 d/h``); over the heads, ``T^2 d`` each.  The full ``T x T``
      matrices are counted, as the kernels that mask them compute them: a causal mask does
      not halve the count (a flash kernel that skips the masked blocks does about half);
    * **output layer**, ``T V d``: the logits of every position.

    Not counted (calc's convention): biases, LayerNorms, GELU, the softmax and its
    ``1/sqrt(d/h)`` scaling, residual additions, and the embeddings, which are lookups
    (a row copied per token), not products.

    >>> # 1024 (12 x 12 x 768^2 + 50257 x 768) + 2 x 12 x 1024^2 x 768
    >>> gpt_forward_macs(GPT2_PRESETS["gpt2"], tokens=1024)
    145824153600
    """
    return sum(gpt_forward_macs_by_term(config, tokens).values())


def training_flops(n_params: int, train_tokens: int, checkpointing: bool = False) -> int:
    """The rule of thumb ``6 N D``: FLOPs to train ``N`` parameters on ``D`` tokens (``8 N D`` with checkpointing).

    Where the 6 comes from: in the forward pass each parameter multiplies one value and adds
    it, once per token: 2 FLOPs.  The backward pass does it twice: once for the gradient of
    the layer's input (passed on to the layer below) and once for the gradient of the
    weight: 4 FLOPs.  2 + 4 = 6 per parameter per token.  Activation checkpointing runs the
    forward pass a second time during the backward pass: 2 more, ``8 N D``.

    Where it fails (``gpt_training_flops`` gives the exact count):

    * attention's ``Q K^T`` and ``A V`` multiply activations by activations, with no
      parameter: ``2 L T d`` MACs per token that grow with the context ``T`` and that
      ``N`` does not see (for GPT-2 small at ``T = 1024``, 18.9 M MACs per token next to
      its 124 M parameters);
    * embedding lookups are not products: the position embedding's ``C d`` parameters cost
      nothing, yet count in ``N`` (the token embedding does its work as the tied output
      layer, so it is counted right); biases and norms count in ``N`` too and do one
      operation each, not a product;
    * checkpointing recomputes only the checkpointed modules (the blocks, not the output
      layer), and PyTorch stops each recomputation after its last saved tensor
      (``training_memory(..., checkpoint=...)`` reports the MACs it really recomputes).

    >>> training_flops(124_439_808, 10 ** 9)         # GPT-2 small, a billion tokens
    746638848000000000
    >>> training_flops(124_439_808, 10 ** 9, checkpointing=True) == 8 * 124_439_808 * 10 ** 9
    True
    """
    checked_int("n_params", n_params)
    checked_int("train_tokens", train_tokens, unit="tokens")
    _check_flag("checkpointing", checkpointing)
    return (8 if checkpointing else 6) * n_params * train_tokens


def gpt_training_flops(config: GPTConfig, train_tokens: int, tokens: int | None = None,
                       checkpointing: bool = False) -> int:
    """The exact FLOPs of training a GPT on ``train_tokens`` tokens in sequences of ``tokens``: 3 x forward x 2.

    Per sequence of ``T`` tokens the backward pass does exactly twice the forward's products
    (each matrix product ``A B`` needs ``dC B^T`` and ``A^T dC``, both as large as ``A B``),
    so one step costs ``3 x gpt_forward_macs(T)`` MACs, ``x 2`` FLOPs.  ``D`` training tokens
    are ``D / T`` sequences: ``6 D (12 L d^2 + V d + 2 L T d)``.  With ``checkpointing`` the
    blocks run forward once more: ``+ 2 D (12 L d^2 + 2 L T d)``.

    Next to ``training_flops``' ``6 N D`` for GPT-2 small at ``T = 1024`` (the ratio does not
    depend on ``D``):

    >>> gpt2 = GPT2_PRESETS["gpt2"]
    >>> exact = gpt_training_flops(gpt2, 10 ** 9, tokens=1024)
    >>> rule = training_flops(gpt_params(gpt2).total, 10 ** 9)
    >>> exact, rule, round(exact / rule, 4)
    (854438400000000000, 746638848000000000, 1.1444)
    """
    _check_config(config)
    checked_int("train_tokens", train_tokens, unit="tokens")
    t = _check_tokens(config, tokens)
    _check_flag("checkpointing", checkpointing)
    terms = gpt_forward_macs_by_term(config, t)
    forward_per_token = sum(terms.values()) // t  # every term has a factor T
    blocks_per_token = (sum(terms.values()) - terms["output layer"]) // t
    return 2 * train_tokens * (3 * forward_per_token + (blocks_per_token if checkpointing else 0))


def kv_cache_bytes(n_layers: int, d_model: int, tokens: int, batch: int = 1, bytes_per_value: int = 4,
                   n_kv_heads: int | None = None, head_dim: int | None = None) -> int:
    """Bytes of the key/value cache that generation keeps: ``2 x L x T x d x batch x bytes_per_value``.

    Generating token ``T + 1`` needs the keys and values of the ``T`` tokens before it in
    every layer; a cache keeps them so that they are computed once: 2 tensors (K and V)
    of ``T x d`` per layer and sequence.  With grouped-query attention (``n_kv_heads``
    heads of ``head_dim`` share the keys and values, as in Llama 2 70B) ``d`` becomes
    ``n_kv_heads x head_dim``; by default every head has its own (multi-head attention).

    GPT-2 small, 1024 tokens, float16:

    >>> kv_cache_bytes(12, 768, tokens=1024, bytes_per_value=2)        # 2*12*1024*768*2
    37748736
    >>> kv_cache_bytes(12, 768, tokens=1024, bytes_per_value=2) / 2 ** 20   # MiB
    36.0
    >>> kv_cache_bytes(80, 8192, 4096, bytes_per_value=2, n_kv_heads=8, head_dim=128) / 2 ** 30  # Llama 2 70B
    1.25
    """
    for name, value in (("n_layers", n_layers), ("d_model", d_model), ("tokens", tokens), ("batch", batch)):
        checked_int(name, value)
    checked_int("bytes_per_value", bytes_per_value, unit="bytes per stored value, 2 for float16")
    if (n_kv_heads is None) != (head_dim is None):
        raise ValueError("give n_kv_heads and head_dim together (grouped-query attention: n_kv_heads heads "
                         f"of head_dim values each), got n_kv_heads={n_kv_heads!r}, head_dim={head_dim!r}")
    width = d_model
    if n_kv_heads is not None:
        width = checked_int("n_kv_heads", n_kv_heads) * checked_int("head_dim", head_dim)
        if width > d_model:
            raise ValueError(f"n_kv_heads x head_dim = {width} is more than d_model {d_model}: expected at most "
                             "one key/value head per query head")
    return 2 * n_layers * tokens * width * batch * bytes_per_value


def _check_flag(name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r}")


def _check_config(config: GPTConfig) -> None:
    if not isinstance(config, GPTConfig):
        raise ValueError("config must be a GPTConfig(vocab_size, context, n_layers, d_model, n_heads) "
                         f"or one of GPT2_PRESETS ({', '.join(GPT2_PRESETS)}), got {config!r}")


def _check_tokens(config: GPTConfig, tokens: int | None) -> int:
    """``tokens``, or the context if None; at most the context (one learned position per token)."""
    if tokens is None:
        return config.context
    checked_int("tokens", tokens)
    if tokens > config.context:
        raise ValueError(f"tokens must be at most the context {config.context} (the model has one learned "
                         f"position embedding per position), got {tokens}")
    return tokens
