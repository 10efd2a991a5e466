"""The checks graded notebooks use, under the name the assignments import: ``dlcourse.checks``.

They live in ``dlcourse.grading.checks``; this module gives its public names, so a notebook
released before the grading subsystem had its own folder still grades.

>>> import dlcourse.checks, dlcourse.grading.checks
>>> dlcourse.checks.check_equal is dlcourse.grading.checks.check_equal
True
"""

from dlcourse.grading.checks import *  # noqa: F403  (every public check, the same objects)
