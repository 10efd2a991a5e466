"""tests/data holds data, not tests: the answers of tests/student_answers.py and the attacks of tests/attacks.py.

pytest collects nothing here, not even a file named on its command line: ``--doctest-modules``
would import every file, and an attack imported is an attack run (it appends to the installed
package, starts processes that outlive the tests, writes wherever it can).
"""

from __future__ import annotations

import pytest

collect_ignore_glob = ["*"]


@pytest.hookimpl(wrapper=True)
def pytest_collect_file(file_path, parent):
    yield  # what the other plugins would collect (a doctest module) is dropped, unimported
    return []
