"""dlcourse-calc: tables, JSON, files, the one-shot size form, and one-line errors with exit code 2."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from dlcourse.calc import training_memory
from dlcourse.calc.cli import main
from dlcourse.models.transformer import GPT, Block

EXAM = ["conv 16 k7 p1 relu", "maxpool 3 s2", "conv 48 k5 relu", "avgpool 2 s2 p2", "flatten",
        "fc 4096 tanh", "fc 2 softmax"]
REPO = Path(__file__).resolve().parents[1]


def run(capsys, *argv):
    """(exit status, stdout, stderr): main's return value, or the status it exits with (2 for a bad input)."""
    try:
        code = main(list(argv))
    except SystemExit as exit:
        code = exit.code
    out, err = capsys.readouterr()
    return code, out, err


def test_table_for_the_seed_exam(capsys):
    code, out, err = run(capsys, "--input", "3x128x128", *EXAM)
    assert code == 0 and err == ""
    assert "AvgPool2d(2, s=2, p=2)" in out and "(48, 30, 30)" in out
    assert "params: 176,981,106" in out
    assert "MACs: 275,500,544" in out


def test_json_with_batch_and_bytes_per_value(capsys):
    code, out, _ = run(capsys, "--input", "3x128x128", "--json", "--batch", "64", "--bytes-per-value", "2", *EXAM)
    data = json.loads(out)
    assert code == 0
    assert data["rows"][3]["output_shape"] == [48, 30, 30]
    assert data["macs"] == 275_500_544 and data["flops"] == 551_001_088
    values = 557_954  # input and every stored output, counted in test_network
    assert data["memory_bytes_activations_only"] == 2 * values
    assert data["batch"]["macs"] == 64 * 275_500_544
    assert data["batch"]["memory_bytes"] == 64 * 2 * values + 2 * 176_981_106


def test_batch_line_in_table(capsys):
    _, out, _ = run(capsys, "--input", "10", "--batch", "8", "fc 5")
    assert "batch of 8: MACs 400;" in out


def test_layers_from_a_file(tmp_path, capsys):
    spec = tmp_path / "net.txt"
    spec.write_text("# LeNet-like\ninput 1x32x32\nconv 6 k5 tanh\navgpool 2\n\nflatten  # a view\nfc 10\n")
    code, out, _ = run(capsys, "--file", str(spec))
    assert code == 0
    assert "(6, 14, 14)" in out
    assert f"params: {6 * 25 + 6 + 6 * 14 * 14 * 10 + 10:,}" in out


def test_recurrent_and_attention_specs(capsys):
    _, out, _ = run(capsys, "--input", "100x128", "lstm 256 l2", "mha 256 h8")
    assert "LSTM(256, layers=2)" in out and "MultiheadAttention(256, heads=8)" in out
    lstm = 91_750_400
    attention = 4 * 100 * 256 * 256 + 2 * 100 * 100 * 256
    assert f"MACs: {lstm + attention:,}" in out


@pytest.mark.parametrize(
    "argv, expected",
    [(["size", "57", "k2", "s2", "p2"], "30"), (["size", "124", "k3", "s2", "ceil"], "62"),
     (["size", "32", "k3", "d2"], "28")],
)
def test_one_shot_size(capsys, argv, expected):
    code, out, _ = run(capsys, *argv)
    assert code == 0 and out.strip() == expected


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--input", "3x128x128", "conv 16 k7 p1 relu", "maxpool 3 q2"],
         "layer 2 in 'maxpool 3 q2': unknown option 'q2'"),
        (["--input", "3x128x128", "convo 16 k3"], "unknown layer 'convo'"),
        (["--input", "3x128x128", "conv k3"], "expected the number of filters (a whole number), got 'k3'"),
        (["--input", "3x128x128", "conv 16"], "missing kernel size"),
        (["--input", "3x128x128", "conv 16 k3 gelu"], "unknown option 'gelu'"),
        (["--input", "3x128x128", "flatten 3"], "'flatten' takes no options, got '3'"),
        (["--input", "3x128x128", "dropout x"], "dropout probability must be a number"),
        (["--input", "3x128x128", "maxpool s2"], "missing pooling size"),
        (["--input", "3x8x8", "conv 4 k9"], "layer 1 (Conv2d(4, k=9)) cannot follow input of shape (3, 8, 8)"),
        (["--input", "3x8x8", "conv 4 k3", "fc 10"], "not flattened"),
        (["--input", "3x-8x8", "flatten"], "input shape '3x-8x8' should be"),
        (["conv 4 k3"], "give the input shape with --input"),
        (["--input", "3x8x8"], "give at least one layer"),
        (["--input", "3x8x8", "--batch", "0", "flatten"], "--batch must be at least 1"),
        (["--input", "3x8x8", "--bytes-per-value", "0", "flatten"], "--bytes-per-value must be at least 1"),
        (["--input", "3x8x8", "--bogus", "flatten"], "unrecognized arguments: --bogus"),
        (["--file", "/no/such/file.txt"], "cannot read layer file '/no/such/file.txt'"),
        (["size", "57", "s2"], "missing kernel size kN"),
        (["size", "57", "k2", "x2"], "unknown option 'x2' (expected kN, sN, pN, dN, ceil)"),
        (["size", "k2"], "usage: dlcourse-calc size N"),
        (["size", "3", "k5"], "effective kernel 5 is larger than the padded input 3"),
    ],
)
def test_errors_are_one_line_with_exit_code_2(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("dlcourse-calc: error: ") and err.count("\n") == 1
    assert message in err


def _command(*argv):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run(list(argv), capture_output=True, text=True, env=env, cwd=REPO, timeout=120)


def test_console_script_help_shows_worked_examples():
    script = Path(sys.executable).with_name("dlcourse-calc")
    result = _command(str(script), "--help")
    assert result.returncode == 0
    assert "dlcourse-calc --input 3x128x128" in result.stdout and "size 57 k2 s2 p2" in result.stdout


def test_python_dash_m_reports_bad_spec_without_traceback():
    result = _command(sys.executable, "-m", "dlcourse.calc", "--input", "3x8x8", "conv 4 k3 zz")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == ("dlcourse-calc: error: layer 1 in 'conv 4 k3 zz': unknown option 'zz' "
                                     "(expected kN, sN, pN, dN, gN, nobias, relu, tanh, sigmoid, softmax)")


def test_seed_exam_file_in_examples_runs():
    result = _command(sys.executable, "-m", "dlcourse.calc", "--file", "examples/seed_exam_network.txt")
    assert result.returncode == 0 and "275,500,544" in result.stdout


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--input", "10", "  "], "in '  ': empty layer"),
        (["--input", "10", "dropout 0.5 0.2"], "unexpected '0.2' after the dropout probability"),
        (["--input", "10", "dropout 1.5"], "dropout probability must be a number in [0, 1), got '1.5'"),
        (["--input", "10", "mha 10 h3"], "embed_dim 10 must be divisible by num_heads 3"),
        (["--input", "10", "lstm 0"], "hidden_size must be a positive int"),
    ],
)
def test_more_spec_errors(capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 2 and message in err


# dlcourse-calc gpt: every number against a computation of its own

def gpt_numbers(vocab, context, layers, d, tokens):
    """Parameters, forward MACs and exact training FLOPs per token, from GPT-2's layout written out."""
    block = (d * 3 * d + 3 * d) + (d * d + d) + (d * 4 * d + 4 * d) + (4 * d * d + d) + 2 * (2 * d)
    params = vocab * d + context * d + layers * block + 2 * d
    per_layer = tokens * d * 3 * d + tokens * d * d + 2 * tokens * d * 4 * d + 2 * tokens * tokens * d
    macs = layers * per_layer + tokens * d * vocab
    return params, macs, 3 * 2 * macs // tokens


def test_gpt_prints_gpt2_small_at_its_whole_context(capsys):
    code, out, err = run(capsys, "gpt")
    params, macs, per_token = gpt_numbers(50257, 1024, 12, 768, 1024)
    assert code == 0 and err == ""
    assert (params, macs, per_token) == (124_439_808, 145_824_153_600, 854_438_400)
    assert f"parameters: {params:,} (output layer tied to the token embedding)" in out
    assert f"12 blocks           {12 * 7_087_872:,}   7,087,872 each" in out
    assert f"forward pass over 1,024 tokens: {macs:,} MACs, {2 * macs:,} FLOPs" in out
    assert f"6N = {6 * params:,}; exact {per_token:,} (x 1.144)" in out
    kv = 2 * 12 * 1024 * 768 * 4
    assert f"KV cache for 1,024 tokens, batch 1, 4 B per value: {kv:,} B (75.5 MB, 72.0 MiB)" in out


@pytest.mark.parametrize("argv, sizes", [
    (["--preset", "gpt2-medium", "--tokens", "300"], (50257, 1024, 24, 1024, 16, 300)),
    (["--preset", "gpt2-xl", "--tokens", "1"], (50257, 1024, 48, 1600, 25, 1)),
    (["--layers", "6", "--d-model", "512", "--heads", "8", "--vocab", "32000", "--context", "512"],
     (32000, 512, 6, 512, 8, 512)),
    (["--preset", "gpt2-large", "--layers", "2"], (50257, 1024, 2, 1280, 20, 1024)),
])
def test_gpt_json_against_the_layout_written_out(capsys, argv, sizes):
    vocab, context, layers, d, heads, tokens = sizes
    code, out, _ = run(capsys, "gpt", *argv, "--train-tokens", "1000003", "--batch", "3", "--bytes-per-value", "2",
                       "--json")
    data = json.loads(out)
    params, macs, per_token = gpt_numbers(vocab, context, layers, d, tokens)
    assert code == 0
    assert {key: data["config"][key] for key in ("vocab_size", "context", "n_layers", "d_model", "n_heads")} == \
        dict(vocab_size=vocab, context=context, n_layers=layers, d_model=d, n_heads=heads)
    assert data["config"]["head_dim"] * heads == d
    assert data["params"]["total"] == params and data["params"]["head"] == 0
    assert data["forward"]["macs"] == macs and data["forward"]["flops"] == 2 * macs
    assert data["forward"]["macs_by_term"]["attention scores and mix"] == 2 * layers * tokens ** 2 * d
    flops = data["training_flops"]
    assert flops["rule_of_thumb"] == 6 * params * 1000003 and flops["per_token_rule_of_thumb"] == 6 * params
    assert flops["exact"] == per_token * 1000003 and flops["per_token_exact"] == per_token
    assert data["kv_cache"]["bytes"] == 2 * layers * tokens * d * 3 * 2
    assert "training_memory" not in data


def test_gpt_training_flops_with_checkpointing_add_one_forward_of_the_blocks(capsys):
    _, out, _ = run(capsys, "gpt", "--train-tokens", "1024", "--train", "sgd", "--checkpoint", "--json",
                    "--layers", "2", "--d-model", "64", "--heads", "4", "--context", "32", "--vocab", "100")
    flops = json.loads(out)["training_flops"]
    params, macs, per_token = gpt_numbers(100, 32, 2, 64, 32)
    blocks_per_token = (macs - 32 * 64 * 100) // 32
    assert flops["checkpointing"] is True and flops["rule_of_thumb"] == 8 * params * 1024
    assert flops["exact"] == (per_token + 2 * blocks_per_token) * 1024


@pytest.mark.parametrize("checkpointed", [False, True])
def test_gpt_train_reports_training_memory_of_the_gpt_on_the_meta_device(capsys, checkpointed):
    argv = ["gpt", "--layers", "3", "--tokens", "128", "--batch", "2", "--train", "adam"]
    code, out, _ = run(capsys, *argv, *(["--checkpoint"] if checkpointed else []), "--json")
    with torch.device("meta"):
        model = GPT(50257, 1024, 3, 768, 12)
    expected = training_memory(model, (2, 128), "adam", dtype=torch.long, checkpoint=(Block,) if checkpointed else ())
    memory = json.loads(out)["training_memory"]
    assert code == 0 and memory["checkpoint"] is checkpointed
    assert memory["params"] == 4 * gpt_numbers(50257, 1024, 3, 768, 128)[0] and memory["optimizer_state"] == \
        2 * memory["params"]
    assert (memory["activations"], memory["recomputed_activations"], memory["total"]) == \
        (expected.activations, expected.recomputed_activations, expected.total)
    assert (memory["recompute_macs"] > 0) is checkpointed
    _, text, _ = run(capsys, *argv, *(["--checkpoint"] if checkpointed else []))
    assert f"step at batch 2 of 128 tokens (4 B per float value{', every block checkpointed' * checkpointed}):" \
        in text
    assert f"total              {expected.total:,} B" in text
    assert ("checkpointing: 3 calls keep only their inputs" in text) is checkpointed


def test_gpt_train_with_the_course_gpt(capsys):
    code, out, _ = run(capsys, "gpt", "--layers", "2", "--tokens", "64", "--train", "momentum", "--checkpoint",
                       "--json")
    memory = json.loads(out)["training_memory"]
    params = gpt_numbers(50257, 1024, 2, 768, 64)[0]
    assert code == 0 and memory["params"] == memory["gradients"] == memory["optimizer_state"] == 4 * params
    # each of the 2 blocks keeps its input (64 x 768 floats), and so does the final LayerNorm
    assert memory["activations"] - memory["recomputed_activations"] >= 3 * 64 * 768 * 4



@pytest.mark.parametrize("argv, message", [
    (["--tokens", "2048"], "--tokens 2048 is more than the context 1024"),
    (["--tokens", "0"], "--tokens must be at least 1, got 0"),
    (["--heads", "5"], "d_model 768 must be divisible by n_heads 5"),
    (["--layers", "-2"], "--layers must be at least 1, got -2"),
    (["--batch", "0"], "--batch must be at least 1"),
    (["--bytes-per-value", "0"], "--bytes-per-value must be at least 1"),
    (["--train-tokens", "0"], "--train-tokens must be at least 1"),
    (["--checkpoint"], "--checkpoint needs --train"),
    (["--preset", "gpt3"], "argument --preset: invalid choice: 'gpt3'"),
    (["--train", "lion"], "argument --train: invalid choice: 'lion'"),
    (["--d-model", "wide"], "argument --d-model: invalid int value: 'wide'"),
    (["--bogus"], "unrecognized arguments: --bogus"),
])
def test_gpt_errors_are_one_line_with_exit_code_2(capsys, argv, message):
    code, out, err = run(capsys, "gpt", *argv)
    assert code == 2 and out == ""
    assert err.startswith("dlcourse-calc gpt: error: ") and err.count("\n") == 1
    assert message in err


def test_gpt_help_shows_worked_examples(capsys):
    code, out, _ = run(capsys, "gpt", "--help")
    assert code == 0 and "dlcourse-calc gpt --preset gpt2-xl --tokens 256" in out and "--checkpoint" in out
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "dlcourse-calc gpt --preset gpt2 --tokens 1024" in out


def test_readme_shows_the_real_output_of_dlcourse_calc_gpt(capsys):
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    command = "$ dlcourse-calc gpt --preset gpt2 --tokens 1024 --bytes-per-value 2\n"
    shown = readme.split(command, 1)[1].split("```", 1)[0]
    _, out, _ = run(capsys, *command.split()[2:])
    assert shown == out
