"""The student's notebook, seen from the grader: names, calls and modules that live in the sandbox.

A ``Session`` sends requests to the sandboxed kernel (``dlcourse.grading.kernel_agent`` answers them) and
reads the answers as plain data with ``dlcourse.grading.protocol``.  What cannot be plain data stays
in the sandbox and is represented here:

- ``RemoteFunction``: a function or class of the notebook; calling it calls it there,
  with the arguments sent as plain data.  When the notebook changes an array, tensor, list
  or dict passed in, the change is noted (so ``checks.check_unchanged`` can say "changed in
  place") but never written back: the grader's objects, and every expected value computed
  from them, stay as the test made them.  A function of the grader's passed in becomes a
  callback.
- ``RemoteObject``: any other object; attributes are read and methods called there.
- a replica of a torch module: real ``torch.nn`` classes (so ``isinstance``,
  ``modules()``, ``parameters()`` and ``named_children()`` work), built on the meta
  device from the layer tree the sandbox describes, with parameters of the right shapes
  but no values, whose ``forward`` runs the notebook's module in the sandbox.

Nothing here trusts the notebook: a malformed answer raises ``NotebookError``.
"""

from __future__ import annotations

import asyncio
import builtins
import ctypes
import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np

from dlcourse.grading import protocol
from dlcourse.grading.kernel_agent import CALLBACK_PROMPT, MIME

MAX_RECEIVED = 64_000_000  # characters the notebook may send back for one request
MAX_REPLICA_MODULES = 2_000   # layers of a notebook's torch module the grader copies
LAYER_COUNTS = ("num_layers", "num_encoder_layers", "num_decoder_layers")   # settings that multiply layers
MAX_LAYER_COUNT = 64
REPLICA_SECONDS = 5.0         # time the grader spends building a module's copy


class NotebookError(Exception):
    """The notebook did not give a usable answer (a missing name, no reply, not plain data)."""


class NotebookTimeout(NotebookError):
    """The notebook's code ran past the time limit and was interrupted."""


class KernelLost(NotebookError):
    """The notebook's kernel died or cannot be interrupted: it must be replaced."""


class RaisedInNotebook(Exception):
    """The notebook's code raised an exception while the grader called it."""

    def __init__(self, call: str, kind: str, message: str, notebook_traceback: str) -> None:
        super().__init__(f"{call} raised {kind}: {message}" if message else f"{call} raised {kind}")
        self.call, self.kind, self.message, self.notebook_traceback = call, kind, message, notebook_traceback


_raised_classes: dict[str, type] = {}


def raised_class(kind: str) -> type:
    """A RaisedInNotebook subclass that is also the builtin exception ``kind``, when there is one.

    So a test can write ``except ValueError`` about the notebook's code.
    """
    if kind not in _raised_classes:
        base = getattr(builtins, kind, None)
        bases: tuple[type, ...] = (RaisedInNotebook,)
        if isinstance(base, type) and issubclass(base, Exception) and base is not Exception:
            bases = (RaisedInNotebook, base)
        _raised_classes[kind] = type(kind, bases, {"__init__": RaisedInNotebook.__init__,
                                                   "__str__": lambda self: Exception.__str__(self)})
    return _raised_classes[kind]


class Session:
    """Requests to one sandboxed kernel; ``deadline`` bounds the time of everything sent."""

    def __init__(self, client: Any, manager: Any, run: Callable[[Any], Any]) -> None:
        self.client, self.manager, self.run = client, manager, run
        self.deadline: float | None = None
        self.calls = 0          # answers received since ``begin``
        self.generation = 0     # bumped when the kernel is replaced
        self.callbacks: dict[int, Callable] = {}   # the grader's functions passed to the call under way
        self.bound: dict[int, Callable] = {}       # reference functions bound to names in the notebook (< 0)

    def begin(self, seconds: float) -> None:
        """Start a new test: a fresh time budget and call count, and no changed inputs noted yet."""
        from dlcourse.grading.checks import forget_changed_inputs

        self.deadline = time.monotonic() + seconds
        self.calls = 0
        forget_changed_inputs()

    # ------------------------------------------------------------ what tests use
    def fetch(self, name: str) -> Any:
        """The value of ``name`` in the notebook (a proxy when it is not plain data)."""
        answer = self.request({"op": "get", "name": name}, f"looking up {name}")
        if answer.get("missing"):
            raise NotebookError(f"your notebook does not define {name}: run the cell that defines it, "
                                "and keep the name the question asks for")
        value = answer.get("value")
        if isinstance(value, RemoteFunction) and value.name == name.split(".")[-1]:
            value.source_name = name
        return value

    def call(self, target: dict[str, Any], what: str, args: tuple, kwargs: dict,
             path: str = "", training: dict[str, bool] | None = None) -> Any:
        self.callbacks = {}
        payload = {"op": "call", "target": json.dumps(target), "args": self.encode(list(args)),
                   "kwargs": self.encode(dict(kwargs)), "path": path, "training": training}
        answer = self.request(payload, what)
        record_changes(args, kwargs, answer.get("changes", []))
        return answer.get("value")

    def bind(self, functions: dict[str, Callable]) -> None:
        """Put the grader's ``functions`` in place of the notebook's names, until ``unbind``.

        The notebook's code that calls such a name calls the grader's function (a reference
        answer), which runs here on the arguments it is sent.  Binding is not a call of the
        student's code: ``calls`` does not count it.
        """
        if not functions:
            return
        self.bound = {-(index + 1): function for index, function in enumerate(functions.values())}
        numbers = {name: -(index + 1) for index, name in enumerate(functions)}
        calls = self.calls
        self.request({"op": "bind", "functions": numbers}, "putting the reference answers in place")
        self.calls = calls

    def unbind(self) -> None:
        """Give the notebook its own names back (after ``bind``)."""
        if not self.bound:
            return
        self.bound = {}
        calls, deadline = self.calls, self.deadline
        self.deadline = time.monotonic() + 10   # the grader's own step: not the test's time
        try:
            self.request({"op": "unbind"}, "giving the notebook its own functions back")
        except KernelLost:
            raise
        except NotebookError as error:  # the notebook's own names could not come back: start it again
            raise KernelLost(f"the notebook could not be given its own functions back ({error})") from None
        finally:
            self.calls, self.deadline = calls, deadline

    def getattr(self, target: dict[str, Any], attr: str, what: str) -> Any:
        return self.request({"op": "getattr", "target": json.dumps(target), "attr": attr}, what).get("value")

    # ------------------------------------------------------------ encoding
    def encode(self, value: Any) -> str:
        return protocol.encode(value, handle=self._outgoing)

    def _outgoing(self, value: Any) -> dict[str, Any]:
        remote = getattr(value, "_dlcourse_remote", None)
        if remote is not None:
            session, handle, path, generation = remote
            if session is not self or generation != self.generation:
                raise NotebookError("an object of the notebook from before its kernel was restarted")
            return {"$": "handle", "id": handle, "path": path}
        if callable(value):
            number = len(self.callbacks) + 1
            self.callbacks[number] = value
            return {"$": "callback", "id": number, "name": getattr(value, "__name__", "function")}
        raise protocol.WireError(f"a {type(value).__name__} cannot be sent into the notebook")

    def _incoming(self, tagged: dict[str, Any]) -> Any:
        tag, handle = tagged["$"], tagged.get("handle")
        if not isinstance(handle, str):
            raise protocol.WireError(f"a {tag} without a handle")
        if tag == "callable":
            return RemoteFunction(self, handle, str(tagged.get("name", "function")))
        if tag == "object":
            return RemoteObject(self, handle, str(tagged.get("type", "object")), str(tagged.get("repr", ""))[:300])
        if tag == "module":
            return build_replica(self, handle, tagged.get("tree"))
        raise protocol.WireError(f"the notebook cannot send a {tag!r}")

    def decode(self, text: Any) -> Any:
        try:
            return protocol.decode(text, resolve=self._incoming)
        except protocol.WireError as error:
            raise NotebookError(f"the notebook's answer is not plain data: {error}") from None

    # ------------------------------------------------------------ the exchange
    def request(self, payload: dict[str, Any], what: str) -> dict[str, Any]:
        """Send one request; return the decoded answer, or raise for the notebook's failure."""
        nonce = uuid.uuid4().hex
        payload = dict(payload, nonce=nonce)
        text = self.run(self._exchange(json.dumps(payload), nonce, what))
        answer = self.decode(text)
        if not isinstance(answer, dict) or answer.get("nonce") != nonce or not isinstance(answer.get("ok"), bool):
            raise NotebookError(f"no valid answer came back while {what}")
        self.calls += 1
        if not answer["ok"]:
            raised = answer.get("raised")
            if not isinstance(raised, dict):
                raise NotebookError(f"no valid answer came back while {what}")
            kind = str(raised.get("type", "Exception"))
            kind = kind if kind.isidentifier() else "Exception"
            raise raised_class(kind)(what, kind, str(raised.get("message", "")), str(raised.get("traceback", "")))
        return answer

    async def _exchange(self, payload_text: str, nonce: str, what: str) -> str:
        import zmq
        import zmq.asyncio

        kc = self.client
        code = f"__import__('dlcourse.grading.kernel_agent', fromlist=['serve']).serve({payload_text!r})"
        msg_id = kc.execute(code, silent=False, store_history=False, allow_stdin=True, stop_on_error=False)
        poller = zmq.asyncio.Poller()
        channels = {kc.stdin_channel.socket: kc.stdin_channel, kc.iopub_channel.socket: kc.iopub_channel,
                    kc.shell_channel.socket: kc.shell_channel}
        for socket in channels:
            poller.register(socket, zmq.POLLIN)
        answer, reply, idle, received = None, None, False, 0
        while reply is None or not idle:
            left = (self.deadline or time.monotonic() + 60) - time.monotonic()
            if left <= 0:
                await self._interrupt(msg_id)
                raise NotebookTimeout(f"the notebook's code did not finish in time while {what}; it was interrupted")
            events = dict(await poller.poll(timeout=min(left, 1.0) * 1000))
            if not events:
                if not await _maybe_async(self.manager.is_alive()):
                    raise KernelLost(f"the notebook's kernel died while {what}")
                continue
            for socket in events:
                msg = await channels[socket].get_msg(timeout=0)
                received += len(json.dumps(msg.get("content", {}), default=str))
                if received > MAX_RECEIVED:
                    await self._interrupt(msg_id)
                    raise NotebookError(f"the notebook sent more than {MAX_RECEIVED:,} characters while {what}")
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind, content = msg.get("msg_type"), msg.get("content", {})
                if socket is kc.stdin_channel.socket and kind == "input_request":
                    kc.input(self._callback(str(content.get("prompt", ""))))
                elif kind == "display_data" and isinstance(content.get("data"), dict) and MIME in content["data"]:
                    answer = content["data"][MIME]
                elif kind == "status" and content.get("execution_state") == "idle":
                    idle = True
                elif kind == "execute_reply":
                    reply = content
        if reply.get("status") != "ok":
            raise NotebookError(f"the grader's request could not run in the notebook while {what} "
                                f"({reply.get('ename', 'an error')}: {str(reply.get('evalue', ''))[:200]})")
        if not isinstance(answer, str):
            raise NotebookError(f"no answer came back from the notebook while {what}")
        return answer

    async def _interrupt(self, msg_id: str) -> None:
        """Interrupt the kernel; if it is not idle two seconds later, it is lost."""
        await _maybe_async(self.manager.interrupt_kernel())
        kc = self.client
        end = time.monotonic() + 2.0
        while time.monotonic() < end:
            try:
                msg = await kc.iopub_channel.get_msg(timeout=max(0.01, end - time.monotonic()))
            except Exception:  # queue.Empty from the channel: no message in time
                break
            if (msg.get("parent_header", {}).get("msg_id") == msg_id and msg.get("msg_type") == "status"
                    and msg.get("content", {}).get("execution_state") == "idle"):
                return
        raise KernelLost("the notebook's code could not be interrupted")

    def _callback(self, prompt: str) -> str:
        if not prompt.startswith(CALLBACK_PROMPT):
            return ""  # the notebook asked for input() itself: it gets an empty line
        try:
            question = protocol.decode(prompt[len(CALLBACK_PROMPT):], resolve=self._incoming)
            number = int(question["callback"])
            function = self.bound[number] if number < 0 else self.callbacks[number]
            left = (self.deadline or time.monotonic() + 60) - time.monotonic()  # a second kept to say so
            value = run_with_time_limit(function, list(question["args"]), dict(question["kwargs"]), left - 1.0)
            return self.encode({"ok": True, "value": value})
        except Exception as error:  # the grader's function failed on the notebook's arguments
            return protocol.encode({"ok": False, "raised": f"{type(error).__name__}: {error}"})


class _OutOfTime(BaseException):
    """Raised inside a grader's function that ran past its time (``run_with_time_limit``)."""


def run_with_time_limit(function: Callable, args: list, kwargs: dict, seconds: float) -> Any:
    """``function(*args, **kwargs)`` in this thread, stopped with ``TimeoutError`` after ``seconds``.

    The notebook chooses the arguments of the grader's functions it calls (a reference
    answer with a loop of 10**9 steps), so each call is bounded: a timer raises in this
    thread once the time is up (at the next Python instruction; a single long C call is
    not cut short).

    >>> run_with_time_limit(sum, [[1, 2, 3]], {}, 1.0)
    6
    >>> run_with_time_limit(lambda: [0 for _ in iter(int, 1)], [], {}, 0.2)
    Traceback (most recent call last):
    TimeoutError: the grader's function <lambda> ran past its 0.2 s
    """
    if seconds <= 0:
        raise TimeoutError("no time was left for the grader's function")
    thread = threading.get_ident()
    lock = threading.Lock()
    finished = [False]

    def stop() -> None:
        with lock:
            if not finished[0]:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread), ctypes.py_object(_OutOfTime))

    timer = threading.Timer(seconds, stop)
    timer.daemon = True
    timer.start()
    try:
        try:
            return function(*args, **kwargs)
        finally:
            with lock:
                finished[0] = True
            timer.cancel()
    except _OutOfTime:
        name = getattr(function, "__name__", "function")
        raise TimeoutError(f"the grader's function {name} ran past its {seconds:.2g} s") from None


async def _maybe_async(value: Any) -> Any:
    if asyncio.iscoroutine(value) or isinstance(value, asyncio.Future):
        return await value
    return value


def describe_call(name: str, args: tuple, kwargs: dict, limit: int = 120) -> str:
    """``name(args)`` as a test message shows it, shortened."""
    parts = [_short(a) for a in args] + [f"{k}={_short(v)}" for k, v in kwargs.items()]
    text = f"{name}({', '.join(parts)})"
    return text if len(text) <= limit else text[: limit - 4] + "...)"


def _short(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"<array {value.shape}>"
    torch = protocol.torch_if_loaded()
    if torch is not None and isinstance(value, torch.Tensor):
        return f"<tensor {tuple(value.shape)}>"
    if isinstance(value, (list, tuple)) and any(isinstance(v, (np.ndarray, list, tuple)) for v in value):
        inner = ", ".join(_short(v) for v in value[:6]) + (", ..." if len(value) > 6 else "")
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    if callable(value) and not isinstance(value, (RemoteFunction, RemoteObject)):
        return getattr(value, "__name__", "function")
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class RemoteFunction:
    """A function or class of the notebook, called in the sandbox."""

    def __init__(self, session: Session, handle: str, name: str) -> None:
        self._dlcourse_remote = (session, handle, "", session.generation)
        self.name = self.__name__ = name
        self.source_name: str | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        session, handle, _, generation = self._dlcourse_remote
        what = describe_call(self.name, args, kwargs)
        if generation != session.generation:
            raise NotebookError(f"{what}: the notebook's kernel was restarted and {self.name} is gone")
        return session.call({"$": "handle", "id": handle}, what, args, kwargs)

    def __repr__(self) -> str:
        return f"<{self.name} of the notebook>"


class RemoteObject:
    """Any other object of the notebook: attributes are read and methods called in the sandbox."""

    def __init__(self, session: Session, handle: str, kind: str, text: str) -> None:
        self._dlcourse_remote = (session, handle, "", session.generation)
        self.kind, self.text = kind, text

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_"):
            raise AttributeError(attr)
        session, handle, _, _ = self._dlcourse_remote
        return session.getattr({"$": "handle", "id": handle}, attr, f"reading {self.kind}.{attr}")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        session, handle, _, _ = self._dlcourse_remote
        return session.call({"$": "handle", "id": handle}, describe_call(self.kind, args, kwargs), args, kwargs)

    def __repr__(self) -> str:
        return self.text or f"<{self.kind} of the notebook>"


def record_changes(args: tuple, kwargs: dict, changes: Any) -> None:
    """Note how the notebook changed its copies of the grader's arguments, without touching the grader's.

    ``changes`` comes from ``dlcourse.grading.kernel_agent.changes``: paths into the arguments, with the
    new numbers of an array or tensor, or the new items of a list or dict.  Each located
    argument is noted with the value the notebook left (``checks.note_changed_input``), so
    ``checks.check_unchanged`` can say "changed in place"; the grader's own objects keep
    their values, so an expected value computed from them can never be steered by the
    student's code.
    """
    from dlcourse.grading.checks import note_changed_input

    if not isinstance(changes, list):
        raise NotebookError("the notebook's report of changed arguments is not a list")
    roots = {"args": list(args), "kwargs": kwargs}
    for change in changes:
        if not (isinstance(change, list) and len(change) in (3, 4) and isinstance(change[0], list)):
            raise NotebookError("a malformed report of a changed argument")
        target = _locate(roots, change[0])
        kind, now, kept = change[1], change[2], change[3] if len(change) == 4 else None
        if target is None:
            continue
        if kind == "values":
            note_changed_input(target, now)
        elif kind == "items" and isinstance(target, list) and isinstance(now, list) and isinstance(kept, list):
            if len(kept) != len(now):
                raise NotebookError("a malformed report of a changed list")
            note_changed_input(target, [target[j] if isinstance(j, int) and 0 <= j < len(target) else item
                                        for j, item in zip(kept, now)])
        elif kind == "items" and isinstance(target, dict) and isinstance(now, dict) and isinstance(kept, list):
            note_changed_input(target, {key: target[key] if key in kept and key in target else item
                                        for key, item in now.items()})


def _locate(roots: dict[str, Any], path: list[Any]) -> Any:
    if not path or path[0] not in roots:
        return None
    value = roots[path[0]]
    for key in path[1:]:
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError):
            return None
    return value


# ---------------------------------------------------------------- torch modules

def build_replica(session: Session, handle: str, tree: Any) -> Any:
    """A torch module shaped like the notebook's, from the layer tree the sandbox sent.

    Known ``torch.nn`` classes are built from their settings on the meta device (a
    notebook class derived from one becomes a subclass of it with the notebook's class
    name); other modules become plain ``nn.Module`` objects carrying ``notebook_class``.
    Parameters get the shapes, dtypes and sharing of the notebook's; every module's
    ``forward`` runs the notebook's module in the sandbox.
    """
    import torch
    from torch import nn

    if not isinstance(tree, list) or not tree or not all(isinstance(node, dict) for node in tree):
        raise protocol.WireError("a module without its layer tree")
    if len(tree) > MAX_REPLICA_MODULES:
        raise NotebookError(f"the notebook's module has {len(tree):,} layers, more than the {MAX_REPLICA_MODULES:,} "
                            "the grader copies")
    started = time.monotonic()
    built: dict[str, Any] = {}
    shared: dict[int, Any] = {}
    for node in tree:
        path = node.get("path")
        if not isinstance(path, str) or path in built:
            raise protocol.WireError("a layer tree with a bad path")
        if "same_as" in node:
            if node["same_as"] not in built:
                raise protocol.WireError("a layer tree that refers to a later layer")
            module = built[node["same_as"]]
        else:
            module = _replica_node(node, nn, torch, shared)
            module._dlcourse_remote = (session, handle, path, session.generation)
            module.forward = _RemoteForward(session, handle, path, module)
        if time.monotonic() - started > REPLICA_SECONDS:
            raise NotebookError(f"describing the notebook's module took the grader more than {REPLICA_SECONDS} s: "
                                "it is too large")
        if path:
            parent_path, _, name = path.rpartition(".")
            parent = built.get(parent_path)
            if parent is None or not name:
                raise protocol.WireError("a layer tree whose parent is missing")
            if parent._modules.get(name) is not module:
                parent._modules[name] = module
        built[path] = module
    if "" not in built:
        raise protocol.WireError("a layer tree without its root")
    return built[""]


def _replica_node(node: dict[str, Any], nn: Any, torch: Any, shared: dict[int, Any]) -> Any:
    class_name, base_name = str(node.get("class", "Module")), str(node.get("base", "Module"))
    base = getattr(nn, base_name, None)
    given = node.get("config")
    config: dict[str, Any] = given if isinstance(given, dict) else {}
    for key in LAYER_COUNTS:
        count = config.get(key)
        if isinstance(count, (int, float)) and not isinstance(count, bool) and count > MAX_LAYER_COUNT:
            raise NotebookError(f"a {class_name} with {key}={count} is more than the grader copies "
                                f"(at most {MAX_LAYER_COUNT})")
    module = None
    if isinstance(base, type) and issubclass(base, nn.Module) and base.__module__.startswith("torch.nn.modules.") \
            and base_name == base.__name__:
        cls = base if class_name == base_name else type(class_name, (base,), {"__module__": "notebook"})
        try:
            with torch.device("meta"):
                module = cls(**config) if base_name not in ("Sequential", "ModuleList", "ModuleDict") else cls()
        except (TypeError, ValueError, RuntimeError, AssertionError):  # settings this class cannot take
            module = None
    if module is None:
        module = type(class_name, (nn.Module,), {"__module__": "notebook"})()
    module.notebook_class = class_name
    for child in list(module._modules):
        module._modules.pop(child)  # children come from the tree, in the notebook's order
    wanted = {}
    for entry in node.get("params", []):
        if not (isinstance(entry, list) and len(entry) == 5):
            raise protocol.WireError("a parameter entry that is not [name, shape, dtype, requires_grad, key]")
        name, shape, dtype, requires_grad, key = entry
        dtype_obj = getattr(torch, str(dtype), None)
        if not isinstance(name, str) or not isinstance(shape, list) or not isinstance(dtype_obj, torch.dtype):
            raise protocol.WireError(f"a bad parameter entry {entry!r}")
        if key in shared:
            parameter = shared[key]
        else:
            parameter = nn.Parameter(torch.empty([int(n) for n in shape], dtype=dtype_obj, device="meta"),
                                     requires_grad=bool(requires_grad) and dtype_obj.is_floating_point)
            shared[key] = parameter
        wanted[name] = parameter
    for name in list(module._parameters):
        if name not in wanted:
            module._parameters[name] = None
    for name, parameter in wanted.items():
        module._parameters[name] = parameter
    module.training = bool(node.get("training", True))
    return module


class _RemoteForward:
    def __init__(self, session: Session, handle: str, path: str, module: Any) -> None:
        self.session, self.handle, self.path = session, handle, path
        self.module_name = getattr(module, "notebook_class", type(module).__name__)
        self.module = module

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        generation = self.module._dlcourse_remote[3]
        what = describe_call(f"{self.module_name}.forward", args, kwargs)
        if generation != self.session.generation:
            raise NotebookError(f"{what}: the notebook's kernel was restarted and the module is gone")
        training = {name: sub.training for name, sub in self.module.named_modules()}
        return self.session.call({"$": "handle", "id": self.handle}, what, args, kwargs,
                                 path=self.path, training={_join(self.path, k): v for k, v in training.items()})


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix and name else prefix or name


class NotebookNames(dict):
    """The namespace of the trusted tests: the instructor's names, and on demand the student's.

    A name the instructor's cells did not define is looked up in the notebook
    (``Session.fetch``); builtins are never looked up there.
    """

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        self.from_notebook: list[str] = []

    def __missing__(self, name: str) -> Any:
        if name.startswith("__") or hasattr(builtins, name):
            raise KeyError(name)
        value = self.session.fetch(name)
        self[name] = value
        self.from_notebook.append(name)
        return value

    def forget_notebook_names(self) -> None:
        """Look the student's names up again in the next test (their values may have changed)."""
        for name in self.from_notebook:
            self.pop(name, None)
        self.from_notebook = []
