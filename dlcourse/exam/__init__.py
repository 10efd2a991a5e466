"""Exam generator: random but valid exams in the style of the book's worked exam, with complete keys.

    python -m dlcourse.exam --seed 7 --lang vi                 # exams/exam-7-vi.md and exams/key-7-vi.md
    python -m dlcourse.exam --seed 1 --variants 40 --format html --out exams/

The same seed always gives the same exam; every answer in the key comes from dlcourse.calc.
"""

from dlcourse.exam.generator import Exam, generate, random_network
from dlcourse.exam.render import FORMATS, LANGUAGES, render

__all__ = ["Exam", "FORMATS", "LANGUAGES", "generate", "random_network", "render"]
