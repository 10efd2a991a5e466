"""Sequence data made offline, small recurrent classifiers and their training, and the figures
of the recurrent-networks chapter.

The task, *remember the first symbol*: a sequence of ``length`` one-hot vectors starts with
one of ``symbols`` signal symbols, followed by ``length - 1`` distractor symbols drawn from a
separate set; the label is the first symbol.  Nothing between the first step and the last
helps, so a classifier that reads only the final state must carry the first input across
``length - 1`` steps: the long-term dependency that a plain RNN loses and a gated one keeps.

Training uses ``torch.nn.RNN`` / ``LSTM`` / ``GRU`` by default: ``dlcourse.models`` has the
same layers written from scratch (same parameters, same outputs), but their Python loop
over time steps is several times slower on a CPU.  ``implementation="dlcourse"`` uses ours.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from torch import nn

from dlcourse.display.inline_figures import inline_figure
from dlcourse.display.notebook import progress_range
from dlcourse.display.plots import two_panel_figure
from dlcourse.hardware.device import torch_threads
from dlcourse.hardware.timing import Stopwatch
from dlcourse.models import recurrent as recurrent_layers
from dlcourse.training import accuracy, train_epoch
from dlcourse.validation import checked_int

#: The kinds of ``dlcourse.models.recurrent.KINDS``, as this chapter's code names them ("rnn", "lstm", "gru").
KINDS = tuple(kind.lower() for kind in recurrent_layers.KINDS)
#: How the figures name each kind: as torch and ``dlcourse.models`` do.
LABELS = {kind.lower(): kind for kind in recurrent_layers.KINDS}
COLOURS = dict(zip(KINDS, ("#d62728", "#1f77b4", "#2ca02c")))
#: The block of the gate that decides how much of the old state is kept (the LSTM's forget gate, the
#: GRU's update gate), in units of the hidden size.
KEEP_GATE_BLOCK = {kind.lower(): recurrent_layers.GATE_BLOCKS[kind].index(gate)
                   for kind, gate in recurrent_layers.KEEP_GATE.items()}


def _kind(kind: str) -> str:
    return recurrent_layers.check_kind(kind).lower()


def first_symbol_task(n_sequences: int, length: int, symbols: int = 4, distractors: int = 4,
                      seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Sequences whose label is their first symbol: x (n, length, symbols + distractors), y (n,).

    Step 0 holds a signal symbol 0..symbols-1 (one-hot); steps 1..length-1 hold distractors,
    symbols + 0 .. symbols + distractors - 1, uniformly at random.  The same seed gives the
    same data.  A model that guesses scores 1 / symbols on average.

    >>> x, y = first_symbol_task(3, 5, symbols=2, distractors=3, seed=1)
    >>> tuple(x.shape), tuple(y.shape)
    ((3, 5, 5), (3,))
    >>> bool((x[:, 0].argmax(1) == y).all()), bool((x[:, 1:].argmax(2) >= 2).all())
    (True, True)
    """
    n_sequences = checked_int("n_sequences", n_sequences)
    length = checked_int("length", length)
    symbols = checked_int("symbols", symbols)
    distractors = checked_int("distractors", distractors)
    if length < 2:
        raise ValueError(f"length must be at least 2 (the symbol, then at least one step to wait), got {length}")
    if symbols < 2:
        raise ValueError(f"symbols must be at least 2 for a classification task, got {symbols}")
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, symbols, (n_sequences,), generator=generator)
    tokens = torch.randint(symbols, symbols + distractors, (n_sequences, length), generator=generator)
    tokens[:, 0] = labels
    return nn.functional.one_hot(tokens, symbols + distractors).float(), labels


class SequenceClassifier(nn.Module):
    """A one-layer RNN, LSTM or GRU read at its last step by a linear layer: many-to-one.

    ``keep_bias`` is added to both biases (b_ih and b_hh) of the LSTM's forget gate or the
    GRU's update gate, so that at the start each step keeps about sigma(2 * keep_bias) of the
    old state (0.88 for 1.0) instead of sigma(0) = 0.5; it does nothing to a plain RNN.

    >>> _ = torch.manual_seed(0)
    >>> model = SequenceClassifier("lstm", input_size=6, hidden_size=5, classes=3)
    >>> tuple(model(torch.zeros(2, 7, 6)).shape)         # (batch, classes) from (batch, time, input)
    (2, 3)
    >>> biases = model.recurrent.bias_ih_l0.detach() + model.recurrent.bias_hh_l0.detach()
    >>> round(float(torch.sigmoid(biases[5:10]).mean()), 1)
    0.9
    """

    def __init__(self, kind: str, input_size: int, hidden_size: int, classes: int, keep_bias: float = 1.0,
                 implementation: str = "torch") -> None:
        super().__init__()
        self.kind = _kind(kind)
        if implementation not in ("torch", "dlcourse"):
            raise ValueError(f"implementation must be 'torch' or 'dlcourse', got {implementation!r}")
        hidden_size = checked_int("hidden_size", hidden_size)
        name = LABELS[self.kind]
        layer = getattr(nn, name) if implementation == "torch" else recurrent_layers.LAYERS[name]   # nn.LSTM or ours
        self.recurrent = layer(checked_int("input_size", input_size), hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, checked_int("classes", classes))
        if self.kind in KEEP_GATE_BLOCK:
            rows = slice(KEEP_GATE_BLOCK[self.kind] * hidden_size, (KEEP_GATE_BLOCK[self.kind] + 1) * hidden_size)
            with torch.no_grad():
                self.recurrent.bias_ih_l0[rows] += keep_bias
                self.recurrent.bias_hh_l0[rows] += keep_bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        output, _ = self.recurrent(x)                          # (batch, time, hidden)
        return self.head(output[:, -1])                        # the last step's state -> class scores


@dataclass
class SequenceRun:
    """What ``train_sequence_models`` measured for one kind of recurrent layer."""

    kind: str
    train_loss: list[float]
    test_accuracy: list[float]
    seconds: float
    parameters: int


def train_sequence_models(kinds: Sequence[str] = KINDS, length: int = 40, hidden_size: int = 24,
                          epochs: int = 15, n_train: int = 512, n_test: int = 256, batch_size: int = 64,
                          lr: float = 1e-2, keep_bias: float = 1.0, symbols: int = 4, distractors: int = 4,
                          seed: int = 0, progress: bool = True, threads: int = 1) -> dict[str, SequenceRun]:
    """Train one ``SequenceClassifier`` of each kind on the same first-symbol data with Adam.

    Every kind gets the same training and test sequences, the same seed before its weights are
    drawn and the same shuffling, so the curves differ only by the recurrent layer.  Returns,
    per kind, the mean training loss and the test accuracy after each epoch.  A tqdm bar per
    kind when ``progress`` (live in Jupyter, printed once when the book is built).

    Runs on ``threads`` CPU threads (restored afterwards): with matrices this small, a second
    thread costs more in synchronisation than it saves (ten times the CPU time on a busy
    two-core machine).

    >>> runs = train_sequence_models(("rnn",), length=4, hidden_size=4, epochs=2, n_train=32,
    ...                              n_test=16, batch_size=16, progress=False)
    >>> len(runs["rnn"].train_loss), len(runs["rnn"].test_accuracy)
    (2, 2)
    """
    kinds = [_kind(kind) for kind in kinds]
    if not kinds:
        raise ValueError(f"kinds must name at least one of {', '.join(repr(kind) for kind in KINDS)}")
    epochs = checked_int("epochs", epochs)
    batch_size = checked_int("batch_size", batch_size)
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr!r}")
    threads = checked_int("threads", threads)
    x_train, y_train = first_symbol_task(n_train, length, symbols, distractors, seed=seed)
    x_test, y_test = first_symbol_task(n_test, length, symbols, distractors, seed=seed + 1)
    with torch_threads(threads):
        return _train(kinds, x_train, y_train, x_test, y_test, hidden_size, epochs, batch_size, lr, keep_bias,
                      symbols, seed, progress)


def _train(kinds: Sequence[str], x_train: torch.Tensor, y_train: torch.Tensor, x_test: torch.Tensor,
           y_test: torch.Tensor, hidden_size: int, epochs: int, batch_size: int, lr: float, keep_bias: float,
           symbols: int, seed: int, progress: bool) -> dict[str, SequenceRun]:
    runs: dict[str, SequenceRun] = {}
    for kind in kinds:
        torch.manual_seed(seed)
        model = SequenceClassifier(kind, x_train.shape[-1], hidden_size, symbols, keep_bias=keep_bias)
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        losses, accuracies = [], []
        with Stopwatch() as watch:
            for _ in progress_range(epochs, desc=LABELS[kind], progress=progress):
                losses.append(train_epoch(model, optimizer, x_train, y_train, batch_size))
                accuracies.append(accuracy(model, x_test, y_test))
        runs[kind] = SequenceRun(kind, losses, accuracies, watch.seconds, sum(p.numel() for p in model.parameters()))
    return runs


# ---- figures ---------------------------------------------------------------------------------

@inline_figure
def sequence_curves_figure(runs: Mapping[str, Sequence[SequenceRun]], chance: float | None = None) -> Figure:
    """Training loss (left) and test accuracy in per cent (right) per epoch, one thin line per seed.

    ``runs`` maps a kind to its runs, one per seed; every seed of a kind has the kind's colour,
    so a kind that learns on some seeds and not on others shows both.

    >>> runs = [SequenceRun("rnn", [1.4, 1.3], [0.25, 0.3], 0.1, 10),
    ...         SequenceRun("rnn", [1.4, 1.4], [0.2, 0.2], 0.1, 10)]
    >>> fig = sequence_curves_figure({"rnn": runs}, chance=0.25)
    >>> [(a.get_xlabel(), a.get_ylabel()) for a in fig.axes], len(fig.axes[0].lines)
    ([('epoch', 'training loss (cross-entropy)'), ('epoch', 'test accuracy (%)')], 2)
    """
    if not runs or not all(runs.values()):
        raise ValueError("sequence_curves_figure needs at least one run of each kind")
    fig, left, right = two_panel_figure("epoch", ("training loss (cross-entropy)", "test accuracy (%)"))
    for kind, seeds in runs.items():
        for index, run in enumerate(seeds):
            epochs = range(1, len(run.train_loss) + 1)
            style = dict(color=COLOURS.get(kind), linewidth=1.4, alpha=0.8,
                         label=f"{LABELS.get(kind, kind)} ({len(seeds)} seeds)" if index == 0 else None)
            left.plot(epochs, run.train_loss, **style)
            right.plot(epochs, [100 * a for a in run.test_accuracy], **style)
    if chance is not None:
        right.axhline(100 * chance, color="grey", linestyle="--", linewidth=1, label="chance")
    right.set_ylim(0, 105)
    right.legend(loc="center right", fontsize=8)
    fig.tight_layout()
    return fig


@inline_figure
def gradient_norms_figure(norms: Mapping[str, Sequence[float]]) -> Figure:
    """||dh_T / dh_t|| against the distance T - t, log y axis, one curve per label.

    Each sequence of norms is indexed by t = 0..T (as ``gradient_norms_through_time`` returns
    them), so the last entry, 1, is at distance 0.

    >>> fig = gradient_norms_figure({"a = 0.5": [0.25, 0.5, 1.0]})
    >>> ax = fig.axes[0]
    >>> ax.get_yscale(), ax.get_xlabel(), [int(d) for d in ax.lines[0].get_xdata()]
    ('log', 'distance T - t (time steps)', [2, 1, 0])
    """
    if not norms:
        raise ValueError("gradient_norms_figure needs at least one curve")
    fig = Figure(figsize=(6.4, 3.8))
    ax = fig.subplots()
    for label, values in norms.items():
        values = [float(v) for v in values]
        ax.plot(list(range(len(values) - 1, -1, -1)), values, linewidth=2, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("distance T - t (time steps)")
    ax.set_ylabel(r"$\|\partial h_T / \partial h_t\|$")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig


def _box(ax, x: float, y: float, text: str, width: float = 0.8, height: float = 0.5, colour: str = "#dde8f5",
         fontsize: int = 10) -> None:
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                boxstyle="round,pad=0.04", facecolor=colour, edgecolor="black"))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)


def _arrow(ax, start: tuple[float, float], end: tuple[float, float], text: str = "", colour: str = "black",
           offset: tuple[float, float] = (0.0, 0.0), style: str = "-|>", connection: str = "arc3") -> None:
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=12, color=colour,
                                 linewidth=1.3, connectionstyle=connection))
    if text:
        ax.text((start[0] + end[0]) / 2 + offset[0], (start[1] + end[1]) / 2 + offset[1], text,
                ha="center", va="center", fontsize=10, color=colour)


@inline_figure
def unrolled_rnn_figure(steps: int = 4) -> Figure:
    """The recurrence folded (left) and unrolled over ``steps`` time steps (right), with the
    shared matrices U (input), W (recurrent) and V (output) on every step.

    >>> fig = unrolled_rnn_figure(3)
    >>> sum("s_{2}" in t.get_text() for t in fig.axes[0].texts)
    1
    """
    steps = checked_int("steps", steps)
    fig = Figure(figsize=(2.2 + 1.8 * steps, 3.6))
    ax = fig.subplots()
    # folded: one cell with a loop on itself
    _box(ax, 0, 1, "$s$")
    _box(ax, 0, 0, "$x$", colour="#f2f2f2")
    _box(ax, 0, 2, "$o$", colour="#fbe3d6")
    _arrow(ax, (0, 0.25), (0, 0.75), "U", offset=(0.15, 0))
    _arrow(ax, (0, 1.25), (0, 1.75), "V", offset=(0.15, 0))
    _arrow(ax, (0.4, 1.1), (0.4, 0.9), "W", offset=(0.45, 0), connection="arc3,rad=-2.5")
    ax.text(1.2, 1, "=", fontsize=18, ha="center", va="center")
    # unrolled
    first = 1.9
    _box(ax, first - 0.25, 1, "$s_{-1}=0$", width=0.9, colour="#ffffff", fontsize=9)
    for t in range(steps):
        x = first + 1.25 + 1.6 * t
        _box(ax, x, 1, f"$s_{{{t}}}$")
        _box(ax, x, 0, f"$x_{{{t}}}$", colour="#f2f2f2")
        _box(ax, x, 2, f"$o_{{{t}}}$", colour="#fbe3d6")
        _arrow(ax, (x, 0.25), (x, 0.75), "U", offset=(0.15, 0))
        _arrow(ax, (x, 1.25), (x, 1.75), "V", offset=(0.15, 0))
        previous = first + 0.2 if t == 0 else x - 1.6 + 0.4
        _arrow(ax, (previous, 1), (x - 0.4, 1), "W", offset=(0, 0.15))
    ax.set_xlim(-0.6, first + 1.25 + 1.6 * (steps - 1) + 0.6)
    ax.set_ylim(-0.45, 2.45)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.tight_layout()
    return fig


@inline_figure
def lstm_cell_figure() -> Figure:
    """One LSTM step drawn as boxes and arrows: the gates f, i, o and the candidate g read
    [h_{t-1}, x_t]; the cell state c runs along the top, scaled by f and added to i * g; the
    new hidden state is o * tanh(c_t).

    >>> fig = lstm_cell_figure()
    >>> texts = {t.get_text() for t in fig.axes[0].texts}
    >>> {"forget gate f", "input gate i", "output gate o"} <= texts
    True
    """
    fig = Figure(figsize=(8.4, 4.4))
    ax = fig.subplots()
    ax.add_patch(FancyBboxPatch((0.6, 0.4), 7.0, 3.3, boxstyle="round,pad=0.05", facecolor="#f7f7f7",
                                edgecolor="grey"))
    top, bottom = 3.3, 0.0
    # cell state along the top
    ax.text(-0.05, top, "$c_{t-1}$", ha="right", va="center", fontsize=12)
    ax.text(8.25, top, "$c_t$", ha="left", va="center", fontsize=12)
    _box(ax, 2.2, top, r"$\times$", width=0.45, height=0.45, colour="#ffe9a8")
    _box(ax, 4.0, top, "$+$", width=0.45, height=0.45, colour="#ffe9a8")
    _arrow(ax, (0.0, top), (1.97, top))
    _arrow(ax, (2.43, top), (3.77, top))
    _arrow(ax, (4.23, top), (8.2, top))
    # the inputs, concatenated along the bottom
    ax.text(-0.05, bottom + 0.9, "$h_{t-1}$", ha="right", va="center", fontsize=12)
    ax.text(1.0, bottom - 0.35, "$x_t$", ha="center", va="top", fontsize=12)
    _arrow(ax, (0.0, 0.9), (6.0, 0.9), style="-")
    _arrow(ax, (1.0, bottom - 0.3), (1.0, 0.9), style="-")
    gates = [(2.2, r"$\sigma$", "forget gate f"), (3.4, r"$\sigma$", "input gate i"),
             (4.6, "tanh", "candidate g"), (6.0, r"$\sigma$", "output gate o")]
    for x, symbol, name in gates:
        _box(ax, x, 1.7, symbol, width=0.7, height=0.45, colour="#dde8f5")
        _arrow(ax, (x, 0.9), (x, 1.47))
        ax.text(x, 1.25, name, ha="center", va="center", fontsize=8,
                bbox=dict(facecolor="#f7f7f7", edgecolor="none", pad=0.5))
    _arrow(ax, (2.2, 1.93), (2.2, top - 0.23))                          # f scales c_{t-1}
    _box(ax, 4.0, 2.45, r"$\times$", width=0.45, height=0.45, colour="#ffe9a8")
    _arrow(ax, (3.4, 1.93), (3.8, 2.3))                                 # i
    _arrow(ax, (4.6, 1.93), (4.2, 2.3))                                 # g
    _arrow(ax, (4.0, 2.68), (4.0, top - 0.23))                          # i * g joins the sum
    # output: h_t = o * tanh(c_t)
    _box(ax, 7.0, 2.6, "tanh", width=0.65, height=0.4, colour="#dde8f5")
    _arrow(ax, (7.0, top), (7.0, 2.8))
    _box(ax, 7.0, 1.7, r"$\times$", width=0.45, height=0.45, colour="#ffe9a8")
    _arrow(ax, (7.0, 2.4), (7.0, 1.93))
    _arrow(ax, (6.35, 1.7), (6.77, 1.7))
    _arrow(ax, (7.23, 1.7), (8.2, 1.7))
    ax.text(8.25, 1.7, "$h_t$", ha="left", va="center", fontsize=12)
    ax.text(4.95, top + 0.55, r"$c_t = f \odot c_{t-1} + i \odot g$", ha="left", va="bottom", fontsize=10)
    ax.text(7.3, 2.2, r"$h_t = o \odot \tanh(c_t)$", ha="left", va="center", fontsize=10)
    ax.set_xlim(-0.9, 9.6)
    ax.set_ylim(-0.8, 4.4)
    ax.set_aspect("equal")
    ax.axis("off")
    fig.tight_layout()
    return fig


__all__ = ["KINDS", "SequenceClassifier", "SequenceRun", "first_symbol_task",
           "gradient_norms_figure", "lstm_cell_figure", "sequence_curves_figure", "train_sequence_models",
           "unrolled_rnn_figure"]
