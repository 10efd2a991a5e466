"""dlcourse-calc: tables, JSON, files, the one-shot size form, and one-line errors with exit code 2."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dlcourse.calc.cli import main

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
