"""The grading sandbox: what a graded notebook can and cannot do (bubblewrap, dlcourse.grading.sandbox)."""

from __future__ import annotations

import os
import socket
import stat
import sys
import sysconfig
import tempfile
import threading
import time
from pathlib import Path

import pytest
from sandboxed import SandboxedKernel, processes_with

from dlcourse.grading import sandbox

REPO = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------- the command line


def test_arguments_isolate_every_namespace_and_clear_the_environment(tmp_path):
    args = sandbox.bwrap_arguments(sandbox.Layout(tmp_path / "s"), sandbox.Limits())
    for flag in ("--unshare-all", "--unshare-user", "--die-with-parent", "--new-session", "--clearenv"):
        assert flag in args
    assert "--share-net" not in args
    assert args[args.index("--remount-ro") + 1] == "/"
    environment = {args[i + 1]: args[i + 2] for i, arg in enumerate(args) if arg == "--setenv"}
    assert environment["HOME"] == sandbox.HOME and environment["PYTHONPATH"] == sandbox.PACKAGE
    assert not any(name in environment for name in ("JPY_PARENT_PID", "SSH_AUTH_SOCK", "GITHUB_TOKEN"))


def test_only_the_system_python_package_and_scratch_are_mounted(tmp_path):
    layout = sandbox.Layout(tmp_path / "s")
    args = sandbox.bwrap_arguments(layout, sandbox.Limits())
    writable = [args[i + 2] for i, arg in enumerate(args) if arg == "--bind"]
    assert writable == [str(layout.kernel)]
    readonly = [args[i + 2] for i, arg in enumerate(args) if arg == "--ro-bind"]
    venv = str(Path(sys.prefix).resolve())
    for target in readonly:
        # nothing of the repository but the virtual environment (which may live inside it)
        assert not target.startswith(str(REPO)) or target.startswith(venv), target
        assert not target.startswith(str(Path.home())) or target.startswith((sys.base_prefix, sys.prefix)), target
    tmpfs = [args[i + 1] for i, arg in enumerate(args) if arg == "--tmpfs"]
    sized = [args[i + 1] for i, arg in enumerate(args) if arg == "--tmpfs" and "--size" in args[i - 4:i]]
    read_only = [args[i + 1] for i, arg in enumerate(args) if arg == "--tmpfs" and args[i - 4:i - 2] == ["--perms",
                                                                                                        "0555"]]
    assert tmpfs == sized                                     # every tmpfs has a size limit
    assert [t for t in tmpfs if t not in read_only] == ["/dev/shm", "/tmp", sandbox.HOME]   # the writable ones
    assert read_only == [str(folder) for folder in sandbox.package_folders()]   # package folders, emptied


def test_private_file_systems_come_before_the_binds_that_may_lie_below_them(tmp_path):
    """A virtual environment under /tmp (a fresh clone there) must not vanish under the private /tmp."""
    args = sandbox.bwrap_arguments(sandbox.Layout(tmp_path / "s"), sandbox.Limits())
    private = max(i for i, arg in enumerate(args) if arg == "--tmpfs" and args[i + 1] in ("/dev/shm", "/tmp",
                                                                                         sandbox.HOME))
    first_bind = min(i for i, arg in enumerate(args) if arg in ("--ro-bind", "--bind"))
    assert private < first_bind
    # and the emptied package folders come after the binds they cover, and before what is put back in them
    emptied = [i for i, arg in enumerate(args) if arg == "--tmpfs" and i > private]
    roots = [i for i, arg in enumerate(args) if arg == "--ro-bind" and Path(args[i + 2]) in sandbox.readonly_roots()]
    entries = [i for i, arg in enumerate(args) if arg == "--ro-bind" and "site-packages" in args[i + 2]]
    assert max(roots) < min(emptied) and max(emptied) < min(entries)


def test_a_site_packages_install_is_hidden_behind_the_staged_copy(tmp_path, monkeypatch):
    site = Path(sys.prefix).resolve() / "lib" / "site-packages" / "dlcourse"
    monkeypatch.setattr(sandbox, "installed_package", lambda: site)
    layout = sandbox.Layout(tmp_path / "s")
    args = sandbox.bwrap_arguments(layout, sandbox.Limits())
    assert args[args.index(str(site)) - 1] == str(layout.package / "dlcourse")


def test_the_staged_package_holds_the_agent_and_what_the_assignment_grants(tmp_path):
    staged = sandbox.stage_package(tmp_path, ["numpy", "dlcourse.models"])
    names = sorted(p.name for p in staged.iterdir())
    assert names == ["__init__.py", "grading", "models"]
    agent = sorted(p.name for p in (staged / "grading").iterdir())
    assert agent == ["__init__.py", "kernel_agent.py", "protocol.py", "sandbox.py"]
    assert not (staged / "checks.py").exists() and not (staged / "calc").exists()   # no references, no calc
    assert not (staged / "grading" / "checks.py").exists()
    agent_file = Path("grading") / "kernel_agent.py"
    assert (staged / agent_file).read_bytes() == (sandbox.installed_package() / agent_file).read_bytes()
    with pytest.raises(ValueError, match="not a part of dlcourse"):
        sandbox.stage_package(tmp_path / "other", ["dlcourse.no_such_module"])


def test_package_folders_are_emptied_and_only_the_allowed_distributions_come_back():
    layout = sandbox.Layout(Path("/nonexistent/scratch"))
    layout.allow = ("numpy",)
    args = sandbox.bwrap_arguments(layout, sandbox.Limits())
    hidden = [args[i + 1] for i, a in enumerate(args) if a == "--tmpfs"]
    venv_site = str(Path(sysconfig.get_paths()["purelib"]).resolve())
    assert venv_site in hidden
    shown = {Path(args[i + 2]).name for i, a in enumerate(args) if a == "--ro-bind" and
             Path(args[i + 2]).parent == Path(venv_site)}
    assert {"numpy", "ipykernel", "IPython", "zmq", "traitlets"} <= shown
    assert not shown & {"torch", "sklearn", "matplotlib", "nbgrader", "jupyter_book", "bleach"}
    layout.allow = ("numpy", "torch")
    args = sandbox.bwrap_arguments(layout, sandbox.Limits())
    assert str(Path(venv_site) / "torch") in args


def test_allow_names_only_installed_modules():
    assert sandbox.check_allow(["torch", "numpy"]) == ("numpy", "torch")
    for bad in ("numpy", ["no_such_package"], ["numpy; rm -rf /"], [""]):
        with pytest.raises(ValueError, match="allow"):
            sandbox.check_allow(bad)


# ---------------------------------------------------------------- fail closed


def test_no_bwrap_stops_grading_and_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(sandbox, "_checked", {})
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    with pytest.raises(sandbox.SandboxUnavailable, match="apt-get install bubblewrap"):
        sandbox.check_available()


def test_a_bwrap_that_cannot_make_namespaces_stops_grading_with_its_reason(monkeypatch):
    tmp_path = Path(tempfile.mkdtemp())
    tmp_path.chmod(0o755)  # the launcher runs bwrap as nobody when the tests run as root
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(sandbox, "_checked", {})
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(sandbox.SandboxUnavailable) as error:
        sandbox.check_available()
    assert "No permissions to create new namespace" in str(error.value)
    assert "user namespaces" in str(error.value)


@pytest.mark.slow
def test_the_real_sandbox_starts_here():
    sandbox.check_available()  # bubblewrap is part of the README's set-up


# ---------------------------------------------------------------- inside a graded kernel


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    submission = tmp_path_factory.mktemp("submission")
    (submission / "data.txt").write_text("the student's own file")
    with SandboxedKernel(submission, allow=["numpy"]) as kernel:
        yield kernel


@pytest.mark.slow
def test_the_kernel_runs_as_an_unprivileged_user_in_its_own_pid_namespace(kernel):
    out = kernel.run("import os\n"
                     "print(os.getuid(), os.getgid(), sorted(int(p) for p in os.listdir('/proc') if p.isdigit())[:3])\n"
                     "print(open('/proc/self/status').read().split('CapEff:')[1].split()[0])")
    uid_line, caps = out.splitlines()
    assert uid_line.startswith(f"{sandbox.INSIDE_UID} {sandbox.INSIDE_UID} [1, 2")
    assert int(caps, 16) == 0  # no capabilities at all
    outer = kernel.manager.provisioner.process.pid
    host_uid = int(Path(f"/proc/{outer}/status").read_text().split("Uid:")[1].split()[0])
    assert host_uid == (sandbox.NOBODY if os.geteuid() == 0 else os.geteuid())


@pytest.mark.slow
def test_the_kernel_sees_its_own_folder_but_not_the_course_repository_home_or_tmp(kernel, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("hidden")
    out = kernel.run(
        "import os\nprint(os.getcwd(), open('data.txt').read())\n"
        f"for path in [{str(secret)!r}, {str(REPO / 'exercises')!r}, {str(REPO / '.git')!r}, {str(Path.home())!r}, "
        f"{str(REPO / 'dlcourse')!r}, '/proc/1/root/etc/shadow']:\n"
        "    print(path, os.path.exists(path))\n")
    lines = out.splitlines()
    assert lines[0] == f"{sandbox.WORK} the student's own file"
    for line in lines[1:]:
        path, present = line.rsplit(" ", 1)
        if path == str(Path.home()) and (str(Path(sys.base_prefix)).startswith(path)):
            continue  # the interpreter's folder under $HOME is there, read-only, and nothing else of it
        assert present == "False", line


@pytest.mark.slow
def test_the_package_and_python_are_read_only_and_a_forbidden_module_cannot_be_imported(kernel):
    out = kernel.run(
        "import dlcourse.grading.kernel_agent, numpy, os, sys\n"
        "for path in [dlcourse.grading.kernel_agent.__file__, numpy.__file__, '/usr/bin/newfile', '/etc/passwd']:\n"
        "    try:\n        open(path, 'a').write('#')\n        print('WROTE', path)\n"
        "    except OSError as error:\n        print('DENIED', path, error.strerror)\n"
        "for name in ('dlcourse.calc', 'dlcourse.grading.checks', 'torch', 'sklearn', 'nbgrader'):\n"
        "    try:\n        __import__(name)\n        print('IMPORTED', name)\n"
        "    except ImportError as error:\n        print('IMPORT', name, error)\n"
        f"sys.path += {[str(p) for p in sandbox.package_folders()]!r} + [{str(REPO)!r}]\n"
        "try:\n    import torch\n    print('IMPORTED torch through sys.path')\n"
        "except ImportError:\n    print('no torch, whatever sys.path says')\n")
    assert "WROTE" not in out and "IMPORTED" not in out
    assert out.count("DENIED") == 4
    assert "IMPORT torch No module named 'torch': torch is not available while this assignment is graded; a " \
           "notebook can import the standard library and numpy only" in out
    assert "IMPORT dlcourse.grading.checks" in out and "IMPORT dlcourse.calc" in out
    assert "no torch, whatever sys.path says" in out


@pytest.mark.slow
def test_no_network_not_even_the_hosts_loopback(kernel):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(3)
    accepted = []
    thread = threading.Thread(target=lambda: accepted.append(_accept(listener)))
    thread.start()
    port = listener.getsockname()[1]
    out = kernel.run("import socket\ns = socket.socket()\ns.settimeout(2)\n"
                     f"print(s.connect_ex(('127.0.0.1', {port})))\n"
                     "print(socket.getaddrinfo.__name__)\n")
    thread.join()
    listener.close()
    assert accepted == [None]
    assert out.splitlines()[0] != "0"


def _accept(listener):
    try:
        return listener.accept()
    except OSError:
        return None


@pytest.mark.slow
def test_limits_on_memory_file_size_disk_and_processes(kernel):
    out = kernel.run(
        "import resource, numpy as np, os, subprocess\n"
        "print('AS', resource.getrlimit(resource.RLIMIT_AS)[0] // 2**30)\n"
        "try:\n    x = np.ones(6 * 2**30 // 8)\n    print('ALLOCATED')\n"
        "except MemoryError:\n    print('MEMORY refused')\n"
        "import signal\nsignal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "try:\n    open('/tmp/big', 'wb').write(b'0' * (80 * 2**20))\n    print('BIG written')\n"
        "except OSError as error:\n    print('FILE refused', error.strerror)\n"
        "os.remove('/tmp/big') if os.path.exists('/tmp/big') else None\n"
        "written = 0\n"
        "try:\n    for i in range(10):\n"
        "        open(f'/home/student/fill{i}', 'wb').write(b'0' * (60 * 2**20)); written += 1\n"
        "except OSError as error:\n    print('HOME full after', written, error.strerror)\n"
        "children = []\n"
        "try:\n    for _ in range(400):\n        children.append(subprocess.Popen(['sleep', '30']))\n"
        "    print('SPAWNED 400')\n"
        "except OSError as error:\n    print('PROCESSES refused after', len(children), error.strerror)\n"
        "for child in children:\n    child.kill()\n    child.wait()\n", timeout=60)
    assert "AS 4" in out
    assert "MEMORY refused" in out
    assert "FILE refused File too large" in out
    assert "HOME full after 4 No space left on device" in out
    assert "PROCESSES refused after" in out and "SPAWNED" not in out


@pytest.mark.slow
def test_nothing_the_notebook_starts_outlives_its_kernel(tmp_path):
    marker = f"dlcourse-outlive-{os.getpid()}-{time.time_ns()}"
    with SandboxedKernel() as kernel:
        kernel.run("import subprocess, sys, os\n"
                   f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)', {marker!r}], "
                   "start_new_session=True)\n"
                   "if os.fork() == 0:\n    os.setsid()\n"
                   f"    os.execv('/bin/sleep', ['sleep', '300', {marker!r}])\n")
        time.sleep(0.5)
        assert processes_with(marker), "the test's detached processes should be running while the kernel is"
    deadline = time.time() + 5
    while processes_with(marker) and time.time() < deadline:
        time.sleep(0.1)
    assert processes_with(marker) == []


@pytest.mark.slow
def test_the_scratch_folder_is_private_and_removed(tmp_path):
    with SandboxedKernel() as kernel:
        folder = kernel.folder
        kernel.run("open('/home/student/work/note.txt', 'w').write('x')")
        mode = stat.S_IMODE((folder / "scratch" / "kernel").stat().st_mode)
        assert mode & 0o002 == 0  # not writable by everyone
    assert not folder.exists()
