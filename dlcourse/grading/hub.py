"""A class on one machine: the accounts, the course folder and the exchange JupyterHub serves.

``python -m dlcourse.grading hub-setup`` (as root) prepares the machine for
``exercises/hub/jupyterhub_config.py``, in the layout nbgrader's documentation describes for
JupyterHub:

- **accounts**: a local account per student of the roster (the student id is the login name), in
  the group ``dlcourse-students``; the instructor and the teaching assistants in
  ``dlcourse-graders``, the only ones whose servers show formgrader.  A new account gets a random
  password, written to a file only the instructor can read; an account that exists keeps its
  password.  Homes are closed to other users (0700);
- **the course folder** belongs to the instructor and the graders' group, setgid, and is closed to
  everyone else: students cannot read the sources, hidden tests, gradebook or anyone's work in it;
- **the exchange**: its root is writable by all with the sticky bit (nbgrader's documented
  ``/srv/nbgrader/exchange``), and the course's folders in it are made in advance with nbgrader's
  own modes (students can hand in but not list ``inbound``; feedback is not listable either) plus
  the sticky bit, so no student can rename or delete what another handed in.

Student ids become login names, so they must be what ``useradd`` accepts everywhere:

>>> login_name("s2024_017")
's2024_017'
>>> login_name("S.017")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
ValueError: student id 'S.017' cannot be a login name: use lower-case letters, digits, _ and -, ...
"""

from __future__ import annotations

import csv
import grp
import os
import pwd
import re
import secrets
import shutil
import stat
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from dlcourse.grading.roster import read_roster

STUDENTS = "dlcourse-students"
GRADERS = "dlcourse-graders"
COURSE_ID = "dlcourse"
LOGIN_NAME = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
# nbgrader's own modes for the course's folders in the exchange (graders share files as a group:
# CourseDirectory.groupshared), and the sticky bit: only a folder's owner may rename or delete it
EXCHANGE_FOLDERS = {
    "": stat.S_ISGID | 0o775,
    "outbound": stat.S_ISGID | 0o775,
    "inbound": stat.S_ISVTX | stat.S_ISGID | 0o773,
    "feedback": stat.S_ISVTX | stat.S_ISGID | 0o771,
}


@dataclass(frozen=True)
class ClassAccounts:
    """What ``set_up_class`` did: the accounts it made and those that were there already."""

    created: list[str]
    existing: list[str]
    passwords: Path | None


def login_name(student_id: str) -> str:
    """The login name of a student id; a ``ValueError`` that says why for an id that cannot be one."""
    if not LOGIN_NAME.fullmatch(student_id):
        raise ValueError(f"student id {student_id!r} cannot be a login name: use lower-case letters, digits, _ "
                         "and -, starting with a letter or _, at most 32 characters")
    return student_id


def set_up_class(roster: Path, instructor: str, assistants: Sequence[str], course: Path, exchange: Path,
                 passwords: Path | None = None) -> ClassAccounts:
    """Make the groups and accounts, close the course folder to students, make the exchange.

    Needs root.  New accounts' passwords go to ``passwords`` (CSV: login, password; readable by the
    instructor only; by default ``passwords.csv`` in the instructor's home).  Raises ``ValueError`` for
    a roster id that cannot be a login name or that is also a grader, ``RuntimeError`` when not root or
    a system command is missing or fails.
    """
    students = [login_name(entry.id) for entry in read_roster(roster)]
    graders = [login_name(name) for name in [instructor, *assistants]]
    both = sorted(set(students) & set(graders))
    if both:
        raise ValueError(f"{', '.join(both)}: on the roster and a grader; a grader's server shows formgrader, "
                         "so students and graders must be different accounts")
    if os.geteuid() != 0:
        raise RuntimeError("hub-setup makes accounts and changes owners: run it as root (sudo)")
    missing = [tool for tool in ("groupadd", "useradd", "usermod", "chpasswd") if shutil.which(tool) is None]
    if missing:
        raise RuntimeError(f"{', '.join(missing)} not found: install the passwd package (apt-get install passwd)")
    for group in (STUDENTS, GRADERS):
        if not _known(grp.getgrnam, group):
            _run("groupadd", group)
    created: list[str] = []
    for names, group in ((graders, GRADERS), (students, STUDENTS)):
        for name in names:
            if _known(pwd.getpwnam, name):
                _run("usermod", "--append", "--groups", group, name)
            else:
                _run("useradd", "--create-home", "--shell", "/bin/bash", "--groups", group, name)
                os.chmod(pwd.getpwnam(name).pw_dir, 0o700)
                created.append(name)
    passwords = passwords or Path(pwd.getpwnam(instructor).pw_dir) / "passwords.csv"
    written = _set_passwords(created, passwords, instructor) if created else None
    _close_course(course, instructor)
    _make_exchange(exchange, instructor)
    return ClassAccounts(created, [name for name in graders + students if name not in created], written)


def _run(*command: str, stdin: str | None = None) -> None:
    result = subprocess.run(command, input=stdin, capture_output=True, text=True)
    if result.returncode != 0:
        shown = command[0] if stdin else " ".join(command)
        raise RuntimeError(f"`{shown}` failed: {result.stderr.strip() or result.stdout.strip()}")


def _known(lookup: Callable[[str], object], name: str) -> bool:
    """Whether the system's ``lookup`` (``grp.getgrnam``, ``pwd.getpwnam``) knows ``name``."""
    try:
        lookup(name)
    except KeyError:
        return False
    return True


def _set_passwords(names: Sequence[str], passwords: Path, instructor: str) -> Path:
    """Random passwords for new accounts, set with chpasswd and written where only the instructor reads them."""
    chosen = {name: secrets.token_urlsafe(12) for name in names}
    _run("chpasswd", stdin="".join(f"{name}:{password}\n" for name, password in chosen.items()))
    passwords.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(passwords, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
    with os.fdopen(descriptor, "a", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        for name, password in chosen.items():
            writer.writerow([name, password])
    account = pwd.getpwnam(instructor)
    os.chown(passwords, account.pw_uid, account.pw_gid)
    os.chmod(passwords, 0o600)
    return passwords


def _close_course(course: Path, instructor: str) -> None:
    """The course folder and all in it: the instructor's, the graders' group's, nobody else's (links untouched)."""
    if not (course / "nbgrader_config.py").is_file():
        raise ValueError(f"{course} is not the course folder (it has no nbgrader_config.py)")
    uid, gid = pwd.getpwnam(instructor).pw_uid, grp.getgrnam(GRADERS).gr_gid
    for folder, folders, files in os.walk(course):
        os.lchown(folder, uid, gid)
        os.chmod(folder, stat.S_ISGID | 0o770)
        for name in files:
            path = os.path.join(folder, name)
            os.lchown(path, uid, gid)
            if not os.path.islink(path):
                mode = os.lstat(path).st_mode
                os.chmod(path, (mode | (mode & 0o700) >> 3) & 0o770)   # the group gets the owner's rights
        folders[:] = [name for name in folders if not os.path.islink(os.path.join(folder, name))]


def _make_exchange(exchange: Path, instructor: str) -> None:
    """The exchange's root (everyone writes, the sticky bit) and the course's folders in it, the instructor's."""
    exchange.mkdir(parents=True, exist_ok=True)
    os.chmod(exchange, stat.S_ISVTX | 0o777)
    uid, gid = pwd.getpwnam(instructor).pw_uid, grp.getgrnam(GRADERS).gr_gid
    for name, mode in EXCHANGE_FOLDERS.items():
        folder = exchange / COURSE_ID / name
        folder.mkdir(exist_ok=True)
        os.lchown(folder, uid, gid)
        os.chmod(folder, mode)
