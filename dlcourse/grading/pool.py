"""Grading a class as a pool of nbgrader workers: resumable, shared between machines, bounded in time.

``autograde`` and ``feedback`` (``dlcourse.grading.commands``) hand an assignment's students to a
:class:`Pool`.  At most ``jobs`` nbgrader processes run at once (the machine's cores by default);
each runs nbgrader's own command (``nbgrader autograde A`` or ``nbgrader generate_feedback A``) on
the next chunk of students, every other student named in ``--CourseDirectory.student_id_exclude``.
A chunk is an even share of the queue among the free workers, at most eight students
(:func:`chunk_size`): one nbgrader start-up serves several notebooks, a small class takes one
start-up per worker, and the workers of a large one finish within a chunk of each other.  The students are dealt in
the order of a hash of their ids (:func:`deal`): ids that follow a pattern are spread.  A watchdog
gives each chunk ``SECONDS_PER_NOTEBOOK`` per student, and as much again once; a chunk still
running then is stopped with everything it started.  Every nbgrader process is started in a session
of its own and is killed by the kernel if the command that started it dies (``PR_SET_PDEATHSIG``):
a killed command leaves no grading behind.  Students a chunk left without a result are graded
again one by one (nbgrader stops a chunk at its first fatal error); one left without a result
alone, or by a chunk the watchdog stopped, is graded as the blank notebook with a note.

Autograding keeps its state in ``<course>/autograde_state/<assignment>/`` (:class:`GradingState`):

* ``<student>.json``, the **record**: the submission was graded, and what was graded (a
  fingerprint of the submitted notebook, its ``timestamp.txt``, the assignment's tests and the
  grading options).  A submission whose record matches is not graded again, so a command stopped
  halfway (a crash, a reboot, Ctrl-C) and started again grades only the rest; a resubmission, new
  tests or other options change the fingerprint.  ``regrade=True`` grades every one again.
* ``<student>.claim``: a command is grading the student now (host, pid, start, expiry), made with
  ``O_EXCL`` before its chunk starts and removed when the chunk ends.  Two commands on one course
  folder (two grading machines sharing it) skip each other's live claims and so divide the class;
  a claim whose command is dead (same host) or which is older than the watchdog allows is stale and
  is taken over.
* ``<student>.graded``: written by nbgrader's post-convert hook (:func:`mark_graded`) once nbgrader
  has finished the student; the pool turns it into the record.  (nbgrader writes the autograded
  notebook twice, sanitized and then graded, so the file's existence alone does not say grading
  is over.)
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import hashlib
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import uuid
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from tqdm import tqdm

from dlcourse.grading.notes import read_note, write_note
from dlcourse.grading.preprocessors.clean_submission import NBGRADER_FILES, is_plain_submission_file

SECONDS_PER_NOTEBOOK = 240       # the watchdog's allowance per notebook: the sandbox's 120 s budget, and nbgrader
MAX_CHUNK = 8                    # students per nbgrader start, at most
POLL_SECONDS = 0.5               # how often the pool looks at its workers and their results
STATE = "autograde_state"        # <course>/autograde_state/<assignment>/<student>.json, .claim, .graded
BLANKS = ".blank_submissions"    # a blank notebook graded in a student's name, beside (never over) their file
CLAIM_WRITE_SECONDS = 30         # a claim file still empty after this long was left by a command that died
HOST = socket.gethostname()
HOOK = "--Autograde.post_convert_hook=dlcourse.grading.pool.mark_graded"
STOPPED_NOTE = ("grading this group of notebooks took longer than the watchdog allows, and it was stopped before "
                "this notebook was graded; it was graded as blank (grade it again on its own)")
DAMAGED_NOTE = ("nbgrader could not grade the notebook as it was handed in (its cells' grading data are damaged); "
                "it was graded as blank")
NOT_EVEN_BLANK_NOTE = "nbgrader could not grade the notebook, even blank; it scored 0"
_PR_SET_PDEATHSIG = 1            # <linux/prctl.h>
_PRCTL = ctypes.CDLL(None, use_errno=True).prctl


def deal(students: Iterable[str]) -> list[str]:
    """The students in the order of a hash of their ids, so that ids that follow a pattern (and
    notebooks that might all be slow) are spread over the chunks instead of grouped.

    >>> deal(["s01", "s02", "s03", "s04"])
    ['s03', 's02', 's04', 's01']
    """
    return sorted(students, key=lambda student: hashlib.sha256(student.encode()).hexdigest())


def chunk_size(remaining: int, free_workers: int) -> int:
    """How many of the ``remaining`` students the next worker takes, while ``free_workers`` workers (this
    one included) wait for work.

    An even share of the queue, at most ``MAX_CHUNK``: a small class is split evenly, one nbgrader
    start-up per worker (a start-up costs about as much as grading two notebooks); a large one goes
    in chunks of ``MAX_CHUNK``, so a worker that finishes early takes the next, and the workers finish
    within one chunk of each other.

    >>> [chunk_size(remaining, 2) for remaining in (500, 32, 12, 5, 1)]
    [8, 8, 6, 3, 1]
    >>> chunk_size(5, 1)
    5
    >>> chunk_size(10, 0)
    Traceback (most recent call last):
    ...
    ValueError: free_workers must be at least 1, not 0
    """
    if free_workers < 1:
        raise ValueError(f"free_workers must be at least 1, not {free_workers}")
    return min(MAX_CHUNK, -(-remaining // free_workers))


def die_with_parent(parent: int | None = None) -> None:
    """``preexec_fn`` of every worker: a session of its own (the watchdog stops it whole), and SIGKILL
    from the kernel when the process that started it dies (``PR_SET_PDEATHSIG``), so a killed
    command leaves no nbgrader grading behind.  ``parent``: the starting process's pid; if it is
    already gone by the time the signal is set up, the worker ends at once.

    The kernel sends the signal when the *thread* that started the worker ends: the pool starts every
    worker from the thread that runs it, which waits for them all.  ``prctl`` is looked up before the
    fork (``_PRCTL``), so the child only calls it.
    """
    os.setsid()
    if _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if parent is not None and os.getppid() != parent:
        os._exit(1)


def nbgrader_command(args: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """The command line and environment of ``nbgrader *args`` from this Python's environment."""
    bin_dir = Path(sys.executable).parent  # nbgrader calls `alembic` from the PATH
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return [str(bin_dir / "nbgrader"), *args], env


def start_nbgrader(course: Path, *args: str) -> subprocess.Popen:
    """Start ``nbgrader *args`` in the course folder as a worker (:func:`die_with_parent`), its output discarded
    (nbgrader also writes its log to ``.nbgrader.log``)."""
    command, env = nbgrader_command(args)
    return subprocess.Popen(command, cwd=course, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                            preexec_fn=functools.partial(die_with_parent, os.getpid()))


def mark_graded(assignment: str, student: str, notebooks: Sequence[str], **_: object) -> None:
    """nbgrader's post-convert hook (the pool gives it on nbgrader's command line): this nbgrader process has
    graded the student and written their autograded notebook.

    It writes ``autograde_state/<assignment>/<student>.graded`` in the course folder (nbgrader's working
    folder) with nbgrader's pid; the pool checks the pid and writes the record.  nbgrader passes "*" as
    the student when it grades several, so the names come from the notebook's folder.
    """
    if not notebooks:
        return
    folder = Path(notebooks[0]).parent              # <submitted>/<student>/<assignment>
    marker = Path.cwd() / STATE / folder.name / f"{folder.parent.name}.graded"
    marker.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(marker, str(os.getpid()))


def _write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and ``os.replace``: a reader sees the old file or the
    new one, never half of it."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object from ``path``, or None if it is missing, unreadable or not an object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _hash_file(digest: Any, path: Path) -> None:
    """Add a file's bytes to ``digest`` without following a link or opening a pipe (those are hashed as what they
    are: a link by its target, anything else but a regular file by its kind)."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        digest.update(b"missing\0")
        return
    except OSError:                                  # ELOOP: a link (O_NOFOLLOW)
        target = os.readlink(path) if path.is_symlink() else ""
        digest.update(b"link\0" + os.fsencode(target) + b"\0")
        return
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            digest.update(b"not a regular file\0")
            return
        digest.update(f"file {info.st_size}\0".encode())
        for block in iter(functools.partial(handle.read, 1 << 20), b""):
            digest.update(block)


def _file_key(path: Path) -> tuple[int, int, int] | None:
    """(inode, mtime, size) of a file, or None if there is none: tells a file written since apart."""
    try:
        info = path.lstat()
    except OSError:
        return None
    return info.st_ino, info.st_mtime_ns, info.st_size


def _reads_as_notebook(path: Path) -> bool:
    if path.is_symlink() or not path.is_file():
        return False
    try:
        nbformat.read(path, as_version=4)
    except Exception:  # a notebook being written, or damaged: whatever the parser raised, it is not one yet
        return False
    return True


def _process_start(pid: int) -> int | None:
    """When a process started (clock ticks after boot, /proc/<pid>/stat), to tell a pid reused from its owner."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[-1].split()
    return int(fields[19]) if len(fields) > 19 else None


def _alive(pid: object, started: object) -> bool:
    """Whether the process ``pid`` of this host still runs (and is the one that started at ``started``)."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return started is None or _process_start(pid) == started


class GradingState:
    """Records and claims of one assignment's autograding (``<course>/autograde_state/<assignment>/``).

    ``options`` are the grading options that change a grade (sandbox, timeout, host limits): they are
    part of every fingerprint.
    """

    def __init__(self, course: Path, name: str, options: Mapping[str, object]) -> None:
        self.course, self.name, self.options = Path(course), name, dict(options)
        self.folder = self.course / STATE / name
        self.token = uuid.uuid4().hex              # this command's claims carry it

    def path(self, student: str, kind: str) -> Path:
        """The state file of ``kind`` ("json", "claim" or "graded") of a student."""
        return self.folder / f"{student}.{kind}"

    def graded_notebook(self, student: str) -> Path:
        """Where nbgrader writes the student's autograded notebook."""
        return self.course / "autograded" / student / self.name / f"{self.name}.ipynb"

    def fingerprint(self, student: str) -> str:
        """sha256 of what a grade depends on: the submitted notebook's bytes, the submission's
        ``timestamp.txt`` (if any), the assignment's source notebook (the tests) and the options."""
        digest = hashlib.sha256()
        submission = self.course / "submitted" / student / self.name
        for label, path in (("submission", submission / f"{self.name}.ipynb"),
                            ("timestamp", submission / "timestamp.txt"),
                            ("tests", self.course / "source" / self.name / f"{self.name}.ipynb")):
            digest.update(f"{label}\0".encode())
            _hash_file(digest, path)
        digest.update(json.dumps(self.options, sort_keys=True, default=str).encode())
        return digest.hexdigest()

    def record(self, student: str) -> dict[str, Any] | None:
        """The student's record, or None."""
        return _read_json(self.path(student, "json"))

    def is_current(self, student: str, fingerprint: str, since: float | None = None) -> bool:
        """Whether the student is graded: a record with this fingerprint (written at or after ``since``,
        if given) and an autograded notebook."""
        record = self.record(student)
        if record is None or record.get("fingerprint") != fingerprint:
            return False
        graded_at = record.get("graded_at")
        if since is not None and not (isinstance(graded_at, int | float) and graded_at >= since):
            return False
        notebook = self.graded_notebook(student)
        return notebook.is_file() and not notebook.is_symlink()

    def write_record(self, student: str, fingerprint: str, note: str | None = None) -> None:
        """Record that the student is graded; ``note``: they were graded as the blank notebook, and why."""
        self.folder.mkdir(parents=True, exist_ok=True)
        record = {"student": student, "assignment": self.name, "fingerprint": fingerprint, "graded_at": time.time(),
                  "host": HOST, "pid": os.getpid(), "blank": note is not None, "note": note or ""}
        _write_atomically(self.path(student, "json"), json.dumps(record, indent=1))

    def _claim_data(self, seconds: float) -> dict[str, Any]:
        now = time.time()
        return {"host": HOST, "pid": os.getpid(), "process_start": _process_start(os.getpid()), "token": self.token,
                "started": now, "expires": now + seconds}

    def claim(self, student: str, seconds: float) -> bool:
        """Claim a student for ``seconds`` (``O_EXCL``): True if this command may grade them now, False if another
        command is grading them (a live claim).  A stale claim is taken over."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.path(student, "claim")
        for _ in range(3):
            try:
                descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                held = _read_json(path)
                if not self._is_stale(path, held) or not self._take_over(path, held):
                    return False
                continue
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump(self._claim_data(seconds), handle)
            return True
        return False

    def renew(self, student: str, seconds: float) -> None:
        """Extend this command's claim on a student by ``seconds`` from now."""
        held = _read_json(self.path(student, "claim"))
        if held is not None and held.get("token") == self.token:
            _write_atomically(self.path(student, "claim"), json.dumps(self._claim_data(seconds)))

    def release(self, student: str) -> None:
        """Remove this command's claim on a student (never another command's)."""
        path = self.path(student, "claim")
        held = _read_json(path)
        if held is not None and held.get("token") == self.token:
            path.unlink(missing_ok=True)

    def clear_leftovers(self, student: str) -> None:
        """Remove what a command that died left of a student's grading: a stale claim, a ``.graded`` marker."""
        path = self.path(student, "claim")
        held = _read_json(path)
        if path.exists() and self._is_stale(path, held):
            self._take_over(path, held)                 # moved aside and removed
        if not path.exists():
            self.path(student, "graded").unlink(missing_ok=True)

    def is_claimed(self, student: str) -> bool:
        """Whether a live claim of any command holds the student."""
        path = self.path(student, "claim")
        return path.exists() and not self._is_stale(path, _read_json(path))

    @staticmethod
    def _is_stale(path: Path, held: dict[str, Any] | None) -> bool:
        """A claim is stale when its command died (same host: the pid is gone or reused) or it expired; an
        empty or unreadable claim file, when it is older than ``CLAIM_WRITE_SECONDS``."""
        if held is None:
            try:
                return time.time() - path.stat().st_mtime > CLAIM_WRITE_SECONDS
            except FileNotFoundError:
                return True
        expires = held.get("expires")
        if not isinstance(expires, int | float) or time.time() > expires:
            return True
        return held.get("host") == HOST and not _alive(held.get("pid"), held.get("process_start"))

    @staticmethod
    def _take_over(path: Path, held: dict[str, Any] | None) -> bool:
        """Move a stale claim aside (a rename: one command wins); True if the claim may now be made again.

        If what was moved is not the claim judged stale (another command took it over in between), it is put
        back and the student is left to that command."""
        aside = path.with_name(f"{path.name}.{HOST}.{os.getpid()}.{uuid.uuid4().hex}.stale")
        try:
            os.rename(path, aside)
        except FileNotFoundError:
            return True
        moved = _read_json(aside)
        try:
            if moved == held:
                return True
            with contextlib.suppress(OSError):          # (a newer claim may be there already)
                os.link(aside, path)
            return False
        finally:
            aside.unlink(missing_ok=True)


@dataclass
class PoolResult:
    """What a pool did with a class."""

    graded: list[str] = field(default_factory=list)        # graded by this command (as blank ones included)
    skipped: list[str] = field(default_factory=list)       # already graded (a current record): not graded again
    elsewhere: list[str] = field(default_factory=list)     # graded meanwhile by another command on the course folder
    stopped: list[str] = field(default_factory=list)       # their chunk ran past the watchdog
    blank_notes: dict[str, str] = field(default_factory=dict)   # graded as the blank notebook here: the note


@dataclass
class _Job:
    """One nbgrader process and the students it grades."""

    students: list[str]
    process: subprocess.Popen
    deadline: float
    before: dict[str, tuple[int, int, int] | None]          # their autograded notebooks when it started
    pending: set[str]                                       # not seen graded yet
    blank_note: str | None = None                           # a blank notebook graded for its one student


class Pool:
    """At most ``jobs`` nbgrader processes at once, each running ``nbgrader <command> <name>`` on the next chunk of
    students; with a :class:`GradingState` (autograde), resumable and shared with other commands (claims).

    With a state, the students a chunk left without a result are graded again one by one (a chunk stops at
    nbgrader's first fatal error, such as a gradebook too busy), and a student left without a result alone
    is graded as the blank notebook, with a note (a chunk stopped by the watchdog: at once).
    ``progress``: a tqdm bar on stderr (None: only when stderr is a terminal).
    """

    def __init__(self, course: Path, command: str, name: str, extra: Sequence[str] = (), jobs: int | None = None,
                 seconds_per_notebook: float = SECONDS_PER_NOTEBOOK, state: GradingState | None = None,
                 regrade: bool = False, progress: bool | None = None) -> None:
        if jobs is not None and jobs < 1:
            raise ValueError(f"jobs must be at least 1, not {jobs}")
        self.course, self.command, self.name, self.extra = Path(course), command, name, list(extra)
        self.jobs = jobs or os.cpu_count() or 1
        self.seconds_per_notebook = seconds_per_notebook
        self.state, self.regrade = state, regrade
        self.progress = sys.stderr.isatty() if progress is None else progress
        self.since: float | None = None
        self.everyone: list[str] = []
        self.fingerprints: dict[str, str] = {}
        self.queue: deque[str] = deque()              # to grade, in dealing order
        self.alone: deque[str] = deque()              # left without a result by a chunk: again, one by one
        self.blanks: deque[str] = deque()             # left without a result alone: graded as blank next
        self.deferred: list[str] = []                 # claimed by another command
        self.running: list[_Job] = []
        self.result = PoolResult()
        self.bar: Any = None

    def _allowance(self, students: int) -> float:
        return self.seconds_per_notebook * (students + 1)

    def run(self, students: Sequence[str]) -> PoolResult:
        """Grade (or give feedback to) ``students``; returns what was done."""
        self.result, self.queue = PoolResult(), deque(deal(students))
        self.alone, self.blanks, self.deferred, self.running = deque(), deque(), [], []
        if self.state is not None:
            self.fingerprints = {student: self.state.fingerprint(student) for student in self.queue}
        if self.state is not None and not self.regrade:
            state = self.state
            self.result.skipped = [s for s in self.queue if state.is_current(s, self.fingerprints[s])]
            skipped = set(self.result.skipped)
            self.queue = deque(s for s in self.queue if s not in skipped)
            for student in self.result.skipped:
                state.clear_leftovers(student)
        self.since = time.time() if self.regrade else None
        folder = "submitted" if self.command == "autograde" else "autograded"
        self.everyone = sorted({p.parent.name for p in (self.course / folder).glob(f"*/{self.name}")} | set(students))
        self.bar = tqdm(total=len(self.queue), desc=f"{self.command} {self.name}", unit="notebook", file=sys.stderr,
                        disable=not self.progress, dynamic_ncols=True)
        try:
            while self.queue or self.alone or self.blanks or self.deferred or self.running:
                busy = self._finish()
                while len(self.running) < self.jobs and (self.blanks or self.alone or self.queue):
                    if self.blanks:
                        self.running.append(self._start_blank(self.blanks.popleft()))
                    elif self.alone:
                        student = self.alone.popleft()
                        assert self.state is not None
                        self.state.renew(student, self._allowance(1))
                        self.running.append(self._start([student]))
                    else:
                        job = self._start_chunk()
                        if job is None:
                            continue
                        self.running.append(job)
                    busy = True
                if not self.queue and self.deferred and len(self.running) < self.jobs:
                    self._recheck()
                self._scan()
                if not busy:
                    time.sleep(POLL_SECONDS)
        finally:
            for job in self.running:                  # an error or Ctrl-C: stop the workers, give the claims back
                self._stop(job)
                for student in job.students:
                    if self.state is not None:
                        self.state.release(student)
            self.bar.close()
        return self.result

    # ------------------------------------------------------------ starting workers

    def _start_chunk(self) -> _Job | None:
        """Take the next chunk from the queue (claimed, when there is a state) and start its nbgrader."""
        size = chunk_size(len(self.queue), self.jobs - len(self.running))
        chunk: list[str] = []
        while self.queue and len(chunk) < size:
            student = self.queue.popleft()
            if self.state is None:
                chunk.append(student)
                continue
            if not self.state.claim(student, self._allowance(size)):
                self.deferred.append(student)
                continue
            # what is graded is what is there now (a resubmission since the start is graded, and recorded, as it is)
            self.fingerprints[student] = self.state.fingerprint(student)
            if self.state.is_current(student, self.fingerprints[student], self.since):   # graded elsewhere meanwhile
                self.state.release(student)
                self.result.elsewhere.append(student)
                self.bar.update(1)
                continue
            chunk.append(student)
        return self._start(chunk) if chunk else None

    def _start(self, chunk: list[str]) -> _Job:
        """Start nbgrader on the students of ``chunk`` (claimed already, when there is a state)."""
        others = sorted(set(self.everyone) - set(chunk))
        exclude = [f"--CourseDirectory.student_id_exclude={','.join(others)}"] if others else []
        hook = [HOOK] if self.state is not None else []
        for student in chunk:
            if self.state is not None:
                self.state.path(student, "graded").unlink(missing_ok=True)
        before = {student: self._notebook_key(student) for student in chunk}
        process = start_nbgrader(self.course, self.command, self.name, "--force", *exclude, *self.extra, *hook)
        return _Job(chunk, process, time.monotonic() + self._allowance(len(chunk)), before, set(chunk))

    def _start_blank(self, student: str) -> _Job:
        """Grade the blank notebook in the student's name, from a folder of its own (``CourseDirectory.
        submitted_directory``), so the student's own file in ``submitted/`` is never overwritten: it stays there
        for the instructor to look at."""
        assert self.state is not None
        folder = self.course / BLANKS / student / self.name
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        shutil.copy(self.course / "release" / self.name / f"{self.name}.ipynb", folder / f"{self.name}.ipynb")
        for name in NBGRADER_FILES:     # when it was handed in, and the secret its feedback is released under
            kept = self.course / "submitted" / student / self.name / name
            if is_plain_submission_file(kept):
                shutil.copy(kept, folder / name)
        note = read_note(self.course, self.name, student) or DAMAGED_NOTE
        self.state.renew(student, self._allowance(1))
        self.state.path(student, "graded").unlink(missing_ok=True)
        before = {student: self._notebook_key(student)}
        process = start_nbgrader(self.course, "autograde", self.name, "--force", "--student", student,
                                 f"--CourseDirectory.submitted_directory={BLANKS}", *self.extra, HOOK)
        return _Job([student], process, time.monotonic() + self._allowance(1), before, {student}, blank_note=note)

    # ------------------------------------------------------------ watching them

    def _notebook_key(self, student: str) -> tuple[int, int, int] | None:
        return _file_key(self.course / "autograded" / student / self.name / f"{self.name}.ipynb")

    def _is_graded(self, job: _Job, student: str, exited: bool) -> bool:
        """Whether the job has graded the student: its nbgrader marked them graded (post-convert hook) or, once
        it has exited by itself (nbgrader removes what it could not finish), their autograded notebook is new;
        and that notebook reads as a notebook."""
        assert self.state is not None
        marker = self.state.path(student, "graded")
        try:
            marked = marker.read_text(encoding="utf-8").strip() == str(job.process.pid)
        except OSError:
            marked = False
        fresh = exited and self._notebook_key(student) not in (None, job.before[student])
        if not (marked or fresh):
            return False
        return _reads_as_notebook(self.course / "autograded" / student / self.name / f"{self.name}.ipynb")

    def _scan(self) -> None:
        """Record every student a running chunk has graded since the last look."""
        for job in self.running:
            if self.state is None or job.blank_note is not None:
                continue
            for student in sorted(job.pending):
                if self._is_graded(job, student, exited=False):
                    self._record(job, student)

    def _record(self, job: _Job, student: str, note: str | None = None) -> None:
        assert self.state is not None
        self.state.write_record(student, self.fingerprints[student], note)
        self.state.path(student, "graded").unlink(missing_ok=True)
        job.pending.discard(student)
        self.result.graded.append(student)
        self.bar.update(1)

    def _stop(self, job: _Job) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(job.process.pid, signal.SIGKILL)   # nbgrader and every kernel it started
        job.process.wait()

    def _finish(self) -> bool:
        """Deal with the jobs that ended, or ran past the watchdog; True if any did."""
        ended = False
        for job in list(self.running):
            stopped = False
            if job.process.poll() is None:
                if time.monotonic() < job.deadline:
                    continue
                self._stop(job)
                stopped = True
            self.running.remove(job)
            ended = True
            if self.state is None:
                if stopped:
                    self.result.stopped += job.students
                self.bar.update(len(job.students))
            elif job.blank_note is not None:
                self._finish_blank(job, stopped)
            else:
                self._finish_chunk(job, stopped)
        return ended

    def _finish_chunk(self, job: _Job, stopped: bool) -> None:
        assert self.state is not None
        for student in sorted(job.pending):
            if self._is_graded(job, student, exited=not stopped):
                self._record(job, student)
        for student in job.students:                 # those left keep their claims: graded again next
            if student not in job.pending:
                self.state.release(student)
            elif stopped:
                self.result.stopped.append(student)
                write_note(self.course, self.name, student, STOPPED_NOTE)
                self.blanks.append(student)
            elif len(job.students) > 1:
                self.alone.append(student)
            else:
                self.blanks.append(student)

    def _finish_blank(self, job: _Job, stopped: bool) -> None:
        assert self.state is not None and job.blank_note is not None
        student = job.students[0]
        shutil.rmtree(self.course / BLANKS / student, ignore_errors=True)
        note = job.blank_note
        if not self._is_graded(job, student, exited=not stopped):
            note = NOT_EVEN_BLANK_NOTE
            self.result.graded.append(student)
            self.bar.update(1)
        elif student in self.result.stopped:          # no record: the next command grades it again on its own
            self.state.path(student, "graded").unlink(missing_ok=True)
            self.result.graded.append(student)
            self.bar.update(1)
        else:
            self._record(job, student, note=note)
        write_note(self.course, self.name, student, note)
        self.result.blank_notes[student] = note
        self.state.release(student)
        with contextlib.suppress(OSError):            # another blank is being graded, or another command's
            (self.course / BLANKS).rmdir()

    def _recheck(self) -> None:
        """Students another command held: done there, or back in the queue once its claim is gone or stale."""
        assert self.state is not None
        for student in list(self.deferred):
            if self.state.is_current(student, self.fingerprints[student], self.since):
                self.deferred.remove(student)
                self.result.elsewhere.append(student)
                self.bar.update(1)
            elif not self.state.is_claimed(student):
                self.deferred.remove(student)
                self.queue.append(student)


def give_to_course_owner(course: Path) -> int:
    """When run as root on a course folder owned by another user, give that user (and the folder's group) every
    entry under the folder that root owns: what the command made (``autograded/``, ``feedback/``,
    ``grader_notes/``, ``quarantine/``, ``autograde_state/``, the gradebook, nbgrader's log...).  Returns how many.

    On a class server the instructor owns the course and grading runs with sudo (the sandbox's whole-notebook
    limits need root); without this, the instructor could no longer touch the results.  Links are never followed
    (``os.fwalk`` without following, ``lchown``), and a file with several hard links is left alone (it may be a
    file outside the course).  Not root, or a folder of root's: nothing to do.
    """
    if os.geteuid() != 0 or not Path(course).is_dir():
        return 0
    owner = os.stat(course)
    if owner.st_uid == 0:
        return 0
    given = 0
    for _top, dirs, files, top in os.fwalk(course, follow_symlinks=False):
        for entry in dirs + files:
            try:
                info = os.stat(entry, dir_fd=top, follow_symlinks=False)
                if info.st_uid != 0 or (not stat.S_ISDIR(info.st_mode) and info.st_nlink > 1):
                    continue
                os.chown(entry, owner.st_uid, owner.st_gid, dir_fd=top, follow_symlinks=False)
            except FileNotFoundError:
                continue                         # removed meanwhile (a journal, another command's claim)
            given += 1
    return given


def read_blank_note(state: GradingState, student: str) -> str | None:
    """For a student recorded as graded blank, their note (put back in ``grader_notes/`` if ``collect`` removed it,
    so the feedback still shows it); None for a student graded as handed in."""
    record = state.record(student)
    if record is None or not record.get("blank"):
        return None
    note = read_note(state.course, state.name, student)
    if not note and isinstance(record.get("note"), str) and record["note"]:
        note = record["note"]
        write_note(state.course, state.name, student, note)
    return note


__all__ = ["BLANKS", "MAX_CHUNK", "SECONDS_PER_NOTEBOOK", "STATE", "GradingState", "Pool", "PoolResult", "chunk_size",
           "deal", "die_with_parent", "give_to_course_owner", "mark_graded", "nbgrader_command", "read_blank_note",
           "start_nbgrader"]
