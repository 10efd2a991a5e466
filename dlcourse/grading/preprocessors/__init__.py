"""The course's nbgrader preprocessors, one per file; ``exercises/nbgrader_config.py`` names them as strings.

Autograde: ``clean_submission.CleanSubmission`` first (the submission reduced to data the rest
may trust: only the notebook, no link; cell metadata nbgrader's own, validated, ids made unique;
no attachments), then ``restore_locked_cells.RestoreLockedCells`` (nbgrader's restoring of
locked cells, quiet about test cells left as released), then ``sandboxed_execute.SandboxedExecute``
in place of nbgrader's ``Execute`` (the notebook runs in the sandbox, the tests in the grader).

Feedback: ``hide_hidden_tests.HideHiddenTests`` (students see which checks failed and their
messages, never the hidden tests' code), ``pending_manual_grades.PendingManualGrades`` (an answer
not graded by hand yet says so instead of showing 0) and ``grader_notes.GraderNotes`` (the
grader's note on the submission, in a box no cell can imitate).
"""
