"""Recurrent networks written from scratch: RNN, LSTM and GRU, cells and stacked layers.

Each cell step is a few lines of tensor arithmetic with its equation beside each line, in
PyTorch's symbols: x the input at one time step, h the hidden state before it, h' the state
after it, sigma the logistic sigmoid and * the elementwise product.  The stacked layers
``RNN``, ``LSTM`` and ``GRU`` loop over time and over layers, calling the same steps, and
autograd follows the whole loop: gradients flow back through every time step.

Arguments, parameter names, shapes, gate order and initialisation are those of
``torch.nn`` 2.13, so ``ours.load_state_dict(theirs.state_dict())`` works and gives the same
outputs and final states (tests/test_recurrent.py checks this in float64 to 1e-6):

* a cell holds ``weight_ih`` (gates*H, I), ``weight_hh`` (gates*H, H), ``bias_ih`` and
  ``bias_hh`` (gates*H,); a stacked layer holds ``weight_ih_l{k}``, ``weight_hh_l{k}``,
  ``bias_ih_l{k}``, ``bias_hh_l{k}`` for layer k, with ``_reverse`` appended for the
  backward direction when ``bidirectional=True``.  Layer k > 0 reads the outputs of layer
  k - 1, so its input size is H * num_directions;
* the gate blocks are stacked in the rows of each matrix: LSTM (i, f, g, o), GRU (r, z, n);
* every parameter starts uniform in (-1/sqrt(H), 1/sqrt(H)), drawn in registration order,
  so the same seed gives the same weights as torch.

Why two bias vectors?  PyTorch keeps cuDNN's layout: one bias added to the input product
(b_ih) and one to the hidden product (b_hh).  In RNN and LSTM they only ever appear as the
sum W_ih x + b_ih + W_hh h + b_hh, so b_ih + b_hh would do and half of them are redundant:
the model can express nothing more with both.  Only inside the GRU's new gate do they
differ, n = tanh(W_in x + b_in + r * (W_hn h + b_hn)): b_hn is scaled by the reset gate r
and b_in is not.  The parameter count includes both (``recurrent_parameter_count``).

Not supported (torch has them): ``PackedSequence`` inputs, ``proj_size`` for the LSTM.

>>> _ = torch.manual_seed(0)
>>> lstm = LSTM(input_size=3, hidden_size=5, num_layers=2)
>>> output, (h_n, c_n) = lstm(torch.randn(7, 4, 3))      # 7 time steps, a batch of 4
>>> tuple(output.shape), tuple(h_n.shape), tuple(c_n.shape)
((7, 4, 5), (2, 4, 5), (2, 4, 5))
>>> torch.equal(output[-1], h_n[-1])      # the top layer's output at the last step is its final state
True
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import torch
from torch import nn

#: The kinds of recurrent layer, named as torch names them, each with its blocks in the order their rows are
#: stacked in the weight matrices: the LSTM's gates i, f, g, o, the GRU's r, z, n, the plain RNN's one block.
#: The one list of the kinds: the lessons, and the checks of a kind's name, derive theirs from it.
GATE_BLOCKS = {"RNN": ("h",), "LSTM": ("i", "f", "g", "o"), "GRU": ("r", "z", "n")}
KINDS = tuple(GATE_BLOCKS)
#: Gate blocks per kind.
GATES = {kind: len(blocks) for kind, blocks in GATE_BLOCKS.items()}
#: The gate that decides how much of the old state a step keeps: the LSTM's forget gate, the GRU's update gate.
KEEP_GATE = {"LSTM": "f", "GRU": "z"}
NONLINEARITIES = ("tanh", "relu")

State = tuple[torch.Tensor, ...]             # (h,) for RNN and GRU, (h, c) for LSTM
Weights = tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None]


def check_kind(kind: object) -> str:
    """The kind's name as in ``KINDS`` ("lstm" and "LSTM" are "LSTM"); a ValueError if it is none of them.

    >>> check_kind("gru")
    'GRU'
    >>> check_kind("transformer")
    Traceback (most recent call last):
    ...
    ValueError: kind must be 'rnn', 'lstm' or 'gru', got 'transformer'
    """
    if not isinstance(kind, str) or kind.upper() not in KINDS:
        names = [f"'{name.lower()}'" for name in KINDS]
        raise ValueError(f"kind must be {', '.join(names[:-1])} or {names[-1]}, got {kind!r}")
    return kind.upper()


def _check_size(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return value


def _check_nonlinearity(nonlinearity: str) -> str:
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    return nonlinearity


def _check_dropout(dropout: float, num_layers: int) -> float:
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout <= 1:
        raise ValueError(f"dropout must be a probability in [0, 1], got {dropout!r}")
    if dropout > 0 and num_layers == 1:
        warnings.warn(f"dropout acts between stacked layers only, so dropout={dropout} does nothing "
                      f"with num_layers=1", UserWarning, stacklevel=3)
    return float(dropout)


# ---- one time step: the equations -------------------------------------------------------------

def _affine(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    product = x @ weight.t()                                  # W x, for each row x of the batch
    return product if bias is None else product + bias       # W x + b


def _rnn_step(x: torch.Tensor, h: torch.Tensor, weights: Weights,
              nonlinearity: str) -> torch.Tensor:
    weight_ih, weight_hh, bias_ih, bias_hh = weights
    # W_ih x + b_ih + W_hh h + b_hh
    pre_activation = (_affine(x, weight_ih, bias_ih)
                      + _affine(h, weight_hh, bias_hh))
    if nonlinearity == "tanh":
        # h' = tanh(W_ih x + b_ih + W_hh h + b_hh)
        return torch.tanh(pre_activation)
    # h' = relu(W_ih x + b_ih + W_hh h + b_hh)
    return torch.relu(pre_activation)


def _lstm_step(x: torch.Tensor, h: torch.Tensor, c: torch.Tensor,
               weights: Weights) -> tuple[torch.Tensor, torch.Tensor]:
    weight_ih, weight_hh, bias_ih, bias_hh = weights
    # 4H pre-activations
    gates = _affine(x, weight_ih, bias_ih) + _affine(h, weight_hh, bias_hh)
    # torch's order: input, forget, cell, output
    i, f, g, o = gates.chunk(4, dim=-1)
    # i = sigma(W_ii x + b_ii + W_hi h + b_hi)
    input_gate = torch.sigmoid(i)
    # f = sigma(W_if x + b_if + W_hf h + b_hf)
    forget_gate = torch.sigmoid(f)
    # g = tanh(W_ig x + b_ig + W_hg h + b_hg)
    candidate = torch.tanh(g)
    # o = sigma(W_io x + b_io + W_ho h + b_ho)
    output_gate = torch.sigmoid(o)
    c_next = forget_gate * c + input_gate * candidate   # c' = f * c + i * g
    h_next = output_gate * torch.tanh(c_next)           # h' = o * tanh(c')
    return h_next, c_next


def _gru_step(x: torch.Tensor, h: torch.Tensor,
              weights: Weights) -> torch.Tensor:
    weight_ih, weight_hh, bias_ih, bias_hh = weights
    # W_i* x + b_i*, torch's order r, z, n
    x_r, x_z, x_n = _affine(x, weight_ih, bias_ih).chunk(3, dim=-1)
    # W_h* h + b_h*
    h_r, h_z, h_n = _affine(h, weight_hh, bias_hh).chunk(3, dim=-1)
    # r = sigma(W_ir x + b_ir + W_hr h + b_hr)
    reset = torch.sigmoid(x_r + h_r)
    # z = sigma(W_iz x + b_iz + W_hz h + b_hz)
    update = torch.sigmoid(x_z + h_z)
    # n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
    new = torch.tanh(x_n + reset * h_n)
    return (1 - update) * new + update * h   # h' = (1 - z) * n + z * h


def _dropout(values: torch.Tensor, probability: float) -> torch.Tensor:
    """Zero each value with the given probability and scale the survivors by 1 / (1 - p), as torch does."""
    if probability == 1:
        return values * torch.zeros((), dtype=values.dtype, device=values.device)
    keep = torch.empty_like(values).bernoulli_(1 - probability)   # 1 with probability 1 - p
    return values * keep.div_(1 - probability)


def _uniform_like_torch(module: nn.Module, hidden_size: int) -> None:
    bound = 1 / math.sqrt(hidden_size)                        # U(-1/sqrt(H), 1/sqrt(H)) for every parameter
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.uniform_(-bound, bound)


# ---- cells: one time step -----------------------------------------------------------------------

class _Cell(nn.Module):
    kind = "RNN"
    state_names: tuple[str, ...] = ("hx",)

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: torch.device | None = None, dtype: torch.dtype | None = None) -> None:
        super().__init__()
        self.input_size = _check_size("input_size", input_size)
        self.hidden_size = _check_size("hidden_size", hidden_size)
        self.bias = bool(bias)
        rows = GATES[self.kind] * hidden_size
        options = dict(device=device, dtype=dtype)
        self.weight_ih = nn.Parameter(torch.empty(rows, input_size, **options))
        self.weight_hh = nn.Parameter(torch.empty(rows, hidden_size, **options))
        if self.bias:
            self.bias_ih = nn.Parameter(torch.empty(rows, **options))
            self.bias_hh = nn.Parameter(torch.empty(rows, **options))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every parameter uniform in (-1/sqrt(H), 1/sqrt(H)), as torch."""
        _uniform_like_torch(self, self.hidden_size)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")

    def _weights(self) -> Weights:
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh

    def _batched(self, input: torch.Tensor,
                 states: Sequence[torch.Tensor] | None) -> tuple[torch.Tensor, State, bool]:
        """The input as (B, I) and the states as (B, H), zeros where none are given; and whether a batch came in."""
        if not isinstance(input, torch.Tensor) or input.dim() not in (1, 2) or input.shape[-1] != self.input_size:
            shape = tuple(input.shape) if isinstance(input, torch.Tensor) else type(input).__name__
            raise ValueError(f"input must have shape (batch, input_size={self.input_size}) or "
                             f"(input_size={self.input_size},), got {shape}")
        is_batched = input.dim() == 2
        x = input if is_batched else input.unsqueeze(0)
        expected = (x.shape[0], self.hidden_size) if is_batched else (self.hidden_size,)
        if states is None:
            zeros = torch.zeros(x.shape[0], self.hidden_size, dtype=x.dtype, device=x.device)
            return x, tuple(zeros for _ in self.state_names), is_batched
        batched_states = []
        for name, state in zip(self.state_names, states):
            if not isinstance(state, torch.Tensor) or tuple(state.shape) != expected:
                shape = tuple(state.shape) if isinstance(state, torch.Tensor) else type(state).__name__
                raise ValueError(f"{name} must have shape {tuple(expected)} for an input of shape "
                                 f"{tuple(input.shape)}, got {shape}")
            batched_states.append(state if is_batched else state.unsqueeze(0))
        return x, tuple(batched_states), is_batched


class RNNCell(_Cell):
    """One step of an Elman RNN: h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu), as ``torch.nn.RNNCell``.

    ``forward(input, hx=None)``: input (B, I) or (I,), hx (B, H) or (H,), zeros when left out;
    returns h' of hx's shape.

    >>> cell = RNNCell(3, 2)
    >>> with torch.no_grad():
    ...     _ = cell.weight_ih.fill_(0.0), cell.weight_hh.copy_(torch.eye(2)), cell.bias_ih.fill_(0.5)
    ...     _ = cell.bias_hh.fill_(0.0)
    >>> cell(torch.ones(3), torch.tensor([0.0, -0.5]))      # tanh(h + 0.5)
    tensor([0.4621, 0.0000], grad_fn=<SqueezeBackward1>)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device: torch.device | None = None, dtype: torch.dtype | None = None) -> None:
        self.nonlinearity = _check_nonlinearity(nonlinearity)
        super().__init__(input_size, hidden_size, bias, device, dtype)

    def extra_repr(self) -> str:
        return super().extra_repr() + ("" if self.nonlinearity == "tanh" else ", nonlinearity='relu'")

    def forward(self, input: torch.Tensor, hx: torch.Tensor | None = None) -> torch.Tensor:
        x, (h,), is_batched = self._batched(input, None if hx is None else (hx,))
        h_next = _rnn_step(x, h, self._weights(), self.nonlinearity)
        return h_next if is_batched else h_next.squeeze(0)


class LSTMCell(_Cell):
    """One step of an LSTM (Hochreiter & Schmidhuber, 1997, with the forget gate of Gers et al., 2000).

    As ``torch.nn.LSTMCell``, with the four gate blocks stacked in the order i, f, g, o::

        i = sigma(W_ii x + b_ii + W_hi h + b_hi)        input gate
        f = sigma(W_if x + b_if + W_hf h + b_hf)        forget gate
        g = tanh(W_ig x + b_ig + W_hg h + b_hg)         candidate cell
        o = sigma(W_io x + b_io + W_ho h + b_ho)        output gate
        c' = f * c + i * g,   h' = o * tanh(c')

    ``forward(input, hx=None)``: hx is the pair (h, c), zeros when left out; returns (h', c').

    >>> cell = LSTMCell(4, 3)
    >>> h, c = cell(torch.randn(5, 4))
    >>> tuple(h.shape), bool((h.abs() < 1).all())        # |h'| = |o tanh(c')| < 1
    ((5, 3), True)
    """

    kind = "LSTM"
    state_names = ("hx[0] (h)", "hx[1] (c)")

    def forward(self, input: torch.Tensor,
                hx: tuple[torch.Tensor, torch.Tensor] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise ValueError(f"hx must be a pair (h, c) of tensors, got {type(hx).__name__}")
        x, (h, c), is_batched = self._batched(input, hx)
        h_next, c_next = _lstm_step(x, h, c, self._weights())
        return (h_next, c_next) if is_batched else (h_next.squeeze(0), c_next.squeeze(0))


class GRUCell(_Cell):
    """One step of a GRU, as ``torch.nn.GRUCell``, with the gate blocks stacked in the order r, z, n::

        r = sigma(W_ir x + b_ir + W_hr h + b_hr)        reset gate
        z = sigma(W_iz x + b_iz + W_hz h + b_hz)        update gate
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))   new state
        h' = (1 - z) * n + z * h

    z near 1 keeps the old state, as in Cho et al. (2014), eq. (7): h' = z * h + (1 - z) * h~.
    Others (Chung et al., 2014, and many textbooks) write h' = (1 - z) * h + z * h~: the same
    family with z and 1 - z exchanged, i.e. the update gate's weights and biases negated.
    Where torch and Cho et al. differ is the reset gate: Cho et al. (arXiv 1406.1078v3) apply
    it before the product, h~ = tanh(W x + U (r * h)); torch (and cuDNN, and the paper's
    first version) apply it after, r * (W_hn h + b_hn), which is also why b_hn cannot be
    merged into b_in.

    >>> cell = GRUCell(4, 3)
    >>> with torch.no_grad():
    ...     _ = cell.bias_hh[3:6].fill_(100.0)      # z = sigma(... + 100) = 1: keep the old state
    >>> h = torch.randn(2, 3)
    >>> torch.allclose(cell(torch.randn(2, 4), h), h)
    True
    """

    kind = "GRU"

    def forward(self, input: torch.Tensor, hx: torch.Tensor | None = None) -> torch.Tensor:
        x, (h,), is_batched = self._batched(input, None if hx is None else (hx,))
        h_next = _gru_step(x, h, self._weights())
        return h_next if is_batched else h_next.squeeze(0)


# ---- stacked layers: loops over time, directions and layers --------------------------------------

class _Recurrent(nn.Module):
    kind = "RNN"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device: torch.device | None = None, dtype: torch.dtype | None = None) -> None:
        super().__init__()
        self.input_size = _check_size("input_size", input_size)
        self.hidden_size = _check_size("hidden_size", hidden_size)
        self.num_layers = _check_size("num_layers", num_layers)
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        self.dropout = _check_dropout(dropout, num_layers)
        self.bidirectional = bool(bidirectional)
        self.num_directions = 2 if bidirectional else 1
        rows = GATES[self.kind] * hidden_size
        options = dict(device=device, dtype=dtype)
        for layer in range(num_layers):
            layer_input_size = input_size if layer == 0 else hidden_size * self.num_directions
            for direction in range(self.num_directions):
                weight_ih, weight_hh, bias_ih, bias_hh = self._parameter_names(layer, direction)
                setattr(self, weight_ih, nn.Parameter(torch.empty(rows, layer_input_size, **options)))
                setattr(self, weight_hh, nn.Parameter(torch.empty(rows, hidden_size, **options)))
                if self.bias:
                    setattr(self, bias_ih, nn.Parameter(torch.empty(rows, **options)))
                    setattr(self, bias_hh, nn.Parameter(torch.empty(rows, **options)))
        self.reset_parameters()

    @staticmethod
    def _parameter_names(layer: int, direction: int) -> tuple[str, str, str, str]:
        suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
        return f"weight_ih{suffix}", f"weight_hh{suffix}", f"bias_ih{suffix}", f"bias_hh{suffix}"

    def _weights(self, layer: int, direction: int) -> Weights:
        weight_ih, weight_hh, bias_ih, bias_hh = self._parameter_names(layer, direction)
        if not self.bias:
            return getattr(self, weight_ih), getattr(self, weight_hh), None, None
        return getattr(self, weight_ih), getattr(self, weight_hh), getattr(self, bias_ih), getattr(self, bias_hh)

    def reset_parameters(self) -> None:
        """Every parameter uniform in (-1/sqrt(H), 1/sqrt(H)), in registration order, as torch."""
        _uniform_like_torch(self, self.hidden_size)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        defaults = dict(num_layers=1, bias=True, batch_first=False, dropout=0.0, bidirectional=False)
        for name, default in defaults.items():
            if getattr(self, name) != default:
                text += f", {name}={getattr(self, name)}"
        return text

    def _step(self, x: torch.Tensor, state: State, weights: Weights) -> State:
        raise NotImplementedError

    def _state_names(self) -> tuple[str, ...]:
        return ("hx",)

    def _time_major(self, input: torch.Tensor) -> tuple[torch.Tensor, bool]:
        """The input as (L, B, I), and whether it came with a batch dimension."""
        layout = "(batch, seq_len, input_size)" if self.batch_first else "(seq_len, batch, input_size)"
        if not isinstance(input, torch.Tensor):
            raise ValueError(f"input must be a tensor {layout} or (seq_len, input_size), got "
                             f"{type(input).__name__} (PackedSequence is not supported)")
        if input.dim() not in (2, 3) or input.shape[-1] != self.input_size:
            raise ValueError(f"input must have shape {layout} or (seq_len, input_size) with "
                             f"input_size={self.input_size}, got {tuple(input.shape)}")
        is_batched = input.dim() == 3
        sequence = input if not is_batched else (input.transpose(0, 1) if self.batch_first else input)
        sequence = sequence if is_batched else sequence.unsqueeze(1)
        if sequence.shape[0] == 0:
            raise ValueError(f"input must hold at least one time step, got shape {tuple(input.shape)}")
        return sequence, is_batched

    def _initial_states(self, hx: Sequence[torch.Tensor] | None, sequence: torch.Tensor,
                        is_batched: bool) -> State:
        """The initial states as (num_layers * num_directions, B, H), zeros where none are given."""
        batch = sequence.shape[1]
        stacked = self.num_layers * self.num_directions
        if hx is None:
            zeros = torch.zeros(stacked, batch, self.hidden_size, dtype=sequence.dtype, device=sequence.device)
            return tuple(zeros for _ in self._state_names())
        expected = (stacked, batch, self.hidden_size) if is_batched else (stacked, self.hidden_size)
        layout = "(num_layers * num_directions, batch, hidden_size)" if is_batched else \
            "(num_layers * num_directions, hidden_size)"
        states = []
        for name, state in zip(self._state_names(), hx):
            if not isinstance(state, torch.Tensor) or tuple(state.shape) != expected:
                shape = tuple(state.shape) if isinstance(state, torch.Tensor) else type(state).__name__
                raise ValueError(f"{name} must have shape {layout} = {tuple(expected)}, got {shape}")
            states.append(state if is_batched else state.unsqueeze(1))
        return tuple(states)

    def _run(self, input: torch.Tensor, hx: Sequence[torch.Tensor] | None) -> tuple[torch.Tensor, State]:
        sequence, is_batched = self._time_major(input)
        initial = self._initial_states(hx, sequence, is_batched)
        steps = sequence.shape[0]
        final: list[list[torch.Tensor]] = [[] for _ in initial]      # per state: one (B, H) per layer and direction
        layer_input = sequence
        for layer in range(self.num_layers):
            direction_outputs = []
            for direction in range(self.num_directions):
                weights = self._weights(layer, direction)
                state = tuple(states[layer * self.num_directions + direction] for states in initial)
                outputs: list[torch.Tensor] = [torch.empty(0)] * steps
                times = range(steps) if direction == 0 else range(steps - 1, -1, -1)   # the reverse reads t = L-1..0
                for t in times:
                    state = self._step(layer_input[t], state, weights)             # h_t = step(x_t, h_{t-1})
                    outputs[t] = state[0]
                direction_outputs.append(torch.stack(outputs))                  # (L, B, H)
                for kept, last in zip(final, state):
                    kept.append(last)
            layer_input = torch.cat(direction_outputs, dim=-1)                  # (L, B, H * num_directions)
            if self.training and self.dropout > 0 and layer < self.num_layers - 1:
                layer_input = _dropout(layer_input, self.dropout)                # between layers, not after the last
        output = layer_input
        final_states = tuple(torch.stack(kept) for kept in final)              # (num_layers * num_directions, B, H)
        if not is_batched:
            return output.squeeze(1), tuple(state.squeeze(1) for state in final_states)
        return (output.transpose(0, 1) if self.batch_first else output), final_states


class RNN(_Recurrent):
    """A stack of Elman RNN layers, h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) (or relu), as ``torch.nn.RNN``.

    ``forward(input, hx=None)``: input (L, B, I), or (B, L, I) with ``batch_first``, or (L, I)
    unbatched; hx (num_layers * num_directions, B, H), or without B when unbatched; zeros
    when left out.  Returns ``(output, h_n)``: output holds the top layer's h_t for every t,
    both directions concatenated (last dimension H * num_directions), h_n every layer's and
    direction's final state.  ``dropout`` zeroes the outputs of every layer but the last, in
    training only.

    >>> _ = torch.manual_seed(0)
    >>> theirs = torch.nn.RNN(3, 4, num_layers=2, bidirectional=True, nonlinearity="relu")
    >>> ours = RNN(3, 4, num_layers=2, bidirectional=True, nonlinearity="relu")
    >>> ours.load_state_dict(theirs.state_dict())
    <All keys matched successfully>
    >>> x = torch.randn(6, 2, 3)
    >>> all(torch.allclose(a, b, atol=1e-6) for a, b in zip(ours(x), theirs(x)))
    True
    """

    kind = "RNN"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device: torch.device | None = None, dtype: torch.dtype | None = None) -> None:
        self.nonlinearity = _check_nonlinearity(nonlinearity)
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device, dtype)

    def extra_repr(self) -> str:
        return super().extra_repr() + ("" if self.nonlinearity == "tanh" else ", nonlinearity='relu'")

    def _step(self, x: torch.Tensor, state: State, weights: Weights) -> State:
        return (_rnn_step(x, state[0], weights, self.nonlinearity),)

    def forward(self, input: torch.Tensor, hx: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        output, (h_n,) = self._run(input, None if hx is None else (hx,))
        return output, h_n


class LSTM(_Recurrent):
    """A stack of LSTM layers (the step of :class:`LSTMCell`), as ``torch.nn.LSTM`` without ``proj_size``.

    ``forward(input, hx=None)``: as :class:`RNN`, with hx the pair (h_0, c_0); returns
    ``(output, (h_n, c_n))``, both of shape (num_layers * num_directions, B, H).

    >>> _ = torch.manual_seed(0)
    >>> theirs = torch.nn.LSTM(3, 4, batch_first=True)
    >>> ours = LSTM(3, 4, batch_first=True)
    >>> ours.load_state_dict(theirs.state_dict())
    <All keys matched successfully>
    >>> x = torch.randn(2, 6, 3)                         # batch of 2, 6 steps
    >>> (out, (h, c)), (out_torch, (h_torch, c_torch)) = ours(x), theirs(x)
    >>> torch.allclose(out, out_torch, atol=1e-6), torch.allclose(c, c_torch, atol=1e-6)
    (True, True)
    """

    kind = "LSTM"

    def _state_names(self) -> tuple[str, ...]:
        return ("hx[0] (h_0)", "hx[1] (c_0)")

    def _step(self, x: torch.Tensor, state: State, weights: Weights) -> State:
        return _lstm_step(x, state[0], state[1], weights)

    def forward(self, input: torch.Tensor, hx: tuple[torch.Tensor, torch.Tensor] | None = None
                ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise ValueError(f"hx must be a pair (h_0, c_0) of tensors, got {type(hx).__name__}")
        output, (h_n, c_n) = self._run(input, hx)
        return output, (h_n, c_n)


class GRU(_Recurrent):
    """A stack of GRU layers (the step of :class:`GRUCell`, torch's form), as ``torch.nn.GRU``.

    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)) and h' = (1 - z) * n + z * h; see
    :class:`GRUCell` for how this compares with Cho et al. (2014).  ``forward`` as :class:`RNN`.

    >>> gru = GRU(3, 4, num_layers=3, batch_first=True)
    >>> output, h_n = gru(torch.randn(5, 3))              # unbatched: (seq_len, input_size)
    >>> tuple(output.shape), tuple(h_n.shape)
    ((5, 4), (3, 4))
    """

    kind = "GRU"

    def _step(self, x: torch.Tensor, state: State, weights: Weights) -> State:
        return (_gru_step(x, state[0], weights),)

    def forward(self, input: torch.Tensor, hx: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        output, (h_n,) = self._run(input, None if hx is None else (hx,))
        return output, h_n


# ---- counting and measuring ---------------------------------------------------------------------

def recurrent_parameter_count(kind: str, input_size: int, hidden_size: int, num_layers: int = 1,
                              bias: bool = True, bidirectional: bool = False) -> int:
    """Parameters of a stacked recurrent layer, as ``torch.nn.RNN`` / ``LSTM`` / ``GRU`` hold them.

    With G gate blocks (RNN 1, LSTM 4, GRU 3), per layer and direction::

        G * (H * (I_k + H) + 2 * H)       (without bias: G * H * (I_k + H))

    where I_0 = input_size and I_k = H * num_directions for the layers above.  The two bias
    vectors b_ih and b_hh are both counted, as torch stores both.  The rule is the one of
    ``dlcourse.calc`` (``calc.LSTM(...).apply((seq_len, I)).params``), called here.

    >>> recurrent_parameter_count("lstm", 10, 20)          # 4 * (20 * 30 + 40)
    2560
    >>> recurrent_parameter_count("GRU", 8, 16, num_layers=2, bidirectional=True)   # 2 * (1248 + 2400)
    7296
    """
    from dlcourse.calc import layers as calc_layers

    rule = getattr(calc_layers, check_kind(kind))           # calc's layer of the same name: calc.LSTM
    _check_size("input_size", input_size)
    layer = rule(_check_size("hidden_size", hidden_size), _check_size("num_layers", num_layers),
                 bidirectional=bidirectional, bias=bias)
    return layer.apply((1, input_size)).params


def gradient_norms_through_time(cell: nn.Module, sequence_length: int, inputs: torch.Tensor | None = None,
                                seed: int = 0) -> torch.Tensor:
    """The spectral norms ||dh_T / dh_t|| for t = 0, ..., T, measured with autograd.

    Runs ``cell`` (an RNN, GRU or LSTM cell, ours or torch's) on one sequence of
    ``sequence_length`` = T steps, from h_0 = 0 (and c_0 = 0), on ``inputs`` of shape (T, I),
    or standard normal inputs drawn from ``seed`` when none are given.  Entry t is the largest
    singular value of the Jacobian dh_T / dh_t (H x H), so entry T is 1.  For an LSTM it is the
    partial derivative with c_t held fixed; gradient reaching h_T through c_t alone is not in it.

    By the chain rule dh_T / dh_t = prod_{s=t+1..T} dh_s / dh_{s-1}: for an RNN whose states
    stay where the nonlinearity is linear, with W_hh = a I, every factor is a I and the norm is a^(T-t).

    >>> cell = RNNCell(1, 2, nonlinearity="relu")
    >>> with torch.no_grad():
    ...     _ = cell.weight_ih.fill_(0.0), cell.weight_hh.copy_(0.5 * torch.eye(2))
    ...     _ = cell.bias_ih.fill_(1.0), cell.bias_hh.fill_(0.0)
    >>> gradient_norms_through_time(cell, 4)                # 0.5^(4 - t)
    tensor([0.0625, 0.1250, 0.2500, 0.5000, 1.0000])
    """
    _check_size("sequence_length", sequence_length)
    input_size, hidden_size = cell.input_size, cell.hidden_size
    parameter = next(cell.parameters())
    if inputs is None:
        generator = torch.Generator().manual_seed(seed)
        inputs = torch.randn(sequence_length, input_size, generator=generator).to(parameter)
    if tuple(inputs.shape) != (sequence_length, input_size):
        raise ValueError(f"inputs must have shape (sequence_length, input_size) = ({sequence_length}, "
                         f"{input_size}), got {tuple(inputs.shape)}")
    is_lstm = cell.weight_hh.shape[0] == GATES["LSTM"] * hidden_size     # four gate blocks: (h, c) states
    zeros = torch.zeros(1, hidden_size, dtype=parameter.dtype, device=parameter.device)
    h: torch.Tensor = zeros.clone().requires_grad_(True)
    c = zeros
    states = [h]                                              # h_0, h_1, ..., h_T, each (1, H)
    for t in range(sequence_length):
        if is_lstm:
            h, c = cell(inputs[t:t + 1], (h, c))
        else:
            h = cell(inputs[t:t + 1], h)
        states.append(h)
    rows: list[tuple[torch.Tensor, ...]] = []
    for unit in range(hidden_size):                           # row `unit` of every Jacobian dh_T / dh_t
        rows.append(torch.autograd.grad(states[-1][0, unit], states, retain_graph=True, allow_unused=True))
    norms = []
    for t in range(sequence_length + 1):
        jacobian = torch.stack([_zero_if_none(row[t], hidden_size, zeros) for row in rows])
        norms.append(torch.linalg.matrix_norm(jacobian, ord=2))
    return torch.stack(norms).detach()


def _zero_if_none(gradient: torch.Tensor | None, hidden_size: int, zeros: torch.Tensor) -> torch.Tensor:
    return (zeros if gradient is None else gradient).reshape(hidden_size)


#: Our stacked layer of each kind.
LAYERS = {layer.kind: layer for layer in (RNN, LSTM, GRU)}

__all__ = ["GATES", "GATE_BLOCKS", "GRU", "GRUCell", "KEEP_GATE", "KINDS", "LAYERS", "LSTM", "LSTMCell", "RNN",
           "RNNCell", "check_kind", "gradient_norms_through_time", "recurrent_parameter_count"]
