"""Plain data between the grader and a student's notebook: JSON text, never pickles.

The grading sandbox and the trusted grader exchange values as JSON text with a small
set of tags, so nothing that crosses can run code or lie about its type: a value is
``None``, a bool, an int, a float, a string, a list, or one of the tagged forms below.

======================  ==================================================================
tag ``"$"``             what it holds
======================  ==================================================================
``float``               a float that JSON cannot write: ``"nan"``, ``"inf"``, ``"-inf"``
``tuple``, ``set``      the items, as a list
``dict``                ``[key, value]`` pairs (keys may be any plain value)
``ndarray``             a NumPy array: dtype, shape and its bytes in base64
``scalar``              a NumPy scalar (``np.float32(1.5)``), the same way
``tensor``              a torch tensor, the same way (detached, on the CPU)
``module``              a torch module left in the notebook: a handle and its layer tree
``callable``            a function or class left in the notebook: a handle and its name
``object``              any other object left in the notebook: a handle, its type, a repr
``handle``              a handle sent back in, standing for that object
``callback``            a function of the grader's: calling it asks the grader for the result
======================  ==================================================================

``encode`` writes a value; ``decode`` reads one back and refuses anything else, with a
``WireError`` that says what was wrong.  The two sides differ only in what they do with
handles and callbacks, so both take a ``resolve`` function for the tags they accept.

>>> import numpy as np
>>> text = encode({"shape": (2, 3), "w": np.arange(3, dtype=np.float32), "ok": True})
>>> value = decode(text)
>>> value["shape"], value["w"].dtype, value["w"].tolist(), value["ok"]
((2, 3), dtype('float32'), [0.0, 1.0, 2.0], True)
>>> decode('{"$": "pickle", "v": "..."}')
Traceback (most recent call last):
...
dlcourse.grading.protocol.WireError: unknown tag 'pickle'
"""

from __future__ import annotations

import base64
import json
import math
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

MAX_TEXT = 64_000_000      # characters of JSON text, either way
MAX_DEPTH = 64             # nesting of lists, tuples and dicts
MAX_ITEMS = 2_000_000      # list items and dict entries in one message
DTYPES = {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float16", "float32", "float64", "complex64", "complex128"}
TORCH_ONLY = {"bfloat16"}  # sent as float32 bytes, turned back into bfloat16


class WireError(ValueError):
    """A message between the grader and a notebook that is not plain data."""


def encode(value: Any, handle: Callable[[Any], dict] | None = None) -> str:
    """``value`` as JSON text; ``handle(obj)`` describes objects that are not plain data.

    Without ``handle``, such an object is an error.

    >>> encode([1, 2.5, None, "a"])
    '[1, 2.5, null, "a"]'
    >>> encode((1, float("nan")))
    '{"$": "tuple", "v": [1, {"$": "float", "v": "nan"}]}'
    """
    counter = [0]
    return json.dumps(_plain(value, handle, 0, counter), ensure_ascii=False, allow_nan=False)


def _count(depth: int, counter: list) -> None:
    """Refuse values nested too deep or with too many items (``counter`` counts them)."""
    if depth > MAX_DEPTH:
        raise WireError(f"the value is nested more than {MAX_DEPTH} levels deep")
    counter[0] += 1
    if counter[0] > MAX_ITEMS:
        raise WireError(f"the value holds more than {MAX_ITEMS:,} items")


def _plain(value: Any, handle, depth: int, counter: list) -> Any:
    _count(depth, counter)
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else {"$": "float", "v": repr(float(value))}
    if isinstance(value, list):
        return [_plain(item, handle, depth + 1, counter) for item in value]
    if isinstance(value, tuple):
        return {"$": "tuple", "v": [_plain(item, handle, depth + 1, counter) for item in value]}
    if isinstance(value, (set, frozenset)):
        return {"$": "set", "v": [_plain(item, handle, depth + 1, counter) for item in value]}
    if isinstance(value, dict):
        return {"$": "dict", "v": [[_plain(k, handle, depth + 1, counter), _plain(v, handle, depth + 1, counter)]
                                   for k, v in value.items()]}
    if isinstance(value, np.ndarray) and value.dtype.name in DTYPES:
        return {"$": "ndarray", **_array_fields(value)}
    if isinstance(value, np.generic) and np.dtype(type(value)).name in DTYPES:
        return {"$": "scalar", **_array_fields(np.asarray(value))}
    tensor = _tensor_fields(value)
    if tensor is not None:
        return {"$": "tensor", **tensor}
    if handle is None:
        raise WireError(f"a {type(value).__name__} is not plain data")
    return handle(value)


def _array_fields(array: np.ndarray) -> dict:
    array = np.require(array, requirements="C")  # (np.ascontiguousarray would make a 0-d array 1-d)
    data = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
    return {"dtype": array.dtype.name, "shape": list(array.shape), "b64": base64.b64encode(data).decode("ascii")}


def _tensor_fields(value: Any) -> dict | None:
    torch = torch_if_loaded()
    if torch is None or not isinstance(value, torch.Tensor):
        return None
    tensor = value.detach()
    if tensor.device.type == "meta":
        raise WireError("a tensor on the meta device holds no values")
    tensor = tensor.cpu()
    name = str(tensor.dtype).replace("torch.", "")
    if name in TORCH_ONLY:
        fields = _array_fields(tensor.float().numpy())
        fields["dtype"] = name
    elif name in DTYPES:
        fields = _array_fields(tensor.resolve_conj().resolve_neg().numpy())
    else:
        raise WireError(f"a tensor of dtype {name} cannot be sent")
    fields["requires_grad"] = bool(value.requires_grad)
    return fields


def torch_if_loaded() -> Any:
    """torch if the notebook (or the grader) has imported it, else None: this module never imports torch.

    >>> torch_if_loaded() is sys.modules.get("torch")
    True
    """
    return sys.modules.get("torch")


def decode(text: str, resolve: Callable[[dict], Any] | None = None) -> Any:
    """The value in JSON text written by ``encode``; ``resolve(tagged)`` reads the handle-like tags.

    Anything that is not plain data in the forms above raises ``WireError``.

    >>> decode('{"$": "dict", "v": [["a", {"$": "tuple", "v": [1, 2]}]]}')
    {'a': (1, 2)}
    >>> decode('{"$": "ndarray", "dtype": "object", "shape": [1], "b64": ""}')
    Traceback (most recent call last):
    ...
    dlcourse.grading.protocol.WireError: an array of dtype 'object' is not allowed
    """
    if not isinstance(text, str):
        raise WireError(f"expected JSON text, got {type(text).__name__}")
    if len(text) > MAX_TEXT:
        raise WireError(f"the message is longer than {MAX_TEXT:,} characters")
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except (json.JSONDecodeError, RecursionError) as error:
        raise WireError(f"the message is not JSON ({error})") from None
    return _value(data, resolve, 0, [0])


def _no_constant(name: str) -> Any:
    raise WireError(f"bare {name} is not allowed; non-finite floats are tagged")


def _value(data: Any, resolve, depth: int, counter: list) -> Any:
    _count(depth, counter)
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [_value(item, resolve, depth + 1, counter) for item in data]
    if not isinstance(data, dict) or not isinstance(data.get("$"), str):
        raise WireError("a JSON object without a tag")
    tag = data["$"]
    if tag == "float":
        if data.get("v") not in ("nan", "inf", "-inf"):
            raise WireError(f"bad float {data.get('v')!r}")
        return float(data["v"])
    if tag in ("tuple", "set"):
        items = [_value(item, resolve, depth + 1, counter) for item in _list(data, "v")]
        try:
            return tuple(items) if tag == "tuple" else set(items)
        except TypeError:
            raise WireError("a set of unhashable items") from None
    if tag == "dict":
        result = {}
        for pair in _list(data, "v"):
            if not isinstance(pair, list) or len(pair) != 2:
                raise WireError("a dict entry that is not a [key, value] pair")
            key = _value(pair[0], resolve, depth + 1, counter)
            try:
                result[key] = _value(pair[1], resolve, depth + 1, counter)
            except TypeError:
                raise WireError("a dict key that cannot be a key") from None
        return result
    if tag in ("ndarray", "scalar"):
        array = _array(data)
        return array if tag == "ndarray" else array[()]
    if tag == "tensor":
        return _tensor(data)
    if tag in ("module", "callable", "object", "handle", "callback") and resolve is not None:
        return resolve(data)
    raise WireError(f"unknown tag {tag!r}")


def _list(data: dict, key: str) -> list:
    value = data.get(key)
    if not isinstance(value, list):
        raise WireError(f"tag {data['$']!r} needs a list in {key!r}")
    return value


def _array(data: dict, allowed=DTYPES) -> np.ndarray:
    dtype, shape, b64 = data.get("dtype"), data.get("shape"), data.get("b64")
    if dtype not in allowed:
        raise WireError(f"an array of dtype {dtype!r} is not allowed")
    if not isinstance(shape, list) or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
        raise WireError(f"bad array shape {shape!r}")
    if not isinstance(b64, str):
        raise WireError("an array without its bytes")
    try:
        raw = base64.b64decode(b64, validate=True)
    except ValueError:
        raise WireError("an array whose bytes are not base64") from None
    kind = np.dtype("float32" if dtype in TORCH_ONLY else dtype).newbyteorder("<")
    count = math.prod(shape)
    if len(raw) != count * kind.itemsize:
        raise WireError(f"an array of shape {tuple(shape)} and dtype {dtype} needs {count * kind.itemsize} bytes, "
                        f"got {len(raw)}")
    return np.frombuffer(raw, dtype=kind).astype(kind.newbyteorder("="), copy=True).reshape(shape)


def _tensor(data: dict) -> Any:
    import torch

    array = _array(data, DTYPES | TORCH_ONLY)
    tensor = torch.from_numpy(array)
    if data.get("dtype") in TORCH_ONLY:
        tensor = tensor.to(getattr(torch, data["dtype"]))
    if data.get("requires_grad") is True and tensor.is_floating_point():
        tensor.requires_grad_(True)
    return tensor
