"""The grader's requests, answered inside the sandbox: look up a name, call a function.

This module runs in the student's kernel, so nothing here is trusted: the grader sends a
request as JSON text (``serve``), and reads back JSON text written by ``dlcourse.grading.protocol``.
Whatever a notebook does to this module, the worst it can do is answer wrongly or not
at all, and a question whose check gets no plain answer scores zero.

Objects that are not plain data (a function, a torch module, an instance of a class of
the notebook) stay here under a handle; the grader gets the handle and a description
(for a module: its layer tree, the classes, their settings and parameter shapes) and
can call them again.  A function of the grader's passed as an argument arrives as a
callback: calling it asks the grader for the result over the kernel's input channel.
"""

from __future__ import annotations

import inspect
import json
import traceback
from typing import Any

import numpy as np

from dlcourse.grading import protocol

MIME = "application/vnd.dlcourse.probe+json"
CALLBACK_PROMPT = "dlcourse-callback:"

_handles: dict[str, Any] = {}
_handle_of: dict[int, str] = {}
_ABSENT = object()
_bound: dict[str, Any] = {}     # names the grader bound to its functions -> the notebook's own value


def serve(request_text: str) -> None:
    """Answer one request of the grader; the answer is published as display data."""
    request = json.loads(request_text)
    nonce = str(request.get("nonce", ""))
    try:
        answer = {"nonce": nonce, "ok": True, **_answer(request)}
    except Exception as error:  # the notebook's own error: described, then judged by the grader
        answer = {"nonce": nonce, "ok": False, "raised": describe_error(error)}
    try:
        text = protocol.encode(answer, handle=_handle)
    except protocol.WireError as error:
        text = protocol.encode({"nonce": nonce, "ok": False, "raised": {"type": "WireError", "message": str(error),
                                                                      "traceback": ""}})
    from IPython.display import publish_display_data

    publish_display_data({MIME: text})


def _answer(request: dict[str, Any]) -> dict[str, Any]:
    from IPython import get_ipython

    names = get_ipython().user_ns
    op = request.get("op")
    if op == "get":
        name = request["name"]
        if name not in names or name.startswith("_"):
            return {"missing": True}
        return {"value": names[name]}
    if op == "call":
        target = protocol.decode(request["target"], resolve=_resolve)
        args = protocol.decode(request["args"], resolve=_resolve)
        kwargs = protocol.decode(request["kwargs"], resolve=_resolve)
        path = request.get("path") or ""
        if path or request.get("training") is not None:
            target = _prepare_module(target, path, request.get("training") or {})
        before = snapshot(["args"], args) + snapshot(["kwargs"], kwargs)
        value = target(*args, **kwargs)
        return {"value": value, "changes": changes(before)}
    if op == "getattr":
        target = protocol.decode(request["target"], resolve=_resolve)
        return {"value": getattr(target, request["attr"])}
    if op == "bind":   # the grader's functions stand in for these names until "unbind"
        for name, number in dict(request["functions"]).items():
            if not str(name).isidentifier():
                raise ValueError(f"cannot bind {name!r}")
            _bound.setdefault(name, names.get(name, _ABSENT))
            names[name] = Callback(int(number), name)
        return {"value": None}
    if op == "unbind":
        for name, value in _bound.items():
            if value is _ABSENT:
                names.pop(name, None)
            else:
                names[name] = value
        _bound.clear()
        return {"value": None}
    raise ValueError(f"unknown request {op!r}")


def snapshot(path: list[Any], value: Any) -> list[tuple[list[Any], Any, Any]]:
    """Every array, tensor, list and dict inside ``value``, with a copy of its contents now."""
    found: list[tuple[list[Any], Any, Any]] = []
    torch = protocol.torch_if_loaded()
    if isinstance(value, np.ndarray):
        found.append((path, value, value.copy()))
    elif torch is not None and isinstance(value, torch.Tensor):
        found.append((path, value, value.detach().clone()))
    elif isinstance(value, list):
        found.append((path, value, list(value)))
        for index, item in enumerate(value):
            found += snapshot(path + [index], item)
    elif isinstance(value, dict):
        found.append((path, value, dict(value)))
        for key, item in value.items():
            found += snapshot(path + [key], item)
    elif isinstance(value, tuple):
        for index, item in enumerate(value):
            found += snapshot(path + [index], item)
    return found


def changes(before: list[tuple[list[Any], Any, Any]]) -> list[list[Any]]:
    """``[path, "values", now]`` or ``[path, "items", now, kept]`` for each object the call changed.

    "values": an array's or tensor's numbers changed in place; "items": a list's or dict's
    items were replaced, added or removed, and ``kept`` says which of the new items are
    the very objects that were there before (their old index, or -1; for a dict, their keys).
    """
    found = []
    torch = protocol.torch_if_loaded()
    for path, obj, copy in before:
        if isinstance(obj, np.ndarray):
            if obj.shape != copy.shape or not np.array_equal(obj, copy, equal_nan=obj.dtype.kind in "fc"):
                found.append([path, "values", obj])
        elif torch is not None and isinstance(obj, torch.Tensor):
            if obj.shape != copy.shape or not torch.equal(obj.detach(), copy):
                found.append([path, "values", obj])
        elif isinstance(obj, list):
            if len(obj) != len(copy) or any(a is not b for a, b in zip(obj, copy)):
                kept = [next((j for j, old in enumerate(copy) if old is item), -1) for item in obj]
                found.append([path, "items", obj, kept])
        elif isinstance(obj, dict) and (obj.keys() != copy.keys() or any(obj[k] is not copy[k] for k in obj)):
            kept = [key for key, item in obj.items() if key in copy and copy[key] is item]
            found.append([path, "items", obj, kept])
    return found


def _prepare_module(module: Any, path: str, training: dict[str, bool]) -> Any:
    for sub_path, flag in training.items():
        module.get_submodule(sub_path).training = bool(flag)
    return module.get_submodule(path) if path else module


def _resolve(tagged: dict[str, Any]) -> Any:
    tag = tagged["$"]
    if tag == "handle":
        key, path = tagged.get("id"), tagged.get("path") or ""
        if key not in _handles:
            raise protocol.WireError(f"no object under handle {key!r} (the kernel was restarted?)")
        return _handles[key].get_submodule(path) if path else _handles[key]
    if tag == "callback":
        return Callback(int(tagged.get("id")), str(tagged.get("name", "function")))  # type: ignore[arg-type]
    raise protocol.WireError(f"the grader cannot send a {tag!r}")


def _handle(value: Any) -> dict[str, Any]:
    key = _handle_of.get(id(value))
    if key is None or _handles.get(key) is not value:
        key = f"h{len(_handles) + 1}"
        _handles[key] = value
        _handle_of[id(value)] = key
    torch = protocol.torch_if_loaded()
    if torch is not None and isinstance(value, torch.nn.Module):
        return {"$": "module", "handle": key, "tree": describe_module(value)}
    if callable(value):
        return {"$": "callable", "handle": key, "name": str(getattr(value, "__qualname__", type(value).__name__))}
    return {"$": "object", "handle": key, "type": type(value).__qualname__, "repr": _short_repr(value)}


def _short_repr(value: Any, limit: int = 300) -> str:
    try:
        text = repr(value)
    except Exception as error:  # a broken __repr__ of the notebook's own class
        text = f"<{type(value).__name__} whose repr raised {type(error).__name__}>"
    return text if len(text) <= limit else text[:limit] + "..."


def describe_error(error: BaseException) -> dict[str, str]:
    """The exception's type, message and the traceback of the notebook's own frames."""
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename != __file__]
    text = "".join(traceback.format_list(frames[-8:]))
    return {"type": type(error).__name__, "message": str(error)[:2000], "traceback": text[-4000:]}


def describe_module(module: Any) -> list[dict[str, Any]]:
    """The layer tree of a torch module, parents before children, as plain data.

    Each node has its path, its class and the torch.nn class it derives from (with that
    class's settings, read from the module's attributes), its own parameters and
    buffers (shapes only), its training flag; a module reachable under a second path is
    listed there as ``same_as`` the first.
    """
    import torch

    nodes: list[dict[str, Any]] = []
    first_path: dict[int, str] = {}
    share: dict[int, int] = {}
    for path, sub in module.named_modules(remove_duplicate=False):
        if id(sub) in first_path:
            nodes.append({"path": path, "same_as": first_path[id(sub)]})
            continue
        first_path[id(sub)] = path
        base = next((cls for cls in type(sub).__mro__ if cls.__module__.startswith("torch.nn.modules.")),
                    torch.nn.Module)
        params = []
        for name, parameter in sub.named_parameters(recurse=False):
            params.append([name, list(parameter.shape), str(parameter.dtype).replace("torch.", ""),
                           bool(parameter.requires_grad), share.setdefault(id(parameter), len(share))])
        buffers = [[name, list(buffer.shape), str(buffer.dtype).replace("torch.", "")]
                   for name, buffer in sub.named_buffers(recurse=False) if buffer is not None]
        nodes.append({"path": path, "class": type(sub).__qualname__, "base": base.__name__,
                      "config": _settings(sub, base), "params": params, "buffers": buffers,
                      "training": bool(sub.training), "hooks": _has_hooks(sub)})
    return nodes


def _settings(module: Any, base: type) -> dict[str, Any]:
    """The arguments of ``base.__init__`` that the module keeps as attributes, when plain."""
    settings: dict[str, Any] = {}
    try:
        parameters = inspect.signature(base.__init__).parameters  # type: ignore[misc]  # the class's own __init__
    except (TypeError, ValueError):
        return settings
    for name, parameter in parameters.items():
        if name in ("self", "device", "dtype") or parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if not hasattr(module, name):
            continue
        value = getattr(module, name)
        if name == "bias" and not isinstance(value, bool):
            value = value is not None
        if _is_plain(value):
            settings[name] = value
    return settings


def _is_plain(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (tuple, list)):
        return all(_is_plain(item) for item in value)
    return False


def _has_hooks(module: Any) -> bool:
    return bool(getattr(module, "_forward_hooks", None) or getattr(module, "_forward_pre_hooks", None)
                or "forward" in vars(module))


class Callback:
    """A function of the grader's: calling it asks the grader, over the kernel's input channel."""

    def __init__(self, number: int, name: str) -> None:
        self.number, self.__name__ = number, name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        question = protocol.encode({"callback": self.number, "args": list(args), "kwargs": kwargs}, handle=_handle)
        from IPython import get_ipython

        reply = get_ipython().kernel.raw_input(CALLBACK_PROMPT + question)
        answer = protocol.decode(reply, resolve=_resolve)
        if not isinstance(answer, dict) or "ok" not in answer:
            raise RuntimeError("the grader's function gave no answer")
        if not answer["ok"]:
            raise RuntimeError(f"the grader's function {self.__name__} raised {answer.get('raised')}")
        return answer["value"]

    def __repr__(self) -> str:
        return f"<the grader's function {self.__name__}>"
