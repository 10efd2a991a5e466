"""The package's one way for a command line to say what went wrong (every ``python -m dlcourse...`` and
``dlcourse-calc``): one line ``<name>: error: <message>`` on stderr; exit status 2 for a bad input, 1 for a
failure of the work itself.  Standard library only, so a command starts fast.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn


class CommandLine(argparse.ArgumentParser):
    """An argparse parser that says what goes wrong the package's one way: one line on stderr.

    The line is ``<name>: error: <message>``, argparse's own form, where ``name`` is ``prog``
    without a leading "python -m "; argparse's usage is not printed (``--help`` shows it).

    * a bad input: ``error(message)``, as argparse itself calls it for what it cannot parse;
      the program exits with status 2;
    * a failure of the work itself: ``return parser.fail(message)``, which returns 1.

    >>> import contextlib
    >>> cli = CommandLine(prog="python -m dlcourse.demo")
    >>> _ = cli.add_argument("--steps", type=int, default=1)
    >>> with contextlib.redirect_stderr(sys.stdout):
    ...     try:
    ...         cli.parse_args(["--stops", "3"])
    ...     except SystemExit as exit:
    ...         print("exit status", exit.code)
    ...     print("exit status", cli.fail("the disk is full"))
    dlcourse.demo: error: unrecognized arguments: --stops 3
    exit status 2
    dlcourse.demo: error: the disk is full
    exit status 1
    """

    @property
    def name(self) -> str:
        """What the error line names: ``prog`` without "python -m "."""
        return self.prog.removeprefix("python -m ")

    def error(self, message: str) -> NoReturn:
        """A bad input: the one line on stderr, then exit with status 2."""
        self.exit(2, f"{self.name}: error: {message}\n")

    def fail(self, message: object) -> int:
        """A failure of the work itself: the one line on stderr; returns 1, the exit status."""
        print(f"{self.name}: error: {message}", file=sys.stderr)
        return 1
