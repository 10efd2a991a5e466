"""The book's tooling: the editions and single-page builds, the translation check, the PDFs.

Nothing else in dlcourse imports it; it sits above the lessons (``import-linter`` checks the
layers, see ``[tool.importlinter]`` in pyproject.toml).
"""
