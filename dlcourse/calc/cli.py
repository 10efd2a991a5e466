"""``dlcourse-calc``: shapes, parameters, MACs and memory of a network typed on the command line.

``dlcourse-calc gpt`` does the same for a GPT-2-style language model (``calc.transformers``).
Whatever goes wrong is said the package's one way (``dlcourse.command_line``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import torch

from dlcourse.calc.network import Network
from dlcourse.calc.report import batch_totals, format_table
from dlcourse.calc.sizes import conv_output_size
from dlcourse.calc.spec import SpecError, parse_layer, parse_shape, parse_size
from dlcourse.calc.torch_network import to_torch
from dlcourse.calc.training_memory import (
    OPTIMIZER_STATE_BUFFERS,
    TrainingMemory,
    format_training_memory,
    training_memory,
)
from dlcourse.calc.transformers import (
    GPT2_PRESETS,
    GPTConfig,
    gpt_forward_macs_by_term,
    gpt_params,
    gpt_training_flops,
    kv_cache_bytes,
    training_flops,
)
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
  a GPT-2-style language model: parameters, forward MACs, training FLOPs, KV cache (see gpt --help):
    dlcourse-calc gpt --preset gpt2 --tokens 1024

layers: conv N kK [sS] [pP] [dD] [gG] [nobias] [relu|tanh|sigmoid|softmax]
        maxpool K [sS] [pP] [ceil] | avgpool K ... | gap | flatten
        fc N [nobias] [activation] | bn | dropout [P] | relu | tanh | sigmoid | softmax
        rnn|lstm|gru H [lL] [bi] [nobias] | mha E [hH]
sizes may be KxK pairs: k3x5. MACs exclude bias additions; FLOPs = 2 x MACs.
"""


GPT_EXAMPLES = """\
examples:
  GPT-2 small over its whole context of 1,024 tokens:
    dlcourse-calc gpt
  GPT-2 XL over 256 tokens; the KV cache of 8 sequences in float16:
    dlcourse-calc gpt --preset gpt2-xl --tokens 256 --batch 8 --bytes-per-value 2
  sizes of your own (what is not given comes from --preset, gpt2 by default):
    dlcourse-calc gpt --layers 6 --d-model 512 --heads 8 --vocab 32000 --context 512
  training on 9 billion tokens (6ND and the exact count), and the memory of one Adam step
  at batch 8 with every block checkpointed:
    dlcourse-calc gpt --train-tokens 9000000000 --train adam --checkpoint --batch 8

GPT-2's layout: learned token and position embeddings, pre-LN blocks (fused QKV and output
projections, MLP d -> 4d -> d, all with biases), a final LayerNorm, the output layer tied to
the token embedding. MACs count matrix products only (no biases, norms or softmax), attention's
T x T products in full; FLOPs = 2 x MACs.
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
        if args and args[0] == "gpt":
            return _gpt(args[1:])
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


_GPT_SIZES = (("--vocab", "vocab_size", "vocabulary size V"), ("--context", "context", "context length (positions)"),
              ("--layers", "n_layers", "number of blocks L"), ("--d-model", "d_model", "model width d"),
              ("--heads", "n_heads", "attention heads"))


def _gpt_parser() -> CommandLine:
    parser = CommandLine(
        prog="dlcourse-calc gpt",
        description="Parameters, forward MACs, training FLOPs, KV cache and training memory of a GPT-2-style "
                    "language model.",
        epilog=GPT_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--preset", choices=list(GPT2_PRESETS), default="gpt2",
                        help="GPT-2's published sizes (default gpt2, the small one)")
    for option, field, meaning in _GPT_SIZES:
        parser.add_argument(option, type=int, dest=field, help=f"{meaning}, instead of the preset's")
    parser.add_argument("--tokens", type=int, help="tokens in the sequence T (default: the whole context)")
    parser.add_argument("--train-tokens", type=int, help="also the training FLOPs for this many tokens D")
    parser.add_argument("--batch", type=int, default=1, help="sequences in the KV cache and in a training step")
    parser.add_argument("--bytes-per-value", type=int, default=4, help="bytes per stored value (float32: 4)")
    parser.add_argument("--train", choices=list(OPTIMIZER_STATE_BUFFERS),
                        help="also the memory of one training step at --batch with this optimiser, from the "
                             "course's GPT (dlcourse.models.transformer) built on the meta device")
    parser.add_argument("--checkpoint", action="store_true",
                        help="with --train: checkpoint every block (and count its recomputation)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    return parser


def _gpt(argv: list[str]) -> int:
    """``dlcourse-calc gpt ...``: the closed forms of ``calc.transformers``, and ``training_memory`` with --train."""
    parser = _gpt_parser()
    options = parser.parse_args(argv)
    try:
        return _gpt_report(parser, options)
    except ValueError as error:  # UsageError included
        parser.error(str(error))


def _gpt_report(parser: CommandLine, options: argparse.Namespace) -> int:
    preset = asdict(GPT2_PRESETS[options.preset])
    sizes = {field: preset[field] if getattr(options, field) is None else getattr(options, field)
             for field in preset}
    custom = sizes != preset
    for option, value in (("--batch", options.batch), ("--bytes-per-value", options.bytes_per_value),
                          ("--tokens", options.tokens), ("--train-tokens", options.train_tokens),
                          *((option, sizes[field]) for option, field, _ in _GPT_SIZES)):
        if value is not None and value < 1:
            raise UsageError(f"{option} must be at least 1, got {value}")
    config = GPTConfig(**sizes)
    tokens = config.context if options.tokens is None else options.tokens
    if tokens > config.context:
        raise UsageError(f"--tokens {tokens} is more than the context {config.context}: the model has one learned "
                         "position per token (give --context to change it)")
    if options.checkpoint and not options.train:
        raise UsageError("--checkpoint needs --train (it changes the memory of a training step)")
    memory = None
    if options.train:
        model, block = _course_gpt(config)
        checkpoint = (block,) if options.checkpoint else ()
        memory = training_memory(model, (options.batch, tokens), options.train, dtype=torch.long,
                                 bytes_per_value=options.bytes_per_value, checkpoint=checkpoint)
    report = _gpt_numbers(config, options, tokens, memory)
    report["config"]["preset"] = f"{options.preset} with changed sizes" if custom else options.preset
    print(json.dumps(report, indent=2) if options.json else _gpt_text(report, memory))
    return 0


def _gpt_numbers(config: GPTConfig, options: argparse.Namespace, tokens: int,
                 memory: TrainingMemory | None) -> dict[str, Any]:
    params = gpt_params(config)
    terms = gpt_forward_macs_by_term(config, tokens)
    macs = sum(terms.values())
    checkpointing = bool(options.checkpoint)
    report: dict[str, Any] = {
        "config": {**asdict(config), "head_dim": config.head_dim, "tied": True},
        "params": {"total": params.total, "token_embedding": params.token_embedding,
                   "position_embedding": params.position_embedding, "per_block": params.per_block,
                   "attention_per_block": params.attention, "mlp_per_block": params.mlp,
                   "norms_per_block": params.norms, "blocks": params.blocks, "final_norm": params.final_norm,
                   "head": params.head},
        "forward": {"tokens": tokens, "macs": macs, "flops": 2 * macs, "macs_by_term": terms},
        "training_flops": {"tokens_per_sequence": tokens, "checkpointing": checkpointing,
                           "per_token_rule_of_thumb": training_flops(params.total, 1, checkpointing),
                           "per_token_exact": gpt_training_flops(config, 1, tokens, checkpointing)},
        "kv_cache": {"tokens": tokens, "batch": options.batch, "bytes_per_value": options.bytes_per_value,
                     "bytes": kv_cache_bytes(config.n_layers, config.d_model, tokens, options.batch,
                                             options.bytes_per_value)},
    }
    if options.train_tokens is not None:
        report["training_flops"].update(
            train_tokens=options.train_tokens,
            rule_of_thumb=training_flops(params.total, options.train_tokens, checkpointing),
            exact=gpt_training_flops(config, options.train_tokens, tokens, checkpointing))
    if memory is not None:
        report["training_memory"] = {
            "optimizer": memory.optimizer, "batch_size": options.batch, "tokens": tokens,
            "checkpoint": checkpointing, "params": memory.params, "gradients": memory.gradients,
            "optimizer_state": memory.optimizer_state, "activations": memory.activations,
            "recomputed_activations": memory.recomputed_activations, "recompute_macs": memory.recompute_macs,
            "total": memory.total}
    return report


def _gpt_text(report: dict[str, Any], memory: TrainingMemory | None) -> str:
    config, params, forward = report["config"], report["params"], report["forward"]
    flops, cache = report["training_flops"], report["kv_cache"]
    layers, tokens = config["n_layers"], forward["tokens"]
    lines = [f"GPT-2 layout ({config['preset']}): vocabulary {config['vocab_size']:,}, context "
             f"{config['context']:,}, {layers} layers, d_model {config['d_model']:,}, {config['n_heads']} heads "
             f"of {config['head_dim']}",
             f"parameters: {params['total']:,} (output layer tied to the token embedding)"]
    parts = [("token embedding", params["token_embedding"], "V x d"),
             ("position embedding", params["position_embedding"], "context x d"),
             (f"{layers} blocks", params["blocks"],
              f"{params['per_block']:,} each: attention {params['attention_per_block']:,} + MLP "
              f"{params['mlp_per_block']:,} + 2 LayerNorms {params['norms_per_block']:,}"),
             ("final LayerNorm", params["final_norm"], "")]
    lines += _aligned(parts)
    lines.append(f"forward pass over {tokens:,} tokens: {forward['macs']:,} MACs, {forward['flops']:,} FLOPs "
                 "(= 2 x MACs)")
    formulas = {"attention projections": "4Td^2 per layer", "MLP": "8Td^2 per layer",
                "attention scores and mix": "2T^2d per layer (QK^T, AV; not halved by the causal mask)",
                "output layer": "TVd"}
    lines += _aligned([(name, value, formulas[name]) for name, value in forward["macs_by_term"].items()])
    rule, exact = flops["per_token_rule_of_thumb"], flops["per_token_exact"]
    name = "8N" if flops["checkpointing"] else "6N"
    checkpointed = ", blocks checkpointed" if flops["checkpointing"] else ""
    lines.append(f"training FLOPs per token ({tokens:,} a sequence{checkpointed}): {name} = {rule:,}; "
                 f"exact {exact:,} (x {exact / rule:.3f})")
    if "train_tokens" in flops:
        lines.append(f"training on {flops['train_tokens']:,} tokens: {name}D = {flops['rule_of_thumb']:,} FLOPs; "
                     f"exact {flops['exact']:,} FLOPs")
    size = cache["bytes"]
    lines.append(f"KV cache for {tokens:,} tokens, batch {cache['batch']}, {cache['bytes_per_value']} B per value: "
                 f"{size:,} B ({size / 10 ** 6:,.1f} MB, {size / 2 ** 20:,.1f} MiB)")
    if memory is not None:
        train = report["training_memory"]
        where = (f"step at batch {train['batch_size']} of {tokens:,} tokens "
                 f"({cache['bytes_per_value']} B per float value")
        where += ", every block checkpointed):" if train["checkpoint"] else "):"
        lines.append(format_training_memory(memory).replace("step:", where, 1))
    return "\n".join(lines)


def _aligned(parts: list[tuple[str, int, str]]) -> list[str]:
    name_width = max(len(name) for name, _, _ in parts)
    width = max(len(f"{value:,}") for _, value, _ in parts)
    return [f"  {name:<{name_width}}  {value:>{width},}   {note}".rstrip() for name, value, note in parts]


def _course_gpt(config: GPTConfig) -> tuple[torch.nn.Module, type]:
    """The course's GPT with these sizes on the meta device, and the class of its blocks."""
    # imported here, not at the top: dlcourse.models imports dlcourse.calc, which must load without it
    from dlcourse.models.transformer import GPT, Block  # noqa: PLC0415

    with torch.device("meta"):
        return GPT(config.vocab_size, config.context, config.n_layers, config.d_model, config.n_heads), Block
