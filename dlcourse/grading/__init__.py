"""The grading subsystem: nbgrader commands and preprocessors, the sandbox a graded notebook runs
in, the grader's agent in that notebook's kernel and its proxy outside, the checks, the mutants.

Nothing in the rest of dlcourse imports it (``import-linter`` checks this); a graded notebook
imports its checks as ``dlcourse.checks``.  This file stays empty of imports: the sandbox stages
it, with the kernel agent, into a kernel that has neither nbgrader nor torch.
"""
