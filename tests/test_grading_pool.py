"""Grading a class as a resumable pool of nbgrader workers (dlcourse/grading/pool.py).

The fast tests check the pool's parts, and the pool itself with a stand-in for nbgrader that
"grades" a chunk at once: dealing and chunk sizes, fingerprints, claims, the watchdog, workers
that die with the command, ownership.  The slow ones grade a small class of assignment 01
in the sandbox with the course's commands: a command killed halfway and run again, a
resubmission, ``regrade``, two commands sharing the course folder, and root grading a
course folder of another user.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import nbformat
import pytest
from student_answers import HONEST, MISTAKES
from test_grading import A1, FULL, POINTS, _cell, make_course

from dlcourse.grading import commands as grading
from dlcourse.grading import pool

NOBODY = 65534

# ---------------------------------------------------------------- dealing and chunks


def test_students_are_dealt_in_the_order_of_a_hash_of_their_ids():
    students = [f"s{index:04d}" for index in range(1, 201)]
    dealt = pool.deal(students)
    assert dealt == sorted(students, key=lambda s: hashlib.sha256(s.encode()).hexdigest())
    assert sorted(dealt) == students
    # ids that follow a pattern are spread: the first 20 dealt are not the first 20 ids, nor any 20 in a row
    first = sorted(int(s[1:]) for s in dealt[:20])
    assert first != list(range(1, 21)) and first[-1] - first[0] > 100


def test_chunks_are_an_even_share_of_at_most_eight():
    assert [pool.chunk_size(n, 2) for n in (500, 33, 16, 15, 8, 5, 2, 1)] == [8, 8, 8, 8, 4, 3, 1, 1]
    assert pool.chunk_size(40, 4) == 8 and pool.chunk_size(1000, 16) == 8 and pool.chunk_size(9, 3) == 3

    def deal_out(students: int, workers: int) -> list[int]:   # every worker free at the start
        sizes: list[int] = []
        for free in range(workers, 0, -1):
            sizes.append(pool.chunk_size(students - sum(sizes), free))
        return sizes

    assert deal_out(10, 2) == [5, 5] and deal_out(7, 2) == [4, 3] and deal_out(3, 4) == [1, 1, 1, 0]
    assert deal_out(100, 2) == [8, 8]
    with pytest.raises(ValueError, match="free_workers must be at least 1, not 0"):
        pool.chunk_size(10, 0)


# ---------------------------------------------------------------- a course and a stand-in for nbgrader


def _fake_course(root: Path, students) -> Path:
    for student in students:
        folder = root / "submitted" / student / A1
        folder.mkdir(parents=True)
        (folder / f"{A1}.ipynb").write_text(f'{{"by": "{student}"}}')
    for place in ("source", "release"):
        (root / place / A1).mkdir(parents=True)
        (root / place / A1 / f"{A1}.ipynb").write_text('{"tests": 1}')
    return root


class FakeNbgrader:
    """Stands in for ``pool.start_nbgrader``: "grades" the students nbgrader would (everyone not excluded, or
    ``--student``) at once, as the post-convert hook would mark them, and lives ``seconds``."""

    def __init__(self, seconds: float = 0.3, fails: tuple[str, ...] = ()) -> None:
        self.seconds, self.graded, self.runs, self.asked, self.fails = seconds, [], [], [], fails
        self.lock = threading.Lock()

    def __call__(self, course, *args):
        name = args[1]
        if "--student" in args:
            students = [args[args.index("--student") + 1]]
            self.asked.append(students)
            if not any(a.startswith("--CourseDirectory.submitted_directory=") for a in args):
                students = [s for s in students if s not in self.fails]
        else:
            exclude = next((a.split("=", 1)[1].split(",") for a in args
                            if a.startswith("--CourseDirectory.student_id_exclude=")), [])
            students = sorted(p.parent.name for p in (course / "submitted").glob(f"*/{name}")
                              if p.parent.name not in exclude)
            self.asked.append(students)
            failing = [index for index, student in enumerate(students) if student in self.fails]
            students = students[:failing[0]] if failing else students   # a fatal error ends nbgrader there
        run = subprocess.Popen(["sleep", str(self.seconds)], start_new_session=True)
        for student in students:
            target = course / "autograded" / student / name / f"{name}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nbformat.v4.new_notebook(), target)
            marker = course / pool.STATE / name / f"{student}.graded"
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.write_text(str(run.pid))
        with self.lock:
            self.graded += students
            self.runs.append(students)
        return run


def _state(course, **options):
    return pool.GradingState(course, A1, {"sandboxed": True, "timeout": None, "host_limits": True, **options})


def _autograde_pool(course, **kwargs):
    return pool.Pool(course, "autograde", A1, jobs=2, state=_state(course), progress=False, **kwargs)


def test_a_rerun_grades_only_what_changed_and_regrade_grades_all(tmp_path, monkeypatch):
    students = [f"s{index}" for index in range(10)]
    course = _fake_course(tmp_path, students)
    fake = FakeNbgrader(0.1)
    monkeypatch.setattr(pool, "start_nbgrader", fake)
    first = _autograde_pool(course).run(students)
    assert sorted(fake.graded) == students and sorted(first.graded) == students and first.skipped == []
    assert [len(run) for run in fake.runs] == [5, 5]        # an even share: one nbgrader start-up per worker
    state = _state(course)
    for student in students:
        record = json.loads((course / pool.STATE / A1 / f"{student}.json").read_text())
        assert record["fingerprint"] == state.fingerprint(student) and record["blank"] is False
    assert sorted(p.name for p in (course / pool.STATE / A1).iterdir()) == sorted(f"{s}.json" for s in students)

    fake.graded.clear()
    again = _autograde_pool(course).run(students)
    assert fake.graded == [] and sorted(again.skipped) == students

    (course / "submitted" / "s3" / A1 / f"{A1}.ipynb").write_text('{"by": "s3", "again": true}')
    (course / "submitted" / "s7" / A1 / "timestamp.txt").write_text("2031-01-01 00:00:00")
    resubmitted = _autograde_pool(course).run(students)
    assert sorted(fake.graded) == ["s3", "s7"] and sorted(resubmitted.graded) == ["s3", "s7"]

    fake.graded.clear()
    regraded = _autograde_pool(course, regrade=True).run(students)
    assert sorted(fake.graded) == students and regraded.skipped == []

    fake.graded.clear()
    (course / "source" / A1 / f"{A1}.ipynb").write_text('{"tests": 2}')     # new tests: everyone again
    _autograde_pool(course).run(students)
    assert sorted(fake.graded) == students


def test_students_a_chunk_left_are_graded_again_alone_and_as_blank_if_they_fail_alone(tmp_path, monkeypatch):
    students = [f"s{index}" for index in range(8)]
    course = _fake_course(tmp_path, students)
    fake = FakeNbgrader(0.1, fails=("s5",))
    monkeypatch.setattr(pool, "start_nbgrader", fake)
    result = pool.Pool(course, "autograde", A1, jobs=1, state=_state(course), progress=False).run(students)
    assert fake.asked[0] == students                                    # one worker takes a chunk of 8...
    assert fake.runs[0] == ["s0", "s1", "s2", "s3", "s4"]               # ... that ended at s5
    assert sorted(fake.asked[1:]) == [["s5"], ["s5"], ["s6"], ["s7"]]  # those left, alone; s5 then as blank
    assert sorted(fake.graded) == students and sorted(result.graded) == students    # each once
    assert result.blank_notes == {"s5": pool.DAMAGED_NOTE} and result.stopped == []
    record = json.loads((course / pool.STATE / A1 / "s5.json").read_text())
    assert record["blank"] is True and record["note"] == pool.DAMAGED_NOTE
    assert json.loads((course / "grader_notes" / A1 / "s5.json").read_text()) == {"note": pool.DAMAGED_NOTE}
    assert not (course / pool.BLANKS).exists()


def test_the_fingerprint_covers_the_submission_its_timestamp_the_tests_and_the_options(tmp_path):
    course = _fake_course(tmp_path, ["a"])
    submission = course / "submitted" / "a" / A1
    prints = [_state(course).fingerprint("a")]

    def changed(**options):
        prints.append(_state(course, **options).fingerprint("a"))
        return prints[-1] not in prints[:-1]

    assert _state(course).fingerprint("a") == prints[0]             # the same files and options: the same
    assert changed(timeout=5) and changed(sandboxed=False) and changed(host_limits=False)
    (submission / "timestamp.txt").write_text("2030-01-01 10:00:00")
    assert changed()
    (submission / f"{A1}.ipynb").write_text('{"by": "a", "more": 1}')
    assert changed()
    (course / "source" / A1 / f"{A1}.ipynb").write_text('{"tests": 2}')
    assert changed()
    expected = hashlib.sha256()
    for label, data in (("submission", b'{"by": "a", "more": 1}'), ("timestamp", b"2030-01-01 10:00:00"),
                        ("tests", b'{"tests": 2}')):
        expected.update(f"{label}\0file {len(data)}\0".encode() + data)
    expected.update(json.dumps({"host_limits": True, "sandboxed": True, "timeout": None}, sort_keys=True).encode())
    assert _state(course).fingerprint("a") == expected.hexdigest()


def test_the_fingerprint_never_follows_a_link_nor_opens_a_pipe(tmp_path):
    course = _fake_course(tmp_path, ["a", "b"])
    os.symlink("/etc/passwd", course / "submitted" / "a" / A1 / "timestamp.txt")
    os.mkfifo(course / "submitted" / "b" / A1 / "timestamp.txt")
    state = _state(course)
    start = time.monotonic()
    linked, piped = state.fingerprint("a"), state.fingerprint("b")
    assert time.monotonic() - start < 1 and len({linked, piped}) == 2
    (course / "submitted" / "a" / A1 / "timestamp.txt").unlink()
    os.symlink("/etc/hostname", course / "submitted" / "a" / A1 / "timestamp.txt")
    assert state.fingerprint("a") != linked                          # a link is known by where it points


# ---------------------------------------------------------------- claims


def _dead_pid() -> int:
    run = subprocess.Popen(["true"])
    run.wait()
    return run.pid


def _plant_claim(course, student, **fields):
    claim = {"host": pool.HOST, "pid": os.getpid(), "token": "someone", "started": time.time(),
             "expires": time.time() + 600, **fields}
    path = course / pool.STATE / A1 / f"{student}.claim"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(claim))
    return path


def test_a_claim_is_made_once_and_released_only_by_its_command(tmp_path):
    first, second = _state(tmp_path), _state(tmp_path)
    assert first.claim("a", 60)
    held = json.loads(first.path("a", "claim").read_text())
    assert held["host"] == pool.HOST and held["pid"] == os.getpid() and held["expires"] - held["started"] == \
        pytest.approx(60)
    assert not second.claim("a", 60)             # a live claim of another command: left to it
    assert second.is_claimed("a")
    second.release("a")
    assert first.path("a", "claim").exists()     # not second's to remove
    first.release("a")
    assert not first.path("a", "claim").exists()
    assert second.claim("a", 60)


@pytest.mark.parametrize("fields, stale", [
    ({"pid": "dead"}, True),                                              # this host, its command died
    ({"host": "another-node", "pid": "dead"}, False),                     # another host: its pid means nothing here
    ({"host": "another-node", "expires": "past"}, True),                  # older than the watchdog allows
    ({"process_start": -1}, True),                                        # a live pid, but not the claim's process
    ({}, False),                                                          # a live command of this host
])
def test_a_stale_claim_is_taken_over_and_a_live_one_is_not(tmp_path, fields, stale):
    fields = dict(fields)
    if fields.get("pid") == "dead":
        fields["pid"] = _dead_pid()
    if fields.get("expires") == "past":
        fields["expires"] = time.time() - 1
    planted = _plant_claim(tmp_path, "a", **fields)
    state = _state(tmp_path)
    assert state.claim("a", 60) is stale
    held = json.loads(planted.read_text())
    assert (held["token"] == state.token) is stale
    assert [p.name for p in planted.parent.iterdir()] == ["a.claim"]     # nothing moved aside is left


def test_an_empty_claim_file_is_stale_once_old(tmp_path):
    path = tmp_path / pool.STATE / A1 / "a.claim"
    path.parent.mkdir(parents=True)
    path.touch()
    assert not _state(tmp_path).claim("a", 60)
    old = time.time() - pool.CLAIM_WRITE_SECONDS - 5
    os.utime(path, (old, old))
    assert _state(tmp_path).claim("a", 60)


def test_students_claimed_by_another_command_are_left_to_it_then_counted_as_graded_there(tmp_path, monkeypatch):
    students = [f"s{index}" for index in range(6)]
    course = _fake_course(tmp_path, students)
    fake = FakeNbgrader(0.1)
    monkeypatch.setattr(pool, "start_nbgrader", fake)
    other = _state(course)
    assert other.claim("s2", 600) and other.claim("s4", 600)

    def the_other_command_finishes():
        time.sleep(1.5)
        for student in ("s2", "s4"):
            target = course / "autograded" / student / A1 / f"{A1}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nbformat.v4.new_notebook(), target)
            other.write_record(student, other.fingerprint(student))
            other.release(student)

    helper = threading.Thread(target=the_other_command_finishes)
    helper.start()
    result = _autograde_pool(course).run(students)
    helper.join()
    assert sorted(fake.graded) == ["s0", "s1", "s3", "s5"]
    assert sorted(result.elsewhere) == ["s2", "s4"] and sorted(result.graded) == ["s0", "s1", "s3", "s5"]


def test_two_pools_at_once_divide_the_class(tmp_path, monkeypatch):
    students = [f"s{index:02d}" for index in range(24)]
    course = _fake_course(tmp_path, students)
    fake = FakeNbgrader(0.3)
    monkeypatch.setattr(pool, "start_nbgrader", fake)
    results = {}

    def grade(key):
        results[key] = _autograde_pool(course).run(students)

    threads = [threading.Thread(target=grade, args=(key,)) for key in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(fake.graded) == students                                 # each student graded once
    assert results["a"].graded and results["b"].graded
    assert sorted(results["a"].graded + results["b"].graded) == students
    assert sorted(results["a"].graded + results["a"].elsewhere) == students


# ---------------------------------------------------------------- the watchdog, and workers that die with the command


def test_the_watchdog_stops_a_chunk_and_its_students_are_graded_as_blank_with_a_note(tmp_path, monkeypatch):
    course = _fake_course(tmp_path, ["a", "b", "c"])
    started = []

    def never_finishes(course, *args):
        run = subprocess.Popen(["sleep", "600"], start_new_session=True)
        started.append(args)
        return run

    monkeypatch.setattr(pool, "start_nbgrader", never_finishes)
    start = time.monotonic()
    result = _autograde_pool(course, seconds_per_notebook=0.5).run(["a", "b", "c"])
    assert time.monotonic() - start < 10
    assert sorted(result.stopped) == ["a", "b", "c"]
    blank_runs = [args for args in started if "--student" in args]
    assert sorted(args[args.index("--student") + 1] for args in blank_runs) == ["a", "b", "c"]
    assert all(f"--CourseDirectory.submitted_directory={pool.BLANKS}" in args for args in blank_runs)
    assert result.blank_notes == dict.fromkeys("abc", pool.NOT_EVEN_BLANK_NOTE)    # (the blank run was stopped too)
    assert list((course / pool.STATE / A1).iterdir()) == []                        # no record, no claim left
    assert not (course / pool.BLANKS).exists()


def test_a_worker_dies_with_the_command_that_started_it(tmp_path):
    pid_file = tmp_path / "worker.pid"
    command = textwrap.dedent(f"""
        import functools, os, subprocess, time
        from dlcourse.grading.pool import die_with_parent
        run = subprocess.Popen(["sleep", "600"], preexec_fn=functools.partial(die_with_parent, os.getpid()))
        open({str(pid_file)!r}, "w").write(str(run.pid))
        time.sleep(600)
    """)
    parent = subprocess.Popen([sys.executable, "-c", command])
    deadline = time.monotonic() + 30
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    worker = int(pid_file.read_text())
    assert os.getsid(worker) == worker                       # a session of its own
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 5
    while _running(worker):
        assert time.monotonic() < deadline, "the worker outlived the command"
        time.sleep(0.05)


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


# ---------------------------------------------------------------- ownership


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="gives files away: needs root")


@needs_root
def test_root_gives_what_it_made_to_the_owner_of_the_course_folder(tmp_path):
    course = tmp_path / "course"
    (course / "source").mkdir(parents=True)
    outside = tmp_path / "outside.txt"
    outside.write_text("root's")
    for path in (course, course / "source"):
        os.chown(path, NOBODY, NOBODY)
    (course / "autograded" / "a").mkdir(parents=True)
    (course / "autograded" / "a" / "A.ipynb").write_text("{}")
    (course / "gradebook.db").write_text("")
    os.symlink(outside, course / "autograded" / "link")
    os.symlink(tmp_path, course / "autograded" / "folder_link")
    os.link(outside, course / "hardlink")                 # a second name of a file outside: left alone
    given = pool.give_to_course_owner(course)
    assert given == 6
    for path in [course / "autograded", course / "autograded" / "a", course / "autograded" / "a" / "A.ipynb",
                 course / "gradebook.db", course / "autograded" / "link", course / "autograded" / "folder_link"]:
        assert (path.lstat().st_uid, path.lstat().st_gid) == (NOBODY, NOBODY), path
    assert outside.stat().st_uid == 0 and tmp_path.stat().st_uid == 0        # no link followed
    os.chown(course, 0, 0)
    (course / "new").write_text("")
    assert pool.give_to_course_owner(course) == 0                            # a course of root's: left as it is


# ---------------------------------------------------------------- a class graded in the sandbox

STUDENTS = {  # student: (answers, score)
    "ana": ({}, FULL),
    "binh": ({}, FULL),
    "chau": (HONEST[A1]["float32 and loops"], FULL),
    "dung": (HONEST[A1]["helpers"], FULL),
    "giang": ("collapse handles only two layers", FULL - POINTS["q3"]),
    "hoa": ("softmax over all elements", FULL - POINTS["q2"]),
    "khanh": (None, 0),                                    # the blank notebook
}


def _submission(course: Path, answers) -> nbformat.NotebookNode:
    if answers is None:
        return nbformat.read(course / "release" / A1 / f"{A1}.ipynb", as_version=4)
    notebook = nbformat.read(course / "source" / A1 / f"{A1}.ipynb", as_version=4)
    if isinstance(answers, str):
        _test_id, answer_id, source = MISTAKES[A1][answers]
        answers = {answer_id: source}
    for grade_id, source in answers.items():
        _cell(notebook, grade_id).source = source.strip() + "\n"
    return notebook


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A course with the class collected, not graded yet; each test grades a copy."""
    root = tmp_path_factory.mktemp("template")
    course = make_course(root / "course", [A1])
    inbox = root / "inbox"
    inbox.mkdir()
    for student, (answers, _score) in STUDENTS.items():
        nbformat.write(_submission(course, answers), inbox / f"{student}.ipynb")
    grading.collect(course, A1, inbox)
    return course


@pytest.fixture
def course(template, tmp_path) -> Path:
    return Path(shutil.copytree(template, tmp_path / "course", symlinks=True))


def _scores(course: Path) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        return {s.student.id: float(s.score) for s in gradebook.assignment_submissions(A1)}


def _graded_files(course: Path) -> dict[str, int]:
    return {p.parts[-3]: p.stat().st_mtime_ns for p in (course / "autograded").glob(f"*/{A1}/{A1}.ipynb")}


def _state_files(course: Path) -> list[str]:
    folder = course / pool.STATE / A1
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _processes_in(course: Path) -> list[int]:
    """Processes whose working folder is the course (nbgrader's) or whose command line names it."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cwd = os.readlink(entry / "cwd")
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and (cwd == str(course) or str(course) in cmdline):
            found.append(int(entry.name))
    return found


def _cli(course: Path, *args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "dlcourse.grading", "--course", str(course), "autograde", A1,
                             "--no-progress", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **kwargs)


@pytest.mark.slow
def test_a_killed_command_leaves_nothing_running_and_the_rerun_grades_only_the_rest(course):
    command = _cli(course, "--jobs", "2")
    deadline = time.monotonic() + 600
    while not any(name.endswith(".json") for name in _state_files(course)):
        assert command.poll() is None, command.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.1)
    os.kill(command.pid, signal.SIGKILL)                 # the command only: its workers must follow by themselves
    command.communicate()
    deadline = time.monotonic() + 20
    while _processes_in(course):
        assert time.monotonic() < deadline, f"left running: {_processes_in(course)}"
        time.sleep(0.2)
    recorded = sorted(name.removesuffix(".json") for name in _state_files(course) if name.endswith(".json"))
    claimed = sorted(name.removesuffix(".claim") for name in _state_files(course) if name.endswith(".claim"))
    assert 0 < len(recorded) < len(STUDENTS)
    assert claimed                                       # the dead command's claims: stale, to be taken over
    before, scores_before = _graded_files(course), _scores(course)

    notes = grading.autograde(course, A1, jobs=2)           # the options the command grades with
    after, scores = _graded_files(course), _scores(course)
    for student in recorded:
        assert after[student] == before[student], student   # not graded again
        assert scores[student] == scores_before[student], student
    assert scores == {student: score for student, (_answers, score) in STUDENTS.items()}
    assert _state_files(course) == sorted(f"{student}.json" for student in STUDENTS)   # one record each, no claim
    assert notes == {}
    assert not (course / pool.BLANKS).exists()


@pytest.mark.slow
def test_a_resubmission_is_regraded_alone_and_regrade_grades_everyone(course):
    first = grading.autograde(course, A1, timeout=10, jobs=2)
    graded, scores = _graded_files(course), _scores(course)
    assert scores["giang"] == FULL - POINTS["q3"] and first == {}
    fixed = nbformat.read(course / "source" / A1 / f"{A1}.ipynb", as_version=4)
    nbformat.write(fixed, course / "submitted" / "giang" / A1 / f"{A1}.ipynb")          # handed in again, right
    lines = []
    grading.autograde(course, A1, timeout=10, jobs=2, report=lines.append)
    again = _graded_files(course)
    assert [s for s in STUDENTS if again[s] != graded[s]] == ["giang"]
    assert _scores(course) == dict(scores, giang=FULL)
    assert re.search(r"7 submissions, 6 already graded and skipped .* 1 graded now", lines[0]), lines
    grading.autograde(course, A1, timeout=10, jobs=2, regrade=True)
    regraded = _graded_files(course)
    assert all(regraded[s] != again[s] for s in STUDENTS)
    assert _scores(course) == dict(scores, giang=FULL)
    assert _state_files(course) == sorted(f"{student}.json" for student in STUDENTS)


COUNTING_PREPROCESSOR = '''
import os
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool


class CountGradings(Preprocessor):
    """Appends the student of every notebook nbgrader autogrades to $DLCOURSE_GRADINGS."""

    enabled = Bool(True)   # (nbconvert's preprocessors are off unless enabled)

    def preprocess(self, nb, resources):
        with open(os.environ["DLCOURSE_GRADINGS"], "a") as log:
            log.write(f"{resources['nbgrader']['student']} {os.getpid()}\\n")
        return nb, resources
'''


@pytest.mark.slow
def test_two_commands_on_one_course_folder_grade_each_submission_once(course, tmp_path):
    (tmp_path / "counting").mkdir()
    (tmp_path / "counting" / "count_gradings.py").write_text(COUNTING_PREPROCESSOR)
    with open(course / "nbgrader_config.py", "a") as config:
        config.write("\nc.Autograde.autograde_preprocessors = [*c.Autograde.autograde_preprocessors, "
                     "'count_gradings.CountGradings']\n")
    log = tmp_path / "gradings.txt"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path / "counting"), os.environ.get("PYTHONPATH", "")]),
               DLCOURSE_GRADINGS=str(log))
    commands = [_cli(course, "--jobs", "1", env=env) for _ in range(2)]
    outputs = [command.communicate(timeout=900) for command in commands]
    assert [command.returncode for command in commands] == [0, 0], outputs
    gradings = [line.split()[0] for line in log.read_text().splitlines()]
    assert sorted(gradings) == sorted(STUDENTS)                  # each graded once, by one of the two
    graded_now = [int(re.search(r"(\d+) graded now", out).group(1)) for out, _err in outputs]
    assert sum(graded_now) == len(STUDENTS), outputs   # a class within one chunk goes to the first claim
    assert _scores(course) == {student: score for student, (_answers, score) in STUDENTS.items()}
    assert _state_files(course) == sorted(f"{student}.json" for student in STUDENTS)


@pytest.mark.slow
@needs_root
def test_as_root_on_another_users_course_folder_everything_made_is_theirs(course):
    for folder, dirs, files in os.walk(course):
        for name in [*dirs, *files, "."]:
            os.lchown(os.path.join(folder, name), NOBODY, NOBODY)
    for student in list(STUDENTS)[2:]:                   # a class of two
        shutil.rmtree(course / "submitted" / student)
    grading.autograde(course, A1, timeout=10, jobs=2)
    grading.feedback(course, A1)
    wrong = [path for path in [course, *course.rglob("*")] if path.lstat().st_uid != NOBODY
             or path.lstat().st_gid != NOBODY]
    assert wrong == []
    assert (course / "feedback" / "ana" / A1 / f"{A1}.html").exists()
    assert _state_files(course) == ["ana.json", "binh.json"]
