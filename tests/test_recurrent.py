"""dlcourse.models.recurrent: RNN, LSTM and GRU from scratch agree with torch.nn's namesakes.

Every comparison loads torch's weights into ours and checks outputs, final states and the
gradients of a loss with respect to the inputs, the initial states and every parameter.
"""

import ast
import itertools
import math
import random
from pathlib import Path

import pytest
import torch
from torch import nn

from dlcourse.models import recurrent
from dlcourse.models.recurrent import (
    GRU,
    LSTM,
    RNN,
    GRUCell,
    LSTMCell,
    RNNCell,
    gradient_norms_through_time,
    recurrent_parameter_count,
)

TOLERANCE = {torch.float64: 1e-6, torch.float32: 1e-5}

# name: (our class, torch's class, extra arguments)
MODULES = {
    "RNN tanh": (RNN, nn.RNN, {}),
    "RNN relu": (RNN, nn.RNN, {"nonlinearity": "relu"}),
    "LSTM": (LSTM, nn.LSTM, {}),
    "GRU": (GRU, nn.GRU, {}),
}
CELLS = {
    "RNNCell tanh": (RNNCell, nn.RNNCell, {}),
    "RNNCell relu": (RNNCell, nn.RNNCell, {"nonlinearity": "relu"}),
    "LSTMCell": (LSTMCell, nn.LSTMCell, {}),
    "GRUCell": (GRUCell, nn.GRUCell, {}),
}


def _pair(name, table, arguments, seed, dtype):
    """Torch's module and ours with torch's weights, both in ``dtype``."""
    ours_class, torch_class, extra = table[name]
    torch.manual_seed(seed)
    theirs = torch_class(**arguments, **extra).to(dtype)
    ours = ours_class(**arguments, **extra).to(dtype)
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def _flatten(result):
    """(output, h_n) or (output, (h_n, c_n)) or h or (h, c) as a flat list of tensors."""
    if isinstance(result, torch.Tensor):
        return [result]
    return [tensor for item in result for tensor in _flatten(item)]


def _largest_differences(ours, theirs, inputs, dtype, seed):
    """Runs both modules on copies of ``inputs`` (a list; an LSTM's state pair is a tuple inside it)
    and returns the largest absolute differences of the results and of all gradients."""
    def copies():
        return [tuple(t.detach().clone().requires_grad_() for t in item) if isinstance(item, tuple)
                else (None if item is None else item.detach().clone().requires_grad_()) for item in inputs]

    ours_inputs, torch_inputs = copies(), copies()
    ours_results, torch_results = _flatten(ours(*ours_inputs)), _flatten(theirs(*torch_inputs))
    assert [r.shape for r in ours_results] == [r.shape for r in torch_results]
    generator = torch.Generator().manual_seed(seed)
    weights = [torch.randn(r.shape, generator=generator, dtype=dtype) for r in torch_results]
    for results in (ours_results, torch_results):
        sum((result * weight).sum() for result, weight in zip(results, weights)).backward()
    leaves_ours = [t for t in _flatten([i for i in ours_inputs if i is not None])]
    leaves_torch = [t for t in _flatten([i for i in torch_inputs if i is not None])]
    gradients = list(zip([t.grad for t in leaves_ours], [t.grad for t in leaves_torch]))
    torch_parameters = dict(theirs.named_parameters())
    for name, parameter in ours.named_parameters():
        gradients.append((parameter.grad, torch_parameters[name].grad))
    assert all(a is not None and b is not None for a, b in gradients)
    results = max((a - b).abs().max().item() for a, b in zip(ours_results, torch_results))
    return results, max((a - b).abs().max().item() for a, b in gradients)


def _module_inputs(name, module, batched, batch_first, initial_state, rng, dtype):
    steps, batch = rng.randint(1, 6), rng.randint(1, 4)
    shape = (batch, steps, module.input_size) if batch_first else (steps, batch, module.input_size)
    x = torch.randn(shape if batched else (steps, module.input_size), dtype=dtype)
    if not initial_state:
        return [x]
    directions = 2 if module.bidirectional else 1
    state_shape = (module.num_layers * directions,) + ((batch,) if batched else ()) + (module.hidden_size,)
    if name == "LSTM":
        return [x, (torch.randn(state_shape, dtype=dtype), torch.randn(state_shape, dtype=dtype))]
    return [x, torch.randn(state_shape, dtype=dtype)]


MODULE_CASES = list(itertools.product(MODULES, (1, 2, 3), (False, True), (False, True), (False, True), (False, True)))


@pytest.mark.parametrize("name, num_layers, bidirectional, batch_first, bias, initial_state", MODULE_CASES)
def test_modules_match_torch_in_float64(name, num_layers, bidirectional, batch_first, bias, initial_state):
    seed = MODULE_CASES.index((name, num_layers, bidirectional, batch_first, bias, initial_state))
    rng = random.Random(seed)
    arguments = dict(input_size=rng.randint(1, 5), hidden_size=rng.randint(1, 5), num_layers=num_layers,
                     bias=bias, batch_first=batch_first, bidirectional=bidirectional)
    ours, theirs = _pair(name, MODULES, arguments, seed, torch.float64)
    for batched in (True, False):
        inputs = _module_inputs(name, ours, batched, batch_first, initial_state, rng, torch.float64)
        results, gradients = _largest_differences(ours, theirs, inputs, torch.float64, seed)
        assert results < 1e-6 and gradients < 1e-6, (batched, results, gradients)


@pytest.mark.parametrize("name", MODULES)
def test_modules_match_torch_in_float32_on_larger_sizes(name):
    rng = random.Random(name)
    for seed in range(3):
        arguments = dict(input_size=rng.randint(5, 20), hidden_size=rng.randint(5, 20), num_layers=rng.randint(1, 3),
                         batch_first=bool(seed % 2), bidirectional=seed > 0)
        ours, theirs = _pair(name, MODULES, arguments, seed, torch.float32)
        inputs = _module_inputs(name, ours, True, arguments["batch_first"], seed == 2, rng, torch.float32)
        results, gradients = _largest_differences(ours, theirs, inputs, torch.float32, seed)
        assert results < 1e-5 and gradients < 1e-5, (arguments, results, gradients)


CELL_CASES = list(itertools.product(CELLS, (False, True), (False, True), (False, True)))


@pytest.mark.parametrize("name, bias, batched, initial_state", CELL_CASES)
def test_cells_match_torch_cells(name, bias, batched, initial_state):
    seed = CELL_CASES.index((name, bias, batched, initial_state))
    rng = random.Random(seed)
    input_size, hidden_size, batch = rng.randint(1, 6), rng.randint(1, 6), rng.randint(1, 4)
    ours, theirs = _pair(name, CELLS, dict(input_size=input_size, hidden_size=hidden_size, bias=bias),
                         seed, torch.float64)
    leading = (batch,) if batched else ()
    inputs = [torch.randn(leading + (input_size,), dtype=torch.float64)]
    if initial_state:
        states = [torch.randn(leading + (hidden_size,), dtype=torch.float64) for _ in range(2)]
        inputs.append(tuple(states) if name == "LSTMCell" else states[0])
    results, gradients = _largest_differences(ours, theirs, inputs, torch.float64, seed)
    assert results < 1e-6 and gradients < 1e-6


def test_a_cell_step_by_step_gives_the_one_layer_module():
    torch.manual_seed(0)
    lstm, cell = LSTM(3, 4), LSTMCell(3, 4)
    cell.load_state_dict({key.removesuffix("_l0"): value for key, value in lstm.state_dict().items()})
    x = torch.randn(5, 2, 3)
    h = c = torch.zeros(2, 4)
    for t in range(5):
        h, c = cell(x[t], (h, c))
    _, (h_n, c_n) = lstm(x)
    assert torch.allclose(h, h_n[0], atol=1e-6) and torch.allclose(c, c_n[0], atol=1e-6)


@pytest.mark.parametrize("name", MODULES)
def test_the_gradient_reaches_the_first_time_step(name):
    ours_class, _, extra = MODULES[name]
    torch.manual_seed(0)
    module = ours_class(3, 4, num_layers=2, **extra).double()
    if name == "RNN relu":
        with torch.no_grad():                       # positive weights and inputs keep every relu open
            for parameter in module.parameters():
                parameter.abs_()
    x = torch.randn(30, 2, 3, dtype=torch.float64).abs().requires_grad_()
    _flatten(module(x))[1].sum().backward()         # h_n only: x_0 reaches it through 30 steps of recurrence
    assert x.grad[0].abs().sum() > 0


def test_parameter_names_shapes_and_order_are_torchs():
    for (name, (ours_class, torch_class, extra)), layers, bidirectional, bias in itertools.product(
            MODULES.items(), (1, 3), (False, True), (False, True)):
        arguments = dict(input_size=3, hidden_size=5, num_layers=layers, bidirectional=bidirectional, bias=bias)
        ours, theirs = ours_class(**arguments, **extra), torch_class(**arguments, **extra)
        assert [(key, value.shape) for key, value in ours.state_dict().items()] == \
               [(key, value.shape) for key, value in theirs.state_dict().items()], (name, arguments)
    for ours_class, torch_class, extra in CELLS.values():
        for bias in (False, True):
            ours, theirs = ours_class(3, 5, bias, **extra), torch_class(3, 5, bias, **extra)
            assert [(k, v.shape) for k, v in ours.state_dict().items()] == \
                   [(k, v.shape) for k, v in theirs.state_dict().items()]
            assert (ours.bias_ih is None) == (not bias)


@pytest.mark.parametrize("table, name", [(MODULES, name) for name in MODULES] + [(CELLS, name) for name in CELLS])
def test_initialisation_draws_torchs_numbers_from_the_same_seed(table, name):
    ours_class, torch_class, extra = table[name]
    arguments = dict(input_size=7, hidden_size=16)
    if table is MODULES:
        arguments.update(num_layers=2, bidirectional=True)
    torch.manual_seed(3)
    ours = ours_class(**arguments, **extra)
    torch.manual_seed(3)
    theirs = torch_class(**arguments, **extra)
    for (key, ours_value), torch_value in zip(ours.state_dict().items(), theirs.state_dict().values()):
        assert torch.equal(ours_value, torch_value), key
    everything = torch.cat([p.flatten() for p in ours.parameters()])
    assert everything.abs().max() <= 1 / math.sqrt(16) and everything.abs().max() > 0.9 / math.sqrt(16)


@pytest.mark.parametrize("name", MODULES)
def test_dropout_acts_between_layers_in_training_only_and_draws_torchs_mask(name):
    arguments = dict(input_size=4, hidden_size=6, num_layers=3, dropout=0.4, bidirectional=True)
    ours, theirs = _pair(name, MODULES, arguments, 0, torch.float64)
    x = torch.randn(7, 3, 4, dtype=torch.float64)
    without_dropout, _ = _pair(name, MODULES, dict(arguments, dropout=0.0), 0, torch.float64)
    ours.eval()
    assert torch.equal(ours(x)[0], without_dropout(x)[0])
    ours.train()
    torch.manual_seed(11)
    trained = _flatten(ours(x))
    assert not torch.allclose(trained[0], without_dropout(x)[0])
    torch.manual_seed(11)
    for mine, torchs in zip(trained, _flatten(theirs(x))):
        assert torch.allclose(mine, torchs, atol=1e-12)
    one_layer, _ = _pair(name, MODULES, dict(arguments, num_layers=1, dropout=0.0), 0, torch.float64)
    with pytest.warns(UserWarning, match="between stacked layers"):
        one_layer_dropout = MODULES[name][0](**dict(arguments, num_layers=1, dropout=0.9), **MODULES[name][2])
    one_layer_dropout.double().load_state_dict(one_layer.state_dict())
    assert torch.equal(one_layer_dropout.train()(x)[0], one_layer(x)[0])     # nothing after the last layer


def test_dropout_one_zeroes_what_the_next_layer_reads():
    torch.manual_seed(0)
    dropped, plain = RNN(3, 4, num_layers=2, dropout=1.0), RNN(3, 4, num_layers=2)
    plain.load_state_dict(dropped.state_dict())
    x = torch.randn(5, 2, 3)
    _, h_n = dropped(x)
    layer_two = RNN(4, 4)
    layer_two.load_state_dict({key.replace("_l1", "_l0"): value for key, value in plain.state_dict().items()
                               if "_l1" in key})
    assert torch.allclose(h_n[1], layer_two(torch.zeros(5, 2, 4))[1][0])


def test_recurrent_parameter_count_equals_torchs_numel():
    rng = random.Random(0)
    for kind, torch_class in (("rnn", nn.RNN), ("LSTM", nn.LSTM), ("Gru", nn.GRU)):
        for _ in range(8):
            arguments = dict(input_size=rng.randint(1, 40), hidden_size=rng.randint(1, 40),
                             num_layers=rng.randint(1, 4), bias=rng.random() < 0.5, bidirectional=rng.random() < 0.5)
            expected = sum(p.numel() for p in torch_class(**arguments).parameters())
            assert recurrent_parameter_count(kind, **arguments) == expected, (kind, arguments)


def test_recurrent_parameter_count_calls_the_calc_rule(monkeypatch):
    from dlcourse.calc import layers

    monkeypatch.setattr(layers.RecurrentLayer, "apply", lambda self, shape: layers.LayerResult(shape, -7, 0))
    assert recurrent_parameter_count("gru", 3, 4) == -7          # one formula in the package: calc's


def test_gradient_norms_of_a_linear_rnn_are_powers_of_its_weight():
    for a in (0.5, 0.9, 1.3):
        cell = RNNCell(2, 3, nonlinearity="relu").double()
        with torch.no_grad():
            cell.weight_ih.zero_()
            cell.weight_hh.copy_(a * torch.eye(3, dtype=torch.float64))
            cell.bias_ih.fill_(0.2)          # h stays positive: relu is the identity on the path
            cell.bias_hh.zero_()
        norms = gradient_norms_through_time(cell, 6)
        expected = torch.tensor([a ** (6 - t) for t in range(7)], dtype=torch.float64)
        assert torch.allclose(norms, expected, rtol=1e-12)


def test_gradient_norms_of_a_one_unit_tanh_rnn_match_the_chain_rule_by_hand():
    w, u, b = 1.7, -0.8, 0.1
    cell = RNNCell(1, 1).double()
    with torch.no_grad():
        cell.weight_hh.fill_(w), cell.weight_ih.fill_(u), cell.bias_ih.fill_(b), cell.bias_hh.zero_()
    xs = [0.3, -1.2, 0.5, 2.0, -0.1]
    states = [0.0]
    for x in xs:
        states.append(math.tanh(w * states[-1] + u * x + b))           # h_s
    expected = []
    for t in range(len(xs) + 1):                                       # dh_T/dh_t = prod_{s>t} w (1 - h_s^2)
        expected.append(abs(math.prod(w * (1 - states[s] ** 2) for s in range(t + 1, len(xs) + 1))))
    norms = gradient_norms_through_time(cell, len(xs), torch.tensor(xs, dtype=torch.float64).unsqueeze(1))
    assert torch.allclose(norms, torch.tensor(expected, dtype=torch.float64), rtol=1e-12)


@pytest.mark.parametrize("name", ["GRUCell", "LSTMCell"])
def test_gradient_norms_are_the_same_for_torchs_cell(name):
    ours, theirs = _pair(name, CELLS, dict(input_size=3, hidden_size=5), 0, torch.float64)
    mine, torchs = gradient_norms_through_time(ours, 12, seed=4), gradient_norms_through_time(theirs, 12, seed=4)
    assert mine.shape == (13,) and mine[-1] == pytest.approx(1.0)
    assert torch.allclose(mine, torchs, atol=1e-12) and mine[0] < mine[-1]


def _raises(message, function, *args, **kwargs):
    with pytest.raises(ValueError, match=message):
        function(*args, **kwargs)


def test_bad_input_raises_value_error_naming_the_tensor_and_the_shape():
    rnn, lstm = RNN(4, 3, num_layers=2), LSTM(4, 3, batch_first=True)
    _raises(r"input must have shape \(seq_len, batch, input_size\) .*input_size=4, got \(5, 2, 6\)",
            rnn, torch.randn(5, 2, 6))
    _raises(r"input must have shape \(batch, seq_len, input_size\)", lstm, torch.randn(2, 5, 6))
    _raises(r"input must have shape .* got \(4,\)", rnn, torch.randn(4))
    _raises("PackedSequence is not supported", rnn, [torch.randn(5, 4)])
    _raises("at least one time step", rnn, torch.randn(0, 2, 4))
    _raises(r"hx must have shape \(num_layers \* num_directions, batch, hidden_size\) = \(2, 2, 3\), got \(1, 2, 3\)",
            rnn, torch.randn(5, 2, 4), torch.randn(1, 2, 3))
    _raises(r"hx must have shape \(num_layers \* num_directions, hidden_size\) = \(2, 3\), got \(2, 1, 3\)",
            rnn, torch.randn(5, 4), torch.randn(2, 1, 3))
    _raises(r"hx\[1\] \(c_0\) must have shape .* = \(1, 2, 3\), got \(1, 2, 4\)",
            lstm, torch.randn(2, 5, 4), (torch.randn(1, 2, 3), torch.randn(1, 2, 4)))
    _raises(r"hx must be a pair \(h_0, c_0\)", lstm, torch.randn(2, 5, 4), torch.randn(1, 2, 3))
    _raises(r"input must have shape \(batch, input_size=4\)", RNNCell(4, 3), torch.randn(2, 5))
    _raises(r"input must have shape", GRUCell(4, 3), torch.randn(1, 2, 4))
    _raises(r"hx must have shape \(2, 3\) for an input of shape \(2, 4\), got \(3, 3\)",
            GRUCell(4, 3), torch.randn(2, 4), torch.randn(3, 3))
    _raises(r"hx\[1\] \(c\) must have shape \(3,\)", LSTMCell(4, 3), torch.randn(4), (torch.randn(3), torch.randn(2)))


@pytest.mark.parametrize("module_class", [RNN, LSTM, GRU, RNNCell, LSTMCell, GRUCell])
def test_bad_arguments_raise_value_error(module_class):
    for name, value in (("input_size", 0), ("hidden_size", -2), ("hidden_size", 2.5), ("input_size", True)):
        arguments = dict(input_size=3, hidden_size=4)
        arguments[name] = value
        _raises(f"{name} must be a positive int, got {value!r}", module_class, **arguments)
    if module_class in (RNN, LSTM, GRU):
        _raises("num_layers must be a positive int, got 0", module_class, 3, 4, num_layers=0)
        for dropout in (-0.1, 1.5, "0.5"):
            _raises(r"dropout must be a probability in \[0, 1\]", module_class, 3, 4, num_layers=2, dropout=dropout)


def test_bad_nonlinearity_and_kind_raise_value_error():
    _raises("nonlinearity must be 'tanh' or 'relu', got 'sigmoid'", RNN, 3, 4, nonlinearity="sigmoid")
    _raises("nonlinearity must be 'tanh' or 'relu', got 'RELU'", RNNCell, 3, 4, nonlinearity="RELU")
    _raises("kind must be 'rnn', 'lstm' or 'gru', got 'transformer'", recurrent_parameter_count, "transformer", 3, 4)
    _raises("input_size must be a positive int", recurrent_parameter_count, "lstm", 0, 4)
    _raises(r"inputs must have shape \(sequence_length, input_size\) = \(4, 3\), got \(4, 2\)",
            gradient_norms_through_time, RNNCell(3, 2), 4, torch.randn(4, 2))


SOURCE = Path(recurrent.__file__).read_text()
TORCH_RECURRENT_NAMES = {"RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell", "RNNBase", "RNNCellBase", "_VF",
                         "rnn", "functional", "F", "rnn_tanh", "rnn_relu", "lstm", "gru", "rnn_tanh_cell",
                         "rnn_relu_cell", "lstm_cell", "gru_cell", "_thnn_fused_lstm_cell", "_thnn_fused_gru_cell"}


def _dotted(node):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return ".".join([node.id] + parts[::-1]) if isinstance(node, ast.Name) else ""


def test_the_source_uses_no_recurrent_code_of_torch():
    tree = ast.parse(SOURCE)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("torch"):
            assert node.module == "torch" and [a.name for a in node.names] == ["nn"], node.lineno
        if isinstance(node, ast.Import):
            assert [a.name for a in node.names if a.name.startswith("torch")] in ([], ["torch"]), node.lineno
        if isinstance(node, ast.Attribute) and not isinstance(node.ctx, ast.Store):
            dotted = _dotted(node).split(".")
            if dotted[0] == "nn" and len(dotted) > 1:
                assert dotted[1] in ("Module", "Parameter"), f"nn.{dotted[1]} at line {node.lineno}"
            if dotted[0] == "torch":
                assert not TORCH_RECURRENT_NAMES & set(dotted[1:]), f"{'.'.join(dotted)} at line {node.lineno}"
    assert "_VF" not in SOURCE and "torch.nn.functional" not in SOURCE


def test_no_torch_recurrent_kernel_runs(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a torch recurrent kernel was called")

    for function in ("rnn_tanh", "rnn_relu", "lstm", "gru", "rnn_tanh_cell", "rnn_relu_cell", "lstm_cell",
                     "gru_cell"):
        monkeypatch.setattr(torch._VF, function, refuse)
    for name, (ours_class, _, extra) in itertools.chain(MODULES.items(), CELLS.items()):
        module = ours_class(3, 4, **extra)
        _flatten(module(torch.randn(5, 2, 3) if name in MODULES else torch.randn(2, 3)))[0].sum().backward()
    with pytest.raises(AssertionError, match="kernel was called"):          # the trap is armed
        nn.LSTM(3, 4)(torch.randn(5, 2, 3))
