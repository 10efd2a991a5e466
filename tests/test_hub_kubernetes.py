"""The course past one machine (exercises/hub/kubernetes.md): the Zero to JupyterHub values and the grading Job.

No cluster is used.  The files are parsed, and what they name is checked against the code it names: the
pre-spawn hook runs on a stand-in spawner, the students' and graders' configuration files are read by the
installed Jupyter Server and JupyterLab, the students' nbgrader configuration runs against a stand-in
ngshare_exchange, and the Job's command line against ``python -m dlcourse.grading``'s own ``--help``.
"""

import json
import re
import shlex
import subprocess
import sys
import textwrap
import types
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import pytest
import yaml
from traitlets.config import Config, PyFileConfigLoader

from dlcourse.grading.sandbox import Limits

REPO = Path(__file__).resolve().parents[1]
HUB = REPO / "exercises" / "hub"
VALUES, JOB, DOC = HUB / "zero-to-jupyterhub.yaml", HUB / "grading-job.yaml", HUB / "kubernetes.md"
GRADERS = "dlcourse-graders"
STUDENTS_ONLY_TOOLS = {"server": {"nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.course_list"},
                       "lab": {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:course-list",
                               "@jupyter/nbgrader:create-assignment"}}
UNITS = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


def quantity(value: object) -> float:
    """A Kubernetes quantity (``2G``, ``18Gi``, ``"4"``, ``500m``) as a number."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(m|[KMGT]i?)?", str(value))
    assert match, f"{value!r} is not a Kubernetes quantity"
    number, unit = float(match[1]), match[2] or ""
    return number / 1000 if unit == "m" else number * UNITS[unit]


def hub_bytes(value: object) -> float:
    """A memory size as JupyterHub reads singleuser.memory (KubeSpawner's mem_limit): K, M, G and T are binary
    (G = 2**30), and Kubernetes' Gi is refused."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([KMGT])?", str(value))
    assert match, f"{value!r} is not a memory size JupyterHub accepts (a number, or K, M, G, T)"
    return float(match[1]) * 2 ** (10 * " KMGT".index(match[2] or " "))


@pytest.fixture(scope="module")
def values() -> dict:
    return yaml.safe_load(VALUES.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def job() -> dict:
    return yaml.safe_load(JOB.read_text(encoding="utf-8"))


def test_values_set_what_the_page_promises(values):
    single = values["singleuser"]
    assert single["image"]["name"] and isinstance(single["image"]["tag"], str) and single["image"]["tag"]
    for resource, size in (("cpu", float), ("memory", hub_bytes)):
        guarantee, limit = (size(single[resource][key]) for key in ("guarantee", "limit"))
        assert 0 < guarantee <= limit, f"singleuser.{resource}: the guarantee must be positive and within the limit"
    assert hub_bytes(single["memory"]["limit"]) >= Limits().total_memory   # a student gets what grading allows
    assert single["storage"]["type"] == "dynamic" and quantity(single["storage"]["capacity"]) >= 2**30
    cull = values["cull"]
    assert cull["enabled"] is True and cull["timeout"] >= 600 and 0 < cull["every"] < cull["timeout"]
    config = values["hub"]["config"]
    assert config["JupyterHub"]["authenticator_class"]
    graders = config["JupyterHub"]["load_groups"][GRADERS]["users"]
    assert graders and set(graders) <= set(config["Authenticator"]["allowed_users"])
    assert not config["Authenticator"]["admin_users"]
    ngshare = values["hub"]["services"]["ngshare"]
    assert urlsplit(ngshare["url"]).port
    secrets = [key for key in ("apiToken", "api_token") if key in ngshare]
    secrets += [key for key in ("client_secret",) if key in config.get("GenericOAuthenticator", {})]
    assert not secrets, f"secrets are given at install time, never written in the values file: {secrets}"


def hook(values: dict):
    """The pre-spawn hook of hub.extraConfig, defined by running the snippets as the chart's hub does."""
    c = Config()
    for name in sorted(values["hub"]["extraConfig"]):
        exec(compile(values["hub"]["extraConfig"][name], name, "exec"), {"c": c})
    return c.KubeSpawner.pre_spawn_hook


def spawner(groups: list[str]) -> types.SimpleNamespace:
    """A KubeSpawner as the chart configures it: environment, volumes and mounts as dicts."""
    return types.SimpleNamespace(
        user=types.SimpleNamespace(name="someone", groups=[types.SimpleNamespace(name=group) for group in groups]),
        environment={"JUPYTER_CONFIG_PATH": "/etc/dlcourse/students", "OTHER": "kept"},
        volumes={"volume-{user_server}": {"name": "volume-{user_server}"}},
        volume_mounts={"volume-{user_server}": {"name": "volume-{user_server}", "mountPath": "/home/jovyan"}})


def course_claim(job: dict) -> tuple[str, str]:
    """(claim name, mount path) of the Job's course volume: the one at the path its command is given."""
    pod = job["spec"]["template"]["spec"]
    course = command_options(job)[0]["--course"]
    mounts = [mount for mount in pod["containers"][0]["volumeMounts"] if mount["mountPath"] == course]
    assert len(mounts) == 1, f"the Job must mount the course volume at {course}, the path its command is given"
    volume = next(volume for volume in pod["volumes"] if volume["name"] == mounts[0]["name"])
    return volume["persistentVolumeClaim"]["claimName"], course


def test_graders_and_only_graders_get_the_course_volume(values, job):
    pre_spawn = hook(values)
    student = spawner(["dlcourse-students"])
    before = (dict(student.environment), dict(student.volumes), dict(student.volume_mounts))
    pre_spawn(student)
    assert (student.environment, student.volumes, student.volume_mounts) == before
    assert student.environment["JUPYTER_CONFIG_PATH"] == values["singleuser"]["extraEnv"]["JUPYTER_CONFIG_PATH"]

    grader = spawner(["dlcourse-students", GRADERS])
    environment, volumes = grader.environment, grader.volumes
    pre_spawn(grader)
    assert environment == spawner([]).environment and volumes == spawner([]).volumes   # copies, not the config's
    paths = grader.environment["JUPYTER_CONFIG_PATH"].split(":")
    assert paths == ["/etc/dlcourse/graders", values["singleuser"]["extraEnv"]["JUPYTER_CONFIG_PATH"]]
    assert grader.environment["OTHER"] == "kept"
    claims = [volume["persistentVolumeClaim"]["claimName"] for volume in grader.volumes.values()
              if "persistentVolumeClaim" in volume and volume["name"] != "volume-{user_server}"]
    course_mounts = [mount for key, mount in grader.volume_mounts.items() if key != "volume-{user_server}"]
    claim, _ = course_claim(job)
    assert claims == [claim], "graders mount the same course volume the grading Job grades"
    assert len(course_mounts) == 1
    course = PurePosixPath(course_mounts[0]["mountPath"])
    assert PurePosixPath(values["singleuser"]["storage"]["homeMountPath"]) in course.parents   # formgrader's rule
    graders_nbgrader = values["singleuser"]["extraFiles"]["graders-nbgrader"]["stringData"]
    assert f'load_subconfig("{course / "nbgrader_config.py"}")' in graders_nbgrader


def write_extra_files(values: dict, root: Path) -> None:
    """singleuser.extraFiles as the chart mounts them (``data`` as JSON for a .json file), under ``root``."""
    for details in values["singleuser"]["extraFiles"].values():
        path = root / details["mountPath"].lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        assert ("data" in details) != ("stringData" in details)
        if "data" in details:
            assert path.suffix == ".json"
            path.write_text(json.dumps(details["data"]), encoding="utf-8")
        else:
            path.write_text(details["stringData"], encoding="utf-8")


PROBE = textwrap.dedent("""
    import json, os, sys
    from jupyter_server.serverapp import ServerApp
    from jupyterlab_server.config import get_static_page_config
    seen = {}
    for case, path in json.loads(sys.argv[1]).items():
        os.environ["JUPYTER_CONFIG_PATH"] = path
        app = ServerApp()
        app.load_config_file()
        app.find_server_extensions()
        seen[case] = {"server": {name: on for name, on in app.jpserver_extensions.items() if "nbgrader" in name},
                      "lab": get_static_page_config(level="all").get("disabledExtensions", {})}
    print(json.dumps(seen))
""")


def test_formgrader_is_shown_to_graders_only(values, tmp_path):
    """The config files, read by the installed Jupyter Server and JupyterLab with each role's JUPYTER_CONFIG_PATH."""
    write_extra_files(values, tmp_path / "root")
    grader = spawner([GRADERS])
    hook(values)(grader)
    paths = {"student": values["singleuser"]["extraEnv"]["JUPYTER_CONFIG_PATH"],
             "grader": grader.environment["JUPYTER_CONFIG_PATH"]}
    paths = {case: ":".join(str(tmp_path / "root" / part.lstrip("/")) for part in path.split(":"))
             for case, path in paths.items()}
    (tmp_path / "home").mkdir()
    result = subprocess.run([sys.executable, "-c", PROBE, json.dumps(paths)], capture_output=True, text=True,
                            timeout=120, cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "home"),
                                                            "JUPYTER_CONFIG_DIR": str(tmp_path / "home")})
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    student, grader_seen = seen["student"], seen["grader"]
    assert {name for name, on in student["server"].items() if not on} == STUDENTS_ONLY_TOOLS["server"]
    assert student["server"]["nbgrader.server_extensions.assignment_list"] is True
    assert student["server"]["nbgrader.server_extensions.validate_assignment"] is True
    assert {name for name, off in student["lab"].items() if off} == STUDENTS_ONLY_TOOLS["lab"]
    assert all(grader_seen["server"][name] for name in STUDENTS_ONLY_TOOLS["server"])
    assert not any(grader_seen["lab"].get(name) for name in STUDENTS_ONLY_TOOLS["lab"])


def test_students_hide_what_they_hide_on_one_machine(values):
    """The same tools are hidden from students on Kubernetes as on the one-machine hub (exercises/hub/jupyter/)."""
    files = values["singleuser"]["extraFiles"]
    one_machine = HUB / "jupyter" / "students"
    server = json.loads((one_machine / "jupyter_server_config.json").read_text(encoding="utf-8"))
    lab = json.loads((one_machine / "labconfig" / "page_config.json").read_text(encoding="utf-8"))
    assert files["students-server"]["data"] == server
    assert files["students-lab"]["data"] == lab


def test_students_exchange_is_the_ngshare_service(values, monkeypatch):
    """The students' nbgrader_config.py runs, hands nbgrader's exchange to ngshare_exchange, at the hub service's
    address, which the servers' network policy lets them reach."""
    calls = []
    monkeypatch.setitem(sys.modules, "ngshare_exchange",
                        types.SimpleNamespace(configureExchange=lambda c, url: calls.append((c, url))))
    config = Config()
    exec(compile(values["singleuser"]["extraFiles"]["students-nbgrader"]["stringData"], "nbgrader_config.py", "exec"),
         {"get_config": lambda: config})
    assert len(calls) == 1 and calls[0][0] is config
    url, service = urlsplit(calls[0][1]), urlsplit(values["hub"]["services"]["ngshare"]["url"])
    assert (url.scheme, url.netloc) == (service.scheme, service.netloc)
    assert url.path == "/services/ngshare"                      # JupyterHub's prefix of the service named ngshare
    course = PyFileConfigLoader("nbgrader_config.py", path=str(REPO / "exercises")).load_config()
    assert config.CourseDirectory.course_id == course.CourseDirectory.course_id == "dlcourse"
    rules = values["singleuser"]["networkPolicy"]["egress"]
    assert [port["port"] for rule in rules for port in rule["ports"]] == [service.port]
    assert rules[0]["to"][0]["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "ngshare"}


def options_of(*command: str) -> set[str]:
    """The options ``python -m dlcourse.grading ... --help`` lists."""
    result = subprocess.run([sys.executable, "-m", "dlcourse.grading", *command, "--help"], capture_output=True,
                            text=True, timeout=120, cwd=REPO)
    assert result.returncode == 0, result.stderr
    return set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", result.stdout))


def command_options(job: dict) -> tuple[dict[str, str | None], str, dict[str, str | None]]:
    """The grading line of the Job's script: (options before the command, assignment, the command's options)."""
    container = job["spec"]["template"]["spec"]["containers"][0]
    script = "\n".join([*container.get("command", []), *container.get("args", [])])
    lines = [line for line in script.splitlines() if "dlcourse.grading" in line and not line.lstrip().startswith("#")]
    assert len(lines) == 1, "the Job runs one grading command"
    words = shlex.split(lines[0])
    words = words[1:] if words[0] == "exec" else words
    assert words[:3] == ["python", "-m", "dlcourse.grading"] and "autograde" in words
    split = words.index("autograde")

    def parse(tokens: list[str]) -> tuple[dict[str, str | None], list[str]]:
        options: dict[str, str | None] = {}
        positional = []
        while tokens:
            token = tokens.pop(0)
            if token.startswith("--"):
                options[token] = tokens.pop(0) if tokens and not tokens[0].startswith("-") and \
                    token in ("--course", "--jobs") else None
            else:
                positional.append(token)
        return options, positional

    before, stray = parse(words[3:split])
    after, positional = parse(words[split + 1:])
    assert not stray and len(positional) == 1, "python -m dlcourse.grading [--course C] autograde A [options]"
    return before, positional[0], after


def test_job_runs_autograde_on_the_course_volume(job, values):
    assert (job["apiVersion"], job["kind"]) == ("batch/v1", "Job")
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] in ("Never", "OnFailure")
    container = pod["containers"][0]
    image = values["singleuser"]["image"]
    assert container["image"] == f"{image['name']}:{image['tag']}", "grading runs on the servers' image"
    before, assignment, after = command_options(job)
    assert set(before) <= options_of(), f"options of python -m dlcourse.grading: {sorted(before)}"
    assert set(after) <= options_of("autograde"), f"options of autograde: {sorted(after)}"
    assert (REPO / "exercises" / "source" / assignment / f"{assignment}.md").exists()
    claim, course = course_claim(job)
    assert claim == "dlcourse-course" and container["workingDir"] == course


def test_job_resources_match_its_command(job):
    """One core a notebook; with whole-notebook limits (no --no-host-limits), root in a privileged pod and room
    for each notebook's memory cgroup; several pods only with a gradebook that is not SQLite."""
    _, _, options = command_options(job)
    container = job["spec"]["template"]["spec"]["containers"][0]
    jobs = int(options["--jobs"] or 0)
    limits, requests = container["resources"]["limits"], container["resources"]["requests"]
    assert jobs >= 1 and quantity(limits["cpu"]) == jobs == quantity(requests["cpu"])
    if "--no-host-limits" not in options:
        assert container["securityContext"]["privileged"] is True and container["securityContext"]["runAsUser"] == 0
        assert quantity(limits["memory"]) > jobs * Limits().total_memory
    course = PyFileConfigLoader("nbgrader_config.py", path=str(REPO / "exercises")).load_config()
    if job["spec"]["parallelism"] > 1 or job["spec"]["completions"] > 1:
        assert not course.CourseDirectory.db_url.startswith("sqlite"), "several pods need a PostgreSQL gradebook"


def test_page_shows_the_job_as_it_is():
    blocks = re.findall(r"^```yaml\n(.*?)^```$", DOC.read_text(encoding="utf-8"), flags=re.S | re.M)
    assert blocks == [JOB.read_text(encoding="utf-8")]
