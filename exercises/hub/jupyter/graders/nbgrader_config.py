"""nbgrader's settings in a grader's server (the instructor and teaching assistants).

Installed as <hub env>/etc/dlcourse-graders/nbgrader_config.py and found first on the
graders' JUPYTER_CONFIG_PATH: the course's own configuration (the sandboxed grading steps,
the gradebook) from the course folder JupyterHub names in DLCOURSE_COURSE, the exchange, and
files the graders share as a group.
"""

import os

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

load_subconfig(os.path.join(os.environ["DLCOURSE_COURSE"], "nbgrader_config.py"))  # noqa: F821
c.CourseDirectory.course_id = "dlcourse"
c.CourseDirectory.groupshared = True
c.Exchange.root = os.environ.get("DLCOURSE_EXCHANGE", "/srv/nbgrader/exchange")
