"""dlcourse.models.attention: hand-worked examples, independent torch formulas, torch's own attention."""

import inspect
import math
import re

import pytest
import torch
import torch.nn.functional as F

from dlcourse import calc
from dlcourse.models.attention import (
    AdditiveAttention,
    CosineAttention,
    DotProductAttention,
    GeneralAttention,
    MultiHeadAttention,
    causal_mask,
)

FLOAT64_TOLERANCE = 1e-10
FLOAT32_TOLERANCE = 1e-6


def softmax_of(scores):
    """Softmax of a list of numbers, written out."""
    exps = [math.exp(score) for score in scores]
    return [e / sum(exps) for e in exps]


def weighted_sum(weights, vectors):
    return [sum(w * vector[i] for w, vector in zip(weights, vectors)) for i in range(len(vectors[0]))]


def batch_of_one(rows):
    return torch.tensor([rows], dtype=torch.float64)


# ---------------------------------------------------------------- hand-worked examples: 1 query, 3 keys in 2-D

QUERY = [[1.0, 2.0]]
KEYS = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]       # q . k = 1, 2, 3
VALUES = [[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]]


def check_against_hand(attention, query, keys, values, expected_weights, mask=None):
    context, weights = attention(batch_of_one(query), batch_of_one(keys), batch_of_one(values), mask)
    expected_context = weighted_sum(expected_weights, values)
    assert weights.shape == (1, 1, len(keys)) and context.shape == (1, 1, len(values[0]))
    assert weights[0, 0].tolist() == pytest.approx(expected_weights, abs=1e-12)
    assert context[0, 0].tolist() == pytest.approx(expected_context, abs=1e-12)


def test_dot_product_by_hand():
    check_against_hand(DotProductAttention(), QUERY, KEYS, VALUES, softmax_of([1, 2, 3]))


def test_scaled_dot_product_by_hand():
    root2 = math.sqrt(2)
    expected = softmax_of([1 / root2, 2 / root2, 3 / root2])
    check_against_hand(DotProductAttention(scaled=True), QUERY, KEYS, VALUES, expected)


def test_masked_dot_product_by_hand():
    # the third key is masked: softmax over the first two, e / (e + e^2) and e^2 / (e + e^2)
    first, second = math.e / (math.e + math.e**2), math.e**2 / (math.e + math.e**2)
    check_against_hand(DotProductAttention(), QUERY, KEYS, VALUES, [first, second, 0.0],
                       mask=torch.tensor([[True, True, False]]))


def test_general_by_hand():
    attention = GeneralAttention(query_dim=2, key_dim=3).double()
    with torch.no_grad():
        attention.key_projection.weight.copy_(torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]))   # W, 2 x 3
    keys = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    # W k = (1, 0), (0, 1), (1, 0); q = (1, 2): q^T W k = 1, 2, 1
    check_against_hand(attention, QUERY, keys, VALUES, softmax_of([1, 2, 1]))


def test_additive_by_hand():
    attention = AdditiveAttention(query_dim=2, key_dim=2, hidden_dim=2).double()
    with torch.no_grad():
        attention.query_projection.weight.copy_(torch.eye(2))            # W1 = I
        attention.key_projection.weight.copy_(torch.tensor([[2.0, 0.0], [0.0, 1.0]]))   # W2
        attention.score.weight.copy_(torch.tensor([[1.0, -1.0]]))        # v = (1, -1)
    query = [[0.5, 0.0]]
    keys = [[0.0, 0.0], [0.5, 0.0], [0.0, 1.0]]
    # W1 q + W2 k = (0.5, 0), (1.5, 0), (0.5, 1); v^T tanh(.) = tanh(a) - tanh(b)
    scores = [math.tanh(0.5), math.tanh(1.5), math.tanh(0.5) - math.tanh(1.0)]
    check_against_hand(attention, query, keys, VALUES, softmax_of(scores))


@pytest.mark.parametrize("beta", [1.0, 2.0])
def test_cosine_by_hand(beta):
    query = [[1.0, 0.0]]
    keys = [[3.0, 0.0], [1.0, 1.0], [-2.0, 0.0]]                         # cosines 1, 1/sqrt(2), -1
    scores = [beta * 1.0, beta / math.sqrt(2), -beta]
    check_against_hand(CosineAttention(beta=beta), query, keys, VALUES, softmax_of(scores))


def test_cosine_default_beta_is_one():
    assert CosineAttention().beta == 1.0


# ---------------------------------------------------------------- independent torch formulas on random sizes

def reference_scores(attention, query, keys):
    """The scores written with einsum and torch's cosine_similarity, not with the modules' code."""
    if isinstance(attention, DotProductAttention):
        scores = torch.einsum("bqd,bkd->bqk", query, keys)
        return scores / query.shape[-1] ** 0.5 if attention.scaled else scores
    if isinstance(attention, GeneralAttention):
        return torch.einsum("bqd,de,bke->bqk", query, attention.key_projection.weight, keys)
    if isinstance(attention, AdditiveAttention):
        w1, w2 = attention.query_projection.weight, attention.key_projection.weight
        v = attention.score.weight[0]
        hidden = torch.einsum("hd,bqd->bqh", w1, query)[:, :, None, :] + torch.einsum("he,bke->bkh", w2, keys)[:, None]
        return torch.einsum("bqkh,h->bqk", torch.tanh(hidden), v)
    return attention.beta * F.cosine_similarity(query[:, :, None, :], keys[:, None, :, :], dim=-1)


def reference_attention(attention, query, keys, values, mask):
    scores = reference_scores(attention, query, keys)
    exps = torch.exp(scores - scores.max(dim=-1, keepdim=True).values)
    if mask is not None:
        exps = exps * mask[:, None, :]
    weights = exps / exps.sum(dim=-1, keepdim=True)
    return torch.einsum("bqk,bkv->bqv", weights, values), weights


def make_attention(name, query_dim, key_dim):
    return {
        "dot": lambda: DotProductAttention(),
        "scaled dot": lambda: DotProductAttention(scaled=True),
        "general": lambda: GeneralAttention(query_dim, key_dim),
        "additive": lambda: AdditiveAttention(query_dim, key_dim, hidden_dim=7),
        "cosine": lambda: CosineAttention(beta=3.0),
    }[name]().double()


NAMES = ["dot", "scaled dot", "general", "additive", "cosine"]
SAME_SIZE = {"dot", "scaled dot", "cosine"}


def random_problem(name, seed, dtype=torch.float64):
    generator = torch.Generator().manual_seed(seed)
    batch, num_queries, num_keys, query_dim, key_dim, value_dim = (
        int(n) for n in torch.randint(1, 7, (6,), generator=generator))
    num_keys += 1
    if name in SAME_SIZE:
        key_dim = query_dim
    query = torch.randn(batch, num_queries, query_dim, generator=generator, dtype=dtype)
    keys = torch.randn(batch, num_keys, key_dim, generator=generator, dtype=dtype)
    values = torch.randn(batch, num_keys, value_dim, generator=generator, dtype=dtype)
    mask = torch.rand(batch, num_keys, generator=generator) < 0.6
    mask[torch.arange(batch), torch.randint(0, num_keys, (batch,), generator=generator)] = True   # one key each
    return query, keys, values, mask


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("masked", [False, True])
def test_agrees_with_an_independent_formula(name, seed, masked):
    torch.manual_seed(seed)
    query, keys, values, mask = random_problem(name, seed)
    mask = mask if masked else None
    attention = make_attention(name, query.shape[-1], keys.shape[-1])
    context, weights = attention(query, keys, values, mask)
    expected_context, expected_weights = reference_attention(attention, query, keys, values, mask)
    assert (context - expected_context).abs().max() < 1e-12
    assert (weights - expected_weights).abs().max() < 1e-12


@pytest.mark.parametrize("name", NAMES)
def test_masked_weights_are_exactly_zero_and_rows_sum_to_one(name):
    query, keys, values, mask = random_problem(name, seed=11)
    mask[0, :] = False
    mask[0, -1] = True                                                  # item 0: only its last key
    attention = make_attention(name, query.shape[-1], keys.shape[-1])
    context, weights = attention(query, keys, values, mask)
    masked_weights = weights.masked_select(~mask[:, None, :].expand_as(weights))
    assert masked_weights.numel() > 0 and torch.equal(masked_weights, torch.zeros_like(masked_weights))
    assert torch.allclose(weights.sum(dim=-1), torch.ones(weights.shape[:2], dtype=torch.float64), atol=1e-14)
    assert torch.equal(weights[0, :, -1], torch.ones(weights.shape[1], dtype=torch.float64))
    # what a masked key holds does not matter
    changed_values = values.masked_fill(~mask[:, :, None], 1e6)
    assert torch.allclose(attention(query, keys, changed_values, mask)[0], context, atol=1e-12)


def masks_per_query(query, keys, seed, dtype=torch.float64):
    """A bool mask (B, Tq, Tk), True = may be attended (key 0 always), and a float mask of any numbers."""
    generator = torch.Generator().manual_seed(seed)
    shape = (query.shape[0], query.shape[1], keys.shape[1])
    allowed = torch.rand(shape, generator=generator) < 0.6
    allowed[:, :, 0] = True
    return allowed, torch.randn(shape, generator=generator, dtype=dtype)


@pytest.mark.parametrize("name", NAMES)
def test_masks_per_query_and_float_masks_agree_with_an_independent_formula(name):
    query, keys, values, mask = random_problem(name, seed=3)
    allowed, added = masks_per_query(query, keys, seed=4)
    attention = make_attention(name, query.shape[-1], keys.shape[-1])
    scores = reference_scores(attention, query, keys)
    cases = [
        (allowed, scores.masked_fill(~allowed, -math.inf)),
        (added, scores + added),
        (added.masked_fill(~allowed, -math.inf), scores.masked_fill(~allowed, -math.inf) + added),
        (added[:, 0, :], scores + added[:, :1, :]),                        # (B, Tk): the same for every query
    ]
    for given, masked_scores in cases:
        exps = torch.exp(masked_scores - masked_scores.max(dim=-1, keepdim=True).values)
        expected_weights = exps / exps.sum(dim=-1, keepdim=True)
        context, weights = attention(query, keys, values, given)
        assert (weights - expected_weights).abs().max() < 1e-12
        assert (context - torch.einsum("bqk,bkv->bqv", expected_weights, values)).abs().max() < 1e-12


@pytest.mark.parametrize("seed", range(4))
def test_scaled_dot_product_agrees_with_torch(seed):
    query, keys, values, mask = random_problem("scaled dot", seed, dtype=torch.float32)
    context, _ = DotProductAttention(scaled=True)(query, keys, values, mask)
    expected = F.scaled_dot_product_attention(query, keys, values, attn_mask=mask[:, None, :])
    assert (context - expected).abs().max() < FLOAT32_TOLERANCE
    unmasked = F.scaled_dot_product_attention(query, keys, values)
    assert (DotProductAttention(scaled=True)(query, keys, values)[0] - unmasked).abs().max() < FLOAT32_TOLERANCE
    for per_query in masks_per_query(query, keys, seed, dtype=torch.float32):   # bool, then float: torch's meanings
        context, _ = DotProductAttention(scaled=True)(query, keys, values, per_query)
        expected = F.scaled_dot_product_attention(query, keys, values, attn_mask=per_query)
        assert (context - expected).abs().max() < FLOAT32_TOLERANCE


def test_causal_mask_by_hand():
    assert causal_mask(4).tolist() == [[j <= i for j in range(4)] for i in range(4)]
    assert causal_mask(1).tolist() == [[True]]
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match="length must be a positive int"):
            causal_mask(bad)


@pytest.mark.parametrize("name", NAMES)
def test_gradients_agree_with_autograd_of_an_independent_formula(name):
    query, keys, values, mask = random_problem(name, seed=5)
    attention = make_attention(name, query.shape[-1], keys.shape[-1])
    inputs = [tensor.requires_grad_() for tensor in (query, keys, values)]
    leaves = inputs + list(attention.parameters())
    generator = torch.Generator().manual_seed(6)

    def gradients(function):
        context, weights = function(attention, *inputs, mask)
        loss = (context * torch.randn(context.shape, generator=generator, dtype=torch.float64)).sum() + (
            weights * torch.randn(weights.shape, generator=generator, dtype=torch.float64)).sum()
        return torch.autograd.grad(loss, leaves)

    state = generator.get_state()
    ours = gradients(lambda module, *args: module(*args))
    generator.set_state(state)
    expected = gradients(reference_attention)
    for got, want in zip(ours, expected):
        assert got.abs().sum() > 0
        assert (got - want).abs().max() < 1e-12


# ---------------------------------------------------------------- multi-head attention against torch's

def pair(num_heads, batch_first, dtype=torch.float64, seed=0, **options):
    """torch's MultiheadAttention and ours, with torch's parameters loaded into ours."""
    torch.manual_seed(seed)
    theirs = torch.nn.MultiheadAttention(12, num_heads, batch_first=batch_first, dtype=dtype, **options)
    with torch.no_grad():                          # torch starts its biases at 0: make them count
        for parameter in theirs.parameters():
            parameter.add_(0.1 * torch.randn_like(parameter))
    ours = MultiHeadAttention(12, num_heads, batch_first=batch_first, dtype=dtype, **options)
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def mha_inputs(batch_first, dtype=torch.float64, kdim=12, vdim=12, seed=1):
    generator = torch.Generator().manual_seed(seed)
    batch, num_queries, num_keys = 3, 4, 6
    query = torch.randn(batch, num_queries, 12, generator=generator, dtype=dtype)
    key = torch.randn(batch, num_keys, kdim, generator=generator, dtype=dtype)
    value = torch.randn(batch, num_keys, vdim, generator=generator, dtype=dtype)
    padding = torch.zeros(batch, num_keys, dtype=torch.bool)
    padding[1, 4:] = True                          # torch's convention: True = ignore
    padding[2, [0, 3]] = True
    if not batch_first:
        query, key, value = (x.transpose(0, 1) for x in (query, key, value))
    return query, key, value, padding


def max_differences(ours, theirs, inputs, **options):
    output, weights = ours(*inputs, **options)
    expected_output, expected_weights = theirs(*inputs, **options)
    assert output.shape == expected_output.shape
    difference = (output - expected_output).abs().max().item()
    if expected_weights is None:
        assert weights is None
        return difference, 0.0
    assert weights.shape == expected_weights.shape
    return difference, (weights - expected_weights).abs().max().item()


@pytest.mark.parametrize("num_heads", [1, 2, 3, 4])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padded", [False, True])
def test_multi_head_agrees_with_torch(num_heads, batch_first, padded):
    ours, theirs = pair(num_heads, batch_first)
    query, key, value, padding = mha_inputs(batch_first)
    num_queries = query.shape[1 if batch_first else 0]
    for average in (True, False):
        options = dict(key_padding_mask=padding if padded else None, average_attn_weights=average)
        assert max(max_differences(ours, theirs, (query, key, value), **options)) < FLOAT64_TOLERANCE
        # self-attention (one tensor for query, key and value) takes torch's packed path
        options["key_padding_mask"] = padding[:, :num_queries] if padded else None
        assert max(max_differences(ours, theirs, (query, query, query), **options)) < FLOAT64_TOLERANCE


@pytest.mark.parametrize("options", [dict(bias=False), dict(kdim=5, vdim=7), dict(kdim=5, vdim=7, bias=False)],
                         ids=["no bias", "kdim vdim", "kdim vdim no bias"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_multi_head_options_agree_with_torch(options, batch_first):
    ours, theirs = pair(3, batch_first, **options)
    assert {name: p.shape for name, p in ours.named_parameters()} == {
        name: p.shape for name, p in theirs.named_parameters()}
    query, key, value, padding = mha_inputs(batch_first, kdim=options.get("kdim", 12), vdim=options.get("vdim", 12))
    for need_weights in (True, False):
        differences = max_differences(ours, theirs, (query, key, value), key_padding_mask=padding,
                                      need_weights=need_weights)
        assert max(differences) < FLOAT64_TOLERANCE


ATTN_MASKS = ["bool", "float", "bool per head", "float per head"]


def attention_masks(kind, padding, seed=3):
    """torch's attn_mask (L=4, S=6) or (N*H=9, L, S) and key_padding_mask, of one type; key 1 is never masked."""
    generator = torch.Generator().manual_seed(seed)
    shape = (9, 4, 6) if kind.endswith("per head") else (4, 6)
    blocked = torch.rand(shape, generator=generator) < 0.4                  # torch's meaning: True = NOT allowed
    blocked[..., 1] = False
    if kind.startswith("bool"):
        return blocked, padding
    added = torch.randn(shape, generator=generator, dtype=torch.float64).masked_fill(blocked, -math.inf)
    return added, torch.zeros(padding.shape, dtype=torch.float64).masked_fill(padding, -math.inf)


@pytest.mark.parametrize("kind", ATTN_MASKS)
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padded", [False, True])
def test_multi_head_attention_masks_agree_with_torch(kind, batch_first, padded):
    ours, theirs = pair(3, batch_first)
    query, key, value, padding = mha_inputs(batch_first)
    attn_mask, padding = attention_masks(kind, padding)
    for average in (True, False):
        differences = max_differences(ours, theirs, (query, key, value), attn_mask=attn_mask,
                                      key_padding_mask=padding if padded else None, average_attn_weights=average)
        assert max(differences) < FLOAT64_TOLERANCE


@pytest.mark.parametrize("batch_first", [False, True])
def test_multi_head_is_causal_agrees_with_torch(batch_first):
    ours, theirs = pair(2, batch_first)
    query = mha_inputs(batch_first)[0]
    padding = torch.zeros(3, 4, dtype=torch.bool)                          # key 0 stays: query 0 reads it
    padding[1, 3] = padding[2, 1] = True
    not_allowed = ~causal_mask(4)                                          # torch wants the mask with the hint
    for padded in (None, padding):
        _, expected = theirs(query, query, query, key_padding_mask=padded, attn_mask=not_allowed, is_causal=True)
        for mask in (None, not_allowed):
            output, weights = ours(query, query, query, key_padding_mask=padded, attn_mask=mask, is_causal=True)
            assert (weights - expected).abs().max() < FLOAT64_TOLERANCE
    # is_causal on top of another mask: both apply
    other = torch.rand(4, 4, generator=torch.Generator().manual_seed(5)) < 0.5
    other[:, 0] = False
    both, _ = theirs(query, query, query, attn_mask=other | not_allowed)
    assert (ours(query, query, query, attn_mask=other, is_causal=True)[0] - both).abs().max() < FLOAT64_TOLERANCE


def test_multi_head_float32_agrees_with_torch():
    ours, theirs = pair(4, batch_first=True, dtype=torch.float32)
    query, key, value, padding = mha_inputs(True, dtype=torch.float32)
    assert max(max_differences(ours, theirs, (query, key, value), key_padding_mask=padding)) < FLOAT32_TOLERANCE


def test_multi_head_gradients_agree_with_torch():
    ours, theirs = pair(3, batch_first=False)
    query, key, value, padding = mha_inputs(False)
    target = torch.randn(query.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    for module in (ours, theirs):
        output, weights = module(query, key, value, key_padding_mask=padding)
        ((output * target).sum() + weights.square().sum()).backward()
    theirs_parameters = dict(theirs.named_parameters())
    for name, parameter in ours.named_parameters():
        assert parameter.grad.abs().sum() > 0
        assert (parameter.grad - theirs_parameters[name].grad).abs().max() < FLOAT64_TOLERANCE, name


def test_multi_head_state_dict_goes_both_ways():
    theirs = torch.nn.MultiheadAttention(8, 2)
    ours = MultiHeadAttention(8, 2)
    assert {k: v.shape for k, v in ours.state_dict().items()} == {k: v.shape for k, v in theirs.state_dict().items()}
    theirs.load_state_dict(ours.state_dict())
    assert torch.equal(theirs.in_proj_weight, ours.in_proj_weight)


def test_multi_head_initialisation_follows_torch():
    ours = MultiHeadAttention(64, 4)
    bound = math.sqrt(6 / (64 + 3 * 64))          # Xavier-uniform bound of the (3 E, E) in_proj_weight
    assert ours.in_proj_weight.abs().max() <= bound and ours.in_proj_weight.abs().max() > 0.9 * bound
    assert torch.equal(ours.in_proj_bias, torch.zeros(3 * 64)) and torch.equal(ours.out_proj.bias, torch.zeros(64))


def test_multi_head_weights_ignore_padded_keys():
    ours, _ = pair(2, batch_first=True)
    query, key, value, padding = mha_inputs(True)
    _, weights = ours(query, key, value, key_padding_mask=padding, average_attn_weights=False)
    ignored = weights.masked_select(padding[:, None, None, :].expand_as(weights))
    assert ignored.numel() > 0 and torch.equal(ignored, torch.zeros_like(ignored))


def test_calc_counts_the_same_macs_as_its_formula():
    summary = calc.summarize(MultiHeadAttention(64, 4, batch_first=True), [(1, 10, 64)] * 3)
    formula = calc.MultiheadAttention(64, 4).apply((10, 64))
    assert (summary.params, summary.macs) == (formula.params, formula.macs)


# ---------------------------------------------------------------- bad input

def shapes(batch=2, num_queries=3, num_keys=4, query_dim=5, key_dim=5, value_dim=6):
    return torch.randn(batch, num_queries, query_dim), torch.randn(batch, num_keys, key_dim), torch.randn(
        batch, num_keys, value_dim)


@pytest.mark.parametrize("attention", [DotProductAttention(), GeneralAttention(5, 5), AdditiveAttention(5, 5, 3),
                                       CosineAttention()], ids=["dot", "general", "additive", "cosine"])
def test_wrong_shapes_name_the_tensor_and_the_expected_shape(attention):
    query, keys, values = shapes()
    no_key_for_query_2_of_item_1 = torch.ones(2, 3, 4, dtype=torch.bool)
    no_key_for_query_2_of_item_1[1, 2] = False
    cases = [
        ((query[0], keys, values, None), "query must have shape (B, Tq, Dq), got (3, 5)"),
        ((query, keys[:1], values, None), "keys must have shape (B=2, Tk, Dk), got (1, 4, 5)"),
        ((query, keys[:, :0], values[:, :0], None), "keys must hold at least one key"),
        ((query, keys, values[:, :3], None), "values must have shape (B=2, Tk=4, Dv), got (2, 3, 6)"),
        ((query, keys, values, torch.ones(2, 4, dtype=torch.long)),
         "mask must be a bool tensor (True = may be attended) or a float tensor (added to the scores)"),
        ((query, keys, values, torch.ones(2, 3, dtype=torch.bool)),
         "mask must have shape (B=2, Tk=4) or (B=2, Tq=3, Tk=4), got (2, 3)"),
        ((query, keys, values, torch.tensor([[True] * 4, [False] * 4])), "mask masks every key of batch item(s) [1]"),
        ((query, keys, values, torch.tensor([[0.0] * 4, [-math.inf] * 4])),
         "mask masks every key of batch item(s) [1]"),
        ((query, keys, values, no_key_for_query_2_of_item_1),
         "mask masks every key of batch item(s) [1] for some queries"),
    ]
    for arguments, message in cases:
        with pytest.raises(ValueError, match=re.escape(message)):
            attention(*arguments)


@pytest.mark.parametrize("attention", [DotProductAttention(scaled=True), CosineAttention()])
def test_dot_product_and_cosine_need_queries_and_keys_of_one_size(attention):
    with pytest.raises(ValueError, match=re.escape("keys must have shape (B, Tk, Dq=5), got (2, 4, 3)")):
        attention(*shapes(key_dim=3))


@pytest.mark.parametrize("attention", [GeneralAttention(5, 3), AdditiveAttention(5, 3, 4)])
def test_learned_scores_check_their_sizes(attention):
    with pytest.raises(ValueError, match=re.escape("query must have shape (B, T, Dq=5), got (2, 3, 4)")):
        attention(*shapes(query_dim=4, key_dim=3))
    with pytest.raises(ValueError, match=re.escape("keys must have shape (B, T, Dk=3), got (2, 4, 5)")):
        attention(*shapes(query_dim=5, key_dim=5))


def test_cosine_refuses_a_negative_beta():
    with pytest.raises(ValueError, match="beta must be >= 0"):
        CosineAttention(beta=-1.0)


def test_multi_head_bad_input():
    with pytest.raises(ValueError, match="embed_dim 10 must be divisible by num_heads 3"):
        MultiHeadAttention(10, 3)
    attention = MultiHeadAttention(8, 2)                                 # (L, N, E) inputs
    x = torch.randn(4, 3, 8)
    query_2_blocked = torch.zeros(4, 4, dtype=torch.bool)
    query_2_blocked[2] = True                                            # torch's meaning: True = NOT allowed
    first_key_ignored_in_item_1 = torch.zeros(3, 4, dtype=torch.bool)
    first_key_ignored_in_item_1[1, 0] = True                             # causal: query 0 reads key 0 only
    cases = [
        ((torch.randn(4, 3, 6), x, x), {}, "query must have shape (L, N, E=8) (batch_first=False), got (4, 3, 6)"),
        ((x, torch.randn(4, 2, 8), x), {}, "key must have shape (S, N=3, kdim=8) (batch_first=False), got (4, 2, 8)"),
        ((x, x, torch.randn(5, 3, 8)), {}, "key and value must have the same length S"),
        ((x, x, x), dict(key_padding_mask=torch.zeros(3, 4, dtype=torch.long)),
         "key_padding_mask must be a bool tensor (True = ignore) or a float tensor (added to the scores), got dtype "
         "torch.int64"),
        ((x, x, x), dict(key_padding_mask=torch.zeros(4, 3, dtype=torch.bool)),
         "key_padding_mask must have shape (N=3, S=4), got (4, 3)"),
        ((x, x, x), dict(key_padding_mask=torch.tensor([[False] * 4, [True] * 4, [False] * 4])),
         "key_padding_mask ignores every key of batch item(s) [1]"),
        ((x, x, x), dict(key_padding_mask=torch.tensor([[0.0] * 4, [-math.inf] * 4, [0.0] * 4])),
         "key_padding_mask ignores every key of batch item(s) [1]"),
        ((x, x, x), dict(attn_mask=torch.zeros(4, 4, dtype=torch.long)),
         "attn_mask must be a bool tensor (True = not allowed) or a float tensor (added to the scores)"),
        ((x, x, x), dict(attn_mask=torch.zeros(3, 3, dtype=torch.bool)),
         "attn_mask must have shape (L=4, S=4) or (N*num_heads=6, L=4, S=4), got (3, 3)"),
        ((x, torch.randn(5, 3, 8), torch.randn(5, 3, 8)), dict(is_causal=True),
         "is_causal needs as many queries as keys (L == S), got L=4 and S=5"),
        ((x, x, x), dict(attn_mask=query_2_blocked),
         "the masks leave no key to attend for (batch item, query) [(0, 2), (1, 2), (2, 2)]"),
        ((x, x, x), dict(attn_mask=~causal_mask(4), key_padding_mask=first_key_ignored_in_item_1),
         "the masks leave no key to attend for (batch item, query) [(1, 0)]"),
    ]
    for arguments, options, message in cases:
        with pytest.raises(ValueError, match=re.escape(message)):
            attention(*arguments, **options)
    with pytest.raises(ValueError, match=re.escape("query must have shape (N, L, E=8) (batch_first=True)")):
        MultiHeadAttention(8, 2, batch_first=True)(x[0], x[0], x[0])


@pytest.mark.parametrize("options", [dict(dropout=0.1), dict(add_bias_kv=True), dict(add_zero_attn=True)])
def test_multi_head_refuses_what_it_does_not_support(options):
    with pytest.raises(ValueError, match="not supported"):
        MultiHeadAttention(8, 2, **options)


def test_multi_head_takes_torch_arguments_in_torch_order():
    ours, theirs = MultiHeadAttention, torch.nn.MultiheadAttention
    assert list(inspect.signature(ours).parameters) == list(inspect.signature(theirs).parameters)
    assert list(inspect.signature(ours.forward).parameters) == list(inspect.signature(theirs.forward).parameters)
