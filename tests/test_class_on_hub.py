"""A whole class on JupyterHub, end to end, on this machine (exercises/hub/, issue 28).

The hub of ``exercises/hub/jupyterhub_config.py`` runs from the class environment (``make hub-env``)
with real local accounts made from a roster by ``python -m dlcourse.grading hub-setup``.  Every
student logs in through the hub, starts a server, fetches the assignment through nbgrader's exchange,
writes an answer (right, an honest variant, a known mistake, blank or hostile) and submits, many at
once; one student's server is killed in the middle of handing in, and two students hand in after the
due date.  The instructor collects, grades in parallel (as root, the sandbox's whole-notebook limits),
makes and releases the feedback; each student fetches their own and reads their score.  Then the
isolation: what a student can reach of the others' work, the instructor's course and the hub.

Needs root (it makes accounts) and ``make hub-env``; ``make test`` provides both, ``make unit`` skips it.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import grp
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import nbformat
import pytest
import requests
from student_answers import HONEST, MISTAKES
from test_grading import A1, _cell, make_course

from dlcourse.grading import cells, hub

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
HUB_ENV = Path(os.environ.get("DLCOURSE_HUB_ENV", "/opt/dlcourse-hub"))
PREFIX = "dlct"                      # the test's accounts: dlct00 ... and dlctinstr; removed afterwards
INSTRUCTOR = f"{PREFIX}instr"
ON_TIME, LATE = 30, 2                # students handing in before and after the due date
KILLED = f"{PREFIX}03"               # whose server is killed while handing in
HOSTILE = {"loop": ("q2_answer", "while True:\n    pass\n"), "os_exit": ("q3_answer", "import os\nos._exit(0)\n")}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"gave up after {seconds} s waiting for {what}")


def _remove_test_accounts() -> None:
    for account in pwd.getpwall():
        if account.pw_name.startswith(PREFIX):
            subprocess.run(["pkill", "-KILL", "-u", account.pw_name], capture_output=True)
            subprocess.run(["userdel", "--remove", account.pw_name], capture_output=True)


class Class:
    """The machine's class: the world the hub serves, and how each person acts in it."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.course = base / "course"
        self.exchange = base / "exchange"
        self.state = base / "hub-state"
        self.port, self.hub_port, self.proxy_port = _free_port(), _free_port(), _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.service_token = secrets.token_hex(32)
        self.students = [f"{PREFIX}{index:02d}" for index in range(ON_TIME + LATE)]
        self.tokens: dict[str, str] = {}
        self.figures: dict[str, float] = {}
        self.hub: subprocess.Popen | None = None

    # ------------------------------------------------------------------ people
    def as_user(self, name: str, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run a command as the account ``name`` would in a terminal of their server."""
        account = pwd.getpwnam(name)
        groups = os.getgrouplist(name, account.pw_gid)
        env = {"PATH": f"{HUB_ENV / 'bin'}:/usr/bin:/bin", "HOME": account.pw_dir, "USER": name, "LOGNAME": name,
               "LANG": "C.UTF-8", "DLCOURSE_EXCHANGE": str(self.exchange), "DLCOURSE_COURSE": str(self.course)}
        if hub.GRADERS in {grp.getgrgid(gid).gr_name for gid in groups}:
            env["JUPYTER_CONFIG_PATH"] = str(HUB_ENV / "etc" / "dlcourse-graders")
        result = subprocess.run(command, cwd=self.course if name == INSTRUCTOR else account.pw_dir, env=env,
                                user=account.pw_uid, group=account.pw_gid, extra_groups=groups,
                                capture_output=True, text=True)
        if check and result.returncode != 0:
            raise AssertionError(f"{name}: `{' '.join(command)}` failed:\n{result.stdout}\n{result.stderr}")
        return result

    def api(self, method: str, path: str, token: str, **kwargs) -> requests.Response:
        return requests.request(method, f"{self.url}{path}", headers={"Authorization": f"token {token}"},
                                timeout=120, **kwargs)

    def log_in(self, name: str, password: str) -> str:
        """Log in with the hub's login form, as a browser does; returns a token from the hub's REST API."""
        browser = requests.Session()
        browser.get(f"{self.url}/hub/login", timeout=60).raise_for_status()
        response = browser.post(f"{self.url}/hub/login", allow_redirects=False, timeout=120,
                                data={"username": name, "password": password, "_xsrf": browser.cookies["_xsrf"]})
        assert response.status_code == 302, f"{name} could not log in: {response.status_code}"
        created = browser.post(f"{self.url}/hub/api/users/{name}/tokens", json={"note": "class test"}, timeout=60,
                               headers={"X-XSRFToken": browser.cookies["_xsrf"]})
        assert created.status_code == 201, created.text
        self.tokens[name] = created.json()["token"]
        return self.tokens[name]

    def start_server(self, name: str) -> None:
        response = self.api("POST", f"/hub/api/users/{name}/server", self.tokens[name])
        assert response.status_code in (201, 202), response.text
        _wait(lambda: self.api("GET", f"/hub/api/users/{name}", self.tokens[name]).json()
              .get("servers", {}).get("", {}).get("ready"), 240, f"{name}'s server")

    def server(self, method: str, name: str, path: str, **kwargs) -> requests.Response:
        return self.api(method, f"/user/{name}/{path}", self.tokens[name], **kwargs)

    def assignment_action(self, name: str, action: str) -> requests.Response:
        return self.server("POST", name, f"assignments/{action}", data={"course_id": hub.COURSE_ID,
                                                                        "assignment_id": A1})

    def hand_in(self, name: str, answers: dict[str, str]) -> None:
        """Fetch through the exchange, write the answers into the fetched notebook, save it, submit."""
        self.write_answers(name, answers)
        submitted = self.assignment_action(name, "submit")
        assert submitted.status_code == 200 and submitted.json()["success"], submitted.text

    def write_answers(self, name: str, answers: dict[str, str]) -> None:
        fetched = self.assignment_action(name, "fetch")
        assert fetched.status_code == 200, fetched.text
        path = f"api/contents/{A1}/{A1}.ipynb"
        notebook = nbformat.from_dict(self.server("GET", name, path).json()["content"])
        for grade_id, source in answers.items():
            _cell(notebook, grade_id).source = source
        saved = self.server("PUT", name, path, json={"type": "notebook", "format": "json", "content": notebook})
        assert saved.status_code in (200, 201), saved.text

    def server_processes(self, name: str) -> list[int]:
        uid = pwd.getpwnam(name).pw_uid
        found = []
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and entry.stat().st_uid == uid and \
                        b"jupyterhub-singleuser" in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
        return found


def _answers(course: Path) -> dict[str, tuple[dict[str, str], str]]:
    """Each student's answers {grade_id: source} and what they are: right, honest, mistake:<test>, blank, hostile."""
    solution = nbformat.read(course / "source" / A1 / f"{A1}.ipynb", as_version=4)
    right = {cells.grade_id(c): c.source for c in solution.cells
             if cells.is_solution(c) and c.cell_type == "code"}
    kinds: list[tuple[dict[str, str], str]] = [(right, "right")] * 10
    for variant in HONEST[A1].values():
        kinds += [({**right, **{k: v.strip() + "\n" for k, v in variant.items()}}, "honest")] * 4
    for test_id, answer_id, source in MISTAKES[A1].values():
        kinds += [({**right, answer_id: source.strip() + "\n"}, f"mistake:{test_id}")] * 3
    kinds += [({}, "blank")] * 3
    kinds += [({**right, HOSTILE["loop"][0]: HOSTILE["loop"][1]}, "hostile:q2_tests")]
    kinds += [({**right, HOSTILE["os_exit"][0]: HOSTILE["os_exit"][1]}, "hostile:q3_tests")] * 2
    kinds += [(right, "right")] * LATE
    assert len(kinds) == ON_TIME + LATE
    return {f"{PREFIX}{index:02d}": kind for index, kind in enumerate(kinds)}


def _expected_score(kind: str, points: dict[str, float]) -> float:
    full = sum(points.values())
    if kind in ("right", "honest"):
        return full
    if kind == "blank":
        return 0.0
    return full - points[kind.split(":")[1]]


@pytest.fixture(scope="module")
def taught():
    """The whole term, once: set-up, hand-in, grading, feedback.  Yields the class and what each student saw."""
    if os.geteuid() != 0:
        pytest.fail("the class test makes local accounts: run it as root (make test does, as CI)")
    if not (HUB_ENV / ".installed").exists():
        pytest.fail(f"no class environment at {HUB_ENV}: run `make hub-env` (make test does)")
    _remove_test_accounts()
    base = Path(tempfile.mkdtemp(prefix="dlcourse-class-"))
    os.chmod(base, 0o755)
    made_groups = [name for name in (hub.STUDENTS, hub.GRADERS) if name not in {g.gr_name for g in grp.getgrall()}]
    school = Class(base)
    try:
        _teach(school)
        yield school
    finally:
        if school.hub is not None:           # the hub and its proxy, a process group of their own
            os.killpg(school.hub.pid, signal.SIGTERM)
            try:
                school.hub.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(school.hub.pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(school.hub.pid, signal.SIGKILL)
        _remove_test_accounts()
        for name in made_groups:
            subprocess.run(["groupdel", name], capture_output=True)
        log = school.state / "jupyterhub.log"
        if log.exists():
            shutil.copy(log, Path(tempfile.gettempdir()) / "dlcourse-class-test-jupyterhub.log")
        shutil.rmtree(base, ignore_errors=True)


def _teach(school: Class) -> None:
    started = time.monotonic()
    make_course(school.course, [A1])
    source = nbformat.read(school.course / "source" / A1 / f"{A1}.ipynb", as_version=4)
    school.points = {cells.grade_id(c): cells.points(c) for c in source.cells
                     if cells.is_grade(c) and c.cell_type == "code"}
    school.answers = _answers(school.course)
    roster = school.base / "roster.csv"
    roster.write_text("id,first name,last name,email\n" + "".join(
        f"{name},Student,{index},{name}@example.edu\n" for index, name in enumerate(school.students)), encoding="utf-8")
    os.chmod(roster, 0o644)
    passwords = school.base / "passwords.csv"
    subprocess.run([sys.executable, "-m", "dlcourse.grading", "--course", str(school.course), "hub-setup",
                    str(roster), "--instructor", INSTRUCTOR, "--exchange", str(school.exchange),
                    "--passwords", str(passwords)], check=True, capture_output=True, text=True)
    school.passwords = dict(line.split(",") for line in passwords.read_text().split())
    school.as_user(INSTRUCTOR, "python", "-m", "dlcourse.grading", "--course", str(school.course), "roster",
                   str(roster))
    school.as_user(INSTRUCTOR, "nbgrader", "release_assignment", A1)

    school.state.mkdir(mode=0o700)
    config = school.state / "class_test_config.py"
    config.write_text(f"""
load_subconfig({str(REPO / 'exercises' / 'hub' / 'jupyterhub_config.py')!r})
c.JupyterHub.bind_url = {school.url!r}
c.JupyterHub.hub_port = {school.hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{school.proxy_port}"
c.JupyterHub.services = [{{"name": "class-test", "api_token": {school.service_token!r}}}]
c.JupyterHub.load_roles = [{{"name": "class-test", "services": ["class-test"],
                            "scopes": ["list:users", "read:users", "read:servers"]}}]
""", encoding="utf-8")
    env = dict(os.environ, DLCOURSE_COURSE=str(school.course), DLCOURSE_EXCHANGE=str(school.exchange),
               DLCOURSE_HUB_STATE=str(school.state))
    log = open(school.state / "jupyterhub.log", "w")  # noqa: SIM115 (open while the hub runs)
    school.hub = subprocess.Popen([str(HUB_ENV / "bin" / "jupyterhub"), "-f", str(config)], cwd=school.state,
                                  env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    _wait(lambda: _answers_ok(f"{school.url}/hub/api/"), 120, "the hub")
    school.figures["set-up (s)"] = time.monotonic() - started

    # every student and the instructor log in and start a server, many at once
    started = time.monotonic()
    people = [*school.students, INSTRUCTOR]
    passwords_of = {**school.passwords}
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda name: (school.log_in(name, passwords_of[name]), school.start_server(name)), people))
    school.figures["log in and start 33 servers (s)"] = time.monotonic() - started

    # the students on time hand in, many at once; one server is killed while handing in
    started = time.monotonic()
    on_time = [name for name in school.students[:ON_TIME] if name != KILLED]
    killed = threading.Thread(target=_hand_in_killed, args=(school,))
    killed.start()
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda name: school.hand_in(name, school.answers[name][0]), on_time))
    killed.join()
    school.figures["hand in 30 (s)"] = time.monotonic() - started
    time.sleep(1.0)
    due = datetime.now(UTC)
    time.sleep(1.0)
    for name in school.students[ON_TIME:]:
        school.hand_in(name, school.answers[name][0])
    school.due = due

    # the instructor: the due date, collect, grade (root: whole-notebook limits), feedback, release it
    school.as_user(INSTRUCTOR, "nbgrader", "db", "assignment", "add", A1,
                   f"--duedate={due.strftime('%Y-%m-%d %H:%M:%S.%f')} UTC")
    school.as_user(INSTRUCTOR, "nbgrader", "collect", A1)
    started = time.monotonic()
    graded = subprocess.run([sys.executable, "-m", "dlcourse.grading", "--course", str(school.course), "autograde",
                             A1], capture_output=True, text=True)
    assert graded.returncode == 0, graded.stderr
    school.figures["autograde 32 (s)"] = time.monotonic() - started
    school.as_user(INSTRUCTOR, "python", "-m", "dlcourse.grading", "--course", str(school.course), "feedback", A1)
    school.as_user(INSTRUCTOR, "nbgrader", "release_feedback", A1)

    # each student fetches their feedback and reads their score
    def read_feedback(name: str) -> float:
        assert school.assignment_action(name, "fetch_feedback").status_code == 200
        folder = school.server("GET", name, f"api/contents/{A1}/feedback").json()["content"]
        assert len(folder) == 1, f"{name} got feedback for {len(folder)} submissions"
        page = school.server("GET", name, f"api/contents/{A1}/feedback/{folder[0]['name']}/{A1}.html",
                             params={"format": "text", "type": "file"}).json()["content"]
        return float(re.search(rf"{A1} \(Score: ([0-9.]+) /", page).group(1))

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        school.feedback_scores = dict(zip(school.students, pool.map(read_feedback, school.students)))


def _answers_ok(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.ConnectionError:
        return False


def _hand_in_killed(school: Class) -> None:
    """KILLED fetches and starts to submit; its server is killed mid-request; it starts again and hands in."""
    name = KILLED
    answers = school.answers[name][0]
    school.write_answers(name, answers)
    submit = threading.Thread(target=lambda: _ignore_errors(lambda: school.assignment_action(name, "submit")))
    submit.start()
    time.sleep(0.2)
    for pid in school.server_processes(name):
        os.kill(pid, signal.SIGKILL)
    submit.join()
    school.killed_hub_status = school.api("GET", "/hub/api/", school.service_token).status_code
    school.api("DELETE", f"/hub/api/users/{name}/server", school.tokens[name])
    _wait(lambda: not school.api("GET", f"/hub/api/users/{name}", school.tokens[name]).json().get("servers"), 120,
          f"{name}'s killed server to be gone")
    school.start_server(name)
    school.hand_in(name, answers)


def _ignore_errors(action) -> None:
    # the server is killed under this request: whatever it gets back is not the point
    with contextlib.suppress(AssertionError, requests.RequestException, ValueError, KeyError):
        action()


# ---------------------------------------------------------------------------------------------- results
def test_every_student_reads_the_right_score_in_their_own_feedback(taught):
    expected = {name: _expected_score(kind, taught.points) for name, (_, kind) in taught.answers.items()}
    assert taught.feedback_scores == expected
    print(json.dumps(taught.figures, indent=1))


def test_every_submission_is_graded_once_with_its_timestamp_and_late_ones_are_flagged(taught):
    from nbgrader.api import Gradebook

    inbound = taught.exchange / hub.COURSE_ID / "inbound"
    latest = {}
    for folder in sorted(inbound.iterdir()):
        student, _, stamp, _ = folder.name.split("+")
        latest[student] = max(latest.get(student, ""), stamp)
    assert sorted(latest) == taught.students
    with Gradebook(f"sqlite:///{taught.course / 'gradebook.db'}", hub.COURSE_ID) as gradebook:
        submissions = {s.student.id: (s.timestamp, s.total_seconds_late) for s in gradebook.assignment_submissions(A1)}
    assert sorted(submissions) == taught.students
    for student, (timestamp, late) in submissions.items():
        assert timestamp.strftime("%Y-%m-%d %H:%M:%S.%f") == latest[student][:26], student
        assert (late > 0) == (student in taught.students[ON_TIME:]), (student, late)
    records = sorted(p.stem for p in (taught.course / "autograde_state" / A1).glob("*.json"))
    assert records == taught.students
    assert len([f for f in inbound.iterdir() if f.name.startswith(f"{KILLED}+")]) >= 1


def test_the_hub_survives_a_server_killed_while_handing_in(taught):
    assert taught.killed_hub_status == 200
    assert taught.feedback_scores[KILLED] == sum(taught.points.values())


def test_grading_as_root_leaves_the_course_to_the_instructor(taught):
    owner = pwd.getpwnam(INSTRUCTOR).pw_uid
    wrong = [str(p) for p in [taught.course, *taught.course.rglob("*")] if p.lstat().st_uid != owner]
    assert wrong == []


# ---------------------------------------------------------------------------------------------- isolation
PROBE = r"""
import json, os, sys
def attempt(action):
    try:
        action()
        return "allowed"
    except OSError as error:
        return type(error).__name__
paths = json.loads(sys.argv[1])
print(json.dumps({
    "list inbound": attempt(lambda: os.listdir(paths["inbound"])),
    "list feedback": attempt(lambda: os.listdir(paths["feedback"])),
    "read another's submission": attempt(lambda: open(paths["notebook"], "rb").read(1)),
    "write into another's submission": attempt(lambda: open(os.path.join(paths["submission"], "x"), "w")),
    "change another's feedback": attempt(lambda: open(paths["their feedback"], "a")),
    "rename another's submission": attempt(lambda: os.rename(paths["submission"], paths["submission"] + "x")),
    "delete another's submission": attempt(lambda: os.rmdir(paths["submission"])),
    "list another's home": attempt(lambda: os.listdir(paths["home"])),
    "list the course": attempt(lambda: os.listdir(paths["course"])),
    "read the gradebook": attempt(lambda: open(paths["gradebook"], "rb").read(1)),
    "read the source": attempt(lambda: open(paths["source"], "rb").read(1)),
    "change the released assignment": attempt(lambda: open(paths["released"], "a")),
}))
"""


def test_a_student_cannot_reach_others_work_or_the_instructors_files(taught):
    student, other = taught.students[0], taught.students[1]
    inbound = taught.exchange / hub.COURSE_ID / "inbound"
    submission = next(f for f in inbound.iterdir() if f.name.startswith(f"{other}+"))
    paths = {"inbound": str(inbound), "feedback": str(taught.exchange / hub.COURSE_ID / "feedback"),
             "submission": str(submission), "notebook": str(submission / f"{A1}.ipynb"),
             "their feedback": str(next((taught.exchange / hub.COURSE_ID / "feedback").iterdir())),
             "home": pwd.getpwnam(other).pw_dir, "course": str(taught.course),
             "gradebook": str(taught.course / "gradebook.db"),
             "source": str(taught.course / "source" / A1 / f"{A1}.md"),
             "released": str(taught.exchange / hub.COURSE_ID / "outbound" / A1 / f"{A1}.ipynb")}
    result = json.loads(taught.as_user(student, "python", "-c", PROBE, json.dumps(paths)).stdout)
    assert result == {key: "PermissionError" for key in result}


def test_a_student_cannot_reach_another_server_or_the_hubs_admin_api(taught):
    student, other = taught.students[0], taught.students[1]
    token = taught.tokens[student]
    assert taught.api("GET", f"/user/{other}/api/contents", token).status_code == 403
    assert taught.api("GET", "/hub/api/users", token).status_code == 403
    assert taught.api("POST", f"/hub/api/users/{other}/server", token).status_code in (403, 404)
    assert taught.api("POST", "/hub/api/users/intruder", token).status_code == 403
    # the token the student's own server holds, used from the server's side against the hub's API
    pid = taught.server_processes(student)[0]
    environ = dict(item.split("=", 1) for item in
                   Path(f"/proc/{pid}/environ").read_text().split("\0") if "=" in item)
    server_token, api_url = environ["JUPYTERHUB_API_TOKEN"], environ["JUPYTERHUB_API_URL"]
    as_server = {"Authorization": f"token {server_token}"}
    assert requests.get(f"{api_url}/user", headers=as_server, timeout=30).json()["name"] == student
    assert requests.get(f"{api_url}/users", headers=as_server, timeout=30).status_code == 403
    assert requests.post(f"{api_url}/users/intruder", headers=as_server, timeout=30).status_code == 403
    assert requests.post(f"{api_url}/users/{other}/tokens", headers=as_server, timeout=30).status_code in (403, 404)


def test_only_graders_see_formgrader(taught):
    assert taught.server("GET", taught.students[0], "formgrader").status_code == 404
    assert taught.server("GET", INSTRUCTOR, "formgrader").status_code == 200
