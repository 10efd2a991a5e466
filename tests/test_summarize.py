"""summarize: agreement with PyTorch's FlopCounterMode, hand counts where it is blind, and safety."""

import copy
from collections import OrderedDict

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from dlcourse.calc import group_rows, summarize
from dlcourse.models import resnet50


def torch_flops(module, *inputs, **kwargs):
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        module(*inputs, **kwargs)
    return counter.get_total_flops()


def n_params(module):
    return sum(p.numel() for p in module.parameters())


@st.composite
def conv_modules(draw):
    groups = draw(st.sampled_from([1, 2, 4]))
    cin, cout = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    kernel, stride = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    padding, dilation = draw(st.integers(0, 2)), draw(st.integers(1, 2))
    bias = draw(st.booleans())
    kind = draw(st.sampled_from(["conv1d", "conv2d", "transpose2d"]))
    if kind == "conv1d":
        return nn.Conv1d(cin, cout, kernel, stride, padding, dilation, groups, bias), (2, cin, 20)
    if kind == "conv2d":
        return nn.Conv2d(cin, cout, kernel, stride, padding, dilation, groups, bias), (2, cin, 15, 17)
    return nn.ConvTranspose2d(cin, cout, kernel, stride, padding, 0, groups, bias, dilation), (2, cin, 7, 9)


@settings(max_examples=150, deadline=None)
@given(conv_modules())
def test_convolutions_agree_with_flop_counter(case):
    module, size = case
    summary = summarize(module, size)
    expected_out = module(torch.zeros(size)).shape
    assert summary.output_shape == tuple(expected_out)
    assert summary.params == n_params(module)
    assert 2 * summary.macs == torch_flops(module, torch.zeros(size))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=0, max_size=3), st.integers(1, 9), st.integers(1, 9), st.booleans())
def test_linear_on_any_leading_dimensions(leading, fin, fout, bias):
    module = nn.Linear(fin, fout, bias)
    size = tuple(leading) + (fin,)
    summary = summarize(module, size)
    assert summary.output_shape == size[:-1] + (fout,)
    assert 2 * summary.macs == torch_flops(module, torch.zeros(size))


def test_resnet50_counts_match_reference_and_flop_counter():
    model = resnet50()
    summary = summarize(model, (1, 3, 224, 224))
    assert summary.params == 25_557_032  # torchvision's ResNet-50
    assert 2 * summary.macs == torch_flops(model.eval(), torch.zeros(1, 3, 224, 224))
    assert 4.0e9 < summary.macs < 4.2e9  # "about 4.1 GMACs" as usually published
    assert summary.output_shape == (1, 1000)
    assert not summary.unknown_rows


@pytest.mark.parametrize("batch_first", [False, True])
def test_lstm_by_hand_in_both_layouts(batch_first):
    lstm = nn.LSTM(128, 256, num_layers=2, batch_first=batch_first)
    size = (1, 100, 128) if batch_first else (100, 1, 128)
    summary = summarize(lstm, size)
    # per layer: steps * 4 gates * hidden * (input + hidden)
    assert summary.macs == 100 * 4 * 256 * (128 + 256) + 100 * 4 * 256 * (256 + 256) == 91_750_400
    assert summary.params == n_params(lstm)
    # what the LSTM returns: the output and the last (h, c), as PyTorch itself gives them
    output, (h, c) = lstm(torch.zeros(size))
    assert summary.output_shape == (tuple(output.shape), (tuple(h.shape), tuple(c.shape)))
    assert summary.output_shape[0] == ((1, 100, 256) if batch_first else (100, 1, 256))


def test_lstm_is_invisible_to_pytorchs_own_counter_on_cpu():
    """The reason for the hand count above: FlopCounterMode sees no matmul in the CPU LSTM kernel."""
    lstm = nn.LSTM(8, 16)
    assert torch_flops(lstm, torch.zeros(5, 1, 8)) == 0
    assert summarize(lstm, (5, 1, 8)).macs == 5 * 4 * 16 * (8 + 16)


def test_bidirectional_gru_and_batched_rnn_by_hand():
    gru = nn.GRU(10, 20, bidirectional=True, batch_first=True)
    summary = summarize(gru, (3, 7, 10))  # batch 3, 7 steps
    assert summary.macs == 3 * 2 * 7 * 3 * 20 * (10 + 20)
    assert summary.output_shape == ((3, 7, 40), (2, 3, 20))  # the output and the last hidden state of both directions
    rnn = nn.RNN(6, 5, num_layers=2)
    assert summarize(rnn, (4, 2, 6)).macs == 2 * (4 * 5 * (6 + 5) + 4 * 5 * (5 + 5))


@pytest.mark.parametrize("need_weights", [True, False])
def test_multihead_attention_by_hand_with_or_without_weights(need_weights):
    attention = nn.MultiheadAttention(256, 8)
    size = (64, 1, 256)
    summary = summarize(attention, [size, size, size], need_weights=need_weights)
    projections = 4 * 64 * 256 * 256  # Q, K, V and output: tokens * E * E each
    products = 2 * 64 * 64 * 256  # Q K^T and A V over all heads
    assert projections == 16_777_216 and products == 2_097_152
    assert summary.macs == projections + products == 18_874_368
    assert summary.params == n_params(attention) == 4 * 256 * 256 + 4 * 256
    x = torch.zeros(size)
    output, weights = attention(x, x, x, need_weights=need_weights)  # what PyTorch itself returns
    assert summary.output_shape == (tuple(output.shape), None if weights is None else tuple(weights.shape))


def test_scaled_dot_product_attention_inside_a_custom_module():
    class SelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv = nn.Linear(32, 96)

        def forward(self, x):
            q, k, v = self.qkv(x).view(2, 10, 3, 4, 8).permute(2, 0, 3, 1, 4)
            return F.scaled_dot_product_attention(q, k, v)

    summary = summarize(SelfAttention(), (2, 10, 32))
    qkv = 2 * 10 * 32 * 96
    attention = 2 * 4 * 10 * 10 * 8 * 2  # batch * heads * L * S * (E + Ev)
    assert summary.macs == qkv + attention
    own = [row for row in summary.rows if "own forward" in row.note]
    assert len(own) == 1 and own[0].macs == attention


def test_shared_parameters_count_once():
    shared = nn.Linear(16, 16)
    tied = nn.Sequential(shared, nn.ReLU(), shared)
    summary = summarize(tied, (4, 16))
    assert summary.params == 16 * 16 + 16
    assert sum(row.params for row in summary.rows) == 16 * 16 + 16
    assert summary.macs == 2 * 4 * 16 * 16  # called twice, so the work counts twice

    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Linear(8, 12, bias=False)
            self.out = nn.Linear(12, 8, bias=False)
            self.out.weight = nn.Parameter(self.embed.weight.T.contiguous())
            self.decode = nn.Linear(12, 8, bias=False)
            self.decode.weight = self.out.weight

        def forward(self, x):
            return self.decode(self.embed(x))

    assert summarize(Tied(), (1, 8)).params == 8 * 12 + 12 * 8


def test_unknown_operators_are_reported_not_zero():
    class Spectral(nn.Module):
        def forward(self, x):
            return torch.fft.rfft(x).abs()

    summary = summarize(nn.Sequential(nn.Linear(8, 8), Spectral()), (2, 8))
    unknown = summary.unknown_rows
    assert len(unknown) == 1 and unknown[0].macs is None and unknown[0].flops is None
    assert "no rule for _fft_r2c" in unknown[0].note
    assert summary.macs == 2 * 8 * 8
    text = str(summary)
    assert "?" in text and "MACs unknown" in text


def test_module_is_left_exactly_as_it_was():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Dropout(0.5), nn.Flatten(), nn.Linear(4 * 6 * 6, 2))
    model.train()
    model[1].eval()
    before = copy.deepcopy(model.state_dict())
    summarize(model, (2, 3, 8, 8))
    after = model.state_dict()
    assert before.keys() == after.keys()
    for key in before:
        assert after[key].device.type == "cpu"
        assert torch.equal(before[key], after[key]), key
    assert model.training and not model[1].training and model[2].training
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())
    assert all(isinstance(p, nn.Parameter) and p.device.type == "cpu" for p in model.parameters())


def test_huge_input_is_never_allocated():
    """34 GB of activations on a 24 GB machine: this only passes if nothing is allocated."""
    net = nn.Sequential(nn.Conv2d(3, 64, 3, padding=1), nn.ReLU(inplace=True), nn.Conv2d(64, 64, 3, padding=1))
    summary = summarize(net, (8, 3, 4096, 4096))
    pixels = 8 * 4096 * 4096
    assert summary.macs == pixels * 64 * 27 + pixels * 64 * 576
    # input + both conv outputs; the in-place ReLU stores nothing new
    assert summary.activation_count() == pixels * (3 + 64 + 64)
    assert summary.memory_bytes(include_params=False) > 34e9


def test_activation_count_skips_views_and_in_place():
    net = nn.Sequential(nn.Linear(4, 6), nn.ReLU(inplace=True), nn.Flatten(), nn.Tanh())
    summary = summarize(net, (3, 4))
    assert summary.activation_count(include_input=False) == 3 * 6 + 3 * 6  # Linear, Tanh
    assert summary.activation_count() == 3 * 4 + 36


@pytest.mark.parametrize(
    "module, size, message",
    [
        (nn.Linear(4, 2), (3, 5), r"Linear cannot run on input of size \(3, 5\)"),
        (nn.Conv2d(3, 8, 3), (1, 4, 8, 8), r"Conv2d cannot run on input of size \(1, 4, 8, 8\)"),
        (nn.Linear(4, 2), (3, 0), "input_size must be a shape"),
        (nn.Linear(4, 2), "3x4", "input_size must be a shape"),
        (nn.Linear(4, 2), [], "input_size must be a shape"),
        ("not a module", (1, 4), "summarize needs a torch.nn.Module, got str"),
    ],
)
def test_bad_input_raises_a_readable_error(module, size, message):
    with pytest.raises(ValueError, match=message):
        summarize(module, size)


def test_table_has_one_row_per_call_and_totals():
    summary = summarize(nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 3)), (5, 1, 4, 4))
    names = [row.name for row in summary.rows]
    assert names == ["0 (Conv2d)", "1 (ReLU)", "2 (Flatten)", "3 (Linear)"]
    data = summary.to_dict()
    assert data["params"] == 2 * 9 + 2 + 8 * 3 + 3
    assert data["macs"] == 5 * 2 * 2 * 2 * 9 + 5 * 8 * 3
    assert "totals are for the whole input of size (5, 1, 4, 4)" in str(summary)


# ---------------------------------------------------------------- the module is never harmed


def _state(module: nn.Module) -> dict:
    """Everything summarize must leave as it was: tensors (by identity and value), hooks, flags."""
    state = {}
    for path, sub in module.named_modules(remove_duplicate=False):
        for name, value in list(vars(sub).items()) + list(sub._parameters.items()) + list(sub._buffers.items()):
            if isinstance(value, torch.Tensor) and not isinstance(value, nn.parameter.UninitializedParameter):
                state[(path, name)] = (id(value), type(value), value.device.type, value.dtype, tuple(value.shape),
                                       value.detach().clone())
            elif isinstance(value, nn.parameter.UninitializedParameter):
                state[(path, name)] = (id(value), "uninitialised")
        for hooks in ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_forward_hooks_with_kwargs",
                      "_forward_pre_hooks_with_kwargs", "_state_dict_hooks"):
            state[(path, hooks)] = dict(getattr(sub, hooks, {}))
        state[(path, "training")] = sub.training
        state[(path, "class")] = type(sub)
        state[(path, "id")] = id(sub)
    return state


def _assert_same(before: dict, after: dict) -> None:
    assert before.keys() == after.keys()
    for key, old in before.items():
        new = after[key]
        if isinstance(old, tuple) and len(old) == 6:
            assert old[:5] == new[:5], key
            assert torch.equal(old[5], new[5]), key
        else:
            assert old == new, key


def _shared_twice():
    layer = nn.Linear(4, 4)
    return nn.Sequential(layer, nn.ReLU(), layer), (1, 4)


def _aliased_head():
    class Aliased(nn.Module):
        def __init__(self):
            super().__init__()
            self.backbone = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
            self.head = self.backbone[2]

        def forward(self, x):
            return self.backbone(x)

    return Aliased(), (2, 4)


def _tied_embedding():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(10, 6)
            self.out = nn.Linear(6, 10, bias=False)
            self.out.weight = self.embed.weight

        def forward(self, tokens):
            return self.out(self.embed(tokens))

    return Tied(), None


def _pruned():
    from torch.nn.utils import prune

    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 2))
    prune.l1_unstructured(net[0], "weight", amount=0.5)
    prune.random_unstructured(net[3], "weight", amount=0.3)
    return net, (1, 3, 8, 8)


def _parametrized():
    from torch.nn.utils import parametrize

    class Symmetric(nn.Module):
        def forward(self, weight):
            return weight.triu() + weight.triu(1).transpose(-1, -2)

    net = nn.Sequential(nn.Linear(5, 5), nn.Tanh(), nn.Linear(5, 2))
    parametrize.register_parametrization(net[0], "weight", Symmetric())
    return net, (3, 5)


def _hooked():
    net = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 1))
    net[0].register_forward_hook(lambda module, args, output: output * 2)
    net[2].register_forward_pre_hook(lambda module, args: (args[0] + 1,))
    net.eval()
    return net, (2, 4)


@pytest.mark.parametrize("build", [_shared_twice, _aliased_head, _tied_embedding, _pruned, _parametrized, _hooked])
def test_summarize_never_changes_the_module(build):
    torch.manual_seed(0)
    module, size = build()
    real_input = torch.tensor([[1, 2, 3]]) if size is None else torch.randn(size)
    with torch.no_grad():
        before_output = module(real_input)  # (a pruned module remakes its weight at every call, so run it first)
    before_state = _state(module)
    summary = summarize(module, (1, 3), dtype=torch.long) if size is None else summarize(module, size)
    _assert_same(before_state, _state(module))
    with torch.no_grad():
        assert torch.equal(module(real_input), before_output)  # it still runs, and gives the same answer
    assert summary.params == sum(p.numel() for p in module.parameters())
    assert summary.output_shape == tuple(before_output.shape)


def test_a_lazy_module_is_initialised_in_a_copy_only():
    lazy = nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.LazyLinear(3))
    summary = summarize(lazy, (2, 5))
    assert summary.params == 5 * 8 + 8 + 8 * 3 + 3 and summary.output_shape == (2, 3)
    assert summary.macs == 2 * (5 * 8 + 8 * 3)
    assert isinstance(lazy[0].weight, nn.parameter.UninitializedParameter)  # still lazy
    assert "lazy module" in " ".join(summary.notes)
    lazy(torch.zeros(2, 5))  # and it still initialises normally
    assert lazy[0].weight.shape == (8, 5)


def test_output_shape_is_what_the_forward_returns():
    class Flattening(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)

        def forward(self, x):
            return self.conv(x).flatten(1)  # the last step is outside any submodule

    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Linear(6, 8)
            self.classes = nn.Linear(8, 5)
            self.box = nn.Linear(8, 4)

        def forward(self, x):
            h = self.body(x)
            return {"classes": self.classes(h), "box": self.box(h)}

    class Gaussian(nn.Module):
        def __init__(self):
            super().__init__()
            self.mean = nn.Linear(3, 2)

        def forward(self, x):
            return torch.distributions.Normal(self.mean(x), torch.ones(2))

    for module, size in [(Flattening(), (2, 3, 8, 8)), (TwoHeads(), (7, 6)), (Gaussian(), (4, 3))]:
        real = module(torch.zeros(size))
        expected = (tuple(real.shape) if isinstance(real, torch.Tensor) else
                    {k: tuple(v.shape) for k, v in real.items()} if isinstance(real, dict) else
                    tuple(real.sample().shape))
        assert summarize(module, size).output_shape == expected
    assert summarize(Flattening(), (2, 3, 8, 8)).to_dict()["output_shape"] == [2, 144]
    assert summarize(TwoHeads(), (7, 6)).to_dict()["output_shape"] == {"classes": [7, 5], "box": [7, 4]}


def test_modules_that_cannot_run_on_meta_get_a_plain_explanation():
    class ReadsAValue(nn.Module):
        def __init__(self):
            super().__init__()
            self.gate = nn.Linear(4, 1)

        def forward(self, x):
            if self.gate(x).mean().item() > 0:
                return x
            return -x

    class MovesData(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = nn.Linear(4, 4)

        def forward(self, x):
            return self.layer(x.to("cpu"))

    with pytest.raises(ValueError, match=r"ReadsAValue cannot be summarized on the meta device: "
                                         r".*reads a value of a tensor"):
        summarize(ReadsAValue(), (2, 4))
    with pytest.raises(ValueError, match=r"MovesData cannot be summarized on the meta device: "
                                         r".*moves data to another device"):
        summarize(MovesData(), (2, 4))
    scripted = torch.jit.script(nn.Linear(4, 2))
    with pytest.raises(ValueError, match="is a TorchScript module.*summarize the Python module"):
        summarize(scripted, (1, 4))
    with pytest.raises(ValueError, match="its submodule 'head' is a TorchScript module"):
        summarize(nn.Sequential(OrderedDict(body=nn.Linear(4, 4), head=scripted)), (1, 4))


def test_prelu_and_max_unpool_are_known_to_do_no_multiply_accumulates():
    class Unpool(nn.Module):
        def __init__(self):
            super().__init__()
            self.pool = nn.MaxPool2d(2, return_indices=True)
            self.act = nn.PReLU(3)
            self.unpool = nn.MaxUnpool2d(2)

        def forward(self, x):
            y, indices = self.pool(x)
            return self.unpool(self.act(y), indices)

    summary = summarize(Unpool(), (1, 3, 8, 8))
    assert summary.unknown_rows == [] and summary.macs == 0


def test_grouped_rows_are_named_by_path_and_class():
    with torch.device("meta"):
        from dlcourse.models import googlenet
        model = googlenet()
    grouped = group_rows(summarize(model, (1, 3, 224, 224)))
    inception = next(row for row in grouped.rows if row.path == "inception4a")
    assert inception.kind == type(model.inception4a).__name__ and inception.name == f"inception4a ({inception.kind})"
    assert inception.output_shape == (1, 512, 14, 14)  # the block's concatenated output, not its last branch
