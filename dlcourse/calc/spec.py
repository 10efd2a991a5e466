"""A short text form for layers, used by the ``dlcourse-calc`` command line.

One layer per string; words are separated by spaces::

    conv 16 k7 p1 relu      Conv2d(16, 7, padding=1, activation="relu")
    conv 32 k3x5 s2 d2 g4 nobias
    maxpool 3 s2            MaxPool2d(3, stride=2)       (also: avgpool; add "ceil")
    gap                     GlobalAvgPool2d()
    flatten                 Flatten()
    fc 4096 tanh            Linear(4096, activation="tanh")   (also: linear)
    bn | dropout 0.5 | relu | tanh | sigmoid | softmax
    lstm 256 l2 bi          LSTM(256, num_layers=2, bidirectional=True)   (also: rnn, gru)
    mha 256 h8              MultiheadAttention(256, 8)

Sizes: ``k3`` or ``k3x5`` (height x width); likewise ``s``, ``p`` and ``d``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from dlcourse.calc import layers

_OPTION = re.compile(r"^([a-z]+)(\d+(?:x\d+)?)$")


class SpecError(ValueError):
    """A layer string that cannot be read; ``token`` is the offending word."""

    def __init__(self, spec: str, token: str, message: str) -> None:
        super().__init__(f"in '{spec}': {message}")
        self.spec, self.token = spec, token


def parse_shape(text: str) -> tuple[int, ...]:
    """Read a per-sample shape such as ``3x128x128``, ``100x128`` or ``784``.

    >>> parse_shape("3x128x128")
    (3, 128, 128)
    """
    parts = text.lower().split("x")
    if not 1 <= len(parts) <= 3 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise ValueError(
            f"input shape '{text}' should be positive sizes joined by x: "
            "CxHxW (3x128x128), LENxFEATURES (100x128) or FEATURES (784)"
        )
    return tuple(int(p) for p in parts)


def parse_layer(spec: str) -> layers.Layer:
    """Turn one layer string into a layer spec.

    >>> parse_layer("conv 16 k7 p1 relu")
    Conv2d(16, k=7, p=1)+relu
    >>> parse_layer("maxpool 3 s2")
    MaxPool2d(3, s=2)
    >>> parse_layer("maxpool 2")
    MaxPool2d(2, s=2)
    >>> parse_layer("fc 2 softmax")
    Linear(2)+softmax
    """
    words = spec.lower().split()
    if not words:
        raise SpecError(spec, "", "empty layer")
    kind, rest = words[0], words[1:]
    builder = _BUILDERS.get(kind)
    if builder is None:
        raise SpecError(spec, kind, f"unknown layer '{kind}' (known: {', '.join(sorted(_BUILDERS))})")
    try:
        return builder(spec, rest)
    except SpecError:
        raise
    except ValueError as error:
        raise SpecError(spec, kind, str(error)) from None


def _number(spec: str, words: list[str], what: str) -> int:
    if not words or not words[0].isdigit():
        got = f"'{words[0]}'" if words else "nothing"
        raise SpecError(spec, words[0] if words else "", f"expected {what} (a whole number), got {got}")
    return int(words.pop(0))


def _size(value: str) -> object:
    parts = [int(v) for v in value.split("x")]
    return parts[0] if len(parts) == 1 else (parts[0], parts[1])


def _options(spec: str, words: list[str], sized: dict[str, str], flags: dict[str, str]) -> dict[str, object]:
    """Read words like ``s2`` (sized options) and ``relu`` (flags) into keyword arguments."""
    found: dict[str, object] = {}
    for word in words:
        if word in flags:
            key, _, value = flags[word].partition("=")
            found[key] = {"True": True, "False": False}.get(value, value)
            continue
        match = _OPTION.match(word)
        if match and match.group(1) in sized:
            found[sized[match.group(1)]] = _size(match.group(2))
            continue
        expected = ", ".join([f"{k}N" for k in sized] + list(flags))
        raise SpecError(spec, word, f"unknown option '{word}' (expected {expected or 'nothing'})")
    return found


_ACTIVATION_FLAGS = {name: f"activation={name}" for name in layers.ACTIVATIONS}


def _conv(spec: str, words: list[str]) -> layers.Layer:
    out = _number(spec, words, "the number of filters")
    sized = {"k": "kernel_size", "s": "stride", "p": "padding", "d": "dilation", "g": "groups"}
    options = _options(spec, words, sized, {"nobias": "bias=False", **_ACTIVATION_FLAGS})
    if "kernel_size" not in options:
        raise SpecError(spec, "", "missing kernel size, e.g. k3 or k3x5")
    return layers.Conv2d(out, **options)  # type: ignore[arg-type]


def _pool(layer: Callable[..., layers.Layer]) -> Callable[[str, list[str]], layers.Layer]:
    def build(spec: str, words: list[str]) -> layers.Layer:
        kernel: object | None = None
        if words and re.fullmatch(r"\d+(x\d+)?", words[0]):
            kernel = _size(words.pop(0))
        options = _options(spec, words, {"k": "kernel_size", "s": "stride", "p": "padding"}, {"ceil": "ceil_mode=True"})
        if kernel is not None:
            options["kernel_size"] = kernel
        if "kernel_size" not in options:
            raise SpecError(spec, "", "missing pooling size, e.g. 'maxpool 2' or 'maxpool 3 s2'")
        return layer(**options)

    return build


def _linear(spec: str, words: list[str]) -> layers.Layer:
    out = _number(spec, words, "the number of units")
    return layers.Linear(out, **_options(spec, words, {}, {"nobias": "bias=False", **_ACTIVATION_FLAGS}))  # type: ignore[arg-type]


def _recurrent(layer: Callable[..., layers.Layer]) -> Callable[[str, list[str]], layers.Layer]:
    def build(spec: str, words: list[str]) -> layers.Layer:
        hidden = _number(spec, words, "the hidden size")
        flags = {"bi": "bidirectional=True", "nobias": "bias=False"}
        return layer(hidden, **_options(spec, words, {"l": "num_layers"}, flags))

    return build


def _attention(spec: str, words: list[str]) -> layers.Layer:
    embed = _number(spec, words, "the embedding size")
    options = _options(spec, words, {"h": "num_heads"}, {})
    return layers.MultiheadAttention(embed, options.get("num_heads", 1))  # type: ignore[arg-type]


def _dropout(spec: str, words: list[str]) -> layers.Layer:
    if len(words) > 1:
        raise SpecError(spec, words[1], f"unexpected '{words[1]}' after the dropout probability")
    if not words:
        return layers.Dropout()
    try:
        return layers.Dropout(float(words[0]))
    except ValueError:
        raise SpecError(spec, words[0], f"dropout probability must be a number in [0, 1), got '{words[0]}'") from None


def _plain(layer: Callable[[], layers.Layer]) -> Callable[[str, list[str]], layers.Layer]:
    def build(spec: str, words: list[str]) -> layers.Layer:
        if words:
            raise SpecError(spec, words[0], f"'{spec.split()[0]}' takes no options, got '{words[0]}'")
        return layer()

    return build


def parse_size(spec: str) -> dict[str, object]:
    """Read ``N kK [sS] [pP] [dD] [ceil]``, one axis of a window, into ``conv_output_size``'s arguments.

    The same words as a layer's options (``k``, ``s``, ``p``, ``d``, ``ceil``), read by the
    same code.

    >>> parse_size("57 k2 s2 p2")
    {'size': 57, 'kernel_size': 2, 'stride': 2, 'padding': 2}
    """
    words = spec.lower().split()
    size = _number(spec, words, "the input size")
    sized = {"k": "kernel_size", "s": "stride", "p": "padding", "d": "dilation"}
    options = _options(spec, words, sized, {"ceil": "ceil_mode=True"})
    if "kernel_size" not in options:
        raise SpecError(spec, "", "missing kernel size kN, e.g. 57 k2 s2 p2")
    for key, value in options.items():
        if isinstance(value, tuple):
            raise SpecError(spec, key, f"one axis at a time: give {key} as one number, not {value[0]}x{value[1]}")
    return {"size": size, **options}


_BUILDERS: dict[str, Callable[[str, list[str]], layers.Layer]] = {
    "conv": _conv,
    "maxpool": _pool(layers.MaxPool2d),
    "avgpool": _pool(layers.AvgPool2d),
    "gap": _plain(layers.GlobalAvgPool2d),
    "flatten": _plain(layers.Flatten),
    "fc": _linear,
    "linear": _linear,
    "bn": _plain(layers.BatchNorm2d),
    "dropout": _dropout,
    "relu": _plain(layers.ReLU),
    "tanh": _plain(layers.Tanh),
    "sigmoid": _plain(layers.Sigmoid),
    "softmax": _plain(layers.Softmax),
    "rnn": _recurrent(layers.RNN),
    "lstm": _recurrent(layers.LSTM),
    "gru": _recurrent(layers.GRU),
    "mha": _attention,
}
