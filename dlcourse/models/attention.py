"""Attention written from scratch: four score functions and multi-head attention.

Attention reads a weighted average of ``values``; the weights say how well the ``query``
matches each key.  Every module here is called the same way::

    context, weights = attention(query, keys, values, mask=None)

    query  (B, Tq, Dq)    keys (B, Tk, Dk)    values (B, Tk, Dv)    mask (B, Tk) or (B, Tq, Tk)
    context (B, Tq, Dv)   weights (B, Tq, Tk)

and only the score s(q, k) of one query against one key differs:

- ``DotProductAttention``: q . k, divided by sqrt(d) when scaled (Luong et al., 2015; Vaswani et al., 2017);
- ``GeneralAttention``: q^T W k (Luong et al., 2015, "general");
- ``AdditiveAttention``: v^T tanh(W1 q + W2 k) (Bahdanau et al., 2015);
- ``CosineAttention``: beta cos(q, k), the content addressing of the Neural Turing Machine (Graves et al., 2014).

The rest is shared (``_attend``): weights = softmax over the keys of the scores, with the
scores of masked keys set to -inf first, so their weights are exactly 0; context = weights @ values.
``mask`` follows ``torch.nn.functional.scaled_dot_product_attention``: a bool mask is True where
a key MAY be attended, a float mask is added to the scores (-inf = masked); (B, Tk) masks the same
keys for every query, (B, Tq, Tk) each query its own (``causal_mask``: no key after the query).
A query whose keys are all masked has no distribution to attend with (softmax over nothing):
that raises a ValueError.

``MultiHeadAttention`` is a drop-in for ``torch.nn.MultiheadAttention`` built on the scaled
dot product: same arguments, same parameter names, so ``ours.load_state_dict(theirs.state_dict())``
works and gives the same outputs.  Its ``key_padding_mask`` keeps torch's meaning, True = IGNORE,
the opposite of ``mask`` above; so does its ``attn_mask``.

Costs: ``dlcourse.calc.MultiheadAttention(embed_dim, num_heads)`` gives the parameter count and
the MACs of self-attention by formula (4 T E^2 for the projections, 2 T^2 E for Q K^T and A V),
and ``dlcourse.calc.summarize`` counts any of these modules operator by operator.

>>> attention = DotProductAttention(scaled=True)
>>> query = torch.tensor([[[1.0, 1.0]]])                             # one query in 2-D
>>> keys = torch.tensor([[[1.0, 1.0], [1.0, -1.0], [-1.0, -1.0]]])   # scores 2, 0, -2, / sqrt(2)
>>> values = torch.tensor([[[1.0], [2.0], [3.0]]])
>>> context, weights = attention(query, keys, values, mask=torch.tensor([[True, True, False]]))
>>> weights    # softmax(sqrt(2), 0) = 1 / (1 + exp(-sqrt(2))), and 0 at the masked key
tensor([[[0.8044, 0.1956, 0.0000]]])
>>> context    # 0.8044 * 1 + 0.1956 * 2
tensor([[[1.1956]]])
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from dlcourse.validation import checked_int

Scores = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _shape(tensor: torch.Tensor) -> tuple[int, ...]:
    return tuple(tensor.shape)


def _check_features(name: str, tensor: torch.Tensor, expected: int, symbol: str) -> None:
    """ValueError unless the last dimension of ``tensor`` (named ``name``) is ``expected``."""
    if tensor.shape[-1] != expected:
        raise ValueError(f"{name} must have shape (B, T, {symbol}={expected}), got {_shape(tensor)}")


def _check_same_features(query: torch.Tensor, keys: torch.Tensor, what: str) -> None:
    """ValueError unless queries and keys have the same size (needed by q . k and cos(q, k))."""
    if query.shape[-1] != keys.shape[-1]:
        raise ValueError(
            f"{what} needs query and keys of the same size: keys must have shape (B, Tk, Dq={query.shape[-1]}), "
            f"got {_shape(keys)} for query {_shape(query)}"
        )


def causal_mask(
    length: int, device: torch.device | str | None = None
) -> torch.Tensor:
    """The causal mask (T, T) of T = ``length`` tokens: True where j <= i.

    A decoder predicting token i + 1 must not read the tokens after i: query
    i may attend keys 0..i, on and below the diagonal.  True = may attend,
    as the ``mask`` here and ``F.scaled_dot_product_attention``'s; torch's
    ``attn_mask`` of ``nn.MultiheadAttention`` wants ``~causal_mask(T)``.

    >>> causal_mask(3)
    tensor([[ True, False, False],
            [ True,  True, False],
            [ True,  True,  True]])
    """
    length = checked_int("length", length, unit="the number of tokens T")
    ones = torch.ones(length, length, dtype=torch.bool, device=device)
    return ones.tril()          # keep the diagonal and below


def _check_mask_type(name: str, mask: torch.Tensor, true_means: str) -> None:
    """ValueError unless ``mask`` (named ``name``) is bool (True = ``true_means``) or float (added to the scores)."""
    if mask.dtype != torch.bool and not mask.is_floating_point():
        raise ValueError(f"{name} must be a bool tensor (True = {true_means}) or a float tensor (added to the "
                         f"scores), got dtype {mask.dtype}")


def _as_added_scores(mask: torch.Tensor, true_means_allowed: bool, dtype: torch.dtype) -> torch.Tensor:
    """A mask as the numbers added to the scores: a float mask as it is, a bool mask as 0 (allowed) or -inf."""
    if mask.is_floating_point():
        return mask.to(dtype)
    blocked = ~mask if true_means_allowed else mask
    return torch.zeros(mask.shape, dtype=dtype, device=mask.device).masked_fill(blocked, -math.inf)


def _rows_without_keys(added: torch.Tensor) -> torch.Tensor:
    """True for each row (query) of an added mask that is -inf at every key; none on meta (no values)."""
    if added.device.type == "meta":
        return torch.zeros(added.shape[:-1], dtype=torch.bool)
    return torch.isneginf(added).all(dim=-1)


def _check_mask(mask: torch.Tensor, query: torch.Tensor, num_keys: int) -> torch.Tensor:
    """``mask`` of ``_attend`` checked and made the (B, 1 or Tq, Tk) numbers added to the scores."""
    batch, num_queries = query.shape[:2]
    _check_mask_type("mask", mask, "may be attended")
    if _shape(mask) not in ((batch, num_keys), (batch, num_queries, num_keys)):
        raise ValueError(f"mask must have shape (B={batch}, Tk={num_keys}) or (B={batch}, Tq={num_queries}, "
                         f"Tk={num_keys}), got {_shape(mask)}")
    added = _as_added_scores(mask if mask.dim() == 3 else mask[:, None, :], True, query.dtype)
    empty = _rows_without_keys(added).any(dim=1)
    if empty.any():
        raise ValueError(f"mask masks every key of batch item(s) {empty.nonzero().flatten().tolist()}"
                         f"{' for some queries' if mask.dim() == 3 else ''}: softmax over no keys is undefined")
    return added


def _attend(
    scores_of: Scores, query: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, mask: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The part every attention shares: check shapes, score, mask, softmax, weighted sum.

    ``scores_of(query, keys)`` returns the scores (B, Tq, Tk); the rest is done here.  ``mask``
    (B, Tk) or (B, Tq, Tk): bool, True where a key may be attended, or float, added to the scores.
    """
    if query.dim() != 3:
        raise ValueError(f"query must have shape (B, Tq, Dq), got {_shape(query)}")
    batch = query.shape[0]
    if keys.dim() != 3 or keys.shape[0] != batch:
        raise ValueError(f"keys must have shape (B={batch}, Tk, Dk), got {_shape(keys)}")
    num_keys = keys.shape[1]
    if num_keys == 0:
        raise ValueError(f"keys must hold at least one key: shape (B={batch}, Tk>0, Dk), got {_shape(keys)}")
    if values.dim() != 3 or values.shape[:2] != keys.shape[:2]:
        raise ValueError(f"values must have shape (B={batch}, Tk={num_keys}, Dv), got {_shape(values)}")
    if mask is not None:
        # 0 where a key may be attended, -inf where not (or a float mask's numbers)
        mask = _check_mask(mask, query, num_keys)

    scores = scores_of(query, keys)         # s_ij = s(q_i, k_j), (B, Tq, Tk)
    if mask is not None:
        # s_ij - inf at a masked key: exp(-inf) = 0
        scores = scores + mask
    # a_ij = exp(s_ij) / sum_j' exp(s_ij')
    weights = torch.softmax(scores, dim=-1)
    context = weights @ values              # c_i = sum_j a_ij v_j
    return context, weights


class DotProductAttention(nn.Module):
    """Dot-product attention, s(q, k) = q . k, or q . k / sqrt(d) when ``scaled`` (Vaswani et al., 2017).

    Queries and keys must have the same size d.  Scaling keeps the scores' variance near 1 when
    q and k have unit-variance entries, so the softmax does not saturate for large d.

    >>> attention = DotProductAttention()
    >>> query = torch.tensor([[[1.0, 2.0]]])
    >>> keys = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])       # scores 1 and 2
    >>> values = torch.tensor([[[0.0], [1.0]]])
    >>> context, weights = attention(query, keys, values)
    >>> weights   # exp(1) / (exp(1) + exp(2)) = 1 / (1 + e)
    tensor([[[0.2689, 0.7311]]])
    """

    def __init__(self, scaled: bool = False) -> None:
        super().__init__()
        self.scaled = scaled

    def extra_repr(self) -> str:
        return f"scaled={self.scaled}"

    def scores(self, query: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        """Scores (B, Tq, Tk) of every query against every key."""
        _check_same_features(query, keys, "dot-product attention")
        scores = query @ keys.transpose(-2, -1)           # s_ij = q_i . k_j
        if self.scaled:
            scores = scores / math.sqrt(query.shape[-1])  # s_ij / sqrt(d)
        return scores

    def forward(
        self, query: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Context (B, Tq, Dv) and weights (B, Tq, Tk); ``mask`` (B, Tk) or (B, Tq, Tk): see ``_attend``."""
        return _attend(self.scores, query, keys, values, mask)


class GeneralAttention(nn.Module):
    """Luong's "general" attention, s(q, k) = q^T W k, with W (query_dim, key_dim) learned.

    ``W`` is ``self.key_projection.weight``: keys are first mapped to the query's space (W k),
    then compared by a dot product, so queries and keys may have different sizes.

    >>> attention = GeneralAttention(query_dim=2, key_dim=3)
    >>> attention.key_projection.weight.shape
    torch.Size([2, 3])
    >>> context, weights = attention(torch.randn(4, 5, 2), torch.randn(4, 7, 3), torch.randn(4, 7, 6))
    >>> context.shape, weights.shape
    (torch.Size([4, 5, 6]), torch.Size([4, 5, 7]))
    """

    def __init__(self, query_dim: int, key_dim: int) -> None:
        super().__init__()
        self.query_dim, self.key_dim = query_dim, key_dim
        self.key_projection = nn.Linear(key_dim, query_dim, bias=False)    # weight W: (query_dim, key_dim)

    def scores(self, query: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        """Scores (B, Tq, Tk) of every query against every key."""
        _check_features("query", query, self.query_dim, "Dq")
        _check_features("keys", keys, self.key_dim, "Dk")
        projected_keys = self.key_projection(keys)        # W k_j, (B, Tk, Dq)
        return query @ projected_keys.transpose(-2, -1)   # s_ij = q_i^T (W k_j)

    def forward(
        self, query: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Context (B, Tq, Dv) and weights (B, Tq, Tk); ``mask`` (B, Tk) or (B, Tq, Tk): see ``_attend``."""
        return _attend(self.scores, query, keys, values, mask)


class AdditiveAttention(nn.Module):
    """Bahdanau's additive attention, s(q, k) = v^T tanh(W1 q + W2 k), a one-hidden-layer MLP.

    W1 (hidden_dim, query_dim), W2 (hidden_dim, key_dim) and v (hidden_dim) are
    ``query_projection.weight``, ``key_projection.weight`` and ``score.weight``; none has a bias,
    as in the paper's equation.  It costs a (B, Tq, Tk, hidden_dim) intermediate tensor.

    >>> attention = AdditiveAttention(query_dim=2, key_dim=3, hidden_dim=8)
    >>> context, weights = attention(torch.randn(4, 5, 2), torch.randn(4, 7, 3), torch.randn(4, 7, 6))
    >>> context.shape, weights.shape
    (torch.Size([4, 5, 6]), torch.Size([4, 5, 7]))
    >>> torch.allclose(weights.sum(dim=-1), torch.ones(4, 5))
    True
    """

    def __init__(self, query_dim: int, key_dim: int, hidden_dim: int) -> None:
        super().__init__()
        self.query_dim, self.key_dim, self.hidden_dim = query_dim, key_dim, hidden_dim
        self.query_projection = nn.Linear(query_dim, hidden_dim, bias=False)   # W1
        self.key_projection = nn.Linear(key_dim, hidden_dim, bias=False)       # W2
        self.score = nn.Linear(hidden_dim, 1, bias=False)                      # v^T

    def scores(self, query: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        """Scores (B, Tq, Tk) of every query against every key."""
        _check_features("query", query, self.query_dim, "Dq")
        _check_features("keys", keys, self.key_dim, "Dk")
        # W1 q_i, (B, Tq, 1, H)
        projected_queries = self.query_projection(query)[:, :, None, :]
        # W2 k_j, (B, 1, Tk, H)
        projected_keys = self.key_projection(keys)[:, None, :, :]
        # tanh(W1 q_i + W2 k_j), (B, Tq, Tk, H)
        hidden = torch.tanh(projected_queries + projected_keys)
        return self.score(hidden).squeeze(-1)   # s_ij = v^T tanh(...)

    def forward(
        self, query: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Context (B, Tq, Dv) and weights (B, Tq, Tk); ``mask`` (B, Tk) or (B, Tq, Tk): see ``_attend``."""
        return _attend(self.scores, query, keys, values, mask)


class CosineAttention(nn.Module):
    """Content-based attention of the Neural Turing Machine, s(q, k) = beta cos(q, k) (Graves et al., 2014).

    cos(q, k) = q . k / (|q| |k|) ignores the vectors' lengths; the key strength ``beta`` >= 0
    sharpens the weights (beta = 0: uniform; large beta: nearly all weight on the closest key).
    Here beta is a fixed number (in the NTM the controller emits it at every step).  Norms below
    ``eps`` are replaced by ``eps``, as in ``torch.nn.functional.cosine_similarity``.

    >>> attention = CosineAttention(beta=2.0)
    >>> query = torch.tensor([[[1.0, 0.0]]])
    >>> keys = torch.tensor([[[3.0, 0.0], [0.0, 1.0], [-2.0, 0.0]]])   # cosines 1, 0, -1
    >>> attention.scores(query, keys)
    tensor([[[ 2.,  0., -2.]]])
    """

    def __init__(self, beta: float = 1.0, eps: float = 1e-8) -> None:
        super().__init__()
        if not beta >= 0:
            raise ValueError(f"beta must be >= 0, got {beta}")
        self.beta, self.eps = beta, eps

    def extra_repr(self) -> str:
        return f"beta={self.beta}"

    def scores(self, query: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
        """Scores (B, Tq, Tk) of every query against every key."""
        _check_same_features(query, keys, "cosine attention")
        unit_queries = F.normalize(query, dim=-1, eps=self.eps)   # q / |q|
        unit_keys = F.normalize(keys, dim=-1, eps=self.eps)       # k / |k|
        # s_ij = beta cos(q_i, k_j)
        return self.beta * (unit_queries @ unit_keys.transpose(-2, -1))

    def forward(
        self, query: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Context (B, Tq, Dv) and weights (B, Tq, Tk); ``mask`` (B, Tk) or (B, Tq, Tk): see ``_attend``."""
        return _attend(self.scores, query, keys, values, mask)


class MultiHeadAttention(nn.Module):
    """Multi-head attention (Vaswani et al., 2017), a drop-in for ``torch.nn.MultiheadAttention``.

    Each of the ``num_heads`` heads attends with scaled dot products in its own slice of
    ``head_dim = embed_dim // num_heads`` features::

        head_h = softmax(Q W_h^Q (K W_h^K)^T / sqrt(head_dim)) V W_h^V
        output = concat(head_1, ..., head_H) W^O + b^O

    Parameters have torch's names and shapes: ``in_proj_weight`` (3 E, E) stacks W^Q, W^K, W^V
    (or ``q_proj_weight`` (E, E), ``k_proj_weight`` (E, kdim), ``v_proj_weight`` (E, vdim) when
    ``kdim`` or ``vdim`` differ from E), ``in_proj_bias`` (3 E), ``out_proj.weight`` and
    ``out_proj.bias``; so ``load_state_dict`` takes a ``torch.nn.MultiheadAttention``'s state dict.

    ``forward(query, key, value, key_padding_mask=None, need_weights=True, average_attn_weights=True)``
    takes (L, N, E) tensors, or (N, L, E) with ``batch_first``, and returns the output and the
    weights (N, L, S) averaged over heads, (N, H, L, S) per head, or None if not ``need_weights``.

    The masks have TORCH's meaning: True = NOT allowed, the opposite of the ``mask`` of the score
    functions above (True = may be attended); a float mask is added to the scores, as in torch.

    - ``key_padding_mask`` (N, S): True = IGNORE this key (padding);
    - ``attn_mask`` (L, S), the same for every batch item and head, or (N * num_heads, L, S):
      True = query l may NOT attend key s;
    - ``is_causal=True``: no query attends a key after it (``causal_mask``; needs L == S).  torch takes
      it as a hint that ``attn_mask`` is the causal mask and wants that mask too; here it applies the
      causal mask itself, on top of ``attn_mask`` if one is given: the same result when the hint is true.

    They are summed into one mask for ``_attend``.  A query left with no key to attend raises a
    ValueError (torch returns NaN).

    The arguments are torch's, in torch's order.  Not supported (a ValueError if used): ``dropout`` other
    than 0, ``add_bias_kv``, ``add_zero_attn``; nor unbatched 2-D inputs.

    >>> attention = MultiHeadAttention(embed_dim=8, num_heads=2, batch_first=True)
    >>> x = torch.randn(3, 5, 8)
    >>> padding = torch.tensor([[False] * 5, [False] * 3 + [True] * 2, [False] * 5])   # item 1 has 3 tokens
    >>> output, weights = attention(x, x, x, key_padding_mask=padding)
    >>> output.shape, weights.shape
    (torch.Size([3, 5, 8]), torch.Size([3, 5, 5]))
    >>> weights[1, :, 3:].abs().max().item()    # no weight on padding
    0.0
    >>> _, weights = attention(x, x, x, is_causal=True)   # no weight on a later token
    >>> torch.equal(weights[0] == 0, ~causal_mask(5))
    True
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        device: torch.device | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be positive, got {embed_dim} and {num_heads}")
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim {embed_dim} must be divisible by num_heads {num_heads}")
        if dropout != 0 or add_bias_kv or add_zero_attn:
            raise ValueError("dropout, add_bias_kv and add_zero_attn are not supported: leave them at 0.0, False, "
                             f"False (got {dropout}, {add_bias_kv}, {add_zero_attn})")
        factory = {"device": device, "dtype": dtype}
        self.embed_dim, self.num_heads, self.batch_first = embed_dim, num_heads, batch_first
        self.head_dim = embed_dim // num_heads
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        if self._qkv_same_embed_dim:
            self.in_proj_weight = nn.Parameter(torch.empty(3 * embed_dim, embed_dim, **factory))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.register_parameter("in_proj_weight", None)
            self.q_proj_weight = nn.Parameter(torch.empty(embed_dim, embed_dim, **factory))
            self.k_proj_weight = nn.Parameter(torch.empty(embed_dim, self.kdim, **factory))
            self.v_proj_weight = nn.Parameter(torch.empty(embed_dim, self.vdim, **factory))
        if bias:
            self.in_proj_bias = nn.Parameter(torch.empty(3 * embed_dim, **factory))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias, **factory)
        self.attention = DotProductAttention(scaled=True)
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """torch's initialisation: Xavier-uniform projections, zero biases."""
        for weight in (self.in_proj_weight, self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
            if weight is not None:
                nn.init.xavier_uniform_(weight)
        if self.in_proj_bias is not None:
            nn.init.zeros_(self.in_proj_bias)
            nn.init.zeros_(self.out_proj.bias)

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, batch_first={self.batch_first}"

    def _projection_weights(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        if self._qkv_same_embed_dim:
            return self.in_proj_weight.chunk(3)                              # W^Q, W^K, W^V stacked
        return self.q_proj_weight, self.k_proj_weight, self.v_proj_weight

    def _check_input(self, name: str, tensor: torch.Tensor, features: str, batch: int | None) -> None:
        """ValueError unless ``tensor`` is (T, N, features), or (N, T, features) if batch_first."""
        size = {"E": self.embed_dim, "kdim": self.kdim, "vdim": self.vdim}[features]
        length = {"query": "L", "key": "S", "value": "S"}[name]
        batch_size = "N" if batch is None else f"N={batch}"
        expected = (batch_size, length) if self.batch_first else (length, batch_size)
        batch_dim = 0 if self.batch_first else 1
        if tensor.dim() != 3 or tensor.shape[-1] != size or (batch is not None and tensor.shape[batch_dim] != batch):
            raise ValueError(f"{name} must have shape ({expected[0]}, {expected[1]}, {features}={size}) "
                             f"(batch_first={self.batch_first}), got {_shape(tensor)}")

    def _merged_mask(
        self,
        key_padding_mask: torch.Tensor | None,
        attn_mask: torch.Tensor | None,
        is_causal: bool,
        query: torch.Tensor,
        key: torch.Tensor,
    ) -> torch.Tensor | None:
        """The three masks checked and summed, as ``_attend``'s float mask (N H, L, S): 0 = allowed, -inf = not.

        ``query`` and ``key`` are batch-first.  None when there is no mask.
        """
        batch, length, source_length = query.shape[0], query.shape[1], key.shape[1]
        if key_padding_mask is None and attn_mask is None and not is_causal:
            return None
        added = torch.zeros(batch, self.num_heads, length, source_length, dtype=query.dtype, device=query.device)
        if key_padding_mask is not None:
            _check_mask_type("key_padding_mask", key_padding_mask, "ignore")
            if _shape(key_padding_mask) != (batch, source_length):
                raise ValueError(f"key_padding_mask must have shape (N={batch}, S={source_length}), "
                                 f"got {_shape(key_padding_mask)}")
            padding = _as_added_scores(key_padding_mask, False, query.dtype)
            ignored = _rows_without_keys(padding)
            if ignored.any():
                raise ValueError(f"key_padding_mask ignores every key of batch item(s) "
                                 f"{ignored.nonzero().flatten().tolist()}: softmax over no keys is undefined "
                                 "(torch gives NaN)")
            added = added + padding[:, None, None, :]
        if attn_mask is not None:
            _check_mask_type("attn_mask", attn_mask, "not allowed")
            per_head = (batch * self.num_heads, length, source_length)
            if _shape(attn_mask) not in (per_head[1:], per_head):
                raise ValueError(f"attn_mask must have shape (L={length}, S={source_length}) or "
                                 f"(N*num_heads={per_head[0]}, L={length}, S={source_length}), got {_shape(attn_mask)}")
            not_allowed = _as_added_scores(attn_mask, False, query.dtype)
            added = added + (not_allowed if attn_mask.dim() == 2 else not_allowed.reshape(added.shape))
        if is_causal:
            if length != source_length:
                raise ValueError(f"is_causal needs as many queries as keys (L == S), got L={length} and "
                                 f"S={source_length}")
            added = added.masked_fill(~causal_mask(length, device=query.device), -math.inf)
        empty = _rows_without_keys(added).any(dim=1)                       # (N, L): no key for any head
        if empty.any():
            items, queries = (empty.nonzero()[:, i].tolist() for i in (0, 1))
            raise ValueError(f"the masks leave no key to attend for (batch item, query) {list(zip(items, queries))}: "
                             "softmax over no keys is undefined (torch gives NaN)")
        return added.reshape(batch * self.num_heads, length, source_length)

    def _split_heads(self, x: torch.Tensor) -> torch.Tensor:
        """(N, T, E) -> (N H, T, head_dim): each head becomes a batch item of its own."""
        batch, length, _ = x.shape
        x = x.reshape(batch, length, self.num_heads, self.head_dim).transpose(1, 2)
        return x.reshape(batch * self.num_heads, length, self.head_dim)

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        key_padding_mask: torch.Tensor | None = None,
        need_weights: bool = True,
        attn_mask: torch.Tensor | None = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Output (L, N, E) ((N, L, E) if ``batch_first``) and attention weights (see the class docstring).

        ``key_padding_mask`` (N, S) and ``attn_mask`` (L, S) or (N * num_heads, L, S): bool, True = NOT
        allowed, as in torch, or float, added to the scores; ``is_causal``: the causal mask on top.
        """
        self._check_input("query", query, "E", None)
        batch = query.shape[0 if self.batch_first else 1]
        self._check_input("key", key, "kdim", batch)
        self._check_input("value", value, "vdim", batch)
        if not self.batch_first:                                            # work in (N, T, features)
            query, key, value = (x.transpose(0, 1) for x in (query, key, value))
        if key.shape[1] != value.shape[1]:
            raise ValueError(f"key and value must have the same length S, got key {_shape(key)} "
                             f"and value {_shape(value)} (batch-first view)")
        # key_padding_mask, attn_mask and is_causal as one added mask (N H, L, S), or None
        mask = self._merged_mask(key_padding_mask, attn_mask, is_causal, query, key)

        weight_q, weight_k, weight_v = self._projection_weights()
        bias_q, bias_k, bias_v = ((None,) * 3 if self.in_proj_bias is None
                                  else self.in_proj_bias.chunk(3))
        # Q W^Q + b^Q, per head
        queries = self._split_heads(F.linear(query, weight_q, bias_q))
        keys = self._split_heads(F.linear(key, weight_k, bias_k))      # K W^K + b^K
        values = self._split_heads(F.linear(value, weight_v, bias_v))  # V W^V + b^V
        # (N H, L, head_dim), (N H, L, S)
        context, weights = self.attention(queries, keys, values, mask)

        batch, length = query.shape[0], query.shape[1]
        context = context.reshape(batch, self.num_heads, length,
                                  self.head_dim).transpose(1, 2)
        # concat(heads) W^O + b^O
        output = self.out_proj(context.reshape(batch, length, self.embed_dim))
        if not self.batch_first:
            output = output.transpose(0, 1)
        if not need_weights:
            return output, None
        weights = weights.reshape(batch, self.num_heads, length, key.shape[1])
        return output, weights.mean(dim=1) if average_attn_weights else weights
