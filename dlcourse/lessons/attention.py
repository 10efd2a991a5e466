"""Sequence to sequence with and without attention, on a task generated in code.

The task (``reversal_task``): read a string of random digits, write it backwards.  The
answer is known by construction, every output digit comes from exactly one input digit
(output step t copies input position L - 1 - t), so a model that attends well draws an
anti-diagonal in its alignment heat map.

The model (``Seq2Seq``) is an encoder-decoder made of the course's own GRU
(``dlcourse.models.GRU``).  Without attention the decoder starts from the encoder's last
state and sees nothing else of the input: the whole string must pass through one vector
of ``hidden`` numbers (Sutskever et al., 2014; Cho et al., 2014).  With attention the
decoder also reads a context vector at every step, a weighted average of all encoder
states, with weights from one of the score functions of ``dlcourse.models``; this is the
global attention of Luong et al. (2015): the decoder state s_t is the query, and the output
is computed from tanh(W_c [c_t; s_t]).  Training is teacher-forced (the decoder reads the
true previous digit); testing is greedy (it reads its own previous guess).

Token numbers: 0 is padding, 1 starts the output, 2 + d is the digit d.

>>> data = reversal_task(2, min_length=3, max_length=4, seed=0)
>>> [to_text(s) for s in data.source], [to_text(t) for t in data.target]
(['5 2 3 0', '0 0 1 8'], ['0 3 2 5', '8 1 0 0'])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn

from dlcourse.display.explorers import redrawing_output
from dlcourse.display.inline_figures import inline_figure
from dlcourse.display.notebook import is_book_build
from dlcourse.display.plots import two_panel_figure
from dlcourse.models import GRU, AdditiveAttention, CosineAttention, DotProductAttention, GeneralAttention

PAD, BOS, FIRST_DIGIT = 0, 1, 2
VOCAB = FIRST_DIGIT + 10
SCORES = ("dot", "scaled", "general", "additive", "cosine")


@dataclass
class Reversal:
    """A batch of the reversal task: ``source`` and ``target`` (N, max_length), padded with 0 at the end."""

    source: torch.Tensor
    target: torch.Tensor
    lengths: torch.Tensor

    def decoder_input(self) -> torch.Tensor:
        """What the decoder reads when teacher-forced: 1 (start), then the target shifted right by one."""
        start = torch.full((len(self.target), 1), BOS, dtype=torch.long)
        return torch.cat([start, self.target[:, :-1]], dim=1)

    def labels(self) -> torch.Tensor:
        """The target with padding replaced by -100, which ``cross_entropy`` ignores."""
        return self.target.masked_fill(self.target == PAD, -100)


def reversal_task(n: int, min_length: int = 1, max_length: int = 16, seed: int = 0) -> Reversal:
    """``n`` strings of random digits, lengths uniform in [min_length, max_length], and their reversals.

    Deterministic for a seed.  Each length appears equally often in expectation.

    >>> data = reversal_task(3, 2, 2, seed=1)
    >>> data.source.shape, data.lengths.tolist()
    (torch.Size([3, 2]), [2, 2, 2])
    >>> bool((data.target == data.source.flip(1)).all())
    True
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if not 1 <= min_length <= max_length:
        raise ValueError(f"need 1 <= min_length <= max_length, got min_length={min_length}, max_length={max_length}")
    rng = np.random.default_rng(seed)
    lengths = rng.integers(min_length, max_length + 1, size=n)
    digits = rng.integers(0, 10, size=(n, max_length))
    source = np.zeros((n, max_length), dtype=np.int64)
    target = np.zeros((n, max_length), dtype=np.int64)
    for row, length in enumerate(lengths):
        source[row, :length] = FIRST_DIGIT + digits[row, :length]
        target[row, :length] = source[row, :length][::-1]
    return Reversal(torch.from_numpy(source), torch.from_numpy(target), torch.from_numpy(lengths))


def to_text(tokens: Sequence[int]) -> str:
    """Digits of a token sequence as text, padding and the start token dropped.

    >>> to_text([2, 5, 11, 0, 0])
    '0 3 9'
    """
    return " ".join(str(int(t) - FIRST_DIGIT) for t in tokens if int(t) >= FIRST_DIGIT)


def make_attention(score: str, hidden: int) -> nn.Module:
    """One of the score functions of ``dlcourse.models`` for queries and keys of size ``hidden``.

    >>> make_attention("additive", 8)
    AdditiveAttention(
      (query_projection): Linear(in_features=8, out_features=8, bias=False)
      (key_projection): Linear(in_features=8, out_features=8, bias=False)
      (score): Linear(in_features=8, out_features=1, bias=False)
    )
    """
    if score == "dot":
        return DotProductAttention()
    if score == "scaled":
        return DotProductAttention(scaled=True)
    if score == "general":
        return GeneralAttention(hidden, hidden)
    if score == "additive":
        return AdditiveAttention(hidden, hidden, hidden)
    if score == "cosine":
        return CosineAttention(beta=math.sqrt(hidden))
    raise ValueError(f"unknown score function {score!r}; known: {', '.join(SCORES)}")


class Seq2Seq(nn.Module):
    """A GRU encoder-decoder over digit tokens, with attention (``score`` given) or without (None).

    ``implementation`` picks the GRU: ``dlcourse.models.GRU`` ("dlcourse", written from
    scratch) or ``torch.nn.GRU`` ("torch": the same parameters and outputs, its loop over time
    in C++, faster to train on a CPU).

    ``forward(source, decoder_input)`` returns logits (B, Tt, VOCAB) and attention weights
    (B, Tt, Ts), or None without attention.  Padding (token 0) must come after the digits;
    it is masked, so it gets exactly zero weight.  ``temperature`` divides the scores before
    the softmax (1 for training; larger values blur the weights, smaller ones sharpen them).

    >>> model = Seq2Seq(hidden=8, score="general")
    >>> data = reversal_task(4, 2, 5, seed=0)
    >>> logits, weights = model(data.source, data.decoder_input())
    >>> logits.shape, weights.shape
    (torch.Size([4, 5, 12]), torch.Size([4, 5, 5]))
    >>> Seq2Seq(hidden=8)(data.source, data.decoder_input())[1] is None
    True
    """

    def __init__(self, hidden: int = 64, embedding: int = 16, score: str | None = None,
                 implementation: str = "dlcourse") -> None:
        super().__init__()
        if hidden < 1 or embedding < 1:
            raise ValueError(f"hidden and embedding must be positive, got {hidden} and {embedding}")
        if implementation not in ("dlcourse", "torch"):
            raise ValueError(f"implementation must be 'dlcourse' or 'torch', got {implementation!r}")
        self.hidden, self.score, self.temperature = hidden, score, 1.0
        self.source_embedding = nn.Embedding(VOCAB, embedding, padding_idx=PAD)
        self.target_embedding = nn.Embedding(VOCAB, embedding, padding_idx=PAD)
        recurrent = GRU if implementation == "dlcourse" else nn.GRU     # same parameters, same outputs
        self.encoder = recurrent(embedding, hidden, batch_first=True)
        self.decoder = recurrent(embedding, hidden, batch_first=True)
        self.attention = None if score is None else make_attention(score, hidden)
        self.combine = None if score is None else nn.Linear(2 * hidden, hidden)    # W_c [c_t; s_t]
        self.output = nn.Linear(hidden, VOCAB)

    def encode(self, source: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Encoder states (B, Ts, H), the state after each string's last digit (1, B, H), and the mask (B, Ts)."""
        if source.dim() != 2:
            raise ValueError(f"source must have shape (B, Ts), got {tuple(source.shape)}")
        mask = source != PAD
        lengths = mask.sum(dim=1)
        if not bool((lengths > 0).all()):
            raise ValueError("every source string needs at least one digit (a row is all padding)")
        if not bool((mask == (torch.arange(source.shape[1]) < lengths[:, None])).all()):
            raise ValueError("padding (token 0) must come after the digits, not between them")
        states, _ = self.encoder(self.source_embedding(source))
        last = states[torch.arange(len(source)), lengths - 1]                   # h at each string's own end
        return states, last[None], mask

    def _scores_to_weights(self, queries: torch.Tensor, states: torch.Tensor,
                           mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Context vectors and weights; the scores are divided by ``temperature`` first."""
        if self.temperature == 1.0:
            return self.attention(queries, states, states, mask)
        scores = self.attention.scores(queries, states) / self.temperature
        weights = torch.softmax(scores.masked_fill(~mask[:, None, :], -math.inf), dim=-1)
        return weights @ states, weights

    def decode(self, decoder_input: torch.Tensor, state: torch.Tensor, states: torch.Tensor,
               mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Logits for each decoder step, the decoder's last state, and the attention weights (or None)."""
        outputs, state = self.decoder(self.target_embedding(decoder_input), state)     # s_t, (B, Tt, H)
        if self.attention is None:
            return self.output(outputs), state, None
        context, weights = self._scores_to_weights(outputs, states, mask)                # c_t, a_tj
        attentional = torch.tanh(self.combine(torch.cat([context, outputs], dim=-1)))    # tanh(W_c [c_t; s_t])
        return self.output(attentional), state, weights

    def forward(self, source: torch.Tensor,
                decoder_input: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Teacher-forced logits (B, Tt, VOCAB) and attention weights (B, Tt, Ts) or None."""
        states, state, mask = self.encode(source)
        logits, _, weights = self.decode(decoder_input, state, states, mask)
        return logits, weights

    @torch.no_grad()
    def greedy(self, source: torch.Tensor, steps: int | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Decode ``steps`` tokens (default: the source's width), each step reading the previous guess.

        Returns the predicted tokens (B, steps) and the weights (B, steps, Ts) or None.
        """
        states, state, mask = self.encode(source)
        steps = source.shape[1] if steps is None else steps
        token = torch.full((len(source), 1), BOS, dtype=torch.long)
        predictions, weights = [], []
        for _ in range(steps):
            logits, state, step_weights = self.decode(token, state, states, mask)
            token = logits.argmax(dim=-1)
            predictions.append(token)
            if step_weights is not None:
                weights.append(step_weights)
        return torch.cat(predictions, dim=1), torch.cat(weights, dim=1) if weights else None


class _TeacherForced(nn.Module):
    """Wraps a Seq2Seq for ``dlcourse.training.train_epoch``: x = [source | decoder input] side by side.

    The logits come back as (B, VOCAB, Tt), the layout ``cross_entropy`` wants for sequences.
    """

    def __init__(self, model: Seq2Seq, source_width: int) -> None:
        super().__init__()
        self.model, self.width = model, source_width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits, _ = self.model(x[:, :self.width], x[:, self.width:])
        return logits.transpose(1, 2)


def accuracy_by_length(model: Seq2Seq, data: Reversal) -> dict[int, tuple[float, float]]:
    """Greedy decoding; for each source length, (digit accuracy, fraction of strings entirely right).

    A digit counts as right when it equals the target's at the same position.

    >>> torch.manual_seed(0) is not None
    True
    >>> scores = accuracy_by_length(Seq2Seq(hidden=8), reversal_task(20, 1, 3))
    >>> sorted(scores), all(0 <= d <= 1 and 0 <= s <= 1 for d, s in scores.values())
    ([1, 2, 3], True)
    """
    model.eval()
    predicted, _ = model.greedy(data.source)
    right = (predicted == data.target) & (data.target != PAD)
    result = {}
    for length in sorted(set(data.lengths.tolist())):
        rows = data.lengths == length
        digits = right[rows].sum().item() / (rows.sum().item() * length)
        strings = (right[rows].sum(dim=1) == length).float().mean().item()
        result[length] = (digits, strings)
    return result


@dataclass
class Seq2SeqRun:
    """What ``train_reversal`` measured: the model, the mean training loss and the test digit accuracy per epoch."""

    model: Seq2Seq
    train_loss: list[float]
    test_accuracy: list[float]
    by_length: dict[int, tuple[float, float]]
    seconds: float


def train_reversal(score: str | None, train: Reversal, test: Reversal, epochs: int = 12, hidden: int = 64,
                   batch_size: int = 64, lr: float = 5e-3, seed: int = 0, progress: bool = True,
                   implementation: str = "dlcourse") -> Seq2SeqRun:
    """Train a ``Seq2Seq`` (attention ``score``, or None for none; GRU ``implementation``) with Adam on ``train``.

    Uses ``dlcourse.training.train_epoch`` (cross-entropy over the digits, padding ignored)
    and its progress bar; after each epoch records the greedy digit accuracy on ``test``.
    Deterministic for a seed; runs on one thread.
    """
    from dlcourse.display.notebook import progress_range
    from dlcourse.hardware.device import torch_threads
    from dlcourse.hardware.timing import Stopwatch
    from dlcourse.training import train_epoch

    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    with torch_threads(1):
        torch.manual_seed(seed)
        model = Seq2Seq(hidden=hidden, score=score, implementation=implementation)
        wrapped = _TeacherForced(model, train.source.shape[1])
        x = torch.cat([train.source, train.decoder_input()], dim=1)
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        losses, accuracies = [], []
        name = "no attention" if score is None else f"{score} attention"
        with Stopwatch() as watch:
            for _ in progress_range(epochs, desc=name, progress=progress):
                losses.append(train_epoch(wrapped, optimizer, x, train.labels(), batch_size))
                scores = accuracy_by_length(model, test)
                counts = [(test.lengths == length).sum().item() * length for length in scores]
                accuracies.append(sum(d * c for (d, _), c in zip(scores.values(), counts)) / sum(counts))
        return Seq2SeqRun(model, losses, accuracies, scores, watch.seconds)


def alignments(model: Seq2Seq, source: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Greedy outputs (B, Ts) and attention weights (B, Ts, Ts) of a model with attention.

    Row t of ``weights[b]`` says how much output step t read from each input position.
    """
    if model.attention is None:
        raise ValueError("this model has no attention (score=None): there are no weights to align")
    from dlcourse.hardware.device import torch_threads

    model.eval()
    with torch_threads(1):
        predicted, weights = model.greedy(source)
    return predicted, weights


def anti_diagonal_share(weights: torch.Tensor, lengths: torch.Tensor, offset: int = 0) -> tuple[float, float]:
    """For reversal, output step t copies input position L - 1 - t.  Over all real output steps:
    the mean weight on position L - 1 - t + ``offset`` (clipped to the string), and the fraction
    of steps whose largest weight is there.

    >>> flipped = torch.eye(3).flip(1)[None]          # a perfect anti-diagonal for L = 3
    >>> anti_diagonal_share(flipped, torch.tensor([3]))
    (1.0, 1.0)
    >>> anti_diagonal_share(flipped, torch.tensor([3]), offset=1)   # steps 0 and 1 read position 2
    (0.3333333432674408, 0.3333333432674408)
    """
    if weights.dim() != 3 or lengths.shape != (weights.shape[0],):
        raise ValueError(f"weights must be (B, Tt, Ts) and lengths (B,), got {tuple(weights.shape)} "
                         f"and {tuple(lengths.shape)}")
    steps = torch.arange(weights.shape[1])
    position = lengths[:, None] - 1 - steps + offset                         # L - 1 - t + offset, (B, Tt)
    position = torch.minimum(position.clamp(min=0), lengths[:, None] - 1)
    real = steps < lengths[:, None]
    on = weights.gather(2, position[..., None]).squeeze(2)
    hits = weights.argmax(dim=2) == position
    return on[real].mean().item(), hits[real].float().mean().item()


# --- figures -----------------------------------------------------------------------------------------


@inline_figure
def accuracy_by_length_figure(results: dict[str, dict[int, tuple[float, float]]]) -> Figure:
    """Digit accuracy (left) and whole-string accuracy (right) against string length, one line per model.

    >>> fig = accuracy_by_length_figure({"a": {1: (1.0, 1.0), 2: (0.5, 0.25)}})
    >>> [ax.get_xlabel() for ax in fig.axes]
    ['string length (digits)', 'string length (digits)']
    """
    if not results:
        raise ValueError("accuracy_by_length_figure needs at least one model's results")
    fig, left, right = two_panel_figure("string length (digits)", ("digits right (%)", "whole strings right (%)"))
    for name, scores in results.items():
        lengths = sorted(scores)
        left.plot(lengths, [100 * scores[n][0] for n in lengths], marker="o", markersize=3, label=name)
        right.plot(lengths, [100 * scores[n][1] for n in lengths], marker="o", markersize=3, label=name)
    for ax in (left, right):
        ax.set_ylim(-3, 103)
        ax.legend(loc="lower left")
    fig.tight_layout()
    return fig


@inline_figure
def alignment_figure(weights: torch.Tensor, source: Sequence[int], output: Sequence[int],
                     title: str = "", ax=None) -> Figure:
    """Heat map of attention weights: one row per output digit, one column per input digit.

    Only the real (non-padding) positions are drawn; each cell prints its weight when it is at least 0.1.

    >>> fig = alignment_figure(torch.eye(2), [2, 3], [2, 3])
    >>> fig.axes[0].get_xlabel(), [t.get_text() for t in fig.axes[0].get_xticklabels()]
    ('input digit (encoder position)', ['0', '1'])
    """
    source = [int(t) for t in source if int(t) != PAD]
    output = [int(t) for t in output][:len(source)]
    weights = torch.as_tensor(weights, dtype=torch.float32)
    if weights.dim() != 2 or weights.shape[0] < len(output) or weights.shape[1] < len(source):
        raise ValueError(f"weights must be (outputs, inputs) covering {len(output)} x {len(source)}, "
                         f"got {tuple(weights.shape)}")
    grid = weights[:len(output), :len(source)].numpy()
    if ax is None:
        size = 1.6 + 0.32 * len(source)
        fig = Figure(figsize=(size + 1.2, size))
        ax = fig.subplots()
    else:
        fig = ax.figure
    image = ax.imshow(grid, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(source)), [str(t - FIRST_DIGIT) for t in source])
    ax.set_yticks(range(len(output)), [str(t - FIRST_DIGIT) if t >= FIRST_DIGIT else "?" for t in output])
    ax.set_xlabel("input digit (encoder position)")
    ax.set_ylabel("output digit (decoder step)")
    if len(source) <= 12:
        for i in range(len(output)):
            for j in range(len(source)):
                if grid[i, j] >= 0.1:
                    ax.text(j, i, f"{grid[i, j]:.1f}", ha="center", va="center", fontsize=7,
                            color="white" if grid[i, j] > 0.6 else "black")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="attention weight")
    fig.tight_layout()
    return fig


def score_statistics(dims: Sequence[int], keys: int = 10, samples: int = 2000,
                     seed: int = 0) -> dict[str, list[float]]:
    """How dot-product scores grow with the dimension d, unscaled and divided by sqrt(d).

    Queries and keys have independent standard-normal entries, so q . k has variance d.
    For each d returns the standard deviation of the scores and the mean largest softmax
    weight over ``keys`` keys (1/keys = uniform, 1 = all weight on one key).

    >>> stats = score_statistics([1, 100], samples=4000)
    >>> [round(s) for s in stats["std"]], [round(s, 1) for s in stats["std_scaled"]]
    ([1, 10], [1.0, 1.0])
    """
    if keys < 2 or samples < 1 or not dims or min(dims) < 1:
        raise ValueError(f"need keys >= 2, samples >= 1 and positive dims, got {keys}, {samples}, {list(dims)}")
    generator = torch.Generator().manual_seed(seed)
    stats: dict[str, list[float]] = {"std": [], "std_scaled": [], "max_weight": [], "max_weight_scaled": []}
    for d in dims:
        q = torch.randn(samples, 1, d, generator=generator)
        k = torch.randn(samples, keys, d, generator=generator)
        scores = (q @ k.transpose(1, 2)).squeeze(1)
        for suffix, s in (("", scores), ("_scaled", scores / math.sqrt(d))):
            stats["std" + suffix].append(s.std().item())
            stats["max_weight" + suffix].append(torch.softmax(s, dim=1).max(dim=1).values.mean().item())
    return stats


def attention_macs(lengths: Sequence[int], embed_dim: int = 256, num_heads: int = 8) -> list[int]:
    """MACs of self-attention (``nn.MultiheadAttention``) over ``lengths`` tokens, counted by ``dlcourse.calc``.

    >>> attention_macs([64])      # 4 T E^2 + 2 T^2 E with T = 64, E = 256
    [18874368]
    """
    from dlcourse.calc import summarize

    if not lengths or min(lengths) < 1:
        raise ValueError(f"lengths must be positive, got {list(lengths)}")
    module = nn.MultiheadAttention(embed_dim, num_heads)
    return [summarize(module, [(t, 1, embed_dim)] * 3, need_weights=False).macs for t in lengths]


@inline_figure
def cost_figure(lengths: Sequence[int], macs: Sequence[int], embed_dim: int) -> Figure:
    """Log-log plot of attention MACs against length, with its two terms 4 T E^2 and 2 T^2 E.

    >>> fig = cost_figure([10, 100], [1e6, 1e8], 16)
    >>> fig.axes[0].get_xscale(), fig.axes[0].get_ylabel()
    ('log', 'multiply-accumulates (MACs)')
    """
    if len(lengths) != len(macs) or not lengths:
        raise ValueError(f"lengths and macs must be non-empty and equally long, got {len(lengths)} and {len(macs)}")
    t = np.asarray(lengths, dtype=float)
    fig = Figure(figsize=(6, 3.8))
    ax = fig.subplots()
    ax.loglog(t, macs, "o-", linewidth=2, label="counted by dlcourse.calc")
    ax.loglog(t, 4 * t * embed_dim ** 2, "--", label=r"projections $4TE^2$ (slope 1)")
    ax.loglog(t, 2 * t ** 2 * embed_dim, ":", linewidth=2, label=r"scores and sum $2T^2E$ (slope 2)")
    ax.set_xlabel("sequence length T (tokens)")
    ax.set_ylabel("multiply-accumulates (MACs)")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout()
    return fig


@inline_figure
def saturation_figure(dims: Sequence[int], stats: dict[str, list[float]], keys: int) -> Figure:
    """Left: the scores' standard deviation against d; right: the mean largest softmax weight.

    >>> fig = saturation_figure([1, 4], score_statistics([1, 4], samples=10), keys=10)
    >>> [ax.get_xlabel() for ax in fig.axes]
    ['dimension d', 'dimension d']
    """
    fig, left, right = two_panel_figure("dimension d", ("standard deviation of the scores",
                                                        f"mean largest weight of {keys}"))
    left.plot(dims, stats["std"], "o-", label=r"$q \cdot k$")
    left.plot(dims, stats["std_scaled"], "s-", label=r"$q \cdot k / \sqrt{d}$")
    left.plot(dims, np.sqrt(dims), ":", color="grey", label=r"$\sqrt{d}$")
    left.set_xscale("log", base=2)
    left.set_yscale("log", base=2)
    right.plot(dims, stats["max_weight"], "o-", label="unscaled")
    right.plot(dims, stats["max_weight_scaled"], "s-", label="scaled")
    right.axhline(1 / keys, color="grey", linestyle=":", label=f"uniform (1/{keys})")
    right.set_xscale("log", base=2)
    right.set_ylim(0, 1.05)
    for ax in (left, right):
        ax.legend()
    fig.tight_layout()
    return fig


@inline_figure
def attention_weights_figure(model: Seq2Seq, source: torch.Tensor, example: int = 0,
                             temperature: float = 1.0) -> Figure:
    """The heat map of one string of ``source`` as ``model`` decodes it, scores divided by ``temperature``.

    The title gives the input, the greedy output and how many digits are right.

    >>> torch.manual_seed(0) is not None
    True
    >>> fig = attention_weights_figure(Seq2Seq(hidden=8, score="dot"), reversal_task(3, 2, 4).source, 1)
    >>> fig.axes[0].get_title().startswith("in 0 1 8")
    True
    """
    if model.attention is None:
        raise ValueError("this model has no attention (score=None): there are no weights to show")
    if not 0 <= example < len(source):
        raise ValueError(f"example must be in [0, {len(source) - 1}], got {example}")
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    row = source[example:example + 1]
    row = row[:, :int((row != PAD).sum())]                  # the string alone, without padding
    kept, model.temperature = model.temperature, temperature
    try:
        predicted, weights = alignments(model, row)
    finally:
        model.temperature = kept
    right = int((predicted[0] == row[0].flip(0)).sum())
    title = (f"in {to_text(row[0])} -> out {to_text(predicted[0])}\n"
             f"{right} of {row.shape[1]} digits right, temperature {temperature:g}")
    return alignment_figure(weights[0], row[0].tolist(), predicted[0].tolist(), title=title)


def attention_explorer(model: Any, source: Any, example: int = 0, temperature: float = 1.0) -> Any:
    """Pick a string of ``source`` and a softmax temperature; see ``model``'s attention weights as a heat map.

    ``model`` is a ``dlcourse.lessons.attention.Seq2Seq`` with attention.  Temperatures above 1 blur the
    weights, below 1 sharpen them.  Returns an ipywidgets box in Jupyter, or the default
    figure when the book is built.
    """
    from functools import partial

    from dlcourse.lessons.attention import attention_weights_figure

    draw = partial(attention_weights_figure, model, source)
    if is_book_build():
        return draw(example, temperature)
    import ipywidgets

    draw(example, temperature)   # refuse a bad default here, as the static build would
    controls = {
        "example": ipywidgets.IntSlider(value=example, min=0, max=len(source) - 1, description="test string"),
        "temperature": ipywidgets.FloatLogSlider(value=temperature, base=10, min=-1, max=1, step=0.1,
                                                 description="temperature"),
    }
    output = redrawing_output(controls, draw)
    return ipywidgets.VBox([ipywidgets.HBox(list(controls.values())), output])
