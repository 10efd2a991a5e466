"""The grader calling a notebook's code in the sandbox (dlcourse.grading.notebook_proxy and
dlcourse.grading.kernel_agent)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sandboxed import SandboxedKernel
from torch import nn

from dlcourse.grading import notebook_proxy as remote
from dlcourse.grading.notebook_proxy import KernelLost, NotebookError, NotebookNames, NotebookTimeout, RaisedInNotebook

pytestmark = pytest.mark.slow

NOTEBOOK = '''
import numpy as np, torch
from torch import nn

answer = 42
shape = (3, 4)

def double(x):
    return 2 * x

def as_float32(x):
    return np.asarray(x, dtype=np.float32)

def scale_in_place(w, factor):
    w *= factor
    return None

def replace_first(params):
    params[0] = params[0] + 1
    return params

def append_item(items):
    items.append(len(items))

def gradient(f, w, eps=1e-6):
    grad = np.zeros_like(w)
    for i in np.ndindex(w.shape):
        up, down = w.copy(), w.copy()
        up[i] += eps
        down[i] -= eps
        grad[i] = (f(up) - f(down)) / (2 * eps)
    return grad

def cell(x):
    return x + 100                    # the student's own (wrong) answer to an earlier question

def sequence(xs):
    return [cell(x) for x in xs]      # a later answer that reuses it

def picky(n):
    if n < 0:
        raise ValueError(f"n must be at least 0, got {n}")
    return n

class Counter:
    def __init__(self, start):
        self.count = start
    def step(self, by=1):
        self.count += by
        return self.count

class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1, groups=c, bias=False)
        self.shared = nn.Linear(4, 4)
        self.body = nn.Sequential(nn.Sequential(self.shared, nn.ReLU()), self.shared)
    def forward(self, x):
        return self.body(self.conv(x))

def make_block(c):
    torch.manual_seed(0)
    return Block(c)

def spin():
    while True:
        pass

def stubborn():
    import signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        pass

def vanish():
    import os
    os._exit(3)
'''


@pytest.fixture(scope="module")
def kernel():
    with SandboxedKernel() as kernel:
        kernel.run(NOTEBOOK)
        yield kernel


@pytest.fixture
def session(kernel):
    kernel.session.begin(20)
    return kernel.session


def test_plain_values_and_a_missing_name(session):
    assert session.fetch("answer") == 42
    assert session.fetch("shape") == (3, 4)
    with pytest.raises(NotebookError, match="does not define missing_name"):
        session.fetch("missing_name")


def test_calls_send_and_return_arrays_exactly(session):
    x = np.random.default_rng(0).normal(size=(2, 3))
    np.testing.assert_array_equal(session.fetch("double")(x), 2 * x)
    single = session.fetch("as_float32")([0.1, 0.2])
    assert single.dtype == np.float32 and single.tolist() == np.asarray([0.1, 0.2], dtype=np.float32).tolist()


def test_changes_to_the_arguments_are_noted_and_never_written_back(session):
    """The grader's objects keep their values (an expected value computed from them cannot be steered),
    and check_unchanged sees what the notebook did to its copies."""
    from dlcourse.grading import checks

    session.begin(30)
    w = np.array([1.0, 2.0])
    assert session.fetch("scale_in_place")(w, 3.0) is None
    np.testing.assert_array_equal(w, [1.0, 2.0])                          # the grader's array is as it was
    np.testing.assert_array_equal(checks.as_the_notebook_left_it(w), [3.0, 6.0])
    with pytest.raises(AssertionError, match=r"w was changed in place: at index 0 it was 1.0, it is now 3.0"):
        checks.check_unchanged(w, [1.0, 2.0], "w")

    first, second = np.array([1.0]), np.array([5.0])
    params = [first, second]
    returned = session.fetch("replace_first")(params)
    assert params[0] is first and params[1] is second                     # the grader's list is as it was
    np.testing.assert_array_equal(checks.as_the_notebook_left_it(params)[0], [2.0])
    assert checks.as_the_notebook_left_it(params)[1] is second
    np.testing.assert_array_equal(returned[0], [2.0])

    items = [0]
    session.fetch("append_item")(items)
    assert items == [0] and checks.as_the_notebook_left_it(items) == [0, 1]
    session.begin(30)                                                      # the next test starts clean
    assert checks.as_the_notebook_left_it(items) is items


def test_a_grader_function_passed_in_is_called_back(session):
    A = np.arange(6.0).reshape(2, 3)
    w = np.ones((2, 3))
    grad = session.fetch("gradient")(lambda v: float(np.sum(A * v ** 3)), w)
    np.testing.assert_allclose(grad, 3 * A * w ** 2, rtol=1e-5, atol=1e-6)
    with pytest.raises(RaisedInNotebook, match="the grader's function"):
        session.fetch("gradient")(lambda v: 1 / 0, w)


def test_a_bound_reference_stands_in_for_a_name_until_unbound(session):
    """A mistake costs its own question: while a later test runs, the notebook's code calls the
    reference (run here) in place of its own failed function; afterwards its own is back."""
    seen = []

    def reference_cell(x):
        seen.append(x)
        return x + 1

    assert session.fetch("sequence")([1, 2]) == [101, 102]
    calls = session.calls
    session.bind({"cell": reference_cell})
    assert session.calls == calls                       # binding is not a call of the student's code
    assert session.fetch("sequence")([1, 2]) == [2, 3]
    assert seen == [1, 2]
    session.unbind()
    assert session.fetch("sequence")([1, 2]) == [101, 102]

    def endless(x):
        while True:
            x += 1

    session.begin(1.5)
    session.bind({"cell": endless})                     # a reference looped by the notebook's arguments stops
    try:
        with pytest.raises(RaisedInNotebook, match="ran past its"):
            session.fetch("sequence")([1])
    finally:
        session.unbind()
    session.begin(20)
    assert session.fetch("sequence")([5]) == [105]


def test_the_notebooks_exceptions_keep_their_builtin_type(session):
    with pytest.raises(ValueError, match="n must be at least 0, got -1") as error:
        session.fetch("picky")(-1)
    assert isinstance(error.value, RaisedInNotebook)
    assert "picky(-1) raised ValueError" in str(error.value)
    assert "raise ValueError" in error.value.notebook_traceback


def test_other_objects_stay_in_the_notebook(session):
    counter = session.fetch("Counter")(10)
    assert isinstance(counter, remote.RemoteObject)
    assert counter.step(5) == 15 and counter.count == 15


def test_a_module_comes_back_as_a_replica_with_the_same_structure(session):
    block = session.fetch("make_block")(4)
    same_code: dict = {}
    exec(NOTEBOOK, same_code)  # the notebook's own code, run here: the module the replica stands for
    real = same_code["make_block"](4)
    assert block.notebook_class == "Block"
    assert [type(m).__name__ for m in block.modules()] == [type(m).__name__ for m in real.modules()]
    assert sum(p.numel() for p in block.parameters()) == sum(p.numel() for p in real.parameters())
    assert block.shared is block.body[1] and block.body[0][0] is block.shared  # shared, as in the notebook
    conv = block.conv
    assert isinstance(conv, nn.Conv2d) and conv.groups == 4 and conv.bias is None
    assert all(p.device.type == "meta" for p in block.parameters())  # shapes only, no values
    x = torch.randn(2, 4, 4, 4)
    np.testing.assert_allclose(block(x).detach().numpy(), real(x).detach().numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(block.conv(x).detach().numpy(), real.conv(x).detach().numpy(), rtol=1e-6, atol=1e-6)


def test_names_the_instructor_did_not_define_come_from_the_notebook(session):
    names = NotebookNames(session)
    names["np"] = np  # as the instructor's imports cell would
    exec("result = double(np.array([1.5]))\nlength = len([1, 2])", names)
    assert names.from_notebook == ["double"]  # builtins are never looked up there
    assert names["length"] == 2
    np.testing.assert_array_equal(names["result"], [3.0])
    names.forget_notebook_names()
    assert "double" not in names


def test_a_loop_is_interrupted_at_the_deadline_and_the_kernel_goes_on(kernel):
    kernel.session.begin(2)
    with pytest.raises(NotebookTimeout, match="did not finish in time"):
        kernel.session.fetch("spin")()
    kernel.session.begin(20)
    assert kernel.session.fetch("answer") == 42


def test_a_kernel_that_ignores_interrupts_or_exits_is_lost():
    with SandboxedKernel() as kernel:
        kernel.run(NOTEBOOK)
        kernel.session.begin(2)
        with pytest.raises(KernelLost):
            kernel.session.fetch("stubborn")()
    with SandboxedKernel() as kernel:
        kernel.run(NOTEBOOK)
        kernel.session.begin(20)
        with pytest.raises(KernelLost, match="died"):
            kernel.session.fetch("vanish")()


def test_an_answer_that_is_not_plain_data_is_refused(kernel, monkeypatch):
    kernel.run("import dlcourse.grading.kernel_agent as agent\n"
               "agent.protocol.encode = lambda value, handle=None: '{\"$\": \"pickle\"}'")
    try:
        kernel.session.begin(20)
        with pytest.raises(NotebookError, match="not plain data"):
            kernel.session.fetch("answer")
    finally:
        kernel.run("import importlib, dlcourse.grading.protocol\n"
                   "agent.protocol.encode = importlib.reload(dlcourse.grading.protocol).encode")
    assert kernel.session.fetch("answer") == 42


def test_a_notebook_that_stops_answering_gives_no_answer():
    with SandboxedKernel() as kernel:
        kernel.run("answer = 42\nget_ipython().input_transformers_cleanup.append(lambda lines: [])")
        kernel.session.begin(20)
        with pytest.raises(NotebookError, match="no answer came back"):
            kernel.session.fetch("answer")
