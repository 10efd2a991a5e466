"""nbgrader configuration of the dlcourse course.

The course directory is this folder: source/ (instructor versions, with solutions and
hidden tests), release/ (student versions), submitted/, autograded/, feedback/ and the
gradebook database.  Everything but source/ and this file is generated and ignored by git.
Run nbgrader from this folder, or use the short commands of ``python -m dlcourse.grading``.
"""

from pathlib import Path

HERE = Path(__file__).resolve().parent

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = "dlcourse"
c.CourseDirectory.root = str(HERE)
c.CourseDirectory.db_url = f"sqlite:///{HERE / 'gradebook.db'}"

# A cell that runs longer than this is interrupted and scores 0; the notebook goes on.
# (Execute.timeout is the key nbgrader reads; ExecutePreprocessor.timeout is ignored.)
c.Execute.timeout = 20
c.Execute.interrupt_on_timeout = True

# A submission whose grade cells were deleted gets them back from the gradebook, so it is
# graded automatically instead of being left "needs manual grading".
c.OverwriteCells.add_missing_cells = True

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Assignments are written as Markdown notebooks (source/A/A.md, with the solutions);
# only the generated .ipynb goes through nbgrader, the .md must never be released.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.md"]
