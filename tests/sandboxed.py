"""A sandboxed kernel for tests, started the way the grader starts one, without nbgrader."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from jupyter_core.utils import run_sync

from dlcourse.grading import sandbox
from dlcourse.grading.notebook_proxy import Session
from dlcourse.grading.preprocessors.sandboxed_execute import SandboxKernelManager, _await, _remove

await_ = run_sync(_await)


class SandboxedKernel:
    """``with SandboxedKernel() as kernel: kernel.run(code); kernel.session.fetch(name)``."""

    def __init__(self, submission: Path | None = None, allow: Sequence[str] = ("numpy", "torch"),
                 limits: sandbox.Limits | None = None, host_limits: bool = False) -> None:
        self.submission, self.allow, self.limits = submission, allow, limits or sandbox.Limits()
        self.host_limits = host_limits
        self.host: sandbox.HostLimits | None = None

    def __enter__(self) -> SandboxedKernel:
        self.folder = Path(tempfile.mkdtemp(prefix="dlcourse-test-kernel-"))
        self.layout = sandbox.Layout(self.folder / "scratch").create(self.submission, self.allow)
        if self.host_limits:
            self.host = sandbox.HostLimits(self.layout, self.limits).set_up()
        config = sandbox.write_launch_config(self.layout, self.limits,
                                             sandbox.inside_command(self.limits, "{connection_file}"))
        argv = [sys.executable, "-m", "dlcourse.grading.sandbox", "launch", str(config), "{connection_file}"]
        self.manager = SandboxKernelManager(launch_argv=argv, transport="ipc",
                                            connection_file=str(self.layout.kernel / "kernel.json"),
                                            ip=str(self.layout.kernel / "ipc"))
        await_(self.manager.start_kernel())
        self.client = self.manager.client()
        self.client.start_channels()
        await_(self.client.wait_for_ready(timeout=60))
        self.session = Session(self.client, self.manager, await_)
        self.session.begin(30)
        return self

    def run(self, code: str, timeout: float = 30) -> str:
        """Run a cell; return what it printed; raise RuntimeError with the error if it failed."""
        return await_(self._run(code, timeout))

    async def _run(self, code: str, timeout: float) -> str:
        msg_id = self.client.execute(code)
        printed, error = [], None
        while True:
            msg = await self.client.get_iopub_msg(timeout=timeout)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            content = msg["content"]
            if msg["msg_type"] == "stream":
                printed.append(content["text"])
            elif msg["msg_type"] == "error":
                error = f"{content['ename']}: {content['evalue']}"
            elif msg["msg_type"] == "status" and content["execution_state"] == "idle":
                break
        if error:
            raise RuntimeError(error)
        return "".join(printed)

    def alive(self) -> bool:
        return await_(self.manager.is_alive())

    def __exit__(self, *exc) -> None:
        try:
            self.client.stop_channels()
            await_(self.manager.shutdown_kernel(now=True))
        finally:
            if self.host is not None:
                self.host.release()
            _remove(self.folder)


def processes_with(marker: str) -> list:
    """The host's processes whose command line holds ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found
