"""The sandbox that runs a student's notebook while it is graded (bubblewrap).

A graded notebook is untrusted code.  Its kernel runs inside ``bwrap`` (bubblewrap, the
sandbox Flatpak uses) with:

- its own user, PID, network, IPC and UTS namespaces: an unprivileged user with no
  capabilities, ``/proc`` that shows only its own processes, no network at all, and no
  process that outlives the kernel (the namespace dies with it);
- a file system made of read-only binds: the system (``/usr``), the Python installation
  and its environment, and a copy of ``dlcourse`` (without the modules the assignment
  forbids); nothing of the course folder, the repository, other checkouts, ``$HOME`` or
  the host's ``/tmp``;
- a writable home (``/home/student``, a size-limited tmpfs) holding a private copy of the
  submission's folder, a private ``/tmp``, and the kernel's socket folder;
- limits on memory, processes, file size, open files and CPU time.

When the grader runs as root, the sandbox's processes belong to the host user ``nobody``
(the launcher binds the paths it needs in a private mount namespace first, so an
interpreter under ``/root`` still works).

Trusted side: ``Layout`` and ``Limits`` describe one sandbox; ``bwrap_arguments`` turns
them into a command line; ``check_available`` refuses to go on, with a message saying
what to install, when bubblewrap is missing or cannot make namespaces; ``launch`` (the
kernel's command, ``python -m dlcourse.sandbox launch CONFIG CONNECTION_FILE``) starts
bwrap.  Inside: ``boot`` sets the limits, copies the submission into the home folder and
starts the IPython kernel.
"""

from __future__ import annotations

import ctypes
import dataclasses
import functools
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

NOBODY = 65534                     # host user of the sandbox when the grader is root
INSIDE_UID = 1000                  # the student's user id as seen inside
HOME = "/home/student"
WORK = f"{HOME}/work"
SUBMISSION = "/opt/submission"     # read-only: the submission's folder, copied to WORK at start
PACKAGE = "/opt/dlcourse"          # read-only: the copy of dlcourse on PYTHONPATH
OUTPUT_LIMIT = 1_000_000           # characters of printed output per stream (a courtesy; the grader enforces its own)
INSTALL_HINT = ("install bubblewrap: `sudo apt-get install bubblewrap` (Debian, Ubuntu), "
                "`sudo dnf install bubblewrap` (Fedora) or your system's package of that name")


class SandboxUnavailable(RuntimeError):
    """The sandbox cannot be set up here; grading must not go on without it."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of one graded notebook's kernel."""

    memory: int = 4 << 30          # bytes of address space (RLIMIT_AS)
    processes: int = 256           # processes and threads of the sandbox's user (RLIMIT_NPROC)
    file_size: int = 64 << 20      # bytes in any one file written (RLIMIT_FSIZE)
    open_files: int = 1024         # RLIMIT_NOFILE
    cpu_seconds: int = 900         # CPU time of the whole kernel (RLIMIT_CPU)
    home_size: int = 256 << 20     # bytes of the writable home (tmpfs)
    tmp_size: int = 256 << 20      # bytes of /tmp (tmpfs)
    shm_size: int = 64 << 20       # bytes of /dev/shm (tmpfs)


@dataclass
class Layout:
    """The host folders of one sandbox, all under ``scratch`` (deleted afterwards)."""

    scratch: Path
    kernel: Path = field(init=False)       # connection file and sockets: bound read-write at the same path
    submission: Path = field(init=False)   # a copy of the submission's folder
    package: Path = field(init=False)      # the staged copy of dlcourse
    etc: Path = field(init=False)          # passwd and group for the student user
    roots: Path = field(init=False)        # mount points for the root launcher

    def __post_init__(self) -> None:
        self.scratch = Path(self.scratch)
        for name in ("kernel", "submission", "package", "etc", "roots"):
            setattr(self, name, self.scratch / name)

    def create(self, submission_folder: Optional[Path], forbid: Sequence[str] = ()) -> "Layout":
        """Make the folders: copy the submission's folder, stage dlcourse, write passwd/group."""
        for folder in (self.kernel, self.etc, self.roots):
            folder.mkdir(parents=True, exist_ok=True)
        if submission_folder is not None:
            shutil.copytree(submission_folder, self.submission, symlinks=True,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        else:
            self.submission.mkdir()
        stage_package(self.package, forbid)
        (self.etc / "passwd").write_text(f"student:x:{INSIDE_UID}:{INSIDE_UID}:student:{HOME}:/bin/sh\n"
                                         "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
        (self.etc / "group").write_text(f"student:x:{INSIDE_UID}:\nnogroup:x:65534:\n")
        self.scratch.chmod(0o755)
        parent = self.scratch.parent
        parent.chmod(parent.stat().st_mode | 0o111)  # the sandbox's user must reach the folders it binds
        if os.geteuid() == 0:
            for path in [self.scratch, *self.scratch.rglob("*")]:
                os.lchown(path, NOBODY, NOBODY)
        return self


def readonly_roots() -> List[Path]:
    """Host folders the sandbox sees read-only: the system and this Python's installation."""
    roots = [Path("/usr")]
    for lib in ("/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin"):
        if Path(lib).exists() and not Path(lib).is_symlink():
            roots.append(Path(lib))
    for prefix in {sys.base_prefix, sys.prefix, sys.exec_prefix, sys.base_exec_prefix}:
        roots.append(Path(prefix).resolve())
    roots.append(Path(sys.executable).resolve().parent)
    unique: List[Path] = []
    for root in sorted(set(roots), key=lambda p: (len(p.parts), str(p))):
        if not any(root == kept or kept in root.parents for kept in unique):
            unique.append(root)
    return unique


def system_symlinks() -> Dict[str, str]:
    """``/bin -> usr/bin`` and the like, where the host has them (merged /usr)."""
    links = {}
    for lib in ("/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin"):
        if Path(lib).is_symlink():
            links[lib] = os.readlink(lib)
    return links


def installed_package() -> Path:
    """The folder of the dlcourse package this process imports (editable or installed)."""
    return Path(__file__).resolve().parent


def stage_package(target: Path, forbid: Sequence[str] = ()) -> Path:
    """Copy dlcourse into ``target/dlcourse`` with each forbidden subpackage replaced by a stub.

    The stub raises ImportError with a message, so a banned module is not there at all
    inside the sandbox: the ban is a fact, not a guess from the answer's source.

    >>> import tempfile
    >>> staged = stage_package(Path(tempfile.mkdtemp()), ["dlcourse.calc"])
    >>> sorted(p.name for p in (staged / "calc").iterdir())
    ['__init__.py']
    >>> (staged / "checks.py").exists()
    True
    """
    names = [name for name in forbid]
    for name in names:
        if not name.startswith("dlcourse.") or not all(part.isidentifier() for part in name.split(".")):
            raise ValueError(f"only parts of dlcourse can be forbidden (like 'dlcourse.calc'), got {name!r}")
    destination = Path(target) / "dlcourse"
    shutil.copytree(installed_package(), destination, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in names:
        relative = Path(*name.split(".")[1:])
        for path in (destination / relative, destination / relative.with_suffix(".py")):
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
        stub = destination / relative / "__init__.py"
        stub.parent.mkdir(parents=True, exist_ok=True)
        stub.write_text(f"raise ImportError({name!r} ' is not available while this assignment is graded: '\n"
                        "                  'write it yourself, as the assignment asks')\n", encoding="utf-8")
    return destination


def bwrap_arguments(layout: Layout, limits: Limits, sources: Optional[Dict[str, str]] = None,
                    features: Sequence[str] = ()) -> List[str]:
    """The bwrap options for ``layout``: every mount, namespace and environment variable.

    ``sources`` maps a host path to the path bwrap should bind it from (the root launcher
    binds them under ``layout.roots`` first); by default each is bound from itself.
    """
    sources = sources or {}

    def source(path: Path) -> str:
        return sources.get(str(path), str(path))

    args = ["--unshare-all", "--unshare-user", "--die-with-parent", "--new-session", "--hostname", "sandbox",
            "--uid", str(INSIDE_UID), "--gid", str(INSIDE_UID)]
    if "disable-userns" in features:
        args.append("--disable-userns")
    # The private file systems first: a bind below /tmp (a virtual environment there) must land on top of them.
    args += ["--proc", "/proc", "--dev", "/dev",
             "--size", str(limits.shm_size), "--tmpfs", "/dev/shm",
             "--size", str(limits.tmp_size), "--tmpfs", "/tmp",
             "--size", str(limits.home_size), "--perms", "0700", "--tmpfs", HOME]
    for root in readonly_roots():
        args += ["--ro-bind", source(root), str(root)]
    for link, target in system_symlinks().items():
        args += ["--symlink", target, link]
    for name in ("ld.so.cache", "localtime"):
        if Path("/etc", name).exists():
            args += ["--ro-bind", source(Path("/etc", name)), f"/etc/{name}"]
    args += ["--ro-bind", source(layout.etc / "passwd"), "/etc/passwd",
             "--ro-bind", source(layout.etc / "group"), "/etc/group",
             "--ro-bind", source(layout.submission), SUBMISSION,
             "--ro-bind", source(layout.package), PACKAGE]
    package = installed_package()
    for root in readonly_roots():
        if root in package.parents:  # a site-packages install: hide the real one behind the staged copy
            args += ["--ro-bind", source(layout.package / "dlcourse"), str(package)]
    args += ["--bind", source(layout.kernel), str(layout.kernel),
             "--remount-ro", "/", "--chdir", HOME, "--clearenv"]
    for name, value in sandbox_environment().items():
        args += ["--setenv", name, value]
    return args


def sandbox_environment() -> Dict[str, str]:
    """The whole environment of the sandboxed kernel (nothing of the grader's leaks in)."""
    bin_dirs = [str(Path(sys.prefix) / "bin"), "/usr/local/bin", "/usr/bin", "/bin"]
    return {
        "HOME": HOME, "USER": "student", "LOGNAME": "student", "LANG": "C.UTF-8",
        "PATH": ":".join(dict.fromkeys(bin_dirs)),
        "PYTHONPATH": PACKAGE, "PYTHONNOUSERSITE": "1", "PYTHONDONTWRITEBYTECODE": "1",
        "TMPDIR": "/tmp", "MPLCONFIGDIR": f"{HOME}/.config/matplotlib", "IPYTHONDIR": f"{HOME}/.ipython",
        "JUPYTER_CONFIG_DIR": f"{HOME}/.jupyter", "JUPYTER_DATA_DIR": f"{HOME}/.local/share/jupyter",
        "JUPYTER_RUNTIME_DIR": f"{HOME}/.local/share/jupyter/runtime", "JUPYTER_PLATFORM_DIRS": "1",
        "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
    }


def inside_command(limits: Limits, connection_file: str, extra: Sequence[str] = ()) -> List[str]:
    """The command bwrap runs: ``boot`` with the limits, then the kernel's own arguments."""
    return [sys.executable, "-m", "dlcourse.sandbox", "boot", json.dumps(dataclasses.asdict(limits)),
            "--", "-f", connection_file, *extra]


# ---------------------------------------------------------------- can it run here?

@functools.lru_cache(maxsize=None)
def bwrap_features() -> Tuple[str, ...]:
    """Options of the installed bwrap that not every version has."""
    executable = shutil.which("bwrap")
    if executable is None:
        return ()
    text = subprocess.run([executable, "--help"], capture_output=True, text=True).stdout
    return tuple(name for name in ("disable-userns",) if f"--{name}" in text)


_checked: Dict[Tuple, bool] = {}


def check_available(limits: Optional[Limits] = None) -> None:
    """Start a throw-away sandbox with this layout and Python; raise SandboxUnavailable if it fails.

    The message names what is missing and how to install or allow it.
    """
    limits = limits or Limits()
    key = (sys.executable, os.geteuid())
    if _checked.get(key):
        return
    if shutil.which("bwrap") is None:
        raise SandboxUnavailable("bubblewrap (`bwrap`) is not installed, and graded notebooks must run in it: "
                                 f"{INSTALL_HINT}")
    with tempfile.TemporaryDirectory(prefix="dlcourse-sandbox-check-") as folder:
        layout = Layout(Path(folder) / "scratch").create(None)
        command = [sys.executable, "-c", "import os, sys; assert os.getuid() != 0 and os.getpid() == 2; "
                   "import ipykernel, dlcourse.probe; print('sandbox ok')"]
        config = write_launch_config(layout, limits, command)
        result = subprocess.run([sys.executable, "-m", "dlcourse.sandbox", "launch", str(config)],
                                capture_output=True, text=True, timeout=120)
    if "sandbox ok" not in result.stdout:
        raise SandboxUnavailable(
            "bubblewrap could not start the grading sandbox, and graded notebooks must run in it.\n"
            f"bwrap said: {(result.stderr or result.stdout).strip()[-800:] or f'exit code {result.returncode}'}\n"
            "It needs Linux user namespaces: as an ordinary user they must be allowed (on Ubuntu 23.10 and "
            "later, `sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0`, or an AppArmor profile for bwrap; "
            "elsewhere `sudo sysctl kernel.unprivileged_userns_clone=1` and a non-zero user.max_user_namespaces). "
            "In a container, run it with the capabilities to make namespaces (for Docker: "
            "`--security-opt seccomp=unconfined --security-opt apparmor=unconfined --cap-add SYS_ADMIN`, "
            "or `--privileged`).")
    _checked[key] = True


# ---------------------------------------------------------------- outside: launch

def write_launch_config(layout: Layout, limits: Limits, command: Sequence[str]) -> Path:
    """The JSON file ``launch`` reads: layout, limits and the command to run inside."""
    path = layout.scratch / "launch.json"
    path.write_text(json.dumps({"scratch": str(layout.scratch), "limits": dataclasses.asdict(limits),
                                "command": list(command)}), encoding="utf-8")
    return path


def launch(config_path: str, connection_file: Optional[str] = None, kernel_args: Sequence[str] = ()) -> None:
    """Start bwrap as described in ``config_path`` (the kernel spec's command); never returns.

    ``kernel_args`` (options a kernel manager adds) go to the kernel inside.

    As root, first bind every source under the layout's ``roots`` in a private mount
    namespace, then become ``nobody``, so the sandbox belongs to no real user.
    """
    config = json.loads(Path(config_path).read_text(encoding="utf-8"))
    layout = Layout(Path(config["scratch"]))
    limits = Limits(**config["limits"])
    command = [part.replace("{connection_file}", connection_file or "") for part in config["command"]]
    command += list(kernel_args)
    executable = shutil.which("bwrap")
    if executable is None:
        raise SandboxUnavailable(f"bubblewrap (`bwrap`) is not installed: {INSTALL_HINT}")
    sources: Dict[str, str] = {}
    if os.geteuid() == 0:
        sources = _bind_sources_privately(layout, connection_file)
    args = [executable, *bwrap_arguments(layout, limits, sources, bwrap_features()), "--", *command]
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    if connection_file:  # a kernel: its own output goes to the notebook, nothing to the grader's terminal
        log = os.environ.get("DLCOURSE_SANDBOX_LOG")  # for debugging the sandbox itself: where bwrap's output goes
        target = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600) if log else devnull
        os.dup2(target, 1)
        os.dup2(target, 2)
    os.execv(executable, args)


def _bind_sources_privately(layout: Layout, connection_file: Optional[str]) -> Dict[str, str]:
    libc = ctypes.CDLL(None, use_errno=True)
    clone_newns, ms_rec, ms_private, ms_bind = 0x00020000, 0x4000, 0x40000, 0x1000

    def check(result: int, what: str) -> None:
        if result != 0:
            error = ctypes.get_errno()
            raise SandboxUnavailable(f"{what}: {os.strerror(error)}")

    check(libc.unshare(clone_newns), "cannot make a private mount namespace")
    check(libc.mount(b"none", b"/", None, ms_rec | ms_private, None), "cannot make mounts private")
    paths = [*readonly_roots(), *(Path("/etc", n) for n in ("ld.so.cache", "localtime") if Path("/etc", n).exists()),
             layout.etc / "passwd", layout.etc / "group", layout.submission, layout.package, layout.kernel]
    sources = {}
    for index, path in enumerate(paths):
        point = layout.roots / str(index)
        if path.is_dir():
            point.mkdir(exist_ok=True)
        else:
            point.touch()
        check(libc.mount(str(path).encode(), str(point).encode(), None, ms_bind | ms_rec, None), f"cannot bind {path}")
        sources[str(path)] = str(point)
    if connection_file:
        os.chown(connection_file, NOBODY, NOBODY)
    os.setgroups([])
    os.setresgid(NOBODY, NOBODY, NOBODY)
    os.setresuid(NOBODY, NOBODY, NOBODY)
    return sources


# ---------------------------------------------------------------- inside: boot

def boot(limits_json: str, kernel_args: Sequence[str]) -> None:
    """Inside the sandbox: set the limits, copy the submission home, start the kernel."""
    limits = Limits(**json.loads(limits_json))
    for kind, value in ((resource.RLIMIT_AS, limits.memory), (resource.RLIMIT_NPROC, limits.processes),
                        (resource.RLIMIT_FSIZE, limits.file_size), (resource.RLIMIT_NOFILE, limits.open_files),
                        (resource.RLIMIT_CPU, limits.cpu_seconds), (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(kind, (value, value))
    shutil.copytree(SUBMISSION, WORK, symlinks=True, dirs_exist_ok=True)
    os.chdir(WORK)
    if not kernel_args:  # a check, not a kernel
        return
    startup = json.dumps(["import dlcourse.sandbox as _sandbox; _sandbox.limit_output(); del _sandbox"])
    from ipykernel import kernelapp

    history = [] if any(arg.startswith("--HistoryManager.hist_file") for arg in kernel_args) \
        else ["--HistoryManager.hist_file=:memory:"]
    kernelapp.launch_new_instance(argv=[*kernel_args, *history, f"--IPKernelApp.exec_lines={startup}"])


def limit_output(limit: int = OUTPUT_LIMIT) -> None:
    """Cap what ``sys.stdout`` and ``sys.stderr`` pass on; say once that the rest was dropped.

    A courtesy that keeps a chatty notebook from sending megabytes to the grader, which
    enforces its own cap whatever happens here.  IPython rewires the streams' ``write``
    after start-up, so the cap is applied before every cell (once per stream object).
    """
    state = {"left": limit, "told": False}

    def cap_streams(*_: object) -> None:
        for stream in (sys.stdout, sys.stderr):
            if not getattr(stream.write, "_dlcourse_capped", False):
                stream.write = _capped(stream.write, state, limit)

    cap_streams()
    from IPython import get_ipython

    shell = get_ipython()
    if shell is not None:
        shell.events.register("pre_run_cell", cap_streams)


def _capped(write, state: dict, limit: int):
    def capped_write(text: str) -> int:
        if state["left"] > 0:
            part = text[: state["left"]]
            state["left"] -= len(part)
            write(part)
        elif not state["told"]:
            state["told"] = True
            write(f"\n[the grader dropped the rest of the output: more than {limit:,} characters]\n")
        return len(text)

    capped_write._dlcourse_capped = True  # type: ignore[attr-defined]
    return capped_write


def main(argv: List[str]) -> None:
    if argv[:1] == ["launch"] and len(argv) >= 2:
        launch(argv[1], argv[2] if len(argv) >= 3 else None, argv[3:])
    elif argv[:1] == ["boot"] and len(argv) >= 3 and argv[2] == "--":
        boot(argv[1], argv[3:])
    else:
        sys.exit("usage: python -m dlcourse.sandbox launch CONFIG [CONNECTION_FILE [KERNEL_ARGS...]] "
                 "| boot LIMITS -- KERNEL_ARGS")


if __name__ == "__main__":
    main(sys.argv[1:])
