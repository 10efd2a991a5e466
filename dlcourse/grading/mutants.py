"""Mutation testing of graded assignments: do the tests catch the mistakes students make?

For every question of an assignment, the reference solution (the code between
``### BEGIN SOLUTION`` and ``### END SOLUTION``) is changed in one place at a time, the
way students get things wrong: an operator swapped, a constant off by one, floor for
ceiling, a term dropped, a sign flipped, two arguments swapped, an update done in place,
a statement left out.  Each mutant is graded by the question's own test cell, with the
inputs of several students (``dlcourse.grading.checks.rng``).  A mutant the tests do not catch for
every student survives; a survivor is either a gap in the tests, or a mutant that cannot
be told apart from the reference (an *equivalent* mutant), which the assignment lists by
name with the reason, in its front matter:

.. code-block:: yaml

    dlcourse:
      grading:
        equivalent_mutants:
          "q2_answer@4 `x >= 0` -> `x > 0`": "at x = 0 both branches give 0.5"

The mutants run here, in this process, with the solution's other answers and the
instructor's cells (and, as in the grader, the reference functions of an earlier question
whose changed answer fails its test in place of that answer's): the tests' power is what
is measured; the sandbox's plumbing is tested by the grading tests.

    python -m dlcourse.grading.mutants                       # every assignment in exercises/source
    python -m dlcourse.grading.mutants 02_backprop --students 5 --show-survivors
"""

from __future__ import annotations

import argparse
import ast
import copy
import re
import signal
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jupytext

from dlcourse.command_line import CommandLine
from dlcourse.grading import cells, checks
from dlcourse.grading.references import References
from dlcourse.grading.runner import run_test, seed_everything

COURSE = Path(__file__).resolve().parents[2] / "exercises"
STUDENTS = ("s0001", "s0002", "s0003")
SOLUTION = re.compile(r"^[ \t]*### BEGIN SOLUTION[ \t]*\n(.*?)^[ \t]*### END SOLUTION[ \t]*(?:\n|$)", re.S | re.M)
SECONDS_PER_TEST = 10


@dataclass
class Question:
    """One graded question: the answer cells it tests, and its test cell."""

    test_id: str
    test_source: str
    answer_ids: list[str]


@dataclass
class Assignment:
    """The instructor's notebook, read for mutation testing."""

    name: str
    setup: list[tuple[str, str]]          # (grade_id, source) of locked code cells that are not tests
    answers: dict[str, str]               # grade_id -> reference source, solution markers removed
    solution_lines: dict[str, range]      # grade_id -> line numbers (1-based) of the solution in that source
    questions: list[Question]
    order: list[tuple[str, str]]          # ("setup" | "answer" | "test", grade_id), in notebook order
    equivalent: dict[str, str] = field(default_factory=dict)
    references: References = field(default_factory=lambda: References({}, []))

    @classmethod
    def read(cls, path: Path) -> Assignment:
        notebook = jupytext.read(path)
        setup, answers, lines, questions, order = [], {}, {}, [], []
        pending: list[str] = []
        for cell in notebook.cells:
            grade_id = cells.grade_id(cell)
            if cell.cell_type != "code" or grade_id is None:
                continue
            if cells.is_solution(cell):
                answers[grade_id], lines[grade_id] = _reference(cell.source)
                order.append(("answer", grade_id))
                pending.append(grade_id)
            elif cells.is_grade(cell):
                questions.append(Question(grade_id, cell.source, pending))
                order.append(("test", grade_id))
                pending = []
            else:
                setup.append((grade_id, cell.source))
                order.append(("setup", grade_id))
        settings = notebook.metadata.get("dlcourse", {}).get("grading", {})
        return cls(path.stem, setup, answers, lines, questions, order, dict(settings.get("equivalent_mutants", {})),
                   References.of(notebook))


def _reference(source: str) -> tuple[str, range]:
    """The cell with its solution markers removed, and the lines the solution takes in it."""
    match = SOLUTION.search(source)
    if match is None:
        return source, range(0)
    before = source[: match.start()]
    start = before.count("\n") + 1
    solution = match.group(1)
    code = before + solution + source[match.end():]
    return code, range(start, start + solution.count("\n"))


# ---------------------------------------------------------------- mutations

@dataclass
class Mutant:
    name: str
    answer_id: str
    source: str


SWAPS: dict[type, list[type]] = {
    ast.Add: [ast.Sub], ast.Sub: [ast.Add], ast.Mult: [ast.Div, ast.Add], ast.Div: [ast.Mult, ast.FloorDiv],
    ast.FloorDiv: [ast.Div, ast.Mult], ast.Pow: [ast.Mult], ast.MatMult: [ast.Mult], ast.Mod: [ast.FloorDiv],
}
COMPARE_SWAPS = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
                 ast.NotEq: ast.Eq}
INPLACE = {ast.Add: "__iadd__", ast.Sub: "__isub__", ast.Mult: "__imul__", ast.Div: "__itruediv__"}
FLOOR_CEIL = {"floor": "ceil", "ceil": "floor"}


def mutants(answer_id: str, source: str, lines: range) -> list[Mutant]:
    """Every single-change mutant of the solution lines of ``source``, without duplicates."""
    tree = ast.parse(source)
    reference = ast.unparse(tree)
    found: dict[str, Mutant] = {}
    for path, node in _nodes(tree):
        if getattr(node, "lineno", None) not in lines:
            continue
        for description, change in _changes(node):
            mutated = copy.deepcopy(tree)
            target = _follow(mutated, path)
            try:
                change(target, _parent(mutated, path))
                ast.fix_missing_locations(mutated)
                code = ast.unparse(mutated)
                compile(code, "<mutant>", "exec")
            except (SyntaxError, ValueError, TypeError, AttributeError):
                continue
            if code == reference or code in {m.source for m in found.values()}:
                continue
            line = node.lineno - lines.start + 1  # type: ignore[attr-defined]  # a statement or expression
            name = f"{answer_id}@{line} {description}"
            found.setdefault(name, Mutant(name, answer_id, code))
    return list(found.values())


def _nodes(tree: ast.AST) -> Iterator[tuple[tuple[tuple[str, int | None], ...], ast.AST]]:
    def walk(node: ast.AST, path):
        yield path, node
        for field_name, value in ast.iter_fields(node):
            if isinstance(value, list):
                for index, item in enumerate(value):
                    if isinstance(item, ast.AST):
                        yield from walk(item, path + ((field_name, index),))
            elif isinstance(value, ast.AST):
                yield from walk(value, path + ((field_name, None),))
    yield from walk(tree, ())


def _follow(tree: ast.AST, path) -> ast.AST:
    node = tree
    for field_name, index in path:
        node = getattr(node, field_name) if index is None else getattr(node, field_name)[index]
    return node


def _parent(tree: ast.AST, path) -> tuple[ast.AST, tuple[str, int | None]]:
    return (_follow(tree, path[:-1]), path[-1]) if path else (tree, ("", None))


def _replace(parent_and_slot, new: ast.AST) -> None:
    parent, (field_name, index) = parent_and_slot
    if index is None:
        setattr(parent, field_name, new)
    else:
        getattr(parent, field_name)[index] = new


def _text(node: ast.AST) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 50 else text[:47] + "..."


def _changes(node: ast.AST):
    """(description, change(node, parent)) for each way of getting ``node`` wrong."""
    if isinstance(node, ast.BinOp):
        yield from _operation_changes(node)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        yield f"`{_text(node)}` -> `{_text(node.operand)}` (a sign flipped)", lambda t, p: _replace(p, t.operand)
    elif isinstance(node, ast.Return) and node.value is not None:
        def negate(target, _):
            target.value = ast.UnaryOp(ast.USub(), target.value)
        yield f"`return {_text(node.value)}` negated (a sign flipped)", negate
    elif isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        yield from _constant_changes(node)
    elif isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in COMPARE_SWAPS:
        new_op = COMPARE_SWAPS[type(node.ops[0])]

        def compare(target, _, new_op=new_op):
            target.ops = [new_op()]
        yield f"`{_text(node)}` -> `{_text(ast.Compare(node.left, [new_op()], node.comparators))}`", compare
    elif isinstance(node, ast.Call):
        yield from _call_changes(node)
    elif (isinstance(node, (ast.AugAssign, ast.Expr))
          and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))):
        yield f"`{_text(node)}` left out", lambda t, p: _replace(p, ast.Pass())


def _operation_changes(node: ast.BinOp):
    """The ways of getting an arithmetic operation wrong: another operator, a term dropped, rounding, in place."""
    before = _text(node)
    for new_op in SWAPS.get(type(node.op), []):
        def swap(target, _, new_op=new_op):
            target.op = new_op()
        yield f"`{before}` -> `{_text(ast.BinOp(node.left, new_op(), node.right))}`", swap
    if isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
        yield f"`{before}` -> `{_text(node.left)}` (a term dropped)", lambda t, p: _replace(p, t.left)
        yield f"`{before}` -> `{_text(node.right)}` (a term dropped)", lambda t, p: _replace(p, t.right)
    if isinstance(node.op, ast.FloorDiv):
        def ceiling(target, parent):
            _replace(parent, ast.UnaryOp(ast.USub(), ast.BinOp(ast.UnaryOp(ast.USub(), target.left), ast.FloorDiv(),
                                                               target.right)))
        yield f"`{before}` rounded up instead of down", ceiling
    if isinstance(node.op, tuple(INPLACE)) and isinstance(node.left, (ast.Name, ast.Subscript, ast.Attribute)):
        method = INPLACE[type(node.op)]

        def in_place(target, parent, method=method):
            _replace(parent, ast.Call(ast.Attribute(target.left, method, ast.Load()), [target.right], []))
        yield f"`{before}` done in place ({method})", in_place


def _constant_changes(node: ast.Constant):
    """The ways of getting a number wrong: one more or one less; a boolean flipped."""
    if isinstance(node.value, bool):
        def flip(target, _):
            target.value = not target.value
        yield f"`{node.value}` -> `{not node.value}`", flip
        return
    for delta in (1, -1):
        def shift(target, _, delta=delta):
            target.value = target.value + delta
        yield f"`{node.value!r}` -> `{node.value + delta!r}`", shift  # type: ignore[operator]  # a number here


def _call_changes(node: ast.Call):
    """The ways of getting a call wrong: its first two arguments swapped, floor for ceil (and back)."""
    if len(node.args) >= 2 and not any(isinstance(a, ast.Starred) for a in node.args[:2]):
        def swap_args(target, _):
            target.args[0], target.args[1] = target.args[1], target.args[0]
        yield f"`{_text(node)}`: first two arguments swapped", swap_args
    if isinstance(node.func, ast.Attribute) and node.func.attr in FLOOR_CEIL:
        def floor_ceil(target, _):
            target.func.attr = FLOOR_CEIL[target.func.attr]
        yield f"`{_text(node)}`: {node.func.attr} -> {FLOOR_CEIL[node.func.attr]}", floor_ceil


# ---------------------------------------------------------------- grading the mutants

class _Timeout(Exception):
    pass


def _on_alarm(*_: Any) -> None:
    raise _Timeout(f"the test ran past {SECONDS_PER_TEST} s")


def passes(assignment: Assignment, question: Question, answers: dict[str, str], student: str) -> bool:
    """Whether ``question``'s test cell passes with these answer sources, for this student's inputs."""
    try:
        return _passes(assignment, question, answers, student)
    finally:  # a notebook's plot cells open pyplot figures; thousands of runs must not pile them up
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None:
            pyplot.close("all")


def _passes(assignment: Assignment, question: Question, answers: dict[str, str], student: str) -> bool:
    names: dict[str, Any] = {"__name__": "__main__"}
    checks.grading_context(assignment.name, student)
    try:
        for kind, grade_id in assignment.order:   # the cells above the test, as the student ran them
            if kind == "test":
                if grade_id == question.test_id:
                    break
                continue
            code = dict(assignment.setup)[grade_id] if kind == "setup" else answers[grade_id]
            exec(compile(code, f"<{grade_id}>", "exec"), names)  # noqa: S102 (the instructor's code, mutated)
    except Exception:  # an answer cell that breaks is a failing answer
        return False
    # A mistake costs the question it is in: an earlier question whose answer fails its test is
    # replaced by its reference answer here, as the grader does (a right answer stays the student's).
    for earlier in assignment.questions[:assignment.questions.index(question)]:
        changed = any(answers[a] != assignment.answers[a] for a in earlier.answer_ids)
        if changed and not passes(assignment, earlier, answers, student):
            names.update(assignment.references.standing_in_for([earlier.test_id]))
    seed_everything(assignment.name, question.test_id, student)
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, SECONDS_PER_TEST)
    try:
        outputs = run_test(question.test_source, names, question.test_id)
    except _Timeout:
        return False
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    return not any(output.get("output_type") == "error" for output in outputs)


@dataclass
class Report:
    assignment: str
    killed: list[str] = field(default_factory=list)
    survived: dict[str, list[str]] = field(default_factory=dict)    # name -> students for whom it passed
    equivalent: list[str] = field(default_factory=list)             # listed and indeed surviving
    listed_but_killed: list[str] = field(default_factory=list)      # listed as equivalent, yet caught
    reference_fails: list[str] = field(default_factory=list)        # questions whose reference fails

    @property
    def score(self) -> float:
        total = len(self.killed) + len(self.survived)
        return len(self.killed) / total if total else 1.0

    def summary(self) -> str:
        total = len(self.killed) + len(self.survived)
        return (f"{self.assignment}: {len(self.killed)} of {total} mutants caught ({100 * self.score:.1f} %), "
                f"{len(self.equivalent)} equivalent")


def mutation_test(assignment: Assignment, students: Sequence[str] = STUDENTS) -> Report:
    """Grade every mutant of every question with each student's inputs."""
    report = Report(assignment.name)
    for question in assignment.questions:
        if not all(passes(assignment, question, assignment.answers, s) for s in students):
            report.reference_fails.append(question.test_id)
            continue
        for answer_id in question.answer_ids:
            for mutant in mutants(answer_id, assignment.answers[answer_id], assignment.solution_lines[answer_id]):
                answers = dict(assignment.answers, **{answer_id: mutant.source})
                passed_for = [s for s in students if passes(assignment, question, answers, s)]
                if mutant.name in assignment.equivalent:
                    (report.equivalent if passed_for else report.listed_but_killed).append(mutant.name)
                elif passed_for:
                    report.survived[mutant.name] = passed_for
                else:
                    report.killed.append(mutant.name)
    return report


def honest_variant_failures(assignment: Assignment, variant: dict[str, str],
                            students: Sequence[str] = STUDENTS) -> list[str]:
    """The questions an honest variant of the answers does not get full marks on, for some student."""
    answers = dict(assignment.answers, **variant)
    return [f"{question.test_id} ({student})" for question in assignment.questions for student in students
            if not passes(assignment, question, answers, student)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = CommandLine(prog="python -m dlcourse.grading.mutants", description=__doc__,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("assignments", nargs="*", help="names in exercises/source (all by default)")
    parser.add_argument("--course", type=Path, default=COURSE)
    parser.add_argument("--students", type=int, default=len(STUDENTS),
                        help="how many students' inputs each mutant meets")
    parser.add_argument("--show-survivors", action="store_true")
    args = parser.parse_args(argv)
    names = args.assignments or sorted(p.name for p in (args.course / "source").iterdir()
                                       if (p / f"{p.name}.md").exists())
    students = [f"s{index:04d}" for index in range(1, args.students + 1)]
    failed = False
    for name in names:
        report = mutation_test(Assignment.read(args.course / "source" / name / f"{name}.md"), students)
        print(report.summary())
        for question in report.reference_fails:
            print(f"  the reference solution fails {question}")
        for mutant in report.listed_but_killed:
            print(f"  listed as equivalent but caught: {mutant}")
        if args.show_survivors:
            for mutant, passed_for in report.survived.items():
                print(f"  survived ({', '.join(passed_for)}): {mutant}")
        failed |= bool(report.survived or report.reference_fails or report.listed_but_killed)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
