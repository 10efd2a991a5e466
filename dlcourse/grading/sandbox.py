"""The sandbox that runs a student's notebook while it is graded (bubblewrap).

A graded notebook is untrusted code.  Its kernel runs inside ``bwrap`` (bubblewrap, the
sandbox Flatpak uses) with:

- its own user, PID, network, IPC and UTS namespaces: an unprivileged user with no
  capabilities, ``/proc`` that shows only its own processes, no network at all, and no
  process that outlives the kernel (the namespace dies with it);
- a file system made of read-only binds: the system (``/usr``), the Python installation
  (its standard library), and of its installed packages only those the kernel needs and
  those the assignment allows (``allow``, with what they require; every ``site-packages`` and
  ``dist-packages`` folder is otherwise empty), with a copy of ``dlcourse`` that holds the
  grader's agent in the kernel (``kernel_agent``, ``protocol``) and nothing else the assignment does not
  grant: no reference solution, no ``calc``; nothing of the course folder, the repository,
  other checkouts, ``$HOME`` or the host's ``/tmp``;
- a writable home (``/home/student``, a size-limited tmpfs) holding a private copy of the
  submission's folder, a private ``/tmp``, and the kernel's socket folder;
- limits on memory, processes, file size, open files and CPU time, per process (rlimits)
  and for the whole notebook together (``HostLimits``: a memory and a pids cgroup, and a
  size-limited tmpfs for the kernel's socket folder, the one folder it shares with the host).

When the grader runs as root, the sandbox's processes belong to the host user ``nobody``
(the launcher binds the paths it needs in a private mount namespace first, so an
interpreter under ``/root`` still works).

Trusted side: ``Layout`` and ``Limits`` describe one sandbox; ``bwrap_arguments`` turns
them into a command line; ``check_available`` refuses to go on, with a message saying
what to install, when bubblewrap is missing or cannot make namespaces; ``launch`` (the
kernel's command, ``python -m dlcourse.grading.sandbox launch CONFIG CONNECTION_FILE``) starts
bwrap.  Inside: ``boot`` sets the limits, copies the submission into the home folder and
starts the IPython kernel.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import functools
import glob
import importlib.metadata
import json
import os
import resource
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

NOBODY = 65534                     # host user of the sandbox when the grader is root
INSIDE_UID = 1000                  # the student's user id as seen inside
HOME = "/home/student"
WORK = f"{HOME}/work"
SUBMISSION = "/opt/submission"     # read-only: the submission's folder, copied to WORK at start
PACKAGE = "/opt/dlcourse"          # read-only: the copy of dlcourse on PYTHONPATH
OUTPUT_LIMIT = 1_000_000           # characters of printed output per stream (a courtesy; the grader enforces its own)
# distributions every sandbox has: the kernel, and the kernel agent's numpy
KERNEL_NEEDS = ("ipykernel", "numpy")
# the dlcourse files every sandbox has: the grader's agent in the kernel, its protocol, the sandbox's start-up
PACKAGE_AGENT = ("__init__.py", "grading/__init__.py", "grading/kernel_agent.py", "grading/protocol.py",
                 "grading/sandbox.py")
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
    total_memory: int = 4 << 30    # bytes of memory of all its processes together (memory cgroup)
    total_processes: int = 256     # processes and threads of the whole notebook (pids cgroup)
    kernel_folder_size: int = 16 << 20   # bytes the kernel may write into its socket folder (a tmpfs on the host)


@dataclass
class Layout:
    """The host folders of one sandbox, all under ``scratch`` (deleted afterwards)."""

    scratch: Path
    allow: tuple[str, ...] = field(default=("numpy",), init=False)   # what the notebook may import (``create``)
    shown: dict[str, list[str]] = field(default_factory=dict, init=False)   # package folders emptied, entries shown
    cgroups: list[str] = field(default_factory=list, init=False)     # the notebook's cgroups (``HostLimits``)
    kernel: Path = field(init=False)       # connection file and sockets: bound read-write at the same path
    submission: Path = field(init=False)   # a copy of the submission's folder
    package: Path = field(init=False)      # the staged copy of dlcourse
    etc: Path = field(init=False)          # passwd and group for the student user
    roots: Path = field(init=False)        # mount points for the root launcher

    def __post_init__(self) -> None:
        self.scratch = Path(self.scratch)
        for name in ("kernel", "submission", "package", "etc", "roots"):
            setattr(self, name, self.scratch / name)

    def create(self, submission_folder: Path | None, allow: Sequence[str] = ("numpy",)) -> Layout:
        """Make the folders: copy the submission's folder, stage dlcourse, write passwd/group.

        ``allow`` names what the notebook may import besides the standard library: packages
        (``numpy``, ``torch``, ``matplotlib``) and parts of dlcourse (``dlcourse.models``).
        """
        self.allow = check_allow(allow)
        self.shown = packages_shown(self.allow)
        for folder in (self.kernel, self.etc, self.roots):
            folder.mkdir(parents=True, exist_ok=True)
        if submission_folder is not None:
            shutil.copytree(submission_folder, self.submission, symlinks=True,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        else:
            self.submission.mkdir()
        stage_package(self.package, self.allow)
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


class HostLimits:
    """Limits on a whole graded notebook, set up on the host for one kernel and removed after it.

    Rlimits bound each process; a notebook that forks many processes, each under its limit,
    could still take the machine.  So every process of the sandbox joins a memory cgroup and
    a pids cgroup (version 1 controllers, or version 2 where its controllers are enabled),
    and the kernel's socket folder (the one folder it writes on the host) becomes a tmpfs of
    ``Limits.kernel_folder_size``.  Both need root; ``available()`` says why not otherwise,
    and grading stops there unless the instructor accepts per-process limits only
    (``SandboxedExecute.require_host_limits = False``).
    """

    CGROUPS = Path("/sys/fs/cgroup")

    def __init__(self, layout: Layout, limits: Limits) -> None:
        self.layout, self.limits = layout, limits
        self.cgroups: list[Path] = []
        self.mounted = False

    @classmethod
    def available(cls) -> str:
        """"" when they can be set up here, else why not (in words an instructor can act on)."""
        if os.geteuid() != 0:
            return "whole-notebook limits need the grader to run as root (it sets up cgroups and a tmpfs)"
        if not cls._cgroup_parents():
            return f"no writable memory and pids cgroups under {cls.CGROUPS}"
        return ""

    @classmethod
    def _cgroup_parents(cls) -> dict[str, Path]:
        """{"memory": folder, "pids": folder} where new cgroups can be made (v1, else v2)."""
        v1 = {name: cls.CGROUPS / name for name in ("memory", "pids")}
        if all((folder / "cgroup.procs").exists() and os.access(folder, os.W_OK) for folder in v1.values()):
            return v1
        controllers = cls.CGROUPS / "cgroup.subtree_control"
        if controllers.exists() and {"memory", "pids"} <= set(controllers.read_text().split()) \
                and os.access(cls.CGROUPS, os.W_OK):
            return {"memory": cls.CGROUPS, "pids": cls.CGROUPS}
        return {}

    def set_up(self) -> HostLimits:
        """Make the cgroups and mount the tmpfs; raise SandboxUnavailable when either fails."""
        parents = self._cgroup_parents()
        name = f"dlcourse-{self.layout.scratch.parent.name}-{os.getpid()}"
        try:
            for controller, parent in parents.items():
                folder = parent / name
                if folder not in self.cgroups:
                    folder.mkdir(exist_ok=True)
                    self.cgroups.append(folder)
                if controller == "memory":
                    limit = "memory.limit_in_bytes" if (folder / "memory.limit_in_bytes").exists() else "memory.max"
                    (folder / limit).write_text(str(self.limits.total_memory))
                    swap = folder / ("memory.memsw.limit_in_bytes" if limit.endswith("bytes") else "memory.swap.max")
                    if swap.exists():
                        swap.write_text(str(self.limits.total_memory) if limit.endswith("bytes") else "0")
                else:
                    (folder / "pids.max").write_text(str(self.limits.total_processes))
            libc = ctypes.CDLL(None, use_errno=True)
            options = f"size={self.limits.kernel_folder_size},mode=0777".encode()
            if libc.mount(b"tmpfs", str(self.layout.kernel).encode(), b"tmpfs", 0, options) != 0:
                raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
            self.mounted = True
        except OSError as error:
            self.release()
            raise SandboxUnavailable(f"cannot set up the whole-notebook limits: {error}") from None
        self.layout.cgroups = [str(folder) for folder in self.cgroups]
        return self

    def release(self) -> None:
        """Unmount the tmpfs and remove the cgroups (their processes have ended with the kernel)."""
        if self.mounted:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.umount2(str(self.layout.kernel).encode(), 2)   # MNT_DETACH
            self.mounted = False
        for folder in self.cgroups:
            for _ in range(50):   # the kernel's last processes may take a moment to leave
                try:
                    folder.rmdir()
                    break
                except OSError:
                    for task in (folder / "cgroup.procs").read_text().split() if folder.exists() else []:
                        with contextlib.suppress(ProcessLookupError):
                            os.kill(int(task), 9)
                    time.sleep(0.1)
        self.cgroups = []


def join_cgroups(folders: Sequence[str]) -> None:
    """The launcher, before it starts bwrap: put this process (and so all it starts) in the notebook's cgroups."""
    for folder in folders:
        try:
            Path(folder, "cgroup.procs").write_text(str(os.getpid()))
        except OSError as error:
            raise SandboxUnavailable(f"cannot join the notebook's cgroup {folder}: {error}") from None


def check_allow(allow: Sequence[str]) -> tuple[str, ...]:
    """An assignment's ``allow`` list, checked: module names, each installed here.

    >>> check_allow(["numpy", "dlcourse.models"])
    ('dlcourse.models', 'numpy')
    >>> check_allow(["numpy", "no_such_package"])
    Traceback (most recent call last):
    ...
    ValueError: allow names no_such_package, which is not installed here: allow only packages the course installs
    """
    if isinstance(allow, str) or not all(isinstance(name, str) and name and
                                         all(part.isidentifier() for part in name.split(".")) for name in allow):
        raise ValueError(f"allow must be a list of module names (like ['numpy', 'torch']), got {allow!r}")
    top = importlib.metadata.packages_distributions()
    for name in allow:
        if not name.startswith("dlcourse") and name.split(".")[0] not in top:
            raise ValueError(f"allow names {name}, which is not installed here: allow only packages the course "
                             "installs")
    return tuple(sorted(set(allow)))


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def distributions_closure(names: Sequence[str]) -> list[str]:
    """The installed distributions ``names`` and every one they require (markers evaluated, no extras).

    >>> "traitlets" in distributions_closure(["ipykernel"])
    True
    """
    from packaging.requirements import Requirement

    todo, seen = [_canonical(name) for name in names], {}
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue  # an optional requirement that is not installed
        seen[name] = dist
        for text in dist.requires or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(_canonical(requirement.name))
    return sorted(seen)


@functools.cache
def site_entries(allow: tuple[str, ...]) -> tuple[Path, ...]:
    """The files and folders of the package folders the sandbox shows: what the kernel needs and ``allow``.

    Each is a top-level entry of a ``site-packages`` folder (``numpy``, ``numpy.libs``,
    ``numpy-2.x.dist-info``, ``six.py``) of a distribution in the closure of ``KERNEL_NEEDS``
    and the packages ``allow`` names.
    """
    top = importlib.metadata.packages_distributions()
    names = list(KERNEL_NEEDS)
    for module in allow:
        if not module.startswith("dlcourse"):
            names += top.get(module.split(".")[0], [])
    entries = set()
    for name in distributions_closure(names):
        dist = importlib.metadata.distribution(name)
        root = Path(str(dist.locate_file(""))).resolve()
        for file in dist.files or []:
            first = Path(str(file)).parts[0]
            if first in ("..", "__pycache__") or first.endswith(".pth"):
                continue  # scripts, caches and start-up hooks stay out
            entries.add(root / first)
    return tuple(sorted(entry for entry in entries if entry.exists()))


def packages_shown(allow: tuple[str, ...]) -> dict[str, list[str]]:
    """The package folders the sandbox empties and the entries it puts back, worked out by the grader.

    (The launcher may run as ``nobody``, who cannot read the interpreter's own files under
    ``/root``: it reads these from the launch configuration.)
    """
    return {"emptied": [str(folder) for folder in package_folders()],
            "entries": [str(entry) for entry in site_entries(tuple(allow))]}


def package_folders() -> list[Path]:
    """Every folder of installed packages a student could put on ``sys.path``: the sandbox shows them empty.

    The environment's and the base interpreter's ``site-packages``, and the system's
    ``dist-packages`` and ``site-packages`` folders.
    """
    folders = {Path(path) for path in (sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"])}
    for scheme_vars in ({"base": sys.base_prefix, "platbase": sys.base_exec_prefix},):
        paths = sysconfig.get_paths(vars=scheme_vars)
        folders |= {Path(paths["purelib"]), Path(paths["platlib"])}
    for pattern in ("/usr/lib/python3*/dist-packages", "/usr/lib/python3*/site-packages",
                    "/usr/local/lib/python3*/dist-packages", "/usr/local/lib/python3*/site-packages"):
        folders |= {Path(path) for path in glob.glob(pattern)}
    return sorted(folder.resolve() for folder in folders if folder.is_dir())


def readonly_roots() -> list[Path]:
    """Host folders the sandbox sees read-only: the system and this Python's installation."""
    roots = [Path("/usr")]
    for lib in ("/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin"):
        if Path(lib).exists() and not Path(lib).is_symlink():
            roots.append(Path(lib))
    for prefix in {sys.base_prefix, sys.prefix, sys.exec_prefix, sys.base_exec_prefix}:
        roots.append(Path(prefix).resolve())
    roots.append(Path(sys.executable).resolve().parent)
    unique: list[Path] = []
    for root in sorted(set(roots), key=lambda p: (len(p.parts), str(p))):
        if not any(root == kept or kept in root.parents for kept in unique):
            unique.append(root)
    return unique


def system_symlinks() -> dict[str, str]:
    """``/bin -> usr/bin`` and the like, where the host has them (merged /usr)."""
    links = {}
    for lib in ("/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin"):
        if Path(lib).is_symlink():
            links[lib] = os.readlink(lib)
    return links


def installed_package() -> Path:
    """The folder of the dlcourse package this process imports (editable or installed)."""
    return Path(__file__).resolve().parents[1]


def stage_package(target: Path, allow: Sequence[str] = ()) -> Path:
    """Copy into ``target/dlcourse`` the part of dlcourse a sandbox has: the agent, and what ``allow`` grants.

    The agent is the grader's side in the kernel (``kernel_agent``, ``protocol``) and the sandbox's own
    start-up; a part of dlcourse the assignment grants (``dlcourse.models``) comes too.
    Nothing else is there at all, not even the checks' reference solutions: what an
    assignment does not grant cannot be imported, whatever the answer's source says.

    >>> import tempfile
    >>> staged = stage_package(Path(tempfile.mkdtemp()), ["numpy", "dlcourse.activations"])
    >>> for path in sorted(p.relative_to(staged).as_posix() for p in staged.rglob("*.py")):
    ...     print(path)
    __init__.py
    activations.py
    grading/__init__.py
    grading/kernel_agent.py
    grading/protocol.py
    grading/sandbox.py
    """
    source = installed_package()
    destination = Path(target) / "dlcourse"
    destination.mkdir(parents=True, exist_ok=True)
    for name in PACKAGE_AGENT:
        (destination / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / name, destination / name)
    for module in allow:
        if not module.startswith("dlcourse."):
            continue
        relative = Path(*module.split(".")[1:])
        if (source / relative).is_dir():
            shutil.copytree(source / relative, destination / relative, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif (source / relative.with_suffix(".py")).exists():
            (destination / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / relative.with_suffix(".py"), destination / relative.with_suffix(".py"))
        else:
            raise ValueError(f"allow names {module}, which is not a part of dlcourse")
    return destination


def bwrap_arguments(layout: Layout, limits: Limits, sources: dict[str, str] | None = None,
                    features: Sequence[str] = ()) -> list[str]:
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
    # Every folder of installed packages shows empty, then only what the kernel needs and the
    # assignment allows is put back in it.
    roots = readonly_roots()
    shown = layout.shown or packages_shown(layout.allow)
    for folder in map(Path, shown["emptied"]):
        if any(folder == root or root in folder.parents for root in roots):
            args += ["--perms", "0555", "--size", str(1 << 20), "--tmpfs", str(folder)]
    for entry in map(Path, shown["entries"]):
        args += ["--ro-bind", _source_below(entry, roots, sources), str(entry)]
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
    args += ["--setenv", "DLCOURSE_ALLOWED", " ".join(layout.allow)]
    return args


def _source_below(path: Path, roots: Sequence[Path], sources: dict[str, str]) -> str:
    """Where bwrap binds ``path`` from: below its read-only root's source (the root launcher moves roots)."""
    for root in roots:
        if root in path.parents and str(root) in sources:
            return str(Path(sources[str(root)]) / path.relative_to(root))
    return str(path)


def sandbox_environment() -> dict[str, str]:
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


def inside_command(limits: Limits, connection_file: str, extra: Sequence[str] = ()) -> list[str]:
    """The command bwrap runs: ``boot`` with the limits, then the kernel's own arguments."""
    return [sys.executable, "-m", "dlcourse.grading.sandbox", "boot", json.dumps(dataclasses.asdict(limits)),
            "--", "-f", connection_file, *extra]


# ---------------------------------------------------------------- can it run here?

@functools.cache
def bwrap_features() -> tuple[str, ...]:
    """Options of the installed bwrap that not every version has."""
    executable = shutil.which("bwrap")
    if executable is None:
        return ()
    text = subprocess.run([executable, "--help"], capture_output=True, text=True).stdout
    return tuple(name for name in ("disable-userns",) if f"--{name}" in text)


_checked: dict[tuple, bool] = {}


def check_available(limits: Limits | None = None, require_host_limits: bool = False) -> None:
    """Start a throw-away sandbox with this layout and Python; raise SandboxUnavailable if it fails.

    With ``require_host_limits``, the whole-notebook limits (``HostLimits``) must be possible
    too.  The message names what is missing and how to install or allow it.
    """
    limits = limits or Limits()
    if require_host_limits and HostLimits.available():
        raise SandboxUnavailable(f"{HostLimits.available()}: without them a notebook is bounded per process only. "
                                 "Grade as root, or, to accept per-process limits, pass "
                                 "--SandboxedExecute.require_host_limits=False (python -m dlcourse.grading: "
                                 "--no-host-limits)")
    key = (sys.executable, os.geteuid())
    if _checked.get(key):
        return
    if shutil.which("bwrap") is None:
        raise SandboxUnavailable("bubblewrap (`bwrap`) is not installed, and graded notebooks must run in it: "
                                 f"{INSTALL_HINT}")
    with tempfile.TemporaryDirectory(prefix="dlcourse-sandbox-check-") as folder:
        layout = Layout(Path(folder) / "scratch").create(None)
        command = [sys.executable, "-c", "import os, sys; assert os.getuid() != 0 and os.getpid() == 2; "
                   "import ipykernel, dlcourse.grading.kernel_agent; print('sandbox ok')"]
        config = write_launch_config(layout, limits, command)
        result = subprocess.run([sys.executable, "-m", "dlcourse.grading.sandbox", "launch", str(config)],
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
    """The JSON file ``launch`` reads: layout, what it allows, limits and the command to run inside."""
    path = layout.scratch / "launch.json"
    path.write_text(json.dumps({"scratch": str(layout.scratch), "allow": list(layout.allow),
                                "shown": layout.shown or packages_shown(layout.allow), "cgroups": layout.cgroups,
                                "limits": dataclasses.asdict(limits), "command": list(command)}), encoding="utf-8")
    return path


def launch(config_path: str, connection_file: str | None = None, kernel_args: Sequence[str] = ()) -> None:
    """Start bwrap as described in ``config_path`` (the kernel spec's command); never returns.

    ``kernel_args`` (options a kernel manager adds) go to the kernel inside.

    As root, first bind every source under the layout's ``roots`` in a private mount
    namespace, then become ``nobody``, so the sandbox belongs to no real user.
    """
    config = json.loads(Path(config_path).read_text(encoding="utf-8"))
    layout = Layout(Path(config["scratch"]))
    layout.allow = tuple(config["allow"])
    layout.shown = config["shown"]
    limits = Limits(**config["limits"])
    command = [part.replace("{connection_file}", connection_file or "") for part in config["command"]]
    command += list(kernel_args)
    executable = shutil.which("bwrap")
    if executable is None:
        raise SandboxUnavailable(f"bubblewrap (`bwrap`) is not installed: {INSTALL_HINT}")
    join_cgroups(config.get("cgroups", []))
    sources: dict[str, str] = {}
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


def _bind_sources_privately(layout: Layout, connection_file: str | None) -> dict[str, str]:
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
    startup = json.dumps(["import dlcourse.grading.sandbox as _sandbox; _sandbox.limit_output(); "
                          "_sandbox.explain_missing_modules(); del _sandbox"])
    from ipykernel import kernelapp

    history = [] if any(arg.startswith("--HistoryManager.hist_file") for arg in kernel_args) \
        else ["--HistoryManager.hist_file=:memory:"]
    kernelapp.launch_new_instance(argv=[*kernel_args, *history, f"--IPKernelApp.exec_lines={startup}"])


class _ExplainMissing:
    """The last finder on ``sys.meta_path``: a module no other finder has is not allowed here; say so."""

    def __init__(self, allowed: str) -> None:
        self.allowed = allowed

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if path is None or name.startswith("dlcourse."):  # a top-level module, or a part of dlcourse, not here
            allowed = ", ".join(self.allowed.split()) or "nothing but the standard library"
            raise ModuleNotFoundError(f"No module named {name!r}: {name} is not available while this assignment is "
                                      f"graded; a notebook can import the standard library and {allowed} only (the "
                                      "assignment says what to use: write the rest yourself)", name=name)
        return None


def explain_missing_modules() -> None:
    """Inside the sandbox: a module that is not there fails with a message that says why."""
    sys.meta_path.append(_ExplainMissing(os.environ.get("DLCOURSE_ALLOWED", "")))


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
                stream.write = _capped(stream.write, state, limit)  # type: ignore[method-assign]  # the cap itself

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


def main(argv: list[str]) -> None:
    if argv[:1] == ["launch"] and len(argv) >= 2:
        launch(argv[1], argv[2] if len(argv) >= 3 else None, argv[3:])
    elif argv[:1] == ["boot"] and len(argv) >= 3 and argv[2] == "--":
        boot(argv[1], argv[3:])
    else:
        sys.exit("usage: python -m dlcourse.grading.sandbox launch CONFIG [CONNECTION_FILE [KERNEL_ARGS...]] "
                 "| boot LIMITS -- KERNEL_ARGS")


if __name__ == "__main__":
    main(sys.argv[1:])
