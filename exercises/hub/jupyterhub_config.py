"""JupyterHub for a class of the dlcourse course on one machine.

Run as root from the class server's environment (``make hub-env``; see exercises/README.md,
"A class on JupyterHub")::

    sudo /opt/dlcourse-hub/bin/jupyterhub -f exercises/hub/jupyterhub_config.py

- **Accounts** are the machine's own (PAM): one per student, made from the roster by
  ``python -m dlcourse.grading hub-setup``, which also makes the groups below.  Only members of
  the two groups may log in; nobody is a hub admin.
- **Servers**: each user's JupyterLab runs as that user (JupyterHub's LocalProcessSpawner) from
  the class environment, with nbgrader's assignment list (fetch, submit, feedback).  The
  environment's own configuration (``<env>/etc/jupyter``, from ``jupyter/students/``) hides
  formgrader and the instructor's tools and points nbgrader to the exchange.
- **Graders** (the group ``dlcourse-graders``: the instructor and teaching assistants) get
  ``jupyter/graders/`` first on their configuration path: formgrader, and the course's own
  ``nbgrader_config.py`` (the sandboxed grading).  Their server opens on the folder that holds
  the course, as formgrader requires.
- **The exchange** is a folder every account can write to (``DLCOURSE_EXCHANGE``,
  ``/srv/nbgrader/exchange`` by default), the course folder ``exercises/`` (``DLCOURSE_COURSE``)
  belongs to the instructor and the graders' group, closed to everyone else.

Settings from the environment, all optional: DLCOURSE_COURSE, DLCOURSE_EXCHANGE,
DLCOURSE_HUB_STATE (the hub's database and cookie secret, ``/var/lib/dlcourse-hub``) and
DLCOURSE_HUB_URL (where the hub listens, ``http://:8000``).
"""

import grp
import os
import pwd
import sys
from pathlib import Path

c = get_config()  # noqa: F821 (provided by JupyterHub when it loads this file)

STUDENTS, GRADERS = "dlcourse-students", "dlcourse-graders"   # the groups hub-setup makes
ENVIRONMENT = Path(sys.prefix)   # the class environment JupyterHub runs from, students' servers too
COURSE = Path(os.environ.get("DLCOURSE_COURSE", Path(__file__).resolve().parents[1]))
EXCHANGE = Path(os.environ.get("DLCOURSE_EXCHANGE", "/srv/nbgrader/exchange"))
STATE = Path(os.environ.get("DLCOURSE_HUB_STATE", "/var/lib/dlcourse-hub"))

c.JupyterHub.bind_url = os.environ.get("DLCOURSE_HUB_URL", "http://:8000")
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.command = [str(ENVIRONMENT / "node_modules" / ".bin" / "configurable-http-proxy")]

c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.allowed_groups = {STUDENTS, GRADERS}
c.PAMAuthenticator.open_sessions = False      # no login sessions to open for a web server
c.Authenticator.admin_users = set()

c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(ENVIRONMENT / "bin" / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 180                 # a class logging in at once shares the machine's cores
c.Spawner.http_timeout = 120
c.Spawner.environment = {
    "PATH": f"{ENVIRONMENT / 'bin'}:/usr/local/bin:/usr/bin:/bin",
    "DLCOURSE_EXCHANGE": str(EXCHANGE),
    "DLCOURSE_COURSE": str(COURSE),
}


def is_grader(name: str) -> bool:
    """Whether the account ``name`` is in the graders' group (as a member or as its primary group)."""
    try:
        group = grp.getgrnam(GRADERS)
    except KeyError:
        return False
    return name in group.gr_mem or pwd.getpwnam(name).pw_gid == group.gr_gid


def servers_by_role(spawner) -> None:
    """Graders get formgrader and the course's configuration, and a server that opens on the course's folder."""
    if is_grader(spawner.user.name):
        spawner.environment = {**spawner.environment,   # a copy: the configured dict is every spawner's
                               "JUPYTER_CONFIG_PATH": str(ENVIRONMENT / "etc" / "dlcourse-graders")}
        spawner.notebook_dir = str(COURSE.parent)


c.Spawner.pre_spawn_hook = servers_by_role
