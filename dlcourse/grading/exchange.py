"""nbgrader's exchange for a class on one machine, with submissions only their author and the graders can open.

nbgrader's own ``submit`` leaves a submission's folder in ``inbound/`` writable by every account
(0777, "hidden from other users by the timestamp" and a random suffix) and its files readable by
all: a student who learns the folder's name can read the work, or delete it and put another
notebook in its place.  ``PrivateSubmit`` is nbgrader's submit with one change: once the files are
in place, the folder is 0750, group-owned by the graders' group that owns ``inbound/``
(``hub-setup`` makes ``inbound/`` setgid, so a folder made in it takes that group), and its files
0644.  The instructor and the teaching assistants enter the folder as members of that group;
other students cannot enter it, so they cannot open, change or delete what it holds, whatever
they know of its name; the sticky bit of ``inbound/`` keeps them from renaming or deleting it.
The class's nbgrader configuration (``exercises/hub/jupyter/students/nbgrader_config.py``)
installs it.

Where ``inbound/`` is not set up that way (not setgid), ``PrivateSubmit`` refuses, before copying
anything, rather than hand in a submission the instructor could not collect.
"""

from __future__ import annotations

import os
import stat

from nbgrader.exchange.default.submit import ExchangeSubmit

SUBMISSION_FOLDER_MODE = 0o750   # the graders' group enters, nobody else (the folder is the lock)
SUBMISSION_FILE_MODE = 0o644     # nbgrader's timestamp and secret keep the student's own group


class PrivateSubmit(ExchangeSubmit):
    """``nbgrader submit`` whose submission only its author and the graders' group can open."""

    def copy_files(self) -> None:
        inbound = os.stat(self.inbound_path)
        if not inbound.st_mode & stat.S_ISGID:
            self.fail(f"{self.inbound_path} is not setgid to the graders' group, so the instructor could not "
                      "collect a private submission: ask the instructor to run `python -m dlcourse.grading "
                      "hub-setup` (exercises/README.md, \"A class on JupyterHub\")")
        super().copy_files()
        submission = os.path.join(self.inbound_path, self.assignment_filename)
        if os.stat(submission).st_gid != inbound.st_gid:
            self.fail(f"{submission} did not take the group of {self.inbound_path}; it is left as nbgrader made it")
        self.set_perms(submission, fileperms=SUBMISSION_FILE_MODE, dirperms=SUBMISSION_FOLDER_MODE)
