"""nbgrader configuration of the dlcourse course.

The course directory is this folder: source/ (instructor versions, with solutions and
hidden tests), release/ (student versions), submitted/, autograded/, feedback/ and the
gradebook database.  Everything but source/ and this file is generated and ignored by git.
Run nbgrader from this folder (``nbgrader autograde A``, formgrader), or use the short
commands of ``python -m dlcourse.grading``: both grade the same way, set up below.
"""

from pathlib import Path

import nbgrader

import dlcourse

HERE = Path(__file__).resolve().parent

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = "dlcourse"
c.CourseDirectory.root = str(HERE)
c.CourseDirectory.db_url = f"sqlite:///{HERE / 'gradebook.db'}"

# Grading that a submission cannot forge: the notebook runs in a bubblewrap sandbox and
# the tests run in the grader (dlcourse/grading/preprocessors/, one step per file).  The
# steps are named as strings, so a machine without dlcourse or without bubblewrap stops
# with an error instead of grading with nbgrader's plain Execute.  `--SandboxedExecute.sandbox=False` grades without the
# sandbox, for trusted notebooks only; every result then says so.
c.Autograde.autograde_preprocessors = [
    "dlcourse.grading.preprocessors.sandboxed_execute.SandboxedExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
# Only the notebook enters: before nbgrader copies a submission's other files (as this
# user, following links), they are moved to quarantine/; CleanSubmission then refuses a
# notebook that is a link or a folder that still holds anything else, keeps only nbgrader's
# validated cell metadata and makes copied grade ids unique.  Locked cells are restored from
# the gradebook as nbgrader does, without a warning for test cells that are exactly as
# released (they lack only their hidden tests).
c.Autograde.pre_convert_hook = "dlcourse.grading.commands.keep_only_the_notebook"
c.Autograde.sanitize_preprocessors = [
    "dlcourse.grading.preprocessors.clean_submission.CleanSubmission",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "dlcourse.grading.preprocessors.restore_locked_cells.RestoreLockedCells",
    "nbgrader.preprocessors.CheckCellMetadata",
]
# Feedback shows which hidden checks failed and their messages, never their code; a
# written answer not graded by hand yet says so instead of showing 0.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "dlcourse.grading.preprocessors.hide_hidden_tests.HideHiddenTests",
    "dlcourse.grading.preprocessors.pending_manual_grades.PendingManualGrades",
    "dlcourse.grading.preprocessors.grader_notes.GraderNotes",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]

# Nothing a student writes is trusted as markup.  Feedback pages and formgrader's views are
# nbconvert's HTML: its own sanitising is turned on, with the course's allow-list of tags,
# attributes and URL schemes as the filter (dlcourse/grading/feedback_html.py: no script, no event handler,
# no javascript:, data: or vbscript: URL, however spelt), and every Markdown rendering goes
# through it too (nbgrader's templates render Markdown cells without nbconvert's sanitising).
# The feedback page is the course's template: nbgrader's, with the grader's notes in a box
# no student cell can imitate.
c.HTMLExporter.sanitize_html = True
c.HTMLExporter.filters = {"clean_html": "dlcourse.grading.feedback_html.clean_html",
                          "markdown2html": "dlcourse.grading.feedback_html.markdown2html"}
NBGRADER_TEMPLATES = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader"
c.GenerateFeedback.HTMLExporter.template_name = "dlcourse_feedback"
c.GenerateFeedback.HTMLExporter.extra_template_basedirs = [str(Path(dlcourse.__file__).parent / "templates"),
                                                           str(NBGRADER_TEMPLATES / "templates")]
c.GenerateFeedback.HTMLExporter.extra_template_paths = [   # nbgrader's own: its page, and the CSS it inlines
    str(NBGRADER_TEMPLATES / "templates"),
    str(NBGRADER_TEMPLATES / "static" / "node_modules" / "bootstrap" / "dist" / "css"),
]

# A cell (or a whole test) that runs longer than this is interrupted and scores 0; the
# notebook goes on.  (Execute.timeout is the key nbgrader reads; it applies to the
# sandboxed step too.)
c.Execute.timeout = 20
c.Execute.interrupt_on_timeout = True

# A submission whose grade cells were deleted gets them back from the gradebook, so it is
# graded automatically instead of being left "needs manual grading".
c.OverwriteCells.add_missing_cells = True  # (RestoreLockedCells is an OverwriteCells)

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Assignments are written as Markdown notebooks (source/A/A.md, with the solutions);
# only the generated .ipynb goes through nbgrader, the .md must never be released.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.md"]
