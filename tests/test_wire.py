"""dlcourse.grading.protocol: what crosses between the grader and a notebook is plain data, exactly."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from dlcourse.grading import protocol as wire


@pytest.mark.parametrize("value", [
    None, True, False, 0, -7, 2**80, 1.5, -0.0, "text ✓", [], [1, [2, [3]]], (1, 2), (), {1, 2},
    {"a": 1, 2: (3, 4), (5, 6): None}, [np.float32(1.25), np.int64(3), np.bool_(True)],
])
def test_plain_values_come_back_equal_and_of_the_same_type(value):
    back = wire.decode(wire.encode(value))
    assert back == value
    assert type(back) is type(value)


def test_non_finite_floats_are_tagged_not_bare_json():
    text = wire.encode([math.nan, math.inf, -math.inf])
    assert "NaN" not in text and "Infinity" not in text
    back = wire.decode(text)
    assert math.isnan(back[0]) and back[1] == math.inf and back[2] == -math.inf
    with pytest.raises(wire.WireError, match="bare NaN"):
        wire.decode("[NaN]")


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int8", "int32", "int64", "uint8", "bool",
                                   "complex128"])
def test_arrays_keep_dtype_shape_and_every_bit(dtype):
    rng = np.random.default_rng(0)
    array = (rng.normal(size=(2, 3, 4)) * 100).astype(dtype)
    back = wire.decode(wire.encode(array))
    assert back.dtype == array.dtype and back.shape == array.shape
    assert back.tobytes() == array.tobytes()
    assert back.flags.writeable


@pytest.mark.parametrize("value", [np.float32(1.25), np.int64(-3), np.bool_(True), np.array(2.5),
                                   np.array(7, dtype=np.int16)])
def test_scalars_and_zero_dimensional_arrays_keep_no_dimensions(value):
    back = wire.decode(wire.encode(value))
    assert type(back) is type(value) and np.shape(back) == () and back.dtype == value.dtype and back == value


def test_a_non_contiguous_view_and_a_zero_size_array():
    array = np.arange(12.0).reshape(3, 4)[:, ::2]
    np.testing.assert_array_equal(wire.decode(wire.encode(array)), array)
    empty = wire.decode(wire.encode(np.zeros((0, 5))))
    assert empty.shape == (0, 5)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64, torch.bfloat16])
def test_tensors_keep_dtype_values_and_requires_grad(dtype):
    tensor = torch.arange(6, dtype=dtype).reshape(2, 3)
    if dtype.is_floating_point:
        tensor.requires_grad_(True)
    back = wire.decode(wire.encode(tensor))
    assert isinstance(back, torch.Tensor) and back.dtype == dtype and back.shape == (2, 3)
    assert torch.equal(back.detach(), tensor.detach())
    assert back.requires_grad == tensor.requires_grad


def test_objects_that_are_not_plain_data_need_a_handle():
    class Answer:
        def __eq__(self, other):
            return True

    with pytest.raises(wire.WireError, match="Answer is not plain data"):
        wire.encode(Answer())
    text = wire.encode([Answer()], handle=lambda obj: {"$": "object", "handle": "h1", "type": "Answer", "repr": ""})
    seen = []
    assert wire.decode(text, resolve=lambda tagged: seen.append(tagged) or "resolved") == ["resolved"]
    assert seen[0]["handle"] == "h1"
    with pytest.raises(wire.WireError, match="unknown tag 'object'"):
        wire.decode(text)  # without a resolver, a handle is refused


@pytest.mark.parametrize("text, message", [
    ('{"$": "pickle", "v": "gASV"}', "unknown tag 'pickle'"),
    ('{"a": 1}', "without a tag"),
    ('{"$": "ndarray", "dtype": "object", "shape": [1], "b64": ""}', "dtype 'object'"),
    ('{"$": "ndarray", "dtype": "float64", "shape": [2], "b64": "AAAA"}', "needs 16 bytes, got 3"),
    ('{"$": "ndarray", "dtype": "float64", "shape": [-1], "b64": ""}', "bad array shape"),
    ('{"$": "ndarray", "dtype": "float64", "shape": [1], "b64": "!!"}', "not base64"),
    ('{"$": "float", "v": "1e999"}', "bad float"),
    ('{"$": "dict", "v": [[1]]}', "not a \\[key, value\\] pair"),
    ('{"$": "dict", "v": [[[1], 2]]}', "cannot be a key"),
    ("not json", "not JSON"),
])
def test_malformed_messages_are_refused_with_the_reason(text, message):
    with pytest.raises(wire.WireError, match=message):
        wire.decode(text)


def test_limits_on_size_and_depth(monkeypatch):
    deep = "[" * 100 + "]" * 100
    with pytest.raises(wire.WireError, match="nested more than"):
        wire.decode(deep)
    monkeypatch.setattr(wire, "MAX_TEXT", 100)
    with pytest.raises(wire.WireError, match="longer than 100"):
        wire.decode(json.dumps(list(range(100))))
    monkeypatch.setattr(wire, "MAX_ITEMS", 10)
    with pytest.raises(wire.WireError, match="more than 10 items"):
        wire.encode(list(range(20)))
