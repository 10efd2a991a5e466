"""nbgrader's settings in every server of the class (installed as <hub env>/etc/jupyter/nbgrader_config.py).

Students fetch and submit through the exchange, a folder every account can write to
(JupyterHub's configuration passes its path as DLCOURSE_EXCHANGE).  A submission is nbgrader's,
made private: only its author and the graders' group can open it (dlcourse.grading.exchange).
Graders read the course's own configuration as well (../graders/nbgrader_config.py).
"""

import os

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = "dlcourse"
c.Exchange.root = os.environ.get("DLCOURSE_EXCHANGE", "/srv/nbgrader/exchange")
c.ExchangeFactory.submit = "dlcourse.grading.exchange.PrivateSubmit"
