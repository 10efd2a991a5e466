"""The Jupyter kernel that runs students' notebooks while they are graded.

``python -m dlcourse.sandbox CONNECTION_FILE`` starts an ordinary IPython kernel, but
first, in a private mount namespace (``unshare``), hides what a submission must not read:
the course folder (instructor notebooks with solutions and hidden tests, the gradebook,
other students' work) except the kernel's own working folder, the repository's
``exercises/`` folder and its git history.  Inside, printing is capped, so a notebook
that prints a gigabyte cannot swamp the grader.  Where ``unshare`` is refused the
kernel still runs, unsandboxed, and says so on stderr.

``dlcourse.grading`` installs this kernel as ``dlcourse-sandbox`` and tells nbgrader to
use it (``Execute.kernel_name``); it passes the course folder in ``DLCOURSE_COURSE``.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List

REPO = Path(__file__).resolve().parents[1]
KERNEL_NAME = "dlcourse-sandbox"
OUTPUT_LIMIT = 1_000_000  # characters of printed output per stream


def hidden_paths(course: Path) -> List[Path]:
    """Folders a graded notebook must not see."""
    paths = [course, REPO / "exercises", REPO / ".git"]
    unique = []
    for path in paths:
        if path.exists() and path.resolve() not in unique:
            unique.append(path.resolve())
    return unique


def sandbox_script(connection_file: str, workdir: Path, hide: List[Path]) -> str:
    """Shell commands, run inside ``unshare``, that hide ``hide`` but keep ``workdir``, then start the kernel."""
    quote = shlex.quote
    lines = ["set -e", "keep=$(mktemp -d)", f"mount --bind {quote(str(workdir))} \"$keep\""]
    for path in hide:
        lines.append(f"mount -t tmpfs -o size=1m,mode=755 dlcourse-hidden {quote(str(path))}")
    lines += [
        f"mkdir -p {quote(str(workdir))}",
        f"mount --bind \"$keep\" {quote(str(workdir))}",
        f"cd {quote(str(workdir))}",
        "exec " + " ".join(quote(part) for part in kernel_command(connection_file)),
    ]
    return "\n".join(lines)


def kernel_command(connection_file: str) -> List[str]:
    startup = json.dumps(["import dlcourse.sandbox as _sandbox; _sandbox.limit_output(); del _sandbox"])
    return [sys.executable, "-m", "ipykernel_launcher", "-f", connection_file, f"--IPKernelApp.exec_lines={startup}"]


def limit_output(limit: int = OUTPUT_LIMIT) -> None:
    """Cap what ``sys.stdout`` and ``sys.stderr`` pass on; say once that the rest was dropped.

    IPython rewires the streams' ``write`` after start-up, so the cap is applied before
    every cell, to whatever ``write`` is current (once per stream object).
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
    if len(argv) != 1:
        sys.exit("usage: python -m dlcourse.sandbox CONNECTION_FILE")
    connection_file = argv[0]
    course = Path(os.environ.get("DLCOURSE_COURSE", REPO / "exercises"))
    workdir = Path.cwd().resolve()
    unshare = shutil.which("unshare")
    flags = ["--mount", "--propagation", "private"]
    if os.geteuid() != 0:
        flags = ["--user", "--map-root-user"] + flags
    if unshare and _can_mount(unshare, flags, workdir):
        script = sandbox_script(connection_file, workdir, hidden_paths(course))
        os.execv(unshare, [unshare, *flags, "sh", "-c", script])
    print("dlcourse.sandbox: this machine refuses private mounts (unshare); "
          "the kernel runs WITHOUT a sandbox", file=sys.stderr)
    os.execv(sys.executable, kernel_command(connection_file))


def _can_mount(unshare: str, flags: List[str], workdir: Path) -> bool:
    """Try the sandbox's first step in a throw-away namespace, so a refusal never kills the kernel."""
    probe = f"mount -t tmpfs -o size=1m dlcourse-probe {shlex.quote(str(workdir))}"
    result = subprocess.run([unshare, *flags, "sh", "-c", probe], capture_output=True)
    return result.returncode == 0


def install_kernel() -> Path:
    """Write the ``dlcourse-sandbox`` kernel spec into this environment; return its folder."""
    folder = Path(sys.prefix) / "share" / "jupyter" / "kernels" / KERNEL_NAME
    folder.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "dlcourse.sandbox", "{connection_file}"],
        "display_name": "Python 3 (dlcourse grading sandbox)",
        "language": "python",
    }
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1), encoding="utf-8")
    return folder


if __name__ == "__main__":
    main(sys.argv[1:])
