"""A small GPT trained on a language generated in code, whose rules the chapter states.

The language (``sentence``, ``corpus``) has three rules, so we can tell a grammatical sentence
from an ungrammatical one (``is_grammatical``) and measure how much of the grammar a model has
learnt from its samples (``grammatical_share``):

1. word order: a sentence is  determiner noun verb determiner noun ".", one space between words,
   one space between sentences;
2. a determiner agrees with its noun: "a" and "one" go with a singular noun, "two" and "some"
   with a plural one, "the" with either;
3. the verb agrees with the subject (the first noun): "sees" after a singular subject, "see"
   after a plural one.

Rule 3 links words several characters apart ("the cats near..." is not in the language, but
"the cats chase a dog" is), and with "the" the only sign of the number is the "s" at the end of
the noun, which a character-level model has to find by looking back: attention's job.

Text is tokenised by character (``CharTokenizer``); the model is ``dlcourse.models.GPT``,
trained with teacher forcing (``train_language_model``: predict every next character of a
window of real text at once, under the causal mask) and sampled one character at a time
(``GPT.generate``).

>>> corpus(3, seed=0)
'one cat likes one frog. one frog likes a duck. two cats follow the hen.'
>>> [is_grammatical(s) for s in ["a cat sees the dogs.", "a cats see the dog.", "two dog sees a cat."]]
[True, False, False]
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure

from dlcourse.display.inline_figures import inline_figure
from dlcourse.display.plots import two_panel_figure
from dlcourse.models.transformer import GPT

NOUNS = ("cat", "dog", "bird", "frog", "duck", "hen")
VERBS = ("see", "chase", "like", "hear", "follow")
SINGULAR_DETERMINERS = ("a", "one", "the")
PLURAL_DETERMINERS = ("two", "some", "the")


def noun_phrase(rng: random.Random) -> tuple[str, bool]:
    """A determiner and a noun that agree, and whether the noun is plural."""
    plural = rng.random() < 0.5
    determiner = rng.choice(PLURAL_DETERMINERS if plural else SINGULAR_DETERMINERS)
    noun = rng.choice(NOUNS) + ("s" if plural else "")
    return f"{determiner} {noun}", plural


def sentence(rng: random.Random) -> str:
    """One sentence of the language: subject, verb agreeing with it, object, full stop.

    >>> sentence(random.Random(1))
    'two birds see some frogs.'
    """
    subject, plural = noun_phrase(rng)
    verb = rng.choice(VERBS) + ("" if plural else "s")
    obj, _ = noun_phrase(rng)
    return f"{subject} {verb} {obj}."


def corpus(sentences: int, seed: int = 0) -> str:
    """``sentences`` sentences of the language drawn with ``seed``, separated by one space."""
    if sentences < 1:
        raise ValueError(f"sentences must be at least 1, got {sentences}")
    rng = random.Random(seed)
    return " ".join(sentence(rng) for _ in range(sentences))


def is_grammatical(text: str) -> bool:
    """Whether ``text`` is one sentence of the language (all three rules, full stop included).

    >>> is_grammatical("some hens follow a duck."), is_grammatical("some hens follows a duck.")
    (True, False)
    """
    if not text.endswith("."):
        return False
    words = text[:-1].split(" ")
    if len(words) != 5:
        return False
    determiner, noun, verb, object_determiner, obj = words
    return (_agrees(determiner, noun) and _agrees(object_determiner, obj)
            and (verb in VERBS if noun.endswith("s") else verb[:-1] in VERBS and verb.endswith("s")))


def _agrees(determiner: str, noun: str) -> bool:
    """Rule 2 for one noun phrase (and the noun is a noun of the language)."""
    if noun in NOUNS:
        return determiner in SINGULAR_DETERMINERS
    return noun.endswith("s") and noun[:-1] in NOUNS and determiner in PLURAL_DETERMINERS


def grammatical_share(text: str) -> tuple[float, int]:
    """The share of the complete sentences of ``text`` that are grammatical, and how many there are.

    A sample starts and stops anywhere: the words before the first full stop (an unfinished
    sentence's end) and after the last one (one not yet finished) are left out.

    >>> grammatical_share("dog. a cat sees a dog. two cats sees a dog. the ow")
    (0.5, 2)
    """
    pieces = text.split(".")[1:-1]
    sentences = [piece.strip() + "." for piece in pieces if piece.strip()]
    if not sentences:
        return 0.0, 0
    return sum(map(is_grammatical, sentences)) / len(sentences), len(sentences)


def _noun_phrases() -> list[tuple[str, float]]:
    """Every noun phrase with its probability under ``noun_phrase`` (plural 1/2, then uniform choices)."""
    phrases = []
    for plural, determiners in ((False, SINGULAR_DETERMINERS), (True, PLURAL_DETERMINERS)):
        for determiner in determiners:
            for noun in NOUNS:
                phrases.append((f"{determiner} {noun}{'s' if plural else ''}",
                                0.5 / len(determiners) / len(NOUNS)))
    return phrases


def sentence_entropy() -> float:
    """The entropy of one sentence in nats: three independent uniform choices (subject phrase, 36:
    number, determiner and noun; verb, 5, its ending set by the subject; object phrase, 36), and every choice
    gives a different string.

    >>> round(sentence_entropy(), 6) == round(2 * math.log(36) + math.log(5), 6)
    True
    """
    phrases = _noun_phrases()
    return 2 * -sum(p * math.log(p) for _, p in phrases) + math.log(len(VERBS))


def mean_sentence_length() -> float:
    """The mean number of characters of a sentence with the space after it.

    >>> round(mean_sentence_length(), 4)    # 2 x 7.8333 (noun phrases) + 4.9 (verb) + 4 (3 spaces, ". ")
    24.5667
    """
    phrase_length = sum(p * len(text) for text, p in _noun_phrases())
    verb_length = float(np.mean([len(v) for v in VERBS])) + 0.5          # "s" after half of the subjects
    return 2 * phrase_length + verb_length + 4


def entropy_per_character() -> float:
    """The entropy of the language in nats per character: the lowest mean cross-entropy any model
    can reach on long text of it. Over a long text each sentence takes ``mean_sentence_length``
    characters, so the text carries ``sentence_entropy / mean_sentence_length`` nats per character.

    >>> round(entropy_per_character(), 4)
    0.3573
    """
    return sentence_entropy() / mean_sentence_length()


@dataclass(frozen=True)
class CharTokenizer:
    """Character-level tokenisation: one token per distinct character of a text, sorted.

    >>> tokens = CharTokenizer.fit("a cat.")
    >>> tokens.alphabet, tokens.encode("cat"), tokens.decode([3, 2, 4, 1])
    (' .act', [3, 2, 4], 'cat.')
    """

    alphabet: str

    @classmethod
    def fit(cls, text: str) -> CharTokenizer:
        return cls("".join(sorted(set(text))))

    @property
    def vocab_size(self) -> int:
        return len(self.alphabet)

    def encode(self, text: str) -> list[int]:
        unknown = sorted(set(text) - set(self.alphabet))
        if unknown:
            raise ValueError(f"characters {unknown} are not in the alphabet {self.alphabet!r}")
        return [self.alphabet.index(c) for c in text]

    def decode(self, tokens: Sequence[int]) -> str:
        bad = [int(t) for t in tokens if not 0 <= int(t) < self.vocab_size]
        if bad:
            raise ValueError(f"tokens {bad} are not in 0..{self.vocab_size - 1} (the alphabet {self.alphabet!r})")
        return "".join(self.alphabet[int(t)] for t in tokens)


def windows(tokens: torch.Tensor, context: int, batch_size: int,
            generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """A mini-batch of ``batch_size`` random windows of ``context`` tokens, and the same windows moved
    one token on: the targets of teacher forcing (predict token t + 1 from tokens 0..t).

    >>> x, y = windows(torch.arange(10), 4, 2, torch.Generator().manual_seed(0))
    >>> x.tolist(), y.tolist()
    ([[2, 3, 4, 5], [3, 4, 5, 6]], [[3, 4, 5, 6], [4, 5, 6, 7]])
    """
    starts = torch.randint(len(tokens) - context, (batch_size,), generator=generator)
    x = torch.stack([tokens[s:s + context] for s in starts.tolist()])
    y = torch.stack([tokens[s + 1:s + context + 1] for s in starts.tolist()])
    return x, y


def cross_entropy(model: GPT, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of the next-token predictions of every position of every window (nats)."""
    logits = model(x)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))


@torch.no_grad()
def evaluate(model: GPT, tokens: torch.Tensor, context: int) -> float:
    """Mean cross-entropy (nats per character) over consecutive windows that cover ``tokens``."""
    was_training = model.training
    model.eval()
    starts = range(0, len(tokens) - context - 1, context)
    x = torch.stack([tokens[s:s + context] for s in starts])
    y = torch.stack([tokens[s + 1:s + context + 1] for s in starts])
    loss = float(cross_entropy(model, x, y))
    model.train(was_training)
    return loss


@dataclass
class LanguageModelRun:
    """One training run: the model, its tokenizer, and the losses measured along the way."""

    model: GPT
    tokenizer: CharTokenizer
    steps: list[int]
    train_loss: list[float]
    validation_loss: list[float]
    seconds: float
    samples_before: str = ""


def train_language_model(train_text: str, validation_text: str, steps: int = 300, context: int = 64,
                         n_layers: int = 2, d_model: int = 64, n_heads: int = 4, norm_first: bool = True,
                         batch_size: int = 32, lr: float = 3e-3, warmup: int = 0, eval_every: int = 25, seed: int = 0,
                         progress: bool = True) -> LanguageModelRun:
    """Train a ``GPT`` on ``train_text`` by next-character prediction with AdamW, on one thread.

    Every ``eval_every`` steps records the mean training loss of those steps and the validation
    loss. Deterministic for a seed (initial weights, windows and the sample drawn before training).
    """
    from dlcourse.display.notebook import progress_range
    from dlcourse.hardware.device import torch_threads
    from dlcourse.hardware.timing import Stopwatch

    if steps < 1 or eval_every < 1:
        raise ValueError(f"steps and eval_every must be at least 1, got {steps} and {eval_every}")
    tokenizer = CharTokenizer.fit(train_text + validation_text)
    train_tokens = torch.tensor(tokenizer.encode(train_text))
    validation_tokens = torch.tensor(tokenizer.encode(validation_text))
    with torch_threads(1):
        torch.manual_seed(seed)
        generator = torch.Generator().manual_seed(seed)
        model = GPT(tokenizer.vocab_size, context, n_layers, d_model, n_heads, norm_first=norm_first)
        before = sample(model, tokenizer, "the ", 120, seed=seed)
        optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: learning_rate_factor(step, steps, warmup))
        run = LanguageModelRun(model, tokenizer, [0], [evaluate(model, train_tokens[:20 * context], context)],
                               [evaluate(model, validation_tokens, context)], 0.0, before)
        name = "pre-LN" if norm_first else "post-LN"
        recent: list[float] = []
        with Stopwatch() as watch:
            for step in progress_range(steps, desc=f"{name} seed {seed}", unit="step", progress=progress):
                x, y = windows(train_tokens, context, batch_size, generator)
                loss = cross_entropy(model, x, y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                schedule.step()
                recent.append(loss.item())
                if (step + 1) % eval_every == 0:
                    run.steps.append(step + 1)
                    run.train_loss.append(float(np.mean(recent)))
                    run.validation_loss.append(evaluate(model, validation_tokens, context))
                    recent = []
        run.seconds = watch.seconds
    return run


def learning_rate_factor(step: int, steps: int, warmup: int) -> float:
    """The learning rate of step ``step`` as a fraction of the largest: a linear rise over the first
    ``warmup`` steps, then half a cosine down to 0 at ``steps``.

    >>> [round(learning_rate_factor(s, 10, 2), 3) for s in (0, 1, 2, 6, 10)]
    [0.5, 1.0, 1.0, 0.5, 0.0]
    """
    if step < warmup:
        return (step + 1) / warmup
    return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup)))


def samples(model: GPT, tokenizer: CharTokenizer, prompt: str, length: int, count: int = 1,
            temperature: float = 1.0, greedy: bool = False, seed: int = 0) -> list[str]:
    """``count`` texts, each ``prompt`` followed by ``length`` characters the model writes one at a time,
    drawn together as one batch with a generator seeded with ``seed``."""
    generator = torch.Generator().manual_seed(seed)
    idx = torch.tensor([tokenizer.encode(prompt)] * count)
    out = model.generate(idx, length, temperature=temperature, greedy=greedy, generator=generator)
    return [tokenizer.decode(row.tolist()) for row in out]


def sample(model: GPT, tokenizer: CharTokenizer, prompt: str, length: int, temperature: float = 1.0,
           greedy: bool = False, seed: int = 0) -> str:
    """``prompt`` followed by ``length`` characters the model writes, one at a time (seeded)."""
    return samples(model, tokenizer, prompt, length, 1, temperature, greedy, seed)[0]


def grammar_of_samples(model: GPT, tokenizer: CharTokenizer, temperature: float, count: int = 4,
                       length: int = 100, prompt: str = "the ", seed: int = 0) -> tuple[float, int]:
    """The share of grammatical sentences among the complete sentences of ``count`` samples of
    ``length`` characters after ``prompt`` (drawn together, as one batch), and how many there are.

    >>> _ = torch.manual_seed(0)
    >>> untrained = GPT(21, 32, 1, 8, 2)
    >>> grammar_of_samples(untrained, CharTokenizer.fit(corpus(100)), 1.0, count=2, length=20)[0]
    0.0
    """
    shares = [grammatical_share(text) for text in samples(model, tokenizer, prompt, length, count,
                                                          temperature, seed=seed)]
    sentences = sum(n for _, n in shares)
    return (sum(share * n for share, n in shares) / sentences if sentences else 0.0), sentences


def perplexity(loss: float) -> float:
    """Perplexity of a mean cross-entropy in nats: exp(loss), the number of equally likely
    characters the model is as unsure as.

    >>> round(perplexity(math.log(4)), 6)
    4.0
    """
    return math.exp(loss)


@torch.no_grad()
def weight_on_the_subject(model: GPT, tokenizer: CharTokenizer, sentences: int = 200,
                          seed: int = 0) -> tuple[np.ndarray, float]:
    """Where the model looks when it must decide the verb's ending.

    For sentences drawn with ``seed`` whose subject starts with "the" (so that only the noun's last
    letter tells its number), take the position of the verb's stem's last character: the model's
    prediction there is the ending, "s" or not.  Returns the mean attention weight each head puts
    on the subject noun's last letter there, an array (layers, heads), and the mean weight an even
    spread over the positions it may read would put there.

    >>> _ = torch.manual_seed(0)
    >>> model = GPT(21, 32, 1, 8, 2)
    >>> weights, even = weight_on_the_subject(model, CharTokenizer.fit(corpus(100)), sentences=20)
    >>> weights.shape, round(even, 3)
    ((1, 2), 0.077)
    """
    rng = random.Random(seed)
    on_noun, even = [], []
    for _ in range(sentences):
        text = sentence(rng)
        determiner, noun, verb = text.split(" ")[:3]
        if determiner != "the":
            continue
        noun_end = len(determiner) + len(noun)                     # index of the noun's last letter
        stem_end = noun_end + 1 + len(verb if noun.endswith("s") else verb[:-1])
        maps = model.attention_maps(torch.tensor([tokenizer.encode(text)]))     # (L, 1, H, T, T)
        on_noun.append(maps[:, 0, :, stem_end, noun_end].numpy())
        even.append(1 / (stem_end + 1))
    if not on_noun:
        raise ValueError(f"no sentence with 'the' before its subject among {sentences}: draw more")
    return np.mean(on_noun, axis=0), float(np.mean(even))


@inline_figure
def loss_curves_figure(runs: dict[str, list[LanguageModelRun]], floor: float | None = None) -> Figure:
    """Training loss (left) and validation loss (right) against the step: per named set of runs (seeds),
    the median and a band from the smallest to the largest seed; ``floor``, if given, a dashed line
    (the language's entropy).

    >>> class R:  # a stand-in for LanguageModelRun
    ...     steps, train_loss, validation_loss = [0, 10], [3.0, 1.0], [3.0, 1.2]
    >>> fig = loss_curves_figure({"pre-LN": [R(), R()]})
    >>> [ax.get_ylabel() for ax in fig.axes]
    ['training loss (nats per character)', 'validation loss (nats per character)']
    """
    if not runs:
        raise ValueError("loss_curves_figure needs at least one named set of runs")
    fig, left, right = two_panel_figure("training step", ("training loss (nats per character)",
                                                          "validation loss (nats per character)"))
    for name, seeds in runs.items():
        steps = seeds[0].steps
        for ax, values in ((left, [r.train_loss for r in seeds]), (right, [r.validation_loss for r in seeds])):
            values = np.asarray(values)
            (line,) = ax.plot(steps, np.median(values, axis=0), label=f"{name} (median of {len(seeds)} seeds)")
            ax.fill_between(steps, values.min(axis=0), values.max(axis=0), color=line.get_color(), alpha=0.25)
    for ax in (left, right):
        if floor is not None:
            ax.axhline(floor, color="black", linestyle="--", linewidth=1, label="entropy of the language")
        ax.set_yscale("log")
        ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    return fig


@inline_figure
def attention_maps_figure(maps: torch.Tensor, text: str, layer: int = 0) -> Figure:
    """One heat map per head of layer ``layer``: row t is the weight that position t puts on
    each earlier position (columns) of ``text``; above the diagonal the causal mask makes it 0.

    ``maps`` is ``GPT.attention_maps``' (layers, 1, heads, T, T) for the characters of ``text``.

    >>> maps = torch.tril(torch.ones(1, 1, 2, 3, 3)) / torch.arange(1, 4).view(3, 1)
    >>> fig = attention_maps_figure(maps, "a b")
    >>> len(fig.axes[0].get_xticklabels()), fig.axes[0].get_title()
    (3, 'head 1')
    """
    maps = torch.as_tensor(maps)
    if maps.dim() != 5 or maps.shape[1] != 1 or maps.shape[-1] != len(text) or not 0 <= layer < maps.shape[0]:
        raise ValueError(f"maps must be (layers, 1, heads, T={len(text)}, T) with layer < layers, "
                         f"got {tuple(maps.shape)} and layer {layer}")
    heads = maps.shape[2]
    labels = ["␣" if c == " " else c for c in text]
    columns = min(heads, 2)                                  # two heads a row: big enough to read
    rows = math.ceil(heads / columns)
    fig = Figure(figsize=(4.2 * columns + 0.4, 4.0 * rows))
    axes = np.atleast_1d(fig.subplots(rows, columns)).flatten()
    for ax in axes[heads:]:
        ax.remove()
    for head, ax in enumerate(axes[:heads]):
        ax.imshow(maps[layer, 0, head].numpy(), cmap="Blues", vmin=0, vmax=1)
        ax.set_xticks(range(len(text)), labels, fontsize=8)
        ax.set_yticks(range(len(text)), labels, fontsize=8)
        ax.set_title(f"head {head + 1}")
        ax.set_xlabel("attended character")
        if head % columns == 0:
            ax.set_ylabel("reading character")
    fig.tight_layout()
    return fig
