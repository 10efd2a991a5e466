"""``dlcourse-calc``: shapes, parameters, MACs and memory of a network typed on the command line.

Whatever goes wrong is said the package's one way (``dlcourse.command_line``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from dlcourse.calc.network import Network
from dlcourse.calc.report import batch_totals, format_table
from dlcourse.calc.sizes import conv_output_size
from dlcourse.calc.spec import SpecError, parse_layer, parse_shape, parse_size
from dlcourse.calc.torch_network import to_torch
from dlcourse.calc.training_memory import OPTIMIZER_STATE_BUFFERS, format_training_memory, training_memory
from dlcourse.command_line import CommandLine

EXAMPLES = """\
examples:
  the worked exam's network (input 3x128x128):
    dlcourse-calc --input 3x128x128 "conv 16 k7 p1 relu" "maxpool 3 s2" \\
        "conv 48 k5 relu" "avgpool 2 s2 p2" flatten "fc 4096 tanh" "fc 2 softmax"
  the same for a mini-batch of 64, as JSON:
    dlcourse-calc --input 3x128x128 --batch 64 --json "conv 16 k7 p1 relu" ...
  layers from a file (one per line, # starts a comment, "input 3x128x128" allowed):
    dlcourse-calc --file net.txt
  the memory of one training step with Adam (parameters, gradients, state, saved activations):
    dlcourse-calc --input 3x128x128 --batch 64 --train adam "conv 16 k7 p1 relu" ...
  one output size (size, then kN sN pN dN, and ceil for PyTorch's ceil_mode):
    dlcourse-calc size 57 k2 s2 p2          -> 30

layers: conv N kK [sS] [pP] [dD] [gG] [nobias] [relu|tanh|sigmoid|softmax]
        maxpool K [sS] [pP] [ceil] | avgpool K ... | gap | flatten
        fc N [nobias] [activation] | bn | dropout [P] | relu | tanh | sigmoid | softmax
        rnn|lstm|gru H [lL] [bi] [nobias] | mha E [hH]
sizes may be KxK pairs: k3x5. MACs exclude bias additions; FLOPs = 2 x MACs.
"""


class UsageError(ValueError):
    """A mistake on the command line (a bad input), reported in one line with exit status 2."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``dlcourse-calc``; returns the exit status, or exits with 2 and one line on stderr for a
    bad input."""
    args = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    try:
        if args and args[0] == "size":
            print(_one_size(args[1:]))
            return 0
        return _table(parser, args)
    except (UsageError, SpecError, ValueError) as error:
        parser.error(str(error))


def _parser() -> CommandLine:
    parser = CommandLine(
        prog="dlcourse-calc",
        description="Shapes, parameters, MACs/FLOPs and memory of a network, per sample.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("layers", nargs="*", help='layers, one per argument, e.g. "conv 16 k7 p1 relu"')
    parser.add_argument("--input", help="per-sample input shape: CxHxW, LENxFEATURES or FEATURES")
    parser.add_argument("--file", help="read layers from a file, one per line")
    parser.add_argument("--batch", type=int, default=1, help="also print totals for a batch of this size")
    parser.add_argument("--bytes-per-value", type=int, default=4, help="bytes per stored value (float32: 4)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--train", choices=list(OPTIMIZER_STATE_BUFFERS),
                        help="also print the memory of one training step at --batch with this optimiser "
                             "(parameters, gradients, optimiser state, tensors saved for backward)")
    return parser


def _table(parser: argparse.ArgumentParser, argv: list[str]) -> int:
    options = parser.parse_args(argv)
    specs: list[str] = []
    input_text = options.input
    if options.file:
        input_text, specs = _read_file(options.file, input_text)
    specs += options.layers
    if input_text is None:
        raise UsageError("give the input shape with --input, e.g. --input 3x128x128")
    if not specs:
        raise UsageError("give at least one layer, e.g. \"conv 16 k3 p1 relu\" (see --help)")
    if options.batch < 1:
        raise UsageError(f"--batch must be at least 1, got {options.batch}")
    if options.bytes_per_value < 1:
        raise UsageError(f"--bytes-per-value must be at least 1, got {options.bytes_per_value}")
    layers = []
    for position, spec in enumerate(specs, start=1):
        try:
            layers.append(parse_layer(spec))
        except SpecError as error:
            raise UsageError(f"layer {position} {error}") from None
    network = Network(parse_shape(input_text), layers)
    memory = None
    if options.train:
        try:
            memory = training_memory(to_torch(network), (options.batch, *network.input_shape), options.train,
                                     bytes_per_value=options.bytes_per_value)
        except ValueError as error:
            raise UsageError(f"--train runs the network in PyTorch, which refuses it: {error}") from None
    if options.json:
        data = network.to_dict(options.bytes_per_value)
        if options.batch > 1:
            data["batch"] = batch_totals(network, options.batch, options.bytes_per_value)
        if memory is not None:
            data["training_memory"] = {"optimizer": memory.optimizer, "batch_size": options.batch,
                                       "params": memory.params, "gradients": memory.gradients,
                                       "optimizer_state": memory.optimizer_state,
                                       "activations": memory.activations, "total": memory.total}
        print(json.dumps(data, indent=2))
    else:
        print(format_table(network, options.bytes_per_value, options.batch))
        if memory is not None:
            print(format_training_memory(memory).replace(
                "step:", f"step at batch {options.batch} ({options.bytes_per_value} B per float value):", 1))
    return 0


def _read_file(path: str, input_text: str | None) -> tuple:
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except OSError as error:
        raise UsageError(f"cannot read layer file '{path}': {error.strerror}") from None
    specs = []
    for line in lines:
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        if text.lower().startswith("input "):
            input_text = input_text or text.split(None, 1)[1].strip()
        else:
            specs.append(text)
    return input_text, specs


def _one_size(words: list[str]) -> int:
    """``size N kK [sS] [pP] [dD] [ceil]`` -> one output size (the words are read by ``spec.parse_size``)."""
    try:
        options: dict[str, Any] = parse_size(" ".join(words))
    except SpecError as error:
        raise UsageError(f"size {error} (usage: dlcourse-calc size N kK [sS] [pP] [dD] [ceil], "
                         "e.g. size 57 k2 s2 p2)") from None
    size = options.pop("size")
    return conv_output_size(size, **options)
