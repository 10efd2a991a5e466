"""One way to describe a layer, one random-network generator, one softmax (issue: no parallel versions)."""

from __future__ import annotations

import random
import subprocess
import sys

import numpy as np
import pytest

from dlcourse import activations, calc
from dlcourse.calc.spec import SpecError, parse_size
from dlcourse.exam import generate, random_network
from dlcourse.grading import checks


def test_one_softmax():
    assert calc.softmax is activations.softmax
    assert not hasattr(checks, "reference_softmax") and not hasattr(calc.costs, "_softmax")
    np.testing.assert_allclose(calc.softmax([3.2, 5.1]), [0.13010847436299786, 0.8698915256370021])


def test_exams_are_made_of_calc_layers():
    for seed in range(10):
        exam = generate(seed)
        assert all(isinstance(layer, calc.Layer) for layer in exam.layers)
        assert exam.network().layers == exam.layers


def test_assignment_networks_come_from_the_same_generator(monkeypatch):
    calls = []
    real = random_network

    def spy(*args, **kwargs):
        calls.append((args, kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr("dlcourse.exam.random_network", spy)
    shape, tuples, network = checks.random_exam_network("q4 network 0")
    assert len(calls) == 1
    assert tuples == [checks.as_tuple(layer) for layer in network.layers]
    assert network.input_shape == shape
    again = checks.random_exam_network("q4 network 0")
    assert again[1] == tuples  # the same question and student: the same network


def test_the_generator_is_reproducible_and_valid_in_calc():
    for seed in range(30):
        layers = random_network(random.Random(seed), (3, 64, 64))
        assert ([repr(layer) for layer in layers]
                == [repr(layer) for layer in random_network(random.Random(seed), (3, 64, 64))])
        calc.Network((3, 64, 64), layers)  # raises if a layer cannot follow the previous one


def test_the_size_form_is_read_by_the_layer_parser():
    assert parse_size("57 k2 s2 p2") == {"size": 57, "kernel_size": 2, "stride": 2, "padding": 2}
    with pytest.raises(SpecError, match="unknown option 'q2' \\(expected kN, sN, pN, dN, ceil\\)"):
        parse_size("57 k2 q2")
    with pytest.raises(SpecError, match="one axis at a time"):
        parse_size("57 k2x3")
    result = subprocess.run([sys.executable, "-m", "dlcourse.calc", "size", "57", "k2", "q2"],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "unknown option 'q2'" in result.stderr


def test_report_rows_carry_path_and_kind():
    from torch import nn

    summary = calc.summarize(nn.Sequential(nn.Linear(4, 3), nn.ReLU()), (1, 4))
    assert [(row.path, row.kind) for row in summary.rows] == [("0", "Linear"), ("1", "ReLU")]
    network = calc.Network((4,), [calc.Linear(3), calc.ReLU()])
    assert [(row.path, row.kind) for row in network.rows] == [("", "Linear"), ("", "ReLU")]
